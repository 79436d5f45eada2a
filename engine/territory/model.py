"""The assignment MIP as arrays: x[pair] binary, one row block per rule.

Variables are the candidate pairs (:mod:`attain.territory.pairs`). Rows, in
blocks named after the rule that made them (so a conflict can be named):

* ``assign``: every unit has exactly one rep, ``Σ_r x[u, r] = 1``;
* one block per balance band and capacity limit, one row per rep:
  ``lo ≤ Σ_u measure[u] · x[u, r] ≤ hi``;
* ``disruption.max``: ``Σ_{u kept by its owner} w[u] · x[u, owner(u)] ≥ W − limit``
  (moved weight = W − kept weight, W the total);
* ``contiguity``: ``Σ_{v ∈ N(u)} x[v, r] ≥ x[u, r]`` for every pair except each
  rep's unit nearest its office (the seed).

Goals are linear in x: ``distance`` (km, Σ km[p] · x[p]) and ``disruption``
(``W − Σ w · x`` over owner pairs). Everything is built with numpy over whole
blocks; no Python loop runs per unit or per rep.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from attain.solvers import LinearProblem, SparseMatrix
from attain.territory.inputs import Reps, Units
from attain.territory.pairs import Pairs

__all__ = ["Band", "Block", "Model", "build_model"]


@dataclass(frozen=True)
class Band:
    """A per-rep band on a measure (a balance rule or a capacity limit)."""

    name: str
    measure: np.ndarray
    """Per unit."""
    lo: float
    hi: float
    detail: str
    """How the band was worked out, e.g. `0.8 × mean 25.86`."""


@dataclass(frozen=True)
class Block:
    name: str
    start: int
    stop: int


@dataclass
class Model:
    """The compiled problem: pairs, row triplets and bounds in named blocks, goal vectors."""

    units: Units
    reps: Reps
    pairs: Pairs
    rows: list[np.ndarray] = field(default_factory=list)
    cols: list[np.ndarray] = field(default_factory=list)
    vals: list[np.ndarray] = field(default_factory=list)
    lower: list[np.ndarray] = field(default_factory=list)
    upper: list[np.ndarray] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)
    goals: dict[str, tuple[np.ndarray, float]] = field(default_factory=dict)
    weight: np.ndarray | None = None
    """Disruption weight per unit."""
    disruption_limit: float | None = None
    mip_gap: float = 1e-4
    """Relative gap at which each solve may stop."""

    @property
    def n_rows(self) -> int:
        return self.blocks[-1].stop if self.blocks else 0

    def add_block(self, name, rows, cols, vals, lower, upper) -> None:
        start = self.n_rows
        n = len(lower)
        self.rows.append(np.asarray(rows, dtype=np.int64) + start)
        self.cols.append(np.asarray(cols, dtype=np.int64))
        self.vals.append(np.asarray(vals, dtype=np.float64))
        self.lower.append(np.asarray(lower, dtype=np.float64))
        self.upper.append(np.asarray(upper, dtype=np.float64))
        self.blocks.append(Block(name, start, start + n))

    def current(self) -> np.ndarray:
        """The current assignment as a 0/1 vector over pairs (the warm start)."""
        p = self.pairs
        return (self.units.owner[p.unit] == p.rep).astype(np.float64)

    def problem(
        self,
        weights: dict[str, float],
        limits: tuple[tuple[str, float], ...] = (),
        drop: frozenset[str] = frozenset(),
    ) -> LinearProblem:
        """The LinearProblem minimising Σ weight·goal, with ``goal ≤ value`` rows from ``limits``."""
        n = self.pairs.n
        c, offset = np.zeros(n), 0.0
        for goal, w in weights.items():
            coef, off = self.goals[goal]
            c += w * coef
            offset += w * off
        keep = [b for b in self.blocks if b.name not in drop]
        rows, cols, vals, lo, hi, start = [], [], [], [], [], 0
        for b in keep:
            i = self.blocks.index(b)
            rows.append(self.rows[i] - b.start + start)
            cols.append(self.cols[i])
            vals.append(self.vals[i])
            lo.append(self.lower[i])
            hi.append(self.upper[i])
            start += b.stop - b.start
        for goal, value in limits:
            coef, off = self.goals[goal]
            nz = np.flatnonzero(coef)
            rows.append(np.full(len(nz), start))
            cols.append(nz)
            vals.append(coef[nz])
            lo.append(np.array([-np.inf]))
            hi.append(np.array([value - off + _slack(value)]))
            start += 1
        A = SparseMatrix.from_coo(
            _cat(rows, np.int64), _cat(cols, np.int64), _cat(vals, np.float64), (start, n)
        )
        return LinearProblem(
            c=c,
            A=A,
            row_lower=_cat(lo, np.float64),
            row_upper=_cat(hi, np.float64),
            col_lower=np.zeros(n),
            col_upper=np.ones(n),
            integrality=np.ones(n, dtype=np.int8),
            offset=offset,
        )


def _slack(value: float) -> float:
    # A goal fixed at its optimum keeps a hair of room, so float rounding never cuts it off.
    return 1e-7 * max(1.0, abs(value))


def _cat(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


def build_model(rules, units: Units, reps: Reps, pairs: Pairs, adjacency=None) -> Model:
    model = Model(units, reps, pairs, mip_gap=rules.mip_gap)
    idx = np.arange(pairs.n)
    model.add_block("assign", pairs.unit, idx, np.ones(pairs.n), np.ones(units.n), np.ones(units.n))
    for band in _bands(rules, units, reps):
        vals = band.measure[pairs.unit]
        model.bands.append(band)
        model.add_block(
            band.name, pairs.rep, idx, vals, np.full(reps.n, band.lo), np.full(reps.n, band.hi)
        )
    _disruption(rules, model)
    km = pairs.km
    model.goals["distance"] = (km.copy(), 0.0)
    if rules.contiguity and adjacency is not None:
        _contiguity(model, adjacency)
    return model


def _bands(rules, units: Units, reps: Reps) -> list[Band]:
    out = []
    for rule in rules.balance:
        measure = units.measure(rule.measure, rule.tier)
        lo, hi, detail = _band_bounds(rule, measure.sum() / reps.n)
        out.append(Band(rule.label, measure, lo, hi, detail))
    cap = rules.capacity
    if cap.max_units is not None:
        out.append(Band("capacity.max_units", np.ones(units.n), 0.0, cap.max_units, "absolute"))
    if cap.max_workload is not None:
        w = units.measure("workload")
        out.append(Band("capacity.max_workload", w, 0.0, cap.max_workload, "absolute"))
    return out


def _band_bounds(rule, mean: float) -> tuple[float, float, str]:
    if not rule.relative:
        lo = rule.min if rule.min is not None else 0.0
        hi = rule.max if rule.max is not None else np.inf
        return lo, hi, "absolute"
    lo = rule.min * mean if rule.min is not None else 0.0
    hi = rule.max * mean if rule.max is not None else np.inf
    return lo, hi, f"relative to the mean {mean:.6g}"


def _disruption(rules, model: Model) -> None:
    units, pairs = model.units, model.pairs
    w = units.measure(rules.disruption.measure)
    model.weight = w
    total = float(w.sum())
    is_owner = units.owner[pairs.unit] == pairs.rep
    coef = np.where(is_owner, -w[pairs.unit], 0.0)
    model.goals["disruption"] = (coef, total)
    d = rules.disruption
    limit = (
        d.max if d.max is not None else (d.max_share * total if d.max_share is not None else None)
    )
    if limit is None:
        return
    model.disruption_limit = float(limit)
    idx = np.flatnonzero(is_owner)
    model.add_block(
        "disruption.max",
        np.zeros(len(idx)),
        idx,
        w[pairs.unit[idx]],
        np.array([total - limit - _slack(total)]),
        np.array([np.inf]),
    )


def _contiguity(model: Model, adjacency: tuple[np.ndarray, np.ndarray]) -> None:
    """x[u, r] ≤ Σ_{v adjacent to u} x[v, r], except each rep's seed and isolated units."""
    pairs, n_reps = model.pairs, model.reps.n
    a, b = adjacency
    src, dst = np.concatenate([a, b]), np.concatenate([b, a])
    order = np.argsort(src, kind="stable")
    src, dst = src[order], dst[order]
    starts = np.searchsorted(src, np.arange(model.units.n + 1))
    key = pairs.unit * n_reps + pairs.rep  # sorted: pairs are ordered by unit then rep
    degree = starts[pairs.unit + 1] - starts[pairs.unit]
    p_rep = np.repeat(np.arange(pairs.n), degree)
    # Each pair's slice of the adjacency list, flattened without a loop.
    first_of_pair = np.repeat(np.cumsum(degree) - degree, degree)
    edge = np.arange(int(degree.sum())) - first_of_pair + np.repeat(starts[pairs.unit], degree)
    q_key = dst[edge] * n_reps + pairs.rep[p_rep]
    q = np.clip(np.searchsorted(key, q_key), 0, max(pairs.n - 1, 0))
    hit = key[q] == q_key
    exempt = _seeds(pairs, n_reps) | (degree == 0)
    rows_of = np.cumsum(~exempt) - 1
    use = ~exempt[p_rep] & hit
    active = np.flatnonzero(~exempt)
    rows = np.concatenate([rows_of[p_rep[use]], rows_of[active]])
    cols = np.concatenate([q[use], active])
    vals = np.concatenate([np.ones(int(use.sum())), -np.ones(len(active))])
    n = len(active)
    model.add_block("contiguity", rows, cols, vals, np.zeros(n), np.full(n, np.inf))


def _seeds(pairs: Pairs, n_reps: int) -> np.ndarray:
    """Per pair: is it its rep's nearest unit (ties to the lowest unit index)?"""
    frame = pd.DataFrame({"rep": pairs.rep, "km": pairs.km, "unit": pairs.unit})
    first = frame.sort_values(["rep", "km", "unit"], kind="stable").drop_duplicates("rep")
    seed = np.zeros(pairs.n, dtype=bool)
    seed[first.index.to_numpy()] = True
    return seed

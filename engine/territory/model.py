"""The assignment MIP as arrays: x[pair] binary, one row block per rule.

Variables are the candidate pairs (:mod:`attain.territory.pairs`). Rows, in
blocks named after the rule that made them (so a conflict can be named):

* ``assign``: every unit has exactly one rep, ``Σ_r x[u, r] = 1``;
* one block per balance band and capacity limit, one row per rep:
  ``lo ≤ Σ_u measure[u] · x[u, r] ≤ hi``;
* ``disruption.max``: ``Σ_{u kept by its owner} w[u] · x[u, owner(u)] ≥ W − limit``
  (moved weight = W − kept weight, W the total);
* ``contiguity`` (seed rows): ``x[u, r] + x[s_r, r] − 1 ≤ Σ_{v ∈ N(u)} x[v, r]``, with
  ``s_r`` rep r's seed (its candidate unit nearest its office): if r holds u and its seed,
  one of u's neighbours is r's too. Valid for every connected territory, and the LP
  bound they give is what most cuts would. Full connectedness is enforced lazily, by
  :meth:`Model.contiguity_cuts` (see :mod:`attain.territory.optimise`);
* ``soft`` bands add two integer slack columns per rep after the pair columns
  (``below``, ``above``, in steps of ``step``): ``lo ≤ Σ measure · x + step · below −
  step · above ≤ hi``; the goal ``soft:<name>`` is their sum in means of the band's
  measure (1.0 = one mean rep total bent).

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

__all__ = ["Band", "Block", "Model", "SoftBand", "build_model"]

#: Largest slack of a soft band in steps (CP-SAT needs finite integer domains).
_MAX_STEPS = 2**30


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
    soft: bool = False
    priority: int | None = None
    penalty: float | None = None
    mean: float = 1.0
    """The mean rep total of the measure (a soft band's bend is counted in means)."""


@dataclass(frozen=True)
class SoftBand:
    """A soft band's slack columns: ``below`` at ``start + r``, ``above`` at ``start + n + r``."""

    band: Band
    start: int
    n: int
    step: float

    def bends(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per rep, how far below ``lo`` and above ``hi`` the totals are (measure units)."""
        s = self.start
        return x[s : s + self.n] * self.step, x[s + self.n : s + 2 * self.n] * self.step


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
    soft: list[SoftBand] = field(default_factory=list)
    extra_upper: list[np.ndarray] = field(default_factory=list)
    """Upper bounds of the columns after the pairs (soft-band slacks)."""
    adjacency: tuple[np.ndarray, np.ndarray] | None = None
    """The unit graph as CSR (``starts``, ``neighbours``) when contiguity is asked for."""
    n_cuts: int = 0
    """Contiguity cuts added so far."""

    @property
    def n_rows(self) -> int:
        return self.blocks[-1].stop if self.blocks else 0

    @property
    def n_cols(self) -> int:
        return self.pairs.n + sum(len(u) for u in self.extra_upper)

    def add_columns(self, upper: np.ndarray) -> int:
        """Append integer columns ``0 ≤ y ≤ upper``; returns the first one's index."""
        start = self.n_cols
        self.extra_upper.append(np.asarray(upper, dtype=np.float64))
        return start

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

    def complete(self, x: np.ndarray) -> np.ndarray:
        """A pair vector extended by the smallest soft-band slacks that make it fit the bands."""
        full = np.zeros(self.n_cols)
        full[: self.pairs.n] = x
        for sb in self.soft:
            total = np.bincount(
                self.pairs.rep, weights=sb.band.measure[self.pairs.unit] * x, minlength=sb.n
            )
            below = np.ceil(np.maximum(sb.band.lo - total, 0) / sb.step - 1e-9)
            above = np.ceil(np.maximum(total - sb.band.hi, 0) / sb.step - 1e-9)
            full[sb.start : sb.start + sb.n] = np.minimum(below, _MAX_STEPS)
            full[sb.start + sb.n : sb.start + 2 * sb.n] = np.minimum(above, _MAX_STEPS)
        return full

    def goal(self, name: str) -> tuple[np.ndarray, float]:
        """A goal's coefficient vector over all columns, and its constant."""
        coef, off = self.goals[name]
        if len(coef) < self.n_cols:
            coef = np.concatenate([coef, np.zeros(self.n_cols - len(coef))])
        return coef, off

    def contiguity_cuts(self, x: np.ndarray) -> int:
        """Add a separator cut for every extra piece of a disconnected territory in ``x``.

        A rep's units split into components C₁ (the largest), C₂, ... of the adjacency
        graph. For a piece C and units u ∈ C, v ∈ C₁, the neighbours N(C) of C separate u
        from v, so any connected territory holding both holds one of them:
        ``x[u, r] + x[v, r] − 1 ≤ Σ_{w ∈ N(C)} x[w, r]``; ``x`` breaks it (1 + 1 − 1 > 0).
        Returns the number of cuts added (0: every territory is connected).
        """
        if self.adjacency is None:
            return 0
        starts, nbr = self.adjacency
        units, pairs, n_reps = self.units, self.pairs, self.reps.n
        chosen = np.flatnonzero(x[: pairs.n] > 0.5)
        owner = np.full(units.n, -1, dtype=np.int64)
        owner[pairs.unit[chosen]] = pairs.rep[chosen]
        label = components(starts, nbr, owner)
        linked = np.diff(starts) > 0
        key = pairs.unit * n_reps + pairs.rep
        frame = pd.DataFrame({"rep": owner[linked], "label": label[linked]})
        sizes = frame.groupby(["rep", "label"], sort=True).size().reset_index(name="size")
        split = sizes[sizes.groupby("rep")["size"].transform("size") > 1]
        rows, cols, vals, n_cut = [], [], [], 0
        for rep, group in split.groupby("rep", sort=True):
            group = group.sort_values(["size", "label"], ascending=[False, True], kind="stable")
            v = int(group["label"].iloc[0])  # labels are each component's smallest unit
            for u in group["label"].iloc[1:].astype(int):
                piece = np.flatnonzero(label == label[u])
                around = np.unique(nbr[_slices(starts, piece)])
                around = around[owner[around] != rep]
                sep = _pair_index(key, around * n_reps + rep)
                cut = _pair_index(key, np.array([u, v]) * n_reps + rep)
                rows.append(np.full(len(sep) + 2, n_cut))
                cols.append(np.concatenate([cut, sep]))
                vals.append(np.concatenate([[1.0, 1.0], -np.ones(len(sep))]))
                n_cut += 1
        if n_cut:
            self.add_block(
                "contiguity",
                np.concatenate(rows),
                np.concatenate(cols),
                np.concatenate(vals),
                np.full(n_cut, -np.inf),
                np.ones(n_cut),
            )
            self.n_cuts += n_cut
        return n_cut

    def problem(
        self,
        weights: dict[str, float],
        limits: tuple[tuple[str, float], ...] = (),
        drop: frozenset[str] = frozenset(),
    ) -> LinearProblem:
        """The LinearProblem minimising Σ weight·goal, with ``goal ≤ value`` rows from ``limits``."""
        n = self.n_cols
        c, offset = np.zeros(n), 0.0
        for goal, w in weights.items():
            coef, off = self.goal(goal)
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
            coef, off = self.goal(goal)
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
            col_upper=np.concatenate([np.ones(self.pairs.n), *self.extra_upper]),
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
        rows, cols, vals = pairs.rep, idx, band.measure[pairs.unit]
        model.bands.append(band)
        if band.soft:
            rows, cols, vals = _soft_columns(model, band, rows, cols, vals)
        model.add_block(
            band.name, rows, cols, vals, np.full(reps.n, band.lo), np.full(reps.n, band.hi)
        )
    _disruption(rules, model)
    km = pairs.km
    model.goals["distance"] = (km.copy(), 0.0)
    if rules.contiguity and adjacency is not None:
        _contiguity(model, adjacency)
    return model


def _soft_columns(model: Model, band: Band, rows, cols, vals):
    """Slack columns for a soft band: below (adds to the total) and above (takes from it).

    The slack moves in steps of the measure's resolution (10⁻⁴, the rounding of every
    measure) or coarser when the measure's total would need more than 2³⁰ steps.
    """
    n = model.reps.n
    total = float(np.abs(band.measure).sum())
    step = 10.0 ** max(-4, int(np.ceil(np.log10(max(total, 1e-300) / _MAX_STEPS))))
    reach = np.ceil(max(total, band.lo if np.isfinite(band.lo) else 0.0) / step) + 1
    upper = np.concatenate(
        [
            np.full(n, min(reach, _MAX_STEPS) if band.lo > 0 else 0.0),
            np.full(n, min(reach, _MAX_STEPS) if np.isfinite(band.hi) else 0.0),
        ]
    )
    start = model.add_columns(upper)
    soft = SoftBand(band, start, n, step)
    model.soft.append(soft)
    r = np.arange(n)
    coef = np.zeros(start + 2 * n)
    coef[start:] = step / max(band.mean, 1e-12)
    model.goals[f"soft:{band.name}"] = (coef, 0.0)
    return (
        np.concatenate([rows, r, r]),
        np.concatenate([cols, start + r, start + n + r]),
        np.concatenate([vals, np.full(n, step), np.full(n, -step)]),
    )


def _bands(rules, units: Units, reps: Reps) -> list[Band]:
    out = []
    for rule in rules.balance:
        measure = units.measure(rule.measure, rule.tier)
        mean = measure.sum() / reps.n
        lo, hi, detail = _band_bounds(rule, mean)
        priority = rule.priority if rule.priority is not None or rule.penalty else 1
        soft = {"soft": True, "priority": priority, "penalty": rule.penalty} if rule.soft else {}
        out.append(Band(rule.label, measure, lo, hi, detail, mean=float(mean), **soft))
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
    """The seed rows ``Σ_{v ∈ N(u)} x[v, r] − x[u, r] − x[s_r, r] ≥ −1`` (module docstring).

    Units without a neighbour are exempt (an island may go to anyone); so is each seed.
    """
    pairs, n_reps = model.pairs, model.reps.n
    a, b = adjacency
    keep = a != b
    a, b = a[keep], b[keep]
    src, dst = np.concatenate([a, b]), np.concatenate([b, a])
    order = np.lexsort((dst, src))
    src, dst = src[order], dst[order]
    starts = np.searchsorted(src, np.arange(model.units.n + 1))
    model.adjacency = (starts, dst)
    key = pairs.unit * n_reps + pairs.rep  # sorted: pairs are ordered by unit then rep
    degree = starts[pairs.unit + 1] - starts[pairs.unit]
    p_rep = np.repeat(np.arange(pairs.n), degree)
    edge = _slices(starts, pairs.unit)
    q_key = dst[edge] * n_reps + pairs.rep[p_rep]
    q = np.clip(np.searchsorted(key, q_key), 0, max(pairs.n - 1, 0))
    hit = key[q] == q_key
    seed = _seeds(pairs, n_reps, degree > 0)
    seed_of_rep = np.full(n_reps, -1, dtype=np.int64)
    seed_of_rep[pairs.rep[seed]] = np.flatnonzero(seed)
    exempt = seed | (degree == 0)
    rows_of = np.cumsum(~exempt) - 1
    use = ~exempt[p_rep] & hit
    active = np.flatnonzero(~exempt)
    rows = np.concatenate([rows_of[p_rep[use]], rows_of[active], rows_of[active]])
    cols = np.concatenate([q[use], active, seed_of_rep[pairs.rep[active]]])
    n_use = int(use.sum())
    vals = np.concatenate([np.ones(n_use), -np.ones(len(active)), -np.ones(len(active))])
    n = len(active)
    model.add_block("contiguity", rows, cols, vals, np.full(n, -1.0), np.full(n, np.inf))


def _slices(starts: np.ndarray, items: np.ndarray) -> np.ndarray:
    """The concatenated CSR slices ``starts[i]:starts[i+1]`` of every ``i`` in ``items``."""
    degree = starts[items + 1] - starts[items]
    first = np.repeat(np.cumsum(degree) - degree, degree)
    return np.arange(int(degree.sum())) - first + np.repeat(starts[items], degree)


def _pair_index(key: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Indices of the pairs with these keys (unit·n_reps + rep); absent pairs are skipped."""
    at = np.clip(np.searchsorted(key, wanted), 0, max(len(key) - 1, 0))
    return at[key[at] == wanted] if len(key) else at[:0]


def components(starts: np.ndarray, nbr: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Per unit, the smallest unit index of its component in the graph of same-owner edges.

    Label propagation with pointer jumping, over whole edge arrays (no per-unit loop).
    """
    n = len(owner)
    src = np.repeat(np.arange(n), np.diff(starts))
    same = (owner[src] == owner[nbr]) & (owner[src] >= 0)
    a, b = src[same], nbr[same]
    label = np.arange(n)
    while True:
        low = np.minimum(label[a], label[b])
        new = label.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        new = new[new]
        if np.array_equal(new, label):
            return label
        label = new


def _seeds(pairs: Pairs, n_reps: int, eligible: np.ndarray) -> np.ndarray:
    """Per pair: is it its rep's nearest eligible unit (ties to the lowest unit index)?"""
    frame = pd.DataFrame({"rep": pairs.rep, "km": pairs.km, "unit": pairs.unit})[eligible]
    first = frame.sort_values(["rep", "km", "unit"], kind="stable").drop_duplicates("rep")
    seed = np.zeros(pairs.n, dtype=bool)
    seed[first.index.to_numpy()] = True
    return seed

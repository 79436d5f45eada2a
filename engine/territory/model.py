"""The assignment MIP on the modelling core: x[pair] binary, one row block per rule.

Variables are the candidate pairs (:mod:`attain.territory.pairs`). Rows, in
:class:`attain.model.Block` s named after the rule that made them (so a conflict can be
named), each row tied to the unit or rep it is about:

* ``assign`` (structure): every unit has exactly one rep, ``Σ_r x[u, r] = 1``;
* one block per balance band and capacity limit, one row per rep:
  ``lo ≤ Σ_u measure[u] · x[u, r] ≤ hi``, with the measures exactly as the data gives
  them (no rounding; where an integer-only solver must scale them, it re-checks its answer
  on these numbers: :mod:`attain.solvers.cpsat`);
* ``disruption.max``: ``Σ_{u kept by its owner} w[u] · x[u, owner(u)] ≥ W − limit``
  (moved weight = W − kept weight, W the total);
* ``contiguity`` (seed rows): ``x[u, r] + x[s_r, r] − 1 ≤ Σ_{v ∈ N(u)} x[v, r]``, with
  ``s_r`` rep r's seed (its candidate unit nearest its office): if r holds u and its seed,
  one of u's neighbours is r's too. Valid for every connected territory, and the LP
  bound they give is what most cuts would. Full connectedness is enforced lazily, by
  :meth:`TerritoryModel.contiguity_cuts` (see :mod:`attain.territory.optimise`);
* a ``soft`` band is a soft block: the core gives each of its rows elastic slacks
  (continuous; integer steps of the measure's resolution for an integer-only solver), and
  the goal ``soft:<name>`` is their sum in means of the band's measure (1.0 = one mean
  rep total bent).

Goals are linear in x: ``distance`` (km, Σ km[p] · x[p]) and ``disruption``
(``W − Σ w · x`` over owner pairs). Everything is built with numpy over whole
blocks; no Python loop runs per unit or per rep.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, maximum_flow

from attain.model import Assembled, Block
from attain.model import Model as CoreModel
from attain.territory.inputs import Reps, Units
from attain.territory.pairs import Pairs

__all__ = ["Band", "TerritoryModel", "build_model", "resolution"]

#: Largest slack of a soft band in steps (CP-SAT needs finite integer domains).
_MAX_STEPS = 2**30
#: Most decimals a measure's resolution is looked for at (finer: 10**-_MAX_DECIMALS).
_MAX_DECIMALS = 9
#: A fractional point must break a contiguity cut by more than this for the cut to be added.
FRACTIONAL_TOL = 0.05
#: Most units tried against each rep's largest share in one separation round.
FRACTIONAL_TRIES = 40
#: Max-flow capacities are integers: shares scaled by this, "unbounded" as _FLOW_BIG.
_FLOW_SCALE = 10**6
_FLOW_BIG = 10**9


@dataclass(frozen=True)
class Band:
    """A per-rep band on a measure (a balance rule or a capacity limit)."""

    name: str
    measure: np.ndarray
    """Per unit, exactly as the data gives it."""
    lo: float
    hi: float
    detail: str
    """How the band was worked out, e.g. `0.8 × mean 25.86`."""
    soft: bool = False
    priority: int | None = None
    penalty: float | None = None
    mean: float = 1.0
    """The mean rep total of the measure (a soft band's bend is counted in means)."""


class TerritoryModel(CoreModel):
    """The compiled assignment problem: pair columns, rule blocks, goal vectors."""

    def __init__(self, units: Units, reps: Reps, pairs: Pairs, mip_gap: float = 1e-4) -> None:
        super().__init__()
        self.units, self.reps, self.pairs = units, reps, pairs
        self.add_cols(pairs.n, 0.0, 1.0, integer=True)
        self.bands: list[Band] = []
        self.goals: dict[str, tuple[np.ndarray, float]] = {}
        """Goal → (coefficients over the pair columns, constant)."""
        self.weight: np.ndarray | None = None
        """Disruption weight per unit."""
        self.disruption_limit: float | None = None
        self.mip_gap = mip_gap
        """Relative gap at which each solve may stop."""
        self.adjacency: tuple[np.ndarray, np.ndarray] | None = None
        """The unit graph as CSR (``starts``, ``neighbours``) when contiguity is asked for."""
        self.n_cuts = 0
        """Contiguity cuts added so far."""
        self.verbose = False

    def add_block(self, name, rows, cols, vals, lower, upper, kind=None, level="rep", **more):
        """Append a rule block (``level`` ``rep``: row r is about rep r; ``unit``: unit r)."""
        n = len(lower)
        block = Block(
            name, kind or name.split(".")[0], level, np.arange(n), rows, cols, vals,
            lower, upper, **more,
        )  # fmt: skip
        return self.add(block)

    @property
    def soft_bands(self) -> list[tuple[int, Band]]:
        """(block index, band) of every soft band."""
        by_name = {b.name: b for b in self.bands if b.soft}
        return [(i, by_name[b.name]) for i, b in enumerate(self.blocks) if b.soft]

    def start(self, a: Assembled, x_pairs: np.ndarray) -> np.ndarray:
        """A warm start over the solver's columns from an assignment over the pairs (the
        soft bands' slacks completed)."""
        return a.complete(x_pairs[: self.pairs.n])

    def current(self) -> np.ndarray:
        """The current assignment as a 0/1 vector over pairs (the warm start)."""
        p = self.pairs
        return (self.units.owner[p.unit] == p.rep).astype(np.float64)

    def goal_names(self) -> list[str]:
        return [*self.goals, *(f"soft:{band.name}" for _, band in self.soft_bands)]

    def goal(self, name: str, a: Assembled) -> tuple[np.ndarray, float]:
        """A goal's coefficients over the solver's columns of ``a``, and its constant."""
        if name.startswith("soft:"):
            target = name.removeprefix("soft:")
            return self.slack_vector(a, lambda b: b.name == target), 0.0
        coef, off = self.goals[name]
        out = np.zeros(a.problem.n_cols)
        out[: len(coef)] = coef * a.col_scale[: len(coef)]
        return out, off

    def objective(self, weights: dict[str, float], a: Assembled) -> tuple[np.ndarray, float]:
        c, offset = np.zeros(a.problem.n_cols), 0.0
        for name, w in weights.items():
            coef, off = self.goal(name, a)
            c += w * coef
            offset += w * off
        return c, offset

    def goal_values(self, a: Assembled, x: np.ndarray) -> dict[str, float]:
        """Every goal at solver vector ``x``; a soft band's bend is its exact distance
        outside the band (in means), whatever the slack columns say."""
        out = {}
        for name in self.goals:
            coef, off = self.goal(name, a)
            out[name] = float(coef @ x + off)
        pairs_x = x[: self.pairs.n]
        for _, band in self.soft_bands:
            total = np.bincount(
                self.pairs.rep,
                weights=band.measure[self.pairs.unit] * pairs_x,
                minlength=self.reps.n,
            )
            bend = np.maximum(band.lo - total, 0.0) + np.maximum(total - band.hi, 0.0)
            out[f"soft:{band.name}"] = float(bend.sum() / max(band.mean, 1e-12))
        return out

    def _separator(self, label, u: int, owner, rep: int, key) -> np.ndarray:
        """The pairs (v, rep) of the units v next to u's component but not rep's."""
        assert self.adjacency is not None  # only called by contiguity_cuts, which has it
        starts, nbr = self.adjacency
        piece = np.flatnonzero(label == label[u])
        around = np.unique(nbr[_slices(starts, piece)])
        around = around[owner[around] != rep]
        return _pair_index(key, around * self.reps.n + rep)

    def contiguity_cuts(self, x: np.ndarray) -> int:
        """Add a separator cut for every extra piece of a disconnected territory in ``x``.

        A rep's units split into components C₁ (the largest), C₂, ... of the adjacency
        graph. For a piece C and units u ∈ C, v ∈ C₁, the neighbours N(C) of C separate u
        from v, so any connected territory holding both holds one of them:
        ``x[u, r] + x[v, r] − 1 ≤ Σ_{w ∈ N(C)} x[w, r]``; ``x`` breaks it (1 + 1 − 1 > 0).
        One cut per unit u of C (against v, the smallest unit of C₁), so the next solve
        cannot keep the piece by dropping one unit of it, and one with N(C₁) for the
        separator. Returns the number of cuts added (0: every territory is connected).
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
        cols: list[np.ndarray] = []
        reps_of: list[int] = []
        for rep, group in split.groupby("rep", sort=True):
            group = group.sort_values(["size", "label"], ascending=[False, True], kind="stable")
            v = int(group["label"].iloc[0])  # labels are each component's smallest unit
            main = self._separator(label, v, owner, rep, key)
            for u in group["label"].iloc[1:].astype(int):
                piece = np.flatnonzero(label == label[u])
                sep = self._separator(label, u, owner, rep, key)
                # Every unit of the piece against v, behind the piece's border; and the
                # piece against v behind the border of v's component.
                ends = _pair_index(key, np.r_[piece, u] * n_reps + rep)
                other = _pair_index(key, np.array([v]) * n_reps + rep)
                for end, border in zip(ends, [sep] * len(piece) + [main], strict=True):
                    cols.append(np.concatenate([[end], other, border]))
                    reps_of.append(int(rep))
        return self._add_cuts(cols, reps_of)

    def _add_cuts(self, cols: list[np.ndarray], reps_of: list[int], heads: int = 2) -> int:
        """Append cuts ``Σ heads − Σ border ≤ heads − 1``, one per entry of ``cols`` (its
        first ``heads`` pairs, then the border's), each about rep ``reps_of[i]``: separator
        cuts ``x[a] + x[b] − Σ border ≤ 1`` (two heads) and floor cuts ``x[u] − Σ border
        ≤ 0`` (one, :mod:`attain.territory.floor`)."""
        n_cut = len(cols)
        if n_cut:
            block = self.add_block(
                "contiguity",
                np.repeat(np.arange(n_cut), [len(c) for c in cols]),
                np.concatenate(cols),
                np.concatenate([np.r_[np.ones(heads), -np.ones(len(c) - heads)] for c in cols]),
                np.full(n_cut, -np.inf),
                np.full(n_cut, heads - 1.0),
            )
            self.blocks[block].units = np.asarray(reps_of, dtype=np.int64)
            self.n_cuts += n_cut
        return n_cut

    def shares(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``x``'s pair values as a rep × unit grid, and which cells are pairs."""
        pairs, n_reps, n = self.pairs, self.reps.n, self.units.n
        share = np.zeros((n_reps, n))
        share[pairs.rep, pairs.unit] = x[: pairs.n]
        has = np.zeros((n_reps, n), dtype=bool)
        has[pairs.rep, pairs.unit] = True
        return share, has

    def fractional_cuts(self, x: np.ndarray, tol: float = FRACTIONAL_TOL) -> int:
        """Add the separator cuts a fractional point ``x`` (an LP relaxation's) breaks.

        For each rep r, v is its unit of largest share, and each unit u with
        ``x[u, r] + x[v, r] − 1 > tol`` is tried against it: the minimum-weight set S of
        units separating u from v, each unit w weighing ``x[w, r]``, is a minimum vertex
        cut (a max-flow on the split graph, w_in → w_out of capacity ``x[w, r]``). When
        ``x[u, r] + x[v, r] − 1 > Σ_S x[w, r] + tol`` the cut
        ``x[u, r] + x[v, r] − 1 ≤ Σ_{w ∈ S} x[w, r]`` is added (valid for every connected
        territory). Every rep's split graph is one component of a single graph, so one
        max-flow (a source to each rep's u, each rep's v to a sink) tries one u of every
        rep at once; at most ``FRACTIONAL_TRIES`` rounds of them. Returns the cuts added.
        """
        if self.adjacency is None:
            return 0
        starts, nbr = self.adjacency
        pairs, n_reps, n = self.pairs, self.reps.n, self.units.n
        share, has = self.shares(x)
        v = np.argmax(share, axis=1)  # ties to the lowest unit
        top = share[np.arange(n_reps), v]
        need = share + top[:, None] - 1.0
        need[np.arange(n_reps), v] = -np.inf
        tries = np.argsort(-need, axis=1, kind="stable")[:, :FRACTIONAL_TRIES]
        live = np.take_along_axis(need, tries, axis=1) > tol
        graph = _split_graph(starts, nbr, share, has)
        cols: list[np.ndarray] = []
        reps_of: list[int] = []
        key = pairs.unit * n_reps + pairs.rep
        for k in range(tries.shape[1]):
            reps = np.flatnonzero(live[:, k])
            if not len(reps):
                break
            flow, side = _vertex_cuts(graph, n, reps, tries[reps, k], v[reps])
            cut = need[reps, tries[reps, k]] > flow + tol
            for r, u in zip(reps[cut], tries[reps[cut], k], strict=True):
                sep = np.flatnonzero(side[r, :, 0] & ~side[r, :, 1] & has[r])
                ends = _pair_index(key, np.array([u, v[r]]) * n_reps + r)
                cols.append(np.concatenate([ends, _pair_index(key, sep * n_reps + r)]))
                reps_of.append(int(r))
        return self._add_cuts(cols, reps_of)


def _split_graph(starts, nbr, share: np.ndarray, has: np.ndarray):
    """Every rep's units as a vertex-split graph, one component per rep: node
    ``2·(r·n + w)`` is w's way in, ``+1`` its way out; in → out carries ``share`` (scaled
    to integers), out → neighbour's in is unbounded; units that are not r's candidates
    are left out. Returns (tails, heads, capacities) before the per-try edges."""
    n_reps, n = share.shape
    src = np.repeat(np.arange(n), np.diff(starts))
    r_all = np.repeat(np.arange(n_reps), len(src))
    a, b = np.tile(src, n_reps), np.tile(nbr, n_reps)
    edge = has[r_all, a] & has[r_all, b]
    r_e, a, b = r_all[edge], a[edge], b[edge]
    r_v, w = np.nonzero(has)
    cap = np.round(share[r_v, w] * _FLOW_SCALE).astype(np.int64)
    tails = np.concatenate([2 * (r_v * n + w), 2 * (r_e * n + a) + 1])
    heads = np.concatenate([2 * (r_v * n + w) + 1, 2 * (r_e * n + b)])
    caps = np.concatenate([cap, np.full(len(a), _FLOW_BIG)])
    return tails, heads, caps, n_reps


def _vertex_cuts(graph, n: int, reps: np.ndarray, u: np.ndarray, v: np.ndarray):
    """Per rep in ``reps``: the weight of a minimum u–v vertex cut, and which nodes the
    source reaches in the residual graph (``side[r, w, 0]``: unit w's way in; ``[r, w, 1]``:
    its way out), so the cut is the units reached in but not out."""
    tails, heads, caps, n_reps = graph
    n_nodes = 2 * n_reps * n
    source, sink = n_nodes, n_nodes + 1
    u_node, v_node = 2 * (reps * n + u), 2 * (reps * n + v)
    # u and v are not cut: their in → out edges become unbounded (an extra parallel edge).
    tails = np.concatenate([tails, u_node, v_node, np.full(len(reps), source), v_node])
    heads = np.concatenate([heads, u_node + 1, v_node + 1, u_node + 1, np.full(len(reps), sink)])
    caps = np.concatenate([caps, np.full(4 * len(reps), _FLOW_BIG)])
    capacity = csr_matrix((caps.astype(np.int32), (tails, heads)), shape=(n_nodes + 2, n_nodes + 2))
    result = maximum_flow(capacity, source, sink)
    flow = result.flow
    per_rep = np.asarray(flow[source, u_node + 1].todense()).ravel() / _FLOW_SCALE
    residual = (capacity - flow).tocsr()
    residual.data = (residual.data > 0).astype(np.int8)
    residual.eliminate_zeros()
    reached = np.zeros(n_nodes + 2, dtype=bool)
    reached[breadth_first_order(residual, source, directed=True, return_predecessors=False)] = True
    side = reached[:n_nodes].reshape(n_reps, n, 2)
    return per_rep, side


def resolution(values: np.ndarray) -> float:
    """The coarsest power of ten every value is a whole multiple of (10**-9 at the finest)."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    for k in range(0, _MAX_DECIMALS + 1):
        scaled = values * 10.0**k
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-9 * np.maximum(1.0, np.abs(scaled))):
            return 10.0**-k
    return 10.0**-_MAX_DECIMALS


def build_model(rules, units: Units, reps: Reps, pairs: Pairs, adjacency=None) -> TerritoryModel:
    model = TerritoryModel(units, reps, pairs, mip_gap=rules.mip_gap)
    idx = np.arange(pairs.n)
    ones = np.ones(units.n)
    model.add_block(
        "assign", pairs.unit, idx, np.ones(pairs.n), ones, ones, "structure", "unit",
        role="structure",
    )  # fmt: skip
    for band in _bands(rules, units, reps):
        model.bands.append(band)
        soft = _soft(band, reps.n) if band.soft else {}
        unit = row_unit(band.measure)
        lo, hi = band.lo, band.hi
        if not band.soft and unit == resolution(band.measure):
            lo, hi = _on_lattice(lo, hi, unit)
        model.add_block(
            band.name, pairs.rep, idx, band.measure[pairs.unit], np.full(reps.n, lo),
            np.full(reps.n, hi), "balance", describe=band.detail, row_unit=unit, **soft,
        )  # fmt: skip
    _disruption(rules, model)
    model.goals["distance"] = (pairs.km.copy(), 0.0)
    if rules.contiguity and adjacency is not None:
        _contiguity(model, adjacency)
    return model


def row_unit(measure: np.ndarray) -> float:
    """The unit a band's rows are passed to the solver in: the measure's resolution, so one
    step over a bound is 1.0 to the solver (its tolerances are about 1e-6), unless that
    makes coefficients past 1e9 (then a billionth of the largest value: the answer is
    re-checked on the true numbers either way)."""
    biggest = float(np.max(np.abs(measure), initial=0.0))
    return max(resolution(measure), 1e-9 * max(biggest, 1.0))


def _on_lattice(lo: float, hi: float, unit: float) -> tuple[float, float]:
    """A hard band's bounds moved inward to the nearest multiple of ``unit`` (the totals of
    whole units are such multiples, so no total is gained or lost; float noise of the
    bound's own arithmetic, a billionth of a step, is forgiven)."""
    new_lo = float(np.ceil(lo / unit - 1e-9)) * unit if np.isfinite(lo) else lo
    new_hi = float(np.floor(hi / unit + 1e-9)) * unit if np.isfinite(hi) else hi
    if new_lo > new_hi:  # no total fits: leave the bounds as stated (the solver says so)
        return lo, hi
    return new_lo, new_hi


def _soft(band: Band, n_reps: int) -> dict:
    """A soft band's block settings: slack in steps of the measure's resolution (so an
    integer-only solver bends it exactly), counted in means of the measure."""
    total = float(np.abs(band.measure).sum())
    step = max(resolution(band.measure), total / _MAX_STEPS if total > 0 else 0.0)
    reach = np.ceil(max(total, band.lo if np.isfinite(band.lo) else 0.0) / step) + 1
    return {
        "soft": True,
        "priority": band.priority,
        "penalty": band.penalty,
        "slack_unit": step,
        "slack_weight": step / max(band.mean, 1e-12),
        "slack_cap": float(min(reach, _MAX_STEPS)),
    }


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


def _disruption(rules, model: TerritoryModel) -> None:
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
        np.array([total - limit]),
        np.array([np.inf]),
        "disruption",
        "company",
    )


def _contiguity(model: TerritoryModel, adjacency: tuple[np.ndarray, np.ndarray]) -> None:
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
    block = model.add_block("contiguity", rows, cols, vals, np.full(n, -1.0), np.full(n, np.inf))
    model.blocks[block].units = pairs.rep[active]  # each seed row is about its pair's rep


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

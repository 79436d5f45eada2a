"""Floor cuts: a connected territory too small for a band's lower bound must reach out.

When a hard band gives every rep a floor (``lo > 0`` on a measure that is never negative),
a territory cannot lie inside a connected set C of r's candidate units whose measure is
below that floor. So if r holds a unit u of C, it holds a unit of C's border N(C) (the
candidate units of r next to C but outside it): a path from u to the rest of the
territory leaves C through N(C). The cut

    x[u, r] ≤ Σ_{w ∈ N(C)} x[w, r]

holds for every connected territory meeting the floor. It is stronger than a separator
cut ``x[u, r] + x[v, r] − 1 ≤ Σ_S x[w, r]`` (no second unit is needed), and an integer
point's small split-off piece breaks it by 1 (C the piece: its border is someone else's).
Units without a neighbour may join any territory (contiguity leaves them out), so each
rep's floor is lowered by the measure of its candidate units without one.

:func:`floor_cuts` finds broken cuts at a point ``x`` by growing C from each unit u of
positive share: while C is below the floor, add the border unit of largest share that
keeps it below (ties to the lowest unit); stop at the first C whose cut ``x`` breaks.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FLOOR_TOL", "floor_cuts", "floors"]

#: A point must break a floor cut by more than this for the cut to be added.
FLOOR_TOL = 0.02
#: A set's measure must be below the floor by this share of it (the answer's totals are
#: checked to a billionth: a set exactly at the floor may hold a territory).
_MARGIN = 1e-7


def floors(model) -> tuple[np.ndarray, np.ndarray] | None:
    """``(measures, floor)``: the hard bands with a floor, ``measures[k]`` per unit and
    ``floor[k, r]`` rep r's (lowered by its candidate units that have no neighbour, and by
    the margin); None when no band gives one or there is no adjacency."""
    if model.adjacency is None:
        return None
    bands = [
        b for b in model.bands
        if not b.soft and np.isfinite(b.lo) and b.lo > 0 and (b.measure >= 0).all()
    ]  # fmt: skip
    if not bands:
        return None
    starts, _ = model.adjacency
    pairs, n_reps = model.pairs, model.reps.n
    lonely = (np.diff(starts) == 0)[pairs.unit]
    measures = np.stack([b.measure for b in bands])
    floor = np.empty((len(bands), n_reps))
    for k, b in enumerate(bands):
        spare = np.bincount(
            pairs.rep[lonely], weights=b.measure[pairs.unit[lonely]], minlength=n_reps
        )
        floor[k] = b.lo - spare - _MARGIN * abs(b.lo)
    return measures, floor


def floor_cuts(model, x: np.ndarray, tol: float = FLOOR_TOL) -> int:
    """Add the floor cuts ``x`` breaks by more than ``tol`` (module docstring); returns
    how many."""
    found = floors(model)
    if found is None:
        return 0
    measures, floor = found
    starts, nbr = model.adjacency
    pairs, n_reps, n = model.pairs, model.reps.n, model.units.n
    share, has = model.shares(x)
    index = np.full((n_reps, n), -1, dtype=np.int64)
    index[pairs.rep, pairs.unit] = np.arange(pairs.n)
    neighbours = [nbr[starts[w] : starts[w + 1]].tolist() for w in range(n)]
    linked = np.diff(starts) > 0
    by_unit = measures.T.tolist()
    cols: list[np.ndarray] = []
    reps_of: list[int] = []
    for r in range(n_reps):
        if (floor[:, r] <= 0).all():
            continue
        mine, values = has[r].tolist(), share[r].tolist()
        near = [[v for v in neighbours[w] if mine[v]] for w in range(n)]
        for u in np.flatnonzero((share[r] > tol) & has[r] & linked).tolist():
            border = _grow(u, near, values, by_unit, floor[:, r].tolist(), tol)
            if border is not None:
                cols.append(np.r_[index[r, u], index[r, border]])
                reps_of.append(r)
    return model._add_cuts(cols, reps_of, heads=1)


def _grow(u, near, values, by_unit, floor, tol) -> np.ndarray | None:
    """The border of the first set C grown from ``u`` whose floor cut ``values`` breaks,
    or None (``near[w]``: w's neighbours among the rep's candidates; ``by_unit[w]``: w's
    measure of each band). ``room[k]``: how much more band k's measure C may take and stay
    below the floor."""
    room = [f - m for f, m in zip(floor, by_unit[u], strict=True)]
    if max(room) <= 0:
        return None  # u alone can meet the floor
    inside = {u}
    border = set(near[u])
    while True:
        if values[u] - sum(values[w] for w in border) > tol:
            return np.array(sorted(border), dtype=np.int64)
        best, pick = -1.0, -1
        for w in border:
            better = values[w] > best or (values[w] == best and w < pick)
            if better and any(m < r for m, r in zip(by_unit[w], room, strict=True)):
                best, pick = values[w], w
        if pick < 0:
            return None
        inside.add(pick)
        room = [r - m for r, m in zip(room, by_unit[pick], strict=True)]
        border.discard(pick)
        border.update(v for v in near[pick] if v not in inside)

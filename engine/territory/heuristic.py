"""A strong first assignment and a proven bound, from the LP relaxation (large instances).

A MIP solver left alone on 10,000 units × 100 reps spends its time limit looking for a
good assignment; the LP relaxation of the same problem is solved in seconds and is almost
integral (at most about two fractional units per binding band row). So:

1. **LP-guided rounding**: each unit goes to the rep its LP solution gives the largest
   share (ties to the lower pair index);
2. **local search** over whole arrays repairs the few rows the rounding breaks, then
   improves the cost: *reassign* moves (one unit to another candidate rep) and *chain*
   moves (u leaves r for s, v leaves s for t; t = r is a swap), each round applying every improving move
   that shares no rep with a better one (a maximal independent set by rank, computed
   with ``np.minimum.at``), company-wide rows (disruption limit, holds) kept by a
   cumulative check in rank order;
3. **large-neighbourhood search** (:func:`neighbourhood_search`): a few hundred units
   freed, every other unit fixed at its rep, that small MIP solved (warm-started with
   the assignment) and kept when cheaper; neighbourhoods are the units the LP leaves
   undecided, then groups of entangled reps, seeded where the LP and the assignment
   disagree most, pass after pass until one improves nothing;
4. **a Lagrangian bound** from the LP duals, worked out again on the problem's own
   numbers: with every row but the assignment rows priced at its dual ``y``, the bound
   ``Σ_u min_p (c_p − yᵀA_p) + Σ_i y_i b_i`` holds for *any* ``y`` of the right signs, so
   the LP solver's tolerances cannot make it claim too much.

The problem is :class:`attain.solvers.LinearProblem` over the pair columns only (no
slack columns): rows that concern one rep, rows that concern one unit (the assignment
rows), and company-wide rows. Everything here is numpy over whole move arrays; the only
Python loop is over rounds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from attain.solvers import LinearProblem, SparseMatrix

__all__ = [
    "SearchLog",
    "Structure",
    "lagrangian_bound",
    "fixed_around",
    "local_search",
    "neighbourhood_search",
    "rounded",
    "structure",
]

#: Reassignments per (rep, rep) direction that chain moves pair up.
CHAIN_WIDTH = 4
#: Rounds of moves at most (each applies many non-overlapping moves).
MAX_ROUNDS = 400


@dataclass(frozen=True)
class Structure:
    """How the problem's rows relate to the pairs."""

    unit: np.ndarray
    """Per column: its unit."""
    rep: np.ndarray
    """Per column: its rep."""
    n_units: int
    n_reps: int
    assign: np.ndarray
    """The assignment rows (one per unit: Σ_p x_p = 1 over its pairs)."""
    other: np.ndarray
    """Every other row."""
    shared: np.ndarray
    """Of ``other``: positions of the rows that concern more than one rep (company-wide)."""
    cols: SparseMatrix
    """The ``other`` rows by column (CSR of the transpose): column j's entries."""


def structure(problem: LinearProblem, unit: np.ndarray, rep: np.ndarray) -> Structure | None:
    """The rows sorted into assignment, per-rep and shared rows; None when the problem is
    not an assignment problem over these pairs (other columns, or a unit without exactly
    one ``Σ x = 1`` row)."""
    A = problem.A
    if problem.n_cols != len(unit) or not len(unit):
        return None
    n_units, n_reps = int(unit.max()) + 1, int(rep.max()) + 1
    row = A.row_of_entry()
    counts = np.diff(A.indptr)
    if np.any(counts == 0):
        return None
    first = A.indptr[:-1]
    u = unit[A.indices]
    r = rep[A.indices]
    one_unit = np.minimum.reduceat(u, first) == np.maximum.reduceat(u, first)
    one_rep = np.minimum.reduceat(r, first) == np.maximum.reduceat(r, first)
    all_ones = np.minimum.reduceat(A.data, first) == np.maximum.reduceat(A.data, first)
    all_ones &= A.data[first] == 1.0
    is_assign = one_unit & all_ones & (problem.row_lower == 1.0) & (problem.row_upper == 1.0)
    row_unit = u[first]
    # Exactly one assignment row per unit, covering all of its pairs.
    by_unit = np.bincount(row_unit[is_assign], minlength=n_units)
    pairs_of_unit = np.bincount(unit, minlength=n_units)
    covered = np.zeros(n_units, dtype=np.int64)
    np.add.at(covered, row_unit[is_assign], counts[is_assign])
    if np.any(by_unit != 1) or np.any(covered != pairs_of_unit):
        return None
    assign = np.flatnonzero(is_assign)
    other = np.flatnonzero(~is_assign)
    keep = ~is_assign[row]
    local = np.full(problem.n_rows, -1, dtype=np.int64)
    local[other] = np.arange(len(other))
    sub = SparseMatrix.from_coo(
        local[row[keep]], A.indices[keep], A.data[keep], (len(other), problem.n_cols)
    )
    shared = np.flatnonzero(~one_rep[other] & ~one_unit[other])
    return Structure(unit, rep, n_units, n_reps, assign, other, shared, sub.to_csc())


def lagrangian_bound(problem: LinearProblem, s: Structure, duals: np.ndarray) -> float:
    """A lower bound on the MIP from row prices ``duals`` (HiGHS's sign: > 0 on a row
    held at its lower bound, < 0 at its upper), on the problem's own numbers (module
    docstring); ``-inf`` when a price points at an infinite bound."""
    y = np.zeros(problem.n_rows)
    y[s.other] = duals[s.other]
    lo, hi = problem.row_lower, problem.row_upper
    y = np.where((y > 0) & ~np.isfinite(lo), 0.0, y)
    y = np.where((y < 0) & ~np.isfinite(hi), 0.0, y)
    side = np.where(y > 0, lo, np.where(y < 0, hi, 0.0))
    reduced = problem.c - problem.A.rmatvec(y)
    # Each unit takes exactly one of its pairs (columns are 0/1).
    best = np.full(s.n_units, np.inf)
    np.minimum.at(best, s.unit, reduced)
    return float(best.sum() + (y * side).sum() + problem.offset)


def rounded(s: Structure, x_lp: np.ndarray) -> np.ndarray:
    """Per unit, the pair its LP solution gives the largest share (ties: lower index)."""
    order = np.lexsort((np.arange(len(x_lp)), -x_lp, s.unit))
    firsts = np.flatnonzero(np.r_[True, s.unit[order][1:] != s.unit[order][:-1]])
    return order[firsts]


@dataclass
class _State:
    pick: np.ndarray
    """Per unit, its pair."""
    act: np.ndarray
    """Activity of every ``other`` row."""


def local_search(
    problem: LinearProblem,
    s: Structure,
    pick: np.ndarray,
    deadline: float | None = None,
) -> tuple[np.ndarray, bool]:
    """Repair, then improve, the assignment ``pick`` (a pair per unit). Returns the pairs
    and whether the result satisfies every row (within a billionth of its size).

    While a row is broken, the moves that break less come first (the cheapest per unit
    of breach removed); then only moves that keep every row and lower the cost.
    """
    lo = problem.row_lower[s.other]
    hi = problem.row_upper[s.other]
    tol = 1e-9 * (1.0 + np.maximum(np.abs(np.nan_to_num(lo, posinf=0, neginf=0)),
                                   np.abs(np.nan_to_num(hi, posinf=0, neginf=0))))  # fmt: skip
    lo_t, hi_t = lo - tol, hi + tol
    state = _State(pick.copy(), _activity(s, pick))
    for _ in range(MAX_ROUNDS):
        # The deadline stops improvement, never repair: a broken row is mended first.
        late = deadline is not None and time.perf_counter() > deadline
        if late and not np.any(_violation(state.act, lo_t, hi_t) > 0.0):
            break
        moved = _round(problem, s, state, lo_t, hi_t, _shifts(s, state))
        if not moved:
            moved = _round(problem, s, state, lo_t, hi_t, _chains(problem, s, state, CHAIN_WIDTH))
        if not moved:
            break
    state.act = _activity(s, state.pick)  # afresh: no drift from summed deltas
    feasible = bool(np.all(_violation(state.act, lo_t, hi_t) == 0.0))
    return state.pick, feasible


def _activity(s: Structure, pick: np.ndarray) -> np.ndarray:
    x = np.zeros(len(s.unit))
    x[pick] = 1.0
    return s.cols.rmatvec(x)


def _violation(act: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.maximum(lo - act, 0.0) + np.maximum(act - hi, 0.0)


def _shifts(s: Structure, state: _State):
    """Every reassign move: (columns added, columns removed), one row per move."""
    q = np.flatnonzero(state.pick[s.unit] != np.arange(len(s.unit)))
    return q[:, None], state.pick[s.unit[q]][:, None]


def _chains(problem: LinearProblem, s: Structure, state: _State, width: int):
    """Chain moves of two reassignments: u (at r) → s and v (at s) → t, t any rep but s
    (t = r: a swap); the ``width`` cheapest reassignments of each (rep, rep) direction
    paired up."""
    add, rem = _shifts(s, state)
    add, rem = add[:, 0], rem[:, 0]
    if not len(add):  # no unit has another candidate rep: no chain to make
        return np.zeros((0, 2), np.int64), np.zeros((0, 2), np.int64)
    src, dst = s.rep[rem], s.rep[add]
    gain = problem.c[add] - problem.c[rem]
    order = np.lexsort((add, gain, dst, src))
    src, dst, add, rem = src[order], dst[order], add[order], rem[order]
    start = np.r_[True, (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])]
    group = np.cumsum(start) - 1
    rank = np.arange(len(src)) - np.flatnonzero(start)[group]
    keep = rank < width
    src, dst, add, rem = src[keep], dst[keep], add[keep], rem[keep]
    g_first = np.flatnonzero(np.r_[True, (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])])
    g_size = np.diff(np.r_[g_first, len(src)])
    g_src, g_dst = src[g_first], dst[g_first]  # groups sorted by (src, dst)
    # Every group (r, s) with every group (s, t): the groups whose src is this one's dst.
    lo = np.searchsorted(g_src, g_dst, side="left")
    hi = np.searchsorted(g_src, g_dst, side="right")
    n_next = hi - lo
    g1 = np.repeat(np.arange(len(g_first)), n_next)
    g2 = np.arange(int(n_next.sum())) - np.repeat(np.cumsum(n_next) - n_next, n_next)
    g2 = g2 + np.repeat(lo, n_next)
    if not len(g1):
        return np.zeros((0, 2), np.int64), np.zeros((0, 2), np.int64)
    na, nb = g_size[g1], g_size[g2]
    combos = na * nb
    i = np.repeat(np.arange(len(g1)), combos)
    k = np.arange(int(combos.sum())) - np.repeat(np.cumsum(combos) - combos, combos)
    a = g_first[g1][i] + k // nb[i]
    b = g_first[g2][i] + k % nb[i]
    return np.stack([add[a], add[b]], axis=1), np.stack([rem[a], rem[b]], axis=1)


def _round(problem, s: Structure, state: _State, lo, hi, moves) -> int:
    """Evaluate the moves, apply every improving one that shares no rep with a better one
    (company rows checked in rank order); returns how many were applied."""
    add, rem = moves
    n_moves = len(add)
    if not n_moves:
        return 0
    width = add.shape[1]
    cols = np.concatenate([add, rem], axis=1)
    sign = np.concatenate([np.ones_like(add), -np.ones_like(rem)], axis=1).astype(np.float64)
    flat = cols.ravel()
    move = np.repeat(np.arange(n_moves), 2 * width)
    csc = s.cols
    degree = csc.indptr[flat + 1] - csc.indptr[flat]
    entry = _slices(csc.indptr, flat)
    e_move = np.repeat(move, degree)
    e_row = csc.indices[entry].astype(np.int64)
    e_val = csc.data[entry] * np.repeat(sign.ravel(), degree)
    n_rows = len(state.act)
    key, inverse = np.unique(e_move * n_rows + e_row, return_inverse=True)
    delta = np.bincount(inverse, weights=e_val, minlength=len(key))
    k_move, k_row = np.divmod(key, n_rows)
    before = _violation(state.act[k_row], lo[k_row], hi[k_row])
    after = _violation(state.act[k_row] + delta, lo[k_row], hi[k_row])
    d_viol = np.bincount(k_move, weights=after - before, minlength=n_moves)
    d_cost = (problem.c[add].sum(axis=1) - problem.c[rem].sum(axis=1)).astype(np.float64)
    eps = 1e-9 * (1.0 + np.abs(problem.c).max(initial=0.0))
    v_eps = 1e-12 * (1.0 + float(np.abs(state.act).max(initial=0.0)))
    # Rows first (repairs, cheapest per unit of breach removed), then savings.
    repair = d_viol < -v_eps
    good = repair | ((np.abs(d_viol) <= v_eps) & (d_cost < -eps))
    price = np.where(repair, d_cost / np.minimum(d_viol, -v_eps) * -1.0, d_cost)
    cand = np.flatnonzero(good)
    order = cand[np.lexsort((cand, price[cand], ~repair[cand]))]
    if not len(order):
        return 0
    rank = np.empty(n_moves, dtype=np.int64)
    rank[order] = np.arange(len(order))
    reps = s.rep[cols[order]]
    first = np.full(s.n_reps, len(order))
    np.minimum.at(first, reps.ravel(), np.repeat(np.arange(len(order)), reps.shape[1]))
    chosen = order[np.all(first[reps] == np.arange(len(order))[:, None], axis=1)]
    chosen = _company_prefix(state, chosen, k_move, k_row, delta, s.shared, lo, hi)
    if not len(chosen):
        return 0
    units = s.unit[add[chosen]].ravel()
    state.pick[units] = add[chosen].ravel()
    on = np.isin(k_move, chosen)
    np.add.at(state.act, k_row[on], delta[on])
    return len(chosen)


def _company_prefix(state: _State, chosen, k_move, k_row, delta, shared, lo, hi):
    """The longest prefix of ``chosen`` (in rank order) that keeps every company-wide row's
    violation at most what it is now."""
    if not len(shared) or not len(chosen):
        return chosen
    pos = np.full(int(k_move.max()) + 1, -1)
    pos[chosen] = np.arange(len(chosen))
    column = np.full(len(state.act), -1)
    column[shared] = np.arange(len(shared))
    on = (pos[k_move] >= 0) & (column[k_row] >= 0)
    table = np.zeros((len(chosen), len(shared)))
    np.add.at(table, (pos[k_move[on]], column[k_row[on]]), delta[on])
    path = state.act[shared] + np.cumsum(table, axis=0)
    now = _violation(state.act[shared], lo[shared], hi[shared])
    worse = np.any(_violation(path, lo[shared], hi[shared]) > now + 1e-12, axis=1)
    stop = int(np.argmax(worse)) if worse.any() else len(chosen)
    return chosen[:stop]


def _slices(starts: np.ndarray, items: np.ndarray) -> np.ndarray:
    """The concatenated CSR slices ``starts[i]:starts[i+1]`` of every ``i`` in ``items``."""
    degree = starts[items + 1] - starts[items]
    first = np.repeat(np.cumsum(degree) - degree, degree)
    return np.arange(int(degree.sum())) - first + np.repeat(starts[items], degree)


#: Units a neighbourhood frees (about): each sub-MIP is this size whatever the instance.
LNS_UNITS = 400
#: Gaps the sub-MIPs stop at, relative to the whole problem's objective (the fixed units'
#: cost is the sub-MIP's offset, so HiGHS measures its gap against the full cost): the
#: first until a pass over every seed improves nothing, then the next, and so on.
LNS_GAPS = (3e-5, 1e-5, 3e-6)
#: Most seconds one neighbourhood's sub-MIP may take.
LNS_STEP_SECONDS = 4.0


@dataclass(frozen=True)
class SearchLog:
    """How a :func:`neighbourhood_search` went."""

    solves: int
    """Sub-MIPs solved."""
    improved: int
    """Of those, how many gave a cheaper assignment (each accepted)."""
    stopped_by_time: bool
    """A sub-MIP hit its time limit, or the search its deadline (the result depends on
    the machine's speed)."""


def neighbourhood_search(
    problem: LinearProblem,
    s: Structure,
    pick: np.ndarray,
    x_lp: np.ndarray,
    solver: str,
    deadline: float | None = None,
    target: float = 0.0,
    verbose: bool = False,
) -> tuple[np.ndarray, SearchLog]:
    """Large-neighbourhood search from the feasible assignment ``pick``: free some units,
    fix every other unit at its rep, solve that small MIP (warm-started with ``pick``) to
    a small gap, keep it when it is cheaper. Returns the pairs (never costlier than
    ``pick``, every row kept) and a :class:`SearchLog`.

    Neighbourhoods, in order: the units whose pair the LP does not give a whole share (or
    that the LP puts elsewhere), free to take any of their pairs; then, per seed rep (the
    reps where the LP and the assignment disagree most first), a group of the reps most
    entangled with it (units of one that are candidates of another), their units free to
    move among the group's reps. Sub-MIPs stop at the first of :data:`LNS_GAPS`; a pass
    over every seed without an improvement moves to the next gap, and after the last
    ends the search; so do ``deadline`` and a cost at or below ``target``. Ties keep the current
    assignment, so the search is deterministic when no sub-MIP is stopped by time.
    """
    from attain.solvers import SolveOptions, Status, solve

    pick = pick.copy()
    x = np.zeros(problem.n_cols)
    x[pick] = 1.0
    cost = problem.objective(x)
    solves = improved = 0
    timed = out = False
    sub_gap = LNS_GAPS[0]
    per_rep = max(1.0, s.n_units / max(s.n_reps, 1))
    size = int(min(s.n_reps, max(2, round(LNS_UNITS / per_rep))))

    def attempt(cols: np.ndarray) -> bool:
        nonlocal x, cost, solves, improved, timed, out, pick
        left = None if deadline is None else deadline - time.perf_counter()
        if left is not None and left <= 0.05:
            timed = out = True
            return False
        limit = LNS_STEP_SECONDS if left is None else min(LNS_STEP_SECONDS, left)
        sub, sub_cols = fixed_around(problem, cols, x)
        options = SolveOptions(time_limit=limit, mip_gap=sub_gap, verbose=verbose, hint=x[sub_cols])
        result = solve(sub, solver, options)
        solves += 1
        if result.status is not Status.OPTIMAL:
            timed = timed or result.status is Status.FEASIBLE
        if not result.status.has_solution or result.x is None:
            return False
        trial = x.copy()
        trial[sub_cols] = np.round(result.x)
        new = problem.objective(trial)
        eps = 1e-9 * max(1.0, abs(cost))
        if new >= cost - eps or problem.violation(trial) > 1e-9:
            return False
        if np.any(np.bincount(s.unit, weights=trial, minlength=s.n_units) != 1.0):
            return False
        x, cost = trial, new
        pick = np.flatnonzero(trial > 0.5)
        improved += 1
        return True

    # 1. The units the LP leaves undecided or places elsewhere.
    share = x_lp[pick]
    loose = np.flatnonzero(share < 1.0 - 1e-6)
    if len(loose):
        loose = loose[np.lexsort((loose, share[loose]))][:LNS_UNITS]
        attempt(np.flatnonzero(np.isin(s.unit, loose)))
    # 2. Groups of entangled reps, seeded where the LP and the assignment disagree most.
    tried = np.full(s.n_reps, -1)  # the solve count when a seed's group was last tried
    changed = np.zeros(s.n_reps, dtype=np.int64)  # ... when a rep last gained or lost a unit
    gaps = list(LNS_GAPS[1:])
    while cost > target and not out:
        current = s.rep[pick]
        affinity = np.zeros((s.n_reps, s.n_reps))
        np.add.at(affinity, (current[s.unit], s.rep), 1.0)
        np.fill_diagonal(affinity, 0.0)
        affinity += affinity.T
        disagree = np.bincount(s.rep, weights=np.abs(x_lp - x), minlength=s.n_reps)
        seeds = np.lexsort((np.arange(s.n_reps), -disagree))
        before = improved
        for seed in seeds:
            if cost <= target or out:
                break
            group = _group(affinity, int(seed), size)
            if tried[seed] >= changed[group].max():
                continue  # tried already, and none of its reps has changed since
            inside = np.zeros(s.n_reps, dtype=bool)
            inside[group] = True
            tried[seed] = solves + 1
            if attempt(np.flatnonzero(inside[s.rep] & inside[current[s.unit]])):
                now = s.rep[pick]
                moved = np.unique(np.r_[current[current != now], now[current != now]])
                changed[moved] = solves
            current = s.rep[pick]
        if improved == before:
            if not gaps:
                break
            sub_gap = gaps.pop(0)  # a finer gap: every group is worth trying again
            tried[:] = -1
    return pick, SearchLog(solves, improved, timed)


def _group(affinity: np.ndarray, seed: int, size: int) -> np.ndarray:
    """``seed`` and the reps most entangled with the group so far, one at a time (ties:
    lower index), ``size`` reps at most."""
    group = [seed]
    link = affinity[seed].copy()
    link[seed] = -1.0
    for _ in range(size - 1):
        nxt = int(np.argmax(link))
        if link[nxt] <= 0.0:
            break
        group.append(nxt)
        link += affinity[nxt]
        link[group] = -1.0
    return np.sort(np.asarray(group))


def fixed_around(problem: LinearProblem, cols: np.ndarray, x: np.ndarray):
    """The MIP over columns ``cols`` with every other column fixed at its value in ``x``
    (their cost is its offset; the columns keep the problem's integrality, all integer when
    it gives none): (problem, its columns in the full problem)."""
    cols = np.unique(cols)
    keep = np.zeros(problem.n_cols, dtype=bool)
    keep[cols] = True
    fixed = np.where(keep, 0.0, x)
    act = problem.A.matvec(fixed)
    A = problem.A
    row = A.row_of_entry()
    on = keep[A.indices]
    rows = np.unique(row[on])
    local_row = np.full(problem.n_rows, -1, dtype=np.int64)
    local_row[rows] = np.arange(len(rows))
    local_col = np.full(problem.n_cols, -1, dtype=np.int64)
    local_col[cols] = np.arange(len(cols))
    sub_a = SparseMatrix.from_coo(
        local_row[row[on]], local_col[A.indices[on]], A.data[on], (len(rows), len(cols))
    )
    fixed_cost = float(problem.c @ fixed)
    sub = LinearProblem(
        c=problem.c[cols],
        A=sub_a,
        row_lower=problem.row_lower[rows] - act[rows],
        row_upper=problem.row_upper[rows] - act[rows],
        col_lower=problem.col_lower[cols],
        col_upper=problem.col_upper[cols],
        integrality=(
            np.ones(len(cols), dtype=np.int8)
            if problem.integrality is None
            else np.asarray(problem.integrality, dtype=np.int8)[cols]
        ),
        offset=problem.offset + fixed_cost,
    )
    return sub, cols

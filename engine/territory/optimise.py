"""The objective modes: weighted sum, lexicographic order, and the efficient front.

Every solve goes through :func:`attain.solvers.solve` (any registered MIP backend),
warm-started from the best assignment known so far (the current one at first: it is
often nearly feasible). Lexicographic stages run on the modelling core
(:func:`attain.model.lexicographic`): each earlier goal is held at its optimum by a row in
the solver's scale, within the rules' ``mip_gap`` (all that optimum is known to).

**Soft bands** come first: their bends (``soft:<name>`` goals) are minimised in
priority order and held there (:func:`soft_limits`); a band with a ``penalty`` is
priced into the first objective instead.

**The efficient front** of two goals (:func:`sweep`) in one of two modes:

* ``step`` (the default) walks the whole front: the first point minimises ``minimise``
  (then ``limit`` with it held); each next point minimises ``minimise`` with ``limit ≤
  ε``, ε = the last point's ``limit`` value minus ``step`` (then ``limit`` with it held),
  until ``limit`` cannot go lower (its own optimum is reached), ε leaves the ``range`` or
  ``points`` points are found. Every efficient point whose ``limit`` value lies more than
  ``step`` below the previous one's is found; with solves proven optimal, each point is
  efficient.
* ``grid``: ``points`` values of ε evenly spaced between the two ends.

**Contiguity** is enforced by cut generation. Separator cuts are first found on the LP
relaxation (:func:`_lp_cut_rounds`: the rounded LP's split territories, minimum vertex
cuts the fractional point breaks, and floor cuts, :mod:`attain.territory.floor`); then
rough solves (``ROUGH_GAP``) find cuts until one answer is connected, and, with a backend
that takes a cutoff and calls back on each solution (HiGHS), the rules' gap is proven
from it under a cutoff (:mod:`attain.territory.contiguous`); a split rough answer within
``REPAIR_GAP`` of its bound is first repaired into a connected one by a small MIP around
its split reps (:func:`attain.territory.contiguous.repair`), proven from there when that
works. Otherwise each solve
is followed by a connectivity check of every territory (label propagation over the
adjacency graph); a disconnected one gets separator cuts
(:meth:`attain.territory.model.TerritoryModel.contiguity_cuts`) and the problem is solved again,
warm-started, until every territory is connected. The cuts stay in the model, so later
stages (lexicographic goals, front points) start with them. (A single-commodity flow
formulation with a free root per rep, after Shirabe, was measured instead: its LP bound
is weak; on a 10 × 10 grid × 4 reps it was 0.74% from proven after 60 s where the cuts
prove 0.1% in 7 s.)

**Large problems** (:data:`HEURISTIC_MIN_PAIRS` pairs or more, no slack columns, a backend
that solves LPs) start from the LP relaxation: :func:`_incumbent`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from attain.errors import SolverError
from attain.model import HOLD_TOL, Hold, Level, with_holds
from attain.model import lexicographic as core_lexicographic
from attain.solvers import (
    BACKENDS,
    CpSatOptions,
    LinearProblem,
    SolveOptions,
    SolverResult,
    Status,
    solve,
)
from attain.territory import heuristic
from attain.territory.floor import floor_cuts
from attain.territory.model import TerritoryModel

__all__ = ["Infeasible", "Run", "lexicographic", "sweep", "weighted"]

GOALS = ("distance", "disruption")
#: Rounds of contiguity cuts before giving up (each round is one solve).
MAX_CUT_ROUNDS = 100
#: Problems with this many pairs or more start from the LP relaxation (:func:`_incumbent`).
HEURISTIC_MIN_PAIRS = 20_000
#: Share of the time left after the LP that the local search may take.
HEURISTIC_SHARE = 0.8
#: The neighbourhood search (:func:`attain.territory.heuristic.neighbourhood_search`) runs
#: until this share of the time limit has passed.
LNS_SHARE = 0.92
#: The MIP runs after the local search only with this share of the time limit left.
MIP_SHARE = 0.25
#: Share of the time limit the LP rounds of contiguity cuts may take, and their most rounds.
LP_CUT_SHARE = 0.25
MAX_LP_CUT_ROUNDS = 40
#: The LP rounds stop once the bound rises by less than LP_STALL (relative) in
#: LP_STALL_ROUNDS rounds: the cuts found after that hardly move it.
LP_STALL = 1e-5
LP_STALL_ROUNDS = 3
#: Gap of the cut-finding rounds of a contiguity solve (the last round uses the rules' gap).
ROUGH_GAP = 0.02
#: A split rough answer this close to its bound is repaired into a connected one
#: (:func:`attain.territory.contiguous.repair`, given at most the seconds the rough solve
#: took) and proven from there; a farther one is a poor start: the rough rounds go on.
REPAIR_GAP = 0.005


class Infeasible(Exception):
    """The hard rules admit no assignment (diagnosed by the caller)."""


@dataclass(frozen=True)
class Run:
    """One solved assignment."""

    x: np.ndarray
    """The assignment over the candidate pairs (0/1)."""
    status: Status
    gap: float
    solver: str
    seconds: float
    goals: dict[str, float]
    """``distance``, ``disruption`` and ``soft:<band>`` (bend in means) of ``x``."""
    full: np.ndarray | None = None
    """Every solver column: the pairs, then the soft bands' slacks."""
    problem: LinearProblem | None = None
    """The problem as last solved (for ``--export-model``)."""
    info: dict = field(default_factory=dict)
    """How a large solve went (:func:`_incumbent`): bound, incumbent, phases, seconds."""


def prepare(model: TerritoryModel, solver: str) -> None:
    """Slack columns are integers for a solver that takes integers only (CP-SAT)."""
    backend = BACKENDS.get(solver)
    model.integer_slacks = backend is not None and "lp" not in backend.features


def _solve(model: TerritoryModel, c, offset, holds, solver, time_limit, hint) -> Run:
    """One solve, repeated with contiguity cuts until every territory is connected.

    While cuts are still being found, rounds stop at a looser gap (``ROUGH_GAP``): their
    answers only show where the next cuts go. A connected answer of a rough round is
    solved again at the rules' gap, and kept when still connected.
    """
    seconds, rough = 0.0, model.adjacency is not None
    if rough:
        seconds += _lp_cut_rounds(model, c, offset, holds, solver, time_limit)
    for _ in range(MAX_CUT_ROUNDS):
        a = model.assemble()
        problem = with_holds(a.problem, c, holds, offset)
        start = None if hint is None else model.start(a, hint)
        gap = max(model.mip_gap, ROUGH_GAP) if rough else model.mip_gap
        first = _incumbent(model, problem, solver, time_limit, gap)
        if first is not None:
            result, info = first
        else:
            options = CpSatOptions(
                time_limit=time_limit, hint=start, mip_gap=gap, verbose=model.verbose
            )
            result, info = solve(problem, solver, options), {}
        seconds += result.seconds
        if result.status in (Status.INFEASIBLE, Status.INFEASIBLE_OR_UNBOUNDED):
            raise Infeasible()
        if not result.status.has_solution:
            limit = f" within the time limit of {time_limit:g} s" if time_limit else ""
            raise SolverError(
                f"solver `{solver}` found no assignment{limit} "
                f"({result.message or 'no detail'}); give it more time with --time-limit"
            )
        full = result.x.copy()
        integer = problem.integrality.astype(bool)
        full[integer] = np.round(full[integer])
        _recheck(model, full, solver)
        if model.contiguity_cuts(full):
            floor_cuts(model, full)
            near = float(result.mip_gap if result.mip_gap is not None else np.inf) <= REPAIR_GAP
            if rough and gap > model.mip_gap and near and _watches(solver):
                limit = result.seconds if time_limit is None else min(result.seconds, time_limit)
                fixed, more = _repair(model, c, offset, holds, solver, limit, full)
                seconds += more
                if fixed is not None:  # connected: proven to the rules' gap under a cutoff
                    return _connected(model, c, offset, holds, solver, time_limit, fixed, seconds)
            continue
        if rough and gap > model.mip_gap:
            if _watches(solver):  # connected: proven to the rules' gap under a cutoff
                return _connected(model, c, offset, holds, solver, time_limit, full, seconds)
            rough, hint = False, full[: model.pairs.n]  # connected: now to the rules' gap
            continue
        x = full[: model.pairs.n]
        goals = model.goal_values(a, full)
        gap_reached = float(result.mip_gap or 0.0)
        return Run(
            x, result.status, gap_reached, result.solver, seconds, goals, full, problem, info
        )
    raise SolverError(
        f"contiguity: territories still disconnected after {MAX_CUT_ROUNDS} rounds of cuts "
        f"({model.n_cuts} cuts); loosen the other rules or drop `contiguity`"
    )


def _connected(model, c, offset, holds, solver, time_limit, full, seconds) -> Run:
    """The rules' gap from the connected answer ``full`` of a rough round
    (:func:`attain.territory.contiguous.solve_connected`)."""
    from attain.territory.contiguous import solve_connected

    left = None if time_limit is None else max(time_limit - seconds, 1.0)
    result, full, problem, more = solve_connected(
        model, c, offset, holds, solver, left, full, lambda x: _recheck(model, x, solver)
    )
    goals = model.goal_values(model.assemble(), full)
    gap = float(result.mip_gap or 0.0)
    x = full[: model.pairs.n]
    return Run(x, result.status, gap, solver, seconds + more, goals, full, problem)


def _repair(model, c, offset, holds, solver, time_limit, full):
    """A connected assignment near the split answer ``full`` of a rough round, or None
    (:func:`attain.territory.contiguous.repair`); and the seconds it took."""
    from attain.territory.contiguous import repair

    return repair(model, c, offset, holds, solver, full, time_limit)


def _watches(solver: str) -> bool:
    """Whether the backend takes a cutoff and calls back on each solution in this process
    (:mod:`attain.territory.contiguous`)."""
    from attain.solvers.base import must_isolate

    backend = BACKENDS.get(solver)
    if backend is None or "callbacks" not in backend.features:
        return False
    return not must_isolate(getattr(backend, "module", ""))


def _lp_cut_rounds(model: TerritoryModel, c, offset, holds, solver, time_limit) -> float:
    """Separator cuts found on the LP relaxation before any MIP: each round solves the LP,
    gives every unit the rep of its largest share, and adds the cuts that assignment's
    split territories call for (:meth:`TerritoryModel.contiguity_cuts`), and those the
    fractional point itself breaks (:meth:`TerritoryModel.fractional_cuts`, minimum vertex
    cuts by max-flow; all valid for every connected territory, whatever point they were
    found at), until neither finds one, for at most ``MAX_LP_CUT_ROUNDS`` rounds or
    ``LP_CUT_SHARE`` of the time limit. An LP round costs a fraction of a MIP round; the
    fractional cuts raise the LP bound the MIP starts from (20 × 10 grid × 8 reps: from
    3,760.8 to 3,816.1 of an optimum of 3,845.9, and the MIPs' CPU time from 85 s to
    18 s). Returns seconds."""
    backend = BACKENDS.get(solver)
    if backend is None or "lp" not in backend.features:
        return 0.0
    began = time.perf_counter()
    bounds: list[float] = []
    for _ in range(MAX_LP_CUT_ROUNDS):
        if time_limit is not None and time.perf_counter() - began > LP_CUT_SHARE * time_limit:
            break
        if len(bounds) > LP_STALL_ROUNDS and _stalled(bounds):
            break
        a = model.assemble()
        problem = with_holds(a.problem, c, holds, offset)
        options = SolveOptions(time_limit=time_limit, lp_method="simplex", verbose=model.verbose)
        lp = solve(replace(problem, integrality=None), solver, options)
        if lp.status is not Status.OPTIMAL or lp.x is None:
            break  # the MIP rounds say why
        bounds.append(lp.objective)
        pairs = model.pairs
        share = lp.x[: pairs.n]
        order = np.lexsort((np.arange(pairs.n), -share, pairs.unit))
        first = np.flatnonzero(np.r_[True, pairs.unit[order][1:] != pairs.unit[order][:-1]])
        x = np.zeros(problem.n_cols)
        x[order[first]] = 1.0
        rounded = model.contiguity_cuts(x)
        fractional = model.fractional_cuts(lp.x)
        if not floor_cuts(model, lp.x) and not fractional and not rounded:
            break
    return time.perf_counter() - began


def _stalled(bounds: list[float]) -> bool:
    """Whether the LP bound rose by less than ``LP_STALL`` (relative) over the last
    ``LP_STALL_ROUNDS`` rounds."""
    last, before = bounds[-1], bounds[-1 - LP_STALL_ROUNDS]
    return last - before <= LP_STALL * max(abs(last), 1.0)


def _incumbent(model: TerritoryModel, problem: LinearProblem, solver: str, time_limit, gap: float):
    """A large assignment problem, solved as :mod:`attain.territory.heuristic` says: the LP
    relaxation, LP-guided rounding and local search for an incumbent, a Lagrangian bound
    from the LP's row prices; the MIP (warm-started from the incumbent) only when the gap
    is still above ``gap``, with what is left of the time limit.

    Returns ``(result, info)``, the result's gap the proven one (best incumbent against
    the best bound, as HiGHS counts it: (incumbent − bound) / |incumbent|); None when the
    problem is small, not a plain assignment problem, or the backend solves no LPs.
    """
    backend = BACKENDS.get(solver)
    if backend is None or "lp" not in backend.features or model.pairs.n < HEURISTIC_MIN_PAIRS:
        return None
    s = heuristic.structure(problem, model.pairs.unit, model.pairs.rep)
    if s is None:
        return None
    began = time.perf_counter()
    lp = solve(
        replace(problem, integrality=None),
        solver,
        SolveOptions(time_limit=time_limit, lp_method="simplex", verbose=model.verbose),
    )
    if lp.status in (Status.INFEASIBLE, Status.INFEASIBLE_OR_UNBOUNDED):
        return replace(lp, status=Status.INFEASIBLE), {}  # so is the MIP
    if lp.status is not Status.OPTIMAL or lp.row_duals is None:
        # Out of time: the MIP, with what is left (it may still find an assignment).
        left = None if time_limit is None else max(time_limit - (time.perf_counter() - began), 1.0)
        options = SolveOptions(time_limit=left, mip_gap=gap, verbose=model.verbose)
        return solve(problem, solver, options), {"lp_seconds": round(lp.seconds, 3)}
    lp_seconds = time.perf_counter() - began
    bound = heuristic.lagrangian_bound(problem, s, lp.row_duals)
    left = None if time_limit is None else time_limit - (time.perf_counter() - began)
    budget = None if left is None else time.perf_counter() + HEURISTIC_SHARE * left
    pick, feasible = heuristic.local_search(problem, s, heuristic.rounded(s, lp.x), budget)
    x = np.zeros(problem.n_cols)
    x[pick] = 1.0
    best = problem.objective(x) if feasible and problem.violation(x) <= 1e-9 else np.inf
    info = {
        "lp_bound": lp.objective,
        "lagrangian_bound": bound,
        "heuristic_objective": None if best == np.inf else best,
        "lp_seconds": round(lp_seconds, 3),
        "heuristic_seconds": round(time.perf_counter() - began - lp_seconds, 3),
    }
    if best < np.inf and _gap(best, bound) > gap:
        lns_began = time.perf_counter()
        deadline = None if time_limit is None else began + LNS_SHARE * time_limit
        target = bound + gap * abs(bound)
        pick, log = heuristic.neighbourhood_search(
            problem, s, pick, lp.x, solver, deadline, target, model.verbose
        )
        x = np.zeros(problem.n_cols)
        x[pick] = 1.0
        best = problem.objective(x)
        info.update(
            lns_objective=best,
            lns_solves=log.solves,
            lns_improved=log.improved,
            lns_stopped_by_time=log.stopped_by_time,
            lns_seconds=round(time.perf_counter() - lns_began, 3),
        )
    result = SolverResult(Status.FEASIBLE, solver, x, best)
    left = None if time_limit is None else time_limit - (time.perf_counter() - began)
    worth = left is None or left >= MIP_SHARE * time_limit
    if best == np.inf or (_gap(best, bound) > gap and worth):
        left = None if time_limit is None else max(time_limit - (time.perf_counter() - began), 1.0)
        options = SolveOptions(
            time_limit=left, mip_gap=gap, verbose=model.verbose,
            hint=x if best < np.inf else None,
        )  # fmt: skip
        mip = solve(problem, solver, options)
        if mip.status is Status.INFEASIBLE:
            return mip, info
        if mip.status.has_solution and mip.objective is not None:
            mip_bound = mip.objective - float(mip.mip_gap or 0.0) * abs(mip.objective)
            bound = max(bound, mip_bound)
            info["mip_objective"], info["mip_bound"] = mip.objective, mip_bound
            if mip.objective <= best:
                result, best = mip, mip.objective
        info["mip_seconds"] = round(mip.seconds, 3)
        if best == np.inf:
            return mip, info
    proven = _gap(best, bound)
    status = Status.OPTIMAL if proven <= gap else Status.FEASIBLE
    info.update(bound=bound, incumbent=best)
    seconds = time.perf_counter() - began
    return replace(result, status=status, mip_gap=proven, objective=best, seconds=seconds), info


def _gap(incumbent: float, bound: float) -> float:
    """(incumbent − bound) / |incumbent|, as HiGHS reports a MIP gap (0 when they meet)."""
    return max(incumbent - bound, 0.0) / max(abs(incumbent), 1e-9)


def _recheck(model: TerritoryModel, full: np.ndarray, solver: str) -> None:
    """The answer on the true numbers: a hard rule it breaks (beyond a billionth) is an
    error, never an "optimal" assignment of a slightly different model."""
    broken = model.violations(full[: model.n_cols])
    if broken:
        rule, unit, amount = broken[0]
        who = model.reps.ids[unit] if rule != "disruption.max" else "the company"
        raise SolverError(
            f"solver `{solver}`'s assignment breaks `{rule}` for {who} by {amount:.6g} on the "
            "true numbers (its tolerances accepted it); try another --solver"
        )


def _levels(
    model: TerritoryModel, goals, first_extra: dict[str, float] | None = None
) -> list[Level]:
    a = model.assemble()
    out = []
    for k, goal in enumerate(goals):
        weights = dict(goal) if isinstance(goal, dict) else {goal: 1.0}
        if k == 0 and first_extra:
            weights = {**weights, **first_extra}
        name = goal if isinstance(goal, str) else "+".join(sorted(goal))
        c, off = model.objective(weights, a)
        out.append(Level(name, c, off))
    return out


def _lexicographic(model: TerritoryModel, levels, solver, time_limit, hint, holds):
    """The core's lexicographic loop over ``_solve`` (with its cut rounds and warm starts)."""
    runs: list[Run] = []
    state = {"hint": hint}

    def run(c, offset, held) -> SolverResult:
        try:
            r = _solve(model, c, offset, held, solver, time_limit, state["hint"])
        except (SolverError, Infeasible) as error:
            if not runs:
                raise
            # A later level held at the earlier optima: no answer within the limits (or
            # the holds sit just past the solver's tolerances). The earlier answer stands.
            return SolverResult(Status.NO_SOLUTION, solver, message=str(error))
        runs.append(r)
        state["hint"] = r.x
        return SolverResult(r.status, r.solver, r.full, mip_gap=r.gap)

    outcomes, failed = core_lexicographic(
        levels, run, holds, rel_tol=model.mip_gap, abs_tol=HOLD_TOL, retry_tol=None
    )
    holds_out = (*holds, *(o.hold for o in outcomes))
    # A retried level does not exist here (retry_tol None): one run per outcome.
    return runs[: len(outcomes)], holds_out, failed


def soft_limits(model: TerritoryModel, solver: str, time_limit=None, hint=None):
    """Bend the soft bands as little as possible, in priority order; the rows that hold them.

    Returns ``(holds, hint)``: :class:`attain.model.Hold` rows keeping each priority level
    at its optimum, and the last level's assignment as the next warm start.
    """
    prepare(model, solver)
    a = model.assemble()
    holds: tuple[Hold, ...] = ()
    for name, vec in model.soft_levels(a):
        norm = float(np.max(np.abs(vec), initial=0.0)) or 1.0
        if hint is not None and float(np.nansum(vec * model.start(a, hint))) == 0.0:
            # The warm start bends none of them: 0 is their optimum, no solve needed.
            holds += (Hold(name, vec / norm, 0.0, HOLD_TOL),)
            continue
        runs, holds, _ = _lexicographic(model, [Level(name, vec)], solver, time_limit, hint, holds)
        hint = runs[-1].x
    return holds, hint


def penalties(model: TerritoryModel) -> dict[str, float]:
    """The soft bands priced into the objective: ``soft:<name>`` → penalty."""
    return {f"soft:{band.name}": band.penalty for _, band in model.soft_bands if band.penalty}


def weighted(
    model: TerritoryModel, weights, solver: str, time_limit=None, hint=None, holds=()
) -> Run:
    """One solve of Σ weight · goal (priced soft bands included)."""
    prepare(model, solver)
    c, offset = model.objective({**dict(weights), **penalties(model)}, model.assemble())
    return _solve(model, c, offset, tuple(holds), solver, time_limit, hint)


def lexicographic(
    model: TerritoryModel, order, solver: str, time_limit=None, hint=None, holds=()
) -> Run:
    """Each goal of ``order`` minimised in turn, the earlier ones held at their optimum.

    A later stage that finds no assignment within the time limit (a goal held at its
    optimum leaves a thin feasible set; the warm start is the previous stage's answer,
    which a backend may still fail to use) keeps the earlier stage's assignment, reported
    as ``feasible``.
    """
    prepare(model, solver)
    levels = _levels(model, order, penalties(model))
    runs, _, failed = _lexicographic(model, levels, solver, time_limit, hint, tuple(holds))
    run = runs[-1]
    status = Status.OPTIMAL if all(r.status is Status.OPTIMAL for r in runs) else Status.FEASIBLE
    if failed is not None:
        status = Status.FEASIBLE
    return replace(run, status=status, seconds=sum(r.seconds for r in runs))


def _point(model: TerritoryModel, minimise, limit, solver, time_limit, hint, holds) -> Run | None:
    """The efficient point: least ``minimise`` under ``holds``, then least ``limit`` with it
    held; None when the holds leave no assignment."""
    try:
        return lexicographic(model, (minimise, limit), solver, time_limit, hint, holds)
    except Infeasible:
        return None


def _eps_hold(model: TerritoryModel, goal: str, eps: float) -> Hold:
    """``goal ≤ eps`` as a hold in the solver's scale."""
    coef, off = model.goal(goal, model.assemble())
    norm = float(np.max(np.abs(coef), initial=0.0)) or 1.0
    return Hold(f"{goal}<=eps", coef / norm, (eps - off) / norm, HOLD_TOL)


def sweep(
    model: TerritoryModel,
    minimise: str,
    limit: str,
    points: int,
    solver: str,
    time_limit=None,
    hint=None,
    holds=(),
    mode: str = "step",
    step: float | None = None,
    span: tuple[float | None, float | None] = (None, None),
) -> tuple[list[Run], bool]:
    """The efficient front of ``minimise`` versus ``limit`` (module docstring).

    Returns the mutually non-dominated points ordered by ``limit``, and whether the walk
    stopped at ``points`` before reaching the end of the front (step mode).
    """
    prepare(model, solver)
    base = tuple(holds)
    lo, hi = span
    best = lexicographic(model, (limit, minimise), solver, time_limit, hint, base)
    floor = best.goals[limit]
    first_holds = base if hi is None else (*base, _eps_hold(model, limit, hi))
    first = _point(model, minimise, limit, solver, time_limit, best.x, first_holds)
    if first is None:
        return [], False
    if mode == "grid":
        ends = (max(floor, lo) if lo is not None else floor, first.goals[limit])
        runs = [first]
        for eps in np.linspace(ends[1], ends[0], points)[1:]:
            run = _point(
                model, minimise, limit, solver, time_limit, runs[-1].x,
                (*base, _eps_hold(model, limit, float(eps))),
            )  # fmt: skip
            if run is not None:
                runs.append(run)
        return efficient(runs, minimise, limit), False
    width = abs(first.goals[limit] - floor)
    step = step if step is not None else max(1e-6 * width, 1e-9 * max(1.0, abs(floor)))
    runs = [first]
    truncated = False
    while True:
        last = runs[-1].goals[limit]
        eps = last - step
        if last <= floor + 1e-9 * max(1.0, abs(floor)) or eps < floor - 1e-9 * max(1.0, abs(floor)):
            break  # the limit goal is at its own optimum: the front ends here
        if lo is not None and eps < lo:
            break
        if len(runs) >= points:
            truncated = True
            break
        run = _point(
            model, minimise, limit, solver, time_limit, runs[-1].x,
            (*base, _eps_hold(model, limit, eps)),
        )  # fmt: skip
        if run is None or run.goals[limit] >= last:
            break  # nothing below ε (within the solver's tolerances)
        runs.append(run)
    return efficient(runs, minimise, limit), truncated


def efficient(runs: list[Run], a: str, b: str) -> list[Run]:
    """Distinct, mutually non-dominated runs, ordered by goal ``b`` (ties within 1e-9
    relative are the same value)."""

    def same(u: float, v: float) -> bool:
        return abs(u - v) <= 1e-9 * max(1.0, abs(u), abs(v))

    pts = sorted(runs, key=lambda r: (r.goals[b], r.goals[a]))
    kept: list[Run] = []
    for run in pts:
        va, vb = run.goals[a], run.goals[b]
        dominated = any(
            (o.goals[a] <= va or same(o.goals[a], va))
            and (o.goals[b] <= vb or same(o.goals[b], vb))
            and not (same(o.goals[a], va) and same(o.goals[b], vb))
            for o in pts
        )
        repeat = any(same(k.goals[a], va) and same(k.goals[b], vb) for k in kept)
        if not dominated and not repeat:
            kept.append(run)
    return kept

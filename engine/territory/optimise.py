"""The objective modes: weighted sum, lexicographic order, and the ε-constraint sweep.

Every solve goes through :func:`attain.solvers.solve` (any registered MIP
backend), warm-started from the best assignment known so far (the current
one at first: it is often nearly feasible). A lexicographic stage keeps each
earlier goal at its optimum with a row ``goal ≤ optimum``; the sweep solves
``min goal₁ s.t. goal₂ ≤ ε`` then ``min goal₂ s.t. goal₁ ≤ that optimum`` at
each ε, so every point it keeps is efficient (when the solves are optimal).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from attain.errors import SolverError
from attain.solvers import CpSatOptions, Status, solve
from attain.territory.model import Model

__all__ = ["Infeasible", "Run", "lexicographic", "sweep", "weighted"]

GOALS = ("distance", "disruption")


class Infeasible(Exception):
    """The hard rules admit no assignment (diagnosed by the caller)."""


@dataclass(frozen=True)
class Run:
    """One solved assignment."""

    x: np.ndarray
    status: Status
    gap: float
    solver: str
    seconds: float
    goals: dict[str, float]


def goal_values(model: Model, x: np.ndarray) -> dict[str, float]:
    return {g: float(model.goals[g][0] @ x + model.goals[g][1]) for g in GOALS}


def _solve(model: Model, weights, limits, solver, time_limit, hint) -> Run:
    gap_limit = model.mip_gap
    problem = model.problem(weights, limits)
    options = CpSatOptions(time_limit=time_limit, hint=hint, mip_gap=gap_limit)
    result = solve(problem, solver, options)
    if result.status in (Status.INFEASIBLE, Status.INFEASIBLE_OR_UNBOUNDED):
        raise Infeasible()
    if not result.status.has_solution:
        limit = f" within the time limit of {time_limit:g} s" if time_limit else ""
        raise SolverError(
            f"solver `{solver}` found no assignment{limit} ({result.message or 'no detail'}); "
            "give it more time with --time-limit"
        )
    x = np.round(result.x)
    gap = float(result.mip_gap or 0.0)
    return Run(x, result.status, gap, result.solver, result.seconds, goal_values(model, x))


def weighted(model: Model, weights, solver: str, time_limit=None, hint=None, limits=()) -> Run:
    return _solve(model, dict(weights), tuple(limits), solver, time_limit, hint)


def lexicographic(model: Model, order, solver: str, time_limit=None, hint=None, limits=()) -> Run:
    """Each goal of ``order`` minimised in turn, the earlier ones held at their optimum.

    A later stage that finds no assignment within the time limit (HiGHS takes no warm
    start, and a goal held at its optimum leaves a thin feasible set) keeps the earlier
    stage's assignment, reported as ``feasible``.
    """
    limits = tuple(limits)
    run, seconds = None, 0.0
    for goal in order:
        try:
            stage = _solve(model, {goal: 1.0}, limits, solver, time_limit, hint)
        except SolverError:
            if run is None:
                raise
            run = replace(run, status=Status.FEASIBLE)
            break
        seconds += stage.seconds
        status = stage.status if run is None or run.status is Status.OPTIMAL else run.status
        run = replace(stage, status=status)
        # Held within the solve's own gap: that is all the optimum is known to, and a tighter
        # row makes the next stage's search for a first feasible point needlessly hard.
        value = run.goals[goal]
        limits += ((goal, value + model.mip_gap * abs(value)),)
        hint = run.x
    return replace(run, seconds=seconds)


def sweep(
    model: Model, minimise: str, limit: str, points: int, solver: str, time_limit=None, hint=None
) -> list[Run]:
    """The efficient front of ``minimise`` versus ``limit`` at ``points`` values of ε.

    The ends are the lexicographic optimum (limit, then minimise) and the minimum of
    ``minimise``; each point minimises ``minimise + δ · limit`` subject to ``limit ≤ ε``,
    where the tiny δ only breaks ties, so a point is never beaten on ``limit`` at equal
    ``minimise``. Dominated or repeated points are dropped.
    """
    best = lexicographic(model, (limit, minimise), solver, time_limit, hint)
    delta = 1e-7 * max(1.0, abs(best.goals[minimise])) / max(1.0, abs(best.goals[limit]) + 1.0)
    weights = {minimise: 1.0, limit: delta}
    worst = weighted(model, weights, solver, time_limit, best.x)
    lo, hi = best.goals[limit], worst.goals[limit]
    runs = [best]
    for eps in np.linspace(lo, hi, points)[1:-1]:
        limits = ((limit, float(eps)),)
        runs.append(weighted(model, weights, solver, time_limit, runs[-1].x, limits))
    runs.append(worst)
    return efficient(runs, minimise, limit)


def efficient(runs: list[Run], a: str, b: str) -> list[Run]:
    """Distinct, mutually non-dominated runs, ordered by goal ``b``."""
    key = {}
    for run in runs:
        key.setdefault((round(run.goals[a], 6), round(run.goals[b], 6)), run)
    pts = sorted(key.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    kept = []
    for (va, vb), run in pts:
        dominated = any(oa <= va and ob <= vb and (oa, ob) != (va, vb) for (oa, ob), _ in pts)
        if not dominated:
            kept.append(run)
    return kept

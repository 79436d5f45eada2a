"""The objective modes: weighted sum, lexicographic order, and the ε-constraint sweep.

Every solve goes through :func:`attain.solvers.solve` (any registered MIP
backend), warm-started from the best assignment known so far (the current
one at first: it is often nearly feasible). A lexicographic stage keeps each
earlier goal at its optimum with a row ``goal ≤ optimum``; the sweep solves
``min goal₁ s.t. goal₂ ≤ ε`` then ``min goal₂ s.t. goal₁ ≤ that optimum`` at
each ε, so every point it keeps is efficient (when the solves are optimal).

**Soft bands** come first: their bends (``soft:<name>`` goals) are minimised in
priority order and held there (:func:`soft_limits`); a band with a ``penalty``
is priced into the first objective instead.

**Contiguity** is enforced by cut generation: each solve is followed by a
connectivity check of every territory (label propagation over the adjacency
graph); a disconnected one gets separator cuts
(:meth:`attain.territory.model.Model.contiguity_cuts`) and the problem is solved
again, warm-started, until every territory is connected. The cuts stay in the
model, so later stages (lexicographic goals, sweep points) start with them.
Cut generation adds few rows where the seed rows already do most of the work
(compact units around offices), where a flow formulation would add
``arcs × candidate reps`` columns to every solve.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from attain.errors import SolverError
from attain.solvers import CpSatOptions, Status, solve
from attain.territory.model import Model

__all__ = ["Infeasible", "Run", "lexicographic", "sweep", "weighted"]

GOALS = ("distance", "disruption")
#: Rounds of contiguity cuts before giving up (each round is one solve).
MAX_CUT_ROUNDS = 100
#: Gap of the cut-finding rounds of a contiguity solve (the last round uses the rules' gap).
ROUGH_GAP = 0.02


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
    """Every column: the pairs, then the soft bands' slacks."""


def goal_values(model: Model, x: np.ndarray) -> dict[str, float]:
    """The goals of a full column vector (pairs and slacks)."""
    names = (*GOALS, *(f"soft:{sb.band.name}" for sb in model.soft))
    return {g: float(model.goal(g)[0] @ x + model.goal(g)[1]) for g in names}


def _solve(model: Model, weights, limits, solver, time_limit, hint) -> Run:
    """One solve, repeated with contiguity cuts until every territory is connected.

    While cuts are still being found, rounds stop at a looser gap (``ROUGH_GAP``): their
    answers only show where the next cuts go. A connected answer of a rough round is
    solved again at the rules' gap, and kept when still connected.
    """
    seconds, rough = 0.0, model.adjacency is not None
    for _ in range(MAX_CUT_ROUNDS):
        problem = model.problem(weights, limits)
        start = None if hint is None else model.complete(hint[: model.pairs.n])
        gap = max(model.mip_gap, ROUGH_GAP) if rough else model.mip_gap
        options = CpSatOptions(time_limit=time_limit, hint=start, mip_gap=gap)
        result = solve(problem, solver, options)
        seconds += result.seconds
        if result.status in (Status.INFEASIBLE, Status.INFEASIBLE_OR_UNBOUNDED):
            raise Infeasible()
        if not result.status.has_solution:
            limit = f" within the time limit of {time_limit:g} s" if time_limit else ""
            raise SolverError(
                f"solver `{solver}` found no assignment{limit} "
                f"({result.message or 'no detail'}); give it more time with --time-limit"
            )
        full = np.round(result.x)
        if model.contiguity_cuts(full):
            continue
        if rough and gap > model.mip_gap:
            rough, hint = False, full[: model.pairs.n]  # connected: now to the rules' gap
            continue
        x = full[: model.pairs.n]
        goals = goal_values(model, full)
        return Run(
            x, result.status, float(result.mip_gap or 0.0), result.solver, seconds, goals, full
        )
    raise SolverError(
        f"contiguity: territories still disconnected after {MAX_CUT_ROUNDS} rounds of cuts "
        f"({model.n_cuts} cuts); loosen the other rules or drop `contiguity`"
    )


def soft_limits(model: Model, solver: str, time_limit=None, hint=None):
    """Bend the soft bands as little as possible, in priority order; the rows that hold them.

    Returns ``(limits, hint)``: ``(goal, value)`` pairs keeping each priority level at its
    optimum, and the last level's assignment as the next warm start.
    """
    limits: tuple[tuple[str, float], ...] = ()
    levels = sorted({sb.band.priority for sb in model.soft if sb.band.priority is not None})
    for level in levels:
        names = [f"soft:{sb.band.name}" for sb in model.soft if sb.band.priority == level]
        start = goal_values(model, model.complete(hint)) if hint is not None else None
        if start is not None and all(start[n] == 0 for n in names):
            # The warm start bends none of them: 0 is their optimum, no solve needed.
            limits += tuple((n, 0.0) for n in names)
            continue
        run = _solve(model, dict.fromkeys(names, 1.0), limits, solver, time_limit, hint)
        bent = sum(run.goals[n] for n in names)
        limits += tuple((n, run.goals[n] + model.mip_gap * bent) for n in names)
        hint = run.x
    return limits, hint


def penalties(model: Model) -> dict[str, float]:
    """The soft bands priced into the objective: ``soft:<name>`` → penalty."""
    return {f"soft:{sb.band.name}": sb.band.penalty for sb in model.soft if sb.band.penalty}


def weighted(model: Model, weights, solver: str, time_limit=None, hint=None, limits=()) -> Run:
    """One solve of Σ weight · goal (priced soft bands included)."""
    weights = {**dict(weights), **penalties(model)}
    return _solve(model, weights, tuple(limits), solver, time_limit, hint)


def lexicographic(model: Model, order, solver: str, time_limit=None, hint=None, limits=()) -> Run:
    """Each goal of ``order`` minimised in turn, the earlier ones held at their optimum.

    A later stage that finds no assignment within the time limit (a goal held at its
    optimum leaves a thin feasible set; the warm start is the previous stage's answer,
    which a backend may still fail to use) keeps the earlier stage's assignment, reported
    as ``feasible``.
    """
    limits = tuple(limits)
    run, seconds = None, 0.0
    for k, goal in enumerate(order):
        weights = {goal: 1.0, **(penalties(model) if k == 0 else {})}
        try:
            stage = _solve(model, weights, limits, solver, time_limit, hint)
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
        if k == 0:  # priced bends stay where the first stage put them
            limits += tuple((g, run.goals[g] + model.mip_gap) for g in penalties(model))
        hint = run.x
    return replace(run, seconds=seconds)


def sweep(
    model: Model,
    minimise: str,
    limit: str,
    points: int,
    solver: str,
    time_limit=None,
    hint=None,
    limits=(),
) -> list[Run]:
    """The efficient front of ``minimise`` versus ``limit`` at ``points`` values of ε.

    The ends are the lexicographic optimum (limit, then minimise) and the minimum of
    ``minimise``; each point minimises ``minimise + δ · limit`` subject to ``limit ≤ ε``,
    where the tiny δ only breaks ties, so a point is never beaten on ``limit`` at equal
    ``minimise``. Dominated or repeated points are dropped.
    """
    base = tuple(limits)
    best = lexicographic(model, (limit, minimise), solver, time_limit, hint, base)
    delta = 1e-7 * max(1.0, abs(best.goals[minimise])) / max(1.0, abs(best.goals[limit]) + 1.0)
    weights = {minimise: 1.0, limit: delta}
    worst = weighted(model, weights, solver, time_limit, best.x, base)
    lo, hi = best.goals[limit], worst.goals[limit]
    runs = [best]
    for eps in np.linspace(lo, hi, points)[1:-1]:
        bound = (*base, (limit, float(eps)))
        runs.append(weighted(model, weights, solver, time_limit, runs[-1].x, bound))
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

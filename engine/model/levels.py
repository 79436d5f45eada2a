"""Lexicographic levels: each level's optimum held, in the solver's own scale, while the next
one is optimised.

A level is an objective over the solver's columns. It is normalised to a largest
coefficient of 1 before it is solved, so its optimum, and the row that holds it, are
numbers the solver's tolerances (1e-7 to 1e-9, absolute) resolve: a level held in
currency at 10,000 reps would otherwise sit below them. The hold of a level is
``c·x ≤ value + abs_tol + rel_tol·|value|`` in those normalised units (``abs_tol`` 1e-7:
the allocation benchmark's lesson, see docs/allocation.md "Performance"). When a solver
finds a later level infeasible at that tolerance (it can: its own feasibility tolerance
is about as wide), the level is solved again with the holds loosened to ``retry_tol``.

Given the problem the levels are over, a level is also held by its *optimal face*
(:func:`optimal_face`): every column with a reduced cost fixed at its bound and every
row with a dual at its bound — by complementary slackness exactly the level's optimal
solutions. The later levels then solve over a face with equalities rather than a thin
slab under the hold row (which interior point can stall on: a re-plan's ``stay`` level
did), and presolve takes the fixed columns out. When a later level is infeasible the
retry holds the rows alone, loosened.

A level with a *floor* (a value its objective cannot go below: 0 for a sum of slacks)
is first solved together with the next level, their normalised objectives summed;
where that solve reaches the floor it is both levels' optimum, exactly (a point at the
floor doing better on the next level would do better on the sum), and one solve is
saved. Otherwise the level is solved alone and the joint solve was one too many.

The engine supplies ``solve(c, offset, holds) -> SolverResult``; what a solve is (one
call, or rounds of cuts) is the engine's business.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from attain.solvers import LinearProblem, SolverResult, SparseMatrix

__all__ = [
    "FACE_TOL",
    "HOLD_TOL",
    "RETRY_HOLD_TOL",
    "Face",
    "Hold",
    "Level",
    "LevelOutcome",
    "lexicographic",
    "optimal_face",
    "with_holds",
]

INF = np.inf
#: A level's optimum is held to within this (absolute, in the normalised level's units, and
#: relative) while later levels run.
HOLD_TOL = 1e-7
#: ... and to this when the solver finds the next level infeasible at HOLD_TOL.
RETRY_HOLD_TOL = 1e-5
#: A reduced cost or dual (normalised level units) above this puts its column or row on the
#: face; a point within this (relative) of a bound is at it.
FACE_TOL = 1e-9


@dataclass(frozen=True)
class Face:
    """A level's optimal face as bounds: ``cols`` fixed at ``col_value``, ``rows`` (of the
    problem without holds) held at ``row_value``."""

    cols: np.ndarray
    col_value: np.ndarray
    rows: np.ndarray
    row_value: np.ndarray

    @property
    def size(self) -> int:
        return len(self.cols) + len(self.rows)


@dataclass(frozen=True)
class Level:
    """One objective level over the solver's columns."""

    name: str
    c: np.ndarray
    offset: float = 0.0
    norm: float | None = None
    """Divide by this before solving (default: the largest coefficient)."""
    floor: float | None = None
    """A value the objective cannot go below (in its own units, offset included), such as
    0 for a sum of slacks. Given, the level is solved together with the next one: where
    that joint solve reaches the floor, it is this level's optimum and the next level's
    too (:func:`lexicographic`)."""
    face: bool = True
    """Held by its optimal face too, where :func:`lexicographic` is given the problem
    (``faces``); False: by its row alone."""


@dataclass(frozen=True)
class Hold:
    """``c @ x <= value + slack``: an earlier level kept at its optimum (or an ε bound)."""

    name: str
    c: np.ndarray
    value: float
    slack: float = 0.0
    face: Face | None = None
    """The level's optimal face, held too (:func:`optimal_face`)."""

    @property
    def bound(self) -> float:
        return self.value + self.slack

    def loosened(self, factor: float) -> Hold:
        """The row alone, its slack × ``factor`` (the face goes: a retry asks for room)."""
        return replace(self, slack=self.slack * factor, face=None)


@dataclass(frozen=True)
class LevelOutcome:
    name: str
    result: SolverResult
    value: float
    """The level's objective at the solution, in the level's own units (offset included)."""
    norm: float
    hold: Hold


def with_holds(
    problem: LinearProblem, c: np.ndarray, holds: Sequence[Hold], offset: float = 0.0
) -> LinearProblem:
    """``problem`` with objective ``c`` (+ ``offset``) and one ``≤`` row per hold, appended;
    each hold's face (if any) fixes its columns and rows in the bounds."""
    row_lower, row_upper = problem.row_lower, problem.row_upper
    col_lower, col_upper = problem.col_lower, problem.col_upper
    faces = [h.face for h in holds if h.face is not None and h.face.size]
    if faces:
        row_lower, row_upper = row_lower.copy(), row_upper.copy()
        col_lower, col_upper = col_lower.copy(), col_upper.copy()
        for face in faces:
            col_lower[face.cols] = col_upper[face.cols] = face.col_value
            row_lower[face.rows] = row_upper[face.rows] = face.row_value
    A = problem.A
    if holds:
        nz = [np.flatnonzero(h.c) for h in holds]
        indptr = np.concatenate([A.indptr, A.indptr[-1] + np.cumsum([len(k) for k in nz])])
        A = SparseMatrix(
            indptr,
            np.concatenate([A.indices, *[k.astype(np.int32) for k in nz]]),
            np.concatenate([A.data, *[h.c[k] for h, k in zip(holds, nz, strict=True)]]),
            (A.shape[0] + len(holds), A.shape[1]),
        )
    return LinearProblem(
        c=np.asarray(c, dtype=np.float64),
        A=A,
        row_lower=np.concatenate([row_lower, np.full(len(holds), -INF)]),
        row_upper=np.concatenate([row_upper, [h.bound for h in holds]]),
        col_lower=col_lower,
        col_upper=col_upper,
        integrality=problem.integrality,
        offset=offset,
        row_names=(*problem.row_names, *(f"hold:{h.name}" for h in holds))
        if problem.row_names
        else (),
        col_names=problem.col_names,
    )


def optimal_face(
    problem: LinearProblem, result: SolverResult, tol: float = FACE_TOL
) -> Face | None:
    """The optimal face of ``problem``'s level from an optimal basic ``result``: columns
    with a reduced cost at a bound, rows with a dual at a bound (``problem``'s rows only:
    holds appended after them are left as they are). None without both kinds of duals.

    Complementary slackness makes it exact: a feasible point is optimal for the level if
    and only if it sits on every such bound. A bound counts only where the point is on it
    (within ``tol``, relative), so a backend's sign convention cannot put a column on the
    wrong side; an interior point (no crossover) gives a smaller face, never a wrong one.
    """
    if result.x is None or result.col_duals is None or result.row_duals is None:
        return None
    x = np.asarray(result.x, dtype=np.float64)
    if x.shape != (problem.n_cols,):
        return None
    rc = np.asarray(result.col_duals, dtype=np.float64)
    y = np.asarray(result.row_duals, dtype=np.float64)[: problem.n_rows]
    activity = problem.A.matvec(x)

    def on(value, lower, upper, price):
        """Per entry: the bound it is held at (NaN: none)."""
        with np.errstate(invalid="ignore"):
            near_lo = np.abs(value - lower) <= tol * (1 + np.abs(lower))
            near_hi = np.abs(value - upper) <= tol * (1 + np.abs(upper))
        free = lower < upper
        lo = free & np.isfinite(lower) & near_lo & (np.abs(price) > tol)
        hi = free & np.isfinite(upper) & near_hi & (np.abs(price) > tol) & ~lo
        return np.where(lo, lower, np.where(hi, upper, np.nan))

    col = on(x, problem.col_lower, problem.col_upper, rc)
    row = on(activity, problem.row_lower, problem.row_upper, y)
    cols, rows = np.flatnonzero(np.isfinite(col)), np.flatnonzero(np.isfinite(row))
    return Face(cols, col[cols], rows, row[rows])


def lexicographic(
    levels: Sequence[Level],
    solve: Callable[[np.ndarray, float, tuple[Hold, ...]], SolverResult],
    holds: Sequence[Hold] = (),
    rel_tol: float = HOLD_TOL,
    abs_tol: float = HOLD_TOL,
    retry_tol: float | None = RETRY_HOLD_TOL,
    faces: LinearProblem | None = None,
) -> tuple[list[LevelOutcome], SolverResult | None]:
    """Solve ``levels`` in order, each held once solved. Returns the outcomes and, when a
    level found no solution, that level's result (the outcomes before it stand).

    ``faces``: the problem the levels are over (without holds); given, each level is held
    by its :func:`optimal_face` as well as its row (module docstring), but for a level
    whose ``face`` is False."""
    held = list(holds)
    out: list[LevelOutcome] = []
    joint: SolverResult | None = None  # a joint solve's result, for the level after
    for k, level in enumerate(levels):
        cn, off, norm = _normalised(level)
        result, joint = joint, None
        if result is None and level.floor is not None and k + 1 < len(levels):
            joint = _joint(level, levels[k + 1], solve, tuple(held), abs_tol)
            result = joint
        if result is None:
            result = solve(cn, off, tuple(held))
        if not result.status.has_solution and held and retry_tol is not None:
            factor = retry_tol / abs_tol if abs_tol else 1.0
            result = solve(cn, off, tuple(h.loosened(factor) for h in held))
        if not result.status.has_solution:
            return out, result
        value_n = float(cn @ result.x) + off
        face = optimal_face(faces, result) if faces is not None and level.face else None
        hold = Hold(level.name, cn, value_n - off, abs_tol + rel_tol * abs(value_n), face)
        held.append(hold)
        out.append(LevelOutcome(level.name, result, value_n * norm, norm, hold))
    return out, None


def _normalised(level: Level) -> tuple[np.ndarray, float, float]:
    """The level's objective and offset divided by its norm, and the norm."""
    c = np.asarray(level.c, dtype=np.float64)
    norm = level.norm or float(np.max(np.abs(c), initial=0.0)) or 1.0
    return c / norm, level.offset / norm, norm


def _joint(
    level: Level,
    after: Level,
    solve: Callable[[np.ndarray, float, tuple[Hold, ...]], SolverResult],
    held: tuple[Hold, ...],
    abs_tol: float,
) -> SolverResult | None:
    """``level`` and ``after`` in one solve (their normalised objectives summed), or None
    when that solve leaves ``level`` above its floor (or found no solution).

    Exact: a point at ``level``'s floor is optimal for ``level``; and no point at that
    floor does better on ``after`` (it would do better on the sum too). Within
    ``abs_tol`` of the floor counts as at it: the hold allows as much. A soft rule met
    (its slack zero) saves a solve; one that is not costs one more."""
    cn, off, norm = _normalised(level)
    cn2, off2, _ = _normalised(after)
    result = solve(cn + cn2, off + off2, held)
    if not result.status.has_solution or level.floor is None:
        return None
    if float(cn @ result.x) + off > level.floor / norm + abs_tol:
        return None
    return result

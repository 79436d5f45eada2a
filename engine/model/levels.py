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

The engine supplies ``solve(c, offset, holds) -> SolverResult``; what a solve is (one
call, or rounds of cuts) is the engine's business.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from attain.solvers import LinearProblem, SolverResult, SparseMatrix

__all__ = [
    "HOLD_TOL",
    "RETRY_HOLD_TOL",
    "Hold",
    "Level",
    "LevelOutcome",
    "lexicographic",
    "with_holds",
]

INF = np.inf
#: A level's optimum is held to within this (absolute, in the normalised level's units, and
#: relative) while later levels run.
HOLD_TOL = 1e-7
#: ... and to this when the solver finds the next level infeasible at HOLD_TOL.
RETRY_HOLD_TOL = 1e-5


@dataclass(frozen=True)
class Level:
    """One objective level over the solver's columns."""

    name: str
    c: np.ndarray
    offset: float = 0.0
    norm: float | None = None
    """Divide by this before solving (default: the largest coefficient)."""


@dataclass(frozen=True)
class Hold:
    """``c @ x <= value + slack``: an earlier level kept at its optimum (or an ε bound)."""

    name: str
    c: np.ndarray
    value: float
    slack: float = 0.0

    @property
    def bound(self) -> float:
        return self.value + self.slack

    def loosened(self, factor: float) -> Hold:
        return replace(self, slack=self.slack * factor)


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
    """``problem`` with objective ``c`` (+ ``offset``) and one ``≤`` row per hold, appended."""
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
        row_lower=np.concatenate([problem.row_lower, np.full(len(holds), -INF)]),
        row_upper=np.concatenate([problem.row_upper, [h.bound for h in holds]]),
        col_lower=problem.col_lower,
        col_upper=problem.col_upper,
        integrality=problem.integrality,
        offset=offset,
        row_names=(*problem.row_names, *(f"hold:{h.name}" for h in holds))
        if problem.row_names
        else (),
        col_names=problem.col_names,
    )


def lexicographic(
    levels: Sequence[Level],
    solve: Callable[[np.ndarray, float, tuple[Hold, ...]], SolverResult],
    holds: Sequence[Hold] = (),
    rel_tol: float = HOLD_TOL,
    abs_tol: float = HOLD_TOL,
    retry_tol: float | None = RETRY_HOLD_TOL,
) -> tuple[list[LevelOutcome], SolverResult | None]:
    """Solve ``levels`` in order, each held once solved. Returns the outcomes and, when a
    level found no solution, that level's result (the outcomes before it stand)."""
    held = list(holds)
    out: list[LevelOutcome] = []
    for level in levels:
        c = np.asarray(level.c, dtype=np.float64)
        norm = level.norm or float(np.max(np.abs(c), initial=0.0)) or 1.0
        cn, off = c / norm, level.offset / norm
        result = solve(cn, off, tuple(held))
        if not result.status.has_solution and held and retry_tol is not None:
            factor = retry_tol / abs_tol if abs_tol else 1.0
            result = solve(cn, off, tuple(h.loosened(factor) for h in held))
        if not result.status.has_solution:
            return out, result
        value_n = float(cn @ result.x) + off
        hold = Hold(level.name, cn, value_n - off, abs_tol + rel_tol * abs(value_n))
        held.append(hold)
        out.append(LevelOutcome(level.name, result, value_n * norm, norm, hold))
    return out, None

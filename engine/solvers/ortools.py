"""OR-Tools linear solvers through pywraplp: GLOP (simplex) and PDLP (first-order, huge LPs).

OR-Tools bundles its own HiGHS, which clashes with highspy's in one process;
:func:`attain.solvers.solve` runs this backend in a child process when highspy
is already loaded (see ``module`` and :mod:`attain.solvers.isolated`).
"""

from __future__ import annotations

import numpy as np

from attain.solvers.base import has_module, register
from attain.solvers.problem import LinearProblem, SolveOptions, SolverResult, Status

__all__ = ["OrToolsBackend"]


def _status_table(pywraplp) -> dict[int, Status]:
    s = pywraplp.Solver
    return {
        s.OPTIMAL: Status.OPTIMAL,
        s.FEASIBLE: Status.FEASIBLE,
        s.INFEASIBLE: Status.INFEASIBLE,
        s.UNBOUNDED: Status.UNBOUNDED,
        s.ABNORMAL: Status.ERROR,
        s.NOT_SOLVED: Status.NO_SOLUTION,
    }


class OrToolsBackend:
    module = "ortools"

    def __init__(self, name: str, engine: str, features: frozenset[str]):
        self.name = name
        self.engine = engine
        self.features = features

    def is_available(self) -> bool:
        return has_module("ortools")

    def solve(self, problem: LinearProblem, options: SolveOptions) -> SolverResult:
        from ortools.linear_solver import pywraplp

        solver = pywraplp.Solver.CreateSolver(self.engine)
        if solver is None:
            return SolverResult(Status.ERROR, self.name, message=f"{self.engine} not built in")
        if options.verbose:
            solver.EnableOutput()
        if options.time_limit is not None:
            solver.SetTimeLimit(int(options.time_limit * 1000))
        xs, cons = _build(solver, problem)
        code = solver.Solve()
        status = _status_table(pywraplp).get(code, Status.ERROR)
        if status is Status.INFEASIBLE and _feasible_without_objective(solver):
            # GLOP reports some unbounded LPs as infeasible; a feasible point settles it.
            status = Status.UNBOUNDED
        if not status.has_solution:
            return SolverResult(status, self.name, message=f"code {code}")
        x = np.array([v.solution_value() for v in xs], dtype=np.float64)
        duals = np.array([ct.dual_value() for ct in cons], dtype=np.float64)
        rc = np.array([v.reduced_cost() for v in xs], dtype=np.float64)
        return SolverResult(status, self.name, x, None, duals, rc, None)


def _feasible_without_objective(solver) -> bool:
    from ortools.linear_solver import pywraplp

    solver.Objective().Clear()
    return solver.Solve() in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE)


def _build(solver, problem: LinearProblem):
    inf = solver.infinity()

    def bound(value: float) -> float:
        return float(np.clip(value, -inf, inf))

    xs = [
        solver.NumVar(bound(lo), bound(hi), "")
        for lo, hi in zip(problem.col_lower, problem.col_upper, strict=True)
    ]
    objective = solver.Objective()
    for j in np.flatnonzero(problem.c):
        objective.SetCoefficient(xs[j], float(problem.c[j]))
    objective.SetOffset(float(problem.offset))
    objective.SetMinimization()
    A = problem.A
    cons = []
    for i in range(problem.n_rows):
        ct = solver.RowConstraint(bound(problem.row_lower[i]), bound(problem.row_upper[i]), "")
        lo, hi = A.indptr[i], A.indptr[i + 1]
        for j, v in zip(A.indices[lo:hi].tolist(), A.data[lo:hi].tolist(), strict=True):
            ct.SetCoefficient(xs[j], v)
        cons.append(ct)
    return xs, cons


register(OrToolsBackend("glop", "GLOP", frozenset({"lp", "duals"})))
register(OrToolsBackend("pdlp", "PDLP", frozenset({"lp", "duals"})))

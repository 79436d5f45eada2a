"""CBC through PuLP (PuLP also reaches a company's own Gurobi or CPLEX with the same model).

PuLP needs one Python object per variable; that cost stays inside this backend.
Its status is not trusted alone: ``LpProblem.status`` says "Optimal" for a run
stopped by the time limit without a solution, so the solution status and the
values themselves decide (and :func:`attain.solvers.solve` re-checks them).
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np

from attain.solvers.base import has_module, register
from attain.solvers.problem import LinearProblem, SolveOptions, SolverResult, Status

__all__ = ["CbcBackend"]

# PuLP's sol_status codes: 1 optimal, 2 integer feasible, 0 not solved, -1 infeasible,
# -2 unbounded, -3 undefined.
_SOL_STATUS = {
    1: Status.OPTIMAL,
    2: Status.FEASIBLE,
    0: Status.NO_SOLUTION,
    -1: Status.INFEASIBLE,
    -2: Status.UNBOUNDED,
    -3: Status.NO_SOLUTION,
}


class CbcBackend:
    name = "cbc"
    module = "pulp"
    features = frozenset({"lp", "mip", "duals"})

    def is_available(self) -> bool:
        if not has_module("pulp"):
            return False
        import pulp

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return bool(pulp.PULP_CBC_CMD(msg=False).available())

    def solve(self, problem: LinearProblem, options: SolveOptions) -> SolverResult:
        import pulp

        with warnings.catch_warnings():
            # PuLP 3.x warns about its 4.0 API on every call; the calls used here exist in both.
            warnings.simplefilter("ignore", DeprecationWarning)
            return self._solve(pulp, problem, options)

    def _solve(self, pulp, problem: LinearProblem, options: SolveOptions) -> SolverResult:
        model, xs, rows = _build(pulp, problem)
        if any(_trivially_violated(problem, i) for i in _empty_rows(problem)):
            return SolverResult(Status.INFEASIBLE, self.name, message="empty row out of bounds")
        solver = pulp.PULP_CBC_CMD(
            msg=bool(options.verbose),
            timeLimit=options.time_limit,
            gapRel=options.mip_gap if problem.is_mip else None,
            threads=options.threads,
        )
        started = time.perf_counter()
        model.solve(solver)
        elapsed = time.perf_counter() - started
        status = _SOL_STATUS.get(model.sol_status, Status.ERROR)
        if model.status == -1:  # the problem status is authoritative for infeasibility
            status = Status.INFEASIBLE
        message = pulp.LpStatus.get(model.status, "?")
        if (
            status is Status.INFEASIBLE
            and options.time_limit is not None
            and elapsed >= options.time_limit
        ):
            # CBC stopped by its time limit before finding a solution also says
            # "Infeasible": nothing was proven, so say that no solution was found.
            status, message = Status.NO_SOLUTION, "stopped at the time limit with no solution"
        if not status.has_solution:
            return SolverResult(status, self.name, message=message)
        values = [v.varValue for v in xs]
        if any(v is None for v in values if v is not None) or all(v is None for v in values):
            return SolverResult(Status.NO_SOLUTION, self.name, message=message)
        x = np.array([_unused(problem, j) if v is None else v for j, v in enumerate(values)])
        duals = None
        if not problem.is_mip:
            duals = np.zeros(problem.n_rows)
            for i, cons in rows:
                duals[i] += cons.pi or 0.0
        return SolverResult(status, self.name, x, None, duals, None, None, message=message)


def _build(pulp, problem: LinearProblem):
    model = pulp.LpProblem("attain", pulp.LpMinimize)
    ints = problem.integrality if problem.is_mip else np.zeros(problem.n_cols, bool)
    xs = [
        pulp.LpVariable(
            f"x{j}",
            lowBound=_finite(problem.col_lower[j]),
            upBound=_finite(problem.col_upper[j]),
            cat=pulp.LpInteger if ints[j] else pulp.LpContinuous,
        )
        for j in range(problem.n_cols)
    ]
    nz = np.flatnonzero(problem.c)
    model += pulp.LpAffineExpression([(xs[j], float(problem.c[j])) for j in nz]) + float(
        problem.offset
    )
    rows = []
    A = problem.A
    for i in range(problem.n_rows):
        lo, hi = A.indptr[i], A.indptr[i + 1]
        if lo == hi:
            continue
        expr = pulp.LpAffineExpression(
            [(xs[j], float(v)) for j, v in zip(A.indices[lo:hi], A.data[lo:hi], strict=True)]
        )
        rl, ru = problem.row_lower[i], problem.row_upper[i]
        if rl == ru:
            rows.append((i, _add(model, expr == float(rl), f"e{i}")))
            continue
        if math.isfinite(rl):
            rows.append((i, _add(model, expr >= float(rl), f"l{i}")))
        if math.isfinite(ru):
            rows.append((i, _add(model, expr <= float(ru), f"u{i}")))
    return model, xs, rows


def _add(model, constraint, name: str):
    model.addConstraint(constraint, name)
    return constraint  # PuLP keeps this very object; its .pi is filled by the solve


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _empty_rows(problem: LinearProblem) -> np.ndarray:
    return np.flatnonzero(np.diff(problem.A.indptr) == 0)


def _trivially_violated(problem: LinearProblem, i: int) -> bool:
    return problem.row_lower[i] > 0 or problem.row_upper[i] < 0


def _unused(problem: LinearProblem, j: int) -> float:
    """A value for a column PuLP dropped (in no row, zero cost): the bound nearest 0."""
    return float(np.clip(0.0, problem.col_lower[j], problem.col_upper[j]))


register(CbcBackend())

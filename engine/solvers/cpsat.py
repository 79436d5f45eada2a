"""OR-Tools CP-SAT for pure integer problems (binary assignment models such as territories).

CP-SAT works over integers only, so the float rows of a :class:`LinearProblem`
are scaled, one row at a time, before they are passed on:

* **Rows.** Row ``i`` is multiplied by ``10**k_i``, the smallest power of ten
  (``k_i <= MAX_DECIMALS``) that turns every coefficient of the row into an
  integer (within float noise). The row bounds are scaled by the same
  factor and then tightened to integers (``ceil`` of the lower, ``floor`` of
  the upper bound): with integer coefficients and integer variables the row's
  activity is an integer, so this is exact, not an approximation. A row whose
  coefficients have more than ``MAX_DECIMALS`` decimals is rounded at
  ``10**MAX_DECIMALS``, its bounds widened by the most the rounding can shift
  its activity (so no solution of the float row is cut off), and counted in
  ``extra["approximate_rows"]``; the solution is verified against the
  original float problem by :func:`attain.solvers.solve` either way.
  A rounded row's answer is re-checked on the float row: when it breaks it, the
  result is ``no_solution`` with the violation in its message, never an
  "optimal" answer of a different model.
* **Objective.** The same rule, ``10**k`` with ``k <= MAX_DECIMALS``, reduced
  further when the scaled objective could overflow CP-SAT's 64-bit sums
  (``extra["objective_scale"]``, ``extra["objective_exact"]``). A rounded
  objective can only cost optimality, never feasibility: its largest error over
  the column box (``extra["objective_error"]``) widens the best bound, the gap
  is that of the true objective, and a run whose true gap exceeds the asked gap
  is ``feasible``, not ``optimal``.
* **Columns.** Every column must be integer (``integrality`` set); infinite
  column bounds are limited to ``±MAX_BOUND``.

The gap is ``(objective - best bound) / max(1, |objective|)`` in the scaled
objective, which is the relative gap of the original one (when exact). A warm
start is given as a solution hint through :attr:`SolveOptions.hint` (NaN = no hint for
that column).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from attain.solvers.base import has_module, register
from attain.solvers.problem import LinearProblem, SolveOptions, SolverResult, Status

__all__ = ["MAX_BOUND", "MAX_DECIMALS", "CpSatBackend", "CpSatOptions", "scale_rows"]

#: Most decimals of a coefficient kept exactly (fewer when a row's scaled activity would
#: leave 64-bit range); finer ones are rounded, and the answer re-checked on the floats.
MAX_DECIMALS = 9
_ROW_LIMIT = 2.0**61  # the largest scaled row activity allowed (CP-SAT sums in int64)
#: Infinite column bounds become ±MAX_BOUND (CP-SAT needs finite domains).
MAX_BOUND = 2**31
_INT_MAX = 2**62  # an "infinite" row side, with headroom below int64 overflow
_OBJECTIVE_LIMIT = 2.0**53  # keep the scaled objective's range exact in a double

_STATUS = {
    "OPTIMAL": Status.OPTIMAL,
    "FEASIBLE": Status.FEASIBLE,
    "INFEASIBLE": Status.INFEASIBLE,
    "MODEL_INVALID": Status.ERROR,
    "UNKNOWN": Status.NO_SOLUTION,
}


@dataclass(frozen=True)
class CpSatOptions(SolveOptions):
    """:class:`SolveOptions` plus what only CP-SAT takes (other backends ignore the extras)."""

    deterministic: bool = True
    """Equal inputs give equal solutions: the parallel workers are interleaved, or, with a
    hint, one worker runs (slower); `False` runs the free parallel portfolio."""


class CpSatBackend:
    name = "cpsat"
    module = "ortools"
    features = frozenset({"mip"})

    def is_available(self) -> bool:
        return has_module("ortools")

    def solve(self, problem: LinearProblem, options: SolveOptions) -> SolverResult:
        from ortools.sat.python import cp_model

        if problem.n_cols and not (problem.is_mip and np.all(problem.integrality)):
            return SolverResult(
                Status.ERROR, self.name, message="CP-SAT solves integer problems only"
            )
        if problem.n_cols == 0:
            return SolverResult(Status.OPTIMAL, self.name, np.zeros(0), mip_gap=0.0)
        model = cp_model.CpModel()
        n_approx, approx_rows = _add_columns_and_rows(model.proto, problem)
        obj_scale, exact, obj_error = _add_objective(model.proto, problem)
        hint = options.hint
        if hint is not None:
            _add_hint(model.proto, problem, np.asarray(hint, dtype=np.float64))
        solver = cp_model.CpSolver()
        _set_parameters(solver.parameters, options, hint is not None)
        code = solver.solve(model)
        status = _STATUS.get(solver.status_name(code), Status.ERROR)
        extra = {"approximate_rows": n_approx, "objective_scale": obj_scale}
        extra["objective_exact"] = exact
        if not status.has_solution:
            return SolverResult(status, self.name, message=solver.status_name(code), extra=extra)
        x = np.asarray(solver.response_proto.solution, dtype=np.float64)
        broken = _recheck(problem, x, approx_rows)
        if broken:
            # Rounded rows are widened, so the scaled model holds every true solution; its
            # answer may still break a true row. Never "optimal" for a different model.
            return SolverResult(
                Status.NO_SOLUTION, self.name, message=broken, extra={**extra, "violation": broken}
            )
        # Bounds of the rounded objective, widened by its rounding error, bound the true one.
        true_value = float(problem.c @ x)
        bound = solver.best_objective_bound / obj_scale - obj_error
        gap = max(0.0, true_value - bound) / max(1.0, abs(true_value))
        if exact:
            value = solver.objective_value
            gap = abs(value - solver.best_objective_bound) / max(1.0, abs(value))
        if status is Status.OPTIMAL and gap > max(options.mip_gap, 1e-9):
            status = Status.FEASIBLE
        extra["best_bound"] = bound + problem.offset
        extra["objective_error"] = obj_error
        return SolverResult(
            status, self.name, x, None, mip_gap=gap, message=solver.status_name(code), extra=extra
        )


def scale_rows(problem: LinearProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: its power-of-ten scale, the integer coefficients, and whether it is exact.

    A row's scale is the smallest ``10**k`` that makes every coefficient whole, with ``k``
    at most :data:`MAX_DECIMALS` and at most what keeps the row's largest scaled activity
    within 64-bit sums."""
    A = problem.A
    rows = A.row_of_entry()
    lower = np.clip(problem.col_lower, -MAX_BOUND, MAX_BOUND)
    upper = np.clip(problem.col_upper, -MAX_BOUND, MAX_BOUND)
    reach = np.maximum(np.abs(lower), np.abs(upper))[A.indices]
    mass = np.bincount(rows, weights=np.abs(A.data) * reach, minlength=problem.n_rows)
    with np.errstate(divide="ignore"):
        cap = np.floor(np.log10(_ROW_LIMIT / np.maximum(mass, 1e-300)))
    cap = np.clip(cap, 0, MAX_DECIMALS).astype(np.int64)
    decimals = cap.copy()
    exact = np.zeros(problem.n_rows, dtype=bool)
    for k in range(MAX_DECIMALS, -1, -1):  # ends at the smallest exact k of each row
        ok_entry = _is_integral(A.data * 10.0**k)
        ok_row = (np.bincount(rows, weights=~ok_entry, minlength=problem.n_rows) == 0) & (k <= cap)
        decimals[ok_row] = k
        exact |= ok_row
    scale = 10.0**decimals
    coeffs = np.round(A.data * scale[rows]).astype(np.int64)
    return scale, coeffs, exact


def _is_integral(values: np.ndarray) -> np.ndarray:
    """Whole within float noise (a few ulps of the value, and a millionth absolute)."""
    return np.abs(values - np.round(values)) <= 1e-6 + 8 * np.finfo(float).eps * np.abs(values)


def _add_columns_and_rows(proto, problem: LinearProblem) -> int:
    lower = np.ceil(np.clip(problem.col_lower, -MAX_BOUND, MAX_BOUND) - 1e-9).astype(np.int64)
    upper = np.floor(np.clip(problem.col_upper, -MAX_BOUND, MAX_BOUND) + 1e-9).astype(np.int64)
    for lo, hi in zip(lower.tolist(), upper.tolist(), strict=True):
        proto.variables.add().domain.extend([lo, hi])
    scale, coeffs, exact = scale_rows(problem)
    A = problem.A
    rows = A.row_of_entry()
    reach = np.maximum(np.abs(lower), np.abs(upper))[A.indices]
    error = np.where(exact[rows], 0.0, np.abs(A.data * scale[rows] - coeffs) * reach)
    widen = np.bincount(rows, weights=error, minlength=problem.n_rows)
    row_lo = _int_side(problem.row_lower * scale - widen, np.ceil, -1)
    row_hi = _int_side(problem.row_upper * scale + widen, np.floor, 1)
    indptr, indices = A.indptr.tolist(), A.indices.tolist()
    coeff_list = coeffs.tolist()
    for i in range(problem.n_rows):
        start, stop = indptr[i], indptr[i + 1]
        linear = proto.constraints.add().linear
        linear.vars.extend(indices[start:stop])
        linear.coeffs.extend(coeff_list[start:stop])
        linear.domain.extend([row_lo[i], row_hi[i]])
    return int(np.count_nonzero(~exact)), np.flatnonzero(~exact)


def _recheck(problem: LinearProblem, x: np.ndarray, rows: np.ndarray) -> str:
    """Empty when ``x`` satisfies the true (float) rows that were rounded; else what it breaks."""
    if not len(rows):
        return ""
    act = problem.A.matvec(x)[rows]
    lo, hi = problem.row_lower[rows], problem.row_upper[rows]
    tol = 1e-9 * (1 + np.maximum(np.abs(np.nan_to_num(lo)), np.abs(np.nan_to_num(hi))))
    over = np.maximum(lo - act, act - hi)
    bad = np.flatnonzero(over > tol)
    if not len(bad):
        return ""
    worst = bad[np.argmax(over[bad])]
    return (
        f"CP-SAT's integer scaling rounds {len(rows)} row(s) with more than {MAX_DECIMALS} "
        f"decimals; its answer breaks {len(bad)} of them on the true numbers (row "
        f"{int(rows[worst])} by {float(over[worst]):.3g}): use a solver that takes floats "
        "(--solver highs)"
    )


def _int_side(values: np.ndarray, rounding, sign: int) -> list[int]:
    """Scaled row bounds as integers; ±inf become ±_INT_MAX. Float noise is forgiven."""
    out = np.full(len(values), sign * _INT_MAX, dtype=np.int64)
    finite = np.isfinite(values)
    slack = 1e-9 * np.maximum(1.0, np.abs(values[finite]))
    tightened = rounding(values[finite] + sign * slack)
    out[finite] = np.clip(tightened, -_INT_MAX, _INT_MAX).astype(np.int64)
    return out.tolist()


def _add_objective(proto, problem: LinearProblem) -> tuple[float, bool, float]:
    nz = np.flatnonzero(problem.c)
    if not len(nz):
        return 1.0, True, 0.0
    c = problem.c[nz]
    span = np.maximum(
        np.abs(np.clip(problem.col_lower[nz], -MAX_BOUND, MAX_BOUND)),
        np.abs(np.clip(problem.col_upper[nz], -MAX_BOUND, MAX_BOUND)),
    )
    reach = float(np.sum(np.abs(c) * span))
    k_max = int(math.floor(math.log10(_OBJECTIVE_LIMIT / max(reach, 1e-300))))
    k_max = min(MAX_DECIMALS, k_max)
    exact_k = next((k for k in range(0, k_max + 1) if np.all(_is_integral(c * 10.0**k))), None)
    k = exact_k if exact_k is not None else k_max
    scale = 10.0**k
    rounded = np.round(c * scale)
    proto.objective.vars.extend(nz.tolist())
    proto.objective.coeffs.extend(rounded.astype(np.int64).tolist())
    # The most the rounded objective can differ from the true one at any point of the box.
    error = float(np.sum(np.abs(c * scale - rounded) * span) / scale)
    return scale, exact_k is not None, error


def _add_hint(proto, problem: LinearProblem, hint: np.ndarray) -> None:
    if hint.shape != (problem.n_cols,):
        raise ValueError(f"hint has shape {hint.shape}, expected ({problem.n_cols},)")
    given = np.flatnonzero(np.isfinite(hint))
    values = np.clip(np.round(hint[given]), problem.col_lower[given], problem.col_upper[given])
    proto.solution_hint.vars.extend(given.tolist())
    proto.solution_hint.values.extend(values.astype(np.int64).tolist())


def _set_parameters(params, options: SolveOptions, has_hint: bool) -> None:
    if options.time_limit is not None:
        params.max_time_in_seconds = float(options.time_limit)
    params.relative_gap_limit = float(options.mip_gap)
    params.random_seed = 0
    params.log_search_progress = bool(options.verbose)
    params.num_workers = int(options.threads) if options.threads else 8
    if getattr(options, "deterministic", True) and params.num_workers > 1:
        if has_hint:
            # OR-Tools 9.15 aborts the process ("heuristics.fixed_search != nullptr") when
            # interleaved workers meet a hint on a model presolve proves infeasible; one
            # worker is deterministic too.
            params.num_workers = 1
        else:
            params.interleave_search = True


register(CpSatBackend())

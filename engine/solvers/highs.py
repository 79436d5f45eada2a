"""HiGHS through highspy: the whole model passed at once as CSR arrays (``passModel``).

A time limit is HiGHS's ``time_limit`` and also a deadline of our own, counted from when
the backend is handed the problem: HiGHS checks its limit only at some points of a MIP
search (a 22 s limit ran 30 s in territory alignment), so an interrupt callback stops
the search at the deadline; what it found by then is returned as ``feasible``.
"""

from __future__ import annotations

import time

import numpy as np

from attain.errors import SolverError
from attain.solvers.base import has_module, register
from attain.solvers.problem import LinearProblem, SolveOptions, SolverResult, Status

__all__ = ["HighsBackend"]

_STATUS = {  # HighsModelStatus name -> Status (a solution is still checked separately)
    "kOptimal": Status.OPTIMAL,
    "kInfeasible": Status.INFEASIBLE,
    "kUnbounded": Status.UNBOUNDED,
    "kUnboundedOrInfeasible": Status.INFEASIBLE_OR_UNBOUNDED,
    "kTimeLimit": Status.NO_SOLUTION,
    "kIterationLimit": Status.NO_SOLUTION,
    "kSolutionLimit": Status.NO_SOLUTION,
    "kInterrupt": Status.NO_SOLUTION,
    "kObjectiveBound": Status.NO_SOLUTION,
    "kObjectiveTarget": Status.NO_SOLUTION,
    "kModelEmpty": Status.OPTIMAL,
}
_NO_HEURISTICS = {
    "mip_heuristic_effort": 0.0,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_heuristic_run_feasibility_jump": False,
}
_FEASIBLE_POINT = 2
_IPM_ROWS = 2000  # HighsInfo.primal_solution_status: 2 = kSolutionStatusFeasible


class HighsBackend:
    name = "highs"
    module = "highspy"
    features = frozenset({"lp", "mip", "duals", "callbacks"})

    def is_available(self) -> bool:
        return has_module("highspy")

    def solve(self, problem: LinearProblem, options: SolveOptions) -> SolverResult:
        import highspy

        started_at = time.perf_counter()
        h = highspy.Highs()
        h.setOptionValue("output_flag", bool(options.verbose))
        h.setOptionValue("random_seed", 0)
        if options.time_limit is not None:
            h.setOptionValue("time_limit", float(options.time_limit))
        if options.threads is not None:
            h.setOptionValue("threads", int(options.threads))
        h.setOptionValue("mip_rel_gap", float(options.mip_gap))
        if not problem.is_mip and options.lp_method is not None:
            h.setOptionValue("solver", options.lp_method)
        elif not problem.is_mip and problem.n_rows >= _IPM_ROWS:
            # Lexicographic levels are highly degenerate: dual simplex can take tens of
            # thousands of iterations where interior point + crossover takes a few dozen
            # (bench/bench_allocate.py). Crossover still returns a basis and its duals.
            h.setOptionValue("solver", "ipm")
        _pass_model(h, highspy, problem)
        started = _set_start(h, problem, options.hint)
        if problem.is_mip:
            _report_progress(h)
        stopped = _keep_deadline(h, options.time_limit, started_at)
        if problem.is_mip:
            _watch_search(h, options)
        if options.cutoff is not None:
            h.setOptionValue("objective_bound", float(options.cutoff))
        if problem.is_mip and not options.heuristics:
            for name, value in _NO_HEURISTICS.items():
                h.setOptionValue(name, value)
        h.run()
        name = h.getModelStatus().name
        if name == "kInterrupt" and stopped:
            name = "kTimeLimit"  # our deadline: the limit asked for
        status = _STATUS.get(name, Status.ERROR)
        info = h.getInfo()
        has_point = info.primal_solution_status == _FEASIBLE_POINT
        if options.cutoff is not None and _beyond_cutoff(name, info, has_point, options.cutoff):
            # The search ended, every node pruned at the cutoff: nothing lies below it.
            return SolverResult(
                Status.NO_SOLUTION, self.name, message=name, extra={"cutoff_proven": True}
            )
        if status is Status.NO_SOLUTION and has_point:
            status = Status.FEASIBLE
        if status is Status.OPTIMAL and not has_point and problem.n_cols:
            status = Status.ERROR
        extra: dict = {} if started is None else {"warm_start": started}
        if problem.is_mip:
            # The best bound, also of a search stopped without a solution; under a cutoff,
            # nodes were pruned at the cutoff: no more than it is proven.
            bound = float(info.mip_dual_bound)
            extra["bound"] = bound if options.cutoff is None else min(bound, options.cutoff)
        if not status.has_solution:
            return SolverResult(status, self.name, message=name, extra=extra)
        sol = h.getSolution()
        x = np.asarray(sol.col_value, dtype=np.float64)
        duals = None if problem.is_mip else np.asarray(sol.row_dual, dtype=np.float64)
        rc = None if problem.is_mip else np.asarray(sol.col_dual, dtype=np.float64)
        gap = float(info.mip_gap) if problem.is_mip else None
        return SolverResult(status, self.name, x, None, duals, rc, gap, message=name, extra=extra)


def _report_progress(h) -> None:
    """Pass the MIP's best objective, bound and gap to the solve's watcher (if any) from
    HiGHS's interrupt callback; highspy without event callbacks reports elapsed time only."""
    from attain.progress import SolveStatus, solve_watcher

    watcher = solve_watcher()
    if watcher is None or not hasattr(h, "cbMipInterrupt"):
        return

    def on_interrupt(event) -> None:
        out = event.data_out
        watcher(
            SolveStatus(
                "highs",
                float(out.running_time),
                objective=_finite(out.mip_primal_bound),
                bound=_finite(out.mip_dual_bound),
                gap=_finite(out.mip_gap),
            )
        )

    h.cbMipInterrupt += on_interrupt


def _beyond_cutoff(name: str, info, has_point: bool, cutoff: float) -> bool:
    """Whether a search given a cutoff ended without a solution below it (HiGHS may still
    hand back a point at or above the cutoff that it met on the way)."""
    if name not in ("kOptimal", "kInfeasible", "kObjectiveBound"):
        return False  # stopped early (a limit, an interrupt): nothing proven
    below = has_point and info.objective_function_value < cutoff
    return not below


def _watch_search(h, options) -> None:
    """``options.on_solution`` on each improving solution, ``options.stop_bound`` against
    the best bound at each check; either one stops the search (HiGHS honours a stop asked
    for from its interrupt callback only)."""
    if options.on_solution is None and options.stop_bound is None:
        return
    stop: list[bool] = []

    def on_improving(event) -> None:
        out = event.data_out
        x = np.asarray(out.mip_solution, dtype=np.float64).copy()
        objective, bound = float(out.objective_function_value), float(out.mip_dual_bound)
        if options.on_solution is not None and options.on_solution(x, objective, bound):
            stop.append(True)

    def on_interrupt(event) -> None:
        bound = float(event.data_out.mip_dual_bound)
        if stop or (options.stop_bound is not None and bound >= options.stop_bound()):
            event.data_in.user_interrupt = True

    h.cbMipImprovingSolution += on_improving
    h.cbMipInterrupt += on_interrupt


def _keep_deadline(h, limit: float | None, started_at: float) -> list[bool]:
    """Interrupt HiGHS's MIP search, simplex and interior point once ``limit`` seconds have
    passed since ``started_at`` (HiGHS's own limit is not checked everywhere). Returns a
    flag list that holds True once the deadline stopped the run."""
    stopped: list[bool] = []
    if limit is None:
        return stopped
    deadline = started_at + float(limit)

    def on_interrupt(event) -> None:
        if time.perf_counter() >= deadline:
            event.data_in.user_interrupt = True
            if not stopped:
                stopped.append(True)

    for hook in ("cbMipInterrupt", "cbSimplexInterrupt", "cbIpmInterrupt"):
        if hasattr(h, hook):
            callback = getattr(h, hook)
            callback += on_interrupt  # highspy's callbacks take ``+=`` only
            setattr(h, hook, callback)
    return stopped


def _finite(value: float) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def _set_start(h, problem: LinearProblem, hint: np.ndarray | None) -> bool | None:
    """Pass ``hint`` as a MIP start (sparse ``setSolution``: NaN entries are left out, and
    HiGHS completes them); True when HiGHS accepted it, None when there was none."""
    if hint is None or not problem.n_cols:
        return None
    hint = np.asarray(hint, dtype=np.float64)
    if hint.shape != (problem.n_cols,):
        raise ValueError(f"hint has shape {hint.shape}, expected ({problem.n_cols},)")
    given = np.flatnonzero(np.isfinite(hint))
    values = np.clip(hint[given], problem.col_lower[given], problem.col_upper[given])
    if problem.is_mip:
        integer = problem.integrality[given].astype(bool)
        values = np.where(integer, np.round(values), values)
    status = h.setSolution(len(given), given.astype(np.int32), values.astype(np.float64))
    return status.name == "kOk"


def _pass_model(h, highspy, problem: LinearProblem) -> None:
    """Hand ``problem`` to ``h`` as arrays (``passModel``'s pointer form). Filling a
    ``HighsLp`` field by field converts every array to a C++ vector element by element:
    ~0.15 s a solve at 10,000 reps, against ~0.03 s here, for the same model."""
    f64, i32 = np.float64, np.int32
    kinds = np.zeros(problem.n_cols, dtype=i32)  # HighsVarType: 0 continuous, 1 integer
    if problem.is_mip:
        kinds[np.asarray(problem.integrality).astype(bool)] = int(highspy.HighsVarType.kInteger)
    A = problem.A
    status = h.passModel(
        int(problem.n_cols),
        int(problem.n_rows),
        len(A.data),
        int(highspy.MatrixFormat.kRowwise),
        int(highspy.ObjSense.kMinimize),
        float(problem.offset),
        np.ascontiguousarray(problem.c, dtype=f64),
        np.ascontiguousarray(problem.col_lower, dtype=f64),
        np.ascontiguousarray(problem.col_upper, dtype=f64),
        np.ascontiguousarray(problem.row_lower, dtype=f64),
        np.ascontiguousarray(problem.row_upper, dtype=f64),
        np.ascontiguousarray(A.indptr[:-1], dtype=i32),  # each row's start; the end is nnz
        np.ascontiguousarray(A.indices, dtype=i32),
        np.ascontiguousarray(A.data, dtype=f64),
        kinds,
    )
    if status.name == "kError":
        raise SolverError("solver `highs` refused the model (passModel)")


register(HighsBackend())

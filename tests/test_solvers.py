"""Conformance: small known-answer LPs and MIPs that every backend must pass.

Each case states its optimum (worked by hand in its docstring); every
available backend with the needed features must agree on status, objective
and — for LPs with a unique dual — the duals (∂objective/∂bound).
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pytest

from attain.errors import SolverError, SolverUnavailableError
from attain.solvers import (
    BACKENDS,
    LinearProblem,
    SolveOptions,
    SolverResult,
    SparseMatrix,
    Status,
    available,
    solve,
)
from attain.solvers.base import must_isolate

INF = np.inf


def lp(c, rows, lower, upper, col_lower=None, col_upper=None, integrality=None) -> LinearProblem:
    dense = np.asarray(rows, dtype=float).reshape(len(lower), len(c))
    r, k = np.nonzero(dense)
    A = SparseMatrix.from_coo(r, k, dense[r, k], dense.shape)
    n = len(c)
    return LinearProblem(
        c=np.asarray(c, float),
        A=A,
        row_lower=np.asarray(lower, float),
        row_upper=np.asarray(upper, float),
        col_lower=np.zeros(n) if col_lower is None else np.asarray(col_lower, float),
        col_upper=np.full(n, INF) if col_upper is None else np.asarray(col_upper, float),
        integrality=None if integrality is None else np.asarray(integrality, bool),
    )


def two_constraint_lp():
    """min x + y; x + 2y >= 4; 3x + y >= 6 → both bind: x = 1.6, y = 1.2, obj 2.8.

    Duals (u, v) solve u + 3v = 1, 2u + v = 1: u = 0.4, v = 0.2.
    """
    return lp([1, 1], [[1, 2], [3, 1]], [4, 6], [INF, INF]), 2.8, [1.6, 1.2], [0.4, 0.2]


def equality_with_free_column():
    """min -x + 2y; x + y = 3; x ≤ 2 (column bound); y free → x = 2, y = 1, obj 0."""
    p = lp([-1, 2], [[1, 1]], [3], [3], col_lower=[-INF, -INF], col_upper=[2, INF])
    return p, 0.0, [2.0, 1.0], [2.0]


def ranged_row():
    """max x (min -x); 1 ≤ x + y ≤ 5; y ≥ 2 → x = 3, obj -3; dual of the row's upper bound -1."""
    p = lp([-1, 0], [[1, 1]], [1], [5], col_lower=[0, 2])
    return p, -3.0, [3.0, 2.0], [-1.0]


LP_CASES = {
    "two_constraint": two_constraint_lp,
    "equality_free": equality_with_free_column,
    "ranged": ranged_row,
}


def knapsack():
    """max 5a + 4b + 3c (min the negative); 2a + 3b + c ≤ 5; binary → a = c = 1… and b?

    a + b: weight 5, value 9; a + c: weight 3, value 8; a + b + c: weight 6 > 5.
    b + c: weight 4, value 7. Best: a + b = 9 → obj -9.
    """
    p = lp([-5, -4, -3], [[2, 3, 1]], [-INF], [5], col_upper=[1, 1, 1], integrality=[1, 1, 1])
    return p, -9.0


def integer_rounding():
    """min -y; -x + y ≤ 1; 3x + 2y ≤ 12; 2x + 3y ≤ 12; integers → y = 2 (LP optimum y = 2.8)."""
    p = lp([0, -1], [[-1, 1], [3, 2], [2, 3]], [-INF] * 3, [1, 12, 12], integrality=[1, 1])
    return p, -2.0


MIP_CASES = {"knapsack": knapsack, "integer_rounding": integer_rounding}


def backends(feature: str):
    return [pytest.param(n, id=n) for n in sorted(BACKENDS) if feature in BACKENDS[n].features]


@pytest.mark.parametrize("solver", backends("lp"))
@pytest.mark.parametrize("case", sorted(LP_CASES))
def test_lp_known_answers(solver, case):
    if not BACKENDS[solver].is_available():
        pytest.skip(f"{solver} not installed")
    problem, objective, x, duals = LP_CASES[case]()
    result = solve(problem, solver)
    assert result.status is Status.OPTIMAL
    tol = 1e-4 if solver == "pdlp" else 1e-7
    assert result.objective == pytest.approx(objective, abs=tol)
    assert result.x == pytest.approx(x, abs=max(tol, 1e-6))
    if "duals" in BACKENDS[solver].features:
        assert result.row_duals == pytest.approx(duals, abs=max(tol, 1e-6))


@pytest.mark.parametrize("solver", backends("mip"))
@pytest.mark.parametrize("case", sorted(MIP_CASES))
def test_mip_known_answers(solver, case):
    problem, objective = MIP_CASES[case]()
    result = solve(problem, solver)
    assert result.status is Status.OPTIMAL
    assert result.objective == pytest.approx(objective, abs=1e-6)
    assert np.allclose(result.x, np.round(result.x))


@pytest.mark.parametrize("solver", backends("lp"))
def test_infeasible_is_a_status(solver):
    """x ≥ 2 and x ≤ 1 cannot both hold."""
    problem = lp([1], [[1], [1]], [2, -INF], [INF, 1])
    result = solve(problem, solver)
    assert result.status in (Status.INFEASIBLE, Status.INFEASIBLE_OR_UNBOUNDED)
    assert result.x is None


@pytest.mark.parametrize("solver", [s for s in ("highs", "cbc", "glop")])
def test_unbounded_is_a_status(solver):
    """min -x; x - y ≥ 0; 0 ≤ y ≤ 1; x has no upper bound."""
    problem = lp([-1, 0], [[1, -1], [0, 1]], [0, 0], [INF, 1])
    result = solve(problem, solver)
    assert result.status in (Status.UNBOUNDED, Status.INFEASIBLE_OR_UNBOUNDED)


def test_mip_rejected_by_lp_only_backend():
    problem, _ = knapsack()
    with pytest.raises(SolverUnavailableError, match="LPs only"):
        solve(problem, "glop")


def test_unknown_solver():
    with pytest.raises(SolverUnavailableError, match="unknown solver `gurobi9`"):
        solve(two_constraint_lp()[0], "gurobi9")


def test_every_backend_available_here():
    assert {"highs", "cbc", "glop", "pdlp"} <= set(available())


class _Liar:
    """A backend that says Optimal for a point that violates the model (as PuLP can)."""

    name = "liar"
    module = ""
    features = frozenset({"lp", "mip"})

    def is_available(self):
        return True

    def solve(self, problem, options):
        return SolverResult(Status.OPTIMAL, self.name, x=np.zeros(problem.n_cols))


def test_a_wrong_solution_is_demoted(monkeypatch):
    monkeypatch.setitem(BACKENDS, "liar", _Liar())
    result = solve(two_constraint_lp()[0], "liar")
    assert result.status is Status.NO_SOLUTION
    assert "violates" in result.message


def test_a_failed_backend_raises(monkeypatch):
    class Broken(_Liar):
        def solve(self, problem, options):
            return SolverResult(Status.ERROR, "broken", message="boom")

    monkeypatch.setitem(BACKENDS, "broken", Broken())
    with pytest.raises(SolverError, match="boom"):
        solve(two_constraint_lp()[0], "broken")


def test_time_limited_mip_reports_a_checked_status():
    """A hard MIP with a tiny time limit: whatever comes back is feasible or says so."""
    rng = np.random.default_rng(3)
    n = 60
    w = rng.integers(10, 60, n)
    v = w + rng.integers(-5, 5, n)
    p = lp(
        -v.astype(float),
        [w],
        [-INF],
        [w.sum() / 2 + 0.5],
        col_upper=np.ones(n),
        integrality=np.ones(n),
    )
    for solver in ("highs", "cbc"):
        result = solve(p, solver, SolveOptions(time_limit=0.01))
        assert result.status in (Status.OPTIMAL, Status.FEASIBLE, Status.NO_SOLUTION)
        if result.status.has_solution:
            assert p.violation(result.x) < 1e-6


def test_ortools_runs_beside_highspy():
    """highspy and OR-Tools bundle clashing HiGHS copies; OR-Tools then runs in a child."""
    solve(two_constraint_lp()[0], "highs")
    assert "highspy" in sys.modules
    assert must_isolate("ortools") == ("ortools" not in sys.modules)
    assert solve(two_constraint_lp()[0], "glop").objective == pytest.approx(2.8)


def test_sparse_matrix_sums_duplicates_and_transposes():
    A = SparseMatrix.from_coo([0, 0, 1, 0], [1, 1, 0, 2], [1.0, 2.0, 4.0, 0.0], (2, 3))
    assert A.nnz == 2
    assert A.matvec(np.array([1.0, 1.0, 1.0])).tolist() == [3.0, 4.0]
    assert A.rmatvec(np.array([1.0, 1.0])).tolist() == [4.0, 3.0, 0.0]
    T = A.to_csc()
    assert T.shape == (3, 2)
    assert T.matvec(np.array([1.0, 2.0])).tolist() == [8.0, 3.0, 0.0]


def test_problem_checks_shapes():
    good = two_constraint_lp()[0]
    with pytest.raises(ValueError, match="shape"):
        dataclasses.replace(good, c=np.zeros(3))
    with pytest.raises(ValueError, match="lower bound exceeds"):
        dataclasses.replace(good, col_lower=np.array([2.0, 0.0]), col_upper=np.array([1.0, 1.0]))


def test_highs_takes_a_warm_start():
    """A 60-item knapsack stopped at once (1 µs): without a start HiGHS has nothing to return;
    given the greedy solution (value 1042) as ``hint`` it returns that or better, checked."""
    rng = np.random.default_rng(3)
    n = 60
    w = rng.integers(10, 60, n).astype(float)
    v = w + rng.integers(-5, 5, n)
    cap = w.sum() / 2 + 0.5
    p = lp(-v, [w], [-INF], [cap], col_upper=np.ones(n), integrality=np.ones(n))
    order = np.argsort(-v / w)
    hint = np.zeros(n)
    hint[order[np.cumsum(w[order]) <= cap]] = 1.0
    assert p.objective(hint) == -1042.0
    cold = solve(p, "highs", SolveOptions(time_limit=1e-6))
    assert cold.status is Status.NO_SOLUTION
    warm = solve(p, "highs", SolveOptions(time_limit=1e-6, hint=hint))
    assert warm.status.has_solution and warm.extra["warm_start"] is True
    assert warm.objective <= -1042.0 and p.violation(warm.x) < 1e-9
    partial = hint.copy()
    partial[:5] = np.nan  # HiGHS completes a partial start
    assert solve(p, "highs", SolveOptions(hint=partial)).status is Status.OPTIMAL
    with pytest.raises(ValueError, match="hint has shape"):
        solve(p, "highs", SolveOptions(hint=np.zeros(3)))


def test_highs_keeps_its_deadline_where_its_own_limit_is_not_checked():
    """The backend's deadline interrupts a MIP search (HiGHS's own ``time_limit`` is far
    off here): a deadline already past stops the run at the first check, and the status
    reads as the time limit it is."""
    import time

    import highspy

    from attain.solvers.highs import _keep_deadline, _pass_model

    rng = np.random.default_rng(0)
    n, m = 60, 30
    A = rng.integers(1, 100, size=(m, n)).astype(float)
    p = lp(
        -rng.integers(1, 100, size=n).astype(float),
        list(A),
        [-INF] * m,
        list(A.sum(axis=1) / 2),
        col_upper=np.ones(n),
        integrality=np.ones(n),
    )
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", 3600.0)
    _pass_model(h, highspy, p)
    stopped = _keep_deadline(h, 1.0, time.perf_counter() - 10.0)
    h.run()
    assert h.getModelStatus().name == "kInterrupt" and stopped == [True]
    assert _keep_deadline(highspy.Highs(), None, 0.0) == []  # no limit, no callback
    # Through the backend: a run the deadline stops is a time limit, checked as ever.
    result = solve(p, "highs", SolveOptions(time_limit=1e-3))
    assert result.status in (Status.FEASIBLE, Status.NO_SOLUTION)
    assert result.message == "kTimeLimit"


def _knapsack(n: int = 40, seed: int = 3) -> LinearProblem:
    rng = np.random.default_rng(seed)
    w = rng.integers(10, 60, n).astype(float)
    v = w + rng.integers(-5, 5, n)
    return lp(-v, [w], [-INF], [w.sum() / 2 + 0.5], col_upper=np.ones(n), integrality=np.ones(n))


def test_highs_cutoff_proves_nothing_lies_below_it():
    """A knapsack of optimum z*: with a cutoff just above z* HiGHS returns z*; with one at
    z* nothing lies below it, and the search says so (``cutoff_proven``), whatever point
    at or above the cutoff it met on the way."""
    p = _knapsack()
    best = solve(p, "highs", SolveOptions(mip_gap=0.0))
    assert best.status is Status.OPTIMAL
    z = best.objective
    above = solve(p, "highs", SolveOptions(mip_gap=0.0, cutoff=z + 0.5))
    assert above.status is Status.OPTIMAL and above.objective == pytest.approx(z)
    assert above.extra["bound"] <= z + 1e-6
    at = solve(p, "highs", SolveOptions(mip_gap=0.0, cutoff=z))
    assert at.status is Status.NO_SOLUTION and at.extra["cutoff_proven"] is True
    # Without primal heuristics (the search's work is the bound) the answers are the same.
    bare = SolveOptions(mip_gap=0.0, heuristics=False)
    assert solve(p, "highs", dataclasses.replace(bare, cutoff=z)).extra["cutoff_proven"]
    found = solve(p, "highs", dataclasses.replace(bare, cutoff=z + 0.5))
    assert found.status is Status.OPTIMAL and found.objective == pytest.approx(z)
    # A deadline already past proves nothing.
    late = solve(p, "highs", SolveOptions(mip_gap=0.0, cutoff=z, time_limit=1e-6))
    assert not late.extra.get("cutoff_proven")


def test_highs_calls_back_on_each_improving_solution_and_stops_when_told():
    """``on_solution`` sees every improving solution (each feasible, objectives falling);
    returning True at the first stops the search at its next check (interrupted, with the
    best it has by then); ``stop_bound`` at −∞ stops it at the first check."""
    p = _knapsack(60)
    seen: list[float] = []

    def record(x, objective, bound):
        assert p.violation(x) < 1e-9 and p.objective(x) == pytest.approx(objective)
        assert bound <= objective + 1e-9
        seen.append(objective)
        return False

    full = solve(p, "highs", SolveOptions(mip_gap=0.0, on_solution=record))
    assert seen and seen == sorted(seen, reverse=True)
    assert full.objective == pytest.approx(seen[-1])
    first: list[float] = []
    stopped = solve(
        p,
        "highs",
        SolveOptions(mip_gap=0.0, on_solution=lambda x, o, b: first.append(o) or True),
    )
    assert stopped.status is Status.FEASIBLE and stopped.message == "kInterrupt"
    assert stopped.objective <= first[0]
    at_once = solve(p, "highs", SolveOptions(mip_gap=0.0, stop_bound=lambda: -np.inf))
    assert at_once.message == "kInterrupt"
    assert at_once.extra["bound"] <= full.objective + 1e-9  # its bound, solution or not

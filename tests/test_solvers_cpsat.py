"""The CP-SAT backend: known answers, the integer scaling, hints, statuses.

Always through :func:`attain.solvers.solve`, which runs OR-Tools in a child process when
highspy is already loaded in this one (the two bundle clashing libraries).
"""

from __future__ import annotations

import numpy as np
import pytest

from attain.errors import SolverError
from attain.solvers import (
    BACKENDS,
    LinearProblem,
    SolveOptions,
    SparseMatrix,
    Status,
    solve,
)
from attain.solvers.cpsat import scale_rows


def problem(c, rows, lo, hi, col_hi, integer=True) -> LinearProblem:
    rows = np.asarray(rows, dtype=float)
    r, k = np.nonzero(rows)
    n = rows.shape[1]
    return LinearProblem(
        c=np.asarray(c, dtype=float),
        A=SparseMatrix.from_coo(r, k, rows[r, k], rows.shape),
        row_lower=np.asarray(lo, dtype=float),
        row_upper=np.asarray(hi, dtype=float),
        col_lower=np.zeros(n),
        col_upper=np.asarray(col_hi, dtype=float),
        integrality=np.ones(n) if integer else None,
    )


def test_registered():
    assert BACKENDS["cpsat"].features == frozenset({"mip"})


def test_small_integer_program():
    """max 3x + 2y s.t. x + y ≤ 4.5, x + 3y ≤ 6.2: x = 4, y = 0, value 12 (by enumeration)."""
    p = problem([-3, -2], [[1, 1], [1, 3]], [-np.inf, -np.inf], [4.5, 6.2], [10, 10])
    r = solve(p, "cpsat")
    assert r.status is Status.OPTIMAL
    assert r.objective == pytest.approx(-12)
    assert r.mip_gap == 0


def test_decimal_rows_are_scaled_exactly():
    """0.25x + 0.5y ≥ 1.1 needs 0.25x + 0.5y ∈ {1.25, 1.5, ...}: scaled by 100, the row is
    25x + 50y ≥ 110, exact; min x + y is 3 (x = 1, y = 2 gives 1.25)."""
    p = problem([1, 1], [[0.25, 0.5]], [1.1], [np.inf], [10, 10])
    scale, coeffs, exact = scale_rows(p)
    assert scale.tolist() == [100.0] and coeffs.tolist() == [25, 50] and exact.all()
    r = solve(p, "cpsat")
    assert r.objective == pytest.approx(3)
    assert 0.25 * r.x[0] + 0.5 * r.x[1] >= 1.1


def test_too_many_decimals_are_rounded_and_counted():
    p = problem([1], [[1 / 3]], [1.0], [np.inf], [10])
    r = solve(p, "cpsat")
    assert r.extra["approximate_rows"] == 1
    assert r.x[0] == 3


def test_float_objective_is_scaled():
    p = problem([0.125, 0.3], [[1, 1]], [1], [1], [1, 1])
    r = solve(p, "cpsat")
    assert r.extra["objective_scale"] == 1000 and r.extra["objective_exact"]
    assert r.x.tolist() == [1.0, 0.0]


def test_infeasible_is_a_status():
    p = problem([1, 1], [[1, 1]], [3], [np.inf], [1, 1])
    assert solve(p, "cpsat").status is Status.INFEASIBLE


def test_continuous_columns_are_refused():
    p = problem([1], [[1]], [0.5], [np.inf], [1], integer=False)
    with pytest.raises(SolverError, match="integer problems only"):
        solve(p, "cpsat")


def test_hint_is_accepted_and_checked():
    p = problem([-1, -1], [[1, 1]], [-np.inf], [1], [1, 1])
    r = solve(p, "cpsat", SolveOptions(hint=np.array([0.0, 1.0])))
    assert r.objective == pytest.approx(-1)
    # In a child process (when highspy is loaded here) the ValueError becomes a SolverError.
    with pytest.raises((ValueError, SolverError), match="hint has shape"):
        solve(p, "cpsat", SolveOptions(hint=np.zeros(3)))


def test_empty_problem():
    p = problem([], np.zeros((0, 0)), [], [], [])
    assert solve(p, "cpsat").status is Status.OPTIMAL


def test_agrees_with_highs_on_a_knapsack():
    """A 0/1 knapsack with fractional weights and values; both must find the same optimum."""
    rng = np.random.default_rng(3)
    w = np.round(rng.uniform(1, 9, 14), 2)
    v = np.round(rng.uniform(1, 9, 14), 3)
    p = problem(-v, [w], [-np.inf], [w.sum() / 2], np.ones(14))
    a = solve(p, "cpsat", SolveOptions(mip_gap=0))
    b = solve(p, "highs", SolveOptions(mip_gap=0))
    assert a.objective == pytest.approx(b.objective, rel=1e-9)

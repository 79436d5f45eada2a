"""The large-instance path: LP-guided rounding, local search, the Lagrangian bound."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from attain import InfeasibleError
from attain.load import load_rules
from attain.solvers import SolveOptions, solve
from attain.territory import align, heuristic, optimise
from attain.territory.align import compile_territory
from tests.test_territory_model import _check_hard_rules, instances


def _problem(r, company):
    """The weighted problem of rules ``r`` as the solver sees it."""
    rules = load_rules(r, kind="territory")
    model, _, _ = compile_territory(rules, company)
    optimise.prepare(model, "highs")
    weights = {**rules.objective.weights, **optimise.penalties(model)}
    c, offset = model.objective(weights, model.assemble())
    from attain.model import with_holds

    return model, with_holds(model.assemble().problem, c, (), offset)


@pytest.fixture
def always(monkeypatch):
    """Every problem takes the large-instance path."""
    monkeypatch.setattr(optimise, "HEURISTIC_MIN_PAIRS", 0)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_bound_below_and_incumbent_above_the_optimum(case):
    """On random small instances: Lagrangian bound ≤ MIP optimum ≤ the local search's
    assignment, which keeps every row."""
    company, r = case
    try:
        model, problem = _problem(r, company)
    except InfeasibleError:
        return
    s = heuristic.structure(problem, model.pairs.unit, model.pairs.rep)
    if s is None:  # not an assignment structure (e.g. a unit with no candidate): declined
        return
    best = solve(problem, "highs", SolveOptions(mip_gap=0.0))
    lp = solve(replace(problem, integrality=None), "highs", SolveOptions(lp_method="simplex"))
    if not best.status.has_solution:
        return
    bound = heuristic.lagrangian_bound(problem, s, lp.row_duals)
    assert bound <= best.objective + 1e-6 * max(1.0, abs(best.objective))
    assert bound == pytest.approx(lp.objective, rel=1e-6, abs=1e-6)
    pick, feasible = heuristic.local_search(problem, s, heuristic.rounded(s, lp.x))
    x = np.zeros(problem.n_cols)
    x[pick] = 1.0
    assert np.array_equal(
        np.bincount(model.pairs.unit[pick], minlength=s.n_units), np.ones(s.n_units)
    )
    if feasible:
        assert problem.violation(x) <= 1e-9
        assert problem.objective(x) >= best.objective - 1e-6 * max(1.0, abs(best.objective))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_large_path_keeps_every_rule_and_proves_its_gap(case):
    """Forced onto the large-instance path, every hard rule still holds (checked on the
    data), the gap is the one the bound and the incumbent give, and the answer is no
    worse than the plain MIP's beyond that gap."""
    company, r = case
    try:
        plain = align(r, company, solver="highs")
    except InfeasibleError:
        return
    mp = pytest.MonkeyPatch()
    mp.setattr(optimise, "HEURISTIC_MIN_PAIRS", 0)
    try:
        a = align(r, company, solver="highs")
    finally:
        mp.undo()
    _check_hard_rules(company, r, a)
    info = a.solve_info
    assert info["incumbent"] >= info["bound"] - 1e-9 * abs(info["incumbent"])
    gap = (info["incumbent"] - info["bound"]) / max(abs(info["incumbent"]), 1e-9)
    assert a.gap == pytest.approx(max(gap, 0.0), abs=1e-12)
    assert a.summary["gap"] == pytest.approx(a.gap, abs=1e-9)
    w = r["objective"]["weights"]

    def cost(x):
        return w["distance"] * x.goals["distance_km"] + w["disruption"] * x.goals["disruption"]

    assert cost(a) <= cost(plain) * (1 + 2e-4) + 1e-6
    assert info["lagrangian_bound"] <= cost(plain) + 1e-6 * max(1.0, cost(plain))


def test_rounding_repair_then_the_mip_never_worse(always, monkeypatch):
    """Four units of workload 1, 2, 3, 4 and two reps, each rep's workload within [4, 6]:
    the LP may split units; the repaired assignment keeps the band; the MIP warm-started
    from it (forced to run) returns an assignment no worse."""
    from tests.test_territory_model import rules, tiny

    company = tiny(
        [0.0, 1.0],
        [("R1", 0.0, 1.0), ("R1", 0.1, 2.0), ("R1", 0.2, 3.0), ("R2", 0.9, 4.0)],
    )
    r = rules(
        balance=[{"measure": "workload", "min": 4, "max": 6, "relative": False}],
        objective={"weights": {"distance": 1.0, "disruption": 1.0}},
        mip_gap=0.0,
    )
    monkeypatch.setattr(optimise, "MIP_SHARE", 0.0)
    a = align(r, company, solver="highs")
    info = a.solve_info
    assert info["heuristic_objective"] is not None
    assert info["incumbent"] <= info["heuristic_objective"] + 1e-9
    got = a.assignment.merge(company.accounts, left_on="unit_id", right_on="account_id")
    loads = got.groupby("rep_id_x")["workload"].sum()
    assert loads.between(4, 6).all() and len(loads) == 2
    assert a.status == "optimal" and a.gap == pytest.approx(0.0, abs=1e-9)


def test_structure_refuses_what_is_not_an_assignment_problem():
    """Columns that are not pairs (soft bands' slacks) leave the large path out."""
    from tests.test_territory_model import rules, tiny

    company = tiny([0.0, 1.0], [("R1", 0.0, 1.0), ("R1", 0.1, 2.0), ("R2", 0.9, 4.0)])
    soft = [{"measure": "workload", "min": 0.9, "max": 1.1, "soft": True, "penalty": 5}]
    model, problem = _problem(rules(balance=soft), company)
    assert problem.n_cols > model.pairs.n
    assert heuristic.structure(problem, model.pairs.unit, model.pairs.rep) is None


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_neighbourhood_search_never_worsens_nor_breaks_a_row(case):
    """From the local search's assignment, the neighbourhood search (small neighbourhoods,
    so that several are tried) returns one pair per unit, keeps every row, costs no more,
    and gives the same pairs on a second run."""
    company, r = case
    try:
        model, problem = _problem(r, company)
    except InfeasibleError:
        return
    s = heuristic.structure(problem, model.pairs.unit, model.pairs.rep)
    if s is None:
        return
    lp = solve(replace(problem, integrality=None), "highs", SolveOptions(lp_method="simplex"))
    if lp.x is None:
        return
    pick, feasible = heuristic.local_search(problem, s, heuristic.rounded(s, lp.x))
    if not feasible:
        return
    mp = pytest.MonkeyPatch()
    mp.setattr(heuristic, "LNS_UNITS", 3)
    try:
        out, log = heuristic.neighbourhood_search(problem, s, pick, lp.x, "highs")
        again, _ = heuristic.neighbourhood_search(problem, s, pick, lp.x, "highs")
    finally:
        mp.undo()
    assert np.array_equal(out, again)
    assert np.array_equal(np.bincount(s.unit[out], minlength=s.n_units), np.ones(s.n_units))
    before, after = np.zeros(problem.n_cols), np.zeros(problem.n_cols)
    before[pick], after[out] = 1.0, 1.0
    assert problem.violation(after) <= 1e-9
    assert problem.objective(after) <= problem.objective(before) + 1e-9
    assert log.improved <= log.solves and not log.stopped_by_time
    best = solve(problem, "highs", SolveOptions(mip_gap=0.0))
    assert problem.objective(after) >= best.objective - 1e-6 * max(1.0, abs(best.objective))


def test_neighbourhood_search_over_every_unit_reaches_the_optimum():
    """A neighbourhood as large as the problem (every unit free) is the MIP itself: from
    the current assignment the search returns an optimal one."""
    from tests.test_territory_model import rules, tiny

    company = tiny(
        [0.0, 1.0],
        [("R1", 0.6, 1.0), ("R1", 0.55, 1.0), ("R2", 0.45, 2.0), ("R2", 0.4, 2.0)],
    )
    r = rules(
        balance=[{"measure": "workload", "min": 2, "max": 4, "relative": False}],
        objective={"weights": {"distance": 1.0, "disruption": 0.0}},
        mip_gap=0.0,
    )
    model, problem = _problem(r, company)
    s = heuristic.structure(problem, model.pairs.unit, model.pairs.rep)
    assert s is not None
    owner = np.array([0, 0, 1, 1])  # R1, R1, R2, R2: loads 2 and 4, in the band
    start = np.array([np.flatnonzero((s.unit == u) & (s.rep == owner[u]))[0] for u in range(4)])
    x_lp = np.zeros(problem.n_cols)
    x_lp[start] = 1.0
    out, log = heuristic.neighbourhood_search(problem, s, start, x_lp, "highs")
    x = np.zeros(problem.n_cols)
    x[out] = 1.0
    best = solve(problem, "highs", SolveOptions(mip_gap=0.0))
    assert log.improved >= 1
    assert problem.objective(x) == pytest.approx(best.objective, abs=1e-9)
    assert problem.violation(x) <= 1e-9

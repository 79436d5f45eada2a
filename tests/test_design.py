"""attain.design: known optima, the out-of-sample check, determinism, infeasible boxes."""

from __future__ import annotations

import math
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest

import attain
from attain.design import design
from attain.errors import InfeasibleError, RuleFileError

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "scenarios" / "sample"
TRIALS, SEED = 60, 11


def flat_plan(folder: Path, rate: float, name: str = "flat") -> Path:
    """Every rep paid ``rate`` of their sales: cost is linear in the rate."""
    path = folder / f"{name}.yaml"
    path.write_text(
        f"kind: plan\nname: {name}\ncompany: {SAMPLE}\nperiod: month\nmeasure: ytd\n"
        "components:\n  - type: commission\n    name: commission\n    method: marginal\n"
        f"    scope: period\n    tiers:\n      - {{start: 0, rate: {rate}}}\n"
    )
    return path


def two_tier_plan(folder: Path) -> Path:
    path = folder / "tiers.yaml"
    path.write_text(
        f"kind: plan\nname: tiers\ncompany: {SAMPLE}\nperiod: month\nmeasure: ytd\n"
        "components:\n  - type: commission\n    name: commission\n    method: marginal\n"
        "    scope: period\n    tiers:\n      - {start: 0, end: 1000000, rate: 0.04}\n"
        "      - {start: 1000000, rate: 0.08}\n"
    )
    return path


def write_design(folder: Path, scenario: Path, body: str, name: str = "d") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(
        f"kind: design\nname: {name}\nscenario: {scenario.name}\n"
        f"trials: {TRIALS}\nseed: {SEED}\n{body}"
    )
    return path


def sales_by_trial(sample_scenario, folder: Path, trials: int, seed: int) -> np.ndarray:
    """The year's sales of every trial: what a plan paying 100% of sales pays."""
    scenario = sample_scenario(f"[{flat_plan(folder, 1.0, 'all')}]", trials=trials)
    result = attain.simulate(scenario, trials=trials, seed=seed)
    return result.trials["total_payout"].to_numpy()


RATE = "parameters:\n  - {path: 'commission.tiers[0].rate', name: rate, min: 0.01, max: 0.2, step: 0.001}\n"


def test_one_rate_lands_on_the_analytic_optimum(tmp_path, sample_scenario):
    sales = sales_by_trial(sample_scenario, tmp_path, TRIALS, SEED)
    budget = 0.0537 * float(np.percentile(sales, 95))
    scenario = sample_scenario(f"[{flat_plan(tmp_path, 0.03)}]", trials=TRIALS)
    spec = write_design(
        tmp_path,
        scenario,
        RATE + f"constraints:\n  - {{metric: total_payout, percentile: 95, max: {budget}}}\n"
        "objective: {maximise: pay_slope}\nconservative: false\n",
    )
    result = design(spec)
    # Cost is rate x sales on the same draws: the richest rate within budget, to the step.
    best = math.floor(budget / np.percentile(sales, 95) / 0.001 + 1e-9) * 0.001
    assert result.values["rate"] == pytest.approx(best, abs=1e-12)
    assert result.method == "bracket"
    assert result.chosen.feasible


def test_a_conservative_design_holds_on_fresh_draws(tmp_path, sample_scenario):
    sales = np.sort(sales_by_trial(sample_scenario, tmp_path, TRIALS, SEED))
    budget = 0.05 * float(np.percentile(sales, 95))
    scenario = sample_scenario(f"[{flat_plan(tmp_path, 0.03)}]", trials=TRIALS)
    spec = write_design(
        tmp_path,
        scenario,
        RATE + f"constraints:\n  - {{metric: total_payout, percentile: 95, max: {budget}}}\n"
        "objective: {maximise: pay_slope}\n",
    )
    result = design(spec)
    # The upper end of the order-statistic interval of P95, as the docs state it.
    n, q, z = TRIALS, 0.95, NormalDist().inv_cdf(0.975)
    upper = sales[min(n - 1, math.ceil(n * q + z * math.sqrt(n * q * (1 - q))))]
    assert result.values["rate"] == pytest.approx(
        math.floor(budget / upper / 0.001 + 1e-9) * 0.001, abs=1e-12
    )
    # The written plan loads, and on independent years it meets the budget.
    out = tmp_path / "out"
    result.write(out)
    tuned = out / "flat_d.yaml"
    plan = attain.load_plan(tuned)
    assert plan.components[0].tiers[0].rate == result.values["rate"]
    fresh = sample_scenario(f"[{tuned}]", trials=200)
    for seed in (101, 202):
        figures = attain.simulate(fresh, trials=200, seed=seed).summary["results"]["base"]
        assert figures["flat_d"]["total_payout"]["p95"] <= budget
    checked = result.summary["out_of_sample"]["figures"][0]
    assert checked["met"] and checked["ci_low"] <= checked["value"] <= checked["ci_high"]


def test_two_parameters_by_evolution_are_reproducible(tmp_path, sample_scenario):
    scenario = sample_scenario(f"[{two_tier_plan(tmp_path)}]", trials=TRIALS)
    body = (
        "parameters:\n"
        "  - {path: 'commission.tiers[0].rate', min: 0.02, max: 0.08, step: 0.0025}\n"
        "  - {path: 'commission.tiers[1].rate', min: 0.04, max: 0.2, step: 0.0025}\n"
        "constraints:\n  - {metric: cost_of_sales, percentile: 95, max: 0.06}\n"
        "objective: {maximise: top_decile_vs_median}\n"
        "search: {max_evaluations: 80}\n"
    )
    one = design(write_design(tmp_path, scenario, body))
    two = design(write_design(tmp_path, scenario, body))
    assert one.method == "evolution"
    assert one.to_json() == two.to_json()
    assert one.chosen.feasible and len(one.points) <= 80 + 20
    feasible = [p for p in one.points if p.feasible]
    assert max(p.objective for p in feasible) == one.chosen.objective


def test_a_tier_start_moves_the_previous_end(tmp_path, sample_scenario):
    scenario = sample_scenario(f"[{two_tier_plan(tmp_path)}]", trials=TRIALS)
    body = (
        "parameters:\n  - {path: 'commission.tiers[1].start', min: 500000, max: 2000000, step: 50000}\n"
        "constraints:\n  - {metric: cost_of_sales, max: 0.2}\n"
        "objective: {minimise: total_payout}\n"
    )
    result = design(write_design(tmp_path, scenario, body))
    tiers = result.plan.components[0].tiers
    assert tiers[0].end == tiers[1].start == result.values["commission.tiers[1].start"]
    assert result.values["commission.tiers[1].start"] == 2000000  # cheapest: latest start
    assert [n.code for n in result.notices].count("design-at-bound") == 1


def test_no_plan_in_the_box_meets_the_limit(tmp_path, sample_scenario):
    scenario = sample_scenario(f"[{flat_plan(tmp_path, 0.03)}]", trials=TRIALS)
    spec = write_design(
        tmp_path,
        scenario,
        RATE + "constraints:\n  - {name: cheap, metric: cost_of_sales, max: 0.001}\n"
        "objective: {maximise: pay_slope}\n",
    )
    with pytest.raises(InfeasibleError) as err:
        design(spec)
    text = str(err.value)
    assert "no plan in the parameter box meets every constraint" in text
    # The best reachable value: the lowest rate's cost of sales, about 1%.
    assert "cheap must be at most 0.001; the best reachable is 0.01" in text
    assert "rate = 0.01" in text


def test_a_path_that_names_nothing_is_located(tmp_path, sample_scenario):
    scenario = sample_scenario(f"[{flat_plan(tmp_path, 0.03)}]", trials=TRIALS)
    spec = write_design(
        tmp_path,
        scenario,
        "parameters:\n  - {path: 'commission.tiers[0].rat', min: 0.01, max: 0.2}\n"
        "objective: {maximise: pay_slope}\n",
    )
    with pytest.raises(RuleFileError) as err:
        design(spec)
    (problem,) = err.value.problems
    assert problem.line == 7 and problem.path == "parameters[0].path"
    assert "no number at `commission.tiers[0].rat`" in problem.message
    assert "did you mean `commission.tiers[0].rate`" in problem.message


def test_bounds_the_wrong_way_round(tmp_path, sample_scenario):
    scenario = sample_scenario(f"[{flat_plan(tmp_path, 0.03)}]", trials=TRIALS)
    spec = write_design(
        tmp_path,
        scenario,
        "parameters:\n  - path: commission.tiers[0].rate\n    min: 0.2\n    max: 0.01\n"
        "objective: {maximise: pay_slope}\n",
    )
    with pytest.raises(RuleFileError) as err:
        design(spec)
    (problem,) = err.value.problems
    assert problem.path == "parameters[0].max" and problem.line == 9
    assert "wrong way round" in problem.message


def test_a_current_plan_outside_the_box_is_compared_as_it_is(tmp_path, sample_scenario):
    # The plan pays 30%; the box stops at 20%: the current plan is not a candidate.
    scenario = sample_scenario(f"[{flat_plan(tmp_path, 0.3)}]", trials=TRIALS)
    spec = write_design(
        tmp_path,
        scenario,
        RATE + "constraints:\n  - {metric: cost_of_sales, max: 0.5}\n"
        "objective: {minimise: total_payout}\nconservative: false\n",
    )
    result = design(spec)
    (parameter,) = result.summary["parameters"]
    assert parameter["current"] == 0.3 and parameter["current_in_box"] is False
    assert parameter["chosen"] == 0.01
    assert 0.3 not in {p.values[0] for p in result.points}
    # The comparison is with the real plan: cost is linear in the rate, so the current
    # plan pays 30 times the 1% plan on the same draws (not 20 times, as clipped to 0.2).
    assert result.current.total_payout == pytest.approx(30 * result.chosen.total_payout)
    plain = attain.simulate(scenario, trials=TRIALS, seed=SEED).summary["results"]["base"]
    assert result.current.total_payout == pytest.approx(plain["flat"]["total_payout"]["mean"])
    codes = [n.code for n in result.notices]
    assert "design-current-outside-box" in codes
    validated = result.summary["out_of_sample"]["figures"][0]
    assert validated["current_plan"] == pytest.approx(30 * validated["value"])


FIELD = ROOT / "rules" / "plan_field_rep.yaml"
OVERLAY = ROOT / "rules" / "plan_cloud_overlay.yaml"
#: The overlay's first tier (its cloud credit is measured against the whole target, so
#: on the sample its second tier, above 80%, is never reached).
OVERLAY_RATE = "cloud_overlay.cloud_overlay.tiers[0].rate"


def test_a_plan_inside_a_package_is_tuned_for_what_the_package_pays(tmp_path, sample_scenario):
    scenario = sample_scenario(f"[{FIELD}, [{FIELD}, {OVERLAY}]]", trials=TRIALS)
    alone = attain.simulate(scenario, trials=TRIALS, seed=SEED).summary["results"]["base"]
    rep_only = alone["field_rep_marginal"]["total_payout"]["mean"]
    today = alone["field_rep_marginal+cloud_overlay"]["total_payout"]["mean"]
    # A limit on the package's total a little above what it pays today: room for a
    # richer overlay top rate, but not for the richest.
    budget = today * 1.01
    spec = write_design(
        tmp_path,
        scenario,
        "plan: field_rep_marginal+cloud_overlay\n"
        f"parameters:\n  - {{path: '{OVERLAY_RATE}', name: top, min: 0.0, max: 0.5, step: 0.005}}\n"
        f"constraints:\n  - {{metric: total_payout, max: {budget}}}\n"
        "objective: {maximise: pay_slope}\nconservative: false\n",
    )
    result = design(spec)
    top = result.values["top"]
    assert 0.02 < top < 0.5 and result.chosen.feasible
    # The limit held for the package: the rep plan's pay plus the overlay's.
    assert rep_only < result.chosen.total_payout <= budget
    assert result.summary["plan"] == "field_rep_marginal+cloud_overlay"
    assert result.summary["tuned_plan"] == "field_rep_marginal+cloud_overlay_d"
    # Only the overlay changed, and its file is written; the tuned package, simulated as
    # a package of the rep plan and that file, pays what the design says on its draws.
    out = tmp_path / "out"
    result.write(out)
    assert result.summary["tuned_files"] == ["cloud_overlay_d.yaml"]
    tuned = out / "cloud_overlay_d.yaml"
    assert attain.load_plan(tuned).components[0].tiers[0].rate == top
    again = sample_scenario(f"[[{FIELD}, {tuned}]]", trials=TRIALS)
    figures = attain.simulate(again, trials=TRIALS, seed=SEED).summary["results"]["base"]
    paid = figures["field_rep_marginal+cloud_overlay_d"]["total_payout"]["mean"]
    assert paid == pytest.approx(result.chosen.total_payout, rel=1e-12)
    # One step richer breaks the limit on the same draws.
    richer = [p for p in result.points if p.values[0] == pytest.approx(top + 0.005)]
    assert richer and not richer[0].feasible


def test_a_package_path_names_its_member_plan(tmp_path, sample_scenario):
    scenario = sample_scenario(f"[[{FIELD}, {OVERLAY}]]", trials=TRIALS)
    spec = write_design(
        tmp_path,
        scenario,
        "plan: field_rep_marginal+cloud_overlay\n"
        "parameters:\n  - {path: 'cloud_overlay.tiers[0].rate', min: 0.0, max: 0.5}\n"
        "objective: {maximise: pay_slope}\n",
    )
    with pytest.raises(RuleFileError) as err:
        design(spec)
    (problem,) = err.value.problems
    assert problem.path == "parameters[0].path" and problem.line == 8
    assert f"did you mean `{OVERLAY_RATE}`" in problem.message

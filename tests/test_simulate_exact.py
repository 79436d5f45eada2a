"""With zero variance the simulator pays exactly what the incentive engine pays.

Attainment is then the model's mean for everyone in every trial, so simulated sales
are the targets × the mean; the same sales, booked as deals to the cent, go through
the exact payout engine. The mean is 107%, away from every threshold of the example
plans, so a cent of rounding cannot tip a rep over an edge.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from attain.incentive import payouts
from attain.incentive.api import load_plan
from attain.incentive.deals import deal_model
from attain.load import parse_rules
from attain.schema.plan import Plan
from attain.simulate.evaluator import plan_model
from attain.simulate.runner import Job, run
from attain.simulate.setup import load_setup
from attain.simulate.variants import BASE

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def targets(sample_company) -> pd.DataFrame:
    history = sample_company.history
    last = sorted(history["month"].unique())[-12:]
    t = history[history["month"].isin(last)].copy()
    t["period"] = t["month"].str.replace("2026", "2027")
    t["target"] = (t["sales"] * 1.05).round(2)
    return t[["rep_id", "period", "product", "target"]].reset_index(drop=True)


MEAN = 1.07


PRICE = 100.0  # every unit sells at 100.00, so units = sales ÷ 100 exactly


def _deals(targets: pd.DataFrame) -> pd.DataFrame:
    """One deal per rep × month × product, worth the target × MEAN, on the 1st."""
    rows = targets[targets["target"] > 0].reset_index(drop=True)
    amount = (rows["target"] * MEAN).round(2)
    return pd.DataFrame(
        {
            "deal_id": [f"D{i:07d}" for i in range(len(rows))],
            "date": rows["period"] + "-01",
            "rep_id": rows["rep_id"],
            "product": rows["product"],
            "amount": amount.map(lambda x: f"{x:.2f}"),
            "quantity": (amount / PRICE).map(lambda x: f"{x:.4f}"),
        }
    )


def _without_spiffs(plan: Plan) -> Plan:
    # A SPIFF pays per unit of a deal; without a deal model (unit prices) it pays nothing.
    data = plan.model_dump(mode="json")
    data["components"] = [c for c in data["components"] if c["type"] != "spiff"]
    return Plan.model_validate(data)


def _core_and_cloud_only(plan: Plan) -> Plan:
    data = plan.model_dump(mode="json")
    data["credit"]["products"] = ["core", "cloud"]
    return Plan.model_validate(data)


def _with_spiffs(plan: Plan) -> Plan:
    return plan


@pytest.mark.parametrize(
    ("plan_file", "tweak"),
    [
        ("plan_field_rep.yaml", None),
        ("plan_field_rep.yaml", _with_spiffs),
        ("plan_field_rep.yaml", _core_and_cloud_only),
        ("plan_attainment_curve.yaml", None),
        ("plan_team_bonus.yaml", None),
    ],
)
def test_zero_variance_equals_the_exact_payout(plan_file, tweak, targets, sample_company, tmp_path):
    loaded = load_plan(ROOT / "rules" / plan_file, sample_company)
    plan = loaded if tweak is _with_spiffs else _without_spiffs(loaded)
    plan = tweak(plan) if tweak else plan
    targets.to_csv(tmp_path / "targets.csv", index=False)
    scenario = parse_rules(
        f"""
kind: scenario
name: zero
company: {sample_company.root}
plans: [{ROOT / "rules" / plan_file}]
targets: {{file: {tmp_path / "targets.csv"}}}
performance: {{distribution: normal, mean: {MEAN}, sd: 0.0}}
""",
        source="zero.yaml",
    )
    setup = load_setup(scenario)
    model = setup.model_for(plan)
    if tweak is _with_spiffs:  # SPIFF units from the deal model of these deals
        c = sample_company
        deals = deal_model(_deals(targets), c.org["rep_id"], c.products)
        model = plan_model(
            plan, c.org, setup.population.targets, c.products, 2, company=c, deals=deals
        )
    job = Job(setup.population, scenario.performance, (model,), (BASE,), trials=3, seed=1)
    simulated = run(job, workers=1).detail_payout[0, 0]  # [trials, reps]
    assert (simulated == simulated[0]).all()  # no variance left

    exact = payouts(plan, targets, _deals(targets), sample_company)
    per_rep = exact.lines.groupby("rep_id")["amount_minor"].sum()
    expected = per_rep.reindex(setup.population.rep_ids, fill_value=0).to_numpy() / 100
    # The float evaluator is unrounded; the exact one rounds each line of each period to
    # the cent (at most half a cent each), and books deals rounded to the cent.
    tolerance = 0.005 * 12 * len(plan.components) + 0.05  # observed: 1 to 3 cents
    np.testing.assert_allclose(simulated[0], expected, atol=tolerance, rtol=0)
    assert expected.sum() > 0
    if tweak is _with_spiffs:
        assert exact.lines.loc[exact.lines["component"] == "cloud_spiff", "amount_minor"].sum() > 0


def test_a_holdback_released_on_payment_costs_what_the_year_earns(
    targets, sample_company, tmp_path
):
    """A simulation has no payment dates: a holdback released on payment is paid at the
    year's end, so the plan costs what it earns (as without the holdback), and the
    summary's warnings say so, naming the plan."""
    from attain.simulate.api import simulate_models

    plan = _without_spiffs(load_plan(ROOT / "rules" / "plan_field_rep.yaml", sample_company))
    data = plan.model_dump(mode="json")
    data.update(name="field_rep_held", holdback={"share": 0.5, "release": "payment"})
    held = Plan.model_validate(data)
    targets.to_csv(tmp_path / "targets.csv", index=False)
    scenario = parse_rules(
        f"""
kind: scenario
name: held
company: {sample_company.root}
plans: [{ROOT / "rules" / "plan_field_rep.yaml"}]
targets: {{file: {tmp_path / "targets.csv"}}}
performance: {{distribution: normal, mean: 1.0, sd: 0.2}}
""",
        source="held.yaml",
    )
    setup = load_setup(scenario)
    models = (setup.model_for(plan), setup.model_for(held))
    result = simulate_models(setup.population, models, scenario, trials=40, seed=5)
    assert [n.code for n in result.notices] == ["holdback-paid-at-year-end"]
    (warning,) = result.summary["warnings"]
    assert warning["source"] == "field_rep_held" and "paid at the year's end" in warning["message"]
    assert '"holdback-paid-at-year-end"' in result.summary.to_json()
    paid, paid_held = (result.figure(p.name)["total_payout"] for p in (plan, held))
    assert paid_held["mean"] == pytest.approx(paid["mean"], rel=1e-9)
    assert paid_held["p95"] == pytest.approx(paid["p95"], rel=1e-9)
    components = result.figure("field_rep_held")["components"]
    assert components["held_back"] == pytest.approx(-components["held_released"], rel=1e-9)
    assert components["held_back"] < 0
    without = simulate_models(setup.population, models[:1], scenario, trials=4, seed=5)
    assert without.summary["warnings"] == [] and without.notices == ()

"""The simulator's parts: metrics, variants, population, streams and sensitivity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from attain.schema.plan import Plan
from attain.schema.scenario import ProductRamp, TopPerformers, Variant
from attain.simulate import build_population, metrics
from attain.simulate.sensitivity import plan_parameters
from attain.simulate.streams import block_generator, block_trials
from attain.simulate.variants import variant_attainment, variant_profile

FIELD_REP = f"[{Path(__file__).resolve().parent.parent / 'rules' / 'plan_field_rep.yaml'}]"


def test_gini_known_values():
    assert metrics.gini(np.ones((3, 10))) == pytest.approx(0.0)
    one_takes_all = np.zeros((1, 4))
    one_takes_all[0, 2] = 100
    assert metrics.gini(one_takes_all) == pytest.approx(0.75)


def test_top_vs_median():
    pay = np.arange(1, 101, dtype=float)[None, :]
    assert metrics.top_vs_median(pay) == pytest.approx(np.mean(np.arange(91, 101)) / 50.5)
    assert metrics.top_vs_median(np.zeros((2, 5))) is None


def test_paired_difference_has_a_confidence_interval():
    rng = np.random.default_rng(0)
    base = rng.normal(100, 10, 5000)
    d = metrics.paired(base + 2 + rng.normal(0, 1, 5000), base)
    assert d["ci95_low"] < 2 < d["ci95_high"]
    assert d["p_higher"] > 0.9


def test_pay_for_performance_deciles_rise_for_a_rising_plan():
    rng = np.random.default_rng(0)
    attainment = rng.lognormal(0, 0.2, (20, 50))
    rows = metrics.pay_for_performance(attainment * 1000, attainment, np.ones(50, bool))
    assert len(rows) == 10
    means = [r["payout_mean"] for r in rows]
    assert means == sorted(means)


def test_distribution_percentiles_are_ordered():
    d = metrics.distribution(np.random.default_rng(1).normal(0, 1, 1000))
    assert d["p5"] < d["p50"] < d["p95"] < d["p99"]


def test_market_growth_and_top_performers():
    a = np.array([[1.0, 2.0, 0.5, 1.5]])
    grown = variant_attainment(Variant(name="up", market_growth=0.1), a)
    np.testing.assert_allclose(grown, a * 1.1)
    stars = variant_attainment(
        Variant(name="s", top_performers=TopPerformers(share=0.25, uplift=1.0)), a
    )
    np.testing.assert_allclose(stars, [[1.0, 4.0, 0.5, 1.5]])
    assert a[0, 1] == 2.0  # the input is kept


def test_ramp_scales_the_product_in_early_months():
    profile = np.ones((2, 12, 2))
    v = Variant(name="slow", ramps=[ProductRamp(product="b", months=4, start=0.2)])
    out = variant_profile(v, profile, ("a", "b"))
    np.testing.assert_allclose(out[0, :, 0], 1.0)
    np.testing.assert_allclose(out[0, :5, 1], [0.2, 0.4, 0.6, 0.8, 1.0])


def test_population_from_the_sample(sample_company):
    n = len(sample_company.org)
    targets = np.full((n, 12, len(sample_company.products)), 100.0)
    pop = build_population(
        sample_company.org, targets, sample_company.products, sample_company.history
    )
    assert pop.season.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(pop.mix.sum(axis=1), 1.0)
    assert np.median(pop.record) == pytest.approx(1.0)
    assert np.isfinite(pop.residuals).all()
    assert pop.residuals.mean() == pytest.approx(1.0, abs=0.02)
    assert pop.n_regions == sample_company.org["region"].nunique()


def test_blocks_depend_on_shape_only_and_streams_on_seed_and_block():
    assert block_trials(10_000, 48) == 4
    assert block_trials(10, 4) == 256
    a = block_generator(7, 3).standard_normal(4)
    assert (a == block_generator(7, 3).standard_normal(4)).all()
    assert (a != block_generator(7, 4).standard_normal(4)).all()


def test_plan_parameters_group_a_components_numbers():
    plan = Plan.model_validate(
        {
            "kind": "plan",
            "name": "p",
            "target_incentive": {"amount": 1000},
            "components": [
                {
                    "type": "commission",
                    "name": "c",
                    "tiers": [{"start": 0, "end": 100, "rate": 0.05}, {"start": 100, "rate": 0.08}],
                },
                {
                    "type": "attainment_curve",
                    "name": "b",
                    "cap": {"multiple_of_ti": 2},
                    "points": [
                        {"attainment": 0.5, "payout": 0.2},
                        {"attainment": 1.0, "payout": 1.0},
                    ],
                },
            ],
        }
    )
    groups = plan_parameters(plan)
    assert set(groups) >= {
        "c.rates",
        "c.tier edges",
        "b.payouts",
        "b.attainment points",
        "b.cap",
        "target_incentive",
    }
    assert len(groups["c.rates"]) == 2


def test_people_without_history_get_neutral_figures():
    people = pd.DataFrame({"rep_id": ["a", "b"], "role": ["rep", "rep"]})
    pop = build_population(people, np.ones((2, 12, 1)), ("x",))
    assert (pop.record == 1).all() and pop.n_regions == 0


def test_fast_argsort_is_the_stable_order():
    from attain.simulate.metrics import _stable_argsort

    rng = np.random.default_rng(2)
    distinct = rng.lognormal(0, 0.3, 10_000)
    ties = np.round(distinct, 1)
    with_nan = distinct.copy()
    with_nan[[3, 70, 900]] = np.nan
    for a in (distinct, ties, with_nan, np.zeros(50)):
        assert np.array_equal(_stable_argsort(a), np.argsort(a, kind="stable"))


def test_unit_prices_set_what_a_spiff_unit_costs(sample_scenario):
    """Units = simulated sales ÷ price: half the price, twice the units, twice the SPIFF;
    the commission does not move. The sample's cloud sells at 500 a unit, as estimated."""
    import attain

    def spiff(extra):
        s = attain.simulate(sample_scenario(FIELD_REP, f"sensitivity: null\n{extra}")).summary
        components = s["results"]["base"]["field_rep_marginal"]["components"]
        return components["cloud_spiff"], components["commission"]

    estimated, commission = spiff("")
    at_500, _ = spiff("unit_prices: {cloud: 500}\n")
    at_250, same_commission = spiff("unit_prices: {cloud: 250}\n")
    assert at_250 == pytest.approx(2 * at_500, rel=1e-3)
    assert estimated == pytest.approx(at_500, rel=1e-3)
    assert same_commission == commission


def test_unit_prices_name_the_companys_products(sample_scenario):
    import attain
    from attain.errors import RuleFileError

    with pytest.raises(RuleFileError, match=r"unknown product `clowd`") as info:
        attain.simulate(sample_scenario(FIELD_REP, "unit_prices: {clowd: 5}\n"))
    assert info.value.problems[0].path == "unit_prices.clowd"


def test_a_ramped_product_is_checked_at_its_line(sample_scenario):
    """Products a scenario names are validated against its company while it loads, as a
    plan's are: the error has the line, also for a scenario given as a model."""
    import attain
    from attain.errors import RuleFileError
    from attain.load import load_rules

    ramp = "variants:\n  - name: slow\n    ramps:\n      - {product: clowd, months: 3}\n"
    path = sample_scenario(FIELD_REP, "sensitivity: null\n" + ramp)
    with pytest.raises(RuleFileError) as info:
        attain.simulate(path)
    [problem] = info.value.problems
    assert problem.path == "variants[0].ramps[0].product" and problem.line == 11
    assert "unknown product `clowd`" in problem.message
    model = load_rules(path, kind="scenario")  # on its own: only the form is checked
    with pytest.raises(RuleFileError, match="unknown product `clowd`"):
        attain.simulate(model, base=path.parent)

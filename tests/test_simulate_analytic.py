"""Statistical sanity: simulated means match what the distributions say they should be."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.load import parse_rules
from attain.schema.plan import Plan
from attain.schema.scenario import PerformanceModel
from attain.simulate import build_population, plan_model, simulate_models
from attain.simulate.performance import draw_block
from attain.simulate.streams import block_generator

N_REPS = 50
PRODUCTS = ("a", "b")


def _people() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rep_id": [f"R{i:03d}" for i in range(N_REPS)],
            "name": "x",
            "role": "rep",
            "region": np.where(np.arange(N_REPS) < 25, "East", "West"),
            "team": [f"T{i % 5}" for i in range(N_REPS)],
            "target_incentive": 10_000.0,
        }
    )


def _targets() -> np.ndarray:
    rng = np.random.default_rng(3)
    return np.round(rng.uniform(5_000, 20_000, size=(N_REPS, 12, len(PRODUCTS))), 2)


def _linear_plan(rate: float) -> Plan:
    return Plan.model_validate(
        {
            "kind": "plan",
            "name": "linear",
            "period": "year",
            "components": [
                {"type": "commission", "name": "commission", "tiers": [{"start": 0, "rate": rate}]}
            ],
        }
    )


def _scenario(distribution: str, mean: float, sd: float, shocks: float = 0.0):
    return parse_rules(
        f"""
kind: scenario
name: linear
company: x
plans: [p.yaml]
targets: {{file: t.csv}}
trials: 4000
seed: 5
sensitivity: null
performance:
  distribution: {distribution}
  mean: {mean}
  sd: {sd}
  upper: 4.0
  shocks: {{company: {shocks}, region: {shocks}, team: {shocks}}}
""",
        source="linear.yaml",
    )


@pytest.mark.parametrize(
    ("distribution", "mean", "sd", "shocks"),
    [
        ("normal", 1.0, 0.15, 0.0),
        ("lognormal", 0.95, 0.3, 0.0),
        ("beta", 1.1, 0.4, 0.0),
        ("lognormal", 1.0, 0.2, 0.04),
    ],
)
def test_linear_plan_mean_matches_the_analytic_expectation(distribution, mean, sd, shocks):
    targets = _targets()
    pop = build_population(_people(), targets, PRODUCTS)
    rate = 0.05
    model = plan_model(_linear_plan(rate), _people(), targets, PRODUCTS, 2)
    result = simulate_models(pop, (model,), _scenario(distribution, mean, sd, shocks))
    figure = result.figure("linear")["total_payout"]
    # E[payout] = rate × E[attainment] × Σ targets; shocks are mean-zero and independent
    # of the rep's own draw, so they do not move the mean (clipping at 0 is negligible here).
    expected = rate * mean * targets.sum()
    assert abs(figure["mean"] - expected) < 4 * figure["se"], (figure, expected)
    assert figure["se"] > 0


@settings(max_examples=10, deadline=None)
@given(
    distribution=st.sampled_from(["normal", "lognormal", "beta"]),
    mean=st.floats(0.6, 1.4),
    sd=st.floats(0.05, 0.2),  # mean >= 3 sd: clipping at 0 stays negligible
)
def test_draws_have_the_declared_mean_and_sd(distribution, mean, sd):
    model = PerformanceModel(distribution=distribution, mean=mean, sd=sd, upper=4.0)
    pop = build_population(_people(), _targets(), PRODUCTS)
    draws = draw_block(model, pop, block_generator(1, 0), 2000).attainment
    n = draws.size
    assert abs(draws.mean() - mean) < 5 * sd / math.sqrt(n)
    assert abs(draws.std() - sd) < 0.05 * sd


def test_zero_spread_draws_are_the_mean_exactly():
    model = PerformanceModel(distribution="lognormal", mean=1.0, sd=0.0)
    pop = build_population(_people(), _targets(), PRODUCTS)
    assert (draw_block(model, pop, block_generator(1, 0), 10).attainment == 1.0).all()


def test_bootstrap_resamples_the_reps_own_history(sample_company):
    n = len(sample_company.org)
    targets = np.full((n, 12, len(sample_company.products)), 1000.0)
    pop = build_population(
        sample_company.org, targets, sample_company.products, sample_company.history
    )
    model = PerformanceModel(distribution="bootstrap", mean=1.1)
    draws = draw_block(model, pop, block_generator(3, 0), 400).attainment
    # Each rep's factors average 1, so the mean is the model's; the spread is the rep's own.
    assert draws.mean() == pytest.approx(1.1, abs=0.01)
    spread = draws.std(axis=0)
    assert spread.min() > 0 and spread.max() < 0.5

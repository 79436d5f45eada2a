"""The pooled fast path: a plan whose components all measure the same products reads
sales already summed over them, and pays what it pays on sales by product."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from attain.load import parse_rules
from attain.schema.plan import Plan
from attain.simulate import build_population, plan_model, simulate_models
from attain.simulate.performance import pool_products

PRODUCTS = ("a", "b", "c")


def _plan(period: str = "year", products=None, credited=None) -> Plan:
    return Plan.model_validate(
        {
            "kind": "plan",
            "name": "p",
            "period": period,
            "target_incentive": {"amount": 10_000},
            "credit": {"products": credited} if credited else {},
            "components": [
                {
                    "type": "commission",
                    "name": "commission",
                    "tiers": [
                        {"start": 0, "end": 40_000, "rate": 0.02},
                        {"start": 40_000, "rate": 0.05},
                    ],
                },
                {
                    "type": "attainment_curve",
                    "name": "bonus",
                    "products": products,
                    "cap": {"multiple_of_ti": 1.5},
                    "points": [
                        {"attainment": 0.5, "payout": 0.2},
                        {"attainment": 1.0, "payout": 1.0},
                        {"attainment": 1.5, "payout": 2.0},
                    ],
                },
                {
                    "type": "step_bonus",
                    "name": "kicker",
                    "steps": [{"attainment": 1.1, "amount": 500}],
                },
            ],
        }
    )


def _people(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rep_id": [f"R{i:02d}" for i in range(n)],
            "role": "rep",
            "region": np.where(np.arange(n) % 2, "East", "West"),
            "team": [f"T{i % 3}" for i in range(n)],
        }
    )


def _targets(n: int) -> np.ndarray:
    return np.random.default_rng(3).uniform(1_000, 5_000, (n, 12, len(PRODUCTS)))


def test_a_plan_measuring_one_set_of_products_is_pooled():
    people, targets = _people(6), _targets(6)
    model = plan_model(_plan(credited=["a", "b"]), people, targets, PRODUCTS, 2)
    assert model.pooled.tolist() == [True, True, False]  # what is credited
    mixed = plan_model(_plan(products=["b"]), people, targets, PRODUCTS, 2)
    assert mixed.pooled is None  # the bonus reads b alone: the products stay apart


def test_pooled_sales_pay_what_sales_by_product_pay():
    people, targets = _people(8), _targets(8)
    rng = np.random.default_rng(4)
    for period, n_months in (("year", 1), ("quarter", 4), ("month", 12)):
        model = plan_model(_plan(period, credited=["a", "c"]), people, targets, PRODUCTS, 2)
        monthly = targets[None] * rng.lognormal(0, 0.4, (5, 8, 12, len(PRODUCTS)))
        sales = monthly.reshape(5, 8, n_months, 12 // n_months, len(PRODUCTS)).sum(axis=3)
        pooled = pool_products(sales, model.pooled)
        np.testing.assert_allclose(model.total(pooled), model.total(sales), rtol=1e-12)
        np.testing.assert_allclose(model(pooled), model(sales), rtol=1e-12, atol=1e-9)


def test_the_simulator_pays_the_same_with_and_without_pooling():
    people, targets = _people(30), _targets(30)
    pop = build_population(people, targets, PRODUCTS)
    model = plan_model(_plan("quarter"), people, targets, PRODUCTS, 2)
    scenario = parse_rules(
        "kind: scenario\nname: s\ncompany: x\nplans: [p.yaml]\ntargets: {file: t.csv}\n"
        "trials: 200\nseed: 5\nsensitivity: null\n"
        "performance: {distribution: lognormal, sd: 0.3, shocks: {company: 0.05, team: 0.02}}\n",
        source="s.yaml",
    )
    pooled = simulate_models(pop, (model,), scenario, workers=1)
    apart = simulate_models(pop, (replace(model, pooled=None),), scenario, workers=1)
    a, b = pooled.figure("p"), apart.figure("p")
    for key in ("mean", "p5", "p50", "p95", "p99"):
        assert np.isclose(a["total_payout"][key], b["total_payout"][key], rtol=1e-12)

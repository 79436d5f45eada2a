"""The float helpers' kept kernels: what the general path prepares from a component's
numbers once is kept by all of those numbers, so two plans that differ in one number
are each paid their own figures, whatever was paid before."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attain
import attain.incentive.floats as floats
from attain.incentive import Calendar, compile_plan
from attain.incentive.deals import DealModel
from attain.incentive.vectorised import evaluate, population
from attain.schema.plan import Plan

RULES = Path(__file__).resolve().parent.parent / "rules"
PRODUCTS = ("core", "cloud", "services", "analytics")


def test_kept_makes_once_per_key():
    made = []

    def make(value):
        made.append(value)
        return [value]

    first = floats.kept(("test-kept", 1), 1, make)
    assert floats.kept(("test-kept", 1), 2, make) is first  # the key says what it is made of
    assert floats.kept(("test-kept", 2), 2, make) == [2]
    assert made == [1, 2]


def _moved(plan: Plan, paths: list[tuple], factor: float) -> Plan:
    data = plan.model_dump(mode="json")
    for path in paths:
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = node[path[-1]] * factor
    return Plan.model_validate(data)


def _pay(plan: Plan, sales: np.ndarray, targets: np.ndarray, price: float = 50.0) -> np.ndarray:
    compiled = compile_plan(plan, PRODUCTS)
    n_reps = sales.shape[0]
    people = pd.DataFrame({"rep_id": [f"R{i}" for i in range(n_reps)], "role": "rep"})
    deals = DealModel(np.full(4, price), np.full((n_reps, 4), 1000.0), np.zeros(4))
    calendar = Calendar(2027, 1, plan.period)  # the SPIFF's window
    pop = population(
        compiled, n_reps, people, ti=np.full(n_reps, 20_000.0), calendar=calendar, deals=deals
    )
    return evaluate(compiled, sales, targets, pop=pop)  # the general path: a SPIFF, a gate


@pytest.mark.parametrize(
    ("file", "path"),
    [
        ("plan_field_rep.yaml", ("components", 0, "tiers", 1, "rate")),  # a marginal rate
        ("plan_field_rep.yaml", ("components", 0, "tiers", 2, "start")),  # a tier's start
        ("plan_attainment_curve.yaml", ("components", 0, "points", 1, "payout")),  # a curve
        ("plan_attainment_curve.yaml", ("components", 0, "points", 0, "attainment")),
        ("plan_attainment_curve.yaml", ("components", 1, "steps", 1, "amount")),  # a step
        ("plan_attainment_curve.yaml", ("components", 1, "steps", 0, "attainment")),
    ],
)
def test_a_plan_moved_by_one_number_is_paid_its_own_figures(file, path):
    plan = attain.load_plan(RULES / file)
    paths = [path]
    if path[-1] == "start":  # the tier below ends where it starts
        paths.append((*path[:-2], path[-2] - 1, "end"))
    moved = _moved(plan, paths, 1.1)
    n_periods = compile_plan(plan, PRODUCTS).n_periods
    rng = np.random.default_rng(7)
    targets = rng.uniform(20_000, 60_000, (40, n_periods, 4))
    sales = targets[:, None] * rng.lognormal(0.05, 0.4, (40, 3, n_periods, 4))
    floats._KEPT.clear()
    base = _pay(plan, sales, targets)
    after_base = _pay(moved, sales, targets)  # the base plan's kernels kept
    floats._KEPT.clear()
    alone = _pay(moved, sales, targets)
    assert not np.array_equal(base, alone)  # the number moves the payout
    assert after_base.tobytes() == alone.tobytes()


def test_a_spiff_is_paid_at_its_own_unit_prices():
    plan = attain.load_plan(RULES / "plan_field_rep.yaml")
    rng = np.random.default_rng(8)
    targets = rng.uniform(20_000, 60_000, (40, 12, 4))
    sales = targets[:, None] * rng.lognormal(0.05, 0.4, (40, 3, 12, 4))
    floats._KEPT.clear()
    at_50 = _pay(plan, sales, targets, 50.0)
    at_40 = _pay(plan, sales, targets, 40.0)  # the first prices' rates kept
    floats._KEPT.clear()
    assert not np.array_equal(at_50, at_40)
    assert at_40.tobytes() == _pay(plan, sales, targets, 40.0).tobytes()

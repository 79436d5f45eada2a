"""Same seed, same bytes: whatever the chunk size or the number of workers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attain.load import parse_rules
from attain.simulate import FunctionModel, build_population, simulate, simulate_models

SCENARIO = """
kind: scenario
name: det
company: sample
plans: [../rules/plan_field_rep.yaml]
targets: {file: targets.csv}
trials: 10
sensitivity: null
"""


def _population(n_reps: int = 40, seed: int = 1):
    rng = np.random.default_rng(seed)
    people = pd.DataFrame(
        {
            "rep_id": [f"R{i:03d}" for i in range(n_reps)],
            "role": np.where(np.arange(n_reps) % 5 == 0, "senior_rep", "rep"),
            "region": np.where(np.arange(n_reps) % 2 == 0, "East", "West"),
            "team": [f"T{i % 4}" for i in range(n_reps)],
        }
    )
    targets = rng.uniform(1_000, 5_000, size=(n_reps, 12, 2))
    return build_population(people, targets, ("a", "b"))


def _tiered(sales: np.ndarray) -> np.ndarray:
    year = sales.sum(axis=(2, 3))
    return np.stack([0.05 * year, 0.03 * np.maximum(year - 30_000, 0)], axis=2)


def _models(n_reps: int):
    keep = np.ones(n_reps, dtype=bool)
    return (
        FunctionModel("plan_a", ("base", "kicker"), _tiered, keep),
        FunctionModel(
            "plan_b", ("flat",), lambda s: 0.06 * s.sum(axis=(2, 3))[:, :, None], keep, 1
        ),
    )


def _scenario(**performance):
    text = """
kind: scenario
name: det
company: x
plans: [a.yaml, b.yaml]
targets: {file: t.csv}
trials: 300
seed: 11
budget: {cost_of_sales: 0.08}
sensitivity: {trials: 20}
variants:
  - {name: down, market_growth: -0.1}
  - {name: stars, top_performers: {share: 0.1, uplift: 0.3}}
  - {name: slow_b, ramps: [{product: b, months: 6, start: 0.2}]}
performance:
  distribution: lognormal
  sd: 0.2
  shocks: {company: 0.05, region: 0.03, team: 0.02}
  month_sd: 0.1
  mix_sd: 0.1
"""
    scenario = parse_rules(text, source="det.yaml")
    if performance:
        scenario = scenario.model_copy(
            update={"performance": scenario.performance.model_copy(update=performance)}
        )
    return scenario


def _summary(scenario, chunk_trials, workers) -> str:
    pop = _population()
    result = simulate_models(
        pop, _models(pop.n_reps), scenario, chunk_trials=chunk_trials, workers=workers
    )
    return result.to_json()


def test_chunk_size_and_workers_do_not_change_the_summary():
    scenario = _scenario()
    reference = _summary(scenario, chunk_trials=None, workers=1)
    for chunk, workers in ((1, 2), (7, 2), (64, 1), (1000, 2)):
        assert _summary(scenario, chunk, workers) == reference


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    distribution=st.sampled_from(["normal", "lognormal", "beta"]),
    chunk=st.integers(1, 300),
    workers=st.integers(1, 3),
)
def test_any_chunking_gives_the_same_bytes(distribution, chunk, workers):
    scenario = _scenario(distribution=distribution).model_copy(
        update={"trials": 60, "sensitivity": None}
    )
    assert _summary(scenario, chunk, workers) == _summary(scenario, None, 1)


def test_a_different_seed_gives_different_draws():
    scenario = _scenario().model_copy(update={"sensitivity": None, "trials": 50})
    other = scenario.model_copy(update={"seed": 12})
    assert _summary(scenario, None, 1) != _summary(other, None, 1)


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory, sample_company):
    folder = tmp_path_factory.mktemp("det")
    history = sample_company.history
    last = sorted(history["month"].unique())[-12:]
    t = history[history["month"].isin(last)].copy()
    t["period"] = t["month"].str.replace("2026", "2027")
    t["target"] = (t["sales"] * 1.05).round(2)
    t[["rep_id", "period", "product", "target"]].to_csv(folder / "targets.csv", index=False)
    root = sample_company.root
    text = SCENARIO.replace("company: sample", f"company: {root}").replace(
        "../rules/", f"{root.parent.parent / 'rules'}/"
    )
    path = folder / "det.yaml"
    path.write_text(text)
    return path


def test_summary_json_is_byte_identical_through_the_incentive_engine(scenario_file, tmp_path):
    a = simulate(scenario_file, chunk_trials=3, workers=2)
    b = simulate(scenario_file, chunk_trials=10, workers=1)
    a.write(tmp_path / "a")
    b.write(tmp_path / "b")
    assert (tmp_path / "a" / "summary.json").read_bytes() == (
        tmp_path / "b" / "summary.json"
    ).read_bytes()
    assert "seconds" not in (tmp_path / "a" / "summary.json").read_text()


def test_without_lines_every_trial_takes_the_total_and_pays_the_same(scenario_file):
    from dataclasses import replace

    from attain.simulate.runner import Job, run
    from attain.simulate.setup import load_setup
    from attain.simulate.variants import BASE

    setup = load_setup(scenario_file)
    job = Job(setup.population, setup.scenario.performance, setup.models, (BASE,), 24, 5)
    assert job.detail_trials == job.trials  # the line-by-line path for every trial
    lines, total = run(job, workers=1), run(replace(job, lines=False), workers=1)
    np.testing.assert_allclose(total.payout, lines.payout, rtol=1e-12)
    np.testing.assert_allclose(total.detail_payout, lines.detail_payout, rtol=1e-12, atol=1e-9)
    assert total.detail_attainment.tobytes() == lines.detail_attainment.tobytes()
    assert all(not c.any() for c in total.components) and any(c.any() for c in lines.components)

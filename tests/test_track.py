"""attain.track: to-date figures, roll-ups, the forecast's coverage and shrinkage, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import attain
from attain.errors import DataError, InputError

MONTHS = [f"2027-{m:02d}" for m in range(1, 13)]
SEASON = np.array([0.7, 0.8, 1.0, 1.0, 1.0, 1.1, 0.8, 0.7, 1.1, 1.2, 1.2, 1.4])


def simulated_year(
    seed: int,
    n_teams: int = 10,
    per_team: int = 20,
    sigma: float = 0.25,
    tau: float = 0.12,
    tau_team: float = 0.05,
    sigma_company: float = 0.03,
):
    """A year whose truth is known: targets, and each rep's sales by month from
    target × (θ_rep + c_month + e), θ_rep ~ N(μ_team, τ²), μ_team ~ N(1, τ_team²)."""
    rng = np.random.default_rng(seed)
    n = n_teams * per_team
    team = np.repeat(np.arange(n_teams), per_team)
    size = rng.lognormal(np.log(80_000), 0.4, n)
    target = np.round(size[:, None] * SEASON[None, :] / SEASON.sum() * 12, 0)
    mu = 1 + tau_team * rng.standard_normal(n_teams)
    theta = mu[team] + tau * rng.standard_normal(n)
    shock = sigma_company * rng.standard_normal(12)
    mean_t = target.mean(axis=1, keepdims=True)
    e = sigma * np.sqrt(mean_t / target) * rng.standard_normal((n, 12))
    sales = np.round(np.maximum(target * (theta[:, None] + shock[None, :] + e), 0.0), 2)
    reps = [f"R{i:04d}" for i in range(n)]
    targets = pd.DataFrame(
        {
            "rep_id": np.repeat(reps, 12),
            "region": np.repeat([f"Reg{t % 3}" for t in team], 12),
            "team": np.repeat([f"T{t:02d}" for t in team], 12),
            "period": np.tile(MONTHS, n),
            "product": "core",
            "target": target.ravel(),
            "challenge": np.round(target.ravel() * 1.1, 0),
        }
    )
    return targets, reps, sales


def deals(reps, sales, months: int) -> pd.DataFrame:
    """One deal per rep and month, dated the month's first day, for the first ``months``."""
    cells = [(i, m) for i in range(len(reps)) for m in range(months) if sales[i, m] > 0]
    return pd.DataFrame(
        {
            "deal_id": [f"D{i}-{m}" for i, m in cells],
            "date": [f"{MONTHS[m]}-01" for _, m in cells],
            "rep_id": [reps[i] for i, _ in cells],
            "product": "core",
            "amount": [sales[i, m] for i, m in cells],
        }
    )


def test_forecast_interval_holds_the_true_year_end_about_80_percent_of_the_time():
    inside, total = 0, 0
    for seed in range(6):
        targets, reps, sales = simulated_year(seed)
        result = attain.track(targets, deals(reps, sales, 6), "2027-06-30", trials=400, seed=seed)
        rep = result.table[result.table["level"] == "rep"].set_index("rep_id").loc[reps]
        truth = sales.sum(axis=1)
        inside += int(((rep["forecast_p10"] <= truth) & (truth <= rep["forecast_p90"])).sum())
        total += len(reps)
    assert 0.74 <= inside / total <= 0.86, inside / total


def test_one_good_month_does_not_make_a_forecast():
    targets, reps, sales = simulated_year(3)
    sales[0, 0] = sales[0, 0] * 3  # a rep's January at about three times target
    result = attain.track(targets, deals(reps, sales, 2), "2027-02-28", trials=200)
    rep = result.table.set_index("unit").loc[reps[0]]
    # The pace to date is far above 1, the forecast far less so: shrunk toward the team.
    assert rep["pace"] > 1.6
    naive = rep["actual_to_date"] + rep["pace"] * (rep["target"] - rep["expected_to_date"])
    assert rep["forecast_p50"] < rep["actual_to_date"] + 0.8 * (naive - rep["actual_to_date"])
    assert result.forecast is not None
    assert result.forecast.pace_posterior[0] < 0.5 * (1 + rep["pace"])


def test_roll_ups_add_up():
    targets, reps, sales = simulated_year(1, n_teams=6, per_team=5)
    result = attain.track(targets, deals(reps, sales, 5), "2027-05-20", trials=100)
    t = result.table
    rep, team, region = (t[t["level"] == lv] for lv in ("rep", "team", "region"))
    company = t[t["level"] == "company"].iloc[0]
    for col in ("target", "challenge", "expected_to_date", "actual_to_date", "forecast_mean"):
        by_team = rep.groupby("team")[col].sum()
        assert np.allclose(team.set_index("team")[col].loc[by_team.index], by_team, rtol=1e-6)
        by_region = team.groupby("region")[col].sum()
        assert np.allclose(
            region.set_index("region")[col].loc[by_region.index], by_region, rtol=1e-6
        )
        assert np.isclose(region[col].sum(), company[col], rtol=1e-6)
    product = t[t["level"] == "product"]
    for col in ("target", "expected_to_date", "actual_to_date", "forecast_mean"):
        assert np.isclose(product[col].sum(), company[col], rtol=1e-6)
    # Expected-to-date follows the phasing: four months and 20 of May's 31 days.
    tm = targets.assign(m=targets["period"].str.slice(5).astype(int))
    due = tm[tm.m <= 4]["target"].sum() + tm[tm.m == 5]["target"].sum() * 20 / 31
    assert np.isclose(company["expected_to_date"], due)
    assert np.isclose(company["pace"], company["actual_to_date"] / due)
    assert (t["forecast_p10"] <= t["forecast_p50"] + 1e-6).all()
    assert (t["forecast_p50"] <= t["forecast_p90"] + 1e-6).all()
    assert (t["forecast_p10"] >= t["actual_to_date"] - 1e-6).all()
    at_risk = set(result.at_risk["rep_id"])
    assert at_risk == set(rep[rep["p_target"] < 0.5]["rep_id"])


def test_same_seed_same_bytes_and_another_seed_other_draws(tmp_path):
    targets, reps, sales = simulated_year(2, n_teams=4, per_team=5)
    actuals = deals(reps, sales, 6)
    paths = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        result = attain.track(targets, actuals, "2027-06-30", trials=150, seed=seed)
        paths.append(result.write(tmp_path / name))
    for a, b in zip(paths[0], paths[1], strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert paths[0][0].read_bytes() != paths[2][0].read_bytes()
    names = sorted(p.name for p in paths[0])
    assert names == ["board.html", "summary.json", "tracking.csv", "tracking.xlsx"]


def test_result_protocol():
    targets, reps, sales = simulated_year(4, n_teams=2, per_team=3)
    result = attain.track(targets, deals(reps, sales, 3), "2027-03-31", trials=50)
    assert set(result.frames) == {"tracking", "at_risk"}
    summary = pd.read_json(__import__("io").StringIO(result.to_json()), typ="series")
    assert summary["as_of"] == "2027-03-31"
    assert result.summary["n_reps"] == 6
    assert "warnings" in result.summary


def test_as_of_outside_the_fiscal_year_is_an_input_error():
    targets, reps, sales = simulated_year(0, n_teams=1, per_team=2)
    with pytest.raises(InputError) as e:
        attain.track(targets, deals(reps, sales, 2), "2028-01-15")
    assert e.value.problems[0].source == "--as-of"
    assert "outside fiscal year 2027" in str(e.value)


def test_deals_after_as_of_are_located():
    targets, reps, sales = simulated_year(0, n_teams=1, per_team=2)
    with pytest.raises(DataError) as e:
        attain.track(targets, deals(reps, sales, 4), "2027-03-15")
    p = e.value.problems[0]
    assert p.field == "date" and p.row is not None and "after --as-of" in p.message


def test_targets_for_another_year_are_located(sample_company):
    targets, reps, sales = simulated_year(0, n_teams=1, per_team=2)
    other = targets.assign(period=targets["period"].str.replace("2027", "2026"))
    other["rep_id"] = "R00001"
    other = other.drop_duplicates(["rep_id", "period"])
    with pytest.raises(DataError) as e:
        attain.track(other, sample_company.actuals.iloc[:0], "2027-06-30", company=sample_company)
    p = e.value.problems[0]
    assert p.field == "period" and p.row is not None and "2026-01" in p.message


def test_bad_cells_of_a_long_targets_table_are_located_at_their_rows():
    """Long id and period columns are checked value by value (each distinct value once):
    every bad row is still reported at its own row."""
    targets, reps, sales = simulated_year(3, n_teams=10, per_team=10)  # 1,200 rows
    targets = targets.astype({"period": object, "rep_id": object})
    targets.loc[[7, 900], "rep_id"] = "R\x000001"
    targets.loc[500, "product"] = " "
    with pytest.raises(DataError) as error:
        attain.track(targets, deals(reps, sales, 2), "2027-02-28", trials=10)
    rows = {(p.row, p.field, p.code) for p in error.value.problems}
    assert rows == {
        (8, "rep_id", "control-character"),
        (901, "rep_id", "control-character"),
        (501, "product", "empty"),
    }

"""`attain track` through the CLI, and the payout forecast on the sample company."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import attain
from attain.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "scenarios" / "sample"
TARGETS = ROOT / "tests" / "fixtures" / "incentive" / "targets.csv"
PLAN = ROOT / "rules" / "plan_field_rep.yaml"


@pytest.fixture(scope="module")
def first_quarter(tmp_path_factory) -> Path:
    deals = pd.read_csv(SAMPLE / "actuals.csv", dtype=str)
    path = tmp_path_factory.mktemp("q1") / "actuals_q1.csv"
    deals[deals["date"] <= "2027-03-31"].to_csv(path, index=False)
    return path


def run(tmp_path, *extra: str, actuals: Path, as_of: str = "2027-03-31", out: str = "o") -> int:
    return main(
        [
            "track",
            "--targets",
            str(TARGETS),
            "--actuals",
            str(actuals),
            "--as-of",
            as_of,
            "--data",
            str(SAMPLE),
            "--out",
            str(tmp_path / out),
            "--trials",
            "200",
            *extra,
        ]
    )


def test_track_writes_the_set_with_a_plan(tmp_path, first_quarter, capsys):
    assert run(tmp_path, "--plan", str(PLAN), actuals=first_quarter) == 0
    out = capsys.readouterr().out
    assert "at 2027-03-31: actual" in out and "earned to date" in out
    o = tmp_path / "o"
    for name in ("tracking.csv", "summary.json", "tracking.xlsx", "board.html"):
        assert (o / name).exists(), name
    summary = json.loads((o / "summary.json").read_text())
    assert summary["units"]["region"] == 6 and summary["n_reps"] == 300
    pay = summary["payouts"][0]
    assert pay["forecast_p10"] <= pay["forecast_p50"] <= pay["forecast_p90"]
    assert float(pay["earned_to_date"]) <= pay["forecast_p10"]
    page = (o / "board.html").read_text()
    assert "<script" not in page and "Reps at risk" in page and "<svg" in page
    table = pd.read_csv(o / "tracking.csv")
    assert {"earned_to_date", "payout_p50"} <= set(table.columns)


def test_earned_to_date_is_the_exact_payout_of_the_periods_gone(first_quarter):
    result = attain.track(
        TARGETS, first_quarter, "2027-03-31", plans=[PLAN], company=SAMPLE, trials=50
    )
    exact = attain.payouts(PLAN, TARGETS, first_quarter, SAMPLE)
    due = exact.totals[exact.totals["period"] <= "2027-03"]
    assert (
        result.summary["payouts"][0]["earned_to_date"] == f"{due['payable_minor'].sum() / 100:.2f}"
    )
    reps = result.table[result.table["level"] == "rep"].set_index("rep_id")
    by_rep = due.groupby("rep_id")["payable_minor"].sum() / 100
    assert reps["earned_to_date"].reindex(by_rep.index).fillna(0).round(2).equals(by_rep.round(2))


def test_at_year_end_the_payout_forecast_is_the_year_paid():
    result = attain.track(
        TARGETS, SAMPLE / "actuals.csv", "2027-12-31", plans=[PLAN], company=SAMPLE, trials=20
    )
    pay = result.summary["payouts"][0]
    c = result.summary["company"]
    assert c["forecast_p10"] == c["forecast_p90"] == c["actual_to_date"]
    exact = float(pay["earned_to_date"])
    assert pay["forecast_p10"] == pay["forecast_p90"]
    assert abs(pay["forecast_p50"] - exact) <= 0.02 * exact


@pytest.mark.parametrize(
    ("as_of", "needle"),
    [
        ("2028-02-01", "--as-of: 2028-02-01 is outside fiscal year 2027"),
        ("2027-02-30", "--as-of: not a date"),
        ("2027-02-15", "after --as-of 2027-02-15"),
    ],
)
def test_bad_input_exits_2_located_and_writes_nothing(
    tmp_path, first_quarter, capsys, as_of, needle
):
    assert run(tmp_path, actuals=first_quarter, as_of=as_of) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
    if "after" in needle:
        assert f"{first_quarter}: row " in err and "column date" in err
    assert not (tmp_path / "o").exists()


def test_targets_of_another_year_exit_2(tmp_path, first_quarter, capsys):
    old = tmp_path / "targets_2026.csv"
    old.write_text(TARGETS.read_text().replace(",2027-", ",2026-"))
    code = main(
        [
            "track",
            "--targets",
            str(old),
            "--actuals",
            str(first_quarter),
            "--as-of",
            "2027-03-31",
            "--data",
            str(SAMPLE),
            "--out",
            str(tmp_path / "o"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and f"{old}: row 2, column period" in err
    assert not (tmp_path / "o").exists()


def test_a_leaver_is_expected_only_to_the_end_date(sample_company, first_quarter):
    org = sample_company.org.astype(str).assign(start_date="", end_date="")
    org.loc[org["rep_id"] == "R00001", "end_date"] = "2027-02-14"
    company = attain.company_from_frames(sample_company.rules, org=org)
    result = attain.track(TARGETS, first_quarter, "2027-03-31", company=company, trials=50)
    plain = attain.track(TARGETS, first_quarter, "2027-03-31", company=SAMPLE, trials=50)
    a = result.table.set_index("unit").loc["R00001"]
    b = plain.table.set_index("unit").loc["R00001"]
    targets = pd.read_csv(TARGETS)
    mine = targets[targets["rep_id"] == "R00001"].groupby("period")["target"].sum()
    assert a["expected_to_date"] == pytest.approx(mine["2027-01"] + mine["2027-02"] * 14 / 28)
    assert a["target"] == pytest.approx(a["expected_to_date"])  # nothing after leaving
    assert a["forecast_p10"] == a["forecast_p90"] == a["actual_to_date"]
    assert b["expected_to_date"] == pytest.approx(mine.loc[["2027-01", "2027-02", "2027-03"]].sum())
    assert any(n.code == "dated-org" for n in result.notices)


def test_a_leavers_payout_forecast_is_the_exact_payout_of_their_days(sample_company, first_quarter):
    """A leaver whose year is over: the forecast pays what the exact path pays (days in
    role, against the targets as given), not a whole year's bonus."""
    org = sample_company.org.astype(str).assign(start_date="", end_date="")
    org.loc[org["rep_id"] == "R00001", "end_date"] = "2027-02-14"
    company = attain.company_from_frames(sample_company.rules, org=org)
    targets = pd.read_csv(TARGETS)
    targets = targets[~((targets["rep_id"] == "R00001") & (targets["period"] > "2027-02"))]
    plan = ROOT / "rules" / "plan_attainment_curve.yaml"
    result = attain.track(
        targets, first_quarter, "2027-03-31", company=company, trials=50, plans=[plan]
    )
    row = result.table.set_index("unit").loc["R00001"]
    exact = attain.payouts(plan, targets, first_quarter, company)
    paid = exact.lines.loc[exact.lines["rep_id"] == "R00001", "amount_minor"].sum() / 100
    assert paid > 0
    assert row["payout_p10"] == pytest.approx(paid, abs=0.01)
    assert row["payout_p90"] == pytest.approx(paid, abs=0.01)


def test_a_mover_s_target_and_deals_count_for_the_team_of_their_date(sample_company, tmp_path):
    """R00001 moves from East-01 to East-02 on 1 March: January and February (targets and
    deals) stay with East-01; March on, and the forecast, go to East-02."""
    org = sample_company.org.astype(str).assign(start_date="", end_date="")
    row = org[org["rep_id"] == "R00001"].iloc[0].to_dict()
    org.loc[org["rep_id"] == "R00001", "end_date"] = "2027-02-28"
    moved = {**row, "team": "East-02", "start_date": "2027-03-01", "end_date": ""}
    org = pd.concat([org, pd.DataFrame([moved])], ignore_index=True)
    company = attain.company_from_frames(sample_company.rules, org=org)
    deals = pd.read_csv(SAMPLE / "actuals.csv", dtype=str)
    q1 = deals[deals["date"] <= "2027-03-31"]
    path = tmp_path / "q1.csv"
    q1.to_csv(path, index=False)
    moved_result = attain.track(TARGETS, path, "2027-03-31", company=company, trials=50)
    plain = attain.track(TARGETS, path, "2027-03-31", company=SAMPLE, trials=50)
    t = moved_result.table
    teams = t[t["level"] == "team"].set_index("team")
    before = plain.table[plain.table["level"] == "team"].set_index("team")
    mine = q1[q1["rep_id"] == "R00001"].assign(amount=lambda f: f["amount"].astype(float))
    split = mine["split"].astype(float) if "split" in mine else 1.0
    credit = mine["amount"] * split
    early = credit[mine["date"] < "2027-03-01"].sum()
    targets = pd.read_csv(TARGETS)
    r1 = targets[targets["rep_id"] == "R00001"].groupby("period")["target"].sum()
    # Before the move the sample had R00001 in East-01 all year.
    assert teams.loc["East-01", "actual_to_date"] == pytest.approx(
        before.loc["East-01", "actual_to_date"] - credit.sum() + early, abs=0.02
    )
    assert teams.loc["East-02", "actual_to_date"] == pytest.approx(
        before.loc["East-02", "actual_to_date"] + credit.sum() - early, abs=0.02
    )
    gone = r1.drop(["2027-01", "2027-02"]).sum()
    assert teams.loc["East-01", "target"] == pytest.approx(before.loc["East-01", "target"] - gone)
    assert teams.loc["East-02", "target"] == pytest.approx(before.loc["East-02", "target"] + gone)
    rep = t[t["level"] == "rep"].set_index("unit")
    assert rep.loc["R00001", "team"] == "East-02"
    company_row = t[t["level"] == "company"].iloc[0]
    assert teams["actual_to_date"].sum() == pytest.approx(company_row["actual_to_date"])
    assert any(n.code == "movers" for n in moved_result.notices)


@pytest.mark.parametrize("period", ["semi_monthly", "two_week"])
def test_sub_monthly_plans_are_tracked(tmp_path, period):
    """A semi-monthly or two-week plan: earned to date is the exact payout of the pay
    periods begun by the date, and at the year's end the forecast is the year paid."""
    plan = attain.load_plan(PLAN, SAMPLE).model_copy(update={"period": period})
    deals = pd.read_csv(SAMPLE / "actuals.csv", dtype=str)
    path = tmp_path / "actuals.csv"
    deals[deals["date"] <= "2027-05-20"].to_csv(path, index=False)
    result = attain.track(TARGETS, path, "2027-05-20", plans=[plan], company=SAMPLE, trials=20)
    exact = attain.payouts(plan, TARGETS, path, SAMPLE)
    from attain.incentive import Calendar

    begun = Calendar(2027, 1, period).period_labels()[:10]  # the last begun 16 May / 7 May
    due = exact.totals[exact.totals["period"].isin(begun)]
    pay = result.summary["payouts"][0]
    assert pay["earned_to_date"] == f"{due['payable_minor'].sum() / 100:.2f}"
    assert float(pay["earned_to_date"]) <= pay["forecast_p10"] <= pay["forecast_p90"]
    year = attain.track(
        TARGETS, SAMPLE / "actuals.csv", "2027-12-31", plans=[plan], company=SAMPLE, trials=5
    )
    pay = year.summary["payouts"][0]
    assert abs(pay["forecast_p50"] - float(pay["earned_to_date"])) <= 0.02 * float(
        pay["earned_to_date"]
    )


def test_a_holdback_is_accrued_when_earned_and_kpis_read_the_measures(tmp_path):
    """Earned to date counts the parts held back (earned, not yet paid), and a KPI plan's
    exact earned to date reads the measures table."""
    spec = attain.load_plan(PLAN, SAMPLE).model_dump(mode="json")
    plan = attain.load_plan({**spec, "holdback": {"share": 0.5}}, SAMPLE)
    deals = pd.read_csv(SAMPLE / "actuals.csv", dtype=str)
    path = tmp_path / "actuals.csv"
    deals[deals["date"] <= "2027-05-20"].to_csv(path, index=False)
    held = attain.track(TARGETS, path, "2027-05-20", plans=[plan], company=SAMPLE, trials=20)
    plain = attain.track(TARGETS, path, "2027-05-20", plans=[PLAN], company=SAMPLE, trials=20)
    a, b = held.summary["payouts"][0], plain.summary["payouts"][0]
    assert a["earned_to_date"] == b["earned_to_date"]
    assert a["forecast_p50"] == pytest.approx(b["forecast_p50"], rel=1e-9)
    kpi = ROOT / "rules" / "kpi_mbo.yaml"
    measures = ROOT / "tests" / "fixtures" / "incentive" / "measures.csv"
    rows = pd.read_csv(measures, dtype=str)
    early = tmp_path / "measures.csv"
    rows[rows["date"] <= "2027-05-20"].to_csv(early, index=False)
    t = attain.track(
        TARGETS, path, "2027-05-20", plans=[kpi], company=SAMPLE, trials=5, measures=early
    )
    exact = attain.payouts(kpi, TARGETS, path, SAMPLE, measures=early)
    due = exact.totals[exact.totals["period"].isin(["2027-Q1", "2027-Q2"])]
    assert t.summary["payouts"][0]["earned_to_date"] == f"{due['payable_minor'].sum() / 100:.2f}"

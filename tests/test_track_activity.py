"""Tracking activities: logged to date against the weekly activity targets."""

from __future__ import annotations

import datetime as dt
import zipfile

import pandas as pd
import pytest

from attain.cli.main import main
from attain.errors import DataError, InputError
from attain.track import track
from tests.test_allocate_expense import _write_company
from tests.test_track_expense import AS_OF, planned  # noqa: F401  (a fixture)

LOGGED = [
    ("R001", "2027-01-04", "visits", 5),
    ("R001", "2027-02-15", "visits", 40),
    ("R001", "2027-03-29", "visits", 3),  # in the date's week (29 March – 4 April)
    ("R001", "2027-03-31", "opportunities", 2),
    ("R003", "2027-03-10", "visits", 30),
    ("R003", "2027-03-30", "opportunities", 12),
    ("R004", "2026-12-30", "visits", 7),  # before the year: not counted
]


def logged(rows=LOGGED) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["rep_id", "date", "activity", "count"])


def run(planned, tmp_path, rows=None, **kw):  # noqa: F811
    folder, company = planned
    path = tmp_path / "activities.csv"
    logged(rows if rows is not None else LOGGED).to_csv(path, index=False)
    return track(
        folder / "alloc" / "targets.csv", folder / "deals.csv", AS_OF, company=company,
        trials=10, activities=path, **kw,
    )  # fmt: skip


def test_activities_to_date_against_the_weeks_due(planned, tmp_path):  # noqa: F811
    result = run(planned, tmp_path)
    folder, _ = planned
    targets = pd.read_csv(folder / "alloc" / "activity_targets.csv")
    r1 = targets[(targets["rep_id"] == "R001") & (targets["activity"] == "visits")]
    monday = pd.to_datetime(r1["week_start"])
    gone = r1[monday + pd.Timedelta(days=6) <= "2027-03-31"]["target"].sum()
    current = r1[r1["week"] == "2027-W13"]["target"].item()
    expected = gone + current * 3 / 7  # Monday to Wednesday of 2027-W13
    a = result.activities.set_index(["level", "unit", "activity"])
    row = a.loc[("rep", "R001", "visits")]
    assert row["target"] == r1["target"].sum() == 533
    assert row["expected_to_date"] == pytest.approx(expected, abs=0.005)
    assert row["actual_to_date"] == 48 and row["pace"] == pytest.approx(48 / expected, abs=1e-4)
    assert row["week_target"] == current and row["week_actual"] == 3
    left = (dt.date(2027, 12, 31) - dt.date(2027, 3, 31)).days / 7
    assert row["needed_per_week"] == pytest.approx((533 - 48) / left, abs=0.01)
    # Roll-ups: a team's and the company's figures are their reps' sums.
    team = a.loc[("team", "North-1", "visits")]
    reps = a.loc[("rep", "R001", "visits")], a.loc[("rep", "R002", "visits")]
    assert team["target"] == sum(r["target"] for r in reps)
    assert team["actual_to_date"] == 48
    company = a.loc[("company", "company", "visits")]
    assert (
        company["actual_to_date"] == 78
        and company["target"] == targets.loc[targets["activity"] == "visits", "target"].sum()
    )
    # Conversion: opportunities per visit, planned (targets) and logged.
    north2 = a.loc[("team", "North-2", "visits")]
    assert north2["conversion_actual"] == pytest.approx(12 / 30, abs=1e-4)
    assert north2["conversion_target"] == pytest.approx(0.3, abs=0.01)
    s = result.summary["activities"]
    assert s["week"] == "2027-W13" and s["by_activity"]["visits"]["actual_to_date"] == 78
    assert result.frames["activities"] is result.activities


def test_silent_activities_and_idle_reps_are_warned_of(planned, tmp_path):  # noqa: F811
    result = run(planned, tmp_path)
    codes = {n.code: n for n in result.notices}
    assert "deals" in codes["no-activities-logged"].message  # nobody logged a deal
    assert codes["reps-without-activities"].count == 4  # R002, R004, R005, R006
    assert codes["activities-before-year"].count == 1


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        (("R001", "2027-02-01", "visit", 1), "activity", "did you mean 'visits'"),
        (("R999", "2027-02-01", "visits", 1), "rep_id", "unknown rep 'R999'"),
        (("R001", "2027-04-01", "visits", 1), "date", "after --as-of"),
        (("R001", "2027-02-01", "visits", -2), "count", "at least 0"),
        (("R001", "2027-02-01", "visits", 1.5), "count", "not a whole number"),
    ],
)
def test_bad_activity_rows_are_located(planned, tmp_path, row, field, message):  # noqa: F811
    with pytest.raises(DataError) as caught:
        run(planned, tmp_path, [LOGGED[0], row])
    problem = caught.value.problems[0]
    assert problem.row == 3 and problem.field == field, problem
    assert message.replace("'", "`") in problem.message.replace("'", "`"), problem


def test_activity_targets_are_checked_too(planned, tmp_path):  # noqa: F811
    folder, _ = planned
    targets = pd.read_csv(folder / "alloc" / "activity_targets.csv", dtype=str)
    targets.loc[5, "week"] = "2027-W60"
    bad = tmp_path / "at.csv"
    targets.to_csv(bad, index=False)
    with pytest.raises(DataError) as caught:
        run(planned, tmp_path, activity_targets=bad)
    assert caught.value.problems[0].row == 7 and "not an ISO week" in str(caught.value)


def test_activities_need_activity_targets(planned, tmp_path):  # noqa: F811
    folder, company = planned
    targets = pd.read_csv(folder / "alloc" / "targets.csv")
    path = tmp_path / "a.csv"
    logged().to_csv(path, index=False)
    with pytest.raises(InputError, match="activity targets"):
        track(targets, folder / "deals.csv", AS_OF, company=company, trials=5, activities=path)


def test_the_cli_tracks_activities_and_expenses_together(planned, tmp_path):  # noqa: F811
    folder, company = planned
    data = tmp_path / "data"
    _write_company(company, data)
    acts, spend = tmp_path / "activities.csv", tmp_path / "expenses.csv"
    logged().to_csv(acts, index=False)
    pd.DataFrame({"date": ["2027-02-01"], "unit": ["R001"], "amount": ["10.00"]}).to_csv(
        spend, index=False
    )
    out = tmp_path / "out"
    argv = ["track", "--targets", str(folder / "alloc" / "targets.csv"), "--actuals",
            str(folder / "deals.csv"), "--as-of", AS_OF, "--data", str(data), "--trials", "10",
            "--activities", str(acts), "--expenses", str(spend), "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    assert {"activities.csv", "expenses.csv", "tracking.csv"} <= {p.name for p in out.iterdir()}
    written = pd.read_csv(out / "activities.csv")
    assert {"activity", "expected_to_date", "actual_to_date", "pace", "week_target"} <= set(written)
    board = (out / "board.html").read_text()
    assert "<h2>Expenses</h2>" in board and "<h2>Activities</h2>" in board

    sheets = zipfile.ZipFile(out / "tracking.xlsx").read("xl/workbook.xml").decode()
    assert 'name="expenses"' in sheets and 'name="activities"' in sheets
    assert main([*argv[:-6], "--activity-targets", str(acts), "--out", str(tmp_path / "x")]) == 2

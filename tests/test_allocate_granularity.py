"""`seasonality.granularity`: targets by month, fiscal quarter or week.

Quarters are the exact sums of their three rounded months; weeks (days 1–7,
8–14, 15–21, 22–28, 29–end) split each rounded month by their share of its days,
by largest remainders, so they add up exactly to the month and stay whole
multiples of the rounding unit.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pydantic
import pytest

from attain.allocate import TIMING_KEYS, allocate
from attain.allocate.frames import month_weeks, split_weeks
from attain.allocate.toy import toy_company
from attain.cli.main import main
from attain.schema.allocation import Seasonality

ROOT = Path(__file__).resolve().parent.parent
DATA = str(ROOT / "scenarios" / "sample")
UNIT = 1000
KEY = ["rep_id", "product"]


def rules(granularity: str | None = None) -> dict:
    season: dict = {"source": "history", "tolerance": 0.01}
    if granularity is not None:
        season["granularity"] = granularity
    return {
        "kind": "allocation",
        "company_target": {"total": 2_345_000},
        "buffer": {"rep": 1.05},
        "fair_share": {"basis": "potential"},
        "seasonality": season,
        "rounding": {"unit": UNIT},
        "challenge": {"stretch": 0.1},
    }


@pytest.fixture(scope="module")
def company():
    season = [5, 6, 9, 7, 8, 11, 6, 5, 9, 10, 12, 14]
    return toy_company(
        [[300, 100, 50], [120, 180, 70], [90, 40, 260], [200, 200, 200]],
        regions=["East", "East", "West", "West"],
        season=season,
    )


@pytest.fixture(scope="module")
def runs(company):
    return {g: allocate(rules(g), company) for g in ("month", "quarter", "week")}


def test_schema_default_and_values():
    assert Seasonality().granularity == "month"
    assert Seasonality(granularity="week").granularity == "week"
    with pytest.raises(pydantic.ValidationError):
        Seasonality(granularity="day")


def test_default_is_month(company, runs):
    default = allocate(rules(), company)
    pd.testing.assert_frame_equal(default.targets, runs["month"].targets)
    assert default.targets["period"].str.fullmatch(r"2027-\d\d").all()
    assert runs["month"].summary["granularity"] == "month"


def test_quarter_cells_are_sums_of_month_cells(runs):
    month, quarter = runs["month"].targets, runs["quarter"].targets
    assert quarter["period"].unique().tolist() == ["2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4"]
    assert runs["quarter"].summary["periods"] == ["2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4"]
    assert runs["quarter"].summary["granularity"] == "quarter"
    q = (month["period"].str[5:7].astype(int) - 1) // 3 + 1
    expected = (
        month.assign(period="2027-Q" + q.astype(str))
        .groupby([*KEY, "period"], sort=True)[["target", "challenge"]]
        .sum()
    )
    got = quarter.set_index([*KEY, "period"]).sort_index()[["target", "challenge"]]
    pd.testing.assert_frame_equal(got, expected)
    assert (quarter["target"] % UNIT == 0).all()
    assert (quarter["challenge"] % UNIT == 0).all()
    # Column layout and row order (rep → period → product) are those of a month run.
    assert list(quarter.columns) == list(month.columns)
    assert len(quarter) == len(month) // 3


def test_week_cells_add_up_to_month_cells(runs):
    month, week = runs["month"].targets, runs["week"].targets
    assert week["period"].str.fullmatch(r"2027-\d\d-W[1-5]").all()
    labels = week["period"].unique().tolist()
    assert len(labels) == 59  # 11 months of 5 weeks; February 2027 (28 days) has 4
    assert "2027-02-W5" not in labels and "2027-03-W5" in labels
    assert labels == sorted(labels)
    for column in ("target", "challenge"):
        assert (week[column] % UNIT == 0).all()
        assert (week[column] >= 0).all()
        by_month = week.assign(period=week["period"].str[:7]).groupby([*KEY, "period"])[column]
        pd.testing.assert_series_equal(
            by_month.sum(), month.groupby([*KEY, "period"])[column].sum()
        )
    # Each week is its month's target times its share of the days, within one unit.
    w = week.assign(month=week["period"].str[:7]).merge(
        month.rename(columns={"period": "month", "target": "month_target"})[
            [*KEY, "month", "month_target"]
        ],
        on=[*KEY, "month"],
    )
    days = pd.to_datetime(w["month"]).dt.days_in_month
    n = w["period"].str[-1].astype(int)
    week_days = np.minimum(7, days - 7 * (n - 1))
    assert (np.abs(w["target"] - w["month_target"] * week_days / days) < UNIT).all()


def test_month_weeks_calendar():
    labels, of_month, share = month_weeks(("2028-02", "2027-02", "2027-04"))
    assert labels == [
        *(f"2028-02-W{i}" for i in range(1, 6)),
        *(f"2027-02-W{i}" for i in range(1, 5)),
        *(f"2027-04-W{i}" for i in range(1, 6)),
    ]
    assert of_month.tolist() == [0] * 5 + [1] * 4 + [2] * 5
    assert share[:5] == pytest.approx([7 / 29] * 4 + [1 / 29])
    assert share[9:] == pytest.approx([7 / 30] * 4 + [2 / 30])
    assert np.bincount(of_month, weights=share) == pytest.approx([1, 1, 1])


def test_split_weeks_largest_remainders():
    """31 units over January (7,7,7,7,3 days) split exactly; 10 units: shares 2.26, 2.26,
    2.26, 2.26, 0.97 → floors 2,2,2,2,0 leave 2 units, to the largest remainders (W5's 0.97,
    then the first tied week)."""
    _, of_month, share = month_weeks(("2027-01",))
    cells = np.array([[[31], [10]], [[0], [3]]])  # 2 reps × 2 products × 1 month
    weeks = split_weeks(cells, of_month, share)
    assert weeks.shape == (2, 2, 5)
    assert weeks[0, 0].tolist() == [7, 7, 7, 7, 3]
    assert weeks[0, 1].tolist() == [3, 2, 2, 2, 1]
    assert weeks[1, 0].tolist() == [0, 0, 0, 0, 0]
    assert (weeks.sum(axis=2) == cells[:, :, 0]).all()


@pytest.mark.parametrize("granularity", ["quarter", "week"])
def test_same_inputs_same_bytes(company, granularity, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    allocate(rules(granularity), company).write(a)
    allocate(rules(granularity), company).write(b)
    for name in ("targets.csv", "explain.csv", "targets.xlsx"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    sa, sb = (json.loads((d / "summary.json").read_text()) for d in (a, b))
    for key in TIMING_KEYS:
        sa.pop(key), sb.pop(key)
    assert sa == sb


@pytest.mark.parametrize(
    ("granularity", "first", "n_periods"),
    [("month", "2027-01", 12), ("quarter", "2027-Q1", 4), ("week", "2027-01-W1", 59)],
)
def test_workbook_cards_follow_granularity(runs, granularity, first, n_periods, tmp_path):
    from openpyxl import load_workbook

    result = runs[granularity]
    result.write(tmp_path)
    wb = load_workbook(tmp_path / "targets.xlsx", read_only=True)
    rows = list(wb["cards"].iter_rows(max_row=n_periods + 4, values_only=True))
    assert rows[0][0] == "Target card: R001"
    assert rows[2][0] == first
    assert rows[n_periods + 2][0] == "year"
    assert rows[n_periods + 3] in ((), (None,) * len(rows[2]))
    mine = result.targets[result.targets["rep_id"] == "R001"]
    assert rows[n_periods + 2][4] == pytest.approx(mine["target"].sum())
    assert rows[n_periods + 2][5] == pytest.approx(mine["challenge"].sum())


def test_cli_writes_quarter_periods(tmp_path, capsys):
    path = tmp_path / "quarterly.yaml"
    path.write_text(
        "kind: allocation\n"
        "company_target: {total: 300_000_000}\n"
        "seasonality: {source: history, granularity: quarter}\n"
        "rounding: {unit: 1000}\n"
    )
    out = tmp_path / "out"
    code = main(["allocate", str(path), "--data", DATA, "--out", str(out)])
    assert code == 0, capsys.readouterr().out
    targets = pd.read_csv(out / "targets.csv", dtype={"period": str})
    assert targets["period"].unique().tolist() == ["2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4"]
    assert (targets["target"] % 1000 == 0).all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["granularity"] == "quarter"
    assert summary["periods"] == ["2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4"]
    assert targets["target"].sum() == pytest.approx(summary["total_target"])

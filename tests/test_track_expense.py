"""Tracking expenses: expense to date, its exact rate on sales, against the budget."""

from __future__ import annotations

import io
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.allocate import allocate
from attain.allocate.toy import toy_rules
from attain.cli.main import main
from attain.errors import DataError
from attain.track import track
from tests.test_allocate_activity import FUNNEL
from tests.test_allocate_expense import _write_company, doc_company

AS_OF = "2027-03-31"


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """The worked example's allocation (expenses and activities), written; a quarter's deals."""
    folder = tmp_path_factory.mktemp("plan")
    spec = toy_rules(1_600_000, unit=1000)
    spec["expenses"] = {
        "total": 100_000,
        "weights": {"region": {"North": 3, "South": 2}},
        "max_rate": {"team": 0.07},
    }
    spec["activities"] = {"funnel": FUNNEL, "average_deal": 5000}
    company = doc_company()
    allocate(spec, company).write(folder / "alloc", xlsx=False)
    rows = [
        ("D1", "2027-01-20", "R001", 30_000.10),
        ("D2", "2027-02-11", "R003", 95_000.00),
        ("D3", "2027-03-02", "R004", 41_000.00),
        ("D4", "2027-03-30", "R006", 120_000.55),
    ]
    deals = pd.DataFrame(rows, columns=["deal_id", "date", "rep_id", "amount"]).assign(product="p1")
    deals.to_csv(folder / "deals.csv", index=False)
    return folder, company


DOCS = Path(__file__).resolve().parent.parent / "docs" / "tracking.md"
_EXAMPLE = DOCS.read_text(encoding="utf-8").split("<!-- worked-example: expense-tracking -->")[1]
#: The worked example's expense rows (docs/tracking.md).
EXPENSES = list(
    pd.read_csv(io.StringIO(_EXAMPLE.split("```csv\n", 1)[1].split("```", 1)[0]), dtype=str)
    .fillna("")[["date", "unit", "level", "category", "amount"]]
    .itertuples(index=False, name=None)
)


def expenses_frame(rows=EXPENSES) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["date", "unit", "level", "category", "amount"])


def run(planned, tmp_path, expenses=None, **kw):
    folder, company = planned
    path = tmp_path / "expenses.csv"
    (expenses if expenses is not None else expenses_frame()).to_csv(path, index=False)
    return track(
        folder / "alloc" / "targets.csv", folder / "deals.csv", AS_OF, company=company,
        trials=20, expenses=path, **kw,
    )  # fmt: skip


def test_expenses_roll_up_with_their_exact_rate_on_sales(planned, tmp_path):
    """docs/tracking.md's worked example."""
    result = run(planned, tmp_path)
    e = result.expenses.set_index(["level", "unit"])
    spent = {k: Decimal(str(v)) for k, v in e["expense_to_date"].items()}
    table = _EXAMPLE.split("| level | unit | expense_to_date |", 1)[1].split("\n\n", 1)[0]
    for line in table.strip().splitlines()[1:]:
        level, unit, amount = (c.strip() for c in line.strip("|").split("|"))
        assert spent[(level, unit)] == Decimal(amount.replace(",", "")), (level, unit)
    company_rate = e.loc[("company", "company"), "expense_rate"]
    assert f"{company_rate:.4%}" == "1.4103%" and "1.4103%" in _EXAMPLE
    assert spent[("rep", "R001")] == Decimal("900.05")
    assert spent[("team", "North-1")] == Decimal("900.05")
    assert spent[("team", "North-2")] == Decimal("500.00")
    assert spent[("region", "North")] == Decimal("1400.05")
    assert spent[("region", "South")] == Decimal("2333.33")  # its own 2,000 and R006's
    assert spent[("team", "South-1")] == Decimal("333.33")
    assert spent[("company", "company")] == Decimal("4033.38")  # the rows of the year
    # The rate is that of the exact sums: 4,033.38 / 286,000.65.
    rate = Fraction(403338, 28600065)
    assert e.loc[("company", "company"), "expense_rate"] == round(float(rate), 6)
    assert e.loc[("rep", "R002"), "expense_to_date"] == 0 and np.isnan(
        e.loc[("rep", "R002"), "expense_rate"]
    )
    s = result.summary["expenses"]
    assert s["by_category"] == {"events": 2800.0, "travel": 1233.38}
    assert [n.code for n in result.notices if "expense" in n.code] == ["expenses-before-year"]


def test_the_budget_to_date_is_the_months_gone_of_the_allocation_s_budget(planned, tmp_path):
    result = run(planned, tmp_path)
    folder, _ = planned
    budget = pd.read_csv(folder / "alloc" / "expense_budget.csv", dtype={"expense_budget": str})
    months = budget[budget["period"].isin(["2027-01", "2027-02", "2027-03"])]
    due = months.groupby("unit")["expense_budget"].agg(lambda x: sum(map(Decimal, x)))
    e = result.expenses[result.expenses["level"].isin(["company", "region", "team"])]
    for unit, to_date, year in zip(e["unit"], e["budget_to_date"], e["budget"], strict=True):
        assert Decimal(str(to_date)) == due[unit], unit
        full = budget[(budget["unit"] == unit) & (budget["period"] == "year")]["expense_budget"]
        assert Decimal(str(year)) == Decimal(full.item())
    north = e.set_index("unit").loc["North"]
    assert north["budget"] == 56_000 and north["variance_to_date"] == pytest.approx(
        north["budget_to_date"] - 1400.05
    )
    assert not north["over_budget"]
    assert result.frames["expenses"] is result.expenses
    assert result.summary["expenses"]["budget"] == 100_000


def test_without_a_budget_expenses_are_shown_with_a_warning(planned, tmp_path):
    folder, company = planned
    targets = pd.read_csv(folder / "alloc" / "targets.csv")  # a frame: nothing beside it
    path = tmp_path / "e.csv"
    expenses_frame().to_csv(path, index=False)
    result = track(targets, folder / "deals.csv", AS_OF, company=company, trials=5, expenses=path)
    assert result.expenses["budget"].isna().all()
    assert "no-expense-budget" in {n.code for n in result.notices}


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        (("2027-02-01", "R0001", "", "travel", "10"), "unit", "did you mean `R001`"),
        (("2027-02-01", "North-3", "team", "travel", "10"), "unit", "unknown unit `North-3`"),
        (("2027-02-01", "R001", "squad", "travel", "10"), "level", "unknown level `squad`"),
        (("2027-04-01", "R001", "", "travel", "10"), "date", "after --as-of 2027-03-31"),
        (("2027-02-30", "R001", "", "travel", "10"), "date", "not a date"),
        (("2027-02-01", "R001", "", "travel", "12k"), "amount", "not a number"),
        (("2027-02-01", "R001", "", "travel", "1.005"), "amount", "more decimals"),
    ],
)
def test_bad_expense_rows_are_located(planned, tmp_path, row, field, message):
    with pytest.raises(DataError) as caught:
        run(planned, tmp_path, expenses_frame([EXPENSES[0], row]))
    problem = caught.value.problems[0]
    assert problem.row == 3 and problem.field == field and message in problem.message, problem


def test_a_budget_of_a_unit_not_tracked_is_located(planned, tmp_path):
    folder, _ = planned
    budget = pd.read_csv(folder / "alloc" / "expense_budget.csv", dtype=str)
    budget.loc[budget["unit"] == "South-1", "unit"] = "South-9"
    bad = tmp_path / "budget.csv"
    budget.to_csv(bad, index=False)
    with pytest.raises(DataError, match="budget for unknown team `South-9`"):
        run(planned, tmp_path, expense_budget=bad)


def test_the_cli_tracks_expenses_and_a_bad_row_writes_nothing(planned, tmp_path):
    folder, company = planned
    data = tmp_path / "data"
    _write_company(company, data)
    path = tmp_path / "expenses.csv"
    expenses_frame().to_csv(path, index=False)
    out = tmp_path / "out"
    argv = ["track", "--targets", str(folder / "alloc" / "targets.csv"), "--actuals",
            str(folder / "deals.csv"), "--as-of", AS_OF, "--data", str(data), "--trials", "10",
            "--expenses", str(path), "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    written = pd.read_csv(out / "expenses.csv")
    assert {"expense_to_date", "expense_rate", "budget_to_date", "over_budget"} <= set(written)
    expenses_frame([("2027-09-01", "R001", "", "x", "1")]).to_csv(path, index=False)
    again = tmp_path / "again"
    assert main([*argv[:-1], str(again)]) == 2 and not again.exists()


@settings(max_examples=15, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "R001",
                    "R002",
                    "R003",
                    "R004",
                    "R005",
                    "R006",
                    "North-1",
                    "North-2",
                    "South-1",
                    "North",
                    "South",
                ]
            ),  # fmt: skip
            st.integers(-10_000, 1_000_000),
            st.integers(0, 89),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_every_level_adds_up_to_the_rows_under_it(planned, tmp_path_factory, rows):
    frame = pd.DataFrame(
        {
            "date": [str(np.datetime64("2027-01-01") + d) for _, _, d in rows],
            "unit": [u for u, _, _ in rows],
            "amount": [f"{c / 100:.2f}" for _, c, _ in rows],
        }
    )
    result = run(planned, tmp_path_factory.mktemp("h"), frame)
    cents = result.expenses.assign(c=(result.expenses["expense_to_date"] * 100).round().astype(int))
    got = cents.set_index(["level", "unit"])["c"]
    team_of = {"R001": "North-1", "R002": "North-1", "R003": "North-2"} | dict.fromkeys(
        ["R004", "R005", "R006"], "South-1"
    )
    region_of = {"North-1": "North", "North-2": "North", "South-1": "South"}

    def under(unit: str, level: str) -> int:
        total = 0
        for u, c, _ in rows:
            team = team_of.get(u, u if u in region_of else None)
            region = region_of.get(team, u) if team else u
            if (
                (level == "rep" and u == unit)
                or (level == "team" and team == unit)
                or (level == "region" and region == unit)
                or level == "company"
            ):
                total += c
        return total

    for (level, unit), value in got.items():
        assert value == under(str(unit), str(level)), (level, unit)

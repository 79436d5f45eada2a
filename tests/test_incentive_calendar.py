"""The plan year's calendar: slots, pay-period labels, targets spread over slots, and
semi-monthly and two-week plans paid exactly, with year-to-date true-ups."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from attain.incentive import load_plan, payouts
from attain.incentive.calendar import Calendar
from attain.incentive.inputs import read_book

ROOT = Path(__file__).resolve().parent.parent


def _days(*dates):
    return np.array(dates, dtype="datetime64[D]")


def test_semi_monthly_slots_split_each_month_at_the_16th():
    cal = Calendar(2027, 1, "semi_monthly")
    labels = cal.period_labels()
    assert (cal.n_slots, cal.n_periods, len(labels)) == (24, 24, 24)
    assert labels[:3] == ["2027-01-H1", "2027-01-H2", "2027-02-H1"] and labels[-1] == "2027-12-H2"
    index = cal.month_index(_days("2027-01-15", "2027-01-16", "2027-02-28", "2027-12-31"))
    assert index.tolist() == [0, 1, 3, 23]
    assert cal.month_index(_days("2026-12-31", "2028-01-01")).tolist() == [-1, -1]
    assert cal.slot_days()[:4].tolist() == [15, 16, 15, 13]


def test_two_week_periods_run_from_the_fiscal_year_s_first_day():
    cal = Calendar(2027, 4, "two_week")  # fiscal year from 1 April 2027
    labels = cal.period_labels()
    assert len(labels) == 26 and labels[0] == "2027-P01" and labels[-1] == "2027-P26"
    assert cal.month_start(0) == dt.date(2027, 4, 1)
    assert cal.month_start(1) == dt.date(2027, 4, 15)
    days = cal.slot_days()
    assert days[:25].tolist() == [14] * 25 and days[25] == 366 - 350  # 2028 is a leap year
    assert cal.month_index(_days("2027-04-14", "2027-04-15", "2028-03-31")).tolist() == [0, 1, 25]


def test_month_targets_spread_over_sub_month_periods_by_days():
    """January's 3,100.00: semi-monthly 15/31 and 16/31 (1,500.00, 1,600.00); two-week
    P01 and P02 14 days each (1,400.00), P03 the 3 January days of its 14 (300.00). The
    plan's own labels are targets too; a quarter spreads over its days, exact to the cent."""
    targets = pd.DataFrame(
        [("R1", "2027-01", "a", 3100.0), ("R1", "2027-Q2", "a", 910.01)],
        columns=["rep_id", "period", "product", "target"],
    )
    semi = read_book(targets, None, None, 2027, "semi_monthly", 2).targets[0, :, 0]
    assert semi[:2].tolist() == [150000, 160000]
    # Q2's 91 days: 15, 15, 15, 16, 15, 15 → 15,000.16 …; the leftover cent to the first
    assert semi[6:12].tolist() == [15001, 15000, 15000, 16000, 15000, 15000]
    weeks = read_book(targets.iloc[:1], None, None, 2027, "two_week", 2).targets[0, :, 0]
    assert weeks[:3].tolist() == [140000, 140000, 30000] and weeks.sum() == 310000
    own = pd.DataFrame([("R1", "2027-03-H2", "a", 50.0)], columns=targets.columns)
    assert read_book(own, None, None, 2027, "semi_monthly", 2).targets[0, 5, 0] == 5000


def test_a_bad_label_names_the_plan_s_own_periods():
    from attain.errors import DataError

    bad = pd.DataFrame(
        [("R1", "2027-01-H3", "a", 1.0)], columns=["rep_id", "period", "product", "target"]
    )
    with pytest.raises(DataError, match="or one of its pay periods \\(2027-01-H1"):
        read_book(bad, None, None, 2027, "semi_monthly", 2)


def test_the_documented_semi_monthly_example():
    """docs/plans.md, *Semi-monthly and two-week periods*: checked line by line there."""
    from tests.test_incentive_worked import _check_doc, _parts_add_up, _run_doc

    result, expected = _run_doc("semi-monthly")
    _check_doc(result, expected)
    _parts_add_up(result)


def test_sub_monthly_ytd_plans_pay_the_monthly_plan_s_year(sample_company):
    """With year-to-date true-ups and `claw_back` the year pays what the year earned,
    whatever the periods: plan_field_rep (its SPIFF aside) monthly, semi-monthly and
    two-week pays every rep the same year total, exactly, and the simulator (monthly sales
    spread over the days) agrees within a unit."""
    from attain.incentive.compile import compile_plan
    from attain.incentive.credit import credit_deals
    from attain.simulate.evaluator import plan_model

    actuals = sample_company.actuals
    targets = ROOT / "tests" / "fixtures" / "incentive" / "targets.csv"
    plan = load_plan(ROOT / "rules" / "plan_field_rep.yaml", sample_company)
    data = plan.model_dump(mode="json")
    data["components"] = [c for c in data["components"] if c["type"] != "spiff"]
    data["negative_balance"] = "claw_back"  # the year pays the year's earnings, nothing carried
    monthly = read_book(targets, actuals, sample_company, None, "month", 2)
    totals = {}
    for period in ("month", "semi_monthly", "two_week"):
        p = load_plan({**data, "period": period}, sample_company)
        result = payouts(p, targets, actuals, sample_company)
        labels = result._context["book"].calendar.period_labels()
        assert set(result.lines["period"]) <= set(labels) and len(labels) > 1
        totals[period] = result.lines.groupby("rep_id")["amount_minor"].sum()
        # the simulator reads monthly credit and targets, spread over each month's days
        credit = credit_deals(compile_plan(p, monthly.products, 2), monthly)
        people = monthly.people
        model = plan_model(
            p, people, monthly.targets / 100, monthly.products, 2, company=sample_company
        )
        simulated = model.total((credit.net_months / 100)[None])[0]
        exact = totals[period].reindex(people["rep_id"], fill_value=0).to_numpy() / 100
        assert np.abs(simulated - exact).max() < 1.0, period
    assert totals["semi_monthly"].equals(totals["month"])
    assert totals["two_week"].equals(totals["month"])

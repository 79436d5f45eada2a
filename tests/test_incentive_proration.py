"""Proration by days in role, from a dated org: exact, and whole for a whole year."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.incentive.calendar import Calendar
from attain.incentive.proration import days_in_role, prorate

CAL = Calendar(2027)


def org(rows):
    frame = pd.DataFrame(rows, columns=["rep_id", "role", "start_date", "end_date"])
    for c in ("start_date", "end_date"):
        frame[c] = pd.to_datetime(frame[c])
    return frame


def test_a_whole_year_a_leaver_and_a_role_change():
    dated = org(
        [
            ("A", "rep", None, None),
            ("B", "rep", None, "2027-06-30"),
            ("C", "rep", None, "2027-03-31"),
            ("C", "manager", "2027-04-01", None),
        ]
    )
    days = days_in_role(dated, ["A", "B", "C"], CAL, roles=["rep"])
    assert days.sum(axis=1).tolist() == [365, 181, 90]
    assert days[1, 5] == 30 and days[1, 6] == 0
    pay = prorate(np.array([3_650_000, 3_650_000, 3_650_000]), days, CAL)
    assert pay.tolist() == [3_650_000, 1_810_000, 900_000]
    all_roles = days_in_role(dated, ["C"], CAL)
    assert all_roles.sum() == 365


@settings(max_examples=40, deadline=None)
@given(cut=st.integers(0, 364), amount=st.integers(0, 10**9))
def test_the_parts_of_a_split_year_add_up_to_the_year_within_a_unit(cut, amount):
    day = np.datetime64("2027-01-01") + cut
    dated = org([("A", "rep", None, str(day)), ("A", "senior_rep", str(day + 1), None)])
    first = prorate(np.array([amount]), days_in_role(dated, ["A"], CAL, ["rep"]), CAL)
    second = prorate(np.array([amount]), days_in_role(dated, ["A"], CAL, ["senior_rep"]), CAL)
    assert abs(int(first[0] + second[0]) - amount) <= 1
    # exact to the minor unit: within half a unit of amount × days ÷ 365
    assert 2 * abs(int(first[0]) * 365 - amount * (cut + 1)) <= 365

"""Largest-remainder apportionment: exact group totals, floors or ceilings, never a raise."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.allocate.rounding import apportion, money


def groups_of(sizes: list[int]) -> np.ndarray:
    return np.repeat(np.arange(len(sizes)), sizes)


@st.composite
def reachable(draw):
    """Values per group and a total each group's floors and ceilings can reach."""
    sizes = draw(st.lists(st.integers(1, 6), min_size=1, max_size=5))
    values = np.array(
        draw(
            st.lists(
                st.floats(0, 1e6, allow_nan=False),
                min_size=sum(sizes),
                max_size=sum(sizes),
            )
        )
    )
    groups = groups_of(sizes)
    sums = np.bincount(groups, weights=values)
    totals = np.array([draw(st.sampled_from([np.floor(s), np.ceil(s)])) for s in sums], int)
    return values, groups, totals


@settings(max_examples=200, deadline=None)
@given(reachable())
def test_groups_add_up_and_each_part_moves_less_than_a_unit(case):
    """(Remainders within 1e-9 of each other are ties, so a part may move by a whole unit
    when the spare unit is LP noise: 0 and 1e-158 tie.)"""
    values, groups, totals = case
    out = apportion(values, groups, totals)
    assert np.array_equal(np.bincount(groups, weights=out, minlength=len(totals)), totals)
    assert np.all(np.abs(out - values) <= 1 + 1e-9)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0, 1e4, allow_nan=False), min_size=1, max_size=8),
    st.integers(0, 10**6),
)
def test_an_out_of_reach_total_is_met_without_raising(values, total):
    """A single child under a parent × a buffer ratio, or any total far from the values:
    the values are scaled to the total first; the sum is still exact and nothing < 0."""
    values = np.array(values)
    out = apportion(values, np.zeros(len(values), np.int64), np.array([total]))
    assert out.sum() == total
    assert (out >= 0).all()


def test_whole_values_stay_whole_when_the_total_allows():
    """A value held at a whole number of units is never moved for another's remainder."""
    values = np.array([60_000.0, 40_000.4, 12.6])
    out = apportion(values, np.zeros(3, np.int64), np.array([100_014]))
    assert out.tolist() == [60_000, 40_001, 13]


def test_priority_rounds_a_part_up_first():
    values = np.array([1.5, 1.5, 1.5])
    out = apportion(values, np.zeros(3, np.int64), np.array([5]), np.array([0.0, 0.0, 1.0]))
    assert out.tolist() == [2, 1, 2]
    out = apportion(values, np.zeros(3, np.int64), np.array([5]), np.array([-1.0, 0.0, 0.0]))
    assert out.tolist() == [1, 2, 2]


def test_lp_noise_below_a_whole_unit_is_that_unit():
    """59,999.99999999 units (an LP's 60,000,000 at a unit of 1,000) is 60,000 units."""
    values = np.array([59_999.99999999, 0.4, 0.6])
    out = apportion(values, np.zeros(3, np.int64), np.array([60_001]))
    assert out.tolist() == [60_000, 0, 1]


def test_money_formats_units():
    assert money(1e9) == "1,000,000,000"
    assert money(0.01) == "0.01"
    assert money(2.5) == "2.5"

"""Exact rounding of quotients and the int64 test of thresholds (attain.incentive.rational)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.incentive.rational import round_div, thresholds_fit_int64

MODES = ("half_up", "half_even", "down")


def reference(num: int, den: int, mode: str) -> int:
    """The rule on Fractions: halves away from zero, halves to even, toward zero."""
    x = Fraction(num, den)
    if mode == "down":
        return math.trunc(x)
    if mode == "half_even":
        return round(x)
    return int(math.copysign(math.floor(abs(x) + Fraction(1, 2)), x))


# Quotients near a half or an integer, at the scales the exact kinds produce (products of
# TI, weights and millionths: numerators past 10^30, far outside int64).
quotient = st.integers(-(10**12), 10**12)
near = st.sampled_from([0, 1, -1, 2, -2]) | st.integers(-(10**6), 10**6)
scale = st.integers(0, 28).map(lambda k: 10**k)


@st.composite
def cases(draw) -> tuple[list[int], int | list[int]]:
    n = draw(st.integers(1, 12))
    dens = [draw(st.integers(1, 10**6)) * draw(scale) for _ in range(n)]
    one = draw(st.booleans())  # one denominator for every numerator
    if one:
        dens = dens[:1] * n
    nums = []
    for d in dens:
        q, offset = draw(quotient), draw(near)
        half = d // 2 if draw(st.booleans()) else 0
        nums.append(q * d + half + offset)
    return nums, dens[0] if one else dens


@settings(max_examples=300, deadline=None)
@given(cases())
def test_round_div_of_python_ints_follows_each_rule_exactly(case):
    nums, dens = case
    num = np.array(nums, dtype=object)
    den = dens if isinstance(dens, int) else np.array(dens, dtype=object)
    for mode in MODES:
        got = round_div(num, den, mode)
        assert got.dtype == np.int64
        d = [dens] * len(nums) if isinstance(dens, int) else dens
        assert got.tolist() == [reference(a, b, mode) for a, b in zip(nums, d, strict=True)]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-(10**15), 10**15), min_size=1, max_size=20), st.integers(1, 10**6))
def test_round_div_of_int64_follows_each_rule_exactly(nums, den):
    for mode in MODES:
        got = round_div(np.array(nums, dtype=np.int64), den, mode)
        assert got.tolist() == [reference(a, den, mode) for a in nums]


def test_round_div_of_ints_beyond_floats_is_still_exact():
    num = np.array([10**400 + 1, -(10**400) - 1, 3 * 10**399], dtype=object)
    assert round_div(num, 10**390).tolist() == [10**10, -(10**10), 3 * 10**9]


def test_thresholds_fit_int64_at_its_bounds():
    starts = np.array([0, 2_000_000])
    assert thresholds_fit_int64(np.array([10**12]), np.array([10**11]), starts)
    assert not thresholds_fit_int64(np.array([10**13]), np.array([10]), starts)
    assert not thresholds_fit_int64(np.array([1]), np.array([10**12]), starts * 10**6)
    assert not thresholds_fit_int64(np.array([1], dtype=object), np.array([1]), starts)

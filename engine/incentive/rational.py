"""Exact arithmetic on arrays: integers, and fractions kept as (numerator, denominator).

Money is held in integer minor units (cents); rates, attainments and curve points
in millionths (:data:`MICRO`). Products of such numbers outgrow int64, so exact
formulas run on numpy object arrays of Python integers (still vectorised, and
exact at any size); the result is rounded once, by :func:`round_div`.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np

__all__ = ["MICRO", "as_exact", "micro", "round_div", "thresholds_fit_int64", "to_minor"]

#: Rates, attainments and multiples are read to six decimal places: 0.08 -> 80_000.
MICRO = 1_000_000


def micro(value: float) -> int:
    """A rate or attainment in millionths, read from its decimal text (0.1 -> 100000)."""
    return int(Decimal(repr(float(value))).scaleb(6).quantize(Decimal(1), ROUND_HALF_UP))


def to_minor(value: float, minor_unit: int) -> int:
    """An amount of money in minor units, read from its decimal text (12.34 -> 1234)."""
    scaled = Decimal(repr(float(value))).scaleb(minor_unit)
    return int(scaled.quantize(Decimal(1), ROUND_HALF_UP))


def as_exact(values: np.ndarray) -> np.ndarray:
    """The same integers as an object array of Python ints (no overflow)."""
    return np.asarray(values).astype(object)


def round_div(num: np.ndarray, den: np.ndarray | int, mode: str = "half_up") -> np.ndarray:
    """``num / den`` rounded to an integer (``den > 0``), as int64.

    ``half_up`` rounds halves away from zero (2.5 -> 3, -2.5 -> -3), ``half_even``
    to the even neighbour, ``down`` toward zero.
    """
    num = np.asarray(num)
    if num.dtype == object:
        return _round_div_ints(num, den, mode)
    return _round_div_exact(num, den, mode)


def _round_div_exact(num: np.ndarray, den, mode: str) -> np.ndarray:
    q = num // den  # floor
    r = num - q * den  # 0 <= r < den
    twice = 2 * r
    if mode == "down":
        up = (num < 0) & (r != 0)
    elif mode == "half_even":
        up = (twice > den) | ((twice == den) & (q % 2 != 0))
    else:
        up = (twice > den) | ((twice == den) & (num >= 0))
    return np.asarray(q + up.astype(np.int64), dtype=object).astype(np.int64)


#: Below this a float quotient's integer and fractional parts are exact.
_FLOAT_EXACT = 2.0**50
#: A float quotient of two correctly rounded ints is within 3 ulps of num / den: this many
#: ulps of margin decide a rounding from it alone.
_MARGIN = 16 * np.finfo(np.float64).eps


def _round_div_ints(num: np.ndarray, den, mode: str) -> np.ndarray:
    """:func:`round_div` of Python ints: their float quotient decides the rounding of
    every element not within a few ulps of a boundary the mode rounds at (a half, or an
    integer for ``down``); those, and quotients too large for it, are divided exactly.
    Each operation on Python ints is a call per element: this makes two (the
    conversions) where the exact division makes eight."""
    shape = np.broadcast_shapes(num.shape, np.shape(den))
    num = np.broadcast_to(num, shape)
    try:
        e = num.astype(np.float64) / np.asarray(den, dtype=object).astype(np.float64)
    except OverflowError:
        return _round_div_exact(num, den, mode)
    size = np.abs(e)
    if mode == "down":
        out = np.trunc(e)
        near = (np.abs(e - np.rint(e)) <= _MARGIN * size) & (e != 0)
    else:
        out = np.rint(e)  # nearest: not within the margin of a half
        near = np.abs(np.abs(e - np.floor(e)) - 0.5) <= _MARGIN * size
    near |= ~(size < _FLOAT_EXACT)
    out = out.astype(np.int64)
    if near.any():
        d = np.broadcast_to(den, shape)[near] if np.ndim(den) else den
        out[near] = _round_div_exact(num[near], d, mode)
    return out


def thresholds_fit_int64(S: np.ndarray, T: np.ndarray, a: np.ndarray) -> bool:
    """Whether a measure ``S`` × 10⁶, each threshold ``a`` (millionths of attainment) ×
    its target ``T`` and a difference of two of them fit in int64, with room for the
    float estimate's rounding: then where ``S`` falls among the thresholds is exact in
    int64, much faster than in Python ints."""
    if S.dtype == object or np.asarray(T).dtype == object:
        return False
    x_big = float(np.abs(S).max(initial=0)) * MICRO
    t_big = float(np.abs(T).max(initial=0)) * 2 * float(np.abs(a).max(initial=0))
    return max(x_big, t_big) < 2.0**61

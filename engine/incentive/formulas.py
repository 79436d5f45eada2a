"""The components' exact formulas, over arrays of windows (people × periods).

Each function returns ``(num, den)``: the exact amount in minor units is
``num / den`` (``den > 0``), with numpy object arrays of Python integers where
products could outgrow int64. Money is in minor units; rates, attainments and
curve points in millionths (``MICRO``). ``X`` is the selecting measure scaled to
the tier units: the amount itself (basis ``amount``) or ``amount × MICRO``
compared with ``start × target`` (basis ``attainment``), so attainment
breakpoints never need a division.
"""

from __future__ import annotations

import numpy as np

from attain.incentive.compile import CompiledComponent
from attain.incentive.rational import MICRO

__all__ = ["curve", "penalty", "step_bonus", "tier_index", "tiers"]

_O = object


def _obj(a) -> np.ndarray:
    return np.asarray(a).astype(_O)


def tier_index(X: np.ndarray, B: np.ndarray, boundary: str) -> np.ndarray:
    """Index of the tier ``X`` falls in; ``B[..., i]`` are tier starts (broadcast on the last axis).

    ``upper``: a value at an edge belongs to the tier starting there; ``lower``: to the one ending there.
    """
    hit = (X[..., None] >= B) if boundary == "upper" else (X[..., None] > B)
    return np.maximum(hit.sum(axis=-1) - 1, 0)


def _fits_int64(X, A, B, rates) -> bool:
    arrays = [np.asarray(a) for a in (X, A, B)]
    if any(a.dtype == object for a in arrays):
        return False
    big = max(float(np.abs(a).max(initial=0)) for a in arrays)
    return big * float(rates.max(initial=0)) * (len(rates) + 1) < 2.0**62


def _take(B: np.ndarray, i: np.ndarray) -> np.ndarray:
    B = np.broadcast_to(B, (*i.shape, B.shape[-1]))
    return np.take_along_axis(B, i[..., None], axis=-1)[..., 0]


def tiers(
    c: CompiledComponent,
    X: np.ndarray,
    A: np.ndarray,
    B: np.ndarray,
    x_scale: int,
    blended: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Commission: tier table on ``X`` (in tier units), paid on ``A`` (minor units).

    ``B`` holds the tier starts in tier units (broadcastable to ``X.shape + (n,)``);
    ``x_scale`` converts tier units to minor units (1, or ``MICRO`` for attainment).
    With ``A`` equal to the amount ``X`` measures, marginal pays each slice at its rate;
    when they differ (``blended``), ``A`` is paid at the average rate the table gives ``X``.
    """
    small = c.method != "interpolated" and not blended and _fits_int64(X, A, B, c.values)
    if not small:
        X, A, B = _obj(X), _obj(A), _obj(B)
        rates = _obj(c.values)
    else:  # amounts × rates stay far below 2**63: int64 is exact and much faster
        rates = c.values
    if c.method == "marginal":
        widths = np.diff(B, axis=-1)
        slices = np.maximum(X[..., None] - B, 0)
        slices[..., :-1] = np.minimum(slices[..., :-1], widths)
        # Below zero (cancellations exceeding bookings) the first rate runs backwards.
        V = (slices * rates).sum(axis=-1) + np.minimum(X, 0) * rates[0]
        if not blended:
            return V, MICRO * x_scale
        sign = (X > 0).astype(int) - (X < 0).astype(int)
        return A * V * sign, MICRO * np.where(X == 0, 1, X * sign)
    i = tier_index(X, B, c.boundary)
    rate = rates[i]
    if c.method == "retroactive":
        return A * rate, MICRO
    last = i == len(rates) - 1
    nxt = np.minimum(i + 1, len(rates) - 1)
    b_i, b_n = _take(B, i), _take(B, nxt)
    width = np.where(last, 1, b_n - b_i)
    width = np.where(width == 0, 1, width)  # a zero target makes every band empty
    inside = np.maximum(X, b_i) - b_i  # a negative amount keeps the first rate
    rate_num = np.where(last, rate, rate * width + inside * (rates[nxt] - rate))
    return A * rate_num, MICRO * width


def curve(
    c: CompiledComponent, S: np.ndarray, T: np.ndarray, ti_num: np.ndarray, ti_den: int
) -> tuple[np.ndarray, np.ndarray]:
    """Attainment curve: ``weight × TI × f(S / T)``, f piecewise linear through the points.

    Below the first point pays nothing; above the last stays flat; no target pays nothing.
    """
    S, T = _obj(np.maximum(S, 0)), _obj(T)
    a, p = _obj(c.starts), _obj(c.values)
    X = S * MICRO
    AT = a * T[..., None]
    reached = (X[..., None] >= AT).sum(axis=-1)
    j = np.maximum(reached - 1, 0)
    nxt = np.minimum(j + 1, len(a) - 1)
    last = reached >= len(a)
    da = np.where(last, 1, a[nxt] - a[j]) * T
    da = np.where(da == 0, 1, da)
    f_num = np.where(last, p[j] * da, p[j] * da + (X - a[j] * T) * (p[nxt] - p[j]))
    f_num = np.where((reached == 0) | (T <= 0), 0, f_num)
    return ti_num * c.weight * f_num, ti_den * MICRO * MICRO * da


def step_bonus(
    c: CompiledComponent, S: np.ndarray, T: np.ndarray, ti_num: np.ndarray, ti_den: int
) -> tuple[np.ndarray, np.ndarray]:
    """Step bonus: the highest step whose attainment is reached pays."""
    X = _obj(np.maximum(S, 0)) * MICRO
    T = _obj(T)
    reached = (_obj(c.starts) * T[..., None] <= X[..., None]).sum(axis=-1)
    reached = np.where(T > 0, reached, 0)
    j = np.maximum(reached - 1, 0)
    values, in_ti = _obj(c.values)[j], c.in_ti[j]
    num = np.where(in_ti, values * ti_num, values * MICRO * ti_den)
    return np.where(reached > 0, num, 0), MICRO * ti_den


def penalty(
    c: CompiledComponent, S: np.ndarray, T: np.ndarray, ti_num: np.ndarray, ti_den: int
) -> tuple[np.ndarray, np.ndarray]:
    """Penalty: minus the amount (or share of TI) when attainment is below ``below``."""
    X, T = _obj(S) * MICRO, _obj(T)
    hit = (T > 0) & (c.below * T > X)
    value = int(c.values[0])
    num = value * ti_num if bool(c.in_ti[0]) else _obj(np.full(np.shape(S), value * MICRO * ti_den))
    return np.where(hit, -num, 0), MICRO * ti_den

"""Attainment curve: ``weight × TI × f(attainment)``, f piecewise linear through the points
(nothing below the first point, flat above the last)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from attain.incentive.floats import M, Window, f64, kept
from attain.incentive.floats import clip as _clip
from attain.incentive.kinds.base import (
    CompiledComponent,
    ExactInputs,
    KindBase,
    Part,
    common,
    register,
)
from attain.incentive.rational import MICRO, micro, thresholds_fit_int64
from attain.incentive.text import measured, multiple, pct
from attain.schema.plan import AttainmentCurve

__all__ = ["CompiledCurve", "CurveKind"]


@dataclass(frozen=True, kw_only=True)
class CompiledCurve(CompiledComponent):
    type = "attainment_curve"
    starts: np.ndarray  # int64[n] attainments, millionths
    values: np.ndarray  # int64[n] payouts as multiples of TI, millionths
    weight: int  # millionths of TI


def _obj(a) -> np.ndarray:
    return np.asarray(a).astype(object)


class CurveKind(KindBase):
    type = "attainment_curve"
    schema = AttainmentCurve
    cellwise_parts = True

    def compile(self, c: AttainmentCurve, products: tuple[str, ...], unit: int) -> CompiledCurve:
        return CompiledCurve(
            **common(c, products, unit),
            starts=np.array([micro(p.attainment) for p in c.points], dtype=np.int64),
            values=np.array([micro(p.payout) for p in c.points], dtype=np.int64),
            weight=micro(c.weight),
        )

    def exact(self, c: CompiledCurve, x: ExactInputs):
        num, den, _, _ = _exact(c, x)
        return num, den

    def parts(self, c: CompiledCurve, x: ExactInputs) -> list[Part]:
        """The segment attainment falls in: TI × weight × the curve's value there."""
        num, den, j, on = _exact(c, x)
        base = x.ti_num * c.weight
        n = len(c.starts)
        out = []
        for k in range(n):
            hit = on & (j == k)
            last = k + 1 == n
            name = "above the last point" if last else f"between points {k + 1} and {k + 2}"
            out.append(
                Part(
                    f"curve {name}",
                    (np.where(hit, num, 0), den),
                    (np.where(hit, base, 0), x.ti_den * MICRO),
                    (np.where(hit, num * x.ti_den * MICRO, 0), np.where(hit, den * base, 1)),
                    "attainment",
                    int(c.starts[k]),
                    None if last else int(c.starts[k + 1]),
                    "attainment",
                    "multiple",
                )
            )
        return out

    def vectorised(self, c: CompiledCurve, w: Window, accel_fail) -> np.ndarray:
        att = w.attainment(c.mask)
        if accel_fail is not None:
            att = np.where(accel_fail, np.minimum(att, 1.0), att)
        value = _curve(c, att)
        value *= w.ti_w
        return value

    def rule(self, c: CompiledCurve, unit: int) -> str:
        pts = ", ".join(
            f"({pct(a)}, {multiple(p)}x)" for a, p in zip(c.starts, c.values, strict=True)
        )
        return f"{c.label}: attainment curve through {pts} of {pct(c.weight)} of target incentive"

    def inputs(self, c, info: dict, r: int, w: int, unit: int, earned) -> str:
        return measured(info, r, w, unit, ti=True, thresholds=c.starts)


def _exact(c: CompiledCurve, x: ExactInputs):
    """The amount ``(num, den)``, the segment index and where the curve pays."""
    S, T = x.S, x.T
    if x.accel_fail is not None:
        S = np.where(x.accel_fail, np.minimum(S, T), S)
    S, a, p = np.maximum(S, 0), c.starts, c.values
    if not thresholds_fit_int64(S, T, a):
        S, T, a, p = _obj(S), _obj(T), _obj(a), _obj(p)
    # Where attainment falls, in int64 when the products fit (exact, and much faster than
    # Python ints); the amount's products need Python ints either way.
    X = S * MICRO
    reached = (X[..., None] >= a * T[..., None]).sum(axis=-1)
    j = np.maximum(reached - 1, 0)
    nxt = np.minimum(j + 1, len(a) - 1)
    last = reached >= len(a)
    da = np.where(last, 1, a[nxt] - a[j]) * T
    da = _obj(np.where(da == 0, 1, da))
    # Past the last point nxt is j: the rise adds nothing, the value is flat at p[j].
    f_num = _obj(p[j]) * da + _obj(X - a[j] * T) * _obj(p[nxt] - p[j])
    on = (reached > 0) & (T > 0)
    f_num = np.where(on, f_num, 0)
    return x.ti_num * c.weight * f_num, x.ti_den * MICRO * MICRO * da, j, on & (x.ti_num != 0)


def curve_segments(c: CompiledCurve) -> tuple:
    """What :func:`_curve` reads: the first point, p0 × weight and, per sloped segment,
    its start, width and slope × weight."""
    a, p = c.starts / M, c.values / M
    weight = c.weight / M
    segments = []
    for i in range(len(a) - 1):
        slope = (p[i + 1] - p[i]) / (a[i + 1] - a[i]) * weight
        if slope != 0:
            segments.append((a[i], a[i + 1] - a[i], slope))
    return a[0], p[0] * weight, segments


def _curve(c: CompiledCurve, att, out=None, part=None, hit=None, segments=None):
    """p0 + the sum of each segment's slope × the part of the segment reached (in place);
    ``out``, ``part`` and ``hit`` (bool) are optional buffers of att's shape, ``segments``
    :func:`curve_segments` (computed once by a caller that calls often)."""
    f = np.empty_like(att) if out is None else out
    if part is None:
        part = np.empty_like(att)
    if hit is None:
        hit = np.empty_like(att, dtype=bool)
    if segments is not None:
        return curve_kernel(c, segments)(att, f, part, hit)
    key = ("curve", c.starts.tobytes(), c.values.tobytes(), repr(c.weight))  # what it reads
    return kept(key, c, curve_kernel)(att, f, part, hit)


def curve_kernel(c: CompiledCurve, segments=None, nan_check: bool = True):
    """:func:`_curve` prepared once: ``run(att, out, part, hit)`` makes the same passes,
    its numbers float64 0-d arrays (a Python float costs every call a conversion).
    Without ``nan_check`` a rep without a target (NaN attainment) is not zeroed: for a
    caller whose reps all have a target, where NaN comes only from NaN sales (which
    make the total NaN whatever the curve pays)."""
    a0, base, sloped = curve_segments(c) if segments is None else segments
    threshold, first = f64(a0), f64(base)
    zero = f64(0.0)
    parts = [(f64(start), f64(width), f64(slope)) for start, width, slope in sloped]

    def run(att, out, part, hit):
        for i, (start, width, slope) in enumerate(parts):
            np.subtract(att, start, out=part)
            _clip(part, zero, width, out=part)
            np.multiply(part, slope, out=part)
            if i:
                np.add(out, part, out=out)
            else:  # p0 + the first part: one pass (an add is the same both ways round)
                np.add(part, first, out=out)
        if not parts:
            out.fill(base)
        # below the threshold: nothing (a multiply: much faster than where), by the mask
        # as 0.0 and 1.0 in ``part`` (a cast then a multiply: 1.3x faster than a multiply
        # by the bools, which casts them in small blocks)
        np.greater_equal(att, threshold, out=hit)
        np.copyto(part, hit, casting="unsafe")
        np.multiply(out, part, out=out)
        # no target (NaN for every trial of the rep): nothing. A NaN makes the sum NaN (so
        # does inf - inf: then the mask finds no NaN), one pass instead of two.
        if nan_check and math.isnan(np.add.reduce(att[:, :1], axis=None)):
            out[np.isnan(att)] = 0.0
        return out

    return run


def curve_bound(segments) -> float:
    """The most :func:`_curve` pays (as a multiple of TI) wherever attainment is not NaN:
    the same float operations on each segment's largest part (rounding is monotone)."""
    _, base, sloped = segments
    most = 0.0
    for i, (_, width, slope) in enumerate(sloped):
        part = max(slope * width, 0.0)
        most = part + base if i == 0 else most + part
    return max(most if sloped else base, 0.0)


register(CurveKind())

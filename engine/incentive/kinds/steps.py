"""Step bonus: the highest attainment step reached pays its amount (or share of TI)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attain.incentive.floats import M, Window, kept
from attain.incentive.kinds.base import (
    CompiledComponent,
    ExactInputs,
    KindBase,
    Part,
    common,
    register,
)
from attain.incentive.rational import MICRO, micro, thresholds_fit_int64, to_minor
from attain.incentive.text import measured
from attain.schema.plan import StepBonus

__all__ = ["CompiledSteps", "StepsKind"]


@dataclass(frozen=True, kw_only=True)
class CompiledSteps(CompiledComponent):
    type = "step_bonus"
    starts: np.ndarray  # int64[n] attainments, millionths
    values: np.ndarray  # int64[n] amounts (minor units) or shares of TI (millionths)
    in_ti: np.ndarray  # bool[n]: the value is a share of TI


class StepsKind(KindBase):
    type = "step_bonus"
    schema = StepBonus
    cellwise_parts = True

    def compile(self, c: StepBonus, products: tuple[str, ...], unit: int) -> CompiledSteps:
        return CompiledSteps(
            **common(c, products, unit),
            starts=np.array([micro(s.attainment) for s in c.steps], dtype=np.int64),
            values=np.array(
                [
                    micro(s.share_of_ti) if s.amount is None else to_minor(s.amount, unit)
                    for s in c.steps
                ],
                dtype=np.int64,
            ),
            in_ti=np.array([s.amount is None for s in c.steps], dtype=bool),
        )

    def exact(self, c: CompiledSteps, x: ExactInputs):
        return _exact(c, x)[:2]

    def parts(self, c: CompiledSteps, x: ExactInputs) -> list[Part]:
        """The highest step reached: its amount, or its share × TI."""
        num, den, reached = _exact(c, x)
        out = []
        for k in range(len(c.starts)):
            hit = reached == k + 1
            value = int(c.values[k])
            if c.in_ti[k]:
                base, rate, style = (
                    (np.where(hit, x.ti_num, 0), x.ti_den),
                    (value, MICRO),
                    "multiple",
                )
            else:
                base, rate, style = None, None, "pct"
            out.append(
                Part(
                    f"step {k + 1} reached",
                    (np.where(hit, num, 0), den),
                    base,
                    rate,
                    "attainment",
                    int(c.starts[k]),
                    None if k + 1 == len(c.starts) else int(c.starts[k + 1]),
                    "attainment",
                    style,
                )
            )
        return out

    def vectorised(self, c: CompiledSteps, w: Window, accel_fail) -> np.ndarray:
        return steps_into(c, w.attainment(c.mask), w.ti_w, w.scale)

    def rule(self, c: CompiledSteps, unit: int) -> str:
        return f"{c.label}: step bonus, the highest step reached pays"

    def inputs(self, c, info: dict, r: int, w: int, unit: int, earned) -> str:
        return measured(info, r, w, unit, ti=True, thresholds=c.starts)


def steps_into(c: CompiledSteps, att, ti_w, scale: int, out=None, hit=None, step=None):
    """The highest step reached pays, in float: ``out``, ``hit`` (bool) and ``step``
    are optional buffers of the result's shape."""
    if out is None:
        out = np.empty_like(att, shape=np.broadcast_shapes(att.shape, ti_w.shape))
        hit, step = np.empty_like(out, dtype=bool), np.empty_like(out)
    # every number the kernel reads of ``c`` (its steps in TI read the same three)
    key = ("steps", c.starts.tobytes(), c.values.tobytes(), c.in_ti.tobytes(), scale)
    return kept(key, c, lambda c: steps_kernel(c, scale))(att, ti_w, out, hit, step)


def steps_kernel(c: CompiledSteps, scale: int):
    """:func:`steps_into` prepared once: ``run(att, ti_w, out, hit, step, count=None)``
    gives the same bits; steps in money have their thresholds and amounts as float64 0-d
    arrays (a Python float costs every call a conversion).

    When each step adds a whole multiple of one amount (1,000 then 2,000 more: 1 and 2
    × 1,000) and that gives the general loop's bits for every set of steps reached
    (checked here), the steps reached are counted in bytes (the multiples summed, one
    uint8 pass a step) and cast once: a cast and a multiply instead of one a step
    (1.6x faster on two steps). ``count``: an optional uint8 buffer of att's shape."""
    thresholds = [np.array(a / M) for a in c.starts]
    in_money = not c.in_ti.any()
    amounts = [v / scale for v in c.values] if in_money else []
    # what each step adds to the one below it, as the general loop computes it
    steps = [np.array(a - p) for a, p in zip(amounts, [0.0, *amounts[:-1]], strict=True)]
    first_direct = in_money and bool(len(amounts)) and amounts[0] >= 0
    first = np.array(amounts[0]) if first_direct else None
    counted = _multiples(steps, first_direct) if in_money else None

    def run(att, ti_w, out, hit, step, count=None):
        if not in_money:
            return _steps_in_ti(c, att, ti_w, scale, out, hit, step)
        if counted is not None and out.shape == att.shape:
            unit, multiples = counted
            if count is None:
                count = np.empty_like(att, dtype=np.uint8)
            reached = hit.view(np.uint8)
            for k, (a, n) in enumerate(zip(thresholds, multiples, strict=True)):
                if k == 0 and n == 1:  # the bools are the count's bytes
                    np.greater_equal(att, a, out=count.view(bool))
                    continue
                np.greater_equal(att, a, out=hit)
                if k == 0:
                    np.multiply(reached, n, out=count)
                else:
                    if n != 1:
                        np.multiply(reached, n, out=reached)
                    np.add(count, reached, out=count)
            np.copyto(out, count, casting="unsafe")
            return np.multiply(out, unit, out=out)
        for k, (a, delta) in enumerate(zip(thresholds, steps, strict=True)):
            np.greater_equal(att, a, out=hit)  # the highest step reached wins
            # hit × amount as the bools cast to 0.0 and 1.0, then a multiply (1.3x faster
            # than a multiply by the bools, which casts them in small blocks)
            if k == 0 and first_direct and out.shape == att.shape:
                # 0.0 + hit × amount is hit × amount bit for bit when it cannot be -0.0
                np.copyto(out, hit, casting="unsafe")
                np.multiply(out, first, out=out)
            else:
                if k == 0:
                    out.fill(0.0)
                np.copyto(step, hit, casting="unsafe")
                np.multiply(step, delta, out=step)  # faster than a masked add (where=)
                np.add(out, step, out=out)
        return out

    return run


def _multiples(steps: list, first_direct: bool):
    """(unit, multiples): each step's amount above the one below as a whole multiple of
    one unit, when the unit × the multiples reached is the general loop's value, bit for
    bit, for every set of steps reached (at most 8 steps, 255 units); else None."""
    deltas = [float(d) for d in steps]
    nonzero = [abs(d) for d in deltas if d != 0]
    if not deltas or len(deltas) > 8 or not nonzero:
        return None
    unit = min(nonzero)
    multiples = [d / unit for d in deltas]
    if any(n != int(n) or n < 0 for n in multiples) or sum(multiples) > 255:
        return None
    multiples = [int(n) for n in multiples]
    one, zero = np.float64(1.0), np.float64(0.0)
    for pattern in range(1 << len(deltas)):
        hits = [one if pattern >> k & 1 else zero for k in range(len(deltas))]
        loop = hits[0] * steps[0][()] if first_direct else zero + hits[0] * steps[0][()]
        for h, d in zip(hits[1:], steps[1:], strict=True):
            loop = loop + h * d[()]
        count = sum(n for n, h in zip(multiples, hits, strict=True) if h)
        if np.float64(count) * np.float64(unit) != loop or np.signbit(loop):
            return None  # another rounding, or a -0.0 the cast count cannot give
    return np.array(unit), [np.uint8(n) for n in multiples]


def _steps_in_ti(c: CompiledSteps, att, ti_w, scale: int, out, hit, step):
    previous = 0.0
    for k, (a, v, in_ti) in enumerate(zip(c.starts, c.values, c.in_ti, strict=True)):
        amount = ti_w * (v / M) if in_ti else v / scale
        np.greater_equal(att, a / M, out=hit)  # the highest step reached wins
        if k == 0 and not in_ti and amount >= 0 and out.shape == att.shape:
            # 0.0 + hit × amount is hit × amount bit for bit when it cannot be -0.0
            np.multiply(hit, amount, out=out)
        else:
            if k == 0:
                out.fill(0.0)
            np.multiply(hit, amount - previous, out=step)  # faster than a masked add (where=)
            out += step
        previous = amount
    return out


def _exact(c: CompiledSteps, x: ExactInputs):
    X, T, starts = np.maximum(x.S, 0), x.T, c.starts
    if not thresholds_fit_int64(X, T, starts):
        X, T, starts = X.astype(object), np.asarray(T).astype(object), starts.astype(object)
    # The steps reached, in int64 when the products fit (exact, and much faster)
    reached = (starts * T[..., None] <= (X * MICRO)[..., None]).sum(axis=-1)
    reached = np.where(T > 0, reached, 0)
    j = np.maximum(reached - 1, 0)
    values, in_ti = c.values.astype(object)[j], c.in_ti[j]
    num = np.where(in_ti, values * x.ti_num, values * MICRO * x.ti_den)
    return np.where(reached > 0, num, 0), MICRO * x.ti_den, reached


register(StepsKind())

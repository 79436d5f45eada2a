"""SPIFF: an amount per unit sold inside a date window (a one-off contest)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from attain.incentive.deals import period_coverage
from attain.incentive.floats import Window, kept
from attain.incentive.kinds.base import (
    CompiledComponent,
    DealContext,
    ExactInputs,
    KindBase,
    Part,
    common,
    register,
)
from attain.incentive.rational import MICRO, to_minor
from attain.incentive.text import money
from attain.schema.plan import Spiff

__all__ = ["CompiledSpiff", "SpiffKind"]

_EPOCH = np.datetime64("1970-01-01", "D")


@dataclass(frozen=True, kw_only=True)
class CompiledSpiff(CompiledComponent):
    type = "spiff"
    start_day: int  # days since 1970-01-01, inclusive
    end_day: int
    per_unit: int  # minor units per unit


@lru_cache(maxsize=256)
def _date(day: int):
    return (_EPOCH + np.timedelta64(day, "D")).astype(object)


class SpiffKind(KindBase):
    type = "spiff"
    schema = Spiff

    def compile(self, c: Spiff, products: tuple[str, ...], unit: int) -> CompiledSpiff:
        return CompiledSpiff(
            **common(c, products, unit),
            start_day=int((np.datetime64(c.start, "D") - _EPOCH).astype(int)),
            end_day=int((np.datetime64(c.end, "D") - _EPOCH).astype(int)),
            per_unit=to_minor(c.per_unit, unit),
        )

    def deal_level(self, c: CompiledSpiff, ctx: DealContext):
        credit = ctx.credit
        rows = np.flatnonzero(
            c.mask[credit.product] & (credit.day >= c.start_day) & (credit.day <= c.end_day)
        )
        units = ctx.to_windows(ctx.monthly(rows, credit.units[rows]))
        ctx.windows.records[c.name] = {"units": units}
        return units.astype(object) * c.per_unit, MICRO

    def exact(self, c: CompiledSpiff, x: ExactInputs):
        return x.deal_level

    def parts(self, c: CompiledSpiff, x: ExactInputs) -> list[Part]:
        units = x.info["units"]
        return [
            Part(
                "units sold in the window",
                x.deal_level,
                (units, 1),
                (c.per_unit, 1),
                "units",
                rate_style="per_unit",
            )
        ]

    def vectorised(self, c: CompiledSpiff, w: Window, accel_fail) -> np.ndarray:
        """Units sold in the window × the amount per unit: units = sales ÷ unit price, the
        sales of a period counted by the share of its days inside the SPIFF's dates."""
        sales = w.sales
        deals = w.pop.deals
        out_shape = sales.shape[:-1]
        if deals is None or w.pop.calendar is None:
            return np.zeros(out_shape)  # no unit price or no plan year: see approximations()
        prices = deals.unit_price
        key = ("spiff", c.mask.tobytes(), prices.dtype.str, prices.tobytes())  # what it reads
        priced, per_unit, picked = kept(key, (c.mask, prices), _per_unit)
        if not priced:
            return np.zeros(out_shape)
        if sales.shape[-1] == 1 and len(c.mask) > 1:
            if not c.mask.all() or np.ptp(deals.unit_price) > 0:
                raise ValueError(f"SPIFF `{c.name}` needs sales per product (a products axis)")
            per_unit = per_unit[:1]
            picked = np.flatnonzero(per_unit)
        cover, _ = period_coverage(
            w.pop.calendar, _date(c.start_day), _date(c.end_day), sales.shape[2]
        )
        if len(picked) == 1 and sales.shape[-1] > 1:
            # One product: its column × its rate is the product the matmul sums with zeros
            # (+ 0.0: the matmul's sum of -0.0 is +0.0), 2x faster than the matmul.
            k = picked[0]
            inside = _window_only(sales[..., k], per_unit[k], cover, c.per_unit / w.scale, w)
            if inside is not None:
                return inside
            units = sales[..., k] * per_unit[k]
            units += 0.0
        else:
            units = sales @ per_unit
        units *= cover
        return w.cumulate(units * (c.per_unit / w.scale))

    def needs_deals(self, c) -> bool:
        return True

    def approximations(self, c: CompiledSpiff, deals, calendar) -> list[str]:
        if deals is None or np.isnan(deals.unit_price[c.mask]).any():
            return [f"{c.name}: SPIFF pays nothing (no unit price for its products)"]
        if calendar is None:
            return [f"{c.name}: SPIFF pays nothing (no plan year for its window)"]
        return [f"{c.name}: SPIFF units = sales ÷ the product's average unit price"]

    def rule(self, c: CompiledSpiff, unit: int) -> str:
        return f"{c.label}: SPIFF of {money(c.per_unit, unit)} per unit sold in the window"

    def inputs(self, c: CompiledSpiff, info: dict, r: int, w: int, unit: int, earned) -> str:
        start, end = _date(c.start_day), _date(c.end_day)
        return f"units sold from {start} to {end}"


def _per_unit(numbers: tuple[np.ndarray, np.ndarray]) -> tuple[bool, np.ndarray, np.ndarray]:
    """(every product of ``mask`` has a unit price, units per currency unit of sales [K]
    (0 off the mask), the products with a rate) for ``(mask, unit prices)``; read only."""
    mask, prices = numbers
    per_unit = np.where(mask, 1.0 / np.where(mask, prices, 1.0), 0.0)
    picked = np.flatnonzero(per_unit)
    per_unit.flags.writeable = picked.flags.writeable = False
    return not np.isnan(prices[mask]).any(), per_unit, picked


def _window_only(x: np.ndarray, rate: float, cover: np.ndarray, factor: float, w: Window):
    """The line of a one-product SPIFF [R, t, P] from its product's sales ``x`` [R, t, P],
    computed on the periods from the window's first to its last only, when the others'
    numbers are known without computing them: with ``x`` finite and at least 0 (and the
    rate and amount above 0) a period outside the window earns ``x × rate + 0.0`` × 0 × the
    amount, +0.0, and no number is -0.0, so a year-to-date sum stays +0.0 before the
    window and keeps its last value after it (+ 0.0). The same bits as the full passes;
    None where that does not hold (then they run) or the window covers every period."""
    on = np.flatnonzero(cover)
    if len(on) == 0 or len(on) == len(cover) or x.size == 0:
        return None
    if not (0 < rate < np.inf and 0 < factor < np.inf):
        return None
    low, high = np.minimum.reduce(x, axis=None), np.maximum.reduce(x, axis=None)
    if not (low >= 0 and high * rate < np.inf):  # NaN fails both
        return None
    a, b = int(on[0]), int(on[-1]) + 1
    out = np.empty_like(x)
    value = x[..., a:b] * rate  # the full passes' operations, in their order
    value += 0.0
    value *= cover[a:b]
    value *= factor
    value = w.cumulate(value)
    out[..., :a] = 0.0
    out[..., a:b] = value
    out[..., b:] = value[..., -1:] if w.ytd else 0.0
    return out


register(SpiffKind())

"""The deal model of the vectorised path: how period totals stand in for deals.

The simulator draws sales as amounts per rep × trial × period × product, not deals.
Components defined on deals (SPIFFs per unit, ``deal`` and ``cumulative`` tier scopes,
tiers selected on ``gross`` bookings) read these numbers instead, estimated from the
company's actuals (:func:`deal_model`) or given directly (:class:`DealModel`):

- **units** = sales ÷ the product's average unit price (booked amount ÷ booked
  quantity over the actuals). A SPIFF's window covers a share of a pay period's days;
  sales are taken as spread evenly over the days of their period.
- **deals**: a rep's period total for a product is that many deals of the rep's
  average deal size for the product (their mean credited booking; the product's mean
  when the rep has none), plus one deal of the remainder. A ``deal``-scope tier applies
  to each; a ``cumulative`` one lands them one after another.
- **gross** = net ÷ (1 − the product's cancellation rate), the rate being cancelled
  credit ÷ booked credit over the actuals.

:func:`dates` holds the calendar arithmetic both paths share for effective dates and
SPIFF windows: which share of each pay period's days a date range covers.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from attain.incentive.calendar import Calendar

__all__ = ["DealModel", "deal_model", "period_coverage"]


@dataclass(frozen=True)
class DealModel:
    """Per-product (and per-rep) deal figures, in currency units; NaN where unknown."""

    unit_price: np.ndarray  # float64[K]: currency per unit
    deal_size: np.ndarray  # float64[R, K]: a rep's average credited deal
    cancellation_rate: np.ndarray  # float64[K]: cancelled ÷ booked, in [0, 1)

    def gross_factor(self) -> np.ndarray:
        """1 / (1 − cancellation rate) per product (1 where unknown)."""
        rate = np.nan_to_num(self.cancellation_rate, nan=0.0)
        return 1.0 / (1.0 - np.clip(rate, 0.0, 0.99))


def deal_model(
    actuals: pd.DataFrame | None,
    rep_ids,
    products: tuple[str, ...],
    unit_prices: dict[str, float] | None = None,
) -> DealModel:
    """Estimate a :class:`DealModel` from an actuals table (the company's deals).

    ``unit_prices`` overrides the estimated price of the products it names.
    """
    rep_ids = pd.Index(np.asarray(rep_ids).astype(str))
    n_k = len(products)
    price = np.full(n_k, np.nan)
    size = np.full((len(rep_ids), n_k), np.nan)
    cancel = np.zeros(n_k)
    if actuals is not None and len(actuals):
        a = actuals
        prod = pd.Index(products).get_indexer(a["product"].astype(str))
        amount = pd.to_numeric(a["amount"], errors="coerce").fillna(0.0).to_numpy()
        split = (
            pd.to_numeric(a["split"], errors="coerce").fillna(1.0).to_numpy()
            if "split" in a
            else np.ones(len(a))
        )
        credit = amount * split
        booked = np.ones(len(a), bool)
        if "type" in a:
            booked = a["type"].astype(str).str.lower().to_numpy() != "cancellation"
        ok = prod >= 0
        b = ok & booked
        booked_k = np.bincount(prod[b], weights=credit[b], minlength=n_k)
        cancelled_k = np.bincount(prod[ok & ~booked], weights=credit[ok & ~booked], minlength=n_k)
        cancel = np.where(booked_k > 0, cancelled_k / np.where(booked_k > 0, booked_k, 1), 0.0)
        if "quantity" in a:
            qty = pd.to_numeric(a["quantity"], errors="coerce").fillna(0.0).to_numpy() * split
            units_k = np.bincount(prod[b], weights=qty[b], minlength=n_k)
            price = np.where(units_k > 0, booked_k / np.where(units_k > 0, units_k, 1), np.nan)
        count_k = np.bincount(prod[b], weights=split[b], minlength=n_k)
        mean_k = np.where(count_k > 0, booked_k / np.where(count_k > 0, count_k, 1), np.nan)
        rep = rep_ids.get_indexer(a["rep_id"].astype(str))
        rb = b & (rep >= 0)
        cell = rep[rb] * n_k + prod[rb]
        total = np.bincount(cell, weights=credit[rb], minlength=len(rep_ids) * n_k)
        count = np.bincount(cell, weights=split[rb], minlength=len(rep_ids) * n_k)
        own = np.where(count > 0, total / np.where(count > 0, count, 1), np.nan)
        size = own.reshape(len(rep_ids), n_k)
        size = np.where(np.isnan(size), mean_k[None, :], size)
    for name, value in (unit_prices or {}).items():
        price[products.index(name)] = value
    return DealModel(unit_price=price, deal_size=size, cancellation_rate=cancel)


@functools.lru_cache(maxsize=256)
def period_coverage(
    calendar: Calendar, start: dt.date | None, end: dt.date | None, n_periods: int
) -> tuple[np.ndarray, np.ndarray]:
    """For the range ``start..end`` (inclusive, open where None) and ``n_periods`` equal
    pay periods of the fiscal year: (share of each period's days in the range float[P],
    number of the period's slots (months) that overlap the range int[P]). Kept for the
    next call (the vectorised evaluator asks once per slice of reps): read-only arrays."""
    share, months = _period_coverage(calendar, start, end, n_periods)
    share.flags.writeable = False
    months.flags.writeable = False
    return share, months


def _period_coverage(
    calendar: Calendar, start: dt.date | None, end: dt.date | None, n_periods: int
) -> tuple[np.ndarray, np.ndarray]:
    n_slots = calendar.n_slots
    bounds = [calendar.month_start(m) for m in range(n_slots + 1)]
    lo = dt.date.min if start is None else start
    hi = dt.date.max if end is None else end
    k = n_slots // n_periods
    days = np.zeros(n_periods)
    inside = np.zeros(n_periods)
    months = np.zeros(n_periods, dtype=np.int64)
    for m in range(n_slots):
        first, after = bounds[m], bounds[m + 1]
        p = m // k
        days[p] += (after - first).days
        a, b = max(first, lo), min(after - dt.timedelta(days=1), hi)
        if b >= a:
            inside[p] += (b - a).days + 1
            months[p] += 1
    return inside / days, months

"""The plan year's calendar: fiscal slots, pay periods and their labels.

Fiscal year ``Y`` with ``fiscal_year_start`` ``s`` runs from month ``s`` of
calendar year ``Y`` for twelve months (with ``s = 1``, the calendar year).

The payout arrays are indexed by **slot**, the smallest span a plan pays on, 0..n-1
from the fiscal year's start:

- ``month``, ``quarter``, ``year``: a slot is a fiscal month (12 slots); a pay period is
  1, 3 or 12 consecutive slots;
- ``semi_monthly``: a slot is half a month, the 1st to the 15th and the 16th to the
  month's end (24 slots, one pay period each, labelled ``YYYY-MM-H1`` / ``YYYY-MM-H2``);
- ``two_week``: a slot is 14 days from the fiscal year's first day; the 26th runs to the
  year's last day (15 or 16 days) so the year has 26 pay periods, labelled
  ``YYYY-P01`` … ``YYYY-P26`` (``YYYY`` the fiscal year).

Targets given by month, quarter or year are spread over the slots they cover: evenly
over months (the remainder to the first months), and over sub-month slots by their days.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np

__all__ = ["PERIODS", "Calendar"]

_MONTHS_PER = {"month": 1, "quarter": 3, "year": 12}
_SLOTS = {"semi_monthly": 24, "two_week": 26}
#: Pay periods a plan may declare, and how many there are in a year.
PERIODS = {"month": 12, "quarter": 4, "year": 1, "semi_monthly": 24, "two_week": 26}
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_HALF = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])-H([12])$")
_TWO_WEEK = re.compile(r"^(\d{4})-P(\d{2})$")


@dataclass(frozen=True)
class Calendar:
    """Fiscal slots and pay periods of one plan year."""

    fiscal_year: int
    start_month: int = 1
    period: str = "month"

    @classmethod
    def of_company(cls, rules, fiscal_year: int | None, period: str) -> Calendar:
        """A plan's year on a company's calendar: the plan's fiscal year, else the
        company's (``rules``: its company.yaml), from the company's first month."""
        return cls(fiscal_year or rules.fiscal_year, rules.fiscal_year_start, period)

    @property
    def is_sub_monthly(self) -> bool:
        return self.period in _SLOTS

    @property
    def n_slots(self) -> int:
        """Slots in the year: 12 months, 24 half-months or 26 two-week periods."""
        return _SLOTS.get(self.period, 12)

    @property
    def months_per_period(self) -> int:
        """Slots per pay period (1 for sub-monthly periods)."""
        return _MONTHS_PER.get(self.period, 1)

    @property
    def n_periods(self) -> int:
        return self.n_slots // self.months_per_period

    def calendar_month(self, m: int) -> tuple[int, int]:
        """(year, month) of fiscal month index ``m``."""
        k = self.start_month - 1 + m
        return self.fiscal_year + k // 12, k % 12 + 1

    def _month_first(self, m: int) -> dt.date:
        year, month = self.calendar_month(m)
        return dt.date(year, month, 1)

    @cached_property
    def _bounds(self) -> tuple[dt.date, ...]:
        months = [self._month_first(m) for m in range(13)]
        if self.period == "semi_monthly":
            out = []
            for first in months[:12]:
                out += [first, first.replace(day=16)]
            return (*out, months[12])
        if self.period == "two_week":
            first = months[0]
            return (*(first + dt.timedelta(days=14 * i) for i in range(26)), months[12])
        return tuple(months)

    def month_start(self, m: int) -> dt.date:
        """First day of slot ``m`` (``m = n_slots``: the day after the year)."""
        return self._bounds[m]

    def slot_days(self) -> np.ndarray:
        """Days in each slot, int[n_slots]."""
        b = np.array(self._bounds, dtype="datetime64[D]")
        return np.diff(b).astype(np.int64)

    def period_labels(self) -> list[str]:
        """`YYYY-MM` (month), `YYYY-Qn` (fiscal quarter), `YYYY` (year), `YYYY-MM-H1` /
        `YYYY-MM-H2` (semi-monthly) or `YYYY-Pnn` (two-week)."""
        if self.period == "month":
            return ["{}-{:02d}".format(*self.calendar_month(m)) for m in range(12)]
        if self.period == "quarter":
            return [f"{self.fiscal_year}-Q{q + 1}" for q in range(4)]
        if self.period == "semi_monthly":
            return [
                "{}-{:02d}-H{}".format(*self.calendar_month(s // 2), s % 2 + 1) for s in range(24)
            ]
        if self.period == "two_week":
            return [f"{self.fiscal_year}-P{i + 1:02d}" for i in range(26)]
        return [str(self.fiscal_year)]

    def month_index(self, dates: np.ndarray) -> np.ndarray:
        """Fiscal slot index (0..n_slots-1) of each date; -1 outside the fiscal year."""
        dates = np.asarray(dates)
        if self.is_sub_monthly:
            days = dates.astype("datetime64[D]")
            bounds = np.array(self._bounds, dtype="datetime64[D]")
            index = np.searchsorted(bounds, days, side="right") - 1
            return np.where((index >= 0) & (index < self.n_slots), index, -1)
        months = dates.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
        first = (self.fiscal_year - 1970) * 12 + self.start_month - 1
        index = months - first
        return np.where((index >= 0) & (index < 12), index, -1)

    def _fiscal_months(self, label: str) -> list[int] | None:
        if m := _MONTH.match(label):
            month = np.array([f"{m[1]}-{m[2]}"], dtype="datetime64[M]").astype(np.int64)[0]
            index = int(month - ((self.fiscal_year - 1970) * 12 + self.start_month - 1))
            return [index] if 0 <= index < 12 else None
        if m := _QUARTER.match(label):
            if int(m[1]) != self.fiscal_year:
                return None
            q = int(m[2]) - 1
            return [3 * q, 3 * q + 1, 3 * q + 2]
        if m := _YEAR.match(label):
            return list(range(12)) if int(m[1]) == self.fiscal_year else None
        return None

    def months_of_label(self, label: str) -> list[int] | None:
        """The slots a target period label covers; ``None`` if it is not a label
        (`YYYY-MM`, `YYYY-Qn` fiscal quarter, `YYYY` fiscal year, or one of the plan's own
        period labels) or lies outside the year."""
        spans = self.slots_of_label(label)
        return None if spans is None else [s for s, _ in spans]

    def slots_of_label(self, label: str) -> list[tuple[int, int]] | None:
        """(slot, weight) pairs a target label covers: weight 1 per month for monthly
        slots, the slot's days in the label's span for sub-month slots (a slot is covered
        once when its weights add up to its days)."""
        label = label.strip()
        months = self._fiscal_months(label)
        if not self.is_sub_monthly:
            return None if months is None else [(m, 1) for m in months]
        own = self.period_labels()
        if label in own:
            s = own.index(label)
            return [(s, (self._bounds[s + 1] - self._bounds[s]).days)]
        if months is None:
            return None
        lo, hi = self._month_first(months[0]), self._month_first(months[-1] + 1)
        out = []
        for s in range(self.n_slots):
            a, b = max(self._bounds[s], lo), min(self._bounds[s + 1], hi)
            if b > a:
                out.append((s, (b - a).days))
        return out

    def month_spread(self) -> np.ndarray:
        """float64[12, n_slots]: the share of each fiscal month's days in each slot (the
        identity for monthly slots), to read monthly figures by sub-monthly pay period."""
        months = Calendar(self.fiscal_year, self.start_month, "month")
        lo = np.array([months.month_start(m) for m in range(13)], dtype="datetime64[D]")
        slots = np.array(self._bounds, dtype="datetime64[D]")
        start = np.maximum(lo[:-1, None], slots[None, :-1])
        end = np.minimum(lo[1:, None], slots[None, 1:])
        days = np.maximum((end - start).astype(np.int64), 0)
        return days / np.diff(lo).astype(np.int64)[:, None]

    def period_of_month(self) -> np.ndarray:
        """The pay period index of each slot."""
        return np.arange(self.n_slots) // self.months_per_period

"""The plan year's calendar: fiscal months, pay periods and their labels.

Fiscal year ``Y`` with ``fiscal_year_start`` ``s`` runs from month ``s`` of
calendar year ``Y`` for twelve months (with ``s = 1``, the calendar year).
Months are indexed 0..11 from the fiscal year's start; a pay period is 1, 3 or
12 consecutive months.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np

__all__ = ["Calendar"]

_MONTHS_PER = {"month": 1, "quarter": 3, "year": 12}
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Calendar:
    """Fiscal months and pay periods of one plan year."""

    fiscal_year: int
    start_month: int = 1
    period: str = "month"

    @property
    def months_per_period(self) -> int:
        return _MONTHS_PER[self.period]

    @property
    def n_periods(self) -> int:
        return 12 // self.months_per_period

    def calendar_month(self, m: int) -> tuple[int, int]:
        """(year, month) of fiscal month index ``m``."""
        k = self.start_month - 1 + m
        return self.fiscal_year + k // 12, k % 12 + 1

    def month_start(self, m: int) -> dt.date:
        year, month = self.calendar_month(m)
        return dt.date(year, month, 1)

    def period_labels(self) -> list[str]:
        """`YYYY-MM` (month), `YYYY-Qn` (fiscal quarter) or `YYYY` (year)."""
        if self.period == "month":
            return ["{}-{:02d}".format(*self.calendar_month(m)) for m in range(12)]
        if self.period == "quarter":
            return [f"{self.fiscal_year}-Q{q + 1}" for q in range(4)]
        return [str(self.fiscal_year)]

    def month_index(self, dates: np.ndarray) -> np.ndarray:
        """Fiscal month index (0..11) of each date; -1 outside the fiscal year."""
        months = np.asarray(dates, dtype="datetime64[M]").astype(np.int64)  # months since 1970-01
        first = (self.fiscal_year - 1970) * 12 + self.start_month - 1
        index = months - first
        return np.where((index >= 0) & (index < 12), index, -1)

    def months_of_label(self, label: str) -> list[int] | None:
        """The fiscal months a target period label covers; ``None`` if it is not a label
        (`YYYY-MM`, `YYYY-Qn` fiscal quarter, `YYYY` fiscal year) or lies outside the year."""
        label = label.strip()
        if m := _MONTH.match(label):
            index = int(self.month_index(np.array([f"{m[1]}-{m[2]}"], dtype="datetime64[M]"))[0])
            return [index] if index >= 0 else None
        if m := _QUARTER.match(label):
            if int(m[1]) != self.fiscal_year:
                return None
            q = int(m[2]) - 1
            return [3 * q, 3 * q + 1, 3 * q + 2]
        if m := _YEAR.match(label):
            return list(range(12)) if int(m[1]) == self.fiscal_year else None
        return None

    def period_of_month(self) -> np.ndarray:
        """The pay period index of each fiscal month."""
        return np.arange(12) // self.months_per_period

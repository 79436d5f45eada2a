"""Proration by days in role: what a dated org (``Company.org_dated``) means for pay.

A person who joins, leaves or changes role during the year is paid a yearly amount
(a target incentive, a fixed bonus) for the days they held the role:
``amount × days in role ÷ days in the year``, exact in minor units (rounded half-up).
:func:`days_in_role` counts the days per person and fiscal month from the dated rows;
:func:`prorate` applies them. Both are arrays in, arrays out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from attain.incentive.calendar import Calendar
from attain.incentive.rational import round_div

__all__ = ["days_in_role", "prorate"]

_FAR = 1 << 40


def _month_bounds(calendar: Calendar) -> tuple[np.ndarray, np.ndarray]:
    n = calendar.n_slots
    lo = np.array(
        [np.datetime64(calendar.month_start(m), "D").astype(np.int64) for m in range(n + 1)]
    )
    return lo[:-1], lo[1:] - 1


def days_in_role(
    org_dated: pd.DataFrame,
    rep_ids: Sequence[str] | np.ndarray,
    calendar: Calendar,
    roles: Sequence[str] | None = None,
) -> np.ndarray:
    """Days each of ``rep_ids`` is in the org (in one of ``roles``, if given) per fiscal
    slot (month), int64[R, S], from a dated org's rows (an empty start or end is open)."""
    start = org_dated["start_date"].to_numpy(dtype="datetime64[D]")
    end = org_dated["end_date"].to_numpy(dtype="datetime64[D]")
    s = np.where(np.isnat(start), -_FAR, start.astype(np.int64))
    e = np.where(np.isnat(end), _FAR, end.astype(np.int64))
    who = pd.Index(pd.unique(np.asarray(rep_ids))).get_indexer(org_dated["rep_id"])
    keep = who >= 0
    if roles is not None:
        keep &= org_dated["role"].astype(str).isin(list(roles)).to_numpy()
    lo, hi = _month_bounds(calendar)
    days = np.maximum(
        0, np.minimum(e[keep, None], hi[None, :]) - np.maximum(s[keep, None], lo[None, :]) + 1
    )
    out = np.zeros((len(rep_ids), calendar.n_slots), dtype=np.int64)
    np.add.at(out, who[keep], days)
    return out


def prorate(amount_minor: np.ndarray, days: np.ndarray, calendar: Calendar) -> np.ndarray:
    """Yearly amounts (int64[R] minor units) × days in role ÷ days in the year, exact."""
    lo, hi = _month_bounds(calendar)
    year_days = int((hi - lo + 1).sum())
    held = np.minimum(np.asarray(days, dtype=np.int64).sum(axis=1), year_days)
    return round_div(np.asarray(amount_minor, dtype=np.int64) * held, year_days)

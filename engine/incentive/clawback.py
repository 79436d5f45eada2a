"""Clawback policies on the credited deal rows: how much of a cancellation is taken back.

A cancellation is a negative credit row in the month of its own date
(:mod:`~attain.incentive.credit`); a plan's ``clawback`` changes how negative:

- ``share``: every cancellation takes back that share of its credit (half up to the
  minor unit);
- ``windows``: the share depends on the time from the deal's first booking to the
  cancellation (``within_days``: at most that many days later; ``within_months``: on or
  before the same day that many calendar months later, the month's last day when it is
  shorter); after the last window, ``after``;
- ``on_termination``: a person's deals booked at most ``within_days`` before their
  termination date (an org column) are clawed back on that date (a cancellation row dated
  the termination day, ``share`` of the deal's credit); their deals after it earn nothing;
- ``only_paid``: in date order, a deal's cancellations together take back at most what
  its bookings were credited to the person in this plan and year (a deal booked before the
  year takes back nothing). A termination's clawback is always held to what remains of the
  deal.

The same share scales the cancelled units (SPIFFs pay per unit). Everything is done on
whole columns; the rows stay one per person's share of a deal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from attain.errors import DataError, Problem
from attain.incentive.rational import MICRO, round_div

__all__ = ["apply_clawback", "within_months"]

_NEVER = np.iinfo(np.int64).max // 4


def within_months(booked: np.ndarray, day: np.ndarray, months: int) -> np.ndarray:
    """Whether each ``day`` (days since 1970-01-01) is on or before ``booked`` plus
    ``months`` calendar months (clipped to the month's last day)."""
    b = np.asarray(booked, dtype="datetime64[D]")
    month = b.astype("datetime64[M]")
    offset = (b - month.astype("datetime64[D]")).astype(np.int64)
    later = month + np.timedelta64(months, "M")
    last = (later + np.timedelta64(1, "M")).astype("datetime64[D]") - np.timedelta64(1, "D")
    deadline = np.minimum(later.astype("datetime64[D]") + offset.astype("timedelta64[D]"), last)
    return np.asarray(day, dtype="datetime64[D]") <= deadline


def apply_clawback(cb, book, rows: dict, excluded: dict) -> tuple[dict, dict]:
    """``rows`` (credited deal rows, signed) under clawback policy ``cb``; returns the new
    rows and what the policy did (counts for warnings)."""
    d = book.deals
    info = {"unknown_booking": 0, "terminated": 0, "termination_rows": 0}
    n_codes = int(d.deal.max()) // 2 + 1 if len(d.deal) else 0
    booked_day = np.full(n_codes, _NEVER, dtype=np.int64)
    np.minimum.at(booked_day, d.deal[~d.cancellation] // 2, d.day[~d.cancellation])
    rows = dict(rows)
    cancel = rows["net"] < 0
    share = np.full(int(cancel.sum()), cb.share, dtype=np.int64)
    if cb.windows:
        code = rows["deal"][cancel]
        booked = booked_day[code]
        known = booked < _NEVER
        day = rows["day"][cancel]
        share = np.full(len(code), cb.after, dtype=np.int64)
        for length, s in reversed(cb.windows):
            if cb.window_unit == "days":
                inside = day - booked <= length
            else:
                inside = within_months(np.where(known, booked, 0), day, length)
            share = np.where(inside, s, share)
        share = np.where(known, share, cb.windows[0][1])
        info["unknown_booking"] = int((~known).sum())
    for key in ("net", "units"):
        values = rows[key].copy()
        values[cancel] = round_div(values[cancel].astype(object) * share, MICRO)
        rows[key] = values
    capped = np.ones(len(rows["net"]), dtype=bool) if cb.only_paid else None
    if cb.termination_column is not None:
        rows, capped, n_people, n_rows = _termination(cb, book, rows, excluded, capped)
        info["terminated"] = n_people
        info["termination_rows"] = n_rows
    if capped is not None and capped.any():
        for key in ("net", "units"):
            rows[key] = _cap_cancellations(rows, key, capped, n_codes)
    return rows, info


def _termination_days(cb, book) -> np.ndarray:
    people = book.people
    column = cb.termination_column
    if column not in people.columns:
        raise DataError(
            [
                Problem(
                    "<org>",
                    f"clawback.on_termination reads org column `{column}`, which the org data "
                    "lacks",
                    hint="add the column (YYYY-MM-DD, empty for people still employed) or "
                    "name another with `column`",
                )
            ]
        )
    raw = people[column]
    text = raw.astype(str).str.strip()
    empty = raw.isna().to_numpy() | text.isin(["", "nan", "NaT", "None"]).to_numpy()
    parsed = pd.to_datetime(text.where(~empty), format="%Y-%m-%d", errors="coerce")
    bad = np.flatnonzero(~empty & parsed.isna().to_numpy())
    if len(bad):
        raise DataError(
            [
                Problem(
                    "<org>",
                    f"rep {people['rep_id'].iloc[i]!r}: {column} {raw.iloc[i]!r} is not a "
                    "date (YYYY-MM-DD)",
                    field=column,
                )
                for i in bad[:25]
            ]
        )
    days = parsed.to_numpy(dtype="datetime64[D]").astype(np.int64)
    return np.where(empty, _NEVER, days)


def _termination(cb, book, rows: dict, excluded: dict, capped):
    end = _termination_days(cb, book)[rows["person"]]
    day = rows["day"]
    booking = rows["gross"] > 0
    after = booking & (day > end)
    excluded["after_termination"] = int(after.sum())
    hit = booking & (day <= end) & (day >= end - cb.termination_days)
    month = book.calendar.month_index(end[hit].astype("datetime64[D]"))
    hit_rows = np.flatnonzero(hit)[month >= 0]
    month = month[month >= 0]
    new = {k: v[hit_rows] for k, v in rows.items()}
    new["day"] = end[hit_rows]
    new["month"] = month
    new["net"] = -round_div(rows["gross"][hit_rows].astype(object) * cb.termination_share, MICRO)
    new["gross"] = np.zeros(len(hit_rows), dtype=np.int64)
    new["units"] = -round_div(
        np.abs(rows["units"][hit_rows]).astype(object) * cb.termination_share, MICRO
    )
    first = len(book.deals.order)
    new["order"] = first + np.arange(len(hit_rows))
    keep = ~after
    out = {k: np.concatenate([v[keep], new[k].astype(v.dtype)]) for k, v in rows.items()}
    # deals clawed back on termination: all their cancellations together stay within them
    n_codes = int(max(out["deal"].max(initial=0), 0)) + 1
    key = out["person"].astype(np.int64) * n_codes + out["deal"]
    terminated = np.isin(key, key[len(key) - len(hit_rows) :])
    if capped is None:
        capped = terminated
    else:
        capped = np.concatenate([capped[keep], np.ones(len(hit_rows), dtype=bool)])
    n_people = len(np.unique(out["person"][len(key) - len(hit_rows) :]))
    return out, capped, n_people, len(hit_rows)


def _cap_cancellations(rows: dict, key: str, capped: np.ndarray, n_codes: int) -> np.ndarray:
    """Cancellations of each (person, deal) of ``capped`` rows, in date order, taking back
    at most the deal's bookings: cumulative cancelled ``C`` becomes ``min(C, booked)``."""
    values = rows[key].copy()
    idx = np.flatnonzero(capped)
    n_codes = max(n_codes, int(rows["deal"].max(initial=0)) + 1)
    group = rows["person"][idx].astype(np.int64) * n_codes + rows["deal"][idx]
    v = values[idx]
    is_cancel = rows["net"][idx] < 0
    order = np.lexsort((rows["order"][idx], is_cancel, rows["day"][idx], group))
    g, v, is_cancel, pos = group[order], v[order], is_cancel[order], idx[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    ids = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(g)]))
    booked = np.zeros(len(starts), dtype=np.int64)
    np.add.at(booked, ids, np.where(is_cancel, 0, np.maximum(v, 0)))
    taken = np.where(is_cancel, -v, 0)
    cum = np.cumsum(taken)
    cum = cum - np.r_[0, cum][starts][ids]
    allowed = np.minimum(cum, booked[ids])
    before = np.minimum(cum - taken, booked[ids])
    values[pos] = np.where(is_cancel, -(allowed - before), v)
    return values

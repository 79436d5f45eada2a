"""Activities logged to date against the weekly activity targets: to date, pace, this week.

The activity targets are an allocation's ``activity_targets.csv`` (``rep_id, week,
activity, target``; ``converts_to`` when present gives the funnel). The activities
table has one row per logged count: ``rep_id``, ``date`` (``YYYY-MM-DD``), ``activity``
and ``count``. A week's target is due over its days in the fiscal year, so the target
to date is the weeks gone and the current week × the share of its days elapsed (the
date counts). Reps roll up to their teams and regions as in the tracking table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from attain.checks import check_columns
from attain.errors import DataError, Problem
from attain.notices import Notice
from attain.schema.base import did_you_mean
from attain.tables import Column
from attain.track.forecast import Unit
from attain.track.inputs import Ledger, read_frame
from attain.track.inputs import table_place as _place

__all__ = ["ACTIVITY_COLUMNS", "TARGET_COLUMNS", "ActivityTracking", "track_activities"]

ACTIVITY_COLUMNS = (
    Column("rep_id", "id", "The rep who logged the activity."),
    Column("date", "date", "The day, `YYYY-MM-DD`."),
    Column("activity", "id", "The activity, as the funnel names it (`visits`)."),
    Column("count", "int", "How many.", min=0),
)
TARGET_COLUMNS = (
    Column("rep_id", "id", "The rep."),
    Column("week", "text", "The ISO week, `YYYY-Www`."),
    Column("activity", "id", "The activity."),
    Column("target", "int", "The week's target, whole activities.", min=0),
    Column("converts_to", "text", "The funnel's next step (or `revenue`).", False, ""),
)
_LISTED = 25


@dataclass(frozen=True)
class ActivityTracking:
    frame: pd.DataFrame
    summary: dict[str, Any]
    notices: list[Notice]


def _weeks(labels: pd.Series, source: str, offset: int) -> tuple[np.ndarray, list[Problem]]:
    """Each distinct ISO week label's Monday (``datetime64[D]``); problems for bad ones."""
    text = labels.astype(str).str.strip()
    uniques, inverse = np.unique(text.to_numpy(), return_inverse=True)
    mondays = np.empty(len(uniques), dtype="datetime64[D]")
    bad = np.zeros(len(uniques), dtype=bool)
    for k, label in enumerate(uniques):  # one per distinct week (53 a year), not per row
        try:
            year, week = label.split("-W")
            mondays[k] = np.datetime64(dt.date.fromisocalendar(int(year), int(week), 1), "D")
        except ValueError:
            bad[k] = True
    problems = [
        Problem(source, f"not an ISO week (YYYY-Www): {text.iloc[i]!r}", row=int(i) + offset,
                field="week", code="week")
        for i in np.flatnonzero(bad[inverse])[:_LISTED]
    ]  # fmt: skip
    return mondays[inverse], problems


def track_activities(
    ledger: Ledger,
    levels: dict[str, Unit],
    table: pd.DataFrame,
    activities: pd.DataFrame | str | Path,
    targets: pd.DataFrame | str | Path,
) -> ActivityTracking:
    """Per rep, unit and company, per activity: target, due to date, logged, pace, the
    current week, and what is needed a week from here."""
    reps = pd.Index(ledger.people["rep_id"].astype(str))
    first = np.datetime64(ledger.calendar.month_start(0), "D")
    end = ledger.calendar.month_start(11)
    last = np.datetime64(dt.date(end.year + (end.month == 12), end.month % 12 + 1, 1), "D") - 1
    today = np.datetime64(ledger.as_of, "D")

    t_frame = read_frame(targets, "activity_targets")
    t_where = _place(t_frame, "<activity_targets>")
    typed, problems = check_columns(t_frame, TARGET_COLUMNS, *t_where)
    if problems:
        raise DataError(problems)
    assert typed is not None
    monday, problems = _weeks(typed["week"], *t_where)
    who = reps.get_indexer(typed["rep_id"].astype(str))
    for i in np.flatnonzero(who < 0)[:_LISTED]:
        problems.append(
            Problem(t_where[0], f"rep {typed['rep_id'].iloc[i]!r} has activity targets but no "
                    "revenue target in the targets tracked", row=int(i) + t_where[1],
                    field="rep_id", code="unknown-rep")
        )  # fmt: skip
    if problems:
        raise DataError(problems)
    names = list(dict.fromkeys(typed["activity"].astype(str)))
    act = pd.Index(names).get_indexer(typed["activity"].astype(str))
    steps = dict(zip(typed["activity"].astype(str), typed["converts_to"].astype(str), strict=False))
    # Each target row's days in the year, and those gone by the date.
    lo = np.maximum(monday, first)
    hi = np.minimum(monday + 6, last)
    days = (hi - lo).astype(np.int64) + 1
    gone = np.clip((np.minimum(hi, today) - lo).astype(np.int64) + 1, 0, None)
    share = np.where(days > 0, gone / np.maximum(days, 1), 0.0)
    R, A = len(reps), len(names)
    target = np.zeros((R, A), dtype=np.int64)
    due = np.zeros((R, A))
    week_target = np.zeros((R, A), dtype=np.int64)
    counts = typed["target"].to_numpy(dtype=np.int64)
    np.add.at(target, (who, act), counts)
    np.add.at(due, (who, act), counts * share)
    current = (lo <= today) & (today <= hi)
    np.add.at(week_target, (who[current], act[current]), counts[current])

    a_frame = read_frame(activities, "activities")
    a_where = _place(a_frame, "<activities>")
    logged, problems = check_columns(a_frame, ACTIVITY_COLUMNS, *a_where)
    if problems:
        raise DataError(problems)
    assert logged is not None
    day = logged["date"].to_numpy(dtype="datetime64[D]")
    rep = reps.get_indexer(logged["rep_id"].astype(str))
    kind = pd.Index(names).get_indexer(logged["activity"].astype(str))
    problems = []
    for i in np.flatnonzero(rep < 0)[:_LISTED]:
        value = str(logged["rep_id"].iloc[i])
        problems.append(
            Problem(a_where[0], f"unknown rep {value!r}{did_you_mean(value, reps)}",
                    row=int(i) + a_where[1], field="rep_id", code="unknown-rep")
        )  # fmt: skip
    for i in np.flatnonzero(kind < 0)[:_LISTED]:
        value = str(logged["activity"].iloc[i])
        problems.append(
            Problem(a_where[0], f"unknown activity {value!r}{did_you_mean(value, names)}; the "
                    f"targets' activities: {', '.join(names)}", row=int(i) + a_where[1],
                    field="activity", code="unknown-activity")
        )  # fmt: skip
    for i in np.flatnonzero(day > today)[:_LISTED]:
        problems.append(
            Problem(a_where[0], f"activity dated {day[i]} is after --as-of {ledger.as_of}",
                    row=int(i) + a_where[1], field="date", code="after-as-of",
                    hint="track at a later date, or leave out what is not logged yet")
        )  # fmt: skip
    if problems:
        raise DataError(problems)
    inside = day >= first
    n_before = int((~inside).sum())
    amount = logged["count"].to_numpy(dtype=np.int64)
    actual = np.zeros((R, A), dtype=np.int64)
    np.add.at(actual, (rep[inside], kind[inside]), amount[inside])
    week_start = today - ((today.astype(np.int64) + 3) % 7)  # the Monday of the date's week
    this_week = inside & (day >= week_start)
    week_actual = np.zeros((R, A), dtype=np.int64)
    np.add.at(week_actual, (rep[this_week], kind[this_week]), amount[this_week])
    left_days = int((last - today).astype(np.int64))

    frame = _frame_of(ledger, levels, table, names, steps, target, due, actual, week_target,
                      week_actual, left_days)  # fmt: skip
    notices = _notices(names, target, due, actual, reps, n_before)
    company = frame[frame["level"] == "company"].set_index("activity")
    summary = {
        "activities": names,
        "week": _label(week_start),
        "by_activity": {
            a: {
                "target": int(company.loc[a, "target"]),
                "expected_to_date": round(float(company.loc[a, "expected_to_date"]), 2),
                "actual_to_date": int(company.loc[a, "actual_to_date"]),
                "pace": None
                if pd.isna(company.loc[a, "pace"])
                else round(float(company.loc[a, "pace"]), 4),
            }
            for a in names
        },
        "n_reps_behind": {
            a: int(
                ((frame["level"] == "rep") & (frame["activity"] == a) & (frame["pace"] < 1)).sum()
            )
            for a in names
        },
    }
    return ActivityTracking(frame, summary, notices)


def _label(monday: np.datetime64) -> str:
    iso = dt.date.fromisoformat(str(monday)).isocalendar()
    return f"{iso.year:04d}-W{iso.week:02d}"


def _frame_of(ledger, levels, table, names, steps, target, due, actual, week_target,
              week_actual, left_days) -> pd.DataFrame:  # fmt: skip
    A = len(names)
    parts = []
    for level in ("company", *ledger.hierarchy, "rep"):
        rows = table[table["level"] == level].reset_index(drop=True)
        n = len(rows)
        if level == "rep":
            agg = [target, due, actual, week_target, week_actual]
        else:
            codes = levels[level].codes
            agg = []
            for x in (target, due, actual, week_target, week_actual):
                out = np.zeros((n, A), dtype=x.dtype)
                np.add.at(out, codes, x)
                agg.append(out)
        t, d, a, wt, wa = agg
        head = rows[["level", "unit", *ledger.hierarchy, "rep_id"]]
        frame = head.loc[np.repeat(np.arange(n), A)].reset_index(drop=True)
        frame["activity"] = np.tile(np.asarray(names, dtype=object), n)
        frame["target"] = t.ravel()
        frame["expected_to_date"] = np.round(d.ravel(), 2)
        frame["actual_to_date"] = a.ravel()
        frame["gap_to_expected"] = np.round(a.ravel() - d.ravel(), 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            frame["pace"] = np.round(
                np.where(d.ravel() > 0, a.ravel() / np.where(d.ravel() > 0, d.ravel(), 1), np.nan),
                4,
            )
        frame["week_target"] = wt.ravel()
        frame["week_actual"] = wa.ravel()
        remaining = np.maximum(t - a, 0).ravel()
        frame["needed_per_week"] = (
            np.round(remaining / (left_days / 7), 2) if left_days > 0 else np.nan
        )
        # Conversion: the next step's count ÷ this step's, planned (targets) and actual.
        nxt = np.array([names.index(steps[s]) if steps.get(s) in names else -1 for s in names])
        with np.errstate(divide="ignore", invalid="ignore"):
            conv_t = np.where(
                (nxt >= 0) & (t > 0), t[:, np.maximum(nxt, 0)] / np.where(t > 0, t, 1), np.nan
            )
            conv_a = np.where(
                (nxt >= 0) & (a > 0), a[:, np.maximum(nxt, 0)] / np.where(a > 0, a, 1), np.nan
            )
        frame["conversion_target"] = np.round(conv_t.ravel(), 4)
        frame["conversion_actual"] = np.round(conv_a.ravel(), 4)
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def _notices(names, target, due, actual, reps, n_before) -> list[Notice]:
    out = []
    if n_before:
        out.append(
            Notice("activities-before-year",
                   f"{n_before} activity row(s) dated before the fiscal year are not counted",
                   count=n_before)
        )  # fmt: skip
    silent = [a for k, a in enumerate(names) if due[:, k].sum() > 0 and actual[:, k].sum() == 0]
    if silent:
        out.append(
            Notice("no-activities-logged",
                   f"nobody logged {', '.join(silent)} though targets are due by the date",
                   source="activities", count=len(silent))
        )  # fmt: skip
    idle = (due.sum(axis=1) > 0) & (actual.sum(axis=1) == 0)
    if idle.any() and len(silent) != len(names):
        ids = list(reps[idle][:3])
        more = f" and {idle.sum() - 3} more" if idle.sum() > 3 else ""
        out.append(
            Notice("reps-without-activities",
                   f"{int(idle.sum())} rep(s) with activity targets due logged nothing "
                   f"({', '.join(ids)}{more})", source="activities", count=int(idle.sum()))
        )  # fmt: skip
    return out

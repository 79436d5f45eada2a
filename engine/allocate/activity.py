"""Weekly activity targets per rep: the revenue target through a funnel of conversion rates.

For each rep, the week's revenue target (of the funnel's products) is divided by the
average deal to give the last activity (deals), and each step before it by its rate:
``visits = revenue ÷ average_deal ÷ rate(opportunities → deals) ÷ rate(visits →
opportunities)``. Segments (the first whose ``where`` matches a rep) replace rates or the
average deal.

Weeks are ISO weeks (Monday to Sunday, labelled ``YYYY-Www`` by their ISO year). A
week's revenue target follows the month targets' phasing day by day: each day carries
its month's target ÷ the month's days, and a week is the sum of its days, so a week
split across two months takes its days of each at that month's rate. The first and last
weeks of the fiscal year hold only their days inside the year (``days`` says how many).

Targets are whole activities: each rep × activity's year total is its exact total
rounded half up, split over the weeks by largest remainders (ties to the earlier week),
so a rep's weeks add up exactly to the year, and a team's to its reps'.

With a dated org a rep's month target falls only on their days in the org that month:
each such day carries the month's target ÷ the days in the org (a leaver's last month,
a joiner's first), so no week after a leaver's ``end_date`` or before a joiner's
``start_date`` has a target (a target left in a month without a day in the org gives no
activities). A re-plan (:func:`attain.allocate.replan`) holds the past:
with :class:`HeldActivities` (the previous run's ``activity_targets.csv``,
:func:`held_activities`) every week that starts before the re-plan month keeps its
previous row, and each rep × activity's remaining weeks share the rounded total of their
exact targets from the re-planned months; the year is the held weeks plus the rest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from attain.allocate.inputs import Inputs, _where_mask
from attain.allocate.rounding import apportion
from attain.errors import DataError, Problem
from attain.notices import Notice
from attain.schema.activity import Activities

__all__ = [
    "ActivityTargets",
    "HeldActivities",
    "activity_targets",
    "fiscal_weeks",
    "held_activities",
]


@dataclass(frozen=True)
class ActivityTargets:
    """The weekly activity targets of an allocation, their summary section and warnings."""

    frame: pd.DataFrame
    """One row per rep × ISO week × activity: ``rep_id``, the hierarchy columns, ``week``,
    ``week_start``, ``days``, ``activity``, ``target`` (whole activities), ``exact``,
    ``revenue_target`` (the week's revenue target it comes from), ``converts_to``,
    ``rate`` (of this step; empty for the last), ``average_deal``."""
    summary: dict[str, Any]
    notices: list[Notice]


@dataclass(frozen=True)
class Weeks:
    """The ISO weeks of a fiscal year and how its months' days fall in them."""

    labels: list[str]
    starts: list[str]
    """Each week's Monday, ``YYYY-MM-DD`` (before the year's first day for a first week
    that began in the year before)."""
    days: np.ndarray
    """Days of each week inside the fiscal year (7 but for the first and last)."""
    month_share: np.ndarray
    """12 × W: the share of each month's days that falls in each week."""
    day_month: np.ndarray | None = None
    """Each day of the year's month (0..11), int[days]."""
    day_week: np.ndarray | None = None
    """Each day of the year's week, int[days]."""
    first_day: dt.date | None = None


@dataclass(frozen=True)
class HeldActivities:
    """A re-plan's past weeks: the previous run's rows of every week before ``first``."""

    first: int  # the first week not held (weeks before it start before the re-plan month)
    counts: np.ndarray  # int64[R, first, A]: whole activities
    exact: np.ndarray  # float64[R, first, A]
    revenue: np.ndarray  # float64[R, first]: the week's revenue target


def fiscal_weeks(first_day: dt.date, n_months: int = 12) -> Weeks:
    """The ISO weeks of the ``n_months`` months from ``first_day`` (a month's first day)."""
    month_starts = []
    y, m = first_day.year, first_day.month
    for _ in range(n_months + 1):
        month_starts.append(dt.date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    last = month_starts[-1] - dt.timedelta(days=1)
    n_days = (last - first_day).days + 1
    day = np.arange(n_days)
    bounds = np.array([(d - first_day).days for d in month_starts])
    month = np.searchsorted(bounds, day, side="right") - 1
    monday = first_day - dt.timedelta(days=first_day.weekday())
    offset = (first_day - monday).days
    week = (day + offset) // 7
    W = int(week[-1]) + 1
    labels, starts = [], []
    for w in range(W):
        start = monday + dt.timedelta(days=7 * w)
        iso = start.isocalendar()
        labels.append(f"{iso.year:04d}-W{iso.week:02d}")
        starts.append(start.isoformat())
    counts = np.zeros((n_months, W))
    np.add.at(counts, (month, week), 1.0)
    month_days = np.diff(bounds).astype(np.float64)
    return Weeks(
        labels,
        starts,
        np.bincount(week, minlength=W),
        counts / month_days[:, None],
        month,
        week,
        first_day,
    )


def held_activities(
    inputs: Inputs, previous: pd.DataFrame, first_month: int, source: str
) -> HeldActivities:
    """The past weeks of a previous run's activity targets (``activity_targets.csv``, read
    as text) for a re-plan from month ``first_month``: every week that starts before that
    month's first day, checked against these rules' reps and funnel (located problems)."""
    spec = inputs.rules.activities
    assert spec is not None
    weeks = fiscal_weeks(dt.date.fromisoformat(f"{inputs.periods[0]}-01"))
    start = f"{inputs.periods[first_month]}-01"
    first = int(sum(s < start for s in weeks.starts))
    missing = [c for c in ("rep_id", "week", "activity", "target") if c not in previous]
    if missing:
        raise DataError([Problem(source, f"missing column `{missing[0]}`", code="missing-column")])
    rows = previous[previous["week"].astype(str).isin(weeks.labels[:first])]
    offset = int(previous.attrs.get("offset", 2))
    rep = pd.Index(inputs.reps["rep_id"].astype(str)).get_indexer(rows["rep_id"].astype(str))
    names = [s.name for s in spec.funnel]
    act = pd.Index(names).get_indexer(rows["activity"].astype(str))
    week = pd.Index(weeks.labels[:first]).get_indexer(rows["week"].astype(str))
    count = pd.to_numeric(rows["target"], errors="coerce").to_numpy(dtype=float)
    problems = []
    for i in np.flatnonzero(rep < 0)[:25]:
        message = f"rep {rows['rep_id'].iloc[i]!r} has past activity targets but is not a rep now"
        problems.append(Problem(source, message, row=int(rows.index[i]) + offset, field="rep_id"))
    for i in np.flatnonzero(act < 0)[:25]:
        message = f"activity {rows['activity'].iloc[i]!r} is not a step of the funnel"
        hint = "the funnel's steps: " + ", ".join(names)
        problems.append(
            Problem(source, message, row=int(rows.index[i]) + offset, field="activity", hint=hint)
        )
    bad = np.isnan(count) | (count != np.rint(count)) | (count < 0)
    for i in np.flatnonzero(bad)[:25]:
        message = f"not a whole count of activities: {rows['target'].iloc[i]!r}"
        problems.append(Problem(source, message, row=int(rows.index[i]) + offset, field="target"))
    if problems:
        raise DataError(problems)
    R, A = inputs.n_reps, len(names)
    counts = np.zeros((R, first, A), dtype=np.int64)
    exact = np.zeros((R, first, A))
    revenue = np.zeros((R, first))
    counts[rep, week, act] = count.astype(np.int64)
    for column, out in (("exact", exact), ("revenue_target", None)):
        if column not in rows:
            continue
        values = pd.to_numeric(rows[column], errors="coerce").fillna(0.0).to_numpy(dtype=float)
        if out is None:
            revenue[rep, week] = values
        else:
            out[rep, week, act] = values
    return HeldActivities(first, counts, exact, revenue)


def activity_targets(
    inputs: Inputs, rounded: dict[str, Any], held: HeldActivities | None = None
) -> ActivityTargets | None:
    """The rules' weekly activity targets on the rounded month targets (``None`` without
    an ``activities`` section); ``held``: a re-plan's past weeks, kept."""
    spec = inputs.rules.activities
    if spec is None:
        return None
    weeks = fiscal_weeks(dt.date.fromisoformat(f"{inputs.periods[0]}-01"))
    products = list(spec.products or inputs.products)
    pick = np.array([inputs.products.index(p) for p in products], dtype=np.int64)
    unit = float(rounded["unit"])
    month_revenue = rounded["month"][:, pick, :].sum(axis=1).astype(np.float64) * unit  # R × 12
    revenue = month_revenue @ weeks.month_share  # R × W
    if getattr(inputs.company, "org_dated", None) is not None:  # on the days in the org
        revenue = _days_in_org(inputs, weeks, month_revenue, revenue)
    steps = spec.funnel
    A = len(steps)
    rates, deal = _rates(inputs, spec)  # R × (A - 1), R
    per_revenue = np.empty((inputs.n_reps, A))
    per_revenue[:, A - 1] = 1.0 / deal
    for k in range(A - 2, -1, -1):
        per_revenue[:, k] = per_revenue[:, k + 1] / rates[:, k]
    exact = revenue[:, :, None] * per_revenue[:, None, :]  # R × W × A
    R, W = revenue.shape
    F = 0 if held is None else held.first  # weeks held
    rest = exact[:, F:, :]
    year = np.floor(rest.sum(axis=1) + 0.5 + 1e-9).astype(np.int64)  # R × A
    by_week = rest.transpose(0, 2, 1).ravel()  # rep → activity → week
    counts = apportion(by_week, np.repeat(np.arange(R * A), W - F), year.ravel())
    counts = counts.reshape(R, A, W - F).transpose(0, 2, 1)  # R × W × A
    if held is not None:  # a re-plan: the past weeks as they were
        counts = np.concatenate([held.counts, counts], axis=1)
        exact = np.concatenate([held.exact, rest], axis=1)
        revenue = np.concatenate([held.revenue, revenue[:, F:]], axis=1)
        year = counts.sum(axis=1)
    frame = _frame(inputs, weeks, steps, spec, exact, counts, revenue, rates, deal)
    notices = _notices(inputs, month_revenue, year, products)
    summary = {
        "funnel": [{"name": s.name, "to": s.to, "rate": s.rate} for s in steps],
        "average_deal": spec.average_deal,
        "products": products,
        "n_segments": len(spec.segments),
        "weeks": W,
        "first_week": weeks.labels[0],
        "last_week": weeks.labels[-1],
        "totals": {s.name: int(year[:, k].sum()) for k, s in enumerate(steps)},
        "revenue_target": float(month_revenue.sum()),
    }
    if held is not None:  # what the re-plan kept: the weeks before it
        summary["held_weeks"] = F
    return ActivityTargets(frame, summary, notices)


def _days_in_org(inputs: Inputs, weeks: Weeks, month_revenue, revenue) -> np.ndarray:
    """Weekly revenue targets of reps in the org for part of the year (a dated org): each
    month's target over their days in the org that month only, none in a month without
    such a day (other reps unchanged)."""
    from attain.incentive.calendar import Calendar
    from attain.incentive.proration import days_in_role, held_on

    dated = inputs.company.org_dated
    assert dated is not None and weeks.day_month is not None and weeks.day_week is not None
    assert weeks.first_day is not None
    first = weeks.first_day
    calendar = Calendar(first.year, first.month)
    ids = inputs.reps["rep_id"].astype(str).to_numpy()
    days = days_in_role(dated, ids, calendar)  # R × 12
    month_days = np.bincount(weeks.day_month, minlength=12)
    partial = np.flatnonzero((days < month_days[None, :]).any(axis=1))
    if not len(partial):
        return revenue
    n_days = len(weeks.day_month)
    day0 = (first - dt.date(1970, 1, 1)).days
    on = held_on(
        dated, ids, np.repeat(partial, n_days), np.tile(day0 + np.arange(n_days), len(partial))
    ).reshape(len(partial), n_days)
    held = days[partial][:, weeks.day_month]  # days in the org in each day's month
    share = on / np.maximum(held, 1)  # a month without a day in the org: no activities
    per_day = month_revenue[partial][:, weeks.day_month] * share  # P × days
    out = revenue.copy()
    sums = np.zeros((len(partial), revenue.shape[1]))
    rows = np.repeat(np.arange(len(partial)), n_days)
    np.add.at(sums, (rows, np.tile(weeks.day_week, len(partial))), per_day.ravel())
    out[partial] = sums
    return out


def _rates(inputs: Inputs, spec: Activities) -> tuple[np.ndarray, np.ndarray]:
    """Per rep: each rated step's conversion rate and the average deal (segments applied)."""
    R = inputs.n_reps
    base = np.array([s.rate for s in spec.funnel[:-1]], dtype=np.float64)
    rates = np.tile(base, (R, 1))
    deal = np.full(R, float(spec.average_deal))
    names = [s.name for s in spec.funnel[:-1]]
    taken = np.zeros(R, dtype=bool)
    for segment in spec.segments:
        mask = _where_mask(inputs.reps, segment.where).to_numpy() & ~taken
        for name, rate in segment.rates.items():
            rates[mask, names.index(name)] = rate
        if segment.average_deal is not None:
            deal[mask] = segment.average_deal
        taken |= mask
    return rates, deal


def _labels(codes: np.ndarray, names) -> pd.Categorical:
    """Repeated text as a categorical: a few names, millions of rows, no string per row."""
    return pd.Categorical.from_codes(codes, categories=pd.Index(list(names), dtype=object))


def _frame(inputs, weeks: Weeks, steps, spec, exact, counts, revenue, rates, deal):
    R, W, A = exact.shape
    reps = inputs.reps
    rep_idx = np.repeat(np.arange(R), W * A)
    week_idx = np.tile(np.repeat(np.arange(W), A), R)
    step_idx = np.tile(np.arange(A), R * W)
    frame = pd.DataFrame({"rep_id": _labels(rep_idx, reps["rep_id"].astype(str))})
    for level in inputs.company.hierarchy:
        codes, names = pd.factorize(reps[level].astype(str).to_numpy())
        frame[level] = _labels(codes[rep_idx], names)
    frame["week"] = _labels(week_idx, weeks.labels)
    frame["week_start"] = _labels(week_idx, weeks.starts)
    frame["days"] = weeks.days[week_idx]
    frame["activity"] = _labels(step_idx, [s.name for s in steps])
    frame["target"] = counts.ravel()
    frame["exact"] = np.round(exact.ravel(), 4)
    decimals = inputs.company.rules.minor_unit
    frame["revenue_target"] = np.round(revenue, decimals)[rep_idx, week_idx]
    tos = list(dict.fromkeys(s.to for s in steps))
    frame["converts_to"] = _labels(np.array([tos.index(s.to) for s in steps])[step_idx], tos)
    full = np.concatenate([rates, np.full((R, 1), np.nan)], axis=1)
    frame["rate"] = full[rep_idx, step_idx]
    frame["average_deal"] = deal[rep_idx]
    return frame


def _notices(inputs, month_revenue, year, products) -> list[Notice]:
    out = []
    ids = inputs.reps["rep_id"].astype(str).to_numpy()
    none = month_revenue.sum(axis=1) <= 0
    if none.any():
        shown = ", ".join(ids[none][:3]) + (f" and {none.sum() - 3} more" if none.sum() > 3 else "")
        out.append(
            Notice(
                "activity-zero-targets",
                f"{int(none.sum())} rep(s) have no revenue target in {', '.join(products)} and "
                f"get no activity targets ({shown})",
                source="activities",
                count=int(none.sum()),
            )
        )
    rounded_away = ~none & (year[:, -1] == 0)
    if rounded_away.any():
        n = int(rounded_away.sum())
        out.append(
            Notice(
                "activity-rounded-to-zero",
                f"{n} rep(s) carry less than half an average deal of revenue target: their "
                "last activity's target rounds to 0",
                source="activities",
                count=n,
            )
        )
    return out

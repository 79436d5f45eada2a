"""Proration by days in role: what a dated org (``Company.org_dated``) means for pay.

A person who joins, leaves or changes role during the year is paid a yearly amount
(a target incentive, a fixed bonus) for the days they held the role:
``amount × days in role ÷ days in the year``, exact in minor units (rounded half-up).
:func:`days_in_role` counts the days per person and fiscal month from the dated rows;
:func:`prorate` applies them. Both are arrays in, arrays out.

A payout run (:mod:`attain.incentive.run`) reads the same rows through :func:`held_on`
(is a deal dated on a day its person holds one of the roles: credit after a leaver's
``end_date`` or in another role does not count) and :func:`window_share` (the share of
a window's slots a person holds the roles, slot by slot: ``Σ days held ÷ days of the
slot``, over the window's slots in force): a plan's ``proration: days`` multiplies each
window's fixed amounts by it (:data:`PRORATED_KINDS`, the draw), ``none`` by 1 when the
share is above 0. :func:`slot_shares` is the float form the simulator's evaluator reads.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from attain.incentive.calendar import Calendar
from attain.incentive.rational import round_div

__all__ = [
    "PRORATED_KINDS",
    "days_in_role",
    "held_on",
    "prorate",
    "role_set",
    "row_in_force",
    "slot_shares",
    "unit_by_slot",
    "window_share",
]

#: Component kinds whose amount is a fixed amount per window (a share of the target
#: incentive, or an amount): prorated by days in role. Commissions, SPIFFs and team pools
#: pay per unit of credit, which already counts only the days in role.
PRORATED_KINDS = frozenset({"attainment_curve", "kpi", "step_bonus", "penalty"})

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


def role_set(
    participant_roles: Sequence[str] | None, roles: Sequence[str] | None
) -> tuple[str, ...] | None:
    """The roles a component pays on: its ``roles`` among the plan's participant roles
    (``None``: any role)."""
    if participant_roles is None:
        return None if roles is None else tuple(roles)
    if roles is None:
        return tuple(participant_roles)
    return tuple(r for r in roles if r in set(participant_roles))


def held_on(
    org_dated: pd.DataFrame,
    rep_ids: Sequence[str] | np.ndarray,
    person: np.ndarray,
    day: np.ndarray,
    roles: Sequence[str] | None = None,
) -> np.ndarray:
    """Whether person ``person[i]`` (an index into ``rep_ids``) is in the org (in one of
    ``roles``, if given) on ``day[i]`` (days since 1970-01-01), bool per row."""
    return row_in_force(org_dated, rep_ids, person, day, roles) >= 0


def row_in_force(
    org_dated: pd.DataFrame,
    rep_ids: Sequence[str] | np.ndarray,
    person: np.ndarray,
    day: np.ndarray,
    roles: Sequence[str] | None = None,
) -> np.ndarray:
    """The position in ``org_dated`` of person ``person[i]``'s row in force on ``day[i]``
    (in one of ``roles``, if given), or -1 when none is. A person's dated rows do not
    overlap (:mod:`attain.checks`), so the row in force is the last to start on or before
    the day, if it has not ended."""
    keep = np.ones(len(org_dated), dtype=bool)
    if roles is not None:
        keep &= org_dated["role"].astype(str).isin(list(roles)).to_numpy()
    who = pd.Index(pd.unique(np.asarray(rep_ids))).get_indexer(org_dated["rep_id"])
    keep &= who >= 0
    start = org_dated["start_date"].to_numpy(dtype="datetime64[D]")
    end = org_dated["end_date"].to_numpy(dtype="datetime64[D]")
    s = np.where(np.isnat(start), -_FAR, start.astype(np.int64))[keep]
    e = np.where(np.isnat(end), _FAR, end.astype(np.int64))[keep]
    pos = np.flatnonzero(keep)
    who = who[keep].astype(np.int64)
    span = 4 * _FAR
    key = who * span + (s + 2 * _FAR)
    order = np.argsort(key, kind="stable")
    key, e, who, pos = key[order], e[order], who[order], pos[order]
    person = np.asarray(person, dtype=np.int64)
    day = np.asarray(day, dtype=np.int64)
    if not len(key):
        return np.full(len(person), -1, dtype=np.int64)
    at = np.searchsorted(key, person * span + (day + 2 * _FAR), side="right") - 1
    ok = at >= 0
    at = np.maximum(at, 0)
    ok &= (who[at] == person) & (e[at] >= day) & (person >= 0)
    return np.where(ok, pos[at], -1)


def _slot_days(calendar: Calendar) -> np.ndarray:
    lo, hi = _month_bounds(calendar)
    return (hi - lo + 1).astype(np.int64)


def window_share(
    held: np.ndarray, calendar: Calendar, active: np.ndarray, ytd: bool, policy: str = "days"
) -> tuple[np.ndarray, np.ndarray]:
    """The share of each window a person holds the roles, an exact fraction ``(num,
    den)``: object[R, W] and object[1, W]. ``held`` int[R, S] days per slot (from
    :func:`days_in_role`); a window's share is the mean over its slots in force
    (``active`` bool[S]) of ``days held ÷ days of the slot`` (1 for a window without such
    a slot); ``policy`` ``none``: 1 where any day is held, else 0."""
    days = _slot_days(calendar)
    lcm = int(np.lcm.reduce(np.unique(days)))
    weight = (lcm // days) * active  # int[S]
    k = calendar.months_per_period
    num_s = np.asarray(held, dtype=np.int64) * weight[None, :]
    den_s = lcm * active.astype(np.int64)
    num = num_s.reshape(len(held), -1, k).sum(axis=2)
    den = den_s.reshape(-1, k).sum(axis=1)
    if ytd:
        num, den = np.cumsum(num, axis=1), np.cumsum(den)
    if policy == "none":
        num, den = (num > 0).astype(np.int64), np.ones_like(den)
    else:
        num = np.where(den[None, :] > 0, num, 1)
        den = np.where(den > 0, den, 1)
    return num.astype(object), den.astype(object)[None, :]


def slot_shares(held: np.ndarray, calendar: Calendar) -> np.ndarray:
    """``days held ÷ days of the slot``, float64[R, S] (the simulator's form)."""
    return np.asarray(held, dtype=np.float64) / _slot_days(calendar)[None, :]


def dated_windows(compiled, book, credit, w, ytd: bool) -> dict:
    """What a dated org changes in a payout run's windows ``w``, per component name: the
    ``days`` int[R, S] held in the roles it pays, ``role_ok`` bool[R] (some day held),
    ``share`` (:func:`window_share`, the kinds of :data:`PRORATED_KINDS`) and, for a
    component limited to fewer roles than the plan, its own ``net``, ``gross`` and
    ``targets`` windows and ``credit``: bookings on days in those roles only (rows of
    other days kept with no credit, so row indices stay the run's), each month's target
    × its days in those roles ÷ its days in the plan's (as given in a month without any).
    Participants are narrowed in place to those who hold a participant role on some day
    of the year, open headcount left out (a placeholder is not a person: a payout run pays
    people; the simulator pays the planned hire)."""
    from dataclasses import replace

    from attain.incentive.kinds.base import to_windows

    cal, dated, ids = book.calendar, book.dated, book.rep_ids
    active, k = credit.active, cal.months_per_period
    plan_roles = compiled.participant_roles
    plan_days = days_in_role(dated, ids, cal, plan_roles)
    from attain.incentive.run import participants

    w.participant[:] = participants(compiled, book.people, held=plan_days.sum(axis=1) > 0)
    if "open_headcount" in book.people.columns:  # a placeholder for a hire is paid nothing
        placeholder = book.people["open_headcount"].fillna(False).astype(bool).to_numpy()
        w.participant[placeholder] = False
    out: dict = {}
    for c in compiled.components:
        roles = role_set(plan_roles, c.roles)
        held = plan_days if roles == plan_roles else days_in_role(dated, ids, cal, roles)
        same = np.array_equal(held, plan_days)
        entry: dict = {"days": held, "role_ok": held.sum(axis=1) > 0}
        if c.type in PRORATED_KINDS:
            entry["share"] = window_share(held, cal, active, ytd, compiled.proration)
        if not same:
            keep = held_on(dated, ids, credit.person, credit.day, roles) | (credit.net < 0)
            rows = {
                key: np.where(keep, getattr(credit, key), 0) for key in ("net", "gross", "units")
            }
            months = {}
            for key in ("net", "gross"):
                m = np.zeros_like(credit.net_months)
                np.add.at(m, (credit.person, credit.month, credit.product), rows[key])
                months[key] = m
            none = plan_days == 0  # no day in the plan's roles: the targets as given
            whole = np.where(none, 1, plan_days)[:, :, None]
            part = np.where(none, 1, held)[:, :, None]
            targets = round_div(credit.targets * part, whole)
            entry["credit"] = replace(
                credit,
                **rows,
                net_months=months["net"],
                gross_months=months["gross"],
                targets=targets,
            )
            entry["net"] = to_windows(months["net"], k, ytd)
            entry["gross"] = to_windows(months["gross"], k, ytd)
            entry["targets"] = to_windows(np.where(active[None, :, None], targets, 0), k, ytd)
        out[c.name] = entry
    return out


def draw_share(compiled, book, credit) -> tuple[np.ndarray, np.ndarray] | None:
    """The share of each pay period a person holds a participant role (``proration:
    days``), for the draw: ``(num, den)`` object[R, P] / object[1, P]; None without a
    dated org, a draw, or with ``proration: none``."""
    if book.dated is None or compiled.draw is None or compiled.proration != "days":
        return None
    held = days_in_role(book.dated, book.rep_ids, book.calendar, compiled.participant_roles)
    return window_share(held, book.calendar, credit.active, ytd=False)


def unit_by_slot(
    org_dated: pd.DataFrame,
    people: pd.DataFrame,
    calendar: Calendar,
    level: str,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Each person's unit at ``level`` on the last day of each slot (the row in force
    then; before a joiner's first row, their first; after a leaver's last, their last):
    ``(codes int[R, S], names)``; None when nobody's unit changes during the year (then
    the people's own column is the unit, as without dates)."""
    if level not in org_dated.columns or level not in people.columns or not len(org_dated):
        return None
    ids = people["rep_id"].to_numpy()
    who = pd.Index(pd.unique(np.asarray(ids))).get_indexer(org_dated["rep_id"])
    keep = np.flatnonzero(who >= 0)
    start = org_dated["start_date"].to_numpy(dtype="datetime64[D]")[keep]
    s = np.where(np.isnat(start), -_FAR, start.astype(np.int64))
    who = who[keep].astype(np.int64)
    span = 4 * _FAR
    key = who * span + (s + 2 * _FAR)
    order = np.argsort(key, kind="stable")
    key, rows = key[order], keep[order]
    _, hi = _month_bounds(calendar)
    R, S = len(ids), calendar.n_slots
    person = np.repeat(np.arange(R, dtype=np.int64), S)
    day = np.tile(hi.astype(np.int64), R)
    at = np.searchsorted(key, person * span + (day + 2 * _FAR), side="right") - 1
    first = np.searchsorted(key, person * span, side="left")  # each person's first row
    last = len(key) - 1
    found = (first <= last) & (key[np.minimum(first, last)] // span == person)
    at = np.minimum(np.maximum(at, first), last)  # before the first row: the first
    values = org_dated[level].astype(str).to_numpy()
    own = people[level].astype(str).to_numpy()
    text = np.where(found, values[rows[at]], np.repeat(own, S))
    text = text.reshape(R, S)
    if (text == own[:, None]).all():
        return None
    names, codes = np.unique(text, return_inverse=True)
    return codes.reshape(R, S).astype(np.int64), names


def dated_notices(credit, book) -> list:
    """A warning when bookings dated outside their person's days in a participant role
    were not credited (after a leaver's ``end_date``, before a joiner's ``start_date``)."""
    from attain.notices import Notice

    n = int(credit.n_excluded.get("outside_days_in_role", 0))
    if not n:
        return []
    return [
        Notice(
            "credit-outside-days-in-role",
            f"{n:,} booking row(s) dated on days their rep is not in the org in a "
            "participant role (after an end_date, before a start_date) are not credited",
            source=book.deals.source,
            count=n,
        )
    ]

"""The inputs of a tracking run, read and checked: targets, challenge and actuals to date.

Targets and deals are read and checked as a payout run reads them
(:func:`attain.incentive.read_book`: every bad cell located by file, row and column);
on top of that, tracking checks that the ``as_of`` date lies in the fiscal year and
that no deal is dated after it. Amounts are integer minor units; a rep's credited
sales are each deal's amount × the rep's split, negative for a cancellation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from attain.data import Company
from attain.errors import DataError, InputError, Problem
from attain.incentive.calendar import Calendar
from attain.incentive.inputs import Book, read_book, read_deals, read_targets

__all__ = ["Ledger", "Moves", "credited", "parse_as_of", "read_ledger"]

#: Columns of a targets table that are figures, not org columns.
_FIGURES = ("rep_id", "period", "product", "target", "challenge")
_OPTIONAL_ORG = ("name", "role")


@dataclass(frozen=True)
class Moves:
    """Where a mover's figures belong: per hierarchy level, each tracked rep's unit path
    (``East/East-01``) in each month — the org row with the most of the month's days —
    and each credited deal's unit path on its date. Targets roll up by the month, actuals
    by the deal's date; the forecast of the months to come goes to the latest unit."""

    month_path: dict[str, np.ndarray]  # level -> object[R, 12]
    deal_path: dict[str, np.ndarray]  # level -> object[n_deals]
    deal_share: np.ndarray  # int64[n_deals], minor units (negative for a cancellation)
    n_movers: int


@dataclass(frozen=True)
class Ledger:
    """Everything tracking reads, indexed: tracked reps × fiscal months × products.

    Amounts are int64 minor units. ``weight[m]`` is the share of fiscal month ``m`` that
    lies on or before ``as_of`` (1 for a month gone, the days elapsed ÷ the days of the
    month for the current one, 0 after).
    """

    calendar: Calendar
    as_of: dt.date
    products: tuple[str, ...]
    minor_unit: int
    people: pd.DataFrame  # rep_id + hierarchy columns; row i = tracked rep i
    hierarchy: tuple[str, ...]  # org levels above the rep, top-down (e.g. region, team)
    target: np.ndarray  # int64[R, 12, K]
    challenge: np.ndarray  # int64[R, 12, K] (equal to target without a challenge column)
    actual: np.ndarray  # int64[R, 12, K]: credited sales through as_of
    weight: np.ndarray  # float64[12]
    has_challenge: bool
    org: pd.DataFrame  # the tracked people's whole org rows (role, target incentive, …)
    book: Book  # targets and deals as a payout run reads them (all people)
    tracked: np.ndarray  # int[R]: each tracked rep's row in book.people
    targets_frame: pd.DataFrame
    actuals_frame: pd.DataFrame
    n_outside: int = 0  # deal rows dated before the fiscal year (not counted)
    n_dated: int = 0  # reps who join or leave during the year (a dated org)
    moves: Moves | None = None  # people who move between units during the year

    @property
    def scale(self) -> int:
        return 10**self.minor_unit

    @property
    def rep_ids(self) -> np.ndarray:
        return self.people["rep_id"].to_numpy()


def parse_as_of(value: str | dt.date) -> dt.date:
    """``YYYY-MM-DD`` → a date; a bad date is an :class:`InputError` naming ``--as-of``."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(
            [
                Problem(
                    "--as-of",
                    f"not a date: {value!r}",
                    code="date",
                    hint="write the date as YYYY-MM-DD, e.g. 2027-06-30",
                )
            ]
        ) from None


def _frame(source: pd.DataFrame | str | Path, name: str) -> pd.DataFrame | str | Path:
    """A DataFrame named ``<name>`` for messages (unless it names itself); a path as it is."""
    if isinstance(source, pd.DataFrame) and "source" not in source.attrs:
        source = source.copy()
        source.attrs.update(source=f"<{name}>", offset=1)
    return source


def table_place(frame: pd.DataFrame, default: str) -> tuple[str, int]:
    """Where a table's rows are, for messages: its source and the row number of its first."""
    return frame.attrs.get("source", default), frame.attrs.get("offset", 1)


def read_frame(source: pd.DataFrame | str | Path, name: str) -> pd.DataFrame:
    """A table of a tracking run's own (expenses, activities, their budgets and targets)
    as a DataFrame: a file by :func:`attain.data.read_table`, a DataFrame named
    ``<name>`` for messages unless it names itself."""
    if not isinstance(source, pd.DataFrame):
        from attain.data import read_table

        return read_table(source)
    if "source" not in source.attrs:
        source = source.copy()
        source.attrs.update(source=f"<{name}>", offset=1)
    return source


def read_ledger(
    targets: pd.DataFrame | str | Path,
    actuals: pd.DataFrame | str | Path | None,
    as_of: str | dt.date,
    company: Company | None = None,
    minor_unit: int | None = None,
) -> Ledger:
    """Read and check targets and actuals for tracking at ``as_of``."""
    day = parse_as_of(as_of)
    # typed and checked once, as a payout run reads them (a file block by block)
    target_frame = read_targets(_frame(targets, "targets"))
    if actuals is None and (company is None or company.actuals is None):
        raise InputError(
            [Problem("--actuals", "no actuals: give a deals table", code="missing-file")]
        )
    actual_frame = read_deals(None if actuals is None else _frame(actuals, "actuals"), company)
    if minor_unit is None:
        minor_unit = company.rules.minor_unit if company is not None else 2
    if company is not None:
        year, start = company.rules.fiscal_year, company.rules.fiscal_year_start
    else:
        year, start = _fiscal_year(target_frame, day), 1
    calendar = Calendar(year, start, "month")
    first = calendar.month_start(0)
    end = calendar.month_start(11)
    last = _next_month(end) - dt.timedelta(days=1)
    if not first <= day <= last:
        raise InputError(
            [
                Problem(
                    "--as-of",
                    f"{day.isoformat()} is outside fiscal year {year} "
                    f"({first.isoformat()} to {last.isoformat()})",
                    code="as-of",
                    hint="give a date of the year the targets are for",
                )
            ]
        )
    book = read_book(target_frame, actual_frame, company, year, "month", minor_unit, checked=True)
    deals = book.deals
    _check_after(actual_frame, deals.day, deals.order, day)
    typed_targets = target_frame
    has_challenge = "challenge" in target_frame.columns
    tracked = _tracked(book.targets, deals.person, len(book.people))
    target = book.targets[tracked]
    if has_challenge:
        swapped = target_frame.drop(columns=["target"]).rename(columns={"challenge": "target"})
        swapped.attrs.update(target_frame.attrs)
        empty = actual_frame.iloc[:0]
        challenge = read_book(swapped, empty, company, year, "month", minor_unit).targets[tracked]
    else:
        challenge = target.copy()
    presence = _presence(company, book.people["rep_id"].to_numpy()[tracked], calendar)
    if presence is not None:  # joiners and leavers: targets count for their days in the org
        target = np.rint(target * presence[:, :, None]).astype(np.int64)
        challenge = np.rint(challenge * presence[:, :, None]).astype(np.int64)
    people, hierarchy = _people(book.people.iloc[tracked].reset_index(drop=True), company)
    actual = credited(book, tracked)
    moves = _moves(company, people, hierarchy, book, tracked, calendar)
    weight = _weights(calendar, day)
    outside = int(((deals.month < 0) & (deals.day < np.datetime64(first, "D").astype(int))).sum())
    return Ledger(
        calendar=calendar,
        as_of=day,
        products=book.products,
        minor_unit=minor_unit,
        people=people,
        hierarchy=hierarchy,
        target=target,
        challenge=challenge,
        actual=actual,
        weight=weight,
        has_challenge=has_challenge,
        org=book.people.iloc[tracked].reset_index(drop=True),
        book=book,
        tracked=tracked,
        targets_frame=typed_targets,
        actuals_frame=actual_frame,
        n_outside=outside,
        n_dated=0 if presence is None else int((presence < 1).any(axis=1).sum()),
        moves=moves,
    )


def _fiscal_year(targets: pd.DataFrame, day: dt.date) -> int:
    """Without a company: the year the targets' periods name (the earliest)."""
    if "period" not in targets.columns:
        return day.year  # read_book reports the missing column, located
    years = targets["period"].astype(str).str.strip().str.slice(0, 4)
    years = years[years.str.fullmatch(r"\d{4}")]
    return int(years.min()) if len(years) else day.year


def _check_after(frame: pd.DataFrame, days: np.ndarray, order: np.ndarray, day: dt.date) -> None:
    limit = np.datetime64(day, "D").astype(np.int64)
    late = np.flatnonzero(days > limit)
    if not len(late):
        return
    source = frame.attrs.get("source", "<actuals>")
    offset = frame.attrs.get("offset", 1)
    problems = [
        Problem(
            source,
            f"deal dated {np.datetime64(int(days[i]), 'D')} is after --as-of {day.isoformat()}",
            row=int(order[i]) + offset,
            field="date",
            code="after-as-of",
            hint="track at a later date, or leave out the deals not yet booked at this date",
            count=len(late) if n == 0 else 1,
        )
        for n, i in enumerate(late[:25])
    ]
    raise DataError(problems)


def _tracked(targets: np.ndarray, person: np.ndarray, n_people: int) -> np.ndarray:
    """People with a target or a deal in the year, in org order."""
    has = targets.reshape(n_people, -1).any(axis=1)
    seen = np.zeros(n_people, dtype=bool)
    seen[person[person >= 0]] = True
    return np.flatnonzero(has | seen)


def _people(people: pd.DataFrame, company: Company | None) -> tuple[pd.DataFrame, tuple[str, ...]]:
    if company is not None:
        hierarchy = tuple(company.rules.hierarchy)
    else:
        hierarchy = tuple(c for c in people.columns if c not in _FIGURES and c not in _OPTIONAL_ORG)
    keep = ["rep_id", *hierarchy, *(c for c in _OPTIONAL_ORG if c in people.columns)]
    out = people[keep].copy()
    for c in hierarchy:
        out[c] = out[c].astype(str)
    out["rep_id"] = out["rep_id"].astype(str)
    return out, hierarchy


def _deal_credit(book, tracked: np.ndarray):
    """The credited deal entries of the tracked people in the year: tracked index, their
    positions among the deals, and each one's credit (int64 minor units, negative for a
    cancellation)."""
    d = book.deals
    n_people = len(book.people)
    index = np.full(n_people, -1)
    index[tracked] = np.arange(len(tracked))
    rep = np.where(d.person >= 0, index[np.maximum(d.person, 0)], -1)
    ok = np.flatnonzero((rep >= 0) & (d.month >= 0) & (d.product >= 0))
    share = np.rint(d.amount[ok] * (d.split[ok] / 1e6)).astype(np.int64)
    share = np.where(d.cancellation[ok], -share, share)
    return rep[ok], ok, share


def credited(book, tracked: np.ndarray) -> np.ndarray:
    """Credited sales int64[R, 12, K] of the tracked people, from the deal rows."""
    d = book.deals
    rep, ok, share = _deal_credit(book, tracked)
    k = len(book.products)
    cells = (rep * 12 + d.month[ok]) * k + d.product[ok]
    flat = np.bincount(cells, weights=share, minlength=len(tracked) * 12 * k)
    return np.rint(flat).astype(np.int64).reshape(len(tracked), 12, k)


def _moves(company, people, hierarchy, book, tracked, calendar: Calendar) -> Moves | None:
    """Each tracked rep's unit per month and each deal's unit at its date, when someone
    moves between units during the year (``None`` otherwise)."""
    org = company.org_dated if company is not None else None
    if org is None or not hierarchy:
        return None
    who = pd.Index(people["rep_id"]).get_indexer(org["rep_id"].astype(str))
    keep = who >= 0
    org, who = org[keep], who[keep]
    paths = {
        level: org[list(hierarchy[: i + 1])].astype(str).agg("/".join, axis=1).to_numpy(object)
        for i, level in enumerate(hierarchy)
    }
    leaf = paths[hierarchy[-1]]
    n_paths = pd.Series(leaf).groupby(who).nunique()
    n_movers = int((n_paths > 1).sum())
    if not n_movers:
        return None
    far = 1 << 40
    start = org["start_date"].to_numpy(dtype="datetime64[D]")
    end = org["end_date"].to_numpy(dtype="datetime64[D]")
    s = np.where(np.isnat(start), -far, start.astype(np.int64))
    e = np.where(np.isnat(end), far, end.astype(np.int64))
    lo = np.array([np.datetime64(calendar.month_start(m), "D").astype(np.int64) for m in range(12)])
    hi = np.append(lo[1:], np.datetime64(_next_month(calendar.month_start(11)), "D").astype(int))
    days = np.maximum(0, np.minimum(e[:, None], hi[None, :] - 1) - np.maximum(s[:, None], lo) + 1)
    latest = {
        level: people[list(hierarchy[: i + 1])].astype(str).agg("/".join, axis=1).to_numpy(object)
        for i, level in enumerate(hierarchy)
    }
    month_path = {level: np.repeat(latest[level][:, None], 12, axis=1) for level in hierarchy}
    for m in range(12):
        # The row with the most days of the month (the later one on a tie) names its unit.
        order = np.lexsort((s, days[:, m], who))
        last = np.r_[who[order][1:] != who[order][:-1], True]
        rows = order[last & (days[order, m] > 0)]
        for level in hierarchy:
            month_path[level][who[rows], m] = paths[level][rows]
    # Each deal: the row of its rep on its date (the latest unit when no row holds it).
    rep, ok, share = _deal_credit(book, tracked)
    day = book.deals.day[ok].astype(np.int64)
    offset = 1 << 41
    key_rows = who.astype(np.int64) * (1 << 43) + (s + offset)
    order = np.argsort(key_rows, kind="stable")
    at = np.searchsorted(key_rows[order], rep * (1 << 43) + (day + offset), side="right") - 1
    row = order[np.maximum(at, 0)]
    inside = (at >= 0) & (who[row] == rep) & (day <= e[row])
    deal_path = {
        level: np.where(inside, paths[level][row], latest[level][rep]) for level in hierarchy
    }
    return Moves(month_path, deal_path, share, n_movers)


def _weights(calendar: Calendar, day: dt.date) -> np.ndarray:
    weight = np.zeros(12)
    for m in range(12):
        start = calendar.month_start(m)
        nxt = calendar.month_start(m + 1) if m < 11 else _next_month(start)
        if day >= nxt - dt.timedelta(days=1):
            weight[m] = 1.0
        elif day >= start:
            weight[m] = ((day - start).days + 1) / (nxt - start).days
    return weight


def _presence(company: Company | None, rep_ids: np.ndarray, calendar: Calendar):
    """The share of each month's days each rep is in the org (a dated org's rows), or
    ``None`` when everyone is there all year."""
    org = company.org_dated if company is not None else None
    if org is None:
        return None
    far = 1 << 40
    start = org["start_date"].to_numpy(dtype="datetime64[D]")
    end = org["end_date"].to_numpy(dtype="datetime64[D]")
    s = np.where(np.isnat(start), -far, start.astype(np.int64))
    e = np.where(np.isnat(end), far, end.astype(np.int64))
    who = pd.Index(rep_ids).get_indexer(org["rep_id"])
    keep = who >= 0
    firsts = [calendar.month_start(m) for m in range(12)]
    lo = np.array([np.datetime64(d, "D").astype(np.int64) for d in firsts])
    hi = np.append(lo[1:], np.datetime64(_next_month(firsts[-1]), "D").astype(np.int64)) - 1
    days = np.maximum(
        0, np.minimum(e[keep, None], hi[None, :]) - np.maximum(s[keep, None], lo[None, :]) + 1
    )
    covered = np.zeros((len(rep_ids), 12))
    np.add.at(covered, who[keep], days)
    presence = np.minimum(1.0, covered / (hi - lo + 1)[None, :])
    return presence if (presence < 1).any() else None


def _next_month(start: dt.date) -> dt.date:
    return dt.date(start.year + (start.month == 12), start.month % 12 + 1, 1)

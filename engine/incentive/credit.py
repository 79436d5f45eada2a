"""Deals → credit: which deals count, each rep's share, and the arrays the plan measures.

Credit of one deal row = the whole deal's amount × the rep's split, in minor
units, with the leftover cents of a split given to the largest remainders so
the rows of a deal add up to the deal exactly; then × the new-customer
multiplier (rounded half-up). A
cancellation is the same credit, negative, in the month of its own date (so a
deal booked in March and cancelled in May lowers May, not March). ``gross``
counts bookings only; ``net`` counts bookings minus cancellations.

With ``credit.roll_up`` set, each person of a manager role also receives a copy
of every deal row of the other people in their unit, so a manager's measure is
the team's; a manager without targets of their own gets the unit's targets.

A plan's ``clawback`` policy (:mod:`~attain.incentive.clawback`) then changes how much
each cancellation takes back, before the roll-up.

With a dated org (``Book.dated``) a booking counts only when it is dated on a day its
person is in the org in one of the plan's participant roles (so nothing is credited
after a leaver's ``end_date`` or before a joiner's ``start_date``:
``n_excluded["outside_days_in_role"]``); a cancellation still follows its booking.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from attain.incentive.clawback import apply_clawback
from attain.incentive.compile import CompiledPlan
from attain.incentive.inputs import Book
from attain.incentive.pool import split_exact
from attain.incentive.rational import MICRO, round_div

__all__ = ["Credit", "check_cancellations", "credit_deals"]


@dataclass(frozen=True)
class Credit:
    """Credited deal rows (after filters and roll-up) and their monthly totals."""

    person: np.ndarray
    month: np.ndarray
    product: np.ndarray
    day: np.ndarray
    order: np.ndarray
    net: np.ndarray  # int64 minor units, negative for cancellations
    gross: np.ndarray  # int64 minor units, 0 for cancellations
    units: np.ndarray  # int64 millionths of a unit (quantity × split), signed
    deal: np.ndarray  # int: code of the deal id (a booking and its cancellations share it)
    own: np.ndarray  # bool: the person's own deal row (False: a manager's rolled-up copy)
    net_months: np.ndarray  # int64[R, S, K] per slot (month)
    gross_months: np.ndarray  # int64[R, S, K] per slot (month)
    targets: np.ndarray  # int64[R, S, K] per slot (month) after roll-up
    active: np.ndarray  # bool[S]: slots (months) the plan is effective in
    n_excluded: dict
    clawback: dict = field(default_factory=dict)  # what the clawback policy did (counts)


def active_months(compiled: CompiledPlan, book: Book) -> np.ndarray:
    """Months that overlap the plan's effective dates."""
    cal = book.calendar
    starts = [cal.month_start(m) for m in range(cal.n_slots)]
    ends = [*starts[1:], cal.month_start(cal.n_slots)]
    lo, hi = compiled.effective_from, compiled.effective_to
    return np.array(
        [
            (lo is None or e > lo) and (hi is None or s <= hi)
            for s, e in zip(starts, ends, strict=True)
        ]
    )


def credit_deals(compiled: CompiledPlan, book: Book) -> Credit:
    """Filter, split, weight and roll up the deals of ``book`` for ``compiled``'s plan."""
    only_paid = compiled.clawback is not None and compiled.clawback.only_paid
    if compiled.credit.over_cancellation == "error" and not only_paid:
        # `only_paid` takes back at most what was credited: an excess is not an error there.
        check_cancellations(book)
    d = book.deals
    epoch = np.datetime64("1970-01-01", "D")
    day_lo = -(2**62) if compiled.effective_from is None else _days(compiled.effective_from, epoch)
    day_hi = 2**62 if compiled.effective_to is None else _days(compiled.effective_to, epoch)
    in_year = d.month >= 0
    in_dates = (d.day >= day_lo) & (d.day <= day_hi)
    in_products = compiled.credit.mask[d.product] if len(d.product) else np.zeros(0, bool)
    keep = in_year & in_dates & in_products
    if compiled.credit.new_customers_only:
        keep &= d.new_customer
    excluded = {
        "outside_year": int((~in_year).sum()),
        "outside_effective_dates": int((in_year & ~in_dates).sum()),
        "other_products_or_customers": int((in_year & in_dates & ~keep).sum()),
    }
    if book.dated is not None:  # a dated org: bookings on days in a participant role only
        from attain.incentive.proration import held_on

        held = held_on(book.dated, book.rep_ids, d.person, d.day, compiled.participant_roles)
        held |= d.cancellation  # a cancellation follows its booking (the clawback decides)
        excluded["outside_days_in_role"] = int((keep & ~held).sum())
        keep &= held
    idx = np.flatnonzero(keep)
    credit = _split_credit(d, idx)
    boost = d.new_customer[idx] & (compiled.credit.new_customer_multiplier != MICRO)
    credit = np.where(
        boost, round_div(credit * compiled.credit.new_customer_multiplier, MICRO), credit
    )
    sign = np.where(d.cancellation[idx], -1, 1)
    units = np.rint(d.quantity[idx] * d.split[idx]).astype(np.int64) * sign
    rows = {
        "person": d.person[idx],
        "month": d.month[idx],
        "product": d.product[idx],
        "day": d.day[idx],
        "order": d.order[idx],
        "net": credit * sign,
        "gross": np.where(sign > 0, credit, 0),
        "units": units,
        "deal": d.deal[idx] // 2,  # the deal id's code: a cancellation shares its booking's
        "own": np.ones(len(idx), dtype=bool),  # the person's own deal, not a roll-up copy
    }
    clawed: dict = {}
    if compiled.clawback is not None:
        rows, clawed = apply_clawback(compiled.clawback, book, rows, excluded)
    targets = book.targets
    if compiled.credit.roll_up:
        rows, targets = _roll_up(compiled.credit, book, rows, targets)
    shape = book.targets.shape
    return Credit(
        **rows,
        net_months=_monthly(rows, "net", shape),
        gross_months=_monthly(rows, "gross", shape),
        targets=targets,
        active=active_months(compiled, book),
        n_excluded=excluded,
        clawback=clawed,
    )


def check_cancellations(book: Book) -> None:
    """Refuse deals cancelled for more than their bookings (a located
    :class:`~attain.errors.DataError`: the file, the row of the deal's last cancellation,
    the deal id). The rows of a split deal repeat its date and amount, so each distinct
    (deal, type, date, amount) counts once; a deal with no booking in the data (booked
    before it) is not checked."""
    d = book.deals
    if not d.cancellation.any():
        return
    candidate = np.isin(d.deal // 2, np.unique(d.deal[d.cancellation] // 2))
    key = pd.DataFrame({"deal": d.deal, "day": d.day, "amount": d.amount})
    once = np.flatnonzero(candidate & ~key.duplicated().to_numpy())
    n = int(d.deal.max()) // 2 + 1
    booked, cancelled = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    cancel = d.cancellation[once]
    np.add.at(booked, d.deal[once[~cancel]] // 2, d.amount[once[~cancel]])
    np.add.at(cancelled, d.deal[once[cancel]] // 2, d.amount[once[cancel]])
    bad = np.flatnonzero((booked > 0) & (cancelled > booked))
    if not len(bad):
        return
    from attain.checks import capped
    from attain.errors import DataError, Problem
    from attain.incentive.text import money

    rows = np.flatnonzero(d.cancellation & np.isin(d.deal // 2, bad))
    rows = rows[np.lexsort((d.order[rows], d.day[rows], d.deal[rows]))]
    code = d.deal[rows] // 2
    rows, code = rows[np.r_[code[1:] != code[:-1], True]], code[np.r_[code[1:] != code[:-1], True]]
    order = np.argsort(d.order[rows], kind="stable")  # in the file's order
    unit = book.minor_unit
    problems = [
        Problem(
            d.source,
            f"deal {d.ids[k] if d.ids is not None else k} is cancelled for "
            f"{money(cancelled[k], unit)} in all, more than its bookings of "
            f"{money(booked[k], unit)}",
            row=int(d.order[i]) + d.offset,
            field="amount",
            code="value",
            hint="correct the cancellation, or declare `credit.over_cancellation: allow` in "
            "the plan to credit the excess as a negative amount",
        )
        for i, k in zip(rows[order][:25].tolist(), code[order][:25].tolist(), strict=True)
    ]
    raise DataError(capped(problems, d.source, len(rows)))


def _split_credit(d, idx: np.ndarray) -> np.ndarray:
    """Each row's share of its deal, in minor units; the shares of a deal add up to it exactly.

    Shares are computed over all rows of the deal (so a filter on other rows changes
    nothing), floored, and the leftover cents go to the largest remainders.
    """
    whole = np.zeros(d.deal.max() + 1 if len(d.deal) else 0, dtype=np.int64)
    whole[d.deal] = d.amount  # every row repeats the whole deal's amount
    shares = split_exact(whole, d.deal, d.split)
    return shares[idx]


def _days(date, epoch) -> int:
    return int((np.datetime64(date, "D") - epoch).astype(np.int64))


def _monthly(rows: dict, key: str, shape: tuple[int, int, int]) -> np.ndarray:
    out = np.zeros(shape, dtype=np.int64)
    # At flat cell numbers: numpy's unbuffered add is much faster on one axis (wrap: an
    # index of -1 counts from the end, as indexing the array does).
    cell = np.ravel_multi_index(
        (rows["person"], rows["month"], rows["product"]), shape, mode="wrap"
    )
    np.add.at(out.reshape(-1), cell, rows[key])
    return out


def _roll_up(credit_rules, book: Book, rows: dict, targets: np.ndarray):
    """Copy each unit's deal rows to its managers; give target-less managers the unit's targets."""
    people = book.people
    level = credit_rules.roll_up
    if level not in people.columns:
        from attain.errors import DataError, Problem

        raise DataError(
            [Problem("<org>", f"credit.roll_up names org level `{level}`, which is not a column")]
        )
    if book.dated is not None:
        return _roll_up_dated(credit_rules.manager_roles, book, rows, targets, level)
    unit = pd.factorize(people[level].astype(str))[0]
    is_manager = people["role"].isin(credit_rules.manager_roles).to_numpy()
    managers = np.flatnonzero(is_manager)
    # Deals of members, copied once per manager of the member's unit (concatenated ranges).
    members = np.flatnonzero(~is_manager[rows["person"]])
    member_unit = unit[rows["person"][members]]
    order = np.argsort(member_unit, kind="stable")
    members, member_unit = members[order], member_unit[order]
    units = np.arange(unit.max() + 1)
    first = np.searchsorted(member_unit, units)
    count = np.searchsorted(member_unit, units, side="right") - first
    lens = count[unit[managers]]
    offsets = np.repeat(first[unit[managers]] - np.cumsum(lens) + lens, lens) + np.arange(
        lens.sum()
    )
    copy = {k: v[members[offsets]] for k, v in rows.items()}
    copy["person"] = np.repeat(managers, lens)
    copy["own"] = np.zeros(len(offsets), dtype=bool)
    merged = {k: np.concatenate([rows[k], copy[k]]) for k in rows}
    unit_targets = np.zeros((unit.max() + 1, *targets.shape[1:]), dtype=np.int64)
    np.add.at(unit_targets, unit[~is_manager], targets[~is_manager])
    targets = targets.copy()
    empty = is_manager & (targets.reshape(len(targets), -1).sum(axis=1) == 0)
    targets[empty] = unit_targets[unit[empty]]
    return merged, targets


def _roll_up_dated(manager_roles, book: Book, rows: dict, targets: np.ndarray, level: str):
    """The roll-up on a dated org: a deal row goes to the managers of the unit its person is
    in on the deal's day who hold a manager role that day, so a transfer sends a member's
    later deals to the new team's manager and a manager's leaving ends the copies; a
    target-less manager gets, slot by slot, the targets of the unit they are in then."""
    from attain.incentive.proration import row_in_force, unit_by_slot

    dated, people = book.dated, book.people
    assert dated is not None
    ids = people["rep_id"].to_numpy()
    names = pd.Index(
        pd.unique(np.concatenate([people[level].astype(str), dated[level].astype(str)]))
    )
    row_unit = names.get_indexer(dated[level].astype(str))
    row_manager = dated["role"].astype(str).isin(manager_roles).to_numpy()
    is_manager = people["role"].astype(str).isin(manager_roles).to_numpy()
    at = row_in_force(dated, ids, rows["person"], rows["day"])
    # a row on a day outside its person's rows (a cancellation after leaving): the latest row
    latest = names.get_indexer(people[level].astype(str))
    unit = np.where(at >= 0, row_unit[at], latest[rows["person"]])
    members = np.flatnonzero(~np.where(at >= 0, row_manager[at], is_manager[rows["person"]]))
    who = pd.Index(ids).get_indexer(dated["rep_id"])
    lead = np.flatnonzero(row_manager & (who >= 0))
    lead = lead[np.argsort(row_unit[lead], kind="stable")]
    first = np.searchsorted(row_unit[lead], unit[members])
    count = np.searchsorted(row_unit[lead], unit[members], side="right") - first
    src = np.repeat(members, count)
    row = lead[np.repeat(first - np.cumsum(count) + count, count) + np.arange(count.sum())]
    start = dated["start_date"].to_numpy(dtype="datetime64[D]")[row]
    end = dated["end_date"].to_numpy(dtype="datetime64[D]")[row]
    day = rows["day"][src].astype("datetime64[D]")
    on = (np.isnat(start) | (start <= day)) & (np.isnat(end) | (day <= end))
    src, manager = src[on], who[row[on]]
    order = np.lexsort((src, manager))  # by manager, then the deal rows' own order
    src, manager = src[order], manager[order]
    copy = {k: v[src] for k, v in rows.items()}
    copy["person"] = manager.astype(rows["person"].dtype)
    copy["own"] = np.zeros(len(src), dtype=bool)
    merged = {k: np.concatenate([rows[k], copy[k]]) for k in rows}
    moved = unit_by_slot(dated, people, book.calendar, level)
    if moved is None:
        codes = np.repeat(pd.factorize(people[level].astype(str))[0][:, None], targets.shape[1], 1)
    else:
        codes = moved[0]
    slots = np.arange(targets.shape[1])[None, :]
    unit_targets = np.zeros((int(codes.max()) + 1, *targets.shape[1:]), dtype=np.int64)
    np.add.at(unit_targets, (codes[~is_manager], slots), targets[~is_manager])
    targets = targets.copy()
    empty = is_manager & (targets.reshape(len(targets), -1).sum(axis=1) == 0)
    targets[empty] = unit_targets[codes[empty], slots]
    return merged, targets

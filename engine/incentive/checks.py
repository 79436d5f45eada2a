"""Warnings for payout runs that are valid but silently pay nothing where a plan meant to.

Each finding is an :class:`attain.notices.Notice`; :func:`payout_notices` returns them in
a fixed order (the run's summary lists them under ``warnings``; the CLI prints them).
"""

from __future__ import annotations

import numpy as np

from attain.incentive.kinds import kind_of
from attain.incentive.proration import role_set
from attain.incentive.text import money
from attain.notices import YEAR_END_BALANCE_NOTICE, Notice

__all__ = ["payout_notices"]


def payout_notices(compiled, book, credit, windows, evaluation) -> list[Notice]:
    out: list[Notice] = []
    n_rows = len(book.deals.month)
    if n_rows and len(credit.net) == 0 and credit.n_excluded.get("outside_year", 0) == n_rows:
        out.append(
            Notice(
                "no-deals-in-year",
                f"none of the {n_rows} deal rows falls in fiscal year "
                f"{book.calendar.fiscal_year}; every amount is 0",
                compiled.name,
                n_rows,
            )
        )
    # A dated org: every role a person holds during the year counts, not only the latest.
    held = _held_roles(book)
    if compiled.participant_roles is not None and not held.isin(compiled.participant_roles).any():
        out.append(
            Notice(
                "roles-match-nobody",
                f"participants.roles {list(compiled.participant_roles)} match nobody in the org "
                f"(roles: {', '.join(sorted(set(held)))})",
                compiled.name,
            )
        )
    paid = _held_roles(book, book.people["rep_id"][windows.participant])
    for c in compiled.components:
        if (
            c.roles is not None
            and not paid.isin(role_set(compiled.participant_roles, c.roles)).any()
        ):
            out.append(
                Notice(
                    "roles-match-nobody",
                    f"roles {list(c.roles)} match no participant; the component pays nobody",
                    c.name,
                )
            )
        out += kind_of(c).notices(c, windows)
    meta = windows.records.get("<measures>", {})
    for key, what in (
        ("n_outside", "are dated outside the plan year"),
        ("n_unread", "are of measures no component of this plan reads"),
        ("n_after", f"are dated after {meta.get('until')} (the date tracked)"),
        (
            "n_not_in_role",
            "are dated on days their person is not in the org in a participant role "
            "(after an end_date, before a start_date)",
        ),
    ):
        if meta.get(key):
            out.append(
                Notice(
                    "measure-rows-left-out",
                    f"{meta[key]} row(s) of the measures table {what}; they are not counted",
                    meta["source"],
                    meta[key],
                )
            )
    out += _sold_without_target(compiled, book, windows, evaluation)
    if compiled.clawback is None or not compiled.clawback.only_paid:
        out += _over_cancelled(compiled, book)
    n_unknown = credit.clawback.get("unknown_booking", 0)
    if n_unknown:
        out.append(
            Notice(
                "cancellation-without-booking",
                f"{n_unknown} cancellation row(s) have no booking in the actuals, so their "
                "time since booking is unknown; the first clawback window's share was taken "
                "back",
                compiled.name,
                n_unknown,
            )
        )
    # the year's end: not when the evaluation stops before it (``through``)
    whole_year = evaluation.total.shape[-1] == len(windows.active)
    if compiled.negative_balance == "carry_forward" and len(evaluation.total) and whole_year:
        balance = evaluation.carried_balance[:, -1]
        owed = np.flatnonzero(balance < 0)
        if len(owed):
            out.append(
                Notice(
                    YEAR_END_BALANCE_NOTICE,
                    f"{len(owed)} participant(s) end the year owing {money(-balance[owed].sum(), compiled.minor_unit)} "
                    "(earnings below what was paid, carried forward, not recovered this year)",
                    compiled.name,
                    len(owed),
                )
            )
    return out


def _held_roles(book, who=None):
    """The roles held during the year (of the people ``who``, by rep_id; everyone's when
    None): a dated org's every row, or each person's one role."""
    rows = book.people if book.dated is None else book.dated
    if who is not None:
        rows = rows[rows["rep_id"].isin(who)]
    elif book.dated is not None:
        rows = rows[rows["rep_id"].isin(book.people["rep_id"])]
    return rows["role"].astype(str)


def _sold_without_target(compiled, book, windows, evaluation) -> list[Notice]:
    """Participants with credited sales but no target all year, paid nothing: a rep
    missing from the targets table (a plan on attainment pays them 0)."""
    n = len(windows.participant)
    if not n or not len(evaluation.total):
        return []
    no_target = windows.participant & ~windows.targets.reshape(n, -1).any(axis=1)
    # sold in the windows evaluated (all, unless the evaluation stops at ``through``)
    sold = windows.net[:, : evaluation.total.shape[-1]].reshape(n, -1).any(axis=1)
    unpaid = ~evaluation.total.reshape(n, -1).any(axis=1)
    hit = np.flatnonzero(no_target & sold & unpaid)
    if not len(hit):
        return []
    ids = [str(x) for x in book.rep_ids[hit[:5]]]
    more = f", and {len(hit) - 5} more" if len(hit) > 5 else ""
    return [
        Notice(
            "sold-without-target",
            f"{len(hit)} participant(s) have credited sales but no target in fiscal year "
            f"{book.calendar.fiscal_year}, and are paid 0: {', '.join(ids)}{more} "
            "(missing from the targets table?)",
            compiled.name,
            len(hit),
        )
    ]


def _over_cancelled(compiled, book) -> list[Notice]:
    """Deals whose cancellations exceed their bookings in the data (a negative deal)."""
    d = book.deals
    if not len(d.deal):
        return []
    deal_id = d.deal // 2
    whole = np.where(d.cancellation, -d.amount, d.amount)
    # one row per (deal, type) counts its amount once: split rows repeat the whole deal
    first = _first_rows(d.deal)
    net = np.zeros(int(deal_id.max()) + 1, dtype=np.int64)
    np.add.at(net, deal_id[first], whole[first])
    bad = np.flatnonzero(net < 0)
    if not len(bad):
        return []
    return [
        Notice(
            "cancellation-exceeds-booking",
            f"{len(bad)} deals are cancelled for more than their bookings in the data "
            f"(net {money(net[bad].sum(), compiled.minor_unit)}); the excess is paid back "
            "at the first tier's rate",
            compiled.name,
            len(bad),
        )
    ]


def _first_rows(codes: np.ndarray) -> np.ndarray:
    """The first row of each code (``np.unique(codes, return_index=True)[1]``), without
    sorting millions of rows."""
    n = len(codes)
    first = np.full(int(codes.max()) + 1, n)
    np.minimum.at(first, codes, np.arange(n))
    return first[first < n]

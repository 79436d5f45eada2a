"""A payout run: plan + targets + actuals (+ company) → windows → exact evaluation.

This module wires the stages together: read and check the inputs
(:mod:`~attain.incentive.inputs`), credit the deals (:mod:`~attain.incentive.credit`),
build the measurement windows with each kind's deal-level amounts (deal and cumulative
tier scopes, SPIFFs, team pools), then the exact evaluator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from attain.errors import DataError, Problem
from attain.incentive.compile import CompiledPlan
from attain.incentive.credit import Credit
from attain.incentive.exact import Windows
from attain.incentive.inputs import Book
from attain.incentive.kinds import DealContext, kind_of
from attain.incentive.kinds.base import to_windows
from attain.incentive.measures import Measures
from attain.incentive.rational import MICRO, round_div

__all__ = ["build_windows", "measures_needed", "participants", "target_incentive"]


def participants(
    compiled: CompiledPlan, people: pd.DataFrame, held: np.ndarray | None = None
) -> np.ndarray:
    """Who the plan pays: role and org-column filters; ``held`` bool[R] (a dated org):
    who holds a participant role (or, without roles, is in the org) on some day of the
    year, in place of the role test."""
    keep = np.ones(len(people), dtype=bool)
    if held is not None:
        keep &= held
    elif compiled.participant_roles is not None:
        keep &= people["role"].isin(compiled.participant_roles).to_numpy()
    for column, values in compiled.participant_where:
        if column not in people.columns:
            raise DataError(
                [
                    Problem(
                        "<org>",
                        f"participants.where names column `{column}`, which the org data lacks",
                        hint="columns: " + ", ".join(map(str, people.columns)),
                    )
                ]
            )
        keep &= people[column].astype(str).isin(values).to_numpy()
    return keep


def target_incentive(compiled: CompiledPlan, people: pd.DataFrame) -> np.ndarray:
    """Each person's yearly target incentive for this plan, int64 minor units."""
    spec = compiled.target_incentive
    n = len(people)
    if spec is None:
        return np.zeros(n, dtype=np.int64)
    if spec.amount is not None:
        base = np.full(n, spec.amount, dtype=np.int64)
    else:
        if spec.column not in people.columns:
            raise DataError(
                [
                    Problem(
                        "<org>",
                        f"target_incentive.column `{spec.column}` is not an org column",
                        hint="load the plan with its company, or give `amount`",
                    )
                ]
            )
        values = pd.to_numeric(people[spec.column], errors="coerce").fillna(0).to_numpy()
        base = np.rint(values * compiled.scale).astype(np.int64)
    return round_div(base * spec.share, MICRO)


def measures_needed(compiled: CompiledPlan) -> tuple[dict[str, str], dict[str, str]]:
    """The measures the plan's KPI components read (name → ``sum`` or ``ratio``) and the
    plan path of the first component reading each. A measure read both ways is an error."""
    needed: dict[str, str] = {}
    where: dict[str, str] = {}
    for i, c in enumerate(compiled.components):
        name = getattr(c, "measure_name", None)
        if name is None:
            continue
        how = "ratio" if c.ratio else "sum"
        if needed.get(name, how) != how:
            raise DataError(
                [
                    Problem(
                        f"plan {compiled.name}",
                        f"measure `{name}` is read as a count by one component and as a "
                        "ratio by another",
                        path=f"components[{i}].aggregate",
                        code="measure-aggregate",
                    )
                ]
            )
        needed[name] = how
        where.setdefault(name, f"components[{i}].measure")
    return needed, where


def build_windows(
    compiled: CompiledPlan, book: Book, credit: Credit, measures: Measures | None = None
) -> Windows:
    ytd = compiled.measure == "ytd"
    k = book.calendar.months_per_period
    active_m = credit.active
    targets = np.where(active_m[None, :, None], credit.targets, 0)
    months = active_m.reshape(-1, k).sum(axis=1)
    active = months > 0
    people = book.people
    part = participants(compiled, people)
    w = Windows(
        net=to_windows(credit.net_months, k, ytd),
        gross=to_windows(credit.gross_months, k, ytd),
        targets=to_windows(targets, k, ytd),
        ti=target_incentive(compiled, people),
        months=np.cumsum(months) if ytd else months,
        periods=np.cumsum(active) if ytd else active.astype(np.int64),
        active=active,
        participant=part,
        people=people,
    )
    if measures is not None:
        w.records["<measures>"] = {
            "n_outside": measures.n_outside,
            "n_unread": measures.n_unread,
            "n_after": measures.n_after,
            "n_not_in_role": measures.n_not_in_role,
            "until": measures.until,
            "source": measures.source,
        }
        for name in measures.names:
            value, den, rows = measures.of(name)  # type: ignore[misc]
            w.measures[name] = tuple(
                to_windows(np.where(active_m[None, :], a, 0), k, ytd) for a in (value, den, rows)
            )
    hb = compiled.holdback
    if hb is not None and hb.release == "payment":
        w.records["<holdback>"] = {"schedule": payment_schedule(compiled, book, credit, active)}
    if book.dated is not None:  # a dated org: days in role (attain.incentive.proration)
        from attain.incentive.proration import dated_windows, draw_share

        w.proration.update(dated_windows(compiled, book, credit, w, ytd))
        if (share := draw_share(compiled, book, credit)) is not None:
            w.proration["<draw>"] = share
    for c in compiled.components:
        own = w.proration.get(c.name, {}).get("credit")  # bookings on days in its roles
        ctx = DealContext(compiled, book, credit if own is None else own, w, ytd)
        amounts = kind_of(c).deal_level(c, ctx)
        if amounts is not None:
            w.precomputed[c.name] = amounts
    return w


def payment_schedule(compiled: CompiledPlan, book: Book, credit: Credit, active: np.ndarray):
    """A holdback released on payment: the bookings (person × period of credit × pay
    period of payment × deal, weighted by credit; ``due`` = the number of periods: not
    paid this year) and the cancellations (person × period × deal, weighted by the credit
    taken back) its held parts belong to; with ``components``, of their products only."""
    assert compiled.holdback is not None
    column = compiled.holdback.column
    deals = book.deals
    table = deals.table
    if table is None or column not in table.columns:
        raise DataError(
            [
                Problem(
                    deals.source,
                    f"the plan's holdback is released on payment and reads the actuals column "
                    f"`{column}`, which the actuals lack",
                    field=column,
                    code="missing-column",
                    hint="add each booking's payment date (YYYY-MM-DD, empty: not paid yet), "
                    "or name the column in holdback.column",
                )
            ]
        )
    raw = table[column]
    text = raw.astype(str).str.strip()
    empty = (raw.isna() | text.isin(["", "nan", "NaT", "None"])).to_numpy()
    parsed = pd.to_datetime(text.where(~empty), format="%Y-%m-%d", errors="coerce")
    bad = np.flatnonzero(~empty & parsed.isna().to_numpy())
    if len(bad):
        raise DataError(
            [
                Problem(
                    deals.source,
                    f"not a date (YYYY-MM-DD): {raw.iloc[i]!r}",
                    row=int(i) + deals.offset,
                    field=column,
                    code="date",
                )
                for i in bad[:25]
            ]
        )
    paid = parsed.to_numpy(dtype="datetime64[D]")
    cal = book.calendar
    n = cal.n_periods
    of_slot = cal.period_of_month()
    from attain.incentive.holdback import PaymentSchedule, next_in_force

    counts = np.ones(len(credit.net), dtype=bool)
    if compiled.holdback.components is not None:  # the held components' products only
        held = [compiled.components[i].mask for i in compiled.holdback.components]
        counts = np.logical_or.reduce(held)[credit.product]
    # a cancellation row, or a termination's clawback (a row after the actuals' own)
    cancelled = np.ones(len(credit.order), dtype=bool)
    inside = credit.order < len(deals.cancellation)
    cancelled[inside] = deals.cancellation[credit.order[inside]]
    rows = np.flatnonzero((credit.net > 0) & ~cancelled & counts)
    src = credit.order[rows]
    period = of_slot[credit.month[rows]]
    when = paid[src]
    slot = cal.month_index(when)
    before = when < np.datetime64(cal.month_start(0), "D")  # paid before the year: at once
    due = np.where(slot >= 0, of_slot[np.maximum(slot, 0)], n)
    due = np.where(before, period, np.maximum(due, period))
    due = next_in_force(due, active)
    period, person, due, deal, weight = _grouped(
        (period, credit.person[rows], due, credit.deal[rows]), credit.net[rows]
    )
    back = np.flatnonzero((credit.net < 0) & cancelled & counts)
    c_period, c_person, c_deal, c_weight = _grouped(
        (of_slot[credit.month[back]], credit.person[back], credit.deal[back]), -credit.net[back]
    )
    return PaymentSchedule(person, period, due, deal, weight, c_person, c_period, c_deal, c_weight)


def _grouped(keys: tuple[np.ndarray, ...], weight: np.ndarray) -> tuple[np.ndarray, ...]:
    """The distinct rows of ``keys`` (sorted by the first key, then the next …) and the
    sum of ``weight`` over each."""
    if not len(weight):
        return (*(np.zeros(0, dtype=np.int64) for _ in keys), np.zeros(0, dtype=np.int64))
    table = np.stack([np.asarray(k, dtype=np.int64) for k in keys], axis=1)
    uniq, inverse = np.unique(table, axis=0, return_inverse=True)
    total = np.zeros(len(uniq), dtype=np.int64)
    np.add.at(total, inverse.reshape(-1), weight)
    return (*(uniq[:, j] for j in range(len(keys))), total)

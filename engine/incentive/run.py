"""A payout run: plan + targets + actuals (+ company) → windows → exact evaluation.

This module wires the stages together: read and check the inputs
(:mod:`~attain.incentive.inputs`), credit the deals (:mod:`~attain.incentive.credit`),
build the measurement windows, evaluate deal-level components (deal and cumulative
tier scopes, SPIFFs) and team pools, then the exact evaluator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from attain.errors import DataError, Problem
from attain.incentive import formulas
from attain.incentive.compile import CompiledComponent, CompiledPlan
from attain.incentive.credit import Credit
from attain.incentive.exact import Windows
from attain.incentive.inputs import Book
from attain.incentive.pool import team_pool
from attain.incentive.rational import MICRO, micro, round_div, to_minor

__all__ = ["build_windows", "participants", "target_incentive"]


def participants(compiled: CompiledPlan, people: pd.DataFrame) -> np.ndarray:
    """Who the plan pays: role and org-column filters."""
    spec = compiled.plan.participants
    keep = np.ones(len(people), dtype=bool)
    if spec.roles is not None:
        keep &= people["role"].isin(spec.roles).to_numpy()
    for column, values in spec.where.items():
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
    spec = compiled.plan.target_incentive
    n = len(people)
    if spec is None:
        return np.zeros(n, dtype=np.int64)
    if spec.amount is not None:
        base = np.full(n, to_minor(spec.amount, compiled.minor_unit), dtype=np.int64)
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
    return round_div(base * micro(spec.share), MICRO)


def _to_windows(monthly: np.ndarray, book: Book, ytd: bool) -> np.ndarray:
    """[R, 12, ...] by month → [R, P, ...] by period, cumulated when measuring YTD."""
    k = book.calendar.months_per_period
    shape = (monthly.shape[0], 12 // k, k, *monthly.shape[2:])
    out = monthly.reshape(shape).sum(axis=2)
    return np.cumsum(out, axis=1) if ytd else out


def build_windows(compiled: CompiledPlan, book: Book, credit: Credit) -> Windows:
    ytd = compiled.plan.measure == "ytd"
    k = book.calendar.months_per_period
    active_m = credit.active
    targets = np.where(active_m[None, :, None], credit.targets, 0)
    months = active_m.reshape(-1, k).sum(axis=1)
    active = months > 0
    people = book.people
    part = participants(compiled, people)
    w = Windows(
        net=_to_windows(credit.net_months, book, ytd),
        gross=_to_windows(credit.gross_months, book, ytd),
        targets=_to_windows(targets, book, ytd),
        ti=target_incentive(compiled, people),
        months=np.cumsum(months) if ytd else months,
        periods=np.cumsum(active) if ytd else active.astype(np.int64),
        active=active,
        participant=part,
        people=people,
    )
    for c in compiled.components:
        if c.type == "commission" and c.scope != "period":
            w.precomputed[c.name] = _deal_commission(c, compiled, book, credit, ytd)
        elif c.type == "spiff":
            w.precomputed[c.name] = _spiff(c, book, credit, ytd)
        elif c.type == "team_pool":
            w.precomputed[c.name] = (_pool(c, compiled, w), 1)
    return w


def _monthly_sum(credit: Credit, rows: np.ndarray, values: np.ndarray, n_people: int, dtype):
    out = np.zeros((n_people, 12), dtype=dtype)
    np.add.at(out, (credit.person[rows], credit.month[rows]), values)
    return out


def _spiff(c: CompiledComponent, book: Book, credit: Credit, ytd: bool):
    rows = np.flatnonzero(
        c.mask[credit.product] & (credit.day >= c.start_day) & (credit.day <= c.end_day)
    )
    units = _monthly_sum(credit, rows, credit.units[rows], len(book.people), np.int64)
    return _to_windows(units, book, ytd).astype(object) * c.per_unit, MICRO


def _deal_commission(c: CompiledComponent, compiled: CompiledPlan, book: Book, credit: Credit, ytd):
    """Tiers on each deal alone (`deal`) or on the running position (`cumulative`), rounded per deal."""
    rows = np.flatnonzero(c.mask[credit.product])
    sel = (credit.gross if c.select_on == "gross" else credit.net)[rows]
    paid = (credit.gross if c.paid_on == "gross" else credit.net)[rows]
    sign = np.where(credit.net[rows] < 0, -1, 1)
    blended = c.select_on != c.paid_on
    mode = compiled.plan.rounding.mode
    if c.scope == "deal":
        num, den = formulas.tiers(c, np.abs(sel), np.abs(paid), c.starts, 1, blended)
        value = sign * round_div(num, den, mode)
    else:
        value = _cumulative(c, credit, rows, sel, paid, sign, book, ytd, mode)
    monthly = _monthly_sum(credit, rows, value, len(book.people), np.int64)
    return _to_windows(monthly, book, ytd), 1


def _cumulative(c, credit: Credit, rows, sel, paid, sign, book: Book, ytd: bool, mode):
    """Each deal lands on top of the position before it (reset per period unless YTD)."""
    group = credit.person[rows].astype(np.int64) * 12
    if not ytd:
        group = group + book.calendar.period_of_month()[credit.month[rows]]
    order = np.lexsort((credit.order[rows], credit.day[rows], group))
    g, s = group[order], sel[order]
    run = np.cumsum(s)
    start = np.searchsorted(g, g)  # first row of each group
    after = run - np.where(start > 0, run[start - 1], 0)
    before = after - s
    value = np.zeros(len(rows), dtype=np.int64)
    if c.method == "marginal":
        hi, d = formulas.tiers(c, after, after, c.starts, 1, False)
        lo, _ = formulas.tiers(c, before, before, c.starts, 1, False)
        delta = hi - lo
        if c.select_on == c.paid_on:
            v = round_div(delta, d, mode)
        else:  # paid at the average rate of the slice the deal occupies
            sgn = np.sign(s).astype(object)
            width = np.where(s == 0, 1, np.abs(s)).astype(object)
            p = paid[order].astype(object)
            v = np.where(s == 0, 0, round_div(p * delta * sgn, d * width, mode))
    else:
        num, den = formulas.tiers(c, np.maximum(after, 0), np.abs(paid[order]), c.starts, 1, True)
        v = sign[order] * round_div(num, den, mode)
    value[order] = v
    return value


def _pool(c: CompiledComponent, compiled: CompiledPlan, w: Windows) -> np.ndarray:
    level = c.pool["level"]
    people = w.people
    if level not in people.columns:
        raise DataError(
            [Problem("<org>", f"team pool `{c.name}`: level `{level}` is not an org column")]
        )
    unit = pd.factorize(people[level].astype(str))[0]
    roles = people["role"].astype(str).to_numpy()
    is_member = ~np.isin(roles, compiled.plan.credit.manager_roles)
    S, T = w.net[..., c.mask].sum(axis=-1), w.targets[..., c.mask].sum(axis=-1)
    mode = compiled.plan.rounding.mode
    return team_pool(c, S, T, unit, is_member, w.participant, roles, w.periods, mode)

"""The simulated people: targets, org units and what their history says, as arrays.

A :class:`Population` is everything the performance model reads, indexed
rep × fiscal month × product. It is built once per run from the company and the
targets; nothing here draws random numbers.

With a dated org (``Company.org_dated``) a rep sells only while in the org: ``active``
is the share of each fiscal month's days they are in it; a target given for a month
wholly outside is moved onto their months in the org (in proportion to those months'
targets, evenly without any: the year's total is kept; an allocation on the dated org
gives none there, so nothing moves), and the company's seasonality is weighted by
``active`` per rep, so months outside have no sales (and no pay: the plan model reads
the same dates, :func:`attain.incentive.population`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

__all__ = ["Population", "build_population"]

#: A rep needs this many months of history for their own bootstrap residuals.
MIN_HISTORY_MONTHS = 6
#: A rep's record relative to the typical rep is clipped to this range.
_BIAS_RANGE = (0.25, 4.0)


@dataclass(frozen=True)
class Population:
    """Per-rep arrays for the performance model (R reps, 12 fiscal months, K products)."""

    rep_ids: np.ndarray  # [R] str
    roles: np.ndarray  # [R] str
    region: np.ndarray  # [R] int code, -1 without a region level
    team: np.ndarray  # [R] int code, -1 without a team level
    products: tuple[str, ...]
    targets: np.ndarray  # [R, 12, K] float64, currency
    season: np.ndarray  # [12] company seasonality by fiscal month (sums to 1); [R, 12] dated
    mix: np.ndarray  # [R, K] product mix of the rep's last 12 months (rows sum to 1)
    record: np.ndarray  # [R] the rep's run-rate ÷ target relative to the median rep
    residuals: np.ndarray  # [R, H] month-to-month factors around the rep's level (mean 1)
    active: np.ndarray | None = None  # [R, 12] share of each month's days in the org (dated)

    @property
    def n_reps(self) -> int:
        return len(self.rep_ids)

    @cached_property  # read by every chunk: computed once
    def annual_target(self) -> np.ndarray:
        return self.targets.sum(axis=(1, 2))

    @cached_property
    def has_target(self) -> np.ndarray:
        return self.annual_target > 0

    @property
    def n_regions(self) -> int:
        return int(self.region.max(initial=-1)) + 1

    @property
    def n_teams(self) -> int:
        return int(self.team.max(initial=-1)) + 1


def build_population(
    people: pd.DataFrame,
    targets: np.ndarray,
    products: tuple[str, ...],
    history: pd.DataFrame | None = None,
    fiscal_start: int = 1,
    dated: pd.DataFrame | None = None,
    fiscal_year: int | None = None,
) -> Population:
    """Arrays for ``people`` (row i = rep i) with ``targets`` float64[R, 12, K] in currency;
    ``dated`` a dated org's rows (``Company.org_dated``) for ``fiscal_year``: reps sell
    only while in the org (the module's docstring)."""
    targets = np.asarray(targets, dtype=np.float64)
    rep_ids = people["rep_id"].astype(str).to_numpy()
    months = _history_matrix(history, rep_ids, products) if history is not None else None
    season = _season(months, fiscal_start)
    active = None
    if dated is not None:
        active = _active(dated, rep_ids, fiscal_year or 2027, fiscal_start)
        targets = _rephased(targets, active)
        weighted = season[None, :] * active
        total = weighted.sum(axis=1, keepdims=True)
        season = np.where(total > 0, weighted / np.where(total > 0, total, 1), 0.0)
    return Population(
        rep_ids=rep_ids,
        roles=_column(people, "role", "rep"),
        region=_codes(people, "region"),
        team=_codes(people, "team"),
        products=tuple(products),
        targets=targets,
        season=season,
        mix=_mix(months, targets),
        record=_record(months, targets),
        residuals=_residuals(months, fiscal_start),
        active=active,
    )


def _active(dated: pd.DataFrame, rep_ids: np.ndarray, year: int, fiscal_start: int):
    """The share of each fiscal month's days each rep is in the org, float64[R, 12]."""
    from attain.incentive.calendar import Calendar
    from attain.incentive.proration import days_in_role, slot_shares

    calendar = Calendar(year, fiscal_start)
    return slot_shares(days_in_role(dated, rep_ids, calendar), calendar)


def _rephased(targets: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Targets of months wholly outside the org moved onto the rep's months in it, in
    proportion to their targets (evenly without any), per product; a rep never in the
    org in the year keeps none. Unchanged when no target falls outside."""
    outside = (active <= 0)[:, :, None]
    moved = np.where(outside, targets, 0.0).sum(axis=1, keepdims=True)  # [R, 1, K]
    if not (moved > 0).any():
        return targets
    kept = np.where(outside, 0.0, targets)
    inside = kept.sum(axis=1, keepdims=True)
    n_in = (~outside).sum(axis=1, keepdims=True)
    weight = np.where(
        inside > 0, kept / np.where(inside > 0, inside, 1), ~outside / np.maximum(n_in, 1)
    )
    return kept + moved * weight


def _column(people: pd.DataFrame, name: str, default: str) -> np.ndarray:
    if name not in people.columns:
        return np.full(len(people), default, dtype=object)
    return people[name].astype(str).to_numpy()


def _codes(people: pd.DataFrame, name: str) -> np.ndarray:
    if name not in people.columns:
        return np.full(len(people), -1, dtype=np.int64)
    codes, _ = pd.factorize(people[name].astype(str), sort=True)
    return codes.astype(np.int64)


class _Months:
    """History as sales[R, H, K] over H consecutive calendar months (NaN = no row)."""

    def __init__(self, sales: np.ndarray, calendar_month: np.ndarray):
        self.sales = sales
        self.calendar_month = calendar_month  # [H] 1..12


def _history_matrix(history: pd.DataFrame, rep_ids: np.ndarray, products) -> _Months | None:
    if history is None or history.empty:
        return None
    rep = _lookup(history["rep_id"], pd.Index(rep_ids))
    prod = _lookup(history["product"], pd.Index(products))
    # Months are parsed once per distinct label (a few dozen), never once per row.
    codes, labels = pd.factorize(history["month"])
    ordinal = pd.PeriodIndex(np.asarray(labels).astype(str), freq="M").asi8
    first = int(ordinal.min())
    span = int(ordinal.max()) - first + 1
    month = ordinal[codes] - first
    keep = (rep >= 0) & (prod >= 0)
    sales = np.full((len(rep_ids), span, len(products)), np.nan)
    # A (rep, month) seen for any product is a month the rep worked: missing products sold 0.
    worked = np.zeros((len(rep_ids), span), dtype=bool)
    worked[rep[keep], month[keep]] = True
    sales[worked] = 0.0
    np.add.at(sales, (rep[keep], month[keep], prod[keep]), history["sales"].to_numpy()[keep])
    calendar_month = (first % 12 + np.arange(span)) % 12 + 1  # ordinal 0 is January 1970
    return _Months(sales, calendar_month)


def _lookup(column: pd.Series, index: pd.Index) -> np.ndarray:
    """Position of each row's value in ``index`` (-1 where absent), compared as text:
    distinct values are converted and looked up once, then spread to the rows."""
    codes, uniques = pd.factorize(column)
    found = index.get_indexer(np.asarray(uniques).astype(str))
    return np.where(codes >= 0, found[codes], -1)


def _season(months: _Months | None, fiscal_start: int) -> np.ndarray:
    if months is None:
        return np.full(12, 1 / 12)
    total = np.nansum(months.sales, axis=(0, 2))
    by_calendar = np.bincount(months.calendar_month - 1, weights=total, minlength=12)
    seen = np.bincount(months.calendar_month - 1, minlength=12)
    # Average per occurrence, so a month present in two years is not counted double.
    per_month = np.where(seen > 0, by_calendar / np.maximum(seen, 1), 0.0)
    if per_month.sum() <= 0 or (seen == 0).any():
        return np.full(12, 1 / 12)
    fiscal = np.roll(per_month, -(fiscal_start - 1))
    return fiscal / fiscal.sum()


def _last12(months: _Months) -> np.ndarray:
    return np.nan_to_num(months.sales[:, -12:, :]).sum(axis=1)  # [R, K]


def _mix(months: _Months | None, targets: np.ndarray) -> np.ndarray:
    by_target = targets.sum(axis=1)
    n_prod = targets.shape[2]
    even = np.full(n_prod, 1 / n_prod)
    mix = by_target
    if months is not None:
        recent = _last12(months)
        mix = np.where(recent.sum(axis=1, keepdims=True) > 0, recent, by_target)
    total = mix.sum(axis=1, keepdims=True)
    return np.where(total > 0, mix / np.where(total > 0, total, 1), even)


def _record(months: _Months | None, targets: np.ndarray) -> np.ndarray:
    n = targets.shape[0]
    if months is None:
        return np.ones(n)
    run = _last12(months).sum(axis=1)
    annual = targets.sum(axis=(1, 2))
    ok = (run > 0) & (annual > 0)
    if not ok.any():
        return np.ones(n)
    ratio = np.where(ok, run / np.where(ok, annual, 1), np.nan)
    relative = ratio / np.nanmedian(ratio)
    return np.where(ok, np.clip(relative, *_BIAS_RANGE), 1.0)


def _residuals(months: _Months | None, fiscal_start: int) -> np.ndarray:
    """Each rep's month totals ÷ (their level × the month's season): factors of mean 1.

    Reps with too short a record borrow the pooled factors of everyone else, in order,
    so the result is deterministic.
    """
    if months is None:
        return np.ones((0, 1))
    season = _season(months, 1)  # by calendar month
    per_month = months.sales.sum(axis=2)  # NaN where the rep did not work
    deseasoned = per_month / (12 * season[months.calendar_month - 1])
    n_seen = (~np.isnan(per_month)).sum(axis=1)
    level = np.nansum(deseasoned, axis=1) / np.maximum(n_seen, 1)
    good = (n_seen >= MIN_HISTORY_MONTHS) & (level > 0)
    factors = deseasoned / np.where(good, level, 1.0)[:, None]
    pool = factors[good][~np.isnan(factors[good])]
    if pool.size == 0:
        return np.ones((len(per_month), 1))
    out = np.where(np.isnan(factors) | ~good[:, None], np.nan, factors)
    holes = np.isnan(out)
    out[holes] = np.resize(pool, int(holes.sum()))
    return out

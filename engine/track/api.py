"""`track`: progress to date against the targets' own phasing, and the year-end forecast."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from attain.data import Company, load_company
from attain.errors import InputError, Problem
from attain.notices import YEAR_END_BALANCE_NOTICE, Notice
from attain.track.forecast import Unit, forecast
from attain.track.inputs import Ledger, read_ledger
from attain.track.result import Tracking, build_tracking

__all__ = ["track"]

#: Below this chance of reaching the year's target a rep is on the at-risk list.
AT_RISK_BELOW = 0.5
#: Cells (reps × trials × periods × products) of sales built at once for a payout forecast.
_PAY_CELLS = 1 << 22


def track(
    targets: pd.DataFrame | str | Path,
    actuals: pd.DataFrame | str | Path | None,
    as_of: str | dt.date,
    *,
    plans: Sequence[Any] = (),
    company: Company | str | Path | None = None,
    trials: int = 1000,
    seed: int = 0,
    at_risk_below: float = AT_RISK_BELOW,
    expenses: pd.DataFrame | str | Path | None = None,
    expense_budget: pd.DataFrame | str | Path | None = None,
    activities: pd.DataFrame | str | Path | None = None,
    activity_targets: pd.DataFrame | str | Path | None = None,
    measures: pd.DataFrame | str | Path | None = None,
) -> Tracking:
    """Progress to date, pace, year-end forecast with P10/P50/P90 and, with ``plans``,
    commission earned to date and the forecast of the year's payout.

    ``targets`` is an allocation's targets table (``rep_id, period, product, target``,
    optionally ``challenge`` and the hierarchy columns); ``actuals`` the deals table
    (the company's when ``None``); ``as_of`` the date tracked (``YYYY-MM-DD``), no deal
    may be dated after it. ``company`` gives the org, fiscal year and products; without
    it the org columns come from the targets table and the fiscal year from its periods.

    ``expenses`` (an expenses table, :mod:`attain.track.expense`) adds the expense to date
    and its rate on sales against ``expense_budget`` (an allocation's expense_budget.csv;
    by default the one beside a ``targets`` file). ``activities`` (rep_id, date, activity,
    count) adds the activities logged against ``activity_targets`` (an allocation's
    activity_targets.csv; by default the one beside ``targets``).

    ``measures`` is the measures table of the plans' KPI components (to date).

    A plan's payout is what it earns: a holdback's parts held back count as earned when
    they are earned (finance accrues them), not when they are paid.
    """
    if isinstance(company, str | Path):
        company = load_company(company)
    if trials < 1:
        raise ValueError(f"trials must be at least 1 (got {trials})")
    loaded = [_plan(p, company) for p in plans]
    ledger = read_ledger(targets, actuals, as_of, company)
    scale = ledger.scale
    target = ledger.target.astype(float) / scale  # [R, 12, K]
    actual = ledger.actual.astype(float) / scale
    challenge = ledger.challenge.astype(float) / scale
    levels, labels = _levels(ledger, target, actual, challenge)
    team = levels[ledger.hierarchy[-1]].codes if ledger.hierarchy else None
    remaining_k = (target * (1.0 - ledger.weight)[None, :, None]).sum(axis=1)  # [R, K]
    product_draws = np.zeros((len(ledger.products), trials))
    pay = [_PayoutForecast(p, ledger, target, actual, trials) for p in loaded]

    def on_block(first: int, share: np.ndarray) -> None:
        product_draws[:, first : first + len(share)] = (share @ remaining_k).T
        for p in pay:
            p.add(first, share)

    fc = forecast(
        target.sum(axis=2),
        actual.sum(axis=2),
        ledger.weight,
        challenge.sum(axis=(1, 2)),
        team,
        levels,
        trials=trials,
        seed=seed,
        on_block=on_block,
    )
    notices: list[Notice] = list(fc.notices)
    if ledger.n_outside:
        notices.append(
            Notice(
                "deals-before-year",
                f"{ledger.n_outside} deal row(s) dated before the fiscal year are not counted",
                count=ledger.n_outside,
            )
        )
    if ledger.n_dated:
        notices.append(
            Notice(
                "dated-org",
                f"{ledger.n_dated} rep(s) join or leave during the year: their targets count "
                "only for their days in the org (expected-to-date stops at a leaver's end date)",
                count=ledger.n_dated,
            )
        )
    if ledger.moves is not None:
        n = ledger.moves.n_movers
        notices.append(
            Notice(
                "movers",
                f"{n} rep(s) move between units during the year: each month's target and "
                "each deal count for the unit of their date; the rep's row and the months "
                "to come for the latest",
                count=n,
            )
        )
    payouts = [p.finish(company, measures) for p in pay]
    if expenses is not None and expense_budget is None:
        expense_budget = _beside(targets, "expense_budget.csv")
    if activities is not None and activity_targets is None:
        activity_targets = _beside(targets, "activity_targets.csv")
        if activity_targets is None:
            raise InputError(
                [
                    Problem(
                        "--activities",
                        "activities are tracked against activity targets: none beside the "
                        "targets (activity_targets.csv)",
                        code="missing-file",
                        hint="give --activity-targets, an allocation's activity_targets.csv",
                    )
                ]
            )
    result = build_tracking(
        ledger,
        fc,
        levels,
        labels,
        product_draws,
        payouts,
        at_risk_below,
        company.rules.currency if company is not None else "",
        notices,
    )
    if expenses is None and activities is None:
        return result
    return _with_expenses_and_activities(
        result, ledger, levels, labels, expenses, expense_budget, activities, activity_targets
    )


def _beside(targets: Any, name: str) -> Path | None:
    """The allocation file ``name`` in the folder of a targets file, if there is one."""
    if not isinstance(targets, str | Path):
        return None
    path = Path(targets).parent / name
    return path if path.is_file() else None


def _with_expenses_and_activities(
    result: Tracking, ledger, levels, labels, expenses, budget, activities, activity_targets
) -> Tracking:
    from dataclasses import replace

    from attain.notices import notices_json
    from attain.track.activity import track_activities
    from attain.track.expense import track_expenses
    from attain.track.result import TrackingSummary

    summary = result.summary.to_dict()
    notices = list(result.notices)
    spend = acts = None
    if expenses is not None:
        spend = track_expenses(ledger, levels, labels, result.table, expenses, budget)
        summary["expenses"] = spend.summary
        notices.extend(spend.notices)
    if activities is not None:
        acts = track_activities(ledger, levels, result.table, activities, activity_targets)
        summary["activities"] = acts.summary
        notices.extend(acts.notices)
    summary["warnings"] = notices_json(notices)
    return replace(
        result,
        summary=TrackingSummary.from_dict(summary),
        notices=tuple(notices),
        expenses=spend.frame if spend is not None else None,
        activities=acts.frame if acts is not None else None,
    )


def _plan(plan: Any, company: Company | None):
    from attain.incentive import load_plan
    from attain.schema.plan import Plan

    return plan if isinstance(plan, Plan) else load_plan(plan, company)


def _levels(
    ledger: Ledger, target: np.ndarray, actual: np.ndarray, challenge: np.ndarray
) -> tuple[dict[str, Unit], dict[str, np.ndarray]]:
    """The roll-ups: company, each hierarchy level; their unit labels."""
    levels: dict[str, Unit] = {}
    labels: dict[str, np.ndarray] = {}
    n = len(ledger.people)
    t_year, c_year, a_td = (
        target.sum(axis=(1, 2)),
        challenge.sum(axis=(1, 2)),
        actual.sum(axis=(1, 2)),
    )
    groups: list[tuple[str, np.ndarray, np.ndarray]] = [
        ("company", np.zeros(n, dtype=np.int64), np.array(["company"], dtype=object))
    ]
    moves = ledger.moves
    for i, level in enumerate(ledger.hierarchy):
        # A unit is its path from the top (a team name may repeat in two regions).
        cols = [ledger.people[c].astype(str) for c in ledger.hierarchy[: i + 1]]
        path = cols[0].str.cat(cols[1:], sep="/") if len(cols) > 1 else cols[0]
        if moves is None:
            codes, uniques = pd.factorize(path, sort=True)
            groups.append((level, codes.astype(np.int64), np.asarray(uniques, dtype=object)))
            continue
        # Movers: each month's target to the unit of that month, each deal to the unit
        # of its date; the rep (and the forecast of the months to come) to the latest.
        months, deals = moves.month_path[level], moves.deal_path[level]
        everything = np.concatenate([path.to_numpy(object), months.ravel(), deals])
        all_codes, uniques = pd.factorize(everything, sort=True)
        m = len(uniques)
        codes = all_codes[:n].astype(np.int64)
        month_codes = all_codes[n : n + months.size]
        deal_codes = all_codes[n + months.size :]
        levels[level] = Unit(
            codes,
            np.bincount(month_codes, weights=target.sum(axis=2).ravel(), minlength=m),
            np.bincount(month_codes, weights=challenge.sum(axis=2).ravel(), minlength=m),
            np.bincount(deal_codes, weights=moves.deal_share / ledger.scale, minlength=m),
        )
        labels[level] = np.asarray(uniques, dtype=object)
    for name, codes, uniques in groups:
        m = len(uniques)
        levels[name] = Unit(
            codes,
            np.bincount(codes, weights=t_year, minlength=m),
            np.bincount(codes, weights=c_year, minlength=m),
            np.bincount(codes, weights=a_td, minlength=m),
        )
        labels[name] = uniques
    return {name: levels[name] for name in ("company", *ledger.hierarchy)}, labels


class _PayoutForecast:
    """The vectorised evaluator over the forecast draws, and the exact payout to date."""

    def __init__(self, plan, ledger: Ledger, target, actual, trials: int):
        from attain.incentive import Calendar, compile_plan, population
        from attain.incentive.credit import credit_deals

        self.plan = plan
        self.ledger = ledger
        unit = (
            plan.rounding.minor_unit if plan.rounding.minor_unit is not None else ledger.minor_unit
        )
        self.compiled = compile_plan(plan, ledger.products, unit)
        products = list(ledger.products)
        pick = [products.index(p) for p in self.compiled.products if p in products]
        self.pick = np.array(pick, dtype=np.int64)
        per = Calendar(ledger.calendar.fiscal_year, ledger.calendar.start_month, plan.period)
        self.calendar = per
        self.per = per.months_per_period
        self.n_periods = per.n_periods
        # Semi-monthly and two-week plans: each month's figures spread over its days
        self.spread = per.month_spread() if per.is_sub_monthly else None
        weight = ledger.weight
        # The months gone as the plan credits them (new-customer weights, products it
        # counts); the months to come as the forecast, at each rep's credit per sale so far.
        credit = credit_deals(self.compiled, ledger.book)
        credited = credit.net_months[ledger.tracked][:, :, self.pick].astype(float)
        credited /= 10**self.compiled.minor_unit
        self.actual = credited
        raw = actual[:, :, self.pick].sum(axis=(1, 2))
        done = credited.sum(axis=(1, 2))
        factor = np.where(raw > 0, done / np.where(raw > 0, raw, 1.0), 1.0)
        self.remaining = (
            target[:, :, self.pick] * (1.0 - weight)[None, :, None] * factor[:, None, None]
        )
        n = len(ledger.people)
        # The plan measures attainment against the targets as given (as the exact path
        # does), not the tracked ones a leaver's or joiner's days in the org scale.
        given = ledger.book.targets[ledger.tracked].astype(float) / ledger.scale
        self.targets = self._by_period(given[:, :, self.pick][:, None])[:, 0]
        people = ledger.org.copy()
        if "role" not in people.columns:
            people["role"] = "rep"
        # a dated org: the forecast pays as the exact path does (days in role, dated roles)
        self.pop = population(self.compiled, n, people, calendar=per, dated=ledger.book.dated)
        self.draws = np.empty((n, trials), dtype=np.float64)

    def add(self, first: int, share: np.ndarray) -> None:
        from attain.incentive import evaluate

        n, k = self.actual.shape[0], self.actual.shape[2]
        step = max(1, _PAY_CELLS // max(1, n * 12 * k))
        for t0 in range(0, len(share), step):
            part = share[t0 : t0 + step]  # [t, R]
            sales = self.actual[:, None] + part.T[:, :, None, None] * self.remaining[:, None]
            sales = self._by_period(sales)
            if self.compiled.holdback is None:
                pay = evaluate(self.compiled, sales, self.targets, pop=self.pop)
            else:  # earned, held back or not: the holdback's lines are when it is paid
                from attain.incentive.holdback import HOLDBACK_LINES

                lines = evaluate(self.compiled, sales, self.targets, pop=self.pop, detail="year")
                pay = sum(v for k, v in lines.items() if k not in HOLDBACK_LINES)
            self.draws[:, first + t0 : first + t0 + len(part)] = pay

    def _by_period(self, monthly: np.ndarray) -> np.ndarray:
        """[R, t, 12, K] by month → [R, t, P, K] by the plan's pay period."""
        if self.spread is None:
            n, t, _, k = monthly.shape
            return monthly.reshape(n, t, self.n_periods, self.per, k).sum(axis=3)
        return np.moveaxis(np.tensordot(monthly, self.spread, axes=([2], [0])), -1, 2)

    def finish(self, company: Company | None, measures=None) -> dict[str, Any]:
        """Earned to date (exact, minor units) and the forecast draws of the year."""
        from attain.incentive import payouts

        ledger = self.ledger
        result = payouts(
            self.plan, ledger.targets_frame, ledger.actuals_frame, company, measures=measures
        )
        totals = result.totals
        labels = ledger.calendar.__class__(
            ledger.calendar.fiscal_year, ledger.calendar.start_month, self.plan.period
        ).period_labels()
        if self.spread is None:
            due = [lab for i, lab in enumerate(labels) if ledger.weight[i * self.per] > 0]
        else:  # a sub-monthly period is due once it has begun, as a month is
            begun = [self.calendar.month_start(s) <= ledger.as_of for s in range(len(labels))]
            due = [lab for lab, ok in zip(labels, begun, strict=True) if ok]
        upto = totals[totals["period"].isin(due)]
        if self.compiled.holdback is not None and due:  # held back: earned, not yet paid
            last = upto["period"] == due[-1]
            upto = upto.assign(
                payable_minor=upto["payable_minor"] + np.where(last, upto["held_balance_minor"], 0)
            )
        earned = upto.groupby("rep_id", sort=False)["payable_minor"].sum()
        minor = earned.reindex(ledger.people["rep_id"]).fillna(0).astype(np.int64).to_numpy()
        return {
            "plan": self.plan.name,
            "minor_unit": self.compiled.minor_unit,
            "earned_minor": minor,
            "earned_total_minor": int(upto["payable_minor"].sum()),
            "draws": self.draws,
            # Earned to date: the payouts' year-end balance is not a fact at the date.
            "notices": [n for n in result.notices if n.code != YEAR_END_BALANCE_NOTICE],
            "approximations": _approximations(self.compiled, self.pop),
        }


def _approximations(compiled, pop) -> list[str]:
    from attain.incentive import approximations

    return list(approximations(compiled, pop))

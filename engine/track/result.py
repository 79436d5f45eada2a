"""`Tracking`: the labelled result of a tracking run, as DataFrames, JSON and files.

``table`` has one row per unit of each level — ``company``, each hierarchy level
(``region``, ``team``), ``rep`` and ``product`` (the company per product line) — with
the year's ``target`` and ``challenge``, ``expected_to_date`` (the target's own monthly
phasing up to the date, the current month by its days elapsed), ``actual_to_date``,
``pace`` (actual ÷ expected), ``run_rate`` (actual ÷ the share of the year's days gone),
the forecast ``forecast_p10/p50/p90/mean`` of the year-end actual, the chance of reaching
target and challenge, and ``at_risk``; with plans, ``earned_to_date`` (exact) and the
forecast of the year's payout ``payout_p10/p50/p90/mean``. ``at_risk`` lists the reps
whose chance of reaching target is below the threshold, worst first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from attain.notices import Notice, notices_json
from attain.output import write_csv, write_json, write_text
from attain.result import ResultFiles, Summary
from attain.track.forecast import QUANTILES, Forecast, Unit
from attain.track.inputs import Ledger

__all__ = ["Tracking", "TrackingSummary", "build_tracking"]

#: The tracking table's money columns (rounded to the currency, formatted as money).
MONEY_COLUMNS = (
    "target",
    "challenge",
    "expected_to_date",
    "actual_to_date",
    "gap_to_expected",
    "run_rate",
    "forecast_p10",
    "forecast_p50",
    "forecast_p90",
    "forecast_mean",
    "earned_to_date",
    "payout_p10",
    "payout_p50",
    "payout_p90",
    "payout_mean",
)
#: Its rates (rounded to 4 places, formatted as percent).
RATE_COLUMNS = ("pace", "p_target", "p_challenge")
_AT_RISK_LISTED = 100


@dataclass(frozen=True)
class TrackingSummary(Summary):
    """summary.json of a tracking run (money rounded to the currency)."""

    OMITTED_WHEN_NONE = frozenset({"payouts", "expenses", "activities"})

    as_of: str
    fiscal_year: int
    fiscal_year_start: int
    currency: str
    decimals: int
    year_elapsed: float
    """The share of the fiscal year's days gone by the date."""
    hierarchy: list[str]
    products: list[str]
    n_reps: int
    units: dict[str, int]
    """How many units of each level the table has."""
    trials: int
    seed: int
    has_challenge: bool
    company: dict[str, Any]
    """The company's figures: target, actual and expected to date, pace, the forecast."""
    model: dict[str, float]
    at_risk_below: float
    n_at_risk: int
    at_risk: list[dict[str, Any]]
    """The first 100 reps at risk, worst first."""
    warnings: list[dict[str, Any]] = field(default_factory=list)
    payouts: list[dict[str, Any]] | None = None
    """Per plan (with plans): earned to date, the year's payout forecast, the accrual."""
    expenses: dict[str, Any] | None = None
    """With expenses: the company's expense and sales to date, the expense rate, the
    budget (year, to date, rate), units over budget per level, expense by category."""
    activities: dict[str, Any] | None = None
    """With activities: per activity the company's target, due and logged to date, pace;
    reps behind pace per activity."""


@dataclass(frozen=True)
class Tracking(ResultFiles):
    """Progress to date and the year-end forecast per unit; see the module docstring.

    Follows the result protocol (:mod:`attain.result`).
    """

    kind: ClassVar[str] = "tracking"

    table: pd.DataFrame
    at_risk: pd.DataFrame
    summary: TrackingSummary
    currency: str = ""
    decimals: int = 2
    notices: tuple[Notice, ...] = ()
    forecast: Forecast | None = field(default=None, repr=False, compare=False)
    expenses: pd.DataFrame | None = None
    """With expenses (:mod:`attain.track.expense`): per company, unit and rep, the expense
    and sales to date, the expense rate, the budget, to date, its rate, what is used."""
    activities: pd.DataFrame | None = None
    """With activities (:mod:`attain.track.activity`): per company, unit and rep and
    activity, the target, due and logged to date, pace, the week, the conversions."""

    @property
    def frames(self) -> dict[str, pd.DataFrame]:
        """The named tables: ``tracking`` (:attr:`table`), ``at_risk``, and ``expenses`` and
        ``activities`` when tracked."""
        out = {"tracking": self.table, "at_risk": self.at_risk}
        if self.expenses is not None:
            out["expenses"] = self.expenses
        if self.activities is not None:
            out["activities"] = self.activities
        return out

    def write_files(self, out: Path, html: bool = True, xlsx: bool = True) -> list[Path]:
        """tracking.csv, summary.json, tracking.xlsx and board.html into the folder ``out``
        (:meth:`write` writes them as one output set)."""
        from attain.track.board import board_html, write_xlsx

        out = Path(out)
        paths = [
            write_csv(out / "tracking.csv", _rounded(self.table, self.decimals)),
            write_json(out / "summary.json", self.summary.to_dict()),
        ]
        if self.expenses is not None:
            money = ["expense_to_date", "sales_to_date", "budget", "budget_to_date"]
            expenses = self.expenses.assign(
                **{c: self.expenses[c].round(self.decimals) for c in [*money, "variance_to_date"]}
            )
            paths.insert(1, write_csv(out / "expenses.csv", expenses))
        if self.activities is not None:
            paths.insert(1, write_csv(out / "activities.csv", self.activities))
        if xlsx:
            paths.append(write_xlsx(out / "tracking.xlsx", self))
        if html:
            paths.append(write_text(out / "board.html", board_html(self)))
        return paths


def _rounded(frame: pd.DataFrame, decimals: int) -> pd.DataFrame:
    out = frame.copy()
    for c in out.columns:
        if c in MONEY_COLUMNS:
            out[c] = out[c].round(decimals)
        elif c in RATE_COLUMNS:
            out[c] = out[c].round(4)
    return out


def build_tracking(
    ledger: Ledger,
    fc: Forecast,
    levels: dict[str, Unit],
    labels: dict[str, np.ndarray],
    product_draws: np.ndarray,
    payouts: list[dict[str, Any]],
    at_risk_below: float,
    currency: str,
    notices: list[Notice],
) -> Tracking:
    scale = ledger.scale
    weight = ledger.weight
    target = ledger.target.astype(float) / scale
    actual = ledger.actual.astype(float) / scale
    challenge = ledger.challenge.astype(float) / scale
    elapsed = _elapsed_share(ledger)
    n = len(ledger.people)
    people = ledger.people
    hierarchy = ledger.hierarchy

    def figures(t_year, c_year, expected, actual_td, fcq) -> dict[str, np.ndarray]:
        with np.errstate(divide="ignore", invalid="ignore"):
            pace = np.where(expected > 0, actual_td / np.where(expected > 0, expected, 1), np.nan)
        return {
            "target": t_year,
            "challenge": c_year,
            "expected_to_date": expected,
            "actual_to_date": actual_td,
            "gap_to_expected": actual_td - expected,
            "pace": pace,
            "run_rate": actual_td / elapsed,
            "forecast_p10": fcq["p10"],
            "forecast_p50": fcq["p50"],
            "forecast_p90": fcq["p90"],
            "forecast_mean": fcq["mean"],
            "p_target": fcq["p_target"],
            "p_challenge": fcq["p_challenge"],
        }

    rep_expected = (target * weight[None, :, None]).sum(axis=(1, 2))
    parts = []
    pay_rep = _payout_columns(payouts, n)
    for name, unit in levels.items():
        expected = np.bincount(unit.codes, weights=rep_expected, minlength=len(unit.target))
        cols = figures(unit.target, unit.challenge, expected, unit.actual, fc.units[name])
        frame = pd.DataFrame({"level": name, "unit": _unit_names(labels[name]), **cols})
        first = pd.Series(np.arange(n)).groupby(unit.codes).first()
        idx = first.reindex(range(len(unit.target))).to_numpy()
        for i, col in enumerate(hierarchy):
            upto = list(hierarchy).index(name) if name in hierarchy else -1
            frame[col] = people[col].to_numpy()[idx] if i <= upto else ""
        frame["rep_id"] = ""
        frame["product"] = ""
        frame["at_risk"] = False
        for key, values in pay_rep.items():
            if key == "earned_to_date":
                frame[key] = np.bincount(unit.codes, weights=values, minlength=len(unit.target))
            else:
                frame[key] = _unit_quantile(payouts, unit, key)
        parts.append(frame)
    rep_cols = figures(
        target.sum(axis=(1, 2)),
        challenge.sum(axis=(1, 2)),
        rep_expected,
        actual.sum(axis=(1, 2)),
        fc.rep,
    )
    reps = pd.DataFrame({"level": "rep", "unit": people["rep_id"].to_numpy(), **rep_cols})
    for col in hierarchy:
        reps[col] = people[col].to_numpy()
    reps["rep_id"] = people["rep_id"].to_numpy()
    reps["product"] = ""
    reps["at_risk"] = reps["p_target"] < at_risk_below
    for key, values in pay_rep.items():
        reps[key] = values
    # The company per product line: its remaining sales are the reps' split by target mix.
    k = len(ledger.products)
    prod_t = target.sum(axis=(0, 1))
    prod_c = challenge.sum(axis=(0, 1))
    prod_e = (target * weight[None, :, None]).sum(axis=(0, 1))
    prod_a = actual.sum(axis=(0, 1))
    totals = product_draws + prod_a[:, None]
    q = np.quantile(totals, QUANTILES, axis=1) if totals.shape[1] else np.zeros((3, k))
    pq = {
        "p10": q[0],
        "p50": q[1],
        "p90": q[2],
        "mean": totals.mean(axis=1),
        "p_target": (totals >= prod_t[:, None] - 1e-9).mean(axis=1),
        "p_challenge": (totals >= prod_c[:, None] - 1e-9).mean(axis=1),
    }
    products = pd.DataFrame(
        {
            "level": "product",
            "unit": list(ledger.products),
            **figures(prod_t, prod_c, prod_e, prod_a, pq),
        }
    )
    for col in hierarchy:
        products[col] = ""
    products["rep_id"] = ""
    products["product"] = list(ledger.products)
    products["at_risk"] = False
    head = ["level", "unit", *hierarchy, "rep_id", "product"]
    table = pd.concat([*parts, reps, products], ignore_index=True)
    rest = [c for c in table.columns if c not in head]
    table = table[head + rest]
    risky = reps[reps["at_risk"]].sort_values(["p_target", "rep_id"], kind="stable")
    at_risk = risky[
        [
            "rep_id",
            *hierarchy,
            "target",
            "expected_to_date",
            "actual_to_date",
            "pace",
            "forecast_p10",
            "forecast_p50",
            "forecast_p90",
            "p_target",
        ]
    ].reset_index(drop=True)
    unpaced = int((reps["expected_to_date"] <= 0).sum())
    if unpaced:
        notices.append(
            Notice(
                "no-expected-to-date",
                f"{unpaced} rep(s) have no target due by the date: pace is left empty for them",
                count=unpaced,
            )
        )
    for p in payouts:
        notices.extend(p["notices"])
    summary = _summary(ledger, fc, table, at_risk, payouts, currency, at_risk_below, elapsed)
    summary["warnings"] = notices_json(notices)
    return Tracking(
        table,
        at_risk,
        TrackingSummary.from_dict(summary),
        currency,
        ledger.minor_unit,
        tuple(notices),
        fc,
    )


def _unit_names(values: np.ndarray) -> list[str]:
    return [str(v).rsplit("/", 1)[-1] if "/" in str(v) else str(v) for v in values]


def _elapsed_share(ledger: Ledger) -> float:
    start = ledger.calendar.month_start(0)
    end = ledger.calendar.month_start(11)
    nxt = end.replace(year=end.year + (end.month == 12), month=end.month % 12 + 1)
    return ((ledger.as_of - start).days + 1) / (nxt - start).days


def _payout_columns(payouts: list[dict[str, Any]], n: int) -> dict[str, np.ndarray]:
    if not payouts:
        return {}
    earned = sum(p["earned_minor"] / 10 ** p["minor_unit"] for p in payouts)
    draws = sum(p["draws"] for p in payouts)
    q = np.quantile(draws, QUANTILES, axis=1)
    return {
        "earned_to_date": np.asarray(earned, dtype=float),
        "payout_p10": q[0],
        "payout_p50": q[1],
        "payout_p90": q[2],
        "payout_mean": draws.mean(axis=1),
    }


def _unit_quantile(payouts: list[dict[str, Any]], unit: Unit, key: str) -> np.ndarray:
    draws = sum(p["draws"] for p in payouts)  # [R, trials]
    m = len(unit.target)
    order = np.argsort(unit.codes, kind="stable")
    present, starts = np.unique(unit.codes[order], return_index=True)
    sums = np.zeros((m, draws.shape[1]))
    sums[present] = np.add.reduceat(draws[order], starts, axis=0)
    if key == "payout_mean":
        return sums.mean(axis=1)
    return np.quantile(sums, {"payout_p10": 0.1, "payout_p50": 0.5, "payout_p90": 0.9}[key], axis=1)


def _money(x: float, decimals: int) -> float:
    return round(float(x), decimals)


def _summary(
    ledger, fc, table, at_risk, payouts, currency, at_risk_below, elapsed
) -> dict[str, Any]:
    d = ledger.minor_unit
    company = table[table["level"] == "company"].iloc[0]
    fig: dict[str, float | None] = {
        c: _money(company[c], d)
        for c in (
            "target",
            "challenge",
            "expected_to_date",
            "actual_to_date",
            "run_rate",
            "forecast_p10",
            "forecast_p50",
            "forecast_p90",
            "forecast_mean",
        )
    }
    pace = company["pace"]
    fig["pace"] = None if pd.isna(pace) else round(float(pace), 4)
    fig["p_target"] = round(float(company["p_target"]), 4)
    fig["p_challenge"] = round(float(company["p_challenge"]), 4)
    levels = {
        str(level): int(count) for level, count in table["level"].value_counts(sort=False).items()
    }
    listed = at_risk.head(_AT_RISK_LISTED)
    out: dict[str, Any] = {
        "as_of": ledger.as_of.isoformat(),
        "fiscal_year": ledger.calendar.fiscal_year,
        "fiscal_year_start": ledger.calendar.start_month,
        "currency": currency,
        "decimals": d,
        "year_elapsed": round(elapsed, 6),
        "hierarchy": list(ledger.hierarchy),
        "products": list(ledger.products),
        "n_reps": len(ledger.people),
        "units": levels,
        "trials": fc.trials,
        "seed": fc.seed,
        "has_challenge": ledger.has_challenge,
        "company": fig,
        "model": {k: round(v, 6) for k, v in fc.parameters.items()},
        "at_risk_below": at_risk_below,
        "n_at_risk": len(at_risk),
        "at_risk": [
            {
                "rep_id": str(r["rep_id"]),
                **{c: str(r[c]) for c in ledger.hierarchy},
                "pace": None if pd.isna(r["pace"]) else round(float(r["pace"]), 4),
                "p_target": round(float(r["p_target"]), 4),
                "forecast_p50": _money(r["forecast_p50"], d),
                "target": _money(r["target"], d),
            }
            for r in listed.to_dict("records")
        ],
    }
    if payouts:
        out["payouts"] = [_payout_summary(p, ledger, table) for p in payouts]
    return out


def _payout_summary(p: dict[str, Any], ledger: Ledger, table: pd.DataFrame) -> dict[str, Any]:
    from attain.incentive.result import format_minor

    unit = p["minor_unit"]
    year = p["draws"].sum(axis=0)
    q = np.quantile(year, QUANTILES)
    company = table[table["level"] == "company"].iloc[0]
    phased = float(company["expected_to_date"] / company["target"]) if company["target"] else 0.0
    mean = float(year.mean())
    return {
        "plan": p["plan"],
        "earned_to_date": str(format_minor(np.array([p["earned_total_minor"]]), unit).iloc[0]),
        "forecast_mean": round(mean, unit),
        "forecast_p10": round(float(q[0]), unit),
        "forecast_p50": round(float(q[1]), unit),
        "forecast_p90": round(float(q[2]), unit),
        "accrual_to_date": round(mean * phased, unit),
        "accrual_basis": "forecast mean x the share of the year's target due by the date",
        "approximations": p["approximations"],
    }

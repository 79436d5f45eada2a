"""`SimulationResult`: the summary, the per-trial table and the tornado, ready to write."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from attain.result import ResultFiles, Summary
from attain.simulate import metrics
from attain.simulate.runner import Job, Raw

__all__ = ["SimulationResult", "SimulationSummary", "summarise", "trials_frame"]


@dataclass(frozen=True)
class SimulationSummary(Summary):
    """summary.json of a simulation: one plan or several, the same shape.

    ``results[variant][plan]`` holds each plan's figures under each variant (``base``
    first): ``total_payout``, ``revenue``, ``cost_of_sales`` and ``share_at_target``
    distributions (mean, percentiles), ``by_role``, ``pay_for_performance``,
    ``top_decile_vs_median``, ``gini`` and ``budget``; ``comparisons[variant][plan]`` each
    plan against the baseline on the same draws.
    """

    OMITTED_WHEN_NONE = frozenset({"company", "currency", "fiscal_year"})

    scenario: str
    description: str | None
    performance: dict[str, Any]
    """The performance model as the scenario gives it."""
    trials: int
    seed: int
    n_reps: int
    n_reps_with_target: int
    detail_trials: int
    baseline: str
    plans: list[dict[str, Any]]
    """``name`` and ``components`` of each plan, in the scenario's order."""
    variants: list[dict[str, Any]]
    results: dict[str, dict[str, dict[str, Any]]]
    comparisons: dict[str, dict[str, Any]]
    variant_effects: dict[str, dict[str, Any]]
    sensitivity: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    """:class:`attain.notices.Notice` warnings: what the simulation pays otherwise than
    the exact payouts would (a holdback released on payment, paid at the year's end)."""
    company: str | None = None
    currency: str | None = None
    fiscal_year: int | None = None


@dataclass(frozen=True)
class SimulationResult(ResultFiles):
    """A finished simulation.

    ``summary`` is what ``summary.json`` holds (deterministic for a seed: no timings);
    ``trials`` one row per trial × variant × plan (total payout, revenue, cost of sales,
    share at target); ``sensitivity`` the tornado rows; ``timings`` seconds per stage.
    Follows the result protocol (:mod:`attain.result`); one plan or several, the same type.
    """

    kind: ClassVar[str] = "simulation"

    summary: SimulationSummary
    trials: pd.DataFrame
    sensitivity: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)
    notices: tuple = ()
    """:class:`attain.notices.Notice` warnings, as ``summary.json`` lists them."""

    @property
    def frames(self) -> dict[str, pd.DataFrame]:
        """``trials`` and ``sensitivity``."""
        return {"trials": self.trials, "sensitivity": self.sensitivity}

    @property
    def plans(self) -> list[str]:
        return [p["name"] for p in self.summary["plans"]]

    @property
    def variants(self) -> list[str]:
        return [v["name"] for v in self.summary["variants"]]

    def figure(self, plan: str, variant: str = "base") -> dict[str, Any]:
        """The metrics of ``plan`` under ``variant``."""
        return self.summary["results"][variant][plan]

    def write_files(self, out: Path) -> list[Path]:
        """Write summary.json, trials.parquet, report.html and summary.xlsx into the folder
        ``out`` (:meth:`write` writes them as one output set)."""
        from attain.report import write_outputs

        return write_outputs(self, Path(out))


def trials_frame(job: Job, raw: Raw) -> pd.DataFrame:
    """One row per trial × variant × plan (components are in the summary: detail trials)."""
    parts = []
    trial = np.arange(job.trials)
    for v, variant in enumerate(job.variants):
        for p, plan in enumerate(job.plans):
            frame = pd.DataFrame(
                {
                    "trial": trial,
                    "variant": variant.name,
                    "plan": plan.name,
                    "total_payout": raw.payout[v, p],
                    "revenue": raw.revenue[v],
                    "cost_of_sales": _ratio(raw.payout[v, p], raw.revenue[v]),
                    "share_at_target": raw.at_target[v],
                }
            )
            parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)


def summarise(job: Job, raw: Raw, head: dict[str, Any], budget) -> dict[str, Any]:
    """The summary.json document."""
    results, comparisons, effects = {}, {}, {}
    for v, variant in enumerate(job.variants):
        results[variant.name] = {
            plan.name: _plan_figures(job, raw, v, p, budget) for p, plan in enumerate(job.plans)
        }
        comparisons[variant.name] = _compare(job, raw, v, 0)
        if v:
            effects[variant.name] = {
                plan.name: _paired(raw, (v, p), (0, p)) for p, plan in enumerate(job.plans)
            }
    return {
        **head,
        "trials": job.trials,
        "seed": job.seed,
        "n_reps": int(job.population.n_reps),
        "n_reps_with_target": int(job.population.has_target.sum()),
        "detail_trials": job.detail_trials,
        "baseline": job.plans[0].name,
        "plans": [{"name": p.name, "components": list(p.components)} for p in job.plans],
        "variants": [{"name": v.name, "description": v.description} for v in job.variants],
        "results": results,
        "comparisons": comparisons,
        "variant_effects": effects,
    }


def _plan_figures(job: Job, raw: Raw, v: int, p: int, budget) -> dict[str, Any]:
    plan = job.plans[p]
    pay, revenue = raw.payout[v, p], raw.revenue[v]
    cos = _ratio(pay, revenue)
    detail = raw.detail_payout[v, p]
    mask = np.asarray(plan.participant, dtype=bool)
    with_target = mask & job.population.has_target
    out = {
        "total_payout": metrics.distribution(pay),
        "revenue": metrics.distribution(revenue),
        "cost_of_sales": metrics.distribution(np.nan_to_num(cos)),
        "cost_of_sales_of_means": metrics.json_float(pay.mean() / revenue.mean())
        if revenue.mean() > 0
        else None,
        "share_at_target": metrics.distribution(raw.at_target[v]),
        "components": {
            name: metrics.json_float(raw.components[p][v, :, c].mean())
            for c, name in enumerate(plan.components)
        },
        "n_participants": int(mask.sum()),
        "by_role": metrics.role_percentiles(detail, job.population.roles, mask),
        "pay_for_performance": metrics.pay_for_performance(
            detail, raw.detail_attainment[v], with_target
        ),
        "top_decile_vs_median": metrics.top_vs_median(detail[:, mask]),
        "gini": metrics.gini(detail[:, mask]),
        "budget": _budget(pay, cos, budget),
    }
    return out


def _budget(pay: np.ndarray, cos: np.ndarray, budget) -> dict[str, Any] | None:
    if budget is None:
        return None
    out: dict[str, Any] = {}
    if budget.cost_of_sales is not None:
        out["cost_of_sales_limit"] = budget.cost_of_sales
        out["p_exceed_cost_of_sales"] = metrics.json_float(
            (np.nan_to_num(cos) > budget.cost_of_sales).mean()
        )
    if budget.amount is not None:
        out["amount_limit"] = budget.amount
        out["p_exceed_amount"] = metrics.json_float((pay > budget.amount).mean())
    return out


def _paired(raw: Raw, a: tuple[int, int], b: tuple[int, int]) -> dict[str, Any]:
    (va, pa), (vb, pb) = a, b
    cos_a = np.nan_to_num(_ratio(raw.payout[va, pa], raw.revenue[va]))
    cos_b = np.nan_to_num(_ratio(raw.payout[vb, pb], raw.revenue[vb]))
    return {
        "total_payout": metrics.paired(raw.payout[va, pa], raw.payout[vb, pb]),
        "cost_of_sales": metrics.paired(cos_a, cos_b),
    }


def _compare(job: Job, raw: Raw, v: int, baseline: int) -> dict[str, Any]:
    return {
        plan.name: _paired(raw, (v, p), (v, baseline))
        for p, plan in enumerate(job.plans)
        if p != baseline
    }

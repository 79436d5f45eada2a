"""Candidates → simulated figures: many tuned copies of a plan paid on the same draws.

Every candidate of a batch is a payout model of its own, and the runner pays them all in
one run: the draws and sales of each block are made once and shared, so the candidates
differ only by the plan (common random numbers) and a batch costs little more than the
payout evaluator itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from statistics import NormalDist
from typing import Any

import numpy as np

from attain.design.parameters import Entry, apply
from attain.schema.design import Constraint, DesignParameter, Statistic
from attain.simulate.evaluator import PayoutModel
from attain.simulate.metrics import top_vs_median
from attain.simulate.runner import Job, Raw, run
from attain.simulate.setup import Setup
from attain.simulate.variants import BASE

__all__ = ["Figures", "Simulator", "interval", "statistic_value", "violation"]


@dataclass(frozen=True)
class Figures:
    """What one run says of one candidate: per-trial arrays and pooled person arrays."""

    payout: np.ndarray  # [T] total payout
    cost_of_sales: np.ndarray  # [T]
    at_target: np.ndarray  # [T] share of reps at or above target
    detail_payout: np.ndarray  # [D, R] individual yearly pay, detail trials
    detail_attainment: np.ndarray  # [D, R]
    participant: np.ndarray  # [R] bool: paid by the plan
    with_target: np.ndarray  # [R] bool: paid by the plan and has a target
    #: Shared by the candidates of one run (the same detail attainments): each mask's
    #: centred attainments for the pay slope, computed once. None: not shared.
    slope_basis: dict[bytes, tuple[np.ndarray, float]] | None = None


@dataclass
class Simulator:
    """Pays tuned copies of ``plan`` (a plan, or a package of plans) on ``setup``'s people,
    ``trials`` years from ``seed``."""

    setup: Setup
    plan: Entry
    parameters: Sequence[DesignParameter]
    trials: int
    seed: int
    workers: int | None = None
    client: Any | None = None

    def plans(self, points: np.ndarray) -> list[Entry | str]:
        """The tuned plan of each point (rows), or why the plan's rules reject it."""
        out: list[Entry | str] = []
        for values in points:
            try:
                out.append(apply(self.plan, self.parameters, values))
            except ValueError as exc:
                out.append(str(exc))
        return out

    def figures(self, plans: Sequence[Entry], trials: int | None = None, seed: int | None = None):
        """Simulated figures of each plan, on this simulator's draws (or other ones)."""
        models: tuple[PayoutModel, ...] = tuple(self.setup.model_for(p) for p in plans)
        job = Job(
            population=self.setup.population,
            model=self.setup.scenario.performance,
            plans=models,
            variants=(BASE,),
            trials=self.trials if trials is None else trials,
            seed=self.seed if seed is None else seed,
            lines=False,  # reps' yearly pay is all a design reads
        )
        raw = run(job, workers=self.workers, client=self.client)
        basis: dict[bytes, tuple[np.ndarray, float]] = {}
        return [_figures(job, raw, p, basis) for p in range(len(models))]

    def with_draws(self, trials: int, seed: int) -> Simulator:
        return replace(self, trials=trials, seed=seed)


def _figures(job: Job, raw: Raw, p: int, basis: dict | None = None) -> Figures:
    pay, revenue = raw.payout[0, p], raw.revenue[0]
    cos = np.where(revenue > 0, pay / np.where(revenue > 0, revenue, 1.0), 0.0)
    participant = np.asarray(job.plans[p].participant, dtype=bool)
    return Figures(
        payout=pay,
        cost_of_sales=cos,
        at_target=raw.at_target[0],
        detail_payout=raw.detail_payout[0, p],
        detail_attainment=raw.detail_attainment[0],
        participant=participant,
        with_target=participant & job.population.has_target,
        slope_basis=basis,
    )


def _values(figures: Figures, stat: Statistic) -> np.ndarray:
    """The sample a statistic is taken over (per-trial values, or pooled rep-trials)."""
    if stat.metric == "total_payout":
        return figures.payout
    if stat.metric == "cost_of_sales":
        return figures.cost_of_sales
    if stat.metric == "share_at_target":
        return figures.at_target
    mask = figures.with_target
    pay = figures.detail_payout[:, mask]
    near = np.abs(figures.detail_attainment[:, mask] - 1.0) <= stat.band + 1e-12
    return pay[near]


def statistic_value(figures: Figures, stat: Statistic) -> float:
    """The figure a constraint or the objective is about (NaN when there is no sample)."""
    if stat.metric == "pay_slope":
        return _slope(figures, figures.with_target)
    if stat.metric == "top_decile_vs_median":
        value = top_vs_median(figures.detail_payout[:, figures.participant])
        return math.nan if value is None else value
    return _statistic(_values(figures, stat), stat)


def _statistic(values: np.ndarray, stat: Statistic) -> float:
    if values.size == 0:
        return math.nan
    if stat.statistic == "mean":
        return float(values.mean())
    if stat.statistic == "median":
        return float(np.median(values))
    if stat.statistic == "percentile":
        return float(np.percentile(values, float(stat.percentile or 50)))
    return float((values > float(stat.above or 0.0)).mean())


def _slope(figures: Figures, mask: np.ndarray) -> float:
    """The least-squares slope of pay on attainment over the reps of ``mask``."""
    key = mask.tobytes()
    basis = figures.slope_basis
    if basis is not None and key in basis:
        dx, ss = basis[key]
    else:
        x = figures.detail_attainment[:, mask].ravel()
        dx = x - x.mean() if x.size else x
        ss = float(dx @ dx)
        if basis is not None:
            basis[key] = dx, ss
    if dx.size < 2:
        return math.nan
    y = figures.detail_payout[:, mask].ravel()
    return float(dx @ (y - y.mean())) / ss if ss > 0 else math.nan


def interval(figures: Figures, stat: Statistic, confidence: float) -> tuple[float, float]:
    """A ``confidence`` interval of the statistic (NaN, NaN when the sample is too small).

    Means: normal, from the standard error. Percentiles and medians: distribution-free,
    from the order statistics the binomial distribution brackets. Probabilities: Wilson's
    score interval. Figures of a whole run (pay slope, top decile ÷ median): batch means
    over ten batches of the detail trials. Rep-trials pooled within a trial are treated as
    independent, which makes the person-level intervals somewhat narrow.
    """
    z = _z(confidence)
    if stat.metric in ("pay_slope", "top_decile_vs_median"):
        return _batch_interval(figures, stat, z)
    values = _values(figures, stat)
    n = values.size
    if n < 2:
        return math.nan, math.nan
    if stat.statistic == "mean":
        se = float(values.std(ddof=1)) / math.sqrt(n)
        centre = float(values.mean())
        return centre - z * se, centre + z * se
    if stat.statistic == "p_above":
        p = float((values > float(stat.above or 0.0)).mean())
        return _wilson(p, n, z)
    q = 0.5 if stat.statistic == "median" else float(stat.percentile or 50) / 100
    ordered = np.sort(values)
    half = z * math.sqrt(n * q * (1 - q))
    lo = max(0, math.floor(n * q - half) - 1)
    hi = min(n - 1, math.ceil(n * q + half))
    return float(ordered[lo]), float(ordered[hi])


def _batch_interval(figures: Figures, stat: Statistic, z: float) -> tuple[float, float]:
    d = figures.detail_payout.shape[0]
    n_batches = min(10, d)
    if n_batches < 2:
        return math.nan, math.nan
    values = []
    for rows in np.array_split(np.arange(d), n_batches):
        part = replace(
            figures,
            detail_payout=figures.detail_payout[rows],
            detail_attainment=figures.detail_attainment[rows],
            slope_basis=None,  # other rows: their own centring
        )
        values.append(statistic_value(part, stat))
    v = np.asarray(values)
    v = v[np.isfinite(v)]
    if v.size < 2:
        return math.nan, math.nan
    centre, se = float(v.mean()), float(v.std(ddof=1)) / math.sqrt(v.size)
    return centre - z * se, centre + z * se


def _wilson(p: float, n: int, z: float) -> tuple[float, float]:
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _z(confidence: float) -> float:
    """The two-sided normal quantile of ``confidence``."""
    return NormalDist().inv_cdf((1 + confidence) / 2)


def violation(value: float, constraint: Constraint) -> float:
    """How far ``value`` is outside the constraint, relative to its limit (0 = met)."""
    if not math.isfinite(value):
        return math.inf
    out = 0.0
    for limit, sign in ((constraint.max, 1.0), (constraint.min, -1.0)):
        if limit is None:
            continue
        excess = sign * (value - limit)
        if excess > 0:
            scale = 1.0 if constraint.statistic == "p_above" else max(abs(limit), 1e-12)
            out += excess / scale
    return out

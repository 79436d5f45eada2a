"""`kind: design`: solve for plan parameters under constraints on the simulated outcome.

A design names a scenario (company, targets, performance model: what is simulated), one
of its plans, the plan's numbers to tune (each by path, with bounds and an optional
step), constraints on what the simulation says of the tuned plan, and an objective. The
search runs on one set of seeded draws (common random numbers: every candidate meets the
same simulated years); the chosen plan is then re-simulated on independent draws and the
constraints are reported out of sample with confidence intervals.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Literal, cast

from pydantic import Field, field_validator, model_validator

from attain.schema.base import (
    SCHEMA_VERSION,
    Identifier,
    RuleModel,
    did_you_mean,
    invalid,
    register_kind,
)
from attain.schema.scenario import MAX_TRIALS

__all__ = [
    "METRICS",
    "Constraint",
    "Design",
    "DesignParameter",
    "Objective",
    "Search",
    "Statistic",
    "Validation",
    "known_plan_values",
]

#: What a constraint or the objective can be about. Trial metrics have one value per
#: simulated year; person metrics pool the individual reps of the detail trials.
METRICS: dict[str, str] = {
    "total_payout": "the year's total payout of the plan (currency)",
    "cost_of_sales": "total payout ÷ revenue (0.07 = 7%)",
    "share_at_target": "share of reps with a target at or above 100% of it",
    "pay_at_target": "a rep's yearly pay when attainment is within `band` of 100% (currency)",
    "pay_slope": "pay for performance: the rise of a rep's yearly pay per 1.00 of attainment "
    "(least-squares slope over reps with a target, currency)",
    "top_decile_vs_median": "mean pay of the top 10% of earners ÷ the median earner's",
}
TRIAL_METRICS = ("total_payout", "cost_of_sales", "share_at_target")
Metric = Literal[
    "total_payout",
    "cost_of_sales",
    "share_at_target",
    "pay_at_target",
    "pay_slope",
    "top_decile_vs_median",
]

#: The plan's numeric values a path may name (``commission.tiers[2].rate`` → its value)
#: while a design is validated against its plan; ``None`` checks paths for form only.
KNOWN_PLAN_VALUES: ContextVar[dict[str, float] | None] = ContextVar(
    "KNOWN_PLAN_VALUES", default=None
)


@contextmanager
def known_plan_values(values: dict[str, float] | None) -> Iterator[None]:
    """Validate designs inside this block against a plan's numeric values."""
    token = KNOWN_PLAN_VALUES.set(values)
    try:
        yield
    finally:
        KNOWN_PLAN_VALUES.reset(token)


_PATH = r"^[A-Za-z_][A-Za-z0-9_]*(\[\d+\])?(\.[A-Za-z_][A-Za-z0-9_]*(\[\d+\])?)*$"


class DesignParameter(RuleModel):
    """One number of the plan to tune."""

    path: str = Field(pattern=_PATH)
    """Where the number is in the plan: a component's name, then its fields, e.g.
    `commission.tiers[2].rate` (the third tier's rate), `bonus.cap.multiple_of_ti`; or a
    plan-level field, e.g. `target_incentive.amount`. In a package of plans, the member
    plan's name comes first: `cloud_overlay.cloud_overlay.tiers[1].rate`. A tier's `start`
    moves the previous tier's `end` with it, so the tiers stay contiguous."""
    name: Identifier | None = None
    """A short name for tables and the report (default: the path)."""
    min: float
    """The lowest value to try."""
    max: float
    """The highest value to try."""
    step: float | None = Field(default=None, gt=0)
    """Try only `min + k × step` (e.g. 0.0025 for rates in quarter points); without it
    the search refines to 1/10,000 of the range."""

    @model_validator(mode="after")
    def _bounds(self) -> DesignParameter:
        if not (math.isfinite(self.min) and math.isfinite(self.max)):
            raise ValueError("`min` and `max` must be finite numbers")
        if self.min >= self.max:
            raise invalid(
                f"`min` ({self.min:g}) must be below `max` ({self.max:g}); "
                "are they the wrong way round?",
                "max",
            )
        if self.step is not None and self.step > self.max - self.min:
            raise invalid(
                f"`step` ({self.step:g}) is wider than the range {self.min:g}..{self.max:g}",
                "step",
            )
        known = KNOWN_PLAN_VALUES.get()
        if known is not None and self.path not in known:
            raise invalid(
                f"the plan has no number at `{self.path}`{did_you_mean(self.path, known)}",
                "path",
            )
        return self

    @property
    def label(self) -> str:
        return self.name or self.path


class Statistic(RuleModel):
    """Which figure of a metric's distribution: the mean (default), a percentile, the
    median, or the probability of exceeding a value."""

    metric: Metric
    """What is measured; see the design reference for each metric."""
    statistic: Literal["mean", "median", "percentile", "p_above"] = "mean"
    """`mean`; `median`; `percentile` (with `percentile:`); `p_above` — the probability
    that the metric exceeds `above:` (e.g. cost of sales above the budget)."""
    percentile: float | None = Field(default=None, gt=0, lt=100)
    """The percentile for `statistic: percentile`, e.g. 95."""
    above: float | None = None
    """The value for `statistic: p_above`."""
    band: float = Field(default=0.05, gt=0, le=0.5)
    """For `pay_at_target`: how near 100% attainment counts as at target (0.05 = 95–105%)."""

    @model_validator(mode="before")
    @classmethod
    def _percentile_implies(cls, data: object) -> object:
        # `percentile: 95` alone says which statistic is meant; so does `above:`.
        if isinstance(data, dict) and "statistic" not in data:
            if data.get("percentile") is not None:
                data = {**data, "statistic": "percentile"}
            elif data.get("above") is not None:
                data = {**data, "statistic": "p_above"}
        return data

    @model_validator(mode="after")
    def _statistic_fits(self) -> Statistic:
        if self.statistic == "percentile" and self.percentile is None:
            raise invalid("`statistic: percentile` needs `percentile:` (e.g. 95)", "percentile")
        if self.statistic == "p_above" and self.above is None:
            raise invalid("`statistic: p_above` needs `above:` (the value not to exceed)", "above")
        per_person = self.metric not in TRIAL_METRICS
        if per_person and self.metric != "pay_at_target" and self.statistic != "mean":
            raise invalid(
                f"`{self.metric}` is one figure per run; only `statistic: mean` applies",
                "statistic",
            )
        return self

    def describe(self) -> str:
        if self.statistic == "percentile":
            return f"P{self.percentile:g} {self.metric}"
        if self.statistic == "p_above":
            return f"P({self.metric} > {self.above:g})"
        if self.statistic == "median":
            return f"median {self.metric}"
        return f"mean {self.metric}" if self.metric in TRIAL_METRICS else self.metric


class Constraint(Statistic):
    """A limit on the simulated outcome of the tuned plan."""

    name: Identifier | None = None
    """A short name for tables and the report (default: what it measures)."""
    min: float | None = None
    """The figure must be at least this."""
    max: float | None = None
    """The figure must be at most this."""

    @model_validator(mode="after")
    def _some_limit(self) -> Constraint:
        if self.min is None and self.max is None:
            raise ValueError("give `min`, `max`, or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise invalid(f"`min` ({self.min:g}) is above `max` ({self.max:g})", "max")
        if self.statistic == "p_above":
            for bound in ("min", "max"):
                value = getattr(self, bound)
                if value is not None and not 0 <= value <= 1:
                    raise invalid(f"a probability is between 0 and 1 (got {value:g})", bound)
        return self

    @property
    def label(self) -> str:
        return self.name or self.describe()


class Objective(RuleModel):
    """What the search makes as large (or as small) as the constraints allow."""

    maximise: Metric | None = None
    """A metric to make as large as possible, e.g. `pay_slope`."""
    minimise: Metric | None = None
    """A metric to make as small as possible, e.g. `total_payout`."""
    statistic: Literal["mean", "median", "percentile"] = "mean"
    """Which figure of the metric (see constraints)."""
    percentile: float | None = Field(default=None, gt=0, lt=100)
    """The percentile for `statistic: percentile`."""
    band: float = Field(default=0.05, gt=0, le=0.5)
    """For `pay_at_target`: how near 100% attainment counts as at target."""

    @model_validator(mode="after")
    def _one(self) -> Objective:
        if (self.maximise is None) == (self.minimise is None):
            raise ValueError("give exactly one of `maximise` and `minimise`")
        if self.statistic == "percentile" and self.percentile is None:
            raise invalid("`statistic: percentile` needs `percentile:`", "percentile")
        return self

    @property
    def metric(self) -> Metric:
        return cast(Metric, self.maximise or self.minimise)  # `_one` made sure of one

    @property
    def sense(self) -> int:
        """+1 to maximise, -1 to minimise."""
        return 1 if self.maximise is not None else -1

    def as_statistic(self) -> Statistic:
        return Statistic(
            metric=self.metric,
            statistic=self.statistic,
            percentile=self.percentile,
            band=self.band,
        )


class Validation(RuleModel):
    """The independent re-simulation of the chosen plan."""

    trials: int | None = Field(default=None, ge=10, le=MAX_TRIALS)
    """Simulated years (default: twice the search's trials)."""
    seed: int | None = Field(default=None, ge=0, le=2**63 - 1)
    """Its seed (default: the design's seed + 1): draws independent of the search's."""
    confidence: float = Field(default=0.95, gt=0.5, lt=1)
    """The confidence of the intervals reported out of sample."""


class Search(RuleModel):
    """How the parameter box is searched."""

    method: Literal["auto", "bracket", "evolution"] = "auto"
    """`bracket` (one parameter: a grid refined around the best point, round by round);
    `evolution` (several: scipy's differential evolution, seeded, every generation
    simulated in one batch); `auto` picks `bracket` for one parameter."""
    max_evaluations: int = Field(default=600, ge=10, le=100_000)
    """The most candidate plans to simulate."""
    grid: int = Field(default=17, ge=3, le=257)
    """Points per round of `bracket` (bounds included)."""


@register_kind
class Design(RuleModel):
    """A plan-parameter search (`kind: design`)."""

    kind: Literal["design"] = "design"
    """Always `design`."""
    schema_version: Literal[1] = SCHEMA_VERSION
    """Version of the rule language this file is written in."""
    name: Identifier
    """The design's name (snake_case)."""
    description: str = ""
    """What the design asks, shown at the top of the report."""
    scenario: str
    """The scenario file (`kind: scenario`) that says what is simulated: the company,
    targets, performance model; relative to this file. Its variants and sensitivity
    settings are not used."""
    plan: str | None = None
    """Which of the scenario's plans to tune, by its `name` (default: the first); a
    package of plans paid together by its plans' names joined with `+`
    (`field_rep_marginal+cloud_overlay`), so its limits hold for what the package pays."""
    parameters: list[DesignParameter] = Field(min_length=1, max_length=12)
    """The plan's numbers to tune."""
    constraints: list[Constraint] = Field(default_factory=list, max_length=16)
    """Limits the tuned plan must meet in the simulation."""
    objective: Objective
    """What to make as large or as small as the constraints allow."""
    trials: int = Field(default=500, ge=10, le=MAX_TRIALS)
    """Simulated years every candidate is paid on (the same years for every candidate)."""
    seed: int = Field(default=7, ge=0, le=2**63 - 1)
    """The search's random seed: the same seed gives the same design, byte for byte."""
    validation: Validation = Field(default_factory=Validation)
    """The out-of-sample check of the chosen plan."""
    search: Search = Field(default_factory=Search)
    """How the box is searched."""
    conservative: bool = True
    """Meet each constraint at the validation's confidence on the search's draws — the
    unfavourable end of its interval, not only its estimate — so the chosen plan holds on
    independent draws about as often as that confidence says. `false` meets the estimates
    only (plain sample-average approximation: the plan lands on the limit and misses it
    out of sample about half the time)."""
    front: bool = False
    """Also write the front of cost against the objective (`front.csv`): the evaluated
    candidates that meet every constraint not on cost and that no other such candidate
    beats on both mean cost of sales and the objective."""

    def referenced_paths(self, base: Path) -> list[Path]:
        return [base / self.scenario]

    @field_validator("parameters")
    @classmethod
    def _distinct_paths(cls, parameters: list[DesignParameter]) -> list[DesignParameter]:
        seen: list[str] = []
        for i, p in enumerate(parameters):
            if p.path in seen:
                raise invalid(f"`{p.path}` is tuned twice", i, "path")
            if p.label in [q.label for q in parameters[:i]]:
                raise invalid(f"the name `{p.label}` is used twice", i, "name")
            seen.append(p.path)
        return parameters

"""The `scenario` kind: which plans to simulate, on which targets, under which assumptions.

A scenario names one or more incentive plans (compared side by side on the same
random draws), the targets they are measured against, the company data, a
performance model (how each rep's attainment is drawn), named what-if variants
run on the same draws, the number of trials, the seed and a budget to test
against. Paths are relative to the scenario file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from attain.schema.base import (
    SCHEMA_VERSION,
    Fraction,
    Identifier,
    PositiveAmount,
    RuleModel,
    check_product,
    invalid,
    register_kind,
)

__all__ = [
    "Budget",
    "PerformanceModel",
    "ProductRamp",
    "Scenario",
    "Sensitivity",
    "Shocks",
    "TargetSource",
    "TopPerformers",
    "Variant",
]

#: Trials above this are a typo; the per-trial figures of 10^6 trials already take MBs per plan.
MAX_TRIALS = 1_000_000


class TargetSource(RuleModel):
    """Where the targets come from: a targets file (or an allocation's output folder), or an
    allocation rule file to solve first."""

    file: str | None = None
    """A targets CSV/Parquet (`rep_id, period, product, target`), or an allocation output
    folder holding `targets.csv`."""
    allocation: str | None = None
    """An allocation rule file (`kind: allocation`); it is solved first and its targets used."""

    @model_validator(mode="after")
    def _one_of(self) -> TargetSource:
        if (self.file is None) == (self.allocation is None):
            raise ValueError("give exactly one of `file` or `allocation`")
        return self


class Shocks(RuleModel):
    """Correlated shocks: one draw per trial shared by everyone in the unit, as a standard
    deviation of attainment (0.05 moves a whole unit's attainment by about 5 points)."""

    company: float = Field(default=0.0, ge=0, le=2)
    """The market: one shock per trial for the whole company."""
    region: float = Field(default=0.0, ge=0, le=2)
    """One shock per trial and region (a regional downturn hits its reps together)."""
    team: float = Field(default=0.0, ge=0, le=2)
    """One shock per trial and team."""


class PerformanceModel(RuleModel):
    """How a rep's attainment (sales ÷ target over the year) is drawn in each trial."""

    distribution: Literal["normal", "lognormal", "beta", "bootstrap"] = "lognormal"
    """`normal`, `lognormal` or `beta` with the `mean` and `sd` below; `bootstrap` resamples
    each rep's own months of history (their month-to-month swings around their level)."""
    mean: float = Field(default=1.0, ge=0, le=10)
    """Mean attainment of an average rep (1.0 = 100% of target)."""
    sd: float = Field(default=0.15, ge=0, le=10)
    """Standard deviation of a rep's own attainment around their mean (0.15 = 15 points)."""
    upper: float = Field(default=3.0, gt=0, le=20)
    """`beta` only: the highest attainment possible (the beta lives on 0..upper)."""
    shocks: Shocks = Field(default_factory=Shocks)
    """Correlated shocks at company, region and team level, added to every draw."""
    bias_from_history: Fraction = 0.0
    """How much each rep's own record moves their mean: 0 ignores history; 1 moves a rep whose
    last twelve months ran 20% ahead of the typical rep (relative to target) 20% up."""
    seasonality: Literal["targets", "history"] = "targets"
    """How a year's sales spread over months: as the targets are phased, or as the company's
    history (average share of each calendar month)."""
    month_sd: float = Field(default=0.0, ge=0, le=2)
    """Extra month-to-month noise around the seasonal shape (0 keeps the shape exact)."""
    product_mix: Literal["targets", "history"] = "targets"
    """How a rep's sales split over products: as their targets do, or as their own history."""
    mix_sd: float = Field(default=0.0, ge=0, le=2)
    """Noise on the product mix (0 keeps the mix exact)."""

    @model_validator(mode="after")
    def _beta_fits(self) -> PerformanceModel:
        if self.distribution == "beta":
            if not 0 < self.mean < self.upper:
                raise ValueError("a beta needs 0 < mean < upper")
            if self.sd**2 >= self.mean * (self.upper - self.mean):
                raise ValueError(
                    f"sd {self.sd:g} is too wide for a beta with mean {self.mean:g} on "
                    f"0..{self.upper:g}; lower sd or raise upper"
                )
        if self.distribution == "lognormal" and self.mean == 0 and self.sd > 0:
            raise ValueError("a lognormal with mean 0 cannot have a spread")
        return self


class TopPerformers(RuleModel):
    """The best reps (by their expected attainment) overperform."""

    share: Fraction = 0.10
    """The share of reps affected: 0.10 is the top decile."""
    uplift: float = Field(ge=-1, le=10)
    """Their attainment rises by this fraction (0.2 = 20% more sales)."""


class ProductRamp(RuleModel):
    """A product that ramps up slower: its sales start at `start` of plan and reach the full
    level after `months` months, linearly."""

    product: str = Field(min_length=1)
    """The product (one of the company's)."""
    months: int = Field(ge=1, le=12)
    """Months until the product sells at its full level."""
    start: Fraction = 0.0
    """The share of its full level it sells in the first month."""

    @field_validator("product")
    @classmethod
    def _known(cls, product: str) -> str:
        return check_product(product)


class Variant(RuleModel):
    """A named what-if, run on the same draws as the base case."""

    name: Identifier
    """The variant's name (snake_case), as shown in the report."""
    description: str = ""
    """What the variant stands for."""
    market_growth: float = Field(default=0.0, ge=-1, le=10)
    """Everyone sells this fraction more (0.1) or less (-0.1) than in the base case."""
    top_performers: TopPerformers | None = None
    """The top reps overperform."""
    ramps: list[ProductRamp] = Field(default_factory=list)
    """Products that ramp up slower than planned."""

    @field_validator("name")
    @classmethod
    def _not_base(cls, name: str) -> str:
        if name == "base":
            raise ValueError("`base` is the name of the case without what-ifs; choose another")
        return name


class Budget(RuleModel):
    """What the plans may cost: a limit on cost of sales, or on the total payout."""

    cost_of_sales: Fraction | None = None
    """The most total payout may be as a share of revenue (0.08 = 8%)."""
    amount: float | None = Field(default=None, gt=0)
    """The most the total payout of the year may be, in the company's currency."""

    @model_validator(mode="after")
    def _some(self) -> Budget:
        if self.cost_of_sales is None and self.amount is None:
            raise ValueError("give `cost_of_sales`, `amount`, or both")
        return self


class Sensitivity(RuleModel):
    """The tornado table: each plan parameter and assumption moved down and up by `step`."""

    trials: int = Field(default=200, ge=10, le=100_000)
    """Trials per perturbed run (on the same draws as the first trials of the base run)."""
    step: float = Field(default=0.10, gt=0, le=1)
    """How far each parameter moves, as a fraction of its value (0.1 = ±10%)."""


@register_kind
class Scenario(RuleModel):
    """A Monte-Carlo scenario (`kind: scenario`): plans × targets × a performance model."""

    kind: Literal["scenario"] = "scenario"
    """Always `scenario`."""
    schema_version: Literal[1] = SCHEMA_VERSION
    """Version of the rule language this file is written in."""
    name: Identifier
    """The scenario's name (snake_case)."""
    description: str = ""
    """What the scenario asks, shown at the top of the report."""
    company: str
    """The company data folder (with `company.yaml`), relative to this file."""
    plans: list[str | list[str]] = Field(min_length=1, max_length=8)
    """Plan files (`kind: plan`) to simulate side by side; the first is the baseline that the
    others are compared with. An entry may be a list of two or more plan files: a package
    paid together (e.g. a rep plan plus a product overlay), simulated as one plan whose
    payout is the sum of its plans' and whose name joins theirs with `+`."""
    targets: TargetSource
    """Where the targets come from."""
    performance: PerformanceModel = Field(default_factory=PerformanceModel)
    """How attainment is drawn."""
    variants: list[Variant] = Field(default_factory=list, max_length=16)
    """Named what-ifs run on the same draws as the base case."""
    trials: int = Field(default=2000, ge=1, le=MAX_TRIALS)
    """Simulated years."""
    seed: int = Field(default=7, ge=0, le=2**63 - 1)
    """The random seed: the same seed gives the same results, byte for byte."""
    budget: Budget | None = None
    """The limit to test the plans against (probability of exceeding it)."""
    sensitivity: Sensitivity | None = Field(default_factory=Sensitivity)
    """The tornado table's settings; `null` skips it."""
    unit_prices: dict[str, PositiveAmount] = Field(default_factory=dict)
    """Currency per unit of a product, e.g. `{cloud: 450}`: a SPIFF paid per unit counts
    simulated sales ÷ this price. A product left out uses its average price in the actuals
    (booked amount ÷ booked quantity)."""

    @field_validator("plans")
    @classmethod
    def _distinct_plans(cls, plans: list[str | list[str]]) -> list[str | list[str]]:
        seen: list[str | frozenset[str]] = []
        for i, entry in enumerate(plans):
            if isinstance(entry, list):
                if len(entry) < 2:
                    raise invalid("a package needs at least two plan files", i)
                for j, plan in enumerate(entry):
                    if plan in entry[:j]:
                        raise invalid(f"plan file `{plan}` is listed twice in this package", i, j)
                key: str | frozenset[str] = frozenset(entry)
                if key in seen:
                    raise invalid("this package of plans is listed twice", i)
            else:
                key = entry
                if key in seen:
                    raise invalid(f"plan file `{entry}` is listed twice", i)
            seen.append(key)
        return plans

    @field_validator("unit_prices")
    @classmethod
    def _priced_products(cls, prices: dict[str, float]) -> dict[str, float]:
        for name in prices:
            check_product(name, name)
        return prices

    @field_validator("variants")
    @classmethod
    def _distinct_variants(cls, variants: list[Variant]) -> list[Variant]:
        names = [v.name for v in variants]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise invalid(f"variant name `{name}` is used twice", i, "name")
        return variants

    def plan_entries(self) -> list[tuple[str, ...]]:
        """Each entry of `plans` as a tuple of plan files: one file, or a package's files."""
        return [tuple(e) if isinstance(e, list) else (e,) for e in self.plans]

    def referenced_paths(self, base: Path) -> list[Path]:
        """The company folder, the plan files (every file of a package) and the targets
        source, resolved against ``base``."""
        files = dict.fromkeys(f for entry in self.plan_entries() for f in entry)
        paths = [base / self.company, *(base / p for p in files)]
        source = self.targets.file or self.targets.allocation
        if source is not None:  # one of the two is required
            paths.append(base / source)
        return paths

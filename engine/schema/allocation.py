"""The `allocation` kind: how a company target is decomposed into rep × month × product targets.

Every rule is a list item with a `type`; each type is its own model, joined
in a discriminated union, so an unknown type says what it expected. Any rule
can be `soft` (bent as little as possible, by `priority`, or at a `penalty`).
Shares, rates and growth are fractions: 0.40 means 40%.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from attain.schema.activity import Activities
from attain.schema.base import (
    KNOWN_ORG,
    SCHEMA_VERSION,
    Fraction,
    Identifier,
    Money,
    MoneyOrZero,
    RuleModel,
    _percent_text,
    invalid,
    register_kind,
)
from attain.schema.expense import ExpenseBudget
from attain.schema.where import (
    Level,
    Range,
    Where,
    known_level,
    known_product,
    known_where,
    unknown,
)

__all__ = [
    "AllocationRules",
    "BoundsRule",
    "CapacityRule",
    "Challenge",
    "CompanyTarget",
    "FairShare",
    "GrowthRule",
    "MixRule",
    "RampRule",
    "RampStep",
    "Range",
    "Relief",
    "Replan",
    "Rounding",
    "Rule",
    "Seasonality",
    "ShareRule",
    "Checkpoint",
]

#: Growth versus last year as a fraction: -0.10 is a 10% decline, 0.25 a 25% rise.
Growth = Annotated[float, BeforeValidator(_percent_text), Field(ge=-1, le=10)]
Amount = MoneyOrZero
OBJECTIVE_TERMS = ("minimax", "l1", "last_year")


class SoftMixin(RuleModel):
    """Fields every rule shares."""

    name: Identifier | None = None
    """The rule's name in results and conflicts; defaults to `<type>_<position>`."""
    level: Level = "rep"
    """The org level the rule applies to: `rep`, a hierarchy level (`team`, `region`) or
    `company`."""
    where: Where | None = None
    """Only the units whose data columns match: `{region: East}`, `{role: [rep, senior_rep]}`,
    `{tenure_months: {min: 12}}`. All units of the level without it."""
    soft: bool = False
    """A soft rule may be bent when the hard rules leave no other way; the result says by how
    much."""
    priority: int | None = Field(default=None, ge=1, le=99)
    """For soft rules: 1 is kept first. Soft rules are bent in priority order, lexicographically,
    before fairness is optimised."""
    penalty: float | None = Field(default=None, gt=0)
    """For soft rules instead of a priority: cost of bending the rule by 100% of the company
    target, in the units of the first objective (a relative fairness gap)."""

    @field_validator("level")
    @classmethod
    def _level_exists(cls, level: str) -> str:
        return known_level(level)

    @field_validator("where")
    @classmethod
    def _where_exists(cls, where: Where | None) -> Where | None:
        return known_where(where)

    @field_validator("product", check_fields=False)
    @classmethod
    def _product_exists(cls, product: str | None) -> str | None:
        return known_product(product)

    @model_validator(mode="after")
    def _soft_fields(self) -> SoftMixin:
        if not self.soft and (self.priority is not None or self.penalty is not None):
            raise ValueError("`priority` and `penalty` apply to soft rules: add `soft: true`")
        if self.priority is not None and self.penalty is not None:
            raise ValueError("give a soft rule a `priority` or a `penalty`, not both")
        return self


class ShareRule(SoftMixin):
    """A unit's share of its level's total: `East at least 40%`."""

    type: Literal["share"] = "share"
    """Always `share`."""
    min: Fraction | None = None
    """Smallest share of the level total."""
    max: Fraction | None = None
    """Largest share of the level total."""
    value: Fraction | None = None
    """A fixed share (instead of min/max)."""

    @model_validator(mode="after")
    def _bounds(self) -> ShareRule:
        _check_bounds(self.min, self.max, self.value)
        if self.level in ("rep", "company"):
            raise ValueError("share rules apply to a hierarchy level such as `region` or `team`")
        return self


class GrowthRule(SoftMixin):
    """Growth of each unit's target versus its sales in the last 12 months of history."""

    type: Literal["growth"] = "growth"
    """Always `growth`."""
    min: Growth | None = None
    """Floor: -0.05 lets a target fall at most 5% below last year."""
    max: Growth | None = None
    """Cap: 0.25 keeps a target at most 25% above last year."""
    product: str | None = None
    """Apply to one product's target and history instead of the unit's total."""

    @model_validator(mode="after")
    def _bounds(self) -> GrowthRule:
        _check_bounds(self.min, self.max, None)
        return self


class CapacityRule(SoftMixin):
    """The most a unit can sell: the org table's `capacity`, an amount, or per head."""

    type: Literal["capacity"] = "capacity"
    """Always `capacity`."""
    per_head: Money | None = None
    """Productivity per head: a team's capacity is this × its headcount."""
    amount: Money | None = None
    """A fixed capacity for each selected unit."""
    scale: Annotated[float, Field(gt=0, le=1000)] = 1.0
    """Multiplies the org table's capacity (1.0 = as given); used when neither amount nor
    per_head is set."""

    @model_validator(mode="after")
    def _one_source(self) -> CapacityRule:
        if self.per_head is not None and self.amount is not None:
            raise ValueError("give `per_head` or `amount`, not both")
        return self


class BoundsRule(SoftMixin):
    """Absolute minimum and maximum target of each selected unit."""

    type: Literal["bounds"] = "bounds"
    """Always `bounds`."""
    min: Amount | None = None
    """Smallest target (currency)."""
    max: Amount | None = None
    """Largest target (currency)."""
    product: str | None = None
    """Bound one product's target instead of the unit's total."""

    @model_validator(mode="after")
    def _bounds(self) -> BoundsRule:
        if self.min is None and self.max is None:
            raise ValueError("give `min`, `max` or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is above max ({self.max:g})")
        return self


class MixRule(SoftMixin):
    """A product's share within each unit's total, or a company-wide minimum for a product."""

    type: Literal["mix"] = "mix"
    """Always `mix`."""
    product: str
    """The product line."""
    min: Fraction | None = None
    """Smallest share of the unit's total."""
    max: Fraction | None = None
    """Largest share of the unit's total."""
    min_amount: Amount | None = None
    """Smallest amount of the product (currency), per unit."""

    @model_validator(mode="after")
    def _bounds(self) -> MixRule:
        if self.min is None and self.max is None and self.min_amount is None:
            raise ValueError("give `min`, `max` or `min_amount`")
        _check_bounds(self.min, self.max, None, allow_empty=True)
        return self


class RampStep(RuleModel):
    """One step of a new-hire ramp."""

    tenure_below: int = Field(ge=1, le=600)
    """Applies in months where the rep's tenure is below this many months."""
    share: Fraction
    """Share of a full (fair-share) monthly target in those months."""


class RampRule(SoftMixin):
    """New hires carry a reduced target while they ramp up, month by month of tenure."""

    type: Literal["ramp"] = "ramp"
    """Always `ramp`."""
    steps: list[RampStep] = Field(min_length=1)
    """Steps by increasing `tenure_below`; tenure grows by one each month of the plan year."""

    @field_validator("steps")
    @classmethod
    def _increasing(cls, steps: list[RampStep]) -> list[RampStep]:
        for i, (a, b) in enumerate(zip(steps, steps[1:], strict=False)):
            if b.tenure_below <= a.tenure_below:
                raise invalid("steps must be listed by increasing `tenure_below`", i + 1)
            if b.share < a.share:
                raise invalid("a ramp's share cannot fall as tenure grows", i + 1, "share")
        return steps

    @model_validator(mode="after")
    def _rep_level(self) -> RampRule:
        if self.level != "rep":
            raise ValueError("a ramp applies to reps (`level: rep`)")
        return self


Rule = Annotated[
    ShareRule | GrowthRule | CapacityRule | BoundsRule | MixRule | RampRule,
    Field(discriminator="type"),
]


class CompanyTarget(RuleModel):
    """The yearly company target: a total, or one per product."""

    total: Money | None = None
    """The whole company's target (currency)."""
    by_product: dict[str, Money] | None = None
    """One target per product; the total is their sum."""
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    """ISO code; must match the company's currency when given."""

    @field_validator("by_product")
    @classmethod
    def _products_exist(cls, by_product: dict[str, float] | None) -> dict[str, float] | None:
        org = KNOWN_ORG.get()
        for name in by_product or {}:
            error = org.product_error(name) if org is not None else None
            if error:
                raise unknown(error, name)
        return by_product

    @model_validator(mode="after")
    def _one(self) -> CompanyTarget:
        if (self.total is None) == (self.by_product is None):
            raise ValueError("give the company target as `total` or as `by_product`, not both")
        return self

    @property
    def amount(self) -> float:
        return self.total if self.total is not None else sum((self.by_product or {}).values())


class FairShare(RuleModel):
    """What a fair target is proportional to."""

    basis: Literal["potential", "last_year", "blend"] = "potential"
    """`potential` (market potential from the accounts), `last_year` (sales in the last 12
    months of history) or `blend` of the two."""
    potential_weight: Fraction = 0.6
    """For `blend`: weight of potential; last year gets the rest (0.6 → 60/40)."""


class Checkpoint(RuleModel):
    """A quarter's share of the year's target."""

    quarter: int = Field(ge=1, le=4)
    """Fiscal quarter, 1–4."""
    min: Fraction | None = None
    """Smallest share of the year in this quarter."""
    max: Fraction | None = None
    """Largest share of the year in this quarter."""


class Seasonality(RuleModel):
    """How each year's target is split by month, and the periods the targets are reported in."""

    source: Literal["history", "given", "flat"] = "history"
    """`history`: each product's monthly shares over the last 12 months; `given`: `profile`;
    `flat`: equal months."""
    profile: list[Fraction] | None = None
    """For `given`: 12 monthly shares from the first fiscal month, adding up to 1."""
    tolerance: Fraction = 0.0
    """How far a month's share may move from the profile (0.01 = ±1 point) to meet
    checkpoints."""
    checkpoints: list[Checkpoint] = Field(default_factory=list)
    """Optional quarter checkpoints."""
    granularity: Literal["month", "quarter", "week"] = "month"
    """The periods of `targets.csv` and the target cards: `month` (`YYYY-MM`); `quarter`
    (fiscal `YYYY-Qn`, each the exact sum of its three rounded months); `week` (`YYYY-MM-W1`
    … `W5`: days 1–7, 8–14, 15–21, 22–28, 29–end of each month, each rounded month split by
    its weeks' share of the month's days, by largest remainders, adding up to the month)."""

    @model_validator(mode="after")
    def _profile(self) -> Seasonality:
        if (self.source == "given") != (self.profile is not None):
            raise ValueError("`profile` is given exactly when `source: given`")
        if self.profile is not None:
            if len(self.profile) != 12:
                raise ValueError(f"a profile has 12 monthly shares (got {len(self.profile)})")
            if abs(sum(self.profile) - 1) > 1e-6:
                raise ValueError(f"profile shares must add up to 1 (got {sum(self.profile):g})")
        return self


class Rounding(RuleModel):
    """Targets are whole multiples of a unit; every roll-up still adds up exactly."""

    unit: Money = 1000.0
    """E.g. 1000 rounds to thousands; each rep × month × product cell is a multiple."""


class Challenge(RuleModel):
    """The challenge (stretch) target: the base target raised by a stretch."""

    stretch: Growth = 0.0
    """Uniform stretch: 0.10 makes every challenge target 10% above base."""
    by_tier: dict[str, Growth] | None = None
    """Stretch by account tier, weighted by each rep's potential in that tier:
    `{A: 0.15, B: 0.10, C: 0.05}`."""


#: A fiscal month as targets name it: `2027-07`.
Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


class Relief(RuleModel):
    """Quota relief for a re-plan: part of one rep's target taken off in some months (a
    leave, accounts handed to another rep), by a share or an amount of each month's
    previous target. Only months from the re-plan month on can be relieved."""

    rep_id: str = Field(min_length=1)
    """The rep relieved."""
    months: list[Month] = Field(min_length=1)
    """The months relieved, as `YYYY-MM`."""
    share: Fraction | None = None
    """Share of each month's previous target taken off: 1 relieves the whole month."""
    amount: Money | None = None
    """Amount taken off each month (at most the month's previous target)."""
    reason: str = Field(min_length=1)
    """Why, in words: shown in the re-plan's explanation (`replan.csv`)."""
    to: Literal["drop", "team"] = "drop"
    """`drop`: the company total falls by the relief; `team`: the rep's team makes it up
    (its year total is held)."""

    @model_validator(mode="after")
    def _one_measure(self) -> Relief:
        if (self.share is None) == (self.amount is None):
            raise ValueError("give `share` or `amount`, not both and not neither")
        if len(set(self.months)) != len(self.months):
            raise ValueError("a month is listed twice")
        return self


class Replan(RuleModel):
    """How a re-plan (`attain allocate --replan-from MONTH`) treats the rest of the year.

    Months before the re-plan month keep their previous targets exactly; the rest of the
    year is solved again by the same rules for what remains of the company target."""

    leavers: Literal["team", "open_headcount", "drop"] = "team"
    """A leaver's previous target for the months after they leave: `team` — their team
    makes it up (the team's year total is held); `open_headcount` — the open headcount of
    their team takes it on; `drop` — the company total falls by it."""
    relief: list[Relief] = Field(default_factory=list)
    """Declared quota relief, rep by rep."""


ObjectiveLevel = str | dict[str, Annotated[float, Field(gt=0)]]
_DEFAULT_OBJECTIVE: list[ObjectiveLevel] = ["minimax", "l1"]


@register_kind
class AllocationRules(RuleModel):
    """A yearly target allocation: the target, the hierarchy's buffers, the rules, the goal."""

    kind: Literal["allocation"] = "allocation"
    """Always `allocation`."""
    schema_version: Literal[1] = SCHEMA_VERSION
    """Version of the rule language this file is written in."""
    name: str = Field(default="allocation", min_length=1)
    """Shown in results."""
    company_target: CompanyTarget
    """The yearly target to decompose."""
    buffer: dict[str, Annotated[float, Field(ge=0.5, le=2)]] = Field(default_factory=dict)
    """Over-assignment per level: `{region: 1.00, team: 1.03, rep: 1.05}` makes the reps'
    targets add up to 105% of the company target. Levels not named use 1.00."""
    participants: Where | None = None
    """Which people of the org table carry targets; default: everyone whose role is not
    `manager`."""
    fair_share: FairShare = Field(default_factory=FairShare)
    """The basis of a fair target."""
    seasonality: Seasonality = Field(default_factory=Seasonality)
    """The split by month (seasonality), and the periods targets are reported by."""
    rounding: Rounding | None = None
    """Round targets to a unit; without it targets are rounded to the currency's minor unit."""
    challenge: Challenge = Field(default_factory=Challenge)
    """The challenge (stretch) target above the base target."""
    rules: list[Rule] = Field(default_factory=list)
    """The rules, hard unless `soft: true`."""
    objective: list[ObjectiveLevel] = Field(default_factory=lambda: _DEFAULT_OBJECTIVE.copy())
    """Lexicographic goals after soft rules: each item is a term (`minimax`: the worst relative
    gap to fair share; `l1`: the mean relative gap; `last_year`: the mean relative gap to
    last year's sales, scaled) or a weighted mix `{l1: 1, last_year: 0.2}`."""
    method: Literal["auto", "staged", "monolithic"] = "auto"
    """`staged` solves rep totals first, then each rep's months locally; `monolithic` solves
    every cell in one model (small companies only); `auto` = staged."""
    replan: Replan = Field(default_factory=Replan)
    """Leavers and quota relief when the year is re-planned from a month."""
    expenses: ExpenseBudget | None = None
    """Sales expense budgets allocated with the targets (a rate of the target or a fixed
    total), each unit within its level's highest expense rate."""
    activities: Activities | None = None
    """Weekly activity targets per rep (visits, opportunities, deals …) from the revenue
    target through declared conversion rates."""

    @field_validator("buffer")
    @classmethod
    def _levels_exist(cls, buffer: dict[str, float]) -> dict[str, float]:
        for level in buffer:
            try:
                known_level(level)
            except PydanticCustomError as exc:
                raise unknown(exc.message_template, level) from None
        return buffer

    @field_validator("participants")
    @classmethod
    def _participants_exist(cls, where: Where | None) -> Where | None:
        return known_where(where)

    @field_validator("objective")
    @classmethod
    def _known_terms(cls, levels: list[ObjectiveLevel]) -> list[ObjectiveLevel]:
        if not levels:
            raise ValueError("give at least one objective")
        for level in levels:
            names = [level] if isinstance(level, str) else list(level)
            for name in names:
                if name not in OBJECTIVE_TERMS:
                    raise ValueError(
                        f"unknown objective `{name}`; expected one of: {', '.join(OBJECTIVE_TERMS)}"
                    )
            if isinstance(level, dict) and not level:
                raise ValueError("a weighted objective needs at least one term")
        return levels

    @model_validator(mode="after")
    def _unique_names(self) -> AllocationRules:
        seen: set[str] = set()
        for i, rule in enumerate(self.rules):
            name = rule.name or f"{rule.type}_{i + 1}"
            if name in seen:
                raise invalid(
                    f"two rules are named `{name}`; rule names must be unique", "rules", i, "name"
                )
            seen.add(name)
        return self

    @model_validator(mode="after")
    def _rounding_reaches(self) -> AllocationRules:
        """A unit so coarse that a level's whole target rounds to 0 rounds every target
        to 0: refused here, where the unit is written."""
        if self.rounding is None:
            return self
        smallest = self.company_target.amount * min([1.0, *self.buffer.values()])
        unit = self.rounding.unit
        if smallest / unit < 0.5:
            raise PydanticCustomError(
                "degenerate-rounding",
                f"the rounding unit {unit:,.0f} is more than twice the smallest level total "
                f"({smallest:,.0f}): every target would round to 0",
                {"at": ("rounding", "unit")},
            )
        return self

    @model_validator(mode="after")
    def _expense_total_within_rate(self) -> AllocationRules:
        spend = self.expenses
        cap = spend.max_rate.get("company") if spend is not None else None
        if spend is None or spend.total is None or cap is None:
            return self
        most = cap * self.company_target.amount
        if spend.total > most * (1 + 1e-12):
            raise PydanticCustomError(
                "expense-rate-above-max",
                f"the expense budget {spend.total:,.2f} is {spend.total / self.company_target.amount:.2%} "
                f"of the company target, above the company's max_rate {cap:.2%} ({most:,.2f})",
                {"at": ("expenses", "total")},
            )
        return self

    def rule_names(self) -> list[str]:
        return [rule.name or f"{rule.type}_{i + 1}" for i, rule in enumerate(self.rules)]


def _check_bounds(
    lo: float | None, hi: float | None, value: float | None, allow_empty: bool = False
) -> None:
    if value is not None and (lo is not None or hi is not None):
        raise ValueError("give `value`, or `min`/`max`, not both")
    if lo is None and hi is None and value is None and not allow_empty:
        raise ValueError("give `min`, `max` or both")
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"min ({lo:g}) is above max ({hi:g})")

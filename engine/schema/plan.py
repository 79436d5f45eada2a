"""The `plan` kind: an incentive compensation plan, declared.

A plan says who takes part, how deals are credited, how periods are measured
(per period, or year-to-date with true-ups) and which components pay. Every
semantic check (tiers that overlap or leave gaps, a cap below what the
threshold pays, shares that do not add up to 100%, an unknown product) is a
validator here, so a bad plan fails at load with a located error.

Products are checked against the list in :data:`KNOWN_PRODUCTS` when one is
set (``attain.incentive.load_plan`` sets it from the company the plan names or
is loaded with); a plan validated on its own checks product names only for
spelling.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from attain.schema.base import (
    KNOWN_PRODUCTS,
    SCHEMA_VERSION,
    Fraction,
    Identifier,
    RuleModel,
    _percent_text,
    check_product,
    invalid,
    known_products,
    register_kind,
)

__all__ = [
    "KNOWN_PRODUCTS",
    "AttainmentCurve",
    "BaseFloor",
    "Cap",
    "Clawback",
    "ClawbackWindow",
    "Commission",
    "Component",
    "CreditRules",
    "CurvePoint",
    "Draw",
    "DrawRecovery",
    "Gate",
    "Holdback",
    "Kpi",
    "KpiPoint",
    "Modifier",
    "Participants",
    "Penalty",
    "Plan",
    "Rounding",
    "Spiff",
    "Step",
    "StepBonus",
    "TargetIncentive",
    "TeamPool",
    "TerminationClawback",
    "Tier",
    "known_products",
]

#: A rate or multiple that may exceed 100% (an accelerator of 2.5x): "150%" or 1.5.
Multiple = Annotated[float, BeforeValidator(_percent_text), Field(ge=0, le=1000)]
#: A non-negative amount of money in the plan's currency.
Money = Annotated[float, Field(ge=0)]
#: Attainment as a fraction of target: 1.0 is 100%.
Attainment = Annotated[float, BeforeValidator(_percent_text), Field(ge=0, le=1000)]


def _check_products(products: list[str] | None) -> list[str] | None:
    if products is None:
        return None
    if not products:
        raise ValueError("list at least one product, or leave the key out for all products")
    for i, p in enumerate(products):
        if p in products[:i]:
            raise invalid(f"product `{p}` is listed twice", i)
    for i, p in enumerate(products):
        check_product(p, i)
    return products


Products = Annotated[list[str] | None, Field(default=None)]


class _Measured(RuleModel):
    """Fields every component shares: its name and the products it measures."""

    name: Identifier
    """The component's name, as it appears in payouts.csv and statements (snake_case)."""
    label: str | None = None
    """A readable title for statements; defaults to the name."""
    products: Products
    """The products whose credit and targets this component measures; all products if absent."""
    roles: list[str] | None = None
    """The participants' roles this component pays (e.g. an override only for `manager`);
    every participant if absent."""

    @field_validator("products")
    @classmethod
    def _products_known(cls, value: list[str] | None) -> list[str] | None:
        return _check_products(value)


class Cap(RuleModel):
    """A ceiling on an amount: a fixed sum, or a multiple of the target incentive."""

    amount: Money | None = None
    """The most the amount may reach, in the plan's currency, per measurement window
    (per period, or year-to-date when the plan measures year-to-date)."""
    multiple_of_ti: Multiple | None = None
    """The most the amount may reach as a multiple of the target incentive of the
    measurement window (2.0 caps at twice the target incentive)."""

    @model_validator(mode="after")
    def _one_of(self) -> Cap:
        if (self.amount is None) == (self.multiple_of_ti is None):
            raise ValueError("give exactly one of `amount` or `multiple_of_ti`")
        return self


class Gate(RuleModel):
    """A condition on another measure: e.g. analytics at >= 80% of its target."""

    products: Products
    """The products whose attainment is tested; all products if absent."""
    min_attainment: Attainment
    """The attainment (credit / target over the measurement window) that must be reached."""
    applies_to: Literal["component", "accelerator"] = "component"
    """`component`: nothing pays unless the gate holds. `accelerator`: the component pays
    at most what it would pay at 100% attainment unless the gate holds."""

    @field_validator("products")
    @classmethod
    def _products_known(cls, value: list[str] | None) -> list[str] | None:
        return _check_products(value)


class Tier(RuleModel):
    """One band of a tier table: from `start` up to `end`, paid at `rate`."""

    start: float = Field(ge=0)
    """Where the band starts: an amount (basis `amount`) or an attainment (basis `attainment`)."""
    end: float | None = None
    """Where the band ends; the last tier has no end."""
    rate: Multiple
    """The commission rate as a fraction of the amount paid on: 0.08 (or "8%")."""


def _num(value: float) -> str:
    return format(value, ",.12g")


def _check_tiers(tiers: list[Tier]) -> list[Tier]:
    if tiers[0].start != 0:
        raise invalid(
            f"the first tier must start at 0 (it starts at {_num(tiers[0].start)})", 0, "start"
        )
    for i, (tier, nxt) in enumerate(zip(tiers, tiers[1:], strict=False)):
        if tier.end is None:
            raise invalid(f"tier {i + 1} has no `end` but is not the last tier", i)
        if tier.end <= tier.start:
            raise invalid(f"tier {i + 1} ends at {_num(tier.end)}, not after its start", i, "end")
        if nxt.start < tier.end:
            raise invalid(
                f"tiers {i + 1} and {i + 2} overlap: tier {i + 2} starts at {_num(nxt.start)} "
                f"but tier {i + 1} ends at {_num(tier.end)}",
                i + 1,
                "start",
            )
        if nxt.start > tier.end:
            raise invalid(
                f"tiers {i + 1} and {i + 2} leave a gap: tier {i + 2} starts at {_num(nxt.start)} "
                f"but tier {i + 1} ends at {_num(tier.end)}",
                i + 1,
                "start",
            )
    if tiers[-1].end is not None:
        raise invalid(
            "the last tier must be open-ended (no `end`) so every amount has a rate",
            len(tiers) - 1,
            "end",
        )
    return tiers


class BaseFloor(RuleModel):
    """A floor on the amount commission is paid on."""

    amount: Money = 0.0
    """The floor, in the plan's currency (0: a net-negative base pays nothing rather than
    creating a debt)."""
    mode: Literal["threshold", "deductible"] = "threshold"
    """`threshold`: a base below the floor pays nothing, one at or above it pays in full.
    `deductible`: only the part of the base above the floor counts."""


class Commission(_Measured):
    """Tiered commission on credited sales."""

    type: Literal["commission"] = "commission"
    """Always `commission`."""
    method: Literal["marginal", "retroactive", "interpolated"] = "marginal"
    """`marginal`: each slice at its own tier's rate (8% to 1M, 10% on the part above).
    `retroactive`: the whole amount at the rate of the tier reached. `interpolated`: the
    rate moves linearly from one tier's rate to the next across the band."""
    basis: Literal["amount", "attainment"] = "amount"
    """Whether tier starts and ends are amounts of money or attainments (1.0 = 100% of target)."""
    scope: Literal["period", "deal", "cumulative"] = "period"
    """What the tiers apply to: `period` (the window's total, default), `deal` (each deal
    alone), or `cumulative` (each deal lands on top of the year-to-date position, so earlier
    deals keep the rate they earned)."""
    boundary: Literal["upper", "lower"] = "upper"
    """Where a value exactly at a tier edge falls: `upper` (default: 1,000,000 with a tier
    edge at 1,000,000 earns the upper tier's rate) or `lower`."""
    select_on: Literal["net", "gross"] = "net"
    """The measure that selects the tier: `net` (bookings minus cancellations) or `gross`."""
    paid_on: Literal["net", "gross"] = "net"
    """The measure the rate is paid on."""
    split: Literal["proportional", "edges"] = "proportional"
    """Marginal tiers when `select_on` and `paid_on` differ (or tiers are on attainment):
    `proportional` (default, as before this key existed) splits the paid measure across
    the tiers in the proportions the selecting measure fills them (the paid measure at
    the selecting measure's average rate); `edges` slices the paid measure itself at the
    tier edges, each slice at its tier's rate but no higher than the rate of the tier the
    selecting measure reached."""
    tiers: list[Tier] = Field(min_length=1)
    """The tier table, starting at 0, contiguous, the last one open-ended."""
    gate: Gate | None = None
    """A condition the component (or its accelerator) needs."""
    cap: Cap | None = None
    """A ceiling on what the component pays per measurement window."""
    base_floor: BaseFloor | None = None
    """A floor on the base (the selecting and the paid measure): per measurement window
    with scope `period`, per deal with scope `deal` (a cancellation re-prices its deal
    against it); not with scope `cumulative`."""

    @field_validator("tiers")
    @classmethod
    def _tiers_contiguous(cls, tiers: list[Tier]) -> list[Tier]:
        return _check_tiers(tiers)

    @model_validator(mode="after")
    def _scope_fits(self) -> Commission:
        if self.scope != "period" and self.basis == "attainment":
            raise ValueError("tiers on attainment need scope `period` (a deal has no target)")
        if self.scope != "period" and self.gate and self.gate.applies_to == "accelerator":
            raise ValueError("a gate on the accelerator needs scope `period`")
        if self.split == "edges" and self.method != "marginal":
            raise ValueError(
                "`split` chooses how marginal tiers pay; retroactive and interpolated tiers "
                "pay the paid measure at the selected rate"
            )
        if self.scope == "cumulative" and self.base_floor is not None:
            raise ValueError(
                "a base floor applies per window (scope `period`) or per deal (scope `deal`), "
                "not to a running position (scope `cumulative`)"
            )
        return self


class CurvePoint(RuleModel):
    """One point of an attainment curve."""

    attainment: Attainment
    """Attainment (1.0 = 100% of target)."""
    payout: Multiple
    """What is paid at that attainment, as a multiple of the component's target incentive."""


class AttainmentCurve(_Measured):
    """A bonus that follows a piecewise-linear curve through declared points."""

    type: Literal["attainment_curve"] = "attainment_curve"
    """Always `attainment_curve`."""
    weight: Fraction = 1.0
    """The share of the target incentive this component carries (0.6 = 60%)."""
    points: list[CurvePoint] = Field(min_length=2)
    """The curve: attainments strictly increasing, payouts never decreasing. Below the first
    point nothing pays (the threshold); above the last point the payout stays flat. Steeper
    segments above 1.0 are accelerators, flatter ones decelerators."""
    gate: Gate | None = None
    """A condition the component (or its accelerator above 100%) needs."""
    cap: Cap | None = None
    """A ceiling on what the component pays per measurement window."""

    @field_validator("points")
    @classmethod
    def _points_rise(cls, points: list[CurvePoint]) -> list[CurvePoint]:
        for i, (a, b) in enumerate(zip(points, points[1:], strict=False)):
            if b.attainment <= a.attainment:
                raise invalid(
                    f"point {i + 2} has attainment {b.attainment:g}, not above point {i + 1}'s "
                    f"{a.attainment:g}",
                    i + 1,
                    "attainment",
                )
            if b.payout < a.payout:
                raise invalid(
                    f"point {i + 2} pays {b.payout:g}, less than point {i + 1}'s {a.payout:g}",
                    i + 1,
                    "payout",
                )
        return points

    @model_validator(mode="after")
    def _cap_above_threshold(self) -> AttainmentCurve:
        if self.cap is not None and self.cap.multiple_of_ti is not None:
            at_threshold = self.points[0].payout * self.weight
            if self.cap.multiple_of_ti < at_threshold:
                raise ValueError(
                    f"the cap ({self.cap.multiple_of_ti:g}x target incentive) is below what the "
                    f"threshold pays ({at_threshold:g}x)"
                )
        return self


class Step(RuleModel):
    """One step of a step bonus."""

    attainment: Attainment
    """The attainment that earns this step."""
    amount: Money | None = None
    """The bonus in the plan's currency."""
    share_of_ti: Multiple | None = None
    """The bonus as a share of the window's target incentive."""

    @model_validator(mode="after")
    def _one_of(self) -> Step:
        if (self.amount is None) == (self.share_of_ti is None):
            raise ValueError("give exactly one of `amount` or `share_of_ti`")
        return self


class StepBonus(_Measured):
    """Kickers: a fixed bonus at attainment levels; the highest step reached pays."""

    type: Literal["step_bonus"] = "step_bonus"
    """Always `step_bonus`."""
    steps: list[Step] = Field(min_length=1)
    """The steps, attainment strictly increasing."""
    gate: Gate | None = None
    """A condition the bonus needs."""

    @field_validator("steps")
    @classmethod
    def _rise(cls, steps: list[Step]) -> list[Step]:
        for i, (a, b) in enumerate(zip(steps, steps[1:], strict=False)):
            if b.attainment <= a.attainment:
                raise invalid(
                    f"step {i + 2}'s attainment is not above step {i + 1}'s", i + 1, "attainment"
                )
        return steps


class Penalty(_Measured):
    """A reduction when attainment falls below a level."""

    type: Literal["penalty"] = "penalty"
    """Always `penalty`."""
    below: Attainment
    """The attainment under which the penalty applies."""
    amount: Money | None = None
    """The reduction in the plan's currency."""
    share_of_ti: Multiple | None = None
    """The reduction as a share of the window's target incentive."""

    @model_validator(mode="after")
    def _one_of(self) -> Penalty:
        if (self.amount is None) == (self.share_of_ti is None):
            raise ValueError("give exactly one of `amount` or `share_of_ti`")
        return self


class Spiff(_Measured):
    """A one-off contest: a fixed amount per unit of a product sold in a date window."""

    type: Literal["spiff"] = "spiff"
    """Always `spiff`."""
    start: dt.date
    """First day deals count (`YYYY-MM-DD`)."""
    end: dt.date
    """Last day deals count."""
    per_unit: Money
    """Paid per unit (`quantity` of the deal × the rep's split); a cancellation takes it back."""

    @model_validator(mode="after")
    def _window(self) -> Spiff:
        if self.end < self.start:
            raise ValueError(f"the window ends ({self.end}) before it starts ({self.start})")
        return self


class TeamPool(_Measured):
    """A pool paid to a team's members when the team reaches its target."""

    type: Literal["team_pool"] = "team_pool"
    """Always `team_pool`."""
    level: Identifier = "team"
    """The org level that forms the team (a hierarchy column, e.g. `team` or `region`)."""
    team_threshold: Attainment = 1.0
    """The team's attainment (team credit / team target) the pool needs."""
    per_member: Money | None = None
    """Funding: this amount per team member (per period of the plan)."""
    share_of_sales: Fraction | None = None
    """Funding: this share of the team's credited sales in the window."""
    fixed: Money | None = None
    """Funding: a fixed pot per team (per period of the plan)."""
    split: Literal["equal", "pro_rata", "shares"] = "equal"
    """How the pool is shared among eligible members: equally, in proportion to each one's
    credit, or by `shares` per role (then equally within the role)."""
    shares: dict[str, Fraction] | None = None
    """With `split: shares`: each role's share of the pool; must add up to 1."""
    min_attainment: Attainment = 0.0
    """The individual gate: a member shares in the pool only at this attainment or above;
    the others' part is shared among the eligible members."""

    @model_validator(mode="after")
    def _funding(self) -> TeamPool:
        funded = [
            f for f in ("per_member", "share_of_sales", "fixed") if getattr(self, f) is not None
        ]
        if len(funded) != 1:
            raise ValueError("give exactly one funding: `per_member`, `share_of_sales` or `fixed`")
        if self.split == "shares":
            if not self.shares:
                raise ValueError("`split: shares` needs `shares`, e.g. {manager: 0.2, rep: 0.8}")
            total = sum(self.shares.values())
            if abs(total - 1) > 1e-9:
                raise ValueError(f"the shares must add up to 100% (they add up to {total:.4g})")
        elif self.shares is not None:
            raise ValueError("`shares` is only used with `split: shares`")
        return self


class KpiPoint(RuleModel):
    """One point of a KPI component's table."""

    at: Annotated[float, BeforeValidator(_percent_text), Field(ge=0)]
    """Where the point sits: the measure's value (basis `value`: a count such as 12, a
    ratio such as 0.95 or "95%") or its attainment (basis `attainment`: value ÷ target,
    1.0 = on target)."""
    payout: Multiple
    """What is paid there, as a multiple of the component's share of the target incentive
    (1.0 pays `weight` × the window's target incentive)."""


class Kpi(RuleModel):
    """A KPI or MBO bonus on a non-revenue measure from the measures table: a count (new
    A-tier accounts, meetings held) or a ratio (collection rate, sales expense rate), paid
    by a curve or by steps that rise (higher is better) or fall (lower is better)."""

    type: Literal["kpi"] = "kpi"
    """Always `kpi`."""
    name: Identifier
    """The component's name, as it appears in payouts.csv and statements (snake_case)."""
    label: str | None = None
    """A readable title for statements; defaults to the name."""
    roles: list[str] | None = None
    """The participants' roles this component pays; every participant if absent."""
    measure: Identifier
    """The measure's name in the measures table's `measure` column (`new_a_accounts`)."""
    aggregate: Literal["sum", "ratio"] = "sum"
    """`sum` (counts): the window's value is the sum of the measure's `value`s. `ratio`:
    the sum of the `value`s over the sum of the `denominator`s in the window, so a
    year-to-date ratio is exact, not an average of monthly ratios; a window without a
    denominator has no value and pays nothing."""
    basis: Literal["attainment", "value"] = "attainment"
    """Whether the points' `at` are attainments (value ÷ target, default) or values of
    the measure itself."""
    target: Annotated[float, Field(ge=0)] | None = None
    """The target: for `sum`, the year's (a window's target is the year's × its share of
    the year's pay periods in force, as for the target incentive); for `ratio`, the ratio
    every window is measured against (0.95 or "95%")."""
    target_column: Identifier | None = None
    """An org column holding each person's target instead (same meaning as `target`)."""
    direction: Literal["higher", "lower"] = "higher"
    """`higher` (default): more is better, payouts never fall from point to point, nothing
    below the first point, flat above the last. `lower` (a sales expense rate): less is
    better, payouts never rise, flat below the first point, nothing above the last."""
    shape: Literal["linear", "steps"] = "linear"
    """`linear`: piecewise linear between the points. `steps`: the best point reached pays
    its payout (higher: the highest `at` at or below the value; lower: the lowest `at`
    at or above it)."""
    weight: Fraction = 1.0
    """The share of the target incentive this component carries (0.1 = 10%)."""
    points: list[KpiPoint] = Field(min_length=1)
    """The table, `at` strictly increasing."""
    cap: Cap | None = None
    """A ceiling on what the component pays per measurement window."""

    @field_validator("points")
    @classmethod
    def _points_increase(cls, points: list[KpiPoint]) -> list[KpiPoint]:
        for i, (a, b) in enumerate(zip(points, points[1:], strict=False)):
            if b.at <= a.at:
                raise invalid(
                    f"point {i + 2} is at {b.at:g}, not above point {i + 1}'s {a.at:g}",
                    i + 1,
                    "at",
                )
        return points

    @model_validator(mode="after")
    def _consistent(self) -> Kpi:
        pays = [p.payout for p in self.points]
        for i, (a, b) in enumerate(zip(pays, pays[1:], strict=False)):
            if self.direction == "higher" and b < a:
                raise invalid(
                    f"point {i + 2} pays {b:g}, less than point {i + 1}'s {a:g}; a falling "
                    "table needs `direction: lower`",
                    "points", i + 1, "payout",
                )  # fmt: skip
            if self.direction == "lower" and b > a:
                raise invalid(
                    f"point {i + 2} pays {b:g}, more than point {i + 1}'s {a:g}; with "
                    "`direction: lower` payouts fall as the measure rises",
                    "points", i + 1, "payout",
                )  # fmt: skip
        if self.shape == "linear" and len(self.points) < 2:
            raise invalid("a linear table needs at least two points (or `shape: steps`)", "points")
        if self.basis == "attainment" and (self.target is None) == (self.target_column is None):
            raise ValueError("basis `attainment` needs exactly one of `target` or `target_column`")
        if self.basis == "value" and (self.target is not None or self.target_column is not None):
            raise ValueError("basis `value` reads the measure itself: give no target")
        return self


Component = Annotated[
    Commission | AttainmentCurve | StepBonus | Penalty | Spiff | TeamPool | Kpi,
    Field(discriminator="type"),
]


class Participants(RuleModel):
    """Who the plan pays: people of these roles, whose org columns match `where`."""

    roles: list[str] | None = None
    """Roles of the org table (`rep`, `senior_rep`, `manager`); everyone if absent."""
    where: dict[str, list[str]] = Field(default_factory=dict)
    """Further filters on org columns: `{region: [East, South]}`."""


class TargetIncentive(RuleModel):
    """The yearly incentive paid at 100% attainment."""

    amount: Money | None = None
    """The same fixed amount for everyone."""
    column: Identifier | None = None
    """An org column holding each person's amount (the sample's `target_incentive`)."""
    share: Multiple = 1.0
    """Multiplies the amount: 0.5 gives this plan half of the on-target incentive."""

    @model_validator(mode="after")
    def _one_of(self) -> TargetIncentive:
        if (self.amount is None) == (self.column is None):
            raise ValueError("give exactly one of `amount` or `column`")
        return self


class CreditRules(RuleModel):
    """Which deals count and how much each person is credited."""

    products: Products
    """The products that earn credit at all; all products if absent."""
    new_customer_multiplier: Multiple = 1.0
    """Credit multiplier for deals that win a new customer (1.2 credits 120%)."""
    new_customers_only: bool = False
    """Credit only deals that win a new customer."""
    roll_up: Identifier | None = None
    """An org level (e.g. `team`): people of `manager_roles` are credited with the whole
    unit's credit and target (a manager's measure is the team's)."""
    manager_roles: list[str] = Field(default_factory=lambda: ["manager"])
    """The roles rolled up to with `roll_up`."""
    over_cancellation: Literal["error", "allow"] = "error"
    """A deal whose cancellations add up to more than its bookings in the actuals: `error`
    (default: a data error naming the file, row and deal) or `allow` (the excess is credited
    as a negative amount, with a warning). A cancellation whose booking is not in the
    actuals at all (booked before them) is always allowed, with the warning."""

    @field_validator("products")
    @classmethod
    def _products_known(cls, value: list[str] | None) -> list[str] | None:
        return _check_products(value)


class Modifier(RuleModel):
    """A multiplier on payouts, from an org column (a collaboration score, a flag)."""

    name: Identifier
    """The modifier's name, shown in statements."""
    column: Identifier
    """The org column it reads."""
    factor: Multiple | None = None
    """With a factor, payouts are multiplied by it where the column is true (1/yes/true);
    without one, they are multiplied by the column's number."""
    components: list[Identifier] | None = None
    """The components it applies to; all if absent."""


class DrawRecovery(RuleModel):
    """When and how fast a recoverable draw's shortfall is taken back."""

    delay: int = Field(default=1, ge=1, le=366)
    """Periods after a shortfall before it is recovered: 1 (default) recovers from the next
    period on, 3 from the third period after it."""
    max_amount: Money | None = None
    """The most recovered in one period, in the plan's currency; no limit if absent."""
    max_share: Fraction | None = None
    """The most recovered in one period as a share of the earnings above the draw
    (0.5: half the excess repays the balance, half is paid); all of it if absent."""


class Draw(RuleModel):
    """A guaranteed minimum per period, recoverable or not."""

    amount: Money
    """The draw per period of the plan."""
    recoverable: bool = True
    """`true`: a shortfall (the draw minus the period's earnings, when the draw is more) is
    an advance, taken back from later earnings above the draw. `false`: a guaranteed
    minimum that is never taken back."""
    paid: Literal["top_up", "advance"] = "top_up"
    """`top_up` (default): only the shortfall is paid, as a `draw` line. `advance`: the whole
    draw is paid (`draw` line) and settled at the period's end against what it earned (a
    `draw_recovery` line: minus the earnings it covers, minus what is recovered)."""
    paid_at: Literal["start", "end"] | None = None
    """When the advance is paid: at the `start` of the period (default for `advance`) or
    with the period's other lines at its `end` (the only choice for `top_up`). Shown on
    statements; settlement is always at the period's end."""
    recovery: DrawRecovery = Field(default_factory=DrawRecovery)
    """When a recoverable shortfall is recovered and at most how much per period."""
    clawback: Literal["absorb", "owe"] = "absorb"
    """A period whose clawbacks exceed its earnings (`negative_balance: claw_back`):
    `absorb` tops it up to the draw all the same (commission −5,000, draw +8,000, payable
    3,000 on a 3,000 draw); `owe` tops up only the earnings, so the clawback is still
    taken (draw +3,000, payable −2,000)."""

    @model_validator(mode="after")
    def _timing(self) -> Draw:
        if self.paid == "top_up" and self.paid_at == "start":
            raise ValueError(
                "a top-up is known only at the period's end: `paid_at: start` needs `paid: advance`"
            )
        if not self.recoverable and self.recovery != DrawRecovery():
            raise ValueError("`recovery` needs `recoverable: true` (nothing is recovered)")
        return self


class ClawbackWindow(RuleModel):
    """A share of a cancelled deal's credit taken back when the cancellation comes within
    this time of the booking."""

    within_days: int | None = Field(default=None, ge=0, le=3660)
    """The window in days after the booking date (90: cancelled at most 90 days later)."""
    within_months: int | None = Field(default=None, ge=1, le=120)
    """The window in calendar months after the booking date (3: booked 15 January,
    cancelled by 15 April)."""
    share: Fraction
    """The share of the cancellation's credit taken back in this window (0.5 = half)."""

    @model_validator(mode="after")
    def _one_of(self) -> ClawbackWindow:
        if (self.within_days is None) == (self.within_months is None):
            raise ValueError("give exactly one of `within_days` or `within_months`")
        return self


class TerminationClawback(RuleModel):
    """What a rep's termination takes back: the credit of deals booked shortly before it."""

    column: Identifier = "termination_date"
    """The org column holding each person's last day (`YYYY-MM-DD`; empty: still employed)."""
    within_days: int = Field(ge=0, le=3660)
    """Deals booked at most this many days before the termination date are clawed back on
    that date (0: only deals of the last day); deals after it earn no credit."""
    share: Fraction = 1.0
    """The share of those deals' remaining credit taken back."""


class Clawback(RuleModel):
    """How much of a cancelled deal's credit is taken back, and when.

    Without this key a cancellation takes back its whole credit, whenever it comes."""

    share: Fraction = 1.0
    """The share of every cancellation's credit taken back (0.5 takes back half); with
    `windows`, the windows' shares are used instead."""
    windows: list[ClawbackWindow] | None = None
    """Shares by time since the booking, in increasing windows (e.g. all within 90 days,
    half within 180): the first window the cancellation falls in gives the share. A
    cancellation whose booking is not in the actuals takes the first window's share."""
    after: Fraction = 0.0
    """With `windows`: the share taken back after the last window (default nothing)."""
    only_paid: bool = False
    """`true`: a deal's cancellations take back at most what its booking was credited in
    this plan and year, in date order; a cancellation of a deal booked before the year or
    outside the plan's dates takes back nothing. `false` (default): each cancellation
    takes back its share of its own amount."""
    on_termination: TerminationClawback | None = None
    """Clawback of recent deals when a rep leaves (the termination date from the org)."""

    @field_validator("windows")
    @classmethod
    def _rising(cls, windows: list[ClawbackWindow] | None) -> list[ClawbackWindow] | None:
        if windows is None:
            return None
        if not windows:
            raise ValueError("list at least one window, or leave the key out")
        units = {"days" if w.within_days is not None else "months" for w in windows}
        if len(units) > 1:
            raise ValueError("give every window in days, or every window in months")
        length = [w.within_days if w.within_days is not None else w.within_months for w in windows]
        for i in range(1, len(windows)):
            if length[i] <= length[i - 1]:  # type: ignore[operator]
                raise invalid(f"window {i + 1} is not longer than window {i}", i)
        return windows

    @model_validator(mode="after")
    def _share_or_windows(self) -> Clawback:
        if self.windows is not None and self.share != 1.0:
            raise ValueError("give `share` or `windows`, not both (each window has its share)")
        if self.windows is None and self.after != 0.0:
            raise ValueError("`after` is the share after the last of the `windows`")
        return self


class Holdback(RuleModel):
    """Instalments: part of what each period pays is held back and paid later.

    The held part of a period is `share` of its payable (after true-ups and carried
    balances), rounded to the minor unit. A negative payable (a clawback under
    `negative_balance: claw_back`) is split the same way: its held share cancels what is
    still held (not yet paid: nothing is taken from the rep for it), the rest is clawed back
    from pay; once nothing is held, the whole of it is clawed back."""

    share: Annotated[float, BeforeValidator(_percent_text), Field(gt=0, le=1)]
    """The share of each period's payable held back (0.5: half now, half later)."""
    release: Literal["year_end", "later", "payment"] = "year_end"
    """When a held part is paid: with the plan's last period in the year (`year_end`,
    default); `after_periods` pay periods later (`later`); or as the period's deals are
    paid (`payment`: split over the periods holding the payment dates of the period's
    bookings, in proportion to their credit). What falls after the year stays held and is
    reported as the held balance."""
    after_periods: int | None = Field(default=None, ge=1, le=26)
    """With `release: later`: how many pay periods after it is earned a held part is paid."""
    components: list[Identifier] | None = Field(default=None, min_length=1)
    """The components whose payable is held back (default: all, with the adjustments). A
    period holds back `share` of these components' lines, never more than the period pays
    (nor, for a clawback, more than it takes back); the other components are paid in full."""
    column: Identifier = "paid_date"
    """With `release: payment`: the actuals column holding each booking's payment date
    (`YYYY-MM-DD`; empty: not paid yet). A period whose payable comes from no booking of
    its own (a true-up) has its held part paid at the year's end."""

    @model_validator(mode="after")
    def _release(self) -> Holdback:
        if (self.release == "later") != (self.after_periods is not None):
            raise ValueError("`after_periods` goes with `release: later`, and only with it")
        if self.release != "payment" and self.column != "paid_date":
            raise ValueError("`column` names the payment dates of `release: payment`")
        return self


class Rounding(RuleModel):
    """How money is rounded to the currency's minor unit."""

    minor_unit: int | None = Field(default=None, ge=0, le=4)
    """Digits after the decimal point; the company's, or 2, if absent."""
    mode: Literal["half_up", "half_even", "down"] = "half_up"
    """`half_up` (default: 0.5 cent rounds away from zero), `half_even` (banker's), or
    `down` (toward zero)."""
    apply: Literal["per_line", "per_total"] = "per_line"
    """`per_line` rounds each component's amount; `per_total` rounds the period's total once
    and shows the difference of the rounded lines as a `rounding` line."""


@register_kind
class Plan(RuleModel):
    """An incentive compensation plan (`kind: plan`)."""

    kind: Literal["plan"] = "plan"
    """Always `plan`."""
    schema_version: Literal[1] = SCHEMA_VERSION
    """Version of the rule language this file is written in."""
    name: Identifier
    """The plan's name (snake_case)."""
    description: str = ""
    """What the plan is for, shown on statements."""
    version: str | None = Field(default=None, min_length=1, max_length=80)
    """This version of the plan (e.g. `2027.2`), shown on statements and in summary.json and
    payouts.xlsx; absent: `sha256:` and the first 12 hex digits of the plan's content (its
    settings as loaded, so comments and layout do not change it)."""
    company: str | None = None
    """The company data folder, relative to this file; its products check the plan's product
    names at load, and its org table gives roles, teams and target incentives."""
    fiscal_year: int | None = Field(default=None, ge=1900, le=2200)
    """The plan year; the company's fiscal year if absent."""
    period: Literal["month", "quarter", "year", "semi_monthly", "two_week"] = "month"
    """How often the plan pays: `month`, `quarter`, `year`, `semi_monthly` (the 1st to the
    15th and the 16th to the month's end: 24 periods) or `two_week` (14 days from the
    fiscal year's first day, the 26th running to its last day: 26 periods)."""
    measure: Literal["period", "ytd"] = "ytd"
    """`ytd` (default): each period computes what the year-to-date results have earned and
    pays that minus what was paid before (a true-up). `period`: each period stands alone."""
    negative_balance: Literal["carry_forward", "claw_back"] = "carry_forward"
    """When the year-to-date calculation earns less than was already paid: `carry_forward`
    (default: pay nothing now and recover the excess from later earnings) or `claw_back`
    (a negative payout now)."""
    effective_from: dt.date | None = None
    """First day the plan applies (a mid-year plan change); deals before it do not count."""
    effective_to: dt.date | None = None
    """Last day the plan applies."""
    participants: Participants = Field(default_factory=Participants)
    """Who the plan pays."""
    target_incentive: TargetIncentive | None = None
    """The yearly incentive at 100% attainment; needed by curves, shares of TI and caps in TI."""
    credit: CreditRules = Field(default_factory=CreditRules)
    """Which deals count, and how."""
    components: list[Component] = Field(min_length=1)
    """What pays, in statement order."""
    modifiers: list[Modifier] = Field(default_factory=list)
    """Multipliers on component payouts."""
    total_cap: Cap | None = None
    """A ceiling on the sum of all components per measurement window."""
    draw: Draw | None = None
    """A guaranteed minimum per period."""
    clawback: Clawback | None = None
    """How much of a cancelled deal's credit is taken back, within which time of the
    booking, on a rep's termination, and never more than was credited; without it a
    cancellation takes back its whole credit."""
    holdback: Holdback | None = None
    """Instalments: a share of each period's payable held back and paid later (at the
    year's end, some periods later, or as the deals are paid)."""
    rounding: Rounding = Field(default_factory=Rounding)
    """Minor unit, rounding mode, and where rounding applies."""
    proration: Literal["days", "none"] = "days"
    """With a dated org (rows with `start_date` / `end_date`): `days` (default) pays the
    fixed amounts of each window (the target incentive of curves, KPIs, steps and
    penalties, their fixed amounts, caps in TI, the draw) for the share of the window's
    days the person holds a role the component pays; `none` pays them whole in any window
    the person holds such a role on some day. Either way credit counts only the deals
    dated on days in such a role. Without dates every person holds their role all year."""

    @model_validator(mode="after")
    def _consistent(self) -> Plan:
        names = [c.name for c in self.components]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise invalid(f"component name `{name}` is used twice", "components", i, "name")
        for k, m in enumerate(self.modifiers):
            for j, c in enumerate(m.components or []):
                if c not in names:
                    raise invalid(
                        f"modifier `{m.name}` names unknown component `{c}`",
                        "modifiers", k, "components", j,
                    )  # fmt: skip
        held = (self.holdback.components or []) if self.holdback is not None else []
        for j, c in enumerate(held):
            if c not in names:
                raise invalid(
                    f"holdback names unknown component `{c}` (components: {', '.join(names)})",
                    "holdback", "components", j,
                )  # fmt: skip
            if c in held[:j]:
                raise invalid(f"component `{c}` is named twice", "holdback", "components", j)
        if self.target_incentive is None and self._needs_ti():
            raise ValueError(
                "`target_incentive` is needed: a component, cap or step is in target incentive"
            )
        if self.holdback is not None and self.draw is not None:
            raise ValueError(
                "a plan has a `draw` or a `holdback`, not both (a draw guarantees what is paid "
                "in a period; a holdback defers part of it)"
            )
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            raise ValueError("`effective_to` is before `effective_from`")
        return self

    def _needs_ti(self) -> bool:
        caps = [getattr(c, "cap", None) for c in self.components] + [self.total_cap]
        if any(c is not None and c.multiple_of_ti is not None for c in caps):
            return True
        for c in self.components:
            if isinstance(c, AttainmentCurve | Kpi):
                return True
            if isinstance(c, StepBonus) and any(s.share_of_ti is not None for s in c.steps):
                return True
            if isinstance(c, Penalty) and c.share_of_ti is not None:
                return True
        return False

    def referenced_paths(self, base: Path) -> list[Path]:
        return [base / self.company] if self.company else []

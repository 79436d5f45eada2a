"""Plan → compiled plan: the rule objects turned into arrays, once.

A :class:`CompiledPlan` is a frozen dataclass of plain numbers, strings and numpy
arrays that both evaluators read: the exact one (integer minor units, for statements)
and the vectorised one (float64, for the simulator). It holds no rule objects: each
component is compiled by its kind (:mod:`attain.incentive.kinds`). Amounts are in minor
units, rates and attainments in millionths (:data:`~attain.incentive.rational.MICRO`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from attain.incentive.holdback import HOLDBACK_LINES, CompiledHoldback, compile_holdback
from attain.incentive.kinds import KINDS, CompiledCap, CompiledComponent, CompiledGate
from attain.incentive.kinds.base import compile_cap, mask_of
from attain.incentive.kinds.draw import CompiledDraw, compile_draw
from attain.incentive.rational import micro, to_minor
from attain.schema.plan import Plan

#: Lines that are not components, in statement order after the components (the exact
#: evaluator's ``ADJUSTMENTS``).
ADJUSTMENT_LINES = ("rounding", "total_cap", "carried_forward", "draw", "draw_recovery")

__all__ = [
    "CompiledCap",
    "CompiledClawback",
    "CompiledComponent",
    "CompiledCredit",
    "CompiledGate",
    "CompiledModifier",
    "CompiledPlan",
    "CompiledTargetIncentive",
    "compile_plan",
]


@dataclass(frozen=True)
class CompiledCredit:
    """Which deal rows count and how: products, new-customer weight, managers' roll-up."""

    mask: np.ndarray  # bool[K]
    new_customer_multiplier: int  # millionths
    new_customers_only: bool
    roll_up: str | None  # org column managers are credited by
    manager_roles: tuple[str, ...]
    over_cancellation: str = "error"  # error, allow: cancellations beyond their bookings


@dataclass(frozen=True)
class CompiledClawback:
    """How much of a cancellation's credit is taken back (shares in millionths)."""

    share: int  # without windows: every cancellation's share
    windows: tuple[tuple[int, int], ...]  # (length, share) by time since the booking
    window_unit: str  # days or months
    after: int  # the share after the last window
    only_paid: bool  # a deal's cancellations take back at most its credited bookings
    termination_column: str | None  # org column of the last day; None: no termination rule
    termination_days: int
    termination_share: int


def compile_clawback(clawback) -> CompiledClawback | None:
    if clawback is None:
        return None
    windows = clawback.windows or []
    unit = "months" if windows and windows[0].within_months is not None else "days"
    t = clawback.on_termination
    return CompiledClawback(
        share=micro(clawback.share),
        windows=tuple(
            (int(w.within_days if w.within_days is not None else w.within_months), micro(w.share))
            for w in windows
        ),
        window_unit=unit,
        after=micro(clawback.after),
        only_paid=bool(clawback.only_paid),
        termination_column=None if t is None else t.column,
        termination_days=0 if t is None else int(t.within_days),
        termination_share=0 if t is None else micro(t.share),
    )


@dataclass(frozen=True)
class CompiledModifier:
    """A payout multiplier read per person from an org column."""

    name: str
    column: str
    factor: int | None  # millionths when the column is a flag; None: the column's value
    components: tuple[str, ...] | None  # components it applies to; None: all


@dataclass(frozen=True)
class CompiledTargetIncentive:
    amount: int | None  # minor units a year, or None: read from ``column``
    column: str | None
    share: int  # millionths


@dataclass(frozen=True)
class CompiledPlan:
    """A plan ready to evaluate: its settings, products, scales and compiled components."""

    name: str
    description: str
    products: tuple[str, ...]
    minor_unit: int
    components: tuple[CompiledComponent, ...]
    period: str  # month, quarter, year, semi_monthly, two_week
    measure: str  # ytd, period
    negative_balance: str  # carry_forward, claw_back
    fiscal_year: int | None
    effective_from: dt.date | None
    effective_to: dt.date | None
    rounding_mode: str  # half_up, half_even, down
    rounding_apply: str  # per_line, per_total
    participant_roles: tuple[str, ...] | None
    participant_where: tuple[tuple[str, tuple[str, ...]], ...]
    target_incentive: CompiledTargetIncentive | None
    credit: CompiledCredit
    modifiers: tuple[CompiledModifier, ...]
    total_cap: CompiledCap | None
    draw: CompiledDraw | None
    version: str = ""  # the plan's `version:`, or sha256 of its content (plan_version)
    clawback: CompiledClawback | None = None
    holdback: CompiledHoldback | None = None
    proration: str = "days"  # days, none: fixed amounts by days in role (a dated org)

    @property
    def line_names(self) -> tuple[str, ...]:
        """Every line an evaluation has: the components, then the adjustments (and the
        holdback's lines when the plan holds part of its payouts back)."""
        extra = HOLDBACK_LINES if self.holdback is not None else ()
        return (*self.names, *ADJUSTMENT_LINES, *extra)

    @property
    def scale(self) -> int:
        """Minor units per currency unit (100 for cents)."""
        return 10**self.minor_unit

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.components)

    @property
    def months_per_period(self) -> int:
        """Slots per pay period: months for monthly, quarterly and yearly plans, 1 for
        semi-monthly and two-week plans (whose slot is their pay period)."""
        return {"month": 1, "quarter": 3, "year": 12}.get(self.period, 1)

    @property
    def n_slots(self) -> int:
        """Slots in the year (:class:`~attain.incentive.calendar.Calendar`)."""
        return {"semi_monthly": 24, "two_week": 26}.get(self.period, 12)

    @property
    def n_periods(self) -> int:
        return self.n_slots // self.months_per_period


def compile_plan(
    plan: Plan, products: tuple[str, ...] | list[str], minor_unit: int | None = None
) -> CompiledPlan:
    """Compile ``plan`` for a company selling ``products``.

    ``minor_unit`` is the currency's (2 for cents); the plan's ``rounding.minor_unit`` wins,
    then this argument, then 2.
    """
    products = tuple(products)
    unit = plan.rounding.minor_unit if plan.rounding.minor_unit is not None else minor_unit
    unit = 2 if unit is None else unit
    ti = plan.target_incentive
    return CompiledPlan(
        name=plan.name,
        description=plan.description,
        products=products,
        minor_unit=unit,
        components=tuple(KINDS[c.type].compile(c, products, unit) for c in plan.components),
        period=plan.period,
        measure=plan.measure,
        negative_balance=plan.negative_balance,
        fiscal_year=plan.fiscal_year,
        effective_from=plan.effective_from,
        effective_to=plan.effective_to,
        rounding_mode=plan.rounding.mode,
        rounding_apply=plan.rounding.apply,
        participant_roles=None
        if plan.participants.roles is None
        else tuple(plan.participants.roles),
        participant_where=tuple((k, tuple(v)) for k, v in plan.participants.where.items()),
        target_incentive=None
        if ti is None
        else CompiledTargetIncentive(
            amount=None if ti.amount is None else to_minor(ti.amount, unit),
            column=ti.column,
            share=micro(ti.share),
        ),
        credit=CompiledCredit(
            mask=mask_of(plan.credit.products, products),
            new_customer_multiplier=micro(plan.credit.new_customer_multiplier),
            new_customers_only=plan.credit.new_customers_only,
            roll_up=plan.credit.roll_up,
            manager_roles=tuple(plan.credit.manager_roles),
            over_cancellation=plan.credit.over_cancellation,
        ),
        modifiers=tuple(
            CompiledModifier(
                name=m.name,
                column=m.column,
                factor=None if m.factor is None else round(m.factor * 1_000_000),
                components=None if m.components is None else tuple(m.components),
            )
            for m in plan.modifiers
        ),
        total_cap=compile_cap(plan.total_cap, unit),
        draw=compile_draw(plan.draw, unit),
        version=plan_version(plan),
        clawback=compile_clawback(plan.clawback),
        holdback=compile_holdback(plan.holdback, [c.name for c in plan.components]),
        proration=plan.proration,
    )


def plan_version(plan) -> str:
    """The plan's ``version:``, or ``sha256:`` + 12 hex digits of its settings as loaded."""
    if plan.version is not None:
        return plan.version
    import hashlib

    # fields added later, at their defaults, leave the version of a plan as it was before
    exclude: dict = {"version": True}
    if plan.proration == "days":
        exclude["proration"] = True
    if plan.holdback is not None and plan.holdback.components is None:
        exclude["holdback"] = {"components"}
    content = plan.model_dump_json(exclude=exclude).encode()
    return "sha256:" + hashlib.sha256(content).hexdigest()[:12]

"""Plan → compiled plan: the rule objects turned into arrays, once.

A :class:`CompiledPlan` is a frozen dataclass of plain numbers and numpy arrays
that both evaluators read: the exact one (integer minor units, for statements)
and the vectorised one (float64, for the simulator). Amounts are in minor units,
rates and attainments in millionths (:data:`~attain.incentive.rational.MICRO`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from attain.incentive.rational import micro, to_minor
from attain.schema.plan import (
    AttainmentCurve,
    Cap,
    Commission,
    Gate,
    Penalty,
    Plan,
    Spiff,
    StepBonus,
    TeamPool,
)

__all__ = ["CompiledCap", "CompiledComponent", "CompiledGate", "CompiledPlan", "compile_plan"]


@dataclass(frozen=True)
class CompiledCap:
    """A cap: ``amount`` in minor units, or ``multiple`` of TI in millionths (the other 0)."""

    amount: int | None
    multiple: int | None


@dataclass(frozen=True)
class CompiledGate:
    mask: np.ndarray  # bool[K]: products measured
    min_attainment: int  # millionths
    accelerator_only: bool


@dataclass(frozen=True)
class CompiledComponent:
    """One component as arrays. Which fields matter depends on ``type``."""

    name: str
    label: str
    type: str
    mask: np.ndarray  # bool[K]: products measured
    method: str = ""
    basis: str = "amount"
    scope: str = "period"
    boundary: str = "upper"
    select_on: str = "net"
    paid_on: str = "net"
    starts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    """Tier starts (minor units, or attainment millionths), curve/step attainments (millionths)."""
    values: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    """Tier rates, curve payouts (millionths of TI) or step amounts (see ``in_ti``)."""
    in_ti: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    """Per step: the value is a share of TI (millionths) rather than an amount (minor units)."""
    weight: int = 1_000_000
    gate: CompiledGate | None = None
    cap: CompiledCap | None = None
    below: int = 0  # penalty: attainment millionths
    start_day: int = 0  # spiff window, days since 1970-01-01
    end_day: int = 0
    per_unit: int = 0  # spiff: minor units per unit
    pool: dict | None = None  # team pool settings
    roles: tuple[str, ...] | None = None  # roles paid; None: every participant


@dataclass(frozen=True)
class CompiledPlan:
    """A plan ready to evaluate: products, scales and one entry per component."""

    plan: Plan
    products: tuple[str, ...]
    minor_unit: int
    components: tuple[CompiledComponent, ...]
    total_cap: CompiledCap | None
    draw_amount: int | None  # minor units per period
    draw_recoverable: bool
    credit_mask: np.ndarray  # bool[K]
    new_customer_multiplier: int  # millionths

    @property
    def scale(self) -> int:
        """Minor units per currency unit (100 for cents)."""
        return 10**self.minor_unit

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.components)


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
    comps = tuple(_component(c, products, unit) for c in plan.components)
    draw = plan.draw
    return CompiledPlan(
        plan=plan,
        products=products,
        minor_unit=unit,
        components=comps,
        total_cap=_cap(plan.total_cap, unit),
        draw_amount=to_minor(draw.amount, unit) if draw else None,
        draw_recoverable=bool(draw and draw.recoverable),
        credit_mask=_mask(plan.credit.products, products),
        new_customer_multiplier=micro(plan.credit.new_customer_multiplier),
    )


def _mask(names: list[str] | None, products: tuple[str, ...]) -> np.ndarray:
    if names is None:
        return np.ones(len(products), dtype=bool)
    unknown = [n for n in names if n not in products]
    if unknown:
        # load_plan checks products at load; this guards plans built in Python.
        raise ValueError(f"unknown product {unknown[0]!r}; products are {', '.join(products)}")
    return np.array([p in names for p in products], dtype=bool)


def _cap(cap: Cap | None, unit: int) -> CompiledCap | None:
    if cap is None:
        return None
    if cap.amount is not None:
        return CompiledCap(amount=to_minor(cap.amount, unit), multiple=None)
    return CompiledCap(amount=None, multiple=micro(cap.multiple_of_ti))


def _gate(gate: Gate | None, products: tuple[str, ...]) -> CompiledGate | None:
    if gate is None:
        return None
    return CompiledGate(
        mask=_mask(gate.products, products),
        min_attainment=micro(gate.min_attainment),
        accelerator_only=gate.applies_to == "accelerator",
    )


def _component(c, products: tuple[str, ...], unit: int) -> CompiledComponent:
    base = {
        "name": c.name,
        "label": c.label or c.name.replace("_", " ").capitalize(),
        "type": c.type,
        "mask": _mask(c.products, products),
        "roles": None if c.roles is None else tuple(c.roles),
    }
    if isinstance(c, Commission):
        to_int = micro if c.basis == "attainment" else (lambda v: to_minor(v, unit))
        return CompiledComponent(
            **base,
            method=c.method,
            basis=c.basis,
            scope=c.scope,
            boundary=c.boundary,
            select_on=c.select_on,
            paid_on=c.paid_on,
            starts=np.array([to_int(t.start) for t in c.tiers], dtype=np.int64),
            values=np.array([micro(t.rate) for t in c.tiers], dtype=np.int64),
            gate=_gate(c.gate, products),
            cap=_cap(c.cap, unit),
        )
    if isinstance(c, AttainmentCurve):
        return CompiledComponent(
            **base,
            starts=np.array([micro(p.attainment) for p in c.points], dtype=np.int64),
            values=np.array([micro(p.payout) for p in c.points], dtype=np.int64),
            weight=micro(c.weight),
            gate=_gate(c.gate, products),
            cap=_cap(c.cap, unit),
        )
    if isinstance(c, StepBonus):
        return CompiledComponent(
            **base,
            starts=np.array([micro(s.attainment) for s in c.steps], dtype=np.int64),
            values=np.array(
                [
                    micro(s.share_of_ti) if s.amount is None else to_minor(s.amount, unit)
                    for s in c.steps
                ],
                dtype=np.int64,
            ),
            in_ti=np.array([s.amount is None for s in c.steps], dtype=bool),
            gate=_gate(c.gate, products),
        )
    if isinstance(c, Penalty):
        in_ti = c.amount is None
        value = micro(c.share_of_ti) if in_ti else to_minor(c.amount, unit)
        return CompiledComponent(
            **base,
            below=micro(c.below),
            values=np.array([value], dtype=np.int64),
            in_ti=np.array([in_ti]),
        )
    if isinstance(c, Spiff):
        epoch = np.datetime64("1970-01-01", "D")
        return CompiledComponent(
            **base,
            start_day=int((np.datetime64(c.start, "D") - epoch).astype(int)),
            end_day=int((np.datetime64(c.end, "D") - epoch).astype(int)),
            per_unit=to_minor(c.per_unit, unit),
        )
    if isinstance(c, TeamPool):
        pool = {
            "level": c.level,
            "threshold": micro(c.team_threshold),
            "per_member": None if c.per_member is None else to_minor(c.per_member, unit),
            "fixed": None if c.fixed is None else to_minor(c.fixed, unit),
            "share_of_sales": None if c.share_of_sales is None else micro(c.share_of_sales),
            "split": c.split,
            "shares": {k: micro(v) for k, v in (c.shares or {}).items()},
            "min_attainment": micro(c.min_attainment),
        }
        return CompiledComponent(**base, pool=pool)
    raise TypeError(f"unknown component type {type(c).__name__}")

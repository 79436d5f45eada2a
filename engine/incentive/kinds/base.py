"""What every component kind provides, the registry they join, and what they share.

A kind is one module under :mod:`attain.incentive.kinds` holding a class with:

- ``type`` (the plan file's ``type:``) and ``schema`` (its pydantic model);
- ``compile(component, products, unit)`` → its compiled form, a frozen dataclass of
  ints and numpy arrays (a subclass of :class:`CompiledComponent`);
- ``exact(c, x)`` → ``(num, den)``: the amount per person × window in minor units as an
  exact fraction, from :class:`ExactInputs` (``deal_level``, optional, computes amounts
  from the deal rows first: deal-scope tiers, SPIFFs, team pools);
- ``vectorised(c, w)`` → float64 per rep × trial × window, from the simulator's window;
- ``parts(c, x)``: the explanation record, the parts that add up to ``exact``'s amount;
- ``rule(c, unit)`` and ``inputs(c, info, r, w, unit, earned)``: its statement text;
- ``needs_deals(c)`` and ``approximations(c, deals, calendar)``: what the vectorised
  evaluator reads from the deal model, and what it models rather than reproduces.

Kinds register themselves with :func:`register` when :mod:`attain.incentive.kinds`
imports them; the evaluators look a compiled component's kind up in :data:`KINDS` by its
``type``. Gates, roles, modifiers and caps are applied around every kind, the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import numpy as np

from attain.incentive.rational import micro, to_minor

__all__ = [
    "KINDS",
    "CompiledCap",
    "CompiledComponent",
    "CompiledGate",
    "DealContext",
    "ExactInputs",
    "Kind",
    "Part",
    "KindBase",
    "common",
    "compile_cap",
    "compile_gate",
    "kind_of",
    "mask_of",
    "register",
    "to_windows",
]


@dataclass(frozen=True)
class CompiledCap:
    """A cap: ``amount`` in minor units, or ``multiple`` of TI in millionths (the other None)."""

    amount: int | None
    multiple: int | None


@dataclass(frozen=True)
class CompiledGate:
    mask: np.ndarray  # bool[K]: products measured
    min_attainment: int  # millionths
    accelerator_only: bool


@dataclass(frozen=True, kw_only=True)
class CompiledComponent:
    """What every compiled component has; each kind's subclass adds its own arrays."""

    type: ClassVar[str] = ""
    name: str
    label: str
    mask: np.ndarray  # bool[K]: products measured
    roles: tuple[str, ...] | None = None  # roles paid; None: every participant
    gate: CompiledGate | None = None
    cap: CompiledCap | None = None
    select_on: str = "net"  # the measure tiers and attainment are read on
    paid_on: str = "net"  # the measure an amount is paid on


@dataclass
class ExactInputs:
    """One component's measures per person × window, for its exact evaluator."""

    S: np.ndarray  # int64[R, W] selecting measure (net or gross credit)
    A: np.ndarray  # int64[R, W] paid measure
    T: np.ndarray  # int64[R, W] target
    ti_num: np.ndarray  # object[R, W] TI of the window × ti_den (TI = ti_num / ti_den)
    accel_fail: np.ndarray | None  # bool[R, W]: an accelerator-only gate failed
    deal_level: tuple | None = None  # (num, den) from the kind's ``deal_level``
    ti_den: int = 12  # slots in the year: 12 months, 24 half-months, 26 two-week periods
    info: dict = field(default_factory=dict)  # the record statements read (filled by kinds)


@dataclass
class Part:
    """One part of a line's amount, per person × window: the explanation record.

    ``amount`` is an exact fraction ``(num, den)`` of minor units; the parts a kind returns
    add up exactly to the amount its ``exact`` returns. ``base × rate = amount``: ``base``
    in minor units (or millionths of a unit for ``rate_style`` ``per_unit``), ``rate`` a
    fraction (``pct``: 0.08 reads 8%; ``multiple``: 1.5 reads 1.5x; ``per_unit``: minor units
    per unit). ``lo``/``hi`` are the band the part covers on the selecting ``measure``
    (minor units; millionths when ``band`` is ``attainment`` or ``value``, a count).
    """

    name: str
    amount: tuple
    base: tuple | None = None
    rate: tuple | None = None
    measure: str = ""
    lo: Any = None
    hi: Any = None
    band: str = "money"
    rate_style: str = "pct"


class Kind(Protocol):
    type: str
    schema: type
    cellwise_parts: bool

    def compile(self, c: Any, products: tuple[str, ...], unit: int) -> CompiledComponent: ...

    def exact(self, c: Any, x: ExactInputs) -> tuple[np.ndarray, Any]: ...

    def vectorised(self, c: Any, w: Any, accel_fail: np.ndarray | None) -> np.ndarray: ...

    def parts(self, c: Any, x: ExactInputs) -> list[Part]: ...

    def rule(self, c: Any, unit: int) -> str: ...

    def inputs(self, c: Any, info: dict, r: int, w: int, unit: int, earned: int) -> str: ...

    def window_info(self, c: Any, w: Any) -> dict: ...

    def notices(self, c: Any, windows: Any) -> list: ...


class KindBase:
    """Defaults for a kind: no deal-level amounts, no org levels, nothing from the deal
    model, nothing approximated."""

    type: str = ""
    schema: type = object
    #: Whether ``parts`` works cell by cell on :class:`ExactInputs` (``S, A, T, ti_num,
    #: accel_fail, deal_level``, nothing across people or windows): then an explanation
    #: of a few lines (a close's period) computes their cells only, not the year's.
    cellwise_parts: bool = False

    def deal_level(self, c: Any, ctx: DealContext) -> tuple | None:
        """Amounts computed from the deal rows before the windows' evaluation, or None."""
        return None

    def window_info(self, c: Any, w: Any) -> dict:
        """What the exact evaluator's record needs beyond the sales measures, from the
        windows ``w`` (KPI components: the measures table and targets)."""
        return {}

    def notices(self, c: Any, windows: Any) -> list:
        """Warnings about ``c`` in a valid run that silently pays nothing
        (:class:`attain.notices.Notice`)."""
        return []

    def levels(self, c: Any) -> tuple[str, ...]:
        """Org columns the kind groups people by (team pools)."""
        return ()

    def needs_deals(self, c: Any) -> bool:
        """Whether the vectorised evaluator reads the deal model for ``c``."""
        return False

    def approximations(self, c: Any, deals: Any, calendar: Any) -> list[str]:
        """What the vectorised evaluator models rather than reproduces for ``c``."""
        return []


#: Component type → its kind.
KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add ``kind`` to :data:`KINDS` under its ``type`` (one per type)."""
    if kind.type in KINDS:
        raise ValueError(f"component kind {kind.type!r} is already registered")
    KINDS[kind.type] = kind
    return kind


def kind_of(c: CompiledComponent | Any) -> Kind:
    """The kind of a compiled component or a schema component."""
    return KINDS[c.type]


def mask_of(names: list[str] | None, products: tuple[str, ...]) -> np.ndarray:
    if names is None:
        return np.ones(len(products), dtype=bool)
    unknown = [n for n in names if n not in products]
    if unknown:
        # load_plan checks products at load; this guards plans built in Python.
        raise ValueError(f"unknown product {unknown[0]!r}; products are {', '.join(products)}")
    return np.array([p in names for p in products], dtype=bool)


def compile_cap(cap, unit: int) -> CompiledCap | None:
    if cap is None:
        return None
    if cap.amount is not None:
        return CompiledCap(amount=to_minor(cap.amount, unit), multiple=None)
    return CompiledCap(amount=None, multiple=micro(cap.multiple_of_ti))


def compile_gate(gate, products: tuple[str, ...]) -> CompiledGate | None:
    if gate is None:
        return None
    return CompiledGate(
        mask=mask_of(gate.products, products),
        min_attainment=micro(gate.min_attainment),
        accelerator_only=gate.applies_to == "accelerator",
    )


def common(c, products: tuple[str, ...], unit: int) -> dict:
    """The fields every compiled component has, from its schema model."""
    out = {
        "name": c.name,
        "label": c.label or c.name.replace("_", " ").capitalize(),
        "mask": mask_of(c.products, products),
        "roles": None if c.roles is None else tuple(c.roles),
    }
    if getattr(c, "gate", None) is not None:
        out["gate"] = compile_gate(c.gate, products)
    if getattr(c, "cap", None) is not None:
        out["cap"] = compile_cap(c.cap, unit)
    return out


def to_windows(monthly: np.ndarray, months_per_period: int, ytd: bool) -> np.ndarray:
    """[R, S, ...] by slot (month) → [R, P, ...] by period, cumulated when measuring YTD."""
    k = months_per_period
    shape = (monthly.shape[0], monthly.shape[1] // k, k, *monthly.shape[2:])
    out = monthly.reshape(shape).sum(axis=2)
    return np.cumsum(out, axis=1) if ytd else out


@dataclass(frozen=True)
class DealContext:
    """What a kind's ``deal_level`` reads: the plan, the book, the credited deal rows and
    the windows being built."""

    compiled: Any  # CompiledPlan
    book: Any  # attain.incentive.inputs.Book
    credit: Any  # attain.incentive.credit.Credit
    windows: Any  # attain.incentive.exact.Windows (people, periods, measures)
    ytd: bool

    @property
    def mode(self) -> str:
        return self.compiled.rounding_mode

    def monthly(self, rows: np.ndarray, values: np.ndarray, dtype=np.int64) -> np.ndarray:
        """Per-row ``values`` of deal ``rows`` summed per person × slot (month) [R, S]."""
        credit = self.credit
        out = np.zeros((len(self.book.people), self.book.calendar.n_slots), dtype=dtype)
        np.add.at(out, (credit.person[rows], credit.month[rows]), values)
        return out

    def to_windows(self, monthly: np.ndarray) -> np.ndarray:
        return to_windows(monthly, self.book.calendar.months_per_period, self.ytd)

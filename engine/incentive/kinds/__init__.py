"""Component kinds, one module each, in a registry.

Each module holds a kind's compiled form, its exact evaluator, its vectorised evaluator
and its statement text, and registers the kind when imported here (as the solver
backends do). A new kind is one module, its schema model, and one import line below.
"""

from attain.incentive.kinds import commission, curve, kpi, penalty, spiff, steps, team_pool
from attain.incentive.kinds.base import (
    KINDS,
    CompiledCap,
    CompiledComponent,
    CompiledGate,
    DealContext,
    ExactInputs,
    Kind,
    KindBase,
    Part,
    kind_of,
    register,
)
from attain.incentive.kinds.draw import CompiledDraw

__all__ = [
    "KINDS",
    "CompiledCap",
    "CompiledComponent",
    "CompiledDraw",
    "CompiledGate",
    "DealContext",
    "ExactInputs",
    "Kind",
    "KindBase",
    "Part",
    "commission",
    "curve",
    "kind_of",
    "kpi",
    "penalty",
    "register",
    "spiff",
    "steps",
    "team_pool",
]

"""Incentive plans: declared plans → exact payouts, statements, and a vectorised evaluator.

- :func:`payouts` (exact, integer minor units) for payout runs and statements;
- :func:`compile_plan` + :func:`evaluate` (float64 numpy over reps × trials) for the
  simulator. Both read the same :class:`CompiledPlan`, and a test proves they agree.

Component kinds (commission, attainment curve, step bonus, penalty, SPIFF, team pool)
are one module each under :mod:`attain.incentive.kinds`, listed in :data:`KINDS`.
"""

from attain.incentive.api import load_plan, payouts, payouts_of_plans
from attain.incentive.calendar import Calendar
from attain.incentive.compile import CompiledPlan, compile_plan
from attain.incentive.deals import DealModel, deal_model
from attain.incentive.exact import ADJUSTMENTS
from attain.incentive.inputs import read_book
from attain.incentive.kinds import KINDS
from attain.incentive.result import Payouts
from attain.incentive.vectorised import (
    Population,
    approximations,
    evaluate,
    needs_deals,
    population,
)

__all__ = [
    "ADJUSTMENTS",
    "KINDS",
    "Calendar",
    "CompiledPlan",
    "DealModel",
    "Payouts",
    "Population",
    "approximations",
    "compile_plan",
    "deal_model",
    "evaluate",
    "load_plan",
    "needs_deals",
    "payouts",
    "payouts_of_plans",
    "population",
    "read_book",
]

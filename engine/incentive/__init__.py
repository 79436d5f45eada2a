"""Incentive plans: declared plans → exact payouts, statements, and a vectorised evaluator.

- :func:`payouts` (exact, integer minor units) for payout runs and statements;
- :func:`compile_plan` + :func:`evaluate` (float64 numpy over reps × trials) for the
  simulator. Both read the same :class:`CompiledPlan`, and a test proves they agree.
"""

from attain.incentive.api import load_plan, payouts
from attain.incentive.compile import CompiledPlan, compile_plan
from attain.incentive.result import Payouts

__all__ = ["CompiledPlan", "Payouts", "compile_plan", "load_plan", "payouts"]

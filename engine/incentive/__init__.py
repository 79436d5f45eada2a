"""Incentive plans: declared plans → exact payouts, statements, and a vectorised evaluator."""

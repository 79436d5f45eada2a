"""Draw: a guaranteed amount per period, topped up when earnings fall short, and (when
recoverable) recovered from later earnings above it.

Not a component but a plan-level settlement after the true-ups, with the same parts as
a kind: its compiled form, its exact and vectorised settlement, its statement text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attain.incentive.rational import to_minor

__all__ = ["CompiledDraw", "compile_draw", "settle_exact", "settle_vectorised", "RULES"]

#: Statement text of the lines a draw adds.
RULES = {
    "draw": "Draw: top-up to the guaranteed amount for the period (a clawback is topped up "
    "too: draw.clawback absorb)",
    "draw_owe": "Draw: top-up of the period's earnings to the guaranteed amount (a clawback "
    "is still taken: draw.clawback owe)",
    "draw_recovery": "Draw recovery: earnings above the draw repay earlier top-ups",
}


@dataclass(frozen=True)
class CompiledDraw:
    amount: int  # minor units per period
    recoverable: bool
    absorbs_clawback: bool  # a negative period is topped up to the draw too


def compile_draw(draw, unit: int) -> CompiledDraw | None:
    if draw is None:
        return None
    return CompiledDraw(
        amount=to_minor(draw.amount, unit),
        recoverable=bool(draw.recoverable),
        absorbs_clawback=draw.clawback == "absorb",
    )


def settle_exact(draw: CompiledDraw | None, total: np.ndarray, active: np.ndarray):
    """Top-ups, recoveries and the outstanding balance per person × period (int64)."""
    top = np.zeros_like(total)
    recovery = np.zeros_like(total)
    balance = np.zeros_like(total)
    if draw is None:
        return top, recovery, balance
    owed = np.zeros(total.shape[0], dtype=np.int64)
    for p in range(total.shape[1]):  # a dozen periods; each step covers every person
        if not active[p]:
            balance[:, p] = owed
            continue
        earned = total[:, p] if draw.absorbs_clawback else np.maximum(total[:, p], 0)
        top_up = np.maximum(draw.amount - earned, 0)
        top[:, p] = top_up
        if draw.recoverable:
            back = np.minimum(owed, np.maximum(total[:, p] - draw.amount, 0))
            recovery[:, p] = -back
            owed = owed + top_up - back
        balance[:, p] = owed
    return top, recovery, balance


def settle_vectorised(draw: CompiledDraw | None, total, scale: int, active=None):
    """The same in float64 over reps × trials × periods."""
    top = np.zeros_like(total)
    recovery = np.zeros_like(total)
    if draw is None:
        return top, recovery
    amount = draw.amount / scale
    owed = np.zeros(total.shape[:-1])
    for p in range(total.shape[-1]):  # a dozen periods, each over every rep and trial
        if active is not None and not active[p]:
            continue  # out of force: no draw
        earned = total[..., p] if draw.absorbs_clawback else np.maximum(total[..., p], 0.0)
        top_up = np.maximum(amount - earned, 0.0)
        top[..., p] = top_up
        if draw.recoverable:
            back = np.minimum(owed, np.maximum(total[..., p] - amount, 0.0))
            recovery[..., p] = -back
            owed = owed + top_up - back
    return top, recovery

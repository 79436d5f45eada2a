"""Draw: a guaranteed amount per period, paid as a top-up of what the period earned or as
an advance settled at the period's end, and (when recoverable) its shortfall recovered
from later earnings above the draw.

Not a component but a plan-level settlement after the true-ups, with the same parts as
a kind: its compiled form, its exact and vectorised settlement, its statement text.

Per period, with ``E`` what the period pays before the draw (after true-ups) and ``D``
the draw: the **shortfall** is ``max(D − E, 0)`` (``E`` floored at 0 first under
``clawback: owe``). A ``top_up`` draw pays the shortfall (a ``draw`` line). An
``advance`` pays ``D`` (the ``draw`` line) and settles it at the period's end against
``E``: the ``draw_recovery`` line takes back ``D − shortfall``. Either way the period
pays ``E + shortfall`` before recovery. A recoverable shortfall is owed; from
``recovery.delay`` periods after it, earnings above the draw repay it (``E − D`` when
positive), at most ``recovery.max_amount`` and ``recovery.max_share`` of that excess per
period (the share floored to the minor unit), as the ``draw_recovery`` line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attain.incentive.rational import MICRO, micro, round_div, to_minor

__all__ = [
    "RULES",
    "CompiledDraw",
    "Settlement",
    "compile_draw",
    "rule_text",
    "settle_exact",
    "settle_vectorised",
]

#: Statement text of the lines a draw adds.
RULES = {
    "draw": "Draw: top-up to the guaranteed amount for the period (a clawback is topped up "
    "too: draw.clawback absorb)",
    "draw_owe": "Draw: top-up of the period's earnings to the guaranteed amount (a clawback "
    "is still taken: draw.clawback owe)",
    "draw_recovery": "Draw recovery: earnings above the draw repay earlier top-ups",
    "draw_advance": "Draw: advance of the guaranteed amount, paid at the {when} of the period",
    "draw_settlement": "Draw settlement at the period's end: the advance is set against the "
    "period's earnings{owe}, and earnings above the draw repay earlier shortfalls",
}


@dataclass(frozen=True)
class CompiledDraw:
    amount: int  # minor units per period
    recoverable: bool
    absorbs_clawback: bool  # a negative period is topped up to the draw too
    advance: bool = False  # the whole draw is paid and settled at the period's end
    paid_at: str = "end"  # start or end of the period (the advance's pay date)
    delay: int = 1  # periods after a shortfall before it is recovered
    max_amount: int | None = None  # minor units recovered per period at most
    max_share: int | None = None  # millionths of the excess recovered per period at most


@dataclass(frozen=True)
class Settlement:
    """The draw's lines and balance per person × period (int64 minor units)."""

    draw: np.ndarray  # the draw line: the top-up, or the whole advance
    recovery: np.ndarray  # the draw_recovery line: settlement of the advance + recovery
    settled: np.ndarray  # the part of ``recovery`` that settles the advance (≤ 0 or absorbed)
    balance: np.ndarray  # outstanding recoverable shortfall after the period


def compile_draw(draw, unit: int) -> CompiledDraw | None:
    if draw is None:
        return None
    advance = draw.paid == "advance"
    r = draw.recovery
    return CompiledDraw(
        amount=to_minor(draw.amount, unit),
        recoverable=bool(draw.recoverable),
        absorbs_clawback=draw.clawback == "absorb",
        advance=advance,
        paid_at=draw.paid_at or ("start" if advance else "end"),
        delay=int(r.delay),
        max_amount=None if r.max_amount is None else to_minor(r.max_amount, unit),
        max_share=None if r.max_share is None else micro(r.max_share),
    )


def rule_text(draw: CompiledDraw, line: str) -> str:
    """The statement's rule for the ``draw`` or ``draw_recovery`` line of ``draw``."""
    if draw.advance:
        if line == "draw":
            return RULES["draw_advance"].format(when=draw.paid_at)
        owe = "" if draw.absorbs_clawback else " (floored at 0: a clawback is still taken)"
        return RULES["draw_settlement"].format(owe=owe)
    if line == "draw" and not draw.absorbs_clawback:
        return RULES["draw_owe"]
    return RULES[line]


def settle_exact(
    draw: CompiledDraw | None, total: np.ndarray, active: np.ndarray, share=None
) -> Settlement:
    """The draw's lines and outstanding balance per person × period (int64); ``share``
    ``(num, den)`` per person × period: the draw is paid for that share of each period
    (days in role, rounded half up to the minor unit)."""
    zero = np.zeros_like(total)
    if draw is None:
        return Settlement(zero, zero.copy(), zero.copy(), zero.copy())
    amount = None
    if share is not None:
        amount = round_div(draw.amount * share[0], share[1])
    line, settled, back, balance = _settle(draw, total, active, 1, exact=True, amount=amount)
    return Settlement(line, settled - back, settled, balance)


def settle_vectorised(draw: CompiledDraw | None, total, scale: int, active=None, share=None):
    """The draw and draw_recovery lines in float64 over reps × trials × periods; ``share``
    float64[R, P]: the share of each period the draw is paid for (days in role)."""
    if draw is None:
        return np.zeros_like(total), np.zeros_like(total)
    if active is None:
        active = np.ones(total.shape[-1], dtype=bool)
    amount = None
    if share is not None:
        amount = (draw.amount / scale) * np.asarray(share, dtype=np.float64)[:, None, :]
    line, settled, back, _ = _settle(draw, total, active, scale, exact=False, amount=amount)
    return line, settled - back


def _settle(draw: CompiledDraw, total, active, scale: int, exact: bool, amount=None):
    """Period by period (a dozen or so steps, each over every person and trial); exact:
    int64 minor units, else float64 currency units (minor units / ``scale``); ``amount``
    the draw per person × period when it is prorated (shaped like ``total``)."""
    per = amount
    n = total.shape[-1]
    line = np.zeros_like(total)
    settled = np.zeros_like(total)
    back = np.zeros_like(total)
    balance = np.zeros_like(total)
    zero = 0 if exact else 0.0
    shortfalls = np.zeros_like(total)
    recovered = np.zeros(total.shape[:-1], dtype=total.dtype)
    whole = draw.amount if exact else draw.amount / scale
    cap = None
    if draw.max_amount is not None:
        cap = draw.max_amount if exact else draw.max_amount / scale
    for p in range(n):
        amount = whole if per is None else per[..., p]
        if active[p]:
            e = total[..., p]
            earned = e if draw.absorbs_clawback else np.maximum(e, zero)
            short = np.maximum(amount - earned, zero)
            shortfalls[..., p] = short
            if draw.advance:
                line[..., p] = amount
                settled[..., p] = short - amount
            else:
                line[..., p] = short
            if draw.recoverable and p >= draw.delay:
                eligible = shortfalls[..., : p - draw.delay + 1].sum(axis=-1) - recovered
                take = np.minimum(eligible, np.maximum(e - amount, zero))
                if draw.max_share is not None:
                    excess = np.maximum(e - amount, zero)
                    if exact:
                        limit = excess * draw.max_share // MICRO
                    else:
                        limit = excess * (draw.max_share / MICRO)
                    take = np.minimum(take, limit)
                if cap is not None:
                    take = np.minimum(take, cap)
                back[..., p] = take
                recovered = recovered + take
        if draw.recoverable:
            balance[..., p] = shortfalls[..., : p + 1].sum(axis=-1) - recovered
    return line, settled, back, balance

"""Instalments: a share of each period's payable held back and paid later.

Each period's payable ``p`` (after true-ups and carried balances) is split: ``h`` = the
plan's share of ``p``, rounded to the minor unit, is held back as a parcel released in a
later period (the plan's last period in force for ``year_end``; ``after_periods`` later
for ``later``, or never this year when that falls after it), and ``p − h`` is paid now.

A negative payable (a clawback) is split the same way: its held share ``|h|`` cancels
parcels still held — not yet paid, so nothing is taken from the rep for them — those due
last first; what the parcels cannot cover, and the rest ``p − h``, is clawed back from pay.
So paid and unpaid parts are taken back separately, and the year pays what it earned
minus what is still held at its end.

Lines: ``held_back`` (minus the parcel held; plus what a clawback cancelled) and
``held_released`` (parcels paid this period); the held balance after each period is
``held_balance_minor`` in the totals. The same steps run in exact integers and in float.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attain.incentive.rational import MICRO, round_div

__all__ = [
    "HOLDBACK_LINES",
    "CompiledHoldback",
    "Held",
    "compile_holdback",
    "next_in_force",
    "settle_holdback",
]

#: The lines a holdback adds after the other adjustments.
HOLDBACK_LINES = ("held_back", "held_released")


@dataclass(frozen=True)
class CompiledHoldback:
    share: int  # millionths of each period's payable held back
    release: str  # year_end, later, payment
    after: int  # periods later (release `later`)
    column: str = "paid_date"  # actuals column of payment dates (release `payment`)


def compile_holdback(holdback) -> CompiledHoldback | None:
    if holdback is None:
        return None
    return CompiledHoldback(
        share=round(holdback.share * MICRO),
        release=holdback.release,
        after=int(holdback.after_periods or 0),
        column=holdback.column,
    )


@dataclass(frozen=True)
class Held:
    """Per person × period: the ``held_back`` and ``held_released`` lines, and the balance
    still held after the period."""

    held: np.ndarray
    released: np.ndarray
    balance: np.ndarray


def _due(hb: CompiledHoldback, active: np.ndarray) -> np.ndarray:
    """The period each period's parcel is paid in (``P``: after the year)."""
    n = len(active)
    on = np.flatnonzero(active)
    last = int(on[-1]) if len(on) else n - 1
    t = np.arange(n)
    if hb.release in ("year_end", "payment"):  # payment: a period without bookings
        return np.where(t <= last, last, n)
    due = t + hb.after
    # a parcel due in a period out of force waits for the next one in force
    return next_in_force(due, active)


def next_in_force(due: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Each due period, or the next period in force after it (``len(active)``: none)."""
    n = len(active)
    on = np.append(np.flatnonzero(active), n)
    return on[np.searchsorted(on, np.minimum(due, n))]


def settle_holdback(
    hb: CompiledHoldback | None,
    payable: np.ndarray,
    active: np.ndarray,
    mode: str | None,
    schedule: tuple | None = None,
) -> Held | None:
    """Hold back and release ``payable`` [..., P] (int64 minor units, exact, when ``mode``
    names the plan's rounding; float64 unrounded when it is None). ``schedule`` (release
    ``payment``, exact, ``payable`` [R, P]): rows ``(person, period, due, weight)``, each
    period's held part split over its rows' due periods by weight (exactly)."""
    if hb is None:
        return None
    n = payable.shape[-1]
    due = _due(hb, np.asarray(active, dtype=bool))
    parcels = np.zeros((*payable.shape[:-1], n + 1), dtype=payable.dtype)
    held = np.zeros_like(payable)
    released = np.zeros_like(payable)
    balance = np.zeros_like(payable)
    for t in range(n):
        p = payable[..., t]
        h: np.ndarray
        if mode is not None:
            h = round_div(p.astype(object) * hb.share, MICRO, mode).astype(np.int64)
        else:
            h = p * (hb.share / MICRO)
        keep = np.maximum(h, 0)
        if schedule is None:
            parcels[..., due[t]] += keep
        else:
            _split(parcels, keep, schedule, t, due[t])
        # a clawback's held share cancels parcels not yet paid, those due last first
        cancel = np.maximum(-h, 0)
        cancelled = np.zeros_like(cancel)
        for s in range(n, t - 1, -1):
            take = np.minimum(cancel - cancelled, parcels[..., s])
            parcels[..., s] -= take
            cancelled += take
        held[..., t] = cancelled - keep
        released[..., t] = parcels[..., t]
        parcels[..., t] = 0
        balance[..., t] = parcels.sum(axis=-1)
    return Held(held, released, balance)


def _split(parcels: np.ndarray, keep: np.ndarray, schedule: tuple, t: int, fallback) -> None:
    """Period ``t``'s held parts ``keep`` [R] over the due periods of its schedule rows, in
    proportion to their weights; a person without rows in ``t`` to ``fallback``."""
    from attain.incentive.pool import split_exact

    person, period, due, weight = schedule
    lo, hi = np.searchsorted(period, [t, t + 1])
    rows = slice(lo, hi)
    who = person[rows]
    has = np.zeros(len(keep), dtype=bool)
    has[who] = True
    parcels[~has, fallback] += keep[~has]
    if hi > lo:
        people, group = np.unique(who, return_inverse=True)
        shares = split_exact(keep[people], group, weight[rows])
        np.add.at(parcels, (who, due[rows]), np.asarray(shares, dtype=parcels.dtype))

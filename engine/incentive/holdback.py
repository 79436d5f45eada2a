"""Instalments: a share of each period's payable held back and paid later.

Each period's payable ``p`` (after true-ups and carried balances) is split: ``h`` = the
plan's share of ``p``, rounded to the minor unit, is held back as a parcel released in a
later period (the plan's last period in force for ``year_end``; ``after_periods`` later
for ``later``, or never this year when that falls after it), and ``p − h`` is paid now.

With ``components`` only those components' lines count: ``h`` is the share of their part
of ``p`` (their lines, within ``p``: never more than the period pays, nor a larger
cancellation than it takes back), and the other components are paid in full.

A negative payable (a clawback) is split the same way: its held share ``|h|`` cancels
parcels still held — not yet paid, so nothing is taken from the rep for them — those due
last first; what the parcels cannot cover, and the rest ``p − h``, is clawed back from pay.
With ``release: payment`` a parcel belongs to the bookings it was held for, so a period's
cancellations first cancel what is still held for their own deals (``|h|`` split over the
period's cancelled deals by the credit they take back), then other parcels, due last first.
So paid and unpaid parts are taken back separately, and the year pays what it earned
minus what is still held at its end.

Lines: ``held_back`` (minus the parcel held; plus what a clawback cancelled) and
``held_released`` (parcels paid this period); the held balance after each period is
``held_balance_minor`` in the totals. The same steps run in exact integers and in float.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from attain.incentive.pool import split_exact
from attain.incentive.rational import MICRO, round_div

__all__ = [
    "HOLDBACK_LINES",
    "CompiledHoldback",
    "Held",
    "PaymentSchedule",
    "compile_holdback",
    "held_base",
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
    components: tuple[int, ...] | None = None  # the held components' positions (None: all)


def compile_holdback(holdback, names: Sequence[str] = ()) -> CompiledHoldback | None:
    """The holdback of a plan whose components are ``names``, in order."""
    if holdback is None:
        return None
    held = holdback.components
    return CompiledHoldback(
        share=round(holdback.share * MICRO),
        release=holdback.release,
        after=int(holdback.after_periods or 0),
        column=holdback.column,
        components=None if held is None else tuple(list(names).index(n) for n in held),
    )


def held_base(hb: CompiledHoldback, payable: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """What each period's held share is taken of [..., P]: its ``payable``, or with
    ``components`` their ``lines`` [C, ..., P] summed, kept within the payable: never more
    than the period pays, nor a larger cancellation than it takes back (what a carried
    balance or the total cap takes off falls on the other components first)."""
    if hb.components is None:
        return payable
    own = lines[list(hb.components)].sum(axis=0)
    within_pay = np.minimum(np.maximum(own, 0), payable)
    within_claw = np.maximum(np.minimum(own, 0), payable)
    return np.where(payable >= 0, within_pay, within_claw)


@dataclass(frozen=True)
class PaymentSchedule:
    """What the held parts of a holdback released on payment belong to (exact path).

    Bookings, sorted by period, person and due: one row per person × period of credit ×
    pay period of payment (``due``; the number of periods: not paid this year) × deal,
    weighted by their credit. Cancellations, sorted by period: one row per person × period
    × deal, weighted by the credit they take back."""

    person: np.ndarray
    period: np.ndarray
    due: np.ndarray
    deal: np.ndarray
    weight: np.ndarray
    cancel_person: np.ndarray
    cancel_period: np.ndarray
    cancel_deal: np.ndarray
    cancel_weight: np.ndarray


@dataclass(frozen=True)
class Held:
    """Per person × period: the ``held_back`` and ``held_released`` lines, the balance
    still held after the period and (release ``payment``) what of ``held_back`` cancelled
    parcels of the period's own cancelled deals."""

    held: np.ndarray
    released: np.ndarray
    balance: np.ndarray
    own_cancelled: np.ndarray | None = None


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
    schedule: PaymentSchedule | None = None,
    base: np.ndarray | None = None,
) -> Held | None:
    """Hold back and release ``payable`` [..., P] (int64 minor units, exact, when ``mode``
    names the plan's rounding; float64 unrounded when it is None). ``base`` (the same
    shape, :func:`held_base`): what the held share is taken of; the payable when None.
    ``schedule`` (release ``payment``, exact, ``payable`` [R, P]): the bookings each
    period's held part is split over by credit (exactly), and the cancellations that
    cancel their own deals' parcels first."""
    if hb is None:
        return None
    base = payable if base is None else base
    active = np.asarray(active, dtype=bool)
    if schedule is not None:
        return _settle_by_deal(hb, base, active, mode, schedule)
    n = payable.shape[-1]
    due = _due(hb, active)
    parcels = np.zeros((*payable.shape[:-1], n + 1), dtype=payable.dtype)
    held = np.zeros_like(payable)
    released = np.zeros_like(payable)
    balance = np.zeros_like(payable)
    for t in range(n):
        h = _held_share(hb, base[..., t], mode)
        keep = np.maximum(h, 0)
        parcels[..., due[t]] += keep
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


def _held_share(hb: CompiledHoldback, base: np.ndarray, mode: str | None) -> np.ndarray:
    """``share`` of ``base``: rounded to the minor unit (exact) or unrounded (float)."""
    if mode is None:
        return base * (hb.share / MICRO)
    return round_div(base.astype(object) * hb.share, MICRO, mode).astype(np.int64)


def _settle_by_deal(
    hb: CompiledHoldback, base: np.ndarray, active: np.ndarray, mode: str | None, s: PaymentSchedule
) -> Held:
    """Release ``payment`` in exact integers, one parcel per booking row of the schedule
    and one per person × period for a held part without bookings (a true-up: due at the
    year's end). A cancellation takes back its own deal's parcels first."""
    n_r, n = base.shape
    m = len(s.person)
    cells = np.arange(n_r * n)
    person = np.concatenate([s.person, cells // n]).astype(np.int64)
    due = np.concatenate([s.due, _due(hb, active)[cells % n]]).astype(np.int64)
    row = np.arange(len(person))
    amount = np.zeros(len(person), dtype=np.int64)
    # parcels are taken back those due last first: a deal's own, then any of the person's
    by_person = np.lexsort((-row, -due, person))
    stride = int(max(s.deal.max(initial=0), s.cancel_deal.max(initial=0))) + 1
    deals, of_row = np.unique(s.person.astype(np.int64) * stride + s.deal, return_inverse=True)
    by_deal = np.lexsort((-row[:m], -due[:m], of_row))
    by_due = np.argsort(due, kind="stable")  # the parcels due in each period, released then
    due_at = np.searchsorted(due[by_due], np.arange(n + 1))
    held = np.zeros((n_r, n), dtype=np.int64)
    released = np.zeros_like(held)
    balance = np.zeros_like(held)
    own = np.zeros_like(held)
    for t in range(n):
        h = _held_share(hb, base[:, t], mode)
        keep = np.maximum(h, 0)
        _hold(amount, keep, s, t, m + cells[t::n])
        cancel = np.maximum(-h, 0)
        if cancel.any():
            lo, hi = np.searchsorted(s.cancel_period, [t, t + 1])
            if hi > lo and len(deals):  # each cancelled deal's share, by the credit it takes
                who = s.cancel_person[lo:hi]
                people, group = np.unique(who, return_inverse=True)
                want = split_exact(cancel[people], group, s.cancel_weight[lo:hi])
                key = who.astype(np.int64) * stride + s.cancel_deal[lo:hi]
                code = np.minimum(np.searchsorted(deals, key), len(deals) - 1)
                hit = deals[code] == key
                wanted = np.zeros(len(deals), dtype=np.int64)
                np.add.at(wanted, code[hit], np.asarray(want, dtype=np.int64)[hit])
                taken = _take(amount, by_deal, of_row, wanted)
                np.add.at(own[:, t], deals // stride, taken)
            held[:, t] = own[:, t] + _take(amount, by_person, person, cancel - own[:, t])
        held[:, t] -= keep
        now = by_due[due_at[t] : due_at[t + 1]]
        paid = np.zeros(n_r, dtype=np.int64)
        np.add.at(paid, person[now], amount[now])
        released[:, t] = paid
        amount[now] = 0
        balance[:, t] = (balance[:, t - 1] if t else 0) - held[:, t] - paid
    return Held(held, released, balance, own)


def _hold(amount: np.ndarray, keep: np.ndarray, s: PaymentSchedule, t: int, alone) -> None:
    """Period ``t``'s held parts ``keep`` [R] over its booking rows: over the due periods
    in proportion to their credit, then within each over the deals; a person without
    bookings in ``t`` to their own parcel ``alone[person]``."""
    lo, hi = np.searchsorted(s.period, [t, t + 1])
    who, due = s.person[lo:hi], s.due[lo:hi]
    has = np.zeros(len(keep), dtype=bool)
    has[who] = True
    amount[alone[~has]] += keep[~has]
    if hi == lo:
        return
    people, group = np.unique(who, return_inverse=True)
    # rows are sorted by person, then due: the (person, due) groups are runs
    first = np.r_[True, (who[1:] != who[:-1]) | (due[1:] != due[:-1])]
    bucket = np.cumsum(first) - 1
    weight = np.zeros(int(bucket[-1]) + 1, dtype=np.int64)
    np.add.at(weight, bucket, s.weight[lo:hi])
    per_due = split_exact(keep[people], group[first], weight)
    amount[lo:hi] += np.asarray(split_exact(per_due, bucket, s.weight[lo:hi]), dtype=np.int64)


def _take(amount: np.ndarray, order: np.ndarray, group: np.ndarray, want: np.ndarray):
    """Take up to ``want[g]`` from the parcels of each group ``g``, in ``order`` (the
    groups' parcels in runs, each in the order it gives them up); what each group gave."""
    a = amount[order]
    g = group[order]
    before = np.cumsum(a) - a
    first = np.r_[True, g[1:] != g[:-1]] if len(g) else np.zeros(0, dtype=bool)
    start = np.maximum.accumulate(np.where(first, np.arange(len(g)), 0))
    before -= before[start]
    take = np.clip(want[g] - before, 0, a)
    amount[order] = a - take
    gave = np.zeros(len(want), dtype=np.int64)
    np.add.at(gave, g, take)
    return gave

"""The exact evaluator: windows of measures → every line's amount, to the minor unit.

Stages, each over whole arrays (people × windows):

1. each component's exact amount as a fraction (``formulas``), gated;
2. modifiers (× factor), then the component's cap, then rounding (per line, or
   once per total with a ``rounding`` line for the difference);
3. the total cap (a ``total_cap`` line);
4. true-up: a window is the period, or the year to date; what is payable now is
   what the window earned minus what was paid before. With ``carry_forward`` a
   negative balance is not paid back now but recovered from later earnings
   (a ``carried_forward`` line); with ``claw_back`` it is a negative payout;
5. the draw: a top-up to the guaranteed amount (or an advance of it, settled at the
   period's end), and (recoverable) its recovery from later earnings above the draw.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from attain.errors import DataError, Problem
from attain.incentive.compile import (
    ADJUSTMENT_LINES,
    CompiledCap,
    CompiledComponent,
    CompiledPlan,
)
from attain.incentive.holdback import held_base, settle_holdback
from attain.incentive.kinds import ExactInputs, kind_of
from attain.incentive.kinds.draw import settle_exact
from attain.incentive.rational import MICRO, round_div
from attain.incentive.text import digits_for

__all__ = [
    "ADJUSTMENTS",
    "Evaluation",
    "Windows",
    "evaluate_exact",
    "modifier_factors",
    "windows_upto",
]

#: Lines that are not components, in statement order after the components.
ADJUSTMENTS = ADJUSTMENT_LINES


@dataclass(frozen=True)
class Windows:
    """Measures per person × window (int64 minor units); a window is a period or the YTD."""

    net: np.ndarray  # [R, W, K]
    gross: np.ndarray  # [R, W, K]
    targets: np.ndarray  # [R, W, K]
    ti: np.ndarray  # [R] yearly target incentive, minor units (after the plan's share)
    months: np.ndarray  # [W] effective months in the window (TI of a window = ti × months / 12)
    periods: np.ndarray  # [W] effective pay periods in the window
    active: np.ndarray  # [W] bool: the window's own period is effective
    participant: np.ndarray  # [R] bool
    people: pd.DataFrame
    precomputed: dict = field(default_factory=dict)
    """Component name → (num, den) per [R, W], for deal-scope tiers, spiffs and pools."""
    records: dict = field(default_factory=dict)
    """Component name → what its deal-level amounts were made of (pool sizes, units)."""
    measures: dict = field(default_factory=dict)
    """Measure name → (value, denominator, rows) per [R, W], int64 millionths, from the
    measures table (KPI components)."""
    proration: dict = field(default_factory=dict)
    """A dated org: component name → its days in role, role test, share of each window
    and own measures (:func:`attain.incentive.proration.dated_windows`); ``"<draw>"`` →
    the draw's share of each period. Empty without dates."""


@dataclass(frozen=True)
class Evaluation:
    """Every line's amount per person × period (int64 minor units)."""

    lines: tuple[str, ...]
    earned: np.ndarray  # [L, R, P]: what the window earned (YTD or the period)
    payable: np.ndarray  # [L, R, P]: paid in the period
    total: np.ndarray  # [R, P]: payable in the period, all lines
    draw_balance: np.ndarray  # [R, P]: outstanding recoverable draw after the period
    carried_balance: np.ndarray  # [R, P]: earned to date minus paid to date (< 0: carried)
    details: dict  # component name → dict of input arrays [R, W] for statements
    draw_settled: np.ndarray | None = None  # [R, P]: the advance settled in draw_recovery
    held_balance: np.ndarray | None = None  # [R, P]: held back after the period, not yet paid
    held_own: np.ndarray | None = None  # [R, P]: of held_back, own deals' parcels cancelled


def evaluate_exact(compiled: CompiledPlan, w: Windows, through: int | None = None) -> Evaluation:
    """Evaluate every component over the windows, then caps, rounding, true-ups and draws.

    ``through`` (a window's index): the windows up to it only, where that gives the year's
    numbers for them (:func:`windows_upto`), as a close that pays no later period needs;
    the arrays then stop there. Else, and by default, the whole year."""
    if through is not None:
        w = windows_upto(compiled, w, through + 1)
    mode = compiled.rounding_mode
    ti_num = w.ti.astype(object)[:, None] * w.months.astype(object)[None, :]
    ti_den = compiled.n_slots  # TI of a window = ti × its slots in force ÷ slots in the year
    quotients, details = [], {}
    for c in compiled.components:
        num, den, info = _component(c, w, ti_num, ti_den)
        cap_ti = ti_num, ti_den
        share = w.proration.get(c.name, {}).get("share")
        if share is not None:  # fixed amounts for the share of the window held (dated org)
            num, den = np.asarray(num).astype(object) * share[0], den * share[1]
            info["proration"], info["prorated"] = share, (num, den)
            cap_ti = ti_num * share[0], ti_den * share[1]
        num, den, info["factor"] = _modify(compiled, c, w, num, den)
        info["modified"] = (num, den)
        num, den, info["capped"] = _cap(c.cap, num, den, *cap_ti)
        info["line"] = (num, den)
        quotients.append((num, den))
        details[c.name] = info
    earned = np.stack([round_div(n, d, mode) for n, d in quotients])
    rounding = np.zeros(earned.shape[1:], dtype=np.int64)
    if compiled.rounding_apply == "per_total":
        rounding = round_div(*_sum_q(quotients), mode) - earned.sum(axis=0)
    subtotal = earned.sum(axis=0) + rounding
    total_cap = _total_cap(compiled.total_cap, subtotal, ti_num, ti_den)
    earned = np.concatenate([earned, rounding[None], total_cap[None]])
    return _true_up(compiled, w, earned, details)


def windows_upto(compiled: CompiledPlan, w: Windows, n: int) -> Windows:
    """The first ``n`` windows of ``w``, or ``w`` itself where they would not give the
    year's numbers for those windows.

    Each stage reads no later window: a component's amount in a window is made of that
    window's measures (a YTD window already sums the months before it); caps, rounding
    and the total cap work cell by cell; the true-up, the carry-forward and the draw go
    period by period; a holdback released ``later`` is due a set number of periods on (a
    parcel due past the ``n``-th is counted as outstanding either way). Kept whole: a
    holdback released at the year's end or on payment (its due dates read the year's last
    period in force). Deal-level amounts, their records (units, pool sizes) and a dated
    org's shares and days in role are per person × window (× product), or per person or
    deal, made from the year's data: their windows are cut like the measures.
    ``tests/test_incentive_upto.py`` holds every kind to it.
    """
    hb = compiled.holdback
    if n >= len(w.active) or (hb is not None and hb.release != "later"):
        return w
    year = len(w.active)

    def cut(a):
        if isinstance(a, np.ndarray) and a.ndim >= 2 and a.shape[1] == year:
            return a[:, :n]
        if isinstance(a, tuple):
            return tuple(cut(b) for b in a)
        if isinstance(a, dict):
            return {k: cut(b) for k, b in a.items()}
        return a

    return replace(
        w,
        net=w.net[:, :n],
        gross=w.gross[:, :n],
        targets=w.targets[:, :n],
        months=w.months[:n],
        periods=w.periods[:n],
        active=w.active[:n],
        precomputed=cut(w.precomputed),
        records=cut(w.records),
        measures=cut(w.measures),
        proration=cut(w.proration),
    )


def _measure(arr: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return arr[..., mask].sum(axis=-1)


def _component(c: CompiledComponent, w: Windows, ti_num, ti_den: int):
    """One component's exact amount, its kind's, then its gate and roles."""
    own = w.proration.get(c.name, {})  # a dated org: the days in the component's roles
    net, gross, targets = (own.get(k, getattr(w, k)) for k in ("net", "gross", "targets"))
    S = _measure(gross if c.select_on == "gross" else net, c.mask)
    A = _measure(gross if c.paid_on == "gross" else net, c.mask)
    T = _measure(targets, c.mask)
    info = {"select": S, "paid": A, "target": T, "ti": ti_num, "ti_den": ti_den}
    gate_ok = np.ones(S.shape, dtype=bool)
    if c.gate is not None:
        Sg, Tg = _measure(net, c.gate.mask), _measure(targets, c.gate.mask)
        gate_ok = (Tg > 0) & (
            Sg.astype(object) * MICRO >= c.gate.min_attainment * Tg.astype(object)
        )
        info.update(
            gate_ok=gate_ok,
            gate_select=Sg,
            gate_target=Tg,
            gate_digits=digits_for([c.gate.min_attainment]),
        )
    accel_fail = ~gate_ok if c.gate is not None and c.gate.accelerator_only else None
    info.update(w.records.get(c.name, {}))
    info.update(kind_of(c).window_info(c, w))
    x = ExactInputs(
        S, A, T, ti_num, accel_fail, w.precomputed.get(c.name), info=info, ti_den=ti_den
    )
    info["inputs"] = x
    amount = kind_of(c).exact(c, x)
    if amount is None:
        raise ValueError(f"component {c.name!r} ({c.type}) needs its deal-level amounts")
    num, den = amount
    if c.gate is not None and not c.gate.accelerator_only:
        num = np.where(gate_ok, num, 0)
    if c.roles is not None:
        role_ok = own.get("role_ok", w.people["role"].isin(c.roles).to_numpy())
        num = np.where(role_ok[:, None], num, 0)
        info["role_ok"] = role_ok
    info["kind"] = (np.asarray(num), den)
    return np.asarray(num), den, info


def modifier_factors(
    compiled: CompiledPlan, c: CompiledComponent, people: pd.DataFrame
) -> list[np.ndarray]:
    """The modifiers' factors for ``c`` per person (int64 millionths), one array each."""
    out = []
    for m in compiled.modifiers:
        if m.components is not None and c.name not in m.components:
            continue
        if m.column not in people.columns:
            raise DataError(
                [
                    Problem(
                        "<org>",
                        f"modifier `{m.name}` reads org column `{m.column}`, which the org data lacks",
                        hint="load the plan with its company, or add the column",
                    )
                ]
            )
        col = people[m.column]
        if m.factor is not None:
            truthy = (
                col.astype(str).str.strip().str.lower().isin(["1", "true", "yes", "y", "t", "1.0"])
            )
            f = np.where(truthy.to_numpy(), m.factor, MICRO)
        else:
            f = np.rint(pd.to_numeric(col, errors="coerce").fillna(1.0).to_numpy() * MICRO)
        out.append(f.astype(np.int64))
    return out


def _modify(compiled, c, w: Windows, num, den):
    factor = np.full(len(w.people), MICRO, dtype=object)
    factors = modifier_factors(compiled, c, w.people)
    if factors:
        num = num.astype(object)  # products below may outgrow int64
    for f in factors:
        num = num * f.astype(object)[:, None]
        den = den * MICRO
        factor = factor * f.astype(object) // MICRO
    return num, den, factor


def _cap(cap: CompiledCap | None, num, den, ti_num, ti_den: int):
    if cap is None:
        return num, den, np.zeros(np.shape(num), dtype=bool)
    cap_num, cap_den = _cap_q(cap, ti_num, ti_den)
    num = np.asarray(num).astype(object)  # products below may outgrow int64
    over = np.asarray(num * cap_den > cap_num * den, dtype=bool)
    return np.where(over, cap_num * den, num * cap_den), den * cap_den, over


def _cap_q(cap: CompiledCap, ti_num, ti_den: int):
    if cap.amount is not None:
        return np.full(ti_num.shape, cap.amount, dtype=object), 1
    return ti_num * cap.multiple, ti_den * MICRO


def _sum_q(quotients):
    num, den = quotients[0]
    num = np.asarray(num).astype(object)
    for n, d in quotients[1:]:
        num, den = num * d + n * den, den * d
    return num, den


def _total_cap(cap: CompiledCap | None, subtotal: np.ndarray, ti_num, ti_den: int) -> np.ndarray:
    if cap is None:
        return np.zeros(subtotal.shape, dtype=np.int64)
    cap_num, cap_den = _cap_q(cap, ti_num, ti_den)
    limit = round_div(cap_num, cap_den, "down")
    return np.minimum(subtotal, limit) - subtotal


def _true_up(compiled: CompiledPlan, w: Windows, earned: np.ndarray, details: dict) -> Evaluation:
    # Nothing before the plan is in force; after it ends a YTD window keeps what the
    # year earned (it is not unearned: zeroing it would claw everything back).
    started = (w.periods > 0)[None, None, :]
    earned = np.where(started, earned, 0)
    if compiled.measure == "ytd":
        # Windows are cumulative: pay the change in what the year to date has earned.
        paid_lines = np.diff(earned, axis=-1, prepend=0)
        cumulative = earned.sum(axis=0)
    else:
        paid_lines = earned
        cumulative = np.cumsum(earned.sum(axis=0), axis=-1)
    if compiled.negative_balance == "carry_forward":
        paid_to_date = np.maximum.accumulate(np.maximum(cumulative, 0), axis=-1)
    else:
        paid_to_date = cumulative
    total = np.diff(paid_to_date, axis=-1, prepend=0)
    carried = total - paid_lines.sum(axis=0)
    balance_carried = cumulative - paid_to_date
    settlement = settle_exact(compiled.draw, total, w.active, w.proration.get("<draw>"))
    draw, recovery, balance = settlement.draw, settlement.recovery, settlement.balance
    total = total + draw + recovery
    zero = np.zeros_like(total)
    extra = []
    schedule = w.records.get("<holdback>", {}).get("schedule")
    hb = compiled.holdback
    base = None if hb is None else held_base(hb, total, paid_lines)
    held = settle_holdback(hb, total, w.active, compiled.rounding_mode, schedule, base)
    held_balance = held_own = None
    if held is not None:
        total = total + held.held + held.released
        extra = [held.held[None], held.released[None]]
        held_balance, held_own = held.balance, held.own_cancelled
    payable = np.concatenate([paid_lines, carried[None], draw[None], recovery[None], *extra])
    earned_all = np.concatenate([earned, zero[None], draw[None], recovery[None], *extra])
    keep = w.participant[None, :, None]
    return Evaluation(
        lines=compiled.line_names,
        earned=np.where(keep, earned_all, 0),
        payable=np.where(keep, payable, 0),
        total=np.where(keep[0], total, 0),
        draw_balance=np.where(keep[0], balance, 0),
        carried_balance=np.where(keep[0], balance_carried, 0),
        details=details,
        draw_settled=np.where(keep[0], settlement.settled, 0),
        held_balance=None if held_balance is None else np.where(keep[0], held_balance, 0),
        held_own=None if held_own is None else np.where(keep[0], held_own, 0),
    )

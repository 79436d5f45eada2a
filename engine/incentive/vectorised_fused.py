"""The vectorised evaluator's fused total: every component of a slice of reps at once.

:func:`~attain.incentive.vectorised.evaluate` without ``detail`` pays the year's total.
For the plans most simulations run (marginal commissions on an amount, attainment
curves, step bonuses; caps, modifiers and a total cap; no gates, draws, dates or team
pools) it pays them here: a slice of reps small enough that every temporary stays in
the CPU's cache goes through all the components before the next slice, in buffers
allocated once, with a few numpy calls per component (on slices that fit in cache a
call's own cost is as large as its pass). Each element goes through the same
operations in the same order as on the general path (the kinds' own kernels,
:func:`~attain.incentive.kinds.commission._marginal`,
:func:`~attain.incentive.kinds.curve._curve`,
:func:`~attain.incentive.kinds.steps.steps_into`), so the figures are the same bit for bit
(tested on random plans and sales).
"""

from __future__ import annotations

import numpy as np

from attain.incentive.floats import M, accumulate, attainment, cap_value, clip, measure_sum
from attain.incentive.kinds.commission import _marginal
from attain.incentive.kinds.curve import _curve, curve_segments
from attain.incentive.kinds.steps import steps_into

__all__ = ["FUSED_BLOCK", "fused_total", "fusable"]

#: Elements (reps × trials × windows) of each slice: measured on the bench plan on one
#: core (2 MB of L2): 3 x 2^13 fastest (two trials of 10,000 reps), 2^15 1.2-1.4x slower.
FUSED_BLOCK = 3 << 13


def _component_ok(c) -> bool:
    if c.gate is not None or c.roles is not None:
        return False
    if c.type == "commission":
        return (
            c.method == "marginal"
            and c.basis == "amount"
            and c.scope == "period"
            and c.select_on == "net"
            and c.paid_on == "net"
            and c.floor is None
        )
    return c.type in ("attainment_curve", "step_bonus")


def fusable(compiled, pop, sales4) -> bool:
    """Whether the fused total pays ``compiled`` on ``pop`` (else the general path does)."""
    from attain.incentive.kinds import kind_of
    from attain.incentive.vectorised import clawback_factor

    if compiled.draw is not None or compiled.holdback is not None:
        return False
    if compiled.effective_from is not None or compiled.effective_to is not None:
        return False
    if pop.prorate or pop.restrict or pop.roll_unit is not None:
        return False
    if sales4.dtype != np.float64 or clawback_factor(compiled, pop) is not None:
        return False
    if any(kind_of(c).levels(c) for c in compiled.components):  # type: ignore[attr-defined]
        return False  # team pools read other reps' sales
    return bool(compiled.components) and all(_component_ok(c) for c in compiled.components)


def fused_total(compiled, sales4, targets3, pop, per_period: bool, out, year_end) -> None:
    """The year's payout [R, t] of each rep into ``out``, slice of reps by slice of reps.

    ``year_end(sub, ytd, rows)`` is the general path's year end (and participants) of the
    earnings ``sub`` [r, t, P] of the reps ``rows``."""
    from attain.incentive.vectorised import _windows

    n_reps, n_trials, n_periods, _ = sales4.shape
    ytd = compiled.measure == "ytd" and per_period and n_periods > 1
    months, periods = _windows(compiled, n_periods, per_period)
    month_share = months / compiled.n_slots
    if sales4.strides[1] > sales4.strides[0] and n_reps * n_periods <= FUSED_BLOCK:
        # Trials-first sales (the simulator's): slices of whole trials, contiguous, which
        # every pass reads as one run of memory (measured 1.1x faster than slices of reps)
        rows, trials = n_reps, min(n_trials, max(1, FUSED_BLOCK // (n_reps * n_periods)))
    else:
        trials = min(n_trials, max(1, FUSED_BLOCK // n_periods))
        rows = max(1, FUSED_BLOCK // (trials * n_periods))
    positive_ti = bool((pop.ti > 0).all())
    # TI × the months' share finite and above zero everywhere: a curve's cap at a multiple
    # of it can come before the multiply by it (:func:`_line`)
    ti_scales = positive_ti and bool(np.isfinite(pop.ti).all() and (month_share > 0).all())
    plans = [
        (c, _prepare(c, compiled.scale, positive_ti, ti_scales and c.name not in pop.factors))
        for c in compiled.components
    ]
    masks = {c.mask.tobytes(): c.mask for c in compiled.components}
    # The year end written straight into ``out`` (one window, everyone paid): the same
    # operations as :func:`~attain.incentive.vectorised._year_end`.
    direct = n_periods == 1 and bool(pop.participant.all())
    carry = compiled.negative_balance == "carry_forward"
    buffers: dict = {}
    # Per rep, for every slice at once (each slice takes its rows: the same numbers).
    tgt = accumulate(np.add, targets3, axis=1) if ytd else targets3
    all_targets = {k: measure_sum(tgt, m)[:, None, :] for k, m in masks.items()}
    has_target = {k: bool((v > 0).all()) for k, v in all_targets.items()}
    all_ti_w = pop.ti[:, None, None] * month_share[None, None, :]
    for r0 in range(0, n_reps, rows):
        r = slice(r0, min(r0 + rows, n_reps))
        targets = {k: v[r] for k, v in all_targets.items()}
        ti_w = all_ti_w[r]
        for t0 in range(0, n_trials, trials):
            t = slice(t0, t0 + trials)
            s4 = sales4[r, t]
            net = accumulate(np.add, s4, axis=2) if ytd else s4
            S = {k: measure_sum(net, m) for k, m in masks.items()}
            like = next(iter(S.values()))
            if like.shape not in buffers:  # a full slice's, the last one's
                n = 4 + 2 * len(masks)
                buffers[like.shape] = [np.empty_like(like) for _ in range(n)]
                buffers[like.shape].append(np.empty_like(like, dtype=bool))
            sub, value, part, step, *own, hit = buffers[like.shape]
            atts, own = own[: len(masks)], own[len(masks) :]
            for (k, v), buf in zip(S.items(), own, strict=True):
                if not (v.flags.f_contiguous or v.flags.c_contiguous):
                    # a view of the sales with gaps (one trial's reps apart): a contiguous
                    # copy, read faster by every pass after
                    S[k] = buf
                    np.copyto(buf, v)
            att = {}
            for (k, v), buf in zip(S.items(), atts, strict=True):
                if has_target[k]:  # every rep has a target: one division, no mask
                    att[k] = np.divide(v, targets[k], out=buf)
                else:
                    att[k] = attainment(v, targets[k])
            for i, (c, args) in enumerate(plans):
                dst = sub if i == 0 else value
                key = c.mask.tobytes()
                _line(
                    c, args, S[key], att[key], ti_w, pop, r, compiled.scale, (dst, part, step, hit)
                )
                if i:
                    sub += value
            if compiled.total_cap is not None:
                sub += np.minimum(sub, cap_value(compiled.total_cap, ti_w, compiled.scale)) - sub
            if not direct:
                out[r, t] = year_end(sub, ytd, r)
            elif carry:
                np.maximum(sub[..., 0], 0.0, out=out[r, t])
            else:
                out[r, t] = sub[..., 0]


def _prepare(c, scale: int, positive_ti: bool, ti_scales: bool):
    """What a component's kernel reads, computed once (as the general path computes it),
    whether its cap is nowhere zero and the multiple of TI a curve is capped at first."""
    cap = c.cap
    nonzero_cap = cap is not None and (
        cap.amount != 0 if cap.amount is not None else cap.multiple > 0 and positive_ti
    )
    if c.type == "commission":
        per = 1 / scale
        return ([s * per for s in c.starts], c.values / M), nonzero_cap, None
    if c.type == "attainment_curve":
        first = None
        if ti_scales and cap is not None and cap.amount is None and cap.multiple > 0:
            first = cap.multiple / M
        return curve_segments(c), nonzero_cap, first
    return None, nonzero_cap, None


def _line(c, prepared, S, att, ti_w, pop, r: slice, scale: int, buffers) -> None:
    """One component's earnings of the slice into ``dst``, as
    :func:`~attain.incentive.vectorised_components.line` computes them."""
    args, nonzero_cap, cap_first = prepared
    dst, part, step, hit = buffers
    if c.type == "commission":
        starts, rates = args
        _marginal(S, starts, rates, out=dst, part=part)
    elif c.type == "attainment_curve":
        _curve(c, att, out=dst, part=part, hit=hit, segments=args)
        if cap_first is not None:
            # min(f × ti, m × ti) is min(f, m) × ti bit for bit when ti is finite and above
            # zero (rounding keeps the order): a clip at a number, not at an array of caps
            clip(dst, -np.inf, cap_first, out=dst)
            dst *= ti_w
            return
        dst *= ti_w
    else:
        steps_into(c, att, ti_w, scale, out=dst, hit=hit, step=step)
    factor = pop.factors.get(c.name)
    if factor is not None:
        dst *= factor[r, None, None]
    if c.cap is not None:
        cap = cap_value(c.cap, ti_w, scale)
        if nonzero_cap:  # no zero bound: np.clip's kernel gives np.minimum's bits, faster
            clip(dst, -np.inf, cap, out=dst)
        else:
            np.minimum(dst, cap, out=dst)

"""The vectorised evaluator's fused total: every component of a slice of reps at once.

:func:`~attain.incentive.vectorised.evaluate` without ``detail`` pays the year's total.
For the plans most simulations run (marginal commissions on an amount, attainment
curves, step bonuses; caps, modifiers and a total cap; no gates, draws, dates or team
pools) it pays them here: a slice of reps small enough that every temporary stays in
the CPU's cache goes through all the components before the next slice, in buffers
allocated once, with a few numpy calls per component (on slices that fit in cache a
call's own cost is as large as its pass). Each element goes through the same
operations in the same order as on the general path (the kinds' own kernels,
:func:`~attain.incentive.kinds.commission.marginal_kernel`,
:func:`~attain.incentive.kinds.curve.curve_kernel`,
:func:`~attain.incentive.kinds.steps.steps_kernel`, which the general path runs too), so
the figures are the same bit for bit (tested on random plans and sales).

What makes it fast, measured on the bench plan (a year: three marginal tiers, a curve
capped at 1.5 × TI, two steps) on one core, chunks of 16 trials × 10,000 reps:

- the kernels are prepared once per plan, population and layout and kept for the next
  chunk (their bounds and rates as float64 0-d arrays: a Python float costs every call
  a conversion); a call's fixed cost 93 → 52 us;
- the running total is summed in the output itself, and the carried balance's
  max(total, 0) is a clip (np.maximum is 4x slower), made only for a slice with a total
  below zero (a min reduction reads the slice, the clip also writes it), 0.0 added after
  only when the total could be -0.0 (max gives 0.0 there, the clip keeps -0.0);
- a curve's cap at a multiple of TI is taken before the multiply by TI, and not at all
  when the curve never pays that much (:func:`~attain.incentive.kinds.curve.curve_bound`);
- a mask (the curve's threshold, each step) is its bools cast to 0.0 and 1.0 then one
  multiply, 1.3x faster than a multiply by the bools (which casts them in small blocks);
  steps that add whole multiples of one amount are counted in bytes and cast once;
- slices of two trials (20,000 numbers, 4 live buffers in L2); one trial or three
  measured 1.1-1.3x slower.

Against the code before these (8570beb), the bench's one-core comparison: 1.35-1.46x
the evaluator alone over three runs (83.3-90.6 against 59.6-63.1 M rep-trials/s CPU,
load 8 on the 2 cores); against 56bb6be: see the README. What is left is mostly the
passes themselves (about 30 a slice, each near the L2's bandwidth) and numpy's own cost
of a call (about 0.5 us, 32 calls a slice); the Python around them is about 11 us a
slice of about 220.
"""

from __future__ import annotations

import numpy as np

from attain.incentive.floats import M, accumulate, attainment, cap_value, clip, measure_sum
from attain.incentive.kinds.commission import marginal_kernel
from attain.incentive.kinds.curve import curve_bound, curve_kernel, curve_segments
from attain.incentive.kinds.steps import steps_kernel

__all__ = ["FUSED_BLOCK", "fused_total", "fusable"]

#: Elements (reps × trials × windows) of each slice: measured on the bench plan on one
#: core (1.25 MB of L2): 3 x 2^13 fastest (two trials of 10,000 reps), one trial 1.1x and
#: three 1.3x slower.
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
    n_reps, n_trials, n_periods, _ = sales4.shape
    if sales4.strides[1] > sales4.strides[0] and n_reps * n_periods <= FUSED_BLOCK:
        # Trials-first sales (the simulator's): slices of whole trials, contiguous, which
        # every pass reads as one run of memory (measured 1.1x faster than slices of reps)
        rows, trials = n_reps, min(n_trials, max(1, FUSED_BLOCK // (n_reps * n_periods)))
    else:
        trials = min(n_trials, max(1, FUSED_BLOCK // n_periods))
        rows = max(1, FUSED_BLOCK // (trials * n_periods))
    # TI above zero (NaN: not) and finite everywhere: two reductions
    ti = pop.ti
    positive_ti = n_reps == 0 or bool(np.minimum.reduce(ti) > 0)
    finite_ti = n_reps == 0 or bool(np.maximum.reduce(ti) < np.inf)
    ytd = compiled.measure == "ytd" and per_period and n_periods > 1
    masks = {c.mask.tobytes(): c.mask for c in compiled.components}
    # Per rep, for every slice at once (each slice takes its rows: the same numbers).
    tgt = accumulate(np.add, targets3, axis=1) if ytd else targets3
    all_targets = [measure_sum(tgt, m)[:, None, :] for m in masks.values()]
    # every rep has a target (min > 0 is (T > 0).all(), NaN too)
    has_target = tuple(
        n_reps == 0 or bool(np.minimum.reduce(v, axis=None) > 0) for v in all_targets
    )
    p = _prepared(compiled, pop, n_periods, per_period, positive_ti, finite_ti, has_target)
    lines = p.lines
    # The year end written straight into ``out`` (one window, everyone paid): the same
    # operations as :func:`~attain.incentive.vectorised._year_end`.
    direct = n_periods == 1 and bool(np.logical_and.reduce(pop.participant))
    factors = [pop.factors.get(x.c.name) for x in lines]
    buffers: dict = {}
    all_ti_w = ti[:, None, None] * p.month_share[None, None, :]
    for r0 in range(0, n_reps, rows):
        r = slice(r0, min(r0 + rows, n_reps))
        targets = [v[r] for v in all_targets]
        ti_w = all_ti_w[r]
        rep_factors = [None if f is None else f[r, None, None] for f in factors]
        for t0 in range(0, n_trials, trials):
            t = slice(t0, t0 + trials)
            s4 = sales4[r, t]
            net = accumulate(np.add, s4, axis=2) if ytd else s4
            S = [measure_sum(net, m) for m in masks.values()]
            bufs = buffers.get(s4.shape)
            if bufs is None:  # a full slice's, the last one's
                like = S[0]
                bufs = buffers[s4.shape] = (
                    *(np.empty_like(like) for _ in range(3)),
                    np.empty_like(like, dtype=bool),
                    np.empty_like(like, dtype=np.uint8),
                    [(np.empty_like(like), np.empty_like(like)) for _ in masks],
                )
            sub, value, part, hit, count, own = bufs
            att: list = []
            for k, v in enumerate(S):
                if not (v.flags.f_contiguous or v.flags.c_contiguous):
                    # a view of the sales with gaps (one trial's reps apart): a contiguous
                    # copy, read faster by every pass after
                    np.copyto(own[k][0], v)
                    v = S[k] = own[k][0]
                if not p.reads_att[k]:
                    att.append(None)
                elif has_target[k]:  # every rep has a target: one division, no mask
                    att.append(np.divide(v, targets[k], out=own[k][1]))
                else:
                    att.append(attainment(v, targets[k]))
            if direct:  # the running total in ``out`` itself: no copy at the end
                sub = out[r, t][..., None]
            for i, line in enumerate(lines):
                dst = sub if i == 0 else value
                _line(line, S[line.m], att[line.m], ti_w, rep_factors[i], (dst, part, hit, count))
                if i:
                    np.add(sub, value, out=sub)
            if compiled.total_cap is not None:
                sub += np.minimum(sub, cap_value(compiled.total_cap, ti_w, compiled.scale)) - sub
            if not direct:
                out[r, t] = year_end(sub, ytd, r)
            elif p.carry:
                # nothing below zero (the usual case): a reduction reads, a clip also writes
                if not np.minimum.reduce(sub, axis=None) >= 0:  # NaN too
                    clip(sub, _ZERO, _INF, out=sub)
                if p.zero_after:
                    np.add(sub, _ZERO, out=sub)


_ZERO, _INF, _NEG_INF = np.array(0.0), np.array(np.inf), np.array(-np.inf)

#: What :func:`fused_total` makes of the last few (plan, population) pairs it paid, with
#: what identifies them: the simulator pays the same plan chunk after chunk (preparing
#: its kernels costs as much as a slice's passes).
_PREPARED: dict = {}


class _Prepared:
    """A plan's lines and what the slices read, for one layout and population."""

    def __init__(self, compiled, pop, n_periods, per_period, positive_ti, finite_ti, has_target):
        from attain.incentive.vectorised import _windows

        months, _ = _windows(compiled, n_periods, per_period)
        self.month_share = months / compiled.n_slots
        # TI × the months' share finite and above zero everywhere: a curve's cap at a
        # multiple of it can come before the multiply by it (:class:`_Line`)
        ti_scales = positive_ti and finite_ti and bool((self.month_share > 0).all())
        keys = list({c.mask.tobytes(): None for c in compiled.components})
        self.lines = [
            _Line(c, compiled.scale, pop, positive_ti, ti_scales, has_target, keys)
            for c in compiled.components
        ]
        self.reads_att = [
            any(x.m == k and x.reads_att for x in self.lines) for k in range(len(keys))
        ]
        self.carry = compiled.negative_balance == "carry_forward"
        # max(x, 0) is clip(x, 0, inf) (4x faster) but for -0.0 (max gives 0.0): adding 0.0
        # after gives max's bits, a pass not needed when the total cannot be -0.0
        self.zero_after = compiled.total_cap is not None or not self.lines[-1].never_negative_zero


def _prepared(compiled, pop, *args) -> _Prepared:
    # the modifiers' names too: a line with one is prepared otherwise
    key = (id(compiled), id(pop), tuple(pop.factors), *args)
    held = _PREPARED.get(key)
    if held is not None and held[0] is compiled and held[1] is pop:
        return held[2]
    prepared = _Prepared(compiled, pop, *args)
    for old in list(_PREPARED)[:-7]:  # the last 7 kept (threads may drop the same one)
        _PREPARED.pop(old, None)
    _PREPARED[key] = (compiled, pop, prepared)  # held: their ids stay theirs
    return prepared


class _Line:
    """One component's kernel and what it reads, prepared once: its cap, whether that cap
    is nowhere zero, and a curve's cap at a multiple of TI taken first (or not at all
    when the curve never pays that much)."""

    def __init__(self, c, scale: int, pop, positive_ti: bool, ti_scales: bool, has_target, keys):
        self.c, self.scale, self.m = c, scale, keys.index(c.mask.tobytes())
        factor = c.name in pop.factors
        self.reads_att = c.type != "commission"
        # the steps' total is never -0.0 (it starts from 0.0 or a non-negative amount)
        self.never_negative_zero = c.type == "step_bonus" and not factor and c.cap is None
        cap = c.cap
        self.nonzero_cap = cap is not None and (
            cap.amount != 0 if cap.amount is not None else cap.multiple > 0 and positive_ti
        )
        self.cap_first = None  # a number to clip the curve at before the multiply by TI
        self.capped = cap is not None
        if c.type == "commission":
            per = 1 / scale
            self.kernel = marginal_kernel([s * per for s in c.starts], c.values / M)
        elif c.type == "attainment_curve":
            segments = curve_segments(c)
            # every rep with a target: NaN only from NaN sales, which make the total NaN
            self.kernel = curve_kernel(c, segments, nan_check=not has_target[self.m])
            by_ti = cap is not None and cap.amount is None and cap.multiple > 0
            if ti_scales and not factor and by_ti:
                self.capped = False
                if curve_bound(segments) > cap.multiple / M:
                    self.cap_first = np.array(cap.multiple / M)
        else:
            self.kernel = steps_kernel(c, scale)


def _line(line: _Line, S, att, ti_w, factor, buffers) -> None:
    """One component's earnings of the slice into ``dst``, as
    :func:`~attain.incentive.vectorised_components.line` computes them."""
    dst, part, hit, count = buffers  # part, count: scratch
    c = line.c
    if c.type == "commission":
        line.kernel(S, dst, part)
    elif c.type == "attainment_curve":
        line.kernel(att, dst, part, hit)
        if line.cap_first is not None:
            # min(f × ti, m × ti) is min(f, m) × ti bit for bit when ti is finite and above
            # zero (rounding keeps the order): a clip at a number, not at an array of caps
            clip(dst, _NEG_INF, line.cap_first, out=dst)
        np.multiply(dst, ti_w, out=dst)
    else:
        line.kernel(att, ti_w, dst, hit, part, count)
    if factor is not None:
        dst *= factor
    if line.capped:
        cap = cap_value(c.cap, ti_w, line.scale)
        if line.nonzero_cap:  # no zero bound: np.clip's kernel gives np.minimum's bits, faster
            clip(dst, -np.inf, cap, out=dst)
        else:
            np.minimum(dst, cap, out=dst)

"""The vectorised evaluator's window and float helpers, shared by every component kind.

A :class:`Window` holds one chunk's measures (credit, targets and TI per rep × trial ×
window); each set of products is summed, and its attainment divided, once (a plan's
components usually measure the same products).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from attain.incentive.kinds.base import CompiledCap
    from attain.incentive.vectorised import Population

__all__ = [
    "M",
    "Window",
    "accumulate",
    "attain_ok",
    "attainment",
    "cap_value",
    "clip",
    "f64",
    "kept",
    "measure_sum",
]

M = 1e6  # millionths

#: The ufunc np.clip(x, low, high) runs, without its wrapper (which costs as much as a pass
#: over a slice that fits in the cache).
clip: np.ufunc = importlib.import_module(
    "numpy._core.umath" if hasattr(np, "_core") else "numpy.core.umath"
).clip


def f64(x):
    """A number as a float64 0-d array (None stays None): a kernel called often passes its
    bounds and rates so, since a Python float costs every ufunc call a conversion."""
    return None if x is None else np.array(x, dtype=np.float64)


class Window:
    """One chunk's measures, shared by its components."""

    def __init__(self, net, tgt, ti_w, pop: Population, periods, scale: int):
        self.net, self.tgt, self.ti_w = net, tgt, ti_w
        self.pop, self.periods, self.scale = pop, periods, scale
        self.sales = net  # per-period sales [R, t, P, K] (not cumulated), for deal features
        self.ytd = False  # windows are year-to-date
        self.started = None  # bool[P]: windows the plan is in force in (effective dates)
        self.months = np.ones(1)  # [P] slots in force in each window (KPI targets)
        self.credit_factor = np.ones(1)  # [K] credit kept of the net sales (clawback share)
        self.n_slots = 12
        self.prorate: dict[str, np.ndarray] = {}  # a dated org: name → share [R, 1, P]
        #: mask → the targets' sum [R, P] when made once for many windows (else measured)
        self.target_sum: Callable[[np.ndarray], np.ndarray] | None = None
        #: mask → the credit's sum [R, t, P], shared with other plans paid on the same
        #: sales (:func:`attain.incentive.evaluate`'s ``shared``); None: this window's own
        self.credit_sums: dict[bytes, np.ndarray] | None = None
        self._measures: dict[bytes, tuple] = {}
        self._attainments: dict[bytes, np.ndarray] = {}

    def measure(self, mask: np.ndarray):
        """Credit S [R, t, P] and target T [R, 1, P] of the products in ``mask``."""
        key = mask.tobytes()
        if key not in self._measures:
            sums = self.target_sum
            self._measures[key] = (
                self._credit(mask, key),
                (measure_sum(self.tgt, mask) if sums is None else sums(mask))[:, None, :],
            )
        return self._measures[key]

    def _credit(self, mask: np.ndarray, key: bytes) -> np.ndarray:
        """The credit's sum over ``mask``, made once for every plan sharing the sales."""
        shared = self.credit_sums
        if shared is None:
            return measure_sum(self.net, mask)
        if key not in shared:
            shared[key] = measure_sum(self.net, mask)
        return shared[key]

    def attainment(self, mask: np.ndarray) -> np.ndarray:
        """S / T of ``mask`` (read-only: shared between components)."""
        key = mask.tobytes()
        if key not in self._attainments:
            self._attainments[key] = attainment(*self.measure(mask))
        return self._attainments[key]

    def gross(self, mask: np.ndarray) -> np.ndarray:
        """Gross bookings of ``mask`` [R, t, P]: net ÷ (1 − cancellation rate) per product."""
        deals = self.pop.deals
        if deals is None:
            return self.measure(mask)[0]
        factor = np.where(mask, deals.gross_factor() / self.credit_factor, 0.0)
        if self.net.shape[-1] == 1:  # no products axis: the products' mean factor
            return self.net[..., 0] * factor[mask].mean()
        return self.net @ factor

    def cumulate(self, value: np.ndarray) -> np.ndarray:
        """Per-period amounts [R, t, P] → the windows' (year to date when measuring YTD)."""
        return accumulate(np.add, value) if self.ytd else value


def measure_sum(arr: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Sum over the masked products; without a products axis every component sees all."""
    if arr.shape[-1] == 1 and len(mask) != 1:
        return arr[..., 0]
    picked = kept(("picked", mask.dtype.str, mask.shape, mask.tobytes()), mask, _indices)
    if 0 < len(picked) < 8 and arr.dtype == np.float64:
        # A few products: one add each, from 0.0 as numpy's sum adds them (the same bits,
        # signed zeros too), 3x faster than a reduction over a short innermost axis.
        out = arr[..., picked[0]] + 0.0
        for k in picked[1:]:
            out += arr[..., k]
        return out
    if mask.all():
        return arr.sum(axis=-1)
    return arr[..., mask].sum(axis=-1)


def _indices(mask: np.ndarray) -> np.ndarray:
    picked = np.flatnonzero(mask)
    picked.flags.writeable = False
    return picked


def cap_value(cap: CompiledCap, ti_w: np.ndarray, scale: int):
    if cap.amount is not None:
        return cap.amount / scale
    return ti_w * (cap.multiple / M)


def attain_ok(S, T, level_micro):
    return (T > 0) & (level_micro * T <= S * M)


def attainment(S, T):
    """S / T; NaN where there is no target (every comparison with NaN is false)."""
    out = np.empty_like(S, shape=np.broadcast_shapes(S.shape, T.shape))
    has_target = T > 0
    if has_target.all():  # the usual case: one division, no mask
        return np.divide(S, T, out=out)
    out.fill(np.nan)
    return np.divide(S, T, out=out, where=has_target)


def accumulate(ufunc, x, axis: int = -1):
    """``ufunc.accumulate(x, axis)`` over the periods, one period at a time: the same
    operations in the same order, but a pass over reps × trials per period runs about
    twice as fast as numpy's accumulate along a short axis. One window is its own."""
    if x.shape[axis] == 1:
        return x
    out = np.empty_like(x)
    axis %= x.ndim
    # the axes by stride, innermost first (unit axes last; ties in axis order)
    inner = [i for _, i in sorted(_stride_order(x))]
    if x.ndim > 1 and inner[1] == axis and x.shape[inner[0]] <= 8:
        # Periods just outside a short innermost axis (products): a pass per period would
        # step through memory a few numbers at a time; numpy's own is 4x faster there.
        pairs = _as_complex(x, out) if ufunc is np.add else None
        if pairs is not None:
            # Two products as one complex number: a complex add is the two float adds, the
            # same bits, in half the steps (1.7x faster).
            ufunc.accumulate(pairs[0], axis=axis, out=pairs[1])
            return out
        return ufunc.accumulate(x, axis=axis, out=out)
    # Period p of ``x`` and ``out`` indexed directly (the views np.moveaxis would give,
    # without its cost on every call of a small slice)
    head = (slice(None),) * axis
    out[(*head, 0)] = x[(*head, 0)]
    for p in range(1, x.shape[axis]):
        ufunc(out[(*head, p - 1)], x[(*head, p)], out=out[(*head, p)])
    return out


def _stride_order(x: np.ndarray) -> list[tuple[int, int]]:
    """(|stride|, axis) of each axis, a unit axis's stride counted as the largest."""
    pairs = zip(x.strides, x.shape, strict=True)
    return [(abs(s) if n > 1 else 1 << 62, i) for i, (s, n) in enumerate(pairs)]


#: What :func:`kept` made, by key; bounded (cleared when full: the keys are few, a plan's
#: components, and remade on the next call).
_KEPT: dict = {}


def kept(key: tuple, value, make: Callable):
    """``make(value)`` kept by ``key`` for the next call: ``key`` must hold every number
    ``make`` reads of ``value`` (bit for bit: an array's bytes), so a value with the same
    key makes the same thing. For what the general path prepares from a component's numbers
    on every slice of reps (a kernel, a mask's indices), which costs as much as a small
    pass. What it returns is shared: read only."""
    found = _KEPT.get(key)
    if found is None:
        if len(_KEPT) >= 512:
            _KEPT.clear()
        found = _KEPT.setdefault(key, make(value))
    return found


def _as_complex(x: np.ndarray, out: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``x`` and ``out`` (float64, an even innermost axis of adjacent numbers) viewed as
    complex128 pairs along that axis; None when they cannot be."""
    if x.dtype != np.float64 or out.dtype != np.float64 or x.shape[-1] % 2:
        return None
    if x.strides[-1] != 8 or out.strides[-1] != 8:
        return None
    try:
        return x.view(np.complex128), out.view(np.complex128)
    except ValueError:  # a layout the view cannot take
        return None

"""The vectorised evaluator's components: each one's line per window, in float64.

:func:`~attain.incentive.vectorised.evaluate` builds one
:class:`~attain.incentive.floats.Window` per chunk of trials and asks :func:`line` for
each component's earnings: its kind's formula (:mod:`attain.incentive.kinds`), then
its gate, roles, effective dates, modifiers and cap, the same for every kind. The year's
totals, true-ups and draws are :mod:`~attain.incentive.vectorised`'s.
"""

from __future__ import annotations

import numpy as np

from attain.incentive.floats import Window, attain_ok, cap_value
from attain.incentive.kinds import CompiledComponent, kind_of

__all__ = ["line"]


def line(c: CompiledComponent, w: Window) -> np.ndarray:
    """One component's earnings per window [R, t, P]: a new array, after modifiers and cap."""
    value = _component(c, w)
    if w.started is not None:
        value *= w.started
    share = w.prorate.get(c.name)  # a dated org: fixed amounts for the days in role
    if share is not None:
        value *= share
    factor = w.pop.factors.get(c.name)
    if factor is not None:
        value *= factor[:, None, None]
    if c.cap is not None:
        ti_w = w.ti_w if share is None else w.ti_w * share
        np.minimum(value, cap_value(c.cap, ti_w, w.scale), out=value)
    return value


def _component(c: CompiledComponent, w: Window) -> np.ndarray:
    gate_ok = None
    if c.gate is not None:
        gate_ok = attain_ok(*w.measure(c.gate.mask), c.gate.min_attainment)
    accel_fail = None if gate_ok is None or not c.gate.accelerator_only else ~gate_ok
    value = kind_of(c).vectorised(c, w, accel_fail)
    if gate_ok is not None and not c.gate.accelerator_only:
        value = np.where(gate_ok, value, 0.0)
    if c.roles is not None:  # a dated org: whoever holds the role on some day
        has = w.pop.role_ok.get(c.name, np.isin(w.pop.roles, c.roles))
        value = np.where(has[:, None, None], value, 0.0)
    return value

"""Binding and dual analysis as labelled frames: one row per (rule, unit) row of the model.

A row *binds* when its activity sits on a bound (within ``tol`` relative, in the solver's
scale). Its dual is ∂objective/∂bound; times the row's sensitivity (how far the bound
moves per point of the rule's parameter) it is the objective's change for one more
point of the rule: relaxing an upper bound raises it, a lower bound lowers it, so a
binding row's worth is ≤ 0 for a minimised level. Both engines write their explanations
from these frames.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from attain.model.blocks import Assembled, Model

__all__ = ["BIND_TOL", "Binding", "binding", "binding_frame"]

#: A row within this (relative to 1 + |activity|, solver scale) of a bound binds.
BIND_TOL = 1e-6


@dataclass
class Binding:
    """Per solver row: activity (model units), which bound binds, bend, dual-based worth."""

    activity: np.ndarray
    at_lower: np.ndarray
    at_upper: np.ndarray
    bent: np.ndarray
    sens: np.ndarray
    step: np.ndarray
    """Per row: the bound's move for one more point of its rule, in solver row units
    (+sens at an upper bound, −sens at a lower one, 0 when not binding)."""

    def worth(self, duals: np.ndarray | None) -> np.ndarray:
        """Per row: the change of the level whose ``duals`` these are, per point of the rule."""
        if duals is None:
            return np.zeros(len(self.activity))
        return np.asarray(duals)[: len(self.activity)] * self.step


def binding(
    model: Model, a: Assembled, x: np.ndarray, tol: float = BIND_TOL, bent_tol: float = 0.0
) -> Binding:
    """Which rows of ``a`` bind at solver ``x`` (see the module docstring)."""
    p = a.problem
    plain = x.copy()
    plain[a.slack_block >= 0] = 0.0
    act = p.A.matvec(plain)
    slack = tol * (1 + np.abs(act))
    at_lower = np.isfinite(p.row_lower) & (act <= p.row_lower + slack)
    at_upper = np.isfinite(p.row_upper) & (act >= p.row_upper - slack)
    bent = a.bent(x)
    bent[bent < bent_tol] = 0.0
    sens = np.zeros(p.n_rows)
    for i, b in enumerate(model.blocks):
        rows = a.row_block == i
        if rows.any():
            sens[rows] = b.sens[a.row_local[rows]]
    step = np.where(at_upper, 1.0, np.where(at_lower, -1.0, 0.0)) * sens / a.row_scale
    return Binding(act * a.row_scale, at_lower, at_upper, bent, sens, step)


def binding_frame(
    model: Model,
    a: Assembled,
    b: Binding,
    unit_name: Callable[[str, np.ndarray], np.ndarray],
    worth: dict[str, np.ndarray] | None = None,
    rules_only: bool = True,
) -> pd.DataFrame:
    """One row per (rule, unit) row that binds or bends: ``rule, kind, level, unit, row,
    activity, lower, upper, side`` (``lower``, ``upper``, ``equal`` or ``bent``), ``bent``
    and one column per ``worth`` entry.

    ``unit_name(level, indices)`` names the units of a level.
    """
    active = b.at_lower | b.at_upper | (b.bent > 0)
    role = np.array([blk.role for blk in model.blocks], dtype=object)
    if rules_only and len(model.blocks):
        active &= role[a.row_block] == "rule"
    rows = np.flatnonzero(active)
    block = a.row_block[rows]
    local = a.row_local[rows]
    names = np.array([blk.name for blk in model.blocks], dtype=object)
    kinds = np.array([blk.kind for blk in model.blocks], dtype=object)
    levels = np.array([blk.level for blk in model.blocks], dtype=object)
    unit = np.empty(len(rows), dtype=object)
    lower = np.empty(len(rows))
    upper = np.empty(len(rows))
    for i in np.unique(block):
        on = block == i
        blk = model.blocks[i]
        unit[on] = unit_name(blk.level, blk.units[local[on]])
        lower[on] = blk.lower[local[on]]
        upper[on] = blk.upper[local[on]]
    lo_, up_ = b.at_lower[rows], b.at_upper[rows]
    side = np.where(lo_ & up_, "equal", np.where(up_, "upper", np.where(lo_, "lower", "bent")))
    frame = pd.DataFrame(
        {
            "rule": names[block] if len(rows) else np.zeros(0, object),
            "kind": kinds[block] if len(rows) else np.zeros(0, object),
            "level": levels[block] if len(rows) else np.zeros(0, object),
            "unit": unit,
            "row": local,
            "activity": b.activity[rows],
            "lower": lower,
            "upper": upper,
            "side": side,
            "bent": b.bent[rows],
        }
    )
    for name, values in (worth or {}).items():
        frame[name] = np.asarray(values)[rows]
    return frame

"""Rounding after the LP, locally and exactly: largest remainders, never a MIP over cells.

All amounts become integers of the rounding unit. Each step apportions a
group's exact integer total over its parts by largest remainders (ties by
position, so results are deterministic): the reps' total is the rounded
company total; each rep's products add up to the rep; each rep × product's
months add up to it. Only floor or ceiling of each value is ever taken, and
a rep whose ceiling would cross a hard band of its own is rounded down first.
"""

from __future__ import annotations

import numpy as np

__all__ = ["apportion", "fix_columns", "round_units"]


def round_units(x: float) -> int:
    return int(np.floor(x + 0.5 + 1e-9))


def apportion(
    values: np.ndarray, groups: np.ndarray, totals: np.ndarray, priority: np.ndarray | None = None
) -> np.ndarray:
    """Integers within 1 of ``values`` adding up to ``totals[g]`` in each group ``g``.

    Parts of a group with a higher ``priority`` get the group's spare units first, then
    the largest remainders.
    """
    values = np.asarray(values, dtype=np.float64)
    groups = np.asarray(groups, dtype=np.int64)
    n_groups = len(totals)
    base = np.floor(values + 1e-9).astype(np.int64)
    rem = values - base
    spare = np.asarray(totals, dtype=np.int64) - np.bincount(
        groups, weights=base, minlength=n_groups
    ).astype(np.int64)
    sizes = np.bincount(groups, minlength=n_groups)
    if np.any(spare < 0) or np.any(spare > sizes):
        raise ValueError("apportion: group totals are not reachable by rounding")
    prio = np.zeros(len(values)) if priority is None else priority
    # Remainders equal to 1e-9 are ties (LP noise), broken by position: deterministic.
    order = np.lexsort((np.arange(len(values)), -np.round(rem, 9), -prio, groups))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.arange(len(values)) - starts[groups[order]]
    up = np.zeros(len(values), dtype=bool)
    up[order] = rank < spare[groups[order]]
    return base + up


def fix_columns(units: np.ndarray, exact: np.ndarray, col_totals: np.ndarray) -> np.ndarray:
    """Move units between columns within rows until every column adds up to its total.

    Row sums stay as they are. Each move takes a unit from a cell rounded up in a column
    with a surplus and gives it to a cell rounded down in a column with a deficit, in the
    rows where that costs least (``exact`` are the unrounded values in units).
    """
    units = units.copy()
    frac = exact - np.floor(exact + 1e-9)
    for _ in range(units.shape[1] * units.shape[1] * 4 + 8):
        need = col_totals - units.sum(axis=0)
        if not np.any(need):
            return units
        a, b = int(np.argmin(need)), int(np.argmax(need))
        amount = int(min(-need[a], need[b]))
        rounded_up = units[:, a] > np.floor(exact[:, a] + 1e-9)
        rounded_down = units[:, b] < np.ceil(exact[:, b] - 1e-9)
        ok = rounded_up & rounded_down
        if not ok.any():
            ok = units[:, a] > 0
        cost = np.where(ok, frac[:, a] - frac[:, b], np.inf)
        chosen = np.argsort(cost, kind="stable")[: min(amount, int(ok.sum()))]
        units[chosen, a] -= 1
        units[chosen, b] += 1
    raise ValueError("fix_columns: could not balance the columns")

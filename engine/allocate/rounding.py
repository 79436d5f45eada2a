"""Rounding after the LP, locally and exactly: largest remainders, never a MIP over cells.

All amounts become integers of the rounding unit, top-down along the org tree.
The company level is the rounded company target × its buffer; each level's
units are then apportioned *within their parent*: a unit's children add up to
the parent exactly when the two levels carry the same buffer. Between levels
with different buffers the children of each parent add up to their own sum,
rounded (within a unit or two of the parent × the buffers' ratio, which is
rarely a whole number of units), and each level adds up exactly to the
company target × its buffer, rounded. The reps are the last level;
each rep's products add up to the rep (and, with a target per product, each
product's reps add up to that product's target); each rep × product's months
add up to it. Only floor or ceiling of each value is ever taken (unless a
group's total is out of reach, below), a unit whose floor would break a hard
band of its own rounds up first, and one whose ceiling would cross one rounds
down first, so a value the rules hold exactly stays exact.

Each step apportions a group's integer total by largest remainders, ties by
position, so results are deterministic. A group whose total the floors and
ceilings cannot reach (a single child under a parent × a buffer ratio far from
its own value) has its values scaled to the total first; nothing raises.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from attain.notices import Notice

if TYPE_CHECKING:
    from attain.allocate.build import AllocationModel
    from attain.allocate.inputs import Inputs

__all__ = ["apportion", "fix_columns", "money", "round_targets", "round_units", "unit_bands"]

#: Float noise: a value this close to a whole number of units *is* that number.
SNAP = 1e-9
#: How far (relative to a rep's mean target) a solver may leave a band it holds.
LP_TOL = 1e-6
#: Band kinds whose rows bound a unit's total (Σ of its reps' totals) with coefficient 1.
_BAND_KINDS = ("bounds", "capacity", "growth", "share", "ramp")


def round_units(x: float) -> int:
    return int(np.floor(x + 0.5 + 1e-9))


def level_units(inputs: Inputs, level: str, unit: float) -> int:
    """A level's total, company target × the level's buffer, in whole rounding units.

    Computed on the decimals the rule file states, half up: 99,999,999.99 × 1.5 is
    14,999,999,998.5 cents exactly, a tie that floating point puts on either side.
    """
    target = inputs.rules.company_target
    parts = [target.total] if target.total is not None else (target.by_product or {}).values()
    amount = sum((Decimal(repr(float(v))) for v in parts), Decimal(0))
    value = amount * Decimal(repr(float(inputs.buffer[level]))) / Decimal(repr(float(unit)))
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def _floor(values: np.ndarray) -> np.ndarray:
    """Floors, with values a few float steps below a whole number taken as that number."""
    return np.floor(values + SNAP + 8 * np.spacing(np.abs(values)))


def apportion(
    values: np.ndarray, groups: np.ndarray, totals: np.ndarray, priority: np.ndarray | None = None
) -> np.ndarray:
    """Integers within 1 of ``values`` adding up to ``totals[g]`` in each group ``g``.

    Parts of a group with a higher ``priority`` get the group's spare units first, then
    the largest remainders. A group whose total is out of reach of its floors and
    ceilings has its values scaled to the total first (evenly when they are all zero).
    """
    values = np.asarray(values, dtype=np.float64)
    groups = np.asarray(groups, dtype=np.int64)
    totals = np.asarray(totals, dtype=np.int64)
    n_groups = len(totals)
    sizes = np.bincount(groups, minlength=n_groups)
    base = _floor(values).astype(np.int64)
    spare = totals - np.bincount(groups, weights=base, minlength=n_groups).astype(np.int64)
    bad = (spare < 0) | (spare > sizes)
    prio = np.zeros(len(values)) if priority is None else np.asarray(priority, dtype=np.float64)
    if np.any(bad & (sizes > 0)):
        values = _rescaled(values, groups, totals, sizes, bad, prio != 0)
        base = _floor(values).astype(np.int64)
        spare = totals - np.bincount(groups, weights=base, minlength=n_groups).astype(np.int64)
        # Float noise of the scaling can leave a group one unit out: move whole units.
        shift = np.where(spare < 0, -((-spare + sizes - 1) // np.maximum(sizes, 1)), 0)
        shift = np.where(spare > sizes, (spare - 1) // np.maximum(sizes, 1), shift)
        base = base + shift[groups]
        spare = spare - shift * sizes
    rem = values - base
    # Remainders equal to 1e-9 are ties (LP noise), broken by position: deterministic.
    order = np.lexsort((np.arange(len(values)), -np.round(rem, 9), -prio, groups))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.arange(len(values)) - starts[groups[order]]
    up = np.zeros(len(values), dtype=bool)
    up[order] = rank < spare[groups[order]]
    return base + up


def _rescaled(values, groups, totals, sizes, bad, pinned) -> np.ndarray:
    """Values of the ``bad`` groups scaled to their totals (evenly when they add up to 0).

    ``pinned`` parts (at a band of their own) keep their values while the group has
    others to take the difference.
    """
    n = len(totals)
    free_count = np.bincount(groups, weights=~pinned, minlength=n)
    movable = ~pinned | (free_count[groups] == 0)
    fixed = np.bincount(groups, weights=np.where(movable, 0.0, values), minlength=n)
    sums = np.bincount(groups, weights=np.where(movable, values, 0.0), minlength=n)
    target = np.maximum(totals - fixed, 0.0)
    n_movable = np.bincount(groups, weights=movable, minlength=n)
    even = target / np.maximum(n_movable, 1)
    # Each value's share of its group, times the total: no overflow when the values are
    # tiny (a total over 5e-324 is not finite; a share is at most 1).
    share = values / np.where(sums > 0, sums, 1.0)[groups]
    scaled = np.where(sums[groups] > 0, share * target[groups], even[groups])
    return np.where(bad[groups] & movable, scaled, values)


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


def unit_bands(model: AllocationModel, level: str) -> tuple[np.ndarray, np.ndarray]:
    """Per unit of ``level``: the hard bands on its target (currency) the rules state.

    Read from the model's hard rows whose entries are all +1 on rep-total columns (a
    unit's total: bounds, capacity, growth, share, ramp), times the level's scale.
    """
    inputs = model.inputs
    n_units = len(inputs.unit_names[level])
    lower, upper = np.full(n_units, -np.inf), np.full(n_units, np.inf)
    R, P = inputs.n_reps, inputs.n_products
    scale = inputs.level_scale(level)
    for block in getattr(model, "blocks", []):
        if block.soft or not block.is_rule or block.level != level or block.kind not in _BAND_KINDS:
            continue
        if len(block.cols) == 0 or not (np.all(block.cols >= R * P) and np.all(block.vals == 1)):
            continue
        units = np.asarray(block.units, dtype=np.int64)
        if len(units) != block.n_rows:
            continue
        np.maximum.at(lower, units, block.lower * scale)
        np.minimum.at(upper, units, block.upper * scale)
    if level == "rep" and model.rep_lower is not None and model.rep_upper is not None:
        lower = np.maximum(lower, model.rep_lower)
        upper = np.minimum(upper, model.rep_upper)
    return lower, upper


def _snapped(exact: np.ndarray, lower: np.ndarray, upper: np.ndarray, tol: float):
    """Values within ``tol`` outside their band moved onto it (all in rounding units)."""
    out = np.where((exact < lower) & (exact >= lower - tol), lower, exact)
    return np.where((out > upper) & (out <= upper + tol), upper, out)


def _ceil(values: np.ndarray) -> np.ndarray:
    """Ceilings, with values a few float steps above a whole number taken as that number."""
    return -_floor(-values)


def _reach(
    exact: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The least and the most each value may round to (floor or ceiling) within its band.

    All in rounding units. A band that holds no whole number between the floor and the
    ceiling leaves both ends where the band pushes them (least above most).
    """
    floor, ceil = _floor(exact), _ceil(exact)
    with np.errstate(invalid="ignore"):
        least = np.clip(_ceil(lower), floor, ceil)
        most = np.clip(_floor(upper), floor, ceil)
    return np.where(np.isnan(least), floor, least), np.where(np.isnan(most), ceil, most)


def _priority(exact: np.ndarray, least: np.ndarray, most: np.ndarray) -> np.ndarray:
    """+1 where the floor is below the least reachable value, -1 where the ceiling is
    above the most (0 where both: the band holds no whole number)."""
    up = _floor(exact) < least
    down = _ceil(exact) > most
    return up.astype(float) - down.astype(float)


class _Step(NamedTuple):
    """One level below the company, before rounding (``exact``, ``lo``, ``hi`` in units)."""

    level: str
    exact: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    parents: np.ndarray | None
    kind: str  # "parent" (adds up to it), "sum" (a buffer between), "level" (not a tree)
    lo: np.ndarray
    hi: np.ndarray


def _parents(child_codes: np.ndarray, parent_codes: np.ndarray, n_children: int) -> np.ndarray:
    """Each child unit's parent, or ``None`` when a child unit sits under two parents."""
    pairs = np.unique(np.stack([child_codes, parent_codes], axis=1), axis=0)
    if len(pairs) != n_children:
        return None
    out = np.zeros(n_children, dtype=np.int64)
    out[pairs[:, 0]] = pairs[:, 1]
    return out


def round_targets(
    inputs: Inputs, model: AllocationModel, totals: np.ndarray, cells: np.ndarray
) -> dict:
    """Integer units of the rounding unit: each level within its parent, then each rep's
    products, then months, exactly (see the module docstring)."""
    unit = (
        inputs.rules.rounding.unit
        if inputs.rules.rounding
        else 10.0**-inputs.company.rules.minor_unit
    )
    R, P = totals.shape
    rep_total = totals.sum(axis=1)
    levels: dict[str, np.ndarray] = {}
    notices: list[Notice] = []
    # The solver's tolerances are relative to a rep's mean target: a unit within this of
    # a band of its own is at the band (a held 30,864,197.25 may come back as .22).
    snap = LP_TOL * inputs.total / max(inputs.n_reps, 1) / unit
    steps: list[_Step] = []
    parent_level = "company"
    for level in inputs.levels[1:]:
        codes = inputs.codes[level]
        n_units = len(inputs.unit_names[level])
        exact = np.bincount(codes, weights=rep_total, minlength=n_units)
        exact = exact * inputs.level_scale(level) / unit
        parents = _parents(codes, inputs.codes[parent_level], n_units)
        if parents is None:  # not a tree: the level adds up to its own total only
            kind = "level"
        elif inputs.buffer[level] == inputs.buffer[parent_level]:
            kind = "parent"
        else:  # a buffer between the levels: each parent's children, rounded as a whole
            kind = "sum"
        lower, upper = unit_bands(model, level)
        with np.errstate(over="ignore"):  # a band of 1e300 is no band: inf
            exact = _snapped(exact, lower / unit, upper / unit, snap)
            steps.append(
                _Step(level, exact, lower, upper, parents, kind, lower / unit, upper / unit)
            )
        parent_level = level
    # Bottom up: a unit can round to no less than its children's least values add up to
    # (a rep's floor of 20,400,000.06 at unit 1 needs its team rounded up), nor more
    # than their most.
    reach: list[tuple[np.ndarray, np.ndarray]] = [(np.empty(0), np.empty(0))] * len(steps)
    group_reach: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(steps)
    for i in range(len(steps) - 1, -1, -1):
        step, lo, hi = steps[i], steps[i].lo, steps[i].hi
        if i + 1 < len(steps) and steps[i + 1].kind != "level":
            child = steps[i + 1]
            n = len(step.exact)
            reached = tuple(
                np.bincount(child.parents, weights=r, minlength=n) for r in reach[i + 1]
            )
            if child.kind == "parent":
                lo, hi = np.maximum(lo, reached[0]), np.minimum(hi, reached[1])
            else:
                group_reach[i + 1] = (reached[0], reached[1])
        reach[i] = _reach(step.exact, lo, hi)
    breaks = 0
    parent_units = np.array([level_units(inputs, "company", unit)])
    levels["company"] = parent_units
    for i, (level, exact, lower, upper, parents, kind, _, _) in enumerate(steps):
        level_total = level_units(inputs, level, unit)
        if parents is None:  # kind "level"
            parents, group_totals = np.zeros(len(exact), dtype=np.int64), np.array([level_total])
        elif kind == "parent":
            group_totals = parent_units
        else:
            sums = np.bincount(parents, weights=exact, minlength=len(parent_units))
            lo_hi = group_reach[i]
            if lo_hi is None:
                lo_hi = (np.full(len(sums), -np.inf), np.full(len(sums), np.inf))
            group_priority = _priority(sums, *_reach(sums, *lo_hi))
            group_totals = apportion(
                sums, np.zeros(len(sums), np.int64), np.array([level_total]), group_priority
            )
        units = apportion(exact, parents, group_totals, _priority(exact, *reach[i]))
        tol = 1e-6 * np.maximum(1.0, np.abs(units * unit))
        breaks += int(np.sum((units * unit < lower - tol) | (units * unit > upper + tol)))
        if level != "rep":
            levels[level] = units
        parent_units = units
    rep_units = parent_units
    rp_units = apportion((totals / unit).ravel(), np.repeat(np.arange(R), P), rep_units).reshape(
        R, P
    )
    if inputs.product_targets is not None:
        col_totals = apportion(
            inputs.product_targets / unit, np.zeros(P, dtype=np.int64), np.array([rep_units.sum()])
        )
        rp_units = fix_columns(rp_units, totals / unit, col_totals)
    month_exact = (
        cells / np.maximum(cells.sum(axis=2, keepdims=True), 1e-300) * rp_units[:, :, None]
    )
    month_units = apportion(month_exact.ravel(), np.repeat(np.arange(R * P), 12), rp_units.ravel())
    month_units = month_units.reshape(R, P, 12)
    stretch = inputs.stretch
    ch_rep = np.floor(rep_units * (1 + stretch) + 0.5 + 1e-9).astype(np.int64)
    ch_exact = month_units * (1 + stretch)[:, None, None]
    ch_units = apportion(ch_exact.ravel(), np.repeat(np.arange(R), P * 12), ch_rep).reshape(
        R, P, 12
    )
    notices.extend(_notices(inputs, model, rep_total, rep_units, unit, breaks))
    return {
        "unit": unit,
        "month": month_units,
        "challenge": ch_units,
        "rep": rep_units,
        "levels": levels,
        "notices": notices,
    }


def _notices(inputs: Inputs, model: AllocationModel, exact, units, unit: float, breaks: int):
    """Warnings about the rounded result: zero targets, and bands rounding had to cross."""
    R = len(units)
    out: list[Notice] = []
    zero = units == 0
    # Zero before rounding (LP noise aside): the rules gave these reps nothing.
    given_zero = zero & (exact <= 1e-6 * max(inputs.total, 1e-300) / R)
    if given_zero.any():
        n = int(given_zero.sum())
        floors = _floors_at_limit(model, exact)
        why = f"; at their floors: {floors}" if floors else ""
        out.append(
            Notice(
                "zero-targets",
                f"{n:,} of {R:,} reps get a zero target: the hard rules leave them nothing "
                f"(e.g. {_examples(inputs, given_zero)}){why}",
                source=", ".join(_floor_names(model, exact)),
                count=n,
            )
        )
    rounded_zero = zero & ~given_zero
    if rounded_zero.any():
        n = int(rounded_zero.sum())
        out.append(
            Notice(
                "zero-targets-rounded",
                f"{n:,} of {R:,} reps' targets round to 0 at the rounding unit {money(unit)} "
                f"(e.g. {_examples(inputs, rounded_zero)}); use a smaller `rounding.unit`",
                source="rounding.unit",
                count=n,
            )
        )
    if breaks:
        out.append(
            Notice(
                "rounding-past-band",
                f"{breaks:,} unit target(s) are one rounding unit ({money(unit)}) past a hard "
                "band: the rounded totals left no other way",
                source="rounding.unit",
                count=breaks,
            )
        )
    return out


def _floor_counts(model: AllocationModel, rep_total: np.ndarray) -> dict[str, str]:
    """Hard rules whose lower band binds: the rule's name → how many units sit at it."""
    inputs = model.inputs
    R, P = inputs.n_reps, inputs.n_products
    out: dict[str, str] = {}
    for block in getattr(model, "blocks", []):
        if block.soft or not block.is_rule or block.kind not in _BAND_KINDS:
            continue
        if len(block.cols) == 0 or not (np.all(block.cols >= R * P) and np.all(block.vals == 1)):
            continue
        units = np.asarray(block.units, dtype=np.int64)
        if len(units) != block.n_rows:
            continue
        value = np.bincount(
            inputs.codes[block.level],
            weights=rep_total,
            minlength=len(inputs.unit_names[block.level]),
        )[units]
        at = (block.lower > 0) & (value <= block.lower * (1 + 1e-6) + 1e-6)
        if at.any():
            n = int(at.sum())
            out[block.name] = f"{n:,} {block.level}{'s' if n != 1 else ''}"
    return out


def _floor_names(model: AllocationModel, rep_total: np.ndarray) -> list[str]:
    return sorted(_floor_counts(model, rep_total))


def _floors_at_limit(model: AllocationModel, rep_total: np.ndarray) -> str:
    counts = _floor_counts(model, rep_total)
    return ", ".join(f"`{name}` ({n})" for name, n in sorted(counts.items()))


def money(amount: float) -> str:
    """An amount as planners write it: 1,000,000 (or 0.01 below one)."""
    return f"{amount:,.0f}" if amount >= 1 and float(amount).is_integer() else f"{amount:,g}"


def _examples(inputs: Inputs, mask: np.ndarray, n: int = 3) -> str:
    ids: Any = inputs.reps["rep_id"].to_numpy()[mask][:n]
    more = int(mask.sum()) - len(ids)
    return ", ".join(map(str, ids)) + (f" and {more:,} more" if more > 0 else "")

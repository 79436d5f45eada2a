"""Infeasibility: which hard rules conflict, and the numbers that make them conflict.

The modelling core's conflict search (:func:`attain.model.find_conflicts`): a deletion
filter over whole rules finds an irreducible infeasible subset, its rules leave the
search (the company target, which every conflict over totals involves, stays) and the
search runs again, until what is left is feasible — so every independent conflict is
reported. An elastic relaxation of each conflict (:func:`attain.model.relax`: every row
of its rules may bend, at a cost) then shows where and by how much: the rows it bends
are the units in conflict, and the other rules' bounds on those same reps are the numbers
that stand in the way.
"""

from __future__ import annotations

import numpy as np

from attain.allocate.build import AllocationModel, rep_of_col
from attain.model import feasibility, find_conflicts, relax
from attain.solvers import SolveOptions

__all__ = ["Conflict", "diagnose"]


class Conflict(list):
    """The names of one irreducible set of conflicting rules; ``lines`` describe it."""

    lines: list[str]


def diagnose(model: AllocationModel, solver: str, options: SolveOptions) -> list[Conflict]:
    names = model.rule_names(hard_only=True)
    rows = {b.name: b.n_rows for b in model.blocks if b.is_hard_rule}
    # Try dropping broad rules (many rows) first: the core tends to be the specific ones.
    order = sorted(names, key=lambda n: (-rows[n], names.index(n)))
    shared = [b.name for b in model.blocks if b.shared]
    found = find_conflicts(order, feasibility(model, solver, options), shared)
    conflicts: list[Conflict] = []
    for names_found in found:
        index = {b.name: i for i, b in enumerate(model.blocks)}
        conflict = Conflict(sorted(names_found, key=index.__getitem__))
        conflict.lines = _describe(model, conflict, solver, options)
        conflicts.append(conflict)
    return conflicts


def _describe(
    model: AllocationModel, names: list[str], solver: str, options: SolveOptions
) -> list[str]:
    """One line per rule of the conflict, with its numbers in the closest compromise."""
    inputs = model.inputs
    core = model.blocks_named(names)
    relaxed = relax(model, names, solver, options)
    a = relaxed.assembled
    lines = []
    if relaxed.bent is None:
        return [f"`{model.blocks[i].name}`: {_rule_text(model, i)}" for i in sorted(core)]
    activity = relaxed.activity
    bent_rows = np.flatnonzero(relaxed.bent > 1e-6 * inputs.total)
    anchor, anchor_rows = _anchor(model, a, core, bent_rows)
    # The anchor is the conflict's most specific rule (fewest rows); the others are
    # summed over the reps its rows cover: "East needs 142.8M; East's capacity is 46.1M".
    reps = _reps_of_rows(model, a, anchor_rows)
    for i in sorted(core):
        b = model.blocks[i]
        rows = np.flatnonzero(a.row_block == i)
        text = f"`{b.name}` ({b.kind}, {b.level}): {_rule_text(model, i)}"
        if i == anchor:
            parts = [_bound_text(model, a, r, activity[r]) for r in anchor_rows[:3]]
            more = f" and {len(anchor_rows) - 3} more" if len(anchor_rows) > 3 else ""
            text += "; " + "; ".join(parts) + more
        else:
            text += "; " + _holding_text(model, a, rows, reps, activity)
        lines.append(text)
    return lines


def _anchor(
    model: AllocationModel, a, core: set[int], bent_rows: np.ndarray
) -> tuple[int, np.ndarray]:
    """The rule with the fewest rows (not the company target), and its rows in the conflict."""
    candidates = [i for i in sorted(core) if model.blocks[i].kind != "company_target"]
    if not candidates:
        candidates = sorted(core)
    anchor = min(candidates, key=lambda i: (model.blocks[i].n_rows, i))
    rows = np.flatnonzero(a.row_block == anchor)
    bent = np.intersect1d(rows, bent_rows)
    if len(bent):
        return anchor, bent
    other = _reps_of_rows(model, a, bent_rows)
    if len(other):
        covering = rows[np.isin(_row_reps(model, a, rows), other)]
        if len(covering):
            return anchor, covering
    return anchor, rows


def _bound_text(model: AllocationModel, a, row: int, activity: float) -> str:
    b = model.blocks[a.row_block[row]]
    local = a.row_local[row]
    unit = _unit_name(model, b.level, int(b.units[local]))
    if b.kind == "company_target":
        what = "targets" if len(b.lower) == 1 else f"{model.inputs.products[local]} targets"
        return f"the reps' {what} must add up to {money(b.lower[local])}"
    share = b.info.get("share")
    if share is not None and np.isfinite(share[local]):
        side = "at least" if np.isfinite(b.lower[local]) else "at most"
        return f"in {unit}, {b.info['product']} must be {side} {share[local]:.1%} of the target"
    scale = model.inputs.level_scale(b.level) if b.kind not in ("share", "mix") else 1.0
    lo, hi = b.lower[local], b.upper[local]
    if np.isfinite(lo) and (not np.isfinite(hi) or activity <= lo + 1e-6 * (1 + abs(lo))):
        return f"{unit} needs at least {money(lo * scale)}"
    return f"{unit} may carry at most {money(hi * scale)}"


def _reps_of_rows(model: AllocationModel, a, rows: np.ndarray) -> np.ndarray:
    A = a.problem.A
    cols = [A.indices[A.indptr[r] : A.indptr[r + 1]] for r in rows]
    cols = np.concatenate(cols) if cols else np.zeros(0, dtype=int)
    reps = rep_of_col(model.inputs, cols)
    return np.unique(reps[reps >= 0])


def _unit_name(model: AllocationModel, level: str, unit: int) -> str:
    if level == "company":
        return "the company"
    return f"{level} {model.inputs.unit_names[level][unit]}"


def _holding_text(
    model: AllocationModel, a, rows: np.ndarray, reps: np.ndarray, activity: np.ndarray
) -> str:
    """The rule's bounds over the reps that the bent rows involve."""
    b = model.blocks[a.row_block[rows[0]]] if len(rows) else None
    if b is None:
        return "holds"
    if b.kind == "company_target":
        parts = [money(v) for v in b.lower]
        if len(parts) > 1:
            named = zip(model.inputs.products, parts, strict=True)
            return "by product: " + ", ".join(f"{p} {v}" for p, v in named)
        return "a fixed total"
    mask = np.isin(_row_reps(model, a, rows), reps) if len(reps) else np.ones(len(rows), bool)
    chosen = rows[mask] if mask.any() else rows
    local = a.row_local[chosen]
    hi = b.upper[local]
    lo = b.lower[local]
    act = activity[chosen]
    # Name the side the compromise presses against: floors raise, caps hold down.
    with np.errstate(invalid="ignore"):
        at_lower = np.isfinite(lo) & (act <= lo + 1e-6 * (1 + np.abs(lo)))
        at_upper = np.isfinite(hi) & (act >= hi - 1e-6 * (1 + np.abs(hi)))
    if at_lower.any() and not at_upper.any():
        hi = np.full(len(hi), np.inf)
    scale = model.inputs.level_scale(b.level) if b.kind not in ("share", "mix") else 1.0
    n = len(local)
    what = f"{n} {b.level}{'s' if n != 1 else ''} involved"
    names = [_unit_name(model, b.level, int(u)) for u in b.units[local[:3]]]
    if np.all(np.isfinite(hi)) and b.kind not in ("mix",):
        each = ", ".join(f"{u} at {money(v * scale)}" for u, v in zip(names, hi, strict=False))
        return f"caps the {what} at {money(hi.sum() * scale)} in total ({each}{', …' if n > 3 else ''})"
    if np.all(np.isfinite(lo)) and b.kind not in ("mix",):
        each = ", ".join(f"{u} {money(v * scale)}" for u, v in zip(names, lo, strict=False))
        return f"requires at least {money(lo.sum() * scale)} from the {what} ({each}{', …' if n > 3 else ''})"
    return f"holds on the {what}"


def _row_reps(model: AllocationModel, a, rows: np.ndarray) -> np.ndarray:
    """A representative rep for each row (its first rep column)."""
    A = a.problem.A
    first = A.indices[A.indptr[rows]]
    return rep_of_col(model.inputs, first)


def _rule_text(model: AllocationModel, i: int) -> str:
    b = model.blocks[i]
    if b.kind == "company_target":
        return f"the reps' targets add up to {money(float(np.sum(b.lower)))} (company target × rep buffer)"
    return b.describe or f"{b.n_rows} row{'s' if b.n_rows != 1 else ''}"


def money(x: float) -> str:
    ax = abs(x)
    if ax >= 1e6:
        return f"{x / 1e6:,.2f}M"
    if ax >= 1e3:
        return f"{x / 1e3:,.1f}k"
    return f"{x:,.2f}"

"""Why no assignment exists: the conflicting rules, by name, with their numbers.

Cheap arithmetic checks run first, each of which proves infeasibility on its
own: a unit no rep may take; a band no split of the totals can meet
(``n_reps × min > total``); a rep whose candidate units cannot reach its
band's minimum, or whose units that cannot go elsewhere already exceed its
maximum; a disruption limit below the weight of units that must move. When
none fires, a deletion filter over the rule blocks finds a minimal set of
rules that still conflict (each test is one feasibility solve).
"""

from __future__ import annotations

import numpy as np

from attain.solvers import SolveOptions, Status, solve
from attain.territory.model import Model

__all__ = ["conflicts", "orphan_conflicts"]

_LISTED = 8  # conflicts of one kind listed before the rest are counted


def orphan_conflicts(model_units, pairs) -> list[str]:
    """Units left without any candidate rep, each with the rule that removed the last one."""
    orphans = np.flatnonzero(np.bincount(pairs.unit, minlength=model_units.n) == 0)
    out = [
        f"unit {model_units.ids[u]}: no rep may take it — {pairs.orphan_reason[u] or 'no candidate'}"
        for u in orphans[:_LISTED]
    ]
    if len(orphans) > _LISTED:
        out.append(f"... and {len(orphans) - _LISTED} more units without any rep")
    return out


def conflicts(model: Model, solver: str, time_limit: float | None) -> list[str]:
    found = _band_totals(model) + _rep_reach(model) + _forced_disruption(model)
    return found or _deletion_filter(model, solver, time_limit)


def _hard(model: Model) -> list:
    return [b for b in model.bands if not b.soft]


def _band_totals(model: Model) -> list[str]:
    n = model.reps.n
    out = []
    for band in _hard(model):
        total = float(band.measure.sum())
        if n * band.lo > total + 1e-9:
            out.append(
                f"{band.name}: {n} reps × min {band.lo:.6g} ({band.detail}) = {n * band.lo:.6g}, "
                f"but the units only add up to {total:.6g}"
            )
        if n * band.hi < total - 1e-9:
            out.append(
                f"{band.name}: {n} reps × max {band.hi:.6g} ({band.detail}) = {n * band.hi:.6g}, "
                f"but the units add up to {total:.6g}"
            )
    return out


def _rep_reach(model: Model) -> list[str]:
    pairs, reps = model.pairs, model.reps
    only = np.bincount(pairs.unit, minlength=model.units.n)[pairs.unit] == 1
    out = []
    for band in _hard(model):
        value = band.measure[pairs.unit]
        reach = np.bincount(pairs.rep, weights=value, minlength=reps.n)
        forced = np.bincount(pairs.rep, weights=np.where(only, value, 0.0), minlength=reps.n)
        short = np.flatnonzero(reach < band.lo - 1e-9)
        over = np.flatnonzero(forced > band.hi + 1e-9)
        out += [
            f"{band.name}: rep {reps.ids[r]} can reach at most {reach[r]:.6g} from its candidate "
            f"units, below its min {band.lo:.6g} ({band.detail})"
            for r in short[:_LISTED]
        ]
        out += [
            f"{band.name}: rep {reps.ids[r]} must keep units worth {forced[r]:.6g} that no other "
            f"rep may take, above its max {band.hi:.6g} ({band.detail})"
            for r in over[:_LISTED]
        ]
    return out


def _forced_disruption(model: Model) -> list[str]:
    if model.disruption_limit is None:
        return []
    units, pairs = model.units, model.pairs
    can_stay = np.zeros(units.n, dtype=bool)
    can_stay[pairs.unit[units.owner[pairs.unit] == pairs.rep]] = True
    forced = float(model.weight[~can_stay].sum())
    if forced <= model.disruption_limit + 1e-9:
        return []
    reasons = sorted({pairs.owner_reason[u].split(":")[0] for u in np.flatnonzero(~can_stay)})
    return [
        f"disruption.max: the limit is {model.disruption_limit:.6g}, but {int((~can_stay).sum())} "
        f"units weighing {forced:.6g} cannot stay with their owner (because of: "
        f"{', '.join(r for r in reasons if r) or 'candidates'})"
    ]


def _deletion_filter(model: Model, solver: str, time_limit: float | None) -> list[str]:
    """A minimal set of rule blocks that conflict (with the assignment and candidate rules)."""
    soft = {b.name for b in model.bands if b.soft}  # slack columns: they never conflict
    names = list(dict.fromkeys(b.name for b in model.blocks if b.name not in soft | {"assign"}))
    keep = list(names)
    for name in names:
        trial = [k for k in keep if k != name]
        if _infeasible(model, frozenset(names) - set(trial), solver, time_limit):
            keep = trial
    described = [_describe(model, name) for name in keep]
    where = "with the candidate reps of each unit (nearest offices, locks, coverage, distance)"
    return [*described, where] if described else [f"the candidate reps alone: {where}"]


def _infeasible(model: Model, drop: frozenset[str], solver: str, time_limit) -> bool:
    problem = model.problem({}, (), drop)
    result = solve(problem, solver, SolveOptions(time_limit=time_limit))
    return result.status in (Status.INFEASIBLE, Status.INFEASIBLE_OR_UNBOUNDED)


def _describe(model: Model, name: str) -> str:
    band = next((b for b in model.bands if b.name == name), None)
    if band is not None:
        return (
            f"{name}: each rep within [{band.lo:.6g}, {band.hi:.6g}] ({band.detail}); "
            f"the units add up to {band.measure.sum():.6g} over {model.reps.n} reps"
        )
    if name == "disruption.max":
        return f"disruption.max: moved weight at most {model.disruption_limit:.6g}"
    if name == "contiguity":
        return "contiguity: each rep's units must form one connected territory"
    return name

"""Why no assignment exists: the conflicting rules, by name, with their numbers.

Cheap arithmetic checks run first, each of which proves infeasibility on its
own: a unit no rep may take; a band no split of the totals can meet
(``n_reps × min > total``); a rep whose candidate units cannot reach its
band's minimum, or whose units that cannot go elsewhere already exceed its
maximum; a disruption limit below the weight of units that must move. When
none fires, the modelling core's conflict search finds every independent minimal
set of rules that still conflict (each test is one feasibility solve), and an elastic
relaxation names the reps and amounts of the closest compromise.
"""

from __future__ import annotations

import numpy as np

from attain.model import feasibility, find_conflicts, relax
from attain.solvers import SolveOptions
from attain.territory.model import TerritoryModel

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


def conflicts(model: TerritoryModel, solver: str, time_limit: float | None) -> list[str]:
    found = _band_totals(model) + _rep_reach(model) + _forced_disruption(model)
    return found or _deletion_filter(model, solver, time_limit)


def _hard(model: TerritoryModel) -> list:
    return [b for b in model.bands if not b.soft]


def _band_totals(model: TerritoryModel) -> list[str]:
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


def _rep_reach(model: TerritoryModel) -> list[str]:
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


def _forced_disruption(model: TerritoryModel) -> list[str]:
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


def _deletion_filter(model: TerritoryModel, solver: str, time_limit: float | None) -> list[str]:
    """Every independent minimal set of rules that conflict (with the assignment and the
    candidate rules), by the modelling core's search (:func:`attain.model.find_conflicts`),
    each with the least bend that would reconcile it (:func:`attain.model.relax`)."""
    options = SolveOptions(time_limit=time_limit, verbose=model.verbose)
    found = find_conflicts(model.rule_names(hard_only=True), feasibility(model, solver, options))
    where = "with the candidate reps of each unit (nearest offices, locks, coverage, distance)"
    if not found or not found[0]:
        return [f"the candidate reps alone: {where}"]
    lines = []
    for k, names in enumerate(found, start=1):
        head = f"conflict {k} of {len(found)}: " if len(found) > 1 else ""
        lines += [head + _describe(model, name) for name in names]
        lines += _bends(model, names, solver, options)
    return [*lines, where]


def _bends(
    model: TerritoryModel, names: list[str], solver: str, options: SolveOptions
) -> list[str]:
    """The rows the closest compromise bends (at most a few per rule), with the amounts."""
    relaxed = relax(model, names, solver, options)
    if relaxed.bent is None:
        return []
    a = relaxed.assembled
    out = []
    for i in sorted(model.blocks_named(names)):
        block = model.blocks[i]
        rows = a.rows_of(i)
        bent = relaxed.bent[rows]
        hit = np.flatnonzero(bent > 1e-9 * (1 + np.abs(relaxed.activity[rows])))
        if not len(hit) or block.level != "rep":
            continue
        parts = [
            f"{model.reps.ids[block.units[a.row_local[rows[j]]]]} by {bent[j]:.6g}"
            for j in hit[:_LISTED]
        ]
        more = f" and {len(hit) - _LISTED} more" if len(hit) > _LISTED else ""
        out.append(f"  closest compromise bends {block.name} for {', '.join(parts)}{more}")
    return out


def _describe(model: TerritoryModel, name: str) -> str:
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

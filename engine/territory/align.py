"""``align(rules, data) -> Alignment``: the stages, in order.

rules + company → units and reps (:mod:`inputs`) → distances and candidate
pairs (:mod:`geo`, :mod:`pairs`) → the MIP as arrays (:mod:`model`) → solves
(:mod:`optimise`) → the labelled, explained :class:`Alignment`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from attain.data import PLANNING_TABLES, Company, load_company
from attain.errors import DataError, InfeasibleError, Problem
from attain.load import load_rules
from attain.model import binding, binding_frame
from attain.progress import SolveProgress, watches_solves
from attain.schema.territory import TerritoryRules
from attain.territory import optimise
from attain.territory.diagnose import conflicts, orphan_conflicts
from attain.territory.explain import bent_soft_rules, explain_moves, rep_table
from attain.territory.geo import DistanceTable, offices, pair_distances
from attain.territory.handoff import unit_potential
from attain.territory.inputs import prepare_reps, prepare_units, read_data_table, rule_error
from attain.territory.model import TerritoryModel, build_model
from attain.territory.pairs import candidate_pairs
from attain.territory.result import Alignment

__all__ = ["DEFAULT_TERRITORY_SOLVER", "align", "compile_territory"]

#: The backend used unless one is named; chosen from bench/bench_territory.py.
DEFAULT_TERRITORY_SOLVER = "highs"


@watches_solves
def align(
    rules: TerritoryRules | str | Path | Mapping[str, Any],
    data: Company | str | Path,
    solver: str | None = None,
    time_limit: float | None = None,
    verbose: bool = False,
    *,
    solve_progress: SolveProgress | None = None,
) -> Alignment:
    """Re-cut the territories of ``data`` under ``rules``; raises InfeasibleError with reasons.

    ``verbose``: let the solver write its log to standard output (off: nothing reaches it).
    ``solve_progress``: called with a :class:`~attain.progress.SolveStatus` (elapsed, best
    bound and gap) while each solve runs.
    """
    source = str(rules) if isinstance(rules, str | Path) else "<rules>"
    if not isinstance(rules, TerritoryRules):
        rules = load_rules(rules, kind="territory")
    company = data if isinstance(data, Company) else load_company(data, tables=PLANNING_TABLES)
    solver = solver or DEFAULT_TERRITORY_SOLVER
    time_limit = time_limit if time_limit is not None else rules.time_limit
    start = time.perf_counter()
    model, office, table = compile_territory(rules, company, source)
    model.verbose = verbose
    built = time.perf_counter() - start
    try:
        run, front, truncated = _optimise(rules, model, solver, time_limit)
    except optimise.Infeasible:
        raise InfeasibleError(
            "no assignment satisfies the territory rules; these conflict:",
            conflicts(model, solver, time_limit),
        ) from None
    seconds = {"build_seconds": built, "solve_seconds": time.perf_counter() - start - built}
    alignment = _result(rules, company, model, run, front, office, table, solver, seconds)
    info = {"time_limit": time_limit, "contiguity_cuts": model.n_cuts, **run.info}
    if front is not None:
        info["front_truncated"] = truncated
    return replace(alignment, solve_info=info, problem=run.problem, binding=_binding(model, run))


def check_data(rules: TerritoryRules, company: Company, source: str = "<rules>"):
    """The reps and units the rules select; a located RuleFileError for any name (column,
    value, measure, table) the company does not have."""
    reps = prepare_reps(rules, company, source)
    units = prepare_units(rules, company, reps, source)
    _check_measures(rules, units, source)
    return reps, units


def compile_territory(rules: TerritoryRules, company: Company, source: str = "<rules>"):
    """The model, the rep offices (or None) and the distance table (or None)."""
    reps, units = check_data(rules, company, source)
    table = None
    if rules.units.distances is not None:
        table = DistanceTable.read(company, rules.units.distances, units, reps)
    elif rules.units.unit_distances is not None:
        table = DistanceTable.read_unit_table(company, rules.units.unit_distances, units, reps)
    office = offices(rules.offices, reps, units, source) if units.has_coordinates else None
    if office is None and table is None:
        _no_distance_goals(rules, source)
    pairs = candidate_pairs(rules, units, reps, office, table, source)
    orphans = orphan_conflicts(units, pairs)
    if orphans:
        raise InfeasibleError("some units cannot go to any rep:", orphans)
    adjacency = _adjacency(rules, company, units) if rules.contiguity else None
    return build_model(rules, units, reps, pairs, adjacency), office, table


def _optimise(rules: TerritoryRules, model: TerritoryModel, solver: str, time_limit):
    holds, hint = optimise.soft_limits(model, solver, time_limit, model.current())
    goal = rules.objective
    if goal.mode == "lexicographic":
        run = optimise.lexicographic(model, goal.order, solver, time_limit, hint, holds)
    else:
        run = optimise.weighted(model, goal.weights, solver, time_limit, hint, holds)
    front, truncated = None, False
    if rules.sweep is not None:
        s = rules.sweep
        # Priced soft bands stay bent as the chosen assignment bends them.
        held = holds + tuple(
            optimise._eps_hold(model, g, run.goals[g] + model.mip_gap)
            for g in optimise.penalties(model)
        )
        span = s.range if s.range is not None else (None, None)
        front, truncated = optimise.sweep(
            model, s.minimise, s.limit, s.max_points, solver, time_limit, run.x, held,
            mode=s.mode, step=s.step, span=span,
        )  # fmt: skip
    return run, front, truncated


def _check_measures(rules: TerritoryRules, units, source: str) -> None:
    wanted = [(f"balance[{i}].measure", b.measure) for i, b in enumerate(rules.balance)]
    wanted.append(("disruption.measure", rules.disruption.measure))
    if rules.capacity.max_workload is not None:
        wanted.append(("capacity.max_workload", "workload"))
    for path, name in wanted:
        if not units.has_measure(name):
            raise rule_error(
                source,
                path,
                f"the units have no numeric measure `{name}`",
                hint="use units, workload, potential, revenue or a numeric column of the units",
            )
    tiers = [(f"balance[{i}].tier", b.tier) for i, b in enumerate(rules.balance) if b.tier]
    if tiers and units.tier is None:
        raise rule_error(source, tiers[0][0], "the units have no `tier` column")


def _no_distance_goals(rules: TerritoryRules, source: str) -> None:
    uses = rules.objective.weights.get("distance", 0) > 0 and rules.objective.mode == "weighted"
    uses |= rules.objective.mode == "lexicographic" and "distance" in rules.objective.order
    uses |= rules.sweep is not None
    if uses or rules.max_distance is not None:
        raise rule_error(
            source,
            "objective",
            "distances are needed (travel goal, sweep or max_distance) but the units have no "
            "latitude/longitude and no `units.distances` table is given",
        )


def _adjacency(rules: TerritoryRules, company: Company, units) -> tuple[np.ndarray, np.ndarray]:
    frame = read_data_table(company, rules.units.adjacency)
    source = frame.attrs.get("source", rules.units.adjacency)
    missing = [c for c in ("unit_id", "neighbour_id") if c not in frame.columns]
    if missing:
        raise DataError([Problem(source, f"missing column `{m}`", field=m) for m in missing])
    index = pd.Index(units.ids)
    a = index.get_indexer(frame["unit_id"].astype(str).str.strip())
    b = index.get_indexer(frame["neighbour_id"].astype(str).str.strip())
    bad = np.flatnonzero((a < 0) | (b < 0))
    if len(bad):
        raise DataError(
            [Problem(source, "unknown unit in the adjacency table", row=int(bad[0]) + 2)]
        )
    return a.astype(np.int64), b.astype(np.int64)


def _result(rules, company, model: TerritoryModel, run, front, office, table, solver, seconds):
    units, reps, pairs = model.units, model.reps, model.pairs
    chosen = np.flatnonzero(run.x > 0.5)
    after = np.full(units.n, -1, dtype=np.int64)
    after[pairs.unit[chosen]] = pairs.rep[chosen]
    km_after = np.zeros(units.n)
    km_after[pairs.unit[chosen]] = pairs.km[chosen]
    before = units.owner
    km_before = _owner_km(model, office, table)
    assignment = pd.DataFrame(
        {
            "unit_id": units.ids,
            "rep_id": reps.ids[after],
            "previous_rep_id": units.owner_id,
            "moved": reps.ids[after] != units.owner_id,
        }
    )
    goals = {
        "distance_km": run.goals["distance"] if pairs.has_distance else 0.0,
        "disruption": run.goals["disruption"],
        "units_moved": int(assignment["moved"].sum()),
    }
    return Alignment(
        name=rules.name or "territory",
        status=run.status.value,
        solver=run.solver,
        gap=run.gap,
        goals=goals,
        objective=_objective_summary(rules),
        assignment=assignment,
        moves=explain_moves(model, before, after, km_after, km_before),
        reps=rep_table(model, before, after, km_after, km_before),
        bands=[
            {
                "name": b.name,
                "min": round(b.lo, 6),
                "max": _finite(b.hi),
                "basis": b.detail,
                "soft": b.soft,
            }
            for b in model.bands
        ],
        bent_soft_rules=bent_soft_rules(model, after),
        model_size={
            "variables": int(run.problem.n_cols) if run.problem is not None else model.n_cols,
            "rows": model.n_rows,
            "reps": reps.n,
        },
        pareto=_pareto_frame(front, units) if front else None,
        pareto_moves=_pareto_moves(front, model) if front else None,
        seconds=seconds,
        geometry=_geometry(units, office),
        company=company,
        unit_potential=_unit_potential(company, units),
    )


def _binding(model: TerritoryModel, run) -> pd.DataFrame | None:
    """The core's labelled binding frame of the chosen assignment (rule × rep or unit)."""
    if run.full is None:
        return None
    a = model.assemble()
    if a.problem.n_cols != len(run.full):
        return None

    def names(level: str, index: np.ndarray) -> np.ndarray:
        if level == "rep":
            return model.reps.ids[index].astype(object)
        if level == "unit":
            return model.units.ids[index].astype(object)
        return np.full(len(index), "company", dtype=object)

    return binding_frame(model, a, binding(model, a, run.full), names)


def _owner_km(model: TerritoryModel, office, table) -> np.ndarray:
    units, reps = model.units, model.reps
    km = np.full(units.n, np.nan)
    has = np.flatnonzero(units.owner >= 0)
    if model.pairs.has_distance:
        km[has] = pair_distances(units, office, table, has, units.owner[has], reps.n)
    else:
        km[has] = 0.0
    return km


def _unit_potential(company: Company, units):
    if not units.has_measure("potential"):
        return None
    return unit_potential(company, units.ids, units.owner_id, units.measure("potential"))


def _objective_summary(rules: TerritoryRules) -> dict[str, Any]:
    goal = rules.objective
    if goal.mode == "lexicographic":
        return {"mode": "lexicographic", "order": list(goal.order)}
    return {"mode": "weighted", "weights": dict(sorted(goal.weights.items()))}


def _pareto_moves(front, model: TerritoryModel) -> pd.DataFrame:
    """Per front point, the units that leave their owner (all others stay)."""
    units, reps, pairs = model.units, model.reps, model.pairs
    parts = []
    for point, run in enumerate(front, start=1):
        chosen = np.flatnonzero(run.x > 0.5)
        moved = chosen[units.owner[pairs.unit[chosen]] != pairs.rep[chosen]]
        parts.append(
            pd.DataFrame(
                {
                    "point": point,
                    "unit_id": units.ids[pairs.unit[moved]],
                    "rep_id": reps.ids[pairs.rep[moved]],
                    "previous_rep_id": units.owner_id[pairs.unit[moved]],
                }
            )
        )
    return pd.concat(parts, ignore_index=True).sort_values(["point", "unit_id"], kind="stable")


def _pareto_frame(front, units) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "point": np.arange(1, len(front) + 1),
            "distance_km": [round(r.goals["distance"], 3) for r in front],
            "disruption": [round(r.goals["disruption"], 6) for r in front],
            "status": [r.status.value for r in front],
            "gap": [round(r.gap, 9) for r in front],
        }
    )


def _geometry(units, office) -> dict[str, np.ndarray] | None:
    if office is None or not units.has_coordinates:
        return None
    return {
        "unit_lat": units.lat,
        "unit_lon": units.lon,
        "office_lat": office[0],
        "office_lon": office[1],
    }


def _finite(value: float) -> float | None:
    return round(float(value), 6) if np.isfinite(value) else None

"""`attain.design(file)`: search a plan's parameters, then check the choice out of sample."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from attain.design.evaluate import Simulator, interval, statistic_value
from attain.design.parameters import Entry, numeric_values, snap
from attain.design.result import DesignResult
from attain.design.search import Evaluations, Point, bracket, evolution
from attain.errors import InfeasibleError, Problem, RuleFileError
from attain.load import load_rules
from attain.notices import Notice
from attain.schema.base import did_you_mean
from attain.schema.design import Constraint, Design, Statistic, known_plan_values
from attain.simulate.setup import Setup, entry_name, load_setup

if TYPE_CHECKING:
    from attain.simulate.distributed import Cluster

__all__ = ["check_design", "design", "load_design"]

Progress = Callable[[int, int], None]


def check_design(path: str | Path) -> tuple[Design, Path, int]:
    """The design file checked against its scenario and the plan it tunes (a plan, or a
    package of plans by its name ``a+b``) — a path that names no number of the plan is an
    error at its line — without simulating anything (what ``attain validate`` runs): the
    design, its scenario file, the entry's index among the scenario's plans."""
    from attain.incentive import load_plan
    from attain.simulate.setup import load_scenario

    path = Path(path)
    first = _design(load_rules(path, kind="design"))
    scenario_path = path.parent / first.scenario
    scenario = load_scenario(scenario_path)
    entries = scenario.plan_entries()
    plans = [[load_plan(scenario_path.parent / f) for f in entry] for entry in entries]
    names = [entry_name(p[0] if len(p) == 1 else tuple(p)) for p in plans]
    wanted = first.plan if first.plan is not None else names[0]
    if wanted not in names:
        raise _plan_problem(
            path,
            f"the scenario has no plan `{wanted}`{did_you_mean(wanted, names)}; its plans: "
            + ", ".join(names),
            "unknown-plan",
        )
    i = names.index(wanted)
    entry: Entry = plans[i][0] if len(plans[i]) == 1 else tuple(plans[i])
    with known_plan_values(numeric_values(entry)):
        return _design(load_rules(path, kind="design")), scenario_path, i


def load_design(path: str | Path) -> tuple[Design, Setup, Entry, tuple[Path, ...]]:
    """The checked design (:func:`check_design`) with the scenario's setup, the plan (or
    package) it tunes and its plan files."""
    spec, scenario_path, i = check_design(path)
    setup = load_setup(scenario_path)
    files = setup.scenario.plan_entries()[i]
    return spec, setup, setup.plans[i], tuple((scenario_path.parent / f).resolve() for f in files)


def _design(model: object) -> Design:
    if not isinstance(model, Design):  # load_rules(kind="design") makes sure
        raise TypeError(type(model))
    return model


def _plan_problem(path: Path, message: str, code: str) -> RuleFileError:
    return RuleFileError([Problem(str(path), message, path="plan", code=code)])


def design(
    source: str | Path,
    *,
    trials: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    cluster: Cluster | None = None,
    progress: Progress | None = None,
) -> DesignResult:
    """Tune the design's plan: search on ``trials`` seeded years (the file's unless given),
    then re-simulate the chosen plan on independent years. Raises
    :class:`~attain.errors.InfeasibleError` (exit 3) with the best value each constraint
    reached when no candidate in the box meets them all."""
    t0 = time.perf_counter()
    spec, setup, plan, plan_files = load_design(source)
    if trials is not None:
        spec = spec.model_copy(update={"trials": trials})
    if seed is not None:
        spec = spec.model_copy(update={"seed": seed})
    from attain.simulate.distributed import connect_optional

    with connect_optional(cluster) as client:
        sim = Simulator(setup, plan, spec.parameters, spec.trials, spec.seed, workers, client)
        current = [numeric_values(plan)[p.path] for p in spec.parameters]
        ev = Evaluations(sim, spec, progress)
        method = spec.search.method
        if method == "auto":
            method = "bracket" if len(spec.parameters) == 1 else "evolution"
        if method == "bracket" and len(spec.parameters) > 1:
            method = "evolution"  # a grid per round does not scale past one parameter
        if method == "bracket":
            bracket(ev, current)
        else:
            evolution(ev, current, spec.seed)
        searched = time.perf_counter()
        best = ev.best()
        if best is None or not best.feasible:
            raise _infeasible(spec, ev)
        baseline = _current_point(ev, plan, current)
        checks = _validate(spec, sim, best, plan)
    validated = time.perf_counter()
    return DesignResult(
        spec=spec,
        source=str(source),
        plan=best.plan,  # type: ignore[arg-type]  # a feasible point has its plan
        plan_files=plan_files,
        method=method,
        chosen=best,
        current=baseline,
        points=list(ev.points.values()),
        validation=checks,
        notices=tuple(_notices(spec, ev, best, baseline, checks)),
        timings={"search_seconds": searched - t0, "validation_seconds": validated - searched},
    )


def _current_point(ev: Evaluations, plan: Entry, current: list[float]) -> Point:
    """The current plan as it is. Inside the box (and on its steps) it is one of the
    candidates; outside, it is paid unclipped on the same draws, apart from them."""
    snapped = [
        float(snap(p, np.asarray([x]))[0])
        for p, x in zip(ev.design.parameters, current, strict=True)
    ]
    if snapped == [float(x) for x in current]:
        return ev.evaluate(np.asarray([current], dtype=float))[0]
    return ev.evaluate_plan(current, plan)


def _validate(spec: Design, sim: Simulator, best: Point, current: Entry) -> dict[str, Any]:
    """The chosen plan (and the current one, for comparison) on independent draws."""
    v = spec.validation
    trials = v.trials if v.trials is not None else 2 * spec.trials
    seed = v.seed if v.seed is not None else spec.seed + 1
    if seed == spec.seed:
        seed += 1  # the same draws would check nothing
    chosen, before = sim.with_draws(trials, seed).figures([best.plan, current])  # type: ignore[list-item]
    stats: list[tuple[str, Statistic, Constraint | None]] = [
        (c.label, c, c) for c in spec.constraints
    ]
    stats.append(("objective", spec.objective.as_statistic(), None))
    rows = []
    for label, stat, constraint in stats:
        value = statistic_value(chosen, stat)
        low, high = interval(chosen, stat, v.confidence)
        row: dict[str, Any] = {
            "name": label,
            "value": _num(value),
            "ci_low": _num(low),
            "ci_high": _num(high),
            "current_plan": _num(statistic_value(before, stat)),
        }
        if constraint is not None:
            row["met"] = _within(value, constraint)
            # Met at confidence: the whole interval within the limits.
            row["met_at_confidence"] = all(_within(x, constraint) for x in (low, high))
        rows.append(row)
    return {"trials": trials, "seed": seed, "confidence": v.confidence, "figures": rows}


def _within(value: float, c: Constraint) -> bool:
    if not math.isfinite(value):
        return False
    return (c.max is None or value <= c.max + 1e-12 * max(1.0, abs(c.max))) and (
        c.min is None or value >= c.min - 1e-12 * max(1.0, abs(c.min))
    )


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _infeasible(spec: Design, ev: Evaluations) -> InfeasibleError:
    conflicts = []
    valid = [p for p in ev.points.values() if p.plan is not None]
    for j, c in enumerate(spec.constraints):
        if not valid:
            break
        best = min(valid, key=lambda p: (p.violations[j], p.values))
        at = ", ".join(
            f"{q.label} = {x:g}" for q, x in zip(spec.parameters, best.values, strict=True)
        )
        limit = " and ".join(
            f"{side} {value:g}"
            for side, value in (("at least", c.min), ("at most", c.max))
            if value is not None
        )
        state = "met" if best.violations[j] == 0 else "not met"
        held = ""
        if best.checked[j] != best.constraints[j]:  # a conservative design holds the bound
            held = (
                f", held at its interval's end {best.checked[j]:.6g} (conservative; more "
                "trials narrow it)"
            )
        conflicts.append(
            f"{c.label} must be {limit}; the best reachable is {best.constraints[j]:.6g}"
            f"{held} ({at}): {state}"
        )
    rejected = sum(1 for p in ev.points.values() if p.plan is None)
    message = (
        f"no plan in the parameter box meets every constraint "
        f"({len(ev.points)} candidates simulated"
        + (f", {rejected} rejected by the plan's rules" if rejected else "")
        + "); widen the bounds or relax a constraint"
    )
    return InfeasibleError(message, conflicts)


def _notices(spec: Design, ev: Evaluations, best: Point, current: Point, checks: dict[str, Any]):
    for row in checks["figures"]:
        if "met" in row and not row["met"]:
            yield Notice(
                "design-not-met-out-of-sample",
                f"`{row['name']}` is met on the search's draws but not on independent ones "
                f"({row['value']:.6g}); simulate more trials or tighten the limit",
                count=1,
            )
    for p, x in zip(spec.parameters, current.values, strict=True):
        if not p.min <= x <= p.max:
            yield Notice(
                "design-current-outside-box",
                f"`{p.label}` is {x:g} in the current plan, outside the box [{p.min:g}, "
                f"{p.max:g}]: the search never tries it; the current plan's figures are its "
                "own, unclipped",
                count=1,
            )
    for p, x in zip(spec.parameters, best.values, strict=True):
        if x in (p.min, p.max) and len(ev.points) > 2:
            side = "lower" if x == p.min else "upper"
            yield Notice(
                "design-at-bound",
                f"`{p.label}` was chosen at its {side} bound {x:g}: a better plan may lie "
                "outside the box",
                count=1,
            )
    valid = [q for q in ev.points.values() if q.plan is not None]
    for j, c in enumerate(spec.constraints):
        values = {q.constraints[j] for q in valid}
        if len(valid) > 1 and len(values) == 1:
            yield Notice(
                "design-constraint-constant",
                f"`{c.label}` is the same for every candidate: the tuned numbers do not move it",
                count=1,
            )

"""Sensitivity: which plan parameter and which assumption move total cost the most.

Each parameter is moved down and up by the scenario's ``step`` (±10% by default) and
the plan re-run on the same draws (the first ``trials`` trials of the base run), so
the swing is the parameter's effect and not noise. A plan parameter is a group of
numbers of one component (all tier rates, all curve payouts, the cap...), scaled
together so the plan stays valid; a move the plan's rules reject is left out. In a
package (plans paid together) each of its plans' parameters is moved in turn, the
others kept, and labelled with that plan's name (``cloud_overlay.cloud_bonus.rates``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import numpy as np
from pydantic import ValidationError

from attain.schema.plan import Plan
from attain.schema.scenario import PerformanceModel
from attain.simulate.evaluator import PayoutModel
from attain.simulate.runner import Job, run
from attain.simulate.variants import BASE

__all__ = ["plan_parameters", "tornado"]

#: Numeric plan fields worth moving; `end` moves with `start` (tier edges).
_SCALABLE = {
    "rate": "rates",
    "payout": "payouts",
    "attainment": "attainment points",
    "start": "tier edges",
    "end": "tier edges",
    "amount": "amounts",
    "share_of_ti": "shares of TI",
    "multiple_of_ti": "cap",
    "per_member": "funding",
    "share_of_sales": "funding",
    "fixed": "funding",
    "per_unit": "per unit",
    "team_threshold": "team threshold",
    "below": "penalty threshold",
    "weight": "weight",
}
_ASSUMPTIONS = ("mean", "sd", "shocks.company", "shocks.region", "shocks.team", "bias_from_history")


def _leaves(node: Any, path: tuple) -> Iterator[tuple[tuple, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _SCALABLE and isinstance(value, int | float) and not isinstance(value, bool):
                if value:
                    yield (*path, key), key
            else:
                yield from _leaves(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _leaves(value, (*path, i))


def plan_parameters(plan: Plan) -> dict[str, list[tuple]]:
    """Parameter label (``commission.rates``) → the paths in the plan's data it scales."""
    data = plan.model_dump(mode="json")
    groups: dict[str, list[tuple]] = {}
    for i, component in enumerate(data["components"]):
        if component["type"] == "spiff":  # a simulation has no deals: a SPIFF cannot move cost
            continue
        for path, key in _leaves(component, ("components", i)):
            inner = "cap" if "cap" in path else _SCALABLE[key]
            groups.setdefault(f"{component['name']}.{inner}", []).append(path)
    ti = data.get("target_incentive") or {}
    for key in ("amount", "share"):
        if ti.get(key):
            groups["target_incentive"] = [("target_incentive", key)]
            break
    for path, _ in _leaves(data.get("total_cap") or {}, ("total_cap",)):
        groups.setdefault("total_cap", []).append(path)
    return groups


def _scaled_plan(plan: Plan, paths: list[tuple], factor: float) -> Plan | None:
    data = plan.model_dump(mode="json")
    for path in paths:
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = node[path[-1]] * factor
    try:
        return Plan.model_validate(data)
    except ValidationError:
        return None


def _scaled_model(model: PerformanceModel, name: str, factor: float) -> PerformanceModel | None:
    data = model.model_dump()
    node = data
    *head, last = name.split(".")
    for key in head:
        node = node[key]
    if not node[last]:
        return None
    node[last] = node[last] * factor
    try:
        return PerformanceModel.model_validate(data)
    except ValidationError:
        return None


def tornado(
    job: Job,
    plans: tuple[Plan | tuple[Plan, ...], ...] | None,
    model_for: Callable[[Plan | tuple[Plan, ...]], PayoutModel] | None,
    trials: int,
    step: float,
    workers: int | None = None,
) -> list[dict[str, Any]]:
    """Rows of the tornado table, per plan, largest swing first."""
    base = replace(job, variants=(BASE,), trials=min(trials, job.trials))
    rows = []
    for p, model in enumerate(job.plans):
        one = replace(base, plans=(model,))
        centre = _mean_cost(one, workers)
        cases = [("assumption", name, _assumption_jobs(one, name, step)) for name in _ASSUMPTIONS]
        if plans is not None and model_for is not None:
            for label, jobs in _parameter_jobs(one, plans[p], step, model_for):
                cases.append(("plan", label, jobs))
        for kind, name, (low, high) in cases:
            if low is None and high is None:
                continue
            rows.append(_row(model.name, kind, name, step, centre, low, high, workers))
    return sorted(
        rows, key=lambda r: (r["plan"] != job.plans[0].name, r["plan"], -r["swing"], r["parameter"])
    )


def _assumption_jobs(job: Job, name: str, step: float):
    out = []
    for factor in (1 - step, 1 + step):
        model = _scaled_model(job.model, name, factor)
        out.append(None if model is None else replace(job, model=model))
    return out


def _parameter_jobs(job: Job, entry, step: float, model_for):
    """(label, [low job, high job]) per parameter of a plan, or of each plan of a package."""
    if not isinstance(entry, tuple):
        for label, paths in plan_parameters(entry).items():
            yield label, _plan_jobs(job, entry, paths, step, model_for)
        return
    for i, plan in enumerate(entry):

        def package_with(changed: Plan, i: int = i):
            return model_for((*entry[:i], changed, *entry[i + 1 :]))

        for label, paths in plan_parameters(plan).items():
            yield f"{plan.name}.{label}", _plan_jobs(job, plan, paths, step, package_with)


def _plan_jobs(job: Job, plan: Plan, paths, step: float, model_for):
    out = []
    for factor in (1 - step, 1 + step):
        changed = _scaled_plan(plan, paths, factor)
        out.append(None if changed is None else replace(job, plans=(model_for(changed),)))
    return out


def _mean_cost(job: Job, workers: int | None) -> float:
    return float(np.mean(run(job, workers=workers).payout[0, 0]))


def _row(plan, kind, name, step, centre, low, high, workers) -> dict[str, Any]:
    cost_low = _mean_cost(low, workers) if low is not None else None
    cost_high = _mean_cost(high, workers) if high is not None else None
    if cost_low is not None and cost_high is not None:
        swing = abs(cost_high - cost_low)
    else:
        swing = abs((cost_low if cost_high is None else cost_high) - centre)
    return {
        "plan": plan,
        "kind": kind,
        "parameter": name,
        "change": step,
        "cost_base": centre,
        "cost_low": cost_low,
        "cost_high": cost_high,
        "swing": swing,
    }

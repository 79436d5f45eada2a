"""Sensitivity: which plan parameter and which assumption move total cost the most.

Each parameter is moved down and up by the scenario's ``step`` (±10% by default) and
the plan re-paid on the same draws (the first ``trials`` trials of the base run), so
the swing is the parameter's effect and not noise. A plan parameter is a group of
numbers of one component (all tier rates, all curve payouts, the cap...), scaled
together so the plan stays valid; a move the plan's rules reject is left out. In a
package (plans paid together) each of its plans' parameters is moved in turn, the
others kept, and labelled with that plan's name (``cloud_overlay.cloud_bonus.rates``).

Every plan, its moved copies and the moved assumptions are paid in one run. A moved
assumption (the performance model's mean, sd, shocks or history bias) is paid by each
plan (:attr:`attain.simulate.runner.Job.moves`, ``Job.move_plans``): each block's
attainment is drawn again from the block's own stream under the moved model, once for
every plan, and the month and mix noise are the base run's. Those are the numbers a run
of its own would draw, except under a ``beta`` distribution (its draws take a varying count of numbers):
there the moved assumption keeps the base run's noise, where a run of its own would
have drawn other noise after the moved beta draws.
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
    client: Any | None = None,
) -> list[dict[str, Any]]:
    """Rows of the tornado table, per plan, largest swing first.

    A plan's moved parameters all read the same draws and sales, so every plan and every
    moved copy of it are paid in one run (the runner draws each block once and shares
    its sales between plans). The moved assumptions ride along in the same run
    (``Job.moves``, paid by each plan: ``Job.move_plans``): each replays the attainment
    draws of the block under its model and keeps the base run's month and mix noise, and
    its sales by month are made once for every plan, so one run makes the whole tornado.
    """
    # Mean costs only: every trial takes the evaluator's total, no component lines.
    base = replace(job, variants=(BASE,), trials=min(trials, job.trials), lines=False)
    assumptions = [(name, _assumption_models(base.model, name, step)) for name in _ASSUMPTIONS]
    moves = tuple(m for _, pair in assumptions for m in pair if m is not None)
    # Every plan, its moved copies and the moved assumptions in one run: each block is
    # drawn, its noisy profile made and each moved attainment's sales made once for all
    # (a plan's figures do not depend on the other plans of the run).
    together: list[PayoutModel] = []
    firsts: list[int] = []
    per_plan = []
    for p, model in enumerate(job.plans):
        moved: list[tuple[str, list[PayoutModel | None]]] = []
        if plans is not None and model_for is not None:
            moved = list(_parameter_models(plans[p], step, model_for))
        firsts.append(len(together))
        together += [model, *(m for _, pair in moved for m in pair if m is not None)]
        per_plan.append(moved)
    raw = run(
        replace(base, plans=tuple(together), moves=moves, move_plans=tuple(firsts)),
        workers=workers,
        client=client,
    )
    costs = iter(_means(raw.payout[0]))
    moved_costs = iter(_means(raw.moved))  # the first plan's moves, then the next's...
    rows = []
    for model, moved in zip(job.plans, per_plan, strict=True):
        centre = next(costs)
        for name, models in assumptions:
            if models[0] is None and models[1] is None:
                continue
            cost_low, cost_high = (None if m is None else next(moved_costs) for m in models)
            rows.append(_row(model.name, "assumption", name, step, centre, cost_low, cost_high))
        for label, pair in moved:
            if pair[0] is None and pair[1] is None:
                continue
            cost_low, cost_high = (None if m is None else next(costs) for m in pair)
            rows.append(_row(model.name, "plan", label, step, centre, cost_low, cost_high))
    return sorted(
        rows, key=lambda r: (r["plan"] != job.plans[0].name, r["plan"], -r["swing"], r["parameter"])
    )


def _assumption_models(
    model: PerformanceModel, name: str, step: float
) -> list[PerformanceModel | None]:
    """The performance model with ``name`` moved down and up (None: not movable)."""
    return [_scaled_model(model, name, factor) for factor in (1 - step, 1 + step)]


def _parameter_models(entry, step: float, model_for):
    """(label, [low model, high model]) per parameter of a plan, or of each plan of a
    package (None where the plan's rules reject the move)."""
    if not isinstance(entry, tuple):
        for label, paths in plan_parameters(entry).items():
            yield label, _moved_models(entry, paths, step, model_for)
        return
    for i, plan in enumerate(entry):

        def package_with(changed: Plan, i: int = i):
            return model_for((*entry[:i], changed, *entry[i + 1 :]))

        for label, paths in plan_parameters(plan).items():
            yield f"{plan.name}.{label}", _moved_models(plan, paths, step, package_with)


def _moved_models(plan: Plan, paths, step: float, model_for) -> list[PayoutModel | None]:
    out = []
    for factor in (1 - step, 1 + step):
        changed = _scaled_plan(plan, paths, factor)
        out.append(None if changed is None else model_for(changed))
    return out


def _means(payout: np.ndarray) -> list[float]:
    """Mean total cost of each row (a plan's or a moved model's trials)."""
    return [float(np.mean(row)) for row in payout]


def _row(plan, kind, name, step, centre, cost_low, cost_high) -> dict[str, Any]:
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

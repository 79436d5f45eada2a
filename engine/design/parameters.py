"""A design's parameters: the plan's numbers by path, and plans with those numbers set.

A design tunes one entry of its scenario's `plans`: a plan, or a package of plans paid
together. In a plan a path starts with a component's name (``commission.tiers[2].rate``)
or a plan-level section (``target_incentive.amount``); in a package it starts with the
name of the member plan it tunes (``cloud_overlay.cloud_overlay.tiers[1].rate``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import ValidationError

from attain.schema.design import DesignParameter
from attain.schema.plan import Plan

__all__ = ["Entry", "apply", "numeric_values", "snap"]

#: What a design tunes: a plan, or a package of plans paid together.
Entry = Plan | tuple[Plan, ...]

_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?")
#: Plan-level sections a path may start with (anything else names a component).
_PLAN_LEVEL = ("target_incentive", "total_cap", "credit", "draw")


def numeric_values(entry: Entry) -> dict[str, float]:
    """Every number of the plan a parameter may tune, by path: the components' by
    component name (``commission.tiers[2].rate``), then the plan-level sections'; in a
    package, each member's paths after its plan's name."""
    if isinstance(entry, tuple):
        return {f"{p.name}.{k}": v for p in entry for k, v in numeric_values(p).items()}
    data = entry.model_dump(mode="json")
    out: dict[str, float] = {}
    for component in data["components"]:
        _leaves(component, component["name"], out)
    for key in _PLAN_LEVEL:
        if isinstance(data.get(key), dict):
            _leaves(data[key], key, out)
    return out


def _leaves(node: Any, path: str, out: dict[str, float]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _leaves(value, f"{path}.{key}", out)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _leaves(value, f"{path}[{i}]", out)
    elif isinstance(node, int | float) and not isinstance(node, bool) and math.isfinite(node):
        out[path] = float(node)


def _locate(data: dict[str, Any], path: str) -> tuple[list[tuple[Any, Any]], str | int]:
    """The containers along ``path`` in the plan's data, and the last key."""
    steps: list[str | int] = []
    for part in path.split("."):
        m = _STEP.fullmatch(part)
        if m is None:  # the schema's pattern keeps this from happening
            raise KeyError(path)
        steps.append(m.group(1))
        if m.group(2) is not None:
            steps.append(int(m.group(2)))
    head = steps[0]
    if head in _PLAN_LEVEL:
        node: Any = data
    else:
        by_name = {c["name"]: c for c in data["components"]}
        node = by_name[head]
        steps = steps[1:]
    chain = []
    for key in steps[:-1]:
        chain.append((node, key))
        node = node[key]
    chain.append((node, steps[-1]))
    return chain, steps[-1]


def apply(entry: Entry, parameters: Sequence[DesignParameter], values: Sequence[float]) -> Entry:
    """``entry`` with each parameter's number set; a tier's `start` moves the previous
    tier's `end` with it. In a package only the members a path names change. Raises
    :class:`ValueError` when the plan's rules reject it."""
    paths = [p.path for p in parameters]
    if not isinstance(entry, tuple):
        return _apply(entry, paths, values)
    members = []
    for plan in entry:
        head = f"{plan.name}."
        mine = [
            (p[len(head) :], v) for p, v in zip(paths, values, strict=True) if p.startswith(head)
        ]
        if not mine:
            members.append(plan)
            continue
        try:
            members.append(_apply(plan, [p for p, _ in mine], [v for _, v in mine]))
        except ValueError as exc:
            raise ValueError(f"{plan.name}: {exc}") from None
    return tuple(members)


def _apply(plan: Plan, paths: Sequence[str], values: Sequence[float]) -> Plan:
    data = plan.model_dump(mode="json")
    for path, value in zip(paths, values, strict=True):
        chain, last = _locate(data, path)
        node = chain[-1][0]
        node[last] = float(value)
        if last == "start" and len(chain) >= 2 and isinstance(chain[-2][1], int):
            tiers, i = chain[-2]  # the tier is tiers[i]: its predecessor ends where it starts
            if i > 0 and tiers[i - 1].get("end") is not None:
                tiers[i - 1]["end"] = float(value)
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ValueError(f"{where}: {first['msg']}") from None


def snap(parameter: DesignParameter, values: np.ndarray) -> np.ndarray:
    """Values clipped to the parameter's bounds and, with a step, to ``min + k × step``."""
    x = np.clip(np.asarray(values, dtype=float), parameter.min, parameter.max)
    if parameter.step is not None:
        k = np.round((x - parameter.min) / parameter.step)
        top = math.floor((parameter.max - parameter.min) / parameter.step + 1e-9)
        x = parameter.min + np.clip(k, 0, top) * parameter.step
        # Printed values: 0.07 rather than 0.07000000000000001.
        x = np.round(x, 12)
    return x

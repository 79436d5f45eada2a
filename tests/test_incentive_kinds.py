"""The component kinds' registry: every schema component type has one kind module, and a
compiled plan holds only compiled data."""

from __future__ import annotations

import dataclasses
import typing

import numpy as np
import pydantic
import pytest

from attain.incentive import KINDS, compile_plan, load_plan
from attain.incentive.kinds import KindBase, register
from attain.schema.plan import Component


def _schema_types() -> set[str]:
    union = (
        typing.get_args(Component)[0]
        if typing.get_origin(Component) is typing.Annotated
        else Component
    )
    return {typing.get_args(m.model_fields["type"].annotation)[0] for m in typing.get_args(union)}


def test_every_component_type_has_a_kind():
    assert set(KINDS) == _schema_types()
    for name, kind in KINDS.items():
        assert kind.type == name
        assert kind.schema.model_fields["type"].default == name
        for method in ("compile", "exact", "parts", "vectorised", "rule", "inputs", "deal_level"):
            assert callable(getattr(kind, method))


def test_a_type_registers_once():
    class Again(KindBase):
        type = "commission"

    with pytest.raises(ValueError, match="already registered"):
        register(Again())


def _walk(value, seen):
    if id(value) in seen:
        return
    seen.add(id(value))
    assert not isinstance(value, pydantic.BaseModel), type(value)
    if dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            _walk(getattr(value, f.name), seen)
    elif isinstance(value, tuple | list):
        for v in value:
            _walk(v, seen)
    elif isinstance(value, dict):
        for v in value.values():
            _walk(v, seen)
    else:
        assert isinstance(value, str | int | float | bool | np.ndarray | type(None)) or hasattr(
            value, "isoformat"
        ), type(value)


@pytest.mark.parametrize(
    "name",
    [
        "plan_field_rep",
        "plan_team_bonus",
        "plan_draw",
        "plan_attainment_curve",
        "plan_cloud_overlay",
    ],
)
def test_compiled_plan_holds_only_compiled_data(name):
    plan = load_plan(f"rules/{name}.yaml")
    compiled = compile_plan(plan, ("core", "cloud", "services", "analytics"))
    _walk(compiled, set())
    for c in compiled.components:
        assert dataclasses.is_dataclass(c) and c.__dataclass_params__.frozen
        assert type(c).type == c.type and c.type in KINDS

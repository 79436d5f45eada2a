"""The component kinds' registry: every schema component type has one kind module, and a
compiled plan holds only compiled data."""

from __future__ import annotations

import dataclasses
import typing

import numpy as np
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.incentive import KINDS, compile_plan, load_plan
from attain.incentive.kinds import KindBase, register
from attain.incentive.kinds.draw import CompiledDraw, settle_exact, settle_vectorised
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


# --- the draw's settlement: exact == vectorised, and what it must hold -------------------


def _recoveries_agree(floats: np.ndarray, exact: np.ndarray) -> None:
    """The exact path floors each period's ``max_share`` limit to the minor unit and the
    float path does not, so a recovery held back by under one unit in one period can be
    taken in a later one: the per-period lines differ by more than a unit, while the
    recovered total differs by under one unit per period so far."""
    gap = np.cumsum(floats - exact, axis=-1)
    so_far = np.arange(1, exact.shape[-1] + 1)
    assert (np.abs(gap) <= so_far + 1e-6).all()


def test_a_floored_share_limit_is_recovered_later():
    d = CompiledDraw(
        amount=862,
        recoverable=True,
        absorbs_clawback=True,
        advance=True,
        paid_at="start",
        delay=1,
        max_amount=None,
        max_share=33512,
    )
    total = np.array([[0, 0, 0, 0, 0, 863, 11425, 0, 16051]], dtype=np.int64)
    active = np.array([1, 0, 0, 0, 0, 1, 1, 0, 1], dtype=bool)
    s = settle_exact(d, total, active)
    _, recovery = settle_vectorised(d, total / 100, 100, active)
    # the advance of 862 settles, and 10,563 excess x 3.3512% = 353.99 floors to 353;
    # the unit left is taken in period 9
    assert s.recovery[0, 6] == -862 - 353
    assert recovery[0, 6] * 100 == pytest.approx(-862 - 353.987256)
    assert np.abs(recovery * 100 - s.recovery).max() > 1.0
    _recoveries_agree(recovery * 100, s.recovery)


@st.composite
def draws(draw):
    return CompiledDraw(
        amount=draw(st.integers(0, 500_000)),
        recoverable=draw(st.booleans()),
        absorbs_clawback=draw(st.booleans()),
        advance=draw(st.booleans()),
        paid_at=draw(st.sampled_from(["start", "end"])),
        delay=draw(st.integers(1, 4)),
        max_amount=draw(st.none() | st.integers(0, 300_000)),
        max_share=draw(st.none() | st.integers(0, 1_000_000)),
    )


@settings(max_examples=60, deadline=None)
@given(
    draws(),
    st.integers(1, 12).flatmap(
        lambda p: st.lists(
            st.lists(st.integers(-400_000, 900_000), min_size=p, max_size=p), min_size=1, max_size=5
        )
    ),
    st.data(),
)
def test_draw_settlement_exact_equals_vectorised(d, totals, data):
    total = np.array(totals, dtype=np.int64)
    active = np.array(
        data.draw(st.lists(st.booleans(), min_size=total.shape[1], max_size=total.shape[1]))
    )
    s = settle_exact(d, total, active)
    line, recovery = settle_vectorised(d, total / 100, 100, active)
    assert np.allclose(line * 100, s.draw, atol=0.5)
    _recoveries_agree(recovery * 100, s.recovery)
    paid = total + s.draw + s.recovery
    short = np.where(
        active, np.maximum(d.amount - (total if d.absorbs_clawback else np.maximum(total, 0)), 0), 0
    )
    # before recovery every period pays its earnings plus its shortfall
    recovered = -(s.recovery - s.settled)
    assert (recovered >= 0).all()
    assert ((paid == total + short - recovered) | ~active).all()
    if d.advance:
        assert (s.draw == np.where(active, d.amount, 0)).all()
    else:
        assert (s.draw == short).all() and (s.settled == 0).all()
    if not d.recoverable:
        assert (recovered == 0).all() and (s.balance == 0).all()
    else:
        assert (s.balance >= 0).all()
        assert (s.balance[:, -1] == short.sum(axis=1) - recovered.sum(axis=1)).all()
        if d.max_amount is not None:
            assert (recovered <= d.max_amount).all()
        excess = np.maximum(total - d.amount, 0)
        assert (recovered <= excess).all()
        for p in range(min(d.delay, total.shape[1])):
            assert (recovered[:, p] == 0).all()

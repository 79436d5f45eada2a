"""The fused total (every component of a slice of reps at once) gives the general path's
bits: random plans, sales (negative, zero, -0.0), reps without a target, modifiers,
non-participants, any slice size."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import attain.incentive.vectorised as vectorised
import attain.incentive.vectorised_fused as fused
from attain.incentive import compile_plan
from attain.incentive.vectorised import evaluate, population
from attain.schema.plan import Plan
from tests.test_incentive_properties import PRODUCTS, _cap, measures, plans


def _general(monkeypatch, *args, **kwargs):
    with monkeypatch.context() as m:
        m.setattr(vectorised, "fusable", lambda *a: False)
        return evaluate(*args, **kwargs)


def _same_bits(a: np.ndarray, b: np.ndarray) -> None:
    assert a.shape == b.shape
    assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()


def _fusable_plan(draw) -> Plan:
    """A random plan the fused total pays: marginal commissions on an amount, curves,
    step bonuses; caps, a total cap; no gates, draws or holdbacks."""
    while True:
        plan = draw(plans(period=draw(st.sampled_from(["month", "quarter", "year"]))))
        spec = plan.model_dump(mode="json", exclude_none=True)
        spec.pop("draw", None)
        spec.pop("holdback", None)
        comps = []
        for c in spec["components"]:
            c.pop("gate", None)
            if c["type"] == "commission":
                c.update(method="marginal", basis="amount", split="proportional")
                c.pop("base_floor", None)
            if c["type"] != "penalty":
                cap = _cap(draw)
                if cap is not None and c["type"] == "attainment_curve":
                    c["cap"] = cap
                comps.append(c)
        if comps:
            spec["components"] = comps
            try:
                return Plan.model_validate(spec)
            except ValidationError:  # a cap below what a curve's threshold pays
                for c in comps:
                    c.pop("cap", None)
                return Plan.model_validate(spec)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_the_fused_total_gives_the_general_paths_bits(data):
    plan = _fusable_plan(data.draw)
    compiled = compile_plan(plan, PRODUCTS)
    n_p = compiled.n_periods
    sales, targets = measures(data.draw, 21, n_p)
    sales = sales.reshape(7, 3, n_p, 2)  # 7 reps × 3 trials
    sales[0, 0, 0, 0] = -0.0
    targets = targets[:7]
    targets[1] = 0.0  # a rep without a target
    ti = np.full(7, float(plan.target_incentive.amount))
    people = pd.DataFrame({"rep_id": [f"R{i}" for i in range(7)], "role": "rep"})
    pop = population(compiled, 7, people, ti=ti)
    if data.draw(st.booleans()):
        participant = np.array(data.draw(st.lists(st.booleans(), min_size=7, max_size=7)))
        factors = {c.name: np.linspace(0.5, 1.5, 7) for c in compiled.components[:1]}
        pop = vectorised.replace(pop, participant=participant, factors=factors)
    assert fused.fusable(compiled, pop, vectorised._as4(sales, 2))
    block = data.draw(st.sampled_from([1, 3, 7, 1 << 14]))
    trials_first = np.ascontiguousarray(sales.swapaxes(0, 1)).swapaxes(0, 1)
    for s in (sales, trials_first):
        expected = _general(pytest.MonkeyPatch(), compiled, s, targets, pop=pop)
        with pytest.MonkeyPatch.context() as m:
            m.setattr(fused, "FUSED_BLOCK", block)
            _same_bits(evaluate(compiled, s, targets, pop=pop), expected)


@pytest.mark.parametrize("cap", [1.5, 0.75, 0.5])
def test_the_fused_total_is_taken_and_can_differ_from_a_wrong_kernel(monkeypatch, cap):
    """The bench plan goes the fused way (a broken kernel there changes its figures), its
    curve capped above what it pays, and where the cap binds (taken before the TI)."""
    from bench.bench_simulate import _plan

    spec = _plan().model_dump(mode="json", exclude_none=True)
    spec["components"][1]["cap"] = {"multiple_of_ti": cap}
    plan = Plan.model_validate(spec)
    compiled = compile_plan(plan, PRODUCTS)
    rng = np.random.default_rng(1)
    sales = rng.uniform(-1e4, 2e6, (50, 4))
    targets = rng.uniform(5e5, 1.5e6, 50)
    ti = rng.uniform(10_000.0, 30_000.0, 50)
    pop = population(compiled, 50, ti=ti)
    total = evaluate(compiled, sales, targets, pop=pop)
    _same_bits(total, _general(monkeypatch, compiled, sales, targets, pop=pop))
    monkeypatch.setattr(fused, "_line", lambda *a: a[-1][0].fill(0.0))
    assert not np.array_equal(evaluate(compiled, sales, targets, pop=pop), total)


def test_plans_the_fused_total_leaves_to_the_general_path():
    base = {
        "kind": "plan",
        "name": "p",
        "period": "quarter",
        "target_incentive": {"amount": 1000},
    }
    retro = {
        "type": "commission",
        "name": "c",
        "method": "retroactive",
        "tiers": [{"start": 0, "rate": 0.1}],
    }
    gated = {
        "type": "step_bonus",
        "name": "s",
        "steps": [{"attainment": 1, "amount": 10}],
        "gate": {"min_attainment": 0.5},
    }
    sales4 = np.ones((2, 1, 4, 2))
    for comp in (retro, gated):
        compiled = compile_plan(Plan.model_validate({**base, "components": [comp]}), PRODUCTS)
        assert not fused.fusable(compiled, population(compiled, 2, ti=np.ones(2)), sales4)
    drawn = {**base, "components": [{**retro, "method": "marginal"}], "draw": {"amount": 5}}
    compiled = compile_plan(Plan.model_validate(drawn), PRODUCTS)
    assert not fused.fusable(compiled, population(compiled, 2, ti=np.ones(2)), sales4)


def _commission_only(tiers=({"start": 0, "end": 100, "rate": 0.1}, {"start": 100, "rate": 0.2})):
    return Plan.model_validate(
        {
            "kind": "plan",
            "name": "p",
            "period": "year",
            "target_incentive": {"amount": 1000},
            "components": [
                {
                    "type": "commission",
                    "name": "c",
                    "tiers": list(tiers),
                }
            ],
        }
    )


def test_a_carried_negative_balance_pays_zero_not_minus_zero(monkeypatch):
    """max(total, 0) of a -0.0 total is 0.0: the fused total's clip (which keeps -0.0)
    adds 0.0 after it unless the last component cannot end at -0.0."""
    compiled = compile_plan(_commission_only([{"start": 0, "rate": 0.1}]), PRODUCTS)
    sales = np.array([[-0.0, -5.0, 0.0, 50.0, 150.0]])  # one tier: -0.0 pays -0.0
    pop = population(compiled, 1, ti=np.ones(1))
    assert fused.fusable(compiled, pop, vectorised._as4(sales, 2))
    total = evaluate(compiled, sales, np.ones(1), pop=pop)
    _same_bits(total, _general(monkeypatch, compiled, sales, np.ones(1), pop=pop))
    assert not np.signbit(total[0, 0])
    assert total.tolist() == [[0.0, 0.0, 0.0, 5.0, 15.0]]


def test_kernels_prepared_once_serve_only_their_plan_and_population(monkeypatch):
    """The lines kept between calls belong to one (plan, population): another population
    (a modifier) or another plan is paid with its own."""
    from bench.bench_simulate import _plan

    compiled = compile_plan(_plan(), PRODUCTS)
    rng = np.random.default_rng(2)
    sales = rng.uniform(0.0, 2e6, (30, 3))
    targets = rng.uniform(5e5, 1.5e6, 30)
    ti = rng.uniform(10_000.0, 30_000.0, 30)
    plain = population(compiled, 30, ti=ti)
    modified = vectorised.replace(plain, factors={"bonus": np.linspace(0.5, 1.5, 30)})
    other = compile_plan(_commission_only(), PRODUCTS)
    for _ in range(2):
        for plan, pop in ((compiled, plain), (compiled, modified), (other, plain)):
            _same_bits(
                evaluate(plan, sales, targets, pop=pop),
                _general(monkeypatch, plan, sales, targets, pop=pop),
            )
    assert not np.array_equal(
        evaluate(compiled, sales, targets, pop=plain),
        evaluate(compiled, sales, targets, pop=modified),
    )
    # a modifier added to the same population's dict after a call: prepared again
    later = vectorised.replace(plain, factors={})
    evaluate(compiled, sales, targets, pop=later)
    later.factors["bonus"] = np.linspace(0.5, 1.5, 30)
    _same_bits(
        evaluate(compiled, sales, targets, pop=later),
        _general(monkeypatch, compiled, sales, targets, pop=later),
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 400_000), min_size=1, max_size=4),
    st.lists(st.integers(0, 3_000_000), min_size=4, max_size=4, unique=True),
    st.data(),
)
def test_steps_counted_in_bytes_give_the_loops_bits(minor, levels, data):
    """Steps whose amounts are whole multiples of one unit are counted in uint8 and cast
    once, where that gives the per-step loop's bits for every set of steps reached."""
    import attain.incentive.kinds.steps as steps

    amounts = sorted(minor)
    starts = sorted(levels)[: len(amounts)]
    plan = Plan.model_validate(
        {
            "kind": "plan",
            "name": "p",
            "period": "year",
            "target_incentive": {"amount": 1000},
            "components": [
                {
                    "type": "step_bonus",
                    "name": "s",
                    "steps": [
                        {"attainment": a / 1e6, "amount": m / 100}
                        for a, m in zip(starts, amounts, strict=True)
                    ],
                }
            ],
        }
    )
    c = compile_plan(plan, PRODUCTS).components[0]
    at = [s / 1e6 for s in starts]
    att = np.array([*at, *np.nextafter(at, -np.inf), -np.inf, np.inf, np.nan, -0.0, 0.0, 7.0])
    att = np.concatenate([att, data.draw(st.lists(st.floats(-1, 4), max_size=20))])[:, None]
    ti_w = np.ones((len(att), 1))
    counted = steps.steps_into(c, att, ti_w, 100)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(steps, "_multiples", lambda *a: None)
        looped = steps.steps_into(c, att, ti_w, 100)
    _same_bits(counted, looped)


def test_steps_are_counted_on_the_bench_plan():
    import attain.incentive.kinds.steps as steps
    from bench.bench_simulate import _plan

    kicker = compile_plan(_plan(), PRODUCTS).components[2]
    per_step = [np.array(v / 100) for v in np.diff(kicker.values, prepend=0)]
    assert steps._multiples(per_step, True) is not None
    assert steps._multiples([np.array(0.1), np.array(0.25)], True) is None  # 0.25 ≠ n × 0.1
    # 1, 5 and 4 units, but the loop's sums round where the count's product does not
    unit = float.fromhex("0x1.043b27b61342fp+0")
    assert steps._multiples([np.array(n * unit) for n in (1, 5, 4)], True) is None
    assert steps._multiples([np.array(n * 1.5) for n in (1, 5, 4)], True) is not None

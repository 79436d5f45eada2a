"""Hypothesis over random small instances.

Feasible ones are built around a planted target vector that satisfies every
rule, so they are feasible by construction: all hard rules hold in the output,
the optimum is never less fair than plain proportional allocation when that is
feasible, and the same inputs give the same bytes. Infeasible ones plant one
conflict: the named rules really conflict (without them the rest solves), and
each named rule is needed (dropping any one of them solves).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attain.allocate import allocate
from attain.allocate.toy import toy_company
from attain.errors import InfeasibleError

SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@st.composite
def instances(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    R = draw(st.integers(3, 7))
    P = draw(st.integers(1, 2))
    proportional = draw(st.booleans())
    pot = rng.uniform(10, 100, (R, P))
    ly = rng.uniform(10, 100, (R, P))
    regions = ["N" if i % 2 == 0 else "S" for i in range(R)]
    total = float(np.round(pot.sum() * rng.uniform(0.8, 1.2), 2))
    fair = pot / pot.sum() * total
    # The planted point: the fair shares themselves, or a random perturbation of them.
    point = fair if proportional else fair * rng.uniform(0.7, 1.3, (R, P))
    point = point / point.sum() * total
    rep = point.sum(axis=1)
    growth = rep / ly.sum(axis=1) - 1
    margin = rng.uniform(0, 0.05, 6)
    capacity = rep * (1 + rng.uniform(0.0, 0.4, R)) + 1e-6
    north = rep[::2].sum() / total
    rules = [
        {"name": "growth", "type": "growth",
         "min": float(growth.min() - margin[0]), "max": float(growth.max() + margin[1])},
        {"name": "capacity", "type": "capacity"},
        {"name": "north", "type": "share", "level": "region", "where": {"region": "N"},
         "min": float(max(north - margin[2], 0))},
        {"name": "floor", "type": "bounds", "where": {"rep_id": "R001"},
         "min": float(rep[0] * (1 - margin[3]))},
    ]  # fmt: skip
    if P == 2:
        mix = point[:, 1] / rep
        rules.append(
            {"name": "mix", "type": "mix", "product": "p2",
             "min": float(max(mix.min() - margin[4], 0)), "max": float(min(mix.max() + margin[5], 1))}
        )  # fmt: skip
    company = toy_company(pot, last_year=ly, regions=regions, capacity=capacity.tolist())
    spec = {
        "kind": "allocation",
        "company_target": {"total": total},
        "seasonality": {"source": "flat"},
        "rules": rules,
    }
    return company, spec, {"fair": fair, "capacity": capacity, "ly": ly, "point": point}


def check_hard_rules(result, spec, data):
    """Every hard rule, re-checked on the written (rounded) targets."""
    t = result.targets
    rep = t.groupby("rep_id", sort=True)["target"].sum().to_numpy()
    cells = t.groupby(["rep_id", "product"], sort=True)["target"].sum().to_numpy()
    tol = 0.02 * len(rep) + 1e-6  # cents: each rep is within one unit of the LP
    assert np.round(t["target"].sum(), 2) == pytest.approx(
        spec["company_target"]["total"], abs=1e-6
    )
    cents = t["target"].to_numpy() * 100
    assert np.allclose(cents, np.round(cents), atol=1e-6)
    rules = {r["name"]: r for r in spec["rules"]}
    ly = data["ly"].sum(axis=1)
    g = rep / ly - 1
    assert (g >= rules["growth"]["min"] - 0.01 / ly - 1e-9).all()
    assert (g <= rules["growth"]["max"] + 0.01 / ly + 1e-9).all()
    assert (rep <= data["capacity"] + 0.01 + 1e-9).all()
    assert rep[::2].sum() >= rules["north"]["min"] * rep.sum() - tol
    assert rep[0] >= rules["floor"]["min"] - 0.01
    if "mix" in rules:
        p2 = cells.reshape(len(rep), 2)[:, 1]
        assert (p2 >= rules["mix"]["min"] * rep - 0.03).all()
        assert (p2 <= rules["mix"]["max"] * rep + 0.03).all()


def proportional_is_feasible(spec, data) -> bool:
    fair = data["fair"]
    rep = fair.sum(axis=1)
    rules = {r["name"]: r for r in spec["rules"]}
    g = rep / data["ly"].sum(axis=1) - 1
    ok = g.min() >= rules["growth"]["min"] and g.max() <= rules["growth"]["max"]
    ok &= bool((rep <= data["capacity"]).all())
    ok &= rep[::2].sum() >= rules["north"]["min"] * rep.sum() - 1e-9
    ok &= rep[0] >= rules["floor"]["min"]
    if "mix" in rules:
        mix = fair[:, 1] / rep
        ok &= mix.min() >= rules["mix"]["min"] and mix.max() <= rules["mix"]["max"]
    return bool(ok)


@SETTINGS
@given(instances())
def test_feasible_instances(case):
    company, spec, data = case
    result = allocate(spec, company)
    check_hard_rules(result, spec, data)
    gaps = result.explain.query("level == 'rep'")["gap"].abs()
    if proportional_is_feasible(spec, data):
        # Proportional allocation has no gap at all; the optimum cannot do worse.
        assert gaps.max() <= 1e-6
    # Deterministic: the same inputs write the same bytes.
    again = allocate(spec, company)
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        result.write(a, xlsx=False)
        again.write(b, xlsx=False)
        for name in ("targets.csv", "explain.csv"):
            assert (Path(a) / name).read_bytes() == (Path(b) / name).read_bytes()


@st.composite
def infeasible_instances(draw):
    company, spec, data = draw(instances())
    kind = draw(st.sampled_from(["share_vs_capacity", "floor_vs_capacity"]))
    rules = spec["rules"]
    total = spec["company_target"]["total"]
    if kind == "share_vs_capacity":
        reachable = data["capacity"][::2].sum() / total
        if reachable >= 0.99:
            kind = "floor_vs_capacity"
        else:
            rules[2]["min"] = float(min(reachable + 0.005, 1.0))
    if kind == "floor_vs_capacity":
        rules[3]["min"] = float(data["capacity"][0] * 1.05 + 1)
    return company, spec, kind


def _solves(spec, company, keep) -> bool:
    """Whether the allocation solves with only the rules named in ``keep``."""
    trimmed = dict(spec, rules=[r for r in spec["rules"] if r["name"] in keep])
    try:
        allocate(trimmed, company)
    except InfeasibleError:
        return False
    return True


@SETTINGS
@given(infeasible_instances())
def test_infeasible_instances_name_a_real_minimal_conflict(case):
    company, spec, kind = case
    with pytest.raises(InfeasibleError) as info:
        allocate(spec, company)
    every = {r["name"] for r in spec["rules"]}
    sets = info.value.rule_sets
    assert sets and all(sets)
    # Real: without every named rule the rest solves (several conflicts may be reported).
    named = {n for conflict in sets for n in conflict}
    assert _solves(spec, company, every - named)
    planted = {"share_vs_capacity": "north", "floor_vs_capacity": "floor"}[kind]
    assert planted in named
    for conflict in sets:
        rules = set(conflict) - {"company_target"}  # the company target is always kept
        # The named rules conflict on their own ...
        assert not _solves(spec, company, rules)
        # ... and each of them is needed for the conflict.
        for name in rules:
            assert _solves(spec, company, rules - {name}), f"{conflict} without {name}"
    for line in info.value.conflicts:
        assert any(ch.isdigit() for ch in line)

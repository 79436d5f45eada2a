"""The staged decomposition reaches the monolithic optimum; every backend agrees.

The monolithic months are the staged ones: its month tie-break pulls every cell to stage 2's
closed form ``t × s'`` (inside the bands and checkpoints) without moving any level's value.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from attain.allocate import allocate, core, monolithic
from attain.allocate.split import adjusted_profiles, is_ramping, month_profiles
from attain.allocate.toy import toy_company
from attain.errors import InfeasibleError
from attain.solvers import SolveOptions

SEASON = [5, 6, 8, 7, 8, 9, 7, 6, 9, 9, 10, 16]


def company():
    rng = np.random.default_rng(11)
    pot = rng.uniform(50, 150, size=(8, 2))
    ly = pot * rng.uniform(0.7, 1.1, size=(8, 2))
    return toy_company(
        pot,
        last_year=ly,
        regions=["N"] * 4 + ["S"] * 4,
        teams=["N1", "N1", "N2", "N2", "S1", "S1", "S2", "S2"],
        capacity=[300, 250, 260, 240, 300, 300, 280, 400],
        tenure=[60, 60, 2, 60, 30, 60, 8, 60],
        season=SEASON,
    )


def rich_rules(**over):
    rules = {
        "kind": "allocation",
        "company_target": {"total": 1500},
        "buffer": {"team": 1.02, "rep": 1.04},
        "fair_share": {"basis": "blend", "potential_weight": 0.6},
        "seasonality": {
            "source": "history",
            "tolerance": 0.01,
            "checkpoints": [{"quarter": 1, "min": 0.22}, {"quarter": 4, "max": 0.33}],
        },
        "rules": [
            {
                "name": "growth",
                "type": "growth",
                "min": -0.1,
                "max": 0.6,
                "where": {"tenure_months": {"min": 12}},
            },
            {"name": "cap", "type": "capacity"},
            {"name": "team_cap", "type": "capacity", "level": "team", "per_head": 230},
            {
                "name": "north",
                "type": "share",
                "level": "region",
                "where": {"region": "N"},
                "min": 0.48,
            },
            {
                "name": "mix",
                "type": "mix",
                "level": "team",
                "product": "p2",
                "min": 0.3,
                "max": 0.6,
            },
            {
                "name": "ramp",
                "type": "ramp",
                "steps": [{"tenure_below": 3, "share": 0.3}, {"tenure_below": 12, "share": 0.7}],
            },
            {
                "name": "wish",
                "type": "bounds",
                "where": {"rep_id": "R008"},
                "max": 150,
                "soft": True,
                "priority": 1,
            },
        ],
        "objective": ["minimax", {"l1": 1.0, "last_year": 0.3}],
    }
    rules.update(over)
    return rules


def test_staged_equals_monolithic():
    """Same optimum on every lexicographic level, and the monolithic months satisfy the bands."""
    c = company()
    staged = allocate(rich_rules(), c, method="staged")
    mono = allocate(rich_rules(), c, method="monolithic")
    for name, value in staged.summary["objectives"].items():
        assert mono.summary["objectives"][name] == pytest.approx(value, abs=1e-6)
    assert mono.summary["n_variables"] > staged.summary["n_variables"]
    lp_staged = staged.explain.query("level == 'rep'")["lp_target"].to_numpy()
    lp_mono = mono.explain.query("level == 'rep'")["lp_target"].to_numpy()
    # The minimax + L1 optimum may not be unique per rep, but its figures are.
    assert lp_staged.sum() == pytest.approx(lp_mono.sum())
    assert staged.fairness["max_gap"] == pytest.approx(mono.fairness["max_gap"], abs=1e-3)


def test_staged_equals_monolithic_without_checkpoints():
    c = company()
    season = {"source": "history", "tolerance": 0.02}
    a = allocate(rich_rules(seasonality=season), c, method="staged")
    b = allocate(rich_rules(seasonality=season), c, method="monolithic")
    assert a.objective == pytest.approx(b.objective, abs=1e-6)


@pytest.mark.parametrize("solver", ["cbc", "glop"])
def test_backends_agree(solver):
    c = company()
    reference = allocate(rich_rules(), c, solver="highs")
    other = allocate(rich_rules(), c, solver=solver)
    for name, value in reference.summary["objectives"].items():
        assert other.summary["objectives"][name] == pytest.approx(value, abs=1e-5)
    assert other.summary["solver"] == solver


def test_pdlp_agrees_to_its_tolerance():
    c = company()
    r = rich_rules(objective=["minimax"])
    reference = allocate(r, c, solver="highs")
    other = allocate(r, c, solver="pdlp")
    assert other.objective == pytest.approx(reference.objective, abs=1e-3)


def test_soft_rule_in_rich_instance_is_reported():
    result = allocate(rich_rules(), company())
    rules = result.rules.set_index("rule")
    assert rules.loc["wish", "soft"]
    assert {"growth", "cap", "team_cap", "north", "mix", "ramp"} <= set(rules.index)


# --- The monolithic months -------------------------------------------------------------------


def run(rules, data, method, **constants):
    """``allocate`` plus its unrounded totals and cells; ``constants`` patch monolithic's."""
    seen = {}
    real = core.round_targets

    def spy(inputs, model, totals, cells):
        seen.update(inputs=inputs, totals=totals.copy(), cells=cells.copy())
        return real(inputs, model, totals, cells)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(core, "round_targets", spy)
        for name, value in constants.items():
            mp.setattr(monolithic, name, value)
        result = allocate(rules, data, method=method)
    return result, seen


def staged_shares(inputs):
    """Stage 2's shares ``s'[r, p, k]`` (of the profiles moved to meet the checkpoints)."""
    return month_profiles(inputs, adjusted_profiles(inputs, "highs", SolveOptions()))


def check_months(inputs, totals, cells):
    """Σ months = t; the band ±tol around the raw profile (a ramping rep's: × the ramp,
    renormalised); the checkpoints for every rep not ramping."""
    season = inputs.rules.seasonality
    tol = season.tolerance
    eps = 1e-6 * inputs.total / inputs.n_reps
    np.testing.assert_allclose(cells.sum(axis=2), totals, rtol=1e-7, atol=eps)
    ramped = inputs.profiles[None, :, :] * inputs.ramp_months[:, None, :]
    sums = ramped.sum(axis=2, keepdims=True)
    centre = np.where(sums > 0, ramped / np.where(sums > 0, sums, 1.0), inputs.profiles)
    t = totals[:, :, None]
    assert (cells >= np.maximum(centre - tol, 0.0) * t - eps).all()
    assert (cells <= (centre + tol) * t + eps).all()
    steady = ~is_ramping(inputs)
    for cp in season.checkpoints:
        q = cells[steady, :, 3 * (cp.quarter - 1) : 3 * cp.quarter].sum(axis=2)
        if cp.min is not None:
            assert (q >= cp.min * totals[steady] - eps).all()
        if cp.max is not None:
            assert (q <= cp.max * totals[steady] + eps).all()


def ramp_rules(first_share: float, **over):
    rules = rich_rules(**over)
    ramp = next(r for r in rules["rules"] if r["type"] == "ramp")
    ramp["steps"] = [{"tenure_below": 3, "share": first_share}, {"tenure_below": 12, "share": 0.7}]
    return rules


CASES = {
    "checkpoints": rich_rules(),
    "no_checkpoints": rich_rules(seasonality={"source": "history", "tolerance": 0.02}),
    # A first step of 0: the new hire's first months carry nothing.
    "idle_months": ramp_rules(0.0),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_monolithic_months_are_the_staged_months(case):
    """Every cell is stage 2's closed form ``t × s'`` on the monolithic totals."""
    c = company()
    _, a = run(CASES[case], c, "staged")
    _, b = run(CASES[case], c, "monolithic")
    shares = staged_shares(b["inputs"])
    eps = 1e-6 * b["inputs"].total / b["inputs"].n_reps
    np.testing.assert_allclose(b["cells"], b["totals"][:, :, None] * shares, rtol=1e-7, atol=eps)
    np.testing.assert_allclose(a["cells"], a["totals"][:, :, None] * shares, rtol=1e-12)
    # The rep totals agree; the split of a rep over products may not (the product tie-break
    # has alternative optima here), so the cells agree where a rep's products share s'
    # (without checkpoints: every product of the toy company has the same profile).
    np.testing.assert_allclose(b["totals"].sum(axis=1), a["totals"].sum(axis=1), atol=eps)
    if np.allclose(shares, shares[:, :1]):
        np.testing.assert_allclose(b["cells"].sum(axis=1), a["cells"].sum(axis=1), atol=eps)


@pytest.mark.parametrize("weight", [monolithic.MONTH_TIE_WEIGHT, 0.0], ids=["tie", "no_tie"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_monolithic_months_keep_the_bands_and_checkpoints(case, weight):
    """With or without the tie-break (any vertex of the bands), and the staged months too."""
    c = company()
    _, seen = run(CASES[case], c, "monolithic", MONTH_TIE_WEIGHT=weight)
    check_months(seen["inputs"], seen["totals"], seen["cells"])
    _, staged = run(CASES[case], c, "staged")
    check_months(staged["inputs"], staged["totals"], staged["cells"])


@pytest.mark.parametrize("case", sorted(CASES))
def test_month_tie_moves_no_level(case):
    """Every level's reported value is the one without the month tie-break (weight 0)."""
    c = company()
    tied, _ = run(CASES[case], c, "monolithic")
    plain, _ = run(CASES[case], c, "monolithic", MONTH_TIE_WEIGHT=0.0)
    assert list(tied.summary["objectives"]) == list(plain.summary["objectives"])
    for name, value in plain.summary["objectives"].items():
        assert tied.summary["objectives"][name] == pytest.approx(value, rel=1e-7, abs=1e-8), name
    assert tied.objective == pytest.approx(plain.objective, rel=1e-7, abs=1e-8)


def test_month_tie_costs_no_rows():
    """Each cell is ``s'·t + u − d``: the monolithic rows are the month sums, the bands and
    the checkpoints only, as before the tie-break; two columns a cell."""
    c = company()
    staged, a = run(rich_rules(), c, "staged")
    mono, _ = run(rich_rules(), c, "monolithic")
    inputs = a["inputs"]
    R, P = inputs.n_reps, inputs.n_products
    bounds = sum(
        (cp.min is not None) + (cp.max is not None) for cp in inputs.rules.seasonality.checkpoints
    )
    steady = int((~is_ramping(inputs)).sum())
    rows = R * P + 2 * R * P * 12 + bounds * steady * P
    assert mono.summary["n_constraints"] - staged.summary["n_constraints"] == rows
    assert mono.summary["n_variables"] - staged.summary["n_variables"] == 2 * R * P * 12


@st.composite
def seasonal_instances(draw):
    """Small random companies with seasonality, checkpoints and ramps (some months idle)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    R = draw(st.integers(3, 6))
    P = draw(st.integers(1, 3))
    pot = rng.uniform(20, 200, size=(R, P))
    season = rng.uniform(4, 16, size=12)
    data = toy_company(
        pot,
        last_year=pot * rng.uniform(0.6, 1.3, size=(R, P)),
        regions=["N" if i % 2 else "S" for i in range(R)],
        capacity=(pot.sum(axis=1) * rng.uniform(1.1, 1.6, size=R)).round().tolist(),
        tenure=rng.choice([0, 1, 2, 5, 9, 30, 60], size=R).tolist(),
        season=season.tolist(),
    )
    tol = draw(st.sampled_from([0.005, 0.01, 0.02]))
    quarters = (season / season.sum()).reshape(4, 3).sum(axis=1)
    q_min, q_max = rng.choice(4, size=2, replace=False)
    checkpoints = [
        {"quarter": int(q_min) + 1, "min": round(float(quarters[q_min] + 2 * tol), 4)},
        {"quarter": int(q_max) + 1, "max": round(float(quarters[q_max] - 2 * tol), 4)},
    ]
    steps = draw(
        st.sampled_from(
            [
                [{"tenure_below": 3, "share": 0.0}, {"tenure_below": 12, "share": 0.6}],
                [{"tenure_below": 6, "share": 0.3}],
                [{"tenure_below": 13, "share": 0.0}],  # a rep at tenure 0 carries no month
            ]
        )
    )
    rules = [
        {"name": "cap", "type": "capacity"},
        {"name": "ramp", "type": "ramp", "steps": steps, "soft": True, "priority": 1},
    ]
    if P > 1:
        rules.append({"name": "mix", "type": "mix", "level": "region", "product": "p2", "max": 0.6})
    spec = {
        "kind": "allocation",
        "company_target": {"total": round(float(pot.sum() * rng.uniform(0.6, 0.9)))},
        "fair_share": {"basis": "blend", "potential_weight": 0.5},
        "seasonality": {
            "source": "history",
            "tolerance": tol,
            "checkpoints": checkpoints if draw(st.booleans()) else [],
        },
        "rules": rules,
        "objective": draw(st.sampled_from([["minimax", "l1"], [{"l1": 1.0, "last_year": 0.3}]])),
    }
    return data, spec


@settings(
    max_examples=20, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(seasonal_instances())
def test_random_instances_months_agree(case):
    """Same level values; the monolithic months are ``t × s'``; both keep the bands."""
    data, spec = case
    try:
        staged, a = run(spec, data, "staged")
    except InfeasibleError:
        assume(False)
    mono, b = run(spec, data, "monolithic")
    for name, value in staged.summary["objectives"].items():
        assert mono.summary["objectives"][name] == pytest.approx(value, rel=1e-6, abs=1e-6)
    inputs = b["inputs"]
    shares = staged_shares(inputs)
    eps = 1e-6 * inputs.total / inputs.n_reps
    np.testing.assert_allclose(b["cells"], b["totals"][:, :, None] * shares, rtol=1e-6, atol=eps)
    check_months(inputs, b["totals"], b["cells"])
    check_months(inputs, a["totals"], a["cells"])

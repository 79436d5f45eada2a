"""The staged decomposition reaches the monolithic optimum; every backend agrees."""

from __future__ import annotations

import numpy as np
import pytest

from attain.allocate import allocate
from attain.allocate.toy import toy_company

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

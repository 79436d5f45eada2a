"""Territory results on the sample company: files, determinism, hand-off, and the schema."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from attain import RuleFileError, json_schema, load_rules, parse_rules
from attain.territory import align, realign, territory_potential, write_alignment

ROOT = Path(__file__).resolve().parent.parent
RULES = {
    "kind": "territory",
    "name": "East test",
    "scope": {"region": "East"},
    "candidates": {"nearest": 4},
    "balance": [{"name": "workload_band", "measure": "workload", "min": 0.7, "max": 1.3}],
    "objective": {"weights": {"distance": 1.0, "disruption": 20.0}},
    "mip_gap": 0.01,
}


@pytest.fixture(scope="module")
def east(sample_company):
    return align(RULES, sample_company, solver="highs")


def test_assignment_contract(east, sample_company):
    a = east.assignment
    assert list(a.columns) == ["unit_id", "rep_id", "previous_rep_id", "moved"]
    assert a["unit_id"].is_unique and a["unit_id"].is_monotonic_increasing
    assert (a["moved"] == (a["rep_id"] != a["previous_rep_id"])).all()
    band = east.reps["workload_band"]
    assert (band >= east.reps["workload_band_min"] - 1e-6).all()
    assert (band <= east.reps["workload_band_max"] + 1e-6).all()
    assert len(east.moves) == east.units_moved > 0
    assert east.moves["reason"].str.len().gt(0).all()


def test_files_are_byte_identical_across_runs(east, sample_company, tmp_path):
    first = write_alignment(east, tmp_path / "a")
    again = align(RULES, sample_company, solver="highs")
    second = write_alignment(again, tmp_path / "b")
    names = sorted(p.name for p in first)
    assert names == sorted(p.name for p in second)
    assert {"assignment.csv", "summary.json", "map.html", "potential.csv"} <= set(names)
    for name in names:
        if name != "timings.json":  # the one file that holds wall-clock times
            assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert json.loads(east.to_json()) == summary
    assert summary["units_moved"] == east.units_moved
    assert {"goals", "gap", "loads", "bands", "status", "solver"} <= set(summary)
    html = (tmp_path / "a" / "map.html").read_text()
    assert html.count("<svg") >= 2 and "<script" not in html


def test_hand_off_moves_potential_with_the_units(east, sample_company):
    new = territory_potential(east)
    old = sample_company.potential
    assert new["potential"].sum() == pytest.approx(old["potential"].sum(), rel=1e-9)
    by_rep = new.groupby("rep_id")["potential"].sum()
    acc = realign(sample_company, east).accounts
    recomputed = acc.groupby("rep_id")["potential_value"].sum()
    reps = east.reps["rep_id"]
    assert np.allclose(by_rep.reindex(reps), recomputed.reindex(reps), rtol=1e-9)
    moved = east.assignment[east.assignment["moved"]].iloc[0]
    owner = acc.set_index("account_id").loc[moved["unit_id"], "rep_id"]
    assert owner == moved["rep_id"]


def test_sweep_writes_the_front(sample_company, tmp_path):
    rules = {
        **RULES,
        "candidates": {"nearest": 3},
        "disruption": {"measure": "units"},
        "sweep": {"minimise": "distance", "limit": "disruption", "points": 3},
    }
    a = align(rules, sample_company, solver="highs")
    write_alignment(a, tmp_path)
    front = pd.read_csv(tmp_path / "pareto.csv")
    assert list(front.columns) == ["point", "distance_km", "disruption", "status", "gap"]
    assert front["disruption"].is_monotonic_increasing
    assert front["distance_km"].is_monotonic_decreasing
    moves = pd.read_csv(tmp_path / "pareto_moves.csv")
    per_point = moves.groupby("point").size().reindex(front["point"], fill_value=0)
    assert per_point.tolist() == front["disruption"].astype(int).tolist()


@pytest.mark.parametrize("path", sorted((ROOT / "rules").glob("territory_*.yaml")))
def test_example_rule_files_validate(path):
    rules = load_rules(path)
    assert rules.kind == "territory"


def test_schema_is_strict_and_documented():
    with pytest.raises(RuleFileError, match="balanse"):
        parse_rules("kind: territory\nbalanse: []\n")
    with pytest.raises(RuleFileError, match="asks every rep to be above the mean"):
        parse_rules("kind: territory\nbalance:\n  - {measure: workload, min: 1.1}\n")
    with pytest.raises(RuleFileError, match="must be different goals"):
        parse_rules("kind: territory\nsweep: {minimise: distance, limit: distance}\n")
    with pytest.raises(RuleFileError, match="needs an adjacency table"):
        parse_rules("kind: territory\ncontiguity: true\n")
    schema = json_schema("territory")
    for model in [schema, *schema.get("$defs", {}).values()]:
        for name, field in model.get("properties", {}).items():
            assert field.get("description"), f"{model.get('title')}.{name} is undocumented"


def test_allocation_follows_the_new_territories(east, sample_company):
    """One call chains them: allocation on the realigned company. A rep who gained potential
    gets a larger target, one who lost some a smaller one (fair share is 60% potential)."""
    from attain.allocate import allocate

    rules = ROOT / "rules" / "allocation_fy27.yaml"
    before = allocate(rules, sample_company).targets.groupby("rep_id")["target"].sum()
    after = allocate(rules, realign(sample_company, east)).targets.groupby("rep_id")["target"].sum()
    new = territory_potential(east).groupby("rep_id")["potential"].sum()
    old = sample_company.potential.groupby("rep_id")["potential"].sum()
    gained = (new - old).reindex(before.index).fillna(0.0)
    changed = gained.abs() > 1.0
    assert changed.sum() > 10
    assert (np.sign(gained[changed]) == np.sign((after - before)[changed])).mean() > 0.9

"""The `scenario` kind: loads the shipped scenario, rejects what makes no sense, names data."""

from __future__ import annotations

from pathlib import Path

import pytest

from attain.errors import RuleFileError
from attain.load import parse_rules
from attain.schema import KINDS, Scenario, json_schema

ROOT = Path(__file__).resolve().parent.parent

BASE = """
kind: scenario
name: s
company: sample
plans: [../rules/plan_field_rep.yaml]
targets: {file: targets.csv}
"""


def _parse(extra: str = "") -> Scenario:
    return parse_rules(BASE + extra, source="s.yaml")


def test_shipped_scenario_loads():
    from attain.load import load_rules

    s = load_rules(ROOT / "scenarios" / "compare_plans.yaml")
    assert isinstance(s, Scenario)
    assert len(s.plans) == 2 and s.variants


def test_defaults():
    s = _parse()
    assert s.performance.distribution == "lognormal"
    assert s.trials == 2000 and s.sensitivity is not None and s.budget is None


def test_kind_is_registered_and_has_a_schema():
    assert KINDS["scenario"] is Scenario
    schema = json_schema("scenario")
    assert "performance" in schema["properties"]
    assert schema["properties"]["trials"]["description"]


def test_referenced_paths_name_company_plans_and_targets(tmp_path):
    paths = _parse().referenced_paths(tmp_path)
    assert paths == [
        tmp_path / "sample",
        tmp_path / "../rules/plan_field_rep.yaml",
        tmp_path / "targets.csv",
    ]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "performance: {distribution: beta, mean: 1.0, sd: 2.0, upper: 2.0}\n",
            "too wide for a beta",
        ),
        ("variants: [{name: base}]\n", "`base` is the name"),
        ("variants: [{name: a}, {name: a}]\n", "variant name `a` is used twice"),
        ("budget: {}\n", "give `cost_of_sales`, `amount`, or both"),
        ("trials: 0\n", "trials: must be at least 1"),
        ("performance: {shape: x}\n", "performance.shape: unknown key"),
    ],
)
def test_bad_scenarios_are_located(extra, message):
    with pytest.raises(RuleFileError) as info:
        _parse(extra)
    assert message in str(info.value)
    assert "s.yaml:" in str(info.value)


def test_targets_need_exactly_one_source():
    text = BASE.replace(
        "targets: {file: targets.csv}", "targets: {file: a.csv, allocation: b.yaml}"
    )
    with pytest.raises(RuleFileError, match="exactly one of `file` or `allocation`"):
        parse_rules(text, source="s.yaml")


def test_a_plan_listed_twice_is_an_error():
    text = BASE.replace("plans: [../rules/plan_field_rep.yaml]", "plans: [a.yaml, a.yaml]")
    with pytest.raises(RuleFileError, match="listed twice"):
        parse_rules(text, source="s.yaml")


def test_validate_checks_the_data_a_scenario_names(tmp_path):
    from attain.validate import validate_paths

    shipped = sorted((ROOT / "scenarios").glob("*.yaml"))
    assert len(shipped) >= 2  # compare_plans, overlay_cost (a package)
    report = validate_paths(shipped)
    assert report.ok, report.problems
    bad = tmp_path / "s.yaml"
    bad.write_text(BASE)
    report = validate_paths([bad])
    assert not report.ok
    assert any(
        "does not exist" in p.message or "company.yaml" in p.message for p in report.problems
    )

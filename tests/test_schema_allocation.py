"""The `kind: allocation` models: strict, documented, located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from attain.errors import RuleFileError
from attain.load import dump_rules, load_rules, parse_rules
from attain.schema import KINDS, AllocationRules, json_schema

ROOT = Path(__file__).resolve().parent.parent

MINIMAL = "kind: allocation\ncompany_target: {total: 1000}\n"


def errors(text: str) -> str:
    with pytest.raises(RuleFileError) as info:
        parse_rules(text, source="r.yaml")
    return str(info.value)


def test_registered_and_minimal_defaults():
    assert KINDS["allocation"] is AllocationRules
    rules = parse_rules(MINIMAL)
    assert rules.objective == ["minimax", "l1"]
    assert rules.method == "auto"
    assert rules.fair_share.basis == "potential"
    assert rules.rule_names() == []


@pytest.mark.parametrize("path", sorted((ROOT / "rules").glob("allocation_*.yaml")), ids=str)
def test_examples_validate_and_round_trip(path):
    rules = load_rules(path)
    assert parse_rules(dump_rules(rules)) == rules


def test_every_field_is_documented():
    schema = json_schema("allocation")
    missing = []

    def walk(node, where):
        for name, prop in node.get("properties", {}).items():
            if "description" not in prop:
                missing.append(f"{where}.{name}")

    walk(schema, "AllocationRules")
    for name, definition in schema.get("$defs", {}).items():
        walk(definition, name)
    assert missing == []


def test_unknown_rule_type_lists_the_types():
    text = errors(MINIMAL + "rules:\n  - {type: quota, min: 1}\n")
    assert "r.yaml:4:5" in text
    assert "share" in text and "growth" in text and "ramp" in text


def test_unknown_key_is_located_with_a_hint():
    text = errors(MINIMAL + "rules:\n  - type: growth\n    maxx: 0.2\n")
    assert "r.yaml:5:5" in text
    assert "maxx" in text and "did you mean `max`" in text


def test_percent_written_as_a_number_gets_the_fraction_hint():
    text = errors(MINIMAL + "rules:\n  - {type: share, level: region, min: 40}\n")
    assert "write 0.4 for 40%" in text


def test_semantic_checks_are_validators():
    assert "min (0.5) is above max (0.2)" in errors(
        MINIMAL + "rules:\n  - {type: share, level: region, min: 0.5, max: 0.2}\n"
    )
    assert "add `soft: true`" in errors(MINIMAL + "rules:\n  - {type: capacity, priority: 2}\n")
    assert "share rules apply to a hierarchy level" in errors(
        MINIMAL + "rules:\n  - {type: share, min: 0.1}\n"
    )
    assert "increasing `tenure_below`" in errors(
        MINIMAL + "rules:\n  - type: ramp\n    steps: [{tenure_below: 6, share: 0.5}, "
        "{tenure_below: 3, share: 0.7}]\n"
    )
    assert "two rules are named `a`" in errors(
        MINIMAL + "rules:\n  - {name: a, type: capacity}\n  - {name: a, type: capacity}\n"
    )
    assert "unknown objective `fairest`" in errors(MINIMAL + "objective: [fairest]\n")
    assert "12 monthly shares" in errors(
        MINIMAL + "seasonality: {source: given, profile: [0.5, 0.5]}\n"
    )
    assert "`total` or as `by_product`" in errors("kind: allocation\ncompany_target: {}\n")


def test_list_checks_point_at_the_element_at_fault():
    """A check over a list names the element it is about, with that element's line."""
    text = MINIMAL + "rules:\n  - {name: a, type: capacity}\n  - {name: a, type: capacity}\n"
    assert "r.yaml:5:12: rules[1].name: two rules are named `a`" in errors(text)
    text = (
        MINIMAL + "rules:\n  - type: ramp\n    steps:\n      - {tenure_below: 3, share: 0.5}\n"
        "      - {tenure_below: 6, share: 0.4}\n"
    )
    assert "r.yaml:7:34: rules[0].steps[1].share: a ramp's share cannot fall" in errors(text)


def test_percent_text_is_accepted():
    rules = parse_rules(MINIMAL + "rules:\n  - {type: share, level: region, min: '40%'}\n")
    assert rules.rules[0].min == pytest.approx(0.4)


def test_where_filters():
    rules = parse_rules(
        MINIMAL + "rules:\n  - type: bounds\n    max: 5\n"
        "    where: {role: [rep, senior_rep], tenure_months: {min: 12}, team: {not_in: [X]}}\n"
    )
    where = rules.rules[0].where
    assert where["role"] == ["rep", "senior_rep"]
    assert where["tenure_months"].min == 12
    assert where["team"].not_in == ["X"]

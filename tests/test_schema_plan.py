"""The `plan` kind: bad plans fail at load, each problem located at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from attain.errors import RuleFileError
from attain.incentive import load_plan
from attain.load import dump_rules, parse_rules
from attain.schema import KINDS, Plan, json_schema
from attain.schema.plan import known_products

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "rules").glob("plan_*.yaml"))

GOOD = """\
kind: plan
name: p
components:
  - type: commission
    name: c
    products: [core]
    tiers:
      - {start: 0, end: 1000000, rate: 8%}
      - {start: 1000000, rate: 0.10}
"""


def problems(text: str, products=None):
    with known_products(products), pytest.raises(RuleFileError) as exc:
        parse_rules(text, source="p.yaml")
    return exc.value.problems


def test_plan_is_a_registered_kind_with_a_schema():
    assert KINDS["plan"] is Plan
    schema = json_schema("plan")
    assert "components" in schema["properties"]
    assert schema["properties"]["period"]["description"].startswith("How often")


def test_good_plan_loads_and_round_trips():
    plan = parse_rules(GOOD)
    assert plan.components[0].tiers[0].rate == 0.08
    assert parse_rules(dump_rules(plan)) == plan


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_plans_validate_against_the_sample_company(path):
    plan = load_plan(path)  # checks products against the company the plan names
    assert plan.components


def test_overlapping_tiers_are_located():
    text = GOOD.replace("{start: 1000000, rate", "{start: 900000, rate")
    [p] = problems(text)
    # At the start of the tier that overlaps, not at the whole list.
    assert (p.line, p.path) == (9, "components[0].tiers[1].start")
    assert "overlap" in p.message and "900,000" in p.message


def test_tiers_with_a_gap_are_located():
    [p] = problems(GOOD.replace("{start: 1000000, rate", "{start: 1200000, rate"))
    assert (p.line, p.path) == (9, "components[0].tiers[1].start") and "gap" in p.message


def test_first_tier_must_start_at_zero_and_last_be_open():
    [p] = problems(GOOD.replace("{start: 0,", "{start: 10,"))
    assert "start at 0" in p.message
    [p] = problems(
        GOOD.replace("{start: 1000000, rate: 0.10}", "{start: 1000000, end: 2000000, rate: 0.1}")
    )
    assert "open-ended" in p.message and p.path == "components[0].tiers[1].end"


def test_negative_rate_is_located_at_the_value():
    [p] = problems(GOOD.replace("rate: 0.10", "rate: -0.1"))
    assert (p.line, p.path) == (9, "components[0].tiers[1].rate")


def test_cap_below_what_the_threshold_pays():
    text = """\
kind: plan
name: p
target_incentive: {amount: 10000}
components:
  - type: attainment_curve
    name: bonus
    points:
      - {attainment: 0.5, payout: 0.5}
      - {attainment: 1.0, payout: 1.0}
    cap: {multiple_of_ti: 0.2}
"""
    [p] = problems(text)
    assert p.line == 5 and "cap" in p.message and "threshold" in p.message


def test_shares_must_add_up_to_100_percent():
    text = """\
kind: plan
name: p
components:
  - type: team_pool
    name: pool
    fixed: 1000
    split: shares
    shares: {manager: 0.3, rep: 0.6}
"""
    [p] = problems(text)
    assert p.line == 4 and "add up to 100%" in p.message


def test_unknown_product_is_located_when_products_are_known():
    [p] = problems(GOOD.replace("[core]", "[core, clould]"), products=("core", "cloud"))
    assert (p.line, p.column, p.path) == (6, 22, "components[0].products[1]")
    assert "clould" in p.message


def test_unknown_product_found_through_the_plans_company(tmp_path):
    text = GOOD.replace("name: p\n", f"name: p\ncompany: {ROOT / 'scenarios' / 'sample'}\n")
    path = tmp_path / "p.yaml"
    path.write_text(text.replace("[core]", "[coer]"))
    with pytest.raises(RuleFileError) as exc:
        load_plan(path)
    assert "p.yaml:7:" in str(exc.value) and "coer" in str(exc.value)


def test_unknown_key_and_unknown_component_type():
    [p] = problems(GOOD.replace("    name: c\n", "    name: c\n    rates: 1\n"))
    assert p.code == "extra_forbidden" and p.line == 6
    errs = problems(GOOD.replace("type: commission", "type: comission"))
    assert errs[0].line == 4


def test_target_incentive_required_by_a_curve():
    text = """\
kind: plan
name: p
components:
  - type: attainment_curve
    name: bonus
    points: [{attainment: 0.5, payout: 0}, {attainment: 1, payout: 1}]
"""
    [p] = problems(text)
    assert "target_incentive" in p.message


def test_duplicate_component_names():
    text = GOOD + GOOD.split("components:\n")[1]
    [p] = problems(text)
    assert "used twice" in p.message


def test_list_checks_point_at_the_element_at_fault():
    text = GOOD + "  - type: commission\n    name: c\n    tiers:\n      - {start: 0, rate: 0.05}\n"
    [p] = problems(text)
    assert (p.line, p.path) == (11, "components[1].name")
    assert "component name `c` is used twice" in p.message


def test_clawback_windows_must_grow_and_keep_one_unit():
    text = (
        GOOD
        + """\
clawback:
  windows:
    - {within_days: 90, share: 1.0}
    - {within_days: 60, share: 0.5}
"""
    )
    [p] = problems(text)
    assert (p.line, p.path) == (13, "clawback.windows[1]") and "not longer" in p.message
    mixed = (
        GOOD
        + "clawback:\n  windows: [{within_days: 90, share: 1}, {within_months: 6, share: 0.5}]\n"
    )
    [p] = problems(mixed)
    assert "every window in days" in p.message
    [p] = problems(GOOD + "clawback:\n  windows: [{share: 1}]\n")
    assert "exactly one of `within_days` or `within_months`" in p.message
    [p] = problems(GOOD + "clawback:\n  share: 0.5\n  windows: [{within_days: 9, share: 1}]\n")
    assert "not both" in p.message
    [p] = problems(GOOD + "clawback:\n  share: 150%\n")
    assert p.path == "clawback.share"


def test_a_good_clawback_and_advance_draw_load():
    text = (
        GOOD
        + """\
clawback:
  windows: [{within_months: 3, share: 100%}, {within_months: 6, share: 50%}]
  only_paid: true
  on_termination: {within_days: 60}
draw:
  amount: 3000
  paid: advance
  recovery: {delay: 2, max_amount: 500, max_share: 50%}
"""
    )
    plan = parse_rules(text)
    assert plan.clawback.windows[1].share == 0.5
    assert plan.clawback.on_termination.column == "termination_date"
    assert plan.draw.recovery.max_share == 0.5 and plan.draw.paid_at is None


def test_draw_timing_and_recovery_are_checked():
    [p] = problems(GOOD + "draw: {amount: 100, paid_at: start}\n")
    assert "needs `paid: advance`" in p.message and p.path == "draw"
    [p] = problems(GOOD + "draw: {amount: 100, recoverable: false, recovery: {delay: 2}}\n")
    assert "needs `recoverable: true`" in p.message
    [p] = problems(GOOD + "draw: {amount: 100, recovery: {delay: 0}}\n")
    assert p.path == "draw.recovery.delay"


def test_a_base_floor_is_per_window_or_per_deal():
    text = GOOD.replace("    products: [core]\n", "    products: [core]\n    scope: cumulative\n")
    [p] = problems(text + "    base_floor: {amount: 1000}\n")
    assert "not to a running position" in p.message
    plan = parse_rules(GOOD + "    base_floor: {amount: 1000, mode: deductible}\n")
    assert plan.components[0].base_floor.mode == "deductible"


def test_split_is_for_marginal_tiers():
    text = GOOD.replace("    products: [core]\n", "    products: [core]\n    method: retroactive\n")
    [p] = problems(text + "    split: edges\n")
    assert "`split` chooses how marginal tiers pay" in p.message
    assert parse_rules(GOOD).components[0].split == "proportional"

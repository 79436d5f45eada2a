"""The rule-file loader: locations, all errors at once, hints, JSON, and fuzzing."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attain.errors import RuleFileError
from attain.load import dump_rules, load_rules, parse_rules
from attain.schema import CompanyRules

GOOD = """\
kind: company
name: Acme
currency: EUR
fiscal_year: 2027
hierarchy: [region, team]
products: [core, cloud]
tables:
  org: org.csv
"""


def _problems(text: str, **kw) -> list:
    with pytest.raises(RuleFileError) as info:
        parse_rules(text, source="f.yaml", **kw)
    return list(info.value.problems)


def test_valid_file_loads_with_defaults():
    rules = parse_rules(GOOD)
    assert isinstance(rules, CompanyRules)
    assert rules.minor_unit == 2
    assert rules.tier_shares == {"A": 0.7, "B": 0.2, "C": 0.1}


def test_error_points_at_the_value_line_and_column():
    (p,) = _problems(GOOD.replace("fiscal_year: 2027", "fiscal_year: soon"))
    assert (p.line, p.column, p.path) == (4, 14, "fiscal_year")
    assert str(p) == "f.yaml:4:14: fiscal_year: must be a whole number (got 'soon') [int_parsing]"


def test_all_errors_of_a_file_are_reported_at_once():
    text = (
        GOOD.replace("EUR", "eur").replace("2027", "1200")
        + "tier_shares: {A: 0.5, B: 0.2, C: 0.1}\n"
    )
    problems = _problems(text)
    assert [p.path for p in problems] == ["currency", "fiscal_year", "tier_shares"]
    assert [p.line for p in problems] == [3, 4, 9]


def test_unknown_nested_key_is_reported_at_the_key_with_did_you_mean():
    (p,) = _problems(GOOD + "  acounts: accounts.csv\n")
    assert (p.line, p.column, p.path) == (9, 3, "tables.acounts")
    assert p.hint == "did you mean `accounts`?"


def test_misspelled_required_key_is_one_problem_not_two():
    (p,) = _problems(GOOD.replace("currency:", "curency:"))
    assert p.path == "curency" and p.hint == "did you mean `currency`?"


def test_percentage_written_as_a_whole_number_gets_a_hint():
    (p, *_) = _problems(GOOD + "tier_shares: {A: 40, B: 0.6}\n")
    assert p.path == "tier_shares.A"
    assert "write 0.4 for 40%" in p.hint


def test_percent_text_is_accepted_as_a_fraction():
    rules = parse_rules(GOOD + 'tier_shares: {A: "70%", B: "20%", C: "10%"}\n')
    assert rules.tier_shares == pytest.approx({"A": 0.7, "B": 0.2, "C": 0.1})


def test_missing_field_is_reported_at_its_parent():
    (p,) = _problems(GOOD.replace("name: Acme\n", ""))
    assert (p.line, p.path, p.message) == (1, "name", "required field is missing")


def test_list_item_error_has_its_index_in_the_path():
    (p,) = _problems(GOOD.replace("hierarchy: [region, team]", "hierarchy:\n  - region\n  - 7team"))
    assert p.path == "hierarchy[1]" and p.line == 7


def test_json_is_accepted_even_with_tab_indentation():
    text = '{\n\t"kind": "company", "name": "Acme", "currency": "EUR", "fiscal_year": 2027,\n\t"hierarchy": ["region"], "products": ["a"], "tables": {"org": "o.csv"}\n}'
    assert parse_rules(text, is_json=True).name == "Acme"


def test_json_syntax_error_is_located():
    (p,) = _problems('{"kind": "company",\n "name": }', is_json=True)
    assert (p.line, p.code) == (2, "syntax")


def test_duplicate_key_is_an_error():
    (p,) = _problems(GOOD + "name: Other\n")
    assert p.code == "duplicate-key" and p.line == 9


def test_merge_keys_and_anchors_work():
    text = GOOD.replace("tables:\n  org: org.csv\n", "base: &t {org: org.csv}\n")
    problems = _problems(text)  # `base` is not a key of the company kind
    assert any(p.path == "base" for p in problems)


def test_alias_bomb_is_refused():
    bomb = "kind: company\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for name, prev in zip("bcdefgh", "abcdefg", strict=False):
        bomb += f"{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
    (p,) = _problems(bomb)
    assert p.code == "too-large"


def test_expected_kind_is_enforced():
    (p,) = _problems(GOOD.replace("kind: company", "kind: compan"), kind="company")
    assert p.hint == "did you mean `company`?"


def test_mapping_source_is_validated_without_lines():
    with pytest.raises(RuleFileError) as info:
        load_rules({"kind": "company", "name": "x"})
    assert all(p.line is None for p in info.value.problems)
    assert str(info.value.problems[0]).startswith("<rules>: ")


def test_missing_file_is_a_rule_file_error(tmp_path):
    with pytest.raises(RuleFileError, match="cannot read the file"):
        load_rules(tmp_path / "nope.yaml")


def test_folder_is_not_a_rule_file(tmp_path):
    with pytest.raises(RuleFileError, match="is a folder"):
        load_rules(tmp_path)


_names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20
)
_ids = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)


@st.composite
def companies(draw) -> CompanyRules:
    shares = draw(st.lists(st.integers(1, 50), min_size=1, max_size=4))
    total = sum(shares)
    tiers = {f"T{i}": s / total for i, s in enumerate(shares)}
    tiers[f"T{len(shares) - 1}"] = 1 - sum(list(tiers.values())[:-1])
    return CompanyRules(
        name=draw(_names.filter(str.strip)),
        currency=draw(st.sampled_from(["EUR", "USD", "CNY", "JPY"])),
        minor_unit=draw(st.integers(0, 4)),
        fiscal_year=draw(st.integers(1990, 2100)),
        fiscal_year_start=draw(st.integers(1, 12)),
        hierarchy=draw(
            st.lists(
                _ids.filter(lambda s: s not in {"name", "role"}),
                min_size=1,
                max_size=4,
                unique=True,
            )
        ),
        products=draw(st.lists(_names.filter(str.strip), min_size=1, max_size=5, unique=True)),
        tables={"org": draw(_names), "history": draw(st.none() | _names)},
        tier_shares=tiers,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(companies())
def test_dump_then_load_gives_an_equal_model(model):
    assert parse_rules(dump_rules(model)) == model


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_only_our_error(raw):
    try:
        parse_rules(raw, source="fuzz.yaml")
    except RuleFileError as exc:
        assert all(p.source == "fuzz.yaml" for p in exc.problems)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="kind: company\n-[]{}&*!|>'\"%@`#,?\t 0123abc", max_size=200))
def test_yaml_like_text_raises_only_our_error(text):
    with contextlib.suppress(RuleFileError):
        parse_rules(text)


def test_a_validator_can_point_at_an_element(monkeypatch):
    """``invalid(message, *at)`` continues the error's location into the checked value."""
    from typing import Literal

    from pydantic import field_validator

    from attain.schema import KINDS, RuleModel
    from attain.schema.base import invalid

    class Pairs(RuleModel):
        kind: Literal["pairs"] = "pairs"
        items: list[dict[str, int]]

        @field_validator("items")
        @classmethod
        def _even(cls, items):
            for i, item in enumerate(items):
                if item["n"] % 2:
                    raise invalid("odd {n} (braces are text)", i, "n")
            return items

    monkeypatch.setitem(KINDS, "pairs", Pairs)
    [p] = _problems("kind: pairs\nitems:\n  - {n: 2}\n  - {n: 3}\n")
    assert (p.line, p.column, p.path) == (4, 9, "items[1].n")
    assert p.message.startswith("odd {n} (braces are text)")


# --- limits ----------------------------------------------------------------------------

from attain.load import MAX_NESTING  # noqa: E402


@pytest.mark.parametrize(
    "text",
    [
        "kind: company\nx: " + "[" * 1000 + "]" * 1000,
        '{"kind": "company", "x": ' + "[" * 5000 + "]" * 5000 + "}",
        "kind: company\nx: " + "{a: " * 500 + "1" + "}" * 500,
    ],
    ids=["yaml-flow", "json", "yaml-mapping"],
)
def test_deep_nesting_is_refused_before_parsing(text):
    (p,) = _problems(text)
    assert p.code == "too-deep" and p.line is not None


def test_deep_block_nesting_is_refused():
    text = (
        "kind: company\n"
        + "".join(f"{'  ' * i}k{i}:\n" for i in range(200))
        + "  " * 200
        + "x: 1\n"
    )
    (p,) = _problems(text)
    assert p.code == "too-deep"


def test_nesting_at_the_limit_is_read():
    depth = MAX_NESTING - 1
    problems = _problems("kind: company\nx: " + "[" * depth + "]" * depth)
    assert all(p.code != "too-deep" for p in problems)


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", ".NaN", "1.0e+400"])
def test_non_finite_numbers_are_located(value):
    problems = _problems(GOOD.replace("fiscal_year: 2027", f"fiscal_year: {value}"))
    assert problems[0].line == 4
    assert problems[0].code == "not-finite"


def test_a_device_is_not_read(tmp_path):
    with pytest.raises(RuleFileError) as info:
        load_rules("/dev/zero")
    assert info.value.problems[0].code == "not-a-file"


def test_the_size_limit_is_configurable(tmp_path, monkeypatch):
    path = tmp_path / "c.yaml"
    path.write_text(GOOD)
    load_rules(path)
    monkeypatch.setenv("ATTAIN_MAX_RULE_FILE_BYTES", "20")
    with pytest.raises(RuleFileError) as info:
        load_rules(path)
    assert info.value.problems[0].code == "too-large"

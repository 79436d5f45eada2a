"""The JSON Schema accepts what the loader accepts, under both readings of YAML.

The loader reads YAML 1.1 (PyYAML): `340_000_000` is a number, `yes` is true. An
editor's language server reads YAML 1.2's core schema: both are text. Every shipped
example and every corpus file is read both ways and validated with jsonschema; the
schema must agree with the loader, both ways round:
- a file the loader accepts is valid under the schema, in either reading;
- a file the loader refuses for its form (an unknown key, a missing field, a wrong type,
  a number out of range) is invalid under the schema too. Rules between fields (tiers
  that must join up, a cross-reference) are beyond a JSON Schema; those files are named.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

import attain
from attain.schema import json_schema

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
EXAMPLES = sorted(
    [
        *ROOT.glob("rules/*.yaml"),
        *ROOT.glob("scenarios/*.yaml"),
        ROOT / "scenarios" / "sample" / "company.yaml",
    ]
)
CORPUS_FILES = sorted(p for p in CORPUS.glob("*.yaml") if p.is_file())
#: pydantic error codes a JSON Schema expresses (the rest are rules between fields).
FORM_CODES = {
    "extra_forbidden", "missing", "literal_error", "union_tag_invalid", "union_tag_not_found",
    "less_than_equal", "less_than", "greater_than_equal", "greater_than", "int_parsing",
    "int_type", "int_from_float", "float_parsing", "float_type", "bool_parsing", "bool_type",
    "string_type", "string_too_short", "string_pattern_mismatch", "too_short", "list_type",
    "dict_type", "model_type", "enum",
}  # fmt: skip


class Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2 core schema: only true/false are booleans, numbers have no underscores,
    no timestamps, no sexagesimals (what a YAML 1.2 language server reads)."""


Yaml12Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag.endswith(("null", "str"))]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _tag, _pattern, _first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
):
    Yaml12Loader.add_implicit_resolver(
        f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), list(_first)
    )


def _as_json(value):
    """What a JSON document of the same data holds (dates as ISO text)."""
    if isinstance(value, dict):
        return {str(k): _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _read(path: Path, loader: type[yaml.SafeLoader]):
    try:
        return _as_json(yaml.load(path.read_text(encoding="utf-8"), Loader=loader))
    except (yaml.YAMLError, UnicodeDecodeError, ValueError, RecursionError):
        return None  # too deep for PyYAML too: attain refuses it before parsing


def _schema_errors(document) -> list[str]:
    if not isinstance(document, dict) or document.get("kind") not in attain.KINDS:
        return ["not a mapping of a known kind"]
    validator = jsonschema.Draft202012Validator(json_schema(document["kind"]))
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def _loader_codes(path: Path) -> set[str] | None:
    """None when the loader accepts the file; else the codes of its problems."""
    try:
        attain.load_rules(path)
    except attain.RuleFileError as error:
        return {p.code for p in error.problems}
    return None


def test_the_yaml_12_reading_differs_where_it_matters():
    text = "a: 340_000_000\nb: yes\nc: 2027-03-01\nd: 0.40\ne: 7\n"
    assert yaml.load(text, Loader=Yaml12Loader) == {
        "a": "340_000_000", "b": "yes", "c": "2027-03-01", "d": 0.4, "e": 7,
    }  # fmt: skip
    assert yaml.safe_load(text)["a"] == 340_000_000


@pytest.mark.parametrize("loader", [yaml.SafeLoader, Yaml12Loader], ids=["yaml1.1", "yaml1.2"])
@pytest.mark.parametrize("path", [*EXAMPLES, *CORPUS_FILES], ids=lambda p: str(p.relative_to(ROOT)))
def test_schema_and_loader_agree(path, loader):
    document = _read(path, loader)
    if document is None:
        pytest.skip("not YAML: refused before any schema applies")
    codes = _loader_codes(path)
    errors = _schema_errors(document)
    if codes is None:
        assert errors == [], f"the loader accepts {path.name}, the schema does not"
    elif codes & FORM_CODES and loader is yaml.SafeLoader:
        assert errors, f"the loader refuses {path.name} ({sorted(codes)}), the schema accepts it"


def test_rules_between_fields_are_the_only_files_the_schema_cannot_refuse():
    beyond = {
        p.name
        for p in CORPUS_FILES
        if (codes := _loader_codes(p)) is not None
        and not codes & FORM_CODES
        and (d := _read(p, yaml.SafeLoader)) is not None
        and not _schema_errors(d)
    }
    # Tiers must join up and products be listed once (rules between list items); a key
    # written twice is gone once the YAML is parsed, so no schema of the data sees it; a
    # rounding unit is too large only against the company target beside it.
    assert beyond == {
        "tiers_do_not_add_up.yaml",
        "duplicate_product.yaml",
        "duplicate_key.yaml",
        "allocation_rounding_unit_too_large.yaml",
    }


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("total: 340_000_000", 340_000_000),
        ('total: "340000000"', 340_000_000),
        ("total: 3.4e8", 340_000_000),
    ],
)
def test_numbers_written_either_way_load_and_validate(text, value):
    rules = f"kind: allocation\nname: x\ncompany_target:\n  {text}\n  currency: EUR\n"
    loaded = attain.parse_rules(rules)
    assert loaded.company_target.total == value
    for loader in (yaml.SafeLoader, Yaml12Loader):
        assert _schema_errors(_as_json(yaml.load(rules, Loader=loader))) == []


@pytest.mark.parametrize("share", ['"40%"', "0.4", '"40 %"'])
def test_a_share_as_a_percentage_loads_and_validates(share):
    rules = (
        "kind: allocation\nname: x\ncompany_target: {total: 1000, currency: EUR}\n"
        f"rules:\n  - {{name: e, type: share, level: region, where: {{region: East}}, min: {share}}}\n"
    )
    assert attain.parse_rules(rules).rules[0].min == pytest.approx(0.4)
    assert _schema_errors(yaml.safe_load(rules)) == []


@pytest.mark.parametrize(("text", "value"), [('"5%"', 0.05), ('"-5%"', -0.05), ("-0.05", -0.05)])
def test_growth_bounds_take_percentages_as_the_docs_say(text, value):
    rules = (
        "kind: allocation\nname: x\ncompany_target: {total: 1000, currency: EUR}\n"
        f"rules:\n  - {{name: g, type: growth, level: rep, min: {text}}}\n"
    )
    assert attain.parse_rules(rules).rules[0].min == pytest.approx(value)
    assert _schema_errors(yaml.safe_load(rules)) == []


@pytest.mark.parametrize("bad", ['"40 percent"', '"4e1%"', "1.5", '"150%"'])
def test_a_share_the_loader_refuses(bad):
    rules = (
        "kind: allocation\nname: x\ncompany_target: {total: 1000, currency: EUR}\n"
        f"rules:\n  - {{name: e, type: share, level: region, where: {{region: East}}, min: {bad}}}\n"
    )
    with pytest.raises(attain.RuleFileError):
        attain.parse_rules(rules)
    if bad in ('"40 percent"', '"4e1%"', "1.5"):  # the form; a percentage's range is the loader's
        assert _schema_errors(yaml.safe_load(rules))

"""JSON Schema export: valid, documented, and accepting every shipped rule file."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

import attain
from attain.schema import KINDS, json_schema

ROOT = Path(__file__).resolve().parent.parent
RULE_FILES = sorted(
    [*ROOT.glob("rules/**/*.yaml"), *ROOT.glob("scenarios/**/*.yaml")],
    key=str,
)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_schema_is_valid_json_schema(kind):
    schema = json_schema(kind)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["additionalProperties"] is False  # strict: unknown keys are errors


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_field_is_described(kind):
    """Field descriptions come from the models' docstrings; none may be missing."""

    def walk(node, path):
        if isinstance(node, dict):
            for name, prop in (node.get("properties") or {}).items():
                assert prop.get("description") or "$ref" in prop or "allOf" in prop, (
                    f"{path}.{name}"
                )
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")

    walk(json_schema(kind), kind)


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_rule_files_validate_against_the_schema(path):
    document = yaml.safe_load(path.read_text())
    schema = json_schema(document["kind"])
    jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)
    attain.load_rules(path)  # and the loader agrees


def test_schema_rejects_what_the_loader_rejects():
    schema = json_schema("company")
    bad = {
        "kind": "company",
        "name": "x",
        "currency": "EUR",
        "fiscal_year": 2027,
        "hierarchy": ["r"],
        "products": ["a"],
        "tables": {"org": "o.csv"},
        "colour": "red",
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)

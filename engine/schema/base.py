"""What every rule-file model shares: strictness, the kind registry, common types."""

from __future__ import annotations

import ast
import difflib
import inspect
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import PydanticCustomError

__all__ = [
    "KINDS",
    "BOOLEAN_TEXT",
    "INTEGER_TEXT",
    "NUMBER_TEXT",
    "PERCENT_TEXT",
    "SCHEMA_VERSION",
    "Fraction",
    "LoaderJsonSchema",
    "Identifier",
    "MAX_AMOUNT",
    "Money",
    "MoneyOrZero",
    "PositiveAmount",
    "RuleModel",
    "KNOWN_ORG",
    "KNOWN_PRODUCTS",
    "OrgNames",
    "check_product",
    "did_you_mean",
    "invalid",
    "known_org",
    "known_products",
    "json_schema",
    "kind_of",
    "register_kind",
    "schema_document",
]

#: The rule language's version; files say `schema_version: 1`.
SCHEMA_VERSION: Final = 1


#: A percentage as text, as the loader takes it where a rate or share goes: "40%", "-5 %".
PERCENT_TEXT = r"^\s*[+-]?\d+(\.\d+)?\s*%\s*$"
#: A number as text, as the loader (pydantic, lax) takes it: "340_000_000" is what a
#: YAML 1.2 reader makes of the plain scalar 340_000_000, which YAML 1.1 reads as a number.
NUMBER_TEXT = r"^\s*[+-]?(\d+(_\d+)*(\.(\d+(_\d+)*)?)?|\.\d+(_\d+)*)([eE][+-]?\d+)?\s*$"
INTEGER_TEXT = r"^\s*[+-]?\d+(_\d+)*\s*$"
#: Words the loader takes as true/false: YAML 1.1 reads yes/no/on/off as booleans, YAML
#: 1.2 as text, and pydantic takes the text too.
BOOLEAN_TEXT = sorted(
    {
        form
        for word in ("true", "false", "yes", "no", "on", "off", "y", "n", "t", "f")
        for form in (word, word.title(), word.upper())
    }
    | {"0", "1"}
)


def _percent_text(value: Any) -> Any:
    """Accept `"40%"` for 0.40; a bare 40 is left to fail with a hint."""
    if isinstance(value, str) and re.fullmatch(PERCENT_TEXT, value):
        return float(value.strip()[:-1].strip()) / 100
    return value


#: A share or rate written as a fraction of one: 0.40 (or the text "40%") means 40%.
Fraction = Annotated[float, BeforeValidator(_percent_text), Field(ge=0, le=1)]
PositiveAmount = Annotated[float, Field(gt=0)]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
#: The largest amount of money a rule may state (10^13 of the currency): beyond it sums lose
#: their cents in floating point and a solver's tolerances swallow whole targets.
MAX_AMOUNT = 1e13
#: An amount of money in a rule: positive, and at most :data:`MAX_AMOUNT`.
Money = Annotated[float, Field(gt=0, le=MAX_AMOUNT)]
#: An amount of money that may be 0, at most :data:`MAX_AMOUNT`.
MoneyOrZero = Annotated[float, Field(ge=0, le=MAX_AMOUNT)]


def invalid(message: str, *at: str | int) -> PydanticCustomError:
    """A validation error about an element inside the value a validator checks.

    ``at`` continues the error's location, e.g. ``invalid("…", 1, "start")`` from a
    validator of ``tiers`` points at ``tiers[1].start``: the loader reports the line of
    that element instead of the whole list. Raise it where a ``ValueError`` would go.
    """
    # The message is a template of the context's keys; only `{at}` in it would be replaced.
    return PydanticCustomError("value_error", message, {"at": at})


#: The company's products while rule files are validated (plans, scenarios); ``None`` skips
#: the check, so a file validated on its own checks product names only for form.
KNOWN_PRODUCTS: ContextVar[tuple[str, ...] | None] = ContextVar("KNOWN_PRODUCTS", default=None)


@contextmanager
def known_products(products: tuple[str, ...] | list[str] | None) -> Iterator[None]:
    """Validate rule files inside this block against ``products``."""
    token = KNOWN_PRODUCTS.set(tuple(products) if products is not None else None)
    try:
        yield
    finally:
        KNOWN_PRODUCTS.reset(token)


def check_product(name: str, *at: str | int) -> str:
    """``name`` when it is one of :data:`KNOWN_PRODUCTS` (or none are set); else an error
    at ``at`` (see :func:`invalid`)."""
    known = KNOWN_PRODUCTS.get()
    if known is not None and name not in known:
        raise invalid(
            f"unknown product `{name}`{did_you_mean(name, known)}; "
            f"the company's products are: {', '.join(known)}",
            *at,
        )
    return name


def did_you_mean(name: object, known: Iterable[str]) -> str:
    """`` (did you mean `East`?)`` when ``name`` is close to one of ``known``; else ``""``."""
    text = str(name)
    best, best_score = "", 0.6
    for candidate in sorted(map(str, known)):  # ties go to the first in order
        matcher = difflib.SequenceMatcher(None, text, candidate)
        if matcher.real_quick_ratio() >= best_score and matcher.quick_ratio() >= best_score:
            score = matcher.ratio()
            if score > best_score or (score == best_score and not best):
                best, best_score = candidate, score
    return f" (did you mean `{best}`?)" if best else ""


@dataclass(frozen=True)
class OrgNames:
    """The names of a company that allocation rules refer to: its levels (``company``, the
    hierarchy, ``rep``), org table columns, the values of the columns named by value
    (hierarchy levels, ``role``, ``rep_id``) and its products."""

    levels: tuple[str, ...]
    columns: tuple[str, ...]
    products: tuple[str, ...]
    values: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def level_error(self, level: str) -> str | None:
        if level in self.levels:
            return None
        return (
            f"unknown level `{level}`{did_you_mean(level, self.levels)}; "
            f"levels: {', '.join(sorted(self.levels))}"
        )

    def product_error(self, product: str) -> str | None:
        if product in self.products:
            return None
        return (
            f"unknown product `{product}`{did_you_mean(product, self.products)}; "
            f"the company's products are: {', '.join(self.products)}"
        )

    def column_error(self, column: str) -> str | None:
        if column in self.columns:
            return None
        return (
            f"no column `{column}` in the org table{did_you_mean(column, self.columns)}; "
            f"columns: {', '.join(self.columns)}"
        )

    def value_error(self, column: str, value: object) -> str | None:
        known = self.values.get(column)
        if known is None or str(value) in known:
            return None
        return f"no {column} `{value}` in the org table{did_you_mean(value, known)}"


#: The company's org names while allocation rules are validated against a company; ``None``
#: (a file validated on its own) checks the names only for form.
KNOWN_ORG: ContextVar[OrgNames | None] = ContextVar("KNOWN_ORG", default=None)


@contextmanager
def known_org(names: OrgNames | None) -> Iterator[None]:
    """Validate allocation rules inside this block against ``names``."""
    token = KNOWN_ORG.set(names)
    try:
        yield
    finally:
        KNOWN_ORG.reset(token)


class RuleModel(BaseModel):
    """Base of every rule-file model: strict keys; the docstring under a field is its
    description in the JSON Schema and the reference (see :func:`describe_fields`)."""

    model_config = ConfigDict(
        extra="forbid",
        # Field docstrings become descriptions only when a schema or the reference is
        # generated (describe_fields): extracting them costs more than the models do.
        validate_default=True,
        frozen=True,
        # Each model builds its validator on first use, not at import: validating a
        # plan does not pay for the allocation and territory models.
        defer_build=True,
    )

    def referenced_paths(self, base: Path) -> list[Path]:
        """Data folders and files this rule file names, resolved against ``base``
        (the rule file's folder). ``attain validate`` loads each one; a kind that
        names data overrides this."""
        return []


KINDS: dict[str, type[RuleModel]] = {}


def kind_of(model: RuleModel) -> str:
    """The ``kind:`` of a rule file's model (``"plan"``, ...)."""
    return str(type(model).model_fields["kind"].default)


def register_kind(model: type[RuleModel]) -> type[RuleModel]:
    """Class decorator: make ``model`` loadable as ``kind: <its kind>``."""
    kind = model.model_fields["kind"].default
    KINDS[kind] = model
    return model


class LoaderJsonSchema(GenerateJsonSchema):
    """JSON Schema of what the loader accepts, not only of the Python types.

    A YAML 1.2 reader (an editor's language server) makes text of what the loader, a
    YAML 1.1 reader, makes numbers or booleans of (``340_000_000``, ``yes``); and the
    loader, through pydantic's lax mode, takes numbers and booleans written as text and
    percentages as text where a rate goes. Each alternative is added here, in one place;
    the range of a number written as text is checked by the loader only.
    """

    def float_schema(self, schema: Any) -> JsonSchemaValue:
        return _or_text(super().float_schema(schema), NUMBER_TEXT)

    def int_schema(self, schema: Any) -> JsonSchemaValue:
        return _or_text(super().int_schema(schema), INTEGER_TEXT)

    def bool_schema(self, schema: Any) -> JsonSchemaValue:
        return {"anyOf": [super().bool_schema(schema), {"enum": BOOLEAN_TEXT}]}

    def function_before_schema(self, schema: Any) -> JsonSchemaValue:
        inner = super().function_before_schema(schema)
        if schema["function"].get("function") is _percent_text:
            options = inner["anyOf"] if set(inner) == {"anyOf"} else [inner]
            return {"anyOf": [*options, {"type": "string", "pattern": PERCENT_TEXT}]}
        return inner

    def generate(self, schema: Any, mode: Any = "validation") -> JsonSchemaValue:
        return _bounds(super().generate(schema, mode=mode))


def _or_text(number: JsonSchemaValue, pattern: str) -> JsonSchemaValue:
    return {"anyOf": [number, {"type": "string", "pattern": pattern}]}


#: pydantic writes the bounds of a number checked after a validator (``Fraction``) as
#: its own ``ge``/``le`` keys, which JSON Schema ignores; these are their JSON names.
_BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def _bounds(node: Any) -> Any:
    """Move pydantic's ``ge``/``le``/``gt``/``lt`` onto the number they bound."""
    if isinstance(node, list):
        return [_bounds(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _bounds(value) for key, value in node.items()}
    limits = {
        _BOUNDS[key]: out.pop(key)
        for key in list(out)
        if key in _BOUNDS and isinstance(out[key], int | float) and not isinstance(out[key], bool)
    }
    if limits:
        numbers = (
            [out]
            if out.get("type") in ("number", "integer")
            else [
                option
                for option in out.get("anyOf", [])
                if isinstance(option, dict) and option.get("type") in ("number", "integer")
            ]
        )
        for number in numbers:
            number.update(limits)
    return out


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of one rule-file kind (for editor completion)."""
    describe_fields()
    model = KINDS[kind]
    schema = model.model_json_schema(mode="validation", schema_generator=LoaderJsonSchema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://attain.dev/schema/{kind}-v{SCHEMA_VERSION}.json"
    return schema


def schema_document() -> dict[str, Any]:
    """One JSON Schema for every rule-file kind: ``oneOf`` the kinds, each under ``$defs``.

    ``attain schema`` prints the copy shipped as ``attain/rules.schema.json`` (so it needs
    no model at start-up); ``make docs`` regenerates that file and a test keeps it equal.
    """
    kinds = sorted(KINDS)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "oneOf": [{"$ref": f"#/$defs/{k}"} for k in kinds],
        "$defs": {k: json_schema(k) for k in kinds},
    }


_described = False


def describe_fields() -> None:
    """Give every rule model's fields their attribute docstrings as descriptions.

    What pydantic's ``use_attribute_docstrings`` does at class creation, done once and
    only where descriptions are read (the JSON Schema, the field reference): each
    schema module is parsed once here instead of every class's source at import.
    """
    global _described
    if _described:
        return
    models = _all_models(RuleModel)
    docs = {model: _attribute_docs(model) for model in models}
    for model in models:
        for name, info in model.model_fields.items():
            if info.description is not None:
                continue
            for owner in model.__mro__:  # the nearest class that documents the field
                doc = docs.get(owner, {}).get(name) if owner in docs else None
                if doc:
                    info.description = doc
                    break
    for model in models:
        model.model_rebuild(force=True)
    _described = True


def _all_models(base: type[RuleModel]) -> list[type[RuleModel]]:
    out: list[type[RuleModel]] = []
    for sub in base.__subclasses__():
        out += [sub, *_all_models(sub)]
    return list(dict.fromkeys(out))


_module_trees: dict[str, ast.Module] = {}


def _attribute_docs(model: type) -> dict[str, str]:
    """``{field: docstring}`` for the string literals right under a class's fields."""
    module = sys.modules[model.__module__]
    tree = _module_trees.get(module.__name__)
    if tree is None:
        tree = _module_trees[module.__name__] = ast.parse(inspect.getsource(module))
    nodes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    found = [n for n in nodes if n.name == model.__name__]
    if not found:
        return {}
    out: dict[str, str] = {}
    body = found[0].body
    for node, after in zip(body, body[1:], strict=False):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            out[node.target.id] = inspect.cleandoc(after.value.value)
    return out

"""The field reference of the rule language, as Markdown, generated from the models.

``docs/rules.md`` is this output (``make docs`` rewrites it; a test checks it
is current), so the documentation cannot drift from the schema.
"""

from __future__ import annotations

import inspect
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from attain.schema.base import KINDS, describe_fields

__all__ = ["markdown_reference"]


#: How rule files are read, and what the exported JSON Schema accepts because of it.
YAML_READING = [
    "## How YAML is read",
    "",
    "attain reads rule files as **YAML 1.1** (PyYAML's safe loader), as most Python tools",
    "do. Editors' YAML language servers read **YAML 1.2**, where some plain values are",
    "text instead. The exported JSON Schema (`attain schema`) accepts both readings, so",
    "an editor flags a mistake of form where `attain validate` does, and nothing else:",
    "",
    "| you write | YAML 1.1 (attain) | YAML 1.2 (an editor) | the schema accepts |",
    "| --- | --- | --- | --- |",
    '| `340_000_000` | the number 340000000 | the text `"340_000_000"` | a number, or a number as text |',
    '| `"40%"` where a rate or share goes | text, read as 0.40 | text | a fraction, or a percentage as text |',
    "| `yes`, `no`, `on`, `off` | true / false | text | a boolean, or one of those words |",
    "| `2027-03-01` | a date | text | a date as text (`YYYY-MM-DD`) |",
    '| `017`, `1:30` | 15 (octal), 90 (base 60) | 17, text | avoid: write `17`, quote `"1:30"` |',
    "",
    'Quote what you mean as text (`name: "no"`). A number written as text is range-checked',
    "by the loader only; the schema checks its form. Rules between fields (tiers that join",
    "up, a product listed twice) and a key written twice are checked by the loader only.",
    "",
]


def markdown_reference() -> str:
    """Every kind's fields, one table per model, nested models after their parent."""
    describe_fields()
    parts = [
        "# Rule-file reference",
        "",
        "Generated from the models in `engine/schema/` (`make docs`); do not edit by hand.",
        'Rates and shares are fractions of one: write `0.40` (or `"40%"`) for 40%.',
        "",
        *YAML_READING,
    ]
    seen: set[type[BaseModel]] = set()
    for kind in sorted(KINDS):
        parts.append(f"## `kind: {kind}`\n")
        parts.extend(_model_sections(KINDS[kind], seen, level=3))
    return "\n".join(parts).rstrip() + "\n"


def _model_sections(model: type[BaseModel], seen: set[type[BaseModel]], level: int) -> list[str]:
    if model in seen:
        return []
    seen.add(model)
    doc = inspect.cleandoc(model.__doc__ or "")
    lines = [
        f"{'#' * level} {model.__name__}",
        "",
        doc,
        "",
        "| key | type | default | meaning |",
        "| --- | --- | --- | --- |",
    ]
    nested: list[type[BaseModel]] = []
    for name, field in model.model_fields.items():
        lines.append(
            f"| `{name}` | {_type_name(field.annotation)} | {_default(field)} | {_cell(field.description)} |"
        )
        nested.extend(_models_in(field.annotation))
    lines.append("")
    for child in nested:
        lines.extend(_model_sections(child, seen, level))
    return lines


def _cell(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def _default(field: Any) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        return f"`{field.default_factory()!r}`"
    if field.default is PydanticUndefined:
        return ""
    return f"`{field.default!r}`" if field.default is not None else "none"


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args)
    if origin is typing.Literal:
        return " or ".join(f"`{a!r}`" for a in args)
    if origin in (list, tuple):
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"map of {_type_name(args[0])} to {_type_name(args[1])}"
    if tp is type(None):
        return "none"
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return f"[{tp.__name__}](#{tp.__name__.lower()})"
    return getattr(tp, "__name__", str(tp))


def _models_in(tp: Any) -> list[type[BaseModel]]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    return [m for arg in typing.get_args(tp) for m in _models_in(arg)]

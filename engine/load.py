"""Rule files → validated rule models, with every error located.

The file is composed into YAML nodes first (JSON is YAML's subset here), so
each value keeps the line and column it came from; the plain data is then
validated by the kind's pydantic model, and each validation error's ``loc``
is mapped back to the longest path that exists in the file. All the problems
of a file are reported at once, as a :class:`~attain.errors.RuleFileError`.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import stat
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from attain.errors import Problem, RuleFileError
from attain.schema import KINDS, RuleModel

__all__ = ["MAX_NESTING", "MAX_RULE_FILE_BYTES", "dump_rules", "load_rules", "parse_rules"]

#: A rule file is a page or two of YAML; anything this large is a wrong path. The
#: environment variable ``ATTAIN_MAX_RULE_FILE_BYTES`` overrides it.
MAX_RULE_FILE_BYTES = 5 * 1024 * 1024
#: The deepest nesting of mappings and lists a rule file may have (the rule language
#: needs fewer than 10 levels); checked on the text before it is parsed.
MAX_NESTING = 64
#: Aliases can make a tiny file expand exponentially ("billion laughs").
_MAX_NODES = 200_000
_BRACKETS = re.compile(r"[\[\]{}]")

Loc = tuple[str | int, ...]
Mark = tuple[int, int]  # 1-based line, column


def load_rules(source: str | Path | Mapping[str, Any], kind: str | None = None) -> RuleModel:
    """Load and validate one rule file (YAML or JSON), or a mapping already in memory.

    ``kind`` restricts the accepted kind (e.g. ``"company"``); without it the
    file's own ``kind:`` decides. Raises :class:`RuleFileError` with every
    problem found.
    """
    if isinstance(source, Mapping):
        return _validate(dict(source), {}, "<rules>", kind)
    path = Path(source)
    name = str(source)
    limit = _max_rule_file_bytes()

    def too_large(size: int) -> RuleFileError:
        return _error(
            name,
            f"file is too large for a rule file ({size / 1e6:.1f} MB; "
            f"the limit is {limit / 1e6:.0f} MB)",
            code="too-large",
            hint="rule files name their data tables; they do not hold them "
            "(ATTAIN_MAX_RULE_FILE_BYTES raises the limit)",
        )

    try:
        info = path.stat()
        if path.is_dir():
            raise _error(name, "is a folder, not a rule file", code="not-a-file")
        if not stat.S_ISREG(info.st_mode):
            raise _error(name, "is not a regular file (a device or pipe?)", code="not-a-file")
        if info.st_size > limit:
            raise too_large(info.st_size)
        with open(path, "rb") as handle:  # read at most the limit, whatever stat said
            raw = handle.read(limit + 1)
        if len(raw) > limit:
            raise too_large(len(raw))
    except OSError as exc:
        raise _error(
            name, f"cannot read the file: {exc.strerror or exc}", code="unreadable"
        ) from None
    return parse_rules(raw, source=name, kind=kind, is_json=path.suffix.lower() == ".json")


def _max_rule_file_bytes() -> int:
    value = os.environ.get("ATTAIN_MAX_RULE_FILE_BYTES", "").strip().replace("_", "")
    return int(value) if value.isdigit() else MAX_RULE_FILE_BYTES


def parse_rules(
    text: str | bytes, source: str = "<string>", kind: str | None = None, is_json: bool = False
) -> RuleModel:
    """Validate rule text. ``source`` is the name errors are reported under."""
    if isinstance(text, bytes):
        text = _decode(text, source)
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise _error(
            source, "file is empty; expected a mapping that starts with `kind:`", code="empty"
        )
    _check_nesting(text, source)
    if is_json or text.lstrip().startswith("{"):
        text = _check_json(text, source)
    data, marks = _compose(text, source)
    return _validate(data, marks, source, kind)


def dump_rules(model: RuleModel) -> str:
    """The YAML text of a rule model; ``parse_rules(dump_rules(m)) == m``."""
    return yaml.safe_dump(model.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def _error(
    source: str,
    message: str,
    line: int | None = None,
    column: int | None = None,
    *,
    code: str = "",
    hint: str = "",
) -> RuleFileError:
    return RuleFileError([Problem(source, message, line=line, column=column, code=code, hint=hint)])


def _decode(raw: bytes, source: str) -> str:
    nul = raw.find(b"\x00")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        raise _error(source, "this is a binary file, not YAML or JSON text", line, 1, code="binary")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _error(
            source,
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x})",
            line,
            column,
            code="encoding",
            hint="save the file as UTF-8",
        ) from None


def _check_nesting(text: str, source: str) -> None:
    """Refuse text nested deeper than :data:`MAX_NESTING` before any parser recurses.

    Flow nesting (``[[[...`` or ``{"a": {"a": ...``) is measured over the whole text
    at once; a bracket inside a quoted string counts too, which only errs on the safe
    side. Block nesting is bounded by indentation: a line indented more than
    ``2 × MAX_NESTING`` columns is refused as well.
    """
    where = -1
    depth = 0
    # No numpy here: validating a small rule file must not import it (start-up time).
    for match in _BRACKETS.finditer(text):
        depth += 1 if match.group() in "[{" else -1
        if depth > MAX_NESTING:
            where = match.start()
            break
    if where < 0:
        indent = _deep_indent(text)
        if indent is None:
            return
        line, column = indent
    else:
        line = text.count("\n", 0, where) + 1
        column = where - (text.rfind("\n", 0, where) + 1) + 1
    raise _error(
        source,
        f"nested too deeply (more than {MAX_NESTING} levels of mappings and lists)",
        line,
        column,
        code="too-deep",
    )


def _deep_indent(text: str) -> tuple[int, int] | None:
    limit = 2 * MAX_NESTING
    if "\n" + " " * (limit + 1) not in "\n" + text:
        return None
    for number, line in enumerate(text.splitlines(), 1):
        indent = len(line) - len(line.lstrip(" "))
        if indent > limit and line.strip() and not line.lstrip().startswith("#"):
            return number, indent + 1
    return None


def _check_json(text: str, source: str) -> str:
    """Report JSON syntax errors in JSON's own terms; return text YAML can compose."""
    try:
        json.loads(text)
    except RecursionError:
        raise _error(source, "nested too deeply", 1, 1, code="too-deep") from None
    except json.JSONDecodeError as exc:
        raise _error(
            source, f"invalid JSON: {exc.msg}", exc.lineno, exc.colno, code="syntax"
        ) from None
    # JSON strings cannot hold a raw tab, so every tab is whitespace that YAML would refuse.
    return text.replace("\t", " ")


def _compose(text: str, source: str) -> tuple[Any, dict[Loc, tuple[Mark, Mark | None]]]:
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise _error(
            source,
            f"character U+{exc.character:04X} is not allowed in YAML",
            line,
            column,
            code="syntax",
        ) from None
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at_line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        message = exc.problem or exc.context or "invalid YAML"
        hint = (
            "YAML indents with spaces; replace the tabs"
            if "\\t" in message or "tab" in message
            else ""
        )
        raise _error(
            source, f"invalid YAML: {message}", at_line, col, code="syntax", hint=hint
        ) from None
    except yaml.YAMLError as exc:
        raise _error(source, f"invalid YAML: {exc}", 1, 1, code="syntax") from None
    except RecursionError:
        raise _error(source, "nested too deeply", 1, 1, code="too-deep") from None
    finally:
        loader.dispose()
    if node is None:
        raise _error(
            source, "file is empty; expected a mapping that starts with `kind:`", code="empty"
        )
    builder = _Builder(source, loader)
    data = builder.build(node, ())
    return data, builder.marks


class _Builder:
    """Turns YAML nodes into plain data, recording each path's marks."""

    def __init__(self, source: str, constructor: yaml.SafeLoader):
        self.source = source
        self.constructor = constructor
        self.marks: dict[Loc, tuple[Mark, Mark | None]] = {}
        self.n_nodes = 0

    def build(self, node: yaml.Node, loc: Loc, key_mark: Mark | None = None) -> Any:
        self.n_nodes += 1
        if self.n_nodes > _MAX_NODES:
            raise _error(
                self.source, "too many values (aliases expand too far)", 1, 1, code="too-large"
            )
        mark = (node.start_mark.line + 1, node.start_mark.column + 1)
        self.marks[loc] = (mark, key_mark)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        try:
            value = self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise _error(self.source, f"invalid value: {exc}", *mark, code="syntax") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise _error(
                self.source,
                f"{_format_path(loc) or 'value'}: must be a finite number (got {node.value})",
                *mark,
                code="not-finite",
                hint="leave an open-ended bound out instead of writing .inf",
            )
        return value

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[Any, Any]:
        self.constructor.flatten_mapping(node)  # resolves `<<:` merge keys
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key_mark = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if not isinstance(key_node, yaml.ScalarNode):
                raise _error(self.source, "a key must be a plain name", *key_mark, code="bad-key")
            key = self.constructor.construct_object(key_node)
            if not isinstance(key, str | int):
                key = str(key)
            if key in out:
                raise _error(
                    self.source,
                    f"key `{key}` appears twice in this mapping",
                    *key_mark,
                    code="duplicate-key",
                )
            out[key] = self.build(value_node, (*loc, key), key_mark)
        return out


def _validate(
    data: Any, marks: dict[Loc, tuple[Mark, Mark | None]], source: str, kind: str | None
) -> RuleModel:
    top = marks.get((), ((1, 1), None))[0]
    if not isinstance(data, dict):
        raise _error(
            source, "expected a mapping that starts with `kind:`", *top, code="not-a-mapping"
        )
    model = _model_for(data, marks, source, kind)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(err, data, marks, source, model) for err in exc.errors()]
        problems = _drop_near_miss_missing(problems)
        raise RuleFileError(sorted(problems, key=lambda p: (p.line or 0, p.column or 0))) from None


def _drop_near_miss_missing(problems: list[Problem]) -> list[Problem]:
    """`currancy:` given and `currency` missing is one mistake: keep the did-you-mean."""
    suggested = set()
    for p in problems:
        if p.code == "extra_forbidden" and p.hint and p.hint.startswith("did you mean"):
            parent = p.path.rpartition(".")[0]
            suggested.add(f"{parent}.{p.hint.split('`')[1]}" if parent else p.hint.split("`")[1])
    return [p for p in problems if not (p.code == "missing" and p.path in suggested)]


def _model_for(data: dict, marks: dict, source: str, expected: str | None) -> type[RuleModel]:
    allowed = [expected] if expected else sorted(KINDS)
    if "kind" not in data:
        top = marks.get((), ((1, 1), None))[0]
        raise _error(
            source,
            "kind: missing; the file must say what it is",
            *top,
            code="missing-kind",
            hint=f"add `kind: {allowed[0]}` as the first line"
            if len(allowed) == 1
            else f"add `kind: ...` as the first line, one of: {', '.join(allowed)}",
        )
    kind = data["kind"]
    if kind in allowed and kind in KINDS:
        return KINDS[kind]
    mark = marks.get(("kind",), ((1, 1), None))[0]
    near = difflib.get_close_matches(str(kind), allowed, n=1)
    what = f"expected `{expected}`" if expected else f"expected one of: {', '.join(allowed)}"
    raise _error(
        source,
        f"kind: unknown kind `{kind}`; {what}"
        if kind not in KINDS
        else f"kind: this is a `{kind}` file; {what}",
        *mark,
        code="bad-kind",
        hint=f"did you mean `{near[0]}`?" if near and near[0] != kind else "",
    )


def _problem(
    err: Mapping[str, Any], data: Any, marks: dict, source: str, model: type[BaseModel]
) -> Problem:
    # A validator may name the element it is about (attain.schema.base.invalid).
    loc = (*err["loc"], *(err.get("ctx") or {}).get("at", ()))
    path = _data_path(loc, data)
    kind = err["type"]
    # A missing key is not in the data: shown under the longest path that is. An unknown
    # key is (pydantic's union tags in ``loc`` aside): ``path`` already ends with it.
    missing_key = kind == "missing" and len(path) < len(loc)
    shown = (*path, loc[-1]) if missing_key else path
    entry = marks.get(path)
    line = column = None
    if entry is not None:
        value_mark, key_mark = entry
        # An unknown key is reported at the key itself; other problems at their value.
        (line, column) = key_mark if kind == "extra_forbidden" and key_mark else value_mark
    return Problem(
        source,
        _message(err),
        path=_format_path(shown),
        line=line,
        column=column,
        code=kind,
        hint=_hint(err, loc, model),
    )


def _data_path(loc: Loc, data: Any) -> Loc:
    """The longest prefix of ``loc`` that exists in ``data``, skipping pydantic's
    union tags (``tiered``, ``float``…) that name a model rather than a key."""
    path: list[str | int] = []
    current = data
    for element in loc:
        if isinstance(current, dict):
            found = element in current
        else:
            found = isinstance(current, list) and isinstance(element, int)
            found = found and 0 <= int(element) < len(current)
        if found:
            current = current[element]
            path.append(element)
    return tuple(path)


def _format_path(loc: Loc) -> str:
    out = ""
    for element in loc:
        out += (
            f"[{element}]" if isinstance(element, int) else (f".{element}" if out else str(element))
        )
    return out


#: pydantic's wording → ours (terse, "must ...", the limit shown).
_MESSAGES = {
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be greater than {gt}",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "string_type": "must be text",
    "string_too_short": "must not be empty",
    "too_short": "needs at least {min_length} item(s)",
    "list_type": "must be a list",
    "dict_type": "must be a mapping of keys to values",
    "model_type": "must be a mapping of keys to values",
    "date_from_datetime_parsing": "must be a date (YYYY-MM-DD)",
    "date_parsing": "must be a date (YYYY-MM-DD)",
}


def _message(err: Mapping[str, Any]) -> str:
    kind = err["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown key"
    template = _MESSAGES.get(kind)
    ctx = err.get("ctx") or {}
    if template is not None:
        message = template.format(**{k: _num(v) for k, v in ctx.items()})
    else:
        message = str(err["msg"]).removeprefix("Value error, ")
        message = message[:1].lower() + message[1:]
    # A message that already quotes the value (`regoin`) does not repeat it.
    shown = "input" in err and _is_scalar(err["input"]) and "(got " not in message
    shown = shown and f"`{err['input']}`" not in message
    if shown and kind not in ("model_type", "dict_type", "list_type"):
        message += f" (got {err['input']!r})"
    return message


def _num(value: Any) -> Any:
    return f"{value:g}" if isinstance(value, float) else value


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def _hint(err: Mapping[str, Any], loc: Loc, model: type[BaseModel]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        keys = _keys_at(model, loc[:-1])
        near = difflib.get_close_matches(str(loc[-1]), sorted(keys), n=1, cutoff=0.5)
        if near:
            return f"did you mean `{near[0]}`?"
        if keys:
            return "allowed keys here: " + ", ".join(sorted(keys))
    value = err.get("input")
    limit = (err.get("ctx") or {}).get("le")
    if (
        kind == "less_than_equal"
        and limit == 1
        and isinstance(value, int | float)
        and 1 < value <= 100
    ):
        return f"rates and shares are fractions: write {value / 100:g} for {value:g}%"
    return ""


def _keys_at(model: Any, loc: Loc) -> set[str]:
    """The keys a model accepts at ``loc`` (used for did-you-mean hints)."""
    candidates = [model]
    for element in loc:
        step: list[Any] = []
        for tp in candidates:
            step.extend(_children(tp, element))
        candidates = step
    keys: set[str] = set()
    for tp in candidates:
        for option in _options(tp):
            if isinstance(option, type) and issubclass(option, BaseModel):
                keys.update(option.model_fields)
    return keys


def _options(tp: Any) -> list[Any]:
    """A type with ``Annotated``/``Optional``/unions unwrapped into its alternatives."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _options(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [o for arg in typing.get_args(tp) for o in _options(arg)]
    return [tp]


def _children(tp: Any, element: str | int) -> list[Any]:
    out: list[Any] = []
    for option in _options(tp):
        origin = typing.get_origin(option)
        if isinstance(option, type) and issubclass(option, BaseModel):
            field = option.model_fields.get(str(element))
            if field is not None:
                out.append(field.annotation)
            elif _tag_of(option) == element:
                out.append(option)  # pydantic puts a discriminated union's tag in the loc
        elif origin in (list, tuple, set, frozenset) and isinstance(element, int):
            out.extend(typing.get_args(option)[:1])
        elif origin is dict:
            out.extend(typing.get_args(option)[1:2])
    return out


def _tag_of(model: type[BaseModel]) -> Any:
    for name in ("type", "kind"):
        field = model.model_fields.get(name)
        if field is not None and typing.get_origin(field.annotation) is typing.Literal:
            return typing.get_args(field.annotation)[0]
    return None

"""Cell and table checks: types, ranges, keys, references, splits — over whole columns.

Each check returns :class:`~attain.errors.Problem` objects naming the file,
the row (as the user counts it) and the column; at most :data:`MAX_PROBLEMS`
are listed per check and table, and the rest counted exactly (a closing
problem with code ``more`` whose ``count`` is the number not listed), so a bad
file of millions of rows gives a readable report with the true total.
"""

from __future__ import annotations

import weakref
from collections.abc import Collection, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from attain.errors import Problem
from attain.schema import CompanyRules
from attain.tables import ID_MAX_BYTES, KEYS, MAX_AMOUNT, Column, table_columns

__all__ = [
    "MAX_PROBLEMS",
    "capped",
    "check_columns",
    "dated_rows",
    "is_dated",
    "check_minor_units",
    "missing_denominators",
    "check_references",
    "check_splits",
    "deal_codes",
    "duplicate_keys",
    "unknown_references",
]

#: Problems reported per table before the rest are counted, not listed.
MAX_PROBLEMS = 25
#: Characters no id or text cell may hold: C0/C1 controls (NUL, newline, escape...),
#: and the invisible format characters that can disguise a name (bidi overrides,
#: zero-width spaces, line separators, the byte-order mark).
_CONTROL = r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]"
#: :data:`_CONTROL` in RE2's syntax (pyarrow's regular expressions): the same code points,
#: matched in C over a column pandas holds in Arrow, not one Python call per cell.
_CONTROL_RE2 = (
    r"[\x00-\x1f\x{7f}-\x{9f}\x{200b}-\x{200f}\x{2028}-\x{202e}\x{2060}-\x{2064}\x{feff}]"
)
#: What an id that names a file (``file_name``) may not be or hold.
_PATH_CHARS = r"[/\\]"
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


def check_columns(
    frame: pd.DataFrame, columns: tuple[Column, ...], source: str, offset: int
) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Type every column of ``frame`` per ``columns``; return it with the problems found.

    ``offset`` turns a 0-based position into the row the user sees (2 for a
    file with a header line, 1 for Parquet and DataFrames).
    """
    missing = [c.name for c in columns if c.required and c.name not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns)) or "none"
        return None, [
            Problem(
                source,
                f"missing column `{m}`",
                field=m,
                code="missing-column",
                hint=f"the columns are: {have}",
            )
            for m in missing
        ]
    duplicated = frame.columns[frame.columns.duplicated()]
    if len(duplicated):
        return None, [
            Problem(source, f"column `{duplicated[0]}` appears twice", code="duplicate-column")
        ]
    out = frame.reset_index(drop=True).copy()
    report = _CellReport(source, offset)
    for column in columns:
        if column.name not in out.columns:
            out[column.name] = column.default
            continue
        out[column.name] = _parse_column(out[column.name], column, report)
    return out, report.problems()


class _CellReport:
    """Bad cells of one table: the first :data:`MAX_PROBLEMS` listed, all counted."""

    def __init__(self, source: str, offset: int):
        self.source, self.offset = source, offset
        self.listed: list[Problem] = []
        self.total = 0

    def add(
        self,
        mask: np.ndarray,
        raw: pd.Series,
        message: str,
        code: str,
        hint: str = "",
        show: bool = True,
    ) -> bool:
        rows = np.flatnonzero(mask)
        self.total += len(rows)
        for i in rows[: max(0, MAX_PROBLEMS - len(self.listed))]:
            text = f"{message}: {_shown(_cell_text(raw.iloc[i]))!r}" if show else message
            self.listed.append(
                Problem(
                    self.source,
                    text,
                    row=int(i) + self.offset,
                    field=str(raw.name),
                    code=code,
                    hint=hint,
                )
            )
        return bool(len(rows))

    def problems(self) -> list[Problem]:
        listed = sorted(self.listed, key=lambda p: p.row or 0)
        rest = self.total - len(listed)
        if rest:
            listed.append(_more(self.source, rest))
        return listed


def _more(source: str, rest: int) -> Problem:
    return Problem(source, f"... and {rest:,} more problems in this table", code="more", count=rest)


def _shown(text: str, limit: int = 80) -> str:
    """A cell's text cut to ``limit`` characters for a message."""
    return text if len(text) <= limit else text[:limit] + "..."


def _cell_text(value: object) -> str:
    """A cell as the user wrote it, whether the reader kept it as text or typed it."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def capped(problems: list[Problem], source: str, total: int | None = None) -> list[Problem]:
    """The first :data:`MAX_PROBLEMS` of ``problems`` and a line counting the rest;
    ``total`` is the number found when ``problems`` lists only the first ones."""
    total = len(problems) if total is None else total
    if total <= MAX_PROBLEMS:
        return problems
    return [*problems[:MAX_PROBLEMS], _more(source, total - MAX_PROBLEMS)]


class _Repeated:
    """A report for the distinct values of a column: each bad value's rows are reported."""

    def __init__(self, report: _CellReport, codes: np.ndarray, raw: pd.Series):
        self.report, self.codes, self.raw = report, codes, raw

    def add(self, mask, raw, message, code, hint="", show=True) -> bool:
        del raw  # the distinct values: the rows are reported from the whole column
        return self.report.add(np.asarray(mask)[self.codes], self.raw, message, code, hint, show)


#: A text column at least this long with at most half as many distinct values is checked
#: value by value (ids, periods and products repeat on every row of a targets table).
_DISTINCT_FROM = 1000


def _parse_column(raw: pd.Series, column: Column, report: _CellReport) -> pd.Series:
    """The column's typed values; every bad cell is added to ``report``."""
    if len(raw) >= _DISTINCT_FROM and not (
        column.type in ("number", "int") and _is_number_dtype(raw)
    ):
        if _mostly_distinct(raw):  # deal ids, amounts: factorizing them is all waste
            return _parse_cells(raw, column, report, share=False)
        codes, uniques = pd.factorize(raw, use_na_sentinel=False)
        if 2 * len(uniques) <= len(raw):
            distinct = pd.Series(uniques, name=raw.name)
            values = _parse_cells(distinct, column, _Repeated(report, codes, raw))  # type: ignore[arg-type]
            if pd.api.types.is_string_dtype(values.dtype):
                # One str object per distinct value, shared by its rows: a large table's ids
                # cost one string each, not one per row.
                shared = values.to_numpy(dtype=object)[codes]
                return pd.Series(shared, index=raw.index, name=raw.name, dtype=object)
            return pd.Series(values.to_numpy()[codes], index=raw.index, name=raw.name)
        # Mostly distinct cells (deal ids): the text is not factorized again to share it.
        return _parse_cells(raw, column, report, share=False)
    return _parse_cells(raw, column, report)


#: Cells of a column's head whose distinct values say whether the column repeats.
_SAMPLE = 4096


def _mostly_distinct(raw: pd.Series) -> bool:
    """Whether a long column's head has (almost) no repeated value: then the column is
    read cell by cell, not factorized to check its distinct values. A guess from the
    head only: either way the values and problems are the same, only the cost differs."""
    if len(raw) < 2 * _SAMPLE:
        return False
    head = raw.iloc[:_SAMPLE]
    return len(pd.unique(head)) > _SAMPLE * 0.99


def _parse_cells(
    raw: pd.Series, column: Column, report: _CellReport, share: bool = True
) -> pd.Series:
    """:func:`_parse_column` cell by cell (``share``: text values shared, :func:`_shared`,
    if they repeat enough)."""
    # A number column the reader already typed skips the (slow) text path.
    typed = column.type in ("number", "int") and _is_number_dtype(raw)
    text = None if typed else raw.astype("string").str.strip()
    empty = raw.isna().to_numpy() if text is None else (text.isna() | (text == "")).to_numpy()
    filled = np.zeros(len(raw), dtype=bool)
    if column.required:
        report.add(empty, raw, "empty cell", "empty", show=False)
    elif column.default is not None:
        filled, empty = empty, filled
        if text is not None:
            text = text.where(~filled, str(column.default))
    if text is None:
        values = raw.astype("float64").where(~filled, column.default)
        return _numbers(raw, values, empty, column, report)
    if column.type in ("id", "text", "choice"):
        control = _contains(text, _CONTROL, _CONTROL_RE2)
        report.add(control, raw, "holds a control or invisible character", "control-character")
    if column.file_name:
        _check_file_name(text, raw, column, report)
    if column.type in ("id", "text"):
        return _shared(text.fillna("")) if share else _objects(text.fillna(""))
    if column.type == "choice":
        bad = ~text.isin(column.choices).to_numpy()
        report.add(bad, raw, f"must be one of {', '.join(column.choices)}", "choice")
        return _shared(text) if share else _objects(text)
    if column.type == "bool":
        lowered = text.str.lower().fillna("")
        bad = ~(lowered.isin(_TRUE) | lowered.isin(_FALSE)).to_numpy()
        report.add(bad, raw, "not true/false", "bool")
        return lowered.isin(_TRUE).astype(bool)
    if column.type == "date":
        values = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        report.add(values.isna().to_numpy() & ~empty, raw, "not a date (YYYY-MM-DD)", "date")
        return values
    if column.type == "month":
        ok = text.str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])").fillna(False).to_numpy(dtype=bool)
        report.add(~ok & ~empty, raw, "not a month (YYYY-MM)", "month")
        return _shared(text.fillna(""))
    numbers = _plain_numbers(text)
    if numbers is None:
        try:  # a clean column converts in one pass; only a bad one needs the cell-by-cell path
            numbers = text.astype("float64")
        except (ValueError, TypeError):
            numbers = pd.to_numeric(text.str.replace("_", "", regex=False), errors="coerce")
    return _numbers(raw, numbers.astype("float64"), empty, column, report)


#: A plain decimal number (digits, one point, an exponent): Python's ``float`` and
#: pyarrow's cast read such text to the same (correctly rounded) double.
_PLAIN_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"


def _plain_numbers(text: pd.Series) -> pd.Series | None:
    """The cells as float64 when the column is held in Arrow and every cell is a plain
    decimal number (pyarrow's cast, in C); None otherwise (Python's ``float`` reads it,
    with what else it accepts, and the bad cells are found)."""
    arrow = _arrow_text(text)
    if arrow is None or arrow.null_count:
        return None
    if not pc.all(pc.match_substring_regex(arrow, _PLAIN_NUMBER)).as_py():
        return None
    values = pc.cast(arrow, pa.float64()).to_numpy()
    return pd.Series(values, index=text.index, name=text.name, dtype="float64")


def _objects(text: pd.Series) -> pd.Series:
    """Text cells as Python strings, each its own object (cells that rarely repeat)."""
    return pd.Series(text.to_numpy(dtype=object), index=text.index, name=text.name, dtype=object)


def _arrow_text(text: pd.Series):
    """The Arrow array of a text column pandas holds in Arrow (``string[pyarrow]``, what
    :meth:`~pandas.Series.astype` ``"string"`` gives with pyarrow installed); else None."""
    dtype = text.dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        return pa.chunked_array(pa.array(text.array))
    return None


def _contains(text: pd.Series, pattern: str, re2_pattern: str) -> np.ndarray:
    """bool[n]: the cells holding a match of ``pattern`` (``re2_pattern``: the same in
    RE2's syntax, matched by pyarrow on an Arrow column); a missing cell matches nothing."""
    arrow = _arrow_text(text)
    if arrow is None:
        return text.str.contains(pattern, regex=True).fillna(False).to_numpy(dtype=bool)
    found = pc.match_substring_regex(arrow, re2_pattern).fill_null(False)
    return np.asarray(found.to_numpy(), dtype=bool)


def _utf8_bytes(text: pd.Series) -> np.ndarray:
    """int[n]: each cell's length in UTF-8 bytes (0 for a missing cell); an Arrow column
    holds UTF-8 already, its lengths are read, not encoded again."""
    arrow = _arrow_text(text)
    if arrow is None:
        encoded = text.fillna("").str.encode("utf-8", errors="surrogatepass")
        return np.asarray(encoded.str.len().to_numpy(), dtype=np.int64)
    return np.asarray(pc.binary_length(arrow).fill_null(0).to_numpy(), dtype=np.int64)


def _shared(text: pd.Series) -> pd.Series:
    """Text cells as Python strings, one object per distinct value: ids repeat (a rep on
    every one of their deals), and a shared string takes a pointer's 8 bytes a cell
    where its own copy would take some 60. Values, dtype (object) and order unchanged."""
    values = text.to_numpy(dtype=object)
    codes, uniques = pd.factorize(values)
    if len(uniques) * 2 > len(values) or (codes < 0).any():  # mostly distinct, or empty
        return pd.Series(values, index=text.index, name=text.name, dtype=object)
    shared = np.asarray(uniques, dtype=object)[codes]
    return pd.Series(shared, index=text.index, name=text.name, dtype=object)


def _check_file_name(text: pd.Series, raw: pd.Series, column: Column, report: _CellReport) -> None:
    """An id that becomes a file name: no path separator, not ``.``/``..``, bounded."""
    hint = "ids name files (statements/<rep_id>.md): use letters, digits, - and _"
    path = _contains(text, _PATH_CHARS, _PATH_CHARS)
    path |= text.isin([".", ".."]).to_numpy()
    report.add(path, raw, "an id may not hold / or \\ or be . or ..", "unsafe-id", hint=hint)
    size = _utf8_bytes(text)
    report.add(
        size > ID_MAX_BYTES,
        raw,
        f"an id may be at most {ID_MAX_BYTES} bytes long (UTF-8)",
        "id-too-long",
        hint=hint,
    )


def _is_number_dtype(raw: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype)


def _numbers(
    raw: pd.Series, values: pd.Series, empty: np.ndarray, column: Column, report: _CellReport
) -> pd.Series:
    """Check parsed numbers: NaN where a cell was not a number, ranges, whole numbers."""
    arr = values.to_numpy()
    nan = np.isnan(arr)
    finite = np.isfinite(arr)
    bad = report.add(
        nan & ~empty,
        raw,
        "not a number",
        "number",
        hint="write plain numbers: 12000, not 12k or 12,000",
    )
    bad |= report.add(~nan & ~finite, raw, "not a finite number", "number")
    huge = finite & (np.abs(np.where(finite, arr, 0.0)) >= MAX_AMOUNT)
    bad |= report.add(
        huge,
        raw,
        "too large: numbers must be below 10^13 (10,000,000,000,000)",
        "too-large",
        hint="a number this large is a unit or export error (cents for euros, an id as a number)",
    )
    finite &= ~huge
    safe = np.where(finite, arr, 0.0)
    if column.type == "int":
        bad |= report.add(finite & (np.round(safe) != safe), raw, "not a whole number", "int")
    if column.min is not None:
        low = (safe <= column.min) if column.min_exclusive else (safe < column.min)
        word = "greater than" if column.min_exclusive else "at least"
        hint = "a reversal is a row with type `cancellation`" if column.name == "amount" else ""
        bad |= report.add(finite & low, raw, f"must be {word} {column.min:g}", "range", hint=hint)
    if column.max is not None:
        hint = "fractions, not percentages: write 0.4 for 40%" if column.max == 1 else ""
        bad |= report.add(
            finite & (safe > column.max), raw, f"must be at most {column.max:g}", "range", hint=hint
        )
    if column.type == "int" and not bad and not nan.any():
        return values.astype("int64")
    return values


def check_references(rules: CompanyRules, tables: dict[str, pd.DataFrame]) -> list[Problem]:
    problems: list[Problem] = []
    org = tables["org"]
    # The deals' ids factorized once, for their keys and their splits (millions of rows).
    codes = deal_codes(tables["actuals"])[0] if "actuals" in tables else None
    for table, frame in tables.items():
        dated = table == "org" and is_dated(org)
        key = ("rep_id", "start_date") if dated else KEYS[table]
        known = {"deal_id": codes} if table == "actuals" and codes is not None else {}
        if key:  # a table without a key (measures: rows add up) has no duplicates
            problems += duplicate_keys(frame, key, known)
    if is_dated(org):
        problems += dated_rows(org)
    problems += _hierarchy_nests(org, rules.hierarchy)
    reps = pd.Index(org["rep_id"].unique())
    products = pd.Index(rules.products)
    for table, frame in tables.items():
        for column in table_columns(table, rules.hierarchy):
            if column.references == "org.rep_id":
                problems += unknown_references(
                    frame, column.name, reps, "unknown rep", "add the rep to the org table"
                )
            elif column.references == "company.products":
                problems += unknown_references(
                    frame,
                    column.name,
                    products,
                    "unknown product",
                    f"products in company.yaml: {', '.join(rules.products)}",
                )
    if "actuals" in tables:
        problems += check_splits(tables["actuals"], codes)
    if "measures" in tables:
        problems += missing_denominators(tables["measures"])
    return problems


#: :func:`deal_codes` of the actuals tables alive: id(table) → (the table, codes, ids).
_DEAL_CODES: dict[int, tuple[weakref.ref, np.ndarray, np.ndarray]] = {}


def deal_codes(actuals: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """An actuals table's ``deal_id`` column factorized (codes in order of first appearance,
    and the distinct ids: :func:`pandas.factorize`, a missing id a value of its own), once
    per table while it lives: the checks of its keys and splits, then the payouts' deals,
    need them, and factorizing millions of ids costs seconds. A checked table is read, not
    changed in place, so its codes hold as long as it does."""
    key = id(actuals)
    known = _DEAL_CODES.get(key)
    if known is not None and known[0]() is actuals:
        return known[1], known[2]
    codes, ids = _factorize_text(actuals["deal_id"])
    _DEAL_CODES[key] = (weakref.ref(actuals), codes, ids)
    weakref.finalize(actuals, _DEAL_CODES.pop, key, None)
    return codes, ids


def _factorize_text(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``pandas.factorize(column, use_na_sentinel=False)`` (codes, and the distinct values
    as objects). A column of Python strings, most of them distinct (deal ids), is
    factorized by a 64-bit hash of each string instead: half the cost of a table of
    millions of strings. Rows whose hash came before are checked to hold the same string
    (a collision, never seen, falls back to pandas)."""
    values = column.to_numpy()
    if values.dtype == object and len(values) and pd.api.types.infer_dtype(values) == "string":
        try:
            hashes = pd.util.hash_array(values, categorize=False)
        except (UnicodeError, TypeError, ValueError):  # a lone surrogate is not UTF-8
            hashes = None
        if hashes is not None:
            codes, uniques = pd.factorize(hashes)
            first = np.empty(len(uniques), dtype=np.int64)  # each code's first row
            first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
            at = first[codes]
            again = np.flatnonzero(at != np.arange(len(codes)))
            if (values[again] == values[at[again]]).all():
                return codes, values[first]
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    return codes, np.asarray(uniques, dtype=object)


def is_dated(org: pd.DataFrame) -> bool:
    """An effective-dated org: it has a ``start_date`` or ``end_date`` column."""
    return "start_date" in org.columns or "end_date" in org.columns


_FAR = 1 << 40  # days: an empty start is from before, an empty end after, any year


def dated_rows(org: pd.DataFrame) -> list[Problem]:
    """A dated org's rows per person: none ending before it starts, no two overlapping,
    no gap between one row's end and the next one's start; open headcount has a start."""
    problems: list[Problem] = []
    start = org["start_date"] if "start_date" in org.columns else pd.Series(pd.NaT, org.index)
    end = org["end_date"] if "end_date" in org.columns else pd.Series(pd.NaT, org.index)
    s_nat, e_nat = start.isna().to_numpy(), end.isna().to_numpy()
    s = np.where(s_nat, -_FAR, start.to_numpy(dtype="datetime64[D]").astype(np.int64))
    e = np.where(e_nat, _FAR, end.to_numpy(dtype="datetime64[D]").astype(np.int64))
    person = pd.factorize(org["rep_id"])[0]

    def day(x: int) -> str:
        return str(np.datetime64(int(x), "D"))

    for i in np.flatnonzero(e < s)[:MAX_PROBLEMS]:
        message = f"rep {org['rep_id'].iloc[i]!r}: ends {day(e[i])}, before it starts {day(s[i])}"
        problems.append(_row_problem(org, i, "end_date", message, "dates"))
    if "open_headcount" in org.columns:
        hint = "give the planned start date of the hire"
        for i in np.flatnonzero(org["open_headcount"].to_numpy(dtype=bool) & s_nat)[:MAX_PROBLEMS]:
            message = f"open headcount {org['rep_id'].iloc[i]!r} has no start_date"
            problems.append(_row_problem(org, i, "start_date", message, "open-headcount", hint))
    order = np.lexsort((s, person))
    prev, cur = order[:-1], order[1:]
    same = person[prev] == person[cur]
    offset = _place(org)[1]
    for kind in ("overlap", "gap"):
        bad = same & ((s[cur] <= e[prev]) if kind == "overlap" else (s[cur] > e[prev] + 1))
        for a, b in zip(prev[bad][:MAX_PROBLEMS], cur[bad][:MAX_PROBLEMS], strict=True):
            rep = org["rep_id"].iloc[b]
            ends = "has no end" if e_nat[a] else f"ends {day(e[a])}"
            if kind == "overlap":
                message = (
                    f"rep {rep!r}: starts {day(s[b])} while the row on row {a + offset} {ends}"
                )
                hint = "end the earlier row the day before the next one starts"
            else:
                message = (
                    f"rep {rep!r}: {day(e[a] + 1)} to {day(s[b] - 1)} are in no row (the row "
                    f"on row {a + offset} ends {day(e[a])})"
                )
                hint = "start each row the day after the previous one ends"
            problems.append(_row_problem(org, b, "start_date", message, kind, hint))
    return problems[: MAX_PROBLEMS * 2]


def _place(frame: pd.DataFrame) -> tuple[str, int]:
    """The source name and row offset a frame was read with (DataFrames: "<table>", 1)."""
    return frame.attrs.get("source", "<table>"), frame.attrs.get("offset", 1)


def _row_problem(
    frame: pd.DataFrame, i: int | np.integer, field: str, message: str, code: str, hint: str = ""
) -> Problem:
    source, offset = _place(frame)
    return Problem(
        source,
        message,
        row=int(i) + offset,
        field=field,
        code=code,
        hint=hint,
    )


def duplicate_keys(
    frame: pd.DataFrame, key: tuple[str, ...], codes: Mapping[str, np.ndarray] | None = None
) -> list[Problem]:
    """One problem per repeated key, naming the row it first appeared on (``codes``: key
    columns already factorized, as :func:`pandas.factorize` codes them)."""
    dup = _repeated(frame, key, codes or {})
    if not dup.any():
        return []
    first = frame.groupby(list(key), sort=False).cumcount().to_numpy()
    first_row = {}
    problems = []
    for i in np.flatnonzero(dup):
        k = tuple(frame[c].iloc[i] for c in key)
        if first[i] == 0:
            first_row[k] = i
            continue
        label = ", ".join(f"{c} {v!r}" for c, v in zip(key, k, strict=True))
        where = first_row.get(k)
        also = f" (first on row {where + _place(frame)[1]})" if where is not None else ""
        problems.append(_row_problem(frame, i, key[-1], f"duplicate {label}{also}", "duplicate"))
        if len(problems) >= MAX_PROBLEMS:
            break
    return capped(problems, _place(frame)[0], total=int((dup & (first > 0)).sum()))


def _repeated(
    frame: pd.DataFrame, key: tuple[str, ...], codes: Mapping[str, np.ndarray]
) -> np.ndarray:
    """bool[n]: the rows whose key another row has too (``DataFrame.duplicated`` with
    ``keep=False``: missing values equal), from the key columns' integer codes."""
    n = len(frame)
    # Rows whose key so far no other row has cannot repeat the whole key: each further
    # column is read at the others only (of millions of deal rows, a few share an id).
    rows = np.arange(n)
    for column in key:
        code = codes.get(column)
        if code is None:
            values = frame[column] if len(rows) == n else frame[column].iloc[rows]
            code = pd.factorize(values, use_na_sentinel=False)[0]
        elif len(rows) < n:
            code = code[rows]
        if column == key[0]:  # factorize codes are already 0, 1, 2, …
            group = np.asarray(code, dtype=np.int64)
        else:  # one code per combination so far: kept small, the product never overflows
            group = pd.factorize(group * (int(code.max(initial=-1)) + 1) + code)[0]
        shared = np.bincount(group, minlength=1)[group] > 1
        rows, group = rows[shared], group[shared]
        if not len(rows):
            break
    out = np.zeros(n, dtype=bool)
    out[rows] = True
    return out


def unknown_references(
    frame: pd.DataFrame,
    column: str,
    known: pd.Index,
    what: str,
    hint: str,
    found: np.ndarray | None = None,
) -> list[Problem]:
    """One problem per unknown value, at its first row, counting the other rows
    (``found``: bool[n], the rows whose value is in ``known``, when a caller has it)."""
    values = frame[column]
    if found is None:
        found = values.isin(known).to_numpy()
    bad = np.flatnonzero(~found)
    if not len(bad):
        return []
    unknown = values.iloc[bad]
    first = unknown.drop_duplicates()
    counts = unknown.value_counts(sort=False)
    problems = []
    for i, value in zip(first.index[:MAX_PROBLEMS], first.to_numpy(), strict=False):
        others = int(counts[value]) - 1
        more = f" (and {others} more rows)" if others else ""
        problems.append(
            _row_problem(frame, i, column, f"{what} {value!r}{more}", "unknown-reference", hint)
        )
    return capped(problems, _place(frame)[0], total=len(first))


def _hierarchy_nests(org: pd.DataFrame, levels: list[str]) -> list[Problem]:
    """Each unit belongs to exactly one parent (team T cannot sit in two regions)."""
    problems = []
    total = 0
    for parent, child in zip(levels, levels[1:], strict=False):
        n_parents = org.groupby(child, sort=True)[parent].nunique()
        total += int((n_parents.to_numpy() > 1).sum())
        for unit in n_parents.index[n_parents.to_numpy() > 1][:MAX_PROBLEMS]:
            rows = np.flatnonzero(org[child].to_numpy() == unit)
            parents = sorted(org[parent].iloc[rows].unique())
            i = next(r for r in rows if org[parent].iloc[r] != org[parent].iloc[rows[0]])
            problems.append(
                _row_problem(
                    org,
                    i,
                    parent,
                    f"{child} {unit!r} sits in several {parent}s: {', '.join(parents)}",
                    "hierarchy",
                    f"give each {child} one {parent}, or distinct names",
                )
            )
    return capped(problems, _place(org)[0], total=total)


def missing_denominators(
    measures: pd.DataFrame, ratios: Collection[str] | None = None
) -> list[Problem]:
    """One problem per row of a ratio measure without its denominator: the measures
    ``ratios`` names (a plan's KPI components read them as ratios), or, without it, every
    measure that has a denominator on some row (the table says it is a ratio)."""
    den = measures["denominator"].isna().to_numpy()
    if not den.any():
        return []
    names = measures["measure"]
    if ratios is None:
        ratios = pd.unique(names[~den])
    bad = np.flatnonzero(den & names.isin(list(ratios)).to_numpy())
    source, _ = _place(measures)
    problems = [
        _row_problem(
            measures,
            int(i),
            "denominator",
            f"measure `{names.iloc[i]}` is a ratio: this row needs its denominator",
            "missing-denominator",
            "give the ratio's denominator (invoiced, sales) on every row of the measure; "
            "a count has none on any row",
        )
        for i in bad[:MAX_PROBLEMS]
    ]
    return capped(problems, source, total=len(bad))


def check_splits(actuals: pd.DataFrame, deal_codes: np.ndarray | None = None) -> list[Problem]:
    """The credit splits of each deal add up to 1; every cancellation cancels a booking
    (``deal_codes``: the deal ids factorized, if they already are)."""
    problems = []
    if deal_codes is None:
        deal_codes = pd.factorize(actuals["deal_id"], use_na_sentinel=False)[0]
    cancels = actuals["type"].to_numpy() == "cancellation"
    group = deal_codes * 2 + cancels
    totals = np.bincount(group, weights=actuals["split"].to_numpy())[group]
    bad = np.abs(totals - 1.0) > 1e-9
    n_bad = len(np.unique(group[bad]))
    seen = set()
    for i in np.flatnonzero(bad):
        deal = actuals["deal_id"].iloc[i]
        if (deal, group[i]) in seen:
            continue
        seen.add((deal, group[i]))
        problems.append(
            _row_problem(
                actuals,
                i,
                "split",
                f"the splits of deal {deal!r} add up to {totals[i]:g}, not 1",
                "split",
            )
        )
        if len(problems) >= MAX_PROBLEMS:
            break
    source = _place(actuals)[0]
    problems = capped(problems, source, total=n_bad)
    booked = np.zeros(int(deal_codes.max(initial=-1)) + 1, dtype=bool)
    booked[deal_codes[~cancels]] = True
    orphan = cancels.copy()
    orphan[cancels] = ~booked[deal_codes[cancels]]
    orphans = []
    for i in np.flatnonzero(orphan)[:MAX_PROBLEMS]:
        orphans.append(
            _row_problem(
                actuals,
                i,
                "deal_id",
                f"cancels deal {actuals['deal_id'].iloc[i]!r}, which was never booked",
                "unknown-reference",
            )
        )
    return problems + capped(orphans, source, total=int(orphan.sum()))


def check_minor_units(
    frame: pd.DataFrame,
    column: str,
    minor_unit: int,
    unit_name: str = "the currency's minor unit",
    why: str = "",
) -> list[Problem]:
    """Amounts in ``column`` are whole minor units (cents for 2): 12.345 euros is an error.

    Money is computed in minor units; an amount between two of them would be
    rounded, and a rounded input is a silently changed one. ``unit_name`` and
    ``why`` say where ``minor_unit`` comes from when it is not the currency's
    (a plan's ``rounding.minor_unit``).
    """
    if column not in frame.columns or not len(frame):
        return []
    values = frame[column].to_numpy(dtype=float)
    sane = np.isfinite(values) & (np.abs(values) < MAX_AMOUNT)  # others are errors already
    scaled = np.where(sane, values, 0.0) * 10**minor_unit
    off = np.abs(scaled - np.rint(scaled))
    bad = np.flatnonzero(off > np.maximum(1e-6, np.abs(scaled) * 4e-16))
    what = f"{minor_unit} decimal place{'s' if minor_unit != 1 else ''}"
    hint = f"round the amount to {what} in the source system"
    if why:
        hint = f"{why}; {hint}, or make the two agree"
    problems = [
        _row_problem(
            frame,
            i,
            column,
            f"has more decimals than {unit_name} ({what}): {_cell_text(frame[column].iloc[i])}",
            "sub-minor-unit",
            hint=hint,
        )
        for i in bad[:MAX_PROBLEMS]
    ]
    return capped(problems, _place(frame)[0], total=len(bad))

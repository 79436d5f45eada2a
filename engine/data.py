"""Input data: read the company's tables, check every cell, derive potential.

Tables come from CSV, Parquet or Excel files named by the data folder's
``company.yaml``, or from pandas DataFrames through :func:`company_from_frames`.
Every check runs over whole columns; every problem names the file, the row
(as a spreadsheet counts it: the header is row 1, so the first record of a
CSV or Excel file is row 2; Parquet files and DataFrames count records from
1) and the column. Nothing is dropped silently: a bad row is an error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from attain.errors import DataError, Problem
from attain.load import load_rules
from attain.schema import CompanyRules
from attain.tables import KEYS, TABLES, Column, table_columns

__all__ = [
    "MAX_PROBLEMS",
    "check_columns",
    "check_splits",
    "Company",
    "company_from_frames",
    "derive_potential",
    "load_company",
    "read_table",
]

#: Problems reported per table before the rest are counted, not listed.
MAX_PROBLEMS = 25
_FILE_SUFFIXES = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "excel",
    ".xls": "excel",
}
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


@dataclass(frozen=True)
class Company:
    """A company's manifest and its checked tables (typed DataFrames).

    ``accounts`` gains ``potential_value`` and ``tier``; ``potential`` is
    derived from accounts and history when the company does not give it.
    """

    rules: CompanyRules
    org: pd.DataFrame
    accounts: pd.DataFrame | None = None
    potential: pd.DataFrame | None = None
    history: pd.DataFrame | None = None
    actuals: pd.DataFrame | None = None
    root: Path | None = None
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def hierarchy(self) -> tuple[str, ...]:
        return tuple(self.rules.hierarchy)

    @property
    def products(self) -> tuple[str, ...]:
        return tuple(self.rules.products)

    def summary(self) -> dict[str, object]:
        """Counts and totals that describe the company at a glance."""
        out: dict[str, object] = {
            "name": self.rules.name,
            "currency": self.rules.currency,
            "fiscal_year": self.rules.fiscal_year,
            "n_people": len(self.org),
            "roles": {
                str(k): int(v) for k, v in self.org["role"].value_counts().sort_index().items()
            },
            "products": list(self.products),
        }
        for level in self.hierarchy:
            out[f"n_{level}"] = int(self.org[level].nunique())
        if self.accounts is not None:
            out["n_accounts"] = len(self.accounts)
            out["accounts_by_tier"] = {
                str(k): int(v) for k, v in self.accounts["tier"].value_counts().sort_index().items()
            }
        if self.potential is not None:
            out["total_potential"] = float(self.potential["potential"].sum())
        if self.history is not None:
            months = sorted(self.history["month"].unique())
            out["history_months"] = f"{months[0]}..{months[-1]}" if months else ""
            out["history_sales"] = float(self.history["sales"].sum())
        if self.actuals is not None:
            out["n_deal_rows"] = len(self.actuals)
        return out


def load_company(path: str | Path) -> Company:
    """Load a data folder (or its ``company.yaml``) and check every table."""
    path = Path(path)
    manifest = path / "company.yaml" if path.is_dir() else path
    if path.is_dir() and not manifest.exists():
        raise DataError([Problem(str(path), "no company.yaml in this folder", code="no-manifest")])
    rules = load_rules(manifest, kind="company")
    root = manifest.parent
    frames: dict[str, pd.DataFrame] = {}
    sources: dict[str, str] = {}
    problems: list[Problem] = []
    for table, name in rules.tables.model_dump().items():
        if name is None:
            continue
        file = Path(os.path.normpath(root / name))
        sources[table] = str(file)
        try:
            frames[table] = read_table(file)
        except DataError as exc:
            problems.extend(exc.problems)
    if problems:
        raise DataError(problems)
    return _check_company(rules, frames, sources, root, offset=2)


def company_from_frames(rules: CompanyRules | Mapping, **frames: pd.DataFrame) -> Company:
    """Check DataFrames as a company's tables (``org=``, ``accounts=``, ...)."""
    if not isinstance(rules, CompanyRules):
        rules = load_rules(rules, kind="company")
    unknown = set(frames) - set(TABLES)
    if unknown:
        raise TypeError(f"unknown tables: {sorted(unknown)}")
    sources = {table: f"<{table}>" for table in frames}
    return _check_company(
        rules, {k: v for k, v in frames.items() if v is not None}, sources, None, offset=1
    )


def read_table(path: str | Path) -> pd.DataFrame:
    """Read one table file as it is (text cells for CSV and Excel); checks come later."""
    path = Path(path)
    fmt = _FILE_SUFFIXES.get(path.suffix.lower())
    source = str(path)
    if fmt is None:
        hint = "use .csv, .parquet or .xlsx"
        raise DataError(
            [Problem(source, f"unknown file type `{path.suffix}`", hint=hint, code="file-type")]
        )
    if not path.is_file():
        raise DataError(
            [Problem(source, "file not found (named in company.yaml)", code="missing-file")]
        )
    try:
        if fmt == "csv":
            frame = _read_csv(path)
        elif fmt == "parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_excel(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise DataError(
            [Problem(source, "file is empty; expected a header row", code="empty")]
        ) from None
    except pd.errors.ParserError as exc:
        raise DataError([_parser_problem(source, str(exc))]) from None
    except UnicodeDecodeError:
        raise DataError(
            [Problem(source, "not UTF-8 text", hint="save the file as UTF-8 CSV", code="encoding")]
        ) from None
    except Exception as exc:  # pyarrow/openpyxl raise many types for a corrupt file
        raise DataError(
            [Problem(source, f"cannot read the file: {exc}", code="unreadable")]
        ) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.attrs["source"] = source
    frame.attrs["offset"] = 1 if fmt == "parquet" else 2
    return frame


def _read_csv(path: Path) -> pd.DataFrame:
    """Every cell as text. The pyarrow reader is over ten times faster; when it
    refuses a file, pandas' own reader runs to say where and why."""
    text = {"dtype": str, "keep_default_na": False, "encoding": "utf-8"}
    try:
        return pd.read_csv(path, engine="pyarrow", **text)
    except (ValueError, OSError, ImportError):
        return pd.read_csv(path, skipinitialspace=True, **text)


def _parser_problem(source: str, message: str) -> Problem:
    # pandas: "Error tokenizing data. C error: Expected 5 fields in line 17, saw 6"
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if match:
        expected, line, saw = match.groups()
        return Problem(
            source,
            f"expected {expected} cells, found {saw}",
            row=int(line),
            code="ragged-row",
            hint="a cell with a comma needs quotes",
        )
    return Problem(source, f"cannot parse the file: {message}", code="syntax")


def _check_company(
    rules: CompanyRules,
    frames: dict[str, pd.DataFrame],
    sources: dict[str, str],
    root: Path | None,
    offset: int,
) -> Company:
    problems: list[Problem] = []
    checked: dict[str, pd.DataFrame] = {}
    if "org" not in frames:
        raise DataError(
            [
                Problem(
                    sources.get("org", "<org>"), "the org table is required", code="missing-table"
                )
            ]
        )
    for table in TABLES:
        if table not in frames:
            continue
        frame = frames[table]
        source = frame.attrs.get("source", sources.get(table, f"<{table}>"))
        table_offset = frame.attrs.get("offset", offset)
        typed, found = check_columns(
            frame, table_columns(table, rules.hierarchy), source, table_offset
        )
        problems.extend(found)
        if typed is not None:
            typed.attrs.update(source=source, offset=table_offset)
            checked[table] = typed
    if not problems:
        problems.extend(_check_references(rules, checked))
    if problems:
        raise DataError(problems)
    accounts = _with_tiers(checked["accounts"], rules) if "accounts" in checked else None
    potential = checked.get("potential")
    if potential is None and accounts is not None:
        potential = derive_potential(accounts, checked.get("history"), rules.products)
    return Company(
        rules=rules,
        org=checked["org"],
        accounts=accounts,
        potential=potential,
        history=checked.get("history"),
        actuals=checked.get("actuals"),
        root=root,
        sources=sources,
    )


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
            text = f"{message}: {_cell_text(raw.iloc[i])!r}" if show else message
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
            listed.append(
                Problem(self.source, f"... and {rest} more problems in this table", code="more")
            )
        return listed


def _cell_text(value: object) -> str:
    """A cell as the user wrote it, whether the reader kept it as text or typed it."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _capped(problems: list[Problem], source: str) -> list[Problem]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    rest = len(problems) - MAX_PROBLEMS
    return [
        *problems[:MAX_PROBLEMS],
        Problem(source, f"... and {rest} more problems in this table", code="more"),
    ]


def _parse_column(raw: pd.Series, column: Column, report: _CellReport) -> pd.Series:
    """The column's typed values; every bad cell is added to ``report``."""
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
    if column.type in ("id", "text"):
        return text.fillna("").astype(object)
    if column.type == "choice":
        bad = ~text.isin(column.choices).to_numpy()
        report.add(bad, raw, f"must be one of {', '.join(column.choices)}", "choice")
        return text.astype(object)
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
        return text.fillna("").astype(object)
    try:  # a clean column converts in one pass; only a bad one needs the cell-by-cell path
        numbers = text.astype("float64")
    except (ValueError, TypeError):
        numbers = pd.to_numeric(text.str.replace("_", "", regex=False), errors="coerce")
    return _numbers(raw, numbers.astype("float64"), empty, column, report)


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


def _check_references(rules: CompanyRules, tables: dict[str, pd.DataFrame]) -> list[Problem]:
    problems: list[Problem] = []
    for table, frame in tables.items():
        problems += _duplicates(frame, KEYS[table])
    org = tables["org"]
    problems += _hierarchy_nests(org, rules.hierarchy)
    reps = pd.Index(org["rep_id"])
    products = pd.Index(rules.products)
    for table, frame in tables.items():
        for column in table_columns(table, rules.hierarchy):
            if column.references == "org.rep_id":
                problems += _dangling(
                    frame, column.name, reps, "unknown rep", "add the rep to the org table"
                )
            elif column.references == "company.products":
                problems += _dangling(
                    frame,
                    column.name,
                    products,
                    "unknown product",
                    f"products in company.yaml: {', '.join(rules.products)}",
                )
    if "actuals" in tables:
        problems += check_splits(tables["actuals"])
    return problems


def _row_problem(
    frame: pd.DataFrame, i: int, field: str, message: str, code: str, hint: str = ""
) -> Problem:
    return Problem(
        frame.attrs["source"],
        message,
        row=int(i) + frame.attrs["offset"],
        field=field,
        code=code,
        hint=hint,
    )


def _duplicates(frame: pd.DataFrame, key: tuple[str, ...]) -> list[Problem]:
    dup = frame.duplicated(list(key), keep=False).to_numpy()
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
        also = f" (first on row {where + frame.attrs['offset']})" if where is not None else ""
        problems.append(_row_problem(frame, i, key[-1], f"duplicate {label}{also}", "duplicate"))
        if len(problems) > MAX_PROBLEMS:
            break
    return _capped(problems, frame.attrs["source"])


def _dangling(
    frame: pd.DataFrame, column: str, known: pd.Index, what: str, hint: str
) -> list[Problem]:
    """One problem per unknown value, at its first row, counting the other rows."""
    values = frame[column]
    bad = np.flatnonzero(~values.isin(known).to_numpy())
    if not len(bad):
        return []
    unknown = values.iloc[bad]
    first = unknown.drop_duplicates()
    counts = unknown.value_counts(sort=False)
    problems = []
    for i, value in zip(first.index[: MAX_PROBLEMS + 1], first.to_numpy(), strict=False):
        others = int(counts[value]) - 1
        more = f" (and {others} more rows)" if others else ""
        problems.append(
            _row_problem(frame, i, column, f"{what} {value!r}{more}", "unknown-reference", hint)
        )
    return _capped(problems, frame.attrs["source"])


def _hierarchy_nests(org: pd.DataFrame, levels: list[str]) -> list[Problem]:
    """Each unit belongs to exactly one parent (team T cannot sit in two regions)."""
    problems = []
    for parent, child in zip(levels, levels[1:], strict=False):
        n_parents = org.groupby(child, sort=True)[parent].nunique()
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
    return problems


def check_splits(actuals: pd.DataFrame) -> list[Problem]:
    """The credit splits of each deal add up to 1; every cancellation cancels a booking."""
    problems = []
    group = pd.factorize(actuals["deal_id"])[0] * 2 + (actuals["type"].to_numpy() == "cancellation")
    totals = np.bincount(group, weights=actuals["split"].to_numpy())[group]
    bad = np.abs(totals - 1.0) > 1e-9
    seen = set()
    for i in np.flatnonzero(bad):
        deal = actuals["deal_id"].iloc[i]
        if deal in seen:
            continue
        seen.add(deal)
        problems.append(
            _row_problem(
                actuals,
                i,
                "split",
                f"the splits of deal {deal!r} add up to {totals[i]:g}, not 1",
                "split",
            )
        )
        if len(problems) > MAX_PROBLEMS:
            break
    cancels = actuals["type"].to_numpy() == "cancellation"
    booked = pd.Index(actuals["deal_id"][~cancels])
    orphan = cancels & ~actuals["deal_id"].isin(booked).to_numpy()
    for i in np.flatnonzero(orphan)[:MAX_PROBLEMS]:
        problems.append(
            _row_problem(
                actuals,
                i,
                "deal_id",
                f"cancels deal {actuals['deal_id'].iloc[i]!r}, which was never booked",
                "unknown-reference",
            )
        )
    return _capped(problems, actuals.attrs["source"])


def _with_tiers(accounts: pd.DataFrame, rules: CompanyRules) -> pd.DataFrame:
    """Potential value = current revenue × growth coefficient, and its A/B/C tier.

    Accounts are ranked by potential value (ties by id, for determinism); an
    account is in the first tier whose cumulative share the accounts ranked
    above it have not yet filled, so the best account is always in tier A.
    """
    out = accounts.copy()
    value = out["current_revenue"].to_numpy() * out["growth_coefficient"].to_numpy()
    out["potential_value"] = value
    order = np.lexsort((out["account_id"].to_numpy().astype(str), -value))
    total = value.sum()
    before = (
        np.concatenate([[0.0], np.cumsum(value[order])[:-1]]) / total
        if total > 0
        else np.zeros(len(order))
    )
    names = list(rules.tier_shares)
    edges = np.cumsum(list(rules.tier_shares.values()))[:-1]
    tier_sorted = np.searchsorted(edges, before + 1e-12, side="right")
    tiers = np.empty(len(order), dtype=np.int64)
    tiers[order] = tier_sorted
    out["tier"] = pd.Categorical.from_codes(
        np.minimum(tiers, len(names) - 1), categories=names, ordered=True
    )
    return out


def derive_potential(
    accounts: pd.DataFrame, history: pd.DataFrame | None, products: list[str]
) -> pd.DataFrame:
    """Potential per rep × product from the accounts.

    A rep's potential is the sum of their accounts' potential value, split over
    products by the rep's own product mix over the last 12 months of history
    (the company's mix for a rep with no history; an even split without any).
    """
    rep_total = accounts.groupby("rep_id", sort=True)["potential_value"].sum()
    reps = rep_total.index.to_numpy()
    mix = np.full((len(reps), len(products)), 1.0 / len(products))
    if history is not None and len(history):
        months = np.sort(history["month"].unique())[-12:]
        recent = history[history["month"].isin(months)]
        table = recent.pivot_table(
            index="rep_id", columns="product", values="sales", aggfunc="sum", fill_value=0.0
        )
        table = table.reindex(index=reps, columns=products, fill_value=0.0).to_numpy()
        company_mix = table.sum(axis=0)
        if company_mix.sum() > 0:
            mix[:] = company_mix / company_mix.sum()
        row_sum = table.sum(axis=1, keepdims=True)
        has = row_sum[:, 0] > 0
        mix[has] = table[has] / row_sum[has]
    values = rep_total.to_numpy()[:, None] * mix
    return pd.DataFrame(
        {
            "rep_id": np.repeat(reps, len(products)),
            "product": np.tile(np.array(products, dtype=object), len(reps)),
            "potential": values.ravel(),
        }
    )

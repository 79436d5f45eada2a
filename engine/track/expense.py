"""Sales expenses to date against the budget: the actual expense rate (expense ÷ sales).

The expenses table has one row per booked expense: ``date`` (``YYYY-MM-DD``), ``unit``
(a rep id, or a unit of a hierarchy level by name or path, ``East-01`` or
``East/East-01``), ``amount`` (money; a credit is negative), and optionally ``level``
(``rep`` or a hierarchy level: which kind of unit ``unit`` names, when a name could be
either) and ``category`` (travel, events …). A rep's expense counts for the rep and the
units above them (the rep's latest unit); a team's own expense for the team and above.

The budget is an allocation's ``expense_budget.csv``: each unit's year budget and its
months; the budget to date is the months gone and the current month × the share of its
days elapsed, as the targets' expected-to-date. Amounts are integer minor units; rates
are those of the exact sums.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from attain.checks import check_columns, check_minor_units
from attain.errors import DataError, Problem
from attain.notices import Notice
from attain.schema.base import did_you_mean
from attain.tables import Column
from attain.track.forecast import Unit
from attain.track.inputs import Ledger, read_frame
from attain.track.inputs import table_place as _place

__all__ = ["BUDGET_COLUMNS", "EXPENSE_COLUMNS", "ExpenseTracking", "track_expenses"]

EXPENSE_COLUMNS = (
    Column("date", "date", "The day the expense is booked, `YYYY-MM-DD`."),
    Column("unit", "id", "Who spent it: a rep id, or a team or region by name or path."),
    Column("amount", "number", "The amount (currency); a credit or refund is negative."),
    Column("level", "text", "`rep` or a hierarchy level, when `unit` is ambiguous.", False, ""),
    Column("category", "text", "What it was spent on (travel, events, …).", False, ""),
)
BUDGET_COLUMNS = (
    Column("level", "text", "The unit's level: `company`, a hierarchy level or `rep`."),
    Column("unit", "id", "The unit's name (a rep id at level `rep`)."),
    Column("period", "text", "`year`, or a month `YYYY-MM`."),
    Column("expense_budget", "number", "The budget (currency).", min=0),
)
_LISTED = 25


@dataclass(frozen=True)
class ExpenseTracking:
    frame: pd.DataFrame
    summary: dict[str, Any]
    notices: list[Notice]


def _units(ledger: Ledger, levels: dict[str, Unit], labels: dict[str, np.ndarray]):
    """Each level's unit labels (paths) and a lookup of names and paths → (level, code)."""
    names: dict[str, dict[str, int]] = {}
    for level in ledger.hierarchy:
        paths = [str(p) for p in labels[level]]
        table = {path: code for code, path in enumerate(paths)}
        leaves: dict[str, list[int]] = {}
        for code, path in enumerate(paths):
            leaves.setdefault(path.rsplit("/", 1)[-1], []).append(code)
        for leaf, codes in leaves.items():
            if leaf not in table:
                table[leaf] = codes[0] if len(codes) == 1 else -2  # -2: give the path
        names[level] = table
    reps = {str(r): i for i, r in enumerate(ledger.people["rep_id"])}
    names["rep"] = reps
    names["company"] = {"company": 0}
    return names


def _resolve(frame, names, hierarchy) -> tuple[np.ndarray, np.ndarray, list[Problem]]:
    """Each row's (level index into ``rep``+hierarchy, unit code); problems for unknowns."""
    source, offset = _place(frame, "<expenses>")
    order = ["rep", *reversed(hierarchy), "company"]
    level_of = np.full(len(frame), -1, dtype=np.int64)
    code_of = np.full(len(frame), -1, dtype=np.int64)
    problems: list[Problem] = []
    pairs = pd.MultiIndex.from_arrays(
        [frame["unit"].astype(str), frame["level"].astype(str).str.strip()]
    )
    inverse, keys = pd.factorize(pairs)  # one look-up per distinct unit, not per row
    for k, (unit, level) in enumerate(keys):
        rows = np.flatnonzero(inverse == k)
        if level and level not in names:
            message = (
                f"unknown level `{level}`{did_you_mean(level, names)}; levels: {', '.join(order)}"
            )
            problems.extend(_at(source, offset, rows, "level", message, "unknown-name"))
            continue
        candidates = [lv for lv in ([level] if level else order) if unit in names[lv]]
        hits = [(lv, names[lv][unit]) for lv in candidates]
        if not hits:
            known = [n for lv in order for n in names[lv]]
            where = f"at level {level}" if level else "among the reps and org units"
            message = f"unknown unit `{unit}` {where}{did_you_mean(unit, known)}"
            problems.extend(_at(source, offset, rows, "unit", message, "unknown-unit"))
            continue
        if len(hits) > 1 or hits[0][1] == -2:
            what = ", ".join(lv for lv, _ in hits) if len(hits) > 1 else "two units of its level"
            message = f"unit `{unit}` names {what}: add a `level` column, or write its path"
            problems.extend(_at(source, offset, rows, "unit", message, "ambiguous-unit"))
            continue
        lv, code = hits[0]
        level_of[rows] = order.index(lv)
        code_of[rows] = code
    return level_of, code_of, problems


def _at(source, offset, rows, field, message, code) -> list[Problem]:
    return [
        Problem(source, message, row=int(r) + offset, field=field, code=code)
        for r in rows[:_LISTED]
    ]


def read_expenses(source: pd.DataFrame | str | Path, ledger: Ledger) -> tuple[pd.DataFrame, int]:
    """The expenses table, checked (cells, minor units, no date after the as-of date);
    returns the typed rows of the fiscal year to the date and the number before the year."""
    frame = read_frame(source, "expenses")
    where = _place(frame, "<expenses>")
    typed, problems = check_columns(frame, EXPENSE_COLUMNS, *where)
    if problems:
        raise DataError(problems)
    assert typed is not None
    typed.attrs.update(source=where[0], offset=where[1])
    if problems := check_minor_units(typed, "amount", ledger.minor_unit):
        raise DataError(problems)
    day = typed["date"].to_numpy(dtype="datetime64[D]")
    late = np.flatnonzero(day > np.datetime64(ledger.as_of, "D"))
    if len(late):
        raise DataError(
            [
                Problem(
                    where[0],
                    f"expense dated {day[i]} is after --as-of {ledger.as_of.isoformat()}",
                    row=int(i) + where[1],
                    field="date",
                    code="after-as-of",
                    hint="track at a later date, or leave out the expenses not yet booked",
                )
                for i in late[:_LISTED]
            ]
        )
    first = np.datetime64(ledger.calendar.month_start(0), "D")
    before = day < first
    return typed, int(before.sum())


def read_budget(source: pd.DataFrame | str | Path, ledger: Ledger, names) -> dict[str, np.ndarray]:
    """An allocation's expense_budget.csv: per level, unit × 12 months of budget (minor)."""
    frame = read_frame(source, "expense_budget")
    where = _place(frame, "<expense_budget>")
    typed, problems = check_columns(frame, BUDGET_COLUMNS, *where)
    if problems:
        raise DataError(problems)
    assert typed is not None
    if problems := check_minor_units(typed, "expense_budget", ledger.minor_unit):
        raise DataError(problems)
    periods = [
        f"{ledger.calendar.month_start(m).year:04d}-{ledger.calendar.month_start(m).month:02d}"
        for m in range(12)
    ]
    period = typed["period"].astype(str).str.strip()
    month = pd.Index(periods).get_indexer(period)
    bad = np.flatnonzero((month < 0) & (period != "year").to_numpy())
    if len(bad):
        raise DataError(
            [
                Problem(
                    where[0],
                    f"period {period.iloc[i]!r} is not `year` nor a month of fiscal year "
                    f"{ledger.calendar.fiscal_year}",
                    row=int(i) + where[1],
                    field="period",
                    code="period",
                )
                for i in bad[:_LISTED]
            ]
        )
    keep = month >= 0
    rows = typed[keep].reset_index(drop=True)
    rows.attrs.update(typed.attrs)
    rows.attrs.update(source=where[0])
    out: dict[str, np.ndarray] = {}
    problems = []
    minor = np.rint(rows["expense_budget"].to_numpy(dtype=float) * ledger.scale).astype(np.int64)
    levels = rows["level"].astype(str).str.strip().to_numpy()
    original = np.flatnonzero(keep)
    for level in np.unique(levels):
        sel = np.flatnonzero(levels == level)
        if level == "company":
            out.setdefault("company", np.zeros((1, 12), dtype=np.int64))
            np.add.at(out["company"], (0, month[keep][sel]), minor[sel])
            continue
        if level not in names:
            problems.extend(
                _at(
                    where[0],
                    where[1],
                    original[sel],
                    "level",
                    f"unknown level `{level}`",
                    "unknown-name",
                )
            )
            continue
        table = names[level]
        units = rows["unit"].astype(str).to_numpy()[sel]
        codes = pd.Series(table).reindex(units).fillna(-1).to_numpy(dtype=np.int64)
        unknown = sel[codes < 0]
        for i in unknown[:_LISTED]:
            unit = rows["unit"].iloc[i]
            problems.append(
                Problem(
                    where[0],
                    f"budget for unknown {level} `{unit}`{did_you_mean(str(unit), table)}: "
                    "not in the tracked org",
                    row=int(original[i]) + where[1],
                    field="unit",
                    code="unknown-unit",
                )
            )
        n = max(table.values(), default=-1) + 1
        arr = out.setdefault(level, np.zeros((n, 12), dtype=np.int64))
        ok = codes >= 0
        np.add.at(arr, (codes[ok], month[keep][sel][ok]), minor[sel][ok])
    if problems:
        raise DataError(problems)
    return out


def track_expenses(
    ledger: Ledger,
    levels: dict[str, Unit],
    labels: dict[str, np.ndarray],
    table: pd.DataFrame,
    expenses: pd.DataFrame | str | Path,
    budget: pd.DataFrame | str | Path | None,
) -> ExpenseTracking:
    """Expense to date, its rate on sales and the budget, per company, unit and rep."""
    names = _units(ledger, levels, labels)
    rows, n_before = read_expenses(expenses, ledger)
    first = np.datetime64(ledger.calendar.month_start(0), "D")
    level_of, code_of, problems = _resolve(rows, names, ledger.hierarchy)
    if problems:
        raise DataError(problems)
    inside = rows["date"].to_numpy(dtype="datetime64[D]") >= first
    amount = np.rint(rows["amount"].to_numpy(dtype=float) * ledger.scale).astype(np.int64)
    order = ["rep", *reversed(ledger.hierarchy), "company"]
    # Each row's unit at every level: a rep's row counts for its units above, a unit's for
    # the units above it (by its path), none below it.
    all_levels = ["company", *ledger.hierarchy, "rep"]
    spent: dict[str, np.ndarray] = {}
    for level in all_levels:
        n = (
            1
            if level == "company"
            else (len(ledger.people) if level == "rep" else len(labels[level]))
        )
        code = np.full(len(rows), -1, dtype=np.int64)
        if level == "company":
            code[inside] = 0
        for k, row_level in enumerate(order):
            at = (level_of == k) & inside
            if not at.any():
                continue
            if row_level == level:
                code[at] = code_of[at]
            elif row_level == "rep" and level != "rep":
                code[at] = levels[level].codes[code_of[at]]
            elif row_level in ledger.hierarchy and level in ledger.hierarchy:
                depth = ledger.hierarchy.index(level)
                if depth < ledger.hierarchy.index(row_level):
                    code[at] = _ancestors(labels, row_level, level, depth)[code_of[at]]
        ok = code >= 0
        total = np.zeros(n, dtype=np.int64)
        np.add.at(total, code[ok], amount[ok])
        spent[level] = total
    budgets = read_budget(budget, ledger, names) if budget is not None else {}
    weight = ledger.weight
    frame = _frame_of(ledger, table, spent, budgets, weight)
    notices = []
    if n_before:
        notices.append(
            Notice(
                "expenses-before-year",
                f"{n_before} expense row(s) dated before the fiscal year are not counted",
                count=n_before,
            )
        )
    if budget is None:
        notices.append(
            Notice(
                "no-expense-budget",
                "no expense budget (expense_budget.csv beside the targets, or "
                "--expense-budget): expenses and their rate on sales are shown without one",
            )
        )
    else:
        budgeted = frame["level"].isin(list(budgets))
        spent_without = frame[budgeted & (frame["expense_to_date"] > 0) & (frame["budget"] == 0)]
        if len(spent_without):
            notices.append(
                Notice(
                    "expense-without-budget",
                    f"{len(spent_without)} unit(s) spent with no budget (e.g. "
                    f"{', '.join(spent_without['unit'].astype(str).head(3))})",
                    count=len(spent_without),
                )
            )
    categories = (
        pd.Series(amount[inside], index=rows["category"].to_numpy()[inside]).groupby(level=0).sum()
    )
    summary = _summary(ledger, frame, categories, budget is not None)
    return ExpenseTracking(frame, summary, notices)


def _ancestors(labels, level: str, above: str, depth: int) -> np.ndarray:
    """Each unit of ``level``'s unit at ``above`` (``depth`` in the hierarchy), by path."""
    lookup = pd.Series(np.arange(len(labels[above])), index=[str(p) for p in labels[above]])
    prefix = pd.Series([str(p) for p in labels[level]]).str.split("/").str[: depth + 1]
    return lookup.reindex(prefix.str.join("/")).fillna(-1).to_numpy(dtype=np.int64)


def _frame_of(ledger, table, spent, budgets, weight) -> pd.DataFrame:
    scale = ledger.scale
    parts = []
    for level in ("company", *ledger.hierarchy, "rep"):
        rows = table[table["level"] == level].reset_index(drop=True)
        head = rows[["level", "unit", *ledger.hierarchy, "rep_id"]].copy()
        sales = np.rint(rows["actual_to_date"].to_numpy(dtype=float) * scale).astype(np.int64)
        expense = spent[level]
        head["expense_to_date"] = expense / scale
        head["sales_to_date"] = sales / scale
        with np.errstate(divide="ignore", invalid="ignore"):
            head["expense_rate"] = np.where(
                sales > 0, expense / np.where(sales > 0, sales, 1), np.nan
            )
        months = budgets.get(level)
        if months is not None and len(months) < len(rows):
            months = np.vstack([months, np.zeros((len(rows) - len(months), 12), dtype=np.int64)])
        if months is None:
            nan = np.full(len(rows), np.nan)
            head["budget"], head["budget_to_date"], head["budget_rate"] = nan, nan, nan
            head["budget_used"], head["variance_to_date"] = nan, nan
            head["over_budget"] = False
        else:
            year = months.sum(axis=1)
            to_date = months[:, weight >= 1].sum(axis=1) + np.rint(
                months[:, (weight > 0) & (weight < 1)] @ weight[(weight > 0) & (weight < 1)]
            ).astype(np.int64)
            target = np.rint(rows["target"].to_numpy(dtype=float) * scale).astype(np.int64)
            head["budget"] = year / scale
            head["budget_to_date"] = to_date / scale
            with np.errstate(divide="ignore", invalid="ignore"):
                head["budget_rate"] = np.where(
                    target > 0, year / np.where(target > 0, target, 1), np.nan
                )
                head["budget_used"] = np.where(
                    year > 0, expense / np.where(year > 0, year, 1), np.nan
                )
            head["variance_to_date"] = (to_date - expense) / scale
            head["over_budget"] = expense > to_date
        parts.append(head)
    out = pd.concat(parts, ignore_index=True)
    for c in ("expense_rate", "budget_rate", "budget_used"):
        out[c] = out[c].astype(float).round(6)
    return out


def _summary(ledger, frame, categories, has_budget: bool) -> dict[str, Any]:
    company = frame[frame["level"] == "company"].iloc[0]

    def num(x):
        return None if pd.isna(x) else round(float(x), 6)

    out: dict[str, Any] = {
        "expense_to_date": round(float(company["expense_to_date"]), ledger.minor_unit),
        "sales_to_date": round(float(company["sales_to_date"]), ledger.minor_unit),
        "expense_rate": num(company["expense_rate"]),
        "has_budget": has_budget,
        "budget": num(company["budget"]),
        "budget_to_date": num(company["budget_to_date"]),
        "budget_rate": num(company["budget_rate"]),
        "n_over_budget": {
            str(level): int(group["over_budget"].sum())
            for level, group in frame.groupby("level", sort=False)
            if level != "company"
        },
        "by_category": {
            str(k) or "(none)": round(int(v) / ledger.scale, ledger.minor_unit)
            for k, v in categories.items()
        },
    }
    return out

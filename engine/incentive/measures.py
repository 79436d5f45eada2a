"""The measures table: non-revenue measures per person and day, for KPI components.

``measures.csv`` (or a DataFrame) has one row per recorded value:

- ``rep_id``: the person;
- ``date``: the day the value belongs to (``YYYY-MM-DD``); it counts in the pay period
  holding it, and rows outside the plan year are left out (counted in a warning);
- ``measure``: the measure's name, as KPI components name it (``new_a_accounts``);
- ``value``: a count (meetings held, accounts won) or a ratio's numerator (collected);
- ``denominator``: a ratio's denominator (invoiced, sales): required on the rows of a
  measure a component reads as a ratio, empty for counts.

Rows of measures the plan does not read (another plan's) are left out and counted in a
warning; a measure a component reads that has no row at all is an error. Tracking at a
date (``until``) leaves out the rows dated after it the same way: the table is the
company's record of the year (``tables: measures:`` in company.yaml), read at any date.

Values are read to millionths. A window's count is the sum of its values; its ratio is
the sum of the values over the sum of the denominators (exact year-to-date ratios, not
averages of monthly ratios). Every bad row is a located error: an unknown person, a
bad cell, a ratio row without a denominator.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from attain.checks import check_columns, missing_denominators, unknown_references
from attain.errors import DataError, Problem
from attain.incentive.calendar import Calendar
from attain.tables import TABLES

if TYPE_CHECKING:
    from attain.data import Company

__all__ = ["MEASURE_COLUMNS", "Measures", "company_measures", "read_measures"]

#: The measures table's columns (docs/data.md#measures): a company's table, or a file of
#: its own (``--measures``), is checked against the same list.
MEASURE_COLUMNS = TABLES["measures"]


@dataclass(frozen=True)
class Measures:
    """Each measure per person × slot, exact: sums of values and of denominators in
    millionths, and how many rows each cell holds."""

    names: tuple[str, ...]
    value: np.ndarray  # int64[M, R, S] millionths
    denominator: np.ndarray  # int64[M, R, S] millionths
    rows: np.ndarray  # int64[M, R, S] rows recorded
    n_outside: int = 0  # rows dated outside the plan year (not counted)
    n_unread: int = 0  # rows of measures no component of the plan reads (not counted)
    source: str = "<measures>"
    n_after: int = 0  # rows dated after ``until`` (tracking at a date: not counted)
    until: dt.date | None = None
    n_not_in_role: int = 0  # rows on days their person holds no participant role (dated org)

    def of(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        if name not in self.names:
            return None
        i = self.names.index(name)
        return self.value[i], self.denominator[i], self.rows[i]


def company_measures(company: Company | None) -> pd.DataFrame | Path | None:
    """The measures table a company names (``tables: measures:`` in company.yaml): its
    checked frame when it was loaded, else the file (read only when a plan needs it)."""
    if company is None:
        return None
    if company.measures is not None:
        return company.measures
    name = company.rules.tables.measures
    if name is None or company.root is None:
        return None
    return Path(company.root) / name


def _frame(source: pd.DataFrame | str | Path) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source
    from attain.data import read_table

    return read_table(source)


def read_measures(
    source: pd.DataFrame | str | Path | None,
    needed: dict[str, str],
    people: pd.DataFrame,
    calendar: Calendar,
    where: dict[str, str] | None = None,
    plan: str = "<plan>",
    until: dt.date | None = None,
    dated: pd.DataFrame | None = None,
    roles: Sequence[str] | None = None,
) -> Measures | None:
    """Read and check the measures table for the measures ``needed`` (name → ``sum`` or
    ``ratio``, from the plan's KPI components; ``where`` gives each the plan path that names
    it, for a located error when the table is missing or lacks it). None when no component
    needs measures. ``until``: rows dated after it are left out (and counted), as tracking
    at a date reads the year's table. ``dated`` (a dated org's rows) and ``roles`` (the
    plan's participant roles): rows dated on a day their person is not in the org in one of
    the roles (after a leaver's ``end_date``, before a joiner's ``start_date``) are left out
    and counted, as such bookings are not credited."""
    where = where or {}
    if not needed:
        return None
    if source is None:
        name, path = next(iter(needed)), next(iter(where.values()), "components")
        raise DataError(
            [
                Problem(
                    plan,
                    f"component reads measure `{name}`, but no measures table was given",
                    path=path,
                    code="missing-measures",
                    hint="name the measures table (rep_id, date, measure, value, denominator) "
                    "in company.yaml (`tables: measures: measures.csv`), or give "
                    "`--measures measures.csv` (measures= in Python)",
                )
            ]
        )
    frame = _frame(source)
    src, offset = frame.attrs.get("source", "<measures>"), frame.attrs.get("offset", 1)
    if isinstance(source, str | Path) and src == "<measures>":
        src = str(source)
    typed, problems = check_columns(frame, MEASURE_COLUMNS, src, offset)
    if problems:
        raise DataError(problems)
    assert typed is not None
    typed.attrs.update(source=src, offset=offset)
    problems = unknown_references(
        typed,
        "rep_id",
        pd.Index(people["rep_id"]),
        "unknown person",
        "every person in the measures table must be in the org (or have targets)",
    )
    names = tuple(sorted(needed))
    problems += missing_denominators(typed, [n for n in names if needed[n] == "ratio"])
    if problems:
        raise DataError(problems)
    present = set(pd.unique(typed["measure"]))
    missing = [n for n in names if n not in present]
    if missing and len(typed):
        raise DataError(
            [
                Problem(
                    src,
                    f"no row of measure `{n}`, which a KPI component reads",
                    field="measure",
                    code="unknown-measure",
                    hint="measures in the table: " + ", ".join(sorted(map(str, present))),
                )
                for n in missing
            ]
        )
    day = typed["date"].to_numpy(dtype="datetime64[D]")
    slot = calendar.month_index(day)
    read = typed["measure"].isin(names).to_numpy()
    after = day > np.datetime64(until, "D") if until is not None else np.zeros(len(day), dtype=bool)
    inside = (slot >= 0) & read & ~after
    n_not_held = 0
    if dated is not None:
        from attain.incentive.proration import held_on

        who = pd.Index(people["rep_id"]).get_indexer(typed["rep_id"])
        held = held_on(dated, people["rep_id"].to_numpy(), who, day.astype(np.int64), roles)
        n_not_held = int((inside & ~held).sum())
        inside &= held
    person = pd.Index(people["rep_id"]).get_indexer(typed["rep_id"])[inside]
    m = pd.Index(names).get_indexer(typed["measure"])[inside]
    s = slot[inside]
    shape = (len(names), len(people), calendar.n_slots)
    value = np.zeros(shape, dtype=np.int64)
    den = np.zeros(shape, dtype=np.int64)
    rows = np.zeros(shape, dtype=np.int64)
    v = np.rint(typed["value"].to_numpy(dtype=float)[inside] * 1e6).astype(np.int64)
    d = typed["denominator"].to_numpy(dtype=float)[inside]
    d = np.rint(np.nan_to_num(d) * 1e6).astype(np.int64)
    np.add.at(value, (m, person, s), v)
    np.add.at(den, (m, person, s), d)
    np.add.at(rows, (m, person, s), 1)
    n_outside = int(((slot < 0) & read).sum())
    n_after = int(((slot >= 0) & read & after).sum())
    return Measures(
        names, value, den, rows, n_outside, int((~read).sum()), src, n_after, until, n_not_held
    )

"""The inputs of a payout run, read and checked: people, targets and deals as arrays.

Targets come from the allocation's ``targets.csv`` (``rep_id, period, product,
target``; ``period`` is ``YYYY-MM``, fiscal ``YYYY-Qn`` or ``YYYY``); a quarter's
or year's target is spread evenly over its months, to the minor unit (the
remainder goes to the first months). Deals are the company's ``actuals`` table.
Both are checked by :mod:`attain.data`, so every bad cell is reported with its
file, row and column.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from attain.checks import (  # the same checks as company data
    check_columns,
    check_minor_units,
    check_splits,
    deal_codes,
    unknown_references,
)
from attain.data import Company, company_from_frames, load_table, read_checked_table
from attain.errors import DataError, Problem
from attain.incentive.calendar import Calendar
from attain.tables import TABLES, Column

__all__ = ["TARGET_COLUMNS", "Book", "Deals", "read_book", "read_deals", "read_targets"]

TARGET_COLUMNS = (
    Column("rep_id", "id", "The rep.", file_name=True),
    Column("period", "text", "`YYYY-MM`, fiscal `YYYY-Qn`, or fiscal year `YYYY`."),
    Column("product", "id", "The product line."),
    Column("target", "number", "The target (currency).", min=0),
)


@dataclass(frozen=True)
class Deals:
    """Deal rows as arrays (one entry per rep's share of a deal)."""

    person: np.ndarray  # int: index into Book.people
    month: np.ndarray  # int: fiscal month, -1 outside the year
    product: np.ndarray  # int: index into Book.products
    day: np.ndarray  # int: days since 1970-01-01
    amount: np.ndarray  # int64: the whole deal, minor units
    split: np.ndarray  # int64: the rep's share, millionths
    quantity: np.ndarray  # float64
    new_customer: np.ndarray  # bool
    cancellation: np.ndarray  # bool
    order: np.ndarray  # int: row order, breaks ties of the same day
    deal: np.ndarray  # int: code of (deal_id, type); the rows of one split deal share it
    ids: np.ndarray | None = None  # deal_id of each code // 2
    customer: np.ndarray | None = None  # a `customer` or `account_id` column, if given
    source: str = "<actuals>"  # where the rows came from: row i is row i + offset there
    offset: int = 1
    table: pd.DataFrame | None = None  # the checked rows, for columns a plan names (paid_date)


@dataclass(frozen=True)
class Book:
    """Everything a payout run reads, indexed: people × fiscal months × products."""

    calendar: Calendar
    products: tuple[str, ...]
    minor_unit: int
    people: pd.DataFrame  # rep_id, role, hierarchy and other org columns; row i = person i
    targets: np.ndarray  # int64[R, S, K] per slot (fiscal month), minor units
    deals: Deals
    dated: pd.DataFrame | None = None  # a dated org's every row (Company.org_dated), or None

    @property
    def rep_ids(self) -> np.ndarray:
        return self.people["rep_id"].to_numpy()


def read_book(
    targets: pd.DataFrame | str | Path,
    actuals: pd.DataFrame | str | Path | None,
    company: Company | None,
    fiscal_year: int | None,
    period: str,
    minor_unit: int,
    *,
    checked: bool = False,
) -> Book:
    """Read and check targets and actuals against the company (if any). A file is read,
    typed and checked block by block (:func:`attain.data.read_checked_table`).

    ``checked``: ``targets`` and ``actuals`` are frames :func:`read_targets` and
    :func:`read_deals` returned for this company (their checks are not run twice).

    With a company, the two files are read and indexed side by side on two threads: the
    part of the work that runs without the GIL (pyarrow's parser and compute kernels,
    numpy) overlaps — at 100,000 reps about 1 s of 15, since pandas' factorize of text
    and the checks hold it. Every problem of the targets is raised before one of the
    deals, whichever finishes first."""
    unit = _Unit(minor_unit, *_unit_origin(company, minor_unit))
    scale = 10**minor_unit
    if company is None:  # people, products and the year come from both tables
        typed = _typed_targets(targets, checked, unit)
        deals_frame = _typed_deals(actuals, None, checked, unit)
        calendar = Calendar(fiscal_year or _year_of(typed), 1, period)
        people = _people(typed, deals_frame)
        products = _products(typed, deals_frame)
        return Book(
            calendar=calendar,
            products=products,
            minor_unit=minor_unit,
            people=people,
            targets=_target_array(typed, calendar, people, products, scale),
            deals=_deals(deals_frame, calendar, people, products, scale),
        )
    rules = company.rules
    calendar = Calendar.of_company(rules, fiscal_year, period)
    people = company.org.reset_index(drop=True)
    products = tuple(rules.products)

    def target_side() -> np.ndarray:
        typed = _typed_targets(targets, checked, unit)
        # Each target's person, found once for the check and the array (millions of rows).
        person = pd.Index(people["rep_id"]).get_indexer(typed["rep_id"])
        _check_people(typed, people, person >= 0)
        return _target_array(typed, calendar, people, products, scale, person)

    def deal_side() -> Deals:
        frame = _typed_deals(actuals, company, checked, unit)
        return _deals(frame, calendar, people, products, scale)

    both_files = not isinstance(targets, pd.DataFrame) and isinstance(actuals, str | Path)
    target_array, deals = _side_by_side(target_side, deal_side, both_files)
    return Book(
        calendar=calendar,
        products=products,
        minor_unit=minor_unit,
        people=people,
        targets=target_array,
        deals=deals,
        dated=company.org_dated,
    )


@dataclass(frozen=True)
class _Unit:
    """The minor unit money is computed in, and how a problem names it."""

    digits: int
    name: str
    why: str


def _typed_targets(targets: pd.DataFrame | str | Path, checked: bool, unit: _Unit) -> pd.DataFrame:
    """The targets table typed and checked; a target between two minor units is refused
    (it would be rounded)."""
    typed = targets if checked and isinstance(targets, pd.DataFrame) else read_targets(targets)
    if problems := check_minor_units(typed, "target", unit.digits, unit.name, unit.why):
        raise DataError(problems)
    return typed


def _typed_deals(
    actuals: pd.DataFrame | str | Path | None, company: Company | None, checked: bool, unit: _Unit
) -> pd.DataFrame:
    """The deals table typed and checked (against the company's org, if any)."""
    frame = (
        actuals if checked and isinstance(actuals, pd.DataFrame) else read_deals(actuals, company)
    )
    # With a company, amounts were checked at its minor unit when it was loaded; a finer
    # unit holds them exactly, a coarser one (the plan's) must not round them.
    coarser = company is None or unit.digits < company.rules.minor_unit
    if coarser and (
        problems := check_minor_units(frame, "amount", unit.digits, unit.name, unit.why)
    ):
        raise DataError(problems)
    return frame


def _side_by_side(first, second, parallel: bool) -> tuple[Any, Any]:
    """``first()`` and ``second()``, on two threads when ``parallel``; an error of
    ``first`` is raised before one of ``second``, as when they run in turn."""
    if not parallel:
        return first(), second()
    with ThreadPoolExecutor(max_workers=1) as pool:
        later = pool.submit(second)
        try:
            a = first()
        finally:
            wait([later])
        return a, later.result()


def _unit_origin(company: Company | None, minor_unit: int) -> tuple[str, str]:
    """How a minor-unit problem names the unit: the currency's, or the plan's when it
    differs from the company's (``rounding.minor_unit``)."""
    if company is None or company.rules.minor_unit == minor_unit:
        return "the currency's minor unit", ""
    return "the plan's minor unit", (
        f"the plan's rounding.minor_unit is {minor_unit}, the company's minor_unit "
        f"{company.rules.minor_unit} (company.yaml): money is computed in the plan's unit"
    )


def read_targets(targets: pd.DataFrame | str | Path) -> pd.DataFrame:
    """A targets table typed and checked cell by cell (:data:`TARGET_COLUMNS`; other
    columns kept as text); a file is read block by block."""
    if not isinstance(targets, pd.DataFrame):
        return read_checked_table(targets, TARGET_COLUMNS)
    place = _place(targets, "<targets>")
    typed, problems = check_columns(targets, TARGET_COLUMNS, *place)
    if problems or typed is None:
        raise DataError(problems)
    typed.attrs.update(source=place[0], offset=place[1])
    return typed


def _place(frame: pd.DataFrame, default: str) -> tuple[str, int]:
    return frame.attrs.get("source", default), frame.attrs.get("offset", 1)


def _year_of(targets: pd.DataFrame) -> int:
    years = targets["period"].astype(str).str.slice(0, 4)
    years = years[years.str.fullmatch(r"\d{4}")]
    if years.empty:
        source, _ = _place(targets, "<targets>")
        raise DataError([Problem(source, "no period names a fiscal year", field="period")])
    return int(years.min())


def read_deals(actuals: pd.DataFrame | str | Path | None, company: Company | None) -> pd.DataFrame:
    """A deals table typed and checked as the company's ``actuals`` are: every cell, and
    with a company its references, keys and splits (the company's own deals when
    ``actuals`` is None). A file is read block by block."""
    if actuals is None:
        if company is None or company.actuals is None:
            return _check_actuals(pd.DataFrame({c.name: [] for c in TABLES["actuals"]}))
        return company.actuals
    if company is not None and not isinstance(actuals, pd.DataFrame):
        return load_table(actuals, "actuals", company)
    if company is not None:
        return company_from_frames(company.rules, org=company.org, actuals=actuals).actuals
    if not isinstance(actuals, pd.DataFrame):
        typed = read_checked_table(actuals, TABLES["actuals"])
        return _check_actuals(typed, typed=True)
    return _check_actuals(actuals)


def _check_actuals(frame: pd.DataFrame, typed: bool = False) -> pd.DataFrame:
    """Without a company: the cell checks (unless ``typed``: done) and split checks of
    attain.data."""
    source, offset = _place(frame, "<actuals>")
    if not typed:
        checked, problems = check_columns(frame, TABLES["actuals"], source, offset)
        if problems or checked is None:
            raise DataError(problems)
        frame = checked
        frame.attrs.update(source=source, offset=offset)
    problems = check_splits(frame, deal_codes(frame)[0]) if len(frame) else []
    if problems:
        raise DataError(problems)
    return frame


def _check_people(targets: pd.DataFrame, people: pd.DataFrame, found: np.ndarray) -> None:
    """Every rep with a target is in the org (``found``: bool per target row)."""
    problems = unknown_references(
        targets,
        "rep_id",
        pd.Index(people["rep_id"]),
        "unknown rep",
        "every rep with a target must be in the org table",
        found,
    )
    if problems:
        raise DataError(problems)


def _people(targets: pd.DataFrame, deals: pd.DataFrame) -> pd.DataFrame:
    """Without an org table: people are those with targets or deals; org columns come
    from the targets."""
    extra = [c for c in targets.columns if c not in ("period", "product", "target", "challenge")]
    people = targets[extra].drop_duplicates("rep_id", keep="first")
    more = pd.DataFrame({"rep_id": sorted(set(deals["rep_id"]) - set(people["rep_id"]))})
    people = pd.concat([people, more], ignore_index=True)
    if "role" not in people.columns:
        people["role"] = "rep"
    return people.fillna("").reset_index(drop=True)


def _products(targets: pd.DataFrame, deals: pd.DataFrame) -> tuple[str, ...]:
    return tuple(sorted(set(pd.unique(targets["product"])) | set(pd.unique(deals["product"]))))


def _row_problems(frame: pd.DataFrame, rows: np.ndarray, field: str, message) -> list[Problem]:
    source, offset = _place(frame, "<targets>")
    return [
        Problem(source, message(i), row=int(i) + offset, field=field, code="value")
        for i in rows[:25]
    ]


def _target_array(
    targets: pd.DataFrame,
    calendar: Calendar,
    people: pd.DataFrame,
    products: tuple[str, ...],
    scale: int,
    person: np.ndarray | None = None,
) -> np.ndarray:
    """Targets as int64[R, S, K] minor units per slot; rejects bad periods, products and
    overlaps (``person``: each row's index in ``people``, if known)."""
    n_rep, n_prod = len(people), len(products)
    out = np.zeros((n_rep, calendar.n_slots, n_prod), dtype=np.int64)
    if targets.empty:
        return out
    labels = targets["period"].astype(str)
    weighted = {label: calendar.slots_of_label(label) for label in labels.unique()}
    spans = {k: None if v is None else [s for s, _ in v] for k, v in weighted.items()}
    bad = np.flatnonzero(labels.isin([x for x, m in spans.items() if m is None]).to_numpy())
    problems = _row_problems(
        targets,
        bad,
        "period",
        lambda i: (
            f"period {labels.iloc[i]!r} is not a month (YYYY-MM), quarter (YYYY-Qn) "
            f"or year (YYYY) of fiscal year {calendar.fiscal_year}"
            + (
                f" or one of its pay periods ({calendar.period_labels()[0]}, …)"
                if calendar.is_sub_monthly
                else ""
            )
        ),
    )
    prod = pd.Index(products).get_indexer(targets["product"])
    problems += _row_problems(
        targets,
        np.flatnonzero(prod < 0),
        "product",
        lambda i: f"unknown product {targets['product'].iloc[i]!r}",
    )
    if problems:
        raise DataError(problems)
    if person is None:
        person = pd.Index(people["rep_id"]).get_indexer(targets["rep_id"])
    minor = np.rint(targets["target"].to_numpy(dtype=float) * scale).astype(np.int64)
    count = np.zeros_like(out)
    # Sums at flat cell numbers: numpy's unbuffered add is much faster on one axis.
    # (mode="wrap": an index of -1 counts from the end, as indexing the array does.)
    flat_out, flat_count = out.reshape(-1), count.reshape(-1)
    code, uniques = pd.factorize(labels)
    which = {str(label): i for i, label in enumerate(uniques)}
    for label, slots in weighted.items():  # a handful of distinct labels
        assert slots is not None  # bad labels were refused above
        rows = np.flatnonzero(code == which[str(label)])
        weight = np.array([w for _, w in slots], dtype=np.int64)
        shares = minor[rows, None] * weight[None, :] // weight.sum()
        rest = minor[rows] - shares.sum(axis=1)  # < len(slots): to the first slots
        for j, (m, _) in enumerate(slots):
            cell = np.ravel_multi_index(
                (person[rows], np.full(len(rows), m), prod[rows]), out.shape, mode="wrap"
            )
            np.add.at(flat_out, cell, shares[:, j] + (j < rest))
            np.add.at(flat_count, cell, slots[j][1])
    # a slot covered by more than its days (weight 1 per month) is covered twice
    full = np.ones(calendar.n_slots, dtype=np.int64)
    if calendar.is_sub_monthly:
        full = calendar.slot_days()
    _check_overlap(targets, count > full[None, :, None], person, prod, spans, labels)
    return out


def _check_overlap(targets, twice, person, prod, spans, labels) -> None:
    if not twice.any():
        return
    first = [m[0] for m in (spans[x] for x in labels)]
    hit = twice[person, np.array(first), prod]
    rows = np.flatnonzero(hit)
    if not len(rows):  # covered twice in a later month of a span
        rows = np.array([0])
    raise DataError(
        _row_problems(
            targets,
            rows,
            "period",
            lambda i: (
                f"rep {targets['rep_id'].iloc[i]!r}, product "
                f"{targets['product'].iloc[i]!r}: this period's target overlaps another row"
            ),
        )
    )


def _deals(
    deals: pd.DataFrame,
    calendar: Calendar,
    people: pd.DataFrame,
    products: tuple[str, ...],
    scale: int,
) -> Deals:
    dates = deals["date"].to_numpy(dtype="datetime64[D]")
    codes, ids = deal_codes(deals)  # the checks' (a checked id is never missing)
    cancellation = (deals["type"] == "cancellation").to_numpy()
    who = next((c for c in ("customer", "account_id") if c in deals.columns), None)
    source, offset = _place(deals, "<actuals>")
    return Deals(
        person=pd.Index(people["rep_id"]).get_indexer(deals["rep_id"]),
        month=calendar.month_index(dates),
        product=pd.Index(products).get_indexer(deals["product"]),
        day=dates.astype(np.int64),
        amount=np.rint(deals["amount"].to_numpy(dtype=float) * scale).astype(np.int64),
        split=np.rint(deals["split"].to_numpy(dtype=float) * 1e6).astype(np.int64),
        quantity=deals["quantity"].to_numpy(dtype=float),
        new_customer=deals["new_customer"].to_numpy(dtype=bool),
        cancellation=cancellation,
        order=np.arange(len(deals)),
        deal=2 * codes + cancellation,
        ids=ids,
        customer=None if who is None else deals[who].astype(str).to_numpy(dtype=object),
        source=source,
        offset=offset,
        table=deals,
    )

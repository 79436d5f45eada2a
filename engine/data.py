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
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from attain.checks import (
    check_columns,
    check_minor_units,
    check_references,
    is_dated,
)
from attain.errors import DataError, Problem
from attain.load import load_rules
from attain.progress import Progress, Steps
from attain.schema import CompanyRules
from attain.tables import DATED_ORG, TABLES, table_columns
from attain.tables_read import (
    CSV_BLOCK_BYTES,
    MAX_TABLE_BYTES,
    read_checked_table,
    read_table,
    read_typed,
)

__all__ = [
    "CSV_BLOCK_BYTES",
    "MAX_TABLE_BYTES",
    "PLANNING_TABLES",
    "Company",
    "company_from_frames",
    "derive_potential",
    "load_company",
    "load_table",
    "read_checked_table",
    "read_table",
]


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
    measures: pd.DataFrame | None = None
    """The measures table KPI components read (``tables: measures:``), when loaded."""
    root: Path | None = None
    sources: Mapping[str, str] = field(default_factory=dict)
    org_dated: pd.DataFrame | None = None
    """A dated org's every row (``start_date``, ``end_date``, ``open_headcount``); ``org``
    then has each person's latest row. ``None`` for an org without dates."""

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
        if self.measures is not None:
            out["n_measure_rows"] = len(self.measures)
            out["measures"] = sorted(map(str, pd.unique(self.measures["measure"])))
        return out


#: The company tables planning reads (an allocation, a territory alignment): the deals
#: and the measures are for payouts, tracking and re-plans, which read their own, so a
#: plan neither reads nor checks them (at 10,000 sample reps the company reads in 1.3 s
#: instead of 2.2 s).
PLANNING_TABLES = ("org", "accounts", "potential", "history")


def load_company(
    path: str | Path, progress: Progress | None = None, tables: Collection[str] | None = None
) -> Company:
    """Load a data folder (or its ``company.yaml``) and check every table.

    ``tables`` names the tables to read (the org table always is; by default every
    table the manifest names): a payout needs the org, not the accounts or the
    history, and reads its deals from their own file. ``progress(done, total)`` is
    called as each table is read, and once checked.
    """
    path = Path(path)
    manifest = path / "company.yaml" if path.is_dir() else path
    if path.is_dir() and not manifest.exists():
        raise DataError([Problem(str(path), "no company.yaml in this folder", code="no-manifest")])
    rules = cast(CompanyRules, load_rules(manifest, kind="company"))
    root = manifest.parent
    checked: dict[str, pd.DataFrame] = {}
    sources: dict[str, str] = {}
    problems: list[Problem] = []
    named = {table: name for table, name in rules.tables.model_dump().items() if name}
    if tables is not None:
        unknown = set(tables) - set(TABLES)
        if unknown:
            raise ValueError(f"unknown tables: {sorted(unknown)}")
        named = {t: name for t, name in named.items() if t == "org" or t in tables}
    steps = Steps(progress, total=len(named) + 1)
    unreadable: list[Problem] = []
    for table in TABLES:  # in the order their problems are reported
        if table not in named:
            continue
        file = Path(os.path.normpath(root / named[table]))
        sources[table] = str(file)
        if not file.exists():  # the reader's message does not know who named the file
            message = "file not found (named in company.yaml)"
            unreadable.append(Problem(str(file), message, code="missing-file"))
            steps.advance()
            continue
        try:  # read and typed block by block: the table never exists whole as text
            typed, found = read_typed(file, table_columns(table, rules.hierarchy))
            if table == "org" and typed is not None:
                typed, found = _type_dated(typed, found)
        except DataError as exc:
            unreadable.extend(exc.problems)
        else:
            problems.extend(found)
            if typed is not None:
                checked[table] = typed
        steps.advance()
    if unreadable:  # a file that cannot be read: its problems alone
        raise DataError(unreadable)
    if "org" not in named:
        raise DataError(
            [
                Problem(
                    sources.get("org", "<org>"), "the org table is required", code="missing-table"
                )
            ]
        )
    company = _finish_company(rules, checked, problems, sources, root)
    steps.advance()
    return company


def load_table(path: str | Path, table: str, company: Company) -> pd.DataFrame:
    """One of ``company``'s tables (``"actuals"``) from another file, checked as
    :func:`load_company` checks it: every cell, keys, references to the company's
    org and products. A CSV file is read and typed block by block."""
    typed, problems = read_typed(Path(path), table_columns(table, company.rules.hierarchy))
    if problems or typed is None:
        raise DataError(problems)
    checked = {"org": company.org_dated if company.org_dated is not None else company.org}
    checked[table] = typed
    finished = _finish_company(company.rules, checked, [], {}, company.root)
    return cast(pd.DataFrame, getattr(finished, table))


def company_from_frames(rules: CompanyRules | Mapping, **frames: pd.DataFrame) -> Company:
    """Check DataFrames as a company's tables (``org=``, ``accounts=``, ...)."""
    if not isinstance(rules, CompanyRules):
        rules = cast(CompanyRules, load_rules(rules, kind="company"))
    unknown = set(frames) - set(TABLES)
    if unknown:
        raise TypeError(f"unknown tables: {sorted(unknown)}")
    sources = {table: f"<{table}>" for table in frames}
    return _check_company(
        rules, {k: v for k, v in frames.items() if v is not None}, sources, None, offset=1
    )


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
        if typed is not None:
            typed.attrs.update(source=source, offset=table_offset)
            if table == "org":
                typed, found = _type_dated(typed, found)
        problems.extend(found)
        if typed is not None:
            checked[table] = typed
    return _finish_company(rules, checked, problems, sources, root)


def _finish_company(
    rules: CompanyRules,
    checked: dict[str, pd.DataFrame],
    problems: list[Problem],
    sources: Mapping[str, str],
    root: Path | None,
) -> Company:
    """The checks across a company's typed tables (``problems``: their cell problems so
    far), and the company they make: a dated org's rows, references, keys, splits,
    minor units; tiers and potential."""
    problems = list(problems)
    if not problems and "org" in checked:
        problems.extend(check_references(rules, checked))
    if "actuals" in checked:
        problems.extend(check_minor_units(checked["actuals"], "amount", rules.minor_unit))
    if problems:
        raise DataError(problems)
    accounts = _with_tiers(checked["accounts"], rules) if "accounts" in checked else None
    potential = checked.get("potential")
    if potential is None and accounts is not None:
        potential = derive_potential(accounts, checked.get("history"), rules.products)
    org, org_dated = checked["org"], None
    if is_dated(org):  # one row per person (the latest), and every dated row beside it
        org_dated = org
        latest = org.sort_values(
            ["rep_id", "start_date"], kind="stable", na_position="first"
        ).drop_duplicates("rep_id", keep="last")
        org = org.loc[np.sort(latest.index)].reset_index(drop=True)
        org.attrs.update(org_dated.attrs)
    return Company(
        rules=rules,
        org=org,
        org_dated=org_dated,
        accounts=accounts,
        potential=potential,
        history=checked.get("history"),
        actuals=checked.get("actuals"),
        measures=checked.get("measures"),
        root=root,
        sources=sources,
    )


def _type_dated(
    org: pd.DataFrame, found: list[Problem]
) -> tuple[pd.DataFrame | None, list[Problem]]:
    """A dated org's date columns typed too (its other columns already are)."""
    if not is_dated(org):
        return org, found
    source, offset = org.attrs.get("source", "<org>"), org.attrs.get("offset", 1)
    typed, more = check_columns(org, DATED_ORG, source, offset)
    if typed is not None:
        typed.attrs.update(org.attrs)
    return typed, [*found, *more]


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

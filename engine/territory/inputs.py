"""Company data + territory rules → the unit and rep arrays the model is built from.

Units are the company's accounts (``unit_id`` = ``account_id``) or the rows of
the table named by ``units.file``. Every measure is a float column keyed by
its rule name (``units``, ``workload``, ``potential``, ``revenue`` or any
numeric column). Reps are the org rows selected by ``reps`` (everyone but
managers by default), sorted by id; a unit whose owner is not among them has
``owner == -1`` and must move.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from attain.checks import duplicate_keys, unknown_references
from attain.data import Company, read_table
from attain.errors import DataError, Problem, RuleFileError
from attain.schema.territory import TerritoryRules

__all__ = ["Reps", "Units", "prepare_reps", "prepare_units", "rule_error"]

#: Rule names of measures kept in columns of another name (the accounts table's); a
#: column of the rule name itself comes first.
_ALIASES = {"potential": "potential_value", "revenue": "current_revenue"}


@dataclass(frozen=True)
class Units:
    """The units to assign, as parallel arrays."""

    ids: np.ndarray
    owner_id: np.ndarray
    """The current owner's rep id (may be someone who is not a participant)."""
    owner: np.ndarray
    """Index of the current owner among the reps, -1 when not one of them."""
    frame: pd.DataFrame
    """The table the units came from, one row per unit, in the same order."""
    tier: np.ndarray | None
    lat: np.ndarray | None
    lon: np.ndarray | None

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def has_coordinates(self) -> bool:
        return self.lat is not None

    def column(self, name: str) -> str:
        """The column holding measure ``name``: the column of that name, else its alias."""
        if name in self.frame.columns:
            return name
        return _ALIASES.get(name, name)

    def measure(self, name: str, tiers: list[str] | None = None) -> np.ndarray:
        """A measure per unit (zero outside ``tiers``), exactly as the data gives it."""
        if name == "units":
            values = np.ones(self.n)
        else:
            column = self.frame[self.column(name)]
            values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
        if tiers is not None:
            values = np.where(np.isin(self.tier.astype(str), tiers), values, 0.0)
        return values

    def has_measure(self, name: str) -> bool:
        if name == "units":
            return True
        column = self.column(name)
        if column not in self.frame.columns:
            return False
        values = pd.to_numeric(self.frame[column], errors="coerce")
        return bool(values.notna().all())


@dataclass(frozen=True)
class Reps:
    """The reps who may own units, sorted by id."""

    ids: np.ndarray
    org: pd.DataFrame
    tenure: np.ndarray
    all_org: pd.DataFrame
    """The whole org table (owners who are not participants are looked up here)."""

    @property
    def n(self) -> int:
        return len(self.ids)


def rule_error(source: str, path: str, message: str, hint: str = "") -> RuleFileError:
    """A rule that only the data can refute, located at its line when the rules are a file."""
    line, column = _locate(source, path)
    return RuleFileError(
        [Problem(source, message, path=path, line=line, column=column, code="territory", hint=hint)]
    )


def _locate(source: str, path: str) -> tuple[int | None, int | None]:
    """Line and column of ``path`` (``balance[0].measure``) in the YAML file ``source``."""
    try:
        node = yaml.compose(Path(source).read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return None, None
    found = node
    for key in re.findall(r"[^.\[\]]+", path):
        if isinstance(found, yaml.MappingNode):
            found = next((v for k, v in found.value if k.value == key), None)
        elif isinstance(found, yaml.SequenceNode) and key.isdigit() and int(key) < len(found.value):
            found = found.value[int(key)]
        else:
            found = None
        if found is None:
            break
        node = found
    if node is None:
        return None, None
    return node.start_mark.line + 1, node.start_mark.column + 1


def prepare_reps(rules: TerritoryRules, company: Company, source: str) -> Reps:
    org = company.org
    mask = org_mask(org, rules.scope, "scope", source)
    if rules.reps is None:
        mask &= org["role"].to_numpy() != "manager"
    mask &= org_mask(org, rules.reps, "reps", source)
    reps = org[mask].sort_values("rep_id", kind="stable").reset_index(drop=True)
    if reps.empty:
        raise rule_error(source, "reps", "no rep matches: nobody can own a unit")
    tenure = reps["tenure_months"].to_numpy(dtype=np.float64)
    return Reps(reps["rep_id"].to_numpy(dtype=object), reps, tenure, org)


def org_mask(org: pd.DataFrame, where, path: str, source: str) -> np.ndarray:
    """Org rows whose columns match ``where`` (a value or a list of values per column)."""
    mask = np.ones(len(org), dtype=bool)
    for column, wanted in (where or {}).items():
        if column not in org.columns:
            raise rule_error(
                source,
                f"{path}.{column}",
                f"the org table has no column `{column}`",
                hint=f"the columns are: {', '.join(map(str, org.columns))}",
            )
        values = wanted if isinstance(wanted, list) else [wanted]
        mask &= org[column].astype(str).isin([str(v) for v in values]).to_numpy()
    return mask


def prepare_units(rules: TerritoryRules, company: Company, reps: Reps, source: str) -> Units:
    frame = _unit_frame(rules, company, source)
    if rules.scope:
        in_scope = company.org["rep_id"][org_mask(company.org, rules.scope, "scope", source)]
        frame = frame[frame["rep_id"].astype(str).isin(in_scope.astype(str))]
        frame = frame.reset_index(drop=True)
        if frame.empty:
            raise rule_error(source, "scope", "no unit is owned by anyone in the scope")
    owner_id = frame["rep_id"].astype(str).to_numpy(dtype=object)
    index = pd.Index(reps.ids)
    owner = index.get_indexer(owner_id)
    tier = frame["tier"].astype(str).to_numpy(dtype=object) if "tier" in frame.columns else None
    lat = lon = None
    if {"latitude", "longitude"} <= set(frame.columns):
        lat_v = pd.to_numeric(frame["latitude"], errors="coerce").to_numpy(dtype=np.float64)
        lon_v = pd.to_numeric(frame["longitude"], errors="coerce").to_numpy(dtype=np.float64)
        if np.isfinite(lat_v).all() and np.isfinite(lon_v).all():
            lat, lon = lat_v, lon_v
    ids = frame["unit_id"].astype(str).to_numpy(dtype=object)
    return Units(ids, owner_id, owner.astype(np.int64), frame, tier, lat, lon)


def _unit_frame(rules: TerritoryRules, company: Company, source: str) -> pd.DataFrame:
    if rules.units.file is None:
        if company.accounts is None:
            raise rule_error(
                source,
                "units",
                "the company has no accounts table and no `units.file` is given",
                hint="name an accounts table in company.yaml, or set `units.file`",
            )
        frame = company.accounts.rename(columns={"account_id": "unit_id"})
        return frame.sort_values("unit_id", kind="stable").reset_index(drop=True)
    frame = read_data_table(company, rules.units.file)
    _require(frame, ("unit_id", "rep_id"))
    _check_unit_table(frame, company)
    frame = frame.copy()
    frame["unit_id"] = frame["unit_id"].astype(str).str.strip()
    frame["rep_id"] = frame["rep_id"].astype(str).str.strip()
    return frame.sort_values("unit_id", kind="stable").reset_index(drop=True)


def read_data_table(company: Company, name: str) -> pd.DataFrame:
    """A table named in the rules, relative to the data folder."""
    path = Path(name) if company.root is None else Path(company.root) / name
    return read_table(path)


def _require(frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    source = frame.attrs.get("source", "<units>")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            [
                Problem(source, f"missing column `{m}`", field=m, code="missing-column")
                for m in missing
            ]
        )


def _check_unit_table(frame: pd.DataFrame, company: Company) -> None:
    ids = frame[["unit_id", "rep_id"]].astype(str).apply(lambda c: c.str.strip())
    ids.attrs.update(
        source=frame.attrs.get("source", "<units>"), offset=frame.attrs.get("offset", 2)
    )
    known = pd.Index(company.org["rep_id"].astype(str))
    problems = duplicate_keys(ids, ("unit_id",))
    problems += unknown_references(
        ids, "rep_id", known, "unknown rep", "add the rep to the org table"
    )
    if problems:
        raise DataError(problems)

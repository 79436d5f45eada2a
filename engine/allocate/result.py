"""The :class:`Allocation` result: DataFrames, a JSON summary, and its files.

``targets`` has one row per rep × period × product (``rep_id``, the hierarchy
columns, ``period`` as ``YYYY-MM``, ``product``, ``target``, ``challenge``);
``levels`` the rounded targets of every org level; ``explain`` why each unit's
target is what it is; ``rules`` what each rule did; ``notices`` the warnings about a result that is
valid but probably not what was meant (reps with a zero target, a band the
rounding had to cross), also listed under ``warnings`` in the summary.
:meth:`Allocation.write`
writes ``targets.csv``, ``summary.json``, ``explain.csv`` and ``targets.xlsx``
atomically; everything but the timing keys of ``summary.json`` (:data:`TIMING_KEYS`)
is byte-identical for the same inputs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from attain.allocate.xlsx import write_workbook
from attain.notices import Notice, notices_json
from attain.output import write_csv, write_json
from attain.result import ResultFiles, Summary

__all__ = ["TIMING_KEYS", "Allocation", "AllocationSummary"]

#: Keys of summary.json that vary from run to run; everything else is reproducible.
TIMING_KEYS = ("build_seconds", "solve_seconds", "round_seconds")


@dataclass(frozen=True)
class AllocationSummary(Summary):
    """summary.json of an allocation (amounts in the company's currency)."""

    OMITTED_WHEN_NONE = frozenset({"expenses", "activities"})

    status: str
    objective: float | None
    objectives: dict[str, float | None]
    """Each lexicographic level's objective value, by level name."""
    mip_gap: float
    name: str
    currency: str
    company_target: float
    total_target: float
    total_challenge: float
    level_totals: dict[str, float]
    """The rounded targets summed per org level."""
    buffer: dict[str, float]
    """The over-assignment factor per level (``rep: 1.05``: the reps' targets add up to
    105% of their team's)."""
    rounding_unit: float
    decimals: int
    solver: str
    method: str
    build_seconds: float
    solve_seconds: float
    round_seconds: float
    n_reps: int
    n_products: int
    granularity: str
    periods: list[str]
    n_variables: int
    n_constraints: int
    fairness: dict[str, Any]
    """``max_gap``, ``mean_gap``, ``ratio_min``, ``ratio_max`` … of target against fair share."""
    bent_soft_rules: list[dict[str, Any]]
    rules: list[dict[str, Any]]
    """What each rule did (the rules frame as records)."""
    warnings: list[dict[str, Any]] = field(default_factory=list)
    expenses: dict[str, Any] | None = None
    """With the rules' `expenses`: the company's budget and rate, and per level the
    budgets, targets, rates (the lowest and highest) and units capped at `max_rate`."""
    activities: dict[str, Any] | None = None
    """With the rules' `activities`: the funnel, the weeks, each activity's year total."""


@dataclass(frozen=True)
class Allocation(ResultFiles):
    """A solved allocation: targets, level targets, explanation, rule effects, summary.

    Follows the result protocol (:mod:`attain.result`): ``summary``
    (:class:`AllocationSummary`), ``frames``, ``to_json()``, ``write(out)``.
    """

    kind: ClassVar[str] = "allocation"

    targets: pd.DataFrame
    levels: dict[str, pd.DataFrame]
    explain: pd.DataFrame
    rules: pd.DataFrame
    summary: AllocationSummary
    binding: pd.DataFrame | None = None
    """Every binding or bent rule row, labelled: ``rule, kind, level, unit, row, activity,
    lower, upper, side, bent, worth_per_point`` (+ ``last_worth_per_point``)."""
    problem: Any = field(default=None, repr=False, compare=False)
    """The last level's :class:`~attain.solvers.LinearProblem` as solved (for
    :meth:`export_model`)."""
    notices: list[Notice] = field(default_factory=list)
    expense_budget: pd.DataFrame | None = None
    """With the rules' `expenses`: per unit of each budget level (and the company), the
    year and each month: ``level, unit``, the hierarchy columns, ``period`` (``year`` or
    ``YYYY-MM``), ``target``, ``expense_budget``, ``rate``, ``capped``
    (:mod:`attain.allocate.expense`)."""
    activity_targets: pd.DataFrame | None = None
    """With the rules' `activities`: per rep × ISO week × activity, the whole ``target``
    and what it comes from (:mod:`attain.allocate.activity`)."""

    @property
    def status(self) -> str:
        return self.summary["status"]

    @property
    def objective(self) -> float:
        return self.summary["objective"]

    @property
    def fairness(self) -> dict[str, Any]:
        return self.summary["fairness"]

    @property
    def frames(self) -> dict[str, pd.DataFrame]:
        """``targets``, ``explain``, ``rules``, ``binding`` (when labelled),
        ``expense_budget`` and ``activity_targets`` (when the rules have them) and each org
        level's targets as ``level_<name>``."""
        out = {"targets": self.targets, "explain": self.explain, "rules": self.rules}
        if self.binding is not None:
            out["binding"] = self.binding
        if self.expense_budget is not None:
            out["expense_budget"] = self.expense_budget
        if self.activity_targets is not None:
            out["activity_targets"] = self.activity_targets
        out.update((f"level_{name}", frame) for name, frame in self.levels.items())
        return out

    def rep_totals(self) -> pd.Series:
        return self.targets.groupby("rep_id", sort=True)["target"].sum()

    def to_dict(self, include_targets: bool = False) -> dict[str, Any]:
        out = self.summary.to_dict()
        if include_targets:
            out["targets"] = self.targets.to_dict(orient="records")
        return out

    def to_json(self, include_targets: bool = False) -> str:
        """summary.json's text (``include_targets``: with the targets as records too)."""
        if not include_targets:
            return self.summary.to_json()
        return json.dumps(self.to_dict(include_targets), indent=2, sort_keys=True, default=float)

    def write_files(self, out: Path, xlsx: bool = True) -> list[Path]:
        """Write the output files into the folder ``out`` (each atomically); returns their
        paths (:meth:`write` writes them as one output set)."""
        out = Path(out)
        decimals = self.summary.decimals
        targets = self.targets
        if decimals == 0:
            # Whole units: integers print as "%.0f" would, without a Python call per value.
            amounts = [c for c in ("target", "challenge") if c in targets]
            targets = targets.assign(**{c: np.rint(targets[c]).astype(np.int64) for c in amounts})
        paths = [
            write_csv(out / "targets.csv", targets, float_format=f"%.{decimals}f"),
            write_csv(out / "explain.csv", _rounded(self.explain)),
            write_json(out / "summary.json", self.summary.to_dict()),
        ]
        if self.expense_budget is not None:
            cents = int((self.summary.expenses or {}).get("decimals", 2))
            budget = _money(self.expense_budget, cents)
            paths.insert(1, write_csv(out / "expense_budget.csv", budget))
        if self.activity_targets is not None:
            paths.insert(1, write_csv(out / "activity_targets.csv", self.activity_targets))
        if xlsx:
            paths.append(write_workbook(out / "targets.xlsx", self))
        return paths

    def export_model(self, path: str | Path) -> Path:
        """The model as solved at the rules' last level (earlier levels held as rows), as
        MPS or LP (by the suffix)."""
        from attain.model import export_model

        return export_model(self.problem, path)

    @classmethod
    def assemble(cls, **parts: Any) -> Allocation:
        from attain.allocate.frames import build_frames

        frames = build_frames(**parts)
        notices = list(parts["rounded"].get("notices", ()))
        summary = {**frames["summary"], "warnings": notices_json(notices)}
        frames["summary"] = AllocationSummary.from_dict(summary)
        return cls(**frames, notices=notices)


def json_safe(value: Any) -> Any:
    """Plain JSON types, with floats rounded so text is stable across platforms."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        return None if not np.isfinite(v) else float(f"{v:.10g}")
    return value


def _money(frame: pd.DataFrame, decimals: int) -> pd.DataFrame:
    """The expense budget's amounts as exact text of the currency's decimals."""
    out = frame.copy()
    for column in ("target", "expense_budget"):
        out[column] = np.char.mod(f"%.{decimals}f", out[column].to_numpy(dtype=np.float64))
    return out


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    """Amounts to cents, ratios to 6 decimals: readable, and stable text."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype.kind == "f":
            digits = (
                6 if column in ("gap", "growth", "lever_per_point", "last_lever_per_point") else 2
            )
            out[column] = out[column].round(digits) + 0.0  # + 0.0 turns -0.0 into 0.0
    return out

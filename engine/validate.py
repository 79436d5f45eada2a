"""Check rule files and data folders without running anything.

:func:`validate_paths` loads every path it is given (a rule file, a data
folder, or a folder of rule files), including the data a file names, and
collects every problem rather than stopping at the first file. Allocation and
territory rules name no data folder (``attain allocate`` and ``attain
territory`` take it as ``--data``); given ``data``, their names — levels,
regions, teams, org columns, products, unit measures — are checked against
that company too, each problem at its line.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attain.errors import InputError, Problem, RuleFileError
from attain.load import load_rules
from attain.progress import Progress
from attain.schema.base import kind_of, known_org

if TYPE_CHECKING:
    from attain.data import Company
    from attain.schema import RuleModel

__all__ = ["Report", "validate_paths"]

_RULE_SUFFIXES = (".yaml", ".yml", ".json")
#: Kinds whose names (products, units) are checked against the data they name.
_DATA_AWARE_LOADERS = {
    "design": "attain.design.api:check_design",
    "plan": "attain.incentive.api:check_plan",
    "scenario": "attain.simulate.setup:load_scenario",
}
#: Kinds that take their company from outside (``--data``): what checks them against it.
_DATA_CHECKS = {
    "allocation": "attain.allocate.inputs:prepare",
    "territory": "attain.territory.align:check_data",
}


def _function(target: str) -> Callable[..., Any]:
    """The checker a kind needs, imported when a file of that kind is met: validating a
    plan does not import the allocation and territory engines."""
    module, _, name = target.partition(":")
    function: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return function


def _org_names(company: Company) -> Any:
    """The names allocation rules refer to (`attain.allocate.inputs.org_names`), imported
    only when a company is given."""
    from attain.allocate.inputs import org_names

    return org_names(company)


def _load_company(path: str | Path, progress: Progress | None) -> Company:
    """`attain.data.load_company`, imported on first use (it brings pandas)."""
    from attain.data import load_company as load

    return load(path, progress=progress)


@dataclass
class Report:
    """What :func:`validate_paths` found: the files that passed and every problem."""

    checked: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    summaries: dict[str, dict[str, object]] = field(default_factory=dict)
    form_only: list[str] = field(default_factory=list)
    """Allocation and territory files checked without a company: their form and names
    only, not whether the regions, columns or products they name exist."""

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_paths(
    paths: list[str | Path], data: str | Path | None = None, progress: Progress | None = None
) -> Report:
    """Validate rule files and data folders; never raises for bad input.

    ``data``: a company folder to check allocation and territory rules against.
    ``progress(done, total)``: called as each company's tables are read and checked.
    """
    report = Report()
    company = _company(Path(data), report, progress) if data is not None else None
    for path in map(Path, paths):
        for target in _targets(path, report):
            _validate_one(target, report, company, progress)
    return report


def _company(data: Path, report: Report, progress: Progress | None) -> Company | None:
    try:
        company = _load_company(data, progress)
    except InputError as exc:
        report.problems.extend(exc.problems)
        return None
    report.summaries[str(data)] = company.summary()
    report.checked.append(str(data))
    return company


def _targets(path: Path, report: Report) -> list[Path]:
    if path.is_dir():
        if (path / "company.yaml").exists():
            return [path]
        files = sorted(
            p for p in path.rglob("*") if p.suffix.lower() in _RULE_SUFFIXES and p.is_file()
        )
        if not files:
            report.problems.append(
                Problem(str(path), "no rule files (.yaml, .yml, .json) here", code="empty-folder")
            )
        return files
    if not path.exists():
        report.problems.append(Problem(str(path), "no such file or folder", code="missing-file"))
        return []
    return [path]


def _validate_one(
    path: Path, report: Report, company: Company | None, progress: Progress | None
) -> None:
    try:
        if path.is_dir() or path.name == "company.yaml":
            report.summaries[str(path)] = _load_company(path, progress).summary()
        else:
            # With a company, allocation names are checked in the same pass as the form.
            with known_org(_org_names(company) if company is not None else None):
                rules = load_rules(path)
            kind = kind_of(rules)
            if kind == "company":
                report.summaries[str(path)] = _load_company(path, progress).summary()
            else:
                # The data it names first: a data-aware loader reads the same company.
                _check_references(rules, path, progress)
            # A file that names no data was checked for form by load_rules already.
            if kind in _DATA_AWARE_LOADERS and rules.referenced_paths(path.parent):
                _function(_DATA_AWARE_LOADERS[kind])(path)
            if kind in _DATA_CHECKS:
                if company is None:
                    report.form_only.append(str(path))
                else:
                    _function(_DATA_CHECKS[kind])(rules, company, str(path))
        report.checked.append(str(path))
    except InputError as exc:
        report.problems.extend(exc.problems)


def _check_references(rules: RuleModel, path: Path, progress: Progress | None) -> None:
    """Load the data a rule file names: company folders fully, other files for existence."""
    problems: list[Problem] = []
    for target in rules.referenced_paths(path.parent):
        try:
            if target.is_dir() or target.name == "company.yaml":
                _load_company(target, progress)
            elif not target.exists():
                problems.append(
                    Problem(str(path), f"names {target}, which does not exist", code="missing-file")
                )
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise RuleFileError(problems)

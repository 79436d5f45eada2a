"""Check rule files and data folders without running anything.

:func:`validate_paths` loads every path it is given (a rule file, a data
folder, or a folder of rule files), including the data a file names, and
collects every problem rather than stopping at the first file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from attain.data import load_company
from attain.errors import InputError, Problem, RuleFileError
from attain.incentive.api import load_plan
from attain.load import load_rules
from attain.schema import RuleModel

__all__ = ["Report", "validate_paths"]

_RULE_SUFFIXES = (".yaml", ".yml", ".json")
#: Kinds whose names (products, units) are checked against the data they name.
_DATA_AWARE_LOADERS: dict[str, Callable[[Path], RuleModel]] = {"plan": load_plan}


@dataclass
class Report:
    """What :func:`validate_paths` found: the files that passed and every problem."""

    checked: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    summaries: dict[str, dict[str, object]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_paths(paths: list[str | Path]) -> Report:
    """Validate rule files and data folders; never raises for bad input."""
    report = Report()
    for path in map(Path, paths):
        for target in _targets(path, report):
            _validate_one(target, report)
    return report


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


def _validate_one(path: Path, report: Report) -> None:
    try:
        if path.is_dir() or path.name == "company.yaml":
            company = load_company(path)
            report.summaries[str(path)] = company.summary()
        else:
            rules = load_rules(path)
            if rules.kind in _DATA_AWARE_LOADERS:
                rules = _DATA_AWARE_LOADERS[rules.kind](path)
            if rules.kind == "company":
                report.summaries[str(path)] = load_company(path).summary()
            else:
                _check_references(rules, path)
        report.checked.append(str(path))
    except InputError as exc:
        report.problems.extend(exc.problems)


def _check_references(rules: RuleModel, path: Path) -> None:
    """Load the data a rule file names: company folders fully, other files for existence."""
    problems: list[Problem] = []
    for target in rules.referenced_paths(path.parent):
        try:
            if target.is_dir() or target.name == "company.yaml":
                load_company(target)
            elif not target.exists():
                problems.append(
                    Problem(str(path), f"names {target}, which does not exist", code="missing-file")
                )
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise RuleFileError(problems)

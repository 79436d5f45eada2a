"""`DesignResult`: the chosen plan, every candidate simulated, and the out-of-sample check.

``write(out)`` writes ``design.json`` (chosen values; constraint and objective values in
sample and out of sample, with intervals; the current plan's for comparison),
``points.csv`` (every candidate: its values, figures and whether it met the
constraints), ``front.csv`` when the design asks for it, the tuned plan as a loadable plan
file (``<plan>_<design>.yaml``; for a package, one per member plan the design changes) and
``design.html``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from attain.design.parameters import Entry
from attain.design.search import Point
from attain.load import dump_rules
from attain.notices import Notice, notices_json
from attain.output import write_csv, write_text
from attain.result import ResultFiles, Summary
from attain.schema.design import Design
from attain.schema.plan import Plan
from attain.simulate.setup import entry_name

__all__ = ["DesignResult", "DesignSummary"]


@dataclass(frozen=True)
class DesignSummary(Summary):
    """design.json: what was tuned, what was chosen, and the check on independent draws."""

    name: str
    description: str
    scenario: str
    plan: str
    tuned_plan: str
    """The tuned plan's name (a package's: its members' names joined with ``+``)."""
    tuned_files: list[str]
    """The tuned plan files written (for a package: the members the design changes)."""
    method: str
    """``bracket`` or ``evolution``."""
    conservative: bool
    trials: int
    seed: int
    evaluations: int
    """Candidates simulated."""
    rejected: int
    """Candidates the plan's own rules reject."""
    parameters: list[dict[str, Any]]
    """Per parameter: name, path, bounds, step, current value (the plan's own, even
    outside the bounds; ``current_in_box`` says whether it lies within them) and chosen
    value."""
    objective: dict[str, Any]
    constraints: list[dict[str, Any]]
    """Per constraint: its limits, the estimate in sample, the value held to the limits
    (the interval's unfavourable end when conservative) and the current plan's."""
    out_of_sample: dict[str, Any]
    """Trials, seed, confidence and per figure: value, interval, current plan, met."""
    warnings: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class DesignResult(ResultFiles):
    """What a design run found; see the module docstring. Follows the result protocol
    (:mod:`attain.result`): ``summary`` (:class:`DesignSummary`), ``frames``,
    ``to_json()``, ``write(out)``."""

    kind: ClassVar[str] = "design"
    summary_file: ClassVar[str] = "design.json"

    spec: Design
    source: str
    plan: Entry
    """The tuned plan, or package of plans."""
    plan_files: tuple[Path, ...]
    """The files of the plan (or the package's plans) as the scenario names them."""
    method: str
    chosen: Point
    current: Point
    points: list[Point]
    validation: dict[str, Any]
    notices: tuple[Notice, ...] = ()
    timings: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def values(self) -> dict[str, float]:
        """The chosen value of each parameter, by its name."""
        return {p.label: v for p, v in zip(self.spec.parameters, self.chosen.values, strict=True)}

    @property
    def summary(self) -> DesignSummary:
        """The design.json document."""
        return DesignSummary(**self._summary())

    def _summary(self) -> dict[str, Any]:
        s = self.spec
        return {
            "name": s.name,
            "description": s.description,
            "scenario": s.scenario,
            "plan": entry_name(self.plan),
            "tuned_plan": entry_name(self._tuned_entry()),
            "tuned_files": self._tuned_files(),
            "method": self.method,
            "conservative": s.conservative,
            "trials": s.trials,
            "seed": s.seed,
            "evaluations": len(self.points),
            "rejected": sum(1 for p in self.points if p.plan is None),
            "parameters": [
                {
                    "name": p.label,
                    "path": p.path,
                    "min": p.min,
                    "max": p.max,
                    "step": p.step,
                    "current": cur,
                    "current_in_box": bool(p.min <= cur <= p.max),
                    "chosen": val,
                }
                for p, val, cur in zip(
                    s.parameters, self.chosen.values, self.current.values, strict=True
                )
            ],
            "objective": {
                "sense": "maximise" if s.objective.sense > 0 else "minimise",
                "measures": s.objective.as_statistic().describe(),
                "in_sample": _num(self.chosen.objective),
                "current_plan_in_sample": _num(self.current.objective),
            },
            "constraints": [
                {
                    "name": c.label,
                    "measures": c.describe(),
                    "min": c.min,
                    "max": c.max,
                    "in_sample": _num(v),
                    "in_sample_checked": _num(chk),
                    "current_plan_in_sample": _num(cur),
                }
                for c, v, chk, cur in zip(
                    s.constraints,
                    self.chosen.constraints,
                    self.chosen.checked,
                    self.current.constraints,
                    strict=True,
                )
            ],
            "out_of_sample": self.validation,
            "warnings": notices_json(self.notices),
        }

    @property
    def frames(self) -> dict[str, pd.DataFrame]:
        """The named tables: ``points`` (every candidate) and ``front``."""
        return {"points": self.points_table(), "front": self.front_table()}

    def points_table(self) -> pd.DataFrame:
        rows = []
        for order, p in enumerate(self.points, start=1):
            row: dict[str, Any] = {"evaluation": order}
            row.update(dict(zip(self._labels(), p.values, strict=True)))
            row["objective"] = p.objective
            for c, v in zip(self.spec.constraints, p.constraints, strict=True):
                row[c.label] = v
            row["cost_of_sales_mean"] = p.cost_of_sales
            row["total_payout_mean"] = p.total_payout
            row["feasible"] = p.feasible
            row["rejected"] = p.rejected
            rows.append(row)
        return pd.DataFrame(rows)

    def front_table(self) -> pd.DataFrame:
        """Candidates meeting every constraint not on cost that no other such candidate
        beats on both mean cost of sales and the objective, cheapest first."""
        sense = self.spec.objective.sense
        cost_metrics = ("total_payout", "cost_of_sales")
        keep = [
            p
            for p in self.points
            if p.plan is not None
            and math.isfinite(p.objective)
            and all(
                v == 0
                for c, v in zip(self.spec.constraints, p.violations, strict=True)
                if c.metric not in cost_metrics
            )
        ]
        keep.sort(key=lambda p: (p.cost_of_sales, -sense * p.objective, p.values))
        front, best = [], -math.inf
        for p in keep:
            if sense * p.objective > best:
                front.append(p)
                best = sense * p.objective
        table = self.points_table()
        order = {p.values: i for i, p in enumerate(self.points)}
        return table.iloc[[order[p.values] for p in front]].reset_index(drop=True)

    def _members(self) -> tuple[Plan, ...]:
        return self.plan if isinstance(self.plan, tuple) else (self.plan,)

    def _changed(self) -> list[int]:
        """The members the design tunes (a plan: itself)."""
        if not isinstance(self.plan, tuple):
            return [0]
        heads = {p.path.split(".", 1)[0] for p in self.spec.parameters}
        return [i for i, m in enumerate(self.plan) if m.name in heads]

    def _tuned_entry(self) -> Entry:
        members = list(self._members())
        for i in self._changed():
            members[i] = members[i].model_copy(
                update={"name": f"{members[i].name}_{self.spec.name}"}
            )
        return tuple(members) if isinstance(self.plan, tuple) else members[0]

    def _tuned_files(self) -> list[str]:
        members = self._members()
        return [f"{members[i].name}_{self.spec.name}.yaml" for i in self._changed()]

    def tuned_plans(self, out: str | Path) -> dict[str, str]:
        """The tuned plan files to be saved in ``out``, by file name: the plan (for a
        package, each member plan the design changes) named ``<plan>_<design>``, its
        company path made relative to ``out``."""
        members = self._members()
        return {
            name: self._plan_yaml(members[i], self.plan_files[i], out)
            for name, i in zip(self._tuned_files(), self._changed(), strict=True)
        }

    def plan_yaml(self, out: str | Path) -> str:
        """The tuned plan as a plan file to be saved in ``out`` (its company path made
        relative to ``out``); for a package, the first member the design changes."""
        return next(iter(self.tuned_plans(out).values()))

    def _plan_yaml(self, plan: Plan, plan_file: Path, out: str | Path) -> str:
        relative = None
        if plan.company is not None:
            company = (plan_file.parent / plan.company).resolve()
            relative = Path(os.path.relpath(company, Path(out).resolve())).as_posix()
        values = self.values
        if isinstance(self.plan, tuple):  # this member's parameters, by their names
            values = {
                p.label: v
                for p, v in zip(self.spec.parameters, self.chosen.values, strict=True)
                if p.path.startswith(f"{plan.name}.")
            }
        tuned = plan.model_copy(
            update={
                "name": f"{plan.name}_{self.spec.name}",
                "company": relative,
                "description": (plan.description + " " if plan.description else "")
                + f"Tuned by the design `{self.spec.name}`: "
                + ", ".join(f"{k} = {v:g}" for k, v in values.items())
                + ".",
            }
        )
        head = (
            f"# {tuned.name}: `{plan.name}` with the values the design "
            f"`{self.spec.name}` chose\n# (attain design {Path(self.source).name}).\n"
        )
        return head + dump_rules(tuned)

    def write_files(self, out: Path, html: bool = True) -> list[Path]:
        """design.json, points.csv, front.csv (when asked), the tuned plan, design.html into
        the folder ``out`` (:meth:`write` writes them as one output set)."""
        out = Path(out)
        paths = [
            write_text(out / self.summary_file, self.to_json()),
            write_csv(out / "points.csv", self.points_table()),
        ]
        paths += [write_text(out / name, text) for name, text in self.tuned_plans(out).items()]
        if self.spec.front:
            paths.append(write_csv(out / "front.csv", self.front_table()))
        if html:
            from attain.design.page import design_html

            paths.append(write_text(out / "design.html", design_html(self)))
        return paths

    def _labels(self) -> list[str]:
        return [p.label for p in self.spec.parameters]


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None

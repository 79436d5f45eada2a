"""The :class:`Alignment` result: the assignment, its explanation, and its figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from attain.data import Company
from attain.result import ResultFiles, Summary

__all__ = ["Alignment", "AlignmentSummary"]


@dataclass(frozen=True)
class AlignmentSummary(Summary):
    """summary.json of a territory alignment (byte-stable: no timings)."""

    name: str
    status: str
    solver: str
    gap: float
    objective: dict[str, Any]
    goals: dict[str, float | int]
    """``distance_km``, ``disruption`` and ``units_moved`` of the chosen assignment."""
    units_moved: int
    n_units: int
    model: dict[str, int]
    """The model's size: rows, columns, integers."""
    bands: list[dict[str, Any]]
    bent_soft_rules: list[dict[str, Any]]
    solve: dict[str, Any]
    """``time_limit`` per solve, ``contiguity_cuts`` added, ``front_truncated``."""
    loads: list[dict[str, Any]]
    """Each rep's totals against each band, before and after (the reps frame)."""
    pareto: list[dict[str, Any]] | None
    """The efficient front's points when the rules ask for a sweep, else null."""


@dataclass(frozen=True)
class Alignment(ResultFiles):
    """A solved territory alignment.

    ``assignment`` has ``unit_id, rep_id, previous_rep_id, moved``; ``moves``
    explains every moved unit; ``reps`` gives each rep's totals against each
    band, before and after; ``pareto`` is the efficient front when the rules
    ask for a sweep. ``seconds`` (build and solve times) is the only field
    that varies between equal runs, and it is kept out of :attr:`summary` (it is
    written to timings.json). Follows the result protocol (:mod:`attain.result`).
    """

    kind: ClassVar[str] = "territory"

    name: str
    status: str
    solver: str
    gap: float
    goals: dict[str, float]
    """``distance_km``, ``disruption`` and ``units_moved`` of the chosen assignment."""
    objective: dict[str, Any]
    assignment: pd.DataFrame
    moves: pd.DataFrame
    reps: pd.DataFrame
    bands: list[dict[str, Any]]
    model_size: dict[str, int]
    pareto: pd.DataFrame | None = None
    pareto_moves: pd.DataFrame | None = None
    """Per front point, the units that change owner: ``point, unit_id, rep_id,
    previous_rep_id`` (every other unit keeps its owner), so any point can be adopted."""
    seconds: dict[str, float] = field(default_factory=dict)
    geometry: dict[str, np.ndarray] | None = None
    """Unit and office coordinates (``unit_lat``, ``unit_lon``, ``office_lat``, ``office_lon``)."""
    company: Company | None = None
    unit_potential: pd.DataFrame | None = None
    """Potential per unit × product (carried by each unit to its new rep), for the hand-off."""
    bent_soft_rules: list[dict[str, Any]] = field(default_factory=list)
    """Each soft band: ``rule, priority, penalty, bent`` (total outside the band, in the
    measure), ``bent_means`` (in mean rep totals), ``n_bent`` and the bend per rep."""
    solve_info: dict[str, Any] = field(default_factory=dict)
    """``time_limit`` per solve (null: none), ``contiguity_cuts`` added, and with a front,
    ``front_truncated`` (the step walk stopped at its point limit)."""
    binding: pd.DataFrame | None = None
    """Every binding or bent rule row of the chosen assignment, labelled by the modelling
    core: ``rule, kind, level, unit, row, activity, lower, upper, side, bent``."""
    problem: Any = field(default=None, repr=False, compare=False)
    """The :class:`~attain.solvers.LinearProblem` of the last solve (for
    :meth:`export_model`)."""

    def export_model(self, path) -> Any:
        """The model as last solved, as MPS or LP (by the suffix)."""
        from attain.model import export_model

        return export_model(self.problem, path)

    @property
    def units_moved(self) -> int:
        return int(self.assignment["moved"].sum())

    @property
    def frames(self) -> dict[str, pd.DataFrame]:
        """``assignment``, ``moves``, ``reps``, and with a sweep ``pareto`` and
        ``pareto_moves``."""
        out = {"assignment": self.assignment, "moves": self.moves, "reps": self.reps}
        if self.pareto is not None:
            out["pareto"] = self.pareto
        if self.pareto_moves is not None:
            out["pareto_moves"] = self.pareto_moves
        return out

    @property
    def summary(self) -> AlignmentSummary:
        """The figures of summary.json (byte-stable: no timings)."""
        loads = self.reps.replace([np.inf], None)
        return AlignmentSummary(
            **{
                "name": self.name,
                "status": self.status,
                "solver": self.solver,
                "gap": round(float(self.gap), 9),
                "objective": self.objective,
                "goals": {k: _num(v) for k, v in self.goals.items()},
                "units_moved": self.units_moved,
                "n_units": len(self.assignment),
                "model": self.model_size,
                "bands": self.bands,
                "bent_soft_rules": self.bent_soft_rules,
                "solve": self.solve_info,
                "loads": loads.to_dict(orient="records"),
                "pareto": None if self.pareto is None else self.pareto.to_dict(orient="records"),
            }
        )

    def write_files(self, out: Path) -> list[Path]:
        """assignment.csv, moves.csv, reps.csv, summary.json, potential.csv, pareto files,
        map.html and timings.json into the folder ``out`` (see
        :mod:`attain.territory.write`; :meth:`write` writes them as one output set)."""
        from attain.territory.write import write_alignment

        return write_alignment(self, out)


def _num(value: float) -> float | int:
    value = float(value)
    return int(value) if value.is_integer() else round(value, 6)

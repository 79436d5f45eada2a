"""The :class:`Alignment` result: the assignment, its explanation, and its figures."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from attain.data import Company

__all__ = ["Alignment"]


@dataclass(frozen=True)
class Alignment:
    """A solved territory alignment.

    ``assignment`` has ``unit_id, rep_id, previous_rep_id, moved``; ``moves``
    explains every moved unit; ``reps`` gives each rep's totals against each
    band, before and after; ``pareto`` is the efficient front when the rules
    ask for a sweep. ``seconds`` (build and solve times) is the only field
    that varies between equal runs, and it is kept out of :meth:`summary`.
    """

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

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures (byte-stable: no timings)."""
        loads = self.reps.replace([np.inf], None)
        return {
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

    def to_json(self) -> str:
        """:meth:`summary` as JSON text (sorted keys: equal alignments, equal text)."""
        return json.dumps(self.summary(), indent=2, sort_keys=True, ensure_ascii=False)


def _num(value: float) -> float | int:
    value = float(value)
    return int(value) if value.is_integer() else round(value, 6)

"""Territory alignment: units (accounts or geographic units) → reps, balanced, compact, stable.

``align(rules, data) -> Alignment`` is the entry point; :func:`write_alignment`
writes its files; :func:`territory_potential` and :func:`realign` hand the new
territories' potential to allocation as its fair-share basis.
"""

from attain.territory.align import DEFAULT_TERRITORY_SOLVER, align, compile_territory
from attain.territory.handoff import realign, territory_potential
from attain.territory.result import Alignment
from attain.territory.write import write_alignment

__all__ = [
    "DEFAULT_TERRITORY_SOLVER",
    "Alignment",
    "align",
    "compile_territory",
    "realign",
    "territory_potential",
    "write_alignment",
]

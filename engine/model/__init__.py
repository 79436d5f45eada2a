"""The modelling layer both optimisation engines (allocation, territory) are built on.

Stages, one module each:

* :mod:`~attain.model.blocks` — named row blocks built from arrays, each tied to the rule
  and the unit each row comes from; hard and soft rules (``soft`` with a ``priority`` level
  or a ``penalty``); one :class:`~attain.solvers.LinearProblem` in the solver's scale, with
  elastic slacks for soft rows and the maps back to (rule, unit);
* :mod:`~attain.model.levels` — lexicographic levels, each optimum held in the solver's
  own scale;
* :mod:`~attain.model.conflicts` — every independent conflict (deletion filter over
  rules) and the numbers that make it (elastic relaxation);
* :mod:`~attain.model.analysis` — binding rows and duals as labelled frames;
* :mod:`~attain.model.export` — any model as MPS or LP.

A subpackage, not one module: five stages that each engine calls separately, and the
same size as :mod:`attain.solvers`, the layer below it.
"""

from attain.model.analysis import BIND_TOL, Binding, binding, binding_frame
from attain.model.blocks import Assembled, Block, Model
from attain.model.conflicts import (
    Relaxation,
    deletion_filter,
    feasibility,
    find_conflicts,
    relax,
)
from attain.model.export import FORMATS, export_model, mps_text
from attain.model.levels import (
    FACE_TOL,
    HOLD_TOL,
    RETRY_HOLD_TOL,
    Face,
    Hold,
    Level,
    LevelOutcome,
    lexicographic,
    optimal_face,
    with_holds,
)

__all__ = [
    "BIND_TOL",
    "FACE_TOL",
    "FORMATS",
    "HOLD_TOL",
    "RETRY_HOLD_TOL",
    "Assembled",
    "Binding",
    "Block",
    "Face",
    "Hold",
    "Level",
    "LevelOutcome",
    "Model",
    "Relaxation",
    "binding",
    "binding_frame",
    "deletion_filter",
    "export_model",
    "feasibility",
    "find_conflicts",
    "lexicographic",
    "mps_text",
    "optimal_face",
    "relax",
    "with_holds",
]

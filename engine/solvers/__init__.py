"""Solver backends behind one small interface, chosen from a registry.

``solve(problem, solver="highs", options)`` is the entry point; the backends
(:data:`BACKENDS`: ``highs``, ``cbc``, ``glop``, ``pdlp``) register themselves
when their modules are imported here. A new backend is one module with a
class of ``name``, ``features``, ``is_available()`` and ``solve()``, and one
import line below.
"""

from attain.solvers.base import BACKENDS, DEFAULT_SOLVER, Backend, available, register, solve
from attain.solvers.cbc import CbcBackend
from attain.solvers.cpsat import CpSatBackend, CpSatOptions
from attain.solvers.highs import HighsBackend
from attain.solvers.ortools import OrToolsBackend
from attain.solvers.problem import (
    LinearProblem,
    SolveOptions,
    SolverResult,
    SparseMatrix,
    Status,
)

__all__ = [
    "BACKENDS",
    "DEFAULT_SOLVER",
    "Backend",
    "CbcBackend",
    "CpSatBackend",
    "CpSatOptions",
    "HighsBackend",
    "LinearProblem",
    "OrToolsBackend",
    "SolveOptions",
    "SolverResult",
    "SparseMatrix",
    "Status",
    "available",
    "register",
    "solve",
]

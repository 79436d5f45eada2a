"""The canonical problem every backend solves, and the result every backend returns.

The form is scipy.optimize.milp's: minimise ``c @ x + offset`` subject to
``row_lower <= A @ x <= row_upper`` and ``col_lower <= x <= col_upper``, with
``integrality[j]`` marking integer columns. ``A`` is a compressed sparse row
matrix held as three numpy arrays, so a model is built with numpy over whole
blocks and never one coefficient at a time. Infinite bounds are ``±numpy.inf``.
Infeasible is a *status*, not an exception.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["LinearProblem", "SolveOptions", "SolverResult", "SparseMatrix", "Status"]


@dataclass(frozen=True)
class SparseMatrix:
    """A CSR matrix: row ``i`` holds ``data[indptr[i]:indptr[i+1]]`` at ``indices[...]``."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    shape: tuple[int, int]

    @classmethod
    def from_coo(
        cls, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, shape: tuple[int, int]
    ) -> SparseMatrix:
        """Build from triplets; duplicates are summed and explicit zeros dropped."""
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        vals = np.asarray(vals, dtype=np.float64)
        key = rows * shape[1] + cols
        uniq, inverse = np.unique(key, return_inverse=True)
        summed = np.bincount(inverse, weights=vals, minlength=len(uniq))
        keep = summed != 0
        uniq, summed = uniq[keep], summed[keep]
        r, c = np.divmod(uniq, shape[1]) if shape[1] else (uniq, uniq)
        indptr = np.zeros(shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(r, minlength=shape[0]), out=indptr[1:])
        return cls(indptr, c.astype(np.int32), summed, shape)

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1])

    def row_of_entry(self) -> np.ndarray:
        """The row index of every stored entry (the COO rows)."""
        return np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))

    def matvec(self, x: np.ndarray) -> np.ndarray:
        products = self.data * np.asarray(x, dtype=np.float64)[self.indices]
        return np.bincount(self.row_of_entry(), weights=products, minlength=self.shape[0])

    def rmatvec(self, y: np.ndarray) -> np.ndarray:
        """``A.T @ y``."""
        products = self.data * np.asarray(y, dtype=np.float64)[self.row_of_entry()]
        return np.bincount(self.indices, weights=products, minlength=self.shape[1])

    def to_csc(self) -> SparseMatrix:
        """The transpose in CSR form, i.e. this matrix by columns."""
        rows = self.row_of_entry()
        order = np.lexsort((rows, self.indices))
        indptr = np.zeros(self.shape[1] + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.indices, minlength=self.shape[1]), out=indptr[1:])
        return SparseMatrix(
            indptr, rows[order].astype(np.int32), self.data[order], (self.shape[1], self.shape[0])
        )


@dataclass(frozen=True)
class LinearProblem:
    """``min c@x + offset`` s.t. ``row_lower <= A@x <= row_upper``, column bounds, integrality."""

    c: np.ndarray
    A: SparseMatrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray | None = None
    offset: float = 0.0
    col_names: tuple[str, ...] = ()
    row_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n_rows, n_cols = self.A.shape
        for name, arr, size in (
            ("c", self.c, n_cols),
            ("col_lower", self.col_lower, n_cols),
            ("col_upper", self.col_upper, n_cols),
            ("row_lower", self.row_lower, n_rows),
            ("row_upper", self.row_upper, n_rows),
        ):
            if np.shape(arr) != (size,):
                raise ValueError(f"{name} has shape {np.shape(arr)}, expected ({size},)")
        if self.integrality is not None and np.shape(self.integrality) != (n_cols,):
            raise ValueError("integrality must have one entry per column")
        if np.any(self.row_lower > self.row_upper) or np.any(self.col_lower > self.col_upper):
            # Crossed bounds are a modelling bug upstream, not an infeasible instance.
            raise ValueError("a lower bound exceeds its upper bound")

    @property
    def n_cols(self) -> int:
        return self.A.shape[1]

    @property
    def n_rows(self) -> int:
        return self.A.shape[0]

    @property
    def is_mip(self) -> bool:
        return self.integrality is not None and bool(np.any(self.integrality))

    def objective(self, x: np.ndarray) -> float:
        return float(self.c @ x + self.offset)

    def violation(self, x: np.ndarray) -> float:
        """The largest bound, row or integrality violation of ``x``, relative to magnitude."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape != (self.n_cols,) or not np.all(np.isfinite(x)):
            return np.inf
        act = self.A.matvec(x)
        scale_r = 1 + np.abs(act)
        scale_c = 1 + np.abs(x)
        worst = [
            np.max((self.row_lower - act) / scale_r, initial=0.0),
            np.max((act - self.row_upper) / scale_r, initial=0.0),
            np.max((self.col_lower - x) / scale_c, initial=0.0),
            np.max((x - self.col_upper) / scale_c, initial=0.0),
        ]
        if self.is_mip:
            xi = x[self.integrality.astype(bool)]
            worst.append(np.max(np.abs(xi - np.round(xi)), initial=0.0))
        return float(max(worst))


class Status(enum.Enum):
    """What a solve ended with, in one vocabulary for every backend."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    """Stopped (time limit, gap) with a feasible solution that is not proven optimal."""
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    INFEASIBLE_OR_UNBOUNDED = "infeasible_or_unbounded"
    NO_SOLUTION = "no_solution"
    """Stopped by a limit before any feasible solution was found."""
    ERROR = "error"

    @property
    def has_solution(self) -> bool:
        return self in (Status.OPTIMAL, Status.FEASIBLE)


@dataclass(frozen=True)
class SolveOptions:
    """Knobs every backend understands (each maps them to its own options)."""

    time_limit: float | None = None
    mip_gap: float = 1e-6
    threads: int | None = None
    feasibility_tol: float = 1e-6
    verbose: bool = False
    """Let the solver library write its log (banner, iterations) to standard output; off,
    nothing it prints reaches standard output (:func:`attain.solvers.base.native_output`)."""
    lp_method: str | None = None
    """``simplex`` or ``ipm`` for an LP (HiGHS); None: the backend's choice."""
    hint: np.ndarray | None = None
    """A warm start: one value per column, NaN for "no value". CP-SAT takes it as a solution
    hint; HiGHS as a MIP start (``setSolution``), used when it is feasible or can be completed."""
    cutoff: float | None = None
    """Seek only solutions whose objective is below it (HiGHS's ``objective_bound``: nodes
    whose bound reaches it are pruned). A search that ends without one has proven there is
    none: the result is :attr:`Status.NO_SOLUTION` with ``extra["cutoff_proven"]`` True."""
    on_solution: Callable[[np.ndarray, float, float], bool] | None = None
    """Called with each improving solution of a MIP search (every column), its objective
    and the search's best bound then; True stops the search, which returns its best
    solution (HiGHS only)."""
    heuristics: bool = True
    """False: the MIP search runs no primal heuristics (HiGHS: RINS, RENS, feasibility
    jump, root reduced cost; effort 0). For a search under a cutoff whose work is the
    bound: on territory contiguity it proves the gap in a third of the time."""
    stop_bound: Callable[[], float] | None = None
    """The search stops, ``feasible``, once its best bound reaches ``stop_bound()`` (asked
    at every check, so the target may move while it runs; HiGHS only)."""


@dataclass(frozen=True)
class SolverResult:
    """A backend's answer. ``row_duals[i]`` is ∂objective/∂(active bound of row i)."""

    status: Status
    solver: str
    x: np.ndarray | None = None
    objective: float | None = None
    row_duals: np.ndarray | None = None
    col_duals: np.ndarray | None = None
    mip_gap: float | None = None
    seconds: float = 0.0
    message: str = ""
    extra: dict = field(default_factory=dict)

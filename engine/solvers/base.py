"""The backend interface, the registry, and the one function callers use: :func:`solve`.

A backend is an object with ``name``, ``features``, ``is_available()`` and
``solve(problem, options) -> SolverResult``. :func:`solve` picks it from
:data:`BACKENDS` by name, runs it (in a child process when its native library
cannot share this process with one already loaded), and never trusts the
answer: a returned solution is checked against the problem and demoted when it
does not satisfy it (PuLP reports "Optimal" for a run stopped by its time
limit without a solution).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Protocol

import numpy as np

from attain.errors import SolverError, SolverUnavailableError
from attain.solvers.problem import LinearProblem, SolveOptions, SolverResult, Status

__all__ = [
    "BACKENDS",
    "DEFAULT_SOLVER",
    "Backend",
    "available",
    "native_output",
    "register",
    "solve",
]

#: HiGHS is the default: fastest on the benchmark (bench/bench_allocate.py), LP and MIP, duals.
DEFAULT_SOLVER = "highs"


class Backend(Protocol):
    name: str
    features: frozenset[str]
    """Any of ``lp``, ``mip``, ``duals``."""

    def is_available(self) -> bool: ...

    def solve(self, problem: LinearProblem, options: SolveOptions) -> SolverResult: ...


BACKENDS: dict[str, Backend] = {}

# Native libraries that bundle incompatible copies of the same shared objects: highspy and
# OR-Tools both ship a libhighs, so whichever loads second fails to import in this process.
_CLASHES = {"highspy": "ortools", "ortools": "highspy"}


def register(backend: Backend) -> Backend:
    BACKENDS[backend.name] = backend
    return backend


def has_module(module: str) -> bool:
    """Installed, checked without importing (importing may poison the process)."""
    return importlib.util.find_spec(module) is not None


def available() -> list[str]:
    return sorted(name for name, b in BACKENDS.items() if b.is_available())


def must_isolate(module: str) -> bool:
    """Whether ``module`` must run in a child process because a clashing one is loaded."""
    clash = _CLASHES.get(module)
    return clash is not None and clash in sys.modules and module not in sys.modules


@contextlib.contextmanager
def native_output(verbose: bool = False, to: int | None = None) -> Iterator[None]:
    """Keep what native solver code prints off standard output unless ``verbose``.

    HiGHS prints its banner when the first ``Highs`` object is made, whatever its options;
    CBC and OR-Tools write from C. Python's ``sys.stdout`` never sees those writes, so file
    descriptor 1 itself is pointed at ``os.devnull`` (or at ``to``) for the duration.
    """
    if verbose and to is None:
        yield
        return
    try:
        fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else 1
    except (AttributeError, OSError, ValueError):
        fd = 1
    for stream in (sys.stdout, sys.__stdout__):
        with contextlib.suppress(AttributeError, OSError, ValueError):
            stream.flush()
    saved = os.dup(fd)
    target = os.open(os.devnull, os.O_WRONLY) if to is None else os.dup(to)
    try:
        os.dup2(target, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(target)


def solve(
    problem: LinearProblem, solver: str = DEFAULT_SOLVER, options: SolveOptions | None = None
) -> SolverResult:
    """Solve with the named backend and verify what it returns."""
    options = options or SolveOptions()
    backend = BACKENDS.get(solver)
    if backend is None:
        raise SolverUnavailableError(
            f"unknown solver `{solver}`; expected one of: {', '.join(sorted(BACKENDS))}"
        )
    if not backend.is_available():
        raise SolverUnavailableError(f"solver `{solver}` is not installed here")
    if problem.is_mip and "mip" not in backend.features:
        raise SolverUnavailableError(f"solver `{solver}` solves LPs only; this model has integers")
    start = time.perf_counter()
    module = getattr(backend, "module", "")
    with _watched(solver, start):
        if module and must_isolate(module):
            from attain.solvers.isolated import solve_in_child

            result = solve_in_child(solver, problem, options)
        else:
            with native_output(options.verbose):
                result = backend.solve(problem, options)
    result = replace(result, seconds=time.perf_counter() - start)
    return _verified(problem, result, options)


#: Seconds between the elapsed-time reports of a watched solve.
_TICK = 0.5


@contextlib.contextmanager
def _watched(solver: str, start: float) -> Iterator[None]:
    """Report a solve to the watcher of :func:`attain.progress.watching_solves`, if any:
    the elapsed time from a thread every :data:`_TICK` seconds, with the last figures the
    backend's own callback reported (HiGHS: best objective, bound, gap)."""
    from attain.progress import SolveStatus, solve_watcher, watching_solves

    watcher = solve_watcher()
    if watcher is None:
        yield
        return
    lock = threading.Lock()
    last = [SolveStatus(solver, 0.0)]
    sent = [0.0]

    def send(status: SolveStatus) -> None:
        with lock:  # the time taken under the lock, so reports never go back in time
            now = time.perf_counter()
            last[0], sent[0] = replace(status, solver=solver, elapsed=now - start), now
            with contextlib.suppress(Exception):  # a drawing error must not fail the solve
                watcher(last[0])

    def from_backend(status: SolveStatus) -> None:
        if time.perf_counter() - sent[0] >= _TICK / 2:
            send(status)

    done = threading.Event()

    def tick() -> None:
        while not done.wait(_TICK):
            send(last[0])

    send(SolveStatus(solver, 0.0))
    ticker = threading.Thread(target=tick, name="attain-solve-progress", daemon=True)
    ticker.start()
    try:
        with watching_solves(from_backend):
            yield
    finally:
        done.set()
        ticker.join()
        send(last[0])


def _verified(problem: LinearProblem, result: SolverResult, options: SolveOptions) -> SolverResult:
    if result.status is Status.ERROR:
        raise SolverError(f"solver `{result.solver}` failed: {result.message or 'no detail'}")
    if not result.status.has_solution:
        return replace(result, x=None, objective=None, row_duals=None, col_duals=None)
    violation = problem.violation(result.x) if result.x is not None else np.inf
    if violation > max(options.feasibility_tol * 100, 1e-5):
        return replace(
            result,
            status=Status.NO_SOLUTION,
            x=None,
            objective=None,
            message=f"reported {result.status.value} but the solution violates the "
            f"model by {violation:.3g}",
        )
    return replace(result, objective=problem.objective(result.x))

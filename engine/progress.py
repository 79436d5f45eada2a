"""Progress of long steps, reported as numbers: the library never draws or prints.

A long call takes ``progress=``, a callable ``progress(done, total)`` that it calls
as work finishes (``0 <= done <= total``; ``total`` may change when a call starts a
second phase, as the simulator does for its sensitivity runs). The command line draws
it on stderr when that is a terminal (``attain.cli.progress``); a host application
passes its own callable, or nothing.

Calls that take it: :func:`attain.write_sample` (per table drawn and file written),
:func:`attain.load_company` (per table read and checked), :func:`attain.simulate`
(per chunk of trials), :func:`attain.payouts` (per stage of each plan) and
``Payouts.write`` (per chunk of statements written).

**Solves** have no count to go by: :func:`attain.allocate` and :func:`attain.align`
take ``solve_progress=``, a callable given a :class:`SolveStatus` — the seconds since the
solve started and, where the solver's callback says (HiGHS on a MIP), the best solution's
objective, the best bound and the gap — about twice a second while a solve runs.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar, cast

__all__ = [
    "Progress",
    "SolveProgress",
    "SolveStatus",
    "Steps",
    "solve_watcher",
    "watches_solves",
    "watching_solves",
]

_F = TypeVar("_F", bound=Callable[..., Any])

#: ``progress(done, total)``.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SolveStatus:
    """Where a running solve stands. ``objective`` (the best solution found), ``bound``
    (the best bound on the optimum) and ``gap`` (relative) are None where the solver does
    not say (LPs, and backends without a progress callback)."""

    solver: str
    elapsed: float
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None


#: ``solve_progress(status)``.
SolveProgress = Callable[[SolveStatus], None]

_WATCHER: ContextVar[SolveProgress | None] = ContextVar("attain_solve_progress", default=None)


@contextlib.contextmanager
def watching_solves(progress: SolveProgress | None) -> Iterator[None]:
    """Every solve inside the block reports to ``progress`` (None: as before)."""
    if progress is None:
        yield
        return
    token = _WATCHER.set(progress)
    try:
        yield
    finally:
        _WATCHER.reset(token)


def watches_solves(function: _F) -> _F:
    """Decorator: the call's ``solve_progress=`` keyword watches every solve it makes."""

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        with watching_solves(kwargs.get("solve_progress")):
            return function(*args, **kwargs)

    return cast(_F, call)


def solve_watcher() -> SolveProgress | None:
    """What a solve started now reports to (see :func:`watching_solves`), or None."""
    return _WATCHER.get()


class Steps:
    """Counts a fixed number of steps out to a :data:`Progress` (or to nothing).

    >>> seen = []
    >>> steps = Steps(lambda done, total: seen.append((done, total)), total=2)
    >>> steps.advance(); steps.advance()
    >>> seen
    [(0, 2), (1, 2), (2, 2)]
    """

    __slots__ = ("done", "progress", "total")

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress = progress
        self.total = total
        self.done = 0
        if progress is not None:
            progress(0, total)

    def advance(self, n: int = 1) -> None:
        self.done = min(self.total, self.done + n)
        if self.progress is not None:
            self.progress(self.done, self.total)

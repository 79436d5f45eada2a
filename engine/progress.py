"""Progress of long steps, reported as numbers: the library never draws or prints.

A long call takes ``progress=``, a callable ``progress(done, total)`` that it calls
as work finishes (``0 <= done <= total``; ``total`` may change when a call starts a
second phase, as the simulator does for its sensitivity runs). The command line draws
it on stderr when that is a terminal (``attain.cli.progress``); a host application
passes its own callable, or nothing.

Calls that take it: :func:`attain.write_sample` (per table drawn and file written),
:func:`attain.load_company` (per table read and checked), :func:`attain.simulate`
(per chunk of trials).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Progress", "Steps"]

#: ``progress(done, total)``.
Progress = Callable[[int, int], None]


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

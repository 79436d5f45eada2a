"""Progress bars on stderr, only when stderr is a terminal.

A command wraps a long library call in :func:`progress_bar` and passes what it yields
as the call's ``progress=`` (see :mod:`attain.progress`). Piped or redirected, and
under tests, nothing is drawn: the output a script reads stays the same.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from attain.progress import Progress, SolveProgress, SolveStatus

__all__ = ["is_interactive", "progress_bar", "solve_line", "solve_status"]


def is_interactive() -> bool:
    """Whether stderr is a terminal someone watches."""
    stream = sys.stderr
    return bool(getattr(stream, "isatty", None) and stream.isatty())


def _silent(done: int, total: int) -> None:
    """Progress nobody watches."""


@contextmanager
def progress_bar(label: str) -> Iterator[Progress]:
    """A ``progress(done, total)`` that draws a bar with the elapsed time on stderr; it
    restarts when ``total`` changes (a second phase). Silent when stderr is no terminal."""
    if not is_interactive():
        yield _silent
        return
    bar: Any
    with click.progressbar(
        length=1, label=label, file=sys.stderr, show_eta=False, show_percent=True
    ) as bar:
        state = {"done": 0, "total": -1}
        bar.format_progress_line = _with_elapsed(bar)

        def progress(done: int, total: int) -> None:
            if total != state["total"]:
                state.update(done=0, total=total)
                bar.length, bar.pos = max(total, 1), 0
            bar.update(done - state["done"])
            state["done"] = done

        yield progress


def _with_elapsed(bar: Any) -> Any:
    """click's progress line with the seconds since the bar started."""
    line = bar.format_progress_line

    def format_progress_line() -> str:
        return f"{line()}  {time.time() - bar.start:.0f}s"

    return format_progress_line


@contextmanager
def solve_status(label: str) -> Iterator[SolveProgress | None]:
    """A ``solve_progress(status)`` that keeps one line on stderr up to date while a solve
    runs (``solving (highs): 12s, best 1,234,567, bound 1,230,000, gap 0.35%``) and clears it
    after; None (nothing drawn) when stderr is no terminal."""
    if not is_interactive():
        yield None
        return
    width = [0]

    def show(status: SolveStatus) -> None:
        text = solve_line(label, status)
        sys.stderr.write("\r" + text.ljust(width[0]))
        sys.stderr.flush()
        width[0] = max(width[0], len(text))

    try:
        yield show
    finally:
        if width[0]:
            sys.stderr.write("\r" + " " * width[0] + "\r")
            sys.stderr.flush()


def solve_line(label: str, status: SolveStatus) -> str:
    """The line :func:`solve_status` draws for ``status``."""
    parts = [f"{label} ({status.solver}): {status.elapsed:.0f}s"]
    if status.objective is not None:
        parts.append(f"best {_number(status.objective)}")
    if status.bound is not None:
        parts.append(f"bound {_number(status.bound)}")
    if status.gap is not None:
        parts.append(f"gap {status.gap:.2%}")
    return ", ".join(parts)


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.6g}"

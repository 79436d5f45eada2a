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

from attain.progress import Progress

__all__ = ["is_interactive", "progress_bar"]


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

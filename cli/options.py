"""Click options and output shared by several commands: the solver backend and its
time limit, --force for the output folder, and how a result's warnings are printed."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

import click

from attain.notices import Notice

__all__ = ["echo_notices", "force_option", "model_options", "solver_options"]

F = TypeVar("F", bound=Callable[..., object])


def solver_options(
    choices: Iterable[str], default: str, *, solver_help: str, time_limit_help: str
) -> Callable[[F], F]:
    """``--solver`` (one of ``choices``, sorted; ``default`` shown in the help) and
    ``--time-limit`` (seconds, > 0; none by default), in that order in the help.

    Each command says which backends it takes and what a time limit means for it.
    """
    solver = click.option(
        "--solver",
        type=click.Choice(sorted(choices)),
        default=default,
        show_default=True,
        help=solver_help,
    )
    time_limit = click.option(
        "--time-limit",
        type=click.FloatRange(min=0, min_open=True),
        default=None,
        help=time_limit_help,
    )

    def decorate(f: F) -> F:
        return solver(time_limit(f))  # as if stacked: @solver above @time_limit

    return decorate


#: ``--force``: write the output set into a folder that holds other files (see
#: :func:`attain.output.output_set`: they are kept, an earlier set of the kind replaced).
force_option = click.option(
    "--force",
    is_flag=True,
    help="Write into --out even if it holds this run's inputs, another kind of output or "
    "other files (they are kept; only an earlier output of this kind is replaced).",
)


def model_options(f: F) -> F:
    """``--export-model FILE`` (the model as solved, MPS or LP by the suffix) and
    ``--verbose`` (the solver's own log on standard output)."""
    export = click.option(
        "--export-model",
        "export_model",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Also write the model as solved (its last level, earlier levels held as rows) "
        "to FILE: .mps (free MPS) or .lp, for another solver or a support ticket.",
    )
    verbose = click.option(
        "--verbose",
        is_flag=True,
        default=False,
        help="Let the solver print its log (banner, iterations) to standard output.",
    )
    return export(verbose(f))


def echo_notices(notices: Iterable[Notice]) -> None:
    """Print each warning of a result on stderr, one line each (DESIGN: a result that is
    silently zero or empty gets a warning)."""
    for notice in notices:
        click.echo(str(notice), err=True)

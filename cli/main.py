"""The `attain` command: parses arguments, calls the library, prints, picks exit codes.

Errors are translated to messages and exit codes in one place, :func:`main`
(DESIGN §3): 0 done, 2 bad input, 3 infeasible, 4 solver unavailable or
failed, 1 internal error (traceback only with ``--debug``).
"""

from __future__ import annotations

import json
import signal
import sys
import traceback
from pathlib import Path

import click

import attain
from attain.cli.allocate import allocate
from attain.cli.demo import demo
from attain.cli.options import force_option
from attain.cli.payout import payout
from attain.cli.simulate import simulate
from attain.cli.territory import territory
from attain.errors import AttainError, InfeasibleError, InputError, SolverError

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_SOLVER = 0, 1, 2, 3, 4
#: Interrupted by Ctrl-C (SIGINT) or SIGTERM: 128 + the signal's number, as shells do.
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(attain.__version__, "--version", prog_name="attain")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
def cli(debug: bool) -> None:
    """attain: sales target allocation and incentive compensation, declared in rule files."""
    # --debug is read by main(), which owns the error handling.


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    help="A company folder: also check the names in allocation and territory rules "
    "(levels, regions, teams, columns, products) against it.",
)
def validate(paths: tuple[Path, ...], data: Path | None) -> None:
    """Check rule files and data folders (and the data they name).

    Example: attain validate rules/ --data scenarios/sample
    """
    report = attain.validate_paths(list(paths), data=data)
    for name in report.checked:
        click.echo(f"ok  {name}")
    if not report.ok:
        raise InputError(report.problems)
    click.echo(f"{len(report.checked)} checked, no problems")
    if report.form_only:
        click.echo(
            f"note: {len(report.form_only)} allocation/territory file(s) checked without a "
            "company; add --data DIR to check the regions, columns and products they name"
        )


@cli.command()
@click.argument("kind", required=False)
def schema(kind: str | None) -> None:
    """Print the JSON Schema of a rule-file kind (all kinds without KIND).

    Example: attain schema company > company.schema.json
    """
    kinds = sorted(attain.KINDS)
    if kind is not None and kind not in kinds:
        raise click.BadParameter(
            f"unknown kind {kind!r}; expected one of: {', '.join(kinds)}", param_hint="KIND"
        )
    if kind:
        document = attain.json_schema(kind)
    else:
        document = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "oneOf": [{"$ref": f"#/$defs/{k}"} for k in kinds],
            "$defs": {k: attain.json_schema(k) for k in kinds},
        }
    click.echo(json.dumps(document, indent=2, sort_keys=True))


@cli.command()
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write.",
)
@click.option(
    "--reps", default=300, show_default=True, type=click.IntRange(min=1), help="Number of reps."
)
@click.option(
    "--seed",
    default=7,
    show_default=True,
    type=click.IntRange(min=0),
    help="Random seed (>= 0); same seed, same bytes.",
)
@click.option(
    "--products",
    default=4,
    show_default=True,
    type=click.IntRange(min=1, max=6),
    help="Number of products (1-6): core, cloud, services, analytics, security, training.",
)
@force_option
def sample(out: Path, reps: int, seed: int, products: int, force: bool) -> None:
    """Write a synthetic company (data folder) of any size.

    It sells the first N products of: core, cloud, services, analytics,
    security, training.

    Example: attain sample --out data/big --reps 50000 --products 5
    """
    files = attain.write_sample(out, n_reps=reps, seed=seed, n_products=products, force=force)
    for file in files:
        click.echo(f"wrote {file}")


# Commands that live in their own modules, one per command family.
for _command in (allocate, demo, payout, simulate, territory):
    cli.add_command(_command)


def _exit_code(error: AttainError) -> int:
    if isinstance(error, InputError):
        return EXIT_INPUT
    if isinstance(error, InfeasibleError):
        return EXIT_INFEASIBLE
    if isinstance(error, SolverError):
        return EXIT_SOLVER
    return EXIT_INTERNAL


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, translate every error to a message and an exit code."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        cli.main(args=args, prog_name="attain", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt) as exc:  # click: Ctrl-C → Abort
        terminated = isinstance(exc, _Terminated) or isinstance(exc.__cause__, _Terminated)
        click.echo("terminated" if terminated else "interrupted", err=True)
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return EXIT_INPUT
    except AttainError as exc:
        if isinstance(exc, InputError) and exc.n_problems > exc.n_listed:
            click.echo(f"{exc.n_problems:,} problems; the first {exc.n_listed:,}:", err=True)
            click.echo(str(exc), err=True)
        else:
            click.echo(str(exc), err=True)
            if isinstance(exc, InputError) and exc.n_problems > 1:
                click.echo(f"{exc.n_problems:,} problems", err=True)
        return _exit_code(exc)
    except OSError as exc:  # a path the user gave cannot be read or written
        where = f" {exc.filename}" if exc.filename else ""
        click.echo(f"cannot use{where}: {exc.strerror or exc}", err=True)
        return EXIT_INPUT
    except RecursionError as exc:  # input nested past every limit; never a traceback
        click.echo(f"input nested too deeply to read: {exc}", err=True)
        return EXIT_INPUT
    except Exception as exc:  # the one place an unexpected error becomes exit 1
        if debug:
            traceback.print_exc()
        else:
            click.echo(
                f"internal error: {type(exc).__name__}: {exc} -- this is a bug in attain; "
                "please report it with the command you ran (add --debug for the traceback)",
                err=True,
            )
        return EXIT_INTERNAL
    return EXIT_OK


def entry() -> None:
    # SIGTERM unwinds like Ctrl-C, so a half-written output set is removed on the way out.
    signal.signal(signal.SIGTERM, _interrupt)
    sys.exit(main())


class _Terminated(KeyboardInterrupt):
    """SIGTERM, unwound like Ctrl-C."""


def _interrupt(signum: int, frame: object) -> None:
    raise _Terminated

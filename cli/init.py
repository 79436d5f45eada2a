"""`attain init`: a starter folder to edit: a company and commented rule files."""

from __future__ import annotations

from pathlib import Path

import click

from attain.sample import write_starter

__all__ = ["init"]


@click.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Write into a folder that is not empty.")
def init(folder: Path, force: bool) -> None:
    """Write a starter company folder and commented rule files to edit.

    FOLDER must be new or empty (unless --force). It gets the sample company
    (scenarios/sample/), an allocation, two plans and a scenario that run on it,
    and a README of what to edit and which commands to run.

    Example: attain init my_company
    """
    paths = write_starter(folder, force=force)
    for path in paths:
        click.echo(f"wrote {path}")
    click.echo(
        f"\nNext: cd {folder} and see README.md; `attain validate rules/ scenarios/` checks it."
    )

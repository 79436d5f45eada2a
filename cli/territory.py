"""`attain territory`: re-cut territories from a rule file and a data folder."""

from __future__ import annotations

from pathlib import Path

import click

from attain.cli.options import force_option, model_options, solver_options
from attain.cli.progress import solve_status
from attain.model.export import check_format
from attain.output import check_output_set
from attain.solvers import BACKENDS
from attain.territory import DEFAULT_TERRITORY_SOLVER, align

__all__ = ["territory"]


@click.command()
@click.argument("rules", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--data",
    "data",
    required=True,
    type=click.Path(path_type=Path),
    help="The company's data folder (with company.yaml).",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the results to.",
)
@solver_options(
    (name for name, b in BACKENDS.items() if "mip" in b.features),
    DEFAULT_TERRITORY_SOLVER,
    solver_help="MIP backend (see bench/bench_territory.py for how they compare).",
    time_limit_help="Seconds per solve (overrides the rule file's time_limit, which is 60 "
    "unless it says otherwise); the gap reached is printed and in summary.json.",
)
@force_option
@model_options
def territory(
    rules: Path,
    data: Path,
    out: Path,
    solver: str,
    time_limit: float | None,
    force: bool,
    export_model: Path | None,
    verbose: bool,
) -> None:
    """Re-cut territories: assign accounts (or geographic units) to reps.

    Balanced bands, short travel and few broken relationships, as the rule file
    says; writes assignment.csv, moves.csv, reps.csv, summary.json, potential.csv
    (for allocation), pareto.csv when swept, and map.html.

    \b
    Example: attain territory rules/territory_balance.yaml --data scenarios/sample --out out/territory
    """
    if export_model is not None:
        check_format(export_model)  # before the solve, not after it
    check_output_set(out, "territory", inputs=(rules, data), force=force)
    with solve_status("solving") as watch:
        alignment = align(
            rules, data, solver=solver, time_limit=time_limit, verbose=verbose, solve_progress=watch
        )
    files = alignment.write(out, inputs=(rules, data), force=force)
    if export_model is not None:
        files.append(alignment.export_model(export_model))
    g = alignment.goals
    click.echo(
        f"{alignment.status} ({alignment.solver}, gap {alignment.gap:.2%}): "
        f"{g['units_moved']} of {len(alignment.assignment)} units moved, "
        f"travel {g['distance_km']:,.1f} km, disruption {_number(g['disruption'])}"
    )
    for bent in alignment.bent_soft_rules:
        if bent["n_bent"]:
            click.echo(
                f"soft band {bent['rule']} bent by {_number(bent['bent'])} "
                f"over {bent['n_bent']} reps"
            )
    if alignment.pareto is not None:
        cut = (
            " (cut short at the sweep's point limit)"
            if alignment.solve_info.get("front_truncated")
            else ""
        )
        click.echo(f"efficient front: {len(alignment.pareto)} points{cut}")
    for file in files:
        click.echo(f"wrote {file}")


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.6g}"

"""`attain allocate`: solve a target allocation and write its files."""

from __future__ import annotations

from pathlib import Path

import click

from attain.allocate.core import allocate as allocate_targets
from attain.cli.options import echo_notices, force_option, model_options, solver_options
from attain.cli.progress import solve_status
from attain.model.export import check_format
from attain.solvers import BACKENDS, DEFAULT_SOLVER

__all__ = ["allocate"]


@click.command()
@click.argument("rules", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--data",
    "data",
    required=True,
    type=click.Path(file_okay=True, path_type=Path),
    help="The company's data folder (with company.yaml).",
)
@click.option(
    "--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write targets.csv, summary.json, explain.csv and targets.xlsx to.",
)  # fmt: skip
@solver_options(
    BACKENDS,
    DEFAULT_SOLVER,
    solver_help="LP/MIP backend.",
    time_limit_help="Seconds per solve; a MIP reports the gap it reached.",
)
@click.option(
    "--method",
    type=click.Choice(["auto", "staged", "monolithic"]),
    default=None,
    help="Override the rules' `method` (monolithic: every month cell in one model).",
)
@force_option
@model_options
def allocate(
    rules: Path,
    data: Path,
    out: Path,
    solver: str,
    time_limit: float | None,
    method: str | None,
    force: bool,
    export_model: Path | None,
    verbose: bool,
) -> None:
    """Allocate the company target to reps × months × products by the RULES file.

    Example: attain allocate rules/allocation_fy27.yaml --data scenarios/sample --out out/fy27
    """
    if export_model is not None:
        check_format(export_model)  # before the solve, not after it
    with solve_status("solving") as watch:
        result = allocate_targets(
            rules,
            data,
            solver=solver,
            time_limit=time_limit,
            method=method,
            verbose=verbose,
            solve_progress=watch,
        )
    paths = result.write(out, inputs=(rules, data), force=force)
    if export_model is not None:
        paths.append(result.export_model(export_model))
    s = result.summary
    f = s["fairness"]
    click.echo(
        f"{s['status']}: {s['n_reps']} reps, total target {s['total_target']:,.0f} "
        f"{s['currency']} (company {s['company_target']:,.0f}) with {s['solver']} "
        f"in {s['build_seconds'] + s['solve_seconds'] + s['round_seconds']:.2f}s"
    )
    click.echo(
        f"fairness: worst gap {f['max_gap']:.1%}, mean gap {f['mean_gap']:.2%}, "
        f"target/fair-share {f['ratio_min']:.3f}..{f['ratio_max']:.3f}"
    )
    for bent in s["bent_soft_rules"]:
        click.echo(f"bent soft rule `{bent['rule']}` by {bent['bent']:,.0f}")
    for path in paths:
        click.echo(f"wrote {path}")
    echo_notices(result.notices)

"""`attain design`: solve for plan parameters under constraints on the simulated outcome."""

from __future__ import annotations

from pathlib import Path

import click

from attain.cli.options import echo_notices, force_option
from attain.cli.progress import progress_bar
from attain.cli.simulate import cluster_from, cluster_options
from attain.design import DesignResult
from attain.design import design as run_design
from attain.output import check_output_set

__all__ = ["design"]


@click.command()
@click.argument(
    "design_file", metavar="DESIGN", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write design.json, points.csv, the tuned plan and design.html.",
)
@click.option(
    "--trials",
    type=click.IntRange(min=10),
    help="Simulated years of the search (the file's if absent).",
)
@click.option("--seed", type=click.IntRange(min=0), help="Random seed (the file's if absent).")
@cluster_options
@force_option
def design(
    design_file: Path,
    out: Path,
    trials: int | None,
    seed: int | None,
    workers: int | None,
    scheduler: str | None,
    force: bool,
) -> None:
    """Solve for plan parameters that meet cost and fairness constraints in simulation.

    Example: attain design rules/design_field_rep.yaml --out out/design
    """
    cluster = cluster_from(workers, scheduler)
    check_output_set(out, "design", inputs=(design_file,), force=force)  # before the search
    with progress_bar("designing") as progress:
        result = run_design(
            design_file, trials=trials, seed=seed, cluster=cluster, progress=progress
        )
    paths = result.write(out, inputs=(design_file,), force=force)
    _print(result)
    echo_notices(result.notices)
    for path in paths:
        click.echo(f"wrote {path}")


def _print(result: DesignResult) -> None:
    s = result.summary
    out = {row["name"]: row for row in s["out_of_sample"]["figures"]}
    click.echo(
        f"{s['name']}: tuned `{s['plan']}` by {s['method']} over {s['evaluations']:,} "
        f"candidates on {s['trials']:,} simulated years (seed {s['seed']})"
    )
    for p in s["parameters"]:
        click.echo(f"  {p['name']:<28} {p['chosen']:>14.6g}   (was {p['current']:.6g})")
    conf = s["out_of_sample"]["confidence"]
    click.echo(
        f"  checked on {s['out_of_sample']['trials']:,} independent years "
        f"(seed {s['out_of_sample']['seed']}), {conf:.0%} intervals:"
    )
    for c in s["constraints"]:
        row = out[c["name"]]
        limit = " and ".join(
            f"{side} {c[key]:.6g}"
            for key, side in (("min", ">="), ("max", "<="))
            if c[key] is not None
        )
        state = (
            "met"
            if row["met_at_confidence"]
            else ("met, not at confidence" if row["met"] else "NOT met")
        )
        click.echo(
            f"  {c['name']:<28} {limit:<16} {_g(row['value']):>12} "
            f"[{_g(row['ci_low'])}, {_g(row['ci_high'])}]  {state}"
        )
    obj = out["objective"]
    click.echo(
        f"  objective: {s['objective']['sense']} {s['objective']['measures']} = {_g(obj['value'])} "
        f"(current plan {_g(obj['current_plan'])})"
    )


def _g(x: float | None) -> str:
    return "—" if x is None else f"{x:.6g}"

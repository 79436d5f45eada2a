"""`attain simulate`: Monte-Carlo payout scenarios, one or more plans side by side."""

from __future__ import annotations

from pathlib import Path

import click

from attain.cli.progress import progress_bar
from attain.simulate import SimulationResult, simulate_to

__all__ = ["print_summary", "run_simulation", "simulate"]


def run_simulation(
    scenario: Path,
    out: Path,
    trials: int | None = None,
    seed: int | None = None,
    targets: Path | None = None,
) -> tuple[SimulationResult, list[Path]]:
    """Simulate ``scenario`` into ``out`` with a progress bar on the terminal (stderr).

    ``targets`` (a targets.csv or an allocation output folder) replaces the scenario's
    target source. The demo calls this for its simulate step, then :func:`print_summary`.
    """
    with progress_bar("simulating") as progress:  # restarts for the sensitivity runs
        return simulate_to(
            scenario, out, targets=targets, trials=trials, seed=seed, progress=progress
        )


def print_summary(result: SimulationResult) -> None:
    """A short table: per plan, the base case's cost, cost of sales, reach and spread."""
    s = result.summary
    cur = s.get("currency", "")
    click.echo(
        f"{s['scenario']}: {s['trials']:,} simulated years of {s['n_reps_with_target']} reps "
        f"(seed {s['seed']}); amounts in {cur}"
    )
    w = max(24, *(len(plan) for plan in result.plans))  # a package's name can be long
    header = f"  {'plan':<{w}} {'mean payout':>14} {'P95':>14} {'cost of sales':>13} {'at target':>9} {'top10/median':>12}"
    click.echo(header)
    for plan in result.plans:
        f = result.figure(plan)
        ratio = f["top_decile_vs_median"]
        click.echo(
            f"  {plan:<{w}} {f['total_payout']['mean']:>14,.0f} {f['total_payout']['p95']:>14,.0f} "
            f"{f['cost_of_sales']['mean']:>13.2%} {f['share_at_target']['mean']:>9.1%} "
            f"{'–' if ratio is None else f'{ratio:.2f}x':>12}"
        )


@click.command()
@click.argument("scenario", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write summary.json, trials.parquet, report.html and summary.xlsx.",
)
@click.option(
    "--trials", type=click.IntRange(min=1), help="Simulated years (the file's if absent)."
)
@click.option("--seed", type=click.IntRange(min=0), help="Random seed (the file's if absent).")
def simulate(scenario: Path, out: Path, trials: int | None, seed: int | None) -> None:
    """Simulate a scenario: what each plan costs, who it rewards, which is better.

    Example: attain simulate scenarios/compare_plans.yaml --out out/compare
    """
    result, paths = run_simulation(scenario, out, trials=trials, seed=seed)
    print_summary(result)
    for path in paths:
        click.echo(f"wrote {path}")

"""`attain simulate`: Monte-Carlo payout scenarios, one or more plans side by side."""

from __future__ import annotations

from pathlib import Path

import click

from attain.cli.options import echo_notices, force_option
from attain.cli.progress import progress_bar
from attain.output import check_output_set
from attain.simulate import SimulationResult
from attain.simulate import simulate as simulate_scenario
from attain.simulate.distributed import Cluster

__all__ = ["cluster_from", "cluster_options", "print_summary", "run_simulation", "simulate"]


def cluster_options(command):
    """``--workers N`` and ``--scheduler URL``: where the trials run (Dask)."""
    command = click.option(
        "--scheduler",
        metavar="URL",
        help="Run on the Dask cluster whose scheduler is at URL (tcp://host:8786).",
    )(command)
    return click.option(
        "--workers",
        type=click.IntRange(min=1),
        help="Run on a local Dask cluster of N worker processes (default: threads).",
    )(command)


def cluster_from(workers: int | None, scheduler: str | None) -> Cluster | None:
    """The Dask cluster the options ask for, or None for the local thread pool."""
    if workers is not None and scheduler is not None:
        raise click.UsageError("give --workers or --scheduler, not both")
    if workers is None and scheduler is None:
        return None
    return Cluster(workers=workers, scheduler=scheduler)


def run_simulation(
    scenario: Path,
    out: Path,
    trials: int | None = None,
    seed: int | None = None,
    targets: Path | None = None,
    force: bool = False,
    cluster: Cluster | None = None,
) -> tuple[SimulationResult, list[Path]]:
    """Simulate ``scenario`` into ``out`` with a progress bar on the terminal (stderr).

    ``targets`` (a targets.csv or an allocation output folder) replaces the scenario's
    target source; ``cluster`` runs it on Dask. The demo calls this for its simulate step, then :func:`print_summary`.
    """
    check_output_set(out, "simulation", inputs=(scenario, targets), force=force)
    with progress_bar("simulating") as progress:  # restarts for the sensitivity runs
        result = simulate_scenario(
            scenario, targets=targets, trials=trials, seed=seed, cluster=cluster, progress=progress
        )
    return result, result.write(out, inputs=(scenario, targets), force=force)


def print_summary(result: SimulationResult) -> None:
    """A short table of the base case, per plan: expected cost, the cost of a bad year
    (P95), expected cost of sales, the chance of going over budget, reps at target and
    the spread of pay; each column says what it shows."""
    s = result.summary
    cur = s.get("currency", "")
    click.echo(
        f"{s['scenario']}: {s['trials']:,} simulated years of {s['n_reps_with_target']} reps "
        f"(seed {s['seed']}); base case, per simulated year, amounts in {cur}"
    )
    figures = [result.figure(plan) for plan in result.plans]
    budget = next((f["budget"] for f in figures if f.get("budget")), None)
    click.echo(f"  budget: {_budget_text(budget, cur)}")
    w = max(24, *(len(plan) for plan in result.plans))  # a package's name can be long
    columns = (
        ("expected cost", 13),
        ("P95 cost", 12),
        ("cost of sales", 13),
        ("P(over budget)", 14),
        ("at target", 9),
        ("top10%/median", 13),
    )
    click.echo(f"  {'plan':<{w}} " + " ".join(f"{name:>{width}}" for name, width in columns))
    for plan, f in zip(result.plans, figures, strict=True):
        ratio = f["top_decile_vs_median"]
        over = _p_over(f.get("budget"))
        cells = (
            f"{f['total_payout']['mean']:,.0f}",
            f"{f['total_payout']['p95']:,.0f}",
            f"{f['cost_of_sales']['mean']:.2%}",
            "–" if over is None else f"{over:.1%}",
            f"{f['share_at_target']['mean']:.1%}",
            "–" if ratio is None else f"{ratio:.2f}x",
        )
        click.echo(
            f"  {plan:<{w}} "
            + " ".join(f"{c:>{width}}" for c, (_, width) in zip(cells, columns, strict=True))
        )
    click.echo(
        "  expected: the mean over simulated years; P95: 1 year in 20 costs more; "
        "cost of sales: incentive pay / revenue;\n  at target: share of reps at or above "
        "target; top10%/median: pay of the top 10% of earners / the median pay"
    )


def _p_over(budget: dict | None) -> float | None:
    """The chance of passing the budget (either limit, when both are set)."""
    if not budget:
        return None
    values = [budget[k] for k in ("p_exceed_cost_of_sales", "p_exceed_amount") if k in budget]
    return max(values) if values else None


def _budget_text(budget: dict | None, currency: str) -> str:
    if not budget:
        return "none in the scenario (P(over budget) is not computed)"
    parts = []
    if budget.get("cost_of_sales_limit") is not None:
        parts.append(f"cost of sales at most {budget['cost_of_sales_limit']:.2%}")
    if budget.get("amount_limit") is not None:
        parts.append(f"at most {budget['amount_limit']:,.0f} {currency} a year".rstrip())
    return " and ".join(parts)


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
@cluster_options
@force_option
def simulate(
    scenario: Path,
    out: Path,
    trials: int | None,
    seed: int | None,
    workers: int | None,
    scheduler: str | None,
    force: bool,
) -> None:
    """Simulate a scenario: what each plan costs, who it rewards, which is better.

    Example: attain simulate scenarios/compare_plans.yaml --out out/compare --workers 2
    """
    cluster = cluster_from(workers, scheduler)
    result, paths = run_simulation(
        scenario, out, trials=trials, seed=seed, force=force, cluster=cluster
    )
    print_summary(result)
    echo_notices(result.notices)
    for path in paths:
        click.echo(f"wrote {path}")

"""`attain allocate`: solve a target allocation and write its files."""

from __future__ import annotations

from pathlib import Path

import click

from attain.allocate.core import allocate as allocate_targets
from attain.cli.options import echo_notices, force_option, model_options, solver_options
from attain.cli.progress import solve_status
from attain.model.export import check_format
from attain.output import check_output_set
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
    help="Folder to write targets.csv, summary.json, explain.csv and targets.xlsx to (and "
    "expense_budget.csv, activity_targets.csv when the rules have expenses or activities).",
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
@click.option(
    "--replan-from", "replan_from", metavar="MONTH", default=None,
    help="Re-plan the year from this month (YYYY-MM): months before it keep the --targets "
    "exactly; the rest is solved again. Writes replan.csv: what moved and why.",
)  # fmt: skip
@click.option(
    "--targets", "previous", default=None, type=click.Path(dir_okay=False, path_type=Path),
    help="The previous targets (an allocation's targets.csv) a re-plan starts from.",
)  # fmt: skip
@click.option(
    "--actuals", "actuals", default=None, type=click.Path(dir_okay=False, path_type=Path),
    help="Deals so far, shown beside each re-planned month (default: the company's).",
)  # fmt: skip
@force_option
@model_options
def allocate(
    rules: Path,
    data: Path,
    out: Path,
    solver: str,
    time_limit: float | None,
    method: str | None,
    replan_from: str | None,
    previous: Path | None,
    actuals: Path | None,
    force: bool,
    export_model: Path | None,
    verbose: bool,
) -> None:
    """Allocate the company target to reps × months × products by the RULES file.

    Example: attain allocate rules/allocation_fy27.yaml --data scenarios/sample --out out/fy27

    Re-plan from July: attain allocate rules/allocation_fy27.yaml --data scenarios/sample
    --replan-from 2027-07 --targets out/fy27/targets.csv --out out/fy27-july
    """
    if export_model is not None:
        check_format(export_model)  # before the solve, not after it
    if (replan_from is None) != (previous is None) or (actuals and replan_from is None):
        raise click.UsageError("a re-plan takes --replan-from MONTH and --targets PREVIOUS")
    inputs = tuple(p for p in (rules, data, previous, actuals) if p is not None)
    check_output_set(out, "allocation", inputs=inputs, force=force)
    with solve_status("solving") as watch:
        result = allocate_targets(
            rules,
            data,
            solver=solver,
            time_limit=time_limit,
            method=method,
            verbose=verbose,
            solve_progress=watch,
            replan_from=replan_from,
            previous=previous,
            actuals=actuals,
        )
    paths = result.write(out, inputs=inputs, force=force)
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
    if "replan" in s:
        r = s["replan"]
        click.echo(
            f"re-planned from {r['from']}: {r['n_changed']:,} rep-months moved; "
            f"{len(r['leavers'])} leaver(s), {len(r['joiners'])} joiner(s), "
            f"{r['n_relief']} relief rule(s), {r['dropped']:,.0f} dropped"
        )
    if s.get("expenses"):
        e = s["expenses"]
        capped = sum(lv["n_capped"] for lv in e["by_level"].values())
        click.echo(
            f"expense budget {e['budget']:,.2f} {s['currency']} ({e['rate']:.2%} of the company "
            f"target) over {', '.join(e['levels'])}; {capped} unit(s) at their max rate"
        )
    if s.get("activities"):
        a = s["activities"]
        totals = ", ".join(f"{n:,} {name}" for name, n in a["totals"].items())
        click.echo(f"activity targets over {a['weeks']} ISO weeks: {totals}")
    for bent in s["bent_soft_rules"]:
        click.echo(f"bent soft rule `{bent['rule']}` by {bent['bent']:,.0f}")
    for path in paths:
        click.echo(f"wrote {path}")
    echo_notices(result.notices)

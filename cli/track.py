"""`attain track`: targets + actuals to a date → tracking.csv, summary.json, xlsx, board."""

from __future__ import annotations

from pathlib import Path

import click

from attain.cli.options import echo_notices, force_option
from attain.output import check_output_set
from attain.track import track as track_progress


@click.command()
@click.option(
    "--targets",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Targets table (rep_id, period, product, target, optionally challenge), e.g. an "
    "allocation's targets.csv.",
)
@click.option(
    "--actuals",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Deals table up to the date (the company's actuals columns).",
)
@click.option("--as-of", "as_of", required=True, help="The date tracked, YYYY-MM-DD.")
@click.option(
    "--plan",
    "plans",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A commission plan: also the payout earned to date and the year's payout forecast "
    "(repeat for several plans).",
)
@click.option(
    "--measures",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Measures table for KPI components (rep_id, date, measure, value, denominator); "
    "default: the one company.yaml names (`tables: measures:`).",
)
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Company data folder (org, fiscal year, products); default: the org columns of the "
    "targets table.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write tracking.csv, summary.json, tracking.xlsx and board.html.",
)
@click.option(
    "--trials",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Forecast draws.",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Seed of the forecast draws.",
)
@click.option(
    "--expenses", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Expenses table (date, unit, amount, optionally level and category): the expense "
    "to date and its rate on sales against the budget.",
)  # fmt: skip
@click.option(
    "--expense-budget", "expense_budget", type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="An allocation's expense_budget.csv (default: the one beside --targets).",
)  # fmt: skip
@click.option(
    "--activities", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Activities logged (rep_id, date, activity, count), against the weekly activity "
    "targets.",
)  # fmt: skip
@click.option(
    "--activity-targets", "activity_targets", type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="An allocation's activity_targets.csv (default: the one beside --targets).",
)  # fmt: skip
@force_option
def track(
    targets: Path,
    actuals: Path,
    as_of: str,
    plans: tuple[Path, ...],
    measures: Path | None,
    data: Path | None,
    out: Path,
    trials: int,
    seed: int,
    expenses: Path | None,
    expense_budget: Path | None,
    activities: Path | None,
    activity_targets: Path | None,
    force: bool,
) -> None:
    """Track progress to a date and forecast the year's close, with a target board.

    Per rep, team, region and product: target and actual to date, pace against the
    targets' own phasing, the year-end forecast with P10/P50/P90, the chance of reaching
    target and challenge, the reps at risk; with --plan, the payout earned to date and the
    year's payout forecast; with --expenses, the expense rate against the budget; with
    --activities, the activities logged against the weekly activity targets.

    Example: attain track --targets out/fy27/targets.csv --actuals actuals_h1.csv
    --as-of 2027-06-30 --data scenarios/sample --out out/track
    """
    from attain.data import load_company

    if (expense_budget and not expenses) or (activity_targets and not activities):
        raise click.UsageError(
            "--expense-budget goes with --expenses, --activity-targets with --activities"
        )
    inputs = (
        targets,
        actuals,
        data,
        *plans,
        expenses,
        expense_budget,
        activities,
        activity_targets,
        measures,
    )
    check_output_set(out, "tracking", inputs=inputs, force=force)  # before the work
    company = load_company(data, tables=("org",)) if data is not None else None  # deals: --actuals
    result = track_progress(
        targets,
        actuals,
        as_of,
        plans=plans,
        company=company,
        trials=trials,
        seed=seed,
        expenses=expenses,
        expense_budget=expense_budget,
        activities=activities,
        activity_targets=activity_targets,
        measures=measures,
    )
    files = result.write(out, inputs=inputs, force=force)
    echo_notices(result.notices)
    s = result.summary
    c = s["company"]
    cur = f" {s['currency']}" if s["currency"] else ""
    pace = "n/a" if c["pace"] is None else f"{c['pace']:.1%}"
    click.echo(
        f"at {s['as_of']}: actual {c['actual_to_date']:,.0f}{cur} of target {c['target']:,.0f} "
        f"({s['year_elapsed']:.0%} of the year gone); pace {pace}"
    )
    click.echo(
        f"year-end forecast P50 {c['forecast_p50']:,.0f} (P10 {c['forecast_p10']:,.0f}, "
        f"P90 {c['forecast_p90']:,.0f}); chance of target {c['p_target']:.0%}, of challenge "
        f"{c['p_challenge']:.0%}; {s['n_at_risk']} of {s['n_reps']} reps at risk"
    )
    for p in s.get("payouts", []):
        click.echo(
            f"{p['plan']}: earned to date {p['earned_to_date']}{cur}; year's payout forecast "
            f"{p['forecast_p50']:,.2f} (P10 {p['forecast_p10']:,.2f}, P90 "
            f"{p['forecast_p90']:,.2f}); accrual to date {p['accrual_to_date']:,.2f}"
        )
    if s.get("expenses"):
        e = s["expenses"]
        rate = "n/a" if e["expense_rate"] is None else f"{e['expense_rate']:.2%}"
        budget = ""
        if e["has_budget"] and e["budget"] is not None:
            planned = "n/a" if e["budget_rate"] is None else f"{e['budget_rate']:.2%}"
            over = ", ".join(f"{n} {lv}(s)" for lv, n in e["n_over_budget"].items() if n)
            budget = (
                f" against {e['budget_to_date']:,.2f} budgeted to date (year {e['budget']:,.2f}, "
                f"{planned} of target); over budget: {over or 'none'}"
            )
        click.echo(f"expenses: {e['expense_to_date']:,.2f}{cur} to date, {rate} of sales{budget}")
    if s.get("activities"):
        parts = []
        for name, a in s["activities"]["by_activity"].items():
            pace = "n/a" if a["pace"] is None else f"{a['pace']:.0%}"
            parts.append(
                f"{name} {a['actual_to_date']:,} of {a['expected_to_date']:,.0f} due ({pace})"
            )
        click.echo("activities: " + "; ".join(parts))
    for f in files:
        click.echo(f"wrote {out / f.name}")

"""`attain payout`: plans + targets + actuals → payouts.csv, statements, summary.json."""

from __future__ import annotations

from pathlib import Path

import click

from attain.cli.options import echo_notices, force_option
from attain.cli.progress import progress_bar
from attain.data import load_company
from attain.incentive import load_plan, payouts
from attain.incentive.api import plan_company_dir
from attain.output import check_output_set


@click.command()
@click.argument("plans", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--targets",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Targets table (rep_id, period, product, target), e.g. an allocation's targets.csv.",
)
@click.option(
    "--actuals",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Deals table (the company's actuals columns).",
)
@click.option(
    "--measures",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Measures table for KPI components (rep_id, date, measure, value, denominator); "
    "default: the one company.yaml names (`tables: measures:`).",
)
@click.option(
    "--out",
    "out",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write payouts.csv, statements.csv, credited_deals.csv, "
    "statement_deals.csv, statements/ and summary.json (required unless --close).",
)
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Company data folder (org, products); default: the folder the first plan names in "
    "`company:`.",
)
@click.option(
    "--html", is_flag=True, help="Also write each statement as a printable web page (.html)."
)
@click.option(
    "--xlsx",
    is_flag=True,
    help="Also write payouts.xlsx (lines, each rep's year, components, explanation parts).",
)
@click.option("--ledger", default=None, help="With --close: the ledger (file path or URL).")
@click.option("--close", default=None, help="Close this period on --ledger (e.g. 2027-03).")
@force_option
def payout(
    plans: tuple[Path, ...],
    targets: Path,
    actuals: Path,
    measures: Path | None,
    out: Path,
    data: Path | None,
    html: bool,
    xlsx: bool,
    ledger: str | None,
    close: str | None,
    force: bool,
) -> None:
    """Compute every participant's payout per period, exact to the cent, with statements.

    Several plans per person (a rep plan plus a product overlay): give several plan files;
    payouts.csv and statements.csv then have a `plan` column, and each statement shows
    every plan.

    Example: attain payout rules/plan_field_rep.yaml --targets out/targets.csv
    --actuals scenarios/sample/actuals.csv --out out/payouts
    """
    if (ledger is None) != (close is None):
        raise click.UsageError("--ledger and --close go together")
    if close is not None and measures is not None:
        raise click.UsageError(
            "--close reads the company's measures table (`tables: measures:` in company.yaml, "
            "recorded with the run's inputs), not --measures"
        )
    folder = data or plan_company_dir(plans[0])
    inputs = (*plans, targets, actuals, folder, *([measures] if measures else []))
    if out is not None:  # refuse the folder before any work (and before a close)
        check_output_set(out, "payouts", inputs=inputs, force=force)
    if close is not None:
        from attain.cli.ledger import close_period

        close_period(plans, targets, actuals, data, ledger, close)
        if out is None:
            return
    elif out is None:
        raise click.UsageError("Missing option '--out'.")
    with progress_bar("reading tables") as progress:
        # the org alone: the deals come from --actuals, and history or accounts pay no one
        company = (
            load_company(folder, progress=progress, tables=("org",)) if folder is not None else None
        )
    loaded = [load_plan(p, company) for p in plans]
    if xlsx and len(loaded) > 1:
        raise click.UsageError("--xlsx takes one plan (the workbook is one plan's)")
    with progress_bar("computing payouts") as progress:
        result = payouts(loaded, targets, actuals, company, measures=measures, progress=progress)
    with progress_bar("writing statements") as progress:
        files = result.write(
            out, inputs=inputs, force=force, html=html, progress=progress, xlsx=xlsx
        )
    echo_notices(result.notices)
    for summary in result.summary.plans:
        click.echo(
            f"{summary.plan}: {summary.n_participants} participants, {summary.n_lines} "
            f"lines, total {summary.total_payout} {summary.currency}".rstrip()
        )
    if len(result.plans) > 1:
        s = result.summary
        click.echo(f"all plans: total {s.total_payout} {s.currency}".rstrip())
    for name in ("payouts.csv", "payouts.xlsx", "statements.csv", "summary.json"):
        if any(f.name == name for f in files):
            click.echo(f"wrote {out / name}")
    n_md = sum(1 for f in files if f.suffix == ".md")
    if n_md:
        pages = " (Markdown and HTML)" if html else ""
        click.echo(f"wrote {n_md} statements{pages} under {out / 'statements'}")

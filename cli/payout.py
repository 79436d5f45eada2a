"""`attain payout`: a plan + targets + actuals → payouts.csv, statements, summary.json."""

from __future__ import annotations

from pathlib import Path

import click

from attain.data import load_company
from attain.incentive import load_plan, payouts
from attain.incentive.api import plan_company_dir


@click.command()
@click.argument("plan", type=click.Path(dir_okay=False, path_type=Path))
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
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write payouts.csv, statements.csv, statements/ and summary.json.",
)
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Company data folder (org, products); default: the folder the plan names in `company:`.",
)
def payout(plan: Path, targets: Path, actuals: Path, out: Path, data: Path | None) -> None:
    """Compute every participant's payout per period, exact to the cent, with statements.

    Example: attain payout rules/plan_field_rep.yaml --targets out/targets.csv
    --actuals scenarios/sample/actuals.csv --out out/payouts
    """
    folder = data or plan_company_dir(plan)
    company = load_company(folder) if folder is not None else None
    result = payouts(load_plan(plan, company), targets, actuals, company)
    files = result.write(out)
    summary = result.summary
    click.echo(
        f"{summary['plan']}: {summary['n_participants']} participants, "
        f"{summary['n_lines']} lines, total {summary['total_payout']} {summary['currency']}".rstrip()
    )
    for name in ("payouts.csv", "statements.csv", "summary.json"):
        if any(f.name == name for f in files):
            click.echo(f"wrote {out / name}")
    n_md = sum(1 for f in files if f.suffix == ".md")
    if n_md:
        click.echo(f"wrote {n_md} statements under {out / 'statements'}")

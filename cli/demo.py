"""`attain demo`: the whole flow on the bundled sample company, explained as it goes.

allocate the year's targets → pay a year of deals against them → simulate two
plans side by side → write the report. Each step is one library call; this
module only chains them and tells a newcomer what they are looking at.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import cast

import click

import attain
from attain.cli.options import force_option
from attain.cli.simulate import print_summary, run_simulation
from attain.output import OutputSet, output_set
from attain.sample import bundled

__all__ = ["demo"]

#: The demo runs on the files shipped with attain (package data: a wheel has them too).
SAMPLE = bundled("scenarios/sample")
ALLOCATION_RULES = bundled("rules/allocation_fy27.yaml")
PLAN = bundled("rules/plan_field_rep.yaml")
SCENARIO = bundled("scenarios/compare_plans.yaml")


def _shown(path: Path) -> str:
    """A shipped file's name as the docs spell it (`rules/plan_field_rep.yaml`)."""
    return f"{path.parent.name}/{path.name}"


@click.command()
@click.option(
    "--out",
    "out",
    default=Path("out/demo"),
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write every output to.",
)
@click.option(
    "--trials", default=1000, show_default=True, type=click.IntRange(min=1), help="Simulated years."
)
@force_option
def demo(out: Path, trials: int, force: bool) -> None:
    """Run the whole flow on the bundled sample company and say where everything went.

    Example: attain demo --out out/demo
    """
    if not (SAMPLE / "company.yaml").exists():
        raise click.ClickException(
            f"the sample company shipped with attain is missing ({SAMPLE}); reinstall attain"
        )
    company = attain.load_company(SAMPLE)
    _company(company)
    with output_set(out, kind="demo", force=force) as stage:  # every step's files, or none
        allocation = _allocate(company, stage, "allocation")
        _pay(company, allocation, stage, "payouts")
        _simulate(stage.path / "allocation" / "targets.csv", stage, "simulation", trials)
    click.echo(
        f"\nEverything is in {out}/. Open {out / 'simulation' / 'report.html'} in a browser."
    )


def _step(number: int, title: str, explanation: str) -> None:
    click.echo(f"\n{number}. {title}")
    click.echo(click.wrap_text(explanation, initial_indent="   ", subsequent_indent="   "))


def _company(company: attain.Company) -> None:
    s = company.summary()
    click.echo(
        f"The sample company: {s['name']}, fiscal year {s['fiscal_year']}, amounts in {s['currency']}."
    )
    roles = ", ".join(f"{n} {role}s" for role, n in cast(dict[str, int], s["roles"]).items())
    click.echo(
        f"   {roles} in {s.get('n_team', '?')} teams and {s.get('n_region', '?')} regions; "
        f"{s.get('n_accounts', 0):,} accounts; 24 months of sales history; products "
        f"{', '.join(cast(list[str], s['products']))}. (data: {_shown(SAMPLE)}/)"
    )


def _allocate(company: attain.Company, stage: OutputSet, folder: str) -> attain.Allocation:
    _step(
        1,
        f"Allocate the year's target ({_shown(ALLOCATION_RULES)})",
        "The company target is split over regions, teams, reps, months and products by an LP "
        "solver, as fair as the rules allow: each rep's target tracks their fair share "
        "(potential and last year's sales), within growth caps, capacity and new-hire ramps.",
    )
    allocation = attain.allocate(ALLOCATION_RULES, company)
    paths = stage.final(allocation.write_files(stage.path / folder))
    s = allocation.summary
    fairness = s["fairness"]
    click.echo(
        f"   {s['status']}: {s['n_reps']} reps, total target {s['total_target']:,.0f} "
        f"(company target {s['company_target']:,.0f}); worst gap to fair share "
        f"{fairness['max_gap']:.1%}; solved with {s['solver']}."
    )
    _wrote(paths)
    return allocation


def _pay(
    company: attain.Company, allocation: attain.Allocation, stage: OutputSet, folder: str
) -> None:
    _step(
        2,
        f"Pay a year of deals against those targets ({_shown(PLAN)})",
        "Every deal in the sample's actuals is credited (splits, cancellations in their own "
        "month) and paid by the plan, exact to the cent, with a statement per rep that shows "
        "each amount's rule, inputs and arithmetic.",
    )
    result = attain.payouts(PLAN, allocation.targets, company.actuals, company=company)
    paths = stage.final(result.write_files(stage.path / folder, html=True))
    out = stage.out / folder
    s = result.summary
    parts = ", ".join(f"{name} {_money(amount)}" for name, amount in s["by_component"].items())
    click.echo(
        f"   {s['n_participants']} participants are paid {_money(s['total_payout'])} "
        f"{s['currency']} for the year ({parts})."
    )
    click.echo(f"   Each rep's statement: {out / 'statements'}/<rep_id>.md (and .html to print)")
    _wrote(paths)


def _money(text: str) -> str:
    """Exact decimal text with thousands separators (no float in between)."""
    return f"{Decimal(text):,}"


def _simulate(targets: Path, stage: OutputSet, folder: str, trials: int) -> None:
    _step(
        3,
        f"Simulate two plans on the same {trials:,} years ({_shown(SCENARIO)})",
        "Attainment is drawn per rep with shared company, region and team shocks; both plans "
        "are paid on the same draws, so their difference is measured, not guessed. What-ifs "
        "(a downturn, a boom, stars, a slow product launch) reuse the draws.",
    )
    result, paths = run_simulation(SCENARIO, stage.path / folder, trials=trials, targets=targets)
    print_summary(result)
    _wrote(stage.final(paths))


def _wrote(paths: list[Path]) -> None:
    """List the files written, folding a folder of many (the statements) into one line."""
    by_folder: dict[Path, list[Path]] = {}
    for path in paths:
        by_folder.setdefault(path.parent, []).append(path)
    for folder, files in by_folder.items():
        if len(files) > 3:
            click.echo(f"   wrote {len(files)} files in {folder}/ ({files[0].name}, ...)")
        else:
            for path in files:
                click.echo(f"   wrote {path}")

"""`attain demo`: the whole flow on the bundled sample company, explained as it goes.

allocate the year's targets → pay a year of deals against them → simulate two
plans side by side → write the report → the year at 30 June: track the first half,
forecast the close, re-plan July–December after a leaver and a leave of absence.
Each step is one library call; this module only chains them and tells a newcomer
what they are looking at.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import click
import yaml

import attain
from attain.cli.options import force_option
from attain.cli.simulate import print_summary, run_simulation
from attain.output import OutputSet, check_output_set, output_set
from attain.sample import bundled

__all__ = ["demo"]

#: The demo runs on the files shipped with attain (package data: a wheel has them too).
SAMPLE = bundled("scenarios/sample")
ALLOCATION_RULES = bundled("rules/allocation_fy27.yaml")
PLAN = bundled("rules/plan_field_rep.yaml")
SCENARIO = bundled("scenarios/compare_plans.yaml")
#: The mid-year step: tracked at this date, re-planned from the next month.
MID_YEAR = "2027-06-30"
REPLAN_FROM = "2027-07"


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
    check_output_set(out, "demo", force=force)  # before any step runs
    company = attain.load_company(SAMPLE)
    _company(company)
    with output_set(out, kind="demo", force=force) as stage:  # every step's files, or none
        allocation = _allocate(company, stage, "allocation")
        _pay(company, allocation, stage, "payouts")
        _simulate(stage.path / "allocation" / "targets.csv", stage, "simulation", trials)
        _mid_year(company, allocation, stage, trials)
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
        if len(files) > 5:
            click.echo(f"   wrote {len(files)} files in {folder}/ ({files[0].name}, ...)")
        else:
            for path in files:
                click.echo(f"   wrote {path}")


def _mid_year(
    company: attain.Company, allocation: attain.Allocation, stage: OutputSet, trials: int
) -> None:
    _step(
        4,
        "The year at 30 June: track, forecast, re-plan July–December",
        "The first half's deals against the targets: progress against each target's own "
        "monthly phasing, pace, a year-end forecast with P10/P50/P90 and commission accrued "
        "(tracking/board.html is the target board). Then one rep leaves at the end of "
        "August (their team makes up the rest of their year) and another takes September "
        "and October off (relieved): the rest of the year is re-planned on the same rules, "
        "January–June kept exactly, and replan.csv says what moved and why.",
    )
    deals = company.actuals
    first_half = deals[deals["date"] <= MID_YEAR].copy() if deals is not None else None
    tracking = attain.track(
        allocation.targets,
        first_half,
        MID_YEAR,
        plans=[PLAN],
        company=company,
        trials=min(trials, 500),
        seed=1,
    )
    paths = stage.final(tracking.write_files(stage.path / "tracking"))
    row = tracking.table[tracking.table["level"] == "company"].iloc[0]
    click.echo(
        f"   At 30 June: {row['actual_to_date']:,.0f} sold against {row['expected_to_date']:,.0f} "
        f"expected (pace {row['pace']:.0%}); year-end forecast {row['forecast_p50']:,.0f} "
        f"(P10 {row['forecast_p10']:,.0f}, P90 {row['forecast_p90']:,.0f}) against a target "
        f"of {row['target']:,.0f}; {len(tracking.at_risk)} reps at risk."
    )
    _wrote(paths)
    leaver, relieved = _mid_year_changes(allocation)
    rules, dated = _mid_year_rules(company, leaver, relieved)
    replanned = attain.allocate(
        rules, dated, replan_from=REPLAN_FROM, previous=allocation.targets, actuals=first_half
    )
    paths = stage.final(replanned.write_files(stage.path / "replan"))
    r = replanned.summary["replan"]
    click.echo(
        f"   Re-planned from {REPLAN_FROM}: {leaver} leaves 31 August, {relieved} is on leave "
        f"in September and October; {r['n_changed']:,} rep-months moved, "
        f"{r['dropped']:,.0f} relieved, total target {replanned.summary['total_target']:,.0f}."
    )
    _wrote(paths)


def _mid_year_changes(allocation: attain.Allocation) -> tuple[str, str]:
    """Two reps of the same team: the first leaves, the second takes a leave."""
    targets = allocation.targets
    team = sorted(targets["team"].unique())[0]
    reps = sorted(targets.loc[targets["team"] == team, "rep_id"].unique())
    return str(reps[0]), str(reps[1])


def _mid_year_rules(
    company: attain.Company, leaver: str, relieved: str
) -> tuple[dict[str, Any], attain.Company]:
    """The shipped allocation rules with the leaver and relief rules, and the org dated."""
    rules = yaml.safe_load(ALLOCATION_RULES.read_text(encoding="utf-8"))
    rules["replan"] = {
        "leavers": "team",
        "relief": [
            {
                "rep_id": relieved,
                "months": ["2027-09", "2027-10"],
                "share": 1.0,
                "reason": "leave of absence",
            }
        ],
    }
    org = company.org.astype(str).assign(start_date="", end_date="")
    org.loc[org["rep_id"] == leaver, "end_date"] = "2027-08-31"
    frames = {
        name: frame
        for name in ("accounts", "potential", "history", "actuals")
        if (frame := getattr(company, name, None)) is not None
    }
    return rules, attain.company_from_frames(company.rules, org=org, **frames)

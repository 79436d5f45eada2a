"""The public entry points: load a plan (with its company's products) and compute payouts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import pandas as pd
import yaml

from attain.data import Company, load_company
from attain.incentive.combined import CombinedPayouts
from attain.incentive.compile import compile_plan
from attain.incentive.credit import credit_deals
from attain.incentive.exact import evaluate_exact
from attain.incentive.inputs import read_book
from attain.incentive.measures import company_measures, read_measures
from attain.incentive.result import Payouts
from attain.incentive.run import build_windows, measures_needed
from attain.load import load_rules
from attain.progress import Progress, Steps
from attain.schema.plan import Plan, known_products

__all__ = ["check_plan", "load_plan", "payouts", "payouts_of_plans", "plan_company_dir"]


#: The stages :func:`payouts` reports: tables read, credited, windows, evaluated, lines.
_STAGES = 5


def _offset(progress: Progress | None, before: int, total: int) -> Progress | None:
    """A plan's stages as part of the whole run's."""
    if progress is None:
        return None
    report = progress
    return lambda done, _: report(before + done, total)


def plan_company_dir(path: str | Path) -> Path | None:
    """The company data folder a plan file names (``company:``), resolved from the file."""
    path = Path(path)
    try:
        head = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None  # load_rules reports it, located
    if isinstance(head, dict) and isinstance(head.get("company"), str):
        return (path.parent / head["company"]).resolve()
    return None


def load_plan(
    source: str | Path | Mapping[str, Any], company: Company | str | Path | None = None
) -> Plan:
    """Load and validate a plan file (or mapping).

    Product names are checked at load against the company's products: the company
    given here, else the data folder the plan names in ``company:``. Without either,
    names are only checked for form.
    """
    if isinstance(company, str | Path):
        company = load_company(company)
    products = tuple(company.rules.products) if company is not None else None
    if products is None and not isinstance(source, Mapping):
        folder = plan_company_dir(source)
        if folder is not None and (folder / "company.yaml").exists():
            products = tuple(load_rules(folder / "company.yaml", kind="company").products)
    with known_products(products):
        return cast(Plan, load_rules(source, kind="plan"))


def check_plan(path: str | Path) -> Plan:
    """Load a plan file as :func:`load_plan` does, and check its KPI components against the
    measures table its company names (``tables: measures:``), as a payout would: every
    measure read is in the table, every row of a ratio has its denominator (``attain
    validate``). A company without a measures table is not an error: the table may come
    with ``--measures`` at run time."""
    plan = load_plan(path)
    folder = plan_company_dir(path)
    if folder is None or not (folder / "company.yaml").exists():
        return plan
    rules = load_rules(folder / "company.yaml", kind="company")
    if getattr(rules.tables, "measures", None) is None:
        return plan
    unit = plan.rounding.minor_unit if plan.rounding.minor_unit is not None else rules.minor_unit
    needed, where = measures_needed(compile_plan(plan, tuple(rules.products), unit))
    if not needed:
        return plan
    from attain.incentive.calendar import Calendar

    company = load_company(folder, tables=("org", "measures"))
    calendar = Calendar.of_company(rules, plan.fiscal_year, plan.period)
    read_measures(company_measures(company), needed, company.org, calendar, where, plan=str(path))
    return plan


def payouts(
    plan: Plan | str | Path | Mapping[str, Any] | Sequence[Plan | str | Path | Mapping[str, Any]],
    targets: pd.DataFrame | str | Path,
    actuals: pd.DataFrame | str | Path | None = None,
    company: Company | str | Path | None = None,
    *,
    measures: pd.DataFrame | str | Path | None = None,
    measures_until: dt.date | None = None,
    progress: Progress | None = None,
    through: str | None = None,
) -> Payouts:
    """Every participant's payout per period, exact to the minor unit, with statements.

    ``targets`` is the allocation's targets table (``rep_id, period, product, target``);
    ``actuals`` the deals table (the company's, if absent). ``company`` gives the org
    (roles, teams, target incentives) and products; without it, people and their org
    columns come from the targets table. A list of plans pays each on its own, side by
    side (:func:`payouts_of_plans`): the result is a :class:`Payouts` either way.
    ``measures`` is the measures table KPI components read (``rep_id, date, measure, value,
    denominator``: :mod:`attain.incentive.measures`); by default the company's (``tables:
    measures:`` in company.yaml). ``measures_until`` leaves out its rows dated after that
    day (counted in a notice): tracking at a date reads the year's table.
    ``progress(done, total)`` is called as each stage of each plan finishes (tables read,
    deals credited, windows built, evaluated, lines labelled).
    ``through`` (a pay period of the plan's year, e.g. ``2027-03``): the lines and totals
    of the periods up to it only, as a close of that period pays them (the year's data is
    read and credited, the periods after it are not evaluated where they cannot change
    it: :func:`~attain.incentive.exact.windows_upto`; the summary's balances are those
    after it); ValueError if it is not one of the year's periods.
    """
    if not isinstance(plan, Plan | str | Path | Mapping):
        return payouts_of_plans(
            list(plan),
            targets,
            actuals,
            company,
            measures=measures,
            measures_until=measures_until,
            progress=progress,
            through=through,
        )
    steps = Steps(progress, _STAGES)
    if isinstance(company, str | Path):
        company = load_company(company)
    if not isinstance(plan, Plan):
        plan = load_plan(plan, company)
    elif company is not None:
        # A plan built in Python: check its product names against the company, as at load.
        plan = load_plan(plan.model_dump(mode="json"), company)
    minor = company.rules.minor_unit if company is not None else None
    products = tuple(company.rules.products) if company is not None else None
    unit = (
        plan.rounding.minor_unit
        if plan.rounding.minor_unit is not None
        else (minor if minor is not None else 2)
    )
    book = read_book(targets, actuals, company, plan.fiscal_year, plan.period, unit)
    last = _period_index(book.calendar, through)
    steps.advance()
    compiled = compile_plan(plan, products or book.products, unit)
    needed, where = measures_needed(compiled)
    if measures is None:  # the company's table, read only when a component needs it
        measures = company_measures(company)
    table = read_measures(
        measures,
        needed,
        book.people,
        book.calendar,
        where,
        plan=f"plan {plan.name}",
        until=measures_until,
        dated=book.dated,
        roles=compiled.participant_roles,
    )
    credit = credit_deals(compiled, book)
    steps.advance()
    windows = build_windows(compiled, book, credit, table)
    steps.advance()
    evaluation = evaluate_exact(compiled, windows, through=last)
    steps.advance()
    currency = company.rules.currency if company is not None else ""
    result = Payouts.build(compiled, book, windows, evaluation, credit, currency, plan, last)
    steps.advance()
    return result


def _period_index(calendar, through: str | None) -> int | None:
    if through is None:
        return None
    labels = calendar.period_labels()
    if through not in labels:
        raise ValueError(
            f"through={through!r} is not a pay period of the plan's year "
            f"({labels[0]} … {labels[-1]})"
        )
    return labels.index(through)


def payouts_of_plans(
    plans: Sequence[Plan | str | Path | Mapping[str, Any]],
    targets: pd.DataFrame | str | Path,
    actuals: pd.DataFrame | str | Path | None = None,
    company: Company | str | Path | None = None,
    *,
    measures: pd.DataFrame | str | Path | None = None,
    measures_until: dt.date | None = None,
    progress: Progress | None = None,
    through: str | None = None,
) -> Payouts:
    """Several plans per person (a rep plan plus a product overlay) on the same targets
    and deals: each plan computed exactly on its own, the results side by side (a
    :class:`CombinedPayouts`; one plan gives that plan's :class:`Payouts`, whose files
    have no ``plan`` column)."""
    if isinstance(company, str | Path):
        company = load_company(company)
    plans = [p if isinstance(p, Plan) else load_plan(p, company) for p in plans]
    names = [p.name for p in plans]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        from attain.errors import Problem, RuleFileError

        raise RuleFileError(
            [Problem("<plans>", f"two plans are named `{dup[0]}`; plan names must differ")]
        )
    if not plans:
        raise ValueError("payouts_of_plans needs at least one plan")
    total = _STAGES * len(plans)
    results = [
        payouts(
            p,
            targets,
            actuals,
            company,
            measures=measures,
            measures_until=measures_until,
            progress=_offset(progress, i * _STAGES, total),
            through=through,
        )
        for i, p in enumerate(plans)
    ]
    return results[0] if len(results) == 1 else CombinedPayouts.of(results)

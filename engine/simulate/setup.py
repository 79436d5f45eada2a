"""A scenario file → everything a run needs: company, plans, targets, population, models."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from attain.data import PLANNING_TABLES, Company, load_company
from attain.errors import Problem, RuleFileError
from attain.load import load_rules
from attain.schema.base import known_products
from attain.schema.plan import Plan
from attain.schema.scenario import Scenario, TargetSource
from attain.simulate.evaluator import PayoutModel, plan_model
from attain.simulate.package import PackageModel, package_name
from attain.simulate.population import Population, build_population

__all__ = ["SIMULATION_TABLES", "Entry", "Setup", "load_scenario", "load_setup", "read_targets"]

#: One entry of a scenario's `plans`: a plan, or a package of plans paid together.
Entry = Plan | tuple[Plan, ...]


@dataclass(frozen=True)
class Setup:
    """A scenario with its inputs loaded and checked."""

    scenario: Scenario
    source: str
    company: Company
    plans: tuple[Entry, ...]  # a tuple of plans for a package
    population: Population
    models: tuple[PayoutModel, ...]
    #: The deal model estimated from the company's actuals, once for every plan paid on
    #: this setup (a design builds a model per candidate).
    deals: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def model_for(self, plan: Entry) -> PayoutModel:
        """A payout model for ``plan`` (e.g. a perturbed copy) on this setup's people; for a
        tuple of plans, their :class:`~attain.simulate.package.PackageModel`."""
        if isinstance(plan, tuple):
            return PackageModel.of(tuple(self.model_for(p) for p in plan))
        c = self.company
        return plan_model(
            plan,
            c.org,
            self.population.targets,
            c.products,
            c.rules.minor_unit,
            company=c,
            unit_prices=self.scenario.unit_prices,
            deals_cache=self.deals,
        )


def load_setup(
    scenario: Scenario | str | Path, base: Path | None = None, targets: str | Path | None = None
) -> Setup:
    """Load a scenario file (or take a model; its paths are relative to ``base``).

    ``targets`` (a targets file or an allocation's output folder) replaces the scenario's
    own target source, e.g. the targets the demo has just allocated.
    """
    source = "<scenario>"
    if not isinstance(scenario, Scenario):
        source = str(scenario)
        base = Path(scenario).parent if base is None else base
    base = Path(".") if base is None else Path(base)
    scenario, company = _with_company(scenario, base, simulation=True, allocates=targets is None)
    if targets is not None:
        own = TargetSource(file=str(Path(targets).resolve()))
        scenario = scenario.model_copy(update={"targets": own})
    loaded = {f: _load_plan(base / f, company) for e in scenario.plan_entries() for f in e}
    plans = tuple(
        loaded[e[0]] if len(e) == 1 else tuple(loaded[f] for f in e)
        for e in scenario.plan_entries()
    )
    _distinct_names(plans, source)
    targets = read_targets(scenario, base, company)
    population = build_population(
        company.org,
        targets,
        company.products,
        company.history,
        company.rules.fiscal_year_start,
        dated=company.org_dated,
        fiscal_year=company.rules.fiscal_year,
    )
    setup = Setup(scenario, source, company, plans, population, ())
    models = tuple(setup.model_for(p) for p in plans)
    return Setup(scenario, source, company, plans, population, models, setup.deals)


def load_scenario(path: str | Path) -> Scenario:
    """A scenario file, its product names (variant ramps, unit prices) checked against the
    company it names — what ``attain validate`` checks without running anything."""
    return _with_company(Path(path), Path(path).parent)[0]


#: The company tables a simulation reads: the org, the history (seasonality, mix, bias,
#: bootstrap) and the deals (the deal model: unit prices, deal sizes, cancellations); not
#: the accounts nor the measures (nor the potential), unless its targets are allocated
#: (:data:`attain.data.PLANNING_TABLES`). At 50,000 sample reps that skips 123 MB of
#: its 385 MB of tables.
SIMULATION_TABLES = ("org", "history", "actuals")


def _with_company(
    scenario: Scenario | Path | str, base: Path, simulation: bool = False, allocates: bool = True
) -> tuple[Scenario, Company]:
    """The scenario validated against the products of the company it names, and that
    company: a misnamed product is reported at its line, like a plan's. With
    ``simulation`` only the tables a run reads (:data:`SIMULATION_TABLES`, and the
    planning tables when ``allocates`` and the targets come from an allocation)."""
    first = scenario if isinstance(scenario, Scenario) else load_rules(scenario, kind="scenario")
    tables = None
    if simulation:
        allocated = allocates and first.targets.allocation is not None
        tables = (*SIMULATION_TABLES, *(PLANNING_TABLES if allocated else ()))
    company = load_company(base / first.company, tables=tables)
    source = first.model_dump() if isinstance(scenario, Scenario) else scenario
    with known_products(company.products):
        return load_rules(source, kind="scenario"), company


def _load_plan(path: Path, company: Company) -> Plan:
    from attain.incentive import load_plan

    return load_plan(path, company)


def entry_name(entry: Entry) -> str:
    """A plan's name, or a package's (its plans' names joined with ``+``)."""
    return package_name([p.name for p in entry]) if isinstance(entry, tuple) else entry.name


def _distinct_names(plans: tuple[Entry, ...], source: str) -> None:
    for i, entry in enumerate(plans):
        if isinstance(entry, tuple):
            _distinct([p.name for p in entry], source, f"plans[{i}]")
    _distinct([entry_name(e) for e in plans], source, "plans")


def _distinct(names: list[str], source: str, path: str) -> None:
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise RuleFileError(
            [Problem(source, f"two plans are named `{dup[0]}`; plan names must differ", path=path)]
        )


def read_targets(scenario: Scenario, base: Path, company: Company) -> np.ndarray:
    """The targets as float64[R, 12, K] in currency, people in the org table's order."""
    from attain.incentive import read_book

    source = scenario.targets
    if source.allocation is not None:
        from attain.allocate import allocate

        frame: pd.DataFrame | Path = allocate(base / source.allocation, company).targets
    else:
        path = base / source.file
        frame = path / "targets.csv" if path.is_dir() else path
    unit = company.rules.minor_unit
    book = read_book(frame, _no_deals(), company, None, "month", unit)
    return book.targets.astype(np.float64) / 10**unit


def _no_deals() -> pd.DataFrame:
    columns = ["deal_id", "date", "rep_id", "product", "amount"]
    return pd.DataFrame({c: pd.Series([], dtype=str) for c in columns})

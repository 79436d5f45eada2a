"""``allocate(rules, data) -> Allocation``: the stages end to end.

rules + company → :class:`Inputs` (arrays) → stage-1 model (rep × product
totals; every coupling rule) → lexicographic solves → stage 2 (each rep's
months, closed form) → exact rounding → explanation. ``method="monolithic"``
solves the months inside the one model instead.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from attain.allocate.activity import activity_targets
from attain.allocate.build import AllocationModel, build_model, fair_rep
from attain.allocate.diagnose import diagnose
from attain.allocate.expense import expense_budgets
from attain.allocate.explain import analyse, binding_frame, fairness_figures, rep_rules
from attain.allocate.inputs import org_names, prepare
from attain.allocate.monolithic import add_cells, cell_values
from attain.allocate.result import Allocation, AllocationSummary, json_safe
from attain.allocate.rounding import round_targets
from attain.allocate.solve import Solution, solve_lexicographic
from attain.allocate.split import adjusted_profiles, month_profiles, split_months
from attain.data import PLANNING_TABLES, Company, load_company
from attain.errors import InfeasibleError, SolverError
from attain.load import load_rules
from attain.notices import notices_json
from attain.progress import SolveProgress, watches_solves
from attain.schema.allocation import AllocationRules
from attain.schema.base import known_org
from attain.solvers import DEFAULT_SOLVER, SolveOptions, Status

__all__ = ["allocate"]


@watches_solves
def allocate(
    rules: AllocationRules | str | Path | dict[str, Any],
    data: Company | str | Path,
    solver: str | None = None,
    time_limit: float | None = None,
    method: str | None = None,
    verbose: bool = False,
    *,
    replan_from: str | None = None,
    previous: pd.DataFrame | str | Path | None = None,
    actuals: pd.DataFrame | str | Path | None = None,
    solve_progress: SolveProgress | None = None,
    previous_expenses: pd.DataFrame | str | Path | None = None,
    previous_activities: pd.DataFrame | str | Path | None = None,
) -> Allocation:
    """Allocate the company target by the rules; raise InfeasibleError naming conflicts.

    ``rules``: an ``allocation`` rule file path, a mapping, or a loaded model.
    ``data``: a :class:`~attain.Company` or its data folder. ``solver``: a name of
    :data:`attain.solvers.BACKENDS` (default HiGHS). ``method``: ``staged`` or
    ``monolithic`` (default: the rules' ``method``). ``verbose``: let the solver write
    its log to standard output (off: nothing reaches it). ``solve_progress``: called with
    a :class:`~attain.progress.SolveStatus` (elapsed, best bound) while each solve runs.

    ``replan_from`` (``YYYY-MM``) re-plans the year from that month on the ``previous``
    targets (an allocation's targets table), months before it kept exactly; ``actuals``
    (a deals table) show each month's sales in the explanation
    (:func:`attain.allocate.replan.replan`, a :class:`~attain.allocate.replan.Replanned`);
    ``previous_expenses`` / ``previous_activities`` (the previous ``expense_budget.csv`` /
    ``activity_targets.csv``; by default the files beside a ``previous`` targets file)
    keep the past months' budgets and the past weeks' activity targets.
    """
    if replan_from is not None or previous is not None:
        from attain.allocate.replan import replan

        return replan(
            rules, data, replan_from, previous, actuals,
            solver=solver, time_limit=time_limit, verbose=verbose,
            previous_expenses=previous_expenses, previous_activities=previous_activities,
        )  # fmt: skip
    source = str(rules) if isinstance(rules, str | Path) else "<rules>"
    company = data if isinstance(data, Company) else load_company(data, tables=PLANNING_TABLES)
    if not isinstance(rules, AllocationRules):
        with known_org(org_names(company)):  # names checked in the same pass as the form
            rules = load_rules(rules, kind="allocation")
    solver = solver or DEFAULT_SOLVER
    options = SolveOptions(time_limit=time_limit, verbose=verbose)
    method = method or rules.method
    method = "staged" if method == "auto" else method

    t0 = time.perf_counter()
    inputs = prepare(rules, company, source)
    terms = {t for level in rules.objective for t in ([level] if isinstance(level, str) else level)}
    profiles = adjusted_profiles(inputs, solver, options)
    shares = month_profiles(inputs, profiles)
    model = build_model(inputs, terms)
    if method == "monolithic":
        add_cells(model, shares)  # its months tie-break toward stage 2's
    build_seconds = time.perf_counter() - t0

    solution = solve_lexicographic(model, solver, options)
    if not isinstance(solution, Solution):
        _fail(model, solution, solver, options)
    R, P = inputs.n_reps, inputs.n_products
    totals = np.maximum(solution.x[: R * P].reshape(R, P), 0.0)
    if method == "monolithic":
        cells = cell_values(model, solution.x)
    else:
        cells = split_months(totals, shares)

    t1 = time.perf_counter()
    rounded = round_targets(inputs, model, totals, cells)
    round_seconds = time.perf_counter() - t1
    return _result(inputs, model, solution, rounded, solver, method, build_seconds, round_seconds)


def _fail(model: AllocationModel, result, solver: str, options: SolveOptions) -> NoReturn:
    if result.status in (Status.INFEASIBLE, Status.INFEASIBLE_OR_UNBOUNDED):
        conflicts = diagnose(model, solver, options)
        lines = [line for c in conflicts for line in c.lines]
        error = InfeasibleError(
            "the hard rules conflict: no targets satisfy them all "
            f"({len(conflicts)} conflict{'s' if len(conflicts) != 1 else ''} found; "
            "drop or soften one rule of each)",
            lines,
        )
        error.rule_sets = [list(c) for c in conflicts]
        raise error
    raise SolverError(
        f"solver `{solver}` stopped without a solution ({result.status.value}"
        f"{': ' + result.message if result.message else ''}); raise --time-limit"
    )


def _result(inputs, model, solution, rounded, solver, method, build_seconds, round_seconds, **held):
    """The labelled allocation; ``held`` (a re-plan): ``expenses`` and ``activities``,
    the past months of the previous budgets and weeks of activity targets kept."""
    binding = analyse(model, solution)
    pairs = rep_rules(model, solution, binding)
    unit = rounded["unit"]
    rep_target = rounded["rep"] * unit
    counts = _rule_counts(model, pairs)
    fairness = fairness_figures(
        rep_target, inputs.fair.sum(axis=1), inputs.potential.sum(axis=1), counts
    )
    allocation = Allocation.assemble(
        inputs=inputs,
        model=model,
        solution=solution,
        binding=binding,
        pairs=pairs,
        rounded=rounded,
        fairness=fairness,
        solver=solver,
        method=method,
        build_seconds=build_seconds,
        round_seconds=round_seconds,
        fair=fair_rep(inputs),
    )
    frame = binding_frame(model, solution, binding)
    allocation = replace(allocation, binding=frame, problem=solution.problem)
    return _with_budgets(allocation, inputs, rounded, **held)


def _with_budgets(
    allocation: Allocation, inputs, rounded, expenses=None, activities=None
) -> Allocation:
    """The rules' expense budgets and activity targets on the rounded targets, if any
    (``expenses``, ``activities``: a re-plan's held past)."""
    spend = expense_budgets(inputs, rounded, expenses)
    acts = activity_targets(inputs, rounded, activities)
    if spend is None and acts is None:
        return allocation
    notices = list(allocation.notices)
    summary = allocation.summary.to_dict()
    if spend is not None:
        summary["expenses"] = json_safe(spend.summary)
        notices.extend(spend.notices)
    if acts is not None:
        summary["activities"] = json_safe(acts.summary)
        notices.extend(acts.notices)
    summary["warnings"] = notices_json(notices)
    return replace(
        allocation,
        summary=AllocationSummary.from_dict(summary),
        notices=notices,
        expense_budget=spend.frame if spend is not None else None,
        activity_targets=acts.frame if acts is not None else None,
    )


def _rule_counts(model: AllocationModel, pairs: pd.DataFrame) -> dict[str, int]:
    """Reps held by each kind of rule (binding rows only)."""
    kinds = np.array([b.kind for b in model.blocks])
    out = {}
    for label, kind in (
        ("n_at_growth_limit", "growth"),
        ("n_at_capacity", "capacity"),
        ("n_at_ramp", "ramp"),
        ("n_at_bounds", "bounds"),
        ("n_at_mix", "mix"),
        ("n_at_share", "share"),
    ):
        if len(pairs):
            out[label] = int(pairs.loc[kinds[pairs["block"].to_numpy()] == kind, "rep"].nunique())
        else:
            out[label] = 0
    return out

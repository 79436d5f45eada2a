"""Re-plan the rest of the year: past months keep their targets, the rest is solved again.

``replan(rules, data, replan_from, previous)`` reads the previous targets (an allocation's
``targets.csv``) and builds the *same* allocation model as :func:`attain.allocate` (the
rules' rows over each rep × product year total, the fairness levels), with what is
already decided held as rows of its own:

* ``previous_months``: each rep × product year total is at least what its held months
  carry — every month before the re-plan month at its previous target, and the months a
  change fixes (a leaver's months after leaving at 0, a joiner's months before starting
  at 0, relieved months at the previous target less the relief); a rep × product with
  no open month is held exactly;
* ``team_make_up``: a team that makes up a leaver's or a relieved rep's target
  (``replan.leavers: team``, ``relief.to: team``) keeps its previous year total;
* ``open_headcount_takes_over``: a team's open headcount carries what its leavers leave
  (``replan.leavers: open_headcount``).

The company total is the rules' company target (× the rep buffer) less what the rules
drop (``leavers: drop``, ``relief.to: drop``), so the re-planned year adds up to the
company target unless the rules say otherwise. Fair shares are the year's, from the
dated org (a joiner's ramp from their start date, a leaver's days in the org), so the
rest of the year evens out what the first months left; a rep whose months are all held
is their own fair share. After the rules' objective levels one more level keeps every
rep as close to their previous year total as the earlier levels allow (``stay``), so a
re-plan with nothing changed gives the previous targets back. Each rep × product's open
months follow the previous plan's phasing (the rules' seasonality where there was none).

Rounding is in whole rounding units, top-down over the open amount only; held months
are copied from the previous targets, so they stay byte for byte what they were.
:class:`Replanned` adds ``changes`` (``replan.csv``: rep, period, old and new target, the
change and its reason) to an :class:`~attain.allocate.Allocation`.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from attain.allocate.build import build_model
from attain.allocate.core import _fail, _result
from attain.allocate.inputs import Inputs, _located, _ramp, org_names, prepare
from attain.allocate.result import Allocation, AllocationSummary
from attain.allocate.rounding import apportion, fix_columns, round_units
from attain.allocate.solve import Solution, level_name, solve_lexicographic
from attain.allocate.split import adjusted_profiles, month_profiles
from attain.data import Company, load_company, read_table
from attain.errors import DataError, InputError, Problem, RuleFileError
from attain.incentive.calendar import Calendar
from attain.incentive.inputs import read_book, read_deals, read_targets
from attain.incentive.proration import days_in_role
from attain.load import load_rules
from attain.model import Block
from attain.notices import Notice, notices_json
from attain.output import write_csv
from attain.schema.allocation import AllocationRules
from attain.schema.base import known_org
from attain.solvers import DEFAULT_SOLVER, SolveOptions
from attain.tables import table_columns

__all__ = ["CHANGE_COLUMNS", "Replanned", "ReplannedSummary", "replan"]

#: Columns of ``replan.csv`` (after the hierarchy columns, which follow ``rep_id``).
CHANGE_COLUMNS = ("period", "old_target", "new_target", "change", "actual", "reason")


@dataclass(frozen=True)
class ReplannedSummary(AllocationSummary):
    """summary.json of a re-plan: an allocation's, and what the re-plan held and moved."""

    replan: dict[str, Any] = field(default_factory=dict)
    """``from``, ``held_total``, ``previous_total``, ``dropped``, ``leavers``, ``joiners``,
    ``n_relief``, ``causes``, ``n_changed``."""


@dataclass(frozen=True)
class Replanned(Allocation):
    """A re-planned allocation: the targets of the whole year and what moved, and why."""

    changes: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Per rep × period from the re-plan month: ``rep_id``, the hierarchy columns,
    ``period``, ``old_target``, ``new_target``, ``change``, ``actual`` (sales credited in
    the month so far) and ``reason``; only rows that moved or that a change names."""

    def write_files(self, out: Path, xlsx: bool = True) -> list[Path]:
        paths = super().write_files(out, xlsx)
        decimals = self.summary.decimals
        changes = self.changes
        if decimals == 0:
            money = ["old_target", "new_target", "change", "actual"]
            changes = changes.assign(**{c: np.rint(changes[c]).astype(np.int64) for c in money})
        paths.insert(1, write_csv(Path(out) / "replan.csv", changes, float_format=f"%.{decimals}f"))
        return paths


@dataclass
class _Plan:
    """What the previous targets and the changes hold, in rounding units (R × P × 12)."""

    first: int  # the re-plan month's index
    prev: np.ndarray
    prev_challenge: np.ndarray | None
    held: np.ndarray  # bool: the cell's value is decided
    value: np.ndarray  # int: the held cells' values (0 elsewhere)
    reason: np.ndarray  # object[R, 12]: why a rep's month was held or moved ("" = none)
    dropped: np.ndarray  # int[P]: units taken off the company total
    make_up: dict[int, int]  # team code -> its year total to hold (units)
    takeover: dict[int, int]  # team code -> units its open headcount takes over
    leavers: list[str]
    joiners: list[str]
    n_relief: int
    causes: list[str]
    presence: np.ndarray  # float[R, 12]: share of each month's days in the org
    gives: np.ndarray  # object[R]: where a leaver's or relieved rep's fair share goes
    n_relaxed: int = 0  # rep-level rule rows a change loosened


def replan(
    rules: AllocationRules | str | Path | dict[str, Any],
    data: Company | str | Path,
    replan_from: str | None,
    previous: pd.DataFrame | str | Path | None,
    actuals: pd.DataFrame | str | Path | None = None,
    *,
    solver: str | None = None,
    time_limit: float | None = None,
    verbose: bool = False,
    previous_expenses: pd.DataFrame | str | Path | None = None,
    previous_activities: pd.DataFrame | str | Path | None = None,
) -> Replanned:
    """Re-plan the year from ``replan_from`` (``YYYY-MM``): months before it keep the
    ``previous`` targets exactly; the rest is allocated again by the rules (see the module
    docstring). ``actuals`` (a deals table; the company's when ``None``) give each changed
    month's sales so far in :attr:`Replanned.changes`.

    With the rules' ``expenses`` or ``activities``, the previous run's
    ``expense_budget.csv`` and ``activity_targets.csv`` (``previous_expenses``,
    ``previous_activities``; by default the files beside a ``previous`` targets file) hold
    the past months' budgets and the past weeks' activity targets; the rest is split
    again (:mod:`attain.allocate.expense`, :mod:`attain.allocate.activity`). Without
    them the whole year is split again, with a warning.
    """
    missing = []
    if replan_from is None:
        missing.append(Problem("--replan-from", "a re-plan needs the month it starts from"))
    if previous is None:
        missing.append(Problem("--targets", "a re-plan needs the previous targets (targets.csv)"))
    if replan_from is None or previous is None:
        raise InputError(missing)
    source = str(rules) if isinstance(rules, str | Path) else "<rules>"
    company = data if isinstance(data, Company) else load_company(data)
    if isinstance(rules, AllocationRules):
        loaded = rules
    else:
        with known_org(org_names(company)):
            loaded = cast(AllocationRules, load_rules(rules, kind="allocation"))
    solver = solver or DEFAULT_SOLVER
    options = SolveOptions(time_limit=time_limit, verbose=verbose)

    t0 = time.perf_counter()
    inputs = prepare(loaded, company, source)
    first = _month_index(inputs, replan_from)
    unit = loaded.rounding.unit if loaded.rounding else 10.0**-company.rules.minor_unit
    frame = previous if isinstance(previous, pd.DataFrame) else read_table(previous)
    plan = _read_previous(inputs, frame, first, unit, source)
    inputs = _replan_inputs(inputs, plan, unit)
    terms = {
        t for level in loaded.objective for t in ([level] if isinstance(level, str) else level)
    }
    profiles = adjusted_profiles(inputs, solver, options)
    shares = month_profiles(inputs, profiles)
    model = build_model(inputs, terms)
    _hold(model, plan, unit)
    build_seconds = time.perf_counter() - t0

    # Each level held by its face: `stay` then solves over equalities rather than a thin
    # slab under the hold rows, which interior point stalled on. (With the tie-breaks
    # summed into it, dual simplex was faster for `stay`: 2.6 s of CPU against 12.8 s at
    # 10,000 reps; apart from them interior point takes 3.1 s, simplex 7.4 s.)
    solution = solve_lexicographic(model, solver, options, faces=True)
    if not isinstance(solution, Solution):
        _fail(model, solution, solver, options)
    R, P = inputs.n_reps, inputs.n_products
    totals = np.maximum(solution.x[: R * P].reshape(R, P), 0.0)
    t1 = time.perf_counter()
    rounded = _round(inputs, plan, totals, shares, unit)
    round_seconds = time.perf_counter() - t1
    held, unheld = _held_budgets(inputs, previous, previous_expenses, previous_activities, first)
    result = _result(
        inputs, model, solution, rounded, solver, "staged", build_seconds, round_seconds, **held
    )
    targets = _with_previous_labels(result.targets, frame, inputs, first)
    changes = _changes(inputs, plan, rounded, unit, first, company, actuals)
    notices = list(result.notices)
    for name in unheld:
        notices.append(
            Notice(
                "replan-past-not-held",
                f"no previous {name} beside the previous targets: its past months are split "
                "again with the rest of the year",
                source="--targets",
            )
        )
    if plan.n_relaxed:
        notices.append(
            Notice(
                "replan-rules-loosened",
                f"{plan.n_relaxed:,} rep-level rule bound(s) loosened for leavers and relieved "
                "reps: a leaver's rules no longer bind, and a floor falls by what a change "
                "took off the rep's year",
                source="replan",
                count=plan.n_relaxed,
            )
        )
    if not plan.causes and not (changes["change"] != 0).any():
        notices.append(
            Notice(
                "replan-unchanged",
                f"nothing changed from {replan_from}: the re-plan gives the previous targets",
                source="--replan-from",
            )
        )
    summary = dict(result.summary)
    # The objective is the rules' last level; `stay` (closest to the previous plan) is not.
    objectives = summary.get("objectives", {})
    last = level_name(loaded.objective[-1])
    summary["objective"] = objectives.get(last, summary["objective"])
    summary["replan"] = {
        "from": replan_from,
        "held_total": float(plan.value[:, :, :first].sum() * unit),
        "previous_total": float(plan.prev.sum() * unit),
        "dropped": float(plan.dropped.sum() * unit),
        "leavers": plan.leavers,
        "joiners": plan.joiners,
        "n_relief": plan.n_relief,
        "causes": plan.causes,
        "n_changed": int((changes["change"] != 0).sum()),
    }
    summary["warnings"] = notices_json(notices)
    base = {f.name: getattr(result, f.name) for f in fields(Allocation)}
    base.update(targets=targets, summary=ReplannedSummary.from_dict(summary), notices=notices)
    return Replanned(**base, changes=changes)


def _held_budgets(inputs: Inputs, previous, expenses, activities, first: int):
    """The past of the previous budgets and activity targets (``held`` for
    :func:`attain.allocate.core._result`) and the files a re-plan could not find."""
    from attain.allocate.activity import held_activities
    from attain.allocate.expense import held_budgets

    beside = Path(previous).parent if isinstance(previous, str | Path) else None
    held: dict[str, Any] = {}
    unheld = []
    for key, given, name, rules, read in (
        ("expenses", expenses, "expense_budget.csv", inputs.rules.expenses, held_budgets),
        (
            "activities",
            activities,
            "activity_targets.csv",
            inputs.rules.activities,
            held_activities,
        ),
    ):
        if rules is None:
            continue
        if given is None and beside is not None and (beside / name).exists():
            given = beside / name
        if given is None:
            unheld.append(name)
            continue
        source = str(given) if isinstance(given, str | Path) else f"<{name}>"
        frame = given if isinstance(given, pd.DataFrame) else read_table(given)
        held[key] = read(inputs, frame.astype(str), first, source)
    return held, unheld


def _month_index(inputs: Inputs, month: str) -> int:
    periods = list(inputs.periods)
    if month not in periods:
        raise InputError(
            [
                Problem(
                    "--replan-from",
                    f"{month!r} is not a month of fiscal year {inputs.company.rules.fiscal_year} "
                    f"({periods[0]} to {periods[-1]})",
                    code="replan-month",
                    hint="give a month of the year the targets are for, as YYYY-MM",
                )
            ]
        )
    return periods.index(month)


def _read_previous(
    inputs: Inputs, frame: pd.DataFrame, first: int, unit: float, source: str
) -> _Plan:
    company = inputs.company
    rules = company.rules
    scale = 10**rules.minor_unit
    # Checked once here: read_book would check the whole company again for each book.
    empty = read_deals(pd.DataFrame({c.name: [] for c in table_columns("actuals")}), None)
    year, minor = rules.fiscal_year, rules.minor_unit
    book = read_book(read_targets(frame), empty, company, year, "month", minor, checked=True)
    has_challenge = "challenge" in frame.columns
    challenge = None
    if has_challenge:
        swapped = frame.drop(columns=["target"]).rename(columns={"challenge": "target"})
        swapped.attrs.update(frame.attrs)
        challenge = read_book(
            read_targets(swapped), empty, company, year, "month", minor, checked=True
        )
    where = pd.Index(inputs.reps["rep_id"]).get_indexer(book.people["rep_id"])
    outside = (where < 0) & book.targets.reshape(len(where), -1).any(axis=1)
    src = frame.attrs.get("source", "<targets>")
    if outside.any():
        ids = book.people["rep_id"].to_numpy()[outside]
        raise DataError(
            [
                Problem(
                    src,
                    f"rep {rid!r} has previous targets but carries no target in these rules "
                    "(not a participant)",
                    field="rep_id",
                    code="not-a-participant",
                    hint="keep everyone with a previous target in the org; a leaver gets an "
                    "end_date",
                )
                for rid in ids[:25]
            ]
        )
    unit_minor = int(round(unit * scale))
    R, P = inputs.n_reps, inputs.n_products
    prod = pd.Index(book.products).get_indexer(list(inputs.products))

    def cells(array: np.ndarray) -> np.ndarray:
        out = np.zeros((R, P, 12), dtype=np.int64)
        keep = where >= 0
        out[where[keep]] = array[keep][:, :, prod].transpose(0, 2, 1)
        return out

    prev = cells(book.targets)
    if (prev % unit_minor).any():
        raise DataError(
            [
                Problem(
                    src,
                    f"previous targets are not whole multiples of the rounding unit {unit:g}",
                    field="target",
                    code="rounding-unit",
                    hint="re-plan with the rounding the previous targets were made with",
                )
            ]
        )
    prev //= unit_minor
    prev_ch = cells(challenge.targets) if challenge is not None else None
    if prev_ch is not None:
        prev_ch = np.where(prev_ch % unit_minor == 0, prev_ch // unit_minor, -1)
    return _changes_of(inputs, prev, prev_ch, first, unit, source)


def _dates(inputs: Inputs, calendar: Calendar) -> tuple[np.ndarray, pd.DataFrame]:
    """Presence (share of each month's days in the org) and each rep's first and last day."""
    org = inputs.company.org_dated
    ids = inputs.reps["rep_id"].to_numpy()
    if org is None:
        none = pd.DataFrame({"start": pd.NaT, "end": pd.NaT, "open": False}, index=ids)
        return np.ones((len(ids), 12)), none
    days = days_in_role(org, ids, calendar)
    starts = [calendar.month_start(m) for m in range(12)]
    ends = [*starts[1:], _next_month(starts[-1])]
    length = np.array([(b - a).days for a, b in zip(starts, ends, strict=True)])
    presence = days / length[None, :]
    # An open start (or end) on any row is open for the person: NaT.
    early, late = pd.Timestamp("1700-01-01"), pd.Timestamp("2200-12-31")
    g = org.assign(
        start=pd.to_datetime(org["start_date"]).astype("datetime64[ns]").fillna(early),
        end=pd.to_datetime(org["end_date"]).astype("datetime64[ns]").fillna(late),
        open=org["open_headcount"].astype(bool) if "open_headcount" in org else False,
    ).groupby("rep_id", sort=False)
    first, last = g["start"].min(), g["end"].max()
    frame = pd.DataFrame(
        {"start": first.where(first != early), "end": last.where(last != late),
         "open": g["open"].any()}
    ).reindex(ids)  # fmt: skip
    return presence, frame


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _changes_of(inputs, prev, prev_ch, first, unit, source) -> _Plan:
    """The held cells and the reasons: past months, leavers, joiners, relief."""
    company = inputs.company
    R, P, K = prev.shape
    calendar = Calendar(company.rules.fiscal_year, company.rules.fiscal_year_start, "month")
    presence, dates = _dates(inputs, calendar)
    held = np.zeros((R, P, K), dtype=bool)
    held[:, :, :first] = True
    value = np.where(held, prev, 0)
    reason = np.full((R, K), "", dtype=object)
    dropped = np.zeros(P, dtype=np.int64)
    make_up: dict[int, int] = {}
    takeover: dict[int, int] = {}
    minus: dict[int, int] = {}  # team code -> units the rules drop in it
    causes: list[str] = []
    gives = np.full(R, "", dtype=object)  # "team", "open_headcount" or "drop"
    ids = inputs.reps["rep_id"].to_numpy()
    team_level = company.hierarchy[-1] if company.hierarchy else "company"
    team = inputs.codes[team_level]
    team_names = inputs.unit_names[team_level]
    later = np.arange(K) >= first
    rule = inputs.rules.replan
    year_start = np.datetime64(calendar.month_start(0), "ns")
    year_end = np.datetime64(_next_month(calendar.month_start(11)), "ns") - np.timedelta64(1, "D")
    ends = dates["end"].to_numpy(dtype="datetime64[ns]")
    starts = dates["start"].to_numpy(dtype="datetime64[ns]")
    leaving = ~np.isnat(ends) & (ends <= year_end)
    # A leaver's months from the re-plan month: their days in the org, the rest leaves.
    leavers = np.flatnonzero(leaving & (presence[:, later] < 1).any(axis=1))
    previous_team = prev.sum(axis=(1, 2))
    prev_team_total = np.bincount(team, weights=previous_team, minlength=len(team_names))
    for r in leavers:
        keep = np.floor(prev[r][:, later] * presence[r, later][None, :] + 0.5).astype(np.int64)
        gone = prev[r][:, later] - keep
        held[r][:, later] = True
        value[r][:, later] = keep
        day = str(ends[r])[:10]
        t = int(team[r])
        dest = {
            "team": f"made up by team {team_names[t]}",
            "open_headcount": f"taken over by the open headcount of team {team_names[t]}",
            "drop": "dropped from the company total",
        }[rule.leavers]
        months = np.flatnonzero(later)[gone.sum(axis=0) > 0]
        reason[r, months] = f"left {day}: the month's target after that {dest}"
        amount = int(gone.sum())
        gives[r] = rule.leavers
        if rule.leavers == "drop":
            dropped += gone.sum(axis=1)
            minus[t] = minus.get(t, 0) + amount
        elif rule.leavers == "team":
            make_up.setdefault(t, int(prev_team_total[t]))
        else:
            takeover[t] = takeover.get(t, 0) + amount
        causes.append(f"{ids[r]} left {day} ({_money(amount * unit)} {dest})")
    # Joiners (and open headcount): months before their start (or outside the org) are 0.
    absent = presence == 0
    for r in np.flatnonzero(absent[:, later].any(axis=1) & ~np.isin(np.arange(R), leavers)):
        months = np.flatnonzero(later & absent[r])
        held[r][:, months] = True
        value[r][:, months] = 0
        reason[r, months[prev[r][:, months].sum(axis=0) > 0]] = "not in the org this month"
    joining = ~np.isnat(starts) & (starts > year_start)
    joiners = np.flatnonzero(joining & (presence[:, later] > 0).any(axis=1))
    for r in joiners:
        day = str(starts[r])[:10]
        what = "open headcount" if bool(dates["open"].iloc[r]) else "joins"
        months = np.flatnonzero(later & (presence[r] > 0))
        reason[r, months] = f"{what} from {day}"
        if prev[r][:, later].sum() == 0:
            causes.append(f"{ids[r]} {'is open headcount' if what != 'joins' else 'joins'} {day}")
    for t in takeover:
        has = (team == t) & dates["open"].to_numpy(dtype=bool) & (presence[:, later] > 0).any(1)
        if not has.any():
            raise RuleFileError(
                [
                    _located(
                        source,
                        "replan.leavers",
                        f"team {team_names[t]} has leavers but no open headcount in the "
                        "re-planned months to take their target over",
                        code="no-open-headcount",
                        hint="add an open_headcount row to the org, or use `leavers: team`",
                    )
                ]
            )
    n_relief = _relief(
        inputs, prev, held, value, reason, dropped, make_up, minus, causes, gives, first, source
    )
    # A team that makes up a change keeps its previous total, less what the rules drop in it.
    for t in make_up:
        make_up[t] = int(prev_team_total[t]) - minus.get(t, 0)
    return _Plan(
        first=first,
        prev=prev,
        prev_challenge=prev_ch,
        held=held,
        value=value,
        reason=reason,
        dropped=dropped,
        make_up=make_up,
        takeover=takeover,
        leavers=[str(ids[r]) for r in leavers],
        joiners=[str(ids[r]) for r in joiners],
        n_relief=n_relief,
        causes=causes,
        presence=presence,
        gives=gives,
    )


def _relief(
    inputs, prev, held, value, reason, dropped, make_up, minus, causes, gives, first, source
):
    """Declared relief: each relieved month held at its previous target less the relief."""
    rules = inputs.rules.replan
    if not rules.relief:
        return 0
    company = inputs.company
    periods = list(inputs.periods)
    index = pd.Index(inputs.reps["rep_id"])
    team_level = company.hierarchy[-1] if company.hierarchy else "company"
    team = inputs.codes[team_level]
    team_names = inputs.unit_names[team_level]
    unit = inputs.rules.rounding.unit if inputs.rules.rounding else 10.0**-company.rules.minor_unit
    problems: list[Problem] = []
    for i, relief in enumerate(rules.relief):
        path = f"replan.relief[{i}]"
        r = int(index.get_indexer([relief.rep_id])[0])
        if r < 0:
            problems.append(
                _located(
                    source,
                    f"{path}.rep_id",
                    f"{relief.rep_id!r} carries no target in these rules",
                    hint="relief is for a participant with a previous target",
                )
            )
            continue
        for j, month in enumerate(relief.months):
            at = f"{path}.months[{j}]"
            if month not in periods:
                problems.append(_located(source, at, f"{month} is not a month of the fiscal year"))
                continue
            k = periods.index(month)
            if k < first:
                problems.append(
                    _located(
                        source,
                        at,
                        f"{month} is before the re-plan month {periods[first]}: past months "
                        "keep their targets",
                        code="relief-in-the-past",
                        hint="relieve months from the re-plan month on",
                    )
                )
                continue
            base = np.where(held[r, :, k], value[r, :, k], prev[r, :, k])
            if relief.share is not None:
                off = np.floor(base * relief.share + 0.5).astype(np.int64)
            else:
                amount = round_units(relief.amount / unit)
                if amount > base.sum():
                    problems.append(
                        _located(
                            source,
                            f"{path}.amount",
                            f"{_money(relief.amount)} is more than {relief.rep_id}'s previous "
                            f"target for {month} ({_money(base.sum() * unit)})",
                            code="relief-too-large",
                        )
                    )
                    continue
                total = base.sum()
                weights = base / total if total else np.full(len(base), 1.0 / len(base))
                off = apportion(weights * amount, np.zeros(len(base), np.int64), np.array([amount]))
            held[r, :, k] = True
            value[r, :, k] = base - off
            what = f"{relief.share:.0%}" if relief.share is not None else _money(relief.amount)
            dest = "dropped" if relief.to == "drop" else f"made up by team {team_names[team[r]]}"
            reason[r, k] = f"relief: {relief.reason} ({what} of the month, {dest})"
            if relief.to == "drop":
                dropped += off
                minus[int(team[r])] = minus.get(int(team[r]), 0) + int(off.sum())
            else:
                make_up.setdefault(int(team[r]), 0)
            gives[r] = gives[r] or relief.to
        causes.append(f"relief for {relief.rep_id}: {relief.reason}")
    if problems:
        raise RuleFileError(problems)
    return len(rules.relief)


def _replan_inputs(inputs: Inputs, plan: _Plan, unit: float) -> Inputs:
    """The allocation's inputs for the re-planned year: the company total less what is
    dropped, ramps from start dates, presence, and fair shares of the year."""
    from attain.allocate.inputs import _basis, _fair

    rules, company = inputs.rules, inputs.company
    target_units = round_units(inputs.total / unit) - int(plan.dropped.sum())
    total = target_units * unit
    by_product = None
    if inputs.product_targets is not None:
        by_product = inputs.product_targets - plan.dropped * unit
    reps = inputs.reps.copy()
    # A joiner's tenure counts from their start: months before it are outside the org.
    start = np.argmax(plan.presence > 0, axis=1)
    late = (plan.presence[:, 0] == 0) & (plan.presence > 0).any(axis=1)
    if "tenure_months" in reps:
        tenure = reps["tenure_months"].to_numpy(dtype=float)
        reps["tenure_months"] = np.where(late, -start, tenure)
    ramp = _ramp(rules, reps) * plan.presence
    basis = _basis(rules, inputs.last_year, inputs.potential)
    # A joiner without potential or history of their own (open headcount, a new hire whose
    # accounts are not assigned yet) is worth their team's mean rep, before the ramp.
    team_level = company.hierarchy[-1] if company.hierarchy else "company"
    team = inputs.codes[team_level]
    n_teams = len(inputs.unit_names[team_level])
    has = basis.sum(axis=1) > 0
    bare = late & ~has
    if bare.any():
        sums = np.zeros((n_teams, basis.shape[1]))
        np.add.at(sums, team[has], basis[has])
        heads = np.bincount(team[has], minlength=n_teams)
        mean = sums / np.maximum(heads, 1)[:, None]
        everyone = basis[has].mean(axis=0) if has.any() else np.full(basis.shape[1], 1.0)
        mean = np.where((heads > 0)[:, None], mean, everyone[None, :])
        basis = np.where(bare[:, None], mean[team], basis)
    full = _fair(basis, np.ones_like(ramp), inputs.profiles, by_product, total).sum(axis=1)
    fair = _fair_shares(inputs, plan, basis, ramp, late, by_product, total, unit)
    pinned = np.asarray(plan.held.all(axis=2))
    return replace(
        inputs,
        total=total,
        product_targets=by_product,
        reps=reps,
        fair=fair,
        full=full,
        # A rep whose months are all held has no months to shape (and no ramp to cap).
        ramp_months=np.where(np.asarray(pinned.all(axis=1))[:, None], 1.0, ramp),
        extra={**inputs.extra, "replan": True},
    )


def _fair_shares(inputs, plan, basis, ramp, late, by_product, total, unit) -> np.ndarray:
    """The year's fair shares for the re-plan: the plan's own, with what the changes move.

    A rep × product whose every month is held is its own fair share; a leaver's and a
    relieved rep's released share goes where the rule sends it (their team's other reps
    or its open headcount, in proportion to their shares; nowhere when dropped); a joiner
    is valued from their start date and ramp. The others are scaled so the shares add up
    to the re-planned total: a re-plan with nothing changed keeps the plan's shares.
    """
    from attain.allocate.inputs import _fair

    company = inputs.company
    fair = inputs.fair.copy()
    if late.any():  # joiners: their months in the org, ramped
        fresh = _fair(basis, ramp, inputs.profiles, by_product, total)
        fair[late] = fresh[late]
    held_sum = (plan.value * plan.held).sum(axis=2) * unit
    pinned = np.asarray(plan.held.all(axis=2))
    relieved = np.where(plan.held & (plan.value < plan.prev), plan.prev - plan.value, 0).sum(2)
    adjusted = np.where(pinned, held_sum, np.maximum(fair - relieved * unit, 0.0))
    released = fair - adjusted
    fair = adjusted
    team_level = company.hierarchy[-1] if company.hierarchy else "company"
    team = inputs.codes[team_level]
    n_teams = len(inputs.unit_names[team_level])
    giving = plan.gives != ""
    for rule, takes in (("team", ~giving), ("open_headcount", _open_headcount(inputs))):
        sends = plan.gives == rule
        if not sends.any():
            continue
        amount = np.zeros((n_teams, fair.shape[1]))
        np.add.at(amount, team[sends], released[sends])
        weight = np.where((takes & ~pinned.all(axis=1))[:, None], np.maximum(fair, 1e-12), 0.0)
        sums = np.zeros_like(amount)
        np.add.at(sums, team, weight)
        share = weight / np.where(sums[team] > 0, sums[team], 1.0)
        fair = fair + share * amount[team]
    free = ~pinned
    rest = total - fair[pinned].sum()
    if free.any() and fair[free].sum() > 0:
        fair = np.where(free, fair * (rest / fair[free].sum()), fair)
    return fair


def _hold(model, plan: _Plan, unit: float) -> None:
    """The held months, the teams' make-up and the open headcount's takeover, as rows;
    then the ``stay`` level (closest to the previous year totals)."""
    inputs = model.inputs
    R, P = inputs.n_reps, inputs.n_products
    _free_changed(model, plan, unit)
    cells = np.arange(R * P)
    held_sum = ((plan.value * plan.held).sum(axis=2) * unit).ravel()
    pinned = plan.held.all(axis=2).ravel()
    upper = np.where(pinned, held_sum, np.inf)
    block = Block(
        "previous_months", "replan", "rep", cells // P, cells, cells, np.ones(R * P),
        held_sum, upper, np.zeros(R * P),
    )  # fmt: skip
    block.describe = "months before the re-plan month and months a change fixes keep their targets"
    model.add(block)
    team_level = inputs.company.hierarchy[-1] if inputs.company.hierarchy else "company"
    codes = inputs.codes[team_level]
    open_hc = _open_headcount(inputs)
    for name, per_team, members, words in (
        ("team_make_up", plan.make_up, np.ones(R, bool), "keeps its previous year total"),
        ("open_headcount_takes_over", plan.takeover, open_hc, "carries its leavers' target"),
    ):
        if not per_team:
            continue
        teams = np.array(sorted(per_team), dtype=np.int64)
        pos = np.full(len(inputs.unit_names[team_level]), -1)
        pos[teams] = np.arange(len(teams))
        reps = np.flatnonzero((pos[codes] >= 0) & members)
        rows = pos[codes[reps]]
        cols = R * P + reps
        amount = np.array([per_team[t] for t in teams], dtype=float) * unit
        if name == "open_headcount_takes_over":
            base = np.bincount(rows, weights=held_sum.reshape(R, P)[reps].sum(axis=1),
                               minlength=len(teams))  # fmt: skip
            amount = amount + base
        block = Block(
            name, "replan", team_level, teams, rows, cols, np.ones(len(reps)), amount, amount,
            0.01 * amount,
        )  # fmt: skip
        block.describe = f"each {team_level} named by a leaver or a relief {words}"
        model.add(block)
    prev_cells = plan.prev.sum(axis=2).ravel().astype(float) * unit
    cells = np.flatnonzero((prev_cells > 0) & ~pinned)
    if len(cells):
        _stay(model, cells, prev_cells[cells])
        objective = [*inputs.rules.objective, "stay"]
        model.inputs = replace(
            inputs, rules=inputs.rules.model_copy(update={"objective": objective})
        )


def _stay(model, cells: np.ndarray, ref: np.ndarray) -> None:
    """``t[c] − up[c] + down[c] = ref[c]`` per rep × product with a previous target, and the
    term ``mean((up + down) / ref)``: the last level keeps each rep × product as close to
    its previous year total as the fairness levels allow."""
    n = len(cells)
    up = model.add_cols(n)
    down = model.add_cols(n)
    rows = np.concatenate([np.arange(n)] * 3)
    cols = np.concatenate([cells, up, down])
    vals = np.concatenate([np.ones(n), -np.ones(n), np.ones(n)])
    P = model.inputs.n_products
    block = Block(
        "stay", "objective", "rep", cells // P, rows, cols, vals, ref, ref, np.zeros(n),
        role="objective",
    )  # fmt: skip
    model.add(block)
    vec = np.zeros(model.n_cols)
    vec[up] = 1.0 / (n * ref)
    vec[down] = 1.0 / (n * ref)
    model.terms["stay"] = vec
    model.col_scale[np.concatenate([up, down])] = np.tile(ref, 2)


def _free_changed(model, plan: _Plan, unit: float) -> None:
    """Rep-level rules no longer bind a rep whose months are all held (a leaver), and a
    rep's floors fall by what a change took off their year (relief, days out of the
    org): a growth floor is not owed for months a rep is not there."""
    pinned = np.asarray(plan.held.all(axis=(1, 2)))
    taken = np.where(plan.held, np.maximum(plan.prev - plan.value, 0), 0).sum(axis=(1, 2)) * unit
    n_rows = 0
    for block in model.blocks:
        if not block.is_rule or block.level != "rep" or block.kind == "replan":
            continue
        units = block.units
        off = pinned[units]
        lower = np.where(off, -np.inf, block.lower)
        if np.all(block.vals == 1):  # a rep's total (or a product of it): floors fall
            lower = np.where(np.isfinite(lower), lower - taken[units], lower)
        n_rows += int((lower < block.lower).sum())
        block.lower = lower
        block.upper = np.where(off, np.inf, block.upper)
    plan.n_relaxed = n_rows


def _open_headcount(inputs: Inputs) -> np.ndarray:
    org = inputs.company.org_dated
    if org is None or "open_headcount" not in org:
        return np.zeros(inputs.n_reps, dtype=bool)
    open_ids = set(org.loc[org["open_headcount"].astype(bool), "rep_id"])
    return inputs.reps["rep_id"].isin(open_ids).to_numpy()


def _round(inputs: Inputs, plan: _Plan, totals: np.ndarray, shares: np.ndarray, unit: float):
    """Whole rounding units: held cells as they are; the open amount top-down (company,
    each level within its parent, reps, products, months), so everything adds up."""
    R, P, K = plan.prev.shape
    held_units = np.where(plan.held, plan.value, 0)
    held_rp = held_units.sum(axis=2)
    open_amount = np.maximum(totals / unit - held_rp, 0.0)
    open_amount[plan.held.all(axis=2)] = 0.0
    target_units = round_units(inputs.total / unit)
    free_total = target_units - int(held_units.sum())
    # Only units with an open month take part: nothing can land on a held cell.
    open_rp = ~np.asarray(plan.held.all(axis=2))
    active = np.flatnonzero(open_rp.any(axis=1))
    rep_open = open_amount.sum(axis=1)[active]
    # Spare units go first where the previous plan had more: a re-plan that changes
    # nothing rounds back to the previous targets.
    prev_open = np.where(plan.held, 0, plan.prev).sum(axis=2).astype(float)
    before_rep = prev_open.sum(axis=1)[active]
    parent_codes = np.zeros(len(active), dtype=np.int64)
    parent_units = np.array([free_total])
    for level in inputs.levels[1:]:
        _, codes = np.unique(inputs.codes[level][active], return_inverse=True)
        n = int(codes.max()) + 1 if len(codes) else 0
        exact = np.bincount(codes, weights=rep_open, minlength=n)
        before = np.bincount(codes, weights=before_rep, minlength=n)
        parents = _parents(codes, parent_codes, n)
        if parents is None:
            parents, parent_units = np.zeros(n, np.int64), np.array([int(parent_units.sum())])
        parent_units = apportion(exact, parents, parent_units, _toward(before, exact))
        parent_codes = codes
    rep_units = np.zeros(R, dtype=np.int64)
    rep_units[active] = parent_units
    cell = np.flatnonzero(open_rp.ravel())
    rp = np.zeros(R * P, dtype=np.int64)
    rp[cell] = apportion(
        open_amount.ravel()[cell],
        cell // P,
        rep_units,
        _toward(prev_open, open_amount).ravel()[cell],
    )
    rp = rp.reshape(R, P)
    if inputs.product_targets is not None:
        col = np.floor(inputs.product_targets / unit + 0.5).astype(np.int64) - held_units.sum(
            axis=(0, 2)
        )
        col = apportion(col.astype(float), np.zeros(P, np.int64), np.array([int(rp.sum())]))
        rp = np.where(open_rp, fix_columns(rp, np.where(open_rp, open_amount, 0.0), col), 0)
    # Open months follow the previous plan's phasing, else the rules' seasonality.
    free = ~plan.held
    phase = np.where(free, plan.prev, 0).astype(float)
    fallback = np.where(free, shares, 0.0)
    use = np.where(phase.sum(axis=2, keepdims=True) > 0, phase, fallback)
    use = np.where((use.sum(axis=2, keepdims=True) > 0) | ~free, use, free.astype(float))
    sums = use.sum(axis=2, keepdims=True)
    exact = np.where(sums > 0, use / np.where(sums > 0, sums, 1.0), 0.0) * rp[:, :, None]
    slot = np.flatnonzero(free.ravel())
    month_open = np.zeros(R * P * K, dtype=np.int64)
    month_open[slot] = apportion(exact.ravel()[slot], slot // K, rp.ravel())
    month = held_units + month_open.reshape(R, P, K)
    # The challenge as the allocation makes it: each rep's year × (1 + stretch), over the
    # cells by largest remainders; past cells keep the previous challenge.
    stretch = (1 + inputs.stretch)[:, None, None]
    ch_rep = np.floor(month.sum(axis=(1, 2)) * stretch[:, 0, 0] + 0.5 + 1e-9).astype(np.int64)
    fixed = np.zeros((R, P, K), dtype=bool)
    if plan.prev_challenge is not None:
        fixed[:, :, : plan.first] = True
        fixed &= plan.prev_challenge >= 0
    past = np.where(fixed, plan.prev_challenge if plan.prev_challenge is not None else 0, 0)
    exact = np.where(fixed, 0.0, month * stretch)
    open_sum = exact.sum(axis=(1, 2))
    rest = np.where(open_sum > 0, np.maximum(ch_rep - past.sum(axis=(1, 2)), 0), 0)
    # Over the open cells only: a rep's spare units never reach a past cell's challenge.
    cells = np.flatnonzero(~fixed.ravel())
    spread = np.zeros(R * P * K, dtype=np.int64)
    spread[cells] = apportion(exact.ravel()[cells], cells // (P * K), rest)
    challenge = past + spread.reshape(R, P, K)
    rep_units = month.sum(axis=(1, 2))
    levels = {}
    for level in inputs.levels[:-1]:
        n = len(inputs.unit_names[level])
        exact_level = np.bincount(inputs.codes[level], weights=rep_units, minlength=n)
        scale = inputs.level_scale(level)
        if scale == 1.0:
            levels[level] = exact_level.astype(np.int64)
        else:
            total = round_units(float(exact_level.sum()) * scale)
            levels[level] = apportion(exact_level * scale, np.zeros(n, np.int64), np.array([total]))
    return {
        "unit": unit,
        "month": month,
        "challenge": challenge,
        "rep": rep_units,
        "levels": levels,
        "notices": [],
    }


def _toward(before: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """Rounding priority: a unit within one rounding unit of its previous value rounds
    toward it (+1 up, -1 down); a unit that moved further takes its largest remainder."""
    gap = before - exact
    return np.where(np.abs(gap) < 1.0, np.sign(gap), 0.0)


def _parents(child: np.ndarray, parent: np.ndarray, n: int) -> np.ndarray | None:
    pairs = np.unique(np.stack([child, parent], axis=1), axis=0)
    if len(pairs) != n:
        return None
    out = np.zeros(n, dtype=np.int64)
    out[pairs[:, 0]] = pairs[:, 1]
    return out


def _with_previous_labels(
    targets: pd.DataFrame, previous: pd.DataFrame, inputs: Inputs, first: int
) -> pd.DataFrame:
    """Past months' rows carry the previous file's org columns (a mover's old team)."""
    hierarchy = [c for c in inputs.company.hierarchy if c in previous.columns]
    if not hierarchy or first == 0:
        return targets
    past = set(inputs.periods[:first])
    key = ["rep_id", "period", "product"]
    prev = previous[[*key, *hierarchy]].astype(str)
    prev = prev[prev["period"].isin(past)].drop_duplicates(key)
    out = targets.copy()
    rows = out["period"].isin(past).to_numpy()
    joined = out.loc[rows, key].merge(prev, on=key, how="left")
    for c in hierarchy:
        values = joined[c].to_numpy()
        mine = out.loc[rows, c].to_numpy()
        out.loc[rows, c] = np.where(pd.isna(values), mine, values)
    return out


def _changes(inputs, plan: _Plan, rounded, unit, first, company, actuals) -> pd.DataFrame:
    """replan.csv: each rep × month from the re-plan month that moved or that a change
    names, with the reason."""
    R, P, K = plan.prev.shape
    old = plan.prev.sum(axis=1)  # R × K
    new = rounded["month"].sum(axis=1)
    months = np.arange(first, K)
    reason = plan.reason.copy()
    moved = new != old
    team_level = company.hierarchy[-1] if company.hierarchy else "company"
    team = inputs.codes[team_level]
    names = inputs.unit_names[team_level]
    in_team = np.isin(team, list(plan.make_up) + list(plan.takeover))
    # Object arrays: as fixed-width text, the general reason (every cause, joined) widens
    # every cell of an R × 12 array to its length (2.4 s at 10,000 reps with 100 reliefs).
    team_words = np.array(
        [f"team {n} makes up a leaver's or relieved target" for n in names], dtype=object
    )
    general = "re-balanced: " + ("; ".join(plan.causes) if plan.causes else "the rules re-solved")
    fill = np.where(in_team, team_words[team], np.array(general, dtype=object))[:, None]
    reason = np.where((reason == "") & moved, np.broadcast_to(fill, reason.shape), reason)
    actual = _actuals(inputs, company, actuals, unit)
    keep = (moved | (reason != ""))[:, months]
    r_idx, k_idx = np.nonzero(keep)
    k_idx = months[k_idx]
    reps = inputs.reps
    frame = pd.DataFrame({"rep_id": reps["rep_id"].to_numpy()[r_idx]})
    for level in company.hierarchy:
        frame[level] = reps[level].to_numpy()[r_idx]
    frame["period"] = np.asarray(inputs.periods, dtype=object)[k_idx]
    frame["old_target"] = old[r_idx, k_idx] * unit
    frame["new_target"] = new[r_idx, k_idx] * unit
    frame["change"] = (new - old)[r_idx, k_idx] * unit
    frame["actual"] = actual[r_idx, k_idx]
    frame["reason"] = reason[r_idx, k_idx]
    return frame


def _actuals(inputs: Inputs, company: Company, actuals, unit: float) -> np.ndarray:
    """Credited sales per rep × month (currency), from the deals table."""
    R = inputs.n_reps
    deals = actuals if actuals is not None else company.actuals
    if deals is None:
        return np.zeros((R, 12))
    from attain.track.inputs import credited

    empty = read_targets(pd.DataFrame({c: [] for c in ("rep_id", "period", "product", "target")}))
    if isinstance(deals, str | Path):
        deals = read_table(deals)
    if deals is not company.actuals:  # the company's own were checked when it was loaded
        deals = read_deals(deals, company)
    rules = company.rules
    book = read_book(
        empty, deals, company, rules.fiscal_year, "month", rules.minor_unit, checked=True
    )
    tracked = pd.Index(book.people["rep_id"]).get_indexer(inputs.reps["rep_id"])
    cells = credited(book, tracked)  # int minor [R, 12, K]
    return cells.sum(axis=2) / 10**rules.minor_unit


def _money(amount: float) -> str:
    return f"{amount:,.0f}" if float(amount).is_integer() else f"{amount:,.2f}"

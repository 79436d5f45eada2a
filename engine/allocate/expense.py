"""Sales expense budgets (销售费用) allocated with the targets, exactly, in minor units.

The company's budget is the rules' ``expenses.rate`` × the company target or a fixed
``expenses.total``. It is split top-down over the levels the rules name (default: the
hierarchy levels): each unit's budget among its children in proportion to their targets
(or to declared ``weights``), each child at most its level's ``max_rate`` × its target —
a child whose share would pass it is capped there and its siblings share the rest, in
the same proportions, until the budget is placed (capped proportional allocation, one
numpy pass per round over every parent at once). The children's budgets are then whole
minor units by largest remainders, so every level adds up exactly to its parent and to
the company. The lowest level's year budgets are split over the months by that unit's
own monthly target phasing (largest remainders again) and the months of every unit above
are its children's sums: months add up to the year at every level, and every level's
months add up to the company's.

A re-plan (:func:`attain.allocate.replan`) holds the past: with :class:`HeldBudgets`
(the previous run's ``expense_budget.csv``, :func:`held_budgets`) each lowest-level
unit's months before the re-plan month keep their previous budgets, and what remains of
the company's budget (the year's budget less every unit's past months) is split again by
the same rules over the remaining months: top-down by the units' targets of the
remaining months (or the declared ``weights``), each unit at most its ``max_rate`` × its
year target less its past months, then over its remaining months by its phasing there.
Every unit's year is its past plus its share of what remains, so every level still adds
up to the company's budget, and the past months are the previous file's to the cent.

Budgets carry no over-assignment: a team's target is buffered above its region's share,
its budget is not, so with target shares a team's rate (budget ÷ target) is the region's
divided by the buffers' ratio.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd

from attain.allocate.inputs import Inputs, _located
from attain.allocate.rounding import apportion
from attain.errors import DataError, InfeasibleError, Problem, RuleFileError
from attain.notices import Notice
from attain.schema.expense import ExpenseBudget

__all__ = ["ExpenseBudgets", "HeldBudgets", "YEAR", "expense_budgets", "held_budgets"]

#: The ``period`` of a unit's yearly row in expense_budget.csv.
YEAR = "year"
#: Rounds of capping before a parent's children are known to be placed (each round caps
#: at least one more child, so a parent of n children needs at most n).
_MAX_ROUNDS = 10_000


@dataclass(frozen=True)
class ExpenseBudgets:
    """The expense budgets of an allocation: a frame, its summary section, its warnings."""

    frame: pd.DataFrame
    """``level, unit``, the hierarchy columns, ``period`` (``year`` or ``YYYY-MM``),
    ``target``, ``expense_budget``, ``rate`` (budget ÷ target; empty for a zero target),
    ``capped`` (the unit's budget is at its level's max_rate)."""
    summary: dict[str, Any]
    notices: list[Notice]


@dataclass(frozen=True)
class HeldBudgets:
    """A re-plan's past: the lowest budget level's months before ``first``, held."""

    first: int  # the re-plan month's index: the months before it are held
    level: str  # the lowest budget level (its units' months are read)
    months: np.ndarray  # int64[units, first]: each unit's past budgets, minor units


def budget_levels(inputs: Inputs) -> list[str]:
    """The levels the rules split the budget over, top-down (below the company)."""
    spend = inputs.rules.expenses
    assert spend is not None
    levels = spend.levels or [lv for lv in inputs.levels if lv not in ("company", "rep")]
    return levels or ["rep"]


def held_budgets(inputs: Inputs, previous: pd.DataFrame, first: int, source: str) -> HeldBudgets:
    """The past months of a previous run's expense budgets (``expense_budget.csv``, read
    as text) for a re-plan from month ``first``: its lowest level's rows, checked against
    these rules' units and the currency's minor unit (located problems)."""
    level = budget_levels(inputs)[-1]
    names = pd.Index([str(u) for u in inputs.unit_names[level]])
    scale = 10**inputs.company.rules.minor_unit
    missing = [c for c in ("level", "unit", "period", "expense_budget") if c not in previous]
    if missing:
        raise DataError([Problem(source, f"missing column `{missing[0]}`", code="missing-column")])
    past = list(inputs.periods[:first])
    rows = previous[
        (previous["level"].astype(str) == level) & previous["period"].astype(str).isin(past)
    ]
    offset = int(previous.attrs.get("offset", 2))
    unit = names.get_indexer(rows["unit"].astype(str))
    value = pd.to_numeric(rows["expense_budget"], errors="coerce").to_numpy(dtype=float) * scale
    minor = np.rint(value)
    problems = []
    for i in np.flatnonzero(unit < 0)[:25]:
        message = f"{level} {rows['unit'].iloc[i]!r} has a past budget but is not a {level} now"
        problems.append(Problem(source, message, row=int(rows.index[i]) + offset, field="unit"))
    bad = np.isnan(value) | (np.abs(value - minor) > 1e-6)
    for i in np.flatnonzero(bad)[:25]:
        message = f"not an amount of whole minor units: {rows['expense_budget'].iloc[i]!r}"
        problems.append(
            Problem(source, message, row=int(rows.index[i]) + offset, field="expense_budget")
        )
    if problems:
        raise DataError(problems)
    months = np.zeros((len(names), first), dtype=np.int64)
    month = pd.Index(past).get_indexer(rows["period"].astype(str))
    np.add.at(months, (unit, month), minor.astype(np.int64))
    return HeldBudgets(first, level, months)


def expense_budgets(
    inputs: Inputs, rounded: dict[str, Any], held: HeldBudgets | None = None
) -> ExpenseBudgets | None:
    """The rules' expense budgets on the rounded targets, or ``None`` without ``expenses``;
    ``held``: a re-plan's past months, kept (the module docstring)."""
    spend = inputs.rules.expenses
    if spend is None:
        return None
    company = inputs.company
    scale = 10**company.rules.minor_unit
    unit_minor = int(round(rounded["unit"] * scale))
    levels = budget_levels(inputs)
    targets = {lv: _unit_targets(inputs, rounded, lv) * unit_minor for lv in ("company", *levels)}
    budget = np.array([_company_budget(spend, int(targets["company"][0]), scale, inputs.source)])
    chain = ["company", *levels]
    parents = {
        lv: _parent_of(inputs, lv, up, len(inputs.unit_names[lv]))
        for up, lv in zip(chain, chain[1:], strict=False)
    }
    own = {lv: _caps(spend, lv, targets[lv]) for lv in chain}
    past: dict[str, np.ndarray] = {}
    weigh = targets
    if held is not None:  # a re-plan: the past months are held, what remains is split
        past = _past(inputs, chain, held)
        weigh = _remaining_targets(inputs, rounded, chain, targets, held.first)
        year_budget = budget
        budget = budget - past["company"]
        if budget[0] < 0:
            raise InfeasibleError(
                "the expense budget's past months are more than the year's budget",
                [
                    f"`expenses`: the year's budget is {year_budget[0] / scale:,.2f}, the "
                    f"months before the re-plan already hold {past['company'][0] / scale:,.2f}"
                ],
            )
        own_all = own
        own = {lv: np.maximum(own_all[lv] - past[lv], 0.0) for lv in chain}
    # A unit can hold no more than its own cap nor than its children can: bottom up.
    room = dict(own)
    for up, lv in reversed(list(zip(chain, chain[1:], strict=False))):
        below = np.bincount(
            parents[lv], weights=np.minimum(room[lv], 1e300), minlength=len(room[up])
        )
        below = np.where(below >= 1e299, np.inf, below)
        room[up] = np.minimum(room[up], below)
    if budget[0] > room["company"][0]:
        raise InfeasibleError(
            "the expense budget cannot be placed within the max rates",
            [_shortfall(inputs, spend, chain, budget[0], own, room, scale)],
        )
    budgets = {"company": budget}
    capped = {"company": np.zeros(1, dtype=bool)}
    for up, level in zip(chain, chain[1:], strict=False):
        weight = _weights(inputs, spend, level, weigh[level])
        values, at_cap = _capped_shares(budgets[up], parents[level], weight, room[level])
        _check_placed(inputs, spend, up, level, values, parents[level], budgets[up], scale)
        budgets[level] = apportion(values, parents[level], budgets[up], np.where(at_cap, -1.0, 0.0))
        capped[level] = (budgets[level] >= np.floor(own[level])) & (targets[level] > 0)
    months = _months(inputs, rounded, levels, budgets, unit_minor, held)
    if held is not None:  # each unit's year: its past months and its share of the rest
        budgets = {lv: budgets[lv] + past[lv] for lv in chain}
        capped = {lv: (budgets[lv] >= np.floor(own_all[lv])) & (targets[lv] > 0) for lv in chain}
    frame = _frame(inputs, rounded, levels, targets, budgets, months, capped, scale)
    notices = _notices(inputs, levels, targets, budgets)
    summary = _summary(spend, levels, targets, budgets, capped, scale)
    if held is not None:  # what the re-plan kept: the months before it, company-wide
        summary["held"] = {"months": held.first, "budget": int(past["company"][0]) / scale}
    summary["decimals"] = company.rules.minor_unit
    return ExpenseBudgets(frame, summary, notices)


def _past(inputs: Inputs, chain: list[str], held: HeldBudgets) -> dict[str, np.ndarray]:
    """Each level's units' past budgets (minor units): the lowest level's held months,
    summed up the chain."""
    lowest = chain[-1]
    year = held.months.sum(axis=1)
    out = {lowest: year}
    for level in chain[:-1]:
        parents = _parent_of(inputs, lowest, level, len(inputs.unit_names[lowest]))
        out[level] = np.bincount(parents, weights=year, minlength=len(inputs.unit_names[level]))
        out[level] = np.rint(out[level]).astype(np.int64)
    return out


def _remaining_targets(inputs, rounded, chain, targets, first: int) -> dict[str, np.ndarray]:
    """Each unit's target of the months from ``first``: its year target × its reps' share
    of their year in those months (the weights a re-plan splits what remains by)."""
    rep_months = rounded["month"].sum(axis=1).astype(np.float64)  # R × 12
    out = {}
    for level in chain:
        n = len(targets[level])
        whole = np.bincount(inputs.codes[level], weights=rep_months.sum(axis=1), minlength=n)
        rest = np.bincount(
            inputs.codes[level], weights=rep_months[:, first:].sum(axis=1), minlength=n
        )
        share = np.where(whole > 0, rest / np.where(whole > 0, whole, 1.0), 0.0)
        out[level] = targets[level] * share
    return out


def _unit_targets(inputs: Inputs, rounded: dict[str, Any], level: str) -> np.ndarray:
    """A level's rounded year targets, in rounding units (int64)."""
    if level == "rep":
        return np.asarray(rounded["rep"], dtype=np.int64)
    return np.asarray(rounded["levels"][level], dtype=np.int64)


def _company_budget(spend: ExpenseBudget, target_minor: int, scale: int, source: str) -> int:
    """The company's budget in minor units: rate × target half up, or the stated total."""
    if spend.rate is not None:
        exact = Decimal(repr(float(spend.rate))) * Decimal(target_minor)
        return int(exact.to_integral_value(rounding=ROUND_HALF_UP))
    assert spend.total is not None  # the schema gives one of the two
    exact = Decimal(repr(float(spend.total))) * scale
    if exact != exact.to_integral_value():
        digits = len(str(scale)) - 1
        raise RuleFileError(
            [
                _located(
                    source,
                    "expenses.total",
                    f"the expense budget {spend.total!r} has more decimals than the currency "
                    f"({digits})",
                    code="sub-minor-unit",
                    hint=f"round the budget to {digits} decimal places",
                )
            ]
        )
    return int(exact)


def _parent_of(inputs: Inputs, level: str, parent: str, n: int) -> np.ndarray:
    """Each unit's parent unit at the level above it in the budget's levels."""
    pairs = np.unique(np.stack([inputs.codes[level], inputs.codes[parent]], axis=1), axis=0)
    out = np.zeros(n, dtype=np.int64)
    out[pairs[:, 0]] = pairs[:, 1]
    return out


def _weights(inputs: Inputs, spend: ExpenseBudget, level: str, target: np.ndarray) -> np.ndarray:
    """Split weights of a level's units: declared, or their targets."""
    declared = spend.weights.get(level)
    if declared is None:
        return target.astype(np.float64)
    names = [str(u) for u in inputs.unit_names[level]]
    missing = [u for u in names if u not in declared]
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise RuleFileError(
            [
                _located(
                    inputs.source,
                    f"expenses.weights.{level}",
                    f"no weight for {len(missing)} {level} unit(s): {shown}",
                    code="missing-weight",
                    hint="give every unit of a weighted level a weight (0 for no budget)",
                )
            ]
        )
    return np.array([float(declared[u]) for u in names], dtype=np.float64)


def _caps(spend: ExpenseBudget, level: str, target: np.ndarray) -> np.ndarray:
    """Each unit's most budget, whole minor units: max_rate × target rounded down, exact
    (the rate as the fraction its decimals state)."""
    rate = spend.max_rate.get(level)
    if rate is None:
        return np.full(len(target), np.inf)
    num, den = Decimal(repr(float(rate))).as_integer_ratio()
    exact = (target.astype(object) * num) // den  # Python integers: no overflow
    return exact.astype(np.float64)


def _capped_shares(
    budget: np.ndarray, parents: np.ndarray, weight: np.ndarray, cap: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each child's share of its parent's ``budget`` by ``weight``, at most ``cap``: the
    shares (adding up to each parent's budget) and which children are at their cap."""
    n_parents = len(budget)
    at_cap = np.zeros(len(weight), dtype=bool)
    total = budget.astype(np.float64)
    share = np.zeros(len(weight))
    for _ in range(_MAX_ROUNDS):
        fixed = np.bincount(parents, weights=np.where(at_cap, cap, 0.0), minlength=n_parents)
        free_w = np.bincount(parents, weights=np.where(at_cap, 0.0, weight), minlength=n_parents)
        with np.errstate(divide="ignore", invalid="ignore"):
            level = np.where(free_w > 0, (total - fixed) / free_w, 0.0)
        share = np.where(at_cap, cap, weight * level[parents])
        over = ~at_cap & (share > cap)
        if not over.any():
            break
        at_cap |= over
    return share, at_cap


def _check_placed(inputs, spend, up, level, values, parents, budget, scale) -> None:
    """A parent whose children all weigh 0 cannot pass its budget on."""
    placed = np.bincount(parents, weights=values, minlength=len(budget))
    stuck = np.flatnonzero(placed < budget - 0.5)
    if not len(stuck):
        return
    names = [str(inputs.unit_names[up][p]) for p in stuck[:5]]
    raise RuleFileError(
        [
            _located(
                inputs.source,
                f"expenses.weights.{level}",
                f"every {level} unit under {up} {', '.join(names)} has weight 0, but "
                f"{up} {names[0]} has a budget of {budget[stuck[0]] / scale:,.2f}",
                code="zero-weights",
                hint="give at least one unit of each parent a weight above 0",
            )
        ]
    )


def _shortfall(inputs, spend, chain, budget, own, room, scale) -> str:
    """The conflict: the company's budget against what the max rates let the org hold."""
    capped = [lv for lv in chain if np.isfinite(own[lv]).all()]
    rates = ", ".join(f"{lv} {spend.max_rate[lv]:.2%}" for lv in capped)
    return (
        f"`expenses`: the company's budget is {budget / scale:,.2f}, but the units can hold "
        f"at most {room['company'][0] / scale:,.2f} within max_rate ({rates}) of their targets"
    )


def _months(inputs, rounded, levels, budgets, unit_minor, held=None) -> dict[str, np.ndarray]:
    """Per level: unit × month budgets (minor units); the lowest level by its own phasing,
    the levels above as sums. ``held``: the past months are the held ones, and
    ``budgets`` (what remains) goes over the months from the re-plan month."""
    rep_months = rounded["month"].sum(axis=1).astype(np.float64)  # R × 12, rounding units
    lowest = levels[-1]
    codes = inputs.codes[lowest]
    n = len(inputs.unit_names[lowest])
    phase = np.zeros((n, 12))
    np.add.at(phase, codes, rep_months)
    even = np.full(12, 1.0 / 12)
    if held is not None:
        phase[:, : held.first] = 0.0
        even = np.where(np.arange(12) >= held.first, 1.0 / (12 - held.first), 0.0)
    sums = phase.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = np.where(sums > 0, phase / np.where(sums > 0, sums, 1.0), even[None, :])
    exact = shares * budgets[lowest][:, None]
    out = {
        lowest: apportion(exact.ravel(), np.repeat(np.arange(n), 12), budgets[lowest]).reshape(
            n, 12
        )
    }
    if held is not None:
        out[lowest][:, : held.first] += held.months
    for level in ["company", *levels[:-1]][::-1]:
        parents = _parent_of(inputs, lowest, level, n)
        m = len(inputs.unit_names[level])
        sums_m = np.zeros((m, 12), dtype=np.int64)
        np.add.at(sums_m, parents, out[lowest])
        out[level] = sums_m
    return out


def _month_targets(inputs, rounded, level, target_minor) -> np.ndarray:
    """A unit's year target over the months by its reps' phasing, whole minor units."""
    rep_months = rounded["month"].sum(axis=1).astype(np.float64)
    codes = inputs.codes[level]
    n = len(target_minor)
    phase = np.zeros((n, 12))
    np.add.at(phase, codes, rep_months)
    sums = phase.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = np.where(sums > 0, phase / np.where(sums > 0, sums, 1.0), 1.0 / 12)
    exact = shares * target_minor[:, None]
    return apportion(exact.ravel(), np.repeat(np.arange(n), 12), target_minor).reshape(n, 12)


def _frame(inputs, rounded, levels, targets, budgets, months, capped, scale) -> pd.DataFrame:
    hierarchy = list(inputs.company.hierarchy)
    periods = [YEAR, *inputs.periods]
    parts = []
    for level in ["company", *levels]:
        names = inputs.unit_names[level]
        n = len(names)
        first = pd.Series(np.arange(inputs.n_reps)).groupby(inputs.codes[level]).first()
        rep_of = first.reindex(range(n)).to_numpy()
        year_t = targets[level]
        month_t = _month_targets(inputs, rounded, level, year_t)
        t = np.concatenate([year_t[:, None], month_t], axis=1)  # n × 13
        b = np.concatenate([budgets[level][:, None], months[level]], axis=1)
        frame = pd.DataFrame(
            {
                "level": level,
                "unit": np.repeat(np.asarray(names, dtype=object), 13),
            }
        )
        if level in hierarchy:
            upto = hierarchy.index(level)
        else:
            upto = -1 if level == "company" else len(hierarchy)
        for i, col in enumerate(hierarchy):
            if i <= upto:
                values = inputs.reps[col].astype(str).to_numpy(dtype=object)[rep_of]
            else:
                values = np.full(n, "", dtype=object)
            frame[col] = np.repeat(values, 13)
        frame["period"] = np.tile(np.asarray(periods, dtype=object), n)
        frame["target"] = t.ravel() / scale
        frame["expense_budget"] = b.ravel() / scale
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(t > 0, b / np.where(t > 0, t, 1), np.nan)
        frame["rate"] = np.round(rate.ravel(), 6)
        frame["capped"] = np.repeat(capped[level], 13)
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def _notices(inputs, levels, targets, budgets) -> list[Notice]:
    out = []
    for level in levels:
        zero = (budgets[level] == 0) & (targets[level] == 0)
        if zero.any():
            names = [str(u) for u in inputs.unit_names[level][zero]]
            shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            out.append(
                Notice(
                    "expense-zero-budget",
                    f"{len(names)} {level} unit(s) have no target and get no expense budget "
                    f"({shown})",
                    source="expenses",
                    count=len(names),
                )
            )
        weightless = (budgets[level] == 0) & (targets[level] > 0)
        if weightless.any():
            names = [str(u) for u in inputs.unit_names[level][weightless]]
            shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            out.append(
                Notice(
                    "expense-no-budget",
                    f"{len(names)} {level} unit(s) carry a target but get no expense budget "
                    f"(weight 0 or a budget too small to reach them: {shown})",
                    source="expenses",
                    count=len(names),
                )
            )
    return out


def _summary(spend, levels, targets, budgets, capped, scale) -> dict[str, Any]:
    company_t = int(targets["company"][0])
    company_b = int(budgets["company"][0])
    by_level = {}
    for level in levels:
        t, b = targets[level], budgets[level]
        with np.errstate(divide="ignore", invalid="ignore"):
            rates = np.where(t > 0, b / np.where(t > 0, t, 1), np.nan)
        has = np.isfinite(rates)
        by_level[level] = {
            "units": len(t),
            "target": int(t.sum()) / scale,
            "budget": int(b.sum()) / scale,
            "rate": round(int(b.sum()) / int(t.sum()), 6) if t.sum() > 0 else None,
            "min_rate": round(float(rates[has].min()), 6) if has.any() else None,
            "max_rate": round(float(rates[has].max()), 6) if has.any() else None,
            "n_capped": int(capped[level].sum()),
        }
    return {
        "basis": "rate" if spend.rate is not None else "total",
        "budget": company_b / scale,
        "target": company_t / scale,
        "rate": round(company_b / company_t, 6) if company_t > 0 else None,
        "levels": list(levels),
        "weighted": sorted(spend.weights),
        "max_rate": dict(spend.max_rate),
        "by_level": by_level,
    }

"""Company data + rules → the per-rep arrays the model is built from.

Everything here is whole-column numpy/pandas: participants, unit codes per
level, last year's sales and potential per rep × product, fair shares, ramps,
seasonality profiles and tier mixes. Rule references that can only be
checked against the data (an unknown region, product or column) become
located :class:`~attain.errors.RuleFileError` problems.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from attain.data import Company
from attain.errors import Problem, RuleFileError
from attain.schema.allocation import AllocationRules, RampRule, Range
from attain.schema.base import OrgNames

__all__ = ["Inputs", "org_names", "prepare", "select_units"]

N_MONTHS = 12


@dataclass
class Inputs:
    """The arrays of one allocation problem (R reps × P products × 12 months)."""

    rules: AllocationRules
    company: Company
    reps: pd.DataFrame
    products: tuple[str, ...]
    levels: tuple[str, ...]
    """``company``, the hierarchy levels, then ``rep``."""
    codes: dict[str, np.ndarray]
    """Per level: each rep's unit index."""
    unit_names: dict[str, np.ndarray]
    buffer: dict[str, float]
    company_target: float
    product_targets: np.ndarray | None
    """Per product company target (rep level, buffered), when given by product."""
    total: float
    """What the reps' targets add up to: the company target × the rep buffer."""
    last_year: np.ndarray
    potential: np.ndarray
    fair: np.ndarray
    """Fair share per rep × product (adds up to ``total``)."""
    full: np.ndarray
    """Per rep: the fair share before any ramp (a full target)."""
    ramp_months: np.ndarray
    """Per rep × month: share of a full target (1 without a ramp)."""
    profiles: np.ndarray
    """Per product × month: the seasonality profile (rows add up to 1)."""
    stretch: np.ndarray
    periods: tuple[str, ...]
    source: str = "<rules>"
    extra: dict = field(default_factory=dict)

    @property
    def n_reps(self) -> int:
        return len(self.reps)

    @property
    def n_products(self) -> int:
        return len(self.products)

    def level_scale(self, level: str) -> float:
        """A level's targets are the reps' sums × this (its buffer over the reps')."""
        return self.buffer.get(level, 1.0) / self.buffer.get("rep", 1.0)


def prepare(rules: AllocationRules, company: Company, source: str = "<rules>") -> Inputs:
    _check_references(rules, company, source)
    org = company.org
    mask = _where_mask(org, rules.participants) if rules.participants else org["role"] != "manager"
    reps = org[mask.to_numpy()].sort_values("rep_id", kind="stable").reset_index(drop=True)
    if reps.empty:
        raise RuleFileError([Problem(source, "no participants: nobody carries a target")])
    products = company.products
    levels = ("company", *company.hierarchy, "rep")
    codes, names = _unit_codes(reps, company.hierarchy)
    months = _periods(company)
    last_year = _cell_table(company.history, reps, products, months_back=True, company=company)
    potential = _potential(company, reps, products)
    buffer = {lv: float(rules.buffer.get(lv, 1.0)) for lv in levels}
    target = rules.company_target.amount
    total = target * buffer["rep"]
    by_product = None
    if rules.company_target.by_product:
        by_product = np.array([rules.company_target.by_product.get(p, 0.0) for p in products])
        by_product = by_product * buffer["rep"]
    profiles = _profiles(rules, company, products, months)
    ramp = _ramp(rules, reps)
    basis = _basis(rules, last_year, potential)
    full = _fair(basis, np.ones_like(ramp), profiles, by_product, total)
    fair = _fair(basis, ramp, profiles, by_product, total)
    return Inputs(
        rules=rules,
        company=company,
        reps=reps,
        products=products,
        levels=levels,
        codes=codes,
        unit_names=names,
        buffer=buffer,
        company_target=target,
        product_targets=by_product,
        total=total,
        last_year=last_year,
        potential=potential,
        fair=fair,
        full=full.sum(axis=1),
        ramp_months=ramp,
        profiles=profiles,
        stretch=_stretch(rules, company, reps),
        periods=months,
        source=source,
    )


def _unit_codes(reps: pd.DataFrame, hierarchy: tuple[str, ...]):
    codes = {"company": np.zeros(len(reps), dtype=np.int64)}
    names = {"company": np.array(["company"], dtype=object)}
    for level in (*hierarchy, "rep"):
        column = "rep_id" if level == "rep" else level
        uniq, inverse = np.unique(reps[column].astype(str).to_numpy(), return_inverse=True)
        codes[level] = inverse.astype(np.int64)
        names[level] = uniq.astype(object)
    return codes, names


def _periods(company: Company) -> tuple[str, ...]:
    year, start = company.rules.fiscal_year, company.rules.fiscal_year_start
    out = []
    for k in range(N_MONTHS):
        m = start - 1 + k
        out.append(f"{year + m // 12:04d}-{m % 12 + 1:02d}")
    return tuple(out)


def _last_months(history: pd.DataFrame) -> np.ndarray:
    return np.sort(history["month"].unique())[-N_MONTHS:]


def _cell_table(history, reps, products, months_back, company) -> np.ndarray:
    """Last year's sales per rep × product: the last 12 months of history."""
    out = np.zeros((len(reps), len(products)))
    if history is None or history.empty:
        return out
    recent = history[history["month"].isin(_last_months(history))]
    table = recent.pivot_table(index="rep_id", columns="product", values="sales", aggfunc="sum")
    table = table.reindex(index=reps["rep_id"], columns=list(products)).fillna(0.0)
    return table.to_numpy(dtype=np.float64)


def _potential(company: Company, reps, products) -> np.ndarray:
    if company.potential is None:
        return np.zeros((len(reps), len(products)))
    table = company.potential.pivot_table(
        index="rep_id", columns="product", values="potential", aggfunc="sum"
    )
    return table.reindex(index=reps["rep_id"], columns=list(products)).fillna(0.0).to_numpy(float)


def _basis(rules: AllocationRules, last_year: np.ndarray, potential: np.ndarray) -> np.ndarray:
    fs = rules.fair_share
    pot = _normalised(potential)
    ly = _normalised(last_year)
    if fs.basis == "potential":
        return pot if potential.sum() > 0 else ly
    if fs.basis == "last_year":
        return ly if last_year.sum() > 0 else pot
    return fs.potential_weight * pot + (1 - fs.potential_weight) * ly


def _normalised(a: np.ndarray) -> np.ndarray:
    total = a.sum()
    return a / total if total > 0 else np.full_like(a, 1.0 / a.size)


def _fair(basis, ramp, profiles, by_product, total) -> np.ndarray:
    """Fair share per cell: the basis (× each rep's ramp over the year), scaled to the totals."""
    # A ramping rep's year is worth the profile-weighted mean of their monthly ramp shares.
    weight = basis * (ramp @ profiles.T)
    if by_product is not None:
        col = weight.sum(axis=0)
        safe = np.where(col > 0, col, 1.0)
        even = np.where(col > 0, 0.0, 1.0 / len(weight))
        return (weight / safe + even) * by_product
    return weight / weight.sum() * total


def _ramp(rules: AllocationRules, reps: pd.DataFrame) -> np.ndarray:
    ramp = np.ones((len(reps), N_MONTHS))
    for rule in rules.rules:
        if not isinstance(rule, RampRule):
            continue
        selected = (
            _where_mask(reps, rule.where).to_numpy() if rule.where else np.ones(len(reps), bool)
        )
        tenure = reps["tenure_months"].to_numpy()[:, None] + np.arange(N_MONTHS)[None, :]
        share = np.ones_like(ramp)
        # Walk the steps from the last: the first step whose limit exceeds the tenure wins.
        for step in reversed(rule.steps):
            share = np.where(tenure < step.tenure_below, step.share, share)
        ramp = np.where(selected[:, None], np.minimum(ramp, share), ramp)
    return ramp


def _profiles(rules: AllocationRules, company: Company, products, months) -> np.ndarray:
    season = rules.seasonality
    P = len(products)
    if season.source == "given":
        return np.tile(np.asarray(season.profile, dtype=float), (P, 1))
    history = company.history
    if season.source == "flat" or history is None or history.empty:
        return np.full((P, N_MONTHS), 1.0 / N_MONTHS)
    recent = history[history["month"].isin(_last_months(history))].copy()
    fiscal_start = company.rules.fiscal_year_start
    # The month of each row from its few distinct `YYYY-MM` values, not row by row.
    codes, months_seen = pd.factorize(recent["month"])
    slot_of = (
        np.array([int(str(m)[5:7]) for m in months_seen], dtype=np.int64) - fiscal_start
    ) % 12
    recent["slot"] = slot_of[codes]
    table = recent.pivot_table(index="product", columns="slot", values="sales", aggfunc="sum")
    table = table.reindex(index=list(products), columns=range(N_MONTHS)).fillna(0.0).to_numpy()
    sums = table.sum(axis=1, keepdims=True)
    return np.where(sums > 0, table / np.where(sums > 0, sums, 1), 1.0 / N_MONTHS)


def _stretch(rules: AllocationRules, company: Company, reps: pd.DataFrame) -> np.ndarray:
    ch = rules.challenge
    base = np.full(len(reps), float(ch.stretch))
    if not ch.by_tier or company.accounts is None:
        return base
    acc = company.accounts
    by = acc.pivot_table(index="rep_id", columns="tier", values="potential_value", aggfunc="sum")
    by = by.reindex(index=reps["rep_id"]).fillna(0.0)
    tiers = [t for t in by.columns if t in ch.by_tier]
    if not tiers:
        return base
    mix = by[tiers].to_numpy() / np.maximum(by.to_numpy().sum(axis=1, keepdims=True), 1e-12)
    rates = np.array([ch.by_tier[t] for t in tiers])
    has = by.to_numpy().sum(axis=1) > 0
    return np.where(has, mix @ rates, base)


def _where_mask(frame: pd.DataFrame, where) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for column, cond in (where or {}).items():
        values = frame[column]
        if isinstance(cond, Range):
            if cond.min is not None:
                mask &= values.astype(float) >= cond.min
            if cond.max is not None:
                mask &= values.astype(float) <= cond.max
            if cond.not_in is not None:
                mask &= ~values.astype(str).isin([str(v) for v in cond.not_in])
        elif isinstance(cond, list):
            mask &= values.astype(str).isin([str(v) for v in cond])
        else:
            mask &= values.astype(str) == str(cond)
    return mask


def select_units(inputs: Inputs, level: str, where) -> np.ndarray:
    """Indices of the units of ``level`` selected by ``where`` (a unit with any matching rep)."""
    n_units = len(inputs.unit_names[level])
    if not where:
        return np.arange(n_units)
    mask = _where_mask(inputs.reps, where).to_numpy()
    return np.unique(inputs.codes[level][mask])


def org_names(company: Company) -> OrgNames:
    """The names allocation rules may refer to in ``company`` (see :func:`known_org`)."""
    org = company.org
    by_value = [c for c in (*company.hierarchy, "role", "rep_id") if c in org.columns]
    return OrgNames(
        levels=("company", *company.hierarchy, "rep"),
        columns=tuple(map(str, org.columns)),
        products=tuple(company.products),
        values={c: frozenset(org[c].astype(str)) for c in by_value},
    )


def _check_references(rules: AllocationRules, company: Company, source: str) -> None:
    """Names in the rules that only the data can check: levels, columns, values, products.

    Rules loaded with the company known (:func:`known_org`) were checked as they loaded,
    in the same pass as their form; this catches rules built without it.
    """
    problems: list[Problem] = []
    names = org_names(company)

    def add(path: str, error: str | None) -> None:
        if error:
            problems.append(_located(source, path, error))

    def where_problems(where, path):
        for column, cond in (where or {}).items():
            error = names.column_error(column)
            add(f"{path}.{column}", error)
            if error or isinstance(cond, Range):
                continue
            for value in cond if isinstance(cond, list) else [cond]:
                add(f"{path}.{column}", names.value_error(column, value))

    where_problems(rules.participants, "participants")
    for level in rules.buffer:
        add(f"buffer.{level}", names.level_error(level))
    for p in rules.company_target.by_product or {}:
        add(f"company_target.by_product.{p}", names.product_error(p))
    currency = rules.company_target.currency
    if currency and currency != company.rules.currency:
        add(
            "company_target.currency",
            f"the company's currency is {company.rules.currency}, not {currency}",
        )
    problems.extend(_rounding_problems(rules, company, source))
    for i, rule in enumerate(rules.rules):
        path = f"rules[{i}]"
        add(f"{path}.level", names.level_error(rule.level))
        product = getattr(rule, "product", None)
        if product is not None:
            add(f"{path}.product", names.product_error(product))
        where_problems(rule.where, f"{path}.where")
    if problems:
        raise RuleFileError(problems)


def _rounding_problems(rules: AllocationRules, company: Company, source: str) -> list[Problem]:
    """Without a rounding unit, targets round to the currency's minor unit: a company
    target below half of it would round every target to 0 (a `rounding.unit` too coarse
    is refused by the schema)."""
    if rules.rounding is not None:
        return []
    minor = 10.0**-company.rules.minor_unit
    smallest = rules.company_target.amount * min([1.0, *rules.buffer.values()])
    if smallest / minor >= 0.5:
        return []
    return [
        _located(
            source,
            "company_target",
            f"the company target ({smallest:g}) is below half the currency's minor unit "
            f"({minor:g}): every target would round to 0",
            code="degenerate-rounding",
        )
    ]


def _located(
    source: str, path: str, message: str, code: str = "unknown-name", hint: str = ""
) -> Problem:
    line, column = _find_line(source, path)
    return Problem(source, message, path=path, line=line, column=column, code=code, hint=hint)


def _find_line(source: str, path: str) -> tuple[int | None, int | None]:
    """The line and column of ``path`` (``rules[2].where.region``) in a YAML file, if readable."""
    file = Path(source)
    if not file.is_file():
        return None, None
    try:
        node = yaml.compose(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None, None
    mark = node.start_mark if node is not None else None
    for part in path.replace("[", ".").replace("]", "").split("."):
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if str(k.value) == part]
            if not match:
                break
            mark, node = match[0][0].start_mark, match[0][1]
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
            mark = node.start_mark
        else:
            break
    return (mark.line + 1, mark.column + 1) if mark is not None else (None, None)

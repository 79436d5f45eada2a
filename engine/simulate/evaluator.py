"""The one small interface the simulator evaluates plans through.

A :class:`PayoutModel` maps simulated sales to each rep's yearly payout per component.
The simulator never computes a payout itself: a model wraps the incentive engine's
vectorised evaluator for one compiled plan and its targets (:func:`plan_model`), or
any function with the same contract (tests use a plain linear commission).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

__all__ = ["FunctionModel", "PayoutModel", "PlanModel", "model_notices", "plan_model"]


@runtime_checkable
class PayoutModel(Protocol):
    """A plan ready to pay simulated years.

    ``n_months`` is the resolution of sales it reads: 12 (monthly), 4 (quarterly) or 1
    (the year). ``participant`` marks the reps the plan pays. ``pooled``, when not None,
    is a bool[K] mask: the model reads only the total of these products, and also takes
    sales[t, R, n_months] already summed over them (a quarter of the memory traffic
    with four products).
    """

    name: str
    components: tuple[str, ...]
    n_months: int
    participant: np.ndarray  # bool[R]
    pooled: np.ndarray | None

    def __call__(self, sales: np.ndarray) -> np.ndarray:
        """float64 sales[t, R, n_months, K] (currency) → float64 payouts[t, R, C] for the year."""
        ...

    def total(self, sales: np.ndarray) -> np.ndarray:
        """The same sales → float64 payouts[t, R] for the year, all components (the fast path)."""
        ...


@dataclass(frozen=True)
class FunctionModel:
    """A :class:`PayoutModel` from a plain function ``sales[t,R,M,K] -> payouts[t,R,C]``."""

    name: str
    components: tuple[str, ...]
    function: Callable[[np.ndarray], np.ndarray]
    participant: np.ndarray
    n_months: int = 12
    pooled: np.ndarray | None = None

    def __call__(self, sales: np.ndarray) -> np.ndarray:
        return self.function(sales)

    def total(self, sales: np.ndarray) -> np.ndarray:
        return self.function(sales).sum(axis=2)


@dataclass(frozen=True)
class RollUp:
    """``credit.roll_up``: managers are credited with their unit's sales, as the exact
    engine does with deals (its ``credit`` stage), since the evaluator reads credit."""

    managers: np.ndarray  # int[n]: manager rows
    manager_unit: np.ndarray  # int[n]: their unit
    members: np.ndarray  # int[m]: member rows sorted by unit
    starts: np.ndarray  # int[u]: first position of each unit in ``members``
    has_members: np.ndarray  # bool[u]

    @classmethod
    def build(cls, people, level: str, manager_roles: list[str]) -> RollUp:
        import pandas as pd

        unit = pd.factorize(people[level].astype(str))[0]
        is_manager = people["role"].isin(manager_roles).to_numpy()
        members = np.flatnonzero(~is_manager)
        members = members[np.argsort(unit[members], kind="stable")]
        n_units = int(unit.max()) + 1
        starts = np.searchsorted(unit[members], np.arange(n_units))
        counts = np.bincount(unit[members], minlength=n_units)
        managers = np.flatnonzero(is_manager)
        return cls(managers, unit[managers], members, starts, counts > 0)

    def unit_sums(self, values: np.ndarray, axis: int) -> np.ndarray:
        """Sum of the members of each unit along ``axis`` (units without members: 0)."""
        moved = np.moveaxis(values, axis, 0)[self.members]
        sums = np.zeros((len(self.starts), *moved.shape[1:]))
        if len(self.members):
            # Only units with members: their starts strictly increase, as reduceat needs.
            sums[self.has_members] = np.add.reduceat(moved, self.starts[self.has_members], axis=0)
        return np.moveaxis(sums, 0, axis)

    def credit(self, sales: np.ndarray) -> np.ndarray:
        out = sales.copy()
        out[:, self.managers] += self.unit_sums(sales, 1)[:, self.manager_unit]
        return out

    def targets(self, targets: np.ndarray) -> np.ndarray:
        out = targets.copy()
        empty = self.managers[
            targets[self.managers].reshape(len(self.managers), -1).sum(axis=1) == 0
        ]
        unit_of = dict(zip(self.managers, self.manager_unit, strict=True))
        sums = self.unit_sums(targets, 0)
        out[empty] = sums[[unit_of[m] for m in empty]]
        return out


@dataclass(frozen=True)
class PlanModel:
    """A compiled plan evaluated by the incentive engine's vectorised evaluator.

    Components are the plan's own, then the adjustment lines (rounding, total cap,
    carried forward, draw, draw recovery), so they add up to the total payout.
    """

    #: Takes sales in any memory layout (the runner's reps-innermost noisy sales) and pays
    #: the same to the bit: the evaluator copies them where its sums would follow the layout.
    any_layout: ClassVar[bool] = True

    name: str
    components: tuple[str, ...]
    n_months: int
    participant: np.ndarray
    compiled: object  # attain.incentive.CompiledPlan
    targets: np.ndarray  # float64[R, n_months, K], per period (after roll-up)
    evaluator_population: object  # attain.incentive.vectorised.Population
    roll_up: RollUp | None = None
    credited: np.ndarray | None = None  # bool[K]: ``credit.products``; None when all count
    pooled: np.ndarray | None = None  # bool[K]: credited products every component measures
    pooled_targets: np.ndarray | None = None  # float64[R, n_months]: the measured targets
    spread: np.ndarray | None = None  # float64[12, P]: months → sub-monthly pay periods
    #: What the evaluator makes of the targets once (their year-to-date sums) per layout.
    cache: dict = field(default_factory=dict, compare=False, repr=False)

    def _evaluate(self, sales: np.ndarray, detail: bool | str, shared: dict | None = None):
        from attain.incentive import evaluate

        if shared is not None and not self._reads_as_given(sales, shared):
            shared = None  # sales changed for this plan first: its sums are its own
        if self.roll_up is not None and not sales.flags.c_contiguous:
            sales = np.ascontiguousarray(sales)  # the unit sums in the layout they were made on
        if self.spread is not None:  # monthly sales spread over the month's days
            sales = np.moveaxis(np.tensordot(sales, self.spread, axes=([2], [0])), -1, 2)

        # The credit stage (which products count, managers' roll-up) is the exact engine's
        # `credit` step on deals; the evaluator reads credit, so it is applied here.
        targets = self.targets
        if sales.ndim == 3:  # already summed over the pooled (credited) products
            targets = self.pooled_targets
        elif self.credited is not None:
            sales = sales * self.credited
        if self.roll_up is not None:
            sales = self.roll_up.credit(sales)
        return evaluate(
            self.compiled,
            np.swapaxes(sales, 0, 1),  # the evaluator is reps-first; a view, no copy
            targets,
            pop=self.evaluator_population,
            detail=detail,
            chunk=sales.size,  # the runner already sized the chunk
            cache=self.cache.setdefault(sales.ndim, {}),  # the pooled targets or the full
            shared=shared,
        )

    def _reads_as_given(self, sales: np.ndarray, shared: dict) -> bool:
        """Whether the evaluator reads ``sales`` themselves (no roll-up, pay-period
        spread nor credited products first) and ``shared`` was kept with them."""
        if self.roll_up is not None or self.spread is not None:
            return False
        if sales.ndim != 3 and self.credited is not None:
            return False
        return shared.setdefault("sales", sales) is sales

    def __call__(self, sales: np.ndarray) -> np.ndarray:
        lines = self._evaluate(sales, detail="year")  # each line's year: no per-period arrays
        first = lines[self.components[0]]
        out = np.empty((*first.T.shape, len(self.components)))  # C order, whatever the sales'
        for i, name in enumerate(self.components):
            out[..., i] = lines[name].T
        return out

    def total(self, sales: np.ndarray, shared: dict | None = None) -> np.ndarray:
        """``shared``: a dict kept with ``sales`` for every model paid on them (the
        runner's ``_total``); their year-to-date and product sums are made once."""
        return self._evaluate(sales, detail=False, shared=shared).T

    def subset(self, reps: np.ndarray) -> PlanModel | None:
        """This plan over the reps ``reps`` (int indices, increasing) alone, each paid the
        same to the bit as among everyone; None where a rep's pay reads other reps' sales
        (team pools, a roll-up), their sales are spread over pay periods first or they
        are summed over 8 products or more."""
        from attain.incentive.vectorised import reps_apart, reps_of

        pop = self.evaluator_population
        if self.roll_up is not None or self.spread is not None:
            return None
        if len(self.compiled.products) >= 8:  # type: ignore[attr-defined]
            return None  # a sum of 8+ products: its bits could follow the slice's layout
        if not reps_apart(self.compiled, pop):
            return None
        pooled = self.pooled_targets
        return replace(
            self,
            participant=self.participant[reps],
            targets=self.targets[reps],
            evaluator_population=reps_of(pop, reps),
            pooled_targets=None if pooled is None else pooled[reps],
            cache={},
        )


def plan_model(
    plan,
    people,
    targets: np.ndarray,
    products: tuple[str, ...],
    minor_unit: int,
    *,
    company=None,
    deals=None,
    unit_prices: dict[str, float] | None = None,
    deals_cache: dict | None = None,
):
    """A :class:`PlanModel` for ``plan`` (a loaded ``Plan``) over ``people`` (org rows, in the
    order of ``targets`` float64[R, 12, K] currency).

    ``company`` (an ``attain.data.Company``) gives the plan year's calendar (effective dates,
    SPIFF windows) and, from its actuals, the deal model (unit prices, deal sizes,
    cancellation rates: :func:`attain.incentive.deals.deal_model`, whose estimated prices
    ``unit_prices`` overrides per product); ``deals`` gives that model directly. Without them, deal features are approximated as
    :func:`attain.incentive.vectorised.approximations` says. ``deals_cache`` (a dict kept
    by the caller) keeps the deal model estimated from ``company`` for the next plan on the
    same people, products and prices."""
    from attain.incentive import (
        Calendar,
        compile_plan,
        deal_model,
        needs_deals,
        population,
    )

    compiled = compile_plan(plan, products, minor_unit)
    people = people.reset_index(drop=True)
    calendar = None
    if company is not None:
        year = plan.fiscal_year or company.rules.fiscal_year
        calendar = Calendar(year, company.rules.fiscal_year_start, plan.period)
    r, _, k = targets.shape
    spread = None
    if compiled.n_slots != 12:  # semi-monthly, two-week: read months, spread by days
        n_periods = 12
        year_calendar = calendar or Calendar(plan.fiscal_year or 2027, 1, plan.period)
        spread = year_calendar.month_spread()
        per_period = np.moveaxis(np.tensordot(targets, spread, axes=([1], [0])), -1, 1)
    else:
        n_periods = compiled.n_periods
        per_period = targets.reshape(r, n_periods, 12 // n_periods, k).sum(axis=2)
    if company is not None and deals is None and needs_deals(compiled):
        key = repr((tuple(products), sorted((unit_prices or {}).items())))
        if deals_cache is not None and key in deals_cache:
            deals = deals_cache[key]
        else:
            deals = deal_model(company.actuals, people["rep_id"], tuple(products), unit_prices)
            if deals_cache is not None:
                deals_cache[key] = deals
    dated = company.org_dated if company is not None else None  # pay for days in role
    pop = population(compiled, r, people, calendar=calendar, deals=deals, dated=dated)
    roll_up = None
    if plan.credit.roll_up is not None:
        roll_up = RollUp.build(people, plan.credit.roll_up, plan.credit.manager_roles)
        per_period = roll_up.targets(per_period)
    measured = _measured(compiled)
    return PlanModel(
        name=plan.name,
        components=compiled.line_names,
        n_months=n_periods,
        participant=np.asarray(pop.participant, dtype=bool),
        compiled=compiled,
        targets=per_period,
        evaluator_population=pop,
        roll_up=roll_up,
        credited=None if compiled.credit.mask.all() else compiled.credit.mask.astype(np.float64),
        # Credit limits the sales that count, not the targets they are measured against.
        pooled=None if measured is None else measured & compiled.credit.mask,
        pooled_targets=None if measured is None else per_period[..., measured].sum(axis=-1),
        spread=spread,
    )


def model_notices(models) -> list:
    """Warnings about what the models pay otherwise than the exact payouts would, one per
    plan (a package's member plans included), in the models' order: a holdback released
    on payment has no payment dates in a simulation, so its held parts count as the
    year's cost and are paid with the plan's last period in force."""
    from attain.notices import Notice

    out = []
    for model in models:
        for member in getattr(model, "members", (model,)):
            compiled = getattr(member, "compiled", None)
            hb = getattr(compiled, "holdback", None)
            if hb is not None and hb.release == "payment":
                out.append(
                    Notice(
                        "holdback-paid-at-year-end",
                        f"holdback released on payment: a simulation has no payment dates, "
                        f"so the held {hb.share / 10_000:g}% counts as the year's cost, paid "
                        "at the year's end",
                        member.name,
                    )
                )
    return out


def _measured(compiled) -> np.ndarray | None:
    """The products every component and gate measures, when they all measure the same
    (then the plan reads only their total); None otherwise, or when the plan reads the
    deal model, which differs by product."""
    from attain.incentive import needs_deals

    if needs_deals(compiled):
        return None
    masks = [c.mask for c in compiled.components]
    masks += [c.gate.mask for c in compiled.components if c.gate is not None]
    if not masks or any(not np.array_equal(m, masks[0]) for m in masks):
        return None
    return masks[0]

"""The vectorised evaluator: float64 numpy over reps × trials, for the simulator.

Call :func:`~attain.incentive.compile.compile_plan` once, then :func:`evaluate` on
as many trials as you like::

    compiled = compile_plan(plan, products=("core", "cloud"))
    pay = evaluate(compiled, sales, targets, ti=ti)   # float64[reps, trials]

Shapes (money in currency units, float64):

- ``sales``: credited (net) sales, ``[reps, trials]`` for the year as one window,
  ``[reps, trials, periods]`` per pay period of the plan, or
  ``[reps, trials, periods, products]`` (products in ``compiled.products`` order);
- ``targets``: ``[reps]``, ``[reps, periods]`` or ``[reps, periods, products]``,
  per period (not cumulative), matching ``sales`` without the trials axis;
- ``ti``: ``[reps]`` yearly target incentive before the plan's ``share`` (needed only
  when the plan's target incentive comes from an org column).

The result is each rep's payout for the year (what the periods pay, after true-ups,
caps and draws), or with ``detail=True`` a dict of line name → ``[reps, trials,
periods]`` amounts per period, or with ``detail="year"`` the same lines as year totals
``[reps, trials]``. Work runs in chunks of trials (``chunk`` elements),
so memory stays flat in the number of trials. Without ``detail`` (and without draws)
the components go into one running total and the periods' true-ups telescope to the
year's last balance: no per-period lines (tested against the sum of the detail lines).
Temporaries follow the layout of ``sales``: a trials-first array passed as a
transposed view (as the simulator does) is read in memory order, without a copy.

The arithmetic is the exact evaluator's, in float and unrounded: on the same inputs
the two agree within one minor unit per line (tested). There are no deals here: features
defined on deals read the :class:`~attain.incentive.deals.DealModel` given to
:func:`population` (SPIFF units = sales ÷ unit price; ``deal`` scope = the period total
as deals of the rep's average size; ``gross`` = net ÷ (1 − cancellation rate)), and
effective dates and SPIFF windows read its ``calendar`` (sales spread evenly over the
days of their period). :func:`approximations` lists what remains approximate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from attain.incentive.calendar import Calendar
from attain.incentive.compile import CompiledCap, CompiledComponent, CompiledPlan
from attain.incentive.deals import DealModel, period_coverage
from attain.incentive.exact import ADJUSTMENTS

__all__ = ["Population", "approximations", "evaluate", "population"]

_M = 1e6  # millionths


@dataclass(frozen=True)
class Population:
    """Per-rep data the evaluator needs beyond sales: TI, participants, teams, modifiers."""

    ti: np.ndarray  # float64[R] yearly TI after the plan's share, currency units
    participant: np.ndarray  # bool[R]
    unit: dict  # team pool level → int[R] team codes
    is_member: np.ndarray  # bool[R]: counts toward team credit (not a manager role)
    roles: np.ndarray  # str[R]
    factors: dict  # component name → float64[R] payout multiplier (absent: 1)
    calendar: Calendar | None = None  # the plan year: effective dates, SPIFF windows
    deals: DealModel | None = None  # unit prices, deal sizes, cancellation rates


def population(
    compiled: CompiledPlan,
    n_reps: int,
    people: pd.DataFrame | None = None,
    ti=None,
    *,
    calendar: Calendar | None = None,
    deals: DealModel | None = None,
) -> Population:
    """Rep-level data from an org table (optional): roles, teams, modifier columns, TI;
    the plan year's ``calendar`` (default: the plan's ``fiscal_year`` from January) and
    the ``deals`` model (:func:`~attain.incentive.deals.deal_model`) for deal features."""
    from attain.incentive.exact import _factors
    from attain.incentive.run import participants, target_incentive

    plan = compiled.plan
    if people is None:
        people = pd.DataFrame({"rep_id": np.arange(n_reps).astype(str), "role": "rep"})
    if ti is not None:
        share = plan.target_incentive.share if plan.target_incentive else 1.0
        ti_values = np.asarray(ti, dtype=float) * share
    else:
        ti_values = target_incentive(compiled, people) / compiled.scale
    roles = people["role"].astype(str).to_numpy()
    units = {}
    for c in compiled.components:
        if c.pool is not None:
            units[c.pool["level"]] = pd.factorize(people[c.pool["level"]].astype(str))[0]
    factors = {}
    for c in compiled.components:
        multipliers = _factors(compiled, c, people)
        if multipliers:  # only components with modifiers: the others skip a pass
            f = np.ones(len(people))
            for m in multipliers:
                f = f * (m / _M)
            factors[c.name] = f
    if calendar is None and plan.fiscal_year is not None:
        calendar = Calendar(plan.fiscal_year, 1, plan.period)
    return Population(
        ti=np.broadcast_to(ti_values, (n_reps,)).astype(float),
        participant=participants(compiled, people),
        unit=units,
        is_member=~np.isin(roles, plan.credit.manager_roles),
        roles=roles,
        factors=factors,
        calendar=calendar,
        deals=deals,
    )


def approximations(compiled: CompiledPlan, pop: Population | None = None) -> list[str]:
    """What the vectorised evaluator models rather than reproduces (no deals), for
    ``pop``'s deal model (none: the features that need one)."""
    deals = None if pop is None else pop.deals
    calendar = pop.calendar if pop is not None else None
    if calendar is None and compiled.plan.fiscal_year is not None:
        calendar = compiled.plan.fiscal_year  # population() takes the plan's year
    out = []
    dated = compiled.plan.effective_from is not None or compiled.plan.effective_to is not None
    if dated and calendar is None:
        out.append("effective dates ignored (no plan year: give population(calendar=))")
    elif dated:
        out.append(
            "effective dates: a partly effective period counts its sales by the share of its "
            "days in force (sales spread evenly over the days)"
        )
    for c in compiled.components:
        if c.type == "commission":
            gross = "gross" in (c.select_on, c.paid_on)
            if gross and deals is None:
                out.append(f"{c.name}: `gross` taken as net (no cancellation rates)")
            elif gross:
                out.append(f"{c.name}: gross = net ÷ (1 − the product's cancellation rate)")
            if c.scope == "deal":
                if deals is None:
                    out.append(
                        f"{c.name}: scope `deal` evaluated on the period total (no deal sizes)"
                    )
                else:
                    out.append(
                        f"{c.name}: scope `deal`: the period total as deals of the rep's average "
                        "size, plus one deal of the remainder; cancellations not as deals"
                    )
            if c.scope == "cumulative" and not _cumulative_is_period(c):
                if c.method == "retroactive" and c.select_on == c.paid_on and deals is not None:
                    out.append(
                        f"{c.name}: scope `cumulative`: the window's credit as deals of the "
                        "rep's average size, landing one after another"
                    )
                else:
                    out.append(f"{c.name}: scope `cumulative` evaluated on the period total")
        if c.type == "spiff":
            if deals is None or np.isnan(deals.unit_price[c.mask]).any():
                out.append(f"{c.name}: SPIFF pays nothing (no unit price for its products)")
            elif calendar is None:
                out.append(f"{c.name}: SPIFF pays nothing (no plan year for its window)")
            else:
                out.append(f"{c.name}: SPIFF units = sales ÷ the product's average unit price")
    return out


def _cumulative_is_period(c: CompiledComponent) -> bool:
    """Marginal tiers landed deal after deal telescope to the window total's."""
    return c.method == "marginal" and c.select_on == c.paid_on


def evaluate(
    compiled: CompiledPlan,
    sales: np.ndarray,
    targets: np.ndarray,
    ti: np.ndarray | float | None = None,
    *,
    people: pd.DataFrame | None = None,
    pop: Population | None = None,
    detail: bool | str = False,
    chunk: int = 100_000,
):
    """Payouts per rep × trial (see the module docstring for shapes)."""
    if detail not in (False, True, "year"):
        raise ValueError(f"detail must be False, True or 'year' (got {detail!r})")
    sales = np.asarray(sales, dtype=np.float64)
    n_reps, n_trials = sales.shape[:2]
    per_period = sales.ndim >= 3
    sales4 = _as4(sales, len(compiled.products))
    targets3 = _targets3(np.asarray(targets, dtype=np.float64), sales4)
    if pop is None:
        pop = population(compiled, n_reps, people, ti)
    step = max(1, chunk // max(1, n_reps * sales4.shape[2]))
    if detail or step >= n_trials:
        return _run(compiled, sales4, targets3, pop, per_period, detail)
    # Laid out like ``sales`` (trials-first when given a transposed view), as every
    # temporary is, so elementwise passes run over contiguous memory.
    out = np.empty_like(sales4[:, :, 0, 0])
    for t0 in range(0, n_trials, step):  # chunks keep memory flat in the number of trials
        part = sales4[:, t0 : t0 + step]
        out[:, t0 : t0 + step] = _run(compiled, part, targets3, pop, per_period, detail=False)
    return out


def _as4(sales: np.ndarray, n_products: int) -> np.ndarray:
    if sales.ndim == 2:
        sales = sales[:, :, None]
    if sales.ndim == 3:
        # No products axis: one "all products" column that every component measures.
        return sales[..., None]
    if sales.shape[-1] != n_products:
        raise ValueError(
            f"sales have {sales.shape[-1]} products; the plan's company has {n_products}"
        )
    return sales


def _targets3(targets: np.ndarray, sales4: np.ndarray) -> np.ndarray:
    n_reps, _, n_periods, n_products = sales4.shape
    if targets.ndim == 1:
        targets = targets[:, None]
    if targets.ndim == 2:
        targets = targets[..., None]
    if targets.shape[-1] != n_products:
        raise ValueError("targets and sales must both have a products axis, or neither")
    if targets.shape[1] != n_periods:
        raise ValueError(f"targets have {targets.shape[1]} periods, sales have {n_periods}")
    return targets


def _windows(compiled: CompiledPlan, n_periods: int, per_period: bool):
    """Months and pay periods per window, for TI and pools."""
    if not per_period:
        return np.array([12.0]), np.array([float(12 // _months_per(compiled))])
    k = 12 // n_periods
    months = np.full(n_periods, float(k))
    periods = np.ones(n_periods)
    if compiled.plan.measure == "ytd":
        return np.cumsum(months), np.cumsum(periods)
    return months, periods


def _months_per(compiled: CompiledPlan) -> int:
    return {"month": 1, "quarter": 3, "year": 12}[compiled.plan.period]


def _run(compiled, sales4, targets3, pop: Population, per_period: bool, detail: bool):
    plan = compiled.plan
    ytd = plan.measure == "ytd" and per_period and sales4.shape[2] > 1
    months, periods = _windows(compiled, sales4.shape[2], per_period)
    active = None
    dated = plan.effective_from is not None or plan.effective_to is not None
    if dated and pop.calendar is not None:  # without the plan year: ignored (approximations)
        sales4, targets3, months, periods, active = _effective(
            compiled, sales4, targets3, pop, per_period, ytd
        )
    net = _accumulate(np.add, sales4, axis=2) if ytd else sales4
    tgt = _accumulate(np.add, targets3, axis=1) if ytd else targets3
    ti_w = pop.ti[:, None, None] * (months / 12)[None, None, :]
    w = _Window(net, tgt, ti_w, pop, periods, compiled.scale)
    w.sales, w.ytd, w.started = sales4, ytd, None if active is None else periods > 0
    lines = (_line(c, w) for c in compiled.components)
    if compiled.draw_amount is None and detail is not True:
        # No draw to settle period by period and no per-period lines wanted: the year at once.
        if detail == "year":
            return _year_lines(compiled, _earned(compiled, lines, w), pop, ytd)
        return _year_total(compiled, lines, w, ytd)
    out = _true_up(compiled, _earned(compiled, lines, w), pop, ytd, bool(detail), active)
    if detail == "year":
        return {name: value.sum(axis=-1) for name, value in out.items()}
    return out


def _effective(compiled, sales4, targets3, pop: Population, per_period: bool, ytd: bool):
    """Effective dates, as the exact path: sales only on the days in force (spread evenly
    over a period's days), targets and TI only for the months in force, and no lines in
    periods out of force. Returns sales, targets, months, periods and the active periods."""
    plan = compiled.plan
    cal = pop.calendar
    n_p = sales4.shape[2]
    cover, months = period_coverage(cal, plan.effective_from, plan.effective_to, n_p)
    sales4 = sales4 * cover[None, None, :, None]
    targets3 = targets3 * (months / (12 // n_p))[None, :, None]
    if per_period:
        active = months > 0
        periods = active.astype(float)
    else:  # the year as one window: the plan's pay periods in force
        _, by_period = period_coverage(
            cal, plan.effective_from, plan.effective_to, 12 // _months_per(compiled)
        )
        active = np.array([True])
        periods = np.array([float((by_period > 0).sum())])
    months = months.astype(float)
    if ytd:
        return sales4, targets3, np.cumsum(months), np.cumsum(periods), active
    return sales4, targets3, months, periods, active


def _earned(compiled: CompiledPlan, lines, w) -> np.ndarray:
    """Every line per window [C + 2, R, t, P]: the components, then rounding (none in
    float) and what the total cap takes off."""
    earned = np.stack(list(lines))
    sub = earned.sum(axis=0)
    total_cap = np.zeros_like(sub)
    if compiled.total_cap is not None:
        total_cap = np.minimum(sub, _cap(compiled.total_cap, w.ti_w, w.scale)) - sub
    return np.concatenate([earned, np.zeros_like(sub)[None], total_cap[None]])


class _Window:
    """One chunk's measures, shared by its components: each set of products is summed,
    and its attainment divided, once (a plan's components usually measure the same)."""

    def __init__(self, net, tgt, ti_w, pop: Population, periods, scale: int):
        self.net, self.tgt, self.ti_w = net, tgt, ti_w
        self.pop, self.periods, self.scale = pop, periods, scale
        self.sales = net  # per-period sales [R, t, P, K] (not cumulated), for deal features
        self.ytd = False  # windows are year-to-date
        self.started = None  # bool[P]: windows the plan is in force in (effective dates)
        self._measures: dict[bytes, tuple] = {}
        self._attainments: dict[bytes, np.ndarray] = {}

    def measure(self, mask: np.ndarray):
        """Credit S [R, t, P] and target T [R, 1, P] of the products in ``mask``."""
        key = mask.tobytes()
        if key not in self._measures:
            self._measures[key] = (_measure(self.net, mask), _measure(self.tgt, mask)[:, None, :])
        return self._measures[key]

    def attainment(self, mask: np.ndarray) -> np.ndarray:
        """S / T of ``mask`` (read-only: shared between components)."""
        key = mask.tobytes()
        if key not in self._attainments:
            self._attainments[key] = _attainment(*self.measure(mask))
        return self._attainments[key]

    def gross(self, mask: np.ndarray) -> np.ndarray:
        """Gross bookings of ``mask`` [R, t, P]: net ÷ (1 − cancellation rate) per product."""
        deals = self.pop.deals
        if deals is None:
            return self.measure(mask)[0]
        factor = np.where(mask, deals.gross_factor(), 0.0)
        if self.net.shape[-1] == 1:  # no products axis: the products' mean factor
            return self.net[..., 0] * factor[mask].mean()
        return self.net @ factor

    def cumulate(self, value: np.ndarray) -> np.ndarray:
        """Per-period amounts [R, t, P] → the windows' (year to date when measuring YTD)."""
        return _accumulate(np.add, value) if self.ytd else value


def _line(c: CompiledComponent, w: _Window) -> np.ndarray:
    """One component's earnings per window [R, t, P]: a new array, after modifiers and cap."""
    value = _component(c, w)
    if w.started is not None:
        value *= w.started
    factor = w.pop.factors.get(c.name)
    if factor is not None:
        value *= factor[:, None, None]
    if c.cap is not None:
        np.minimum(value, _cap(c.cap, w.ti_w, w.scale), out=value)
    return value


def _year_total(compiled: CompiledPlan, lines, w: _Window, ytd: bool) -> np.ndarray:
    """The year's payout [R, t] without per-period lines: what :func:`_true_up` pays,
    summed, from one running total of the components (no stack of lines)."""
    sub = next(lines)
    for value in lines:
        sub += value
    if compiled.total_cap is not None:
        sub += np.minimum(sub, _cap(compiled.total_cap, w.ti_w, w.scale)) - sub
    return _participants(_year_end(compiled, sub, ytd), w.pop)


def _year_lines(compiled: CompiledPlan, earned, pop: Population, ytd: bool) -> dict:
    """Each line's year total [R, t] (``detail="year"``) for a plan without draws: the
    same lines as :func:`_true_up`'s, summed over the periods without computing them."""
    lines = earned[..., -1] if ytd else earned.sum(axis=-1)  # YTD changes telescope
    total = _year_end(compiled, earned.sum(axis=0), ytd)
    carried = total - lines.sum(axis=0)
    none = np.zeros_like(total)  # no draw, no recovery
    values = [*lines, carried, none, none]
    names = (*compiled.names, *ADJUSTMENTS)
    return {n: _participants(v, pop) for n, v in zip(names, values, strict=True)}


def _year_end(compiled: CompiledPlan, sub, ytd: bool) -> np.ndarray:
    """What the periods pay in all [R, t] for the earnings ``sub`` [R, t, P] of each
    window (year-to-date windows when ``ytd``). Without draws the true-ups telescope:
    the year pays the last balance paid."""
    cumulative = sub if ytd else _accumulate(np.add, sub)
    if compiled.plan.negative_balance == "carry_forward":
        return np.maximum(_highest(cumulative), 0.0)  # the highest balance reached
    if cumulative.shape[-1] > 1:
        return cumulative[..., -1].copy(order="K")  # not a view holding every period
    return cumulative[..., 0]


def _participants(value: np.ndarray, pop: Population) -> np.ndarray:
    """``value`` [R, ...] with non-participants paid nothing."""
    keep = pop.participant.reshape(-1, *(1,) * (value.ndim - 1))
    return value if keep.all() else np.where(keep, value, 0.0)


def _measure(arr: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Sum over the masked products; without a products axis every component sees all."""
    if arr.shape[-1] == 1 and len(mask) != 1:
        return arr[..., 0]
    if mask.all():
        return arr.sum(axis=-1)
    return arr[..., mask].sum(axis=-1)


def _cap(cap: CompiledCap, ti_w: np.ndarray, scale: int):
    if cap.amount is not None:
        return cap.amount / scale
    return ti_w * (cap.multiple / _M)


def _attain_ok(S, T, level_micro):
    return (T > 0) & (level_micro * T <= S * _M)


def _component(c: CompiledComponent, w: _Window) -> np.ndarray:
    S, T = w.measure(c.mask)
    gate_ok = None
    if c.gate is not None:
        gate_ok = _attain_ok(*w.measure(c.gate.mask), c.gate.min_attainment)
    accel_fail = None if gate_ok is None or not c.gate.accelerator_only else ~gate_ok
    if c.type == "commission":
        if c.scope == "deal" and w.pop.deals is not None:
            value = _deal_scope(c, w)
        elif _cumulative_by_deals(c, w.pop):
            value = _cumulative_scope(c, w, S)
        else:
            X = w.gross(c.mask) if c.select_on == "gross" else S
            A = w.gross(c.mask) if c.paid_on == "gross" else S
            value = _commission(c, X, A, T, accel_fail, w.scale)
    elif c.type == "attainment_curve":
        att = w.attainment(c.mask)
        if accel_fail is not None:
            att = np.where(accel_fail, np.minimum(att, 1.0), att)
        value = _curve(c, att)
        value *= w.ti_w
    elif c.type == "step_bonus":
        value = _steps(c, w.attainment(c.mask), w.ti_w, w.scale)
    elif c.type == "penalty":
        amount = w.ti_w * (c.values[0] / _M) if c.in_ti[0] else c.values[0] / w.scale
        value = np.where(w.attainment(c.mask) < c.below / _M, -amount, 0.0)
    elif c.type == "team_pool":
        value = _pool(c, S, T, w.pop, w.periods, w.scale)
    else:
        value = _spiff(c, w)
    if gate_ok is not None and not c.gate.accelerator_only:
        value = np.where(gate_ok, value, 0.0)
    if c.roles is not None:
        value = np.where(np.isin(w.pop.roles, c.roles)[:, None, None], value, 0.0)
    return value


def _commission(c: CompiledComponent, S, A, T, accel_fail, scale):
    """Tiers selected by ``S``, paid on ``A`` (the same array unless gross differs)."""
    if c.basis == "amount":
        starts = [s / scale for s in c.starts]
    else:
        starts = [(s / _M) * T for s in c.starts]
    X = S if accel_fail is None else np.where(accel_fail, np.minimum(S, T), S)
    rates = c.values / _M
    if c.method == "marginal":
        V = _marginal(X, starts, rates)
        if accel_fail is None and c.basis == "amount" and A is S:
            return V
        return np.where(X != 0, A * V / np.where(X != 0, X, 1.0), 0.0)

    def reached(b):
        return b <= X if c.boundary == "upper" else b < X

    if c.method == "interpolated":
        return A * _interp_rate(X, starts, rates, reached)
    rate = np.full(X.shape, rates[0])
    for i in range(1, len(rates)):  # a handful of tiers
        rate = np.where(reached(starts[i]), rates[i], rate)
    return A * rate


def _spiff(c: CompiledComponent, w: _Window) -> np.ndarray:
    """Units sold in the window × the amount per unit: units = sales ÷ unit price, the
    sales of a period counted by the share of its days inside the SPIFF's dates."""
    sales = w.sales
    deals = w.pop.deals
    out_shape = sales.shape[:-1]
    if deals is None or np.isnan(deals.unit_price[c.mask]).any() or w.pop.calendar is None:
        return np.zeros(out_shape)  # no unit price or no plan year: listed by approximations()
    per_unit = np.where(c.mask, 1.0 / np.where(c.mask, deals.unit_price, 1.0), 0.0)
    if sales.shape[-1] == 1 and len(c.mask) > 1:
        if not c.mask.all() or np.ptp(deals.unit_price) > 0:
            raise ValueError(f"SPIFF `{c.name}` needs sales per product (a products axis)")
        per_unit = per_unit[:1]
    cal = w.pop.calendar
    start, end = _date(c.start_day), _date(c.end_day)
    cover, _ = period_coverage(cal, start, end, sales.shape[2])
    units = sales @ per_unit
    units *= cover
    return w.cumulate(units * (c.per_unit / w.scale))


def _date(day: int):
    return (np.datetime64("1970-01-01", "D") + np.timedelta64(day, "D")).astype(object)


def _deal_scope(c: CompiledComponent, w: _Window) -> np.ndarray:
    """Tiers on each deal: a rep's period sales of a product as deals of their average
    size for it, plus one deal of the remainder (a net loss: the same, negative)."""
    sales = w.sales  # [R, t, P, K] per period
    size = w.pop.deals.deal_size  # [R, K]
    if sales.shape[-1] == 1:
        d = _mean_size(size, c.mask)[:, None]
    else:
        sales, d = sales[..., c.mask], size[:, c.mask]
    known = ~np.isnan(d) & (d > 0)
    d = np.where(known, d, 0.0)[:, None, None, :]
    inverse = np.where(known, 1.0 / np.where(known, d[:, 0, 0], 1.0), 0.0)[:, None, None, :]

    def f(x):
        return _commission(c, x, x, None, None, w.scale)

    amount = np.abs(sales)
    n = np.floor(amount * inverse + 1e-9)  # whole deals (none where the size is unknown)
    rest = np.maximum(amount - n * d, 0.0)  # the last deal: the remainder (or everything)
    value = n * f(d) + f(rest)
    value = np.copysign(value, sales).sum(axis=-1)
    return w.cumulate(value)


def _mean_size(size: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Each rep's mean deal size over the products of ``mask`` (NaN: none known)."""
    known = ~np.isnan(size) & mask
    count = known.sum(axis=1)
    total = np.where(known, size, 0.0).sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _cumulative_by_deals(c: CompiledComponent, pop: Population) -> bool:
    """Retroactive tiers landed deal after deal (marginal ones telescope to the total)."""
    return (
        c.scope == "cumulative"
        and c.method == "retroactive"
        and c.select_on == c.paid_on
        and pop.deals is not None
    )


def _cumulative_scope(c: CompiledComponent, w: _Window, S) -> np.ndarray:
    """Retroactive tiers, `cumulative` scope: the window's credit (the year to date when
    measuring YTD, so the running position carries over) as deals of the rep's average
    size landing one after another, each paid at the rate where it lands, plus one deal
    of the remainder paid at the rate of the window total. A net loss: the first rate."""
    size = w.pop.deals.deal_size
    d = _mean_size(size, c.mask)
    known = ~np.isnan(d) & (d > 0)
    d = np.where(known, d, 0.0)[:, None, None]
    inverse = np.where(known, 1.0 / np.where(known, d[:, 0, 0], 1.0), 0.0)[:, None, None]
    rates = c.values / _M
    starts = [s / w.scale for s in c.starts]
    X = np.maximum(S, 0.0)
    n = np.floor(X * inverse + 1e-9)  # whole deals (none where the size is unknown)
    rest = np.maximum(X - n * d, 0.0)
    landed = n * rates[0]  # Σ over the deals of the rate where each lands
    for j in range(1, len(rates)):
        edge = starts[j] * inverse  # the deal index i at which i × d reaches the tier
        if c.boundary == "upper":
            first = np.maximum(np.ceil(edge - 1e-9), 1.0)
        else:
            first = np.floor(edge + 1e-9) + 1.0
        landed += (rates[j] - rates[j - 1]) * np.clip(n - first + 1.0, 0.0, None)
    value = d * landed + rest * _commission(c, X, X, None, None, w.scale) / np.where(X > 0, X, 1.0)
    return np.where(S < 0, S * rates[0], value)


def _marginal(X, starts, rates) -> np.ndarray:
    """Each slice at its own rate, in place: a few passes over the chunk per tier.
    Cancellations beyond bookings (X < 0) pay back at the first rate."""
    shape = np.broadcast_shapes(X.shape, np.shape(starts[0]))
    V, part = np.empty_like(X, shape=shape), np.empty_like(X, shape=shape)
    first_at_zero = np.ndim(starts[0]) == 0 and starts[0] == 0
    for i, r in enumerate(rates):
        out = V if i == 0 else part
        np.subtract(X, starts[i], out=out)
        low = None if i == 0 and first_at_zero else 0.0  # the first slice also takes X < 0
        high = starts[i + 1] - starts[i] if i + 1 < len(rates) else None
        if low is not None or high is not None:
            np.clip(out, low, high, out=out)
        np.multiply(out, r, out=out)
        if i:
            V += part
    if not first_at_zero:
        np.minimum(X, 0.0, out=part)
        V += rates[0] * part
    return V


def _interp_rate(X, starts, rates, reached):
    rate = np.full(X.shape, rates[-1])
    for i in range(len(rates) - 2, -1, -1):  # the lowest band reached wins, top-down
        width = starts[i + 1] - starts[i]
        safe = np.where(width == 0, 1.0, width)
        inside = (~reached(starts[i + 1])) & (reached(starts[i]) if i else True)
        r = rates[i] + (np.maximum(X, starts[i]) - starts[i]) * (rates[i + 1] - rates[i]) / safe
        rate = np.where(inside, r, rate)
    return rate


def _attainment(S, T):
    """S / T; NaN where there is no target (every comparison with NaN is false)."""
    out = np.empty_like(S, shape=np.broadcast_shapes(S.shape, T.shape))
    has_target = T > 0
    if has_target.all():  # the usual case: one division, no mask
        return np.divide(S, T, out=out)
    out.fill(np.nan)
    return np.divide(S, T, out=out, where=has_target)


def _curve(c: CompiledComponent, att):
    """p0 + the sum of each segment's slope × the part of the segment reached (in place)."""
    a, p = c.starts / _M, c.values / _M
    weight = c.weight / _M
    f = np.full_like(att, p[0] * weight)
    part = np.empty_like(att)
    for i in range(len(a) - 1):
        slope = (p[i + 1] - p[i]) / (a[i + 1] - a[i]) * weight
        if slope == 0:
            continue
        np.subtract(att, a[i], out=part)
        np.clip(part, 0.0, a[i + 1] - a[i], out=part)
        np.multiply(part, slope, out=part)
        f += part
    f *= att >= a[0]  # below the threshold: nothing (a multiply: much faster than where)
    if np.isnan(att[:, :1]).any():  # no target (NaN for every trial of the rep): nothing
        f[np.isnan(att)] = 0.0
    return f


def _steps(c: CompiledComponent, att, ti_w, scale):
    value = np.zeros_like(att, shape=np.broadcast_shapes(att.shape, ti_w.shape))
    hit, step = np.empty_like(value, dtype=bool), np.empty_like(value)
    previous = 0.0
    for a, v, in_ti in zip(c.starts, c.values, c.in_ti, strict=True):  # the highest step wins
        amount = ti_w * (v / _M) if in_ti else v / scale
        np.greater_equal(att, a / _M, out=hit)
        np.multiply(hit, amount - previous, out=step)  # faster than a masked add (where=)
        value += step
        previous = amount
    return value


def _pool(c: CompiledComponent, S, T, pop: Population, periods, scale):
    cfg = c.pool
    unit = pop.unit[cfg["level"]]
    n_units = int(unit.max()) + 1
    member = pop.is_member
    team_s = np.zeros((n_units, *S.shape[1:]))
    team_t = np.zeros((n_units, 1, S.shape[2]))
    np.add.at(team_s, unit[member], S[member])
    np.add.at(team_t, unit[member], np.broadcast_to(T, (len(unit), 1, S.shape[2]))[member])
    funded = _attain_ok(team_s, team_t, cfg["threshold"])
    n_part = np.bincount(unit[pop.participant], minlength=n_units)[:, None, None]
    if cfg["per_member"] is not None:
        pool = n_part * (cfg["per_member"] / scale) * periods
    elif cfg["fixed"] is not None:
        pool = np.broadcast_to((cfg["fixed"] / scale) * periods, team_s.shape)
    else:
        pool = np.maximum(team_s, 0) * (cfg["share_of_sales"] / _M)
    pool = np.where(funded, pool, 0.0)
    eligible = pop.participant[:, None, None] & (cfg["min_attainment"] * T <= S * _M)
    if cfg["min_attainment"] > 0:
        eligible &= T > 0
    weight = _pool_weight(cfg, S, unit, eligible, pop, n_units)
    wsum = np.zeros_like(team_s)
    np.add.at(wsum, unit, weight)
    share = weight / np.where(wsum[unit] > 0, wsum[unit], 1.0)
    return pool[unit] * share


def _pool_weight(cfg, S, unit, eligible, pop: Population, n_units):
    if cfg["split"] == "equal":
        return eligible.astype(float)
    if cfg["split"] == "pro_rata":
        w = np.where(eligible, np.maximum(S, 0.0), 0.0)
        tot = np.zeros((n_units, *S.shape[1:]))
        np.add.at(tot, unit, w)
        return np.where(tot[unit] > 0, w, eligible.astype(float))
    names = sorted(cfg["shares"])
    code = pd.Index(names).get_indexer(pop.roles)
    elig = eligible & (code >= 0)[:, None, None]
    pair = unit * len(names) + np.maximum(code, 0)
    n_pairs = n_units * len(names)
    count = np.zeros((n_pairs, *S.shape[1:]))
    np.add.at(count, pair, elig.astype(float))
    share = np.array([cfg["shares"][r] for r in names], float)[np.maximum(code, 0)]
    present = np.zeros((n_pairs, *S.shape[1:]))
    np.add.at(present, pair, elig.astype(float))
    role_present = (present > 0).astype(float) * np.tile(
        np.array([cfg["shares"][r] for r in names], float), n_units
    )[:, None, None]
    role_total = np.zeros((n_units, *S.shape[1:]))
    np.add.at(role_total, np.arange(n_pairs) // len(names), role_present)
    norm = np.where(role_total[unit] > 0, role_total[unit], 1.0)
    return np.where(elig, share[:, None, None] / norm / np.maximum(count[pair], 1.0), 0.0)


def _true_up(compiled: CompiledPlan, earned, pop: Population, ytd: bool, detail: bool, active):
    plan = compiled.plan
    if ytd:
        lines = _changes(earned)
        cumulative = earned.sum(axis=0)
    else:
        lines = earned
        cumulative = _accumulate(np.add, earned.sum(axis=0))
    if plan.negative_balance == "carry_forward":
        paid = _accumulate(np.maximum, np.maximum(cumulative, 0.0))
    else:
        paid = cumulative
    total = _changes(paid)
    carried = total - lines.sum(axis=0)
    draw, recovery = _draws(compiled, total, active)
    total = total + draw + recovery
    if not detail:
        return _participants(total.sum(axis=-1), pop)
    names = (*compiled.names, *ADJUSTMENTS)
    all_lines = [*lines[:-2], lines[-2], lines[-1], carried, draw, recovery]
    return {n: _participants(v, pop) for n, v in zip(names, all_lines, strict=True)}


def _accumulate(ufunc, x, axis: int = -1):
    """``ufunc.accumulate(x, axis)`` over the periods, one period at a time: the same
    operations in the same order, but a pass over reps × trials per period runs about
    twice as fast as numpy's accumulate along a short axis. One window is its own."""
    if x.shape[axis] == 1:
        return x
    out = np.empty_like(x)
    src, dst = np.moveaxis(x, axis, -1), np.moveaxis(out, axis, -1)
    dst[..., 0] = src[..., 0]
    for p in range(1, src.shape[-1]):
        ufunc(dst[..., p - 1], src[..., p], out=dst[..., p])
    return out


def _highest(x):
    """``x.max(axis=-1)`` one period at a time (3x faster along a short axis; exact)."""
    out = x[..., 0].copy()
    for p in range(1, x.shape[-1]):
        np.maximum(out, x[..., p], out=out)
    return out


def _changes(x):
    """Each period's change from the one before (the first period's from 0), as
    ``np.diff(x, prepend=0)`` without building the prepended copy."""
    if x.shape[-1] == 1:
        return x
    out = np.empty_like(x)
    out[..., 0] = x[..., 0]
    np.subtract(x[..., 1:], x[..., :-1], out=out[..., 1:])
    return out


def _draws(compiled: CompiledPlan, total, active=None):
    draw = np.zeros_like(total)
    recovery = np.zeros_like(total)
    if compiled.draw_amount is None:
        return draw, recovery
    amount = compiled.draw_amount / compiled.scale
    owed = np.zeros(total.shape[:-1])
    for p in range(total.shape[-1]):  # a dozen periods, each over every rep and trial
        if active is not None and not active[p]:
            continue  # out of force: no draw
        top_up = np.maximum(amount - total[..., p], 0.0)
        draw[..., p] = top_up
        if compiled.draw_recoverable:
            back = np.minimum(owed, np.maximum(total[..., p] - amount, 0.0))
            recovery[..., p] = -back
            owed = owed + top_up - back
    return draw, recovery

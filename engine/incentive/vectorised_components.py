"""The vectorised evaluator's components: each one's line per window, in float64.

:func:`~attain.incentive.vectorised.evaluate` builds one :class:`_Window` per chunk of
trials (credit, targets and TI per rep × trial × window, each set of products measured
once and shared by the components) and asks :func:`_line` for each component's
earnings: the formula of its type (tiers, attainment curve, step bonus, penalty, team
pool, SPIFF; tiers on ``deal`` or ``cumulative`` scope read the population's deal
model), then its gate, roles, effective dates, modifiers and cap. The year's totals,
true-ups and draws are :mod:`~attain.incentive.vectorised`'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from attain.incentive.compile import CompiledCap, CompiledComponent
from attain.incentive.deals import period_coverage

if TYPE_CHECKING:
    from attain.incentive.vectorised import Population

_M = 1e6  # millionths


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

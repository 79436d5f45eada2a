"""Commission: a tier table on an amount (or attainment), marginal, retroactive or
interpolated, per period, per deal or on the running position (``scope``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attain.incentive.floats import M, Window, f64, kept
from attain.incentive.floats import clip as _clip
from attain.incentive.kinds.base import (
    CompiledComponent,
    DealContext,
    ExactInputs,
    KindBase,
    Part,
    common,
    register,
)
from attain.incentive.rational import MICRO, micro, round_div, to_minor
from attain.incentive.text import measured, money, pct
from attain.schema.plan import Commission

__all__ = ["CommissionKind", "CompiledCommission", "tier_index", "tiers"]

_O = object


@dataclass(frozen=True, kw_only=True)
class CompiledCommission(CompiledComponent):
    type = "commission"
    method: str  # marginal, retroactive, interpolated
    basis: str  # amount (starts in minor units) or attainment (starts in millionths)
    scope: str  # period, deal, cumulative
    boundary: str  # upper, lower
    starts: np.ndarray  # int64[n] tier starts
    values: np.ndarray  # int64[n] tier rates, millionths
    floor: int | None = None  # base floor, minor units (None: no floor)
    floor_mode: str = "threshold"  # threshold (below: 0) or deductible (only above counts)
    split: str = "proportional"  # marginal, paid ≠ selecting: proportional or edges


def _obj(a) -> np.ndarray:
    return np.asarray(a).astype(_O)


def tier_index(X: np.ndarray, B: np.ndarray, boundary: str) -> np.ndarray:
    """Index of the tier ``X`` falls in; ``B[..., i]`` are tier starts (broadcast on the last axis).

    ``upper``: a value at an edge belongs to the tier starting there; ``lower``: to the one ending there.
    """
    hit = (X[..., None] >= B) if boundary == "upper" else (X[..., None] > B)
    return np.maximum(hit.sum(axis=-1) - 1, 0)


def _fits_int64(X, A, B, rates) -> bool:
    arrays = [np.asarray(a) for a in (X, A, B)]
    if any(a.dtype == object for a in arrays):
        return False
    big = max(float(np.abs(a).max(initial=0)) for a in arrays)
    return big * float(rates.max(initial=0)) * (len(rates) + 1) < 2.0**62


def _take(B: np.ndarray, i: np.ndarray) -> np.ndarray:
    B = np.broadcast_to(B, (*i.shape, B.shape[-1]))
    return np.take_along_axis(B, i[..., None], axis=-1)[..., 0]


def tiers(
    c: CompiledCommission,
    X: np.ndarray,
    A: np.ndarray,
    B: np.ndarray,
    x_scale: int,
    blended: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """The tier table on ``X`` (in tier units), paid on ``A`` (minor units), as ``(num, den)``.

    ``B`` holds the tier starts in tier units (broadcastable to ``X.shape + (n,)``);
    ``x_scale`` converts tier units to minor units (1, or ``MICRO`` for attainment).
    With ``A`` equal to the amount ``X`` measures, marginal pays each slice at its rate;
    when they differ (``blended``), ``A`` is paid at the average rate the table gives ``X``.
    """
    small = c.method != "interpolated" and not blended and _fits_int64(X, A, B, c.values)
    if not small:
        X, A, B = _obj(X), _obj(A), _obj(B)
        rates = _obj(c.values)
    else:  # amounts × rates stay far below 2**63: int64 is exact and much faster
        rates = c.values
    if c.method == "marginal":
        widths = np.diff(B, axis=-1)
        slices = np.maximum(X[..., None] - B, 0)
        slices[..., :-1] = np.minimum(slices[..., :-1], widths)
        # Below zero (cancellations exceeding bookings) the first rate runs backwards.
        V = (slices * rates).sum(axis=-1) + np.minimum(X, 0) * rates[0]
        if not blended:
            return V, MICRO * x_scale
        sign = (X > 0).astype(int) - (X < 0).astype(int)
        return A * V * sign, MICRO * np.where(X == 0, 1, X * sign)
    i = tier_index(X, B, c.boundary)
    rate = rates[i]
    if c.method == "retroactive":
        return A * rate, MICRO
    last = i == len(rates) - 1
    nxt = np.minimum(i + 1, len(rates) - 1)
    b_i, b_n = _take(B, i), _take(B, nxt)
    width = np.where(last, 1, b_n - b_i)
    width = np.where(width == 0, 1, width)  # a zero target makes every band empty
    inside = np.maximum(X, b_i) - b_i  # a negative amount keeps the first rate
    rate_num = np.where(last, rate, rate * width + inside * (rates[nxt] - rate))
    return A * rate_num, MICRO * width


class CommissionKind(KindBase):
    type = "commission"
    schema = Commission
    cellwise_parts = True

    # -- compile ------------------------------------------------------------------------
    def compile(self, c: Commission, products: tuple[str, ...], unit: int) -> CompiledCommission:
        to_int = micro if c.basis == "attainment" else (lambda v: to_minor(v, unit))
        return CompiledCommission(
            **common(c, products, unit),
            method=c.method,
            basis=c.basis,
            scope=c.scope,
            boundary=c.boundary,
            select_on=c.select_on,
            paid_on=c.paid_on,
            starts=np.array([to_int(t.start) for t in c.tiers], dtype=np.int64),
            values=np.array([micro(t.rate) for t in c.tiers], dtype=np.int64),
            floor=None if c.base_floor is None else to_minor(c.base_floor.amount, unit),
            floor_mode="threshold" if c.base_floor is None else c.base_floor.mode,
            split=c.split,
        )

    # -- exact --------------------------------------------------------------------------
    def exact(self, c: CompiledCommission, x: ExactInputs):
        if x.deal_level is not None:
            return x.deal_level
        X, paid, B, x_scale, blended = _selected(c, x)
        if blended and c.split == "edges" and c.method == "marginal":
            return _edge_slices(c, X, paid, B, x_scale)[0]
        return tiers(c, X, paid, B, x_scale, blended)

    def parts(self, c: CompiledCommission, x: ExactInputs) -> list[Part]:
        """Per tier, the slice (marginal) or the whole paid measure at the tier reached."""
        measure = f"{c.paid_on} credit"
        if x.deal_level is not None:
            return [
                Part("sum of the commission on each deal", x.deal_level, (x.A, 1), None, measure)
            ]
        X, paid, B, x_scale, blended = _selected(c, x)
        X, paid = _obj(X), _obj(paid)
        B = np.broadcast_to(_obj(B), (*np.shape(X), len(c.values)))
        rates = [int(r) for r in c.values]
        n = len(rates)
        if blended and c.select_on != c.paid_on:
            measure = f"{c.paid_on} credit, tiers on {c.select_on}"
        elif c.basis == "attainment":
            measure = f"{c.paid_on} credit, tiers on attainment"

        def edges(i):
            lo = B[..., i] // x_scale
            hi = None if i + 1 == n else B[..., i + 1] // x_scale
            return lo, hi

        out = []
        if c.method == "marginal" and blended and c.split == "edges":
            _, pieces, eff = _edge_slices(c, X, paid, B, x_scale)
            measure = f"{c.paid_on} credit at the tier edges, rates up to {c.select_on}'s tier"
            for i in range(n):
                out.append(
                    Part(
                        f"tier {i + 1}",
                        (pieces[i] * eff[i], MICRO * x_scale),
                        (pieces[i], x_scale),
                        (eff[i], MICRO),
                        measure,
                        *edges(i),
                    )
                )
            return out
        if c.method == "marginal":
            for i in range(n):
                top = X if i + 1 == n else np.minimum(X, B[..., i + 1])
                piece = np.maximum(top - B[..., i], 0)
                if i == 0:  # below zero the first rate runs backwards
                    piece = piece + np.minimum(X, 0)
                if blended:  # the paid measure, split as the selecting one fills the tiers
                    den = np.where(X == 0, 1, X)
                    base = (paid * piece, den)
                    amount = (paid * piece * rates[i], MICRO * den)
                else:
                    base = (piece, x_scale)
                    amount = (piece * rates[i], MICRO * x_scale)
                out.append(
                    Part(f"tier {i + 1}", amount, base, (rates[i], MICRO), measure, *edges(i))
                )
            return out
        i_hit = tier_index(X, B, c.boundary)
        if c.method == "retroactive":
            for i in range(n):
                hit = i_hit == i
                base = np.where(hit, paid, 0)
                out.append(
                    Part(
                        f"tier {i + 1} reached",
                        (base * rates[i], MICRO),
                        (base, 1),
                        (rates[i], MICRO),
                        measure,
                        *edges(i),
                    )
                )
            return out
        num, den = tiers(c, X, paid, B, x_scale, True)
        for i in range(n):
            hit = i_hit == i
            some = hit & (paid != 0)  # num is paid × the rate's numerator
            rate = (np.where(some, num, 0), np.where(some, den * paid, 1))
            out.append(
                Part(
                    f"tier {i + 1}, rate interpolated",
                    (np.where(hit, num, 0), den),
                    (np.where(hit, paid, 0), 1),
                    rate,
                    measure,
                    *edges(i),
                )
            )
        return out

    def deal_level(self, c: CompiledCommission, ctx: DealContext):
        """Tiers on each deal alone (`deal`) or on the running position (`cumulative`),
        rounded per deal; None for period scope."""
        if c.scope == "period":
            return None
        credit = ctx.credit
        rows = np.flatnonzero(c.mask[credit.product])
        if c.scope == "deal":
            value = _by_deal(c, ctx, rows)
        else:
            sel = (credit.gross if c.select_on == "gross" else credit.net)[rows]
            paid = (credit.gross if c.paid_on == "gross" else credit.net)[rows]
            sign = np.where(credit.net[rows] < 0, -1, 1)
            value = _cumulative(c, ctx, rows, sel, paid, sign)
        ctx.windows.records[c.name] = {"deal_rows": rows, "deal_values": value}  # per deal
        return ctx.to_windows(ctx.monthly(rows, value)), 1

    # -- vectorised ---------------------------------------------------------------------
    def vectorised(self, c: CompiledCommission, w: Window, accel_fail) -> np.ndarray:
        S, T = w.measure(c.mask)
        if c.scope == "deal" and w.pop.deals is not None:
            return _deal_scope(c, w)
        if _cumulative_by_deals(c, w.pop):
            return _cumulative_scope(c, w, S)
        X = w.gross(c.mask) if c.select_on == "gross" else S
        A = w.gross(c.mask) if c.paid_on == "gross" else S
        if c.floor is not None:
            X = base_floor(c, X, w.scale)
            A = X if A is S and c.select_on == c.paid_on else base_floor(c, A, w.scale)
        return _commission(c, X, A, T, accel_fail, w.scale)

    def needs_deals(self, c: CompiledCommission) -> bool:
        return c.scope == "deal" or "gross" in (c.select_on, c.paid_on)

    def approximations(self, c: CompiledCommission, deals, calendar) -> list[str]:
        out = []
        gross = "gross" in (c.select_on, c.paid_on)
        if gross and deals is None:
            out.append(f"{c.name}: `gross` taken as net (no cancellation rates)")
        elif gross:
            out.append(f"{c.name}: gross = net ÷ (1 − the product's cancellation rate)")
        if c.scope == "deal":
            if deals is None:
                out.append(f"{c.name}: scope `deal` evaluated on the period total (no deal sizes)")
            else:
                out.append(
                    f"{c.name}: scope `deal`: the period total as deals of the rep's average "
                    "size, plus one deal of the remainder; cancellations not as deals"
                )
        telescopes = c.method == "marginal" and c.select_on == c.paid_on
        if c.scope == "cumulative" and not telescopes:
            if c.method == "retroactive" and c.select_on == c.paid_on and deals is not None:
                out.append(
                    f"{c.name}: scope `cumulative`: the window's credit as deals of the "
                    "rep's average size, landing one after another"
                )
            else:
                out.append(f"{c.name}: scope `cumulative` evaluated on the period total")
        return out

    # -- statement text -----------------------------------------------------------------
    def rule(self, c: CompiledCommission, unit: int) -> str:
        fmt = (lambda v: money(v, unit)) if c.basis == "amount" else pct
        bands = "; ".join(
            f"from {fmt(s)}: {pct(r)}" for s, r in zip(c.starts, c.values, strict=True)
        )
        text = f"{c.label}: {c.method} commission ({c.scope} scope), tiers {bands}"
        if c.select_on != c.paid_on:
            text += f"; tiers selected on {c.select_on}, paid on {c.paid_on}"
            if c.method == "marginal":
                text += (
                    " sliced at the tier edges (split: edges)"
                    if c.split == "edges"
                    else f" at {c.select_on}'s average rate (split: proportional)"
                )
        if c.floor is not None:
            per = "deal" if c.scope == "deal" else "window"
            if c.floor_mode == "threshold":
                text += f"; nothing paid on a base (per {per}) below {money(c.floor, unit)}"
            else:
                text += f"; only the base (per {per}) above {money(c.floor, unit)} counts"
        return text

    def inputs(self, c, info: dict, r: int, w: int, unit: int, earned) -> str:
        return measured(info, r, w, unit, thresholds=c.starts if c.basis == "attainment" else ())


def _running(key: np.ndarray, values: list[np.ndarray]) -> list[np.ndarray]:
    """Running sums of each of ``values`` within runs of equal (sorted) ``key``."""
    start = np.searchsorted(key, key)  # first row of each run
    out = []
    for v in values:
        run = np.cumsum(v)
        out.append(run - np.where(start > 0, run[start - 1], 0))
    return out


def _deal_value(c: CompiledCommission, G, N, mode: str):
    """A deal's commission at gross ``G`` and net ``N`` (its rows so far), rounded; a deal
    whose net is negative (cancelled beyond its booking here) mirrors a positive one."""
    sel = base_floor(c, G if c.select_on == "gross" else N)
    paid = base_floor(c, G if c.paid_on == "gross" else N)
    sign = np.where(paid < 0, -1, 1)
    num, den = tiers(c, np.abs(sel), np.abs(paid), c.starts, 1, c.select_on != c.paid_on)
    return sign * round_div(num, den, mode)


def _by_deal(c: CompiledCommission, ctx: DealContext, rows: np.ndarray) -> np.ndarray:
    """Tiers on each deal alone. A cancellation re-prices its deal: it pays the deal's
    commission at its net after the cancellation minus the commission before it (a deal of
    1.1M less 200k pays what a 900k deal pays, not 1.1M's rate less 200k's)."""
    credit = ctx.credit
    key = credit.deal[rows].astype(np.int64) * (len(ctx.book.people) + 1) + credit.person[rows]
    order = np.lexsort((credit.order[rows], credit.day[rows], key))
    g, n = credit.gross[rows][order], credit.net[rows][order]
    G, N = _running(key[order], [g, n])
    value = np.zeros(len(rows), dtype=np.int64)
    value[order] = _deal_value(c, G, N, ctx.mode) - _deal_value(c, G - g, N - n, ctx.mode)
    return value


def _cumulative(c: CompiledCommission, ctx: DealContext, rows, sel, paid, sign):
    """Each deal lands on top of the position before it (reset per period unless YTD)."""
    credit, mode = ctx.credit, ctx.mode
    group = credit.person[rows].astype(np.int64) * ctx.book.calendar.n_slots
    if not ctx.ytd:
        group = group + ctx.book.calendar.period_of_month()[credit.month[rows]]
    order = np.lexsort((credit.order[rows], credit.day[rows], group))
    g, s = group[order], sel[order]
    run = np.cumsum(s)
    start = np.searchsorted(g, g)  # first row of each group
    after = run - np.where(start > 0, run[start - 1], 0)
    before = after - s
    value = np.zeros(len(rows), dtype=np.int64)
    if c.method == "marginal":
        hi, d = tiers(c, after, after, c.starts, 1, False)
        lo, _ = tiers(c, before, before, c.starts, 1, False)
        delta = hi - lo
        if c.select_on == c.paid_on:
            v = round_div(delta, d, mode)
        else:  # the position's paid measure at the average rate its selecting one gives
            p = paid[order]
            (P,) = _running(g, [p])
            na, da = tiers(c, after, P, c.starts, 1, True)
            nb, db = tiers(c, before, P - p, c.starts, 1, True)
            v = round_div(na * db - nb * da, da * db, mode)
    else:
        num, den = tiers(c, np.maximum(after, 0), np.abs(paid[order]), c.starts, 1, True)
        v = sign[order] * round_div(num, den, mode)
    value[order] = v
    return value


def _edge_slices(c: CompiledCommission, X, paid, B, x_scale: int):
    """``split: edges``: the paid measure (in tier units) sliced at the tier edges, each
    slice at its tier's rate capped at the rate of the tier ``X`` reached. Returns the
    amount ``(num, den)``, the slices and their rates (lists per tier, tier units)."""
    n = len(c.values)
    Y = _obj(paid) * x_scale
    B = np.broadcast_to(_obj(B), (*np.shape(Y), n))
    reached = tier_index(_obj(X), B, c.boundary)
    rates = [int(r) for r in c.values]
    pieces, eff = [], []
    for i in range(n):
        top = Y if i + 1 == n else np.minimum(Y, B[..., i + 1])
        piece = np.maximum(top - B[..., i], 0)
        if i == 0:  # below zero the first rate runs backwards
            piece = piece + np.minimum(Y, 0)
        rate = np.asarray(rates, dtype=object)[np.minimum(reached, i)]
        pieces.append(piece)
        eff.append(rate)
    num = sum(p * r for p, r in zip(pieces, eff, strict=True))
    return (num, MICRO * x_scale), pieces, eff


def base_floor(c: CompiledCommission, v, scale: int = 1):
    """The base ``v`` under ``c``'s floor (minor units; float currency units with
    ``scale``): ``threshold`` zeroes a base below it, ``deductible`` keeps the part above."""
    if c.floor is None:
        return v
    floor = c.floor if scale == 1 else c.floor / scale
    if c.floor_mode == "threshold":
        return np.where(v < floor, 0, v)
    return np.maximum(v - floor, 0)


def _selected(c: CompiledCommission, x: ExactInputs):
    """What the tiers read: the selecting measure ``X`` in tier units (capped at target
    where an accelerator gate fails), the paid measure, tier starts, scale and whether
    the paid measure differs from the selecting one."""
    S, A, T = base_floor(c, x.S), base_floor(c, x.A), x.T
    if c.basis == "amount":
        X, B, x_scale = S, c.starts, 1
        limit = T
    else:
        X, x_scale = S.astype(object) * MICRO, MICRO
        B = c.starts.astype(object) * T.astype(object)[..., None]
        limit = T.astype(object) * MICRO
    if x.accel_fail is not None:
        X = np.where(x.accel_fail, np.minimum(X, limit), X)
    blended = c.select_on != c.paid_on or x.accel_fail is not None or c.basis == "attainment"
    paid = A if blended else X
    return X, paid, B, x_scale, blended


# -- vectorised helpers -----------------------------------------------------------------


def _commission(c: CompiledCommission, S, A, T, accel_fail, scale):
    """Tiers selected by ``S``, paid on ``A`` (the same array unless gross differs)."""
    if c.basis == "amount":
        starts = [s * (1 / scale) for s in c.starts]
    else:  # attainment tiers scale with T: T × start, then ÷ M, so a tier starting at
        # 100% starts at T itself (T ÷ M × M can land an ulp above T, and a rep exactly at
        # target would miss the tier the exact evaluator pays)
        starts = [T * s / M for s in c.starts]
    X = S if accel_fail is None else np.where(accel_fail, np.minimum(S, T), S)
    rates = c.values / M
    blended = A is not S or c.basis != "amount" or accel_fail is not None
    if c.method == "marginal" and c.split == "edges" and blended:
        return _marginal_edges(X, A, starts, rates, c.boundary == "upper")
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


def _marginal_edges(X, A, starts, rates, upper: bool):
    """``split: edges`` in float: ``A`` sliced at the tier edges (in money), each slice at
    its rate capped at the rate of the tier ``X`` reached."""
    reached = np.zeros(np.shape(X), dtype=np.int64)
    for i in range(1, len(rates)):
        reached = np.where((starts[i] <= X) if upper else (starts[i] < X), i, reached)
    out = np.zeros(np.broadcast_shapes(np.shape(X), np.shape(A)))
    for i in range(len(rates)):
        top = A if i + 1 == len(rates) else np.minimum(A, starts[i + 1])
        piece = np.maximum(top - starts[i], 0.0)
        if i == 0:
            piece = piece + np.minimum(A, 0.0)
        out = out + piece * rates[np.minimum(reached, i)]
    return out


def _deal_scope(c: CompiledCommission, w: Window) -> np.ndarray:
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
        x = base_floor(c, x, w.scale)
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


def _cumulative_by_deals(c: CompiledCommission, pop) -> bool:
    """Retroactive tiers landed deal after deal (marginal ones telescope to the total)."""
    return (
        c.scope == "cumulative"
        and c.method == "retroactive"
        and c.select_on == c.paid_on
        and pop.deals is not None
    )


def _cumulative_scope(c: CompiledCommission, w: Window, S) -> np.ndarray:
    """Retroactive tiers, `cumulative` scope: the window's credit (the year to date when
    measuring YTD, so the running position carries over) as deals of the rep's average
    size landing one after another, each paid at the rate where it lands, plus one deal
    of the remainder paid at the rate of the window total. A net loss: the first rate."""
    size = w.pop.deals.deal_size
    d = _mean_size(size, c.mask)
    known = ~np.isnan(d) & (d > 0)
    d = np.where(known, d, 0.0)[:, None, None]
    inverse = np.where(known, 1.0 / np.where(known, d[:, 0, 0], 1.0), 0.0)[:, None, None]
    rates = c.values / M
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


def _marginal(X, starts, rates, out=None, part=None) -> np.ndarray:
    """Each slice at its own rate, in place: a few passes over the chunk per tier.
    Cancellations beyond bookings (X < 0) pay back at the first rate. ``out`` and ``part``
    (optional, X's shape) are the result and a scratch buffer."""
    if out is None:
        shape = np.broadcast_shapes(X.shape, np.shape(starts[0]))
        out = np.empty_like(X, shape=shape)
    if part is None:
        part = np.empty_like(out)
    if np.ndim(starts[0]) == 0:
        numbers = np.array(starts, dtype=np.float64), np.asarray(rates, dtype=np.float64)
        key = ("marginal", numbers[0].tobytes(), numbers[1].tobytes())
        return kept(key, numbers, lambda n: marginal_kernel(n[0].tolist(), n[1]))(X, out, part)
    V = out
    for i, r in enumerate(rates):
        dst = V if i == 0 else part
        high = starts[i + 1] - starts[i] if i + 1 < len(rates) else None
        np.subtract(X, starts[i], out=dst)
        if high is not None:
            _clip(dst, 0.0, high, out=dst)
        else:
            np.maximum(dst, 0.0, out=dst)
        np.multiply(dst, r, out=dst)
        if i:
            V += part
    np.minimum(X, 0.0, out=part)
    np.multiply(part, rates[0], out=part)
    V += part
    return V


def marginal_kernel(starts, rates):
    """:func:`_marginal` for tier starts that are numbers, prepared once (a caller that
    calls it often): ``run(X, out, part)`` makes the same passes. Its bounds and rates are
    float64 0-d arrays: a Python float costs every call a conversion."""
    n = len(rates)
    first_at_zero = starts[0] == 0
    tiers = []
    for i, r in enumerate(rates):
        at_zero = i == 0 and first_at_zero
        low = None if at_zero else 0.0  # the first slice also takes X < 0
        high = starts[i + 1] - starts[i] if i + 1 < n else None
        # np.clip's kernel (2-3x faster here than np.maximum's and np.minimum's) gives
        # their bits wherever no -0.0 meets a zero bound: X - s is never -0.0 for s != 0.
        if low is not None and high is not None:
            op, lo, hi = _clip, low, high
        elif high is not None:
            op, lo, hi = (_clip, -np.inf, high) if high != 0 else (np.minimum, high, None)
        elif low is not None:
            op, lo, hi = (_clip, 0.0, np.inf) if starts[i] != 0 else (np.maximum, low, None)
        else:
            op, lo, hi = None, None, None
        # X - 0.0 is X, bit for bit (-0.0 and NaN too): no pass
        tiers.append((None if at_zero else f64(starts[i]), op, f64(lo), f64(hi), f64(r)))
    pay_back = None if first_at_zero else f64(rates[0])
    zero = f64(0.0)

    def run(X, out, part):
        for i, (start, op, lo, hi, rate) in enumerate(tiers):
            dst = out if i == 0 else part
            src = X if start is None else np.subtract(X, start, out=dst)
            if op is _clip:
                _clip(src, lo, hi, out=dst)
            elif op is not None:
                op(src, lo, out=dst)
            elif src is not dst:
                np.copyto(dst, src)
            np.multiply(dst, rate, out=dst)
            if i:
                np.add(out, part, out=out)
        if pay_back is not None:
            np.minimum(X, zero, out=part)
            np.multiply(part, pay_back, out=part)
            np.add(out, part, out=out)
        return out

    return run


def _interp_rate(X, starts, rates, reached):
    rate = np.full(X.shape, rates[-1])
    for i in range(len(rates) - 2, -1, -1):  # the lowest band reached wins, top-down
        width = starts[i + 1] - starts[i]
        safe = np.where(width == 0, 1.0, width)
        inside = (~reached(starts[i + 1])) & (reached(starts[i]) if i else True)
        r = rates[i] + (np.maximum(X, starts[i]) - starts[i]) * (rates[i + 1] - rates[i]) / safe
        rate = np.where(inside, r, rate)
    return rate


register(CommissionKind())

"""KPI / MBO bonus: ``weight × TI × f(x)`` on a non-revenue measure from the measures table.

``x`` is the window's value of the measure (a count: the sum of its values; a ratio: the
sum of its values over the sum of its denominators) or its attainment (value ÷ target).
``f`` goes through the points, linearly or by steps; rising (``direction: higher``:
nothing below the first point, flat above the last) or falling (``lower``: flat below
the first point, nothing above the last).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from attain.errors import DataError, Problem
from attain.incentive.floats import M, Window
from attain.incentive.kinds.base import (
    CompiledComponent,
    ExactInputs,
    KindBase,
    Part,
    compile_cap,
    register,
)
from attain.incentive.rational import MICRO, micro
from attain.incentive.text import money, multiple, pct
from attain.schema.plan import Kpi

__all__ = ["CompiledKpi", "KpiKind", "kpi_targets"]


@dataclass(frozen=True, kw_only=True)
class CompiledKpi(CompiledComponent):
    type = "kpi"
    measure_name: str
    ratio: bool  # aggregate `ratio` (else `sum`)
    on_value: bool  # basis `value` (else `attainment`)
    target: int | None  # millionths; None: from ``target_column`` (or basis `value`)
    target_column: str | None
    lower: bool  # direction `lower`
    steps: bool  # shape `steps`
    at: np.ndarray  # int64[n] millionths
    pays: np.ndarray  # int64[n] multiples of weight × TI, millionths
    weight: int  # millionths of TI


def _obj(a) -> np.ndarray:
    return np.asarray(a).astype(object)


def kpi_targets(c: CompiledKpi, people: pd.DataFrame) -> np.ndarray:
    """Each person's target (int64 millionths): the plan's, or the org column's."""
    if c.target is not None or c.target_column is None:
        return np.full(len(people), c.target or 0, dtype=np.int64)
    if c.target_column not in people.columns:
        raise DataError(
            [
                Problem(
                    "<org>",
                    f"KPI `{c.name}` reads its target from org column `{c.target_column}`, "
                    "which the org data lacks",
                    field=c.target_column,
                    code="missing-column",
                    hint="add the column to the org table, or give `target` in the plan",
                )
            ]
        )
    values = pd.to_numeric(people[c.target_column], errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy() | (values < 0).to_numpy())
    if len(bad):
        raise DataError(
            [
                Problem(
                    "<org>",
                    f"KPI `{c.name}`: target {people[c.target_column].iloc[i]!r} of "
                    f"{people['rep_id'].iloc[i]!r} is not a number >= 0",
                    row=int(i) + 2,
                    field=c.target_column,
                    code="value",
                )
                for i in bad[:25]
            ]
        )
    return np.rint(values.to_numpy(dtype=float) * MICRO).astype(np.int64)


class KpiKind(KindBase):
    type = "kpi"
    schema = Kpi

    def compile(self, c: Kpi, products: tuple[str, ...], unit: int) -> CompiledKpi:
        return CompiledKpi(
            name=c.name,
            label=c.label or c.name.replace("_", " ").capitalize(),
            mask=np.ones(len(products), dtype=bool),  # reads no sales: every product
            roles=None if c.roles is None else tuple(c.roles),
            cap=compile_cap(c.cap, unit),
            measure_name=c.measure,
            ratio=c.aggregate == "ratio",
            on_value=c.basis == "value",
            target=None if c.target is None else micro(c.target),
            target_column=c.target_column,
            lower=c.direction == "lower",
            steps=c.shape == "steps",
            at=np.array([micro(p.at) for p in c.points], dtype=np.int64),
            pays=np.array([micro(p.payout) for p in c.points], dtype=np.int64),
            weight=micro(c.weight),
        )

    def exact(self, c: CompiledKpi, x: ExactInputs):
        r = _exact(c, x)
        return r["num"], r["den"]

    def parts(self, c: CompiledKpi, x: ExactInputs) -> list[Part]:
        """The segment (or step) the measure falls in: TI × weight × the table's value."""
        r = _exact(c, x)
        base = x.ti_num * c.weight
        n = len(c.at)
        band = "attainment" if (not c.on_value or c.ratio) else "value"
        out = []
        for k in range(n + 1):
            hit = r["on"] & (r["seg"] == k)
            if c.steps:
                if k == 0 and not c.lower:
                    continue  # below the first step: nothing, no part
                name = f"point {k} reached" if not c.lower else f"point {k + 1} met"
                lo = int(c.at[k - 1]) if not c.lower else None
                hi = int(c.at[k]) if c.lower and k < n else None
                if c.lower and k == n:
                    name, lo, hi = f"above point {n}", int(c.at[n - 1]), None
            elif k == 0:
                name, lo, hi = "below point 1", None, int(c.at[0])
            elif k == n:
                name, lo, hi = f"at or above point {n}", int(c.at[n - 1]), None
                if c.lower:
                    name = f"at point {n}, nothing above"
            else:
                name, lo, hi = f"between points {k} and {k + 1}", int(c.at[k - 1]), int(c.at[k])
            out.append(
                Part(
                    f"{c.measure_name} {name}",
                    (np.where(hit, r["num"], 0), r["den"]),
                    (np.where(hit, base, 0), x.ti_den * MICRO),
                    (np.where(hit, r["fn"], 0), np.where(hit, r["fd"], 1)),
                    c.measure_name,
                    lo,
                    hi,
                    band,
                    "multiple",
                )
            )
        return out

    def window_info(self, c: CompiledKpi, w) -> dict:
        return {"measures": w.measures, "kpi_target": kpi_targets(c, w.people), "slots": w.months}

    def notices(self, c: CompiledKpi, windows) -> list:
        from attain.notices import Notice

        measure = windows.measures.get(c.measure_name)
        rows = 0 if measure is None else int(measure[2][windows.participant].sum())
        out = []
        if rows == 0:
            out.append(
                Notice(
                    "measure-without-values",
                    f"no participant has a value of measure `{c.measure_name}` in the plan's "
                    "periods; the KPI pays as for a value of 0"
                    + (" (a ratio without a value pays nothing)" if c.ratio else ""),
                    c.name,
                )
            )
        if not c.on_value:
            target = kpi_targets(c, windows.people)[windows.participant]
            if len(target) and not (target > 0).any():
                out.append(
                    Notice(
                        "kpi-without-target",
                        f"no participant has a positive target for `{c.measure_name}`; the "
                        "KPI pays nothing",
                        c.name,
                    )
                )
        return out

    def vectorised(self, c: CompiledKpi, w: Window, accel_fail) -> np.ndarray:
        pop = w.pop
        shape = np.broadcast_shapes(w.ti_w.shape, w.net.shape[:-1])
        measures = pop.measures
        if measures is None:  # the simulator: the measure at its target (approximations)
            if c.on_value:
                return np.zeros(shape)
            x = np.ones(w.ti_w.shape)
        else:
            if c.measure_name not in measures:
                raise ValueError(
                    f"KPI {c.name!r} reads measure {c.measure_name!r}, which "
                    f"population(measures=) lacks (it has {sorted(measures)})"
                )
            value, den = measures[c.measure_name]  # float[R, P] per pay period
            if value.shape[-1] != shape[-1] and shape[-1] == 1:  # the year as one window
                value, den = value.sum(axis=-1, keepdims=True), den.sum(axis=-1, keepdims=True)
            if w.ytd:
                value, den = np.cumsum(value, axis=-1), np.cumsum(den, axis=-1)
            with np.errstate(divide="ignore", invalid="ignore"):
                x = (
                    np.where(den > 0, value / np.where(den > 0, den, 1), np.nan)
                    if c.ratio
                    else value
                )
                if not c.on_value:
                    target = pop.measure_targets[c.name][:, None] / M
                    if not c.ratio:
                        target = target * (w.months / w.n_slots)[None, :]
                    x = np.where(target > 0, x / np.where(target > 0, target, 1), np.nan)
            x = x[:, None, :]
        f = _table(c, x)
        return np.broadcast_to(f * (c.weight / M) * w.ti_w, shape).copy()

    def approximations(self, c: CompiledKpi, deals, calendar) -> list[str]:
        if c.on_value:
            return [
                f"{c.name}: KPI on `{c.measure_name}` pays nothing without measures "
                "(give population(measures=))"
            ]
        return [
            f"{c.name}: KPI on `{c.measure_name}` is taken at its target (attainment 100%) "
            "unless population(measures=) gives the measure"
        ]

    def rule(self, c: CompiledKpi, unit: int) -> str:
        fmt = (lambda v: pct(v)) if (not c.on_value or c.ratio) else (lambda v: multiple(v))
        pts = ", ".join(f"({fmt(a)}, {multiple(p)}x)" for a, p in zip(c.at, c.pays, strict=True))
        what = "ratio" if c.ratio else "count"
        on = "value" if c.on_value else "attainment"
        better = "lower" if c.lower else "higher"
        shape = "steps" if c.steps else "a curve"
        return (
            f"{c.label}: KPI on `{c.measure_name}` ({what}, {better} is better), {on} by "
            f"{shape} through {pts} of {pct(c.weight)} of target incentive"
        )

    def inputs(self, c: CompiledKpi, info: dict, r: int, w: int, unit: int, earned) -> str:
        res = _exact(c, info["inputs"])
        vn, vd = int(res["vn"][r, w]), int(res["vd"][r, w])
        if c.ratio:
            value = f"{_num(vn)} / {_num(vd)} = {_ratio_text(vn, vd)}" if vd > 0 else "no value"
        else:
            value = _num(vn)
        text = f"{c.measure_name} {value}"
        if not c.on_value:
            tn, td = int(res["tn"][r, w]), int(res["td"][r, w])
            target = _ratio_text(tn, td) if c.ratio else _num(tn * MICRO // td)
            att = _ratio_text(vn * td, vd * tn) if vd > 0 and tn > 0 else "n/a"
            text += f"; target {target}; attainment {att}"
        ti = round(Decimal(int(info["ti"][r, w])) / info.get("ti_den", 12))
        return text + f"; target incentive to date {money(ti, unit)}"


def _num(micro_value: int) -> str:
    """Millionths as a plain number with thousands separators (``12.5``)."""
    d = Decimal(int(micro_value)).scaleb(-6).normalize()
    return f"{d:,f}"


def _ratio_text(num: int, den: int) -> str:
    """``num / den`` as a percentage to 0.01% (truncated toward zero)."""
    from attain.incentive.text import ratio

    return ratio(num, den, 2)


def _exact(c: CompiledKpi, x: ExactInputs) -> dict:
    """The amount and what it is made of, per person × window, as exact fractions."""
    measures = x.info.get("measures") or {}
    if c.measure_name not in measures:
        raise ValueError(f"KPI {c.name!r} needs measure {c.measure_name!r} in the windows")
    value, den, _ = measures[c.measure_name]
    vn = _obj(value)
    if c.ratio:
        vd = _obj(den)
        has = np.asarray(den) > 0
        vd = np.where(has, vd, 1)
    else:
        vd = np.full(vn.shape, MICRO, dtype=object)
        has = np.ones(vn.shape, dtype=bool)
    out = {"vn": vn, "vd": vd}
    if c.on_value:
        xn, xd = vn, vd
    else:
        target = _obj(x.info["kpi_target"])[:, None]  # millionths per person
        if c.ratio:
            tn, td = np.broadcast_to(target, vn.shape), np.full(vn.shape, MICRO, dtype=object)
        else:
            slots = _obj(x.info["slots"])[None, :]
            tn = np.broadcast_to(target * slots, vn.shape)
            td = np.full(vn.shape, MICRO * x.ti_den, dtype=object)
        has = has & (np.asarray(tn, dtype=object) > 0)
        out.update(tn=tn, td=td)
        tn_safe = np.where(has, tn, 1)
        xn, xd = vn * td, vd * tn_safe  # x = value / target
    a, p = _obj(c.at), _obj(c.pays)
    n = len(a)
    X = xn * MICRO  # compare a_k / 1e6 with xn / xd as a_k × xd vs xn × 1e6
    AX = a * xd[..., None]
    reached = (X[..., None] >= AX).sum(axis=-1)  # points at or below x
    below = (X[..., None] > AX).sum(axis=-1)  # points strictly below x
    if c.steps:
        if c.lower:
            seg = below  # the first point at or above x, n: above every point
            idx = np.minimum(seg, n - 1)
            pay = np.where(seg < n, p[idx], 0)
        else:
            seg = reached
            pay = np.where(seg > 0, p[np.maximum(seg - 1, 0)], 0)
        fn, fd = pay * xd, MICRO * xd
    else:
        seg = reached
        j = np.clip(seg - 1, 0, max(n - 2, 0))
        nxt = np.minimum(j + 1, n - 1)
        inside = (seg > 0) & (seg < n)
        da = np.where(inside, a[nxt] - a[j], 1)
        interp = p[j] * xd * da + (xn * MICRO - a[j] * xd) * (p[nxt] - p[j])
        first, last = p[0], p[n - 1]
        if c.lower:
            at_last = below < n  # at the last point exactly: its payout; above: nothing
            const = np.where(seg == 0, first, np.where(at_last, last, 0))
        else:
            const = np.where(seg == 0, 0, last)
        fn = np.where(inside, interp, const * xd * da)
        fd = MICRO * xd * da
    fn = np.where(has, fn, 0)
    on = has & (np.asarray(x.ti_num) != 0)
    out.update(
        num=x.ti_num * c.weight * fn,
        den=x.ti_den * MICRO * fd,
        fn=fn,
        fd=fd,
        seg=seg,
        on=on,
    )
    return out


def _table(c: CompiledKpi, x: np.ndarray) -> np.ndarray:
    """f(x) in float: the table's multiple at ``x`` (NaN: no value, nothing)."""
    a, p = c.at / M, c.pays / M
    n = len(a)
    xs = np.nan_to_num(x, nan=-np.inf)
    if c.steps:
        if c.lower:
            below = np.searchsorted(a, xs, side="left")  # points strictly below x
            f = np.where(below < n, p[np.minimum(below, n - 1)], 0.0)
        else:
            reached = np.searchsorted(a, xs, side="right")
            f = np.where(reached > 0, p[np.maximum(reached - 1, 0)], 0.0)
    else:
        f = np.interp(xs, a, p)
        f = np.where(xs > a[-1], 0.0, f) if c.lower else np.where(xs < a[0], 0.0, f)
    return np.where(np.isnan(x), 0.0, f)


register(KpiKind())

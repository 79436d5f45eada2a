"""The explanation record: every payout line as the parts that make it.

For each line (person × period × component) the exact evaluator's record gives the
kind's parts (tier slices, the curve segment, the step reached, units × amount, the
share of a pool: :meth:`~attain.incentive.kinds.base.Kind.parts`), then the steps every
component shares: with a dated org the share of days in role (``days not in role``:
the fixed amount × (share − 1)), the modifier factor, the cap, the rounding to the minor unit and, when
measuring the year to date, what was paid before. Each part's amount is shown rounded
to the minor unit, and a ``rounding`` part takes the difference, so the parts of a line
add up to its amount exactly. Adjustment lines (rounding, total cap, carried forward,
draw) are one part each.

:func:`explanation` builds the record as one table (``statements.csv``); statements
render it (:mod:`~attain.incentive.statements`) and never re-derive an amount.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from attain.incentive.kinds import kind_of
from attain.incentive.rational import MICRO, round_div

__all__ = ["DEAL_COLUMNS", "PART_COLUMNS", "credited_deals", "deal_breakdown", "explanation"]

#: Columns of the per-deal record (:func:`deal_breakdown`).
DEAL_COLUMNS = (
    "rep_id",
    "period",
    "component",
    "deal_id",
    "date",
    "type",
    "product",
    "customer",
    "split",
    "credit",
    "rate",
    "amount",
)

#: Columns of the record, after ``rep_id, period, component``.
PART_COLUMNS = ("part", "measure", "from", "to", "base", "rate", "amount")

_ADJUSTMENT_PARTS = {
    "rounding": "the period's total rounded once",
    "total_cap": "above the plan's total cap",
    "carried_forward": "balance carried forward",
    "draw": "draw top-up",
    "draw_recovery": "draw recovered",
    "held_back": "held back, paid later",
    "held_released": "held back earlier, paid now",
}


def _q_at(a, den, shape, r, w):
    """A rational (numerator, denominator; each a scalar or an array of ``shape``) at the
    cells ``r, w``, as exact Python integers (taken before converting: a year's cells are
    many more than a record's lines)."""
    return tuple(np.broadcast_to(np.asarray(x), shape)[r, w].astype(object) for x in (a, den))


def explanation(payouts, strings: bool = True) -> pd.DataFrame:
    """One row per part of every payout line: ``line`` (its row in ``payouts.lines``),
    ``rep_id, period, component, part, measure, from, to, base, rate, amount`` (money as
    exact text, rates as percentages or multiples) and ``amount_minor``; each line's parts
    add up to its amount. ``strings=False``: the text columns hold Python strings (object
    dtype), as a ledger writes them, rather than pandas' ``str``."""
    ctx = payouts._context
    compiled, ev, lines = payouts.compiled, ctx["evaluation"], payouts.lines
    unit = compiled.minor_unit
    ri = pd.Index(ctx["book"].rep_ids).get_indexer(lines["rep_id"])
    wi = _period_positions(lines["period"], ctx["book"].calendar.period_labels())
    comp = lines["component"].astype(str).to_numpy()
    earned = lines["earned_to_date"].to_numpy()
    before = lines["paid_before"].to_numpy()
    ytd = compiled.measure == "ytd"
    pieces = []  # (line positions, order within the line, columns dict)
    for c in compiled.components:
        pos = np.flatnonzero(comp == c.name)
        if not len(pos):
            continue
        pieces += _component_parts(c, ev.details[c.name], pos, ri[pos], wi[pos], earned[pos])
        paid = pos[before[pos] != 0] if ytd else pos[:0]
        if len(paid):
            pieces.append((paid, 900, _row("paid before", -before[paid])))
    adjust = ~np.isin(comp, compiled.names)
    amounts = lines["amount_minor"].to_numpy()
    advance = compiled.draw is not None and compiled.draw.advance
    for name, text in _ADJUSTMENT_PARTS.items():
        pos = np.flatnonzero(adjust & (comp == name))
        if not len(pos):
            continue
        if advance and name == "draw":
            text = f"draw advance (paid at the {compiled.draw.paid_at} of the period)"
        if advance and name == "draw_recovery":
            settled = ev.draw_settled[ri[pos], wi[pos]]
            pieces.append((pos, 0, _row("advance settled against the period's earnings", settled)))
            rest = amounts[pos] - settled
            if (rest != 0).any():
                pieces.append((pos[rest != 0], 1, _row(text, rest[rest != 0])))
            continue
        if name == "held_back":  # a hold is negative; a clawback's cancelled hold positive
            cancel = pos[amounts[pos] > 0]
            own = np.zeros(len(cancel), dtype=np.int64)
            if ev.held_own is not None:  # release on payment: the cancelled deals' own parts
                own = ev.held_own[ri[cancel], wi[cancel]]
                text2 = "the cancelled deal's part still held, cancelled (not taken from pay)"
                pieces.append((cancel[own != 0], 0, _row(text2, own[own != 0])))
            rest = amounts[cancel] - own
            if (rest != 0).any():
                text2 = "a clawback's share still held, cancelled (not taken from pay)"
                pieces.append((cancel[rest != 0], 1, _row(text2, rest[rest != 0])))
            pos = pos[amounts[pos] <= 0]
        pieces.append((pos, 0, _row(text, amounts[pos])))
    return _table(pieces, lines, unit, strings)


def _period_positions(period: pd.Series, labels: list[str]) -> np.ndarray:
    """Each line's period as its position in the year (by the category's code when the
    column is categorical: a close explains a million lines)."""
    if isinstance(period.dtype, pd.CategoricalDtype):
        at = pd.Index(labels).get_indexer(period.cat.categories.astype(str))
        return at[period.cat.codes.to_numpy()]
    return pd.Index(labels).get_indexer(period.astype(str))


def _deal_rows(payouts, rows: np.ndarray) -> dict:
    """What identifies credited rows ``rows`` (indices into the run's credit): person,
    period, deal id, date, type, product, customer, split and credit (minor units)."""
    ctx = payouts._context
    book, credit = ctx["book"], ctx["credit"]
    d = book.deals
    src = credit.order[rows]  # the row of the actuals each credited row comes from
    code = credit.deal[rows]
    days = credit.day[rows].astype("datetime64[D]")
    return {
        "person": credit.person[rows],
        "period": book.calendar.period_of_month()[credit.month[rows]],
        "deal_id": (d.ids[code] if d.ids is not None else code.astype(str)).astype(str),
        "date": np.datetime_as_string(days, unit="D"),
        "type": np.where(d.cancellation[src], "cancellation", "booking"),
        "product": np.asarray(book.products, dtype=object)[credit.product[rows]],
        "customer": d.customer[src] if d.customer is not None else np.full(len(rows), ""),
        "split": d.split[src],
        "credit": credit.net[rows],
        "own": credit.own[rows],
    }


def credited_deals(payouts) -> pd.DataFrame:
    """Every credited deal row of every participant: ``rep_id, period, deal_id, date, type,
    product, customer, split`` (the share credited, a fraction), ``credit`` (the credited
    amount, exact text), ``rolled_up`` (a member's deal credited to their manager) and
    ``credit_minor``; by participant, then date and row."""
    from attain.incentive.result import format_minor

    ctx = payouts._context
    book, credit = ctx["book"], ctx["credit"]
    unit = payouts.compiled.minor_unit
    keep = (
        ctx["windows"].participant[credit.person]
        & ctx["windows"].active[book.calendar.period_of_month()[credit.month]]
    )
    rows = np.flatnonzero(keep)
    rows = rows[np.lexsort((credit.order[rows], credit.day[rows], credit.person[rows]))]
    r = _deal_rows(payouts, rows)
    labels = np.asarray(book.calendar.period_labels(), dtype=object)
    return pd.DataFrame(
        {
            "rep_id": book.rep_ids[r["person"]],
            "period": labels[r["period"]],
            "deal_id": r["deal_id"],
            "date": r["date"],
            "type": r["type"],
            "product": r["product"],
            "customer": r["customer"],
            "split": _fraction_text(r["split"]),
            "credit": format_minor(r["credit"], unit).to_numpy(),
            "rolled_up": ~r["own"],
            "credit_minor": r["credit"],
        }
    )


def deal_breakdown(payouts) -> pd.DataFrame:
    """The per-deal record of ``deal`` and ``cumulative`` scope components: for each of
    their lines, one row per credited deal row with what it earned (``amount``, exact text,
    and ``amount_minor``) and at which ``rate`` (earned ÷ credit), then a row without a
    deal for the rest of the line (modifier, cap, gate and rounding; true-ups when measuring
    the year to date) when it is not zero, so each line's rows add up to its amount."""
    from attain.incentive.result import format_minor

    ctx = payouts._context
    ev, lines, unit = ctx["evaluation"], payouts.lines, payouts.compiled.minor_unit
    rep_index = {rep: r for r, rep in enumerate(ctx["book"].rep_ids)}
    labels = ctx["book"].calendar.period_labels()
    period_index = {label: p for p, label in enumerate(labels)}
    n_p = len(labels)
    line_person = lines["rep_id"].map(rep_index).to_numpy()
    line_period = lines["period"].astype(str).map(period_index).to_numpy()
    comp = lines["component"].astype(str).to_numpy()
    frames = []
    for c in payouts.compiled.components:
        info = ev.details[c.name]
        if "deal_rows" not in info:
            continue
        pos = np.flatnonzero(comp == c.name)
        if not len(pos):
            continue
        key_of_line = line_person[pos] * n_p + line_period[pos]
        rows, values = info["deal_rows"], info["deal_values"]
        r = _deal_rows(payouts, rows)
        key = r["person"] * n_p + r["period"]
        order = np.argsort(key_of_line)
        at = np.searchsorted(key_of_line[order], key)
        found = at < len(pos)
        found[found] = key_of_line[order][at[found]] == key[found]
        line = np.full(len(rows), -1)
        line[found] = pos[order][at[found]]
        sel = np.flatnonzero(found)
        deals = pd.DataFrame(
            {
                "line": line[sel],
                "deal": 0,
                "day": r["date"][sel],
                **{k: r[k][sel] for k in ("deal_id", "date", "type", "product", "customer")},
                "split": _fraction_text(r["split"][sel]),
                "credit_minor": r["credit"][sel],
                "amount_minor": values[sel],
            }
        )
        earned = np.zeros(len(pos), dtype=np.int64)
        np.add.at(earned, np.searchsorted(pos, line[sel]), values[sel])
        rest = lines["amount_minor"].to_numpy()[pos] - earned
        some = rest != 0
        if some.any():
            deals = pd.concat(
                [
                    deals,
                    pd.DataFrame(
                        {
                            "line": pos[some],
                            "deal": 1,
                            "type": "rest of the line (modifier, cap, gate, rounding, true-up)",
                            "amount_minor": rest[some],
                        }
                    ),
                ],
                ignore_index=True,
            )
        frames.append(deals)
    columns = [*DEAL_COLUMNS, "credit_minor", "amount_minor"]
    if not frames:
        return pd.DataFrame({k: [] for k in columns})
    table = pd.concat(frames, ignore_index=True)
    table = table.sort_values(["line", "deal", "day"], kind="stable").reset_index(drop=True)
    head = lines[["rep_id", "period", "component"]].iloc[table["line"].to_numpy()]
    for k in ("rep_id", "period", "component"):
        table[k] = head[k].astype(str).to_numpy()
    for k in ("deal_id", "date", "product", "customer", "split"):
        table[k] = table[k].fillna("")
    has_credit = table["credit_minor"].notna().to_numpy()
    credit = table["credit_minor"].fillna(0).to_numpy(dtype=np.int64)
    amount = table["amount_minor"].to_numpy(dtype=np.int64)
    table["credit_minor"], table["amount_minor"] = credit, amount
    table["credit"] = np.where(has_credit, format_minor(credit, unit).to_numpy(), "")
    table["amount"] = format_minor(amount, unit).to_numpy()
    rated = has_credit & (credit != 0)
    table["rate"] = [
        _pct_text(int(a), int(b)) if ok else ""
        for a, b, ok in zip(amount, credit, rated, strict=True)
    ]
    return table[columns]


def _fraction_text(millionths: np.ndarray) -> np.ndarray:
    """Millionths as decimal text, trailing zeros dropped (``500000`` → ``0.5``), vectorised."""
    from attain.incentive.result import format_minor

    text = format_minor(np.asarray(millionths, dtype=np.int64), 6)
    return text.str.rstrip("0").str.rstrip(".").to_numpy()


def _row(name, amount, **cols) -> dict:
    return {"part": name, "amount_minor": np.asarray(amount, dtype=np.int64), **cols}


def _component_parts(c, info, pos, r, w, earned) -> list:
    kind = kind_of(c)
    x = info["inputs"]
    shape = np.shape(info["select"])
    keep = np.ones(shape, dtype=bool)
    if c.gate is not None and not c.gate.accelerator_only:
        keep &= info["gate_ok"]
    if "role_ok" in info:
        keep &= info["role_ok"][:, None]
    keep = keep[r, w]  # the record's lines only: the year's cells are many more
    out, shown = [], np.zeros(len(pos), dtype=object)
    # The parts at the record's cells: a kind that works cell by cell gets those cells
    # only (one column of them), so a close's period costs its lines, not the year's.
    at = (shape, r, w)
    if kind.cellwise_parts and len(pos) < int(np.prod(shape)):
        x, at = _cells(x, shape, r, w), ((len(pos), 1), np.arange(len(pos)), np.zeros_like(w))
    for k, part in enumerate(kind.parts(c, x)):
        num, den = _q_at(*part.amount, *at)
        num = np.where(keep, num, 0)
        amount = round_div(num, den)
        cols = {"measure": part.measure}
        has_base = np.zeros(len(pos), dtype=bool)
        if part.base is not None:
            bn, bd = _q_at(*part.base, *at)
            bn = np.where(keep, bn, 0)
            has_base = bn != 0
            cols["base_q"] = (bn, bd)
        if part.rate is not None:
            cols["rate_q"] = _q_at(*part.rate, *at)
        cols["lo"] = _edge(part.lo, *at)
        cols["hi"] = _edge(part.hi, *at)
        cols["band"], cols["style"] = part.band, part.rate_style
        sel = (num != 0) | has_base
        shown = shown + np.where(sel, amount, 0)
        out.append((pos[sel], 10 + k, _row(part.name, amount[sel], **_take(cols, sel))))
    kn, kd = _q_at(*info["kind"], shape, r, w)
    mn, md = _q_at(*info["modified"], shape, r, w)
    ln, ld = _q_at(*info["line"], shape, r, w)
    prorated = np.zeros(len(pos), dtype=np.int64)
    if "prorated" in info:  # a dated org: fixed amounts for the share of days in role
        pn, pd_ = _q_at(*info["prorated"], shape, r, w)
        fn, fd = _q_at(*info["proration"], shape, r, w)
        prorated = round_div(pn * kd - kn * pd_, pd_ * kd)
        sel = (prorated != 0) | ((fn != fd) & (kn != 0))
        if sel.any():
            row = _row("days not in role", prorated[sel], measure="days in role")
            row.update(base_q=(kn[sel], kd[sel]), rate_q=((fn - fd)[sel], fd[sel]))
            out.append((pos[sel], 450, row))
        kn, kd = pn, pd_
    modifier = round_div(mn * kd - kn * md, md * kd)
    cap = round_div(ln * md - mn * ld, ld * md)
    if (modifier != 0).any():
        sel = modifier != 0
        factor = info["factor"][r]
        out.append((pos[sel], 500, _row("modifier", modifier[sel], rate_q=(factor[sel], MICRO))))
        out[-1][2]["style"] = "multiple"
    if (cap != 0).any():
        sel = cap != 0
        out.append((pos[sel], 600, _row("cap", cap[sel])))
    rest = earned - shown - prorated - modifier - cap
    sel = rest != 0
    if sel.any():
        out.append((pos[sel], 800, _row("rounding to the minor unit", rest[sel])))
    empty = np.ones(len(pos), dtype=bool)
    for p, _, _ in out:
        empty[np.searchsorted(pos, p)] = False
    if empty.any():
        reason = "nothing earned"
        out.append((pos[empty], 5, _row(reason, np.zeros(int(empty.sum())))))
    return out


def _cells(x, shape: tuple, r: np.ndarray, w: np.ndarray):
    """``x`` (:class:`~attain.incentive.kinds.base.ExactInputs`) at the cells ``r, w``
    only, as one column (``[n, 1]``) of them."""
    import dataclasses

    def at(a):
        return None if a is None else np.broadcast_to(np.asarray(a), shape)[r, w][:, None]

    deal_level = None if x.deal_level is None else tuple(at(a) for a in x.deal_level)
    return dataclasses.replace(
        x,
        S=at(x.S),
        A=at(x.A),
        T=at(x.T),
        ti_num=at(x.ti_num),
        accel_fail=at(x.accel_fail),
        deal_level=deal_level,
    )


def _edge(value, shape, r, w):
    if value is None:
        return None
    return np.broadcast_to(np.asarray(value, dtype=object), shape)[r, w]


def _take(cols: dict, sel: np.ndarray) -> dict:
    out = {}
    for k, v in cols.items():
        if isinstance(v, tuple):
            out[k] = tuple(np.asarray(a)[sel] for a in v)
        elif isinstance(v, np.ndarray):
            out[k] = v[sel]
        else:
            out[k] = v
    return out


def _table(pieces, lines: pd.DataFrame, unit: int, strings: bool = True) -> pd.DataFrame:
    """The record of ``pieces`` (line positions, order within the line, columns), in
    line then part order. Built as numpy columns and made a frame once: a close's record
    is a million parts, and a frame per piece, sorted, converts every text column twice."""
    from attain.incentive.result import format_minor

    names = ("line", "order", "part", "measure", "from", "to", "base", "rate", "amount_minor")
    columns: dict[str, list[np.ndarray]] = {k: [] for k in names}
    for pos, order, cols in pieces:
        n = len(pos)
        if not n:
            continue
        style, band = cols.get("style", "pct"), cols.get("band", "money")
        columns["line"].append(np.asarray(pos, dtype=np.int64))
        columns["order"].append(np.full(n, order, dtype=np.int64))
        columns["part"].append(_text_column(cols["part"], n))
        columns["measure"].append(_text_column(cols.get("measure", ""), n))
        columns["from"].append(_edges(cols.get("lo"), n, band, unit))
        columns["to"].append(_edges(cols.get("hi"), n, band, unit))
        columns["base"].append(_base(cols.get("base_q"), n, style, unit))
        columns["rate"].append(_rate(cols.get("rate_q"), n, style, unit))
        columns["amount_minor"].append(np.asarray(cols["amount_minor"], dtype=np.int64))
    if not columns["line"]:  # no line: the record's columns, no rows
        numbers = ("line", "amount_minor")
        return pd.DataFrame(
            {k: pd.Series([], dtype=np.int64 if k in numbers else "str") for k in _TABLE_COLUMNS}
        )
    whole = {k: np.concatenate(v) for k, v in columns.items()}
    at = np.lexsort((whole.pop("order"), whole["line"]))  # stable: by line, then order
    whole = {k: v[at] for k, v in whole.items()}
    line = whole["line"]
    head = {k: _text_of(lines[k])[line] for k in ("rep_id", "period", "component")}
    amount = format_minor(whole["amount_minor"], unit)
    data = {"line": line, **head, **whole}
    if not strings:  # kept as they are: pandas would make each text column Arrow strings
        data = {k: pd.Series(v, dtype=object) if v.dtype == object else v for k, v in data.items()}
        amount = pd.Series(amount.to_numpy(), dtype=object)
    return pd.DataFrame({**data, "amount": amount})[list(_TABLE_COLUMNS)]


#: The record's columns, in order.
_TABLE_COLUMNS = ("line", "rep_id", "period", "component", *PART_COLUMNS, "amount_minor")


def _text_column(value, n: int) -> np.ndarray:
    """A piece's text column: one value for all its rows, or one per row."""
    if np.ndim(value) == 0:
        return _filled(n, value)
    return np.asarray(value, dtype=object)


def _filled(n: int, value) -> np.ndarray:
    """``n`` times ``value`` as an object array (``np.full`` of an object is 10x slower)."""
    out = np.empty(n, dtype=object)
    out.fill(value)
    return out


def _text_of(column: pd.Series) -> np.ndarray:
    """A lines column as text, one per line (a categorical's categories made text once)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        if len(codes) and codes.min() >= 0:
            return np.asarray(column.cat.categories.astype(str), dtype=object)[codes]
    return column.astype(str).to_numpy(dtype=object)


def _same(*columns: np.ndarray) -> bool:
    """Whether each column holds one value throughout (a tier's edges and rate do):
    its text is then made once. The first, last and every 997th are compared first."""
    for c in columns:
        if len(c) and (c[-1] != c[0] or (c[::997] != c[0]).any() or (c != c[0]).any()):
            return False
    return True


def _once(make, n: int, *columns: np.ndarray) -> np.ndarray | None:
    """``make`` of the columns' first values, repeated ``n`` times, when each column
    holds one value; else None."""
    if n < 2 or not _same(*columns):
        return None
    return _filled(n, make(*(c[:1] for c in columns))[0])


def _edges(values, n, band, unit) -> np.ndarray:
    if values is None:
        return _filled(n, "")
    v = np.broadcast_to(np.asarray(values, dtype=object), (n,))
    same = _once(lambda a: _edge_text(a, band, unit), n, v)
    return same if same is not None else _edge_text(v, band, unit)


def _edge_text(v: np.ndarray, band: str, unit: int) -> np.ndarray:
    from attain.incentive.result import format_minor

    if band == "attainment":
        return np.array([_pct_text(int(a), MICRO) for a in v], dtype=object)
    if band == "value":  # a count, in millionths
        return np.array([_decimal(int(a), MICRO) for a in v], dtype=object)
    return format_minor(v.astype(np.int64), unit).to_numpy()


def _base(q, n, style, unit) -> np.ndarray:
    from attain.incentive.result import format_minor

    if q is None:
        return _filled(n, "")
    num, den = (np.broadcast_to(np.asarray(a, dtype=object), (n,)) for a in q)
    if style == "per_unit":  # millionths of a unit
        return np.array(
            [_decimal(int(a), int(b) * MICRO) for a, b in zip(num, den, strict=True)], object
        )
    return format_minor(round_div(num, den), unit).to_numpy()


def _rate(q, n, style, unit) -> np.ndarray:
    if q is None:
        return _filled(n, "")
    num, den = (np.broadcast_to(np.asarray(a, dtype=object), (n,)) for a in q)
    same = _once(lambda a, b: _rate_text(a, b, style, unit), n, num, den)
    return same if same is not None else _rate_text(num, den, style, unit)


def _rate_text(num: np.ndarray, den: np.ndarray, style: str, unit: int) -> np.ndarray:
    from attain.incentive.result import format_minor

    if style == "per_unit":
        return format_minor(round_div(num, den), unit).to_numpy()
    if style == "multiple":
        return np.array(
            [_decimal(int(a), int(b)) + "x" for a, b in zip(num, den, strict=True)], object
        )
    return np.array([_pct_text(int(a), int(b)) for a, b in zip(num, den, strict=True)], object)


@lru_cache(maxsize=4096)
def _decimal(num: int, den: int, digits: int = 6) -> str:
    """``num / den`` to ``digits`` decimals (half up), trailing zeros dropped."""
    if den < 0:
        num, den = -num, -den
    magnitude = (2 * abs(num) * 10**digits + den) // (2 * den)  # half away from zero
    scaled = -magnitude if num < 0 else magnitude
    sign = "-" if scaled < 0 else ""
    whole, frac = divmod(abs(scaled), 10**digits)
    text = f"{sign}{whole:,}" + (f".{frac:0{digits}d}".rstrip("0") if frac else "")
    return text.rstrip(".")


@lru_cache(maxsize=4096)
def _pct_text(num: int, den: int) -> str:
    """A fraction as a percentage, to 0.0001% (rates are read to millionths)."""
    return _decimal(num * 100, den, 4) + "%"

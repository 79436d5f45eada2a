"""targets.xlsx: a sheet per org level, the reps' yearly targets, and a target card per rep.

Written by the one workbook writer, :mod:`attain.xlsx` (fixed metadata, so the
same allocation gives the same bytes). The level and ``rep`` sheets are tables:
bold frozen header, autofilter, column widths, targets in the company's money
format. The cards' rows are formatted in bulk (one string template per kind of
row, filled from numpy arrays) and streamed in chunks: at 10,000 reps they are
1.1 million cells, and a cell object each would cost more than the whole solve.

The sheets and their order: ``company``, each hierarchy level, ``rep`` (yearly
target per product, total, challenge) and ``cards`` (per rep: a bold title row,
a bold header row, one row per period, a bold ``year`` row, a blank row).

A sheet holds at most ``MAX_SHEET_ROWS`` rows (Excel's 1,048,576: the cards of
about 65,000 reps by month, 16,000 by week). Past it a sheet continues on
``cards 2``, ``cards 3``, … — breaking only between two reps, so a card is
never split — and likewise ``rep 2``, … (or a level sheet, were one that long),
each repeating the header row. Names are cut to Excel's 31 characters and kept
unique; within the limit each stays one sheet under its plain name.

The cards follow the periods of ``targets`` — months, fiscal quarters or weeks,
as the seasonality's ``granularity`` chose; their labels (``YYYY-MM``,
``YYYY-Qn``, ``YYYY-MM-Wn``) sort chronologically as text. The level sheets
hold yearly totals and have no periods.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from attain import xlsx as book

if TYPE_CHECKING:
    from attain.allocate.result import Allocation

__all__ = ["MAX_SHEET_ROWS", "write_workbook"]

#: Rows a sheet may hold (Excel's limit); longer sheets continue on ``name 2``, ``name 3``, ….
MAX_SHEET_ROWS = book.MAX_SHEET_ROWS

_CHUNK = 20_000  # rows formatted per step (bounds the memory of big sheets)
_STR = '<c%s t="inlineStr"><is><t xml:space="preserve">%%s</t></is></c>'
_NUM = "<c%s><v>%%r</v></c>"
#: Level columns that hold fractions (shown as percentages); other floats are amounts.
_FRACTIONS = frozenset({"share", "growth", "gap", "rate"})
_NAMES = ("rep_id", "period", "product", "target", "challenge")


def write_workbook(path: str | Path, allocation: Allocation) -> Path:
    targets = allocation.targets
    hierarchy = [c for c in targets.columns if c not in _NAMES]
    products = targets["product"].unique().tolist()  # first-seen order
    grid = _grid(targets, hierarchy, products)
    summary = allocation.summary
    styles = book.Styles(summary.get("currency", ""), summary.get("decimals", 2))
    sheets: list[book.Sheet] = []
    for level, frame in allocation.levels.items():
        sheets += book.table(level, frame, _kinds(frame), styles, max_rows=MAX_SHEET_ROWS)
    yearly = _yearly(grid, hierarchy, products)
    sheets += book.table(
        "rep", yearly, _kinds(yearly), styles, max_rows=MAX_SHEET_ROWS, freeze_columns=1
    )
    sheets += _card_sheets(grid, hierarchy, products, styles)
    return book.write_workbook(path, sheets, styles)


def _kinds(frame: pd.DataFrame) -> dict[str, str]:
    """Amounts are money; counts integers; shares percent; names text."""
    kinds = {}
    for column in frame.columns:
        dtype = frame[column].dtype
        if dtype.kind in "iu":
            kinds[column] = "integer"
        elif dtype.kind == "f":
            fraction = column in _FRACTIONS or column.endswith(("_rate", "_growth", "_pct"))
            kinds[column] = "percent" if fraction else "money"
        else:
            kinds[column] = "text"
    return kinds


def _sheet_names(counts: list[tuple[str, int]]) -> list[str]:
    """``count`` names per base: ``base``, ``base 2``, …, cut to 31 characters, unique."""
    return book.sheet_names([base for base, count in counts for _ in range(count)])


class _Grid:
    """Targets as arrays: reps (sorted by id) × periods × products."""

    def __init__(self, rep_ids, head, periods, target, challenge):
        self.rep_ids = rep_ids
        self.head = head  # rep × hierarchy columns (object array)
        self.periods = periods
        self.target = target  # R × K × P
        self.challenge = challenge  # R × K


def _grid(targets: pd.DataFrame, hierarchy: list[str], products: list[str]) -> _Grid:
    """Pivot ``targets`` (one row per rep × period × product) into arrays, reps sorted by id."""
    # factorize hashes; np.unique would sort every row's string.
    rep_code, rep_ids = pd.factorize(targets["rep_id"], sort=True)
    period_code, periods = pd.factorize(targets["period"].astype(str), sort=True)
    rep_ids, periods = rep_ids.to_numpy(), periods.to_numpy()
    product_code = pd.Index(products).get_indexer(targets["product"])
    R, K, P = len(rep_ids), len(periods), len(products)
    flat = (rep_code * K + period_code) * P + product_code
    target = np.bincount(flat, weights=targets["target"].to_numpy(float), minlength=R * K * P)
    challenge = np.bincount(
        rep_code * K + period_code, weights=targets["challenge"].to_numpy(float), minlength=R * K
    )
    first = np.zeros(R, dtype=np.int64)
    first[rep_code[::-1]] = np.arange(len(rep_code))[::-1]  # each rep's first row
    head = targets[hierarchy].to_numpy(dtype=object)[first] if hierarchy else np.empty((R, 0))
    return _Grid(rep_ids, head, periods, target.reshape(R, K, P), challenge.reshape(R, K))


def _yearly(grid: _Grid, hierarchy: list[str], products: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({"rep_id": grid.rep_ids})
    for j, level in enumerate(hierarchy):
        frame[level] = grid.head[:, j]
    year = grid.target.sum(axis=1)
    for p, product in enumerate(products):
        frame[product] = year[:, p]
    frame["total"] = year.sum(axis=1)
    frame["challenge"] = grid.challenge.sum(axis=1)
    return frame


def _text(values) -> list[str]:
    return [book.text(v) for v in values]


def _card_sheets(
    grid: _Grid, hierarchy: list[str], products: list[str], styles: book.Styles
) -> list[book.Sheet]:
    """The cards sheets: as many whole cards as ``MAX_SHEET_ROWS`` holds on each."""
    R, K, _ = grid.target.shape
    per = MAX_SHEET_ROWS // (K + 4)
    if per < 1:
        raise ValueError(f"a target card's {K + 4} rows pass MAX_SHEET_ROWS={MAX_SHEET_ROWS}")
    top = float(np.abs(grid.target.sum(axis=(1, 2))).max(initial=0.0))
    money = len(f"{top:,.{styles.decimals}f} {styles.currency}") + 2
    title = len(f"Target card: {max(map(str, grid.rep_ids), key=len, default='')}") + 2
    widths = [max(12, title), *[max(12, money, len(str(p)) + 2) for p in products]]
    widths += [max(12, money)] * 2
    return [
        book.Sheet(
            "cards",
            _card_rows(grid, hierarchy, products, styles, lo, min(R, lo + per)),
            widths=[float(min(w, 60)) for w in widths],
        )
        for lo in range(0, max(R, 1), per)
    ]


def _str(style: int) -> str:
    return _STR % (f' s="{style}"' if style else "")


def _num(style: int) -> str:
    return _NUM % (f' s="{style}"' if style else "")


def _card_rows(
    grid: _Grid,
    hierarchy: list[str],
    products: list[str],
    styles: book.Styles,
    first: int,
    last: int,
):
    """Reps ``first:last``, each: title, header, a row per period, the year, a blank row.

    Formatted in bulk; rows are numbered from 1 at rep ``first`` (the top of its sheet).
    """
    _, K, P = grid.target.shape
    height = K + 4
    bold, money, total = styles.x["header"], styles.x["money"], styles.x["total"]
    header = "".join(_str(bold) % t for t in _text(["period", *products, "total", "challenge"]))
    month = '<row r="%d">' + _str(0) + _num(money) * (P + 2) + "</row>"
    title = '<row r="%d">' + _str(bold) + _str(0) + "</row>"
    year = '<row r="%d">' + _str(bold) % "year" + _num(total) * (P + 2) + "</row>"
    period_text = _text(grid.periods)
    step = max(1, _CHUNK // height)
    for lo in range(first, last, step):
        hi = min(last, lo + step)
        where = [
            " / ".join(map(str, row)) for row in grid.head[lo:hi].tolist()
        ] if hierarchy else [""] * (hi - lo)  # fmt: skip
        values = np.concatenate(
            [
                grid.target[lo:hi],
                grid.target[lo:hi].sum(axis=2, keepdims=True),
                grid.challenge[lo:hi, :, None],
            ],
            axis=2,
        )  # n × K × (P + 2)
        base = ((np.arange(lo, hi) - first) * height + 1).tolist()
        out = []
        for b, rid, wh, block, total in zip(
            base,
            _text(grid.rep_ids[lo:hi]),
            _text(where),
            values.tolist(),
            values.sum(axis=1).tolist(),
            strict=True,
        ):
            out.append(title % (b, f"Target card: {rid}", wh))
            out.append(f'<row r="{b + 1}">{header}</row>')
            out.extend(month % (b + 2 + k, period_text[k], *vals) for k, vals in enumerate(block))
            out.append(year % (b + 2 + K, *total))
            out.append(f'<row r="{b + 3 + K}"/>')
        yield "".join(out)

"""targets.xlsx: a sheet per org level, the reps' yearly targets, and a target card per rep.

The workbook is plain SpreadsheetML written directly: each sheet's rows are
formatted in bulk (one string template per kind of row, filled from numpy
arrays) and streamed into the zip in chunks, with fixed member timestamps and
document dates, so the same allocation gives the same bytes. openpyxl (even
in write-only mode) spent ~10 µs a cell, which at 10,000 reps — 1.1 million
card cells — was more than the whole solve.

Cells are inline strings or numbers; the sheets, their rows and their order are
those of a workbook built cell by cell: ``company``, each hierarchy level,
``rep`` (yearly target per product, total, challenge) and ``cards`` (per rep:
a title row, a header row, one row per period, a ``year`` row, a blank row).

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

import zipfile
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

from attain.output import atomic_path

if TYPE_CHECKING:
    from attain.allocate.result import Allocation

__all__ = ["MAX_SHEET_ROWS", "write_workbook"]

#: Rows a sheet may hold (Excel's limit); longer sheets continue on ``name 2``, ``name 3``, ….
MAX_SHEET_ROWS = 1_048_576

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_STAMP = "2000-01-01T00:00:00Z"
#: zlib level: the sheets are repetitive XML; level 1 is ~3× faster than 6 for ~25% more bytes.
_LEVEL = 1
_CHUNK = 20_000  # rows formatted and compressed per step (bounds the memory of big sheets)

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument"
_SHEET_HEAD = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_NS}"><sheetData>'
)
_SHEET_FOOT = "</sheetData></worksheet>"
_STR = '<c t="inlineStr"><is><t>%s</t></is></c>'
_NUM = "<c><v>%r</v></c>"


def write_workbook(path: str | Path, allocation: Allocation) -> Path:
    targets = allocation.targets
    hierarchy = [
        c
        for c in targets.columns
        if c not in ("rep_id", "period", "product", "target", "challenge")
    ]
    products = targets["product"].unique().tolist()  # first-seen order
    grid = _grid(targets, hierarchy, products)
    parts = [(level, _frame_parts(frame)) for level, frame in allocation.levels.items()]
    parts.append(("rep", _frame_parts(_yearly(grid, hierarchy, products))))
    parts.append(("cards", _card_parts(grid, hierarchy, products)))
    names = _sheet_names([(base, len(rows)) for base, rows in parts])
    sheets = list(zip(names, chain.from_iterable(rows for _, rows in parts), strict=True))
    with (
        atomic_path(path) as tmp,
        zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=_LEVEL) as z,
    ):
        _put(z, "[Content_Types].xml", _content_types(len(sheets)))
        _put(z, "_rels/.rels", _ROOT_RELS)
        _put(z, "docProps/core.xml", _CORE)
        _put(z, "xl/workbook.xml", _workbook([name for name, _ in sheets]))
        _put(z, "xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
        _put(z, "xl/styles.xml", _STYLES)
        for i, (_, rows) in enumerate(sheets, start=1):
            info = zipfile.ZipInfo(f"xl/worksheets/sheet{i}.xml", date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            with z.open(info, "w", force_zip64=True) as out:
                out.write(_SHEET_HEAD.encode())
                for chunk in rows:
                    out.write(chunk.encode("utf-8"))
                out.write(_SHEET_FOOT.encode())
    return Path(path)


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
    return [escape(str(v)) for v in values]


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "<c/>"
    if isinstance(value, bool):
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return _NUM % value
    return _STR % escape(str(value))


def _sheet_names(counts: list[tuple[str, int]]) -> list[str]:
    """``count`` names per base: ``base``, ``base 2``, …, cut to 31 characters, unique.

    Excel compares sheet names ignoring case; a name already taken moves on to
    the next number.
    """
    names: list[str] = []
    used: set[str] = set()
    for base, count in counts:
        n = 1
        for _ in range(count):
            while True:
                suffix = f" {n}" if n > 1 else ""
                name = base[: 31 - len(suffix)] + suffix
                n += 1
                if name.casefold() not in used:
                    break
            used.add(name.casefold())
            names.append(name)
    return names


def _frame_parts(frame: pd.DataFrame) -> list:
    """The sheets of ``frame``: at most ``MAX_SHEET_ROWS - 1`` records each, under a header."""
    per = MAX_SHEET_ROWS - 1
    if per < 1:
        raise ValueError(f"MAX_SHEET_ROWS={MAX_SHEET_ROWS} leaves no row under the header")
    n = len(frame)
    return [_frame_rows(frame, lo, min(n, lo + per)) for lo in range(0, max(n, 1), per)]


def _frame_rows(frame: pd.DataFrame, first: int, last: int):
    """A header row, then one row per record ``first:last`` (one cell at a time)."""
    header = "".join(_STR % t for t in _text(frame.columns))
    yield f'<row r="1">{header}</row>'
    for lo in range(first, last, _CHUNK):
        records = frame.iloc[lo : min(last, lo + _CHUNK)].astype(object).to_numpy().tolist()
        yield "".join(
            f'<row r="{i}">{"".join(_cell(v) for v in row)}</row>'
            for i, row in enumerate(records, start=lo - first + 2)
        )


def _card_parts(grid: _Grid, hierarchy: list[str], products: list[str]) -> list:
    """The cards sheets: as many whole cards as ``MAX_SHEET_ROWS`` holds on each."""
    R, K, _ = grid.target.shape
    per = MAX_SHEET_ROWS // (K + 4)
    if per < 1:
        raise ValueError(f"a target card's {K + 4} rows pass MAX_SHEET_ROWS={MAX_SHEET_ROWS}")
    return [
        _card_rows(grid, hierarchy, products, lo, min(R, lo + per))
        for lo in range(0, max(R, 1), per)
    ]


def _card_rows(grid: _Grid, hierarchy: list[str], products: list[str], first: int, last: int):
    """Reps ``first:last``, each: title, header, a row per period, the year, a blank row.

    Formatted in bulk; rows are numbered from 1 at rep ``first`` (the top of its sheet).
    """
    _, K, P = grid.target.shape
    height = K + 4
    header = "".join(_STR % t for t in _text(["period", *products, "total", "challenge"]))
    month = '<row r="%d">' + _STR + _NUM * (P + 2) + "</row>"
    title = '<row r="%d">' + _STR * 2 + "</row>"
    year = '<row r="%d">' + _STR % "year" + _NUM * (P + 2) + "</row>"
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


def _put(z: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(info, text.encode("utf-8"), compresslevel=_LEVEL)


def _content_types(n: int) -> str:
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        f'ContentType="{_CT}.spreadsheetml.worksheet+xml"/>'
        for i in range(1, n + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.spreadsheetml.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.spreadsheetml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        f"{sheets}</Types>"
    )


_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<Relationships xmlns="{_PKG}">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/'
    'metadata/core-properties" Target="docProps/core.xml"/>'
    "</Relationships>"
)

_CORE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<dc:creator>attain</dc:creator>"
    f'<dcterms:created xsi:type="dcterms:W3CDTF">{_STAMP}</dcterms:created>'
    f'<dcterms:modified xsi:type="dcterms:W3CDTF">{_STAMP}</dcterms:modified>'
    "</cp:coreProperties>"
)

_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<styleSheet xmlns="{_NS}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _workbook(names: list[str]) -> str:
    sheets = "".join(
        f'<sheet name="{escape(name, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
        for i, name in enumerate(names, start=1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<workbook xmlns="{_NS}" xmlns:r="{_REL}"><sheets>{sheets}</sheets></workbook>'
    )


def _workbook_rels(n: int) -> str:
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, n + 1)
    )
    styles = f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{_PKG}">{rels}{styles}</Relationships>'
    )

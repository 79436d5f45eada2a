"""Workbooks: the one deterministic .xlsx writer behind every workbook attain writes.

The file is plain SpreadsheetML written directly into a zip: fixed member
timestamps and document dates, members in a fixed order, so the same data
gives the same bytes on every run. Rows are streamed as text chunks, so a
sheet of a million rows never holds a million cell objects (openpyxl spends
~10 µs a cell, more than a whole allocation solve at 10,000 reps).

What a reader sees:

- **number formats** by column kind: ``money`` (thousands separators, the
  company's decimals and currency: ``#,##0.00 "EUR"``), ``percent``
  (``0.00%``: rates are fractions, 0.0676 shows as 6.76%), ``integer``
  (``#,##0``), ``number`` (``#,##0.00``), ``text``;
- a **bold header row**, **frozen** under the header, with an **autofilter**
  over the table and **column widths** from the header and the widest value;
- sheets past Excel's ``MAX_SHEET_ROWS`` (1,048,576) **continue** on
  ``name 2``, ``name 3``, …, each repeating the header; names are cut to
  Excel's 31 characters and kept unique (Excel ignores case).

Two levels: :func:`table` turns a DataFrame (or rows) with column kinds into
sheets; :class:`Sheet` takes rows already written (see :class:`Styles` and
:func:`cell` for their cells) when a sheet is not one table, as target cards
are. :func:`write_workbook` writes the sheets atomically.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pandas as pd

from attain.output import atomic_path

__all__ = [
    "KINDS",
    "MAX_SHEET_ROWS",
    "Sheet",
    "Styles",
    "cell",
    "column_letter",
    "sheet_names",
    "table",
    "text",
    "write_workbook",
]

#: Rows a sheet may hold (Excel's limit); longer sheets continue on ``name 2``, ``name 3``, ….
MAX_SHEET_ROWS = 1_048_576
#: Column kinds, each with its number format.
KINDS = ("text", "integer", "number", "money", "percent")

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_STAMP = "2000-01-01T00:00:00Z"
#: zlib level: the sheets are repetitive XML; level 1 is ~3× faster than 6 for ~25% more bytes.
_LEVEL = 1
_CHUNK = 20_000  # rows formatted per step (bounds the memory of big sheets)
_MAX_WIDTH = 60.0

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


class Styles:
    """The cell formats of one workbook; ``Styles.x["money"]`` is a cell's ``s`` index.

    Kinds: ``text``, ``integer``, ``number``, ``money``, ``percent``, and the
    bold ones ``header`` (text) and ``total`` (money). ``currency`` (e.g. ``EUR``)
    is shown after money amounts; ``decimals`` is the money's decimals.
    """

    _ORDER = ("text", "header", "integer", "number", "money", "percent", "total")

    def __init__(self, currency: str = "", decimals: int = 2) -> None:
        self.currency = str(currency or "")
        self.decimals = max(0, int(decimals))
        self.x = {kind: i for i, kind in enumerate(self._ORDER)}

    @property
    def money_format(self) -> str:
        digits = "#,##0" + ("." + "0" * self.decimals if self.decimals else "")
        if not self.currency:
            return digits
        return f'{digits} "{self.currency.replace(chr(34), "")}"'

    def xml(self) -> str:
        # (numFmtId, bold) per kind; 3 = #,##0, 4 = #,##0.00, 10 = 0.00% are built in.
        fmt = {"text": 0, "header": 0, "integer": 3, "number": 4, "money": 164, "percent": 10}
        fmt["total"] = 164
        bold = {"header", "total"}
        xfs = "".join(
            f'<xf numFmtId="{fmt[k]}" fontId="{int(k in bold)}" fillId="0" borderId="0" xfId="0"'
            + (' applyNumberFormat="1"' if fmt[k] else "")
            + (' applyFont="1"' if k in bold else "")
            + "/>"
            for k in self._ORDER
        )
        return (
            f'{_XML}<styleSheet xmlns="{_NS}">'
            f'<numFmts count="1"><numFmt numFmtId="164" formatCode={quoteattr(self.money_format)}/>'
            "</numFmts>"
            '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
            '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            f'<cellXfs count="{len(self._ORDER)}">{xfs}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"
        )


# What XML 1.0 cannot hold (and a carriage return, which parsers turn into a line feed),
# and an underscore that would read as the start of such an escape (``_x0041_``).
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")


def text(value: Any) -> str:
    """``value`` as the text of a cell: XML-escaped, with control characters written as
    SpreadsheetML's ``_xHHHH_`` escapes (and a literal ``_xHHHH_`` protected), so Excel
    reads back exactly ``str(value)``."""
    raw = str(value)
    if _UNSAFE.search(raw):
        raw = _UNSAFE.sub(lambda m: f"_x{ord(m.group()):04X}_", raw)
    return escape(raw)


def cell(value: Any, style: int = 0) -> str:
    """One ``<c>`` element: a number, a boolean or an inline string; empty for None/NaN."""
    s = f' s="{style}"' if style else ""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return f"<c{s}/>"
    if isinstance(value, bool | np.bool_):
        return f'<c{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | np.integer):
        return f"<c{s}><v>{int(value)}</v></c>"
    if isinstance(value, float | np.floating):
        return f"<c{s}><v>{float(value)!r}</v></c>"
    return f'<c{s} t="inlineStr"><is><t xml:space="preserve">{text(value)}</t></is></c>'


def column_letter(index: int) -> str:
    """``0`` → ``A``, ``26`` → ``AA``."""
    out = ""
    n = index + 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


@dataclass
class Sheet:
    """One worksheet: ``rows`` are ``<row>`` elements as text (any chunking), numbered from 1.

    ``widths`` are column widths in characters; ``freeze`` is ``(rows, columns)``
    kept in view; ``autofilter`` a range such as ``A1:M5``. ``name`` is the base
    name: the writer cuts it and keeps it unique.
    """

    name: str
    rows: Iterable[str]
    widths: Sequence[float] = ()
    freeze: tuple[int, int] | None = None
    autofilter: str | None = None

    def head(self) -> str:
        parts = [f'{_XML}<worksheet xmlns="{_NS}">']
        if self.freeze and any(self.freeze):
            r, c = self.freeze
            top_left = f"{column_letter(c)}{r + 1}"
            pane = {(True, False): "bottomLeft", (False, True): "topRight"}.get(
                (r > 0, c > 0), "bottomRight"
            )
            split = (f' xSplit="{c}"' if c else "") + (f' ySplit="{r}"' if r else "")
            parts.append(
                '<sheetViews><sheetView workbookViewId="0">'
                f'<pane{split} topLeftCell="{top_left}" activePane="{pane}" state="frozen"/>'
                f'<selection pane="{pane}" activeCell="{top_left}" sqref="{top_left}"/>'
                "</sheetView></sheetViews>"
            )
        if self.widths:
            cols = "".join(
                f'<col min="{i}" max="{i}" width="{w:.1f}" customWidth="1"/>'
                for i, w in enumerate(self.widths, start=1)
            )
            parts.append(f"<cols>{cols}</cols>")
        parts.append("<sheetData>")
        return "".join(parts)

    def foot(self) -> str:
        auto = f'<autoFilter ref="{self.autofilter}"/>' if self.autofilter else ""
        return f"</sheetData>{auto}</worksheet>"


def table(
    name: str,
    data: pd.DataFrame,
    kinds: Mapping[str, str] | None = None,
    styles: Styles | None = None,
    *,
    max_rows: int | None = None,
    freeze_columns: int = 0,
) -> list[Sheet]:
    """``data`` as one sheet (or more past ``max_rows``): bold frozen header, autofilter,
    widths, and each column's number format from ``kinds`` (column → kind; a column
    not named is ``text`` when it holds text, ``number`` otherwise)."""
    styles = styles or Styles()
    limit = MAX_SHEET_ROWS if max_rows is None else max_rows
    per = limit - 1
    if per < 1:
        raise ValueError(f"MAX_SHEET_ROWS={limit} leaves no row under the header")
    kinds = dict(kinds or {})
    for column in data.columns:
        if column not in kinds:
            numeric = pd.api.types.is_numeric_dtype(data[column]) and data[column].dtype != bool
            kinds[column] = "number" if numeric else "text"
    unknown = sorted({k for k in kinds.values() if k not in KINDS})
    if unknown:
        raise ValueError(f"unknown column kind(s) {unknown}; expected one of {list(KINDS)}")
    columns = [str(c) for c in data.columns]
    style = [styles.x[kinds[c]] for c in data.columns]
    widths = [_width(c, data[c], kinds[c], styles) for c in data.columns]
    last = column_letter(max(len(columns), 1) - 1)
    n = len(data)
    out = []
    for lo in range(0, max(n, 1), per):
        hi = min(n, lo + per)
        out.append(
            Sheet(
                name,
                _table_rows(data, columns, style, styles.x["header"], lo, hi),
                widths=widths,
                freeze=(1, freeze_columns),
                autofilter=f"A1:{last}{hi - lo + 1}" if columns else None,
            )
        )
    return out


def _table_rows(
    data: pd.DataFrame, columns: list[str], style: list[int], header: int, first: int, last: int
) -> Iterator[str]:
    yield '<row r="1">' + "".join(cell(c, header) for c in columns) + "</row>"
    for lo in range(first, last, _CHUNK):
        block = data.iloc[lo : min(last, lo + _CHUNK)]
        cells = [_column_cells(block.iloc[:, j], s) for j, s in enumerate(style)]
        # A table without columns still has its rows.
        rows = zip(*cells, strict=True) if cells else [()] * len(block)
        yield "".join(
            f'<row r="{i}">{"".join(row)}</row>' for i, row in enumerate(rows, start=lo - first + 2)
        )


def _column_cells(values: pd.Series, style: int) -> list[str]:
    """The ``<c>`` elements of one column, as :func:`cell` writes them: a column of plain
    floats, integers or booleans is formatted from one template (no per-cell type
    dispatch), any other column cell by cell."""
    s = f' s="{style}"' if style else ""
    kind = values.dtype.kind if isinstance(values.dtype, np.dtype) else ""
    if kind == "f":
        arr = values.to_numpy()
        empty = f"<c{s}/>"
        return [
            f"<c{s}><v>{v!r}</v></c>" if ok else empty
            for v, ok in zip(arr.tolist(), np.isfinite(arr).tolist(), strict=True)
        ]
    if kind in ("i", "u"):
        return [f"<c{s}><v>{v}</v></c>" for v in values.to_numpy().tolist()]
    if kind == "b":
        return [f'<c{s} t="b"><v>{int(v)}</v></c>' for v in values.to_numpy().tolist()]
    return [cell(v, style) for v in values.astype(object).tolist()]


def _width(name: str, values: pd.Series, kind: str, styles: Styles) -> float:
    """Characters for the header or the widest value as shown, plus a margin."""
    widest = len(str(name))
    if len(values):
        if kind == "text" or not pd.api.types.is_numeric_dtype(values):
            widest = max(widest, int(values.astype(str).str.len().max()))
        else:
            a = np.abs(values.to_numpy(dtype=float))
            a = a[np.isfinite(a)]
            if a.size:
                top = float(a.max())
                shown = {
                    "integer": f"-{top:,.0f}",
                    "money": f"-{top:,.{styles.decimals}f} {styles.currency}".rstrip(),
                    "percent": f"-{top:.2%}",
                }.get(kind, f"-{top:,.2f}")
                widest = max(widest, len(shown))
    return min(_MAX_WIDTH, max(8.0, widest + 2.0))


def sheet_names(bases: Sequence[str]) -> list[str]:
    """A name per sheet: ``base``, then ``base 2``, … for a base already used; each cut to
    31 characters and unique ignoring case (as Excel compares them)."""
    names: list[str] = []
    used: set[str] = set()
    next_n: dict[str, int] = {}
    for base in bases:
        n = next_n.get(base, 1)
        while True:
            suffix = f" {n}" if n > 1 else ""
            name = base[: 31 - len(suffix)] + suffix
            n += 1
            if name.casefold() not in used:
                break
        next_n[base] = n
        used.add(name.casefold())
        names.append(name)
    return names


def write_workbook(path: str | Path, sheets: Sequence[Sheet], styles: Styles | None = None) -> Path:
    """Write ``sheets`` to ``path`` atomically; the same sheets give the same bytes."""
    styles = styles or Styles()
    names = sheet_names([s.name for s in sheets])
    with (
        atomic_path(path) as tmp,
        zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=_LEVEL) as z,
    ):
        _put(z, "[Content_Types].xml", _content_types(len(sheets)))
        _put(z, "_rels/.rels", _ROOT_RELS)
        _put(z, "docProps/core.xml", _CORE)
        _put(z, "xl/workbook.xml", _workbook(names, sheets))
        _put(z, "xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
        _put(z, "xl/styles.xml", styles.xml())
        for i, sheet in enumerate(sheets, start=1):
            info = zipfile.ZipInfo(f"xl/worksheets/sheet{i}.xml", date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            with z.open(info, "w", force_zip64=True) as out:
                out.write(sheet.head().encode())
                for chunk in sheet.rows:
                    out.write(chunk.encode("utf-8"))
                out.write(sheet.foot().encode())
    return Path(path)


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
        f"{_XML}"
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
    f"{_XML}"
    f'<Relationships xmlns="{_PKG}">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/'
    'metadata/core-properties" Target="docProps/core.xml"/>'
    "</Relationships>"
)

# Fixed document properties: no user name, no clock.
_CORE = (
    f"{_XML}"
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<dc:creator>attain</dc:creator>"
    f'<dcterms:created xsi:type="dcterms:W3CDTF">{_STAMP}</dcterms:created>'
    f'<dcterms:modified xsi:type="dcterms:W3CDTF">{_STAMP}</dcterms:modified>'
    "</cp:coreProperties>"
)


def _workbook(names: list[str], sheets: Sequence[Sheet]) -> str:
    entries = "".join(
        f'<sheet name="{escape(name, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
        for i, name in enumerate(names, start=1)
    )
    filters = "".join(
        '<definedName name="_xlnm._FilterDatabase" localSheetId="{}" hidden="1">{}</definedName>'.format(
            i, escape("'" + name.replace("'", "''") + "'!" + _absolute(sheet.autofilter))
        )
        for i, (name, sheet) in enumerate(zip(names, sheets, strict=True))
        if sheet.autofilter
    )
    defined = f"<definedNames>{filters}</definedNames>" if filters else ""
    return (
        f"{_XML}"
        f'<workbook xmlns="{_NS}" xmlns:r="{_REL}"><sheets>{entries}</sheets>{defined}</workbook>'
    )


def _absolute(ref: str) -> str:
    """``A1:M5`` → ``$A$1:$M$5``."""
    out = []
    for part in ref.split(":"):
        letters = part.rstrip("0123456789")
        out.append(f"${letters}${part[len(letters) :]}")
    return ":".join(out)


def _workbook_rels(n: int) -> str:
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, n + 1)
    )
    styles = f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
    return f'{_XML}<Relationships xmlns="{_PKG}">{rels}{styles}</Relationships>'

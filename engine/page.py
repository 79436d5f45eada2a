"""HTML pages: one shell (style sheet, print styles, escaping) for every page attain writes.

A page is a :class:`Document` of blocks — :class:`Section`, :class:`Paragraph`,
:class:`Table`, :class:`KeyFigures`, :class:`Figure` (an inline SVG chart from
:mod:`attain.charts`), :class:`Grid`, :class:`Bullets` — and :func:`render`
turns it into one self-contained page: no scripts, no fonts, images or style
sheets fetched, so it opens offline, prints cleanly and can be mailed. Text is
escaped everywhere; only :class:`Markup` (what the chart helpers return) is
written as it is. Inline text is a ``str``, a :class:`Strong` or :class:`Code`
span, or a list of them. Equal documents give equal bytes.

    doc = Document("Statement R001", [
        Section("March", [Table(["Line", "Amount"], [["Commission", "1,200.00"]],
                                align="lr", footer=[[Strong("Total"), "1,200.00"]])]),
    ])
    html = render(doc)
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Union

__all__ = [
    "CSS",
    "Block",
    "Bullets",
    "Code",
    "Document",
    "Figure",
    "Grid",
    "Inline",
    "KeyFigure",
    "KeyFigures",
    "Markup",
    "Paragraph",
    "Section",
    "Strong",
    "Table",
    "escape",
    "plain",
    "render",
]


class Markup(str):
    """Text that is already HTML (a chart's SVG): written without escaping."""

    __slots__ = ()


def escape(text: object) -> Markup:
    """``text`` escaped for HTML (quotes too); :class:`Markup` is returned unchanged."""
    if isinstance(text, Markup):
        return text
    return Markup(html.escape(str(text), quote=True))


def plain(name: object) -> str:
    """A name from a rule file as a reader reads it: ``field_rep_marginal`` → ``Field rep
    marginal``, ``senior_rep`` → ``Senior rep``; names with capitals keep their case
    (``East-01``)."""
    text = " ".join(str(name).replace("_", " ").split())
    if text and text == text.lower():
        return text[:1].upper() + text[1:]
    return text


@dataclass(frozen=True)
class Strong:
    """Bold inline text."""

    text: str


@dataclass(frozen=True)
class Code:
    """A name set in monospace (a rule, a component, a file)."""

    text: str


Inline = Union[str, Markup, Strong, Code, Sequence["Inline"]]  # noqa: UP007 (recursive alias)


@dataclass(frozen=True)
class Paragraph:
    """A paragraph; ``note`` sets it small and grey (sources, footnotes)."""

    text: Inline
    note: bool = False


@dataclass(frozen=True)
class Bullets:
    items: Sequence[Inline]


@dataclass(frozen=True)
class Table:
    """A table: ``columns`` (header cells), ``rows`` and optional bold ``footer`` rows.

    ``align`` has one letter per column, ``l`` or ``r`` (numbers are right-aligned);
    by default the first column is left and the rest right.
    """

    columns: Sequence[Inline]
    rows: Sequence[Sequence[Inline]]
    align: str | None = None
    footer: Sequence[Sequence[Inline]] = ()
    caption: Inline | None = None
    compact: bool = False
    """Keep every cell on one line (short labels and numbers)."""


@dataclass(frozen=True)
class KeyFigure:
    """A headline number: ``label`` above, ``value`` large, ``note`` below; ``tone``
    ``good`` / ``bad`` colours the value."""

    label: str
    value: str
    note: Inline = ""
    tone: str = ""


@dataclass(frozen=True)
class KeyFigures:
    items: Sequence[KeyFigure]


@dataclass(frozen=True)
class Figure:
    """A chart (:class:`Markup` SVG) with a caption under it."""

    svg: Markup
    caption: Inline = ""
    wide: bool = False
    """Let the chart take the page's whole width (a map); otherwise a chart alone on its
    row is kept to a readable size."""


@dataclass(frozen=True)
class Grid:
    """Blocks side by side (two columns on a wide screen, one on paper or a phone)."""

    blocks: Sequence[Block]
    columns: int = 2


@dataclass(frozen=True)
class Section:
    """A titled part of the page; sections nest (``h2``, ``h3``, …)."""

    title: str
    blocks: Sequence[Block]
    id: str | None = None
    lead: Inline = ""


Block = Union[Section, Paragraph, Bullets, Table, KeyFigures, Figure, Grid, Markup]  # noqa: UP007


@dataclass(frozen=True)
class Document:
    """A whole page: ``title``, an optional ``lead`` line and ``facts`` line under it."""

    title: str
    blocks: Sequence[Block] = field(default_factory=list)
    lead: Inline = ""
    facts: Inline = ""
    lang: str = "en"


CSS = """
:root{--ink:#111827;--muted:#6b7280;--line:#e5e7eb;--soft:#f9fafb;--good:#15803d;--bad:#b91c1c}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;
max-width:1100px;padding:24px;color:var(--ink);background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;padding-bottom:4px;
border-bottom:1px solid var(--line)}h3{font-size:15px;margin:18px 0 6px}h4{font-size:14px}
p{margin:6px 0}p.lead{color:#374151;font-size:15px;margin:0 0 8px}
p.note,.note{color:var(--muted);font-size:12px}
table{border-collapse:collapse;margin:8px 0 16px;width:100%}
caption{caption-side:top;text-align:left;color:var(--muted);font-size:12px;padding:0 0 4px}
th,td{padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--soft);font-weight:600}.l{text-align:left}.r{text-align:right;
font-variant-numeric:tabular-nums}td.r{white-space:nowrap}tfoot td{font-weight:600;
border-top:2px solid #d1d5db}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--soft);
padding:0 3px;border-radius:3px}
ul{margin:6px 0 12px;padding-left:20px}li{margin:3px 0}
.grid{display:grid;grid-template-columns:repeat(var(--cols,2),minmax(0,1fr));gap:16px}
figure{margin:8px 0;border:1px solid var(--line);border-radius:8px;padding:8px}
figure.single svg.chart{display:block;max-width:760px;margin:0 auto}
table.compact td{white-space:nowrap}
figcaption{color:var(--muted);font-size:12px;margin-top:4px}
.keys{display:grid;grid-template-columns:repeat(auto-fit,minmax(190px,1fr));gap:12px;
margin:12px 0 8px}.key{border:1px solid var(--line);border-radius:8px;padding:10px 12px}
.key .label{color:var(--muted);font-size:12px;text-transform:none}
.key .value{font-size:22px;font-weight:650;margin:2px 0;font-variant-numeric:tabular-nums}
.key .value.good{color:var(--good)}.key .value.bad{color:var(--bad)}
.key .note{margin:0}
svg.chart{width:100%;height:auto;font-size:12px;fill:#374151}
svg .grid{stroke:var(--line)}svg .axis{stroke:#9ca3af}
svg .mark{stroke:#111827;stroke-dasharray:4 3}
svg .budget{stroke:#b91c1c;stroke-width:1.5;stroke-dasharray:6 3}
svg text.budget{fill:#b91c1c;stroke:none;font-weight:600}
svg .whisker{stroke:#111827;stroke-width:1.5}
svg rect.low{fill:#60a5fa}svg rect.high{fill:#f97316}
@page{margin:14mm}
@media (max-width:720px){.grid{grid-template-columns:1fr}}
@media print{body{max-width:none;padding:0;font-size:11pt}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
h2,h3{break-after:avoid}figure,.key,tr,.keys{break-inside:avoid}
section{break-inside:auto}a{color:inherit;text-decoration:none}}
"""


def render(doc: Document) -> str:
    """The page of ``doc``: one self-contained HTML document as text."""
    body = [f"<h1>{escape(doc.title)}</h1>"]
    if doc.lead:
        body.append(f'<p class="lead">{_inline(doc.lead)}</p>')
    if doc.facts:
        body.append(f'<p class="note">{_inline(doc.facts)}</p>')
    body += [_block(b, 2) for b in doc.blocks]
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(doc.lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width,initial-scale=1">\n'
        f"<title>{escape(doc.title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _inline(text: Inline) -> str:
    if isinstance(text, Strong):
        return f"<strong>{escape(text.text)}</strong>"
    if isinstance(text, Code):
        return f"<code>{escape(text.text)}</code>"
    if isinstance(text, str):
        return escape(text)
    return "".join(_inline(t) for t in text)


def _block(block: Block, level: int, in_grid: bool = False) -> str:
    if isinstance(block, Markup):
        return str(block)
    if isinstance(block, Section):
        h = min(level, 6)
        anchor = f' id="{escape(block.id)}"' if block.id else ""
        inner = [f"<h{h}>{escape(block.title)}</h{h}>"]
        if block.lead:
            inner.append(f'<p class="lead">{_inline(block.lead)}</p>')
        inner += [_block(b, level + 1) for b in block.blocks]
        return f"<section{anchor}>" + "\n".join(inner) + "</section>"
    if isinstance(block, Paragraph):
        cls = ' class="note"' if block.note else ""
        return f"<p{cls}>{_inline(block.text)}</p>"
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in block.items) + "</ul>"
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, KeyFigures):
        return '<div class="keys">' + "".join(_key(k) for k in block.items) + "</div>"
    if isinstance(block, Figure):
        caption = f"<figcaption>{_inline(block.caption)}</figcaption>" if block.caption else ""
        cls = "" if block.wide or in_grid else ' class="single"'
        return f"<figure{cls}>{block.svg}{caption}</figure>"
    if isinstance(block, Grid):
        cols = f' style="--cols:{int(block.columns)}"' if block.columns != 2 else ""
        return (
            f'<div class="grid"{cols}>'
            + "".join(_block(b, level, True) for b in block.blocks)
            + "</div>"
        )
    raise TypeError(f"not a page block: {type(block).__name__}")


def _key(k: KeyFigure) -> str:
    tone = f" {k.tone}" if k.tone in ("good", "bad") else ""
    note = f'<p class="note">{_inline(k.note)}</p>' if k.note else ""
    return (
        f'<div class="key"><div class="label">{escape(k.label)}</div>'
        f'<div class="value{tone}">{escape(k.value)}</div>{note}</div>'
    )


def _table(t: Table) -> str:
    n = len(t.columns)
    align = t.align or ("l" + "r" * (n - 1))
    if len(align) != n or set(align) - {"l", "r"}:
        raise ValueError(f"align {align!r} needs one 'l' or 'r' per column ({n})")

    def row(cells: Sequence[Inline], tag: str) -> str:
        if len(cells) != n:
            raise ValueError(f"a row of {len(cells)} cells in a table of {n} columns")
        return (
            "<tr>"
            + "".join(
                f'<{tag} class="{a}">{_inline(c)}</{tag}>'
                for c, a in zip(cells, align, strict=True)
            )
            + "</tr>"
        )

    parts = ['<table class="compact">' if t.compact else "<table>"]
    if t.caption:
        parts.append(f"<caption>{_inline(t.caption)}</caption>")
    parts.append("<thead>" + row(t.columns, "th") + "</thead>")
    parts.append("<tbody>" + "".join(row(r, "td") for r in t.rows) + "</tbody>")
    if t.footer:
        parts.append("<tfoot>" + "".join(row(r, "td") for r in t.footer) + "</tfoot>")
    parts.append("</table>")
    return "".join(parts)

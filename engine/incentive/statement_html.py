"""A statement as a printable web page: the same text as its Markdown, self-contained.

Statements are written as Markdown (:mod:`attain.incentive.statements`), in a fixed
subset: headings, one table per period (line, amount, how), bold totals, inline code
for names. This turns that subset into one HTML page with its own style sheet — no
scripts, no fonts or images to fetch — that a rep can open, print or receive by mail.
Every piece of text is escaped; the page says nothing the Markdown does not.
"""

from __future__ import annotations

import re
from html import escape

__all__ = ["statement_html"]

_STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328;
       max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
h3 { font-size: 1.05rem; margin-top: 1.5rem; } h4 { font-size: 1rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; table-layout: fixed; }
th:nth-child(1) { width: 38%; } th:nth-child(2) { width: 14%; }
th, td { border: 1px solid #d0d7de; padding: .3rem .5rem; vertical-align: top; text-align: left; }
th { background: #f6f8fa; } td.num, th.num { text-align: right; white-space: nowrap; }
code { background: #f6f8fa; padding: 0 .2rem; border-radius: 3px; }
@media print { body { margin: 0; max-width: none; } h2 { break-before: auto; }
               tr { break-inside: avoid; } }
"""
_HEADING = re.compile(r"^(#{1,4}) (.*)$")


def statement_html(markdown: str) -> str:
    """The HTML page of a statement written by :func:`statement_markdown` (or a combined one)."""
    lines = markdown.splitlines()
    title = next((m.group(2) for m in map(_HEADING.match, lines) if m), "Statement")
    body: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(lines[i])
                i += 1
            body.append(_table(rows))
            continue
        heading = _HEADING.match(line)
        if heading:
            n = len(heading.group(1))
            body.append(f"<h{n}>{_inline(heading.group(2))}</h{n}>")
        elif line.strip():
            body.append(f"<p>{_inline(line)}</p>")
        i += 1
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(_plain(title))}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _table(rows: list[str]) -> str:
    """A Markdown table (header, alignment row, body) → an HTML table."""
    cells = [_cells(r) for r in rows]
    header, align, body = cells[0], cells[1], cells[2:]
    right = [a.endswith(":") for a in align]

    def row(values: list[str], tag: str) -> str:
        parts = []
        for value, num in zip(values, right + [False] * len(values), strict=False):
            cls = ' class="num"' if num else ""
            parts.append(f"<{tag}{cls}>{_inline(value)}</{tag}>")
        return "<tr>" + "".join(parts) + "</tr>"

    out = ["<table>", "<thead>" + row(header, "th") + "</thead>", "<tbody>"]
    out += [row(values, "td") for values in body]
    return "\n".join([*out, "</tbody>", "</table>"])


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split(" | ")]


def _inline(text: str) -> str:
    """Escaped text with ``**bold**`` and ```code``` spans."""
    out = escape(text, quote=False)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", out)


def _plain(text: str) -> str:
    return text.replace("`", "").replace("**", "")

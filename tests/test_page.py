"""The page shell: every block renders, text is escaped, the page is self-contained and
prints; the chart helpers return escaped, scalable SVG with the budget drawn."""

from __future__ import annotations

import re

import numpy as np
import pytest

from attain import charts
from attain.page import (
    Bullets,
    Code,
    Document,
    Figure,
    Grid,
    KeyFigure,
    KeyFigures,
    Markup,
    Paragraph,
    Section,
    Strong,
    Table,
    escape,
    plain,
    render,
)

EVIL = "<script>alert('x')</script> & \"q\""


def _doc() -> Document:
    return Document(
        title=EVIL,
        lead=["Lead ", Strong(EVIL)],
        facts="facts",
        blocks=[
            KeyFigures([KeyFigure(EVIL, "1,000 EUR", note=EVIL, tone="bad")]),
            Section(
                EVIL,
                [
                    Paragraph(["see ", Code(EVIL)]),
                    Bullets([EVIL, [Strong("b"), " c"]]),
                    Table(
                        [EVIL, "Amount"],
                        [[EVIL, "1.00"]],
                        footer=[[Strong("Total"), "1.00"]],
                        caption=EVIL,
                    ),
                    Section("Inner", [Paragraph("note", note=True)]),
                    Grid([Figure(charts.histogram({"a": np.arange(10.0)}, EVIL), EVIL)]),
                ],
                id="s1",
            ),
        ],
    )


def test_every_text_is_escaped_and_nothing_runs():
    page = render(_doc())
    assert "<script" not in page.lower()
    assert "alert(" in page  # present, as text
    assert page.count("&lt;script&gt;") >= 10
    assert "&quot;q&quot;" in page


def test_the_page_is_self_contained_and_prints():
    page = render(_doc())
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in page
    urls = set(re.findall(r"(?:https?:)?//[^\s\"')]+", page))
    assert urls <= {"http://www.w3.org/2000/svg"}, urls
    assert "@media print" in page and "break-inside:avoid" in page
    assert "<link" not in page and "@import" not in page and "url(" not in page


def test_structure():
    page = render(_doc())
    assert re.search(r'<section id="s1"><h2>.*?</h2>', page)
    assert "<h3>Inner</h3>" in page  # sections nest one heading level down
    assert '<tfoot><tr><td class="l"><strong>Total</strong></td><td class="r">1.00</td>' in page
    assert '<div class="value bad">1,000 EUR</div>' in page
    assert "<figure><svg" in page  # in a grid: no single-chart size limit
    assert render(_doc()) == page  # equal documents, equal bytes


def test_table_shape_is_checked():
    with pytest.raises(ValueError, match="one 'l' or 'r' per column"):
        render(Document("t", [Table(["a", "b"], [], align="l")]))
    with pytest.raises(ValueError, match="a row of 1 cells"):
        render(Document("t", [Table(["a", "b"], [["x"]])]))
    with pytest.raises(TypeError, match="not a page block"):
        render(Document("t", [object()]))  # type: ignore[list-item]


def test_markup_is_written_as_is_and_escape_is_idempotent():
    svg = Markup("<svg><title>t</title></svg>")
    assert escape(svg) is svg
    assert escape(escape("<a>")) == "&lt;a&gt;"
    assert str(svg) in render(Document("t", [svg]))


def test_plain_names():
    assert plain("field_rep_marginal") == "Field rep marginal"
    assert plain("senior_rep") == "Senior rep"
    assert plain("East-01") == "East-01"
    assert plain("slow__analytics ") == "Slow analytics"


def test_histogram_draws_the_budget_and_widens_to_show_it():
    svg = charts.histogram(
        {"a": np.linspace(100, 200, 50), "b<": np.linspace(120, 180, 50)},
        "cost",
        budget=("budget 300", 300.0),
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count('class="budget"') == 2  # the line and its label
    assert "budget 300" in svg and "b&lt;" in svg
    x = float(re.search(r'<line x1="([\d.]+)"[^>]*class="budget"', svg).group(1))
    assert x <= 640  # inside the frame


def test_bars_draw_the_budget_across():
    svg = charts.bars(
        ["base", "down"],
        {"p": [(1.0, 0.5, 1.5), (0.8, 0.4, 1.2)]},
        "t",
        budget=("limit", 2.0),
    )
    line = re.search(
        r'<line x1="(\d+)" x2="([\d.]+)" y1="([\d.]+)" y2="([\d.]+)" class="budget"', svg
    )
    assert line and line.group(3) == line.group(4)  # horizontal
    assert "limit" in svg


def test_degenerate_charts():
    assert "no data" in charts.bars([], {}, "t")
    assert "no data" in charts.lines({}, "t", "x")
    assert "no data" in charts.tornado([], "t")
    one = charts.histogram({"a": np.zeros(5)}, "zeros")
    assert "polyline" in one
    assert charts.percent(0.07) == "7%" and charts.money(-2_500) == "-2.5k"
    assert charts.swatch("#123456").count("#123456") == 1

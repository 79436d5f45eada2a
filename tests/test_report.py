"""report.html reads as a summary for the people who approve a plan, is self-contained
and offline; summary.xlsx holds the tables, formatted, and is byte-stable."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from attain.charts import histogram, money, tornado
from attain.load import parse_rules
from attain.report import render_html, write_outputs
from attain.report.xlsx import write_workbook
from attain.simulate import FunctionModel, build_population, simulate_models


@pytest.fixture(scope="module")
def result():
    n = 30
    people = pd.DataFrame(
        {
            "rep_id": [f"R{i}" for i in range(n)],
            "role": np.where(np.arange(n) < 5, "senior_rep", "rep"),
        }
    )
    targets = np.random.default_rng(2).uniform(1000, 3000, (n, 12, 2))
    pop = build_population(people, targets, ("a", "b"))
    keep = np.ones(n, bool)
    models = (
        FunctionModel(
            "flat", ("commission",), lambda s: 0.05 * s.sum(axis=(2, 3))[:, :, None], keep
        ),
        FunctionModel(
            "steep",
            ("commission",),
            lambda s: 0.08 * np.maximum(s.sum(axis=(2, 3)) - 20_000, 0)[:, :, None],
            keep,
        ),
    )
    scenario = parse_rules(
        """
kind: scenario
name: report_test
description: Two plans & <a> what-if.
company: x
plans: [a.yaml, b.yaml]
targets: {file: t.csv}
trials: 200
budget: {cost_of_sales: 0.05, amount: 60000}
sensitivity: {trials: 20}
variants: [{name: down, market_growth: -0.1}]
""",
        source="r.yaml",
    )
    return simulate_models(pop, models, scenario)


def _visible_text(page: str) -> str:
    """The words a reader sees: no style sheet, no markup (chart text included)."""
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    page = re.sub(r"<title>.*?</title>", " ", page, flags=re.S)
    page = re.sub(r"<code>.*?</code>", " ", page, flags=re.S)  # names as files spell them
    return re.sub(r"<[^>]+>", " ", page)


def test_html_is_self_contained(result):
    page = render_html(result)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower()
    urls = set(re.findall(r"(?:https?:)?//[^\s\"')]+", page))
    assert urls <= {"http://www.w3.org/2000/svg"}, urls
    assert page.count("<svg") >= 5  # two distributions, pay curve, cases, tornado(s)
    assert "Two plans &amp; &lt;a&gt; what-if." in page  # text is escaped
    assert "@media print" in page


def test_html_opens_with_the_summary_a_vp_reads(result):
    page = render_html(result)
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert headings[:2] == ["Summary", "Who gains and who loses"]
    for heading in ("What if", "Plan against plan", "What moves the cost"):
        assert heading in headings
    summary = page[: page.index("<h2>Who gains")]
    s = result.summary
    for plan in ("Flat", "Steep"):
        assert plan in summary
    flat = s["results"]["base"]["flat"]
    assert f"{flat['total_payout']['mean']:,.0f}" in summary  # expected cost
    assert f"{flat['total_payout']['p95']:,.0f}" in summary  # P95
    assert "Chance of going over budget" in summary
    over = max(flat["budget"]["p_exceed_cost_of_sales"], flat["budget"]["p_exceed_amount"])
    assert f"{over * 100:.1f}%" in summary
    assert "costs" in summary and ("less than" in summary or "more than" in summary)
    assert "lowest 10% of performers" in summary  # who gains and who loses


def test_charts_draw_the_budget(result):
    page = render_html(result)
    assert page.count('class="budget"') >= 3  # cost and cost-of-sales charts, cases
    assert "budget 60k" in page  # the amount limit on the cost histogram
    assert "budget 5.0%" in page  # the cost-of-sales limit


def test_labels_are_plain_words(result):
    text = _visible_text(render_html(result))
    for jargon in ("paired draws", "swing", "variant", "p_exceed", "top_decile"):
        assert jargon not in text.lower()
    assert not re.findall(r"\b[a-z]+_[a-z_]+\b", text), "snake_case on the page"
    assert "Senior rep" in text  # a role name from the data, as a reader reads it


def test_html_is_byte_stable(result):
    assert render_html(result) == render_html(result)


def test_write_outputs_writes_every_file_and_nothing_else(result, tmp_path):
    paths = write_outputs(result, tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["report.html", "summary.json", "summary.xlsx", "trials.parquet"]
    assert len(paths) == 4
    trials = pd.read_parquet(tmp_path / "trials.parquet")
    assert len(trials) == 200 * 2 * 2  # trials × variants × plans
    assert trials["total_payout"].dtype == np.float64  # money is never float32
    book = load_workbook(tmp_path / "summary.xlsx")
    assert book.sheetnames == [
        "Summary",
        "By role",
        "Pay for performance",
        "Comparisons",
        "Sensitivity",
    ]
    assert book["Summary"].max_row == 1 + 2 * 2


def test_workbook_is_byte_stable_and_formatted(result, tmp_path):
    summary = dict(result.summary, currency="EUR")
    a = write_workbook(tmp_path / "a.xlsx", summary)
    b = write_workbook(tmp_path / "b.xlsx", summary)
    assert a.read_bytes() == b.read_bytes()
    sheet = load_workbook(a)["Summary"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Case", "Plan", "Expected cost", "P5 cost"]
    row = {h: c for h, c in zip(header, sheet[2], strict=True)}
    assert row["Expected cost"].number_format == '#,##0.00 "EUR"'
    assert row["Cost of sales"].number_format == "0.00%"
    assert row["P(over budget)"].number_format == "0.00%"
    assert isinstance(row["Expected cost"].value, float)
    assert sheet.freeze_panes == "C2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(header)).column_letter}5"
    assert all(c.font.b for c in sheet[1])
    roles = load_workbook(a)["By role"]
    assert roles.cell(2, 4).number_format == "#,##0"  # people


def test_charts_handle_degenerate_input():
    svg = histogram({"a": np.zeros(10)}, "all zero")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "no data" in tornado([], "empty")
    assert money(1_250_000) == "1.25M" and money(950) == "950"
    assert "no data" in histogram({"a": np.array([np.nan])}, "nothing finite")


def test_one_plan_without_a_budget_says_so():
    n = 12
    people = pd.DataFrame({"rep_id": [f"R{i}" for i in range(n)], "role": "rep"})
    targets = np.random.default_rng(3).uniform(1000, 3000, (n, 12, 1))
    pop = build_population(people, targets, ("a",))
    model = FunctionModel(
        "only", ("commission",), lambda s: 0.05 * s.sum(axis=(2, 3))[:, :, None], np.ones(n, bool)
    )
    scenario = parse_rules(
        "kind: scenario\nname: one\ncompany: x\nplans: [a.yaml]\ntargets: {file: t.csv}\n"
        "trials: 50\nsensitivity: null\n",
        source="one.yaml",
    )
    page = render_html(simulate_models(pop, (model,), scenario))
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert headings[0] == "Summary" and "Who gains and who loses" not in headings
    assert "No budget is set in this scenario" in page
    assert "Chance of going over budget" not in page
    assert "One plan: nothing to compare." in page and "Not run for this scenario." in page
    assert 'class="budget"' not in page.split("<style>")[0] + page.split("</style>")[1]

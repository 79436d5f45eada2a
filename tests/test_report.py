"""report.html is self-contained and offline; summary.xlsx holds the tables."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from attain.load import parse_rules
from attain.report import render_html, write_outputs
from attain.report.svg import histogram, money, tornado
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


def test_html_is_self_contained(result):
    page = render_html(result)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower()
    urls = set(re.findall(r"(?:https?:)?//[^\s\"')]+", page))
    assert urls <= {"http://www.w3.org/2000/svg"}, urls
    assert page.count("<svg") >= 4  # distribution, comparison, pay curve, tornado(s)
    assert "Two plans &amp; &lt;a&gt; what-if." in page  # text is escaped
    for heading in ("Cost and reach", "Pay for performance", "Plan against plan", "Sensitivity"):
        assert heading in page


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


def test_charts_handle_degenerate_input():
    svg = histogram({"a": np.zeros(10)}, "all zero")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "no data" in tornado([], "empty")
    assert money(1_250_000) == "1.25M" and money(950) == "950"

"""summary.xlsx for HR and finance: one sheet per table of the report, numbers as numbers.

Written by the one workbook writer (:mod:`attain.xlsx`): the same summary gives the same
bytes; amounts carry the scenario's currency, rates show as percentages, counts as
integers; each sheet has a bold frozen header, an autofilter and fitted columns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from attain import xlsx

__all__ = ["write_workbook"]


def _sheet(title: str, header: list[tuple[str, str]], rows: list[list[Any]], styles):
    frame = pd.DataFrame(rows, columns=[name for name, _ in header])
    kinds = dict(header)
    for name, kind in header:
        if kind != "text":
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    return xlsx.table(title, frame, kinds, styles, freeze_columns=2 if len(header) > 4 else 0)


def write_workbook(path: Path, summary: dict[str, Any]) -> Path:
    """Write the summary tables of a simulation to ``path`` (atomically, byte-stable)."""
    styles = xlsx.Styles(summary.get("currency", ""), 2)
    sheets = []
    for title, part in (
        ("Summary", _overview),
        ("By role", _roles),
        ("Pay for performance", _deciles),
        ("Comparisons", _comparisons),
        ("Sensitivity", _sensitivity),
    ):
        sheets += _sheet(title, *part(summary), styles)
    return xlsx.write_workbook(path, sheets, styles)


def _overview(s):
    header = [
        ("Case", "text"),
        ("Plan", "text"),
        ("Expected cost", "money"),
        ("P5 cost", "money"),
        ("Median cost", "money"),
        ("P95 cost", "money"),
        ("P99 cost", "money"),
        ("Expected revenue", "money"),
        ("Cost of sales", "percent"),
        ("P(over budget)", "percent"),
        ("Reps at or above target", "percent"),
        ("Top 10% pay ÷ median pay", "number"),
        ("Gini of pay", "number"),
    ]
    rows = []
    for variant, plans in s["results"].items():
        for plan, f in plans.items():
            t = f["total_payout"]
            budget = f.get("budget") or {}
            rows.append(
                [
                    variant,
                    plan,
                    t["mean"],
                    t["p5"],
                    t["p50"],
                    t["p95"],
                    t["p99"],
                    f["revenue"]["mean"],
                    f["cost_of_sales"]["mean"],
                    budget.get("p_exceed_cost_of_sales", budget.get("p_exceed_amount")),
                    f["share_at_target"]["mean"],
                    f["top_decile_vs_median"],
                    f["gini"],
                ]
            )
    return header, rows


def _roles(s):
    header = [
        ("Case", "text"),
        ("Plan", "text"),
        ("Role", "text"),
        ("People", "integer"),
        *((name, "money") for name in ("Mean pay", "P10", "P25", "Median", "P75", "P90")),
    ]
    rows = [
        [v, p, role, r["n_people"], r["mean"], r["p10"], r["p25"], r["p50"], r["p75"], r["p90"]]
        for v, plans in s["results"].items()
        for p, f in plans.items()
        for role, r in f["by_role"].items()
    ]
    return header, rows


def _deciles(s):
    header = [
        ("Case", "text"),
        ("Plan", "text"),
        ("Attainment decile", "integer"),
        ("Mean attainment", "percent"),
        ("Mean pay", "money"),
    ]
    rows = [
        [v, p, d["decile"], d["attainment_mean"], d["payout_mean"]]
        for v, plans in s["results"].items()
        for p, f in plans.items()
        for d in f["pay_for_performance"]
    ]
    return header, rows


def _comparisons(s):
    header = [
        ("Case", "text"),
        ("Plan", "text"),
        ("Against", "text"),
        ("Difference in expected cost", "money"),
        ("95% range, low", "money"),
        ("95% range, high", "money"),
        ("P(costs more)", "percent"),
        ("Difference in cost of sales", "percent"),
    ]
    rows = []
    for variant, plans in s["comparisons"].items():
        for plan, c in plans.items():
            d = c["total_payout"]
            rows.append(
                [
                    variant,
                    plan,
                    s["baseline"],
                    d["mean"],
                    d["ci95_low"],
                    d["ci95_high"],
                    d["p_higher"],
                    c["cost_of_sales"]["mean"],
                ]
            )
    for variant, plans in s["variant_effects"].items():
        for plan, c in plans.items():
            d = c["total_payout"]
            rows.append(
                [
                    variant,
                    plan,
                    "base",
                    d["mean"],
                    d["ci95_low"],
                    d["ci95_high"],
                    d["p_higher"],
                    c["cost_of_sales"]["mean"],
                ]
            )
    return header, rows


def _sensitivity(s):
    header = [
        ("Plan", "text"),
        ("Kind", "text"),
        ("Parameter", "text"),
        ("Change", "percent"),
        ("Expected cost", "money"),
        ("Cost, parameter lower", "money"),
        ("Cost, parameter higher", "money"),
        ("Spread between the two", "money"),
    ]
    rows = [
        [
            r["plan"],
            r["kind"],
            r["parameter"],
            r["change"],
            r["cost_base"],
            r["cost_low"],
            r["cost_high"],
            r["swing"],
        ]
        for r in s.get("sensitivity") or []
    ]
    return header, rows

"""summary.xlsx for HR: one sheet per table of the report, numbers as numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from attain.output import atomic_path

__all__ = ["write_workbook"]


def _sheet(book: Workbook, title: str, header: list[str], rows: list[list[Any]]) -> None:
    ws = book.create_sheet(title)
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    for i, name in enumerate(header):
        ws.column_dimensions[ws.cell(1, i + 1).column_letter].width = max(12, len(name) + 2)
    ws.freeze_panes = "A2"


def write_workbook(path: Path, summary: dict[str, Any]) -> Path:
    """Write the summary tables of a simulation to ``path`` (atomically)."""
    book = Workbook()
    book.remove(book.active)
    _sheet(book, "Summary", *_overview(summary))
    _sheet(book, "By role", *_roles(summary))
    _sheet(book, "Pay for performance", *_deciles(summary))
    _sheet(book, "Comparisons", *_comparisons(summary))
    _sheet(book, "Sensitivity", *_sensitivity(summary))
    with atomic_path(path) as tmp:
        book.save(tmp)
    return path


def _overview(s):
    header = [
        "variant",
        "plan",
        "mean payout",
        "P5",
        "P50",
        "P95",
        "P99",
        "mean revenue",
        "cost of sales",
        "P(over budget)",
        "share at/above target",
        "top 10% / median",
        "Gini",
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
    header = ["variant", "plan", "role", "people", "mean", "P10", "P25", "P50", "P75", "P90"]
    rows = [
        [v, p, role, r["n_people"], r["mean"], r["p10"], r["p25"], r["p50"], r["p75"], r["p90"]]
        for v, plans in s["results"].items()
        for p, f in plans.items()
        for role, r in f["by_role"].items()
    ]
    return header, rows


def _deciles(s):
    header = ["variant", "plan", "attainment decile", "mean attainment", "mean payout"]
    rows = [
        [v, p, d["decile"], d["attainment_mean"], d["payout_mean"]]
        for v, plans in s["results"].items()
        for p, f in plans.items()
        for d in f["pay_for_performance"]
    ]
    return header, rows


def _comparisons(s):
    header = [
        "variant",
        "plan",
        "against",
        "mean difference",
        "CI 95% low",
        "CI 95% high",
        "P(costs more)",
        "cost of sales difference",
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
        "plan",
        "kind",
        "parameter",
        "change",
        "base cost",
        "cost at −change",
        "cost at +change",
        "swing",
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

"""report.html: one self-contained page (inline CSS and SVG, no scripts, nothing fetched)."""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np

from attain.report import svg

__all__ = ["render_html"]

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;max-width:1100px;
padding:24px;color:#111827;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid #e5e7eb}
p.lead{color:#4b5563;margin:0 0 16px}table{border-collapse:collapse;margin:8px 0 16px;width:100%}
th,td{padding:4px 8px;border-bottom:1px solid #e5e7eb;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f9fafb;font-weight:600}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px}.card{border:1px solid #e5e7eb;
border-radius:8px;padding:8px}svg.chart{width:100%;height:auto;font-size:11px;fill:#374151}
svg .grid{stroke:#e5e7eb}svg .axis{stroke:#9ca3af}svg .mark{stroke:#111827;stroke-dasharray:4 3}
svg .whisker{stroke:#111827;stroke-width:1.5}svg rect.low{fill:#60a5fa}svg rect.high{fill:#f97316}
.note{color:#6b7280;font-size:12px}
"""


def _money(x: float | None, currency: str = "") -> str:
    return "–" if x is None else f"{x:,.0f}{(' ' + currency) if currency else ''}"


def _pct(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{x * 100:.{digits}f}%"


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(result) -> str:
    """The report page of a :class:`~attain.simulate.SimulationResult`."""
    s = result.summary
    title = f"Scenario {s['scenario']}"
    sections = [
        f"<h1>{escape(title)}</h1>",
        f"<p class='lead'>{escape(s.get('description') or '')}</p>",
        f"<p class='note'>{escape(_facts(s))}</p>",
        "<h2>Cost and reach</h2>",
        _overview(s),
        "<div class='grid'>",
        f"<div class='card'>{_distribution_chart(result)}</div>",
        f"<div class='card'>{_comparison_chart(s)}</div>",
        "</div>",
        "<h2>Pay for performance</h2>",
        "<div class='grid'>",
        f"<div class='card'>{_pay_curve(s)}</div>",
        f"<div class='card'>{_roles(s)}</div>",
        "</div>",
        "<h2>Plan against plan (paired draws)</h2>",
        _comparisons(s),
        "<h2>What-ifs against the base case (paired draws)</h2>",
        _effects(s),
        "<h2>Sensitivity: what moves total cost</h2>",
        _sensitivity(s),
    ]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(sections)
        + "</body></html>\n"
    )


def _facts(s: dict[str, Any]) -> str:
    perf = s["performance"]
    return (
        f"{s.get('company', '')} · fiscal year {s.get('fiscal_year', '')} · {s['trials']:,} simulated "
        f"years · seed {s['seed']} · {s['n_reps_with_target']} reps with targets · attainment "
        f"{perf['distribution']} (mean {perf['mean']:g}, sd {perf['sd']:g}) · per-person figures "
        f"from the first {s['detail_trials']:,} trials"
    )


def _overview(s: dict[str, Any]) -> str:
    cur = s.get("currency", "")
    rows = []
    for variant, plans in s["results"].items():
        for plan, f in plans.items():
            budget = f.get("budget") or {}
            exceed = budget.get("p_exceed_cost_of_sales", budget.get("p_exceed_amount"))
            rows.append(
                [
                    variant,
                    plan,
                    _money(f["total_payout"]["mean"]),
                    _money(f["total_payout"]["p50"]),
                    _money(f["total_payout"]["p95"]),
                    _pct(f["cost_of_sales"]["mean"], 2),
                    _pct(exceed) if exceed is not None else "–",
                    _pct(f["share_at_target"]["mean"]),
                    "–"
                    if f["top_decile_vs_median"] is None
                    else f"{f['top_decile_vs_median']:.2f}×",
                    "–" if f["gini"] is None else f"{f['gini']:.3f}",
                ]
            )
    header = [
        "variant",
        "plan",
        f"mean payout ({cur})" if cur else "mean payout",
        "P50",
        "P95",
        "cost of sales",
        "P(over budget)",
        "at/above target",
        "top 10% ÷ median",
        "Gini",
    ]
    return _table(header, rows)


def _distribution_chart(result) -> str:
    frame = result.trials[result.trials["variant"] == "base"]
    series = {p: frame.loc[frame["plan"] == p, "total_payout"].to_numpy() for p in result.plans}
    return svg.histogram(series, "Distribution of total payout (base case)")


def _comparison_chart(s: dict[str, Any]) -> str:
    variants = list(s["results"])
    plans = [p["name"] for p in s["plans"]]
    series = {
        p: [
            (
                s["results"][v][p]["total_payout"]["mean"],
                s["results"][v][p]["total_payout"]["p5"],
                s["results"][v][p]["total_payout"]["p95"],
            )
            for v in variants
        ]
        for p in plans
    }
    return svg.bars(variants, series, "Total payout by plan and variant")


def _pay_curve(s: dict[str, Any]) -> str:
    series = {}
    for plan, f in s["results"]["base"].items():
        rows = f["pay_for_performance"]
        series[plan] = ([r["attainment_mean"] for r in rows], [r["payout_mean"] for r in rows])
    return svg.lines(
        series, "Pay curve: mean payout by attainment decile", "mean attainment of the decile"
    )


def _roles(s: dict[str, Any]) -> str:
    rows = []
    for plan, f in s["results"]["base"].items():
        for role, r in f["by_role"].items():
            rows.append(
                [
                    plan,
                    role,
                    str(r["n_people"]),
                    _money(r["p10"]),
                    _money(r["p50"]),
                    _money(r["p90"]),
                    _money(r["mean"]),
                ]
            )
    return "<p class='note'>Yearly payout per person, base case</p>" + _table(
        ["plan", "role", "people", "P10", "P50", "P90", "mean"], rows
    )


def _comparisons(s: dict[str, Any]) -> str:
    rows = []
    for variant, plans in s["comparisons"].items():
        for plan, c in plans.items():
            d = c["total_payout"]
            rows.append(
                [
                    variant,
                    f"{plan} − {s['baseline']}",
                    _money(d["mean"]),
                    f"{_money(d['ci95_low'])} … {_money(d['ci95_high'])}",
                    _pct(d["p_higher"]),
                    _pct(c["cost_of_sales"]["mean"], 2),
                ]
            )
    if not rows:
        return "<p class='note'>One plan: nothing to compare.</p>"
    return _table(
        ["variant", "difference", "mean", "95% CI", "P(costs more)", "cost of sales"], rows
    )


def _effects(s: dict[str, Any]) -> str:
    rows = []
    for variant, plans in s["variant_effects"].items():
        for plan, c in plans.items():
            d = c["total_payout"]
            rows.append(
                [
                    variant,
                    plan,
                    _money(d["mean"]),
                    f"{_money(d['ci95_low'])} … {_money(d['ci95_high'])}",
                    _pct(c["cost_of_sales"]["mean"], 2),
                ]
            )
    if not rows:
        return "<p class='note'>No variants in this scenario.</p>"
    return _table(
        ["variant", "plan", "change in mean payout", "95% CI", "change in cost of sales"], rows
    )


def _sensitivity(s: dict[str, Any]) -> str:
    rows = s.get("sensitivity") or []
    if not rows:
        return "<p class='note'>Sensitivity was not run.</p>"
    out = []
    for plan in [p["name"] for p in s["plans"]]:
        mine = [r for r in rows if r["plan"] == plan]
        step = mine[0]["change"] if mine else 0
        chart = svg.tornado(mine, f"{plan}: mean total payout at ±{step:.0%}")
        out.append(
            f"<div class='card'><p class='note'>{escape(plan)}: mean total payout with each "
            f"parameter {step:.0%} lower (blue) and higher (orange)</p>{chart}</div>"
        )
    table = _table(
        ["plan", "parameter", "kind", "−step", "+step", "swing"],
        [
            [
                r["plan"],
                r["parameter"],
                r["kind"],
                _money(r["cost_low"]),
                _money(r["cost_high"]),
                _money(r["swing"]),
            ]
            for r in rows
            if np.isfinite(r["swing"])
        ],
    )
    return "<div class='grid'>" + "".join(out) + "</div>" + table

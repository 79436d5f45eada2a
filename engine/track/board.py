"""The target board (board.html) and the tracking workbook (tracking.xlsx).

The board is one self-contained page (:mod:`attain.page`): headline figures, a
forecast chart per region (:mod:`attain.charts`), a progress bar per region and team
(actual to date against the year's target, with a mark where the phasing says it
should be by now), pace, the forecast interval, and the reps at risk; with expenses, the
expense against the budget per unit (red when more is spent than budgeted by now), with
activities, the activities logged against their targets.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from attain import charts
from attain.page import (
    Document,
    Figure,
    KeyFigure,
    KeyFigures,
    Markup,
    Paragraph,
    Section,
    Table,
    render,
)
from attain.xlsx import Styles, table, write_workbook

__all__ = ["board_html", "progress_bar", "write_xlsx"]

_TEAMS_SHOWN = 300
_RISK_SHOWN = 50


def progress_bar(
    actual: float, expected: float, target: float, width: int = 160, spend: bool = False
) -> Markup:
    """A bar: actual ÷ target filled (green at or above the phasing's mark, red below),
    the mark where the phasing puts the expected-to-date; up to 120% of target.
    ``spend``: a budget's bar, red above the mark (spent more than budgeted by now)."""
    h = 12
    top = 1.2
    share = actual / target if target > 0 else 0.0
    mark = expected / target if target > 0 else 0.0
    fill = max(0.0, min(share, top)) / top * width
    x = max(0.0, min(mark, top)) / top * width
    ahead = actual > expected if spend else actual < expected
    colour = "#b91c1c" if ahead else "#15803d"
    full = 1.0 / top * width
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" '
        f'viewBox="0 0 {width} {h}" role="img" aria-label="{share:.0%} of target">'
        f'<rect width="{width}" height="{h}" rx="3" fill="#e5e7eb"/>'
        f'<rect width="{fill:.1f}" height="{h}" rx="3" fill="{colour}"/>'
        f'<line x1="{full:.1f}" x2="{full:.1f}" y1="0" y2="{h}" stroke="#6b7280"/>'
        f'<line x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{h}" stroke="#111827" stroke-width="2"/>'
        "</svg>"
    )


def _amount(x: float) -> str:
    return f"{x:,.0f}"


def _pct(x: float) -> str:
    return "" if pd.isna(x) else f"{x:.0%}"


def _unit_rows(frame: pd.DataFrame, label_cols: list[str]) -> list[list]:
    rows = []
    for r in frame.to_dict("records"):
        rows.append(
            [
                *(str(r[c]) for c in label_cols),
                progress_bar(r["actual_to_date"], r["expected_to_date"], r["target"]),
                _amount(r["actual_to_date"]),
                _amount(r["target"]),
                _pct(r["pace"]),
                f"{_amount(r['forecast_p10'])} – {_amount(r['forecast_p90'])}",
                _amount(r["forecast_p50"]),
                _pct(r["p_target"]),
            ]
        )
    return rows


_HEAD = ["progress", "actual", "target", "pace", "forecast P10–P90", "P50", "P(target)"]


def board_html(result) -> str:
    """The target board of a :class:`~attain.track.result.Tracking` as one HTML page."""
    s = result.summary
    t = result.table
    cur = f" {result.currency}" if result.currency else ""
    c = s["company"]
    pace = c["pace"]
    keys = [
        KeyFigure(
            "Actual to date", f"{c['actual_to_date']:,.0f}{cur}", f"of {c['target']:,.0f} target"
        ),
        KeyFigure(
            "Pace",
            "—" if pace is None else f"{pace:.0%}",
            "actual ÷ expected by phasing",
            "" if pace is None else ("good" if pace >= 1 else "bad"),
        ),
        KeyFigure(
            "Year-end forecast (P50)",
            f"{c['forecast_p50']:,.0f}{cur}",
            f"P10 {c['forecast_p10']:,.0f} – P90 {c['forecast_p90']:,.0f}",
        ),
        KeyFigure(
            "Chance of target",
            f"{c['p_target']:.0%}",
            f"challenge {c['p_challenge']:.0%}",
            "good" if c["p_target"] >= 0.5 else "bad",
        ),
        KeyFigure(
            "Reps at risk",
            f"{s['n_at_risk']:,}",
            f"of {s['n_reps']:,}",
            "bad" if s["n_at_risk"] else "good",
        ),
    ]
    for p in s.get("payouts", []):
        keys.append(
            KeyFigure(
                f"Payout {p['plan']}",
                f"{p['forecast_p50']:,.0f}{cur}",
                f"earned to date {float(p['earned_to_date']):,.0f}; accrual "
                f"{p['accrual_to_date']:,.0f}",
            )
        )
    blocks: list = [KeyFigures(keys)]
    hierarchy = s["hierarchy"]
    if hierarchy:
        top = hierarchy[0]
        regions = t[t["level"] == top].sort_values("unit", kind="stable")
        groups = [str(u) for u in regions["unit"]]
        series = {
            "forecast P50 (P10–P90)": [
                (r["forecast_p50"], r["forecast_p10"], r["forecast_p90"])
                for r in regions.to_dict("records")
            ],
            "target": [(r["target"], r["target"], r["target"]) for r in regions.to_dict("records")],
        }
        chart = charts.bars(
            groups,
            series,
            f"Year-end forecast by {top}",
            ylabel=f"year-end sales{cur}, P10–P90 whiskers",
        )
        blocks.append(
            Section(
                f"By {top}",
                [
                    Figure(
                        chart, "Bars: the median forecast beside the target; whiskers: P10–P90."
                    ),
                    Table(
                        [top, *_HEAD], _unit_rows(regions, ["unit"]), align="llrrrrrr", compact=True
                    ),
                ],
            )
        )
        for level in hierarchy[1:]:
            units = t[t["level"] == level].sort_values(
                hierarchy[: hierarchy.index(level) + 1], kind="stable"
            )
            shown = units.head(_TEAMS_SHOWN)
            cols = hierarchy[: hierarchy.index(level) + 1]
            note = (
                [Paragraph(f"{_TEAMS_SHOWN} of {len(units)} shown; all are in tracking.csv.")]
                if len(units) > _TEAMS_SHOWN
                else []
            )
            blocks.append(
                Section(
                    f"By {level}",
                    [
                        Table(
                            [*cols, *_HEAD],
                            _unit_rows(shown, cols),
                            align="l" * len(cols) + "lrrrrrr",
                            compact=True,
                        ),
                        *note,
                    ],
                )
            )
    products = t[t["level"] == "product"]
    blocks.append(
        Section(
            "By product",
            [
                Table(
                    ["product", *_HEAD],
                    _unit_rows(products, ["unit"]),
                    align="llrrrrrr",
                    compact=True,
                )
            ],
        )
    )
    risk = result.at_risk.head(_RISK_SHOWN)
    rows = [
        [
            str(r["rep_id"]),
            *(str(r[c]) for c in hierarchy),
            _pct(r["pace"]),
            _amount(r["actual_to_date"]),
            _amount(r["target"]),
            _amount(r["forecast_p50"]),
            _pct(r["p_target"]),
        ]
        for r in risk.to_dict("records")
    ]
    blocks.append(
        Section(
            "Reps at risk",
            [
                Paragraph(
                    f"{s['n_at_risk']:,} rep(s) have less than a {s['at_risk_below']:.0%} chance "
                    f"of reaching their target"
                    + (
                        f"; the {_RISK_SHOWN} least likely are listed."
                        if len(result.at_risk) > _RISK_SHOWN
                        else "."
                    )
                ),
                Table(
                    ["rep", *hierarchy, "pace", "actual", "target", "forecast P50", "P(target)"],
                    rows,
                    align="l" * (1 + len(hierarchy)) + "rrrrr",
                    compact=True,
                ),
            ],
        )
    )
    blocks.extend(_expense_blocks(result, hierarchy, cur))
    blocks.extend(_activity_blocks(result, hierarchy))
    m = s["model"]
    blocks.append(
        Paragraph(
            f"Forecast: {s['trials']:,} draws (seed {s['seed']}) of the remaining months from each "
            f"rep's pace shrunk toward the team's and the company's (month-to-month noise "
            f"{m['sigma_month']:.0%}, spread of reps' pace {m['tau_rep']:.0%}); see docs/tracking.md."
        )
    )
    doc = Document(
        f"Target board at {s['as_of']}",
        blocks,
        lead=f"Fiscal year {s['fiscal_year']}: {s['year_elapsed']:.0%} of the year gone; "
        f"{s['n_reps']:,} reps.",
        facts="Progress bars: actual to date against the year's target; the black mark is "
        "where the target's own phasing puts the expected-to-date, the grey line 100%.",
    )
    return render(doc)


def _expense_blocks(result, hierarchy: list[str], cur: str) -> list:
    """Expenses against the budget, per level above the rep (with ``--expenses``)."""
    frame = result.expenses
    if frame is None:
        return []
    e = result.summary["expenses"]
    rate = "—" if e["expense_rate"] is None else f"{e['expense_rate']:.2%}"
    planned = "" if e["budget_rate"] is None else f"; budget {e['budget_rate']:.2%} of target"
    rows = []
    for r in frame[frame["level"].isin(["company", *hierarchy])].to_dict("records"):
        has = not pd.isna(r["budget"])
        rows.append(
            [
                str(r["level"]),
                str(r["unit"]),
                progress_bar(r["expense_to_date"], r["budget_to_date"], r["budget"], spend=True)
                if has and r["budget"] > 0
                else "",
                _amount(r["expense_to_date"]),
                _amount(r["budget_to_date"]) if has else "",
                _amount(r["budget"]) if has else "",
                "" if pd.isna(r["expense_rate"]) else f"{r['expense_rate']:.2%}",
                "" if pd.isna(r["budget_rate"]) else f"{r['budget_rate']:.2%}",
                "over" if r["over_budget"] else "",
            ]
        )
    return [
        Section(
            "Expenses",
            [
                Paragraph(
                    f"Expense to date {e['expense_to_date']:,.2f}{cur}, {rate} of sales{planned}. "
                    "Bars: expense against the year's budget; the mark is the budget to date "
                    "(red: spent more than budgeted by now)."
                ),
                Table(
                    [
                        "level",
                        "unit",
                        "",
                        "expense",
                        "budget to date",
                        "budget",
                        "rate",
                        "budget rate",
                        "",
                    ],
                    rows,
                    align="lllrrrrrl",
                    compact=True,
                ),  # fmt: skip
            ],
        )
    ]


def _activity_blocks(result, hierarchy: list[str]) -> list:
    """Activities against their weekly targets, the company's and the top level's."""
    frame = result.activities
    if frame is None:
        return []
    top = ["company", *hierarchy[:1]]
    rows = [
        [
            str(r["unit"]),
            str(r["activity"]),
            progress_bar(r["actual_to_date"], r["expected_to_date"], r["target"]),
            f"{r['actual_to_date']:,}",
            f"{r['expected_to_date']:,.0f}",
            f"{r['target']:,}",
            _pct(r["pace"]),
            f"{r['week_actual']:,} / {r['week_target']:,}",
        ]
        for r in frame[frame["level"].isin(top)].to_dict("records")
    ]
    week = result.summary["activities"]["week"]
    return [
        Section(
            "Activities",
            [
                Paragraph(
                    f"Activities logged against the weekly activity targets; this week is {week} "
                    "(Monday to the date). Per rep and team: activities.csv."
                ),
                Table(
                    ["unit", "activity", "", "logged", "due", "year", "pace", "this week"],
                    rows,
                    align="lllrrrrr",
                    compact=True,
                ),
            ],
        )
    ]


def write_xlsx(path: str | Path, result) -> Path:
    """tracking.xlsx: the tracking table and the at-risk list, formatted."""
    from attain.track.result import MONEY_COLUMNS, RATE_COLUMNS, _rounded

    styles = Styles(result.currency, result.decimals)
    kinds = {c: "money" for c in result.table.columns if c in MONEY_COLUMNS}
    kinds.update({c: "percent" for c in RATE_COLUMNS})
    sheets = [
        *table(
            "tracking", _rounded(result.table, result.decimals), kinds, styles, freeze_columns=2
        ),
        *table(
            "at risk", _rounded(result.at_risk, result.decimals), kinds, styles, freeze_columns=1
        ),
    ]
    if result.expenses is not None:
        money = {c: "money" for c in ("expense_to_date", "sales_to_date", "budget",
                                      "budget_to_date", "variance_to_date")}  # fmt: skip
        money.update({c: "percent" for c in ("expense_rate", "budget_rate", "budget_used")})
        sheets.extend(table("expenses", result.expenses, money, styles, freeze_columns=2))
    if result.activities is not None:
        rates = {c: "percent" for c in ("pace", "conversion_target", "conversion_actual")}
        sheets.extend(table("activities", result.activities, rates, styles, freeze_columns=2))
    return write_workbook(path, sheets, styles)

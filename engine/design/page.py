"""design.html: what the design chose, whether it holds out of sample, and the search."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from attain import charts
from attain.page import (
    Block,
    Code,
    Document,
    Figure,
    KeyFigure,
    KeyFigures,
    Paragraph,
    Section,
    Table,
    render,
)

if TYPE_CHECKING:
    from attain.design.result import DesignResult

__all__ = ["design_html"]


def _fmt(x: Any) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    x = float(x)
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.6g}"


def _limit(row: dict[str, Any]) -> str:
    parts = []
    if row.get("min") is not None:
        parts.append(f"≥ {_fmt(row['min'])}")
    if row.get("max") is not None:
        parts.append(f"≤ {_fmt(row['max'])}")
    return " and ".join(parts)


def design_html(result: DesignResult) -> str:
    s = result.summary
    out = s["out_of_sample"]
    by_name = {row["name"]: row for row in out["figures"]}
    met = [row for row in out["figures"] if "met" in row]
    n_met = sum(1 for row in met if row["met_at_confidence"])
    keys = [
        KeyFigure(p["name"], _fmt(p["chosen"]), f"was {_fmt(p['current'])}")
        for p in s["parameters"]
    ]
    objective = by_name["objective"]
    keys.append(
        KeyFigure(
            f"Objective ({s['objective']['measures']})",
            _fmt(objective["value"]),
            f"out of sample; current plan {_fmt(objective['current_plan'])}",
        )
    )
    if met:
        keys.append(
            KeyFigure(
                "Constraints held out of sample",
                f"{n_met} of {len(met)}",
                f"at {out['confidence']:.0%} confidence",
                "good" if n_met == len(met) else "bad",
            )
        )
    rows = [
        [
            row["name"],
            _limit(c),
            _fmt(c["in_sample"]),
            _fmt(by_name[row["name"]]["value"]),
            f"{_fmt(row['ci_low'])} – {_fmt(row['ci_high'])}",
            _fmt(c["current_plan_in_sample"]),
            "yes"
            if row["met_at_confidence"]
            else ("yes (not at confidence)" if row["met"] else "no"),
        ]
        for c, row in zip(s["constraints"], met, strict=True)
    ]
    blocks: list[Block] = [
        KeyFigures(keys),
        Section(
            "Constraints",
            [
                Table(
                    [
                        "Constraint",
                        "Limit",
                        "Search draws",
                        "Independent draws",
                        f"{out['confidence']:.0%} interval",
                        "Current plan",
                        "Met",
                    ],
                    rows,
                    align="llrrrrl",
                )
            ]
            if rows
            else [Paragraph("The design has no constraints.")],
            lead=f"Searched on {s['trials']:,} simulated years (seed {s['seed']}), checked on "
            f"{out['trials']:,} independent ones (seed {out['seed']}).",
        ),
        Section("The search", [*_chart(result), _points(result)]),
    ]
    doc = Document(
        f"Design {s['name']}",
        blocks,
        lead=s["description"] or f"Tuning `{s['plan']}` on the scenario {s['scenario']}.",
        facts=[
            f"{s['evaluations']:,} candidates simulated by {s['method']}; tuned plan ",
            Code(", ".join(s["tuned_files"])),
        ],
    )
    return render(doc)


def _chart(result: DesignResult) -> list[Figure]:
    points = [p for p in result.points if p.plan is not None and math.isfinite(p.objective)]
    if len(result.spec.parameters) == 1:
        label = result.spec.parameters[0].label
        ordered = sorted(points, key=lambda p: p.values)
        feasible = [p for p in ordered if p.feasible]
        series: dict[str, tuple[Sequence[float], Sequence[float]]] = {
            "every candidate": ([p.values[0] for p in ordered], [p.objective for p in ordered])
        }
        if feasible:
            series["meets the constraints"] = (
                [p.values[0] for p in feasible],
                [p.objective for p in feasible],
            )
        svg = charts.lines(series, "Objective by candidate", label, xfmt=_fmt, yfmt=_fmt)
        return [Figure(svg, f"The objective against {label} on the search's draws.")]
    front = result.front_table()
    if front.empty:
        return []
    svg = charts.lines(
        {"front": (list(front["cost_of_sales_mean"]), list(front["objective"]))},
        "Cost of sales against the objective",
        "mean cost of sales",
        yfmt=_fmt,
    )
    return [Figure(svg, "Candidates no other beats on both cost and the objective.")]


def _points(result: DesignResult) -> Table:
    sense = result.spec.objective.sense
    shown = sorted(
        (p for p in result.points if p.plan is not None),
        key=lambda p: (not p.feasible, -sense * p.objective, p.values),
    )[:15]
    labels = [p.label for p in result.spec.parameters]
    return Table(
        [*labels, "Objective", "Mean cost of sales", "Meets constraints"],
        [
            [
                *(_fmt(v) for v in p.values),
                _fmt(p.objective),
                f"{p.cost_of_sales:.2%}",
                "yes" if p.feasible else "no",
            ]
            for p in shown
        ],
        align="r" * (len(labels) + 2) + "l",
        caption="The best candidates simulated (at most 15).",
    )

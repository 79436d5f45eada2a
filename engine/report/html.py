"""report.html: the simulation, for the people who approve a plan.

The page opens with the answer — what each plan is expected to cost, what a bad year
(1 in 20) costs, how often it goes over budget, and who gains and who loses between
plans — then the charts (the budget drawn on them), the what-if cases, the side-by-side
differences and what moves the cost. Built on the shared page shell (:mod:`attain.page`)
and charts (:mod:`attain.charts`): one self-contained file, no scripts, nothing fetched.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from attain import charts
from attain.page import (
    Block,
    Bullets,
    Code,
    Document,
    Figure,
    Grid,
    KeyFigure,
    KeyFigures,
    Paragraph,
    Section,
    Strong,
    Table,
    plain,
    render,
)

__all__ = ["render_html", "report_document"]

_ASSUMPTIONS = {
    "mean": "typical attainment",
    "sd": "spread of attainment",
    "shocks.company": "market shock",
    "shocks.region": "regional shock",
    "shocks.team": "team shock",
    "bias_from_history": "carry-over of past results",
    "month_sd": "month-to-month noise",
}


def render_html(result) -> str:
    """The report page of a :class:`~attain.simulate.SimulationResult`."""
    return render(report_document(result.summary, result.trials))


def report_document(s: dict[str, Any], trials) -> Document:
    """The page as a :class:`~attain.page.Document` (``trials``: the per-trial table)."""
    r = _Report(s, trials)
    blocks: list[Block] = [r.summary()]
    if len(r.plans) > 1:
        blocks.append(r.gains())
    blocks += [r.cases(), r.differences(), r.sensitivity(), r.method()]
    return Document(
        title=f"{plain(s['scenario'])}: what the plans cost",
        lead=s.get("description") or "",
        facts=(
            f"{s.get('company', '')} · fiscal year {s.get('fiscal_year', '')} · "
            f"{s['n_reps_with_target']:,} reps with targets · {s['trials']:,} simulated years "
            f"(seed {s['seed']}) · amounts in {r.cur or 'the company currency'}"
        ),
        blocks=blocks,
    )


class _Report:
    def __init__(self, s: dict[str, Any], trials) -> None:
        self.s = s
        self.trials = trials
        self.cur = s.get("currency", "")
        self.plans = [p["name"] for p in s["plans"]]
        self.label = {p: plain(p) for p in self.plans}
        self.base = s["results"]["base"]
        self.baseline = s["baseline"]
        budgets = [f.get("budget") or {} for f in self.base.values()]
        self.budget = budgets[0] if budgets else {}

    # -- formatting -------------------------------------------------------------------
    def money(self, x: float | None) -> str:
        if x is None or not np.isfinite(x):
            return "–"
        return f"{x:,.0f} {self.cur}".rstrip()

    def num(self, x: float | None) -> str:
        """An amount in a table, whose header or caption names the currency."""
        return "–" if x is None or not np.isfinite(x) else f"{x:,.0f}"

    @property
    def in_cur(self) -> str:
        return f" ({self.cur})" if self.cur else ""

    def short(self, x: float) -> str:
        return f"{charts.money(x)} {self.cur}".rstrip()

    @staticmethod
    def pct(x: float | None, digits: int = 1) -> str:
        return "–" if x is None or not np.isfinite(x) else f"{x * 100:.{digits}f}%"

    def p_over(self, f: dict[str, Any]) -> float | None:
        b = f.get("budget") or {}
        values = [
            b[k] for k in ("p_exceed_cost_of_sales", "p_exceed_amount") if b.get(k) is not None
        ]
        return max(values) if values else None

    def budget_text(self) -> str:
        b = self.budget
        parts = []
        if b.get("cost_of_sales_limit") is not None:
            parts.append(
                f"incentive pay at most {self.pct(b['cost_of_sales_limit'], 2)} of revenue"
            )
        if b.get("amount_limit") is not None:
            parts.append(f"at most {self.money(b['amount_limit'])} a year")
        return " and ".join(parts)

    # -- sections ---------------------------------------------------------------------
    def summary(self) -> Section:
        keys = []
        for p in self.plans:
            f = self.base[p]
            t = f["total_payout"]
            over = self.p_over(f)
            keys.append(
                KeyFigure(
                    self.label[p],
                    self.money(t["mean"]),
                    f"expected cost a year · bad year (P95) {self.money(t['p95'])} · "
                    f"{self.pct(f['cost_of_sales']['mean'], 2)} of revenue"
                    + ("" if over is None else f" · over budget in {self.pct(over)} of years"),
                    tone="" if over is None else ("bad" if over > 0.05 else "good"),
                )
            )
        rows = [
            ["Expected cost a year", *(self.num(self.base[p]["total_payout"]["mean"]) for p in self.plans)],
            ["Cost in a bad year (P95: 1 year in 20 costs more)",
             *(self.num(self.base[p]["total_payout"]["p95"]) for p in self.plans)],
            ["Cost in a good year (P5)", *(self.num(self.base[p]["total_payout"]["p5"]) for p in self.plans)],
            ["Cost of sales (pay ÷ revenue), expected",
             *(self.pct(self.base[p]["cost_of_sales"]["mean"], 2) for p in self.plans)],
            ["Cost of sales in a bad year (P95)",
             *(self.pct(self.base[p]["cost_of_sales"]["p95"], 2) for p in self.plans)],
        ]  # fmt: skip
        if self.budget:
            rows.append(
                ["Chance of going over budget", *(self.pct(self.p_over(self.base[p])) for p in self.plans)]
            )  # fmt: skip
        rows += [
            ["Reps at or above target, expected",
             *(self.pct(self.base[p]["share_at_target"]["mean"]) for p in self.plans)],
            ["Top 10% of earners ÷ median earner",
             *(_times(self.base[p]["top_decile_vs_median"]) for p in self.plans)],
        ]  # fmt: skip
        table = Table(
            ["", *(self.label[p] for p in self.plans)],
            rows,
            caption="Base case, per simulated year"
            + (f", amounts in {self.cur}" if self.cur else ""),
        )
        return Section(
            "Summary",
            [
                KeyFigures(keys),
                Bullets(self.findings()),
                table,
                Grid([self.cost_chart(), self.ratio_chart()]),
            ],
            id="summary",
        )

    def findings(self) -> list:
        out: list = []
        base = self.base[self.baseline]
        if self.budget:
            out.append(["Budget: ", Strong(self.budget_text()), "."])
        else:
            out.append(
                "No budget is set in this scenario, so the chance of going over one is not "
                "computed (a scenario's budget is a cost-of-sales limit or an amount)."
            )
        for p in self.plans:
            f = self.base[p]
            over = self.p_over(f)
            line = [
                Strong(self.label[p]),
                f" is expected to cost {self.money(f['total_payout']['mean'])} a year; in a bad "
                f"year (1 in 20) {self.money(f['total_payout']['p95'])} or more",
            ]
            if over is not None:
                line.append(f"; it goes over budget in {self.pct(over)} of simulated years")
            out.append([*line, "."])
        for p in self.plans:
            if p == self.baseline:
                continue
            d = self.base[p]["total_payout"]["mean"] - base["total_payout"]["mean"]
            word = "more" if d > 0 else "less"
            out.append(
                [
                    Strong(self.label[p]),
                    f" costs {self.money(abs(d))} a year {word} than ",
                    Strong(self.label[self.baseline]),
                    f" ({self.pct(abs(d) / base['total_payout']['mean'])} {word})"
                    + self.gain_sentence(p)
                    + ".",
                ]
            )
        return out

    def gain_sentence(self, plan: str) -> str:
        """Who earns more and who earns less under ``plan`` than under the baseline."""
        a = self.base[self.baseline]["pay_for_performance"]
        b = self.base[plan]["pay_for_performance"]
        if not a or not b or len(a) != len(b):
            return ""
        diff = [y["payout_mean"] - x["payout_mean"] for x, y in zip(a, b, strict=True)]
        low, high = diff[0], diff[-1]

        def say(d: float) -> str:
            return f"{'earn' if d >= 0 else 'lose'} {self.money(abs(d))} {'more' if d >= 0 else ''}".rstrip()

        return f"; the lowest 10% of performers {say(low)} each on average, the top 10% {say(high)}"

    def cost_chart(self) -> Figure:
        frame = self.trials[self.trials["variant"] == "base"]
        series = {
            self.label[p]: frame.loc[frame["plan"] == p, "total_payout"].to_numpy()
            for p in self.plans
        }
        budget = None
        limit = self.budget.get("cost_of_sales_limit")
        if self.budget.get("amount_limit") is not None:
            budget = (
                f"budget {self.short(self.budget['amount_limit'])}",
                self.budget["amount_limit"],
            )
        elif limit is not None:
            # the limit is a share of revenue: drawn at the expected revenue
            at = limit * self.base[self.baseline]["revenue"]["mean"]
            budget = (f"budget ≈ {self.short(at)} ({self.pct(limit, 1)} of expected revenue)", at)
        return Figure(
            charts.histogram(
                series,
                "Total incentive cost per simulated year",
                f"total incentive cost a year ({self.cur})"
                if self.cur
                else "total incentive cost a year",
                budget=budget,
            ),
            "How often each cost comes up across the simulated years (base case)"
            + (", budget in red." if budget else "."),
        )

    def ratio_chart(self) -> Figure:
        frame = self.trials[self.trials["variant"] == "base"]
        series = {
            self.label[p]: frame.loc[frame["plan"] == p, "cost_of_sales"].to_numpy()
            for p in self.plans
        }
        limit = self.budget.get("cost_of_sales_limit")
        budget = None if limit is None else (f"budget {self.pct(limit, 1)}", limit)
        return Figure(
            charts.histogram(
                series,
                "Cost of sales per simulated year",
                "incentive pay as a share of revenue",
                fmt=charts.percent,
                budget=budget,
            ),
            "Incentive pay ÷ revenue in each simulated year (base case)"
            + (", budget in red." if budget else "."),
        )

    def gains(self) -> Section:
        blocks: list[Block] = []
        base = self.base[self.baseline]
        for p in self.plans:
            if p == self.baseline:
                continue
            f = self.base[p]
            roles = sorted(set(base["by_role"]) & set(f["by_role"]))
            rows = [
                [
                    plain(role),
                    f"{f['by_role'][role]['n_people']:,}",
                    self.num(base["by_role"][role]["p50"]),
                    self.num(f["by_role"][role]["p50"]),
                    _signed(f["by_role"][role]["p50"] - base["by_role"][role]["p50"], self.num),
                    _signed(f["by_role"][role]["mean"] - base["by_role"][role]["mean"], self.num),
                ]
                for role in roles
            ]
            blocks.append(
                Table(
                    [
                        "Role",
                        "People",
                        f"Median pay, {self.label[self.baseline]}",
                        f"Median pay, {self.label[p]}",
                        "Change in median pay",
                        "Change in average pay",
                    ],
                    rows,
                    caption=f"{self.label[p]} against {self.label[self.baseline]}, by role: yearly pay "
                    f"per person{self.in_cur}",
                )  # fmt: skip
            )
            deciles = zip(base["pay_for_performance"], f["pay_for_performance"], strict=False)
            rows = [
                [
                    _decile(int(x["decile"]), len(base["pay_for_performance"])),
                    self.pct(x["attainment_mean"], 0),
                    self.num(x["payout_mean"]),
                    self.num(y["payout_mean"]),
                    _signed(y["payout_mean"] - x["payout_mean"], self.num),
                ]
                for x, y in deciles
            ]
            blocks.append(
                Table(
                    [
                        "Performers",
                        "Average attainment",
                        f"Average pay, {self.label[self.baseline]}",
                        f"Average pay, {self.label[p]}",
                        "Change",
                    ],
                    rows,
                    caption=f"{self.label[p]} against {self.label[self.baseline]}, by how well reps "
                    f"perform: yearly pay per person{self.in_cur}",
                )  # fmt: skip
            )
        blocks.append(
            Figure(
                self.pay_curve(),
                "Average pay of each tenth of reps, ranked by attainment (base case).",
            )
        )
        return Section(
            "Who gains and who loses",
            blocks,
            id="gains",
            lead="The same simulated years paid under each plan: what changes for each group of reps.",
        )

    def pay_curve(self):
        series = {}
        for p in self.plans:
            rows = self.base[p]["pay_for_performance"]
            series[self.label[p]] = (
                [r["attainment_mean"] for r in rows],
                [r["payout_mean"] for r in rows],
            )
        return charts.lines(
            series, "Pay for performance", "average attainment of each tenth of reps"
        )

    def cases(self) -> Section:
        variants = {v["name"]: v.get("description") or "" for v in self.s["variants"]}
        rows = []
        for v in variants:
            for p in self.plans:
                f = self.s["results"][v][p]
                effect = (self.s["variant_effects"].get(v) or {}).get(p)
                rows.append(
                    [
                        _case(v),
                        self.label[p],
                        self.num(f["total_payout"]["mean"]),
                        self.num(f["total_payout"]["p95"]),
                        self.pct(f["cost_of_sales"]["mean"], 2),
                        self.pct(self.p_over(f)) if self.budget else "–",
                        self.pct(f["share_at_target"]["mean"]),
                        "–"
                        if effect is None
                        else _signed(effect["total_payout"]["mean"], self.num),
                    ]
                )
        blocks: list[Block] = []
        described = [[Strong(_case(v)), f": {d}"] for v, d in variants.items() if d]
        if described:
            blocks.append(Bullets(described))
        blocks.append(
            Table(
                [
                    "Case",
                    "Plan",
                    f"Expected cost{self.in_cur}",
                    "Bad year (P95)",
                    "Cost of sales",
                    "Over budget",
                    "Reps at target",
                    "Change against the base case",
                ],
                rows,
                align="llrrrrrr",
                compact=True,
            )  # fmt: skip
        )
        if len(variants) > 1:
            blocks.append(self.cases_chart(list(variants)))
        return Section(
            "What if",
            blocks,
            id="cases",
            lead="Each case is run on the same simulated years as the base case, so the "
            "differences come from the case alone.",
        )

    def cases_chart(self, variants: list[str]) -> Figure:
        limit = self.budget.get("cost_of_sales_limit")
        key, fmt, budget = "total_payout", charts.money, None
        what = "expected total incentive cost"
        if limit is not None:
            key, fmt, budget = (
                "cost_of_sales",
                charts.percent,
                (f"budget {self.pct(limit, 1)}", limit),
            )
            what = "expected cost of sales"
        elif self.budget.get("amount_limit") is not None:
            budget = (
                f"budget {self.short(self.budget['amount_limit'])}",
                self.budget["amount_limit"],
            )
        series = {
            self.label[p]: [
                (
                    self.s["results"][v][p][key]["mean"],
                    self.s["results"][v][p][key]["p5"],
                    self.s["results"][v][p][key]["p95"],
                )
                for v in variants
            ]
            for p in self.plans
        }
        chart = charts.bars(
            [_case(v) for v in variants],
            series,
            f"{what[0].upper()}{what[1:]} by case",
            f"{what}; the line spans 90% of simulated years",
            fmt=fmt,
            budget=budget,
        )
        return Figure(
            chart, "Bars: the expected value; whiskers: from a good year (P5) to a bad year (P95)."
        )

    def differences(self) -> Section:
        rows = []
        order = [v["name"] for v in self.s["variants"]]
        for v in sorted(
            self.s["comparisons"],
            key=lambda v: (v not in order, order.index(v) if v in order else 0, v),
        ):
            for p, c in self.s["comparisons"][v].items():
                d = c["total_payout"]
                rows.append(
                    [
                        _case(v),
                        self.label[p],
                        _signed(d["mean"], self.num),
                        f"{_signed(d['ci95_low'], self.num)} to {_signed(d['ci95_high'], self.num)}",
                        self.pct(d["p_higher"]),
                        _signed(c["cost_of_sales"]["mean"] * 100, lambda x: f"{x:.2f} points"),
                    ]
                )
        if not rows:
            return Section(
                "Plan against plan", [Paragraph("One plan: nothing to compare.", note=True)]
            )
        return Section(
            "Plan against plan",
            [
                Table(
                    [
                        "Case",
                        "Plan",
                        f"Costs more (+) or less (−) than {self.label[self.baseline]}, "
                        f"a year{self.in_cur}",
                        "95% confidence range",
                        "Chance it costs more",
                        "Difference in cost of sales",
                    ],
                    rows,
                    align="llrrrr",
                    compact=True,
                ),  # fmt: skip
                Paragraph(
                    "Both plans are paid on the same simulated years, so the range reflects the "
                    "plans' difference, not the luck of the draw.",
                    note=True,
                ),
            ],
            id="differences",
        )

    def sensitivity(self) -> Section:
        rows = self.s.get("sensitivity") or []
        if not rows:
            return Section(
                "What moves the cost", [Paragraph("Not run for this scenario.", note=True)]
            )
        charts_ = []
        for p in self.plans:
            mine = [dict(r, label=_parameter(r)) for r in rows if r["plan"] == p]
            step = mine[0]["change"] if mine else 0
            charts_.append(
                Figure(
                    charts.tornado(
                        mine, f"{self.label[p]}: expected cost with one input moved ±{step:.0%}"
                    ),
                    f"{self.label[p]}: each input {step:.0%} lower (blue) and {step:.0%} higher (orange).",
                )
            )
        table = Table(
            [
                "Plan",
                "Input",
                "Input is",
                f"Expected cost, input lower{self.in_cur}",
                "Input higher",
                "Spread",
            ],
            [
                [
                    self.label[r["plan"]],
                    _parameter(r),
                    "an assumption" if r["kind"] == "assumption" else "a plan setting",
                    self.num(r["cost_low"]),
                    self.num(r["cost_high"]),
                    self.num(r["swing"]),
                ]
                for r in rows
                if r["swing"] is not None and np.isfinite(r["swing"])
            ],
            align="lllrrr",
        )
        return Section(
            "What moves the cost",
            [Grid(charts_), table],
            id="sensitivity",
            lead="The inputs whose error would change the expected cost most, largest first.",
        )

    def names(self) -> list:
        """Each plan and case as its file names it, to find it again."""
        out: list = ["Plans as their files name them: "]
        for i, p in enumerate(self.plans):
            out += [", " if i else "", self.label[p], " ", Code(p)]
            if p == self.baseline:
                out.append(" (the baseline the others are compared with)")
        cases = [v["name"] for v in self.s["variants"] if v["name"] != "base"]
        if cases:
            out.append("; cases: ")
            for i, v in enumerate(cases):
                out += [", " if i else "", _case(v), " ", Code(v)]
        out.append(".")
        return out

    def method(self) -> Section:
        perf = self.s["performance"]
        return Section(
            "How these figures were made",
            [
                Paragraph(
                    f"Each simulated year draws every rep's attainment ({perf['distribution']}, "
                    f"typically {perf['mean']:.0%} of target, give or take {perf['sd']:.0%}) and pays "
                    f"it under each plan exactly as the plan file says. Per-person figures come from "
                    f"the first {self.s['detail_trials']:,} simulated years. P5, P50 and P95 are the "
                    "values 5%, 50% and 95% of simulated years stay under.",
                    note=True,
                ),
                Paragraph(self.names(), note=True),
            ],
            id="method",
        )


def _times(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}×"


def _signed(x: float | None, fmt) -> str:
    if x is None or not np.isfinite(x):
        return "–"
    text = fmt(abs(x))
    return text if abs(x) < 0.5e-9 else ("+" if x > 0 else "−") + text


def _case(name: str) -> str:
    return "Base case" if name == "base" else plain(name)


def _decile(d: int, n: int) -> str:
    if n != 10:
        return f"Group {d} of {n}"
    if d == 1:
        return "Lowest 10%"
    if d == n:
        return "Top 10%"
    return f"{(d - 1) * 10}–{d * 10}%"


def _parameter(row: dict[str, Any]) -> str:
    name = str(row["parameter"])
    if row.get("kind") == "assumption":
        return _ASSUMPTIONS.get(name, plain(name))
    return plain(name.replace(".", " "))

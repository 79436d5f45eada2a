"""Several plans per person (a rep plan plus a product overlay): one run, one set of files.

Each plan is computed on its own by the exact path (its own credit rules, periods,
true-ups and caps: plans do not interact), then the results are put side by side:
``payouts.csv`` gains a ``plan`` column, ``statements.csv`` too, and each person's
statement shows every plan they take part in, one section per plan, with their total.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from attain.incentive.result import Payouts, format_minor, write_statement
from attain.output import safe_filename, write_csv, write_json

__all__ = ["CombinedPayouts"]


@dataclass(frozen=True)
class CombinedPayouts:
    """The payouts of several plans for the same people, in the order given."""

    results: tuple[Payouts, ...]

    @property
    def plans(self) -> tuple[str, ...]:
        return tuple(r.compiled.name for r in self.results)

    @property
    def notices(self) -> tuple:
        """Every plan's warnings, in plan order."""
        return tuple(n for r in self.results for n in r.notices)

    def __getitem__(self, plan: str) -> Payouts:
        return self.results[self.plans.index(plan)]

    @property
    def lines(self) -> pd.DataFrame:
        """Every plan's lines, with a ``plan`` column first."""
        return pd.concat(
            [
                r.lines.astype({"period": str, "component": str}).assign(plan=r.compiled.name)
                for r in self.results
            ],
            ignore_index=True,
        )[["plan", *self.results[0].lines.columns]]

    def payouts_table(self) -> pd.DataFrame:
        """``plan, rep_id, period, component, amount`` (amount as exact text)."""
        return pd.concat(
            [_with_plan(r.payouts_table(), r.compiled.name) for r in self.results],
            ignore_index=True,
        )

    def statement_lines(self) -> pd.DataFrame:
        return pd.concat(
            [_with_plan(r.statement_lines(), r.compiled.name) for r in self.results],
            ignore_index=True,
        )

    def statement(self, rep_id: str) -> str:
        """One person's statement: a section per plan they take part in, then the total."""
        return self._statements([r.statement_lines() for r in self.results], [rep_id])[rep_id]

    def _statements(self, tables: list[pd.DataFrame], people=None) -> dict[str, str]:
        """Each person's statement (``people``; default everyone), every plan's texts made
        in one pass per plan."""
        return {p: text for p, (text, _) in self._records(tables, people).items()}

    def _records(self, tables: list[pd.DataFrame], people=None) -> dict:
        """Each person's combined Markdown and (record per plan, total text)."""
        from attain.incentive.statements import _money, statement_markdown_of, statement_records

        everyone = people is None
        if everyone:
            people = pd.unique(pd.concat([r.totals["rep_id"] for r in self.results]))
        records, paid = [], []
        for r, table in zip(self.results, tables, strict=True):
            takes_part = set(r.totals["rep_id"])
            mine = [p for p in people if p in takes_part]
            rows = table if everyone else table[table["rep_id"].isin(mine)]
            records.append(statement_records(r, rows, mine))
            paid.append(r.totals.groupby("rep_id")["payable_minor"].sum().to_dict())
        units = self.results[0].compiled.minor_unit
        out = {}
        for person in people:
            parts, total, mine = [f"# Statements: {person}", ""], 0, []
            for r, plan_records, payable in zip(self.results, records, paid, strict=True):
                if person not in plan_records:
                    continue
                mine.append(plan_records[person])
                body = statement_markdown_of(plan_records[person]).splitlines()[1:]
                parts += [f"## Plan `{r.compiled.name}`", *_demote(body), ""]
                total += int(payable[person])
                units = r.compiled.minor_unit
            money = f"{_money(total, units)} {self.results[0].currency}".rstrip()
            parts.append(f"**Payable in all plans this year: {money}**\n")
            out[person] = ("\n".join(parts), (mine, money))
        return out

    @property
    def summary(self) -> dict[str, Any]:
        units = self.results[0].compiled.minor_unit
        total = sum(int(r.totals["payable_minor"].sum()) for r in self.results)
        people = set().union(*(set(r.totals["rep_id"]) for r in self.results))
        return {
            "plans": [r.summary for r in self.results],
            "n_participants": len(people),
            "n_lines": sum(len(r.lines) for r in self.results),
            "currency": self.results[0].currency,
            "total_payout": format_minor(np.array([total]), units).iloc[0],
        }

    def write(self, out: str | Path, statements: bool = True, html: bool = False) -> list[Path]:
        """payouts.csv and statements.csv with a ``plan`` column, one statement per person
        covering all their plans (``html``: also as a printable page), and summary.json (per
        plan and in all)."""
        out = Path(out)
        written = [write_csv(out / "payouts.csv", self.payouts_table())]
        if statements:
            tables = [r.statement_lines() for r in self.results]
            joined = pd.concat(
                [_with_plan(t, r.compiled.name) for t, r in zip(tables, self.results, strict=True)],
                ignore_index=True,
            )
            written.append(write_csv(out / "statements.csv", joined))
            for name, frames in (
                (
                    "credited_deals.csv",
                    [r.credited_deals().drop(columns="credit_minor") for r in self.results],
                ),
                (
                    "statement_deals.csv",
                    [
                        r.deal_breakdown().drop(columns=["credit_minor", "amount_minor"])
                        for r in self.results
                    ],
                ),
            ):
                both = pd.concat(
                    [
                        _with_plan(f, r.compiled.name)
                        for f, r in zip(frames, self.results, strict=True)
                    ],
                    ignore_index=True,
                )
                written.append(write_csv(out / name, both))
            for rep_id, (text, (mine, money)) in self._records(tables).items():
                page = None
                if html:
                    from attain.incentive.statement_html import statement_html

                    page = statement_html(mine, money)
                written += write_statement(out / "statements" / safe_filename(rep_id), text, page)
        written.append(write_json(out / "summary.json", self.summary))
        return written


def _with_plan(table: pd.DataFrame, plan: str) -> pd.DataFrame:
    table = table.copy()
    table.insert(0, "plan", plan)
    return table


def _demote(lines: list[str]) -> list[str]:
    """Headings one level down, so a plan's statement sits under its plan heading."""
    return ["#" + line if line.startswith("#") else line for line in lines]

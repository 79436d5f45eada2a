"""Several plans per person (a rep plan plus a product overlay): one run, one set of files.

Each plan is computed on its own by the exact path (its own credit rules, periods,
true-ups and caps: plans do not interact), then the results are put side by side:
``payouts.csv`` gains a ``plan`` column, ``statements.csv`` too, and each person's
statement shows every plan they take part in, one section per plan, with their total.

A :class:`CombinedPayouts` is a :class:`~attain.incentive.result.Payouts`: the same
protocol, tables and methods, each table with a ``plan`` column first; ``parts`` (or
``result[plan]``) gives each plan's own result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from attain.incentive.result import Payouts, PayoutsSummary, format_minor, write_statements
from attain.output import write_csv, write_json
from attain.progress import Progress
from attain.result import Summary

__all__ = ["CombinedPayouts", "CombinedPayoutsSummary"]


@dataclass(frozen=True)
class CombinedPayoutsSummary(Summary):
    """summary.json of several plans paid together: each plan's, and the whole."""

    plans: list[PayoutsSummary]
    n_participants: int
    n_lines: int
    currency: str
    total_payout: str


@dataclass(frozen=True)
class CombinedPayouts(Payouts):
    """The payouts of several plans for the same people, in the order given.

    Made with :meth:`of`. ``compiled`` is the first plan's (each plan's own is
    ``result[plan].compiled``); ``lines`` and ``totals`` hold every plan's rows with a
    ``plan`` column first.
    """

    results: tuple[Payouts, ...] = field(default=(), repr=False)

    @classmethod
    def of(cls, results: tuple[Payouts, ...] | list[Payouts]) -> CombinedPayouts:
        results = tuple(results)
        if not results:
            raise ValueError("CombinedPayouts needs at least one plan's payouts")
        first = results[0]
        units = first.compiled.minor_unit
        total = sum(int(r.totals["payable_minor"].sum()) for r in results)
        people = set().union(*(set(r.totals["rep_id"]) for r in results))
        summary = CombinedPayoutsSummary(
            plans=[r.summary for r in results],
            n_participants=len(people),
            n_lines=sum(len(r.lines) for r in results),
            currency=first.currency,
            total_payout=format_minor(np.array([total]), units).iloc[0],
        )
        return cls(
            compiled=first.compiled,
            lines=_joined([r.lines for r in results], results),
            totals=_joined([r.totals for r in results], results),
            summary=summary,
            currency=first.currency,
            notices=tuple(n for r in results for n in r.notices),
            results=results,
        )

    @property
    def plan(self):
        """The first plan as loaded (each plan's: ``result[plan].plan``)."""
        return self.results[0].plan

    @property
    def plans(self) -> tuple[str, ...]:
        return tuple(r.compiled.name for r in self.results)

    @property
    def parts(self) -> tuple[Payouts, ...]:
        return self.results

    @property
    def rep_ids(self) -> list[str]:
        return [str(r) for r in pd.unique(pd.concat([r.totals["rep_id"] for r in self.results]))]

    def payouts_table(self) -> pd.DataFrame:
        """``plan, rep_id, period, component, amount`` (amount as exact Decimal objects)."""
        return pd.concat(
            [_with_plan(r.payouts_table(), r.compiled.name) for r in self.results],
            ignore_index=True,
        )

    def _payouts_text(self) -> pd.DataFrame:
        return pd.concat(
            [_with_plan(r._payouts_text(), r.compiled.name) for r in self.results],
            ignore_index=True,
        )

    def explanation(self, internal: bool = False) -> pd.DataFrame:
        """Every plan's explanation record, with a ``plan`` column first."""
        return pd.concat(
            [_with_plan(r.explanation(internal), r.compiled.name) for r in self.results],
            ignore_index=True,
        )

    def to_dict(self) -> dict[str, Any]:
        """The summary and each plan's totals and lines as JSON-ready data."""
        return {
            "summary": self.summary.to_dict(),
            "plans": {r.compiled.name: r.to_dict() for r in self.results},
        }

    def statement_lines(self) -> pd.DataFrame:
        return pd.concat(
            [_with_plan(r.statement_lines(), r.compiled.name) for r in self.results],
            ignore_index=True,
        )

    def statement(self, rep_id: str) -> str:
        """One person's statement: a section per plan they take part in, then the total."""
        self._check_rep(rep_id)
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

    def write_files(
        self,
        out: Path,
        statements: bool = True,
        html: bool = False,
        progress: Progress | None = None,
        xlsx: bool = False,
    ) -> list[Path]:
        """payouts.csv and statements.csv (the explanation record) with a ``plan`` column,
        one statement per person
        covering all their plans (``html``: also as a printable page), and summary.json (per
        plan and in all); ``xlsx`` is taken for the one-plan signature's sake: the workbook
        is written for one plan at a time."""
        out = Path(out)
        written = [write_csv(out / "payouts.csv", self._payouts_text())]
        if statements:
            # statements.csv is the explanation record, as for one plan: every line's
            # parts, with the plan first (they add up to payouts.csv's amounts exactly).
            written.append(write_csv(out / "statements.csv", self.explanation()))
            tables = [r.statement_lines() for r in self.results]
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
            from attain.incentive.statement_html import statement_html

            pages = {
                rep_id: (text, statement_html(mine, money) if html else None)
                for rep_id, (text, (mine, money)) in self._records(tables).items()
            }
            written += write_statements(out / "statements", pages, progress)
        written.append(write_json(out / "summary.json", self.summary.to_dict()))
        return written


def _joined(tables: list[pd.DataFrame], results: tuple[Payouts, ...]) -> pd.DataFrame:
    """The plans' tables one under the other, with a ``plan`` column first."""
    return pd.concat(
        [
            _with_plan(
                t.astype({c: str for c in ("period", "component") if c in t}), r.compiled.name
            )
            for t, r in zip(tables, results, strict=True)
        ],
        ignore_index=True,
    )


def _with_plan(table: pd.DataFrame, plan: str) -> pd.DataFrame:
    table = table.copy()
    table.insert(0, "plan", plan)
    return table


def _demote(lines: list[str]) -> list[str]:
    """Headings one level down, so a plan's statement sits under its plan heading."""
    return ["#" + line if line.startswith("#") else line for line in lines]

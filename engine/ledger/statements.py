"""Statements from the ledger: each rep's lines of a period with their status, holds,
adjustments and manual lines, and the parts that explain each amount.

Everything comes from the ledger (lines, their state and events, holds, manual
adjustments, the stored explanation parts and the deals an adjustment names), never
from a recomputation: a statement of a paid period reads the same whatever the plan
files and data have become since.

A line's **status** is ``paid``, ``held`` (an active hold stops its payment; the hold's
reason is shown), ``approved`` or ``calculated``.

Files (:meth:`LedgerStatements.write`): ``lines.csv`` (one row per line: status, hold
reason, kind, the period an adjustment corrects, its cause and the deals it names, a
manual line's reason code and author), ``statements.csv`` (one row per part of every
line; a line's parts add up to its amount) and ``statements/<rep>.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from attain.notices import Notice
from attain.result import ResultFiles, Summary

__all__ = [
    "LINE_COLUMNS",
    "PART_COLUMNS",
    "LedgerStatements",
    "StatementsSummary",
    "parts_table",
    "status",
]

LINE_COLUMNS = (
    "line_id",
    "rep_id",
    "period",
    "plan",
    "component",
    "kind",
    "for_period",
    "amount",
    "status",
    "hold_reason",
    "reason_code",
    "author",
    "cause",
    "deals",
    "run_id",
)
PART_COLUMNS = (
    "line_id",
    "rep_id",
    "period",
    "component",
    "kind",
    "for_period",
    "status",
    "part",
    "measure",
    "from",
    "to",
    "base",
    "rate",
    "amount",
)


def status(lines: pd.DataFrame) -> np.ndarray:
    """``paid``, ``held``, ``approved`` or ``calculated`` per line (``lines`` has
    ``state`` and ``held``)."""
    state = lines["state"].astype(str).to_numpy()
    held = lines["held"].to_numpy(dtype=bool)
    return np.where(state == "paid", "paid", np.where(held, "held", state))


@dataclass(frozen=True)
class StatementsSummary(Summary):
    """summary.json of ``attain ledger statements``: the period's lines by status, with
    totals as exact text in the ledger's currency."""

    period: str
    currency: str
    ledger: str
    n_lines: int
    n_reps: int
    n_held: int
    total: str
    by_status: dict[str, str]


@dataclass(frozen=True)
class LedgerStatements(ResultFiles):
    """A period's statements as the ledger holds them: ``lines`` (:data:`LINE_COLUMNS`,
    amounts as exact text, with ``amount_minor`` and ``minor_unit``) and ``parts``
    (:data:`PART_COLUMNS`, ``from``/``to`` named ``from_value``/``to_value``).

    Follows the result protocol (:mod:`attain.result`): ``summary``, ``frames``,
    ``to_json()`` and ``write(out)`` (lines.csv, statements.csv, statements/<rep>.md and
    summary.json, as one transaction)."""

    kind: ClassVar[str] = "ledger-statements"

    period: str
    currency: str
    lines: pd.DataFrame
    parts: pd.DataFrame
    ledger: str = ""
    notices: tuple[Notice, ...] = field(default=())

    @property
    def summary(self) -> StatementsSummary:
        unit = int(self.lines["minor_unit"].iloc[0]) if len(self.lines) else 2
        minor = self.lines["amount_minor"].astype(np.int64)
        by_status = minor.groupby(self.lines["status"].astype(str), sort=True).sum()
        return StatementsSummary(
            period=self.period,
            currency=self.currency,
            ledger=self.ledger,
            n_lines=len(self.lines),
            n_reps=len(self.rep_ids()),
            n_held=int((self.lines["status"] == "held").sum()),
            total=_money(int(minor.sum()), unit),
            by_status={str(k): _money(int(v), unit) for k, v in by_status.items()},
        )

    @property
    def frames(self) -> Mapping[str, pd.DataFrame]:
        return {"lines": self.lines[list(LINE_COLUMNS)], "parts": parts_table(self.parts)}

    def rep_ids(self) -> list[str]:
        return sorted(set(self.lines["rep_id"].astype(str)))

    def markdown(self, rep_id: str) -> str:
        """One rep's statement (Markdown)."""
        lines = self.lines[self.lines["rep_id"] == rep_id]
        parts = self.parts[self.parts["rep_id"] == rep_id]
        cur = f" {self.currency}" if self.currency else ""
        out = [f"# Statement — {rep_id}, period {self.period}", ""]
        out.append(f"From the ledger {self.ledger}." if self.ledger else "From the ledger.")
        out.append("")
        out += [
            "| line | component | kind | for period | amount | status | note |",
            "| ---: | --- | --- | --- | ---: | --- | --- |",
        ]
        for row in lines.itertuples(index=False):  # one rep's lines: a statement, not a hot path
            note = _note(row)
            out.append(
                f"| {row.line_id} | {row.component} | {row.kind} | "
                f"{row.for_period if row.kind != 'regular' else ''} | {row.amount}{cur} | "
                f"{row.status} | {_cell(note)} |"
            )
        out.append("")
        by_status = lines.groupby("status", sort=True)["amount_minor"].sum()
        total = int(lines["amount_minor"].sum())
        unit = int(lines["minor_unit"].iloc[0]) if len(lines) else 2
        out.append(
            f"**Total {_money(total, unit)}{cur}** — "
            + ", ".join(f"{s} {_money(int(v), unit)}" for s, v in by_status.items())
        )
        for row in lines.itertuples(index=False):
            out += [
                "",
                f"## Line {row.line_id}: {row.component} ({_kind(row)}) — {row.amount}{cur}",
            ]
            out.append("")
            out.append(
                f"Status: {row.status}" + (f" ({row.hold_reason})" if row.hold_reason else "")
            )
            if row.kind == "adjustment" and row.cause:
                out += ["", f"Cause: {row.cause}"]
            if row.kind == "manual":
                out += ["", f"Manual adjustment, reason code {row.reason_code}, by {row.author}."]
            mine = parts[parts["line_id"] == row.line_id]
            if len(mine):
                out += [
                    "",
                    "| part | measure | from | to | base | rate | amount |",
                    "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
                ]
                for p in mine.itertuples(index=False):
                    cells = [p.part, p.measure, p.from_value, p.to_value, p.base, p.rate, p.amount]
                    out.append("| " + " | ".join(_cell(str(c)) for c in cells) + " |")
        return "\n".join(out) + "\n"

    def write_files(self, folder: str | Path) -> list[Path]:
        """``lines.csv``, ``statements.csv``, ``statements/<rep>.md`` and
        ``summary.json`` into ``folder`` (use :meth:`write` for the transaction)."""
        from attain.output import safe_filename, write_csv, write_text

        out = Path(folder)
        written = [
            write_csv(out / "lines.csv", self.lines[list(LINE_COLUMNS)]),
            write_csv(out / "statements.csv", parts_table(self.parts)),
            write_text(out / "summary.json", self.to_json()),
        ]
        for rep in self.rep_ids():
            path = out / "statements" / f"{safe_filename(rep)}.md"
            written.append(write_text(path, self.markdown(rep)))
        return written


def parts_table(parts: pd.DataFrame) -> pd.DataFrame:
    """The parts as ``statements.csv`` has them (:data:`PART_COLUMNS`)."""
    renamed = parts.rename(columns={"from_value": "from", "to_value": "to"})
    return renamed[list(PART_COLUMNS)]


def _kind(row) -> str:
    if row.kind == "adjustment":
        return f"adjustment for {row.for_period}"
    return str(row.kind)


def _note(row) -> str:
    notes = []
    if row.status == "held":
        notes.append(f"held: {row.hold_reason}")
    if row.kind == "manual":
        notes.append(f"{row.reason_code} by {row.author}")
    if row.kind == "adjustment":
        notes.append(row.deals or row.cause)
    return "; ".join(n for n in notes if n)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _money(minor: int, unit: int) -> str:
    from attain.incentive.result import format_minor

    return str(format_minor(np.array([minor]), unit).iloc[0])

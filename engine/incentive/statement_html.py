"""A statement as a printable web page, from its record, on :mod:`attain.page`.

The page renders the same :class:`~attain.incentive.statements.StatementRecord` the
Markdown does: the header (name, role, team, plan, version), the year's total, one
section per period with its lines (rule, amount, how) and what is payable now, the
credited deals and, for deal and cumulative scopes, what each deal earned. One
self-contained document (its own style sheet; no scripts, fonts or images to fetch),
every piece of text escaped by :mod:`attain.page`.
"""

from __future__ import annotations

from collections.abc import Sequence

from attain.incentive.statements import BY_DEAL_HEADER, StatementRecord
from attain.page import (
    Block,
    Code,
    Document,
    KeyFigure,
    KeyFigures,
    Paragraph,
    Section,
    Strong,
    Table,
    render,
)

__all__ = ["statement_document", "statement_html"]


def statement_html(
    records: StatementRecord | Sequence[StatementRecord], total: str | None = None
) -> str:
    """The page of one person's statement: one record, or one per plan they take part in
    (then each plan is a section and ``total`` is what all plans pay this year)."""
    return render(statement_document(records, total))


def statement_document(
    records: StatementRecord | Sequence[StatementRecord], total: str | None = None
) -> Document:
    """The :class:`attain.page.Document` of :func:`statement_html`."""
    if isinstance(records, StatementRecord):
        r = records
        return Document(
            title=f"Statement: {r.rep_id}",
            lead=_plain(r.who),
            facts=_plan_line(r),
            blocks=_blocks(r),
        )
    rep = records[0].rep_id if records else ""
    blocks: list[Block] = []
    for r in records:
        blocks.append(
            Section(f"Plan {r.plan}", [Paragraph(_plan_line(r)), *_blocks(r)], lead=_plain(r.who))
        )
    if total is not None:
        blocks.append(Paragraph(Strong(f"Payable in all plans this year: {total}")))
    return Document(title=f"Statements: {rep}", blocks=blocks)


def _plain(text: str) -> str:
    """The record's Markdown-flavoured header text without its code marks."""
    return text.replace("`", "")


def _plan_line(r: StatementRecord) -> list:
    return ["Plan ", Code(r.plan), f". {r.description}".rstrip()]


def _blocks(r: StatementRecord) -> list[Block]:
    out: list[Block] = []
    if r.year is not None:
        n_lines = sum(1 for p in r.periods for line in p.lines if line[2])
        out.append(
            KeyFigures(
                [
                    KeyFigure("Paid this year", r.money(r.year)),
                    KeyFigure("Periods", str(len(r.periods)), f"{n_lines} lines explained"),
                    KeyFigure("Credited deal rows", f"{r.n_deals:,}"),
                ]
            )
        )
    for p in r.periods:
        rows = [[rule, r.money(amount), how] for rule, amount, how in p.lines]
        extra = f" ({'; '.join(p.notes)})" if p.notes else ""
        out.append(
            Section(
                p.label,
                [
                    Table(["line", "amount", "how"], rows, align="lrl"),
                    Paragraph([Strong(f"Payable now: {r.money(p.payable)}"), extra]),
                ],
            )
        )
    if r.deals:
        blocks: list[Block] = [
            Table(list(r.deal_header), [list(d) for d in r.deals], align=r.deal_align)
        ]
        if r.n_deals > len(r.deals):
            rest = r.n_deals - len(r.deals)
            text = f"The {len(r.deals)} largest; {rest:,} more in credited_deals.csv."
            blocks.append(Paragraph(text, note=True))
        out.append(Section(f"Credited deals ({r.n_deals:,})", blocks))
    if r.by_deal:
        blocks = [Table(list(BY_DEAL_HEADER), [list(d) for d in r.by_deal], align="llllrrr")]
        if r.n_by_deal > len(r.by_deal):
            rest = r.n_by_deal - len(r.by_deal)
            text = f"The {len(r.by_deal)} largest; {rest:,} more in statement_deals.csv."
            blocks.append(Paragraph(text, note=True))
        out.append(Section(f"Earned by deal ({r.n_by_deal:,})", blocks))
    if r.year is not None:
        out.append(Paragraph(Strong(f"Paid this year: {r.money(r.year)}")))
    return out

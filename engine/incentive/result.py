"""`Payouts`: the labelled result of a payout run, as DataFrames, JSON and files."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from attain.errors import NotFoundError
from attain.incentive.compile import CompiledPlan
from attain.incentive.credit import Credit
from attain.incentive.exact import ADJUSTMENTS, Evaluation, Windows
from attain.incentive.inputs import Book
from attain.output import safe_filename, write_csv, write_json, write_text
from attain.progress import Progress, Steps
from attain.result import ResultFiles, Summary

__all__ = ["Payouts", "PayoutsSummary", "decimal_minor", "format_minor"]


def format_minor(minor: np.ndarray | pd.Series, unit: int) -> pd.Series:
    """Integer minor units → exact decimal text (``123456`` → ``"1234.56"``), vectorised.

    Made by Arrow's compute kernels (whole units, then the fraction zero-padded, then the
    sign) and kept as Arrow strings: a close writes millions of amounts, and a Python
    string per amount costs four times as much."""
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.compute as pc  # type: ignore[import-untyped]

    values = np.asarray(minor, dtype=np.int64)
    if not unit:
        text = pc.cast(pa.array(values), pa.string())
    else:
        whole, frac = np.divmod(np.abs(values), 10**unit)
        digits = pc.utf8_lpad(pc.cast(pa.array(frac), pa.string()), unit, "0")
        text = pc.binary_join_element_wise(pc.cast(pa.array(whole), pa.string()), digits, ".")
        negative = values < 0
        if negative.any():
            signed = pc.binary_join_element_wise("-", text, "")
            text = pc.if_else(pa.array(negative), signed, text)
    return pd.Series(pd.array(text, dtype="str"))


def decimal_minor(minor: np.ndarray | pd.Series, unit: int) -> np.ndarray:
    """Integer minor units → exact :class:`~decimal.Decimal` objects (``123456`` →
    ``Decimal("1234.56")``): an object array that sums exactly."""
    text = format_minor(minor, unit)
    return np.array([Decimal(t) for t in text.tolist()], dtype=object)


@dataclass(frozen=True)
class PayoutsSummary(Summary):
    """summary.json of one plan's payouts; money is exact decimal text (``"1234.56"``)."""

    OMITTED_WHEN_NONE = frozenset(
        {
            "draw_balance_outstanding",
            "n_draw_balance_outstanding",
            "carried_balance",
            "n_carried_balance",
            "held_back_outstanding",
            "n_held_back_outstanding",
        }
    )

    plan: str
    plan_version: str
    """The plan's ``version:``, or ``sha256:`` and 12 hex digits of its settings."""
    currency: str
    fiscal_year: int
    period: str
    """The pay period: ``month``, ``semi_monthly``, ``two_week``, ``quarter`` or ``year``."""
    measure: str
    """``ytd`` (year to date, with true-ups) or ``period``."""
    n_participants: int
    n_lines: int
    n_deal_rows_credited: int
    n_deal_rows_excluded: dict[str, int]
    """Deal rows not credited, by reason."""
    total_payout: str
    by_component: dict[str, str]
    warnings: list[dict[str, Any]] = field(default_factory=list)
    draw_balance_outstanding: str | None = None
    """Draw advances still owed after the last period (absent when none)."""
    n_draw_balance_outstanding: int | None = None
    carried_balance: str | None = None
    """Negative balances carried past the last period (absent when none)."""
    n_carried_balance: int | None = None
    held_back_outstanding: str | None = None
    """Instalments held back and not yet paid after the last period (absent when none)."""
    n_held_back_outstanding: int | None = None

    @property
    def plans(self) -> tuple[PayoutsSummary, ...]:
        """Each plan's summary: this one (a combined summary has one per plan)."""
        return (self,)


@dataclass(frozen=True)
class Payouts(ResultFiles):
    """Payout lines per participant × period × component, with what statements need.

    ``lines`` has ``rep_id, period, component, earned_to_date, paid_before, amount_minor,
    amount``: integers are exact minor units; ``amount`` is the same as a float for
    convenience. ``totals`` has one row per participant × period.

    Follows the result protocol (:mod:`attain.result`): ``summary``
    (:class:`PayoutsSummary`), ``frames``, ``to_json()``, ``write(out)``. Several plans
    paid together give a :class:`~attain.incentive.combined.CombinedPayouts`, which is a
    ``Payouts`` too; :attr:`parts` lists the one-plan results either way.
    """

    kind: ClassVar[str] = "payouts"

    compiled: CompiledPlan
    lines: pd.DataFrame
    totals: pd.DataFrame
    summary: Any  # PayoutsSummary (a CombinedPayoutsSummary for several plans)
    currency: str = ""
    _context: dict = field(default_factory=dict, repr=False, compare=False)
    notices: tuple = ()
    """:class:`attain.notices.Notice` warnings: valid results that silently pay nothing."""

    @property
    def plan(self):
        """The plan as loaded (the rule objects; the evaluators read :attr:`compiled`)."""
        return self._context.get("plan")

    @property
    def plans(self) -> tuple[str, ...]:
        """The plans' names, in the order given."""
        return (self.compiled.name,)

    @property
    def parts(self) -> tuple[Payouts, ...]:
        """The one-plan results, in plan order (here: this one)."""
        return (self,)

    def __getitem__(self, plan: str) -> Payouts:
        """The one-plan result of ``plan``."""
        for part in self.parts:
            if part.compiled.name == plan:
                return part
        raise NotFoundError("plan", plan, self.plans)

    @property
    def rep_ids(self) -> list[str]:
        """Every participant, in statement order."""
        return [str(r) for r in pd.unique(self.totals["rep_id"])]

    @property
    def frames(self) -> dict[str, pd.DataFrame]:
        """``payouts`` (:meth:`payouts_table`), ``lines``, ``totals`` and ``explanation``
        (each line's parts, :meth:`explanation`)."""
        return {
            "payouts": self.payouts_table(),
            "lines": self.lines,
            "totals": self.totals,
            "explanation": self.explanation(),
        }

    @classmethod
    def build(
        cls,
        compiled: CompiledPlan,
        book: Book,
        windows: Windows,
        ev: Evaluation,
        credit: Credit,
        currency: str = "",
        plan=None,
        through: int | None = None,
    ) -> Payouts:
        """The result of an evaluation; ``through``: the lines and totals of the periods
        up to that index only."""
        labels = np.array(book.calendar.period_labels())
        people = np.flatnonzero(windows.participant)
        periods = np.flatnonzero(windows.active)
        if through is not None:
            periods = periods[periods <= through]
        n_comp = len(compiled.components)
        earned = ev.earned[:, people][:, :, periods]
        payable = ev.payable[:, people][:, :, periods]
        previous = _paid_before(compiled, ev)[:, people][:, :, periods]
        keep = np.ones(payable.shape, dtype=bool)
        keep[n_comp:] = (payable[n_comp:] != 0) | (earned[n_comp:] != 0)
        roles = book.people["role"].astype(str).to_numpy()[people]
        for i, c in enumerate(compiled.components):
            if c.roles is not None:  # a component for some roles is not on the others' lines
                held = windows.proration.get(c.name, {}).get("role_ok")  # a dated org
                has = np.isin(roles, c.roles) if held is None else held[people]
                keep[i] &= has[:, None]
        # Rep, then period, then statement order: the cells of ``keep`` read as [rep,
        # period, line] come out in that order (no sort).
        ri, pi, li = np.nonzero(keep.transpose(1, 2, 0))
        rep_ids = book.rep_ids[people]
        scale = compiled.scale
        amount = payable[li, ri, pi]
        lines = pd.DataFrame(
            {
                "rep_id": rep_ids[ri],
                "period": pd.Categorical.from_codes(pi, labels[periods]),
                "component": pd.Categorical.from_codes(li, list(ev.lines)),
                "earned_to_date": earned[li, ri, pi],
                "paid_before": previous[li, ri, pi],
                "amount_minor": amount,
                "amount": amount / scale,
            }
        )
        totals = _totals(ev, people, periods, rep_ids, labels, scale)
        from attain.incentive.checks import payout_notices
        from attain.notices import notices_json

        notices = tuple(payout_notices(compiled, book, credit, windows, ev))
        if book.dated is not None:  # a dated org: bookings outside the days in role
            from attain.incentive.proration import dated_notices

            notices += tuple(dated_notices(credit, book))
        summary = _summary(compiled, book, credit, totals, lines, currency)
        summary["warnings"] = notices_json(notices)
        summary = PayoutsSummary.from_dict(summary)
        context = {
            "book": book,
            "windows": windows,
            "evaluation": ev,
            "people": people,
            "periods": periods,
            "plan": plan,
            "credit": credit,
        }
        return cls(compiled, lines, totals, summary, currency, context, notices)

    def payouts_table(self) -> pd.DataFrame:
        """The contract table: ``rep_id, period, component, amount``; ``amount`` holds
        exact :class:`~decimal.Decimal` objects (``.sum()`` is exact; ``amount_minor`` of
        :attr:`lines` has the same as integer minor units)."""
        out = self.lines[["rep_id", "period", "component"]].copy()
        out["amount"] = decimal_minor(self.lines["amount_minor"], self.compiled.minor_unit)
        return out

    def _payouts_text(self) -> pd.DataFrame:
        """payouts.csv: the contract table with ``amount`` as exact text (vectorised)."""
        out = self.lines[["rep_id", "period", "component"]].copy()
        out["amount"] = format_minor(
            self.lines["amount_minor"], self.compiled.minor_unit
        ).to_numpy()
        return out

    def statement_lines(self) -> pd.DataFrame:
        """One row per line with the rule, its inputs and its arithmetic, in words."""
        from attain.incentive.statements import statement_lines

        return statement_lines(self)

    def explanation(self, internal: bool = False) -> pd.DataFrame:
        """The explanation record: one row per part of every line (``rep_id, period,
        component, part, measure, from, to, base, rate, amount``); a line's parts add up to
        its amount exactly (see :mod:`attain.incentive.explain`)."""
        if "explanation" not in self._context:
            from attain.incentive.explain import explanation

            self._context["explanation"] = explanation(self)
        table = self._context["explanation"]
        return table if internal else table.drop(columns=["line", "amount_minor"])

    def credited_deals(self) -> pd.DataFrame:
        """Every credited deal row per participant and period (``credited_deals.csv``: deal
        id, date, type, product, customer, share, credit; see
        :func:`attain.incentive.explain.credited_deals`)."""
        from attain.incentive.explain import credited_deals

        return credited_deals(self)

    def deal_breakdown(self) -> pd.DataFrame:
        """What each deal earned on every line of a ``deal`` or ``cumulative`` scope
        component, and at which rate; each line's rows add up to its amount
        (``statement_deals.csv``; see :func:`attain.incentive.explain.deal_breakdown`)."""
        if "deal_breakdown" not in self._context:
            from attain.incentive.explain import deal_breakdown

            self._context["deal_breakdown"] = deal_breakdown(self)
        return self._context["deal_breakdown"]

    def statement(self, rep_id: str) -> str:
        """One participant's readable statement (Markdown); a rep the plan does not pay
        raises :class:`~attain.errors.NotFoundError` (a ``KeyError``) with the nearest
        participants' ids."""
        from attain.incentive.statements import statement_markdown

        self._check_rep(rep_id)
        return statement_markdown(self, rep_id, self.statement_lines())

    def _check_rep(self, rep_id: str) -> None:
        if not (self.totals["rep_id"] == rep_id).any():
            raise NotFoundError("participant", rep_id, self.rep_ids)

    def to_dict(self) -> dict[str, Any]:
        """Summary, totals and lines as JSON-ready data (amounts as exact decimal text)."""
        unit = self.compiled.minor_unit
        totals = self.totals.assign(
            payable=format_minor(self.totals["payable_minor"], unit).to_numpy()
        )
        return {
            "summary": self.summary.to_dict(),
            "totals": totals[
                ["rep_id", "period", "payable", "draw_balance_minor", "held_balance_minor"]
            ].to_dict("records"),
            "lines": self.lines[["rep_id", "period", "component"]]
            .astype(str)
            .assign(amount=format_minor(self.lines["amount_minor"], unit).to_numpy())
            .to_dict("records"),
        }

    def write_files(
        self,
        out: Path,
        statements: bool = True,
        html: bool = False,
        progress: Progress | None = None,
        xlsx: bool = False,
    ) -> list[Path]:
        """Write payouts.csv, summary.json, (``xlsx``) payouts.xlsx and (by default)
        statements.csv (the explanation record), credited_deals.csv, statement_deals.csv
        (what each deal earned in deal and cumulative scopes) and one Markdown statement per
        participant under ``statements/`` (``html``: also each as a printable page) into
        the folder ``out``; returns the paths (:meth:`write` writes them as one output
        set). ``progress(done, total)`` counts the statements written."""
        out = Path(out)
        digits = f"%.{self.compiled.minor_unit}f"
        written = [write_csv(out / "payouts.csv", self._payouts_text(), float_format=digits)]
        if xlsx:
            from attain.incentive.workbook import write_payouts_xlsx

            written.append(write_payouts_xlsx(out / "payouts.xlsx", self))
        if statements:
            from attain.incentive.statements import statement_markdown_of, statement_records

            records = statement_records(self, self.statement_lines())
            written.append(write_csv(out / "statements.csv", self.explanation()))
            written += self._write_deal_tables(out)
            from attain.incentive.statement_html import statement_html

            pages = {
                rep_id: (statement_markdown_of(record), statement_html(record) if html else None)
                for rep_id, record in records.items()
            }
            written += write_statements(out / "statements", pages, progress)
        written.append(write_json(out / "summary.json", self.summary.to_dict()))
        return written

    def _write_deal_tables(self, out: Path) -> list[Path]:
        deals = self.credited_deals().drop(columns=["credit_minor"])
        breakdown = self.deal_breakdown().drop(columns=["credit_minor", "amount_minor"])
        return [
            write_csv(out / "credited_deals.csv", deals),
            write_csv(out / "statement_deals.csv", breakdown),
        ]


def write_statements(
    folder: Path, pages: dict[str, tuple[str, str | None]], progress: Progress | None = None
) -> list[Path]:
    """Each person's statement (Markdown, and its HTML page where one is given) under
    ``folder``, counted out to ``progress`` in chunks of about a hundredth of the people."""
    steps = Steps(progress, len(pages))
    chunk = max(1, -(-len(pages) // 100))  # at most about 100 reports
    written: list[Path] = []
    for i, (rep_id, (markdown, page)) in enumerate(pages.items(), 1):
        written += write_statement(folder / safe_filename(rep_id), markdown, page)
        if i % chunk == 0 or i == len(pages):
            steps.advance(i - steps.done)
    return written


def write_statement(stem: Path, markdown: str, page: str | None = None) -> list[Path]:
    """``stem.md``, and with a ``page`` its HTML ``stem.html`` (a rep id may hold dots)."""
    written = [write_text(stem.parent / f"{stem.name}.md", markdown)]
    if page is not None:
        written.append(write_text(stem.parent / f"{stem.name}.html", page))
    return written


def _paid_before(compiled: CompiledPlan, ev: Evaluation) -> np.ndarray:
    if compiled.measure != "ytd":
        return np.zeros_like(ev.earned)
    before = np.zeros_like(ev.earned)
    before[..., 1:] = ev.earned[..., :-1]
    n = len(compiled.components) + 2  # components, rounding, total_cap are YTD windows
    before[n:] = 0
    return before


def _totals(ev: Evaluation, people, periods, rep_ids, labels, scale) -> pd.DataFrame:
    total = ev.total[people][:, periods]
    balance = ev.draw_balance[people][:, periods]
    carried = ev.carried_balance[people][:, periods]
    held = np.zeros_like(total) if ev.held_balance is None else ev.held_balance[people][:, periods]
    ri, pi = np.indices(total.shape)
    return pd.DataFrame(
        {
            "rep_id": rep_ids[ri.ravel()],
            "period": labels[periods][pi.ravel()],
            "payable_minor": total.ravel(),
            "payable": total.ravel() / scale,
            "draw_balance_minor": balance.ravel(),
            "carried_balance_minor": carried.ravel(),
            "held_balance_minor": held.ravel(),
        }
    )


def _year_end_balances(totals: pd.DataFrame, unit: int) -> dict[str, Any]:
    """Draw advances still owed and balances carried forward after the last period."""
    if not len(totals):
        return {}
    last = totals[totals["period"] == totals["period"].iloc[-1]]
    out = {}
    for key, column in (
        ("draw_balance_outstanding", "draw_balance_minor"),
        ("carried_balance", "carried_balance_minor"),
        ("held_back_outstanding", "held_balance_minor"),
    ):
        value = int(last[column].sum())
        if value:
            out[key] = format_minor(np.array([value]), unit).iloc[0]
            out[f"n_{key}"] = int((last[column] != 0).sum())
    return out


def _summary(compiled, book: Book, credit: Credit, totals, lines, currency) -> dict[str, Any]:
    unit = compiled.minor_unit
    by_component = lines.groupby("component", sort=False)["amount_minor"].sum()
    total = int(totals["payable_minor"].sum())
    return {
        "plan": compiled.name,
        "plan_version": compiled.version,
        "currency": currency,
        "fiscal_year": book.calendar.fiscal_year,
        "period": compiled.period,
        "measure": compiled.measure,
        "n_participants": int(totals["rep_id"].nunique()),
        "n_lines": len(lines),
        "n_deal_rows_credited": len(credit.net),
        "n_deal_rows_excluded": credit.n_excluded,
        "total_payout": format_minor(np.array([total]), unit).iloc[0],
        **_year_end_balances(totals, unit),
        "by_component": {
            k: format_minor(np.array([int(v)]), unit).iloc[0]
            for k, v in by_component.items()
            if k not in ADJUSTMENTS or v != 0
        },
    }

"""`Ledger`: the payout ledger's operations, returning DataFrames (no printing).

>>> ledger = Ledger("pay.db")             # a plain path is a SQLite file
>>> ledger.init()
>>> ledger.close(["rules/plan_field_rep.yaml"], "targets.csv", "actuals.csv", period="2027-01")
>>> ledger.approve("2027-01", by="finance")
>>> ledger.pay("2027-01", by="payroll")
>>> ledger.export("2027-01")              # the payroll table
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import sqlalchemy as sa

import attain
from attain.errors import RuleFileError
from attain.ledger import store
from attain.ledger.close import KEY, reconcile
from attain.ledger.deals import (
    DealRows,
    cause_text,
    changes,
    deal_ids,
    deal_rows,
    exact_keys,
    key_hashes,
    key_scheme,
    name_deals,
    touches,
)
from attain.ledger.parts import PART_FIELDS, close_parts, manual_parts, period_rows
from attain.ledger.statements import LedgerStatements, status
from attain.ledger.store import LedgerError, tables
from attain.notices import YEAR_END_BALANCE_NOTICE, Notice
from attain.result import ResultFiles, Summary

__all__ = ["CloseResult", "CloseSummary", "Ledger", "LedgerStatements"]

_T = tables
STATES = ("calculated", "approved", "paid")


@dataclass(frozen=True)
class CloseSummary(Summary):
    """summary.json of a close: the run it recorded (or, for a no-op, the run that had
    closed the period), its lines and total as exact text in the run's currency."""

    OMITTED_WHEN_NONE = frozenset({"total", "currency"})

    run: int
    period: str
    n_lines: int
    n_adjustments: int = 0
    noop: bool = False
    total: str | None = None
    currency: str | None = None


#: The close's lines as lines.csv has them (amounts as exact text).
CLOSE_COLUMNS = (
    "plan",
    "rep_id",
    "component",
    "kind",
    "for_period",
    "amount",
    "earned_to_date",
    "paid_before",
    "cause",
)


@dataclass(frozen=True)
class CloseResult(ResultFiles):
    """What a close recorded: its run (``None`` when the close was a no-op), the lines
    (amounts in integer minor units) and warnings.

    Follows the result protocol (:mod:`attain.result`): ``summary``
    (:class:`CloseSummary`), ``frames`` (``lines``, amounts as exact text), ``to_json()``
    and ``write(out)`` (lines.csv and summary.json)."""

    kind: ClassVar[str] = "ledger-close"

    run_id: int | None
    period: str
    lines: pd.DataFrame
    noop: bool
    notices: tuple[Notice, ...]
    summary: CloseSummary
    minor_unit: int = 2

    @property
    def frames(self) -> Mapping[str, pd.DataFrame]:
        return {"lines": self.lines_table()}

    def lines_table(self) -> pd.DataFrame:
        """The lines with amounts as exact text (:data:`CLOSE_COLUMNS`)."""
        from attain.incentive.result import format_minor

        if self.lines.empty:
            return pd.DataFrame(columns=list(CLOSE_COLUMNS))
        table = self.lines[list(CLOSE_COLUMNS)].copy()
        for c in ("amount", "earned_to_date", "paid_before"):
            minor = table[c].astype(np.int64).to_numpy()
            table[c] = format_minor(minor, self.minor_unit).to_numpy()
        return table.reset_index(drop=True)

    def write_files(self, folder: str | Path) -> list[Path]:
        """lines.csv and summary.json into ``folder`` (use :meth:`write`)."""
        from attain.output import write_csv, write_text

        out = Path(folder)
        return [
            write_csv(out / "lines.csv", self.lines_table()),
            write_text(out / "summary.json", self.to_json()),
        ]


class Ledger:
    """A payout ledger at ``url``: a file path (SQLite) or ``postgresql://…``."""

    def __init__(self, url: str | os.PathLike[str]):
        self.url = store.ledger_url(url)
        self.shown = store.display_url(self.url) if "://" in os.fspath(url) else os.fspath(url)
        self._engine = store.create(self.url, self.shown)

    def __repr__(self) -> str:
        return f"Ledger({self.shown!r})"

    def dispose(self) -> None:
        """Close the connections this object holds."""
        self._engine.dispose()

    def _tx(self, bulk: bool = False):
        return store.connect(self._engine, self.shown, bulk)

    def _open(self, bulk: bool = False):
        """A transaction on an initialised ledger of this schema version (``bulk``: one
        that writes many rows, a close)."""
        return _Checked(self, bulk)

    # --- schema --------------------------------------------------------------------

    def init(self) -> tuple[int, int]:
        """Create the ledger, or migrate it to this attain's schema version; returns the
        version before and after (``(0, n)`` for a new ledger)."""
        if self.url.get_backend_name() == "sqlite" and self.url.database:
            folder = Path(self.url.database).parent
            if not folder.is_dir():
                raise LedgerError(self.shown, f"no folder {folder} to create the ledger in")
        with self._tx() as conn:
            return store.migrate(conn, self.shown)

    @property
    def schema_version(self) -> int:
        with self._tx() as conn:
            return store.current_version(conn)

    # --- close ---------------------------------------------------------------------

    def close(
        self,
        plans: Sequence[str | Path],
        targets: str | Path,
        actuals: str | Path,
        period: str,
        company: str | Path | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> CloseResult:
        """Compute ``period`` from the plan files and data, reconciled with the ledger, and
        record its lines as ``calculated`` (one transaction).

        Re-running the close of a closed period with the same inputs is a no-op; with
        other inputs, or before the previous period is closed, it is an error.
        """
        from attain.data import load_company
        from attain.incentive.api import load_plan, payouts, plan_company_dir

        started, t0 = _now(), time.perf_counter()
        plan_files = [Path(p) for p in plans]
        folder = Path(company) if company is not None else plan_company_dir(plan_files[0])
        data_files = _data_files(Path(targets), Path(actuals), folder)
        hashes = {str(p): _hash_file(p) for p in plan_files}
        data_hash = {name: _hash_file(p) for name, p in data_files.items()}
        closed_before = self._closed_run(period)
        if closed_before is not None:
            return self._rerun(closed_before, period, hashes, data_hash)
        loaded_company = load_company(folder, tables=("org",)) if folder is not None else None
        loaded = [load_plan(p, loaded_company) for p in plan_files]
        names = [p.name for p in loaded]
        if len(set(names)) != len(names):
            raise RuleFileError(
                [attain.Problem("<plans>", "two plans have the same name; plan names must differ")]
            )
        through = _through(loaded, loaded_company, period)
        results = [payouts(p, targets, actuals, loaded_company, through=through) for p in loaded]
        labels, fiscal_year = _calendar(results, plan_files, period)
        book = results[0]._context["book"]
        since, before = _period_days(book.calendar, labels.index(period))
        ids = None if book.deals.ids is not None else deal_ids(actuals)
        incoming = deal_rows(book, ids, before=before)
        t_compute = time.perf_counter() - t0
        upto = labels[: labels.index(period) + 1]
        computed = pd.concat([_computed(r, upto) for r in results], ignore_index=True)
        plan_hash = {n: hashes[str(f)] for n, f in zip(names, plan_files, strict=True)}
        texts = {
            hashes[str(f)]: (n, f.read_text(encoding="utf-8"))
            for n, f in zip(names, plan_files, strict=True)
        }
        currency = results[0].currency
        unit = results[0].compiled.minor_unit
        opts = dict(options or {})
        with self._open(bulk=True) as conn:
            done = _closed(conn, period)
            if done is not None:  # closed by another run while this one computed
                raise LedgerError(
                    self.shown,
                    f"period {period} was closed by run {done} while this run was computing; "
                    "nothing recorded",
                )
            _check_previous(conn, self.shown, labels, period)
            run_id = conn.execute(
                _T["runs"]
                .insert()
                .values(
                    period=period,
                    fiscal_year=fiscal_year,
                    started_at=started,
                    finished_at=started,
                    attain_version=attain.__version__,
                    plans=plan_hash,
                    data=data_hash,
                    options=opts,
                    timings={},
                    currency=currency,
                    minor_unit=unit,
                    n_lines=0,
                    total=0,
                )
            ).inserted_primary_key[0]
            try:
                conn.execute(
                    _T["periods"]
                    .insert()
                    .values(
                        period=period, fiscal_year=fiscal_year, run_id=run_id, closed_at=started
                    )
                )
            except sa.exc.IntegrityError:
                raise LedgerError(
                    self.shown,
                    f"period {period} was closed by another run at the same time; nothing recorded",
                ) from None
            _store_plans(conn, texts)
            marks = {"start": time.perf_counter()}
            recorded = _recorded(conn, names, labels)
            lines = reconcile(computed, recorded, labels, period)
            marks["reconcile"] = time.perf_counter()
            # The parts are made beside the recording of deals and lines (the inserts
            # leave the GIL while SQLite writes), from a copy of the lines as they are.
            regular = lines.assign(pos=np.arange(len(lines)))
            with _beside(close_parts, results, regular) as made:
                previous = _previous_run(conn, labels, period)
                deal_changes = _record_deals(conn, incoming, run_id, previous, lines, since)
                named = _named_deals(lines, deal_changes, results, labels)
                lines["cause"] = _causes(conn, lines, previous, plan_hash, data_hash, named)
                marks["deals"] = time.perf_counter()
                manual = _manual_lines(conn, period)
                lines = pd.concat([lines, manual], ignore_index=True)
                ids = _insert_lines(conn, lines, run_id, period)
                marks["lines"] = time.perf_counter()
                parts = made()
            _insert_parts(conn, ids, lines, parts)
            if not named.empty:
                named = named.assign(line_id=ids[named["pos"].to_numpy(np.int64)])
                store.insert_frame(conn, _T["line_deals"], named[_LINE_DEAL_COLUMNS])
            marks["parts"] = time.perf_counter()
            steps = list(marks)
            timings = {
                "compute_seconds": round(t_compute, 3),
                "record_seconds": round(time.perf_counter() - t0 - t_compute, 3),
            } | {
                f"{b}_seconds": round(marks[b] - marks[a], 3)
                for a, b in zip(steps, steps[1:], strict=False)
            }
            conn.execute(
                _T["runs"]
                .update()
                .where(_T["runs"].c.id == run_id)
                .values(
                    finished_at=_now(),
                    timings=timings,
                    n_lines=len(lines),
                    total=int(lines["amount"].sum()),
                )
            )
        # A close pays the year to date: a balance "carried past year end" by the payouts
        # of data that stops at this period is not a fact yet, so it is not a warning here.
        notices = tuple(n for r in results for n in r.notices if n.code != YEAR_END_BALANCE_NOTICE)
        if lines.empty:
            notices += (
                Notice("empty-close", f"period {period} closed with no payable line", self.shown),
            )
        summary = CloseSummary(
            run=int(run_id),
            period=period,
            n_lines=len(lines),
            n_adjustments=int((lines["kind"] == "adjustment").sum()),
            total=_money(int(lines["amount"].sum()), unit),
            currency=currency,
        )
        return CloseResult(int(run_id), period, lines, False, notices, summary, unit)

    def _closed_run(self, period: str) -> int | None:
        with self._open() as conn:
            return _closed(conn, period)

    def _rerun(self, run_id: int, period: str, hashes: dict, data_hash: dict) -> CloseResult:
        with self._open() as conn:
            row = conn.execute(sa.select(_T["runs"]).where(_T["runs"].c.id == run_id)).one()
        if sorted(row.plans.values()) == sorted(hashes.values()) and row.data == data_hash:
            summary = CloseSummary(run=run_id, period=period, n_lines=0, noop=True)
            return CloseResult(None, period, pd.DataFrame(), True, (), summary, row.minor_unit)
        raise LedgerError(
            self.shown,
            f"period {period} is closed (run {run_id}) and closed periods do not change",
            hint="changed plans or data are settled as adjustments when the next period closes",
        )

    # --- states --------------------------------------------------------------------

    def lines(
        self, period: str | None = None, rep: str | None = None, line: int | None = None
    ) -> pd.DataFrame:
        """The ledger's lines (with ``held``: whether a hold stops their payment)."""
        with self._open() as conn:
            return _select_lines(conn, period, rep, line)

    def approve(
        self, period: str, rep=None, line=None, by: str = "", reason: str = ""
    ) -> pd.DataFrame:
        """Move calculated lines to approved; approving an approved line is an error."""
        return self._move(period, rep, line, by, reason, "approve", "calculated", "approved")

    def pay(self, period: str, rep=None, line=None, by: str = "", reason: str = "") -> pd.DataFrame:
        """Mark approved lines paid; a held line, or one not approved, is an error. Paying a
        whole period skips its held lines (they stay approved)."""
        return self._move(period, rep, line, by, reason, "pay", "approved", "paid")

    def _move(self, period, rep, line, by, reason, event, source, target) -> pd.DataFrame:
        with self._open() as conn:
            chosen = _select_lines(conn, period, rep, line)
            if chosen.empty:
                raise LedgerError(self.shown, f"no line matches {_what(period, rep, line)}")
            explicit = line is not None or rep is not None
            if event == "pay":
                held = chosen[chosen["held"]]
                if explicit and not held.empty:
                    raise LedgerError(
                        self.shown,
                        f"cannot pay held line {int(held['id'].iloc[0])} ({held['rep_id'].iloc[0]}, "
                        f"{held['component'].iloc[0]}): {held['hold_reason'].iloc[0]}",
                        hint="release the hold first: attain ledger release",
                    )
                chosen = chosen[~chosen["held"]]
            wrong = chosen[chosen["state"] != source]
            if not wrong.empty and (explicit or len(wrong) == len(chosen)):
                first = wrong.iloc[0]
                verb = {"approve": "approve", "pay": "pay"}[event]
                raise LedgerError(
                    self.shown,
                    f"cannot {verb} line {int(first['id'])} ({first['rep_id']}, {first['component']}, "
                    f"{first['period']}): it is {first['state']}"
                    + (
                        f"; {len(wrong)} of the {len(chosen)} lines chosen are"
                        if len(wrong) > 1
                        else ""
                    ),
                    hint="a line moves calculated → approved → paid, once each",
                )
            chosen = chosen[chosen["state"] == source]
            ids = [int(i) for i in chosen["id"]]
            at = _now()
            t = _T["lines"]
            for part in _chunks(ids):
                conn.execute(
                    t.update().where(t.c.id.in_(part), t.c.state == source).values(state=target)
                )
            _events(conn, ids, event, target, by, reason, at)
            chosen = chosen.assign(state=target)
        return chosen.reset_index(drop=True)

    def hold(
        self, period: str, rep=None, line=None, by: str = "", reason: str = ""
    ) -> pd.DataFrame:
        """Hold a rep's lines of ``period`` (``rep``) or one line (``line``) from payment."""
        if rep is None and line is None:
            raise LedgerError(self.shown, "a hold names a rep (--rep) or a line (--line)")
        with self._open() as conn:
            chosen = _select_lines(conn, period, rep, line)
            if line is not None and chosen.empty:
                raise LedgerError(self.shown, f"no line matches {_what(period, rep, line)}")
            paid = chosen[chosen["state"] == "paid"]
            if line is not None and not paid.empty:
                raise LedgerError(self.shown, f"line {line} is paid already; it cannot be held")
            at = _now()
            conn.execute(
                _T["holds"]
                .insert()
                .values(
                    period=period,
                    rep_id=None if line is not None else rep,
                    line_id=line,
                    by=by,
                    at=at,
                    reason=reason,
                )
            )
            ids = [int(i) for i in chosen.loc[chosen["state"] != "paid", "id"]]
            _events(conn, ids, "hold", "", by, reason, at, keep_state=chosen)
            return _select_lines(conn, period, rep, line)

    def release(
        self, period: str, rep=None, line=None, by: str = "", reason: str = ""
    ) -> pd.DataFrame:
        """Release the active holds on a rep's lines of ``period`` or on one line."""
        h = _T["holds"]
        with self._open() as conn:
            where = [h.c.period == period, h.c.released_at.is_(None)]
            if line is not None:
                where.append(h.c.line_id == line)
            if rep is not None:
                where.append(h.c.rep_id == rep)
            active = conn.execute(sa.select(h.c.id).where(*where)).scalars().all()
            if not active:
                raise LedgerError(self.shown, f"no active hold on {_what(period, rep, line)}")
            at = _now()
            conn.execute(
                h.update()
                .where(h.c.id.in_(active))
                .values(released_by=by, released_at=at, release_reason=reason)
            )
            chosen = _select_lines(conn, period, rep, line)
            ids = [int(i) for i in chosen["id"]]
            _events(conn, ids, "release", "", by, reason, at, keep_state=chosen)
            return chosen

    def holds(self, period: str | None = None) -> pd.DataFrame:
        """The holds (of ``period``), in the order they were placed."""
        return self._rows("holds", "period", period)

    def events(self, line: int | None = None) -> pd.DataFrame:
        """The line events: each state change and hold, who, when and why."""
        return self._rows("line_events", "line_id", line)

    def _rows(self, name: str, column: str, value: object) -> pd.DataFrame:
        """Every row of table ``name`` in id order, or those whose ``column`` is ``value``."""
        table = _T[name]
        query = sa.select(table).order_by(table.c.id)
        if value is not None:
            query = query.where(table.c[column] == value)
        with self._open() as conn:
            return _frame(conn.execute(query))

    # --- manual adjustments --------------------------------------------------------

    def adjust(
        self,
        period: str,
        rep: str,
        amount_minor: int,
        reason_code: str,
        by: str,
        reason: str = "",
        component: str = "manual",
    ) -> int:
        """Enter a manual adjustment for an open period (recorded as a ``manual`` line when
        the period closes); returns its id."""
        if reason_code not in store.REASON_CODES:
            raise LedgerError(
                self.shown,
                f"unknown reason code `{reason_code}`",
                hint="one of: " + ", ".join(store.REASON_CODES),
            )
        if not by:
            raise LedgerError(self.shown, "a manual adjustment names its author (--by)")
        with self._open() as conn:
            done = _closed(conn, period)
            if done is not None:
                raise LedgerError(
                    self.shown,
                    f"period {period} is closed (run {done}); enter the adjustment in an open period",
                )
            return int(
                conn.execute(
                    _T["manual_adjustments"]
                    .insert()
                    .values(
                        period=period,
                        rep_id=rep,
                        component=component,
                        amount=int(amount_minor),
                        reason_code=reason_code,
                        reason=reason,
                        by=by,
                        at=_now(),
                    )
                ).inserted_primary_key[0]
            )

    def adjustments(self) -> pd.DataFrame:
        """The manual adjustments entered, with the line each became once closed."""
        m = _T["manual_adjustments"]
        with self._open() as conn:
            return _frame(conn.execute(sa.select(m).order_by(m.c.id)))

    # --- audit ---------------------------------------------------------------------

    def runs(self) -> pd.DataFrame:
        """One row per run: period, when, attain version, number of lines and total."""
        r = _T["runs"]
        cols = [
            r.c.id,
            r.c.period,
            r.c.started_at,
            r.c.finished_at,
            r.c.attain_version,
            r.c.currency,
            r.c.minor_unit,
            r.c.n_lines,
            r.c.total,
        ]
        with self._open() as conn:
            out = _frame(conn.execute(sa.select(*cols).order_by(r.c.id)))
        for c in ("started_at", "finished_at"):
            out[c] = out[c].map(_iso)
        return out.rename(columns={"id": "run", "total": "total_minor"})

    def run(self, run_id: int) -> dict[str, Any]:
        """One run's record: plans (name → hash), data hashes, options, timings, totals."""
        r = _T["runs"]
        with self._open() as conn:
            row = conn.execute(sa.select(r).where(r.c.id == run_id)).one_or_none()
        if row is None:
            raise LedgerError(self.shown, f"no run {run_id}")
        out = dict(row._mapping)
        with self._open() as conn:
            rd = _T["run_deals"]
            deals = conn.execute(sa.select(rd).where(rd.c.run_id == run_id)).one_or_none()
        out["n_deals"] = None if deals is None else int(deals.n_deals)
        out["n_deals_changed"] = None if deals is None else int(deals.n_changed)
        out["started_at"] = _iso(out["started_at"])
        out["finished_at"] = _iso(out["finished_at"])
        return out

    def run_lines(self, run_id: int) -> pd.DataFrame:
        self.run(run_id)
        t = _T["lines"]
        with self._open() as conn:
            return _frame(conn.execute(sa.select(t).where(t.c.run_id == run_id).order_by(t.c.id)))

    def deals(self, run_id: int) -> pd.DataFrame:
        """The deal rows run ``run_id`` used (the versions valid at it): ``deal_id, type,
        rep_id, date, product, amount`` (minor units), ``split`` (millionths), ``from_run``."""
        self.run(run_id)
        d, rd = _T["deals"], _T["run_deals"]
        with self._open() as conn:
            if conn.execute(sa.select(rd.c.run_id).where(rd.c.run_id == run_id)).scalar() is None:
                raise LedgerError(
                    self.shown,
                    f"run {run_id} did not record its deals (closed before schema version 2)",
                )
            query = (
                sa.select(
                    d.c.deal_id,
                    d.c.type,
                    d.c.rep_id,
                    d.c.date,
                    d.c.product,
                    d.c.amount,
                    d.c.split,
                    d.c.from_run,
                )
                .where(d.c.from_run <= run_id, sa.or_(d.c.to_run.is_(None), d.c.to_run > run_id))
                .order_by(d.c.deal_id, d.c.type, d.c.rep_id)
            )
            return _frame(conn.execute(query))

    def explain(self, line: int) -> dict[str, Any]:
        """One line from the ledger alone: the line (with its ``status``), its ``parts``
        (adding up to its amount), the ``deals`` an adjustment names, its ``events`` (who
        moved it, when, why), the ``holds`` on it and, for a manual line, its entry."""
        h = _T["holds"]
        with self._open() as conn:
            row = _select_lines(conn, None, None, line)
            if row.empty:
                raise LedgerError(self.shown, f"no line {line}")
            record = row.iloc[0].to_dict()
            run = conn.execute(
                sa.select(_T["runs"].c.currency, _T["runs"].c.minor_unit, _T["runs"].c.plans).where(
                    _T["runs"].c.id == int(record["run_id"])
                )
            ).one()
            lp, ld = _T["line_parts"], _T["line_deals"]
            parts = _frame(
                conn.execute(sa.select(lp).where(lp.c.line_id == line).order_by(lp.c.seq))
            )
            named = _frame(
                conn.execute(
                    sa.select(ld)
                    .where(ld.c.line_id == line)
                    .order_by(ld.c.deal_id, ld.c.type, ld.c.rep_id)
                )
            )
            holds = _frame(
                conn.execute(
                    sa.select(h)
                    .where(
                        h.c.period == record["period"],
                        sa.or_(h.c.line_id == line, h.c.rep_id == record["rep_id"]),
                    )
                    .order_by(h.c.id)
                )
            )
            m = _T["manual_adjustments"]
            manual = conn.execute(sa.select(m).where(m.c.line_id == line)).one_or_none()
        record = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in record.items()}
        record["status"] = str(status(row)[0])
        record["currency"] = run.currency
        record["minor_unit"] = int(run.minor_unit)
        record["plan_hash"] = run.plans.get(record["plan"], "")
        record["amount_text"] = _money(int(record["amount"]), int(run.minor_unit))
        return {
            "line": record,
            "parts": parts,
            "deals": named,
            "events": self.events(line),
            "holds": holds,
            "manual": dict(manual._mapping) if manual is not None else None,
        }

    def statements(self, period: str, rep: str | None = None) -> LedgerStatements:
        """The statements of a closed ``period`` (or one rep's) from the ledger: every line
        with its status (calculated, approved, held, paid) and hold reason, adjustments
        with the period they correct, their cause and deals, manual lines with their reason
        code and author, and each line's parts."""
        t, r, m = _T["lines"], _T["runs"], _T["manual_adjustments"]
        lp, ld = _T["line_parts"], _T["line_deals"]
        with self._open() as conn:
            if _closed(conn, period) is None:
                raise LedgerError(self.shown, f"period {period} is not closed")
            lines = _select_lines(conn, period, rep, None)
            chosen = sa.select(t.c.id).where(t.c.period == period)
            if rep is not None:
                chosen = chosen.where(t.c.rep_id == rep)
            units = _frame(
                conn.execute(
                    sa.select(r.c.id, r.c.currency, r.c.minor_unit).where(
                        r.c.id.in_(sa.select(t.c.run_id).where(t.c.period == period))
                    )
                )
            )
            manual = _frame(
                conn.execute(
                    sa.select(m.c.line_id, m.c.reason_code, m.c.by).where(m.c.line_id.in_(chosen))
                )
            )
            parts = _frame(
                conn.execute(
                    sa.select(lp).where(lp.c.line_id.in_(chosen)).order_by(lp.c.line_id, lp.c.seq)
                )
            )
            named = _frame(
                conn.execute(
                    sa.select(ld.c.line_id, ld.c.deal_id, ld.c.change, ld.c.detail)
                    .where(ld.c.line_id.in_(chosen))
                    .order_by(ld.c.line_id, ld.c.deal_id)
                )
            )
        currency = str(units["currency"].iloc[0]) if len(units) else ""
        unit = int(units["minor_unit"].iloc[0]) if len(units) else 2
        return _statements(period, currency, unit, lines, manual, parts, named, self.shown)

    def plan_text(self, plan_hash: str) -> str:
        """A plan file's text as it was closed with, by its content hash."""
        p = _T["plans"]
        with self._open() as conn:
            text = conn.execute(sa.select(p.c.content).where(p.c.hash == plan_hash)).scalar()
        if text is None:
            raise LedgerError(self.shown, f"no plan with hash {plan_hash}")
        return str(text)

    def diff(self, run_a: int, run_b: int) -> pd.DataFrame:
        """What changed between two runs, per plan, rep and component: each run's view of
        the periods both cover (what the ledger held for them once the run had closed),
        the change, the periods it concerns, and its cause (``plan``, ``data`` or
        ``plan+data``: which of the runs' inputs differ). Manual lines are not compared.
        Amounts are integer minor units of the runs' currency."""
        a, b = self.run(run_a), self.run(run_b)
        upto = min(a["period"], b["period"])
        t = _T["lines"]
        keys = ["plan", "rep_id", "component"]

        def view(run_id: int) -> pd.DataFrame:
            query = (
                sa.select(
                    t.c.plan,
                    t.c.rep_id,
                    t.c.component,
                    t.c.for_period,
                    sa.func.sum(t.c.amount).label("amount"),
                )
                .where(t.c.run_id <= run_id, t.c.kind != "manual", t.c.for_period <= upto)
                .group_by(t.c.plan, t.c.rep_id, t.c.component, t.c.for_period)
            )
            with self._open() as conn:
                out = _frame(conn.execute(query))
            if out.empty:
                return pd.DataFrame(columns=[*keys, "for_period", "amount"])
            out["amount"] = out["amount"].astype(np.int64)
            return out

        both = view(run_a).merge(
            view(run_b), on=[*keys, "for_period"], how="outer", suffixes=("_a", "_b")
        )
        both["amount_a"] = both["amount_a"].fillna(0).astype(np.int64)
        both["amount_b"] = both["amount_b"].fillna(0).astype(np.int64)
        both = both[both["amount_a"] != both["amount_b"]]
        cols = [*keys, "amount_a", "amount_b", "change", "periods", "cause"]
        if both.empty:
            return pd.DataFrame(columns=cols)
        out = both.groupby(keys, as_index=False, sort=True).agg(
            amount_a=("amount_a", "sum"),
            amount_b=("amount_b", "sum"),
            periods=("for_period", lambda p: " ".join(sorted(p))),
        )
        out["change"] = out["amount_b"] - out["amount_a"]
        changed_plans = {
            n for n in set(a["plans"]) | set(b["plans"]) if a["plans"].get(n) != b["plans"].get(n)
        }
        data = a["data"] != b["data"]
        plan = out["plan"].isin(changed_plans).to_numpy()
        other = "data" if data else ""
        out["cause"] = np.where(plan & data, "plan+data", np.where(plan, "plan", other))
        return out[cols]

    def export(
        self,
        period: str,
        fmt: str = "payroll",
        codes: Mapping[str, str] | None = None,
        pay_date: str | None = None,
    ) -> pd.DataFrame:
        """The payroll table of ``period``'s paid lines: ``rep_id, period, component, amount,
        currency, pay_date, earning_code, for_period`` (amount as exact decimal text).

        ``codes`` maps a component (or ``kind:adjustment``, ``kind:manual``) to its
        earning code; unmapped components use their upper-cased name. ``pay_date`` is the
        day given, else the day the line was paid.
        """
        if fmt != "payroll":
            raise LedgerError(self.shown, f"unknown export format `{fmt}`", hint="formats: payroll")
        codes = dict(codes or {})
        with self._open() as conn:
            if _closed(conn, period) is None:
                raise LedgerError(self.shown, f"period {period} is not closed")
            t, e, r = _T["lines"], _T["line_events"], _T["runs"]
            paid_at = (
                sa.select(e.c.line_id, sa.func.max(e.c.at).label("paid_at"))
                .where(e.c.event == "pay")
                .group_by(e.c.line_id)
                .subquery()
            )
            query = (
                sa.select(t, paid_at.c.paid_at, r.c.currency, r.c.minor_unit)
                .join(paid_at, paid_at.c.line_id == t.c.id)
                .join(r, r.c.id == t.c.run_id)
                .where(t.c.period == period, t.c.state == "paid")
                .order_by(t.c.rep_id, t.c.id)
            )
            rows = _frame(conn.execute(query))
        if rows.empty:
            return pd.DataFrame(columns=list(PAYROLL_COLUMNS))
        from attain.incentive.result import format_minor

        unit = int(rows["minor_unit"].iloc[0])
        kinds = rows["kind"].map(lambda k: codes.get(f"kind:{k}"))
        code = rows["component"].map(lambda c: codes.get(c, str(c).upper()))
        code = np.where(rows["kind"] != "regular", kinds.fillna(pd.Series(code)), code)
        out = pd.DataFrame(
            {
                "rep_id": rows["rep_id"],
                "period": rows["period"],
                "component": rows["component"],
                "amount": format_minor(rows["amount"].to_numpy(np.int64), unit).to_numpy(),
                "currency": rows["currency"],
                "pay_date": pay_date if pay_date else rows["paid_at"].map(lambda d: _iso(d)[:10]),
                "earning_code": code,
                "for_period": np.where(rows["kind"] == "regular", "", rows["for_period"]),
            }
        )
        return out


PAYROLL_COLUMNS = (
    "rep_id",
    "period",
    "component",
    "amount",
    "currency",
    "pay_date",
    "earning_code",
    "for_period",
)


class _Checked:
    def __init__(self, ledger: Ledger, bulk: bool = False):
        self.ledger, self.bulk = ledger, bulk

    def __enter__(self):
        url = self.ledger.url
        path = url.database if url.get_backend_name() == "sqlite" else None
        if path not in (None, "", ":memory:") and not os.path.lexists(path):
            # SQLite would create an empty file at a misspelt path.
            raise LedgerError(
                self.ledger.shown,
                "no ledger here (the file does not exist)",
                hint=f"create it: attain ledger init --ledger {self.ledger.shown}",
            )
        self._cm = self.ledger._tx(self.bulk)
        conn = self._cm.__enter__()
        try:
            store.check_version(conn, self.ledger.shown)
        except BaseException as exc:
            self._cm.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return conn

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


# --- helpers -------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(value: Any) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat(timespec="seconds")
    return str(value)


def _money(minor: int, unit: int) -> str:
    from attain.incentive.result import format_minor

    return str(format_minor(np.array([minor]), unit).iloc[0])


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _data_files(targets: Path, actuals: Path, folder: Path | None) -> dict[str, Path]:
    """The data a close reads, by the name its run records: targets, actuals and the
    company folder's manifest and tables."""
    files = {"targets": targets, "actuals": actuals}
    if folder is not None:
        manifest = folder / "company.yaml" if folder.is_dir() else folder
        if manifest.exists():
            files["company"] = manifest
            for p in sorted(manifest.parent.glob("*")):
                if (
                    p.is_file()
                    and p.suffix.lower() in (".csv", ".parquet", ".xlsx")
                    and p != actuals
                ):
                    files[f"company/{p.name}"] = p
    return files


def _through(plans, company, period: str) -> str | None:
    """``period`` when it is a pay period of every plan's year: their payouts then stop
    there (a close pays no later period); else None, and :func:`_calendar` refuses it."""
    if company is None:
        return None
    from attain.incentive.calendar import Calendar

    years = [Calendar.of_company(company.rules, p.fiscal_year, p.period) for p in plans]
    return period if all(period in y.period_labels() for y in years) else None


def _calendar(results, plan_files, period: str) -> tuple[list[str], int]:
    calendars = {r._context["book"].calendar for r in results}
    if len(calendars) > 1:
        raise RuleFileError(
            [
                attain.Problem(
                    str(plan_files[0]),
                    "plans closed together must share one fiscal year and pay period",
                )
            ]
        )
    calendar = calendars.pop()
    labels = calendar.period_labels()
    if period not in labels:
        raise RuleFileError(
            [
                attain.Problem(
                    str(plan_files[0]),
                    f"period {period} is not a pay period of the plan's year",
                    hint=f"periods: {labels[0]} … {labels[-1]}",
                )
            ]
        )
    return labels, calendar.fiscal_year


def _period_days(calendar, at: int) -> tuple[int, int]:
    """The first day of pay period ``at`` and the day after it, as days since 1970-01-01:
    the deal rows a close of that period records are those dated before its end."""
    per = calendar.months_per_period
    first, after = calendar.month_start(at * per), calendar.month_start((at + 1) * per)
    return _day(first), _day(after)


def _day(date: dt.date) -> int:
    return int(np.datetime64(date, "D").astype(np.int64))


def _computed(result, periods: list[str]) -> pd.DataFrame:
    """The result's lines of ``periods`` (the close's and those before it), as
    :func:`~attain.ledger.close.reconcile` reads them."""
    lines = result.lines.iloc[period_rows(result.lines, set(periods))]
    return pd.DataFrame(
        {
            "plan": result.compiled.name,
            "rep_id": lines["rep_id"].astype(str).to_numpy(),
            "component": lines["component"].astype(str).to_numpy(),
            "for_period": lines["period"].astype(str).to_numpy(),
            "amount": lines["amount_minor"].to_numpy(np.int64),
            "earned_to_date": lines["earned_to_date"].to_numpy(np.int64),
        }
    )


def _closed(conn, period: str) -> int | None:
    p = _T["periods"]
    value = conn.execute(sa.select(p.c.run_id).where(p.c.period == period)).scalar()
    return None if value is None else int(value)


def _check_previous(conn, shown: str, labels: list[str], period: str) -> None:
    p = _T["periods"]
    closed = set(conn.execute(sa.select(p.c.period).where(p.c.period.in_(labels))).scalars())
    earlier = labels[: labels.index(period)]
    missing = [q for q in earlier if q not in closed]
    if missing:
        raise LedgerError(
            shown,
            f"cannot close {period}: the previous period {missing[-1]} is not closed",
            hint=f"close the periods in order, from {missing[0]}",
        )


def _store_plans(conn, texts: dict[str, tuple[str, str]]) -> None:
    p = _T["plans"]
    have = set(conn.execute(sa.select(p.c.hash).where(p.c.hash.in_(list(texts)))).scalars())
    new = [{"hash": h, "name": n, "content": c} for h, (n, c) in texts.items() if h not in have]
    if new:
        conn.execute(p.insert(), new)


def _recorded(conn, plans: list[str], labels: list[str]) -> pd.DataFrame:
    t = _T["lines"]
    query = (
        sa.select(
            t.c.plan,
            t.c.rep_id,
            t.c.component,
            t.c.for_period,
            sa.func.sum(t.c.amount).label("amount"),
        )
        .where(t.c.kind != "manual", t.c.plan.in_(plans), t.c.for_period.in_(labels))
        .group_by(t.c.plan, t.c.rep_id, t.c.component, t.c.for_period)
    )
    out = store.read_frame(conn, query)
    if out.empty:
        return pd.DataFrame(
            {k: pd.Series(dtype=str) for k in KEY} | {"amount": pd.Series(dtype=np.int64)}
        )
    out["amount"] = out["amount"].astype(np.int64)
    return out


def _previous_run(conn, labels: list[str], period: str) -> int | None:
    """The run that closed the period before ``period`` (the close that last settled
    every earlier period of the year); ``None`` for the year's first period."""
    at = labels.index(period)
    return _closed(conn, labels[at - 1]) if at > 0 else None


_DEAL_COLUMNS = ["deal_id", "type", "rep_id", "date", "product", "amount", "split"]
_DEAL_COLUMNS += ["minor_unit", "hash"]
_LINE_DEAL_COLUMNS = ["line_id", "deal_id", "type", "rep_id", "change", "detail"]


def _record_deals(
    conn, incoming: DealRows | None, run_id: int, previous: int | None, lines, since: int
):
    """Record the close's deal rows as versions; return what changed since the previous
    close, described for the adjustment ``lines`` to name (``None`` when that close did
    not record its deals, the rows are unknown, or no adjustment line needs them). A new
    row dated on day ``since`` or later is of the closed period: recorded, not a change."""
    if incoming is None:
        return None
    d, rd = _T["deals"], _T["run_deals"]
    recorded = previous is not None and (
        conn.execute(sa.select(rd.c.run_id).where(rd.c.run_id == previous)).scalar() is not None
    )
    describe = recorded and bool((lines["kind"] == "adjustment").any())
    current, new_key, hashed = _current_deals(conn, incoming)

    def fetch(ids: list[int]) -> pd.DataFrame:
        parts = [store.read_frame(conn, sa.select(d).where(d.c.id.in_(p))) for p in _chunks(ids)]
        if not parts:
            return pd.DataFrame(columns=[c.name for c in d.columns])
        return pd.concat(parts, ignore_index=True)

    rows, ended, deal_changes = changes(incoming, new_key, current, fetch, describe, since)
    for part in _chunks([int(i) for i in ended]):
        conn.execute(d.update().where(d.c.id.in_(part)).values(to_run=run_id))
    new_ids = _insert_deals(conn, incoming.frame(rows), run_id)
    if hashed:
        kept = ~np.isin(current["id"].to_numpy(np.int64), ended)
        _write_deal_index(
            conn,
            run_id,
            np.concatenate([current["key"].to_numpy(np.int64)[kept], incoming.key[rows]]),
            np.concatenate([current["id"].to_numpy(np.int64)[kept], new_ids]),
            np.concatenate([current["hash"].to_numpy(np.int64)[kept], incoming.hash[rows]]),
            unchanged=not len(rows) and not len(ended),
        )
    else:  # keys matched on their text: no index of hashes; the next close reads deals
        conn.execute(_T["deal_index"].delete())
    n_changed = deal_changes if isinstance(deal_changes, int) else len(deal_changes)
    conn.execute(rd.insert().values(run_id=run_id, n_deals=len(incoming), n_changed=int(n_changed)))
    return deal_changes if describe and not isinstance(deal_changes, int) else None


def _current_deals(conn, incoming: DealRows) -> tuple[pd.DataFrame, np.ndarray, bool]:
    """The deal versions valid now (``id, key, hash``), the incoming rows' keys made the
    same way, and whether those are key hashes (else the keys' text factorized).

    From ``deal_index`` when it is up to date (written by the last run that recorded
    deals, with this attain's key hashes); else from ``deals`` (a ledger migrated from
    version 2), and on the keys' text when key hashes collide (never seen).
    """
    unique = pd.Index(incoming.key).is_unique
    index = _deal_index(conn) if unique else None
    if index is not None:
        return index, incoming.key, True
    d = _T["deals"]
    current = store.read_frame(
        conn,
        sa.select(d.c.id, d.c.deal_id, d.c.type, d.c.rep_id, d.c.hash).where(d.c.to_run.is_(None)),
    )
    if current.empty:
        return _no_deals(), incoming.key, unique
    current["id"] = current["id"].astype(np.int64)
    current["hash"] = current["hash"].astype(np.int64)
    if unique:
        current["key"] = key_hashes(current)
        if pd.Index(current["key"]).is_unique:
            return current, incoming.key, True
    new_key, current["key"] = exact_keys(incoming, current)
    return current, new_key, False


def _no_deals() -> pd.DataFrame:
    return pd.DataFrame({c: np.zeros(0, dtype=np.int64) for c in ("id", "key", "hash")})


def _deal_index(conn) -> pd.DataFrame | None:
    """``deal_index`` as ``id, key, hash`` if it lists the versions valid now; ``None``
    when missing or stale (then they are read from ``deals``)."""
    di, rd = _T["deal_index"], _T["run_deals"]
    last = conn.execute(sa.select(sa.func.max(rd.c.run_id))).scalar()
    row = conn.execute(sa.select(di)).first()
    if row is None:
        return _no_deals() if last is None else None
    if row.run_id != last or row.scheme != key_scheme():
        return None
    out = pd.DataFrame(
        {
            "id": np.frombuffer(row.ids, dtype="<i8").astype(np.int64),
            "key": np.frombuffer(row.keys, dtype="<i8").astype(np.int64),
            "hash": np.frombuffer(row.hashes, dtype="<i8").astype(np.int64),
        }
    )
    return out if len(out) == row.n_deals else None


def _write_deal_index(conn, run_id: int, keys, ids, hashes, unchanged: bool) -> None:
    """Replace ``deal_index`` by the versions valid after run ``run_id`` (or, when it
    changed none, mark the index as that run's)."""
    di = _T["deal_index"]
    if unchanged and conn.execute(sa.select(sa.func.count()).select_from(di)).scalar() == 1:
        conn.execute(di.update().values(run_id=run_id))
        return
    conn.execute(di.delete())
    conn.execute(
        di.insert().values(
            run_id=run_id,
            scheme=key_scheme(),
            n_deals=len(keys),
            keys=np.asarray(keys, dtype="<i8").tobytes(),
            ids=np.asarray(ids, dtype="<i8").tobytes(),
            hashes=np.asarray(hashes, dtype="<i8").tobytes(),
        )
    )


def _insert_deals(conn, rows: pd.DataFrame, run_id: int) -> np.ndarray:
    """Insert the new deal versions in bulk; returns their ids, row for row."""
    d = _T["deals"]
    if rows.empty:
        return np.zeros(0, dtype=np.int64)
    frame = rows[_DEAL_COLUMNS].assign(from_run=run_id)
    return _insert_with_ids(conn, d, frame, d.c.from_run == run_id)


def _insert_with_ids(conn, table: sa.Table, frame: pd.DataFrame, mine) -> np.ndarray:
    """Insert ``frame`` into ``table`` in bulk; returns the new rows' ids, row for row.

    Ids grow in insertion order on both backends; they are one range after the largest
    id before (no other transaction writes these tables while a close holds its period),
    and are read back in id order (the rows ``mine`` selects) if not.
    """
    before = conn.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0
    store.insert_frame(conn, table, frame)
    low, high, n = conn.execute(
        sa.select(sa.func.min(table.c.id), sa.func.max(table.c.id), sa.func.count()).where(
            table.c.id > before
        )
    ).one()
    if n == len(frame) and high - low + 1 == n:
        return np.arange(low, high + 1, dtype=np.int64)
    query = sa.select(table.c.id).where(mine).order_by(table.c.id)
    return np.array(conn.execute(query).scalars().all(), dtype=np.int64)


def _named_deals(lines: pd.DataFrame, deal_changes, results, labels) -> pd.DataFrame:
    """The deal changes each adjustment line names (``pos`` = its row in ``lines``)."""
    from attain.incentive.credit import credit_deals

    adjust = lines[lines["kind"] == "adjustment"]
    if deal_changes is None or deal_changes.empty or adjust.empty:
        return pd.DataFrame(columns=["pos", *_LINE_DEAL_COLUMNS[1:]])
    wanted = set(adjust["plan"])
    plans = []
    for r in results:
        if r.compiled.name in wanted:
            book = r._context["book"]
            credit = r._context.get("credit")  # the credit the payouts used
            if credit is None:
                credit = credit_deals(r.compiled, book)
            plans.append((r.compiled.name, r.compiled, book, credit))
    calendar = results[0]._context["book"].calendar
    touched = touches(deal_changes, plans, calendar)
    ytd = {r.compiled.name: r.compiled.measure == "ytd" for r in results}
    frame = adjust[["plan", "rep_id", "for_period"]].assign(pos=adjust.index.to_numpy())
    return name_deals(frame, touched, labels, calendar, ytd)


def _causes(conn, lines, previous, plan_hash, data_hash, named) -> np.ndarray:
    """Why each line is there: the regular lines are the period's own; an adjustment
    names the deals that changed since the previous close, then what else changed (the
    plan, the data files)."""
    cause = np.full(len(lines), "", dtype=object)
    adjust = (lines["kind"] == "adjustment").to_numpy()
    if not adjust.any():
        return cause
    r, rd = _T["runs"], _T["run_deals"]
    prev = conn.execute(sa.select(r.c.plans, r.c.data).where(r.c.id == previous)).one()
    changed_data = sorted(
        k for k in set(data_hash) | set(prev.data) if data_hash.get(k) != prev.data.get(k)
    )
    unrecorded = (
        conn.execute(sa.select(rd.c.run_id).where(rd.c.run_id == previous)).scalar() is None
    )
    if unrecorded and "actuals" in changed_data:
        # A run closed by a schema-1 ledger kept no deal rows: which deals changed since is
        # not known, and the cause says so rather than naming none silently.
        changed_data = [
            f"actuals (deals not named: run {previous} was closed before the ledger recorded deals)"
            if k == "actuals"
            else k
            for k in changed_data
        ]
    text = {}
    for plan, h in plan_hash.items():
        reasons = []
        if plan not in prev.plans:
            reasons.append(f"plan {plan} added")
        elif prev.plans[plan] != h:
            reasons.append(f"plan {plan} changed ({prev.plans[plan][:8]} → {h[:8]})")
        if changed_data:
            reasons.append("data changed: " + ", ".join(changed_data))
        text[plan] = "; ".join(reasons) or "recomputed"
    deals = cause_text(named, len(lines))
    other = lines.loc[adjust, "plan"].map(text).to_numpy()
    cause[adjust] = np.where(deals[adjust] != "", deals[adjust] + "; " + other, other)
    return cause


def _manual_lines(conn, period: str) -> pd.DataFrame:
    m = _T["manual_adjustments"]
    rows = _frame(
        conn.execute(
            sa.select(m).where(m.c.period == period, m.c.line_id.is_(None)).order_by(m.c.id)
        )
    )
    if rows.empty:
        return pd.DataFrame()
    return pd.DataFrame(
        {
            "plan": "",
            "rep_id": rows["rep_id"],
            "component": rows["component"],
            "kind": "manual",
            "for_period": period,
            "amount": rows["amount"].astype(np.int64),
            "earned_to_date": 0,
            "paid_before": 0,
            "cause": "manual " + rows["reason_code"] + " by " + rows["by"] + ": " + rows["reason"],
            "manual_id": rows["id"],
        }
    )


def _insert_lines(conn, lines: pd.DataFrame, run_id: int, period: str) -> np.ndarray:
    """Insert the lines in bulk; returns their ids, row for row (ids grow in insertion
    order on both backends)."""
    if lines.empty:
        return np.zeros(0, dtype=np.int64)
    t = _T["lines"]
    frame = lines[list(CLOSE_COLUMNS)].assign(run_id=run_id, period=period, state="calculated")
    for c in ("amount", "earned_to_date", "paid_before"):
        frame[c] = frame[c].astype(np.int64)
    for c in ("plan", "rep_id", "component", "kind", "for_period", "cause"):
        frame[c] = frame[c].astype(str)
    ids = _insert_with_ids(conn, t, frame, t.c.run_id == run_id)
    if "manual_id" in lines.columns:
        manual = lines["manual_id"].notna().to_numpy()
        m = _T["manual_adjustments"]
        for mid, lid in zip(lines.loc[manual, "manual_id"], ids[manual], strict=True):
            conn.execute(m.update().where(m.c.id == int(mid)).values(line_id=int(lid)))
    return ids


@contextmanager
def _beside(work, *args):
    """``work(*args)`` on a second thread while the block runs; the block gets a function
    that waits for its result (an error of ``work`` is raised there). The interpreter's
    switch interval is short meanwhile, so the thread coming back from SQLite takes the
    GIL at once rather than after Python's 5 ms (restored after)."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, BESIDE_SWITCH))
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            future = pool.submit(work, *args)
            try:
                yield future.result
            finally:
                wait([future])
    finally:
        sys.setswitchinterval(interval)


#: The switch interval while a close's parts are made beside its inserts (seconds).
BESIDE_SWITCH = 0.0005


def _insert_parts(conn, ids: np.ndarray, lines: pd.DataFrame, parts: pd.DataFrame) -> None:
    """Each line's explanation parts, in ``line_parts``: ``parts`` those of the regular
    and adjustment lines (:func:`close_parts`, in line then part order), then the manual
    lines' own."""
    frame = lines.assign(pos=np.arange(len(lines)))
    manual = frame[frame["kind"] == "manual"]
    if len(manual):
        parts = pd.concat([parts, manual_parts(manual)], ignore_index=True)
        parts = parts.sort_values("pos", kind="stable")
    if parts.empty:
        return
    pos = parts.pop("pos").to_numpy(np.int64)
    first = np.flatnonzero(np.diff(pos, prepend=-1))  # each line's first part
    parts.insert(0, "line_id", ids[pos])
    parts.insert(1, "seq", np.arange(len(pos)) - np.repeat(first, np.diff(first, append=len(pos))))
    parts["amount"] = parts["amount"].astype(np.int64)
    store.insert_frame(conn, _T["line_parts"], parts.reset_index(drop=True))


def _select_lines(conn, period, rep, line) -> pd.DataFrame:
    t, h = _T["lines"], _T["holds"]
    query = sa.select(t).order_by(t.c.id)
    if period is not None:
        query = query.where(t.c.period == period)
    if rep is not None:
        query = query.where(t.c.rep_id == rep)
    if line is not None:
        query = query.where(t.c.id == line)
    out = store.read_frame(conn, query)
    if out.empty:
        out = pd.DataFrame(columns=[c.name for c in t.columns])
    active = _frame(conn.execute(sa.select(h).where(h.c.released_at.is_(None))))
    held = np.zeros(len(out), dtype=bool)
    reason = np.full(len(out), "", dtype=object)
    for _, hold in active.iterrows():  # holds are few; lines are matched as whole columns
        match = np.array(out["period"] == hold["period"], dtype=bool)
        if hold["line_id"] is not None and not pd.isna(hold["line_id"]):
            match &= (out["id"] == int(hold["line_id"])).to_numpy()
        else:
            match &= (out["rep_id"] == hold["rep_id"]).to_numpy()
        match &= (out["state"] != "paid").to_numpy()
        reason = np.where(match & ~held, hold["reason"] or "held", reason)
        held |= match
    out["held"] = held
    out["hold_reason"] = reason
    return out


def _events(conn, ids, event, state, by, reason, at, keep_state=None) -> None:
    if not ids:
        return
    if keep_state is not None:
        states = dict(zip(keep_state["id"].astype(int), keep_state["state"], strict=True))
    records = [
        {
            "line_id": i,
            "event": event,
            "state": states[i] if keep_state is not None else state,
            "by": by,
            "at": at,
            "reason": reason,
        }
        for i in ids
    ]
    for start in range(0, len(records), 20_000):
        conn.execute(_T["line_events"].insert(), records[start : start + 20_000])


def _chunks(ids: list[int], size: int = 5000):
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _frame(result) -> pd.DataFrame:
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _what(period, rep, line) -> str:
    parts = (
        [f"period {period}"] + ([f"rep {rep}"] if rep else []) + ([f"line {line}"] if line else [])
    )
    return ", ".join(parts)


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _statements(period, currency, unit, lines, manual, parts, named, shown) -> LedgerStatements:
    from attain.incentive.result import format_minor

    notices: tuple[Notice, ...] = ()
    if lines.empty:
        notices = (Notice("empty-statements", f"period {period} has no line", shown),)
    ids = lines["id"].astype(np.int64).to_numpy() if len(lines) else np.zeros(0, np.int64)
    amount = lines["amount"].astype(np.int64).to_numpy() if len(lines) else ids
    manual = manual.drop_duplicates("line_id").set_index("line_id")
    deals_text = pd.Series(dtype=object)
    if len(named):
        label = named["deal_id"].astype(str) + " " + named["change"] + " (" + named["detail"] + ")"
        deals_text = label.groupby(named["line_id"].to_numpy()).agg("; ".join)
    out = pd.DataFrame(
        {
            "line_id": ids,
            "rep_id": lines["rep_id"].astype(str).to_numpy(),
            "period": lines["period"].astype(str).to_numpy(),
            "plan": lines["plan"].astype(str).to_numpy(),
            "component": lines["component"].astype(str).to_numpy(),
            "kind": lines["kind"].astype(str).to_numpy(),
            "for_period": np.where(lines["kind"] == "regular", "", lines["for_period"]),
            "amount": format_minor(amount, unit).to_numpy(),
            "status": status(lines) if len(lines) else np.zeros(0, dtype=object),
            "hold_reason": np.where(lines["held"].to_numpy(dtype=bool), lines["hold_reason"], ""),
            "reason_code": manual["reason_code"].reindex(ids).fillna("").to_numpy(),
            "author": manual["by"].reindex(ids).fillna("").to_numpy(),
            "cause": lines["cause"].astype(str).to_numpy(),
            "deals": deals_text.reindex(ids).fillna("").to_numpy(),
            "run_id": lines["run_id"].astype(np.int64).to_numpy() if len(lines) else ids,
            "amount_minor": amount,
            "minor_unit": unit,
        }
    )
    out = out.sort_values(["rep_id", "line_id"], kind="stable").reset_index(drop=True)
    head = out.set_index("line_id")
    if parts.empty:
        parts = pd.DataFrame(columns=["line_id", "seq", *PART_FIELDS.values(), "amount"])
    pid = parts["line_id"].astype(np.int64).to_numpy()
    table = pd.DataFrame(
        {
            "line_id": pid,
            **{c: head[c].reindex(pid).to_numpy() for c in _PART_HEAD},
            **{c: parts[c].astype(str).to_numpy() for c in PART_FIELDS.values()},
            "amount": format_minor(parts["amount"].astype(np.int64).to_numpy(), unit).to_numpy(),
        }
    )
    order = np.lexsort((parts["seq"].astype(np.int64).to_numpy(), pid, table["rep_id"].astype(str)))
    table = table.iloc[order].reset_index(drop=True)
    return LedgerStatements(period, currency, out, table, shown, notices)


_PART_HEAD = ["rep_id", "period", "component", "kind", "for_period", "status"]

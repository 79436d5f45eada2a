"""The ledger's database: its tables, its schema version and migrations, and connecting.

A ledger is a SQLite file (a plain path) or a PostgreSQL database (``postgresql://…``,
through psycopg 3), reached through SQLAlchemy Core. Money is integer minor units.

The schema is versioned: the ``schema_version`` table holds one row, the version the
ledger was last migrated to. :data:`MIGRATIONS` is the explicit list of steps, each
taking the ledger from version ``i`` to ``i + 1``; :func:`migrate` runs the missing ones
in one transaction. A ledger of a newer version than this attain knows is refused.

Tables (every row keyed by run):

- ``plans``: plan files by content hash (``sha256``), with their text;
- ``runs``: one per close, with its plans' hashes, the data files' hashes, the attain
  version, the options and the timings;
- ``periods``: one row per closed period (the period is its key: two closes of one
  period cannot both commit);
- ``lines``: the payable lines — run, plan, rep, period, component, amount (minor
  units), kind (``regular``, ``adjustment``, ``manual``), ``for_period`` (the period an
  adjustment corrects), state (``calculated``, ``approved``, ``paid``), cause;
- ``line_events``: each change of a line's state (who, when, why);
- ``holds``: holds on a rep's lines of a period, or on one line, until released;
- ``manual_adjustments``: one-off amounts with a reason code and an author, entered for
  an open period and recorded as ``manual`` lines when it closes.

Since version 2:

- ``deals``: the deal rows the runs used, one row per version of a deal row (key
  ``deal_id, type, rep_id``; date, product, amount and split in minor units and
  millionths, and a content hash of every field the payout reads), valid from the run
  that first saw it (``from_run``) until the run that saw it change or go
  (``to_run``): the deals a run used are those valid at it;
- ``run_deals``: the runs that recorded their deals (a run of a version 1 ledger did not);
- ``line_deals``: the deal rows an adjustment line names — added, cancelled, resized,
  re-credited, moved or removed since the close that last settled its period;
- ``line_parts``: each line's explanation, the parts that add up to its amount (the
  record ``statements.csv`` is made of), so a line can be explained from the ledger
  alone.

Since version 3:

- ``deal_index``: the deal versions valid now, as one row — three arrays of 64-bit
  integers (each version's key hash; its ``deals.id``; its content hash) —
  written by the close that last recorded deals (``run_id``), so the next close compares
  its deal rows with the ledger's in one read instead of a row per deal. It is derived
  from ``deals`` (rebuilt from it when missing or stale) and holds nothing else;
- ``deals`` loses its index on ``(to_run, deal_id)``: nothing looks a deal up by it (the
  current versions come from ``deal_index``), and each deal row recorded paid for it
  (a text key per row, in the deals' order, which is random in a real actuals file).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url

from attain.errors import InputError, Problem, StorageError

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "LedgerError",
    "connect",
    "display_url",
    "insert_frame",
    "ledger_url",
    "read_frame",
    "metadata",
    "migrate",
    "tables",
]

metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version", metadata, sa.Column("version", sa.Integer, nullable=False)
)

plans = sa.Table(
    "plans",
    metadata,
    sa.Column("hash", sa.String(64), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("content", sa.Text, nullable=False),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("period", sa.String(16), nullable=False),
    sa.Column("fiscal_year", sa.Integer, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("attain_version", sa.String(32), nullable=False),
    sa.Column("plans", sa.JSON, nullable=False),  # plan name → content hash
    sa.Column("data", sa.JSON, nullable=False),  # data file name → content hash
    sa.Column("options", sa.JSON, nullable=False),
    sa.Column("timings", sa.JSON, nullable=False),
    sa.Column("currency", sa.String(8), nullable=False),
    sa.Column("minor_unit", sa.Integer, nullable=False),
    sa.Column("n_lines", sa.Integer, nullable=False),
    sa.Column("total", sa.BigInteger, nullable=False),
)

periods = sa.Table(
    "periods",
    metadata,
    sa.Column("period", sa.String(16), primary_key=True),
    sa.Column("fiscal_year", sa.Integer, nullable=False),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
)

lines = sa.Table(
    "lines",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("plan", sa.Text, nullable=False),
    sa.Column("rep_id", sa.Text, nullable=False),
    sa.Column("period", sa.String(16), nullable=False),
    sa.Column("component", sa.Text, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("for_period", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("cause", sa.Text, nullable=False),
    sa.Column("earned_to_date", sa.BigInteger, nullable=False),
    sa.Column("paid_before", sa.BigInteger, nullable=False),
    sa.CheckConstraint("kind in ('regular', 'adjustment', 'manual')", name="line_kind"),
    sa.CheckConstraint("state in ('calculated', 'approved', 'paid')", name="line_state"),
)
sa.Index("lines_period", lines.c.period, lines.c.rep_id)
sa.Index("lines_for_period", lines.c.plan, lines.c.for_period)

line_events = sa.Table(
    "line_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("line_id", sa.Integer, sa.ForeignKey("lines.id"), nullable=False),
    sa.Column("event", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # the state after the event
    sa.Column("by", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)
sa.Index("line_events_line", line_events.c.line_id)

holds = sa.Table(
    "holds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("period", sa.String(16), nullable=False),
    sa.Column("rep_id", sa.Text, nullable=True),  # a rep's lines of the period …
    sa.Column("line_id", sa.Integer, sa.ForeignKey("lines.id"), nullable=True),  # … or one
    sa.Column("by", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("released_by", sa.Text, nullable=True),
    sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("release_reason", sa.Text, nullable=True),
)

manual_adjustments = sa.Table(
    "manual_adjustments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("period", sa.String(16), nullable=False),
    sa.Column("rep_id", sa.Text, nullable=False),
    sa.Column("component", sa.Text, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("reason_code", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("by", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("line_id", sa.Integer, sa.ForeignKey("lines.id"), nullable=True),
    sa.CheckConstraint(
        "reason_code in ('bonus', 'correction', 'guarantee', 'other')", name="reason_code"
    ),
)

#: Manual adjustments' reason codes.
REASON_CODES = ("bonus", "correction", "guarantee", "other")

_V1 = [plans, runs, periods, lines, line_events, holds, manual_adjustments]

# --- version 2: the deals each run used, the deals an adjustment names, the parts -------

deals = sa.Table(
    "deals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("deal_id", sa.Text, nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("rep_id", sa.Text, nullable=False),
    sa.Column("date", sa.String(10), nullable=False),
    sa.Column("product", sa.Text, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),  # the whole deal, minor units
    sa.Column("split", sa.BigInteger, nullable=False),  # the rep's share, millionths
    sa.Column("minor_unit", sa.Integer, nullable=False),
    sa.Column("hash", sa.BigInteger, nullable=False),  # every field the payout reads
    sa.Column("from_run", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("to_run", sa.Integer, sa.ForeignKey("runs.id"), nullable=True),
)
# Version 2 also indexed deals on (to_run, deal_id); version 3 drops that index, so a new
# ledger no longer builds it (see _deal_index_v3).

run_deals = sa.Table(
    "run_deals",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), primary_key=True),
    sa.Column("n_deals", sa.Integer, nullable=False),
    sa.Column("n_changed", sa.Integer, nullable=False),
)

line_deals = sa.Table(
    "line_deals",
    metadata,
    sa.Column("line_id", sa.Integer, sa.ForeignKey("lines.id"), nullable=False),
    sa.Column("deal_id", sa.Text, nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("rep_id", sa.Text, nullable=False),  # the deal row's rep
    sa.Column("change", sa.String(16), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.CheckConstraint(
        "change in ('added', 'cancelled', 'resized', 're-credited', 'moved', 'changed', 'removed')",
        name="deal_change",
    ),
)
sa.Index("line_deals_line", line_deals.c.line_id)

line_parts = sa.Table(
    "line_parts",
    metadata,
    sa.Column("line_id", sa.Integer, sa.ForeignKey("lines.id"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("part", sa.Text, nullable=False),
    sa.Column("measure", sa.Text, nullable=False),
    sa.Column("from_value", sa.Text, nullable=False),
    sa.Column("to_value", sa.Text, nullable=False),
    sa.Column("base", sa.Text, nullable=False),
    sa.Column("rate", sa.Text, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),  # minor units
    sa.Column("detail", sa.Text, nullable=True),  # JSON of any further columns of the record
)

_V2 = [deals, run_deals, line_deals, line_parts]

# --- version 3: the current deal versions as one row; no index on deals -----------------

deal_index = sa.Table(
    "deal_index",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), primary_key=True),
    sa.Column("scheme", sa.String(64), nullable=False),  # how the key hashes were made
    sa.Column("n_deals", sa.Integer, nullable=False),
    sa.Column("keys", sa.LargeBinary, nullable=False),  # int64 little-endian, a key hash each
    sa.Column("ids", sa.LargeBinary, nullable=False),  # the versions' deals.id
    sa.Column("hashes", sa.LargeBinary, nullable=False),  # the versions' content hashes
)

_V3 = [deal_index]

tables = {t.name: t for t in metadata.sorted_tables}


def _create_v1(conn: Connection) -> None:
    metadata.create_all(conn, tables=_V1)


def _deals_and_parts_v2(conn: Connection) -> None:
    metadata.create_all(conn, tables=_V2)


def _deal_index_v3(conn: Connection) -> None:
    conn.exec_driver_sql("DROP INDEX IF EXISTS deals_current")
    metadata.create_all(conn, tables=_V3)


#: The migrations, in order: ``MIGRATIONS[i]`` takes a ledger from version ``i`` to
#: ``i + 1``. Add a step at the end; never edit one that has shipped.
MIGRATIONS: list[Callable[[Connection], None]] = [
    _create_v1,
    _deals_and_parts_v2,
    _deal_index_v3,
]
SCHEMA_VERSION = len(MIGRATIONS)


class LedgerError(InputError):
    """The ledger cannot be used as asked: a bad URL, a refused login, a closed period,
    a line in the wrong state (exit 2)."""

    def __init__(self, where: str, message: str, hint: str = ""):
        super().__init__([Problem(where, message, hint=hint)])


def ledger_url(url: str | os.PathLike[str]) -> URL:
    """``pay.db`` (a plain path) → SQLite; ``postgresql://…`` → PostgreSQL via psycopg 3."""
    text = os.fspath(url)
    if "://" not in text:
        return URL.create("sqlite", database=os.path.abspath(text))
    try:
        parsed = make_url(text)
    except sa.exc.ArgumentError:
        raise LedgerError(text, "not a database URL", hint=_URL_HINT) from None
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername == "sqlite":
        return parsed
    raise LedgerError(
        display_url(parsed), f"unsupported database `{parsed.drivername}`", hint=_URL_HINT
    )


_URL_HINT = "give a file path (SQLite) or postgresql://user:password@host:port/database"


def display_url(url: URL | str) -> str:
    """The URL as errors show it: never the password."""
    if isinstance(url, str):
        return url
    shown = url.set(drivername=url.drivername.split("+")[0])
    if shown.password is not None:
        shown = shown.set(password="***")
    return shown.render_as_string(hide_password=False)


#: The first bytes of every SQLite database file.
_SQLITE_HEADER = b"SQLite format 3\x00"


def check_sqlite_file(url: URL, shown: str) -> None:
    """Refuse, before connecting, a SQLite ledger path that cannot be a ledger: a
    folder, a device or pipe, a file that cannot be read, or one that is not a SQLite
    database (a CSV given by mistake). A missing file is fine (``init`` creates it)."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return
    path = url.database
    if not os.path.lexists(path):
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise LedgerError(shown, f"no folder {folder} to hold the ledger")
        return
    hint = "give the ledger's SQLite file (create one with: attain ledger init --ledger FILE)"
    if os.path.isdir(path):
        raise LedgerError(shown, "is a folder, not a ledger file", hint=hint)
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise LedgerError(shown, "is not a regular file (a device or pipe?)", hint=hint)
        with open(path, "rb") as handle:
            head = handle.read(len(_SQLITE_HEADER))
    except OSError as exc:
        raise LedgerError(shown, f"cannot read the ledger: {exc.strerror or exc}") from None
    if head and head != _SQLITE_HEADER[: len(head)] or 0 < len(head) < len(_SQLITE_HEADER):
        raise LedgerError(shown, "not a ledger: the file is not a SQLite database", hint=hint)


def create(url: URL, shown: str | None = None) -> Engine:
    check_sqlite_file(url, shown or display_url(url))
    if url.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi, record):  # noqa: ANN001
            dbapi.isolation_level = None  # transactions begin where we say (BEGIN IMMEDIATE)
            cur = dbapi.cursor()
            cur.execute("PRAGMA foreign_keys = ON")
            cur.execute("PRAGMA journal_mode = WAL")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(conn):  # noqa: ANN001
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return sa.create_engine(url, connect_args={"connect_timeout": 10})


#: SQLite settings of a bulk transaction (a close), and the connection's usual ones: a
#: page cache of up to 256 MiB (the default 2 MiB spills a large transaction's pages to
#: the WAL and reads them back), and ``synchronous = NORMAL`` — in WAL mode the commit is
#: still atomic and a crash of the process loses nothing; only a power cut right after
#: it could undo the close, leaving the ledger as it was before (consistent; re-run it).
_BULK = {"cache_size": "-262144", "synchronous": "NORMAL"}
_USUAL = {"cache_size": "-2000", "synchronous": "FULL"}


@contextmanager
def connect(engine: Engine, shown: str, bulk: bool = False) -> Iterator[Connection]:
    """One transaction on the ledger: committed on success, rolled back on any error.

    Failing to connect (a wrong host, database or password) is bad input (exit 2, the URL
    shown without its password); losing the connection mid-run is a :class:`StorageError`.
    ``bulk``: a transaction that writes many rows (SQLite: :data:`_BULK`, for it alone).
    """
    check_sqlite_file(engine.url, shown)  # it may have changed since the engine was made
    try:
        conn = engine.connect()
    except sa.exc.DatabaseError as exc:  # OperationalError, or "file is not a database"
        reason = _reason(exc)
        raise LedgerError(shown, f"cannot open the ledger: {reason}") from None
    pragmas = bulk and engine.url.get_backend_name() == "sqlite"
    try:
        if pragmas:
            _pragmas(conn, _BULK)
        with conn.begin():
            yield conn
    except sa.exc.OperationalError as exc:
        if _locked(exc):
            raise LedgerError(
                shown, "the ledger is busy: another run holds it; try again"
            ) from None
        raise StorageError(f"{shown}: the ledger's database failed: {_reason(exc)}") from None
    except sa.exc.DBAPIError as exc:
        if exc.connection_invalidated:
            raise StorageError(
                f"{shown}: lost the connection to the ledger: {_reason(exc)}"
            ) from None
        if "file is not a database" in str(exc.orig):
            raise LedgerError(
                shown, f"not a ledger: {_reason(exc)}", hint="give the ledger's SQLite file"
            ) from None
        raise
    except sa.exc.PendingRollbackError:
        raise StorageError(f"{shown}: lost the connection to the ledger") from None
    finally:
        try:
            if pragmas and not conn.invalidated:
                _pragmas(conn, _USUAL)
        finally:
            conn.close()


def _pragmas(conn: Connection, values: dict[str, str]) -> None:
    """Set SQLite pragmas outside any transaction (the driver connection autocommits)."""
    raw = conn.connection.driver_connection
    for name, value in values.items():
        raw.execute(f"PRAGMA {name} = {value}")  # type: ignore[union-attr]


def _reason(exc: sa.exc.DBAPIError) -> str:
    text = str(exc.orig).strip().splitlines()
    return text[0] if text else type(exc.orig).__name__


def _locked(exc: sa.exc.OperationalError) -> bool:
    return "database is locked" in str(exc.orig)


def current_version(conn: Connection) -> int:
    """The ledger's schema version; 0 for an empty database."""
    if not sa.inspect(conn).has_table("schema_version"):
        return 0
    value = conn.execute(sa.select(schema_version.c.version)).scalar()
    return int(value or 0)


def migrate(conn: Connection, shown: str, to: int = SCHEMA_VERSION) -> tuple[int, int]:
    """Bring the ledger to :data:`SCHEMA_VERSION` (or the earlier version ``to``, which
    tests use to build old ledgers); returns (version before, after)."""
    before = current_version(conn)
    if before > SCHEMA_VERSION:
        raise LedgerError(
            shown,
            f"the ledger has schema version {before}, newer than this attain knows "
            f"({SCHEMA_VERSION})",
            hint="upgrade attain to use this ledger",
        )
    if before == 0:
        schema_version.create(conn, checkfirst=True)
        conn.execute(schema_version.insert().values(version=0))
    after = max(before, to)
    for step in MIGRATIONS[before:after]:
        step(conn)
    if before != after:
        conn.execute(schema_version.update().values(version=after))
    return before, after


def insert_frame(conn: Connection, table: sa.Table, frame: pd.DataFrame) -> None:
    """Append ``frame``'s rows to ``table`` (columns named as the table's) in bulk.

    PostgreSQL: one ``COPY … FROM STDIN`` of the frame as CSV (written by pyarrow, in C);
    SQLite: ``executemany`` of multi-row ``INSERT … VALUES (…), (…), …`` statements, a
    few hundred rows each (one statement per row costs twice as much), from plain Python
    values; a column of one value (:func:`_literal`) is a literal of the statement.
    Integer columns must be integers (a column with missing values is object dtype with
    ``None``); ``None`` (or a missing text value) is NULL.
    """
    if frame.empty:
        return
    cols = [str(c) for c in frame.columns]
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in cols)
    if conn.dialect.name == "postgresql":
        _copy_frame(conn, f"COPY {quote(table.name)} ({names}) FROM STDIN (FORMAT csv)", frame)
        return
    # A column of one value is written into the statement, not bound row by row (a
    # close's lines share their run, period, state and often plan, kind and cause).
    fixed = {c: text for c in cols[1:] if len(frame) > 1 and (text := _literal(frame[c]))}
    bound = [c for c in cols if c not in fixed]
    width = len(bound)
    per = max(1, min(_SQLITE_ROWS, _SQLITE_VARIABLES // width))
    names = ", ".join(quote(c) for c in [*bound, *fixed])
    row = "(" + ", ".join(["?"] * width + list(fixed.values())) + ")"
    head = f"INSERT INTO {quote(table.name)} ({names}) VALUES "
    for start in range(0, len(frame), _BATCH):
        part = frame.iloc[start : start + _BATCH]
        n = len(part)
        flat: list[Any] = [None] * (n * width)
        for j, c in enumerate(bound):
            flat[j::width] = _values(part[c])
        whole, step = n // per, per * width
        if whole:
            statements = [tuple(flat[i * step : (i + 1) * step]) for i in range(whole)]
            conn.exec_driver_sql(head + ", ".join([row] * per), statements)
        if n > whole * per:
            rest = tuple(flat[whole * step :])
            conn.exec_driver_sql(head + ", ".join([row] * (n - whole * per)), rest)


#: Rows a batch of :func:`insert_frame` holds as Python values at once.
_BATCH = 100_000
#: Rows per SQLite ``INSERT`` statement, and the bound values it may take (SQLite allows
#: 32,766; a few thousand is where the gain stops).
_SQLITE_ROWS, _SQLITE_VARIABLES = 300, 4000


def _literal(column: pd.Series) -> str | None:
    """The SQL literal of a column holding one value throughout (an integer, a text
    without NUL, or missing: NULL), else None. The first, last and every 997th value are
    compared first: a varying column is told apart without reading it all."""
    values = column.to_numpy()
    first = values[0]
    if column.dtype.kind in "iu":
        if (values[::997] != first).any() or (values != first).any():
            return None
        return str(int(first))
    if column.dtype.kind == "b" or not isinstance(first, str | None):
        return None
    if first is None:
        same = all(v is None for v in values[::997]) and all(v is None for v in values)
        return "NULL" if same else None
    if "\x00" in first or values[-1] != first or (values[::997] != first).any():
        return None
    if not (values == first).all():
        return None
    return "'" + first.replace("'", "''") + "'"


def _values(column: pd.Series) -> list[Any]:
    """A column as plain Python values (numpy scalars are not bound by sqlite3); a missing
    text value (NaN in a text column) is ``None``."""
    values = column.tolist()
    if column.dtype.kind not in "iub" and column.hasnans:
        values = [None if v is not None and v != v else v for v in values]
    return values


def _copy_frame(conn: Connection, sql: str, frame: pd.DataFrame) -> None:
    """``COPY … FROM STDIN (FORMAT csv)`` of ``frame``: pyarrow writes the CSV (text always
    quoted, so an empty text is ``""`` and a missing one the unquoted empty field, NULL)."""
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.csv as pa_csv  # type: ignore[import-untyped]

    options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with _driver_errors(conn, sql), cursor.copy(sql) as copy:
            for start in range(0, len(frame), 500_000):
                part = pa.Table.from_pandas(
                    frame.iloc[start : start + 500_000], preserve_index=False
                )
                sink = pa.BufferOutputStream()
                pa_csv.write_csv(part, sink, options)
                copy.write(memoryview(sink.getvalue()))
    finally:
        cursor.close()


@contextmanager
def _driver_errors(conn: Connection, sql: str) -> Iterator[None]:
    """The driver's own errors (from its cursor, used directly for bulk work) as
    SQLAlchemy's, which :func:`connect` maps to located messages and exit codes."""
    dbapi = conn.dialect.loaded_dbapi
    try:
        yield
    except dbapi.Error as exc:
        lost = conn.dialect.is_disconnect(exc, conn.connection.dbapi_connection, None)
        raise sa.exc.DBAPIError.instance(
            sql, None, exc, dbapi.Error, connection_invalidated=lost, dialect=conn.dialect
        ) from exc


def check_version(conn: Connection, shown: str) -> None:
    """Refuse a ledger that is not initialised, or of another schema version."""
    version = current_version(conn)
    if version == 0:
        raise LedgerError(
            shown, "not a ledger (no schema_version table)", hint="create it: attain ledger init"
        )
    if version > SCHEMA_VERSION:
        migrate(conn, shown)  # raises the newer-version error
    if version < SCHEMA_VERSION:
        raise LedgerError(
            shown,
            f"the ledger has schema version {version}; this attain uses {SCHEMA_VERSION}",
            hint="migrate it: attain ledger init",
        )


def read_frame(conn: Connection, query: sa.Select) -> pd.DataFrame:
    """The rows of ``query`` as a DataFrame, read through the driver's own cursor (plain
    tuples, no result row objects): for large reads of integer and text columns. Values
    are as the driver returns them (no SQLAlchemy type processing: not for dates or JSON).
    """
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params: Any = compiled.params
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup or ())
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), params)
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return pd.DataFrame.from_records(rows, columns=names, coerce_float=False)

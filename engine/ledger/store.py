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
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url

from attain.errors import InputError, Problem, StorageError

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "LedgerError",
    "connect",
    "display_url",
    "ledger_url",
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

tables = {t.name: t for t in metadata.sorted_tables}


def _create_v1(conn: Connection) -> None:
    metadata.create_all(conn, tables=[t for t in metadata.sorted_tables if t is not schema_version])


#: The migrations, in order: ``MIGRATIONS[i]`` takes a ledger from version ``i`` to
#: ``i + 1``. Add a step at the end; never edit one that has shipped.
MIGRATIONS: list[Callable[[Connection], None]] = [_create_v1]
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


@contextmanager
def connect(engine: Engine, shown: str) -> Iterator[Connection]:
    """One transaction on the ledger: committed on success, rolled back on any error.

    Failing to connect (a wrong host, database or password) is bad input (exit 2, the URL
    shown without its password); losing the connection mid-run is a :class:`StorageError`.
    """
    check_sqlite_file(engine.url, shown)  # it may have changed since the engine was made
    try:
        conn = engine.connect()
    except sa.exc.DatabaseError as exc:  # OperationalError, or "file is not a database"
        reason = _reason(exc)
        raise LedgerError(shown, f"cannot open the ledger: {reason}") from None
    try:
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
        conn.close()


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


def migrate(conn: Connection, shown: str) -> tuple[int, int]:
    """Bring the ledger to :data:`SCHEMA_VERSION`; returns (version before, after)."""
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
    for step in MIGRATIONS[before:]:
        step(conn)
    if before != SCHEMA_VERSION:
        conn.execute(schema_version.update().values(version=SCHEMA_VERSION))
    return before, SCHEMA_VERSION


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

"""The payout ledger: closed periods, adjustments, approvals, holds, payments and audit.

:class:`Ledger` (``attain.Ledger(url)``) holds the operations; :mod:`~attain.ledger.store`
the database (SQLite by path, PostgreSQL by URL), its versioned schema and migrations;
:mod:`~attain.ledger.close` how a close reconciles the year's exact payouts with what the
ledger recorded.
"""

from attain.ledger.api import CloseResult, Ledger
from attain.ledger.store import SCHEMA_VERSION, LedgerError

__all__ = ["SCHEMA_VERSION", "CloseResult", "Ledger", "LedgerError"]

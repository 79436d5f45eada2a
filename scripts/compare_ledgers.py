"""Compare two ledgers' contents table by table: the check that a change to the close
records the same ledger as the code before it, for the same inputs.

Both ledgers must have been closed the same way from empty (the same periods, files and
order), so their ids agree too. Compared, in id order: lines (every column but the
times), line parts, deal versions, line deals, run deals, periods, the runs' plans, data
hashes and totals, and the deal index (its arrays as bytes). Exits 1 if any differs.

Usage: python scripts/compare_ledgers.py LEDGER_A LEDGER_B   (a SQLite path or a
postgresql:// URL each), e.g. after ``bench/bench_ledger.py``-sized closes with two
checkouts of attain.
"""

from __future__ import annotations

import sys

import pandas as pd
import sqlalchemy as sa

QUERIES = {
    "lines": "SELECT id, run_id, period, plan, rep_id, component, kind, for_period, amount, "
    "earned_to_date, paid_before, state, cause FROM lines ORDER BY id",
    "line_parts": "SELECT * FROM line_parts ORDER BY line_id, seq",
    "deals": "SELECT * FROM deals ORDER BY id",
    "line_deals": "SELECT * FROM line_deals ORDER BY line_id, deal_id, type, rep_id",
    "run_deals": "SELECT * FROM run_deals ORDER BY run_id",
    "periods": "SELECT period, fiscal_year, run_id FROM periods ORDER BY period",
    "runs": "SELECT id, period, plans, data, n_lines, total, currency, minor_unit FROM runs "
    "ORDER BY id",
    "deal_index": 'SELECT run_id, scheme, n_deals, "keys" AS k, ids AS i, hashes AS h '
    "FROM deal_index",
}


def _engine(where: str) -> sa.Engine:
    if "://" not in where:
        return sa.create_engine(f"sqlite:///{where}")
    return sa.create_engine(where.replace("postgresql://", "postgresql+psycopg://", 1))


def _text(value: object) -> str:
    """A cell as comparable text (bytes as hex: the deal index's arrays)."""
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return str(value)


def main(a: str, b: str) -> int:
    engines = _engine(a), _engine(b)
    same = True
    for name, query in QUERIES.items():
        frames = []
        for engine in engines:
            with engine.connect() as conn:
                frames.append(pd.read_sql(sa.text(query), conn).map(_text))
        equal = frames[0].shape == frames[1].shape and frames[0].equals(frames[1])
        same &= equal
        print(f"{name:12s} {len(frames[0]):>10,} rows  {'equal' if equal else 'DIFFERENT'}")
    print("the ledgers are equal" if same else "the ledgers differ")
    return 0 if same else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))

"""Reading table files in bounded blocks: Parquet a batch of rows at a time, Excel a run
of rows at a time, each block typed with its true rows; the result is the table read
whole. (CSV blocks: tests/test_data.py.)"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from attain import tables_read
from attain.errors import DataError
from attain.tables import TABLES
from attain.tables_read import read_checked_table, read_table, read_typed

ROOT = Path(__file__).resolve().parent.parent
DEALS = ROOT / "tests" / "corpus" / "_base" / "actuals.csv"


def _deals() -> pd.DataFrame:
    """The tiny company's deals as a file would type them: numbers, dates, flags."""
    frame = pd.read_csv(DEALS, dtype=str)
    for c in ("amount", "split", "quantity"):
        frame[c] = frame[c].astype(float)
    frame["date"] = pd.to_datetime(frame["date"])
    frame["new_customer"] = frame["new_customer"] == "True"
    return frame


def _typed(path: Path, monkeypatch, rows: int):
    monkeypatch.setattr(tables_read, "ROWS_PER_BLOCK", rows)
    return read_typed(path, TABLES["actuals"])


@pytest.mark.parametrize("suffix", [".parquet", ".xlsx"])
def test_blocks_type_a_table_as_one_block_does(tmp_path, monkeypatch, suffix):
    deals = _deals()
    deals.loc[100, "amount"] = -5.0  # a bad cell in a late block: its own row
    deals.loc[200, "split"] = 0.5
    path = tmp_path / f"deals{suffix}"
    if suffix == ".parquet":
        deals.to_parquet(path, row_group_size=50)
    else:
        deals.to_excel(path, index=False)
    whole, whole_problems = _typed(path, monkeypatch, 10**6)
    blocked, problems = _typed(path, monkeypatch, 7)
    pd.testing.assert_frame_equal(whole, blocked, check_exact=True)
    assert [str(p) for p in problems] == [str(p) for p in whole_problems]
    first = 1 if suffix == ".parquet" else 2  # Parquet counts records from 1
    assert [(p.row, p.field) for p in problems] == [(100 + first, "amount")]
    assert len(blocked) == len(deals) and blocked["date"].iloc[0] == pd.Timestamp("2027-01-02")


def test_a_parquet_file_is_read_a_batch_of_rows_at_a_time(tmp_path, monkeypatch):
    path = tmp_path / "deals.parquet"
    _deals().to_parquet(path, row_group_size=100)
    monkeypatch.setattr(tables_read, "ROWS_PER_BLOCK", 30)
    blocks = list(tables_read._parquet_blocks(path))
    assert [first for _, first, _, _, _ in blocks] == list(range(1, 237, 30))
    assert sum(n for _, _, n, _, _ in blocks) == 236 and max(len(b[0]) for b in blocks) == 30


def test_an_empty_parquet_table_has_its_columns(tmp_path):
    path = tmp_path / "deals.parquet"
    _deals().iloc[:0].to_parquet(path)
    typed = read_checked_table(path, TABLES["actuals"])
    assert len(typed) == 0 and list(typed.columns)[:3] == ["deal_id", "date", "rep_id"]


def _sheet(tmp_path, rows: list[list[object]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    path = tmp_path / "t.xlsx"
    book.save(path)
    return path


HEAD = ["deal_id", "date", "rep_id", "product", "amount"]


def test_excel_dates_and_whole_numbers_read_as_written(tmp_path):
    """Before: pandas gave a date cell as '2027-01-02 00:00:00', which no date check took."""
    path = _sheet(tmp_path, [HEAD, ["D1", dt.datetime(2027, 1, 2), "R1", "a", 1200.0]])
    assert read_table(path).iloc[0].tolist() == ["D1", "2027-01-02", "R1", "a", "1200"]
    typed = read_checked_table(path, TABLES["actuals"])
    assert typed["date"].iloc[0] == pd.Timestamp("2027-01-02") and typed["amount"].iloc[0] == 1200


def test_excel_rows_keep_their_numbers_after_a_blank_row(tmp_path, monkeypatch):
    rows = [
        HEAD,
        ["D1", "2027-01-02", "R1", "a", 10],
        [None] * 5,
        ["D2", "2027-01-03", "R1", "a", -1],
    ]
    path = _sheet(tmp_path, rows)
    with pytest.raises(DataError) as info:
        read_checked_table(path, TABLES["actuals"])
    assert [(p.row, p.field, p.code) for p in info.value.problems] == [(4, "amount", "range")]


def test_an_excel_cell_right_of_the_header_is_a_located_error(tmp_path):
    path = _sheet(tmp_path, [HEAD, ["D1", "2027-01-02", "R1", "a", 10, None, "stray"]])
    for read in (lambda: read_table(path), lambda: read_checked_table(path, TABLES["actuals"])):
        with pytest.raises(DataError) as info:
            read()
        (p,) = info.value.problems
        assert (p.row, p.code) == (2, "long-row") and "column G" in p.message


def test_an_excel_header_naming_a_column_twice_is_an_error(tmp_path):
    path = _sheet(tmp_path, [[*HEAD, "amount"], ["D1", "2027-01-02", "R1", "a", 10, 11]])
    with pytest.raises(DataError) as info:
        read_table(path)
    assert [(p.row, p.field, p.code) for p in info.value.problems] == [
        (1, "amount", "duplicate-column")
    ]


@pytest.mark.parametrize("suffix", [".parquet", ".xlsx"])
def test_a_damaged_file_is_a_located_error(tmp_path, suffix):
    path = tmp_path / f"t{suffix}"
    path.write_bytes(b"PK\x03\x04 not really" if suffix == ".xlsx" else b"PAR1 garbage PAR1")
    with pytest.raises(DataError) as info:
        read_checked_table(path, TABLES["actuals"])
    assert info.value.problems[0].code == "unreadable"
    assert str(info.value.problems[0]).startswith(f"{path}: cannot read the file")

"""The one workbook writer: same data, same bytes; formats, frozen headers, autofilter,
widths read back with openpyxl; long sheets continue; a failed write leaves nothing."""

from __future__ import annotations

import re
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from attain import xlsx


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rep_id": ["R1", "R2", "R<&>3"],
            "reps": np.array([3, 12, 1_250], dtype=np.int64),
            "target": [1_200_000.5, 23_968_561.52540432, np.nan],
            "share": [0.0676, 0.5, 1.25],
        }
    )


KINDS = {"rep_id": "text", "reps": "integer", "target": "money", "share": "percent"}


def test_reruns_are_byte_identical(tmp_path):
    styles = xlsx.Styles("EUR", 2)
    sheets = lambda: xlsx.table("reps", _frame(), KINDS, styles)  # noqa: E731 (fresh generators)
    a = xlsx.write_workbook(tmp_path / "a.xlsx", sheets(), styles)
    b = xlsx.write_workbook(tmp_path / "b.xlsx", sheets(), styles)
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as z:
        core = z.read("docProps/core.xml").decode()
        assert "2000-01-01T00:00:00Z" in core and "lastModifiedBy" not in core
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_formats_header_filter_and_widths_read_back(tmp_path):
    styles = xlsx.Styles("EUR", 2)
    path = xlsx.write_workbook(
        tmp_path / "t.xlsx", xlsx.table("reps", _frame(), KINDS, styles), styles
    )
    ws = load_workbook(path)["reps"]
    assert [c.value for c in ws[1]] == ["rep_id", "reps", "target", "share"]
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:D4"
    fmt = [c.number_format for c in ws[2]]
    assert fmt == ["General", "#,##0", '#,##0.00 "EUR"', "0.00%"]
    assert ws["C3"].value == pytest.approx(23_968_561.52540432)  # a number, not text
    assert ws["D2"].value == pytest.approx(0.0676)
    assert ws["A4"].value == "R<&>3"  # escaped in the file, read back as written
    assert ws["C4"].value is None  # NaN is an empty cell, never the text "nan"
    widths = {c: ws.column_dimensions[c].width for c in "ABCD"}
    assert widths["C"] >= len("23,968,561.53 EUR")  # fits the widest amount as shown
    assert widths["B"] >= len("1,250")
    assert all(8 <= w <= 60 for w in widths.values())
    with zipfile.ZipFile(path) as z:  # Excel's hidden name for the filtered range
        assert "_xlnm._FilterDatabase" in z.read("xl/workbook.xml").decode()


def test_money_follows_the_company_decimals_and_currency():
    assert xlsx.Styles("JPY", 0).money_format == '#,##0 "JPY"'
    assert xlsx.Styles("", 2).money_format == "#,##0.00"
    assert xlsx.Styles("EUR", 3).money_format == '#,##0.000 "EUR"'


def test_long_tables_continue_on_more_sheets_with_the_header(tmp_path):
    frame = pd.DataFrame({"n": np.arange(7, dtype=np.int64), "name": list("abcdefg")})
    sheets = xlsx.table("list", frame, {"n": "integer"}, max_rows=3)
    assert len(sheets) == 4  # 2 records under each header
    path = xlsx.write_workbook(tmp_path / "l.xlsx", sheets)
    book = load_workbook(path)
    assert book.sheetnames == ["list", "list 2", "list 3", "list 4"]
    records = []
    for ws in book:
        rows = list(ws.iter_rows(values_only=True))
        assert rows[0] == ("n", "name") and len(rows) <= 3
        assert ws.auto_filter.ref == f"A1:B{len(rows)}"
        records += rows[1:]
    assert records == list(zip(range(7), "abcdefg", strict=True))


def test_sheet_names_are_cut_and_unique_ignoring_case():
    long = "y" * 40
    assert xlsx.sheet_names([long, long, "Rep", "rep", "rep"]) == [
        "y" * 31,
        "y" * 29 + " 2",
        "Rep",
        "rep 2",
        "rep 3",
    ]


def test_a_sheet_name_with_a_quote_gets_a_valid_filter_name(tmp_path):
    frame = pd.DataFrame({"a": [1.0]})
    path = xlsx.write_workbook(tmp_path / "q.xlsx", xlsx.table("rep's", frame))
    with zipfile.ZipFile(path) as z:
        assert "'rep''s'!$A$1:$A$2" in z.read("xl/workbook.xml").decode()
    assert load_workbook(path)["rep's"].auto_filter.ref == "A1:A2"


def test_unknown_kinds_are_refused():
    with pytest.raises(ValueError, match="unknown column kind"):
        xlsx.table("x", pd.DataFrame({"a": [1]}), {"a": "currency"})


def test_a_failed_write_leaves_no_file(tmp_path):
    def rows():
        yield '<row r="1"/>'
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        xlsx.write_workbook(tmp_path / "f.xlsx", [xlsx.Sheet("s", rows())])
    assert list(tmp_path.iterdir()) == []


def test_text_is_escaped_the_way_excel_reads_it():
    assert xlsx.text("a<b&c") == "a&lt;b&amp;c"
    assert xlsx.text("\x01\r") == "_x0001__x000D_"  # not XML 1.0 / normalised by parsers
    assert xlsx.text("_x0041_") == "_x005F_x0041_"  # a literal escape stays literal
    assert xlsx.text("tab\tand\nnewline _x12_") == "tab\tand\nnewline _x12_"


def test_column_letters():
    assert [xlsx.column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == [
        "A", "Z", "AA", "AZ", "BA", "ZZ", "AAA",
    ]  # fmt: skip


_text = st.lists(
    st.one_of(
        st.characters(blacklist_categories=("Cs",)),
        st.sampled_from(["_x0041_", "_x", "\r", "\x01", "&", "<", " "]),
    ),
    max_size=8,
).map("".join)


def _as_excel_reads(value: str | None) -> str:
    """A cell's text as Excel shows it: ``_xHHHH_`` escapes decoded (openpyxl keeps them)."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), value or "")


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(_text, st.integers(-(10**12), 10**12), st.floats(-1e12, 1e12)),
        min_size=0,
        max_size=8,
    )
)
def test_values_round_trip(tmp_path_factory, records):
    frame = pd.DataFrame(records, columns=["name", "count", "amount"])
    frame = frame.astype({"name": object, "count": np.int64, "amount": float})
    path = tmp_path_factory.mktemp("rt") / "r.xlsx"
    xlsx.write_workbook(
        path, xlsx.table("t", frame, {"name": "text", "count": "integer", "amount": "money"})
    )
    rows = list(load_workbook(path)["t"].iter_rows(values_only=True))
    assert rows[0] == ("name", "count", "amount")
    for (name, count, amount), row in zip(records, rows[1:], strict=True):
        assert _as_excel_reads(row[0]) == name
        assert row[1] == count
        assert row[2] == amount

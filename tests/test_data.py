"""Input tables: reading CSV/Parquet/Excel/DataFrames, cell checks, derived potential and tiers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import attain
from attain.checks import MAX_PROBLEMS
from attain.data import derive_potential, read_table
from attain.errors import DataError

MANIFEST = {
    "kind": "company",
    "name": "Tiny",
    "currency": "EUR",
    "fiscal_year": 2027,
    "hierarchy": ["region", "team"],
    "products": ["a", "b"],
    "tables": {"org": "org.csv"},
}


def _org(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rep_id": [f"R{i}" for i in range(n)],
            "name": [f"Rep {i}" for i in range(n)],
            "region": ["East"] * n,
            "team": ["E1"] * n,
            "role": ["rep"] * n,
            "tenure_months": [24] * n,
            "capacity": [1e6] * n,
            "target_incentive": [30_000] * n,
        }
    )


def _problems(**frames) -> list:
    with pytest.raises(DataError) as info:
        attain.company_from_frames(MANIFEST, **frames)
    return list(info.value.problems)


def test_sample_company_has_every_table(sample_company):
    c = sample_company
    assert c.hierarchy == ("region", "team")
    assert len(c.org) == 330 and c.org["tenure_months"].dtype == np.int64
    assert set(c.accounts["tier"].cat.categories) == {"A", "B", "C"}
    assert c.history["month"].min() == "2025-01" and c.history["month"].max() == "2026-12"
    assert set(c.actuals["type"]) == {"booking", "cancellation"}


def test_no_row_is_dropped(sample_company, sample_dir):
    for table in ("org", "accounts", "history", "actuals"):
        raw = pd.read_csv(sample_dir / f"{table}.csv", dtype=str)
        assert len(getattr(sample_company, table)) == len(raw), table


def test_tiers_follow_cumulative_potential_shares(sample_company):
    acc = sample_company.accounts.sort_values("potential_value", ascending=False)
    share = (
        acc.groupby("tier", observed=True)["potential_value"].sum() / acc["potential_value"].sum()
    )
    # The A accounts make up (just over) the top 70% of potential, A+B about 90%.
    assert 0.70 <= share["A"] < 0.72
    assert 0.90 <= share["A"] + share["B"] < 0.92
    # Tiers are monotone in potential value.
    codes = acc["tier"].cat.codes.to_numpy()
    assert (np.diff(codes) >= 0).all()


def test_potential_is_derived_from_accounts_by_the_reps_mix(sample_company):
    pot = sample_company.potential
    acc_total = sample_company.accounts.groupby("rep_id")["potential_value"].sum()
    per_rep = pot.groupby("rep_id")["potential"].sum()
    assert np.allclose(per_rep.reindex(acc_total.index), acc_total)


def test_derive_potential_falls_back_to_company_mix():
    accounts = pd.DataFrame({"rep_id": ["x", "y"], "potential_value": [100.0, 50.0]})
    history = pd.DataFrame(
        {
            "rep_id": ["x", "x"],
            "product": ["a", "b"],
            "month": ["2026-01"] * 2,
            "sales": [30.0, 10.0],
        }
    )
    pot = derive_potential(accounts, history, ["a", "b"]).set_index(["rep_id", "product"])[
        "potential"
    ]
    assert pot[("x", "a")] == 75.0 and pot[("x", "b")] == 25.0
    assert pot[("y", "a")] == 37.5  # y has no history: the company's 3:1 mix


def test_dataframes_are_checked_with_one_based_rows():
    org = _org()
    org.loc[1, "capacity"] = -5.0
    (p,) = _problems(org=org)
    assert str(p).startswith("<org>: row 2, column capacity: must be at least 0")


def test_text_cells_in_a_number_column():
    org = _org().astype(str)
    org.loc[2, "tenure_months"] = "two years"
    (p,) = _problems(org=org)
    assert (p.row, p.field, p.code) == (3, "tenure_months", "number")


def test_many_bad_cells_are_capped_not_flooded():
    org = _org(100).astype(str)
    org["capacity"] = "lots"
    problems = _problems(org=org)
    assert len(problems) == MAX_PROBLEMS + 1 and "75 more" in problems[-1].message


def test_dangling_reference_is_counted_once_per_value():
    history = pd.DataFrame(
        {
            "rep_id": ["R0", "ghost", "ghost"],
            "product": ["a", "a", "b"],
            "month": ["2026-01"] * 3,
            "sales": [1.0] * 3,
        }
    )
    (p,) = _problems(org=_org(), history=history)
    assert p.message == "unknown rep 'ghost' (and 1 more rows)" and p.row == 2


def test_optional_columns_take_their_defaults():
    deals = pd.DataFrame(
        {
            "deal_id": ["d1"],
            "date": ["2027-03-01"],
            "rep_id": ["R0"],
            "product": ["a"],
            "amount": [10.0],
        }
    )
    company = attain.company_from_frames(MANIFEST, org=_org(), actuals=deals)
    row = company.actuals.iloc[0]
    assert (row["split"], row["quantity"], row["new_customer"], row["type"]) == (
        1.0,
        1.0,
        False,
        "booking",
    )


def test_cancellation_must_refer_to_a_booking():
    deals = pd.DataFrame(
        {
            "deal_id": ["d1"],
            "date": ["2027-03-01"],
            "rep_id": ["R0"],
            "product": ["a"],
            "amount": [10.0],
            "type": ["cancellation"],
        }
    )
    (p,) = _problems(org=_org(), actuals=deals)
    assert "never booked" in p.message


def test_extra_columns_are_kept():
    org = _org()
    org["segment"] = "smb"
    company = attain.company_from_frames(MANIFEST, org=org)
    assert list(company.org["segment"]) == ["smb"] * 3


@pytest.mark.parametrize("suffix", [".parquet", ".xlsx", ".csv"])
def test_each_file_format_reads_the_same(tmp_path, suffix):
    org = _org()
    path = tmp_path / f"org{suffix}"
    if suffix == ".parquet":
        org.to_parquet(path)
    elif suffix == ".xlsx":
        org.to_excel(path, index=False)
    else:
        org.to_csv(path, index=False)
    (tmp_path / "company.yaml").write_text(
        "kind: company\nname: Tiny\ncurrency: EUR\nfiscal_year: 2027\nhierarchy: [region, team]\n"
        f"products: [a, b]\ntables:\n  org: org{suffix}\n"
    )
    company = attain.load_company(tmp_path)
    assert list(company.org["rep_id"]) == list(org["rep_id"])
    assert company.org["tenure_months"].tolist() == [24, 24, 24]
    assert company.org["target_incentive"].tolist() == [30_000.0] * 3


def test_parquet_rows_count_records_from_one(tmp_path):
    org = _org()
    org.loc[0, "rep_id"] = ""
    org.to_parquet(tmp_path / "org.parquet")
    frame = read_table(tmp_path / "org.parquet")
    with pytest.raises(DataError) as info:
        attain.company_from_frames(MANIFEST, org=frame)
    assert info.value.problems[0].row == 1


def test_unknown_file_type(tmp_path):
    with pytest.raises(DataError, match="unknown file type"):
        read_table(tmp_path / "org.txt")


def test_folder_without_manifest(tmp_path):
    with pytest.raises(DataError, match="no company.yaml"):
        attain.load_company(tmp_path)


# --- strict rows, bounded numbers, safe ids, limits ------------------------------------

from attain.checks import check_minor_units, duplicate_keys  # noqa: E402
from attain.errors import InputError  # noqa: E402
from attain.tables import ID_MAX_BYTES, MAX_AMOUNT  # noqa: E402


def test_counts_are_exact_beyond_the_listed_problems():
    org = _org(2731).astype(str)
    org["capacity"] = "lots"
    error = pytest.raises(DataError, attain.company_from_frames, MANIFEST, org=org).value
    assert error.n_problems == 2731 and error.n_listed == MAX_PROBLEMS
    assert error.problems[-1].message == "... and 2,706 more problems in this table"


def test_duplicate_keys_count_every_repeat():
    frame = pd.DataFrame({"rep_id": ["R1"] * 100 + ["R2"] * 3})
    frame.attrs.update(source="org.csv", offset=2)
    problems = duplicate_keys(frame, ("rep_id",))
    assert InputError(problems).n_problems == 99 + 2


@pytest.mark.parametrize("value", [MAX_AMOUNT, -MAX_AMOUNT, 1e17, 1e308])
def test_numbers_beyond_the_limit_are_errors(value):
    org = _org()
    org.loc[1, "capacity"] = value
    (p,) = _problems(org=org)
    assert (p.row, p.field, p.code) == (2, "capacity", "too-large")


def test_a_number_just_below_the_limit_is_taken():
    org = _org()
    org.loc[1, "capacity"] = MAX_AMOUNT - 1
    assert attain.company_from_frames(MANIFEST, org=org).org["capacity"][1] == MAX_AMOUNT - 1


@pytest.mark.parametrize(
    ("amount", "minor_unit", "bad"),
    [(60152.195, 2, True), (60152.19, 2, False), (12.5, 0, True), (12.0, 0, False),
     (0.001, 2, True), (9_999_999_999_999.99, 2, False), (1234.5678, 4, False)],
)  # fmt: skip
def test_amounts_finer_than_the_minor_unit_are_errors(amount, minor_unit, bad):
    frame = pd.DataFrame({"amount": [amount]})
    frame.attrs.update(source="actuals.csv", offset=2)
    problems = check_minor_units(frame, "amount", minor_unit)
    assert bool(problems) == bad
    if bad:
        assert (problems[0].row, problems[0].field, problems[0].code) == (
            2,
            "amount",
            "sub-minor-unit",
        )


@pytest.mark.parametrize(
    "rep_id", ["../x", "/abs", "a\\b", ".", "..", "R\x00", "R\n1", "R\u202e1", "\ufeffR1"]
)
def test_hostile_rep_ids_are_refused_at_their_cell(rep_id):
    org = _org()
    org.loc[2, "rep_id"] = rep_id
    problems = _problems(org=org)
    assert (problems[0].row, problems[0].field) == (3, "rep_id")
    assert problems[0].code in ("unsafe-id", "control-character")


def test_a_long_rep_id_is_refused_but_one_at_the_limit_is_taken():
    org = _org()
    org.loc[0, "rep_id"] = "é" * (ID_MAX_BYTES // 2)
    attain.company_from_frames(MANIFEST, org=org)
    org.loc[0, "rep_id"] = "é" * (ID_MAX_BYTES // 2) + "x"
    (p,) = _problems(org=org)
    assert p.code == "id-too-long"


def test_a_slash_in_another_id_is_allowed_but_not_a_control_character():
    org = _org()
    org["team"] = "East/1"
    attain.company_from_frames(MANIFEST, org=org)
    org["name"] = "Rep\x1b[31m"
    problems = _problems(org=org)
    assert {p.code for p in problems} == {"control-character"}


def _csv(tmp_path, text: str):
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(DataError) as info:
        read_table(path)
    return list(info.value.problems)


def test_a_short_row_is_a_located_error(tmp_path):
    (p,) = _csv(tmp_path, "a,b,c\n1,2,3\n4,5\n6,7,8\n")
    assert (p.row, p.code) == (3, "short-row") and "2 cells" in p.message


def test_a_file_cut_inside_a_quoted_cell(tmp_path):
    (p,) = _csv(tmp_path, 'a,b\n1,"x\n2,')
    assert p.code in ("truncated", "short-row", "syntax") and (p.row or 0) >= 2


def test_a_duplicate_header_is_a_located_error(tmp_path):
    (p,) = _csv(tmp_path, "a,b,a\n1,2,3\n")
    assert (p.row, p.field, p.code) == (1, "a", "duplicate-column")


def test_a_table_over_the_size_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("ATTAIN_MAX_TABLE_BYTES", "10")
    (p,) = _csv(tmp_path, "a,b\n1,2\n3,4\n")
    assert p.code == "too-large" and "ATTAIN_MAX_TABLE_BYTES" in p.hint


def test_a_pipe_or_device_is_not_a_table(tmp_path):
    import os

    os.mkfifo(tmp_path / "pipe.csv")
    for path in (tmp_path / "pipe.csv", tmp_path):
        with pytest.raises(DataError) as info:
            read_table(path / "x.csv" if path == tmp_path else path)
        assert info.value.problems[0].code in ("not-a-file", "missing-file")
    with pytest.raises(DataError) as info:
        read_table(tmp_path / "pipe.csv")
    assert info.value.problems[0].code == "not-a-file"


# --- CSV tables read block by block ----------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from attain.data import read_checked_table  # noqa: E402
from attain.tables import Column  # noqa: E402

_COLUMNS = (
    Column("rep_id", "id", "The rep."),
    Column("note", "text", "Free text."),
    Column("amount", "number", "Money.", min=0),
    Column("date", "date", "A day."),
)


def _whole(path, columns=_COLUMNS):
    """The table as it is typed when read whole (the reference)."""
    from attain.checks import check_columns

    return check_columns(read_table(path), columns, str(path), 2)


def _blocks(path, monkeypatch, size, columns=_COLUMNS):
    from pathlib import Path

    from attain.tables_read import read_typed as _read_typed

    monkeypatch.setenv("ATTAIN_CSV_BLOCK_BYTES", str(size))
    return _read_typed(Path(path), columns)


_CELL = st.text(alphabet='ab ,"\n1é', max_size=6)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.tuples(_CELL, st.integers(0, 10**6), st.integers(1, 28)), max_size=30),
    size=st.integers(1, 200),
    crlf=st.booleans(),
    bom=st.booleans(),
)
def test_blocks_type_a_table_exactly_as_the_whole_file(tmp_path_factory, rows, size, crlf, bom):
    """Quoted commas, quotes and newlines, CRLF, a byte-order mark, any block size: the
    typed table (and the cells' problems) are those of the file read whole."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(["rep_id", "note", "amount", "date"])
    for i, (note, cents, day) in enumerate(rows):
        writer.writerow([f"R{i % 4}", note, f"{cents / 100:.2f}", f"2027-01-{day:02d}"])
    path = tmp_path_factory.mktemp("blocks") / "t.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode())
    typed, problems = _whole(path)
    with pytest.MonkeyPatch.context() as monkeypatch:
        blocked, found = _blocks(path, monkeypatch, size)
    pd.testing.assert_frame_equal(typed, blocked, check_exact=True)
    assert [str(p) for p in found] == [str(p) for p in problems]


def test_a_bad_cell_in_a_late_block_has_its_own_row(tmp_path, monkeypatch):
    lines = ["rep_id,note,amount,date"] + [f"R{i},n,{i}.00,2027-01-02" for i in range(500)]
    lines[321] = "R320,n,lots,2027-01-02"  # row 322 as a spreadsheet counts
    lines[498] = "R497,n,-3,2027-01-02"
    path = tmp_path / "t.csv"
    path.write_text("\n".join(lines) + "\n")
    _, problems = _blocks(path, monkeypatch, 64)
    assert [(p.row, p.field, p.code) for p in problems] == [
        (322, "amount", "number"),
        (499, "amount", "range"),
    ]


def test_problems_over_many_blocks_are_counted_exactly(tmp_path, monkeypatch):
    lines = ["rep_id,note,amount,date"] + [f"R{i},n,x{i},2027-01-02" for i in range(2731)]
    path = tmp_path / "t.csv"
    path.write_text("\n".join(lines) + "\n")
    _, problems = _blocks(path, monkeypatch, 500)
    assert [p.row for p in problems[:MAX_PROBLEMS]] == list(range(2, 2 + MAX_PROBLEMS))
    assert problems[-1].code == "more" and problems[-1].count == 2731 - MAX_PROBLEMS
    assert len(problems) == MAX_PROBLEMS + 1


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("rep_id,note,amount,date\nR1,n,1,2027-01-02\nR2,n\nR3,n,3,2027-01-02\n", "short-row"),
        ('rep_id,note,amount,date\nR1,"n,1,2027-01-02\n', "truncated"),
        ("", "empty"),
    ],
)
def test_a_file_the_blocks_refuse_is_located_as_when_read_whole(tmp_path, monkeypatch, text, code):
    path = tmp_path / "t.csv"
    path.write_text(text)
    monkeypatch.setenv("ATTAIN_CSV_BLOCK_BYTES", "16")
    with pytest.raises(DataError) as blocks:
        read_checked_table(path, _COLUMNS)
    with pytest.raises(DataError) as whole:
        read_table(path)
    assert [str(p) for p in blocks.value.problems] == [str(p) for p in whole.value.problems]
    assert blocks.value.problems[0].code == code


def test_a_header_only_table_is_empty_with_its_columns(tmp_path, monkeypatch):
    path = tmp_path / "t.csv"
    path.write_text("rep_id,note,amount,date\n")
    typed, problems = _blocks(path, monkeypatch, 4)
    assert problems == [] and len(typed) == 0
    assert list(typed.columns) == ["rep_id", "note", "amount", "date"]


def test_a_missing_column_is_reported_once(tmp_path, monkeypatch):
    path = tmp_path / "t.csv"
    path.write_text("rep_id,note,date\n" + "R1,n,2027-01-02\n" * 50)
    typed, problems = _blocks(path, monkeypatch, 40)
    assert typed is None and [p.code for p in problems] == ["missing-column"]


def test_repeated_ids_share_one_string(sample_company):
    """Ids are stored once per distinct value (the memory of a large table)."""
    reps = sample_company.history["rep_id"].to_numpy()
    assert len({id(x) for x in reps}) == len(set(reps))


# --- rows of the wrong length, line ends, against Python's csv module -------------------


def test_a_row_with_too_many_cells_is_a_located_error(tmp_path):
    (p,) = _csv(tmp_path, "a,b,c\n1,2,3\n4,5,6,7\n8,9,10\n")
    assert (p.row, p.code) == (3, "long-row")
    assert p.message == "the row has 4 cells where the header has 3"


@pytest.mark.parametrize("rows", ["all", "first"])
def test_extra_cells_never_make_the_first_cell_an_index(tmp_path, rows):
    """pandas takes the first cell as an index when the first row has one cell more
    than the header: every cell then shifts one column left."""
    body = ["1,2,3,x", "4,5,6,x"] if rows == "all" else ["1,2,3,x", "4,5,6"]
    problems = _csv(tmp_path, "a,b,c\n" + "\n".join(body) + "\n")
    expected = [2, 3] if rows == "all" else [2]
    assert [(p.row, p.code) for p in problems] == [(r, "long-row") for r in expected]


def test_rows_of_the_wrong_length_are_all_counted(tmp_path):
    lines = ["a,b,c"] + [f"{i},x" if i % 2 else f"{i},x,y,z" for i in range(2731)]
    problems = _csv(tmp_path, "\n".join(lines) + "\n")
    assert [p.row for p in problems[:MAX_PROBLEMS]] == list(range(2, 2 + MAX_PROBLEMS))
    assert problems[-1].code == "more" and problems[-1].count == 2731 - MAX_PROBLEMS


def test_a_quoted_lone_carriage_return_is_the_cells_text(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b'a,b,c\n1,"x\ry",3\n4,"\r",6\n7,8,9\n')
    frame = read_table(path)
    assert frame["b"].tolist() == ["x\ry", "\r", "8"]
    columns = tuple(Column(c, "text", c) for c in "abc")
    typed, problems = _read_typed_path(path, columns)
    assert [(p.row, p.field, p.code) for p in problems] == [
        (2, "b", "control-character"),
        (3, "b", "empty"),  # "\r" is blank once stripped
    ]


def test_a_file_with_lone_carriage_returns_as_line_ends(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b'a,b\r1,"x\ry"\r3,4\r')
    assert read_table(path).to_dict("list") == {"a": ["1", "3"], "b": ["x\ry", "4"]}
    path.write_bytes(b"a,b\r1,2\r3\r")
    (p,) = _csv_bytes(path)
    assert (p.row, p.code) == (3, "short-row")


def _csv_bytes(path):
    with pytest.raises(DataError) as info:
        read_table(path)
    return list(info.value.problems)


def _read_typed_path(path, columns):
    from attain.tables_read import read_typed as _read_typed

    return _read_typed(path, columns)


_RAW_CELL = st.text(alphabet=["x", "y", " ", "\r", "\n", ",", '"', "é"], max_size=4)


@st.composite
def _raw_csv(draw):
    """CSV text of 3 columns, rows of 2 to 4 cells, quoted where a cell needs it (and at
    random), with \\n or \\r\\n line ends, sometimes cut off at a random byte."""
    rows = ["a,b,c"]
    for _ in range(draw(st.integers(0, 6))):
        cells = []
        for _ in range(draw(st.sampled_from([3, 3, 3, 2, 4]))):
            text = draw(_RAW_CELL)
            needs = any(ch in text for ch in '\r\n,"') or text.startswith(" ")
            quoted = '"' + text.replace('"', '""') + '"'
            cells.append(quoted if needs or draw(st.booleans()) else text)
        rows.append(",".join(cells))
    text = draw(st.sampled_from(["\n", "\r\n"])).join(rows) + draw(st.sampled_from(["", "\n"]))
    if draw(st.integers(0, 4)) == 0:
        text = text[: draw(st.integers(len(rows[0]) + 1, max(len(rows[0]) + 1, len(text))))]
    return text


@settings(max_examples=150, deadline=None)
@given(text=_raw_csv(), size=st.integers(1, 64))
def test_the_reader_agrees_with_the_csv_module(tmp_path_factory, text, size):
    """Quotes, commas, CR and LF anywhere: the cells are those Python's csv module reads,
    or the error lists exactly the rows whose number of cells is not the header's (or
    the row a file cut inside a quoted cell ends in); read whole or in blocks alike."""
    import csv
    import io

    path = tmp_path_factory.mktemp("raw") / "t.csv"
    path.write_bytes(text.encode())
    records = [r for r in csv.reader(io.StringIO(text, newline=""), skipinitialspace=True) if r]
    body = records[1:]
    closed = text.count('"') % 2 == 0
    wrong = [i + 2 for i, r in enumerate(body) if len(r) != 3 and (closed or i < len(body) - 1)]
    columns = tuple(Column(c, "text", c, required=False) for c in "abc")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("ATTAIN_CSV_BLOCK_BYTES", str(size))
        try:
            typed, problems = _read_typed_path(path, columns)
        except DataError as exc:
            typed, problems = None, list(exc.problems)
    if not closed:
        assert problems and problems[-1].code == "truncated"
        assert problems[-1].row == len(body) + 1
        problems = problems[:-1]
    if wrong or not closed:
        assert typed is None
        assert [p.row for p in problems] == wrong
        assert {p.code for p in problems} <= {"short-row", "long-row"}
        return
    cells = [p for p in problems if p.code != "control-character"]
    assert cells == []
    got = typed[["a", "b", "c"]].to_numpy().tolist()
    assert got == [[c.strip() for c in r] for r in body]


def test_load_company_reads_the_tables_asked_for(sample_dir):
    company = attain.load_company(sample_dir, tables=("org",))
    assert company.accounts is None and company.history is None and company.actuals is None
    assert len(company.org) == 330
    with pytest.raises(ValueError, match="unknown tables"):
        attain.load_company(sample_dir, tables=("orgs",))


def test_the_arrow_control_character_pattern_matches_the_same_code_points():
    # Text held in Arrow is checked by pyarrow's RE2 pattern, other text by Python's: the
    # two must flag exactly the same characters, every code point of Unicode.
    import re

    import pyarrow as pa
    import pyarrow.compute as pc

    from attain.checks import _CONTROL, _CONTROL_RE2

    cells = ["a" + chr(c) + "b" for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    arrow = pc.match_substring_regex(pa.array(cells), _CONTROL_RE2).to_pylist()
    python = re.compile(_CONTROL)
    assert arrow == [python.search(c) is not None for c in cells]


def test_deal_keys_and_splits_checked_from_shared_codes():
    from attain.checks import check_splits, duplicate_keys

    actuals = pd.DataFrame(
        {
            "deal_id": ["D1", "D1", "D2", "D1", "D3", "D4"],
            "type": ["booking", "booking", "booking", "cancellation", "cancellation", "booking"],
            "rep_id": ["R1", "R2", "R1", "R1", "R1", "R1"],
            "split": [0.5, 0.5, 1.0, 1.0, 1.0, 0.25],
        }
    )
    assert duplicate_keys(actuals, ("deal_id", "type", "rep_id")) == []
    twice = pd.concat([actuals, actuals.iloc[[1]]], ignore_index=True)
    (dup,) = duplicate_keys(twice, ("deal_id", "type", "rep_id"))
    assert dup.row == 7 and "first on row 2" in dup.message
    codes = pd.factorize(twice["deal_id"])[0]
    assert duplicate_keys(twice, ("deal_id", "type", "rep_id"), {"deal_id": codes}) == [dup]
    problems = check_splits(actuals)
    assert [(p.code, p.row) for p in problems] == [("split", 6), ("unknown-reference", 5)]
    assert check_splits(actuals, pd.factorize(actuals["deal_id"])[0]) == problems


def test_repeated_keys_as_pandas_finds_them():
    from attain.checks import _repeated

    rng = np.random.default_rng(5)
    for n in (0, 1, 40, 400):
        frame = pd.DataFrame(
            {
                "a": rng.choice(np.array(["x", "y", "z", None], dtype=object), n),
                "b": np.where(rng.random(n) < 0.2, np.nan, rng.integers(0, 3, n)),
                "c": rng.choice(np.array(["p", "q"], dtype=object), n),
            }
        )
        codes = {"a": pd.factorize(frame["a"], use_na_sentinel=False)[0]}
        for key in (("a",), ("a", "b"), ("a", "b", "c"), ("c", "b", "a")):
            expected = frame.duplicated(list(key), keep=False).to_numpy()
            assert (_repeated(frame, key, {}) == expected).all()
            assert (_repeated(frame, key, codes) == expected).all()


def test_deal_codes_are_pandas_factorize_once_per_table(monkeypatch):
    from attain import checks

    ids = np.array([f"D{i}" for i in range(50)], dtype=object)[np.arange(200) % 37]
    cases = [ids, ["a", "b", "a"], ["x", "\ud800", "x"], ["a", None, "a"], [1, "1", 1.0], []]
    for values in cases:
        table = pd.DataFrame({"deal_id": pd.Series(values, dtype=object)})
        codes, uniques = checks.deal_codes(table)
        expected, distinct = pd.factorize(table["deal_id"], use_na_sentinel=False)
        assert codes.tolist() == expected.tolist()
        assert pd.Index(uniques, dtype=object).equals(pd.Index(distinct, dtype=object))
        assert checks.deal_codes(table)[0] is codes  # kept while the table lives
    # Two ids of the same hash are told apart (by pandas).
    monkeypatch.setattr(pd.util, "hash_array", lambda v, categorize: np.zeros(len(v), "u8"))
    table = pd.DataFrame({"deal_id": pd.Series(["a", "b", "a", "c"], dtype=object)})
    codes, uniques = checks.deal_codes(table)
    assert codes.tolist() == [0, 1, 0, 2] and uniques.tolist() == ["a", "b", "c"]


def test_plain_numbers_read_by_arrow_as_python_reads_them():
    from attain.checks import _plain_numbers

    cells = ["12000", "-0", "+1.5", ".5", "1.", "1e5", "2.675", "9007199254740993", "1e400"]
    got = _plain_numbers(pd.Series(cells, dtype="string"))
    assert got is not None
    assert got.tolist() == [float(c) for c in cells]
    assert np.signbit(got.to_numpy()).tolist() == [np.signbit(float(c)) for c in cells]
    # Anything else is left to Python's float (underscores, spaces, words), cell by cell.
    for other in (["1_000"], ["12k"], ["nan"], [""], ["1", None]):
        assert _plain_numbers(pd.Series(other, dtype="string")) is None

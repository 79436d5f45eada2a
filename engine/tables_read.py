"""Reading table files: CSV, Parquet and Excel, in bounded blocks, every cell as given.

A table file is read, typed and checked block by block (:func:`read_checked_table`),
each block with its true first row, so a large table never exists whole as text: a
CSV file in blocks of whole records (about :data:`CSV_BLOCK_BYTES`), a Parquet file a
batch of rows at a time, an Excel sheet a run of rows at a time (openpyxl's read-only
mode). Rows count as a spreadsheet does: the header is row 1, so the first record of a
CSV or Excel file is row 2; Parquet files count records from 1.

CSV is read by pyarrow; a block it refuses is read again by Python's csv module (the
reference), which locates every row whose number of cells is not the header's.
"""

from __future__ import annotations

import csv
import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from attain.checks import MAX_PROBLEMS, capped, check_columns
from attain.errors import DataError, Problem
from attain.tables import Column

__all__ = [
    "CSV_BLOCK_BYTES",
    "MAX_TABLE_BYTES",
    "block_bytes",
    "max_table_bytes",
    "read_checked_table",
    "read_table",
    "read_typed",
]

#: The largest table file read, in bytes; the environment variable
#: ``ATTAIN_MAX_TABLE_BYTES`` overrides it.
MAX_TABLE_BYTES = 2 * 1024**3
#: A header line longer than this is not a header (e.g. a binary file named .csv).
_MAX_HEADER_BYTES = 1024 * 1024
#: CSV tables are read, typed and checked in blocks of about this many bytes, so a
#: large table never exists whole as text; ``ATTAIN_CSV_BLOCK_BYTES`` overrides it.
CSV_BLOCK_BYTES = 8 * 1024**2

_FILE_SUFFIXES = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "excel",
    ".xls": "excel",
}


def read_checked_table(path: str | Path, columns: tuple[Column, ...]) -> pd.DataFrame:
    """A table file typed and checked cell by cell per ``columns`` (block by block for
    CSV); raises :class:`~attain.errors.DataError` with every located problem."""
    typed, problems = read_typed(Path(path), columns)
    if problems or typed is None:
        raise DataError(problems)
    return typed


def read_table(path: str | Path) -> pd.DataFrame:
    """Read one table file as it is (text cells for CSV and Excel); checks come later."""
    path = Path(path)
    fmt = _FILE_SUFFIXES.get(path.suffix.lower())
    source = str(path)
    if fmt is None:
        hint = "use .csv, .parquet or .xlsx"
        raise DataError(
            [Problem(source, f"unknown file type `{path.suffix}`", hint=hint, code="file-type")]
        )
    if not path.exists():
        raise DataError([Problem(source, "file not found", code="missing-file")])
    _check_size(path, source)
    try:
        if fmt == "csv":
            frame = _read_csv(path, source)
        else:  # the same block readers as read_typed, the blocks joined
            blocks = _parquet_blocks(path) if fmt == "parquet" else _excel_blocks(path, source)
            frame = _joined(blocks, source)
    except pd.errors.EmptyDataError:
        raise DataError(
            [Problem(source, "file is empty; expected a header row", code="empty")]
        ) from None
    except pd.errors.ParserError as exc:
        raise DataError([Problem(source, f"cannot parse the file: {exc}", code="syntax")]) from None
    except DataError:
        raise
    except UnicodeDecodeError:
        raise DataError(
            [Problem(source, "not UTF-8 text", hint="save the file as UTF-8 CSV", code="encoding")]
        ) from None
    except Exception as exc:  # pyarrow/openpyxl raise many types for a corrupt file
        raise DataError(
            [Problem(source, f"cannot read the file: {exc}", code="unreadable")]
        ) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.attrs["source"] = source
    frame.attrs["offset"] = 1 if fmt == "parquet" else 2
    return frame


def read_typed(
    path: Path, columns: tuple[Column, ...]
) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read a table file and type it per ``columns``: the typed frame (None when a
    column is missing, or a row has the wrong number of cells) and its problems, rows
    counted as in the file.

    The file is read in blocks, each typed on its own with its first row's number, so
    only one block is ever held as text: a CSV file in blocks of whole records (about
    :data:`CSV_BLOCK_BYTES` each, each parsed by the same readers as a whole file), a
    Parquet file a batch of rows at a time, an Excel sheet a run of rows at a time. A
    CSV file without a header or with an unclosed quote is read whole
    (:func:`read_table`), to say where and why.
    """
    source = str(path)
    fmt = _FILE_SUFFIXES.get(path.suffix.lower())
    if fmt is not None and path.exists():
        _check_size(path, source)
        blocks: Iterator[_Block] | None = None
        if fmt == "csv":
            blocks = _csv_typed_blocks(path, source)
        elif fmt == "parquet":
            blocks = _guarded(_parquet_blocks(path), source)
        else:
            blocks = _guarded(_excel_blocks(path, source), source)
        if blocks is not None:
            typed = _type_blocks(blocks, source, columns, 1 if fmt == "parquet" else 2)
            if typed is not None:
                return typed
    frame = read_table(path)
    typed_frame, problems = check_columns(frame, columns, source, frame.attrs["offset"])
    if typed_frame is not None:
        typed_frame.attrs.update(source=source, offset=frame.attrs["offset"])
    return typed_frame, problems


#: One block of a table file: its cells as text (or as the file typed them; None when
#: a row has the wrong number of cells), its first row's number, its number of rows,
#: and the rows of the wrong length (listed, counted).
_Block = tuple[pd.DataFrame | None, int, int, list[Problem], int]


class _Unreadable(Exception):
    """A block reader could not go on: the file is read whole, to say why."""


def _type_blocks(
    blocks: Iterator[_Block], source: str, columns: tuple[Column, ...], offset: int
) -> tuple[pd.DataFrame | None, list[Problem]] | None:
    """Type and check each block on its own, keep the typed blocks, join them; the
    cells' problems counted over all blocks. Rows of the wrong length (in any block)
    are then the only problems reported. None: read the file whole."""
    typed_blocks: list[pd.DataFrame] = []
    listed: list[Problem] = []  # cell problems
    shape: list[Problem] = []  # rows of the wrong length
    total = n_shape = 0
    empty: pd.DataFrame | None = None
    try:
        for frame, first_row, _, found, n_found in blocks:
            if n_found:
                n_shape += n_found
                shape.extend(found[: max(0, MAX_PROBLEMS - len(shape))])
                typed_blocks.clear()
            if n_shape or frame is None:
                continue  # the rows are counted, not typed: their cells may be misaligned
            frame.columns = [str(c).strip() for c in frame.columns]
            typed, cells = check_columns(frame, columns, source, first_row)
            if typed is None:
                return None, cells  # a column is missing: the same in every block
            for problem in cells:
                if problem.code == "more":
                    total += problem.count
                else:
                    total += 1
                    listed.append(problem)
            if len(typed):
                typed_blocks.append(typed)
            elif empty is None:
                empty = typed  # a table without rows still has its columns
    except _Unreadable:
        return None
    if n_shape:
        return None, capped(shape, source, total=n_shape)
    if not typed_blocks:
        if empty is None:
            return None
        typed_blocks.append(empty)
    joined = _concat_blocks(typed_blocks)
    joined.attrs.update(source=source, offset=offset)
    return joined, capped(listed, source, total=total)


def _guarded(blocks: Iterator[_Block], source: str) -> Iterator[_Block]:
    """``blocks``, with a reader's own error (a damaged file) a located one."""
    try:
        yield from blocks
    except (DataError, _Unreadable):
        raise
    except Exception as exc:  # pyarrow/openpyxl raise many types for a damaged file
        raise DataError(
            [Problem(source, f"cannot read the file: {exc}", code="unreadable")]
        ) from None


def _csv_typed_blocks(path: Path, source: str) -> Iterator[_Block] | None:
    """The CSV's blocks (:func:`_csv_blocks`) parsed, or None when the file must be read
    whole. A block the fast reader refuses is read by the strict one
    (:func:`_strict_frame`), so a row of the wrong length is located in whichever block
    it is, and the rows of every block are counted: the file is never held whole to say
    where it goes wrong."""
    header = _check_header(path, source)
    if not header or not _quotes_closed(path):
        return None

    def parsed() -> Iterator[_Block]:
        row = 2  # the first record of a file with a header line
        try:
            for block in _csv_blocks(path, block_bytes()):
                frame, n_rows, found, n_found = _parse_block(block, source, row, len(header))
                yield frame, row, n_rows, found, n_found
                row += n_rows
        except (ValueError, OSError, ImportError, pd.errors.ParserError):
            raise _Unreadable from None

    return parsed()


#: Rows of a Parquet file or an Excel sheet read at a time.
ROWS_PER_BLOCK = 65_536


def _parquet_blocks(path: Path) -> Iterator[_Block]:
    """A Parquet file a batch of rows at a time (pyarrow reads one row group at a time),
    typed as the file types them, as :func:`pandas.read_parquet` reads them."""
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    file = pq.ParquetFile(path)
    row = 1
    n = 0
    for batch in file.iter_batches(batch_size=ROWS_PER_BLOCK, use_pandas_metadata=True):
        frame = batch.to_pandas()
        n += 1
        yield frame, row, len(frame), [], 0
        row += len(frame)
    if not n:  # no rows: its columns
        yield file.schema_arrow.empty_table().to_pandas(), 1, 0, [], 0


def _excel_blocks(path: Path, source: str) -> Iterator[_Block]:
    """The first sheet of an Excel workbook, a run of rows at a time (openpyxl's
    read-only mode streams the sheet), every cell as text as :func:`read_table` gives it
    (:func:`_excel_text`). A blank row ends a block, so every block's rows are the
    sheet's own numbers; a filled cell right of the header's last column is an error
    at its row (it would belong to no column)."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    book = load_workbook(path, read_only=True, data_only=True, keep_links=False)
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header: list[str] = []
        row = 1
        for first in rows:  # the first row with a filled cell
            header = _trimmed([_excel_text(v) for v in first])
            row += 1
            if header:
                break
        if not header:
            raise pd.errors.EmptyDataError
        names = [n.strip() or f"Unnamed: {i}" for i, n in enumerate(header)]
        _check_names(names, source)
        width = len(names)
        chunk: list[list[str]] = []
        start = first_row = row
        listed: list[Problem] = []
        n_wide = 0
        for values in rows:
            cells = [_excel_text(v) for v in values]
            if not any(cells):  # a blank row: the block so far, the next starts after it
                if chunk:
                    yield pd.DataFrame(chunk, columns=names, dtype=object), start, len(chunk), [], 0
                chunk = []
                row += 1
                start = row
                continue
            beyond = [i for i, c in enumerate(cells[width:], start=width) if c.strip()]
            if beyond:
                n_wide += 1
                if len(listed) < MAX_PROBLEMS:
                    letter = get_column_letter(beyond[0] + 1)
                    listed.append(
                        Problem(
                            source,
                            f"a cell in column {letter}, right of the header's {width} columns",
                            row=row,
                            code="long-row",
                            hint="give the column a name in the header row, or clear the cell",
                        )
                    )
            chunk.append(cells[:width] + [""] * (width - len(cells)))
            row += 1
            if len(chunk) >= ROWS_PER_BLOCK:
                yield pd.DataFrame(chunk, columns=names, dtype=object), start, len(chunk), [], 0
                chunk, start = [], row
        if chunk or start == first_row:
            yield pd.DataFrame(chunk, columns=names, dtype=object), start, len(chunk), [], 0
        if n_wide:
            yield None, row, 0, listed, n_wide
    finally:
        book.close()


def _trimmed(cells: list[str]) -> list[str]:
    """``cells`` without their trailing empty ones."""
    end = len(cells)
    while end and not cells[end - 1].strip():
        end -= 1
    return cells[:end]


def _excel_text(value: object) -> str:
    """An Excel cell as text: empty for an empty cell, a whole number without ``.0``
    (Excel stores every number as a float), a date as ``YYYY-MM-DD`` (with the time
    when it has one), TRUE/FALSE as ``True``/``False``."""
    import datetime as dt

    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _joined(blocks: Iterator[_Block], source: str) -> pd.DataFrame:
    """Blocks of text cells as one frame; rows of the wrong length raise."""
    frames: list[pd.DataFrame] = []
    for frame, _, _, found, n_found in blocks:
        if n_found:
            raise DataError(capped(found, source, total=n_found))
        if frame is not None and (len(frame) or not frames):
            frames.append(frame)
    return _concat_blocks(frames)


def _concat_blocks(blocks: list[pd.DataFrame]) -> pd.DataFrame:
    """The typed blocks as one frame, joined a column at a time, each column's pieces
    let go as it is joined: the table is never held twice (``blocks`` is emptied)."""
    if len(blocks) == 1:
        return blocks.pop()
    columns: dict[str, pd.Series] = {}
    for name in list(blocks[0].columns):
        parts = [block.pop(name) for block in blocks]
        columns[name] = pd.concat(parts, ignore_index=True)
        del parts
    blocks.clear()
    return pd.DataFrame(columns, copy=False)  # the joined columns are its own: no copy


def _parse_block(
    block: bytes, source: str, first_row: int, n_columns: int
) -> tuple[pd.DataFrame | None, int, list[Problem], int]:
    """One block (the header record, then whole records) as text cells: the frame, its
    number of rows, and the rows of the wrong length (listed, counted). ``first_row``
    is the row number of the block's first record after the header."""
    try:
        frame = pd.read_csv(
            io.BytesIO(block), engine="pyarrow", dtype=str, keep_default_na=False,
            encoding="utf-8",
        )  # fmt: skip
        return frame, len(frame), [], 0
    except (ValueError, OSError, ImportError, pd.errors.ParserError):
        pass  # a row of the wrong length, or a file pyarrow reads otherwise: the strict reader
    try:
        text = block.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # the records before the bad byte, the header and the one it is in ("x" opens it)
        good = block[: exc.start].decode("utf-8-sig", errors="replace") + "x"
        n_before = sum(1 for r in csv.reader(io.StringIO(good, newline="")) if r)
        raise DataError(
            [
                Problem(
                    source,
                    "not UTF-8 text",
                    row=first_row + max(0, n_before - 2),
                    hint="save the file as UTF-8 CSV",
                    code="encoding",
                )
            ]
        ) from None
    return _strict_frame(io.StringIO(text, newline=""), source, first_row, n_columns, True)


def _strict_frame(
    handle: io.TextIOBase | io.StringIO,
    source: str,
    first_row: int,
    n_columns: int,
    closed: bool,
) -> tuple[pd.DataFrame | None, int, list[Problem], int]:
    """Records read by Python's csv module (the reference reader), with every row that
    has too few or too many cells listed (at most :data:`MAX_PROBLEMS`) and counted: the
    frame (None when a row is wrong), its number of rows, the problems and their count.

    ``closed``: the quotes of the text pair up; when they do not, the record the open
    quote starts runs to the end of the file, and is reported as cut off there."""
    records = _records(handle, source, first_row)
    names = next(records, None)
    if names is None:
        return None, 0, [], 0
    listed: list[Problem] = []
    total = 0
    chunks: list[pd.DataFrame] = []
    chunk: list[list[str]] = []
    row = first_row - 1
    pending: list[str] | None = None  # one record behind: the last may be cut off
    for record in records:
        if pending is not None:
            total += _shape_problem(pending, row, n_columns, source, listed)
            if not total:
                chunk.append(pending)
                if len(chunk) >= _STRICT_CHUNK:
                    chunks.append(pd.DataFrame(chunk, columns=names, dtype=object))
                    chunk = []
        pending, row = record, row + 1
    if pending is not None:
        if closed:
            total += _shape_problem(pending, row, n_columns, source, listed)
            chunk.append(pending)
        else:
            total += 1
            if len(listed) < MAX_PROBLEMS:
                listed.append(
                    Problem(
                        source,
                        "the file ends inside a quoted cell",
                        row=row,
                        code="truncated",
                        hint="the file was cut off, or a quote is not closed",
                    )
                )
    n_rows = row - first_row + 1
    if total:
        return None, n_rows, listed, total
    chunks.append(pd.DataFrame(chunk, columns=names, dtype=object))
    frame = chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)
    return frame, n_rows, [], 0


def _records(
    handle: io.TextIOBase | io.StringIO, source: str, first_row: int
) -> Iterator[list[str]]:
    """The non-blank records of ``handle`` (the header first); a record the csv module
    cannot read (a cell over its size limit) is a located error."""
    row = first_row - 2
    try:
        for record in csv.reader(handle, skipinitialspace=True):
            if record:
                row += 1
                yield record
    except csv.Error as exc:
        raise DataError(
            [Problem(source, f"cannot read the row: {exc}", row=max(1, row + 1), code="syntax")]
        ) from None


#: Records the strict reader turns into a frame at a time.
_STRICT_CHUNK = 100_000


def _shape_problem(
    record: list[str], row: int, n_columns: int, source: str, listed: list[Problem]
) -> int:
    """1 (and the problem listed, while fewer than :data:`MAX_PROBLEMS` are) when
    ``record`` has not one cell per column of the header; else 0."""
    n = len(record)
    if n == n_columns:
        return 0
    if len(listed) < MAX_PROBLEMS:
        short = n < n_columns
        listed.append(
            Problem(
                source,
                f"the row has {n} cell{'s' if n != 1 else ''} where the header has {n_columns}",
                row=row,
                code="short-row" if short else "long-row",
                hint=(
                    "a row cut short, or a file cut off before its end"
                    if short
                    else "a cell holding a comma needs quotes"
                ),
            )
        )
    return 1


def _csv_blocks(path: Path, size: int) -> Iterator[bytes]:
    """The file as blocks of whole records, each starting with the header record.

    A record ends at a line end (``\\n``, ``\\r\\n`` or a lone ``\\r``) outside quotes:
    quotes pair up (an escaped one is doubled), so a line end ends a record when the
    quotes before it are even."""
    with open(path, "rb") as handle:
        data = b""
        head: bytes | None = None
        yielded = False
        while True:
            chunk = handle.read(size)
            data += chunk
            if head is None:
                first = _first_record_end(data, final=not chunk)
                if first < 0:
                    if chunk:
                        continue
                    yield data  # the header is the whole file
                    return
                head, data = data[: first + 1], data[first + 1 :]
            if not chunk:
                if data or not yielded:
                    yield head + data
                return
            cut = _last_record_end(data)
            if cut < 0:
                continue
            yield head + data[: cut + 1]
            yielded = True
            data = data[cut + 1 :]


def _last_record_end(data: bytes) -> int:
    """The position of the last line end of ``data`` outside quotes (-1: none); a ``\\r``
    that is the last byte is not one yet (its ``\\n`` may follow in the next block)."""
    quotes = data.count(b'"')
    end = len(data)
    cr = b"\r" in data
    while True:
        pos = data.rfind(b"\n", 0, end)
        if cr:
            pos = max(pos, data.rfind(b"\r", 0, end))
        if pos < 0:
            return -1
        quotes -= data.count(b'"', pos, end)
        if quotes % 2 == 0 and not (pos + 1 == len(data) and data[pos] == 13):
            return pos
        end = pos


def _first_record_end(data: bytes, final: bool = False) -> int:
    """The position of the last byte of the first line end of ``data`` outside quotes
    (-1: none yet). ``final``: nothing follows ``data`` (a last ``\\r`` ends the record)."""
    start = 0
    quotes = 0
    while True:
        ends = [p for p in (data.find(b"\n", start), data.find(b"\r", start)) if p >= 0]
        if not ends:
            return -1
        pos = min(ends)
        quotes += data.count(b'"', start, pos)
        if quotes % 2 == 0:
            if data[pos] != 13:
                return pos
            if pos + 1 < len(data):
                return pos + 1 if data[pos + 1] == 10 else pos
            return pos if final else -1
        start = pos + 1


def block_bytes() -> int:
    """:data:`CSV_BLOCK_BYTES`, or ``ATTAIN_CSV_BLOCK_BYTES`` when it is set."""
    return max(1, _env_limit("ATTAIN_CSV_BLOCK_BYTES", CSV_BLOCK_BYTES))


def max_table_bytes() -> int:
    """:data:`MAX_TABLE_BYTES`, or ``ATTAIN_MAX_TABLE_BYTES`` when it is set."""
    return _env_limit("ATTAIN_MAX_TABLE_BYTES", MAX_TABLE_BYTES)


def _env_limit(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip().replace("_", "")
    return int(value) if value.isdigit() else default


def _check_size(path: Path, source: str) -> None:
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise DataError(
            [Problem(source, "is not a regular file (a device or pipe?)", code="not-a-file")]
        )
    limit = max_table_bytes()
    if info.st_size > limit:
        raise DataError(
            [
                Problem(
                    source,
                    f"file is too large ({info.st_size:,} bytes; the limit is {limit:,})",
                    code="too-large",
                    hint="set ATTAIN_MAX_TABLE_BYTES to raise the limit",
                )
            ]
        )


def _read_csv(path: Path, source: str) -> pd.DataFrame:
    """Every cell as text. The pyarrow reader is over ten times faster; when it
    refuses a file, the strict reader (Python's csv module) reads it to say where
    and why.

    The header must name each column once, and every row must have as many cells
    as the header: a short row (or a file cut off in its last row) and a row with
    too many cells are errors, never a row whose missing cells take defaults or
    whose first cell becomes an index."""
    header = _check_header(path, source)
    text = {"dtype": str, "keep_default_na": False, "encoding": "utf-8"}
    closed = _quotes_closed(path)
    try:  # pyarrow refuses a row with too few or too many cells...
        if closed:  # ...but takes a file that ends inside a quoted cell
            return pd.read_csv(path, engine="pyarrow", **text)
    except (ValueError, OSError, ImportError):
        pass
    with open(path, encoding="utf-8-sig", newline="") as handle:
        frame, _, problems, total = _strict_frame(handle, source, 2, len(header), closed)
    if total:
        raise DataError(capped(problems, source, total=total))
    if frame is None:
        raise pd.errors.EmptyDataError
    return frame


def _quotes_closed(path: Path) -> bool:
    """Whether every quote is closed (quotes pair up: an escaped one is doubled)."""
    count = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 24):
            count += chunk.count(b'"')
    return count % 2 == 0


def _check_header(path: Path, source: str) -> list[str]:
    """The header's column names; a name given twice is an error (not a renamed copy)."""
    with open(path, "rb") as handle:
        data = handle.read(_MAX_HEADER_BYTES)
    end = _first_record_end(data, final=True)
    line = data if end < 0 else data[: end + 1]
    text = line.decode("utf-8", errors="replace").removeprefix("\ufeff")
    try:
        record = next(csv.reader(io.StringIO(text, newline=""), skipinitialspace=True), [])
    except csv.Error:
        record = []
    names = [n.strip() for n in record]
    _check_names(names, source)
    return names


def _check_names(names: list[str], source: str) -> None:
    """A column named twice in the header is an error (not a renamed copy)."""
    seen: set[str] = set()
    problems = []
    for name in names:
        if name in seen and name:
            problems.append(
                Problem(
                    source,
                    f"column `{name}` appears twice in the header",
                    row=1,
                    field=name,
                    code="duplicate-column",
                    hint="rename or remove one of them",
                )
            )
        seen.add(name)
    if problems:
        raise DataError(problems)

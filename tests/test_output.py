"""Atomic, byte-stable writers."""

from __future__ import annotations

import pandas as pd
import pytest

from attain.output import atomic_path, write_csv, write_json


def test_failed_write_leaves_nothing_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_json_is_byte_stable(tmp_path):
    write_json(tmp_path / "a.json", {"b": 1, "a": [1.5, "é"]})
    write_json(tmp_path / "b.json", {"a": [1.5, "é"], "b": 1})
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_csv_has_unix_newlines(tmp_path):
    write_csv(tmp_path / "x.csv", pd.DataFrame({"a": [1, 2]}))
    assert (tmp_path / "x.csv").read_bytes() == b"a\n1\n2\n"


def test_written_files_are_not_private(tmp_path):
    import os
    import stat

    path = write_json(tmp_path / "s.json", {})
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode == 0o666 & ~_current_umask()


def _current_umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask

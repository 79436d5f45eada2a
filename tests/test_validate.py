"""`validate_paths`: files, folders, and the data a rule file names."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import attain
from attain.schema import KINDS, RuleModel


class _Names(RuleModel):
    """A kind that names a data folder and a file."""

    kind: Literal["names_data"] = "names_data"
    data: str
    file: str

    def referenced_paths(self, base: Path) -> list[Path]:
        return [base / self.data, base / self.file]


def test_referenced_data_is_loaded_and_checked(tmp_path, sample_dir, monkeypatch):
    monkeypatch.setitem(KINDS, "names_data", _Names)
    good = tmp_path / "good.yaml"
    good.write_text(f"kind: names_data\ndata: {sample_dir}\nfile: {sample_dir / 'org.csv'}\n")
    assert attain.validate_paths([good]).ok
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"kind: names_data\ndata: {tmp_path}\nfile: missing.csv\n")
    report = attain.validate_paths([bad])
    messages = [str(p) for p in report.problems]
    assert any("no company.yaml" in m for m in messages)
    assert any(
        m.startswith(f"{bad}: names {tmp_path / 'missing.csv'}, which does not exist")
        for m in messages
    )


def test_a_folder_of_rule_files_is_walked(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.yml").write_text("kind: nope\n")
    (tmp_path / "notes.txt").write_text("ignored")
    report = attain.validate_paths([tmp_path])
    assert [p.source for p in report.problems] == [str(tmp_path / "sub" / "x.yml")]


def test_an_empty_folder_is_a_problem(tmp_path):
    report = attain.validate_paths([tmp_path])
    assert report.problems[0].code == "empty-folder"

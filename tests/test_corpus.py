"""The broken-input corpus: every case exits 2 from `attain validate`, located, no traceback.

Each case under tests/corpus/ (a rule file, or a data folder whose company.yaml
borrows the good tables from _base/) has a golden message in
tests/corpus/_expected/<case>.txt, so the wording is reviewed in diffs.
Regenerate them with ``ATTAIN_UPDATE_GOLDEN=1 make test``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from attain.cli.main import main

CORPUS = Path(__file__).resolve().parent / "corpus"
EXPECTED = CORPUS / "_expected"
CASES = sorted(p.name for p in CORPUS.iterdir() if not p.name.startswith("_"))
UPDATE = os.environ.get("ATTAIN_UPDATE_GOLDEN") == "1"
#: file:line:col: ... for rule files; file: row N ... (or file-level problems) for data.
LOCATED = re.compile(r"^\S+:(\d+:\d+:| row \d+| column \w+:| file )")


def test_corpus_is_large_enough():
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", CASES)
def test_broken_input_is_reported(case, monkeypatch, capsys):
    monkeypatch.chdir(CORPUS)
    code = main(["validate", case])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert "Traceback" not in out + err
    first = err.splitlines()[0]
    assert first.startswith(case), first
    assert LOCATED.match(first) or "file is empty" in first, first
    golden = EXPECTED / f"{case}.txt"
    if UPDATE:
        EXPECTED.mkdir(exist_ok=True)
        golden.write_text(err)
    assert err == golden.read_text()


def test_fifty_megabyte_rule_file(tmp_path, capsys):
    big = tmp_path / "huge.yaml"
    with big.open("wb") as f:
        f.write(b"kind: company\nname: x\n")
        f.write(b"# padding\n" * 5_000_000)
    code = main(["validate", str(big)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{big}: file is too large for a rule file (50.0 MB" in err


def test_every_case_has_a_golden_file():
    stale = {p.stem for p in EXPECTED.glob("*.txt")} - set(CASES)
    assert not stale, f"golden files without a case: {sorted(stale)}"

"""Two identical runs of every command write the same files, byte for byte.

The only exceptions are named: a ``timings.json`` file, and the wall-clock keys that
DESIGN.md puts in an allocation's ``summary.json`` (``attain.allocate.result.TIMING_KEYS``).
Workbooks, pages, Parquet files and statements are compared like every other file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from attain.allocate.result import TIMING_KEYS
from attain.cli.main import main
from attain.output import MANIFEST

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
SAMPLE = ROOT / "scenarios" / "sample"
TARGETS = ROOT / "tests" / "fixtures" / "incentive" / "targets.csv"
ACTUALS = SAMPLE / "actuals.csv"
PLAN = RULES / "plan_field_rep.yaml"
#: Files whose whole content is wall-clock time.
TIMED_FILES = {"timings.json"}


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in TIMED_FILES
    }


def _untimed(name: str, data: bytes) -> bytes:
    if Path(name).name == MANIFEST:  # it holds the timed files' hashes
        manifest = json.loads(data)
        timed = TIMED_FILES | ({"summary.json"} if manifest["kind"] == "allocation" else set())
        for entry in manifest["files"]:
            if Path(entry["path"]).name in timed:
                entry.pop("sha256"), entry.pop("bytes")
        return json.dumps(manifest, sort_keys=True).encode()
    if Path(name).name != "summary.json":
        return data
    document = json.loads(data)
    if not any(key in document for key in TIMING_KEYS):
        return data
    for key in TIMING_KEYS:
        document.pop(key, None)
    return json.dumps(document, sort_keys=True).encode()


def _same(a: Path, b: Path) -> None:
    first, second = _files(a), _files(b)
    assert first, f"{a} holds no file"
    assert sorted(first) == sorted(second)
    for name in sorted(first, key=lambda n: Path(n).name == MANIFEST):  # the manifest last
        assert _untimed(name, first[name]) == _untimed(name, second[name]), name


def _twice(tmp_path: Path, *args: str) -> tuple[Path, Path]:
    outs = tmp_path / "a", tmp_path / "b"
    for out in outs:
        code = main([*args, "--out", str(out)])
        assert code == 0, f"attain {' '.join(args)} exited {code}"
    return outs


@pytest.fixture(scope="module")
def first_half(tmp_path_factory) -> Path:
    deals = pd.read_csv(ACTUALS, dtype=str, keep_default_na=False)
    path = tmp_path_factory.mktemp("deals") / "actuals_h1.csv"
    deals[deals["date"] <= "2027-06-30"].to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def targets(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fy27")
    alloc = [str(RULES / "allocation_fy27.yaml"), "--data", str(SAMPLE)]
    assert main(["allocate", *alloc, "--out", str(out)]) == 0
    return out / "targets.csv"


def test_allocate(tmp_path):
    _same(*_twice(tmp_path, "allocate", str(RULES / "allocation_fy27.yaml"), "--data", str(SAMPLE)))


def test_a_replan(tmp_path, targets, first_half):
    rules = tmp_path / "july.yaml"
    rules.write_text(
        (RULES / "allocation_fy27.yaml").read_text(encoding="utf-8")
        + "replan:\n  relief:\n    - {rep_id: R00041, months: [2027-09], share: 1.0, "
        "reason: leave}\n",
        encoding="utf-8",
    )
    args = ["allocate", str(rules), "--data", str(SAMPLE), "--replan-from", "2027-07"]
    _same(*_twice(tmp_path, *args, "--targets", str(targets), "--actuals", str(first_half)))


def test_territory(tmp_path):
    """A solve that ends on its gap, not on its time limit (which a busy machine reaches
    at another incumbent)."""
    rules = tmp_path / "east.yaml"
    rules.write_text(
        "kind: territory\nname: East test\nscope: {region: East}\ncandidates: {nearest: 4}\n"
        "balance:\n  - {name: workload_band, measure: workload, min: 0.7, max: 1.3}\n"
        "objective: {weights: {distance: 1.0, disruption: 20.0}}\nmip_gap: 0.01\n"
        "time_limit: 600\n",
        encoding="utf-8",
    )
    _same(*_twice(tmp_path, "territory", str(rules), "--data", str(SAMPLE)))


def test_payout_with_workbook_and_pages(tmp_path):
    args = ["payout", str(PLAN), "--targets", str(TARGETS), "--actuals", str(ACTUALS)]
    _same(*_twice(tmp_path, *args, "--xlsx", "--html"))


def test_simulate(tmp_path):
    scenario = ROOT / "scenarios" / "compare_plans.yaml"
    _same(*_twice(tmp_path, "simulate", str(scenario), "--trials", "20"))


def test_track(tmp_path, first_half):
    args = ["track", "--targets", str(TARGETS), "--actuals", str(first_half)]
    args += ["--as-of", "2027-06-30", "--data", str(SAMPLE), "--plan", str(PLAN), "--trials", "50"]
    _same(*_twice(tmp_path, *args))


def test_design(tmp_path):
    _same(*_twice(tmp_path, "design", str(RULES / "design_field_rep.yaml"), "--trials", "200"))


def test_sample(tmp_path):
    _same(*_twice(tmp_path, "sample", "--reps", "40", "--seed", "7"))


def test_ledger_statements(tmp_path, first_half, monkeypatch):
    """Two ledgers closed alike, each named ``pay.db`` from its own folder (the statements
    name their ledger)."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        monkeypatch.chdir(tmp_path / name)
        assert main(["ledger", "init", "--ledger", "pay.db"]) == 0
        close = ["payout", str(PLAN), "--targets", str(TARGETS), "--actuals", str(first_half)]
        assert main([*close, "--ledger", "pay.db", "--close", "2027-01"]) == 0
        args = ["ledger", "statements", "--ledger", "pay.db", "--period", "2027-01"]
        assert main([*args, "--out", "statements"]) == 0
    _same(tmp_path / "a" / "statements", tmp_path / "b" / "statements")

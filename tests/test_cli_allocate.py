"""`attain allocate` through click: files, exit codes 0 / 2 / 3 / 4, messages."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from attain.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
DATA = str(ROOT / "scenarios" / "sample")
EXAMPLES = sorted((ROOT / "rules").glob("allocation_*.yaml"))

CONFLICT = """\
kind: allocation
company_target: {total: 340_000_000}
buffer: {rep: 1.05}
rules:
  - name: east_big
    type: share
    level: region
    where: {region: East}
    min: 0.40
  - name: rep_capacity
    type: capacity
"""


@pytest.mark.parametrize("rules", EXAMPLES, ids=lambda p: p.name)
def test_every_example_solves(rules, tmp_path, capsys):
    code = main(["allocate", str(rules), "--data", DATA, "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("optimal: 300 reps")
    assert f"wrote {tmp_path / 'targets.csv'}" in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == "optimal"


def test_solver_and_time_limit_options(tmp_path, capsys):
    rules = str(ROOT / "rules" / "allocation_fy27.yaml")
    args = ["allocate", rules, "--data", DATA, "--out", str(tmp_path), "--solver", "cbc"]
    assert main([*args, "--time-limit", "60"]) == 0
    assert json.loads((tmp_path / "summary.json").read_text())["solver"] == "cbc"
    assert "with cbc" in capsys.readouterr().out


def test_infeasible_exits_3_naming_the_rules(tmp_path, capsys):
    rules = tmp_path / "conflict.yaml"
    rules.write_text(CONFLICT)
    code = main(["allocate", str(rules), "--data", DATA, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 3
    assert "`east_big`" in err and "`rep_capacity`" in err
    assert "region East needs at least 142.80M" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_unknown_region_exits_2_with_its_line(tmp_path, capsys):
    rules = tmp_path / "typo.yaml"
    rules.write_text(CONFLICT.replace("region: East}", "region: Eest}"))
    code = main(["allocate", str(rules), "--data", DATA, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{rules}:8:21: rules[0].where.region: no region `Eest` in the org table" in err


def test_schema_error_exits_2(tmp_path, capsys):
    rules = tmp_path / "bad.yaml"
    rules.write_text(CONFLICT.replace("min: 0.40", "min: 40"))
    code = main(["allocate", str(rules), "--data", DATA, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert "rules[0].share.min" in err or "rules[0].min" in err
    assert "0.4" in err  # the fraction hint


def test_unknown_solver_is_a_usage_error(tmp_path, capsys):
    rules = str(ROOT / "rules" / "allocation_fy27.yaml")
    code = main(["allocate", rules, "--data", DATA, "--out", str(tmp_path), "--solver", "nope"])
    assert code == 2


def test_missing_solver_exits_4(tmp_path, capsys, monkeypatch):
    from attain.solvers import BACKENDS

    monkeypatch.setattr(type(BACKENDS["cbc"]), "is_available", lambda self: False)
    rules = str(ROOT / "rules" / "allocation_fy27.yaml")
    code = main(["allocate", rules, "--data", DATA, "--out", str(tmp_path), "--solver", "cbc"])
    assert code == 4
    assert "solver `cbc` is not installed" in capsys.readouterr().err


def test_help_has_an_example():
    from click.testing import CliRunner

    from attain.cli.main import cli

    result = CliRunner().invoke(cli, ["allocate", "--help"])
    assert result.exit_code == 0
    assert "Example: attain allocate" in result.output


def test_data_folder_copy_is_untouched(tmp_path):
    """A run never touches its inputs."""
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    rules = str(ROOT / "rules" / "allocation_fy27.yaml")
    assert main(["allocate", rules, "--data", str(data), "--out", str(tmp_path / "o")]) == 0
    assert {p.name: p.read_bytes() for p in data.iterdir()} == before


def test_export_model_and_a_bad_suffix(tmp_path, capsys):
    from attain.cli.main import main

    args = ["allocate", str(ROOT / "rules" / "allocation_fy27.yaml"), "--data",
            str(ROOT / "scenarios" / "sample"), "--out", str(tmp_path / "out")]  # fmt: skip
    assert main([*args, "--export-model", str(tmp_path / "m.lp")]) == 0
    assert (tmp_path / "m.lp").read_text().lstrip().lower().startswith(("\\", "min", "obj"))
    assert main([*args, "--export-model", str(tmp_path / "m.txt")]) == 2
    assert "unknown model format" in capsys.readouterr().err

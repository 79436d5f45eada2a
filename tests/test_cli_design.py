"""`attain design` through click's runner: what it prints, writes, and its exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

import attain
from attain.cli.main import cli, main

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "scenarios" / "sample"


def _design(tmp_path: Path, sample_scenario, limit: float, path: str = "commission.tiers[0].rate"):
    plan = tmp_path / "flat.yaml"
    plan.write_text(
        f"kind: plan\nname: flat\ncompany: {SAMPLE}\nperiod: month\nmeasure: ytd\n"
        "components:\n  - type: commission\n    name: commission\n    method: marginal\n"
        "    scope: period\n    tiers:\n      - {start: 0, rate: 0.03}\n"
    )
    scenario = sample_scenario(f"[{plan}]", trials=40)
    spec = tmp_path / "d.yaml"
    spec.write_text(
        f"kind: design\nname: d\nscenario: {scenario.name}\ntrials: 40\nseed: 3\n"
        f"parameters:\n  - {{path: '{path}', name: rate, min: 0.01, max: 0.1, step: 0.005}}\n"
        f"constraints:\n  - {{metric: cost_of_sales, percentile: 95, max: {limit}}}\n"
        "objective: {maximise: pay_slope}\nfront: true\n"
    )
    return spec


def test_design_writes_its_set_and_a_loadable_plan(tmp_path, sample_scenario):
    spec = _design(tmp_path, sample_scenario, 0.05)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["design", str(spec), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "d: tuned `flat` by bracket" in result.output
    assert "rate" in result.output and "(was 0.03)" in result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        ".attain-output.json",
        "design.html",
        "design.json",
        "flat_d.yaml",
        "front.csv",
        "points.csv",
    ]
    summary = json.loads((out / "design.json").read_text())
    chosen = summary["parameters"][0]["chosen"]
    assert 0.01 <= chosen <= 0.05
    assert attain.load_plan(out / "flat_d.yaml").components[0].tiers[0].rate == chosen
    html = (out / "design.html").read_text()
    assert "<script" not in html and "<link" not in html and 'src="http' not in html
    assert "Constraints held out of sample" in html
    # Same seed, same bytes.
    again = tmp_path / "again"
    assert CliRunner().invoke(cli, ["design", str(spec), "--out", str(again)]).exit_code == 0
    for name in ("design.json", "points.csv", "front.csv", "flat_d.yaml", "design.html"):
        assert (out / name).read_bytes() == (again / name).read_bytes(), name


def test_an_unreachable_limit_exits_3_and_writes_nothing(tmp_path, sample_scenario, capsys):
    spec = _design(tmp_path, sample_scenario, 0.0001)
    out = tmp_path / "out"
    assert main(["design", str(spec), "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert "P95 cost_of_sales must be at most 0.0001; the best reachable is 0.01" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_a_misspelt_path_exits_2_at_its_line(tmp_path, sample_scenario, capsys):
    spec = _design(tmp_path, sample_scenario, 0.05, path="comission.tiers[0].rate")
    out = tmp_path / "out"
    assert main(["design", str(spec), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{spec}:7:" in err
    assert "did you mean `commission.tiers[0].rate`" in err
    assert not out.exists()

"""`attain simulate`: writes the outputs, prints a summary, maps bad input to exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from attain.cli.main import cli, main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def scenario(tmp_path_factory, sample_company) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    history = sample_company.history
    last = sorted(history["month"].unique())[-12:]
    t = history[history["month"].isin(last)].copy()
    t["period"] = t["month"].str.replace("2026", "2027")
    t["target"] = (t["sales"] * 1.05).round(2)
    t[["rep_id", "period", "product", "target"]].to_csv(folder / "targets.csv", index=False)
    path = folder / "s.yaml"
    path.write_text(
        f"""kind: scenario
name: cli_test
company: {sample_company.root}
plans: [{ROOT / "rules" / "plan_attainment_curve.yaml"}]
targets: {{file: targets.csv}}
trials: 5000
sensitivity: null
variants: [{{name: down, market_growth: -0.1}}]
"""
    )
    return path


def test_simulate_writes_outputs_and_a_summary(scenario, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["simulate", str(scenario), "--out", str(out), "--trials", "40", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "attainment_curve" in result.output
    assert f"wrote {out / 'report.html'}" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["trials"] == 40 and summary["seed"] == 3


def test_the_table_labels_what_it_shows_and_prints_p_over_budget(scenario, tmp_path):
    with_budget = scenario.parent / "with_budget.yaml"  # beside its targets.csv
    with_budget.write_text(scenario.read_text() + "budget: {cost_of_sales: 0.02}\n")
    result = CliRunner().invoke(
        cli, ["simulate", str(with_budget), "--out", str(tmp_path / "o"), "--trials", "40"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    lines = lines[next(i for i, line in enumerate(lines) if "simulated years of" in line) :]
    assert "base case, per simulated year, amounts in EUR" in lines[0]
    assert lines[1] == "  budget: cost of sales at most 2.00%"
    header = lines[2].split()
    assert header[:5] == ["plan", "expected", "cost", "P95", "cost"] and "P(over" in header
    row = lines[3].split()
    f = json.loads((tmp_path / "o" / "summary.json").read_text())["results"]["base"]
    figure = f["attainment_curve"]
    assert row[0] == "attainment_curve"
    assert row[1] == f"{figure['total_payout']['mean']:,.0f}"
    assert row[2] == f"{figure['total_payout']['p95']:,.0f}"
    assert row[4] == f"{figure['budget']['p_exceed_cost_of_sales']:.1%}"


def test_help_has_an_example():
    result = CliRunner().invoke(cli, ["simulate", "--help"])
    assert "Example: attain simulate" in result.output


def test_a_bad_scenario_is_exit_2_without_a_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "kind: scenario\nname: b\ncompany: nowhere\nplans: [p.yaml]\ntargets: {file: t.csv}\ntrials: -1\n"
    )
    code = main(["simulate", str(bad), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert "bad.yaml:6:9: trials: must be at least 1" in err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_a_missing_company_folder_is_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "kind: scenario\nname: b\ncompany: nowhere\nplans: [p.yaml]\ntargets: {file: t.csv}\n"
    )
    code = main(["simulate", str(bad), "--out", str(tmp_path / "o")])
    assert code == 2, capsys.readouterr()


def test_the_demo_step_can_replace_the_targets(scenario, tmp_path):
    from attain.cli.simulate import run_simulation

    targets = scenario.parent / "targets.csv"
    result, paths = run_simulation(scenario, tmp_path / "o", trials=8, seed=1, targets=targets)
    assert result.summary["trials"] == 8
    assert [p.name for p in paths] == [
        "summary.json",
        "trials.parquet",
        "report.html",
        "summary.xlsx",
    ]

"""Packages: several plans paid together, simulated as one plan on the same draws."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import attain
from attain.cli.main import cli
from attain.errors import RuleFileError
from attain.simulate import runner

ROOT = Path(__file__).resolve().parent.parent
FIELD = ROOT / "rules" / "plan_field_rep.yaml"  # monthly
OVERLAY = ROOT / "rules" / "plan_cloud_overlay.yaml"  # quarterly, cloud only (pooled)
TEAM = ROOT / "rules" / "plan_team_bonus.yaml"  # quarterly, managers too (roll-up)


def _payouts(result, plan: str) -> np.ndarray:
    frame = result.trials
    rows = frame[(frame["plan"] == plan) & (frame["variant"] == "base")]
    return rows.sort_values("trial")["total_payout"].to_numpy()


def test_a_package_pays_the_sum_of_its_plans(sample_scenario, sample_company, monkeypatch):
    # Few detail trials: the package is paid both line by line and by its fast total.
    monkeypatch.setattr(runner, "DETAIL_REP_TRIALS", 8 * len(sample_company.org))
    plans = f"[{FIELD}, {OVERLAY}, {TEAM}, [{FIELD}, {OVERLAY}, {TEAM}]]"
    path = sample_scenario(plans, "sensitivity: null\n", trials=24)
    result = attain.simulate(path)
    name = "field_rep_marginal+cloud_overlay+team_bonus"
    assert result.plans == ["field_rep_marginal", "cloud_overlay", "team_bonus", name]
    alone = sum(_payouts(result, p) for p in result.plans[:3])
    assert alone.min() > 0
    np.testing.assert_allclose(_payouts(result, name), alone, rtol=1e-9)

    s = result.summary
    figures = s["results"]["base"]
    assert figures[name]["n_participants"] >= max(
        figures[p]["n_participants"] for p in result.plans[:3]
    )
    assert name in s["comparisons"]["base"]
    # (2) components carry their plan's name and add up to the package's total
    components = next(p["components"] for p in s["plans"] if p["name"] == name)
    assert "field_rep_marginal.commission" in components
    assert "cloud_overlay.cloud_overlay" in components
    assert "team_bonus.team_pool" in components
    lines = figures[name]["components"]
    detail = _payouts(result, name)[: s["detail_trials"]]
    assert sum(lines.values()) == pytest.approx(detail.mean(), rel=1e-9)
    for plan in result.plans[:3]:
        own = figures[plan]["components"]
        for c, value in own.items():
            assert lines[f"{plan}.{c}"] == pytest.approx(value, rel=1e-9, abs=1e-9)


def test_a_package_of_monthly_and_yearly_plans_sums_exactly(
    tmp_path, sample_company, sample_scenario
):
    text = OVERLAY.read_text()
    yearly = text.replace("name: cloud_overlay", "name: cloud_yearly")
    yearly = yearly.replace("period: quarter", "period: year")
    yearly = yearly.replace("company: ../scenarios/sample", f"company: {sample_company.root}")
    yearly = yearly.replace('effective_from: "2027-07-01"', "")
    (tmp_path / "yearly.yaml").write_text(yearly)
    plans = f"[{FIELD}, {tmp_path / 'yearly.yaml'}, [{FIELD}, {tmp_path / 'yearly.yaml'}]]"
    noisy = "sensitivity: null\nperformance: {month_sd: 0.1, mix_sd: 0.1}\n"
    result = attain.simulate(sample_scenario(plans, noisy, trials=24))
    alone = _payouts(result, "field_rep_marginal") + _payouts(result, "cloud_yearly")
    assert _payouts(result, "cloud_yearly").min() > 0
    np.testing.assert_allclose(
        _payouts(result, "field_rep_marginal+cloud_yearly"), alone, rtol=1e-9
    )


@pytest.mark.parametrize(
    ("plans", "message", "where"),
    [
        ("[a.yaml, [b.yaml]]", "a package needs at least two plan files", "plans[1]"),
        ("[a.yaml, [b.yaml, b.yaml]]", "`b.yaml` is listed twice in this package", "plans[1][1]"),
        (
            "[[a.yaml, b.yaml], [b.yaml, a.yaml]]",
            "this package of plans is listed twice",
            "plans[1]",
        ),
        ("[a.yaml, a.yaml]", "`a.yaml` is listed twice", "plans[1]"),
    ],
)
def test_bad_packages_are_located(tmp_path, plans, message, where):
    from attain.load import load_rules

    path = tmp_path / "s.yaml"
    path.write_text(
        f"kind: scenario\nname: s\ncompany: c\nplans: {plans}\ntargets: {{file: t.csv}}\n"
    )
    with pytest.raises(RuleFileError) as info:
        load_rules(path, kind="scenario")
    problem = info.value.problems[0]
    assert message in problem.message
    assert problem.path == where


def test_referenced_paths_name_every_file_of_a_package():
    from attain.schema.scenario import Scenario

    s = Scenario(
        name="s", company="c", plans=["a.yaml", ["a.yaml", "b.yaml"]], targets={"file": "t.csv"}
    )
    assert s.referenced_paths(Path("x")) == [
        Path("x/c"),
        Path("x/a.yaml"),
        Path("x/b.yaml"),
        Path("x/t.csv"),
    ]
    assert s.plan_entries() == [("a.yaml",), ("a.yaml", "b.yaml")]


def test_the_cli_simulates_a_package_with_a_tornado(tmp_path, sample_scenario):
    plans = f"[{FIELD}, [{FIELD}, {OVERLAY}]]"
    path = sample_scenario(plans, "sensitivity: {trials: 10}\n", trials=24)
    assert CliRunner().invoke(cli, ["validate", str(path)]).exit_code == 0
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["simulate", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "field_rep_marginal+cloud_overlay" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["baseline"] == "field_rep_marginal"
    assert "field_rep_marginal+cloud_overlay" in summary["results"]["base"]
    rows = [r for r in summary["sensitivity"] if r["plan"] == "field_rep_marginal+cloud_overlay"]
    labels = {r["parameter"] for r in rows}
    assert "field_rep_marginal.commission.rates" in labels
    assert "cloud_overlay.cloud_overlay.rates" in labels
    assert "mean" in labels
    assert all(r["swing"] >= 0 for r in rows)
    html = (out / "report.html").read_text()
    assert "field_rep_marginal+cloud_overlay" in html
    for name in ("trials.parquet", "summary.xlsx"):
        assert (out / name).exists()

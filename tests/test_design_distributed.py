"""`attain design --workers 2`: the candidates paid on a real LocalCluster of two worker
processes give the thread pool's files byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from attain.cli.main import cli
from tests.test_design import two_tier_plan, write_design

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

FILES = ("design.json", "points.csv", "tiers_d.yaml", "design.html", "front.csv")


def test_a_design_on_a_local_cluster_writes_the_thread_pool_s_bytes(tmp_path, sample_scenario):
    scenario = sample_scenario(f"[{two_tier_plan(tmp_path)}]", trials=20)
    # Two parameters by evolution: several batches of candidates, then the validation run.
    spec = write_design(
        tmp_path,
        scenario,
        "parameters:\n"
        "  - {path: 'commission.tiers[0].rate', min: 0.02, max: 0.08, step: 0.005}\n"
        "  - {path: 'commission.tiers[1].rate', min: 0.04, max: 0.2, step: 0.005}\n"
        "constraints:\n  - {metric: cost_of_sales, percentile: 95, max: 0.06}\n"
        "objective: {maximise: pay_slope}\nfront: true\n"
        "search: {max_evaluations: 40}\nvalidation: {trials: 40}\n",
    )
    runs = {}
    for label, extra in (("threads", []), ("dask", ["--workers", "2"])):
        out = tmp_path / label
        result = CliRunner().invoke(
            cli, ["design", str(spec), "--out", str(out), "--trials", "30", *extra]
        )
        assert result.exit_code == 0, result.output
        runs[label] = out
    for name in FILES:
        threads, dask = (runs[k] / name for k in ("threads", "dask"))
        assert threads.read_bytes() == dask.read_bytes(), name
    assert Path(runs["dask"] / "points.csv").read_text().count("\n") > 20

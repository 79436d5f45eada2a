"""The large-company benchmark's job runs (at a small size): the shipped scenario's copy
points at the sampled company and its allocation, and loads and simulates."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_simulate_company.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_simulate_company", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_company_bench_runs_the_shipped_scenario_on_a_sampled_company(tmp_path):
    bench = _bench()
    scenario, allocate_seconds = bench.prepare(tmp_path, 300)
    text = scenario.read_text()
    assert f"company: {tmp_path / 'company'}" in text and "file: " in text
    timings = bench.run(scenario, 8)
    assert allocate_seconds > 0
    assert timings["total_seconds"] >= timings["simulate_seconds"] > 0
    assert timings["sensitivity_seconds"] > 0  # the shipped scenario has a tornado

"""The allocation benchmark compares like with like: its hand-built baseline is attain's model.

``make bench`` quotes attain's speed against a PuLP model built by hand
(bench/bench_allocate.py ``run_baseline``). A ratio means something only if
that model is the same one: the same rules, soft rules and lexicographic
levels, reaching the same optimum at every level. This runs both on small
samples (the sizes where the soft senior floor decides the worst gap, and
where it does not) and compares the level values.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from attain.allocate import allocate
from attain.data import load_company
from attain.sample import write_sample

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_allocate.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_allocate", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("n_reps", [60, 200])
def test_baseline_reaches_attains_optimum_at_every_level(bench, tmp_path, n_reps):
    data = tmp_path / f"reps{n_reps}"
    write_sample(data, n_reps=n_reps, seed=7, n_products=bench.PRODUCTS)
    company = load_company(data)
    ours = allocate(bench.scaled_rules(company), company).summary["objectives"]
    theirs = bench.run_baseline(str(data))
    assert theirs["status"] == "Optimal"
    assert len(theirs["levels"]) == len(ours) == 4
    assert bench.same_optimum(list(ours.values()), list(theirs["levels"].values())) < (
        bench.SAME_TOL
    )


def test_same_optimum_is_relative_per_level(bench):
    assert bench.same_optimum([0.0, 0.2], [0.0, 0.2 * (1 + 1e-6)]) < 1e-5
    assert bench.same_optimum([0.0, 0.2], [1e-3, 0.2]) > bench.SAME_TOL
    assert bench.same_optimum([0.209], [0.986]) > 0.5

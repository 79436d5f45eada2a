"""Check that a change to the simulator gives the same outputs as the code before it: the
large-company bench's job (the shipped compare_plans scenario, its two plans, four
variants and tornado) on a sampled company, run by this checkout and by another
checkout's ``engine/`` folder, then summary.json and trials.parquet compared byte for
byte. Exits 1 if either differs.

Usage: python scripts/compare_simulations.py OTHER_ENGINE [--reps 2200] [--trials 40]
(``OTHER_ENGINE`` e.g. the ``engine`` folder of ``git archive main engine | tar -x``).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Run in a child process: import ``attain`` from the given engine folder, simulate the
#: scenario and write its outputs.
CHILD = """
import importlib.util, sys
engine, scenario, trials, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
if engine:
    spec = importlib.util.spec_from_file_location(
        "attain", engine + "/__init__.py", submodule_search_locations=[engine]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["attain"] = module
    spec.loader.exec_module(module)
import attain
attain.simulate(scenario, trials=trials).write(out)
print(attain.__file__)
"""


def _bench():
    path = ROOT / "bench" / "bench_simulate_company.py"
    spec = importlib.util.spec_from_file_location("bench_simulate_company", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other_engine", type=Path)
    parser.add_argument("--reps", type=int, default=2200)
    parser.add_argument("--trials", type=int, default=40)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        scenario, _ = _bench().prepare(folder, args.reps)
        outs = {}
        for name, engine in (("this", ""), ("other", str(args.other_engine.resolve()))):
            out = folder / f"out_{name}"
            cmd = [sys.executable, "-c", CHILD, engine, str(scenario), str(args.trials), str(out)]
            done = subprocess.run(cmd, check=True, capture_output=True, text=True)
            print(f"{name}: attain from {done.stdout.strip()}")
            outs[name] = out
        same = True
        for file in ("summary.json", "trials.parquet"):
            a, b = ((outs[n] / file).read_bytes() for n in ("this", "other"))
            print(f"{file}: {'the same bytes' if a == b else 'DIFFERENT'} ({len(a):,} bytes)")
            same &= a == b
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

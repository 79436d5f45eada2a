"""Start-up benchmark: how long the light commands take, whole process, wall clock.

Each command runs ``REPEATS`` times in a fresh process (the best run is the figure:
start-up is a floor, and other jobs on the machine only add to it), beside
``python -c pass`` on the same interpreter, so the ratio says how much attain adds
to starting Python at all. Goals: `--help`, `--version` and `schema` under 0.3 s,
`validate` of a small plan (no data named) under 0.6 s.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPEATS = int(os.environ.get("ATTAIN_BENCH_STARTUP_REPEATS", "7"))
PLAN = """\
kind: plan
name: small
participants: {roles: [rep]}
components:
  - type: commission
    name: commission
    method: marginal
    tiers:
      - {start: 0, end: 1000000, rate: 0.06}
      - {start: 1000000, rate: 0.1}
"""
GOALS = {"--help": 0.3, "--version": 0.3, "schema": 0.3, "schema plan": 0.3, "validate": 0.6}


def best_of(argv: list[str]) -> tuple[float, float]:
    """The best wall time and the best CPU time (user + system) of ``REPEATS`` runs.

    CPU time is what the process itself spends: on a machine that other jobs share, it
    stays near the free-machine wall time while the wall time grows."""
    walls, cpus = [], []
    for _ in range(REPEATS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(walls), min(cpus)


def main() -> None:
    attain = str(Path(sys.executable).parent / "attain")
    with tempfile.TemporaryDirectory() as tmp:
        plan = Path(tmp) / "plan.yaml"
        plan.write_text(PLAN)
        python, python_cpu = best_of([sys.executable, "-c", "pass"])
        print(f"python -c pass: {python:.3f} s wall, {python_cpu:.3f} s CPU (best of {REPEATS})")
        print(f"{'command':<28} {'wall s':>7} {'× python':>9} {'CPU s':>6} {'× python':>9} goal")
        for name, goal in GOALS.items():
            args = [str(plan)] if name == "validate" else []
            wall, cpu = best_of([attain, *name.split(), *args])
            verdict = "ok" if wall < goal else ("ok on CPU" if cpu < goal else "over")
            label = f"attain {name}" + (" small.yaml" if args else "")
            print(
                f"{label:<28} {wall:>7.3f} {wall / python:>8.1f}× {cpu:>6.3f} "
                f"{cpu / max(python_cpu, 1e-3):>8.1f}× {goal}s {verdict}"
            )


if __name__ == "__main__":
    main()

"""`make bench`: run every benchmark module (bench/bench_*.py) and print its figures.

Each module has a ``main()`` that prints a table of figures and ratios against
its stated baseline, and runs in its own process (peak memory figures are its
own). Run one alone with ``python bench/run.py allocate``.
"""

from __future__ import annotations

import importlib.util
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def machine() -> str:
    import os

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def main(argv: list[str]) -> int:
    """Each benchmark module in its own process, so one module's peak memory is not another's."""
    if argv[:1] == ["--one"]:
        return run_one(argv[1])
    wanted = set(argv)
    print(f"machine: {machine()}", flush=True)
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if wanted and name not in wanted:
            continue
        print(f"\n== {name} ==", flush=True)
        start = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--one", name], check=False)
        print(f"({name}: {time.perf_counter() - start:.1f} s)", flush=True)
    return 0


def run_one(name: str) -> int:
    path = HERE / f"bench_{name}.py"
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

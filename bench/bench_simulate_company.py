"""The simulator on a large company, end to end: the user's job, not only the kernel.

The shipped scenarios/compare_plans.yaml (two plans, four variants, the tornado) on a
synthetic company of ``ATTAIN_BENCH_REPS`` reps (50,000 by default; `attain sample`),
with targets from its allocation (rules/allocation_fy27.yaml, the company target scaled
with the number of reps), 1,000 trials. Goals on a
2-core machine: the simulate job end to end (load + set-up + trials + tornado) < 2 min,
peak memory < 4 GB. Printed: the allocation's time (not part of the goal), then the
simulate job's phases (load, trials, sensitivity), its total and the process's peak RSS.

Run alone: ``python bench/run.py simulate_company`` (``ATTAIN_BENCH_REPS=5000`` for a
quick look). The bench sets glibc's ``mallopt`` first (:func:`tune_malloc`: fewer page
faults on the large temporaries); ``ATTAIN_BENCH_MALLOPT=0`` leaves malloc as it is.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
N_REPS = int(os.environ.get("ATTAIN_BENCH_REPS", "50000"))
TRIALS = int(os.environ.get("ATTAIN_BENCH_TRIALS", "1000"))
#: The shipped allocation's company target, set for the shipped 300-rep sample.
SAMPLE_TARGET, SAMPLE_REPS = 340_000_000, 300


def scenario_for(folder: Path, company: Path, targets: Path) -> Path:
    """A copy of the shipped compare_plans.yaml pointing at ``company`` and ``targets``."""
    text = (ROOT / "scenarios" / "compare_plans.yaml").read_text()
    text = text.replace("company: sample ", f"company: {company} ", 1)
    text = text.replace(
        "  allocation: ../rules/allocation_fy27.yaml", f"  file: {targets}", 1
    ).replace("../rules/", f"{ROOT / 'rules'}/")
    path = folder / "compare_plans.yaml"
    path.write_text(text)
    return path


def prepare(folder: Path, n_reps: int) -> tuple[Path, float]:
    """Sample company, its allocation and the scenario; returns (scenario, allocate s).

    A sampled company can draw a rep whom the shipped rules cannot fit (a senior floor
    above the growth cap on a weak year); then the targets are last year's sales + 5%
    (as the tests' scenarios use) and the allocate time is negative."""
    from attain import InfeasibleError, allocate, load_company, write_sample

    company = folder / "company"
    write_sample(company, n_reps=n_reps)
    rules = folder / "allocation.yaml"  # the shipped rules, the company target scaled
    total = round(SAMPLE_TARGET * n_reps / SAMPLE_REPS, -6)
    text = (ROOT / "rules" / "allocation_fy27.yaml").read_text()
    rules.write_text(text.replace(f"total: {SAMPLE_TARGET:_}", f"total: {total:.0f}", 1))
    t0 = time.perf_counter()
    targets = folder / "targets.csv"
    try:
        allocation = allocate(rules, company)
    except InfeasibleError:
        history = load_company(company).history
        last = history[history["month"].isin(sorted(history["month"].unique())[-12:])].copy()
        last["period"] = last["month"].str.replace("2026", "2027")
        last["target"] = (last["sales"] * 1.05).round(2)
        last[["rep_id", "period", "product", "target"]].to_csv(targets, index=False)
        return scenario_for(folder, company, targets), -1.0
    seconds = time.perf_counter() - t0
    allocation.targets.to_csv(targets, index=False)
    return scenario_for(folder, company, targets), seconds


def run(scenario: Path, trials: int) -> dict[str, float]:
    from attain import simulate

    t0 = time.perf_counter()
    result = simulate(scenario, trials=trials)
    timings = dict(result.timings)
    timings["total_seconds"] = time.perf_counter() - t0
    return timings


def tune_malloc() -> bool:
    """glibc's malloc for large numpy temporaries: blocks up to 1 GB from the heap (not a
    fresh mmap each, faulted in page by page and unmapped on free), kept after free for
    the next chunk's, in one arena per thread at most two. Bench code only: the library
    leaves the process's allocator alone. False where it is not glibc."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold, m_arena_max = -1, -3, -8
    ok = mallopt(m_arena_max, 2) == 1
    ok &= mallopt(m_mmap_threshold, 1 << 30) == 1
    ok &= mallopt(m_trim_threshold, 1 << 30) == 1
    return bool(ok)


def main() -> None:
    tuned = os.environ.get("ATTAIN_BENCH_MALLOPT", "1") != "0" and tune_malloc()
    print(f"glibc mallopt (arena max 2, mmap threshold 1 GB): {'set' if tuned else 'not set'}")
    with tempfile.TemporaryDirectory() as tmp:
        scenario, allocate_s = prepare(Path(tmp), N_REPS)
        how = (
            f"allocation {allocate_s:.1f} s (not in the goal)"
            if allocate_s >= 0
            else "the shipped rules do not fit this sample: targets = last year + 5%"
        )
        print(f"company: {N_REPS:,} reps; {how}")
        t = run(scenario, TRIALS)
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(
        f"simulate compare_plans, {TRIALS:,} trials: load {t['load_seconds']:.1f} s, "
        f"trials {t['simulate_seconds']:.1f} s, sensitivity {t['sensitivity_seconds']:.1f} s"
    )
    print(f"  whole job {t['total_seconds']:.1f} s (goal < 120 s); peak RSS {peak_gb:.2f} GB")
    print(
        f"  (goal < 4 GB, the process's peak including the allocation; load avg {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()

"""Re-plan benchmark: 10,000 reps re-planned from July after leavers and relief.

A synthetic company (``attain sample``) is allocated once with the example rules
(bench_allocate's scaled rules, not timed); then 1% of the reps leave at the end of
August (their teams make it up) and 1% are relieved for September, and the year is
re-planned from July. The figure is the re-plan end to end from the loaded company:
reading the previous targets, the model, the lexicographic solves, rounding and the
explanation. Goal: under 15 s. ``ATTAIN_BENCH_QUICK=1`` runs 1,000 reps.

Run alone: ``python bench/run.py replan`` (``ATTAIN_BENCH_REPS=N`` for another size).
"""

from __future__ import annotations

import importlib.util
import os
import resource
import tempfile
import time
from pathlib import Path

QUICK = os.environ.get("ATTAIN_BENCH_QUICK") == "1"
N_REPS = int(os.environ.get("ATTAIN_BENCH_REPS", 1_000 if QUICK else 10_000))
GOAL_S = 15.0
HERE = Path(__file__).resolve().parent


def _scaled_rules(company) -> dict:
    spec = importlib.util.spec_from_file_location("bench_allocate", HERE / "bench_allocate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.scaled_rules(company)


def main() -> None:
    import attain
    from attain.sample import write_sample

    with tempfile.TemporaryDirectory() as tmp:
        write_sample(Path(tmp) / "co", n_reps=N_REPS, seed=11)
        company = attain.load_company(Path(tmp) / "co")
        rules = _scaled_rules(company)
        first = attain.allocate(rules, company)
        reps = sorted(first.targets["rep_id"].unique())
        leavers, relieved = reps[::100], reps[50::100]
        org = company.org.astype(str).assign(start_date="", end_date="")
        org.loc[org["rep_id"].isin(leavers), "end_date"] = "2027-08-31"
        frames = {n: getattr(company, n) for n in ("accounts", "history", "actuals")}
        dated = attain.company_from_frames(company.rules, org=org, **frames)
        rules["replan"] = {
            "leavers": "team",
            "relief": [
                {"rep_id": r, "months": ["2027-09"], "share": 1.0, "reason": "leave"}
                for r in relieved
            ],
        }
        start = time.perf_counter()
        result = attain.allocate(rules, dated, replan_from="2027-07", previous=first.targets)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    s = result.summary
    print(
        f"replan {N_REPS:,} reps from 2027-07 ({len(leavers)} leavers, {len(relieved)} "
        f"relieved): {seconds:.1f} s (build {s['build_seconds']:.1f}, solve "
        f"{s['solve_seconds']:.1f}, round {s['round_seconds']:.1f}); "
        f"{s['replan']['n_changed']:,} rep-months moved; peak RSS {peak:,.0f} MB "
        f"(goal {GOAL_S:.0f} s at 10,000 reps)"
    )

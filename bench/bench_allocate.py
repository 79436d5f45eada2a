"""Allocation benchmark: attain's staged model vs a hand-built one-variable-at-a-time PuLP model.

For ``attain sample --reps 1000`` and ``--reps 10000`` (12 months × 4 products,
every rule kind of rules/allocation_fy27.yaml on, the company target scaled to
the sample; ``ATTAIN_BENCH_SIZES=1000,10000,50000`` adds sizes), each backend runs end to end — load, build, solve, round, write
(CSV, JSON, XLSX) — in its own process, so the peak memory (max RSS) is its
own. The baseline builds the minimax level of the same rules the way a user
would by hand: one PuLP variable per rep × product × month cell and one
constraint at a time, solved with CBC, under a timeout
(``ATTAIN_BENCH_BASELINE_TIMEOUT`` seconds, default 300).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules" / "allocation_fy27.yaml"
SIZES = tuple(int(n) for n in os.environ.get("ATTAIN_BENCH_SIZES", "1000,10000").split(","))
BACKENDS = {1000: ("highs", "cbc", "glop", "pdlp"), 10000: ("highs", "glop", "cbc")}
#: ``ATTAIN_BENCH_BACKENDS=highs`` runs only those backends (e.g. for a quick pass).
ONLY = tuple(b for b in os.environ.get("ATTAIN_BENCH_BACKENDS", "").split(",") if b)
BASELINE_TIMEOUT = float(os.environ.get("ATTAIN_BENCH_BASELINE_TIMEOUT", "300"))
#: The baseline is skipped above this many reps (it builds ~100 PuLP objects per rep).
BASELINE_MAX_REPS = 10000
CASE_TIMEOUT = 900


def scaled_rules(data: Path) -> dict:
    """The example rules with the company target set to 108% of last year's sales / buffer."""
    import yaml

    from attain.data import load_company

    rules = yaml.safe_load(RULES.read_text())
    company = load_company(data)
    history = company.history
    last = history[history["month"].isin(sorted(history["month"].unique())[-12:])]
    rules["company_target"]["total"] = round(float(last["sales"].sum()) * 1.08 / 1.05, -3)
    for rule in rules["rules"]:
        if rule["name"] == "senior_floor":
            # Larger samples have seniors whose growth cap sits below the floor: soften it.
            rule.update(soft=True, priority=2)
    return rules


def run_case(data: str, solver: str) -> dict:
    """One end-to-end run (called in a child process)."""
    from attain.allocate import allocate
    from attain.data import load_company

    start = time.perf_counter()
    company = load_company(data)
    load_seconds = time.perf_counter() - start
    rules = scaled_rules(Path(data))
    result = allocate(rules, company, solver=solver)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        result.write(out)
    write_seconds = time.perf_counter() - t0
    s = result.summary
    return {
        "load": load_seconds,
        "build": s["build_seconds"],
        "solve": s["solve_seconds"],
        "round": s["round_seconds"],
        "write": write_seconds,
        "total": time.perf_counter() - start,
        "objective": s["objective"],
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "n_variables": s["n_variables"],
    }


def run_baseline(data: str) -> dict:
    """The hand-built model: one PuLP variable and constraint at a time, CBC (child process)."""
    import warnings

    import numpy as np
    import pulp

    from attain.allocate.build import fair_rep, ramp_factor
    from attain.allocate.inputs import prepare
    from attain.data import load_company
    from attain.load import load_rules

    warnings.simplefilter("ignore")
    start = time.perf_counter()
    company = load_company(data)
    rules = load_rules(scaled_rules(Path(data)), kind="allocation")
    inputs = prepare(rules, company)
    R, P, K = inputs.n_reps, inputs.n_products, 12
    reps = inputs.reps
    prob = pulp.LpProblem("baseline", pulp.LpMinimize)
    m = {}
    for r in range(R):
        for p in range(P):
            for k in range(K):
                m[r, p, k] = pulp.LpVariable(f"m_{r}_{p}_{k}", lowBound=0)
    z = pulp.LpVariable("z", lowBound=0)
    prob += z
    rep_total = {r: pulp.lpSum(m[r, p, k] for p in range(P) for k in range(K)) for r in range(R)}
    prob += pulp.lpSum(rep_total.values()) == inputs.total
    fair = fair_rep(inputs)
    ly = inputs.last_year.sum(axis=1)
    for r in range(R):
        prob += rep_total[r] - fair[r] * z <= fair[r]
        prob += rep_total[r] + fair[r] * z >= fair[r]
        if reps["tenure_months"][r] >= 12 and ly[r] > 0:
            prob += rep_total[r] >= 0.95 * ly[r]
            prob += rep_total[r] <= 1.35 * ly[r]
        prob += rep_total[r] <= float(reps["capacity"][r])
    factor = ramp_factor(inputs)
    for r in np.flatnonzero(factor < 1 - 1e-12):
        prob += rep_total[r] <= factor[r] * inputs.full[r]
    for team in sorted(set(reps["team"])):
        members = [r for r in range(R) if reps["team"][r] == team]
        total = pulp.lpSum(rep_total[r] for r in members)
        prob += total * (1.03 / 1.05) <= 2_000_000 * len(members)
        cloud = pulp.lpSum(m[r, 1, k] for r in members for k in range(K))
        prob += cloud >= 0.15 * total
        prob += cloud <= 0.40 * total
    east = pulp.lpSum(rep_total[r] for r in range(R) if reps["region"][r] == "East")
    prob += east >= 0.15 * inputs.total
    prob += pulp.lpSum(m[r, 3, k] for r in range(R) for k in range(K)) >= 0.09 * inputs.total
    shares = inputs.profiles
    for r in range(R):
        for p in range(P):
            t = pulp.lpSum(m[r, p, k] for k in range(K))
            for k in range(K):
                prob += m[r, p, k] >= (shares[p, k] - 0.01) * t
                prob += m[r, p, k] <= (shares[p, k] + 0.01) * t
    build = time.perf_counter() - start
    prob.solve(pulp.PULP_CBC_CMD(msg=False))
    return {
        "build": build,
        "total": time.perf_counter() - start,
        "status": pulp.LpStatus[prob.status],
        "objective": pulp.value(z),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _child(kind: str, data: str, arg: str, timeout: float) -> dict | None:
    extra = f", {arg!r}" if arg else ""
    code = (
        f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        f"import bench_allocate as b; print(json.dumps(b.{kind}({data!r}{extra})))"
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return None
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    from attain.sample import write_sample

    with tempfile.TemporaryDirectory() as tmp:
        for n in SIZES:
            data = Path(tmp) / f"reps{n}"
            write_sample(data, n_reps=n, seed=7)
            print(f"-- {n} reps (12 months x 4 products, every rule kind; "
                  f"load average {os.getloadavg()[0]:.2f}) --")  # fmt: skip
            print(f"{'backend':<8} {'load':>6} {'build':>6} {'solve':>7} {'round':>6} {'write':>6} "
                  f"{'total':>7} {'peak MB':>8}  objective")  # fmt: skip
            best = None
            for solver in [b for b in BACKENDS.get(n, ("highs",)) if not ONLY or b in ONLY]:
                r = _child("run_case", str(data), solver, CASE_TIMEOUT)
                if r is None or "error" in r:
                    print(f"{solver:<8} failed: {r}")
                    continue
                best = r["total"] if best is None else min(best, r["total"])
                print(f"{solver:<8} {r['load']:6.2f} {r['build']:6.2f} {r['solve']:7.2f} "
                      f"{r['round']:6.2f} {r['write']:6.2f} {r['total']:7.2f} {r['peak_mb']:8.0f}  "
                      f"{r['objective']:.6g}")  # fmt: skip
            if best is None or n > BASELINE_MAX_REPS:
                continue
            base = _child("run_baseline", str(data), "", BASELINE_TIMEOUT)
            if base is None:
                print(f"baseline (PuLP by hand + CBC): did not finish in {BASELINE_TIMEOUT:.0f} s "
                      f"-> attain is > {BASELINE_TIMEOUT / best:.0f}x faster")  # fmt: skip
            elif "error" in base:
                print(f"baseline failed: {base['error']}")
            elif base["status"] != "Optimal":
                print(f"baseline (PuLP by hand + CBC): ended {base['status']} after "
                      f"{base['total']:.1f} s (not comparable)")  # fmt: skip
            else:
                print(f"baseline (PuLP by hand + CBC): build {base['build']:.1f} s, total "
                      f"{base['total']:.1f} s, {base['status']}, minimax {base['objective']:.6g}, "
                      f"peak {base['peak_mb']:.0f} MB -> attain is {base['total'] / best:.0f}x faster")  # fmt: skip


if __name__ == "__main__":
    main()

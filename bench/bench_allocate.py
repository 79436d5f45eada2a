"""Allocation benchmark: attain vs the same model built by hand, one PuLP object at a time.

For ``attain sample --reps 1000 --products 5``, ``--reps 10000`` and ``--reps 50000``
(12 months × 5 products, every rule kind of rules/allocation_fy27.yaml on, the company
target scaled to the sample; ``ATTAIN_BENCH_SIZES=1000,10000`` picks sizes; 50,000
reps by HiGHS alone, goal 2 minutes in 8 GB), each backend
runs end to end — load, build, solve, round, write (CSV, JSON, XLSX) — in its
own process, so the peak memory (max RSS) is its own. The baseline
(:func:`run_baseline`) builds the same rules and objective levels the way a
user would by hand — one PuLP variable per rep × product × month cell and one
constraint at a time — and solves them level by level with CBC, under a
timeout (``ATTAIN_BENCH_BASELINE_TIMEOUT`` seconds, default 600). A ratio is
quoted only when both reached every level's optimum (to ``SAME_TOL``).
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
SIZES = tuple(int(n) for n in os.environ.get("ATTAIN_BENCH_SIZES", "1000,10000,50000").split(","))
BACKENDS = {1000: ("highs", "cbc", "glop", "pdlp"), 10000: ("highs", "glop", "cbc")}
#: ``ATTAIN_BENCH_BACKENDS=highs`` runs only those backends (e.g. for a quick pass).
ONLY = tuple(b for b in os.environ.get("ATTAIN_BENCH_BACKENDS", "").split(",") if b)
BASELINE_TIMEOUT = float(os.environ.get("ATTAIN_BENCH_BASELINE_TIMEOUT", "600"))
#: The baseline is skipped above this many reps (it builds ~100 PuLP objects per rep).
BASELINE_MAX_REPS = 10000
CASE_TIMEOUT = 900
PRODUCTS = 5
#: Both runs must reach every level's optimum to this (relative) for a ratio to be quoted.
SAME_TOL = 1e-4


def scaled_rules(company) -> dict:
    """The example rules with the company target set to 108% of last year's sales / buffer."""
    import yaml

    rules = yaml.safe_load(RULES.read_text())
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
    from attain.data import PLANNING_TABLES, load_company

    start = time.perf_counter()
    company = load_company(data, tables=PLANNING_TABLES)  # as `attain allocate` reads it
    load_seconds = time.perf_counter() - start
    rules = scaled_rules(company)
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
        "levels": list(s["objectives"].values()),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "n_variables": s["n_variables"],
    }


def run_baseline(data: str) -> dict:
    """The same rules and objective levels built by hand in PuLP, solved with CBC (child process).

    What a modeller without attain writes: one PuLP variable per rep × product × month
    cell, one constraint at a time for every rule of rules/allocation_fy27.yaml (the
    numbers read from the rule file), the seasonality band and quarter checkpoints on
    each rep's months, soft rules with a slack variable each, and the lexicographic
    objective solved level by level, each optimum held as a constraint for the next.
    Returns every level's value in attain's units so :func:`main` can check that both
    reached the same optimum (then, and only then, the ratio means something).
    """
    import warnings

    import numpy as np
    import pulp

    from attain.allocate.build import fair_rep, ramp_factor
    from attain.allocate.inputs import prepare
    from attain.allocate.split import is_ramping, month_profiles
    from attain.data import load_company
    from attain.load import load_rules

    warnings.simplefilter("ignore")
    start = time.perf_counter()
    company = load_company(data)
    raw = scaled_rules(company)
    rules = load_rules(raw, kind="allocation")
    by_name = {r["name"]: r for r in raw["rules"]}
    inputs = prepare(rules, company)
    R, P, K = inputs.n_reps, inputs.n_products, 12
    reps = inputs.reps
    total = inputs.total
    rep_buffer = raw["buffer"]["rep"]
    # Money in units of the mean rep target: in plain currency the duals of the fairness
    # rows fall below the solvers' optimality tolerance and both CBC and HiGHS stop at
    # "optimal" points several times off the optimum (measured); a careful modeller scales.
    unit = total / R
    prob = pulp.LpProblem("baseline", pulp.LpMinimize)
    m = {}
    for r in range(R):
        for p in range(P):
            for k in range(K):
                m[r, p, k] = pulp.LpVariable(f"m_{r}_{p}_{k}", lowBound=0)
    t = {(r, p): pulp.lpSum(m[r, p, k] for k in range(K)) for r in range(R) for p in range(P)}
    rep_total = {r: pulp.lpSum(t[r, p] for p in range(P)) for r in range(R)}
    prob += pulp.lpSum(rep_total.values()) == total / unit

    ly = inputs.last_year.sum(axis=1) / unit
    tenure = reps["tenure_months"].to_numpy()
    growth = by_name["rep_growth"]
    for r in range(R):
        if tenure[r] >= growth["where"]["tenure_months"]["min"] and ly[r] > 0:
            prob += rep_total[r] >= (1 + growth["min"]) * ly[r]
            prob += rep_total[r] <= (1 + growth["max"]) * ly[r]
        prob += rep_total[r] <= float(reps["capacity"][r]) / unit
    factor = ramp_factor(inputs)
    for r in np.flatnonzero(factor < 1 - 1e-12):
        prob += rep_total[r] <= factor[r] * inputs.full[r] / unit

    cloud, analytics = inputs.products.index("cloud"), inputs.products.index("analytics")
    team_scale = raw["buffer"]["team"] / rep_buffer
    mix = by_name["team_cloud_mix"]
    for team in sorted(set(reps["team"])):
        members = [r for r in range(R) if reps["team"][r] == team]
        team_total = pulp.lpSum(rep_total[r] for r in members)
        prob += (
            team_total * team_scale <= by_name["team_capacity"]["per_head"] * len(members) / unit
        )
        team_cloud = pulp.lpSum(t[r, cloud] for r in members)
        prob += team_cloud >= mix["min"] * team_total
        prob += team_cloud <= mix["max"] * team_total
    east = pulp.lpSum(rep_total[r] for r in range(R) if reps["region"][r] == "East")
    prob += east >= by_name["east_share"]["min"] * R
    prob += pulp.lpSum(t[r, analytics] for r in range(R)) >= by_name["analytics_push"]["min"] * R

    # Seasonality: each month within ±tolerance of its profile share; quarter checkpoints
    # for everyone but ramping reps (whose months follow their ramp).
    season = raw["seasonality"]
    tol = season["tolerance"]
    shares = month_profiles(inputs, inputs.profiles)
    ramping = is_ramping(inputs)
    for r in range(R):
        for p in range(P):
            for k in range(K):
                prob += m[r, p, k] >= (shares[r, p, k] - tol) * t[r, p]
                prob += m[r, p, k] <= (shares[r, p, k] + tol) * t[r, p]
            if ramping[r]:
                continue
            for cp in season["checkpoints"]:
                q = pulp.lpSum(m[r, p, k] for k in range(3 * cp["quarter"] - 3, 3 * cp["quarter"]))
                if "min" in cp:
                    prob += q >= cp["min"] * t[r, p]
                if "max" in cp:
                    prob += q <= cp["max"] * t[r, p]

    # Soft rules: a slack variable per row, minimised by priority before fairness.
    wish = by_name["region_growth_wish"]
    region_scale = raw["buffer"]["region"] / rep_buffer
    region_slack = []
    for region in sorted(set(reps["region"])):
        members = [r for r in range(R) if reps["region"][r] == region]
        base = sum(ly[r] for r in members) / region_scale
        if base <= 0:
            continue
        e = pulp.LpVariable(f"wish_{region}", lowBound=0)
        region_slack.append(e)
        prob += pulp.lpSum(rep_total[r] for r in members) - e <= (1 + wish["max"]) * base
    floor = by_name["senior_floor"]
    senior_slack = []
    for r in range(R):
        if reps["role"][r] == "senior_rep" and tenure[r] >= floor["where"]["tenure_months"]["min"]:
            e = pulp.LpVariable(f"floor_{r}", lowBound=0)
            senior_slack.append(e)
            prob += rep_total[r] + e >= floor["min"] / unit

    # Fairness: the worst relative gap z, then the mean gap + 0.2 × closeness to last year.
    fair = fair_rep(inputs) / unit
    z = pulp.LpVariable("z", lowBound=0)
    gap, drift = [], []
    for r in range(R):
        prob += rep_total[r] - fair[r] * z <= fair[r]
        prob += rep_total[r] + fair[r] * z >= fair[r]
        d = pulp.LpVariable(f"gap_{r}", lowBound=0)
        prob += d >= rep_total[r] - fair[r]
        prob += d >= fair[r] - rep_total[r]
        gap.append(d * (1 / (R * fair[r])))
    has_ly = np.flatnonzero(ly > 0)
    ref = ly * R / ly.sum()
    for r in has_ly:
        d = pulp.LpVariable(f"drift_{r}", lowBound=0)
        prob += d >= rep_total[r] - ref[r]
        prob += d >= ref[r] - rep_total[r]
        drift.append(d * (1 / (len(has_ly) * ref[r])))
    weights = raw["objective"][1]
    levels = [
        ("soft:1", pulp.lpSum(region_slack) * (1 / R)),
        ("soft:2", pulp.lpSum(senior_slack) * (1 / R)),
        ("minimax", pulp.lpSum([z])),
        ("last", weights["l1"] * pulp.lpSum(gap) + weights["last_year"] * pulp.lpSum(drift)),
    ]
    build = time.perf_counter() - start
    values, status = {}, "Optimal"
    for name, objective in levels:
        prob.setObjective(objective)
        prob.solve(pulp.PULP_CBC_CMD(msg=False))
        status = pulp.LpStatus[prob.status]
        if status != "Optimal":
            break
        values[name] = float(pulp.value(objective))
        # Hold this level (to a millionth) while the next is optimised.
        prob += objective <= values[name] * (1 + 1e-6) + 1e-9
    return {
        "build": build,
        "total": time.perf_counter() - start,
        "status": status,
        "levels": values,
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
            write_sample(data, n_reps=n, seed=7, n_products=PRODUCTS)
            print(f"-- {n} reps (12 months x {PRODUCTS} products, every rule kind; "
                  f"load average {os.getloadavg()[0]:.2f}) --")  # fmt: skip
            print(f"{'backend':<8} {'load':>6} {'build':>6} {'solve':>7} {'round':>6} {'write':>6} "
                  f"{'total':>7} {'peak MB':>8}  objective")  # fmt: skip
            best = None
            for solver in [b for b in BACKENDS.get(n, ("highs",)) if not ONLY or b in ONLY]:
                r = _child("run_case", str(data), solver, CASE_TIMEOUT)
                if r is None or "error" in r:
                    print(f"{solver:<8} failed: {r}")
                    continue
                if best is None or r["total"] < best["total"]:
                    best = r
                print(f"{solver:<8} {r['load']:6.2f} {r['build']:6.2f} {r['solve']:7.2f} "
                      f"{r['round']:6.2f} {r['write']:6.2f} {r['total']:7.2f} {r['peak_mb']:8.0f}  "
                      f"{r['objective']:.6g}")  # fmt: skip
            if best is None or n > BASELINE_MAX_REPS:
                continue
            _report_baseline(_child("run_baseline", str(data), "", BASELINE_TIMEOUT), best)


def same_optimum(ours: list[float], theirs: list[float]) -> float:
    """The largest difference between the two runs' level values, relative to each level."""
    return max(abs(a - b) / max(abs(a), abs(b), 1e-6) for a, b in zip(ours, theirs, strict=True))


def _report_baseline(base: dict | None, best: dict) -> None:
    label = "baseline (PuLP by hand + CBC)"
    if base is None:
        print(f"{label}: did not finish in {BASELINE_TIMEOUT:.0f} s "
              f"-> attain is > {BASELINE_TIMEOUT / best['total']:.0f}x faster")  # fmt: skip
        return
    if "error" in base:
        print(f"baseline failed: {base['error']}")
        return
    if base["status"] != "Optimal":
        print(f"{label}: ended {base['status']} after {base['total']:.1f} s (not comparable)")
        return
    levels = list(base["levels"].values())
    diff = same_optimum(best["levels"], levels)
    print(f"{label}: build {base['build']:.1f} s, total {base['total']:.1f} s, "
          f"peak {base['peak_mb']:.0f} MB; levels "
          + " / ".join(f"{v:.6g}" for v in levels)
          + " vs attain's " + " / ".join(f"{v:.6g}" for v in best["levels"]))  # fmt: skip
    if diff > SAME_TOL:
        print(f"  NOT the same optimum (relative difference {diff:.1e}): no ratio")
        return
    print(
        f"  same optimum (to {diff:.0e}) -> attain is {base['total'] / best['total']:.0f}x faster"
    )


if __name__ == "__main__":
    main()

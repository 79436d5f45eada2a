"""Territory alignment: time to proven optimum, or the gap at the time limit, per backend.

Two synthetic instances (seeded): 1,000 units × 20 reps and 10,000 accounts ×
100 reps, units clustered around a few cities, each owned by one of its three
nearest offices (so workloads are out of balance), offices given in the org
table. Rules: workload within [0.85, 1.15] of the mean, the 8 nearest offices
as candidates, minimise km + 20 × units moved, stop at a 0.01% gap or 60 s.
The default backend (attain.territory.DEFAULT_TERRITORY_SOLVER) is chosen
from these figures. On the large case HiGHS takes the large-instance path
(attain.territory.heuristic: LP relaxation, LP-guided rounding and local
search, large-neighbourhood search by small MIPs around the incumbent,
Lagrangian bound, then the MIP warm-started when enough time is left):
the gap printed is the proven one, incumbent against bound. Then contiguity on
grids (HiGHS, cut generation: separator and floor cuts found on the LP first, then
on each rough MIP answer, a split one near its bound repaired by a small MIP around its
split reps, then the gap proven under a cutoff): time and cuts to
connected territories at a 0.1% gap. The
load average is printed: the machine is shared.

    python bench/run.py territory
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from attain import company_from_frames
from attain.errors import SolverError
from attain.territory import align

TIME_LIMIT = 60.0
CASES = ((1_000, 20), (10_000, 100))
BACKENDS = ("highs", "cpsat")
RULES = {
    "kind": "territory",
    "candidates": {"nearest": 8},
    "balance": [{"measure": "workload", "min": 0.85, "max": 1.15}],
    "objective": {"weights": {"distance": 1.0, "disruption": 20.0}},
    "mip_gap": 1e-4,
}
COMPANY = {
    "kind": "company",
    "name": "Bench",
    "currency": "EUR",
    "fiscal_year": 2027,
    "hierarchy": ["region"],
    "products": ["core"],
    "tables": {"org": "org.csv", "accounts": "accounts.csv"},
}


def _org(reps: list[str], latitude, longitude) -> pd.DataFrame:
    """One region of plain reps with their offices."""
    return pd.DataFrame(
        {
            "rep_id": reps,
            "name": reps,
            "region": "All",
            "role": "rep",
            "tenure_months": 36,
            "capacity": 1e6,
            "target_incentive": 1e4,
            "office_latitude": latitude,
            "office_longitude": longitude,
        }
    )


def instance(n_units: int, n_reps: int, seed: int = 11):
    rng = np.random.default_rng(seed)
    cities = rng.uniform([45.0, 5.0], [53.0, 15.0], size=(max(3, n_reps // 8), 2))
    city = rng.integers(0, len(cities), n_units)
    xy = cities[city] + rng.normal(0, 0.6, size=(n_units, 2))
    office = xy[rng.choice(n_units, n_reps, replace=False)]
    d = np.hypot(*(xy[:, None, :] - office[None, :, :]).transpose(2, 0, 1))
    nearest3 = np.argsort(d, axis=1)[:, :3]
    owner = nearest3[np.arange(n_units), rng.integers(0, 3, n_units)]
    reps = [f"R{i:04d}" for i in range(n_reps)]
    org = _org(reps, office[:, 0], office[:, 1])
    accounts = pd.DataFrame(
        {
            "account_id": [f"U{i:06d}" for i in range(n_units)],
            "rep_id": np.array(reps)[owner],
            "current_revenue": np.round(rng.lognormal(10, 1, n_units), 2),
            "growth_coefficient": 1.1,
            "workload": np.round(rng.uniform(0.5, 2.0, n_units), 2),
            "latitude": xy[:, 0],
            "longitude": xy[:, 1],
        }
    )
    return company_from_frames(COMPANY, org=org, accounts=accounts)


def run(company, solver: str) -> dict:
    start = time.perf_counter()
    try:
        a = align(RULES, company, solver=solver, time_limit=TIME_LIMIT)
    except SolverError as exc:  # no solution within the limit: say how long it tried
        seconds = time.perf_counter() - start
        return {"status": "no solution", "gap": float("nan"), "seconds": seconds, "note": str(exc)}
    total = time.perf_counter() - start
    info = a.solve_info
    return {
        "status": a.status,
        "gap": a.gap,
        "seconds": total,
        "objective": a.goals["distance_km"] + 20 * a.goals["disruption"],
        "bound": info.get("bound", float("nan")),
        "phases": ", ".join(
            f"{k.removesuffix('_seconds')} {info[k]:.1f} s"
            for k in ("lp_seconds", "heuristic_seconds", "lns_seconds", "mip_seconds")
            if k in info
        ),
        "variables": a.model_size["variables"],
        "moved": a.units_moved,
    }


def rank(r: dict) -> tuple:
    """Better first: proven (within the gap target), then smaller gap, then less time."""
    gap = r["gap"] if r["gap"] == r["gap"] else float("inf")  # NaN: no solution
    return (r["status"] != "optimal", gap, r["seconds"])


def main() -> None:
    import os

    print(f"time limit {TIME_LIMIT:g} s per solve; gap target 0.01%")
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 cores)")
    print(f"{'case':>16} {'backend':>7} {'status':>11} {'seconds':>8} {'gap':>9} {'objective':>13}")
    wins = dict.fromkeys(BACKENDS, 0)
    for n_units, n_reps in CASES:
        company = instance(n_units, n_reps)
        results = {solver: run(company, solver) for solver in BACKENDS}
        for solver, r in results.items():
            print(
                f"{f'{n_units}x{n_reps}':>16} {solver:>7} {r['status']:>11} "
                f"{r['seconds']:8.1f} {r['gap']:9.2e} {r.get('objective', float('nan')):13.1f}",
                flush=True,
            )
            if "note" in r:
                print(f"{'':>16} {solver:>7} {r['note']}", flush=True)
            if r.get("phases"):
                print(
                    f"{'':>16} {solver:>7} proven: incumbent {r['objective']:.1f} vs bound "
                    f"{r['bound']:.1f} ({r['phases']})",
                    flush=True,
                )
        wins[min(results, key=lambda s: rank(results[s]))] += 1
    best = max(BACKENDS, key=lambda s: (wins[s], -BACKENDS.index(s)))
    print(f"best per case: {wins}; default territory backend should be: {best}")
    contiguity()


#: Grids (columns × rows of units, reps) for the contiguity bench: cut generation's rounds.
GRIDS = ((10, 10, 4), (20, 10, 8))


def grid(nx: int, ny: int, n_reps: int, root, seed: int = 5):
    """Units on a grid (4-neighbour adjacency written to ``root/adj.csv``), each owned by a
    rep whose office is near it (noisy, so some current territories are not connected)."""
    rng = np.random.default_rng(seed)
    ix, iy = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    lat, lon = 48 + iy.ravel() * 0.05, 8 + ix.ravel() * 0.07
    n = nx * ny
    office = rng.choice(n, n_reps, replace=False)
    d = np.hypot(lat[:, None] - lat[office], lon[:, None] - lon[office])
    owner = np.argmin(d + rng.uniform(0, 0.15, d.shape), axis=1)
    reps = [f"R{i:03d}" for i in range(n_reps)]
    org = _org(reps, lat[office], lon[office])
    ids = np.array([f"G{i:05d}" for i in range(n)])
    accounts = pd.DataFrame(
        {
            "account_id": ids,
            "rep_id": np.array(reps)[owner],
            "current_revenue": 1000.0,
            "growth_coefficient": 1.0,
            "workload": np.round(rng.uniform(0.5, 2.0, n), 2),
            "latitude": lat,
            "longitude": lon,
        }
    )
    idx = np.arange(n).reshape(nx, ny)
    a = np.concatenate([idx[:-1, :].ravel(), idx[:, :-1].ravel()])
    b = np.concatenate([idx[1:, :].ravel(), idx[:, 1:].ravel()])
    pd.DataFrame({"unit_id": ids[a], "neighbour_id": ids[b]}).to_csv(root / "adj.csv", index=False)
    company = company_from_frames(COMPANY, org=org, accounts=accounts)
    return type(company)(**{**company.__dict__, "root": root})


def contiguity() -> None:
    """HiGHS with connected territories (cut generation), 0.1% gap."""
    import os
    import tempfile
    from pathlib import Path

    rules = {
        **RULES,
        "units": {"adjacency": "adj.csv"},
        "contiguity": True,
        "mip_gap": 1e-3,
    }
    print(f"{'grid':>16} {'status':>11} {'seconds':>8} {'gap':>9} {'cuts':>5}")
    for nx, ny, k in GRIDS:
        with tempfile.TemporaryDirectory() as tmp:
            company = grid(nx, ny, k, Path(tmp))
            start = time.perf_counter()
            a = align(rules, company, solver="highs", time_limit=TIME_LIMIT)
            seconds = time.perf_counter() - start
        cuts = a.summary["solve"]["contiguity_cuts"]
        print(f"{f'{nx}x{ny}x{k}':>16} {a.status:>11} {seconds:8.1f} {a.gap:9.2e} {cuts:>5}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

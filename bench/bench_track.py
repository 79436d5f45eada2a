"""Tracking benchmark: `attain.track` on 50,000 reps at 30 June, with forecast intervals.

The company is synthetic (numpy): 50,000 reps in 5,000 teams and 10 regions, monthly
targets for 4 products (2.4M target rows) and about 1.2M deal rows for January-June.
The figure is end to end from DataFrames: the checks of targets and deals, the
to-date figures, 1,000 forecast draws per rep with the roll-ups of every level, and the
result tables. The goal (no baseline: nothing in the field forecasts this way per rep)
is under 20 s. ``ATTAIN_BENCH_QUICK=1`` runs 5,000 reps.

Run alone: ``python bench/run.py track`` (``ATTAIN_BENCH_REPS=N`` for another size).
"""

from __future__ import annotations

import os
import resource
import time

import numpy as np
import pandas as pd

QUICK = os.environ.get("ATTAIN_BENCH_QUICK") == "1"
N_REPS = int(os.environ.get("ATTAIN_BENCH_REPS", 5_000 if QUICK else 50_000))
PRODUCTS = ("core", "cloud", "services", "analytics")
TRIALS = 1000
GOAL_S = 20.0


def company(n_reps: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    reps = np.array([f"R{i:06d}" for i in range(n_reps)])
    team = np.arange(n_reps) // 10
    months = [f"2027-{m:02d}" for m in range(1, 13)]
    k = len(PRODUCTS)
    size = rng.lognormal(np.log(60_000), 0.4, n_reps)
    season = np.array([0.7, 0.8, 1.0, 1.0, 1.0, 1.1, 0.8, 0.7, 1.1, 1.2, 1.2, 1.4]) / 12.0
    mix = np.array([0.5, 0.25, 0.15, 0.10])
    target = np.round(size[:, None, None] * season[None, :, None] * mix[None, None, :] * 12)
    targets = pd.DataFrame(
        {
            "rep_id": np.repeat(reps, 12 * k),
            "region": np.repeat([f"Region-{t % 10}" for t in team], 12 * k),
            "team": np.repeat([f"Team-{t:04d}" for t in team], 12 * k),
            "period": np.tile(np.repeat(months, k), n_reps),
            "product": np.tile(PRODUCTS, n_reps * 12),
            "target": target.ravel(),
        }
    )
    n_deals = n_reps * 24  # about four a month in January-June
    rep = rng.integers(0, n_reps, n_deals)
    day = rng.integers(0, 181, n_deals)  # 2027-01-01 .. 2027-06-30
    product = rng.choice(k, n_deals, p=mix)
    amount = np.round(size[rep] / 48 * rng.lognormal(0, 0.5, n_deals), 2)
    deals = pd.DataFrame(
        {
            "deal_id": [f"D{i:08d}" for i in range(n_deals)],
            "date": (np.datetime64("2027-01-01") + day).astype(str),
            "rep_id": reps[rep],
            "product": np.array(PRODUCTS)[product],
            "amount": amount,
        }
    )
    return targets, deals


def main() -> None:
    import attain

    targets, deals = company(N_REPS)
    start = time.perf_counter()
    result = attain.track(targets, deals, "2027-06-30", trials=TRIALS, seed=1)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = len(result.table)
    print(
        f"track {N_REPS:,} reps x {TRIALS:,} draws ({len(targets):,} target rows, "
        f"{len(deals):,} deal rows): {seconds:.1f} s end to end, {rows:,} result rows, "
        f"peak RSS {peak:,.0f} MB (goal {GOAL_S:.0f} s at 50,000 reps)"
    )


if __name__ == "__main__":
    main()

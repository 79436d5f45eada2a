"""Ledger benchmark: closing pay periods of a synthetic company into SQLite (and PostgreSQL).

The company (numpy, written as files, since a close reads files and hashes them): N reps
in teams of 10, monthly targets for 4 products, about 24 deal rows per rep over the year,
and a three-component monthly plan measured on the year to date (marginal commission,
attainment curve, step bonus). Figures, end to end through ``Ledger.close``:

1. close January into an empty ledger (January's deal rows recorded as the run's: a
   close records the rows dated in the periods it pays);
2. close February with 0.1% of the deals changed (late, cancelled, resized): adjustment
   lines for January naming their deals, February's lines and their parts;
3. the ledger's size after each close, and a year's size from it (the first month plus
   eleven months of growth like February's);
4. the goal's scale of a month, about 12 payable lines per rep (≈ 1.2M): January of a
   *wide* plan (a commission, an attainment curve from the first sale and a step bonus
   per product: 12 components) on a company with twice the deals, one per rep, product
   and month (48 rows per rep, 4.8M in all), into SQLite and PostgreSQL
   (``ATTAIN_BENCH_WIDE=0`` skips it).

Each close prints its wall time, this process's CPU time (the database server's, for
PostgreSQL, is not in it) and the run's recorded steps. Goals: closing a month for
100,000 reps into SQLite < 30 s, into PostgreSQL < 60 s; a year's ledger < 2 GB.
``ATTAIN_BENCH_REPS=N`` sets the size (default 100,000;
``ATTAIN_BENCH_QUICK=1``: 5,000); ``ATTAIN_BENCH_POSTGRES_URL=postgresql://…`` also runs
PostgreSQL (a scratch database is created there and dropped).

Run alone: ``python bench/run.py ledger``.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

QUICK = os.environ.get("ATTAIN_BENCH_QUICK") == "1"
N_REPS = int(os.environ.get("ATTAIN_BENCH_REPS", 5_000 if QUICK else 100_000))
POSTGRES = os.environ.get("ATTAIN_BENCH_POSTGRES_URL")
PRODUCTS = ("core", "cloud", "services", "analytics")
WIDE = os.environ.get("ATTAIN_BENCH_WIDE", "1") != "0"
GOALS = {"sqlite": 30.0, "postgresql": 60.0}
YEAR_GOAL_GB = 2.0

PLAN = """kind: plan
name: bench
company: company
period: month
measure: ytd
negative_balance: claw_back
target_incentive: {amount: 20000}
components:
  - type: commission
    name: commission
    tiers:
      - {start: 0, end: 1000000, rate: 0.06}
      - {start: 1000000, end: 1500000, rate: 0.08}
      - {start: 1500000, rate: 0.10}
  - type: attainment_curve
    name: bonus
    points:
      - {attainment: 0.5, payout: 0.3}
      - {attainment: 1.0, payout: 1.0}
      - {attainment: 1.5, payout: 2.0}
  - type: step_bonus
    name: kicker
    steps:
      - {attainment: 1.1, amount: 500}
      - {attainment: 1.25, amount: 1500}
"""


#: The wide plan's components, once per product: the curve pays from the first sale and
#: the kicker's first step is low, so nearly every rep has all twelve lines each month.
WIDE_COMPONENTS = """  - type: commission
    name: commission_{p}
    products: [{p}]
    tiers:
      - {{start: 0, end: 250000, rate: 0.06}}
      - {{start: 250000, end: 400000, rate: 0.08}}
      - {{start: 400000, rate: 0.10}}
  - type: attainment_curve
    name: bonus_{p}
    products: [{p}]
    weight: 0.25
    points:
      - {{attainment: 0.0, payout: 0.0}}
      - {{attainment: 1.0, payout: 1.0}}
      - {{attainment: 1.5, payout: 2.0}}
  - type: step_bonus
    name: kicker_{p}
    products: [{p}]
    steps:
      - {{attainment: 0.25, amount: 100}}
      - {{attainment: 1.1, amount: 500}}
      - {{attainment: 1.25, amount: 1500}}
"""


def wide_plan() -> str:
    """:data:`PLAN`'s three components once per product: 12 lines per rep."""
    head = PLAN.split("components:\n")[0]
    return head + "components:\n" + "".join(WIDE_COMPONENTS.format(p=p) for p in PRODUCTS)


def write_company(
    folder: Path,
    n_reps: int,
    seed: int = 11,
    deals_per_rep: int = 24,
    plan_text: str = PLAN,
    every_month: bool = False,
) -> tuple[Path, Path, Path, Path]:
    """The company folder, targets, two versions of the actuals, and the plan.

    ``every_month``: each rep's deals spread over every product and month (``deals_per_rep``
    a multiple of 48), not drawn at random: each month then pays every product's lines."""
    rng = np.random.default_rng(seed)
    reps = np.char.add("R", np.char.zfill(np.arange(n_reps).astype(str), 6))
    company = folder / "company"
    company.mkdir(parents=True)
    (company / "company.yaml").write_text(
        "kind: company\nname: Bench\ncurrency: EUR\nfiscal_year: 2027\n"
        "hierarchy: [team]\nproducts: [" + ", ".join(PRODUCTS) + "]\ntables: {org: org.csv}\n"
    )
    pd.DataFrame(
        {
            "rep_id": reps,
            "name": reps,
            "team": np.char.add("T", (np.arange(n_reps) // 10).astype(str)),
            "role": "rep",
            "tenure_months": 24,
            "capacity": 0,
            "target_incentive": 20000,
        }
    ).to_csv(company / "org.csv", index=False)
    k = len(PRODUCTS)
    months = [f"2027-{m:02d}" for m in range(1, 13)]
    pd.DataFrame(
        {
            "rep_id": np.repeat(reps, 12 * k),
            "period": np.tile(np.repeat(months, k), n_reps),
            "product": np.tile(PRODUCTS, n_reps * 12),
            "target": np.round(rng.uniform(8_000, 40_000, n_reps * 12 * k), 2),
        }
    ).to_csv(folder / "targets.csv", index=False)
    n = n_reps * deals_per_rep
    if every_month:  # rep, then month, then product: deals_per_rep / 48 of each cell
        cell = np.arange(n) % (deals_per_rep) // (deals_per_rep // (12 * k))
        rep = np.repeat(np.arange(n_reps), deals_per_rep)
        starts = np.array([f"2027-{m:02d}-01" for m in range(1, 13)], dtype="datetime64[D]")
        day = starts[cell // k] + rng.integers(0, 28, n)
        product = cell % k
    else:
        day = np.datetime64("2027-01-01") + rng.integers(0, 365, n)
        rep, product = rng.integers(0, n_reps, n), rng.integers(0, k, n)
    deals = pd.DataFrame(
        {
            "deal_id": np.char.add("D", np.char.zfill(np.arange(n).astype(str), 9)),
            "date": day.astype(str),
            "rep_id": reps[rep],
            "product": np.array(PRODUCTS)[product],
            "amount": np.round(rng.lognormal(9.5, 0.8, n), 2),
            "split": 1.0,
            "quantity": 1,
            "new_customer": False,
            "type": "booking",
        }
    )
    deals.to_csv(folder / "actuals_v1.csv", index=False)
    # Version 2: 0.1% of January's deals resized, as many late January deals, and as
    # many cancelled in February.
    january = np.flatnonzero(deals["date"].str.startswith("2027-01").to_numpy())
    m = max(n // 1000, 1)
    changed = deals.copy()
    resized = rng.choice(january, m, replace=False)
    changed.loc[resized, "amount"] = np.round(changed.loc[resized, "amount"] * 1.5, 2)
    late = deals.iloc[rng.choice(january, m, replace=False)].copy()
    late["deal_id"] = np.char.add("L", np.char.zfill(np.arange(m).astype(str), 9))
    cancelled = deals.iloc[rng.choice(january, m, replace=False)].copy()
    cancelled["type"] = "cancellation"
    cancelled["date"] = "2027-02-15"
    pd.concat([changed, late, cancelled], ignore_index=True).to_csv(
        folder / "actuals_v2.csv", index=False
    )
    plan = folder / "plan.yaml"
    plan.write_text(plan_text)
    return plan, folder / "targets.csv", folder / "actuals_v1.csv", folder / "actuals_v2.csv"


def _size(ledger, url: str) -> int:
    if "://" not in url:
        return sum(p.stat().st_size for p in Path(url).parent.glob(Path(url).name + "*"))
    import sqlalchemy as sa

    with ledger._engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar())


def _scratch_postgres(base: str) -> tuple[str, object]:
    import sqlalchemy as sa

    from attain.ledger.store import ledger_url

    name = "bench_" + uuid.uuid4().hex[:10]
    admin = sa.create_engine(ledger_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    url = ledger_url(base).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()

    return url.replace("postgresql+psycopg://", "postgresql://"), drop


def _close(ledger, plan, targets, actuals, period) -> tuple[float, float, object]:
    start, cpu = time.perf_counter(), time.process_time()
    result = ledger.close([plan], targets, actuals, period)
    return time.perf_counter() - start, time.process_time() - cpu, result


def _steps(ledger, result) -> str:
    """The run's recorded wall steps, e.g. ``compute 16.7, record 3.9, …``."""
    timings = ledger.run(result.run_id)["timings"]
    return ", ".join(f"{k.removesuffix('_seconds')} {v:.1f}" for k, v in timings.items())


def run_backend(name: str, url: str, files, plan_label: str = "") -> None:
    """January, then February with the changed deals, into ``name`` at ``url``: each
    close's time and steps, the adjustments, and the ledger's size for a year from
    them (January plus eleven months of February's growth)."""
    from attain.ledger import Ledger

    plan, targets, v1, v2 = files
    ledger = Ledger(url)
    ledger.init()
    t1, c1, jan = _close(ledger, plan, targets, v1, "2027-01")
    size1 = _size(ledger, url)
    t2, c2, feb = _close(ledger, plan, targets, v2, "2027-02")
    size2 = _size(ledger, url)
    n_adjust = int((feb.lines["kind"] == "adjustment").sum())
    goal = GOALS[name]
    year = size1 + 11 * (size2 - size1)
    scale = 100_000 / N_REPS
    closes = (("January (first close)", t1, c1, jan), ("February", t2, c2, feb))
    for label, seconds, cpu, result in closes:
        steps = _steps(ledger, result)
        print(
            f"{name:10s} {plan_label}{label:22s} {len(result.lines):>9,} lines "
            f"({len(result.lines) / N_REPS:.1f} a rep)  {seconds:6.1f} s wall, {cpu:5.1f} s CPU "
            f"here (goal {goal:.0f} s at 100,000 reps; wall steps: {steps})"
        )
    print(f"{name:10s} {plan_label}February: {n_adjust:,} adjustment lines naming changed deals")
    print(
        f"{name:10s} {plan_label}ledger size: {size1 / 1e6:.0f} MB after January, {size2 / 1e6:.0f} MB after "
        f"February; a year ≈ {year / 1e9:.2f} GB at {N_REPS:,} reps, ≈ {year * scale / 1e9:.1f} GB "
        f"scaled to 100,000 (goal < {YEAR_GOAL_GB:.0f} GB)"
    )
    ledger.dispose()


def run_wide(folder: Path) -> None:
    """:func:`run_backend` for :func:`wide_plan` on a company with 48 deal rows per rep,
    one per product and month: January and February into SQLite (and PostgreSQL, given
    its URL), and a year's size at that density."""
    start = time.perf_counter()
    files = write_company(folder, N_REPS, deals_per_rep=48, plan_text=wide_plan(), every_month=True)
    print(
        f"wide company ({N_REPS * 48:,} deal rows, 12 components) written in "
        f"{time.perf_counter() - start:.1f} s"
    )
    run_backend("sqlite", str(folder / "pay.db"), files, "wide plan, ")
    if POSTGRES:
        url, drop = _scratch_postgres(POSTGRES)
        try:
            run_backend("postgresql", url, files, "wide plan, ")
        finally:
            drop()  # type: ignore[operator]


def main() -> None:
    print(
        f"ledger close, {N_REPS:,} reps, ~{N_REPS * 24:,} deal rows, load {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory(prefix="attain-bench-ledger-") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        files = write_company(folder, N_REPS)
        print(f"company written in {time.perf_counter() - start:.1f} s")
        run_backend("sqlite", str(folder / "pay.db"), files)
        if POSTGRES:
            url, drop = _scratch_postgres(POSTGRES)
            try:
                run_backend("postgresql", url, files)
            finally:
                drop()  # type: ignore[operator]
    if WIDE:
        with tempfile.TemporaryDirectory(prefix="attain-bench-ledger-wide-") as tmp:
            run_wide(Path(tmp))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB; load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

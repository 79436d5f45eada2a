"""Incentive benchmarks: the exact payout path and the vectorised evaluator.

1. Exact: payouts for 100,000 reps × 12 months from ~5 million deals, end to end
   (data checks, credit, evaluation, payouts table), against a plain per-rep Python
   loop with Decimal over the same plan (the baseline a user would write).
2. Vectorised: a three-component plan (marginal commission, attainment curve, step
   bonus) on 10^8 rep-trials in chunks, on one core and on both, against a plain
   per-rep-trial Python loop; peak memory for 10^7 and 10^8 trials shows it is flat.

3. Payout memory: the peak RSS of ``attain payout`` (the whole command: reading the org,
   targets and deals, computing, writing payouts and statements) on a synthetic company
   (``attain sample``) with targets of last year's sales: 2,000 reps by default,
   ``ATTAIN_BENCH_PAYOUT_REPS=20000`` for the full size.

``ATTAIN_BENCH_QUICK=1`` shrinks every size by 10-100x for a smoke run.

``ATTAIN_BENCH_AGAINST=REV`` (a branch, tag or commit; default: none) times the exact
payouts (1.) on this tree and on REV instead, in the same run and on the same data: REV
is checked out in a temporary ``git worktree`` (removed afterwards), the data drawn once
and written to Parquet, and each run is a fresh process importing one tree's ``engine/``
as ``attain``, interleaved (this tree, REV, this tree, REV, ...; best of
``ATTAIN_BENCH_REPEAT``, default 2), with wall and CPU seconds, the load average, and a
check that both trees pay the same lines and amounts.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import tempfile
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd

QUICK = os.environ.get("ATTAIN_BENCH_QUICK") == "1"
N_REPS = 10_000 if QUICK else 100_000
N_DEALS = 500_000 if QUICK else 5_000_000
N_REP_TRIALS = 10**6 if QUICK else 10**8
PRODUCTS = ("core", "cloud", "services", "analytics")
TIERS = [(0, 1_000_000, "0.06"), (1_000_000, 1_500_000, "0.08"), (1_500_000, None, "0.10")]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _plan(period: str = "month", measure: str = "ytd"):
    from attain.schema.plan import Plan

    return Plan.model_validate(_plan_spec(period, measure))


def _plan_spec(period: str = "month", measure: str = "ytd") -> dict:
    """The bench plan as its rule-file mapping (any tree's attain can load it)."""
    tiers = [
        {"start": s, "rate": float(r), **({"end": e} if e is not None else {})} for s, e, r in TIERS
    ]
    return {
        "kind": "plan",
        "name": "bench",
        "period": period,
        "measure": measure,
        "negative_balance": "claw_back",
        "target_incentive": {"amount": 20_000},
        "components": [
            {"type": "commission", "name": "commission", "tiers": tiers},
            {
                "type": "attainment_curve",
                "name": "bonus",
                "points": [
                    {"attainment": 0.5, "payout": 0.3},
                    {"attainment": 1.0, "payout": 1.0},
                    {"attainment": 1.5, "payout": 2.0},
                ],
            },
            {
                "type": "step_bonus",
                "name": "kicker",
                "steps": [
                    {"attainment": 1.1, "amount": 500},
                    {"attainment": 1.25, "amount": 1500},
                ],
            },
        ],
    }


_RULES = {
    "kind": "company",
    "name": "Bench",
    "currency": "EUR",
    "fiscal_year": 2027,
    "hierarchy": ["region", "team"],
    "products": list(PRODUCTS),
    "tables": {"org": "org.csv"},
}


def _company(rng):
    from attain.data import company_from_frames

    org, reps, targets = _frames(rng)
    return company_from_frames(_RULES, org=org), reps, targets


def _frames(rng) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """The org and the targets, as plain frames."""
    reps = np.char.add("R", np.char.zfill(np.arange(N_REPS).astype(str), 6))
    org = pd.DataFrame(
        {
            "rep_id": reps,
            "name": reps,
            "region": np.where(np.arange(N_REPS) < N_REPS // 2, "East", "West"),
            "team": np.char.add("T", (np.arange(N_REPS) // 10).astype(str)),
            "role": "rep",
            "tenure_months": 24,
            "capacity": 2e6,
            "target_incentive": 20_000.0,
        }
    )
    targets = pd.DataFrame(
        {
            "rep_id": np.repeat(reps, len(PRODUCTS)),
            "period": "2027",
            "product": np.tile(PRODUCTS, N_REPS),
            "target": np.round(rng.uniform(100_000, 500_000, N_REPS * len(PRODUCTS)), 2),
        }
    )
    return org, reps, targets


def _deals(rng, reps) -> pd.DataFrame:
    n_book = int(N_DEALS * 0.98)
    n_cancel = N_DEALS - n_book
    day = rng.integers(0, 365, n_book)
    cancelled = rng.choice(n_book, n_cancel, replace=False)
    idx = np.concatenate([np.arange(n_book), cancelled])
    ids = np.char.add("D", np.char.zfill(idx.astype(str), 8))
    dates = np.datetime64("2027-01-01") + np.concatenate(
        [day, np.minimum(day[cancelled] + 30, 364)]
    )
    rep = rng.integers(0, N_REPS, n_book)
    amount = np.round(rng.lognormal(9, 1, n_book), 2)
    return pd.DataFrame(
        {
            "deal_id": ids,
            "date": dates.astype("datetime64[ns]"),
            "rep_id": reps[rep[idx]],
            "product": np.array(PRODUCTS)[rng.integers(0, 4, n_book)[idx]],
            "amount": amount[idx],
            "split": 1.0,
            "quantity": 1.0,
            "new_customer": False,
            "type": np.where(np.arange(N_DEALS) < n_book, "booking", "cancellation"),
        }
    )


def _decimal_loop(deals: pd.DataFrame, targets: pd.DataFrame, reps: np.ndarray) -> int:
    """The baseline: per rep, per month, the YTD commission in Decimal (marginal tiers only)."""
    cents = Decimal("0.01")
    tiers = [(Decimal(s), None if e is None else Decimal(e), Decimal(r)) for s, e, r in TIERS]
    month = deals["date"].dt.month.to_numpy() - 1
    sign = np.where(deals["type"].to_numpy() == "cancellation", -1, 1)
    n_lines = 0
    by_rep = {}
    for rep, m, amount, s in zip(deals["rep_id"], month, deals["amount"], sign, strict=True):
        by_rep.setdefault(rep, [Decimal(0)] * 12)[m] += Decimal(str(amount)) * s
    for rep in reps:
        ytd, paid = Decimal(0), Decimal(0)
        for m in range(12):
            ytd += by_rep.get(rep, [Decimal(0)] * 12)[m]
            earned = Decimal(0)
            for start, end, rate in tiers:
                top = ytd if end is None else min(ytd, end)
                if top > start:
                    earned += (top - start) * rate
            earned = earned.quantize(cents, ROUND_HALF_UP)
            _ = earned - paid
            paid = earned
            n_lines += 1
    return n_lines


def bench_exact() -> None:
    from attain.incentive import payouts

    rng = np.random.default_rng(7)
    company, reps, targets = _company(rng)
    deals = _deals(rng, reps)
    plan = _plan()
    from attain.data import company_from_frames

    start = time.perf_counter()
    company_from_frames(company.rules, org=company.org, actuals=deals)  # the checks alone
    checks = time.perf_counter() - start
    before = _peak_mb()
    start = time.perf_counter()
    result = payouts(plan, targets, deals, company)
    table = result.payouts_table()
    seconds = time.perf_counter() - start
    n_lines = len(table)
    print(
        f"exact: {N_REPS:,} reps x 12 months from {len(deals):,} deal rows: {seconds:.1f} s end to end"
        f" (data checks {checks:.1f} s)"
        f" ({n_lines:,} lines, {n_lines / seconds / 1e6:.2f} M lines/s), "
        f"peak memory {_peak_mb():,.0f} MB (+{_peak_mb() - before:,.0f} MB)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result.write(Path(tmp) / "lines", statements=False, xlsx=False)
        csv_seconds = time.perf_counter() - start
        start = time.perf_counter()
        files = result.write(Path(tmp) / "all", statements=True, xlsx=True)
        all_seconds = time.perf_counter() - start
    n_md = sum(1 for f in files if f.suffix == ".md")
    print(
        f"  writing: payouts.csv + summary.json {csv_seconds:.1f} s; with payouts.xlsx, "
        f"statements.csv, the deal tables and {n_md:,} statements {all_seconds:.1f} s"
    )
    sub = reps[: max(200, N_REPS // 100)]
    sub_deals = deals[deals["rep_id"].isin(set(sub))]
    start = time.perf_counter()
    n_base = _decimal_loop(sub_deals, targets, sub)
    base_rate = n_base / (time.perf_counter() - start)
    print(
        f"  baseline per-rep Decimal loop (commission only, {len(sub):,} reps): "
        f"{base_rate / 1e6:.2f} M lines/s; exact path (all 3 components, with checks) is "
        f"{n_lines / seconds / base_rate:.1f}x faster per line"
    )


AGAINST = os.environ.get("ATTAIN_BENCH_AGAINST") or None
REPEAT = int(os.environ.get("ATTAIN_BENCH_REPEAT", "2"))


def _time_exact(data: Path) -> dict:
    """One timed exact run on the data in ``data`` (a fresh process: the ``attain`` it
    imports is the tree its PYTHONPATH names). Reading the Parquet files is not timed;
    the payouts call and its payouts table are, as in :func:`bench_exact`."""
    import attain
    from attain.data import company_from_frames
    from attain.incentive import payouts

    org = pd.read_parquet(data / "org.parquet")
    targets = pd.read_parquet(data / "targets.parquet")
    deals = pd.read_parquet(data / "deals.parquet")
    company = company_from_frames(_RULES, org=org)
    load = os.getloadavg()[0]
    wall, cpu = time.perf_counter(), time.process_time()
    result = payouts(_plan_spec(), targets, deals, company)
    table = result.payouts_table()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "attain": str(Path(attain.__file__).resolve().parent),
        "wall": wall,
        "cpu": cpu,
        "load": load,
        "peak_mb": _peak_mb(),
        "n_lines": len(table),
        "payable_minor": int(result.totals["payable_minor"].sum()),
    }


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)


def bench_against(rev: str, repeat: int = REPEAT) -> None:
    """The exact payouts on this tree and on ``rev``, interleaved on the same data."""
    root = Path(__file__).resolve().parent.parent
    sha = _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if sha.returncode:
        print(f"exact against {rev}: not a commit here")
        return
    commit = sha.stdout.strip()
    with tempfile.TemporaryDirectory(prefix="attain-bench-") as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        rng = np.random.default_rng(7)
        org, reps, targets = _frames(rng)
        deals = _deals(rng, reps)
        n_deals = len(deals)
        for name, frame in (("org", org), ("targets", targets), ("deals", deals)):
            frame.to_parquet(data / f"{name}.parquet", index=False)
        del org, targets, deals  # the parent holds nothing while the runs are timed
        tree = Path(tmp) / "tree"
        added = _git(root, "worktree", "add", "--detach", str(tree), commit)
        if added.returncode:
            print(f"exact against {rev}: git worktree add failed: {added.stderr.strip()}")
            return
        try:
            runs = _interleaved({"this tree": root, rev: tree}, Path(tmp), data, repeat)
        finally:
            _git(root, "worktree", "remove", "--force", str(tree))
            _git(root, "worktree", "prune")
    if isinstance(runs, str):
        print(f"exact against {rev}: {runs}")
        return
    print(
        f"exact payouts, {N_REPS:,} reps x 12 months from {n_deals:,} deal rows, this tree "
        f"against {rev} ({commit[:10]}), interleaved, best of {repeat}:"
    )
    best = {label: min(r, key=lambda x: x["wall"]) for label, r in runs.items()}
    for label, r in runs.items():
        walls = ", ".join(f"{x['wall']:.1f}" for x in r)
        cpus = ", ".join(f"{x['cpu']:.1f}" for x in r)
        loads = ", ".join(f"{x['load']:.1f}" for x in r)
        print(
            f"  {label:<10}: best {best[label]['wall']:.1f} s wall, {best[label]['cpu']:.1f} s "
            f"CPU (runs: wall {walls}; CPU {cpus}; load {loads}); peak RSS "
            f"{max(x['peak_mb'] for x in r):,.0f} MB"
        )
    here, there = best["this tree"], best[rev]
    figures = {(x["n_lines"], x["payable_minor"]) for r in runs.values() for x in r}
    print(
        f"  ratio {rev} / this tree: wall {there['wall'] / here['wall']:.2f}x, CPU "
        f"{there['cpu'] / here['cpu']:.2f}x ({'same' if len(figures) == 1 else 'DIFFERENT'} "
        f"lines and amounts: {here['n_lines']:,} lines)"
    )


def _interleaved(
    trees: dict[str, Path], tmp: Path, data: Path, repeat: int
) -> dict[str, list[dict]] | str:
    """Each tree's runs, A B A B ...: each a fresh process with ``attain`` on its path
    (a link to the tree's engine/, ahead of the installed one)."""
    envs = {}
    for i, (label, tree) in enumerate(trees.items()):
        path = tmp / f"path{i}"
        path.mkdir()
        (path / "attain").symlink_to(tree / "engine")
        envs[label] = {**os.environ, "PYTHONPATH": str(path)}
    runs: dict[str, list[dict]] = {label: [] for label in trees}
    for _ in range(repeat):
        for label, env in envs.items():
            done = subprocess.run(
                [sys.executable, __file__, "--time-exact", str(data)],
                capture_output=True,
                text=True,
                env=env,
            )
            if done.returncode:
                return f"the run on {label} failed: {done.stderr.strip()[-1500:]}"
            run = json.loads(done.stdout.strip().splitlines()[-1])
            if Path(run["attain"]) != (trees[label] / "engine").resolve():
                return f"{label} imported attain from {run['attain']}"
            runs[label].append(run)
    return runs


def _population(compiled, n_reps):
    from attain.incentive.vectorised import population

    return population(compiled, n_reps, ti=np.full(n_reps, 20_000.0))


def _evaluate_trials(args) -> tuple[float, float]:
    """Evaluate ``n_trials`` trials in chunks (one process).

    Returns the seconds spent evaluating and the peak memory numpy allocated (MB).
    """
    import tracemalloc

    n_reps, n_trials, chunk_trials, seed, trace = args
    from attain.incentive import compile_plan
    from attain.incentive.vectorised import evaluate

    compiled = compile_plan(_plan("year", "period"), PRODUCTS)
    pop = _population(compiled, n_reps)
    rng = np.random.default_rng(seed)
    targets = rng.uniform(5e5, 2e6, n_reps)
    sales = targets[:, None] * rng.lognormal(0, 0.3, (n_reps, chunk_trials))
    spent = 0.0
    if trace:  # tracing slows allocation: only for the memory figures
        tracemalloc.start()
    for _ in range(n_trials // chunk_trials):
        start = time.perf_counter()
        evaluate(compiled, sales, targets, pop=pop)
        spent += time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else 0.0
    tracemalloc.stop()
    return spent, peak


def _python_loop(n: int) -> float:
    """The baseline: the same plan, one rep-trial at a time in plain Python floats."""
    rng = np.random.default_rng(1)
    sales = rng.uniform(5e5, 2e6, n).tolist()
    target = 1_000_000.0
    start = time.perf_counter()
    for s in sales:
        pay = 0.0
        for lo, hi, rate in ((0, 1e6, 0.06), (1e6, 1.5e6, 0.08), (1.5e6, float("inf"), 0.10)):
            if s > lo:
                pay += (min(s, hi) - lo) * rate
        att = s / target
        if att >= 0.5:
            f = 0.3 + 1.4 * (min(att, 1.0) - 0.5) + 2.0 * max(0.0, min(att, 1.5) - 1.0)
            pay += f * 20_000
        pay += 1500 if att >= 1.25 else 500 if att >= 1.1 else 0
    return n / (time.perf_counter() - start)


def _worker(queue, args) -> None:
    queue.put(_evaluate_trials(args))


def _in_processes(jobs: list[tuple]) -> list:
    """Run ``_evaluate_trials`` once per job, each in its own forked process.

    Forked processes need no pickling of the function (bench/run.py loads this file
    without registering it as a module, so a Pool could not find it).
    """
    ctx = mp.get_context("fork")
    queue = ctx.SimpleQueue()
    procs = [ctx.Process(target=_worker, args=(queue, job)) for job in jobs]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    return results


def bench_vectorised() -> None:
    n_reps = 1000
    chunk_trials = 100  # 10^5 elements per chunk: fits in cache
    single = N_REP_TRIALS // 5 // n_reps
    rates, bases = [], []
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for _ in range(3):  # alternate with the loop: both see the same load
        spent, _ = _evaluate_trials((n_reps, single, chunk_trials, 1, False))
        rates.append(n_reps * single / spent)
        bases.append(_python_loop(200_000))
    ratios = [r / b for r, b in zip(rates, bases, strict=True)]
    print(
        f"vectorised, 1 core: {max(rates) / 1e6:.1f} M rep-trials/s (range "
        f"{min(rates) / 1e6:.1f}-{max(rates) / 1e6:.1f}; 3 components; chunks of "
        f"{n_reps * chunk_trials:,}); plain Python loop {min(bases) / 1e6:.2f}-"
        f"{max(bases) / 1e6:.2f} M/s -> {min(ratios):.0f}-{max(ratios):.0f}x"
    )
    n_trials = N_REP_TRIALS // n_reps
    walls = []
    for _ in range(3):
        start = time.perf_counter()
        _in_processes([(n_reps, n_trials // 2, chunk_trials, seed, False) for seed in (1, 2)])
        walls.append(time.perf_counter() - start)
    print(
        f"vectorised, 2 cores: {N_REP_TRIALS:.0e} rep-trials in {min(walls):.2f} s (range "
        f"{min(walls):.2f}-{max(walls):.2f}; {N_REP_TRIALS / min(walls) / 1e6:.1f} M/s, including "
        f"process start-up); load average {os.getloadavg()[0]:.1f}"
    )
    for total in (N_REP_TRIALS // 10, N_REP_TRIALS // 2):
        _, peak = _evaluate_trials((n_reps, total // n_reps, chunk_trials, 3, True))
        print(f"  peak memory allocated while evaluating {total:.0e} rep-trials: {peak:,.1f} MB")


PAYOUT_REPS = int(os.environ.get("ATTAIN_BENCH_PAYOUT_REPS", "2000"))


def _sample_targets(folder, out) -> int:
    """targets.csv shaped as an allocation's (rep × month × product, with hierarchy and
    challenge columns): last year's sales × 1.05, in thousands."""
    org = pd.read_csv(folder / "org.csv", dtype=str)
    history = pd.read_csv(folder / "history.csv", dtype={"month": str})
    last = history[history["month"].str.startswith("2026")].copy()
    last["period"] = "2027" + last["month"].str.slice(4)
    t = last.merge(org[["rep_id", "region", "team", "role"]], on="rep_id")
    t = t[t["role"] != "manager"]
    t["target"] = (np.round(t["sales"] * 1.05 / 1000) * 1000).astype(np.int64)
    t["challenge"] = (np.round(t["sales"] * 1.155 / 1000) * 1000).astype(np.int64)
    columns = ["rep_id", "region", "team", "period", "product", "target", "challenge"]
    t[columns].to_csv(out, index=False)
    return len(t)


def bench_payout_memory() -> None:
    """Peak RSS of the `attain payout` command, in its own process (os.wait4's usage)."""
    from attain import write_sample

    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "company"
        write_sample(folder, n_reps=PAYOUT_REPS, seed=7)
        n_targets = _sample_targets(folder, Path(tmp) / "targets.csv")
        with open(folder / "actuals.csv", "rb") as handle:
            n_deals = sum(1 for _ in handle) - 1
        args = [sys.executable, "-c", "from attain.cli import entry; entry()", "payout",
                str(root / "rules" / "plan_field_rep.yaml"), "--targets",
                str(Path(tmp) / "targets.csv"), "--actuals", str(folder / "actuals.csv"),
                "--data", str(folder), "--out", str(Path(tmp) / "payouts")]  # fmt: skip
        start = time.perf_counter()
        child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        err = child.stderr.read().decode() if child.stderr else ""
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"attain payout failed: {err[-2000:]}")
    print(
        f"payout memory: attain payout, {PAYOUT_REPS:,} reps ({n_targets:,} target rows, "
        f"{n_deals:,} deal rows, statements written): peak RSS {usage.ru_maxrss / 1024:,.0f} MB, "
        f"{seconds:.1f} s wall, {usage.ru_utime + usage.ru_stime:.1f} s CPU; load average "
        f"{os.getloadavg()[0]:.1f}"
    )


def main() -> None:
    if AGAINST is not None:  # the exact path on both trees, nothing else
        bench_against(AGAINST)
        return
    bench_vectorised()  # first: forked workers then do not inherit the exact run's memory
    bench_exact()
    bench_payout_memory()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--time-exact"]:
        print(json.dumps(_time_exact(Path(sys.argv[2]))))
    else:
        main()

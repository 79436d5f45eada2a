"""The chunked runner: trials in blocks of fixed size, chunks of blocks on worker threads.

Memory is bounded by ``workers × chunk``: only per-trial figures (one number per trial,
plan and variant) and the detail trials' per-rep payouts are kept. Every chunk draws
each of its blocks from that block's own stream (:mod:`attain.simulate.streams`), and
every reduction is along a trial's own row, so the figures of a trial do not depend on
the chunk it was computed in, nor on the thread.
"""

from __future__ import annotations

import os
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import numpy as np

from attain.schema.scenario import PerformanceModel, Variant
from attain.simulate.evaluator import PayoutModel, PlanModel
from attain.simulate.performance import (
    Draws,
    base_profile,
    coarsen,
    draw_attainment,
    draw_block,
    noisy_profile,
    noisy_sales_coarsened,
    pool_products,
    reps_first,
    reps_inner,
    sales_from,
)
from attain.simulate.population import Population
from attain.simulate.streams import block_generator, block_trials
from attain.simulate.variants import variant_attainment, variant_profile

__all__ = ["CHUNK_CELLS", "DETAIL_REP_TRIALS", "Job", "Piece", "Raw", "compute", "merge", "run"]

#: Default cells per chunk (trials × reps × months × products, products counting 1 when
#: the plans read them pooled): 1 MB of float64 sales. Small on purpose: the evaluator
#: makes a few temporaries of this size, and while they stay in the CPU's cache (2 MB of
#: L2 per core here) a chunk runs faster than a large one (measured on the bench plan:
#: 2^17 cells fastest; 4M cells ran 2x slower than 256k).
CHUNK_CELLS = 1 << 17
#: Rep-trials kept per rep for the distribution of individual payouts.
DETAIL_REP_TRIALS = 400_000

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Job:
    """What to simulate: people, performance model, plans and variants (base first)."""

    population: Population
    model: PerformanceModel
    plans: tuple[PayoutModel, ...]
    variants: tuple[Variant, ...]
    trials: int
    seed: int
    #: Keep each component's total in the detail trials (``Raw.components``); without,
    #: every trial takes the evaluator's faster total (a design needs reps' pay only).
    lines: bool = True
    #: Moved performance models (the tornado's assumptions), each paid by the first plan
    #: under the base variant on the same draws (``Raw.moved``): the own draw and shocks
    #: replayed from the block's stream under the moved model, the month and mix noise the
    #: base draws' (what a run of its own draws too, except after a beta distribution,
    #: whose draws take a varying count of numbers: there the noise is the base run's).
    moves: tuple[PerformanceModel, ...] = ()
    #: The plans (indices into ``plans``) that pay every moved model: ``Raw.moved`` holds
    #: the moves of the first of them, then of the next... Each move's attainment and
    #: noisy sales by month are made once for all of them.
    move_plans: tuple[int, ...] = (0,)

    @property
    def n_months(self) -> int:
        return max(p.n_months for p in self.plans)

    @property
    def block(self) -> int:
        return block_trials(self.population.n_reps, 12 * len(self.population.products))

    @property
    def detail_trials(self) -> int:
        return min(self.trials, max(1, DETAIL_REP_TRIALS // max(1, self.population.n_reps)))


@dataclass(frozen=True)
class Raw:
    """Per-trial figures of every variant (v) and plan (p), and the detail trials."""

    payout: np.ndarray  # [V, P, T] total payout
    components: tuple[np.ndarray, ...]  # per plan: [V, D, C], detail trials only
    revenue: np.ndarray  # [V, T]
    at_target: np.ndarray  # [V, T] share of reps with a target at or above 100%
    detail_payout: np.ndarray  # [V, P, D, R]
    detail_attainment: np.ndarray  # [V, D, R]
    moved: np.ndarray  # [Q × M, T] total payout of each move plan (Q) under each moved model


def run(
    job: Job,
    chunk_trials: int | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    client: Any | None = None,
) -> Raw:
    """Simulate ``job.trials`` trials; ``progress(done, total)`` is called as chunks finish.

    With a ``client`` (a :class:`distributed.Client`) the chunks run on its cluster
    (:mod:`attain.simulate.distributed`); otherwise on ``workers`` local threads. Either
    way each chunk is a pure function of the job and its trial range, so the figures are
    the same to the byte.
    """
    raw = _allocate(job)
    profiles = _profiles(job)
    chunks = _chunks(job, chunk_trials)
    if client is not None:
        from attain.simulate.distributed import run_chunks

        done = 0
        for piece in run_chunks(client, job, profiles, chunks):
            done += _store(job, raw, piece)
            if progress is not None:
                progress(done, job.trials)
        return raw
    n_workers = max(1, workers or min(2, os.cpu_count() or 1))
    done = 0
    if n_workers == 1:  # no pool: plain calls, plain tracebacks
        for first, last in chunks:
            done += _store(job, raw, compute(job, profiles, first, last))
            if progress is not None:
                progress(done, job.trials)
        return raw
    queue = deque(chunks)
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        pending: set = set()
        while queue or pending:
            while queue and len(pending) < 2 * n_workers:  # bound the chunks in flight
                first, last = queue.popleft()
                pending.add(pool.submit(compute, job, profiles, first, last))
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                done += _store(job, raw, future.result())
                if progress is not None:
                    progress(done, job.trials)
    return raw


@dataclass(frozen=True)
class _Profile:
    """A variant's sales at 100% attainment, prepared once per run."""

    full: np.ndarray  # [R, 12, K]
    totals: np.ndarray  # [R]: the year's sales (``full.sum(axis=(1, 2))``)
    coarse: dict[tuple, np.ndarray]  # _sales_key(plan) → [R, n_months, K] or [R, n_months]
    by_rep: np.ndarray | None = None  # ``full`` laid out reps-innermost (noisy models)


def _pooled(plan: PayoutModel) -> np.ndarray | None:
    return getattr(plan, "pooled", None)  # optional for models written elsewhere


def _sales_key(plan: PayoutModel) -> tuple:
    """What sales a plan reads: its months and the products it pools (if any)."""
    pooled = _pooled(plan)
    return plan.n_months, None if pooled is None else pooled.tobytes()


def _profiles(job: Job) -> list[_Profile]:
    base = base_profile(job.model, job.population)
    out: list[_Profile] = []
    for variant in job.variants:
        full = variant_profile(variant, base, job.population.products)
        coarse = {
            _sales_key(p): pool_products(coarsen(full[None], p.n_months)[0], _pooled(p))
            for p in job.plans
        }
        by_rep = None
        if job.model.month_sd > 0 or job.model.mix_sd > 0:  # noisy: one copy per profile
            same = [p.by_rep for p in out if p.full is full]
            by_rep = same[0] if same else reps_first(full)
        out.append(_Profile(full, full.sum(axis=(1, 2)), coarse, by_rep))
    return out


def _allocate(job: Job) -> Raw:
    v, p, t, d, r = (
        len(job.variants),
        len(job.plans),
        job.trials,
        job.detail_trials,
        job.population.n_reps,
    )
    return Raw(
        payout=np.zeros((v, p, t)),
        components=tuple(np.zeros((v, d, len(m.components))) for m in job.plans),
        revenue=np.zeros((v, t)),
        at_target=np.zeros((v, t)),
        detail_payout=np.zeros((v, p, d, r)),
        detail_attainment=np.zeros((v, d, r)),
        moved=np.zeros((len(job.moves) * len(job.move_plans), t)),
    )


def _chunks(job: Job, chunk_trials: int | None) -> list[tuple[int, int]]:
    """Trial ranges [first, last) made of whole blocks (the last one may be short)."""
    block = job.block
    if chunk_trials is None:
        noisy = job.model.month_sd > 0 or job.model.mix_sd > 0
        months = 12 if noisy else job.n_months  # noise is drawn by month
        pooled = not noisy and all(_pooled(p) is not None for p in job.plans)
        products = 1 if pooled else len(job.population.products)  # the sales made per trial
        per_trial = job.population.n_reps * months * products
        chunk_trials = max(1, CHUNK_CELLS // max(1, per_trial))
    n_blocks = max(1, -(-chunk_trials // block))
    step = n_blocks * block
    return [(s, min(s + step, job.trials)) for s in range(0, job.trials, step)]


def _draw(job: Job, first: int, last: int) -> Draws:
    parts = []
    for start in range(first, last, job.block):
        n = min(job.block, last - start)
        rng = block_generator(job.seed, start // job.block)
        parts.append(draw_block(job.model, job.population, rng, n))
    if len(parts) == 1:
        return parts[0]

    def cat(name: str):
        arrays = [getattr(p, name) for p in parts]
        return None if arrays[0] is None else np.concatenate(arrays)

    return Draws(cat("attainment"), cat("month_noise"), cat("mix_noise"))


def _moved(job: Job, model: PerformanceModel, draws: Draws, first: int, last: int) -> Draws:
    """``draws`` with the attainment of ``model``: each block's stream replayed for it."""
    parts = []
    for start in range(first, last, job.block):
        n = min(job.block, last - start)
        rng = block_generator(job.seed, start // job.block)
        parts.append(draw_attainment(model, job.population, rng, n))
    attainment = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return Draws(attainment, draws.month_noise, draws.mix_noise)


@dataclass(frozen=True)
class Piece:
    """The figures of trials [first, last): what one chunk (or a run of chunks) returns.

    The detail arrays hold the detail trials of the range only (index < ``detail_trials``).
    """

    first: int
    last: int
    payout: np.ndarray  # [V, P, n]
    components: tuple[np.ndarray, ...]  # per plan: [V, d, C]
    revenue: np.ndarray  # [V, n]
    at_target: np.ndarray  # [V, n]
    detail_payout: np.ndarray  # [V, P, d, R]
    detail_attainment: np.ndarray  # [V, d, R]
    moved: np.ndarray  # [Q × M, n]


def merge(pieces: Sequence[Piece]) -> Piece:
    """Consecutive pieces as one (trials in order)."""
    if len(pieces) == 1:
        return pieces[0]

    def cat(name: str, axis: int) -> np.ndarray:
        return np.concatenate([getattr(p, name) for p in pieces], axis=axis)

    n_plans = len(pieces[0].components)
    return Piece(
        first=pieces[0].first,
        last=pieces[-1].last,
        payout=cat("payout", 2),
        components=tuple(
            np.concatenate([p.components[i] for p in pieces], axis=1) for i in range(n_plans)
        ),
        revenue=cat("revenue", 1),
        at_target=cat("at_target", 1),
        detail_payout=cat("detail_payout", 2),
        detail_attainment=cat("detail_attainment", 1),
        moved=cat("moved", 1),
    )


def _store(job: Job, raw: Raw, piece: Piece) -> int:
    """Copy a piece into the run's arrays; returns its number of trials."""
    rows = slice(piece.first, piece.last)
    raw.payout[:, :, rows] = piece.payout
    raw.revenue[:, rows] = piece.revenue
    raw.at_target[:, rows] = piece.at_target
    raw.moved[:, rows] = piece.moved
    n_detail = piece.detail_attainment.shape[1]
    if n_detail:
        detail = slice(piece.first, piece.first + n_detail)
        for p, lines in enumerate(piece.components):
            raw.components[p][:, detail] = lines
        raw.detail_payout[:, :, detail] = piece.detail_payout
        raw.detail_attainment[:, detail] = piece.detail_attainment
    return piece.last - piece.first


def _laid_out(plan: PayoutModel, sales: np.ndarray) -> np.ndarray:
    """``sales`` for ``plan``: as they are for a model that pays the same in any memory
    layout (``any_layout``), else in C order (trials, reps, months, products), as a
    model written elsewhere may sum them."""
    if getattr(plan, "any_layout", False):
        return sales
    return np.ascontiguousarray(sales)


def _noisy_sales(
    shaped: np.ndarray, attainment: np.ndarray, plans: Sequence[PayoutModel]
) -> dict[int, np.ndarray]:
    """The noisy sales [t, R, n_months, K] by each number of months ``plans`` read (12:
    by month), made in one pass over the months (:func:`noisy_sales_coarsened`)."""
    coarser = tuple(sorted({p.n_months for p in plans} - {12}, reverse=True))
    monthly, coarse = noisy_sales_coarsened(shaped, attainment, coarser)
    return {12: monthly, **coarse}


def _total(plan: PayoutModel, sales: np.ndarray, shared: dict | None) -> np.ndarray:
    """``plan.total(sales)``; a :class:`PlanModel` also reads and fills ``shared``, what
    the evaluator makes of these sales alone for every plan paid on them (the tornado's
    moved copies of a plan): the same numbers, made once."""
    if shared is not None and isinstance(plan, PlanModel):
        return plan.total(sales, shared=shared)
    return plan.total(sales)


#: The share of reps at most whose attainment may differ from the first variant's for a
#: variant to pay only theirs again (:func:`_paid_apart`); above it, everyone is paid.
APART_SHARE = 0.25


def _paid_apart(
    job: Job,
    noisy: np.ndarray | None,
    attainment: np.ndarray,
    first: np.ndarray,
    first_pay: list[np.ndarray],
) -> list[np.ndarray] | None:
    """Each plan's per-rep payouts [t, R] of a variant on the first variant's noisy profile
    ``noisy`` whose ``attainment`` differs from the first variant's (``first``) for a few
    reps only: the others' payouts are the first variant's (the same sales, each rep paid
    on their own), and the reps who moved are paid again alone, laid out as everyone's
    (reps innermost), so the same bits as paying everyone. None where that does not hold
    (no noise, most reps moved, a plan whose reps' pay reads other reps')."""
    if noisy is None:
        return None
    moved = np.flatnonzero((attainment.view(np.int64) != first.view(np.int64)).any(axis=0))
    if len(moved) > APART_SHARE * attainment.shape[1]:
        return None
    subsets = [getattr(plan, "subset", lambda reps: None)(moved) for plan in job.plans]
    if len(moved) < 2 or any(s is None for s in subsets):  # one rep: not laid out as all
        return None if len(moved) else [pay.copy() for pay in first_pay]
    part = reps_inner((noisy.shape[0], len(moved), *noisy.shape[2:]))
    part[...] = noisy[:, moved]  # the noisy profile of the reps who moved, reps innermost
    monthly = _noisy_sales(part, attainment[:, moved], job.plans)
    out = []
    for plan, subset, pay in zip(job.plans, subsets, first_pay, strict=True):
        assert subset is not None
        sales = _laid_out(subset, pool_products(monthly[plan.n_months], _pooled(plan)))
        per_rep = pay.copy()
        per_rep[:, moved] = subset.total(sales)
        out.append(per_rep)
    return out


def compute(job: Job, profiles: Sequence[_Profile], first: int, last: int) -> Piece:
    """The figures of trials [first, last) (whole blocks): a pure function of its inputs."""
    draws = _draw(job, first, last)
    has_target = job.population.has_target
    n_target = max(1, int(has_target.sum()))
    n = last - first
    n_detail = max(0, min(last, job.detail_trials) - first)
    n_var, n_plans, n_reps = len(job.variants), len(job.plans), job.population.n_reps
    payout = np.zeros((n_var, n_plans, n))
    components = tuple(np.zeros((n_var, n_detail, len(m.components))) for m in job.plans)
    revenue = np.zeros((n_var, n))
    at_target = np.zeros((n_var, n))
    detail_payout = np.zeros((n_var, n_plans, n_detail, n_reps))
    detail_attainment = np.zeros((n_var, n_detail, n_reps))
    # The noisy profile (the sales of an attainment of 1) depends on the draws and the
    # profile only: made once per chunk for every variant, moved model and plan reading it.
    shapes: dict[int, np.ndarray | None] = {}
    readers = Counter(_sales_key(plan) for plan in job.plans)  # plans per sales read

    def shaped(profile: _Profile) -> np.ndarray | None:
        key = id(profile.full)  # variants without ramps share the base profile's array
        if key not in shapes:
            shapes[key] = noisy_profile(draws, profile.full, profile.totals, profile.by_rep)
        return shapes[key]

    first_pay: list[np.ndarray] = []  # the first variant's per-rep payouts, by plan
    first_attainment = None
    for v, variant in enumerate(job.variants):
        attainment = variant_attainment(variant, draws.attainment)
        profile = profiles[v]
        revenue[v] = (attainment * profile.totals[None, :]).sum(axis=1)
        at_target[v] = ((attainment >= 1.0) & has_target).sum(axis=1) / n_target
        if v == 0:
            first_attainment = attainment
        elif first_pay and profile.full is profiles[0].full and first_attainment is not None:
            # Few reps' attainment moved (the top performers): only theirs are paid again.
            apart = _paid_apart(job, shaped(profile), attainment, first_attainment, first_pay)
            if apart is not None:
                for p, per_rep in enumerate(apart):
                    payout[v, p] = per_rep.sum(axis=1)
                continue
        by_key: dict[tuple, np.ndarray] = {}  # plans reading the same sales share them
        sums: dict[tuple, dict] = {}  # and what the evaluator makes of them alone
        monthly = None  # the noisy sales by month and coarser: every plan's are from them
        for p, plan in enumerate(job.plans):
            key = _sales_key(plan)
            if key not in by_key:
                noisy = shaped(profile)
                if noisy is None:  # rank one: from the coarse profile
                    by_key[key] = sales_from(
                        draws,
                        attainment,
                        profile.full,
                        plan.n_months,
                        profile.coarse[key],
                        _pooled(plan),
                    )
                else:
                    if monthly is None:
                        monthly = _noisy_sales(noisy, attainment, job.plans)
                    by_key[key] = pool_products(monthly[plan.n_months], _pooled(plan))
            sales = _laid_out(plan, by_key[key])
            # Detail trials are paid line by line and keep each rep's payout; the others
            # take the evaluator's faster total. Which path a trial takes depends only on
            # its index, never on the chunk it falls in.
            per_rep = np.empty((n, n_reps))
            shared = sums.setdefault(key, {}) if readers[key] > 1 else None
            if n_detail and job.lines:
                lines = np.asarray(plan(sales[:n_detail]), dtype=np.float64)  # [t, R, C]
                per_rep[:n_detail] = lines.sum(axis=2)
                components[p][v] = lines.sum(axis=1)
                if n_detail < n:
                    per_rep[n_detail:] = plan.total(sales[n_detail:])
            else:  # the whole array: the one every plan of this key is given
                per_rep[:] = _total(plan, sales, shared)
            if n_detail:
                detail_payout[v, p] = per_rep[:n_detail]
            elif v == 0:
                first_pay.append(per_rep)
            payout[v, p] = per_rep.sum(axis=1)
        if n_detail:
            detail_attainment[v] = attainment[:n_detail]
    n_moves = len(job.moves)
    moved = np.zeros((n_moves * len(job.move_plans), n))
    profile = profiles[0]
    noisy = shaped(profile)
    for m, model in enumerate(job.moves):
        these = _moved(job, model, draws, first, last)
        attainment = variant_attainment(job.variants[0], these.attainment)
        plans = [job.plans[p] for p in job.move_plans]
        monthly = None if noisy is None else _noisy_sales(noisy, attainment, plans)  # all's
        for q, p in enumerate(job.move_plans):
            plan = job.plans[p]
            if monthly is None:  # rank one: from the coarse profile
                sales = sales_from(
                    these,
                    attainment,
                    profile.full,
                    plan.n_months,
                    profile.coarse[_sales_key(plan)],
                    _pooled(plan),
                )
            else:
                sales = pool_products(monthly[plan.n_months], _pooled(plan))
            sales = _laid_out(plan, sales)
            per_rep = np.empty((n, n_reps))  # laid out as the plans' own: the same sums
            per_rep[:] = plan.total(sales)
            moved[q * n_moves + m] = per_rep.sum(axis=1)
    return Piece(
        first,
        last,
        payout,
        components,
        revenue,
        at_target,
        detail_payout,
        detail_attainment,
        moved,
    )

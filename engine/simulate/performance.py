"""The performance model: each rep's attainment per trial, then sales by month and product.

A rep's attainment in a trial is ``X × record^w × (1 + S)`` (never below 0):

- ``X`` the rep's own draw: normal, lognormal or beta with the model's mean and sd, or
  ``mean ×`` the average of twelve months resampled from the rep's own history;
- ``record^w`` the per-rep bias: how the rep ran against target before, relative to the
  typical rep, weighted by ``bias_from_history``;
- ``S`` the sum of the company, region and team shocks of the trial, shared by everyone
  in the unit (so a downturn hits a region together).

Sales are then ``attainment × profile`` where the profile spreads the rep's annual target
over months (seasonality) and products (mix), optionally with noise that moves sales
between months or products without changing the year's total.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attain.schema.scenario import PerformanceModel
from attain.simulate.population import Population

__all__ = [
    "Draws",
    "base_profile",
    "coarsen",
    "draw_attainment",
    "draw_block",
    "noisy_profile",
    "noisy_sales",
    "noisy_sales_coarsened",
    "pool_products",
    "reps_first",
    "reps_inner",
    "sales_from",
    "year_sum",
]


@dataclass(frozen=True)
class Draws:
    """One block's draws: attainment[t, R], and the optional noise factors."""

    attainment: np.ndarray  # float64[t, R]
    month_noise: np.ndarray | None = None  # float64[t, R, 12], mean 1 (reps innermost)
    mix_noise: np.ndarray | None = None  # float64[t, R, K], mean 1 (reps innermost)


def draw_block(
    model: PerformanceModel, pop: Population, rng: np.random.Generator, n_trials: int
) -> Draws:
    """Draw ``n_trials`` trials for every rep, always in the same order from ``rng``."""
    attainment = draw_attainment(model, pop, rng, n_trials)
    months = _noise(rng, model.month_sd, (n_trials, pop.n_reps, 12))
    mix = _noise(rng, model.mix_sd, (n_trials, pop.n_reps, len(pop.products)))
    return Draws(attainment, months, mix)


def draw_attainment(
    model: PerformanceModel, pop: Population, rng: np.random.Generator, n_trials: int
) -> np.ndarray:
    """The attainment part of :func:`draw_block`: the first numbers ``rng`` gives, so a
    fresh generator of a block replays them (for a moved assumption, :func:`moved`)."""
    shock = _shocks(model, pop, rng, n_trials)
    attainment = _own(model, pop, rng, n_trials)  # a new array: worked on in place
    if model.bias_from_history:  # record^0 is 1, and x × 1 is x: skip the pass
        attainment *= (pop.record**model.bias_from_history)[None, :]
    if shock is not None:
        shock += 1.0
        attainment *= np.maximum(shock, 0.0, out=shock)
    return np.maximum(attainment, 0.0, out=attainment)


def _shocks(model: PerformanceModel, pop: Population, rng, n_trials: int) -> np.ndarray | None:
    s = model.shocks
    total = None
    levels = (
        (s.company, None, 1),
        (s.region, pop.region, pop.n_regions),
        (s.team, pop.team, pop.n_teams),
    )
    for sd, codes, n_units in levels:
        if sd <= 0 or n_units == 0:
            continue
        part = rng.standard_normal((n_trials, n_units))
        part *= sd
        if codes is not None:  # each rep takes their unit's shock; no unit, no shock
            part = np.take(part, np.maximum(codes, 0), axis=1)
            part[:, codes < 0] = 0.0
        if total is None:
            total = part
        elif total.shape == part.shape:
            total += part  # in place: both are this block's own arrays
        else:
            total = total + part  # the company's [t, 1] shock spread over the reps
    return total


def _own(model: PerformanceModel, pop: Population, rng, n_trials: int) -> np.ndarray:
    shape = (n_trials, pop.n_reps)
    m, sd = model.mean, model.sd
    if model.distribution == "bootstrap":
        return _bootstrap(pop, rng, shape) * m
    if sd == 0:
        return np.full(shape, m)
    z = rng.standard_normal(shape) if model.distribution in ("normal", "lognormal") else None
    if model.distribution == "normal":
        z *= sd  # in place, in the order of m + sd × z: the same bits, fewer temporaries
        z += m
        return z
    if model.distribution == "lognormal":
        sigma2 = np.log1p((sd / m) ** 2)
        z *= np.sqrt(sigma2)
        z += np.log(m) - sigma2 / 2
        return np.exp(z, out=z)
    p, v = m / model.upper, (sd / model.upper) ** 2
    k = p * (1 - p) / v - 1
    return model.upper * rng.beta(p * k, (1 - p) * k, shape)


def _bootstrap(pop: Population, rng, shape: tuple[int, int]) -> np.ndarray:
    """The mean of twelve months drawn (with replacement) from each rep's own factors."""
    res = pop.residuals
    if res.shape[0] != pop.n_reps:  # no history: nothing to resample
        return np.ones(shape)
    picks = rng.integers(0, res.shape[1], size=(*shape, 12))
    rows = np.arange(pop.n_reps)[None, :, None]
    return res[rows, picks].mean(axis=2)


def _noise(rng, sd: float, shape: tuple[int, ...]) -> np.ndarray | None:
    if sd <= 0:
        return None
    sigma2 = np.log1p(sd**2)
    z = rng.standard_normal(shape)  # in place, in the order of exp(s × z − s²/2): same bits
    z *= np.sqrt(sigma2)
    z -= sigma2 / 2
    # Laid out reps innermost (memory [M, t, R]) as :func:`noisy_profile` reads it: the
    # exp writes there, 3x faster than an exp in place and a transposing copy after.
    return np.exp(z, out=reps_inner(shape))


def base_profile(model: PerformanceModel, pop: Population) -> np.ndarray:
    """Sales at 100% attainment: float64[R, 12, K], each rep's row summing to their target."""
    annual = pop.annual_target
    if model.seasonality == "targets" and model.product_mix == "targets":
        return pop.targets.copy()
    if model.seasonality == "history":
        months = np.broadcast_to(pop.season, (pop.n_reps, 12))
    else:
        months = pop.targets.sum(axis=2) / np.where(annual > 0, annual, 1)[:, None]
    if model.product_mix == "history":
        mix = pop.mix
    else:
        by_product = pop.targets.sum(axis=1)
        mix = by_product / np.where(annual > 0, annual, 1)[:, None]
    return annual[:, None, None] * months[:, :, None] * mix[:, None, :]


def sales_from(
    draws: Draws,
    attainment: np.ndarray,
    profile: np.ndarray,
    n_months: int,
    coarse: np.ndarray | None = None,
    pooled: np.ndarray | None = None,
    shaped: np.ndarray | None = None,
) -> np.ndarray:
    """Sales float64[t, R, n_months, K] for ``attainment`` [t, R] and ``profile`` [R, 12, K]
    (``coarse``: the profile already summed into ``n_months`` buckets, to skip that step).

    With ``pooled`` (bool[K]), sales[t, R, n_months] summed over those products; then
    ``coarse``, if given, is the profile summed over them too ([R, n_months]).
    ``shaped`` is :func:`noisy_profile` of these draws and profile, when the caller has
    made it already (it is shared by every variant and plan on the same profile)."""
    if draws.month_noise is None and draws.mix_noise is None:
        if coarse is None:
            coarse = pool_products(coarsen(profile[None], n_months)[0], pooled)
        # Without noise sales are rank one: attainment × the profile, summed products and all.
        return attainment.reshape(*attainment.shape, *(1,) * (coarse.ndim - 1)) * coarse[None]
    if shaped is None:
        shaped = noisy_profile(draws, profile)
    assert shaped is not None  # there is noise
    return pool_products(coarsen(noisy_sales(shaped, attainment), n_months), pooled)


def noisy_sales(shaped: np.ndarray, attainment: np.ndarray) -> np.ndarray:
    """Sales by month float64[t, R, 12, K]: the noisy profile ``shaped`` × ``attainment``
    [t, R], laid out as ``shaped`` (reps innermost, as :func:`noisy_profile` makes it)."""
    return np.multiply(shaped, attainment[:, :, None, None], out=np.empty_like(shaped))


def noisy_sales_coarsened(
    shaped: np.ndarray, attainment: np.ndarray, resolutions: tuple[int, ...]
) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """:func:`noisy_sales` and their :func:`coarsen` into each of ``resolutions`` (4, 1)
    made together: each month of each product [t, R] is multiplied, then added into its
    buckets while it is in the cache (not read again from memory for each coarsening),
    in :func:`coarsen`'s order (the month's first bucket from 0.0), so the same bits."""
    monthly = np.empty_like(shaped)
    coarse = {n: np.empty_like(monthly[:, :, 0 :: 12 // n]) for n in resolutions}
    for k in range(shaped.shape[3]):
        for m in range(shaped.shape[2]):
            month = np.multiply(shaped[:, :, m, k], attainment, out=monthly[:, :, m, k])
            for n, out in coarse.items():
                step = 12 // n
                bucket = out[:, :, m // step, k]
                if m % step:
                    bucket += month
                else:
                    np.add(month, 0.0, out=bucket)
    return monthly, coarse


def noisy_profile(
    draws: Draws,
    profile: np.ndarray,
    totals: np.ndarray | None = None,
    by_rep: np.ndarray | None = None,
) -> np.ndarray | None:
    """The draws' month and mix noise on ``profile`` [R, 12, K], each rep's year scaled
    back to their total: the sales of an attainment of 1, float64[t, R, 12, K] (None
    without noise: sales are then rank one). ``totals`` is ``profile.sum(axis=(1, 2))``
    when the caller has it, ``by_rep`` the profile laid out reps-innermost
    (:func:`reps_first`). It depends on the draws and the profile only, so one block
    makes it once for every variant, moved assumption and plan reading that profile."""
    if draws.month_noise is None and draws.mix_noise is None:
        return None
    noise = draws.month_noise if draws.month_noise is not None else draws.mix_noise
    assert noise is not None
    n_trials = len(noise)
    n_reps, n_months, n_products = profile.shape
    # Made reps innermost (memory [K, M, t, R]): every pass here and later (× attainment,
    # months into periods, the plans' year-to-date and product sums) runs over contiguous
    # reps. Each number is the profile's × its month noise × its mix noise, as before.
    shaped = reps_inner((n_trials, n_reps, n_months, n_products))
    by_rep = (reps_first(profile) if by_rep is None else by_rep)[None]
    months = draws.month_noise
    mix = draws.mix_noise
    # Reps innermost, as the draws make them (a copy only for draws joined in C order).
    if months is not None:
        months = np.ascontiguousarray(months.transpose(2, 0, 1)).transpose(1, 2, 0)
    if mix is not None:
        mix = np.ascontiguousarray(mix.transpose(2, 0, 1)).transpose(1, 2, 0)

    def cell(m: int, k: int) -> np.ndarray:
        """Month m of product k [t, R], made into ``shaped`` as the year's sum reads it
        (still in the cache): the profile's × the month noise, × the mix noise."""
        out = shaped[:, :, m, k]
        if months is not None:
            np.multiply(by_rep[:, :, m, k], months[:, :, m], out=out)
            if mix is not None:
                out *= mix[:, :, k]
        else:
            assert mix is not None
            np.multiply(by_rep[:, :, m, k], mix[:, :, k], out=out)
        return out

    # Noise moves sales between months and products; the year's total stays the rep's.
    total = 0.0 + _pairwise(_Cells(cell, n_months, n_products))  # year_sum's, as made
    if totals is None:
        totals = profile.sum(axis=(1, 2))
    want = totals[None, :]
    shaped *= np.where(total > 0, want / np.where(total > 0, total, 1), 0.0)[:, :, None, None]
    return shaped


def year_sum(x: np.ndarray) -> np.ndarray:
    """``x.sum(axis=(2, 3))`` of ``x`` [t, R, M, K] to the bit, in any layout: the sum
    numpy makes of a C-ordered array, its M × K numbers pairwise in their C order (eight
    running sums of every eighth number, paired up, then the rest one by one; halves of
    a multiple of 8 above 128 numbers), each an add over all trials and reps at once."""
    t, r, n_months, n_products = x.shape
    cells = [x[:, :, m, k] for m in range(n_months) for k in range(n_products)]
    return 0.0 + _pairwise(cells)  # a reduction starts from 0.0


class _Cells:
    """The cells (m, k) of an array [t, R, M, K] in C order, as :func:`year_sum` lists
    them, each made by ``make(m, k)`` when :func:`_pairwise` first reads it (it reads
    them in order, once each)."""

    def __init__(self, make, n_months: int, n_products: int, start: int = 0, stop=None):
        self.make, self.n_months, self.n_products = make, n_months, n_products
        self.start = start
        self.stop = n_months * n_products if stop is None else stop

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, i):
        if isinstance(i, slice):
            first, last, _ = i.indices(len(self))
            return _Cells(
                self.make, self.n_months, self.n_products, self.start + first, self.start + last
            )
        return self.make(*divmod(self.start + i, self.n_products))

    def __iter__(self):
        return (self[i] for i in range(len(self)))


def _pairwise(cells) -> np.ndarray:
    """numpy's pairwise sum (``pairwise_sum`` in its loops) of ``cells``, elementwise."""
    n = len(cells)
    if n < 8:
        out = cells[0] + 0.0 if n else np.zeros(())
        for c in cells[1:]:
            out += c
        return out if n else np.zeros(())
    if n <= 128:
        acc = [c.copy() for c in cells[:8]]  # the cells are the caller's views
        whole = n - n % 8
        for i in range(8, whole, 8):
            for j in range(8):
                acc[j] += cells[i + j]
        out = (acc[0] + acc[1]) + (acc[2] + acc[3])
        out += (acc[4] + acc[5]) + (acc[6] + acc[7])
        for c in cells[whole:]:
            out += c
        return out
    half = n // 2
    half -= half % 8
    return _pairwise(cells[:half]) + _pairwise(cells[half:])


def reps_first(profile: np.ndarray) -> np.ndarray:
    """``profile`` [R, 12, K] copied with reps innermost (memory [K, 12, R])."""
    return np.ascontiguousarray(profile.transpose(2, 1, 0)).transpose(2, 1, 0)


def reps_inner(shape: tuple[int, ...]) -> np.ndarray:
    """An empty float64 array of ``shape`` [t, R, ...] laid out with reps innermost, then
    trials, then the other axes last to first (memory [K, M, t, R] for [t, R, M, K])."""
    n = len(shape)
    memory = (*shape[2:][::-1], shape[0], shape[1])
    return np.empty(memory).transpose(n - 2, n - 1, *range(n - 3, -1, -1))


def pool_products(sales: np.ndarray, pooled: np.ndarray | None) -> np.ndarray:
    """[..., K] summed over the ``pooled`` products (as the evaluator measures them), or
    unchanged without a mask."""
    if pooled is None:
        return sales
    picked = np.flatnonzero(pooled)
    if 0 < len(picked) < 8:
        # Fewer than 8 numbers: numpy's sum adds them one by one from 0.0, in any layout;
        # so do these adds, over contiguous memory when the sales are reps-innermost.
        out = sales[..., picked[0]] + 0.0
        for k in picked[1:]:
            out += sales[..., k]
        return out
    # 8 or more are summed pairwise along a contiguous axis: products innermost, as made.
    return np.ascontiguousarray(sales)[..., pooled].sum(axis=-1)


def coarsen(sales: np.ndarray, n_months: int) -> np.ndarray:
    """[..., 12, K] summed into ``n_months`` equal buckets (12, 4 or 1)."""
    if n_months == 12:
        return sales
    step = 12 // n_months
    # One add per month of the bucket, from 0.0 as numpy's sum adds them (the same bits,
    # signed zeros too): 5x faster than a reduction over the short middle axis. Strided
    # views of the months, not a reshape, so the sales' layout is kept (never copied).
    out = sales[:, :, 0::step] + 0.0
    for m in range(1, step):
        out += sales[:, :, m::step]
    return out

"""The year-end forecast: a performance model conditioned on the months seen, shrunk.

Each rep's sales in month ``m`` are modelled as ``target_m × (θ + c_m + e_m)``:

- ``θ`` the rep's pace (sales ÷ target) for the year, drawn from the rep's team:
  ``θ ~ N(μ_team, τ²)``, and each team's mean from the company's, ``μ_team ~ N(μ, τ_T²)``;
- ``c_m`` the company's shock of the month, shared by everyone, variance ``σ_c²``;
- ``e_m`` the rep's own noise of the month: variance ``σ² × T̄ / E_m`` on the month's pace,
  with ``E_m`` the month's target (the part of it due, for a month partly gone) and ``T̄``
  the rep's average monthly target, so sales vary like a sum of deals (variance
  proportional to what is due) and a month with a small target says less.

The variances are estimated from the months seen (method of moments, over every rep
at once); each rep's pace is then the empirical-Bayes posterior: the rep's pace to date
shrunk toward the team's (itself shrunk toward the company's) by how much the months
seen say (``τ² / (τ² + s²)``, with ``s²`` the sampling variance of the pace to date). One
good month moves a rep's forecast little; six months at the same pace move it nearly
all the way. What remains of the year is drawn from the posterior: ``θ`` with its
posterior variance, the company's mean shock over the remaining months (with the
uncertainty of the company's pace), and the remaining months' own noise; sales below
zero are cut at zero.

Draws come in fixed blocks of :data:`TRIAL_BLOCK` trials × :data:`REP_BLOCK` reps, each
from its own Philox stream keyed by the seed and the block
(:func:`attain.simulate.streams.block_generator`), so the same seed gives the same
forecast however the work is chunked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from attain.notices import Notice
from attain.simulate.streams import block_generator

__all__ = ["DEFAULT_SIGMA", "REP_BLOCK", "TRIAL_BLOCK", "Forecast", "Unit", "forecast"]

TRIAL_BLOCK = 64
REP_BLOCK = 8192
QUANTILES = (0.1, 0.5, 0.9)
#: Month-to-month noise of a rep's pace when the months seen cannot estimate it
#: (fewer than two whole months): 0.30, a typical spread of monthly attainment.
DEFAULT_SIGMA = 0.30
_TAU_FLOOR = 1e-4  # variance floor: a prior never fully certain


@dataclass(frozen=True)
class Unit:
    """One roll-up level: each rep's unit code and each unit's target and challenge."""

    codes: np.ndarray  # int[R], 0..n-1
    target: np.ndarray  # float64[n], currency units, the year
    challenge: np.ndarray  # float64[n]
    actual: np.ndarray  # float64[n], to date


@dataclass(frozen=True)
class Forecast:
    """Per rep and per unit of each level: P10/P50/P90, mean, chance of target/challenge."""

    pace_posterior: np.ndarray  # float64[R]: θ̂
    pace_sd: np.ndarray  # float64[R]: posterior sd of θ
    rep: dict[str, np.ndarray]  # p10, p50, p90, mean, p_target, p_challenge → float64[R]
    units: dict[str, dict[str, np.ndarray]]  # level → the same keys → float64[n]
    parameters: dict[str, float]
    trials: int
    seed: int
    notices: list[Notice] = field(default_factory=list)


def forecast(
    target: np.ndarray,
    actual: np.ndarray,
    weight: np.ndarray,
    challenge: np.ndarray,
    team: np.ndarray | None,
    levels: Mapping[str, Unit],
    *,
    trials: int = 1000,
    seed: int = 0,
    on_block: Callable[[int, np.ndarray], None] | None = None,
) -> Forecast:
    """Year-end forecasts from month-level arrays (currency units, summed over products).

    ``target``, ``actual``: float64[R, 12]; ``weight``: float64[12] (the share of each
    month on or before the date); ``challenge``: float64[R] yearly; ``team``: int[R]
    codes of the level the reps are shrunk toward first (``None``: the company only);
    ``levels``: roll-ups to forecast. ``on_block(first_trial, remaining)`` receives each
    block's remaining sales as a share of each rep's remaining target, float64[t, R]
    (what a payout forecast needs).
    """
    notices: list[Notice] = []
    n = target.shape[0]
    expected_m = target * weight[None, :]
    expected = expected_m.sum(axis=1)
    actual_td = actual.sum(axis=1)
    remaining_m = target * (1.0 - weight)[None, :]
    remaining = remaining_m.sum(axis=1)
    year_target = target.sum(axis=1)
    mean_target = year_target / 12.0
    sigma2, n_full = _within(expected_m, actual, mean_target)
    if sigma2 is None:
        sigma2 = DEFAULT_SIGMA**2
        notices.append(
            Notice(
                "forecast-noise-assumed",
                f"fewer than two months with a target seen: month-to-month noise of pace "
                f"assumed {DEFAULT_SIGMA:.0%}",
            )
        )
    # The pace to date and its sampling variance σ² T̄ / E.
    has = expected > 0
    safe = np.where(has, expected, 1.0)
    pace = np.where(has, actual_td / safe, np.nan)
    s2 = np.where(has, sigma2 * mean_target / safe, np.inf)
    codes = team if team is not None else np.zeros(n, dtype=np.int64)
    n_teams = int(codes.max()) + 1 if n else 0
    tau2, team_mean, team_var, tau_t2, mu = _between(
        actual_td, expected, pace, s2, has, codes, n_teams
    )
    prior = team_mean[codes]
    prior_var = team_var[codes]
    b = np.where(has, tau2 / (tau2 + np.where(has, s2, 0.0)), 0.0)
    theta = np.where(has, prior + b * (np.nan_to_num(pace) - prior), prior)
    var = np.where(has, b * np.where(has, s2, 0.0), tau2) + (1 - b) ** 2 * prior_var
    sd = np.sqrt(var)
    sigma_c2 = _company_shock(expected_m, actual, mean_target, sigma2)
    n_rem = float((1.0 - weight).sum())
    g_sd = np.sqrt(sigma_c2 * (1.0 / max(n_full, 1) + 1.0 / n_rem)) if n_rem > 0 else 0.0
    live = remaining > 0
    noise_share = np.where(
        live, np.sqrt(sigma2 * mean_target / np.where(live, remaining, 1.0)), 0.0
    )
    if n_full and not has.any():
        notices.append(Notice("no-expected", "no rep had a target due by this date"))

    level_list = list(levels.items())
    acc_rep = _RepDraws(actual_td, remaining, year_target, challenge, trials)
    sums = {name: np.zeros((len(u.target), trials)) for name, u in level_list}
    orders = {name: _grouping(u.codes, len(u.target)) for name, u in level_list}
    for first in range(0, trials, TRIAL_BLOCK):
        t = min(TRIAL_BLOCK, trials - first)
        tb = first // TRIAL_BLOCK
        g = block_generator(seed, tb, stream=0).standard_normal(TRIAL_BLOCK)[:t] * g_sd
        share = np.empty((t, n))
        for r0 in range(0, n, REP_BLOCK):
            r1 = min(n, r0 + REP_BLOCK)
            rng = block_generator(seed, r0 // REP_BLOCK, stream=1 + tb)
            z = rng.standard_normal((2, TRIAL_BLOCK, r1 - r0))[:, :t]
            # share = max(0, θ + sd z₀ + g + noise ÷ remaining × z₁), in place.
            x, y = z[0], z[1]
            x *= sd[r0:r1]
            x += theta[r0:r1]
            x += g[:, None]
            y *= noise_share[r0:r1]
            x += y
            np.maximum(x, 0.0, out=x)
            x *= live[r0:r1]
            share[:, r0:r1] = x
        if on_block is not None:
            on_block(first, share)
        acc_rep.add(first, share)
        rest_all = share * remaining[None, :]
        for name, _u in level_list:
            order, starts, present = orders[name]
            if len(order):
                block = np.add.reduceat(rest_all[:, order], starts, axis=1)
                sums[name][present, first : first + t] = block.T
    rep = acc_rep.finish()
    units = {}
    for name, u in level_list:
        totals = sums[name] + u.actual[:, None]
        q = np.quantile(totals, QUANTILES, axis=1) if trials else np.zeros((3, len(u.target)))
        units[name] = {
            "p10": q[0],
            "p50": q[1],
            "p90": q[2],
            "mean": totals.mean(axis=1),
            "p_target": (totals >= u.target[:, None] - 1e-9).mean(axis=1),
            "p_challenge": (totals >= u.challenge[:, None] - 1e-9).mean(axis=1),
        }
    parameters = {
        "company_pace": float(mu),
        "sigma_month": float(np.sqrt(sigma2)),
        "tau_rep": float(np.sqrt(tau2)),
        "tau_team": float(np.sqrt(tau_t2)),
        "sigma_company_month": float(np.sqrt(sigma_c2)),
        "whole_months_seen": float(n_full),
    }
    return Forecast(theta, sd, rep, units, parameters, trials, seed, notices)


def _within(expected_m, actual, mean_target) -> tuple[float | None, int]:
    """σ² from the months seen: Σ (A_m − p E_m)² ÷ (E_m T̄) ÷ Σ (n − 1) over reps."""
    due = expected_m > 0
    n_i = due.sum(axis=1)
    ok = (n_i >= 2) & (mean_target > 0)
    if not ok.any():
        return None, int(due.any(axis=0).sum())
    e, a, d = expected_m[ok], actual[ok], due[ok]
    p = (a * d).sum(axis=1) / e.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        resid = np.where(d, (a - p[:, None] * e) ** 2 / np.where(d, e, 1.0), 0.0)
    total = float((resid.sum(axis=1) / mean_target[ok]).sum())
    return total / float((n_i[ok] - 1).sum()), int(due.any(axis=0).sum())


def _between(actual_td, expected, pace, s2, has, codes, n_teams):
    """τ² between reps of a team; each team's pooled pace shrunk toward the company's
    (``τ_T²`` between teams); the company's pooled pace ``μ``."""
    if not has.any():
        return 1.0, np.ones(n_teams), np.zeros(n_teams), 0.0, 1.0
    e, p, s, c = expected[has], pace[has], s2[has], codes[has]
    team_e = np.bincount(c, weights=e, minlength=n_teams)
    present = team_e > 0
    safe_e = np.where(present, team_e, 1.0)
    team_pace = np.bincount(c, weights=actual_td[has], minlength=n_teams) / safe_e
    share = e / safe_e[c]  # each rep's weight in the team's pooled pace
    d = p - team_pace[c]
    factor = 1.0 - share  # E[d²] ≈ (τ² + s²)(1 − share), to first order
    denom = float(factor.sum())
    if denom > 1e-9:
        tau2 = max(_TAU_FLOOR, float((d**2).sum() - (factor * s).sum()) / denom)
    else:
        tau2 = _TAU_FLOOR
    sq = np.bincount(c, weights=share**2 * (tau2 + s), minlength=n_teams)
    team_var = np.where(present, sq, np.inf)
    mu = float(actual_td[has].sum() / e.sum())
    k = int(present.sum())
    if k > 1:
        w = team_e[present] / team_e[present].sum()
        spread = float((w * (team_pace[present] - mu) ** 2).sum()) / (1.0 - float((w**2).sum()))
        tau_t2 = max(0.0, spread - float((w * team_var[present]).sum()))
    else:
        tau_t2 = 0.0
    bt = np.where(present, tau_t2 / (tau_t2 + np.where(present, team_var, 1.0)), 0.0)
    mu_var = float((tau_t2 + team_var[present]).mean()) / max(1, k)
    shrunk = np.where(present, mu + bt * (team_pace - mu), mu)
    post_var = np.where(present, bt * np.where(present, team_var, 0.0), tau_t2) + mu_var
    return tau2, shrunk, post_var, tau_t2, mu


def _company_shock(expected_m, actual, mean_target, sigma2) -> float:
    """σ_c²: the spread of the company's monthly pace beyond what reps' noise explains."""
    e = expected_m.sum(axis=0)
    due = e > 0
    if due.sum() < 2:
        return 0.0
    c = actual[:, due].sum(axis=0) / e[due]
    # The reps' own noise in a month's company pace: σ² Σ T̄ E_m ÷ (Σ E_m)².
    idio = sigma2 * (mean_target[:, None] * expected_m[:, due]).sum(axis=0) / e[due] ** 2
    return max(0.0, float(np.var(c, ddof=1)) - float(idio.mean()))


def _grouping(codes: np.ndarray, n_units: int):
    """Rep order by unit and each present unit's first position, for np.add.reduceat."""
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    present, starts = np.unique(sorted_codes, return_index=True)
    return order, starts, present


class _RepDraws:
    """Each rep's draws of the remaining share (float32, for the quantiles at the end) and
    the running counts of draws reaching target and challenge."""

    def __init__(self, actual, remaining, year_target, challenge, trials: int):
        self.actual, self.remaining = actual, remaining
        self.draws = np.empty((trials, len(actual)), dtype=np.float32)
        self.bars = [_threshold(actual, remaining, goal) for goal in (year_target, challenge)]
        self.hits = [np.zeros(len(actual)), np.zeros(len(actual))]
        self.total = np.zeros(len(actual))

    def add(self, first: int, share: np.ndarray) -> None:
        self.draws[first : first + len(share)] = share
        self.total += share.sum(axis=0)
        for bar, hits in zip(self.bars, self.hits, strict=True):
            hits += (share >= bar).sum(axis=0)

    def finish(self) -> dict[str, np.ndarray]:
        trials, n = self.draws.shape
        out = {k: np.zeros(n) for k in ("p10", "p50", "p90")}
        for r0 in range(0, n, REP_BLOCK):
            r1 = min(n, r0 + REP_BLOCK)
            # The year-end is actual + remaining × share: a rising map, so its quantiles
            # are the map of the share's.
            q = np.quantile(self.draws[:, r0:r1], QUANTILES, axis=0).astype(np.float64)
            year = self.actual[None, r0:r1] + q * self.remaining[None, r0:r1]
            out["p10"][r0:r1], out["p50"][r0:r1], out["p90"][r0:r1] = year
        out["mean"] = self.actual + self.remaining * self.total / trials
        out["p_target"] = self.hits[0] / trials
        out["p_challenge"] = self.hits[1] / trials
        return out


def _threshold(actual, remaining, goal) -> np.ndarray:
    """The remaining share a draw needs for actual + remaining × share to reach ``goal``."""
    need = goal - actual - 1e-9
    reached = np.where(need <= 0, -np.inf, np.inf)
    safe = np.where(remaining > 0, remaining, 1.0)
    return np.where(remaining > 0, need / safe, reached)

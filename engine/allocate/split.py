"""Stage 2: each rep's yearly product targets split by month, locally.

The split follows each product's seasonality profile. Quarter checkpoints
move the *profiles* (a handful of them, one per product) within the tolerance
by one small LP, never the reps: every rep then takes ``t[r, p] × profile``,
which is the closed form. A ramping rep's months follow the profile × their
monthly ramp share, renormalised (the ramp, not the profile, shapes a new
hire's year; checkpoints do not apply to them).
"""

from __future__ import annotations

import numpy as np

from attain.allocate.inputs import Inputs
from attain.errors import InfeasibleError
from attain.solvers import LinearProblem, SolveOptions, SparseMatrix, solve

__all__ = ["adjusted_profiles", "is_ramping", "month_profiles", "split_months"]

INF = np.inf


def is_ramping(inputs: Inputs) -> np.ndarray:
    return np.any(inputs.ramp_months < 1, axis=1)


def adjusted_profiles(inputs: Inputs, solver: str, options: SolveOptions) -> np.ndarray:
    """The profiles moved as little as possible (L1) to meet the quarter checkpoints."""
    season = inputs.rules.seasonality
    base = inputs.profiles
    if not season.checkpoints:
        return base
    P, K = base.shape
    n = P * K
    tol = season.tolerance
    # Columns: s'[p, k] (n), then u[p, k] >= |s' - s| (n).
    rows, cols, vals, lower, upper = [], [], [], [], []

    def add(r, c, v, lo, hi):
        offset = len(lower)
        rows.append(np.asarray(r) + offset)
        cols.append(np.asarray(c))
        vals.append(np.asarray(v, float))
        lower.extend(lo)
        upper.extend(hi)

    idx = np.arange(n)
    add(idx // K, idx, np.ones(n), [1.0] * P, [1.0] * P)
    add(
        np.r_[idx, idx],
        np.r_[idx, idx + n],
        np.r_[np.ones(n), -np.ones(n)],
        -INF * np.ones(n),
        base.ravel(),
    )
    add(
        np.r_[idx, idx],
        np.r_[idx, idx + n],
        np.r_[np.ones(n), np.ones(n)],
        base.ravel(),
        INF * np.ones(n),
    )
    for cp in season.checkpoints:
        months = np.arange(3 * (cp.quarter - 1), 3 * cp.quarter)
        c = (np.arange(P)[:, None] * K + months[None, :]).ravel()
        add(np.repeat(np.arange(P), 3), c, np.ones(len(c)),
            [cp.min if cp.min is not None else -INF] * P, [cp.max if cp.max is not None else INF] * P)  # fmt: skip
    A = SparseMatrix.from_coo(
        np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), (len(lower), 2 * n)
    )
    problem = LinearProblem(
        c=np.r_[np.zeros(n), np.ones(n)],
        A=A,
        row_lower=np.array(lower),
        row_upper=np.array(upper),
        col_lower=np.r_[np.maximum(base.ravel() - tol, 0), np.zeros(n)],
        col_upper=np.r_[base.ravel() + tol, INF * np.ones(n)],
    )
    result = solve(problem, solver, options)
    if not result.status.has_solution:
        raise InfeasibleError(
            "the seasonality checkpoints cannot be met", _checkpoint_conflicts(inputs)
        )
    return result.x[:n].reshape(P, K)


def _checkpoint_conflicts(inputs: Inputs) -> list[str]:
    season = inputs.rules.seasonality
    tol = season.tolerance
    out = []
    for cp in season.checkpoints:
        q = slice(3 * (cp.quarter - 1), 3 * cp.quarter)
        for p, name in enumerate(inputs.products):
            share = inputs.profiles[p, q].sum()
            reach_hi, reach_lo = share + 3 * tol, max(share - 3 * tol, 0.0)
            if cp.min is not None and reach_hi < cp.min:
                out.append(
                    f"checkpoint Q{cp.quarter} ≥ {cp.min:.1%} but product {name}'s profile puts "
                    f"{share:.1%} in Q{cp.quarter} and the tolerance ±{tol:.1%} per month "
                    f"reaches at most {reach_hi:.1%}"
                )
            if cp.max is not None and reach_lo > cp.max:
                out.append(
                    f"checkpoint Q{cp.quarter} ≤ {cp.max:.1%} but product {name}'s profile puts "
                    f"{share:.1%} in Q{cp.quarter}; the tolerance reaches down to {reach_lo:.1%}"
                )
    return out or ["seasonality: the checkpoints and the tolerance leave no profile"]


def month_profiles(inputs: Inputs, profiles: np.ndarray) -> np.ndarray:
    """Per rep × product × month: the share of the year's target in each month.

    ``profiles`` (adjusted to the checkpoints) apply to the reps the checkpoints bind; a
    ramping rep's months follow the plain profile × their ramp, renormalised — the centre
    of their band (the adjusted profile, renormalised, could leave it by a few units).
    """
    ramping = is_ramping(inputs)[:, None, None]
    chosen = np.where(ramping, inputs.profiles[None, :, :], profiles[None, :, :])
    weighted = chosen * inputs.ramp_months[:, None, :]
    sums = weighted.sum(axis=2, keepdims=True)
    return np.where(sums > 0, weighted / np.where(sums > 0, sums, 1), profiles[None, :, :])


def split_months(totals: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Closed form: ``cells[r, p, k] = totals[r, p] × shares[r, p, k]``."""
    return totals[:, :, None] * shares

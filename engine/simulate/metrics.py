"""Metrics of a plan under a variant, from the per-trial figures and the detail trials.

Trial-level figures (total payout, revenue, cost of sales, budget, share at target)
use every trial. Per-person figures (percentiles by role, pay for performance, Gini,
top-decile vs median) use the detail trials: the first trials, up to
:data:`~attain.simulate.runner.DETAIL_REP_TRIALS` rep-trials, pooled.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "Z95",
    "distribution",
    "gini",
    "json_float",
    "paired",
    "pay_for_performance",
    "role_percentiles",
    "top_vs_median",
]

#: Two-sided 95% normal quantile, for confidence intervals of means.
Z95 = 1.959963984540054
PERCENTILES = (5, 50, 95, 99)
ROLE_PERCENTILES = (10, 25, 50, 75, 90)


def json_float(x: float) -> float | None:
    """A JSON-safe float (NaN and infinities become null)."""
    x = float(x)
    return x if math.isfinite(x) else None


def distribution(values: np.ndarray) -> dict[str, float | None]:
    """Mean, its standard error, sd and P5/P50/P95/P99 of per-trial values."""
    n = len(values)
    sd = float(values.std(ddof=1)) if n > 1 else 0.0
    out = {
        "mean": json_float(values.mean()),
        "sd": json_float(sd),
        "se": json_float(sd / math.sqrt(n)),
    }
    for q, v in zip(PERCENTILES, np.percentile(values, PERCENTILES), strict=True):
        out[f"p{q}"] = json_float(v)
    return out


def paired(values: np.ndarray, baseline: np.ndarray) -> dict[str, float | None]:
    """The difference ``values - baseline`` over the same trials, with a 95% CI of its mean."""
    diff = values - baseline
    n = len(diff)
    mean = float(diff.mean())
    se = float(diff.std(ddof=1)) / math.sqrt(n) if n > 1 else 0.0
    return {
        "mean": json_float(mean),
        "se": json_float(se),
        "ci95_low": json_float(mean - Z95 * se),
        "ci95_high": json_float(mean + Z95 * se),
        "p_higher": json_float((diff > 0).mean()),
    }


def gini(payouts: np.ndarray) -> float | None:
    """Mean over rows (trials) of the Gini coefficient of each row's payouts (>= 0)."""
    x = np.sort(np.maximum(payouts, 0.0), axis=1)
    n = x.shape[1]
    if n == 0:
        return None
    total = x.sum(axis=1)
    rank = np.arange(1, n + 1)
    g = (2 * (x * rank).sum(axis=1) / (n * np.where(total > 0, total, 1))) - (n + 1) / n
    g = np.where(total > 0, g, 0.0)
    return json_float(g.mean())


def top_vs_median(payouts: np.ndarray) -> float | None:
    """Mean payout of the top 10% of earners ÷ the median earner's, pooled rep-trials."""
    flat = np.sort(payouts.ravel())
    if flat.size == 0:
        return None
    median = float(np.median(flat))
    top = flat[int(math.floor(0.9 * flat.size)) :].mean()
    return json_float(top / median) if median > 0 else None


def role_percentiles(
    payouts: np.ndarray, roles: np.ndarray, mask: np.ndarray
) -> dict[str, dict[str, float | None]]:
    """Per role: mean and P10/P25/P50/P75/P90 of individual yearly payouts (pooled)."""
    out = {}
    for role in sorted(set(roles[mask])):
        values = payouts[:, mask & (roles == role)].ravel()
        row = {"n_people": int((mask & (roles == role)).sum()), "mean": json_float(values.mean())}
        for q, v in zip(ROLE_PERCENTILES, np.percentile(values, ROLE_PERCENTILES), strict=True):
            row[f"p{q}"] = json_float(v)
        out[str(role)] = row
    return out


def pay_for_performance(
    payouts: np.ndarray, attainment: np.ndarray, mask: np.ndarray
) -> list[dict[str, float | int | None]]:
    """Mean payout and attainment by attainment decile (pooled rep-trials of ``mask``)."""
    a = attainment[:, mask].ravel()
    p = payouts[:, mask].ravel()
    if a.size < 10:
        return []
    order = _stable_argsort(a)
    rows = []
    for d, idx in enumerate(np.array_split(order, 10)):
        rows.append(
            {
                "decile": d + 1,
                "attainment_mean": json_float(a[idx].mean()),
                "payout_mean": json_float(p[idx].mean()),
            }
        )
    return rows


def _stable_argsort(a: np.ndarray) -> np.ndarray:
    """``np.argsort(a, kind="stable")``, six times faster when no two values tie (then
    every sort gives the one order); with ties or NaN, the stable sort itself."""
    order = np.argsort(a)  # SIMD quicksort: unstable
    ranked = a[order]
    if np.isnan(ranked[-1]) or (ranked[1:] == ranked[:-1]).any():
        return np.argsort(a, kind="stable")
    return order

"""Team pools: fund per team, gate, and split to the cent with largest remainders."""

from __future__ import annotations

import numpy as np
import pandas as pd

from attain.incentive.rational import MICRO, round_div

__all__ = ["split_exact", "team_pool"]


def split_exact(total: np.ndarray, group: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Split each group's integer ``total`` over its items in proportion to ``weight``.

    Shares are floored, then the leftover units go one each to the largest remainders
    (ties to the earlier item), so the shares add up to the total exactly.
    """
    total, weight = np.asarray(total), np.asarray(weight)
    n_groups = len(total)
    dtype = np.int64 if _fits(total, weight) else object  # int64 is much faster
    total, weight = total.astype(dtype), weight.astype(dtype)
    wsum = np.zeros(n_groups, dtype=dtype)
    np.add.at(wsum, group, weight)
    wg = wsum[group]
    safe = np.where(wg == 0, 1, wg)
    scaled = total[group] * weight
    base = np.where(wg == 0, 0, scaled // safe)
    given = np.zeros(n_groups, dtype=dtype)
    np.add.at(given, group, base)
    left = np.where(wsum == 0, 0, total - given).astype(np.int64)
    out = base.astype(np.int64)
    rows = np.flatnonzero(left[group] > 0)  # only groups with leftover units need ranking
    if not len(rows):
        return out
    rem = (scaled[rows] - base[rows] * safe[rows]).astype(np.int64)  # rem < wsum: fits
    g = group[rows]
    order = np.lexsort((rows, -rem, g))
    g_sorted = g[order]
    rank = np.arange(len(order)) - np.searchsorted(g_sorted, g_sorted)
    out[rows[order]] += rank < left[g_sorted]
    return out


def _fits(total: np.ndarray, weight: np.ndarray) -> bool:
    if total.dtype == object or weight.dtype == object or not len(weight):
        return not len(weight)
    big_t = float(np.abs(total).max(initial=0))
    big_w = float(np.abs(weight).max(initial=0))
    return big_t * big_w < 2.0**62 and big_w * len(weight) < 2.0**62


def team_pool(c, S, T, unit, is_member, is_participant, roles, n_periods, mode) -> np.ndarray:
    """Pool amounts per person × window (int64 minor units).

    ``S``/``T``: int64[R, W] credit and target of each person for the pool's products;
    ``unit``: int[R] team of each person; ``is_member``: counts toward the team's credit
    and target (not a rolled-up manager); ``n_periods``: int[W] pay periods in each window.
    """
    cfg = c.pool
    n_units = int(unit.max()) + 1 if len(unit) else 0
    n_windows = S.shape[1]
    team_s = np.zeros((n_units, n_windows), dtype=object)
    team_t = np.zeros((n_units, n_windows), dtype=object)
    np.add.at(team_s, unit[is_member], S[is_member].astype(object))
    np.add.at(team_t, unit[is_member], T[is_member].astype(object))
    funded = (team_t > 0) & (team_s * MICRO >= cfg["threshold"] * team_t)
    n_part = np.bincount(unit[is_participant], minlength=n_units).astype(object)[:, None]
    periods = np.asarray(n_periods, dtype=object)[None, :]
    if cfg["per_member"] is not None:
        pool = n_part * cfg["per_member"] * periods
    elif cfg["fixed"] is not None:
        pool = np.broadcast_to(cfg["fixed"] * periods, (n_units, n_windows))
    else:
        pool = round_div(np.maximum(team_s, 0) * cfg["share_of_sales"], MICRO, mode)
    pool = np.where(funded, pool, 0)
    X = S.astype(object) * MICRO
    eligible = is_participant[:, None] & (cfg["min_attainment"] * T.astype(object) <= X)
    if cfg["min_attainment"] > 0:
        eligible &= T > 0
    out = np.zeros(S.shape, dtype=np.int64)
    for w in range(n_windows):  # a dozen windows; each is vectorised over people
        out[:, w] = _split_window(cfg, pool[:, w], unit, eligible[:, w], S[:, w], roles)
    return out


def _split_window(cfg, pool, unit, eligible, S, roles) -> np.ndarray:
    out = np.zeros(len(unit), dtype=np.int64)
    who = np.flatnonzero(eligible)
    if not len(who):
        return out
    if cfg["split"] == "shares":
        return _split_shares(cfg, pool, unit, who, roles, out)
    weight = np.ones(len(who), dtype=np.int64)
    if cfg["split"] == "pro_rata":
        weight = np.maximum(S[who], 0)
        # a team whose eligible members all have no credit shares equally
        tot = np.bincount(unit[who], weights=weight.astype(float), minlength=len(pool))
        weight = np.where(tot[unit[who]] > 0, weight, 1)
    out[who] = split_exact(pool, unit[who], weight)
    return out


def _split_shares(cfg, pool, unit, who, roles, out) -> np.ndarray:
    """First across the roles present among the eligible (by share), then equally within."""
    names = sorted(cfg["shares"])
    code = pd.Index(names).get_indexer(roles[who])
    ok = code >= 0
    who, code = who[ok], code[ok]
    n_roles = len(names)
    pair = unit[who] * n_roles + code
    pairs, inverse = np.unique(pair, return_inverse=True)
    share = np.array([cfg["shares"][r] for r in names], dtype=np.int64)
    role_total = split_exact(pool, pairs // n_roles, share[pairs % n_roles])
    out[who] = split_exact(role_total, inverse, np.ones(len(who), dtype=np.int64))
    return out

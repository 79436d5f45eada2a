"""Exact splits: integer totals shared in proportion to weights, to the minor unit."""

from __future__ import annotations

import numpy as np

__all__ = ["own_credit", "split_exact"]


def split_exact(total: np.ndarray, group: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Split each group's integer ``total`` over its items in proportion to ``weight``.

    Shares are floored, then the leftover units go one each to the largest remainders
    (ties to the earlier item), so the shares add up to the total exactly.
    """
    total, weight, group = np.asarray(total), np.asarray(weight), np.asarray(group)
    if not len(group) or group.min() < 0:
        return _split(total, group, weight)
    # An item alone in its group takes the whole total (none if its weight is 0): of
    # millions of deal rows, almost every deal has one. The others are split below.
    alone = np.bincount(group, minlength=len(total))[group] == 1
    out = np.zeros(len(group), dtype=np.int64)
    out[alone] = np.where(weight[alone] != 0, total[group[alone]], 0)
    if not alone.all():
        shared = np.flatnonzero(~alone)
        out[shared] = _split(total, group[shared], weight[shared])
    return out


def _split(total: np.ndarray, group: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """:func:`split_exact`, every group ranked."""
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


def own_credit(S: np.ndarray, roll_unit: np.ndarray | None, is_member: np.ndarray) -> np.ndarray:
    """Each person's own credit from credit with ``credit.roll_up`` applied (float, people
    on the first axis): a manager's rolled-up credit less the members of their unit
    (``roll_unit``: int[R] unit codes; None: nothing was rolled up)."""
    if roll_unit is None or is_member.all():
        return S
    n_units = int(roll_unit.max()) + 1
    team = np.zeros((n_units, *S.shape[1:]))
    np.add.at(team, roll_unit[is_member], S[is_member])
    manager = ~is_member
    out = S.copy()
    out[manager] = S[manager] - team[roll_unit[manager]]
    return out

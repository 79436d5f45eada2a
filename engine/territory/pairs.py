"""Candidate (unit, rep) pairs: the only x[unit, rep] variables the model has.

The model stays small by giving each unit a few candidate reps instead of all
of them: the ``candidates.nearest`` reps whose offices are nearest (k = 8 by
default; every rep when there are no distances), only reps sharing the
owner's ``candidates.same`` org column when set, and always the current owner.
Hard rules that concern one unit and one rep are applied here, by removing
pairs, rather than as rows: ``allowed`` (replaces the candidates), ``locked``
(only the owner), a distance table's missing pairs, ``max_distance`` and
``coverage``. Each removal is recorded,
so a unit left without any rep, or moved off its owner, is explained by the
rule that did it, with its numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from attain.schema.territory import TerritoryRules
from attain.territory.geo import nearest_reps, pair_distances
from attain.territory.inputs import Reps, Units, rule_error

__all__ = ["Pairs", "candidate_pairs"]


@dataclass(frozen=True)
class Pairs:
    """Parallel arrays, one entry per variable, sorted by unit then rep."""

    unit: np.ndarray
    rep: np.ndarray
    km: np.ndarray
    """Distance unit → rep office (0 when there are no distances)."""
    owner_reason: np.ndarray
    """Per unit: why its current owner is not a candidate ('' when it is)."""
    orphan_reason: np.ndarray
    """Per unit: why it has no candidate rep at all ('' when it has some)."""
    has_distance: bool

    @property
    def n(self) -> int:
        return len(self.unit)


class _Stages:
    """The pairs as rules remove them, with the reason each unit lost its owner or every rep."""

    def __init__(self, units: Units, reps: Reps, u: np.ndarray, r: np.ndarray, dist):
        self.units, self.reps, self.dist = units, reps, dist
        self.u, self.r = u, r
        self.owner_reason = np.where(
            units.owner < 0,
            [f"its owner {o} is not among the reps" for o in units.owner_id],
            "",
        ).astype(object)
        self.orphan_reason = np.full(units.n, "", dtype=object)

    def keep(self, mask: np.ndarray, why) -> None:
        """Drop the pairs outside ``mask``; ``why(unit_idx, rep_idx)`` words the reason."""
        had = np.bincount(self.u, minlength=self.units.n) > 0
        dropped_u, dropped_r = self.u[~mask], self.r[~mask]
        is_owner = self.units.owner[dropped_u] == dropped_r
        for uu, rr in zip(dropped_u[is_owner], dropped_r[is_owner], strict=True):
            if not self.owner_reason[uu]:
                self.owner_reason[uu] = why(uu, rr)
        self.u, self.r = self.u[mask], self.r[mask]
        now = np.bincount(self.u, minlength=self.units.n) > 0
        n = self.reps.n
        for uu in np.flatnonzero(had & ~now):
            rr = dropped_r[dropped_u == uu]
            if self.dist is not None:  # name the nearest rep: the one that came closest
                rr = rr[np.argsort([self.dist[uu * n + x] for x in rr], kind="stable")]
            self.orphan_reason[uu] = why(uu, rr[0]) + (
                f" (its {len(rr) - 1} other candidate reps are ruled out too)"
                if len(rr) > 1
                else ""
            )


def candidate_pairs(
    rules: TerritoryRules, units: Units, reps: Reps, office, table, source: str
) -> Pairs:
    has_distance = office is not None or table is not None
    u, r = _base(rules, units, reps, office, table, source)
    st = _Stages(units, reps, u, r, None)
    _allowed(rules, st, source)
    _locked(rules, st, source)
    km = pair_distances(units, office, table, st.u, st.r, reps.n)
    if table is not None:
        known = ~np.isnan(km)
        st.keep(
            known,
            lambda uu, rr: (
                f"distances: the table has no distance from {units.ids[uu]} to {reps.ids[rr]}"
            ),
        )
        km = km[known]
    if rules.max_distance is not None and has_distance:
        st.dist = dict(zip((st.u * reps.n + st.r).tolist(), km.tolist(), strict=True))
        limit = rules.max_distance
        ok = np.nan_to_num(km, nan=np.inf) <= limit
        st.keep(
            ok,
            lambda uu, rr: (
                f"max_distance: {reps.ids[rr]}'s office is "
                f"{st.dist[uu * reps.n + rr]:.1f} km away, the limit is {limit:g} km"
            ),
        )
    for i, rule in enumerate(rules.coverage):
        _coverage(rule, i, units, reps, st, source)
    km = pair_distances(units, office, table, st.u, st.r, reps.n)
    if not has_distance:
        km = np.zeros(len(st.u))
    order = np.lexsort((st.r, st.u))
    return Pairs(
        st.u[order], st.r[order], km[order], st.owner_reason, st.orphan_reason, has_distance
    )


def _base(rules, units: Units, reps: Reps, office, table, source: str):
    k = rules.candidates.nearest
    if k is not None and (office is not None or table is not None):
        u, r = nearest_reps(units, office, table, reps.n, k)
    else:
        u = np.repeat(np.arange(units.n), reps.n)
        r = np.tile(np.arange(reps.n), units.n)
    same = rules.candidates.same
    if same is not None:
        keep = _same_group(same, units, reps, u, r, source)
        u, r = u[keep], r[keep]
    has = units.owner >= 0
    u = np.concatenate([u, np.flatnonzero(has)])
    r = np.concatenate([r, units.owner[has]])
    key = np.unique(u * reps.n + r)
    return key // reps.n, key % reps.n


def _same_group(column: str, units: Units, reps: Reps, u, r, source: str) -> np.ndarray:
    if column not in reps.all_org.columns:
        raise rule_error(source, "candidates.same", f"the org table has no column `{column}`")
    rep_value = reps.org[column].astype(str).to_numpy(dtype=object)
    # The owner may not be a participant (a manager): look it up in the whole org.
    org = reps.all_org
    by_id = pd.Series(org[column].astype(str).to_numpy(), index=org["rep_id"].astype(str))
    owner_value = by_id.reindex(units.owner_id).to_numpy(dtype=object)
    return owner_value[u] == rep_value[r]


def _allowed(rules: TerritoryRules, st: _Stages, source: str) -> None:
    units, reps = st.units, st.reps
    if not rules.allowed:
        return
    u_index, r_index = pd.Index(units.ids), pd.Index(reps.ids)
    restricted = np.zeros(units.n, dtype=bool)
    extra_u, extra_r = [], []
    for i, rule in enumerate(rules.allowed):
        uu = _lookup(u_index, rule.units, source, f"allowed[{i}].units", "unit")
        rr = _lookup(r_index, rule.reps, source, f"allowed[{i}].reps", "rep")
        restricted[uu] = True
        extra_u.append(np.repeat(uu, len(rr)))
        extra_r.append(np.tile(rr, len(uu)))
    allowed = np.concatenate(extra_u) * reps.n + np.concatenate(extra_r)
    key = np.unique(np.concatenate([st.u * reps.n + st.r, allowed]))
    st.u, st.r = key // reps.n, key % reps.n
    keep = ~restricted[st.u] | np.isin(key, allowed)
    st.keep(keep, lambda uu, rr: f"allowed: {units.ids[uu]} may only go to listed reps")


def _locked(rules: TerritoryRules, st: _Stages, source: str) -> None:
    units = st.units
    if not rules.locked:
        return
    locked = _lookup(pd.Index(units.ids), rules.locked, source, "locked", "unit")
    is_locked = np.zeros(units.n, dtype=bool)
    is_locked[locked] = True
    for uu in locked[units.owner[locked] < 0]:
        st.orphan_reason[uu] = (
            f"locked: {units.ids[uu]} is locked to {units.owner_id[uu]}, who is not among the reps"
        )
    keep = ~is_locked[st.u] | (units.owner[st.u] == st.r)
    st.keep(keep, lambda uu, rr: f"locked: {units.ids[uu]} keeps its owner")


def _coverage(rule, i: int, units: Units, reps: Reps, st: _Stages, source: str) -> None:
    if units.tier is None:
        raise rule_error(source, f"coverage[{i}]", "the units have no `tier` column to cover")
    name = rule.name or f"coverage_{i}"
    covered = np.isin(units.tier.astype(str), rule.tier)
    ok = ~covered[st.u] | (reps.tenure[st.r] >= rule.min_tenure_months)
    st.keep(
        ok,
        lambda uu, rr: (
            f"coverage `{name}`: a tier {units.tier[uu]} unit needs tenure ≥ "
            f"{rule.min_tenure_months} months; {reps.ids[rr]} has {reps.tenure[rr]:g}"
        ),
    )


def _lookup(index: pd.Index, ids: list[str], source: str, path: str, what: str) -> np.ndarray:
    found = index.get_indexer([str(x) for x in ids])
    if (found < 0).any():
        i = int(np.flatnonzero(found < 0)[0])
        raise rule_error(source, f"{path}[{i}]", f"unknown {what} `{ids[i]}`")
    return found.astype(np.int64)

"""Why each unit moved, and where each rep stands against each band.

A moved unit's reason is the first that applies, strongest first:

1. a rule removed its owner as a candidate (``forced: ...``: owner not a rep,
   ``max_distance``, ``coverage``, ``allowed``) — the move was compulsory;
2. its old owner was above a band's max before (``balance ...: R1 had 32.1,
   above max 31.0``) or its new rep below a band's min;
3. it is nearer its new rep's office (``shorter travel``, with both distances);
4. otherwise it is part of a chain of moves that together lower the objective
   or make room under a binding band (named).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from attain.territory.model import TerritoryModel

__all__ = ["bend", "bent_soft_rules", "explain_moves", "rep_table"]

_TOL = 1e-6


def loads(model: TerritoryModel, rep_of_unit: np.ndarray, measure: np.ndarray) -> np.ndarray:
    """Per rep, the total of ``measure`` over its units (units with rep -1 are ignored)."""
    has = rep_of_unit >= 0
    return np.bincount(rep_of_unit[has], weights=measure[has], minlength=model.reps.n)


def rep_table(
    model: TerritoryModel,
    before: np.ndarray,
    after: np.ndarray,
    km_after: np.ndarray,
    km_before: np.ndarray,
) -> pd.DataFrame:
    """One row per rep: counts, distances, and each band's before, after, bounds, binding."""
    n = model.reps.n
    ones = np.ones(model.units.n)
    moved = before != after
    table = {
        "rep_id": model.reps.ids,
        "units_before": loads(model, before, ones).astype(np.int64),
        "units_after": loads(model, after, ones).astype(np.int64),
        "gained": loads(model, np.where(moved, after, -1), ones).astype(np.int64),
        "lost": loads(model, np.where(moved, before, -1), ones).astype(np.int64),
        "distance_km_before": np.round(loads(model, before, np.nan_to_num(km_before)), 3),
        "distance_km_after": np.round(loads(model, after, km_after), 3),
    }
    for band in model.bands:
        value = loads(model, after, band.measure)
        table[f"{band.name}_before"] = np.round(loads(model, before, band.measure), 6)
        table[f"{band.name}"] = np.round(value, 6)
        table[f"{band.name}_min"] = np.full(n, round(band.lo, 6))
        table[f"{band.name}_max"] = np.full(
            n, round(band.hi, 6) if np.isfinite(band.hi) else np.inf
        )
        binding = np.where(
            value <= band.lo + _TOL, "min", np.where(value >= band.hi - _TOL, "max", "")
        )
        if band.soft:
            bent = bend(band, value)
            table[f"{band.name}_bent"] = np.round(bent, 6)
            binding = np.where(bent > _TOL, "bent " + binding, binding)
        table[f"{band.name}_binding"] = binding
    return pd.DataFrame(table)


def bend(band, value: np.ndarray) -> np.ndarray:
    """Per rep, how far its total lies outside the band (0 inside)."""
    return np.maximum(band.lo - value, 0.0) + np.maximum(value - band.hi, 0.0)


def bent_soft_rules(model: TerritoryModel, after: np.ndarray) -> list[dict]:
    """Each soft band: its priority or penalty, the total bend, and the reps bent."""
    out = []
    for band in (b for b in model.bands if b.soft):
        bent = bend(band, loads(model, after, band.measure))
        reps = np.flatnonzero(bent > _TOL)
        out.append(
            {
                "rule": band.name,
                "priority": band.priority,
                "penalty": band.penalty,
                "bent": round(float(bent[reps].sum()), 6),
                "bent_means": round(float(bent[reps].sum() / max(band.mean, 1e-12)), 6),
                "n_bent": len(reps),
                "reps": {str(model.reps.ids[r]): round(float(bent[r]), 6) for r in reps},
            }
        )
    return out


def explain_moves(
    model: TerritoryModel,
    before: np.ndarray,
    after: np.ndarray,
    km_after: np.ndarray,
    km_before: np.ndarray,
) -> pd.DataFrame:
    units, reps, pairs = model.units, model.reps, model.pairs
    moved = np.flatnonzero(before != after)
    reason = np.full(len(moved), "", dtype=object)
    forced = pairs.owner_reason[moved]
    reason[forced != ""] = "forced: " + forced[forced != ""]
    for band in model.bands:
        old = loads(model, before, band.measure)
        _fill(
            reason,
            moved,
            before,
            lambda r, o=old, b=band: o[r] > b.hi + _TOL,
            lambda r, o=old, b=band: (
                f"{b.name}: {reps.ids[r]} had {o[r]:.6g}, above max {b.hi:.6g}"
            ),
        )
        _fill(
            reason,
            moved,
            after,
            lambda r, o=old, b=band: o[r] < b.lo - _TOL,
            lambda r, o=old, b=band: (
                f"{b.name}: {reps.ids[r]} had {o[r]:.6g}, below min {b.lo:.6g}"
            ),
        )
    gain = np.nan_to_num(km_before[moved], nan=np.inf) - km_after[moved]
    nearer = (reason == "") & (gain > _TOL) & pairs.has_distance
    reason[nearer] = [
        f"shorter travel: {a:.1f} km instead of {b:.1f} km"
        for a, b in zip(km_after[moved][nearer], km_before[moved][nearer], strict=True)
    ]
    binding = _binding_names(model, after)
    rest = reason == ""
    reason[rest] = [
        "part of a chain of moves: " + (binding.get(int(r)) or "it lowers the total objective")
        for r in after[moved][rest]
    ]
    return pd.DataFrame(
        {
            "unit_id": units.ids[moved],
            "from_rep_id": units.owner_id[moved],
            "to_rep_id": reps.ids[after[moved]],
            "distance_km_before": np.round(km_before[moved], 3),
            "distance_km_after": np.round(km_after[moved], 3),
            "reason": reason,
        }
    )


def _fill(reason, moved, rep_of, test, words) -> None:
    reps_ = rep_of[moved]
    for i in np.flatnonzero(reason == ""):
        r = int(reps_[i])
        if r >= 0 and test(r):
            reason[i] = words(r)


def _binding_names(model: TerritoryModel, after: np.ndarray) -> dict[int, str]:
    out: dict[int, list[str]] = {}
    for band in model.bands:
        value = loads(model, after, band.measure)
        for r in np.flatnonzero((value <= band.lo + _TOL) | (value >= band.hi - _TOL)):
            out.setdefault(int(r), []).append(f"`{band.name}` binds for {model.reps.ids[r]}")
    return {r: "; ".join(v) for r, v in out.items()}

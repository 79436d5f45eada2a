"""Distances: great-circle kilometres from units to rep offices, or a given table.

A rep's office is the org table's ``office_latitude``/``office_longitude``
when present (``offices: org``/``auto``), else the centre of the rep's
current units (``centroid``: the mean of their unit vectors, so it is right
across the antimeridian too). Distances are used as computed or given, never
rounded; an integer-only solver scales them and re-checks its answer
(:mod:`attain.solvers.cpsat`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from attain.data import Company
from attain.errors import DataError, Problem
from attain.territory.inputs import Reps, Units, read_data_table, rule_error

__all__ = ["EARTH_RADIUS_KM", "DistanceTable", "haversine", "offices", "pair_distances"]

EARTH_RADIUS_KM = 6371.0088
_CHUNK = 4096  # units per block when the full unit × rep matrix would be large


def haversine(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (broadcasts)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def offices(mode: str, reps: Reps, units: Units, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude of every rep's office."""
    has_org = {"office_latitude", "office_longitude"} <= set(reps.org.columns)
    if mode == "org" and not has_org:
        raise rule_error(
            source,
            "offices",
            "the org table has no `office_latitude`/`office_longitude` columns",
            hint="add them, or use `offices: centroid`",
        )
    if has_org and mode in ("org", "auto"):
        return _org_offices(reps)
    return _centroids(reps, units)


def _org_offices(reps: Reps) -> tuple[np.ndarray, np.ndarray]:
    lat = pd.to_numeric(reps.org["office_latitude"], errors="coerce").to_numpy(dtype=np.float64)
    lon = pd.to_numeric(reps.org["office_longitude"], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~(np.isfinite(lat) & np.isfinite(lon)) | (np.abs(lat) > 90) | (np.abs(lon) > 180)
    if bad.any():
        raise DataError(
            [
                Problem(
                    "<org>",
                    f"rep {reps.ids[i]!r}: office coordinates missing or out of range",
                    field="office_latitude",
                    code="office",
                )
                for i in np.flatnonzero(bad)[:10]
            ]
        )
    return lat, lon


def _centroids(reps: Reps, units: Units) -> tuple[np.ndarray, np.ndarray]:
    has = units.owner >= 0
    owner = units.owner[has]
    lat, lon = np.radians(units.lat[has]), np.radians(units.lon[has])
    xyz = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=1)
    sums = np.stack([np.bincount(owner, xyz[:, k], minlength=reps.n) for k in range(3)], axis=1)
    empty = np.flatnonzero(np.linalg.norm(sums, axis=1) < 1e-12)
    if len(empty):
        raise DataError(
            [
                Problem(
                    "<org>",
                    f"rep {reps.ids[empty[0]]!r} has no units, so no office can be placed "
                    f"({len(empty)} such reps)",
                    code="office",
                    hint="give the org table `office_latitude` and `office_longitude` columns",
                )
            ]
        )
    x, y, z = sums.T
    return np.degrees(np.arctan2(z, np.hypot(x, y))), np.degrees(np.arctan2(y, x))


class DistanceTable:
    """Distances of given (unit, rep) pairs, looked up by integer key ``unit * n_reps + rep``."""

    def __init__(self, keys: np.ndarray, km: np.ndarray):
        order = np.argsort(keys, kind="stable")
        self.keys, self.km = keys[order], km[order]

    @classmethod
    def read(cls, company: Company, name: str, units: Units, reps: Reps) -> DistanceTable:
        frame, km = _distance_frame(company, name, ("unit_id", "rep_id"))
        u = pd.Index(units.ids).get_indexer(frame["unit_id"].astype(str).str.strip())
        r = pd.Index(reps.ids).get_indexer(frame["rep_id"].astype(str).str.strip())
        keep = (u >= 0) & (r >= 0)  # rows of other units or non-participants are not used
        return cls(u[keep] * reps.n + r[keep], km[keep])

    @classmethod
    def read_unit_table(
        cls, company: Company, name: str, units: Units, reps: Reps
    ) -> DistanceTable:
        """Unit × unit distances (``unit_id, other_id, distance``, either order) → the distance
        of each unit to each rep's *home unit*: the medoid of the rep's current units (the one
        with the most table distances to them, then the smallest sum; ties to the lowest id).
        Minimising it is a compactness measure: each territory gathers around its centre."""
        frame, km = _distance_frame(company, name, ("unit_id", "other_id"))
        index = pd.Index(units.ids)
        a = index.get_indexer(frame["unit_id"].astype(str).str.strip())
        b = index.get_indexer(frame["other_id"].astype(str).str.strip())
        keep = (a >= 0) & (b >= 0)
        a, b, km = a[keep], b[keep], km[keep]
        every = np.arange(units.n)
        d = pd.DataFrame(
            {
                "a": np.concatenate([a, b, every]),
                "b": np.concatenate([b, a, every]),
                "km": np.concatenate([km, km, np.zeros(units.n)]),
            }
        ).drop_duplicates(["a", "b"], keep="first")
        owner = units.owner
        same = d[(owner[d["a"]] >= 0) & (owner[d["a"]] == owner[d["b"]])]
        score = same.groupby("a").agg(n=("km", "size"), total=("km", "sum")).reset_index()
        score["rep"] = owner[score["a"]]
        home = score.sort_values(
            ["rep", "n", "total", "a"], ascending=[True, False, True, True], kind="stable"
        ).drop_duplicates("rep")
        to_home = d.merge(home[["a", "rep"]], on="a")  # rows from each rep's home unit
        keys = to_home["b"].to_numpy() * reps.n + to_home["rep"].to_numpy()
        return cls(keys.astype(np.int64), to_home["km"].to_numpy(dtype=np.float64))

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Distance per key; NaN for pairs the table does not hold."""
        pos = np.clip(np.searchsorted(self.keys, keys), 0, max(len(self.keys) - 1, 0))
        found = len(self.keys) > 0
        hit = found & (self.keys[pos] == keys) if found else np.zeros(len(keys), bool)
        return np.where(hit, self.km[pos] if found else np.nan, np.nan)


def pair_distances(
    units: Units,
    office: tuple[np.ndarray, np.ndarray] | None,
    table: DistanceTable | None,
    unit_idx: np.ndarray,
    rep_idx: np.ndarray,
    n_reps: int,
) -> np.ndarray:
    """km for each (unit, rep) pair; NaN where unknown."""
    if table is not None:
        return table.lookup(unit_idx * n_reps + rep_idx)
    if office is None:
        return np.full(len(unit_idx), np.nan)
    return haversine(
        units.lat[unit_idx], units.lon[unit_idx], office[0][rep_idx], office[1][rep_idx]
    )


def nearest_reps(units: Units, office, table, n_reps: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(unit, rep) pairs of each unit's k nearest offices, in unit then distance order."""
    k = min(k, n_reps)
    us, rs = [], []
    for start in range(0, units.n, _CHUNK):
        block = np.arange(start, min(start + _CHUNK, units.n))
        u = np.repeat(block, n_reps)
        r = np.tile(np.arange(n_reps), len(block))
        km = pair_distances(units, office, table, u, r, n_reps).reshape(len(block), n_reps)
        km = np.where(np.isnan(km), np.inf, km)
        # Sort by (distance, rep index) so ties never depend on argpartition's order.
        order = np.lexsort((np.broadcast_to(np.arange(n_reps), km.shape), km), axis=1)[:, :k]
        picked = np.take_along_axis(km, order, axis=1)
        ok = np.isfinite(picked)
        us.append(np.repeat(block, k)[ok.ravel()])
        rs.append(order.ravel()[ok.ravel()])
    return np.concatenate(us), np.concatenate(rs)


def _distance_frame(
    company: Company, name: str, ids: tuple[str, str]
) -> tuple[pd.DataFrame, np.ndarray]:
    """A distance table with its two id columns, and its distances checked to be numbers ≥ 0."""
    frame = read_data_table(company, name)
    source = frame.attrs.get("source", name)
    missing = [c for c in (*ids, "distance") if c not in frame.columns]
    if missing:
        raise DataError([Problem(source, f"missing column `{m}`", field=m) for m in missing])
    km = pd.to_numeric(frame["distance"], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(km) | (km < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        row = i + frame.attrs.get("offset", 2)
        raise DataError(
            [Problem(source, "distance must be a number ≥ 0", row=row, field="distance")]
        )
    return frame, km

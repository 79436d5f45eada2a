"""A small company from a few numbers: for examples, hand-worked cases and tests.

``toy_company(potential=[[...]], last_year=[[...]], ...)`` builds a checked
:class:`~attain.Company` (through :func:`attain.company_from_frames`) with one
row of potential and twelve even months of history per rep × product, and
``toy_rules(total, rule, ...)`` the allocation rules to go with it, so a
planner or a test can state an allocation problem in a few lines.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from attain.data import Company, company_from_frames

__all__ = ["toy_company", "toy_rules"]


def toy_company(
    potential: Sequence[Sequence[float]] | Sequence[float],
    last_year: Sequence[Sequence[float]] | Sequence[float] | None = None,
    regions: Sequence[str] | None = None,
    teams: Sequence[str] | None = None,
    capacity: Sequence[float] | None = None,
    tenure: Sequence[int] | None = None,
    roles: Sequence[str] | None = None,
    products: Sequence[str] | None = None,
    season: Sequence[float] | None = None,
    fiscal_year: int = 2027,
) -> Company:
    """Reps ``R001…``; ``potential``/``last_year`` per rep (× product); history in the year before."""
    pot = np.atleast_2d(np.asarray(potential, dtype=float))
    if pot.shape[0] == 1 and np.ndim(potential) == 1:
        pot = pot.T
    R, P = pot.shape
    ly = pot if last_year is None else np.asarray(last_year, dtype=float).reshape(R, -1)
    products = list(products or [f"p{i + 1}" for i in range(P)])
    ids = [f"R{i + 1:03d}" for i in range(R)]
    regions = list(regions or ["North"] * R)
    teams = list(teams or [f"{r}-1" for r in regions])
    org = pd.DataFrame(
        {
            "rep_id": ids,
            "name": ids,
            "region": regions,
            "team": teams,
            "role": list(roles or ["rep"] * R),
            "tenure_months": list(tenure or [60] * R),
            "capacity": list(capacity or [1e12] * R),
            "target_incentive": [10_000.0] * R,
        }
    )
    potential_frame = pd.DataFrame(
        {"rep_id": np.repeat(ids, P), "product": products * R, "potential": pot.ravel()}
    )
    shares = np.full(12, 1 / 12) if season is None else np.asarray(season, float) / np.sum(season)
    months = [f"{fiscal_year - 1}-{m:02d}" for m in range(1, 13)]
    history = pd.DataFrame(
        {
            "rep_id": np.repeat(ids, P * 12),
            "product": np.tile(np.repeat(products, 12), R),
            "month": months * (R * P),
            "sales": (ly.ravel()[:, None] * shares[None, :]).ravel(),
        }
    )
    rules = {
        "kind": "company",
        "name": "Toy Co",
        "currency": "EUR",
        "fiscal_year": fiscal_year,
        "hierarchy": ["region", "team"],
        "products": products,
        "tables": {"org": "org.csv", "potential": "potential.csv", "history": "history.csv"},
    }
    return company_from_frames(rules, org=org, potential=potential_frame, history=history)


def toy_rules(
    total: float,
    *rules: dict,
    objective: Sequence[str | dict] = ("minimax", "l1"),
    unit: float | None = None,
    **more,
) -> dict:
    """An allocation rule mapping: ``total`` shared by potential, flat months, ``rules``.

    ``unit`` rounds the targets; any other key (``buffer``, ``challenge``…) is passed on.
    """
    out = {
        "kind": "allocation",
        "company_target": {"total": total},
        "fair_share": {"basis": "potential"},
        "seasonality": {"source": "flat"},
        "rules": list(rules),
        "objective": list(objective),
        **more,
    }
    if unit is not None:
        out["rounding"] = {"unit": unit}
    return out

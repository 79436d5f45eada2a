"""Hand-off to allocation: the new territories' potential becomes the fair-share basis.

Each unit carries its potential to its new rep, split over products by its
old owner's product mix (a customer's mix follows the customer, not the rep):
``unit potential[p] = owner's potential[p] × unit potential / owner's unit potential``.
A rep's new potential is its old potential minus what left plus what came,
so totals are kept and reps without units keep theirs.
:func:`realign` returns the company with the accounts re-owned and this
potential in place, ready for allocation: ``allocate(rules, realign(company, a))``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from attain.data import Company

__all__ = ["realign", "territory_potential", "unit_potential"]


def unit_potential(company: Company, unit_ids, owner_ids, value: np.ndarray) -> pd.DataFrame | None:
    """Potential per unit × product (``unit_id, product, potential``), or None without data."""
    if company.potential is None:
        return None
    products = list(company.products)
    table = company.potential.pivot_table(
        index="rep_id", columns="product", values="potential", aggfunc="sum"
    ).reindex(columns=products, fill_value=0.0)
    owners = pd.Index(np.asarray(owner_ids, dtype=object))
    owner_total = pd.Series(value).groupby(owners).transform("sum").to_numpy()
    rows = table.reindex(owners).fillna(0.0).to_numpy()
    share = np.divide(value, owner_total, out=np.zeros(len(value)), where=owner_total > 0)
    per_unit = rows * share[:, None]
    return pd.DataFrame(
        {
            "unit_id": np.repeat(np.asarray(unit_ids, dtype=object), len(products)),
            "product": np.tile(np.array(products, dtype=object), len(unit_ids)),
            "potential": per_unit.ravel(),
        }
    )


def territory_potential(alignment) -> pd.DataFrame:
    """New potential per rep × product (``rep_id, product, potential``) after the alignment."""
    company, per_unit = alignment.company, alignment.unit_potential
    if company is None or per_unit is None:
        raise ValueError("this alignment carries no potential (the company has none)")
    moved = alignment.assignment[alignment.assignment["moved"]]
    flows = per_unit.merge(moved[["unit_id", "rep_id", "previous_rep_id"]], on="unit_id")
    gained = flows.groupby(["rep_id", "product"])["potential"].sum()
    lost = flows.groupby(["previous_rep_id", "product"])["potential"].sum()
    lost.index = lost.index.set_names(["rep_id", "product"])
    old = company.potential.groupby(["rep_id", "product"])["potential"].sum()
    reps = sorted(set(old.index.get_level_values(0)) | set(alignment.assignment["rep_id"]))
    index = pd.MultiIndex.from_product([reps, list(company.products)], names=["rep_id", "product"])
    new = (
        old.reindex(index, fill_value=0.0)
        + gained.reindex(index, fill_value=0.0)
        - lost.reindex(index, fill_value=0.0)
    )
    frame = new.clip(lower=0.0).reset_index(name="potential")
    return frame.sort_values(["rep_id", "product"], kind="stable").reset_index(drop=True)


def realign(company: Company, alignment) -> Company:
    """The company with its accounts re-owned and the new potential, for allocation."""
    accounts = company.accounts
    if accounts is not None:
        new_owner = alignment.assignment.set_index("unit_id")["rep_id"]
        ids = accounts["account_id"].astype(str)
        mapped = ids.map(new_owner)
        accounts = accounts.assign(rep_id=mapped.where(mapped.notna(), accounts["rep_id"]))
    return replace(company, accounts=accounts, potential=territory_potential(alignment))

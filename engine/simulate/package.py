"""A package: several plans paid together, simulated as one :class:`PayoutModel`.

A rep plan plus a product overlay is what the company pays when both apply; the plans do
not interact (as in the exact path, :mod:`attain.incentive.combined`), so a package's
payout per person is the sum of its plans' payouts. It reads sales at the finest
resolution any of its plans needs, by product, and hands each plan the sales it reads:
months summed into its periods, products summed over its pooled mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attain.simulate.evaluator import PayoutModel

__all__ = ["PackageModel", "package_name"]


def package_name(names: tuple[str, ...] | list[str]) -> str:
    """A package's name: its plans' names joined with ``+``."""
    return "+".join(names)


@dataclass(frozen=True)
class PackageModel:
    """Plans paid together. Components are each plan's, prefixed by the plan's name
    (``field_rep_marginal.commission``), so they add up to the package's total;
    participants are anyone any plan pays."""

    name: str
    components: tuple[str, ...]
    n_months: int
    participant: np.ndarray
    members: tuple[PayoutModel, ...]
    pooled: np.ndarray | None = None  # always None: each member pools for itself

    @classmethod
    def of(cls, members: tuple[PayoutModel, ...] | list[PayoutModel]) -> PackageModel:
        members = tuple(members)
        if len(members) < 2:
            raise ValueError("a package needs at least two plans")
        n_months = max(m.n_months for m in members)
        for m in members:
            if n_months % m.n_months:
                raise ValueError(f"plan `{m.name}` reads {m.n_months} periods, not a divisor")
        return cls(
            name=package_name([m.name for m in members]),
            components=tuple(f"{m.name}.{c}" for m in members for c in m.components),
            n_months=n_months,
            participant=np.logical_or.reduce([np.asarray(m.participant, bool) for m in members]),
            members=members,
        )

    def _sales_for(self, member: PayoutModel, sales: np.ndarray) -> np.ndarray:
        """float64 sales[t, R, n_months, K] → what ``member`` reads."""
        if member.n_months != self.n_months:
            t, r, m, k = sales.shape
            sales = sales.reshape(t, r, member.n_months, m // member.n_months, k).sum(axis=3)
        pooled = getattr(member, "pooled", None)
        if pooled is not None:
            sales = sales[..., pooled].sum(axis=-1)
        return sales

    def __call__(self, sales: np.ndarray) -> np.ndarray:
        lines = [np.asarray(m(self._sales_for(m, sales)), np.float64) for m in self.members]
        return np.concatenate(lines, axis=2)

    def total(self, sales: np.ndarray) -> np.ndarray:
        out = np.asarray(self.members[0].total(self._sales_for(self.members[0], sales)), float)
        for m in self.members[1:]:
            out = out + m.total(self._sales_for(m, sales))
        return out

"""What-if variants, applied to the base case's draws (common random numbers).

A variant never draws: it rescales the attainment of the same trials (market growth,
the top performers' uplift) and reshapes the sales profile (a product ramping up
slower), so base and variant differ only by the what-if.
"""

from __future__ import annotations

import numpy as np

from attain.schema.scenario import Variant

__all__ = ["BASE", "top_mask", "variant_attainment", "variant_profile"]

#: The variant without what-ifs.
BASE = Variant.model_construct(
    name="base", description="", market_growth=0.0, top_performers=None, ramps=[]
)


def variant_attainment(variant: Variant, attainment: np.ndarray) -> np.ndarray:
    """The trials' attainment [t, R] under ``variant``: the input itself when the variant
    changes nothing (callers only read it), else a new array."""
    top = variant.top_performers
    if not variant.market_growth and (top is None or top.share <= 0):
        return attainment  # × 1.0 would be a copy of the same numbers
    out = attainment * (1.0 + variant.market_growth)
    if top is not None and top.share > 0 and out.shape[1]:
        # The top share of each trial by realised attainment (ties go to the lower index).
        n_top = max(1, int(round(top.share * out.shape[1])))
        out[top_mask(out, n_top)] *= 1.0 + top.uplift
    return out


def top_mask(values: np.ndarray, n_top: int) -> np.ndarray:
    """bool[t, R]: each row's ``n_top`` largest values, ties to the lower index: the first
    ``n_top`` of a stable argsort of ``-values``, found by a partition (4x faster at
    50,000 reps) where no row has NaN among them (there: the sort)."""
    rows = np.arange(values.shape[0])[:, None]
    neg = -values
    if n_top < values.shape[1]:
        kth = np.argpartition(neg, n_top - 1, axis=1)[:, n_top - 1 : n_top]
        edge = neg[rows, kth]  # [t, 1]: the n_top-th smallest -value of each row
        if not np.isnan(edge).any():
            above = neg < edge
            tied = neg == edge
            room = n_top - above.sum(axis=1, keepdims=True)  # ties taken in index order
            return above | (tied & (np.cumsum(tied, axis=1) <= room))
    mask = np.zeros(values.shape, dtype=bool)
    mask[rows, np.argsort(neg, axis=1, kind="stable")[:, :n_top]] = True
    return mask


def variant_profile(variant: Variant, profile: np.ndarray, products: tuple[str, ...]) -> np.ndarray:
    """The sales profile [R, 12, K] with the variant's product ramps applied."""
    if not variant.ramps:
        return profile
    out = profile.copy()
    month = np.arange(12)
    for ramp in variant.ramps:
        k = products.index(ramp.product)
        level = ramp.start + (1 - ramp.start) * np.minimum(1.0, month / ramp.months)
        out[:, :, k] *= level[None, :]
    return out

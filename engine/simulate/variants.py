"""What-if variants, applied to the base case's draws (common random numbers).

A variant never draws: it rescales the attainment of the same trials (market growth,
the top performers' uplift) and reshapes the sales profile (a product ramping up
slower), so base and variant differ only by the what-if.
"""

from __future__ import annotations

import numpy as np

from attain.schema.scenario import Variant

__all__ = ["BASE", "variant_attainment", "variant_profile"]

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
        order = np.argsort(-out, axis=1, kind="stable")[:, :n_top]
        rows = np.arange(out.shape[0])[:, None]
        out[rows, order] *= 1.0 + top.uplift
    return out


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

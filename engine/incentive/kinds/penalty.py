"""Penalty: minus an amount (or share of TI) when attainment is below a level."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attain.incentive.floats import M, Window
from attain.incentive.kinds.base import (
    CompiledComponent,
    ExactInputs,
    KindBase,
    Part,
    common,
    register,
)
from attain.incentive.rational import MICRO, micro, to_minor
from attain.incentive.text import measured, pct
from attain.schema.plan import Penalty

__all__ = ["CompiledPenalty", "PenaltyKind"]


@dataclass(frozen=True, kw_only=True)
class CompiledPenalty(CompiledComponent):
    type = "penalty"
    below: int  # attainment, millionths
    value: int  # amount (minor units) or share of TI (millionths)
    in_ti: bool


class PenaltyKind(KindBase):
    type = "penalty"
    schema = Penalty

    def compile(self, c: Penalty, products: tuple[str, ...], unit: int) -> CompiledPenalty:
        in_ti = c.amount is None
        return CompiledPenalty(
            **common(c, products, unit),
            below=micro(c.below),
            value=micro(c.share_of_ti) if in_ti else to_minor(c.amount, unit),
            in_ti=in_ti,
        )

    def exact(self, c: CompiledPenalty, x: ExactInputs):
        X, T = np.asarray(x.S).astype(object) * MICRO, np.asarray(x.T).astype(object)
        hit = (T > 0) & (c.below * T > X)
        if c.in_ti:
            num = c.value * x.ti_num
        else:
            num = np.full(np.shape(x.S), c.value * MICRO * x.ti_den, dtype=object)
        return np.where(hit, -num, 0), MICRO * x.ti_den

    def parts(self, c: CompiledPenalty, x: ExactInputs) -> list[Part]:
        num, den = self.exact(c, x)
        hit = np.asarray(num) != 0
        if c.in_ti:
            base, rate = (np.where(hit, x.ti_num, 0), x.ti_den), (-c.value, MICRO)
        else:
            base, rate = None, None
        return [
            Part(
                f"below {pct(c.below)} attainment",
                (num, den),
                base,
                rate,
                "attainment",
                None,
                c.below,
                "attainment",
                "multiple",
            )
        ]

    def vectorised(self, c: CompiledPenalty, w: Window, accel_fail) -> np.ndarray:
        amount = w.ti_w * (c.value / M) if c.in_ti else c.value / w.scale
        return np.where(w.attainment(c.mask) < c.below / M, -amount, 0.0)

    def rule(self, c: CompiledPenalty, unit: int) -> str:
        return f"{c.label}: penalty below {pct(c.below)} attainment"

    def inputs(self, c, info: dict, r: int, w: int, unit: int, earned) -> str:
        return measured(info, r, w, unit, ti=True, thresholds=[c.below])


register(PenaltyKind())

"""The `activities` section of allocation rules: a rep's revenue target decomposed into the
activities that produce it, through a declared funnel of conversion rates.

`funnel: [{name: visits, to: opportunities, rate: 0.3}, {name: opportunities, to: deals,
rate: 0.25}, {name: deals, to: revenue}]` with `average_deal: 25000` asks, for every
25,000 of revenue target, 1 deal, 4 opportunities and 13.3 visits. A funnel of one step
(`[{name: new_a_accounts, to: revenue}]`, `average_deal: 120000`) is a count of new
accounts × an average order. Rates are fractions in (0, 1].
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from attain.schema.base import Identifier, Money, RuleModel, invalid
from attain.schema.expense import PositiveRate
from attain.schema.where import Where, known_product, known_where

__all__ = ["Activities", "ActivitySegment", "FunnelStep"]

#: The last step of every funnel converts into this.
REVENUE = "revenue"


class FunnelStep(RuleModel):
    """One step of the funnel: an activity and what it converts into, at a rate."""

    name: Identifier
    """The activity, as reps log it: `visits`, `opportunities`, `deals`."""
    to: Identifier
    """The next step's name, or `revenue` for the last step."""
    rate: PositiveRate | None = None
    """The share of this activity that becomes one of the next (0.3: 3 in 10 visits open an
    opportunity); the last step (`to: revenue`) has none — it converts at `average_deal`."""


class ActivitySegment(RuleModel):
    """Other conversion rates (or another average deal) for the reps a `where` selects."""

    where: Where
    """The reps of the segment, by org column: `{region: East}`, `{role: senior_rep}`."""
    rates: dict[Identifier, PositiveRate] = Field(default_factory=dict)
    """Conversion rates by step name that replace the funnel's: `{visits: 0.35}`."""
    average_deal: Money | None = None
    """The segment's revenue per unit of the last activity."""

    @field_validator("where")
    @classmethod
    def _where_exists(cls, where: Where) -> Where:
        if not where:
            raise ValueError("select the segment's reps by at least one column")
        return known_where(where) or where


class Activities(RuleModel):
    """Weekly activity targets per rep, from each rep's revenue target and a funnel of
    declared conversion rates. Written as `activity_targets.csv` (rep, ISO week, activity,
    target and the figures it comes from) beside `targets.csv`."""

    funnel: list[FunnelStep] = Field(min_length=1)
    """The steps in order, from the first activity to the one that becomes revenue: each
    step's `to` is the next step's `name`, and the last step's is `revenue`."""
    average_deal: Money
    """Revenue per unit of the last activity: the average deal (or order) size."""
    products: list[str] | None = None
    """The products whose targets the funnel produces (default: all)."""
    segments: list[ActivitySegment] = Field(default_factory=list)
    """Other rates for some reps; the first segment whose `where` matches a rep applies."""

    @field_validator("products")
    @classmethod
    def _products_exist(cls, products: list[str] | None) -> list[str] | None:
        if products is None:
            return None
        if not products:
            raise ValueError("name at least one product, or leave `products` out")
        for i, product in enumerate(products):
            try:
                known_product(product)
            except PydanticCustomError as exc:
                raise PydanticCustomError(
                    "unknown-name", exc.message_template, {"at": (i,)}
                ) from None
            if product in products[:i]:
                raise invalid(f"product `{product}` is listed twice", i)
        return products

    @model_validator(mode="after")
    def _a_chain_to_revenue(self) -> Activities:
        steps = self.funnel
        names = [s.name for s in steps]
        for i, step in enumerate(steps):
            if step.name == REVENUE:
                raise invalid(
                    "`revenue` is what the funnel ends in, not a step", "funnel", i, "name"
                )
            if step.name in names[:i]:
                raise invalid(f"step `{step.name}` is listed twice", "funnel", i, "name")
            last = i == len(steps) - 1
            if last and step.to != REVENUE:
                raise PydanticCustomError(
                    "funnel-not-to-revenue",
                    f"the funnel must end in revenue: its last step `{step.name}` goes to "
                    f"`{step.to}` (write `to: revenue`)",
                    {"at": ("funnel", i, "to")},
                )
            if not last and step.to != steps[i + 1].name:
                what = "ends in revenue too early" if step.to == REVENUE else f"goes to `{step.to}`"
                raise PydanticCustomError(
                    "funnel-broken",
                    f"step `{step.name}` {what}, but the next step is `{steps[i + 1].name}`: each "
                    "step's `to` names the next step",
                    {"at": ("funnel", i, "to")},
                )
            if not last and step.rate is None:
                raise invalid(
                    f"step `{step.name}` needs a `rate`: the share that becomes `{step.to}`",
                    "funnel",
                    i,
                )
            if last and step.rate is not None:
                raise invalid(
                    "the last step converts to revenue at `average_deal`, not at a rate",
                    "funnel",
                    i,
                    "rate",
                )
        rated = set(names[:-1])
        for k, segment in enumerate(self.segments):
            for name in segment.rates:
                if name not in rated:
                    known = ", ".join(f"`{n}`" for n in names[:-1]) or "none"
                    raise PydanticCustomError(
                        "unknown-name",
                        f"no step `{name}` with a rate in the funnel (steps with rates: {known})",
                        {"at": ("segments", k, "rates", name)},
                    )
        return self

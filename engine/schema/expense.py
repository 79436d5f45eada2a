"""The `expenses` section of allocation rules: sales expense budgets (销售费用) allocated
with the targets, each unit's expense rate (budget ÷ target) within a declared maximum.

The company's budget is a rate of the company target or a fixed amount; it is split
down the org levels named in `levels`, each unit's budget among its children by their
targets' shares (or by declared `weights`), every child within its level's `max_rate`
(a child above it is capped and the rest goes to its siblings). Rates are fractions:
0.06 means 6%.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from attain.schema.base import KNOWN_ORG, Money, RuleModel, _percent_text
from attain.schema.where import Level, known_level

__all__ = ["ExpenseBudget", "PositiveRate"]

#: A rate above 0 and at most 1 (an expense rate, a conversion rate): 0.06 is 6%.
PositiveRate = Annotated[float, BeforeValidator(_percent_text), Field(gt=0, le=1)]
#: A declared split weight: any number at least 0 (only the ratios between them count).
Weight = Annotated[float, Field(ge=0, le=1e12)]


def _level_column(level: str) -> str:
    return "rep_id" if level == "rep" else level


def _level_error(level: str, at: tuple[str | int, ...]) -> InitErrorDetails | None:
    try:
        known_level(level)
    except PydanticCustomError as exc:
        return InitErrorDetails(
            type=PydanticCustomError("unknown-name", exc.message_template), loc=at, input=level
        )
    return None


class ExpenseBudget(RuleModel):
    """Sales expense budgets allocated with the targets: the company's budget (a `rate` of
    the company target or a fixed `total`) split down the org, each unit's expense rate
    (budget ÷ its target) at most its level's `max_rate`. Written as
    `expense_budget.csv` (per unit and month, and the year) beside `targets.csv`."""

    rate: PositiveRate | None = None
    """The company's budget as a share of the company target: 0.06 budgets 6% of it."""
    total: Money | None = None
    """A fixed company budget (currency), instead of `rate`."""
    levels: list[Level] | None = None
    """The org levels that get a budget, top-down (default: the hierarchy levels, e.g.
    `[region, team]`; add `rep` for a budget per rep). Each level's budgets add up exactly
    to the company's."""
    weights: dict[Level, dict[str, Weight]] = Field(default_factory=dict)
    """Declared split weights by level and unit, instead of target shares:
    `{region: {East: 4, South: 3, West: 3}}` gives East 40% of the company's budget. Every
    unit of a weighted level needs a weight; a unit's children share its budget in the
    ratio of their weights."""
    max_rate: dict[Level, PositiveRate] = Field(default_factory=dict)
    """The highest expense rate (budget ÷ target) a unit of a level may have:
    `{team: 0.065}`. A unit whose share would pass it is capped at it and its siblings
    share the rest (in proportion to their targets or weights); a parent whose children
    cannot hold its budget within their caps is a conflict (exit 3)."""

    @field_validator("levels")
    @classmethod
    def _levels_known(cls, levels: list[str] | None) -> list[str] | None:
        if levels is None:
            return levels
        if not levels:
            raise ValueError("give at least one level, or leave `levels` out")
        errors = [e for i, lv in enumerate(levels) if (e := _level_error(lv, (i,)))]
        for i, level in enumerate(levels):
            if level == "company":
                errors.append(
                    InitErrorDetails(
                        type=PydanticCustomError(
                            "value_error",
                            "the company always has a budget: list the levels below it",
                        ),
                        loc=(i,),
                        input=level,
                    )
                )
            elif level in levels[:i]:
                errors.append(
                    InitErrorDetails(
                        type=PydanticCustomError("value_error", f"level `{level}` is listed twice"),
                        loc=(i,),
                        input=level,
                    )
                )
        if errors:
            raise ValidationError.from_exception_data("levels", errors)
        org = KNOWN_ORG.get()
        if org is not None:
            order = [org.levels.index(lv) for lv in levels]
            if order != sorted(order):
                raise ValueError(
                    f"list the levels top-down, as the org nests them: "
                    f"{', '.join(lv for lv in org.levels if lv in levels)}"
                )
        return levels

    @field_validator("max_rate")
    @classmethod
    def _rate_levels_known(cls, rates: dict[str, float]) -> dict[str, float]:
        errors = [e for lv in rates if (e := _level_error(lv, (lv,)))]
        if errors:
            raise ValidationError.from_exception_data("max_rate", errors)
        return rates

    @field_validator("weights")
    @classmethod
    def _weights_known(cls, weights: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        errors = [e for lv in weights if (e := _level_error(lv, (lv,)))]
        org = KNOWN_ORG.get()
        for level, units in weights.items():
            if level == "company":
                errors.append(
                    InitErrorDetails(
                        type=PydanticCustomError(
                            "value_error", "the company's budget is `rate` or `total`, not weighted"
                        ),
                        loc=(level,),
                        input=level,
                    )
                )
                continue
            if not units:
                errors.append(
                    InitErrorDetails(
                        type=PydanticCustomError("value_error", "give a weight per unit"),
                        loc=(level,),
                        input=units,
                    )
                )
            if org is None or level not in org.levels:
                continue
            for name in units:
                message = org.value_error(_level_column(level), name)
                if message:
                    errors.append(
                        InitErrorDetails(
                            type=PydanticCustomError("unknown-name", message),
                            loc=(level, name),
                            input=name,
                        )
                    )
        if errors:
            raise ValidationError.from_exception_data("weights", errors)
        return weights

    @model_validator(mode="after")
    def _consistent(self) -> ExpenseBudget:
        if (self.rate is None) == (self.total is None):
            raise ValueError("give the company's expense budget as `rate` or `total`, not both")
        cap = self.max_rate.get("company")
        if self.rate is not None and cap is not None and self.rate > cap:
            raise PydanticCustomError(
                "expense-rate-above-max",
                f"the budget's rate {self.rate:.2%} is above the company's max_rate {cap:.2%}",
                {"at": ("rate",)},
            )
        levels = self.levels
        org = KNOWN_ORG.get()
        if levels is None and org is not None:
            levels = [lv for lv in org.levels if lv not in ("company", "rep")]
        if levels is not None:
            for level in self.weights:
                if level != "company" and level not in levels:
                    raise PydanticCustomError(
                        "value_error",
                        f"level `{level}` is weighted but gets no budget: add it to `levels`",
                        {"at": ("weights", level)},
                    )
        return self

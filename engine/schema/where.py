"""Where a rule applies: org levels and `where` filters on org columns, checked against the
company's names when it is known (:func:`attain.schema.base.known_org`).

Allocation rules and their expense-budget and activity sections share these.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from attain.schema.base import KNOWN_ORG, Identifier, RuleModel

__all__ = ["Level", "Range", "Where", "known_level", "known_product", "known_where", "unknown"]

#: An org level by name: `rep`, a hierarchy level (`team`, `region`) or `company`.
Level = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class Range(RuleModel):
    """A numeric range on a data column, both ends inclusive: `{min: 0, max: 12}`."""

    min: float | None = None
    """Smallest value selected."""
    max: float | None = None
    """Largest value selected."""
    not_in: list[str | int | float] | None = None
    """Values excluded instead: `{not_in: [manager]}`."""

    @model_validator(mode="after")
    def _something(self) -> Range:
        if self.min is None and self.max is None and self.not_in is None:
            raise ValueError("give `min`, `max` or `not_in`")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is above max ({self.max:g})")
        return self


#: Which units a rule applies to, by data column: a value, a list of values, or a range.
Where = dict[Identifier, str | int | float | list[str | int | float] | Range]


def unknown(message: str, *at: str | int) -> PydanticCustomError:
    """A name the company does not have, at ``at`` (see :func:`invalid`)."""
    return PydanticCustomError("unknown-name", message, {"at": at})


def known_where(where: Where | None) -> Where | None:
    """Columns and values of a `where` that the company (when known) does not have: every
    one of them, each at its own key or list item."""
    org = KNOWN_ORG.get()
    if org is None or not where:
        return where
    errors: list[InitErrorDetails] = []
    for column, cond in where.items():
        error = org.column_error(column)
        if error:
            errors.append(_unknown_at(error, (column,), column))
            continue
        if isinstance(cond, Range):
            continue
        for i, value in enumerate(cond if isinstance(cond, list) else [cond]):
            error = org.value_error(column, value)
            if error:
                at = (column, i) if isinstance(cond, list) else (column,)
                errors.append(_unknown_at(error, at, value))
    if errors:
        raise ValidationError.from_exception_data("where", errors)
    return where


def _unknown_at(message: str, at: tuple[str | int, ...], value: object) -> InitErrorDetails:
    """One of several unknown names of a validated value, at ``at`` inside it."""
    return InitErrorDetails(type=PydanticCustomError("unknown-name", message), loc=at, input=value)


def known_level(level: str) -> str:
    org = KNOWN_ORG.get()
    error = org.level_error(level) if org is not None else None
    if error:
        raise unknown(error)
    return level


def known_product(product: str | None) -> str | None:
    org = KNOWN_ORG.get()
    error = org.product_error(product) if org is not None and product is not None else None
    if error:
        raise unknown(error)
    return product

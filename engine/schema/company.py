"""The `company` kind: a data folder's manifest."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from attain.schema.base import (
    SCHEMA_VERSION,
    Fraction,
    Identifier,
    RuleModel,
    invalid,
    register_kind,
)

__all__ = ["CompanyRules", "CompanyTables"]


class CompanyTables(RuleModel):
    """Which file of the data folder holds which table (paths relative to the manifest)."""

    org: str
    """The people: one row per rep or manager (see docs/data.md#org)."""
    accounts: str | None = None
    """Customer accounts with current revenue and growth coefficient."""
    potential: str | None = None
    """Market potential per rep × product; derived from accounts and history when absent."""
    history: str | None = None
    """Past sales per rep × product × month."""
    actuals: str | None = None
    """Deals booked in the plan year, for payouts."""
    measures: str | None = None
    """Non-revenue measures per person and day (`rep_id, date, measure, value, denominator`),
    for KPI components: `attain payout` and `attain track` read it unless given
    `--measures FILE` (see docs/data.md#measures)."""


@register_kind
class CompanyRules(RuleModel):
    """The data folder's manifest (`company.yaml`): what the company is and where its tables are."""

    kind: Literal["company"] = "company"
    """Always `company`."""
    schema_version: Literal[1] = SCHEMA_VERSION
    """Version of the rule language this file is written in."""
    name: str = Field(min_length=1)
    """The company's name, as shown in reports."""
    currency: str = Field(
        pattern=r"^[A-Z]{3}$", json_schema_extra={"examples": ["EUR", "USD", "CNY"]}
    )
    """ISO 4217 code of the currency every amount is in, e.g. `EUR`."""
    minor_unit: int = Field(default=2, ge=0, le=4)
    """Digits after the decimal point of the currency (2 for cents, 0 for JPY)."""
    fiscal_year: int = Field(ge=1900, le=2200)
    """The plan year being allocated and paid, e.g. 2027."""
    fiscal_year_start: int = Field(default=1, ge=1, le=12)
    """Calendar month (1–12) the fiscal year starts in."""
    hierarchy: list[Identifier] = Field(min_length=1)
    """Org levels above the rep, top-down; each is a column of the org table, e.g. `[region, team]`."""
    products: list[str] = Field(min_length=1)
    """The product lines; every product in the tables must be one of these."""
    tables: CompanyTables
    """Which file holds which table."""
    tier_shares: dict[str, Fraction] = Field(
        default_factory=lambda: {"A": 0.70, "B": 0.20, "C": 0.10}
    )
    """Account tiers by cumulative potential value, best first: `{A: 0.70, B: 0.20, C: 0.10}`
    puts the accounts making the top 70% of potential in A, the next 20% in B, the rest in C.
    The shares must add up to 1."""

    _tier_tolerance: ClassVar[float] = 1e-9

    @field_validator("currency", mode="before")
    @classmethod
    def _iso_code(cls, code: object) -> object:
        if isinstance(code, str) and not (len(code) == 3 and code.isalpha() and code.isupper()):
            raise ValueError("must be a 3-letter ISO 4217 code in capitals, such as EUR")
        return code

    @field_validator("hierarchy")
    @classmethod
    def _distinct_levels(cls, levels: list[str]) -> list[str]:
        reserved = {"rep_id", "name", "role", "tenure_months", "capacity", "target_incentive"}
        clash = [lv for lv in levels if lv in reserved]
        if clash:
            raise ValueError(f"`{clash[0]}` is an org column of its own, not a hierarchy level")
        if len(set(levels)) != len(levels):
            raise ValueError("hierarchy levels must be distinct")
        return levels

    @field_validator("products")
    @classmethod
    def _distinct_products(cls, products: list[str]) -> list[str]:
        seen: set[str] = set()
        for i, p in enumerate(products):
            if not p.strip():
                raise invalid("a product name cannot be empty", i)
            if p in seen:
                raise invalid(f"product `{p}` is listed twice", i)
            seen.add(p)
        return products

    @field_validator("tier_shares")
    @classmethod
    def _tiers_add_up(cls, shares: dict[str, float]) -> dict[str, float]:
        if not shares:
            raise ValueError("at least one tier is needed")
        total = sum(shares.values())
        if abs(total - 1) > cls._tier_tolerance:
            raise ValueError(f"tier shares must add up to 1 (they add up to {total:g})")
        return shares

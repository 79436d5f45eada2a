"""The rule language: one pydantic model per rule-file kind, all in this package.

Every model is strict (unknown keys are errors) and documents its fields with
attribute docstrings, which become the descriptions of the exported JSON
Schema (``attain schema``). Rates and shares are fractions: 0.40, not 40.

Each kind registers itself in :data:`KINDS` when its module is imported here;
the loader dispatches on the ``kind:`` key through that registry, so a new kind
is one module and one import line.
"""

from attain.schema.allocation import AllocationRules, Rule
from attain.schema.base import (
    KINDS,
    SCHEMA_VERSION,
    Fraction,
    Identifier,
    PositiveAmount,
    RuleModel,
    json_schema,
    register_kind,
    schema_document,
)
from attain.schema.company import CompanyRules, CompanyTables
from attain.schema.design import Design
from attain.schema.plan import Plan
from attain.schema.scenario import Scenario
from attain.schema.territory import TerritoryRules

__all__ = [
    "KINDS",
    "SCHEMA_VERSION",
    "AllocationRules",
    "CompanyRules",
    "CompanyTables",
    "Design",
    "Fraction",
    "Identifier",
    "Plan",
    "PositiveAmount",
    "Rule",
    "RuleModel",
    "Scenario",
    "TerritoryRules",
    "json_schema",
    "register_kind",
    "schema_document",
]

"""attain: sales target allocation and incentive compensation, declared in rule files.

The public API is :data:`__all__`; everything else is an implementation detail.

``import attain`` is cheap: each public name is imported from its module the first
time it is used (PEP 562), so a command line or a host application that needs only
the errors or the schema does not pay for pandas, numpy or the solvers.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name → the module that defines it.
_EXPORTS: dict[str, str] = {
    "KINDS": "attain.schema",
    "Ledger": "attain.ledger",
    "Alignment": "attain.territory",
    "Allocation": "attain.allocate",
    "AttainError": "attain.errors",
    "Company": "attain.data",
    "CompanyRules": "attain.schema",
    "CompiledPlan": "attain.incentive",
    "DataError": "attain.errors",
    "DesignResult": "attain.design",
    "InfeasibleError": "attain.errors",
    "InputError": "attain.errors",
    "NotFoundError": "attain.errors",
    "Payouts": "attain.incentive",
    "Problem": "attain.errors",
    "Replanned": "attain.allocate.replan",
    "Report": "attain.validate",
    "RuleFileError": "attain.errors",
    "SimulationResult": "attain.simulate",
    "SolverError": "attain.errors",
    "SolverUnavailableError": "attain.errors",
    "Tracking": "attain.track",
    "align": "attain.territory",
    "allocate": "attain.allocate",
    "company_from_frames": "attain.data",
    "compile_plan": "attain.incentive",
    "design": "attain.design",
    "dump_rules": "attain.load",
    "json_schema": "attain.schema",
    "load_company": "attain.data",
    "load_plan": "attain.incentive",
    "load_rules": "attain.load",
    "parse_rules": "attain.load",
    "payouts": "attain.incentive",
    "realign": "attain.territory",
    "simulate": "attain.simulate",
    "track": "attain.track",
    "validate_paths": "attain.validate",
    "write_sample": "attain.sample",
}

__all__ = [
    "Alignment",
    "Allocation",
    "AttainError",
    "Company",
    "CompanyRules",
    "CompiledPlan",
    "DataError",
    "DesignResult",
    "InfeasibleError",
    "InputError",
    "KINDS",
    "Ledger",
    "NotFoundError",
    "Payouts",
    "Problem",
    "Replanned",
    "Report",
    "RuleFileError",
    "SimulationResult",
    "SolverError",
    "SolverUnavailableError",
    "Tracking",
    "__version__",
    "align",
    "allocate",
    "company_from_frames",
    "compile_plan",
    "design",
    "dump_rules",
    "json_schema",
    "load_company",
    "load_plan",
    "load_rules",
    "parse_rules",
    "payouts",
    "realign",
    "simulate",
    "track",
    "validate_paths",
    "write_sample",
]

if TYPE_CHECKING:  # what type checkers and editors see: the eager imports
    from attain.allocate import Allocation, allocate
    from attain.allocate.replan import Replanned
    from attain.data import Company, company_from_frames, load_company
    from attain.design import DesignResult, design
    from attain.errors import (
        AttainError,
        DataError,
        InfeasibleError,
        InputError,
        NotFoundError,
        Problem,
        RuleFileError,
        SolverError,
        SolverUnavailableError,
    )
    from attain.incentive import CompiledPlan, Payouts, compile_plan, load_plan, payouts
    from attain.ledger import Ledger
    from attain.load import dump_rules, load_rules, parse_rules
    from attain.sample import write_sample
    from attain.schema import KINDS, CompanyRules, json_schema
    from attain.simulate import SimulationResult, simulate
    from attain.territory import Alignment, align, realign
    from attain.track import Tracking, track
    from attain.validate import Report, validate_paths


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'attain' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Package(types.ModuleType):
    """Keeps a public function from being shadowed by its subpackage of the same name.

    Importing a submodule binds it on its parent (``attain.allocate`` = the package);
    for ``allocate``, ``design``, ``simulate`` and ``track`` that binding is dropped, so the attribute stays
    the public function (resolved on first use, as every public name is).
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and name in _EXPORTS:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

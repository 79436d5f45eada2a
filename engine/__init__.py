"""attain: sales target allocation and incentive compensation, declared in rule files.

The public API is :data:`__all__`; everything else is an implementation detail.
"""

from attain.allocate import Allocation, allocate
from attain.data import Company, company_from_frames, load_company
from attain.errors import (
    AttainError,
    DataError,
    InfeasibleError,
    InputError,
    Problem,
    RuleFileError,
    SolverError,
    SolverUnavailableError,
)
from attain.incentive import CompiledPlan, Payouts, compile_plan, load_plan, payouts
from attain.load import dump_rules, load_rules, parse_rules
from attain.sample import write_sample
from attain.schema import KINDS, CompanyRules, json_schema
from attain.simulate import SimulationResult, simulate
from attain.territory import Alignment, align, realign
from attain.validate import Report, validate_paths

__version__ = "0.1.0"

__all__ = [
    "KINDS",
    "Alignment",
    "Allocation",
    "AttainError",
    "Company",
    "CompanyRules",
    "CompiledPlan",
    "DataError",
    "InfeasibleError",
    "InputError",
    "Payouts",
    "Problem",
    "Report",
    "RuleFileError",
    "SimulationResult",
    "SolverError",
    "SolverUnavailableError",
    "__version__",
    "align",
    "allocate",
    "company_from_frames",
    "compile_plan",
    "dump_rules",
    "json_schema",
    "load_company",
    "load_plan",
    "load_rules",
    "parse_rules",
    "payouts",
    "realign",
    "simulate",
    "validate_paths",
    "write_sample",
]

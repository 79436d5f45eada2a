"""The scenario simulator: what a plan will cost, who it rewards, and which plan is better.

``simulate(scenario) -> SimulationResult`` runs a scenario file end to end. The stages
live in their own modules: ``setup`` (files → arrays), ``population`` (what each rep's
targets and history say), ``performance`` (attainment and sales draws), ``variants``
(what-ifs on the same draws), ``streams`` (seeded per block), ``runner`` (chunked,
threaded), ``distributed`` (the same chunks on a Dask cluster), ``evaluator`` (the one interface to the incentive engine), ``package`` (plans
paid together), ``metrics``, ``sensitivity`` (the tornado) and ``result``.
"""

from attain.simulate.api import simulate, simulate_models, simulate_to
from attain.simulate.distributed import Cluster
from attain.simulate.evaluator import FunctionModel, PayoutModel, PlanModel, plan_model
from attain.simulate.package import PackageModel
from attain.simulate.population import Population, build_population
from attain.simulate.result import SimulationResult

__all__ = [
    "Cluster",
    "FunctionModel",
    "PackageModel",
    "PayoutModel",
    "PlanModel",
    "Population",
    "SimulationResult",
    "build_population",
    "plan_model",
    "simulate",
    "simulate_models",
    "simulate_to",
]

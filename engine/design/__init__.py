"""Design a plan: solve for its parameters under constraints on the simulated outcome.

``design(file) -> DesignResult`` reads a ``kind: design`` file, searches the parameter box
on one set of seeded simulated years (``search``: bracketing for one parameter,
differential evolution for several; ``evaluate``: every candidate of a batch paid on the
same draws), then re-simulates the chosen plan on independent years and reports each
constraint out of sample with a confidence interval (``result``, ``page``).
"""

from attain.design.api import design, load_design
from attain.design.result import DesignResult

__all__ = ["DesignResult", "design", "load_design"]

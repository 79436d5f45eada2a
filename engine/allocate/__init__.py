"""Target allocation: rules + company data → optimal, fair, explained targets.

``allocate(rules, data) -> Allocation`` is the entry point. The stages live in
their own modules: ``inputs`` (data → arrays), ``build`` (rules → rows),
``solve`` (lexicographic solves), ``split`` (each rep's months),
``rounding``, ``explain``, ``diagnose`` (conflicting rules), ``monolithic``
(every cell in one model) and ``result``.
"""

from attain.allocate.core import allocate
from attain.allocate.result import TIMING_KEYS, Allocation

__all__ = ["TIMING_KEYS", "Allocation", "allocate"]

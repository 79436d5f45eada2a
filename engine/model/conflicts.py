"""Which rules conflict: a deletion filter over whole rules, repeated until every
independent conflict is found, and an elastic relaxation that shows the numbers.

**Deletion filter.** Start from the rules still in play; drop each in turn and keep it
dropped when the rest is still infeasible. What remains is an irreducible infeasible
subset (IIS) of rules: they conflict, and without any one of them they do not.

**Every independent conflict.** The rules of a found conflict leave the search (its
``shared`` rules — a company target that every conflict may involve — stay in) and the
search runs again on the rest, until what remains is feasible. Two conflicts that have
nothing but a shared rule in common are both reported.

**Elastic relaxation.** :func:`relax` lets every row of a conflict's rules bend at a cost
(its slack) and minimises the total bend: the rows that bend, and by how much, are the
units and the numbers that conflict.

Feasibility is a status, never an exception; a test that stops on a time limit without
an answer counts as feasible (the rule is kept: the conflict found is never smaller than
the truth).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from attain.model.blocks import Assembled, Model
from attain.solvers import SolveOptions, SolverResult, Status, solve

__all__ = ["Relaxation", "deletion_filter", "feasibility", "find_conflicts", "relax"]

Feasible = Callable[[frozenset[str]], bool]


def deletion_filter(rules: Sequence[str], is_feasible: Feasible) -> list[str]:
    """An irreducible infeasible subset of ``rules`` (which together must be infeasible)."""
    core = list(rules)
    for rule in list(rules):
        trial = [r for r in core if r != rule]
        if not is_feasible(frozenset(trial)):
            core = trial
    return core


def find_conflicts(
    rules: Sequence[str], is_feasible: Feasible, shared: Iterable[str] = ()
) -> list[list[str]]:
    """Every independent conflict among ``rules`` (module docstring), in the order found.

    An empty first conflict means the rules that are always kept conflict on their own.
    """
    shared = set(shared)
    remaining = list(rules)
    found: list[list[str]] = []
    while not is_feasible(frozenset(remaining)):
        core = deletion_filter(remaining, is_feasible)
        found.append(core)
        own = [r for r in core if r not in shared] or core
        if not own:
            break
        remaining = [r for r in remaining if r not in own]
    return found


def feasibility(
    model: Model, solver: str, options: SolveOptions, prepare=None
) -> Callable[[frozenset[str]], bool]:
    """``is_feasible(kept rule names)`` for ``model``: the other hard rules and the objective
    rows are dropped, soft rules stay elastic, structure stays. ``prepare`` may adjust the
    assembled problem (an engine's own integrality) before it is solved."""

    def is_feasible(kept: frozenset[str]) -> bool:
        drop = {
            i
            for i, b in enumerate(model.blocks)
            if b.role == "objective" or (b.is_hard_rule and b.name not in kept)
        }
        problem = model.assemble(drop=drop).problem
        if prepare is not None:
            problem = prepare(problem)
        status = solve(problem, solver, options).status
        return status not in (Status.INFEASIBLE, Status.INFEASIBLE_OR_UNBOUNDED)

    return is_feasible


@dataclass
class Relaxation:
    """The least bend of a set of rules that makes them (and the structure) feasible."""

    assembled: Assembled
    result: SolverResult
    bent: np.ndarray | None
    """Per solver row, the bend (model row units); None when the relaxation has no answer."""
    activity: np.ndarray | None
    """Per solver row, the activity of the model's columns (model row units)."""


def relax(model: Model, rules: Iterable[str], solver: str, options: SolveOptions) -> Relaxation:
    """Minimise the total bend of ``rules`` (every other hard rule and the objective rows
    dropped, soft rules elastic at no cost): the closest compromise."""
    rules = set(rules)
    chosen = model.blocks_named(rules)
    drop = {
        i
        for i, b in enumerate(model.blocks)
        if b.role == "objective" or (b.is_hard_rule and i not in chosen)
    }
    soft = {i for i, b in enumerate(model.blocks) if b.soft}
    a = model.assemble(elastic=chosen | soft, drop=drop)
    c = np.isin(a.slack_block, sorted(chosen)).astype(np.float64)
    from attain.model.levels import with_holds

    result = solve(with_holds(a.problem, c, ()), solver, options)
    if not result.status.has_solution:
        return Relaxation(a, result, None, None)
    return Relaxation(a, result, a.bent(result.x), a.activity(result.x))

"""Connected territories proven within the rules' gap: MIP solves watched, cut and cut off.

Each solve is of the model with the contiguity cuts found so far: a relaxation of the true
problem (every connected assignment is in it), so its bound is a bound on the true optimum.
While it runs, every improving solution it finds is checked: a connected one is an
incumbent of the true problem; a split one is kept (its cuts are added after the
solve). Then:

* the search stops as soon as its bound reaches the best connected incumbent C minus the
  rules' gap (proven), or it finds a split solution below that mark (this relaxation
  cannot prove C: its cuts are needed first);
* the next solve starts with the cuts of every split solution seen, and the cutoff
  C − gap · |C|: only solutions below it are sought, so one that ends without one has proven
  C within the gap.

The gap reported is C against the best bound proven, both on the true problem.

C comes from :func:`repair` when the first rough answer is split: the reps whose territory
falls into pieces, and every unit next to one of theirs, are freed, the rest fixed, and that
small MIP is solved with the cuts so far (each split answer's cuts added and solved again)
until its answer is connected. On 20 × 10 × 8 it turns the split 3,843.98 into the optimum
3,845.94 in one sub-MIP of 64 units, where two more rough solves of the whole grid found it.
"""

from __future__ import annotations

import time

import numpy as np

from attain.errors import SolverError
from attain.model import with_holds
from attain.solvers import SolveOptions, Status, solve
from attain.territory.floor import floor_cuts
from attain.territory.heuristic import fixed_around
from attain.territory.model import components

__all__ = ["repair", "solve_connected"]

#: Rounds of cuts before giving up (each round is one solve).
MAX_ROUNDS = 100
#: Most sub-MIPs of a repair (each after the cuts of the last one's split answer).
REPAIR_ROUNDS = 3


def is_connected(model, x: np.ndarray) -> bool:
    """Whether every territory of the 0/1 point ``x`` is connected (units without
    neighbours aside)."""
    return not len(split_reps(model, x))


def _pieces(model, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per unit of the 0/1 point ``x``: its rep (−1: none) and its component's label."""
    starts, nbr = model.adjacency
    pairs = model.pairs
    chosen = np.flatnonzero(x[: pairs.n] > 0.5)
    owner = np.full(model.units.n, -1, dtype=np.int64)
    owner[pairs.unit[chosen]] = pairs.rep[chosen]
    return owner, components(starts, nbr, owner)


def split_reps(model, x: np.ndarray) -> np.ndarray:
    """The reps whose territory in the 0/1 point ``x`` falls into more than one piece
    (units without neighbours aside)."""
    owner, label = _pieces(model, x)
    linked = np.diff(model.adjacency[0]) > 0
    pieces = np.unique(np.c_[owner[linked], label[linked]], axis=0)
    reps, count = np.unique(pieces[:, 0], return_counts=True)
    return reps[count > 1]


def repair(model, c, offset, holds, solver, x, time_limit):
    """A connected assignment near the split 0/1 point ``x`` (every row but the contiguity
    cuts kept, on the true numbers), or None: the units of each split rep and their neighbours are freed,
    every other column fixed at ``x``, and that MIP solved at the rules' gap; a split
    answer adds its cuts and the MIP is solved again, at most ``REPAIR_ROUNDS`` times.
    Returns ``(full, seconds)``, ``full`` over every column (None: no connected answer in
    the neighbourhood, or none within ``time_limit``)."""
    began = time.perf_counter()
    starts, nbr = model.adjacency
    pairs = model.pairs
    owner, _ = _pieces(model, x)
    free = np.isin(owner, split_reps(model, x))
    free[nbr[np.repeat(free, np.diff(starts))]] = True  # and every unit next to them
    for _ in range(REPAIR_ROUNDS):
        left = None if time_limit is None else time_limit - (time.perf_counter() - began)
        if left is not None and left <= 0:
            break
        problem = with_holds(model.assemble().problem, c, holds, offset)
        cols = np.r_[np.flatnonzero(free[pairs.unit]), np.arange(pairs.n, problem.n_cols)]
        sub, sub_cols = fixed_around(problem, cols, x)
        options = SolveOptions(time_limit=left, mip_gap=model.mip_gap, verbose=model.verbose)
        result = solve(sub, solver, options)
        if not result.status.has_solution or result.x is None:
            break
        trial = x.copy()
        trial[sub_cols] = result.x
        integer = np.asarray(problem.integrality).astype(bool)
        trial[integer] = np.round(trial[integer])
        if model.violations(trial[: model.n_cols]):
            break  # the solver's tolerances let a rule go: the rough rounds go on
        if is_connected(model, trial):
            return trial, time.perf_counter() - began
        if not model.contiguity_cuts(trial) + floor_cuts(model, trial):
            break
    return None, time.perf_counter() - began


class _Best:
    """The best connected incumbent of the true problem so far."""

    def __init__(self, gap: float) -> None:
        self.x: np.ndarray | None = None
        self.objective = np.inf
        self.gap = gap

    def offer(self, x: np.ndarray, objective: float) -> None:
        if objective < self.objective:
            self.x, self.objective = x.copy(), float(objective)

    @property
    def mark(self) -> float:
        """The bound that proves the incumbent within the gap (−inf: none yet)."""
        if self.x is None:
            return -np.inf
        return self.objective - self.gap * abs(self.objective)


def solve_connected(model, c, offset, holds, solver, time_limit, incumbent, recheck):
    """Connected territories within ``model.mip_gap`` (module docstring), from
    ``incumbent``, a connected assignment over every column (a rough solve's).

    Returns ``(result, full, problem, seconds)``: the solver result of the last solve (its
    status and gap those of the incumbent on the true problem), the incumbent over every
    column, the problem last solved and the seconds taken. ``recheck(full)`` checks an
    incumbent on the true numbers.
    """
    began = time.perf_counter()
    best, seen = _Best(model.mip_gap), []
    result, proven_bound = None, -np.inf
    for _ in range(MAX_ROUNDS):
        a = model.assemble()
        problem = with_holds(a.problem, c, holds, offset)
        if best.x is None:  # cuts add rows only: the objective is every round's
            best.offer(incumbent, problem.objective(incumbent))
        integer = np.asarray(problem.integrality).astype(bool)

        def on_solution(x, objective, bound, problem=problem, integer=integer):
            x[integer] = np.round(x[integer])
            if is_connected(model, x):
                best.offer(x, problem.objective(x))
                return False
            seen.append(x)
            return True  # below the cutoff: this relaxation cannot prove C, its cuts can

        cutoff = best.mark
        left = None if time_limit is None else max(time_limit - (time.perf_counter() - began), 1.0)
        options = SolveOptions(
            time_limit=left,
            mip_gap=model.mip_gap,
            verbose=model.verbose,
            cutoff=cutoff,
            heuristics=False,  # the work is the bound: a better assignment is found anyway
            on_solution=on_solution,
            stop_bound=lambda: best.mark,
        )
        result = solve(problem, solver, options)
        bound = result.extra.get("bound", -np.inf)
        if result.extra.get("cutoff_proven"):
            bound = cutoff
        elif result.status.has_solution and result.x is not None:
            full = result.x.copy()
            full[integer] = np.round(full[integer])
            if is_connected(model, full):
                best.offer(full, problem.objective(full))
            else:
                seen.append(full)
        proven_bound = max(proven_bound, bound)  # every round's model holds the true one
        if proven_bound >= best.mark - 1e-12 * max(1.0, abs(best.objective)):
            break
        unique = {x.tobytes(): x for x in seen}.values()
        added = sum(model.contiguity_cuts(x) + floor_cuts(model, x) for x in unique)
        seen.clear()
        out_of_time = time_limit is not None and time.perf_counter() - began >= time_limit
        if not added or out_of_time:
            break
    else:
        raise SolverError(
            f"contiguity: no proof after {MAX_ROUNDS} rounds of cuts ({model.n_cuts} cuts); "
            "loosen the other rules or drop `contiguity`"
        )
    recheck(best.x)
    proven = max(best.objective - proven_bound, 0.0) / max(abs(best.objective), 1e-9)
    status = Status.OPTIMAL if proven <= model.mip_gap + 1e-12 else Status.FEASIBLE
    seconds = time.perf_counter() - began
    out = type(result)(status, result.solver, best.x, best.objective, mip_gap=proven)
    return out, best.x, problem, seconds

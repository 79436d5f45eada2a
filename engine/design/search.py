"""The search over the parameter box: every candidate simulated once, on the same draws.

``bracket`` (one parameter) evaluates a grid across the box, then a finer grid between the
best point's neighbours, round after round, until the grid is as fine as the parameter's
step: it needs no monotonicity, and where the figures are monotone (cost rises with a
rate) it closes on the constraint's boundary as bisection would, a whole grid per run.
``evolution`` (several parameters) is scipy's differential evolution, seeded, each
generation paid in one batch; a candidate that breaks a constraint ranks below every one
that meets them all, and among those by how far it breaks them (Deb's rule as a penalty).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from attain.design.evaluate import Figures, Simulator, interval, statistic_value, violation
from attain.design.parameters import Entry, snap
from attain.schema.design import Design

__all__ = ["Evaluations", "Point", "bracket", "evolution"]

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Point:
    """One simulated candidate."""

    values: tuple[float, ...]
    plan: Entry | None  # a plan, or a package of plans
    rejected: str  # why the plan's rules reject it ('' when they don't)
    objective: float
    constraints: tuple[float, ...]  # the estimates
    checked: tuple[float, ...]  # what was held to the limits: the estimates, or the
    # unfavourable ends of their intervals (a conservative design)
    violations: tuple[float, ...]
    cost_of_sales: float  # mean over trials
    total_payout: float  # mean over trials

    @property
    def violation(self) -> float:
        return math.inf if self.plan is None else float(sum(self.violations))

    @property
    def feasible(self) -> bool:
        return self.plan is not None and self.violation == 0


class Evaluations:
    """Every candidate simulated so far, in order, each once."""

    def __init__(self, simulator: Simulator, design: Design, progress: Progress | None = None):
        self.simulator = simulator
        self.design = design
        self.progress = progress
        self.points: dict[tuple[float, ...], Point] = {}

    @property
    def budget(self) -> int:
        return self.design.search.max_evaluations

    def evaluate(self, rows: np.ndarray) -> list[Point]:
        """The points of ``rows`` (one candidate per row, snapped to the box)."""
        rows = np.column_stack([snap(p, rows[:, j]) for j, p in enumerate(self.design.parameters)])
        keys = [tuple(float(v) for v in row) for row in rows]
        new = list(dict.fromkeys(k for k in keys if k not in self.points))
        if new:
            plans = self.simulator.plans(np.asarray(new))
            valid = [p for p in plans if not isinstance(p, str)]
            figures = iter(self.simulator.figures(valid)) if valid else iter(())
            for key, plan in zip(new, plans, strict=True):
                if not isinstance(plan, str):
                    self.points[key] = self._point(key, plan, next(figures))
                else:
                    self.points[key] = _rejected(key, plan, len(self.design.constraints))
            if self.progress is not None:
                self.progress(min(len(self.points), self.budget), self.budget)
        return [self.points[k] for k in keys]

    def evaluate_plan(self, values: Sequence[float], plan: Entry) -> Point:
        """The point of ``plan`` itself, at ``values`` as they are (not snapped to the box,
        not kept among the candidates): the current plan when it lies outside the box."""
        (figures,) = self.simulator.figures([plan])
        return self._point(tuple(float(v) for v in values), plan, figures)

    def _point(self, key: tuple[float, ...], plan: Entry, figures: Figures) -> Point:
        d = self.design
        values = tuple(statistic_value(figures, c) for c in d.constraints)
        checked = values
        if d.conservative:
            checked = tuple(
                _unfavourable(v, interval(figures, c, d.validation.confidence), c)
                for v, c in zip(values, d.constraints, strict=True)
            )
        return Point(
            values=key,
            plan=plan,
            rejected="",
            objective=statistic_value(figures, d.objective.as_statistic()),
            constraints=values,
            checked=checked,
            violations=tuple(violation(v, c) for v, c in zip(checked, d.constraints, strict=True)),
            cost_of_sales=float(figures.cost_of_sales.mean()),
            total_payout=float(figures.payout.mean()),
        )

    def rank(self, point: Point) -> tuple:
        """Sort key, best first: feasible by objective, then by violation; ties by values."""
        sense = self.design.objective.sense
        if point.feasible:
            goal = -sense * point.objective if math.isfinite(point.objective) else math.inf
            return (0, goal, point.values)
        return (1, point.violation, point.values)

    def best(self) -> Point | None:
        return min(self.points.values(), key=self.rank, default=None)


def _unfavourable(value: float, bounds: tuple[float, float], c) -> float:
    """The end of a constraint's interval that is harder to meet (the estimate where the
    sample gives no interval); with both limits, the end nearer to breaking one."""
    low, high = bounds
    if not (math.isfinite(low) and math.isfinite(high)):
        return value
    if c.min is None:
        return high
    if c.max is None:
        return low
    return high if violation(high, c) >= violation(low, c) else low


def _rejected(key: tuple[float, ...], reason: str, n_constraints: int) -> Point:
    nan, none = (math.nan,) * n_constraints, (math.inf,) * n_constraints
    return Point(key, None, reason, math.nan, nan, nan, none, math.nan, math.nan)


def bracket(ev: Evaluations, current: Sequence[float]) -> None:
    """One parameter: grids refined round by round around the best point."""
    (p,) = ev.design.parameters
    grid_n = ev.design.search.grid
    tol = p.step if p.step is not None else (p.max - p.min) * 1e-4
    grid = np.append(np.linspace(p.min, p.max, grid_n), current)
    while True:
        ev.evaluate(grid[:, None])
        best = ev.best()
        if best is None or len(ev.points) >= ev.budget:
            return
        xs = sorted(k[0] for k in ev.points)
        i = xs.index(best.values[0])
        lo, hi = xs[max(i - 1, 0)], xs[min(i + 1, len(xs) - 1)]
        if hi - lo <= tol * (1 + 1e-9):
            return
        room = ev.budget - len(ev.points)
        grid = snap(p, np.linspace(lo, hi, min(grid_n, room + 2)))
        grid = np.asarray([x for x in grid if (float(x),) not in ev.points])
        if grid.size == 0:
            return


def evolution(ev: Evaluations, current: Sequence[float], seed: int) -> None:
    """Several parameters: seeded differential evolution, a generation per batch."""
    from scipy.optimize import differential_evolution

    params = ev.design.parameters
    n = len(params)
    popsize = 10  # scipy's multiplier: 10 × n candidates per generation
    maxiter = max(1, ev.budget // (popsize * n) - 1)
    first = ev.evaluate(np.asarray([current], dtype=float))[0]
    scale = abs(first.objective) if first.feasible and first.objective else 1.0

    def score(x: np.ndarray) -> np.ndarray:
        points = ev.evaluate(np.atleast_2d(x.T))
        out = []
        for point in points:
            if point.feasible and math.isfinite(point.objective):
                out.append(-ev.design.objective.sense * point.objective / scale)
            else:  # below every feasible point (|objective / scale| is far below 1e6)
                out.append(1e6 + min(point.violation, 1e6))
        return np.asarray(out)

    inside = all(p.min <= v <= p.max for p, v in zip(params, current, strict=True))
    differential_evolution(
        score,
        [(p.min, p.max) for p in params],
        seed=np.random.default_rng(seed),  # a Generator: any 63-bit seed
        popsize=popsize,
        maxiter=maxiter,
        tol=0.0,
        atol=0.0,
        polish=False,
        init="latinhypercube",
        updating="deferred",
        vectorized=True,
        x0=np.asarray(current, dtype=float) if inside else None,
    )

"""The `territory` kind: re-cut territories (accounts or geographic units → reps).

Hard rules (balance bands, capacity, coverage, locks, allowed reps, maximum
distance, contiguity, a disruption limit) restrict the assignment; the
objective trades travel against disruption, as a weighted sum, a
lexicographic order, or an ε-constraint sweep over the efficient front.
Distances are kilometres; shares are fractions (0.8 means 80%).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from attain.schema.base import SCHEMA_VERSION, Fraction, Identifier, RuleModel, register_kind

__all__ = [
    "BalanceRule",
    "Candidates",
    "CapacityLimits",
    "CoverageRule",
    "Disruption",
    "Objective",
    "Sweep",
    "TerritoryRules",
    "UnitRule",
    "Units",
]

#: What a territory objective can minimise or limit.
Goal = Literal["distance", "disruption"]
_DISTANCE: Goal = "distance"
_DISRUPTION: Goal = "disruption"

#: Built-in measures of a unit; any other numeric column of the units table works too.
MEASURES = ("units", "workload", "potential", "revenue")
GOALS = ("distance", "disruption")
#: Seconds per solve unless the rule file or `--time-limit` says otherwise.
DEFAULT_TIME_LIMIT = 60.0


class Units(RuleModel):
    """Where the units come from: the company's accounts, or a table of geographic units."""

    file: str | None = None
    """A CSV/Parquet/Excel table of units, relative to the data folder, with `unit_id`,
    `rep_id` (the current owner) and numeric measure columns (`workload`, `potential`,
    `revenue`, optional `tier`, `latitude`, `longitude`). The company's accounts without it."""
    adjacency: str | None = None
    """A table of `unit_id, neighbour_id` pairs (either order), for `contiguity`."""
    distances: str | None = None
    """A table of `unit_id, rep_id, distance` (km) replacing straight-line distances; a pair
    missing from it is not a candidate."""
    unit_distances: str | None = None
    """A unit × unit table of `unit_id, other_id, distance` (km, either order). Travel is then
    measured from each unit to its rep's home unit (the medoid of the rep's current units), a
    compactness measure; a unit without a distance to a rep's home is no candidate for it."""

    @model_validator(mode="after")
    def _one_table(self) -> Units:
        if self.distances is not None and self.unit_distances is not None:
            raise ValueError("give `distances` (unit × rep) or `unit_distances`, not both")
        return self


class Candidates(RuleModel):
    """Which reps a unit may go to, to keep the model small (its current owner is always one)."""

    nearest: int | None = Field(default=8, ge=1)
    """The k reps whose offices are nearest to the unit (needs coordinates or `distances`);
    `null` for every rep."""
    same: Identifier | None = None
    """Only reps with the same value of this org column as the unit's current owner, e.g.
    `region`."""


class BalanceRule(RuleModel):
    """Each rep's total of a measure within a band: `{measure: workload, min: 0.8, max: 1.2}`."""

    name: Identifier | None = None
    """The rule's name in results and conflicts; defaults to `balance_<measure>`."""
    measure: Identifier = "workload"
    """`units` (a count), `workload`, `potential`, `revenue`, or a numeric column of the units
    table."""
    tier: list[str] | None = None
    """Count only units of these tiers, e.g. `[A]` with `measure: units` balances A accounts."""
    min: float | None = Field(default=None, ge=0)
    """Smallest total per rep."""
    max: float | None = Field(default=None, ge=0)
    """Largest total per rep."""
    relative: bool = True
    """`true`: min and max are multiples of the mean over the reps (0.8 = 80% of the mean);
    `false`: they are absolute totals."""
    soft: bool = False
    """A soft band may be bent when the hard rules leave no other way; `summary.json`
    (`bent_soft_rules`) and `reps.csv` say by how much."""
    priority: int | None = Field(default=None, ge=1, le=99)
    """For soft bands: 1 is kept first (the default). Soft bands are bent as little as possible
    in priority order, lexicographically, before travel and disruption are optimised."""
    penalty: float | None = Field(default=None, gt=0)
    """For soft bands instead of a priority: cost of bending the band by 100% of the mean rep
    total (summed over reps), in the units of the objective (km, or the first goal of a
    lexicographic order)."""

    @model_validator(mode="after")
    def _band(self) -> BalanceRule:
        if not self.soft and (self.priority is not None or self.penalty is not None):
            raise ValueError("`priority` and `penalty` apply to soft rules: add `soft: true`")
        if self.priority is not None and self.penalty is not None:
            raise ValueError("give a soft rule a `priority` or a `penalty`, not both")
        if self.min is None and self.max is None:
            raise ValueError("give `min`, `max` or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is above max ({self.max:g})")
        if self.relative and self.min is not None and self.min > 1:
            raise ValueError(
                f"a relative min above 1 ({self.min:g}) asks every rep to be above the mean"
            )
        if self.relative and self.max is not None and self.max < 1:
            raise ValueError(
                f"a relative max below 1 ({self.max:g}) asks every rep to be below the mean"
            )
        return self

    @property
    def label(self) -> str:
        return self.name or f"balance_{self.measure}"


class CapacityLimits(RuleModel):
    """The most a rep can take on."""

    max_units: int | None = Field(default=None, ge=1)
    """Largest number of units (accounts) per rep."""
    max_workload: float | None = Field(default=None, gt=0)
    """Largest total workload per rep."""


class CoverageRule(RuleModel):
    """Units of some tiers go only to experienced reps: `{tier: [A], min_tenure_months: 12}`."""

    name: Identifier | None = None
    """The rule's name in results and conflicts; defaults to `coverage_<position>`."""
    tier: list[str] = Field(min_length=1)
    """The tiers covered, e.g. `[A]`."""
    min_tenure_months: int = Field(ge=0)
    """Smallest tenure (org table `tenure_months`) of a rep who may own them."""


class UnitRule(RuleModel):
    """Units that may only go to some reps: `{units: [A0000001], reps: [R00002, R00003]}`."""

    units: list[str] = Field(min_length=1)
    """The unit ids."""
    reps: list[str] = Field(min_length=1)
    """The rep ids they may go to."""


class Disruption(RuleModel):
    """How broken relationships are counted, and optionally limited."""

    measure: Identifier = "units"
    """What a moved unit weighs: `units` (each counts 1), `revenue`, `workload`, `potential`,
    or a numeric column of the units table."""
    max: float | None = Field(default=None, ge=0)
    """Largest total weight of moved units (a hard limit)."""
    max_share: Fraction | None = None
    """Largest weight of moved units as a share of the total (0.1 = 10%)."""


class Sweep(RuleModel):
    """The efficient front of two goals: minimise `minimise` while `limit` ≤ ε.

    `mode: step` (the default) walks the whole front: the first point is the least
    `minimise`; each next point has ε = the last point's `limit` value minus `step`, until
    `limit` reaches its own optimum, ε leaves `range`, or `points` points are found (the
    front is then reported as cut short). `mode: grid` solves `points` values of ε evenly
    spaced between the two ends (points closer than the grid's spacing can be missed).
    """

    minimise: Literal["distance", "disruption"] = "distance"
    """The goal optimised at each point."""
    limit: Literal["distance", "disruption"] = "disruption"
    """The goal bounded by ε."""
    mode: Literal["step", "grid"] = "step"
    """`step`: walk every efficient point; `grid`: evenly spaced ε values."""
    points: int | None = Field(default=None, ge=2, le=1000)
    """`step`: the most points to find (default 50; the summary says when the front was
    cut short); `grid`: the number of ε values (default 5)."""
    step: float | None = Field(default=None, gt=0)
    """`step` mode: how far below the last point's `limit` value the next ε lies, in the
    goal's units (km or the disruption measure). Default: a millionth of the front's
    width, so every efficient point is found; with `disruption` counted in units, 1 finds
    every point too, with fewer solves."""
    range: tuple[float, float] | None = None
    """`[low, high]`: only ε in this range of the `limit` goal (both modes)."""

    @model_validator(mode="after")
    def _two_goals(self) -> Sweep:
        if self.minimise == self.limit:
            raise ValueError("`minimise` and `limit` must be different goals")
        if self.range is not None and self.range[0] > self.range[1]:
            raise ValueError("`range` must be [low, high] with low <= high")
        if self.step is not None and self.mode == "grid":
            raise ValueError("`step` is for `mode: step`; a grid takes `points`")
        return self

    @property
    def max_points(self) -> int:
        return self.points if self.points is not None else (5 if self.mode == "grid" else 50)


class Objective(RuleModel):
    """What the best assignment minimises."""

    mode: Literal["weighted", "lexicographic"] = "weighted"
    """`weighted`: the sum of `weights` × goals; `lexicographic`: the goals of `order` one
    after the other, each kept at its optimum."""
    weights: dict[Goal, float] = Field(default_factory=lambda: {_DISTANCE: 1.0})
    """For `weighted`: weight per goal (`distance` in km, `disruption` in the disruption
    measure)."""
    order: list[Goal] = Field(default_factory=lambda: [_DISTANCE, _DISRUPTION])
    """For `lexicographic`: the goals, most important first."""

    @field_validator("weights")
    @classmethod
    def _weights(cls, weights: dict[str, float]) -> dict[str, float]:
        if not weights:
            raise ValueError("give at least one goal a weight")
        if any(w < 0 for w in weights.values()):
            raise ValueError("weights must be at least 0")
        if not any(w > 0 for w in weights.values()):
            raise ValueError("at least one weight must be above 0")
        return weights

    @field_validator("order")
    @classmethod
    def _order(cls, order: list[str]) -> list[str]:
        if not order or len(set(order)) != len(order):
            raise ValueError("list each goal at most once, at least one")
        return order


@register_kind
class TerritoryRules(RuleModel):
    """A territory alignment: which units go to which reps, under hard rules and goals."""

    kind: Literal["territory"] = "territory"
    """Always `territory`."""
    schema_version: Literal[1] = SCHEMA_VERSION
    """Version of the rule language this file is written in."""
    name: str | None = None
    """A title for the results."""
    units: Units = Field(default_factory=Units)
    """The units and their optional distance and adjacency tables."""
    scope: dict[Identifier, str | list[str]] | None = None
    """Re-cut only part of the company, by org column: `{region: East}` takes the units whose
    current owner matches and the reps who match. The whole company without it."""
    reps: dict[Identifier, str | list[str]] | None = None
    """Who may own units, by org column: `{role: [rep, senior_rep]}`. Everyone except
    managers without it."""
    candidates: Candidates = Field(default_factory=Candidates)
    """Which reps each unit may go to."""
    offices: Literal["auto", "centroid", "org"] = "auto"
    """Rep offices: `org` (the org table's `office_latitude`/`office_longitude`), `centroid`
    (the centre of the rep's current units), or `auto` (org columns when present)."""
    balance: list[BalanceRule] = Field(default_factory=list)
    """Bands on each rep's totals."""
    capacity: CapacityLimits = Field(default_factory=CapacityLimits)
    """Limits per rep."""
    coverage: list[CoverageRule] = Field(default_factory=list)
    """Tiers that need experienced reps."""
    max_distance: float | None = Field(default=None, gt=0)
    """Largest distance (km) from a unit to its rep's office."""
    contiguity: bool = False
    """Each rep's units form one connected territory in the adjacency graph (units without any
    neighbour in the table are exempt); needs `units.adjacency`."""
    locked: list[str] = Field(default_factory=list)
    """Unit ids that keep their current rep."""
    allowed: list[UnitRule] = Field(default_factory=list)
    """Units that may only go to some reps."""
    disruption: Disruption = Field(default_factory=Disruption)
    """How moves are weighed, and an optional limit."""
    objective: Objective = Field(default_factory=Objective)
    """What to minimise."""
    sweep: Sweep | None = None
    """An ε-constraint sweep over two goals, giving the efficient (Pareto) front."""
    time_limit: float | None = Field(default=DEFAULT_TIME_LIMIT, gt=0)
    """Seconds per solve (60 by default; `null` for no limit). A solve stopped by it returns
    its best assignment as `feasible` with the gap reached in `summary.json`."""
    mip_gap: float = Field(default=1e-4, ge=0, le=0.5)
    """Relative optimality gap at which a solve may stop: 0.0001 = within 0.01% of the best
    possible; 0 asks for proven optimality."""

    @field_validator("balance")
    @classmethod
    def _distinct_balance(cls, rules: list[BalanceRule]) -> list[BalanceRule]:
        labels = [r.label for r in rules]
        dup = next((x for x in labels if labels.count(x) > 1), None)
        if dup:
            raise ValueError(f"two balance rules are named `{dup}`: give them distinct `name`s")
        return rules

    @field_validator("locked")
    @classmethod
    def _distinct_locked(cls, units: list[str]) -> list[str]:
        dup = next((u for u in units if units.count(u) > 1), None)
        if dup:
            raise ValueError(f"unit `{dup}` is locked twice")
        return units

    @model_validator(mode="after")
    def _needs(self) -> TerritoryRules:
        if self.contiguity and self.units.adjacency is None:
            raise ValueError("`contiguity: true` needs an adjacency table: set `units.adjacency`")
        if self.disruption.max is not None and self.disruption.max_share is not None:
            raise ValueError("give the disruption limit as `max` or `max_share`, not both")
        return self

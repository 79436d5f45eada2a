"""Named row blocks over numbered columns, and the one LinearProblem they assemble to.

A :class:`Block` is the rows one rule (or one piece of structure, or one
objective term) contributes: COO entries with block-local row numbers, row
bounds, and per row the *unit* it is about (a rep, a team, the company), so
every row of the solver's matrix maps back to ``(rule, unit)``. A block has a
``role``:

* ``rule``: a rule of the user's file; hard (a candidate in a conflict search)
  or soft (``soft``, with a ``priority`` level or a ``penalty``, the same
  spelling as in both engines' rule files);
* ``structure``: rows that define columns (a rep's total, "every unit has one
  rep"); always kept;
* ``objective``: rows that only serve an objective term; dropped when
  feasibility alone is asked.

:meth:`Model.assemble` stacks the blocks into one
:class:`~attain.solvers.LinearProblem` in the solver's scale (each column
divided by its ``col_scale``, each row by ``row_scale``) and gives every soft
row elastic slack columns: ``lower <= a·x + unit·below − unit·above <= upper``,
``below, above >= 0`` (integer slacks in steps of ``unit`` for a model whose
solver takes integers only). :class:`Assembled` keeps the maps back: row →
(block, local row), slack column → (block, row).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from attain.solvers import LinearProblem, SparseMatrix

__all__ = ["Assembled", "Block", "Model"]

INF = np.inf
ROLES = ("rule", "structure", "objective")


@dataclass
class Block:
    """The rows of one rule, structure or objective term (see the module docstring)."""

    name: str
    kind: str
    """The rule's kind (``growth``, ``balance``, …) or ``structure`` / ``objective``."""
    level: str
    """What each row is about: ``rep``, ``team``, ``company``, …"""
    units: np.ndarray
    """Per row: the index of the unit (at ``level``) it is about."""
    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    sens: np.ndarray | None = None
    """Per row: how far its bound moves per point (0.01) of the rule's parameter, so a dual
    reads as "one more point of this rule is worth …"."""
    role: str = "rule"
    soft: bool = False
    priority: int | None = None
    penalty: float | None = None
    slack_unit: float = 1.0
    """A soft row bends by ``slack_unit`` per unit of its slack column."""
    slack_weight: float = 1.0
    """A unit of slack counts this much in the soft level (or penalty) it belongs to."""
    slack_cap: float = INF
    """Largest value of a slack column (finite for integer-only solvers)."""
    row_unit: float = 1.0
    """The solver sees this block's rows in units of ``row_unit`` (times the model's
    ``row_scale``): a band over measures of resolution 1e-7 is passed in steps of 1e-7, so
    one step over a bound is 1.0 to the solver, far above its tolerances."""
    shared: bool = False
    """A rule that many conflicts involve (the company target): finding one conflict
    removes the conflict's *other* rules from the search for the next."""
    describe: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    """Engine-specific per-rule facts (a mix rule's product and per-row shares, …)."""

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"block role `{self.role}`; expected one of {ROLES}")
        self.units = np.asarray(self.units, dtype=np.int64)
        self.rows = np.asarray(self.rows, dtype=np.int64)
        self.cols = np.asarray(self.cols, dtype=np.int64)
        self.vals = np.asarray(self.vals, dtype=np.float64)
        self.lower = np.asarray(self.lower, dtype=np.float64)
        self.upper = np.asarray(self.upper, dtype=np.float64)
        if self.sens is None:
            self.sens = np.zeros(len(self.lower))
        self.sens = np.asarray(self.sens, dtype=np.float64)
        if self.soft and self.priority is None and self.penalty is None:
            self.priority = 1

    @property
    def n_rows(self) -> int:
        return len(self.lower)

    @property
    def is_rule(self) -> bool:
        return self.role == "rule"

    @property
    def is_hard_rule(self) -> bool:
        return self.role == "rule" and not self.soft


@dataclass
class Assembled:
    """The problem the solver sees, and the maps from its rows and columns back to blocks."""

    problem: LinearProblem
    row_block: np.ndarray
    """Per solver row: its block's index in :attr:`Model.blocks`."""
    row_local: np.ndarray
    """Per solver row: its row number inside its block."""
    slack_block: np.ndarray
    """Per solver column: the block its slack belongs to (-1 for a model column)."""
    slack_row: np.ndarray
    """Per solver column: the solver row its slack bends (-1 for a model column)."""
    slack_sign: np.ndarray
    """Per solver column: +1 for a slack that raises its row, -1 for one that lowers it."""
    slack_coef: np.ndarray
    """Per solver column: the size of a slack's coefficient in its row (0 for model columns)."""
    col_scale: np.ndarray
    """Model column j = solver column j × col_scale[j] (slacks: model slack units)."""
    row_scale: np.ndarray
    """Per solver row: model row = solver row × row_scale."""
    n_model_cols: int

    def unscale(self, x: np.ndarray) -> np.ndarray:
        return x * self.col_scale

    def model_x(self, x: np.ndarray) -> np.ndarray:
        """The model's own columns (no slacks) of a solver vector, in model units."""
        return (x * self.col_scale)[: self.n_model_cols]

    def bent(self, x: np.ndarray) -> np.ndarray:
        """Per solver row, how far (model row units) its slacks bend it, for solver ``x``."""
        out = np.zeros(self.problem.n_rows)
        cols = np.flatnonzero(self.slack_block >= 0)
        rows = self.slack_row[cols]
        np.add.at(out, rows, x[cols] * self.slack_coef[cols] * self.row_scale[rows])
        return out

    def activity(self, x: np.ndarray) -> np.ndarray:
        """Per solver row, the activity of the model's columns (slacks left out), model units."""
        plain = x.copy()
        plain[self.slack_block >= 0] = 0.0
        return self.problem.A.matvec(plain) * self.row_scale

    def complete(self, x_model: np.ndarray) -> np.ndarray:
        """A solver vector from model columns: each slack the least that makes its row fit."""
        out = np.zeros(self.problem.n_cols)
        n = self.n_model_cols
        out[:n] = np.asarray(x_model, dtype=np.float64) / self.col_scale[:n]
        cols = np.flatnonzero(self.slack_block >= 0)
        if not len(cols):
            return out
        act = self.problem.A.matvec(out)  # slacks are zero still
        rows = self.slack_row[cols]
        sign = self.slack_sign[cols]
        need = np.where(
            sign > 0,
            np.maximum(self.problem.row_lower[rows] - act[rows], 0.0),
            np.maximum(act[rows] - self.problem.row_upper[rows], 0.0),
        )
        steps = need / np.maximum(self.slack_coef[cols], 1e-300)
        integer = (
            self.problem.integrality[cols].astype(bool)
            if self.problem.integrality is not None
            else np.zeros(len(cols), bool)
        )
        steps = np.where(integer, np.ceil(steps - 1e-9), steps)
        out[cols] = np.minimum(steps, self.problem.col_upper[cols])
        return out

    def rows_of(self, block: int) -> np.ndarray:
        return np.flatnonzero(self.row_block == block)


class Model:
    """Columns (bounds, integrality, scale) and the named row blocks over them."""

    def __init__(self, n_cols: int = 0, lower: float = 0.0, upper: float = INF) -> None:
        self.n_cols = 0
        self.col_lower = np.zeros(0)
        self.col_upper = np.zeros(0)
        self.col_integer = np.zeros(0, dtype=bool)
        self.col_scale = np.zeros(0)
        self.row_scale = 1.0
        self.integer_slacks = False
        """Slack columns are integers (for solvers that take integers only)."""
        self.blocks: list[Block] = []
        if n_cols:
            self.add_cols(n_cols, lower, upper)

    def add_cols(
        self,
        n: int,
        lower: float | np.ndarray = 0.0,
        upper: float | np.ndarray = INF,
        integer: bool = False,
        scale: float | np.ndarray = 1.0,
    ) -> np.ndarray:
        """Append ``n`` columns; returns their indices."""
        start = self.n_cols
        self.n_cols += n
        self.col_lower = np.concatenate([self.col_lower, np.broadcast_to(lower, n)])
        self.col_upper = np.concatenate([self.col_upper, np.broadcast_to(upper, n)])
        self.col_integer = np.concatenate([self.col_integer, np.full(n, integer)])
        self.col_scale = np.concatenate([self.col_scale, np.broadcast_to(scale, n)])
        return np.arange(start, start + n)

    def add(self, block: Block) -> int:
        """Append a block; returns its index."""
        self.blocks.append(block)
        return len(self.blocks) - 1

    @property
    def n_rows(self) -> int:
        return sum(b.n_rows for b in self.blocks)

    def rule_names(self, hard_only: bool = False) -> list[str]:
        """The names of the rule blocks, in order, once each (a rule may have several)."""
        blocks = (b for b in self.blocks if (b.is_hard_rule if hard_only else b.is_rule))
        return list(dict.fromkeys(b.name for b in blocks))

    def blocks_named(self, names) -> set[int]:
        names = set(names)
        return {i for i, b in enumerate(self.blocks) if b.is_rule and b.name in names}

    def assemble(
        self,
        elastic: set[int] | None = None,
        drop: set[int] | None = None,
        c: np.ndarray | None = None,
        offset: float = 0.0,
    ) -> Assembled:
        """One LinearProblem in the solver's scale (module docstring).

        ``elastic``: blocks whose rows get slack columns (default: the soft rules).
        ``drop``: blocks left out. ``c``: an objective over the model's columns (model
        units); the default is zero.
        """
        if elastic is None:
            elastic = {i for i, b in enumerate(self.blocks) if b.soft}
        drop = drop or set()
        empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0)
        rows, cols, vals = [empty_i], [empty_i], [empty_f]
        lower, upper, rb, rl = [empty_f], [empty_f], [empty_i], [empty_i]
        s_block, s_row, s_sign, s_scale, s_cap = [empty_i], [empty_i], [empty_f], [], []
        s_coef, r_scale = [], [empty_f]
        n_rows, n_cols = 0, self.n_cols
        for i, b in enumerate(self.blocks):
            if i in drop:
                continue
            rs = self.row_scale * b.row_unit
            r_scale.append(np.full(b.n_rows, rs))
            rows.append(b.rows + n_rows)
            cols.append(b.cols)
            vals.append(b.vals * self.col_scale[b.cols] / rs)
            lower.append(b.lower / rs)
            upper.append(b.upper / rs)
            rb.append(np.full(b.n_rows, i))
            rl.append(np.arange(b.n_rows))
            if i in elastic:
                for sign, bound in ((1.0, b.lower), (-1.0, b.upper)):
                    need = np.flatnonzero(np.isfinite(bound))
                    new = np.arange(n_cols, n_cols + len(need))
                    n_cols += len(need)
                    # The solver's slack is in row units: its coefficient is ±1, and the model's
                    # slack (in ``slack_unit``s) is the solver's × rs / slack_unit.
                    unit = b.slack_unit if self.integer_slacks else rs
                    rows.append(need + n_rows)
                    cols.append(new)
                    vals.append(np.full(len(need), sign * unit / rs))
                    s_block.append(np.full(len(need), i))
                    s_row.append(need + n_rows)
                    s_sign.append(np.full(len(need), sign))
                    s_coef.append(np.full(len(need), unit / rs))
                    s_scale.append(np.full(len(need), unit / b.slack_unit))
                    s_cap.append(np.full(len(need), b.slack_cap * b.slack_unit / unit))
            n_rows += b.n_rows
        n_slack = n_cols - self.n_cols
        col_scale = np.concatenate([self.col_scale, *s_scale])
        integer = np.concatenate([self.col_integer, np.full(n_slack, self.integer_slacks)])
        rows_, cols_, vals_ = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
        A = SparseMatrix.from_coo(rows_, cols_, vals_, (n_rows, n_cols))
        cost = np.zeros(n_cols)
        if c is not None:
            cost[: self.n_cols] = np.asarray(c, dtype=np.float64)[: self.n_cols] * self.col_scale
        problem = LinearProblem(
            c=cost,
            A=A,
            row_lower=np.concatenate(lower),
            row_upper=np.concatenate(upper),
            col_lower=np.concatenate([self.col_lower / self.col_scale, np.zeros(n_slack)]),
            col_upper=np.concatenate([self.col_upper / self.col_scale, *s_cap]),
            integrality=integer.astype(np.int8) if integer.any() else None,
            offset=offset,
        )
        slack_block = np.concatenate([np.full(self.n_cols, -1), *s_block]).astype(np.int64)
        slack_row = np.concatenate([np.full(self.n_cols, -1), *s_row]).astype(np.int64)
        slack_sign = np.concatenate([np.zeros(self.n_cols), *s_sign])
        slack_coef = np.concatenate([np.zeros(self.n_cols), *s_coef])
        return Assembled(
            problem,
            np.concatenate(rb),
            np.concatenate(rl),
            slack_block,
            slack_row,
            slack_sign,
            slack_coef,
            col_scale,
            np.concatenate(r_scale),
            self.n_cols,
        )

    def violations(self, x: np.ndarray, tol: float = 1e-9) -> list[tuple[str, int, float]]:
        """The hard rule rows that model columns ``x`` break, on the model's own numbers:
        ``(rule, unit, amount)``, the worst row of each rule (a check after a solver, whose
        tolerances are its own)."""
        out = []
        x = np.asarray(x, dtype=np.float64)
        for b in self.blocks:
            if not b.is_hard_rule or not b.n_rows:
                continue
            act = np.bincount(b.rows, weights=b.vals * x[b.cols], minlength=b.n_rows)
            with np.errstate(invalid="ignore"):
                over = np.maximum(b.lower - act, act - b.upper)
            size = 1 + np.maximum(np.abs(np.nan_to_num(b.lower, posinf=0, neginf=0)),
                                  np.abs(np.nan_to_num(b.upper, posinf=0, neginf=0)))  # fmt: skip
            bad = np.flatnonzero(over > tol * size)
            if len(bad):
                worst = bad[np.argmax(over[bad])]
                out.append((b.name, int(b.units[worst]), float(over[worst])))
        return out

    def soft_levels(self, assembled: Assembled) -> list[tuple[str, np.ndarray]]:
        """One level per priority of the soft rules: Σ slack × weight (solver columns)."""
        out = []
        priorities = sorted({b.priority for b in self.blocks if b.soft and b.priority is not None})
        for pr in priorities:
            out.append(
                (f"soft:{pr}", self.slack_vector(assembled, lambda b, p=pr: b.priority == p))
            )
        return out

    def penalty_vector(self, assembled: Assembled) -> np.ndarray:
        """Σ penalty × slack × weight of the priced soft rules (solver columns)."""
        return self.slack_vector(assembled, lambda b: b.penalty is not None, priced=True)

    def slack_vector(self, assembled: Assembled, which, priced: bool = False) -> np.ndarray:
        """Per solver column: the weight of the slacks of the soft blocks ``which`` selects,
        in the blocks' own terms (model slack units × ``slack_weight``)."""
        vec = np.zeros(assembled.problem.n_cols)
        for i, b in enumerate(self.blocks):
            if b.soft and which(b):
                on = assembled.slack_block == i
                w = b.slack_weight * (b.penalty if priced else 1.0)
                vec[on] = w * assembled.col_scale[on]
        return vec

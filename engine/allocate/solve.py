"""A :class:`Model` → LinearProblems → a lexicographic sequence of solves.

Soft rules get elastic slack columns (fractions of the reps' total); the
levels are solved in order — soft rules by priority, then each objective
level — each level's optimum held as a row while the next is optimised.
The same elastic machinery serves infeasibility diagnosis
(:mod:`attain.allocate.diagnose`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from attain.allocate.build import Model
from attain.errors import SolverError
from attain.solvers import LinearProblem, SolveOptions, SolverResult, SparseMatrix, Status, solve

__all__ = [
    "Assembled",
    "LevelResult",
    "Solution",
    "Substitution",
    "substitutions",
    "assemble",
    "solve_lexicographic",
]

INF = np.inf
#: A level's optimum is held to within this (relative, plus absolute) when later levels run.
HOLD_TOL = 1e-7
#: ... and to this when the solver finds the level infeasible at HOLD_TOL (its own tolerances).
RETRY_HOLD_TOL = 1e-5


@dataclass
class Assembled:
    """The problem plus what maps its rows and slack columns back to rules."""

    problem: LinearProblem
    row_block: np.ndarray
    row_local: np.ndarray
    slack_block: np.ndarray
    """Per column: the block its slack belongs to (-1 for a model column)."""
    slack_row: np.ndarray
    col_scale: np.ndarray
    """Solver column j is model column j ÷ col_scale[j]: currency columns are in units of
    ``money`` (the mean rep target) so the solver sees numbers near 1."""
    money: float

    def unscale(self, x: np.ndarray) -> np.ndarray:
        return x * self.col_scale

    def bent(self, x: np.ndarray) -> np.ndarray:
        """Per row, the currency by which its slack bends it (solver columns ``x``)."""
        out = np.zeros(self.problem.n_rows)
        cols = np.flatnonzero(self.slack_block >= 0)
        np.add.at(out, self.slack_row[cols], x[cols] * self.money)
        return out


@dataclass
class LevelResult:
    name: str
    value: float
    status: Status
    seconds: float
    duals: np.ndarray | None = None
    gap: float | None = None


@dataclass
class Solution:
    x: np.ndarray
    """Model columns in currency (solver columns × scale)."""
    x_scaled: np.ndarray
    assembled: Assembled
    levels: list[LevelResult] = field(default_factory=list)
    primary_duals: np.ndarray | None = None
    solve_seconds: float = 0.0
    status: Status = Status.OPTIMAL

    @property
    def objective(self) -> float:
        fair = [lv for lv in self.levels if not lv.name.startswith("soft:")]
        return fair[-1].value if fair else 0.0


def assemble(
    model: Model, elastic: set[int] | None = None, drop: set[int] | None = None
) -> Assembled:
    """One LinearProblem; blocks in ``elastic`` get slack columns, blocks in ``drop`` vanish.

    Without ``elastic`` the soft blocks are elastic.
    """
    if elastic is None:
        elastic = {i for i, b in enumerate(model.blocks) if b.soft}
    drop = drop or set()
    money = model.inputs.total / model.inputs.n_reps
    # Every row is in currency; a slack column is a fraction of the reps' total, which the
    # solver sees in units of ``money`` like every other currency column: in fractions, its
    # tolerances (1e-7) would let a soft rule bend by a ten-millionth of the total unseen.
    scale = model.inputs.total
    empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0)
    rows, cols, vals = [empty_i], [empty_i], [empty_f]
    lower, upper, rb, rl = [empty_f], [empty_f], [empty_i], [empty_i]
    s_block, s_row = [empty_i], [empty_i]
    n_rows = 0
    n_cols = model.n_cols
    for i, b in enumerate(model.blocks):
        if i in drop:
            continue
        rows.append(b.rows + n_rows)
        cols.append(b.cols)
        vals.append(b.vals)
        lower.append(b.lower)
        upper.append(b.upper)
        rb.append(np.full(b.n_rows, i))
        rl.append(np.arange(b.n_rows))
        if i in elastic:
            for sign, bound in ((1.0, b.lower), (-1.0, b.upper)):
                need = np.flatnonzero(np.isfinite(bound))
                new = np.arange(n_cols, n_cols + len(need))
                n_cols += len(need)
                rows.append(need + n_rows)
                cols.append(new)
                vals.append(np.full(len(need), sign * scale))
                s_block.append(np.full(len(need), i))
                s_row.append(need + n_rows)
        n_rows += b.n_rows
    n_slack = n_cols - model.n_cols
    col_scale = np.concatenate([np.full(model.n_cols, money), np.full(n_slack, money / scale)])
    col_scale[model.unitless] = 1.0
    for unit_cols, units in model.col_units:
        col_scale[unit_cols] = units
    rows, cols, vals = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    A = SparseMatrix.from_coo(rows, cols, vals * col_scale[cols] / money, (n_rows, n_cols))
    problem = LinearProblem(
        c=np.zeros(n_cols),
        A=A,
        row_lower=np.concatenate(lower) / money,
        row_upper=np.concatenate(upper) / money,
        col_lower=np.concatenate([model.col_lower, np.zeros(n_slack)]) / col_scale,
        col_upper=np.concatenate([model.col_upper, np.full(n_slack, INF)]) / col_scale,
    )
    slack_block = np.concatenate([np.full(model.n_cols, -1), *s_block]).astype(np.int64)
    slack_row = np.concatenate([np.full(model.n_cols, -1), *s_row]).astype(np.int64)
    return Assembled(
        problem, np.concatenate(rb), np.concatenate(rl), slack_block, slack_row, col_scale, money
    )


def with_objective(
    problem: LinearProblem, c: np.ndarray, holds: list[tuple[np.ndarray, float]]
) -> LinearProblem:
    """The problem with objective ``c`` and each ``(vector, bound)`` held as ``v @ x <= bound``."""
    A = problem.A
    if holds:
        extra_cols = [np.flatnonzero(v) for v, _ in holds]
        extra_vals = [v[nz] for (v, _), nz in zip(holds, extra_cols, strict=True)]
        indptr = np.concatenate([A.indptr, A.indptr[-1] + np.cumsum([len(x) for x in extra_cols])])
        A = SparseMatrix(
            indptr,
            np.concatenate([A.indices, *[x.astype(np.int32) for x in extra_cols]]),
            np.concatenate([A.data, *extra_vals]),
            (A.shape[0] + len(holds), A.shape[1]),
        )
    bounds = np.array([b for _, b in holds])
    return LinearProblem(
        c=c,
        A=A,
        row_lower=np.concatenate([problem.row_lower, np.full(len(holds), -INF)]),
        row_upper=np.concatenate([problem.row_upper, bounds]),
        col_lower=problem.col_lower,
        col_upper=problem.col_upper,
        integrality=problem.integrality,
    )


@dataclass
class Substitution:
    """Rows eliminated by a change of columns: ``a = const + alpha·(u − d)``.

    Every row holding column ``a`` holds ``u − d`` instead (its bounds shifted by
    ``const``), and the rows that only defined the change become empty free rows, so
    row indices, duals and the binding analysis read as before. ``d <= (const − lo)/alpha``
    keeps ``a`` within its bounds. Applied (:func:`substitutions`) to the product tie-break
    ``w >= |t − fair|`` (2·R·P rows, half of all): ``t = fair + u − d`` and ``w = u + d``
    (``u`` takes ``t``'s column, ``d`` takes ``w``'s; ``w`` is in no other row, and at the
    last level, where ``w`` costs, ``u·d = 0``). Every level reaches the same optimum over
    the model's columns (a test proves it). At 10,000 reps the mean-gap level took 10–17 s
    with interior point before, ~4 s after. (The same change for the mean-gap rows,
    ``T = f + up − down``, was measured too: it doubles the entries of every row on rep
    totals and made the minimax and mean-gap levels 2–3× slower.)
    """

    a: np.ndarray
    u: np.ndarray
    d: np.ndarray
    """Also the column of ``w = u + d``: ``w`` is replaced, ``a`` becomes ``u``."""
    const: np.ndarray
    alpha: np.ndarray

    def vector(self, vec: np.ndarray) -> tuple[np.ndarray, float]:
        """An objective over the model's columns → over the solver's, plus a constant."""
        out = vec.copy()
        c_a, c_w = vec[self.a], vec[self.d]
        out[self.u] = self.alpha * c_a + c_w
        out[self.d] = c_w - self.alpha * c_a
        return out, float(c_a @ self.const)

    def to_model(self, x: np.ndarray) -> np.ndarray:
        out = x.copy()
        diff = x[self.u] - x[self.d]
        out[self.a] = self.const + self.alpha * diff
        out[self.d] = np.abs(diff)  # = u + d at a tie-break optimum; never more
        return out


def _substitute(p: LinearProblem, sub: Substitution, free_rows: np.ndarray) -> LinearProblem:
    rows = p.A.row_of_entry()
    cols = p.A.indices.astype(np.int64)
    vals = p.A.data
    keep = ~free_rows[rows]
    rows, cols, vals = rows[keep], cols[keep], vals[keep]
    pos = np.full(p.n_cols, -1)
    pos[sub.a] = np.arange(len(sub.a))
    k = pos[cols]
    on = k >= 0
    ko = k[on]
    shift = np.bincount(rows[on], weights=vals[on] * sub.const[ko], minlength=p.n_rows)
    A = SparseMatrix.from_coo(
        np.concatenate([rows[~on], rows[on], rows[on]]),
        np.concatenate([cols[~on], sub.u[ko], sub.d[ko]]),
        np.concatenate([vals[~on], vals[on] * sub.alpha[ko], -vals[on] * sub.alpha[ko]]),
        p.A.shape,
    )
    lo, hi = p.col_lower[sub.a], p.col_upper[sub.a]
    col_lower, col_upper = p.col_lower.copy(), p.col_upper.copy()
    u_lo = np.maximum((lo - sub.const) / sub.alpha, 0.0)
    u_hi = np.maximum((hi - sub.const) / sub.alpha, 0.0)
    d_lo = np.maximum((sub.const - hi) / sub.alpha, 0.0)
    d_hi = np.maximum((sub.const - lo) / sub.alpha, 0.0)
    col_lower[sub.u], col_upper[sub.u] = u_lo, u_hi
    col_lower[sub.d], col_upper[sub.d] = d_lo, d_hi
    return LinearProblem(
        c=np.zeros(p.n_cols),
        A=A,
        row_lower=np.where(free_rows, -INF, p.row_lower - shift),
        row_upper=np.where(free_rows, INF, p.row_upper - shift),
        col_lower=col_lower,
        col_upper=col_upper,
        integrality=p.integrality,
    )


def substitutions(model: Model, assembled: Assembled) -> tuple[list[Substitution], LinearProblem]:
    """The substitutions that apply to this model, and the problem the solver sees."""
    p = assembled.problem
    out: list[Substitution] = []
    R, P = model.inputs.n_reps, model.inputs.n_products
    rows = p.A.row_of_entry()
    cols = p.A.indices
    by_name = {b.name: i for i, b in enumerate(model.blocks) if not b.is_rule}
    scale = assembled.col_scale
    if model.tie_cols is not None and "mix_tie" in by_name:
        tie_rows = assembled.row_block == by_name["mix_tie"]
        t, w = np.arange(R * P), np.asarray(model.tie_cols)
        if not np.isin(cols[~tie_rows[rows]], w).any():  # w in no other row: exact
            fair = model.inputs.fair.ravel() / scale[t]
            sub = Substitution(t, t, w, fair, np.ones(R * P))
            p = _substitute(p, sub, tie_rows)
            out.append(sub)
    return out, p


def level_vectors(model: Model, assembled: Assembled) -> list[tuple[str, np.ndarray]]:
    """The lexicographic levels: soft rules by priority, then the objective levels."""
    n = assembled.problem.n_cols
    levels: list[tuple[str, np.ndarray]] = []
    soft = assembled.slack_block
    priorities = sorted({b.priority for b in model.blocks if b.soft and b.priority is not None})
    for pr in priorities:
        blocks = [i for i, b in enumerate(model.blocks) if b.soft and b.priority == pr]
        vec = np.zeros(n)
        vec[np.isin(soft, blocks)] = 1.0
        levels.append((f"soft:{pr}", vec))
    penalised = np.zeros(n)
    for i, b in enumerate(model.blocks):
        if b.soft and b.penalty is not None:
            penalised[soft == i] = b.penalty
    objective = model.inputs.rules.objective
    tie = model.tie()
    for k, level in enumerate(objective):
        weights = {level: 1.0} if isinstance(level, str) else dict(level)
        vec = np.zeros(n)
        for term, w in weights.items():
            vec[: model.n_cols] += w * model.term(term)
        if k == 0:
            vec += penalised
        if k == len(objective) - 1 and tie is not None:
            vec[: model.n_cols] += tie
        name = (
            level if isinstance(level, str) else "+".join(f"{w:g}*{t}" for t, w in weights.items())
        )
        levels.append((name, vec))
    return levels


def solve_lexicographic(
    model: Model,
    solver: str,
    options: SolveOptions,
    assembled: Assembled | None = None,
    substitute: bool = True,
) -> Solution | SolverResult:
    """Solve level by level. Returns the failing result when the first level has no solution.

    ``substitute``: eliminate the tie-break rows (:class:`Substitution`); ``False`` solves
    the model's own rows (the tests prove both reach the same optimum).
    """
    assembled = assembled or assemble(model)
    subs, base = substitutions(model, assembled) if substitute else ([], assembled.problem)
    holds: list[tuple[np.ndarray, float, float]] = []
    levels: list[LevelResult] = []
    start = time.perf_counter()
    x = None
    primary = None
    tie = model.tie()  # the tie-break terms: in the last level, never in its reported value
    if tie is not None:
        tie = tie * assembled.col_scale[: model.n_cols]
    for name, model_vec in level_vectors(model, assembled):
        # The level's objective over the solver's columns (model value = vec @ solver x),
        # normalised to a largest coefficient of 1, so a tie-breaking term stays above the
        # solver's optimality tolerances.
        vec = model_vec * assembled.col_scale
        norm = float(np.max(np.abs(vec), initial=0.0)) or 1.0
        c, offset = vec / norm, 0.0
        for sub in subs:
            c, extra = sub.vector(c)
            offset += extra
        result = solve(_held(base, c, offset, holds, HOLD_TOL), solver, options)
        if not result.status.has_solution and levels:
            # A level held to 1e-7 can sit just outside the solver's own tolerances.
            result = solve(_held(base, c, offset, holds, RETRY_HOLD_TOL), solver, options)
        if not result.status.has_solution:
            if not levels:
                return result
            detail = f": {result.message}" if result.message else ""
            raise SolverError(
                f"solver `{solver}` found no usable solution for the {name} level "
                f"({result.status.value}{detail}); raise --time-limit or try another --solver"
            )
        x = result.x
        for sub in reversed(subs):
            x = sub.to_model(x)
        value = float(vec @ x)
        shown = value - (
            float(tie @ x[: len(tie)]) if tie is not None and name == levels_last(model) else 0.0
        )
        duals = (
            None
            if result.row_duals is None
            else result.row_duals[: assembled.problem.n_rows] * norm
        )
        levels.append(
            LevelResult(name, shown, result.status, result.seconds, duals, result.mip_gap)
        )
        if primary is None and not name.startswith("soft:"):
            primary = duals
        # The hold's slack: relative to the level's value, and absolute in the solver's
        # units (its largest coefficient is 1), where its feasibility tolerance lives.
        holds.append((c, value / norm - offset, 1 + abs(value) / norm))
    status = (
        Status.OPTIMAL if all(lv.status is Status.OPTIMAL for lv in levels) else Status.FEASIBLE
    )
    seconds = time.perf_counter() - start
    return Solution(assembled.unscale(x), x, assembled, levels, primary, seconds, status)


def _held(base: LinearProblem, c: np.ndarray, offset: float, holds, tol: float) -> LinearProblem:
    """``base`` with objective ``c`` and each earlier level held to its optimum + ``tol``."""
    rows = [(v, bound + tol * size) for v, bound, size in holds]
    return replace(with_objective(base, c, rows), offset=offset)


def levels_last(model: Model) -> str:
    last = model.inputs.rules.objective[-1]
    return last if isinstance(last, str) else "+".join(f"{w:g}*{t}" for t, w in last.items())

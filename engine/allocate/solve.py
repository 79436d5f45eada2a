"""An :class:`AllocationModel` → lexicographic solves on the modelling core (:mod:`attain.model`).

Soft rules get elastic slack columns (fractions of the reps' total, seen by the solver in
mean rep targets: :class:`attain.allocate.build.AllocationModel`); the levels are solved in order —
soft rules by priority, then each objective level — each level's optimum held as a row
while the next is optimised (:func:`attain.model.lexicographic`). The same elastic
machinery serves infeasibility diagnosis (:mod:`attain.allocate.diagnose`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from attain.allocate.build import AllocationModel
from attain.errors import SolverError
from attain.model import Assembled, Level, lexicographic, with_holds
from attain.solvers import LinearProblem, SolveOptions, SolverResult, SparseMatrix, Status, solve

__all__ = [
    "TIE_LEVEL",
    "LevelResult",
    "Solution",
    "Substitution",
    "assemble",
    "level_terms",
    "level_vectors",
    "solve_lexicographic",
    "substitutions",
]

INF = np.inf
#: The tie-break level: after the rules' last objective level, that level held by its
#: optimal face. Apart, the last level's optimum is exact (summed in at a small weight,
#: the tie-breaks could buy themselves a sliver of it) and the solver's: at 50,000 reps
#: interior point took 74 s of CPU on the sum — its last iterations resolving the weight's
#: scale — against 32 s for the last level alone and 6 s for the tie-breaks on its face.
TIE_LEVEL = "tie-break"


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
    problem: LinearProblem | None = None
    """The rules' last level's problem as solved (earlier levels held as rows; the
    tie-break level after it left out): what ``--export-model`` writes."""

    @property
    def objective(self) -> float:
        fair = [lv for lv in self.levels if not lv.name.startswith("soft:")]
        return fair[-1].value if fair else 0.0


def assemble(model: AllocationModel, elastic: set[int] | None = None, drop: set[int] | None = None):
    """The model's LinearProblem (:meth:`attain.model.Model.assemble`), rows labelled."""
    a = model.assemble(elastic, drop)
    return a


@dataclass
class Substitution:
    """Rows eliminated by a change of columns: ``a = const + alpha·(u − d)``.

    Every row holding column ``a`` holds ``u − d`` instead (its bounds shifted by
    ``const``), and the rows that only defined the change become empty free rows, so
    row indices, duals and the binding analysis read as before. ``d <= (const − lo)/alpha``
    keeps ``a`` within its bounds. Applied (:func:`substitutions`) to the product tie-break
    ``w >= |t − fair|`` (2·R·P rows, half of all): ``t = fair + u − d`` and ``w = u + d``
    (``u`` takes ``t``'s column, ``d`` takes ``w``'s; ``w`` is in no other row, and at the
    tie-break level, where ``w`` costs, ``u·d = 0``). Every level reaches the same optimum over
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


def substitutions(
    model: AllocationModel, assembled: Assembled
) -> tuple[list[Substitution], LinearProblem]:
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


def level_vectors(model: AllocationModel, assembled: Assembled) -> list[tuple[str, np.ndarray]]:
    """The lexicographic levels over the solver's columns: soft rules by priority, the
    objective levels (penalties priced into the first), then the tie-breaks as a level
    of their own (:data:`TIE_LEVEL`), where the model has any."""
    n = assembled.problem.n_cols
    scale = assembled.col_scale[: model.n_cols]
    levels = model.soft_levels(assembled)
    penalised = model.penalty_vector(assembled)
    for k, level in enumerate(model.inputs.rules.objective):
        weights = {level: 1.0} if isinstance(level, str) else dict(level)
        vec = np.zeros(n)
        for term, w in weights.items():
            vec[: model.n_cols] += w * model.term(term) * scale
        if k == 0:
            vec += penalised
        levels.append((level_name(level), vec))
    tie = model.tie()
    if tie is not None and model.inputs.rules.objective:
        vec = np.zeros(n)
        vec[: model.n_cols] = tie * scale
        levels.append((TIE_LEVEL, vec))
    return levels


def level_terms(model: AllocationModel) -> list[set[str]]:
    """Per level of :func:`level_vectors`: the objective terms in play (its own and every
    earlier level's; the tie-break terms at the tie level)."""
    objective = model.inputs.rules.objective
    n_soft = len({b.priority for b in model.blocks if b.soft and b.priority is not None})
    out: list[set[str]] = [set() for _ in range(n_soft)]
    seen: set[str] = set()
    for level in objective:
        seen |= {level} if isinstance(level, str) else set(level)
        out.append(set(seen))
    if model.tie() is not None and objective:
        out.append(set(model.terms))
    return out


def deferred_rows(model: AllocationModel, assembled: Assembled) -> list[np.ndarray]:
    """Per level: the solver rows left free at that level (an objective term's own rows
    before the first level the term is in).

    A term's rows (``minimax``'s ``|T − f| <= z·f``, a deviation term's
    ``T − up + down = ref``) hold for any value of the other columns — their own columns
    follow, unbounded — so before the term counts they bind nothing: the level's optimum
    and every other row's dual are as with them, and the solver has fewer rows (at 10,000
    reps the soft levels lose 4 rows per rep; a re-plan's levels before ``stay`` lose
    its row per rep × product).
    """
    on_term = np.array(
        [b.role == "objective" and b.name in model.terms for b in model.blocks], dtype=bool
    )
    names = np.array([b.name for b in model.blocks], dtype=object)
    out = []
    for terms in level_terms(model):
        blocks = on_term & ~np.isin(names, sorted(terms))
        out.append(np.flatnonzero(blocks[assembled.row_block]))
    return out


def _free(problem: LinearProblem, rows: np.ndarray) -> LinearProblem:
    if not len(rows):
        return problem
    lower, upper = problem.row_lower.copy(), problem.row_upper.copy()
    lower[rows], upper[rows] = -INF, INF
    return replace(problem, row_lower=lower, row_upper=upper)


def level_name(level) -> str:
    return level if isinstance(level, str) else "+".join(f"{w:g}*{t}" for t, w in level.items())


def _with_floors(levels: list[Level], problem: LinearProblem) -> list[Level]:
    """Each soft level followed by another soft level, with its floor (the least its slacks
    can cost: zero): the two are tried in one solve (:class:`attain.model.Level`). Only
    soft levels: they have the same rows (no objective term counts yet) and LP method,
    so the joint solve is the one the first level would be."""
    out = list(levels)
    for k in range(len(levels) - 1):
        a, b = levels[k], levels[k + 1]
        if not (a.name.startswith("soft:") and b.name.startswith("soft:")):
            continue
        on = np.flatnonzero(a.c)
        bound = np.where(a.c[on] > 0, problem.col_lower[on], problem.col_upper[on])
        if np.isfinite(bound).all():
            out[k] = replace(a, floor=float(a.c[on] @ bound) + a.offset)
    return out


def solve_lexicographic(
    model: AllocationModel,
    solver: str,
    options: SolveOptions,
    assembled: Assembled | None = None,
    substitute: bool = True,
    defer: bool = True,
    faces: bool = False,
    methods: dict[str, str] | None = None,
    merge_soft: bool = True,
) -> Solution | SolverResult:
    """Solve level by level. Returns the failing result when the first level has no solution.

    ``substitute``: eliminate the tie-break rows (:class:`Substitution`); ``False`` solves
    the model's own rows (the tests prove both reach the same optimum). ``defer``: leave
    an objective term's rows out of the levels before it counts (:func:`deferred_rows`);
    ``False`` solves every level with every row. ``faces``: hold each level by its
    optimal face as well as its row (:func:`attain.model.optimal_face`), for the re-plan's
    ``stay`` level, which interior point stalls on under rows alone (the level before the
    tie-breaks is held by its face either way). ``methods``: an LP
    method (``SolveOptions.lp_method``) for the levels named, where it is not set already.
    ``merge_soft``: solve two soft levels in a row together where the first's rules can all
    be met (:func:`_with_floors`); ``False`` solves each alone.
    """
    assembled = assembled or assemble(model)
    subs, base = substitutions(model, assembled) if substitute else ([], assembled.problem)
    start = time.perf_counter()
    vectors = level_vectors(model, assembled)
    free = deferred_rows(model, assembled) if defer else [np.zeros(0, np.int64)] * len(vectors)
    tie_break = bool(vectors) and vectors[-1][0] == TIE_LEVEL
    levels = []
    for k, (name, vec) in enumerate(vectors):
        # The level's objective over the solver's columns, normalised (by the core) to a
        # largest coefficient of 1, so a tie-breaking term stays above the solver's
        # optimality tolerances; the substitutions change the columns, not the norm.
        c, offset = vec, 0.0
        for sub in subs:
            c, extra = sub.vector(c)
            offset += extra
        norm = float(np.max(np.abs(vec), initial=0.0)) or 1.0
        # The level before the tie-breaks is held by its face: they move only within it.
        face = faces or (tie_break and k == len(vectors) - 2)
        levels.append(Level(name, c, offset, norm, face=face))
    levels = _with_floors(levels, base) if merge_soft else levels
    problems: dict[int, LinearProblem] = {}  # by the number of holds: the level (or pair)

    def run(c: np.ndarray, offset: float, holds) -> SolverResult:
        # Each level holds the ones before it: the number of holds is the level's index.
        k = len(holds)
        problems[k] = with_holds(_free(base, free[k]), c, holds, offset)
        method = (methods or {}).get(levels[k].name)
        level_options = options
        if method is not None and options.lp_method is None:
            level_options = replace(options, lp_method=method)
        return solve(problems[k], solver, level_options)

    outcomes, failed = lexicographic(levels, run, faces=base if faces or tie_break else None)
    if failed is not None and not (tie_break and len(outcomes) == len(levels) - 1):
        # (A tie-break level that found nothing leaves the last level's optimum as it is.)
        if not outcomes:
            return failed
        name = levels[len(outcomes)].name
        detail = f": {failed.message}" if failed.message else ""
        raise SolverError(
            f"solver `{solver}` found no usable solution for the {name} level "
            f"({failed.status.value}{detail}); raise --time-limit or try another --solver"
        )
    results: list[LevelResult] = []
    primary = None
    x = None
    for k, (outcome, (name, vec)) in enumerate(zip(outcomes, vectors, strict=False)):
        x = outcome.result.x
        for sub in reversed(subs):
            x = sub.to_model(x)
        if name == TIE_LEVEL:  # its solution is the answer; its value is no objective
            continue
        duals = outcome.result.row_duals
        if duals is not None:
            duals = duals[: assembled.problem.n_rows] * outcome.norm
        r = outcome.result
        shared = k > 0 and r is outcomes[k - 1].result  # one joint solve: counted once
        seconds = 0.0 if shared else r.seconds
        results.append(LevelResult(name, float(vec @ x), r.status, seconds, duals, r.mip_gap))
        if primary is None and not name.startswith("soft:"):
            primary = duals
    optimal = all(o.result.status is Status.OPTIMAL for o in outcomes)
    status = Status.OPTIMAL if optimal else Status.FEASIBLE
    seconds = time.perf_counter() - start
    return Solution(
        assembled.unscale(x), x, assembled, results, primary, seconds, status,
        problems[max(k for k in problems if k < len(results))],
    )  # fmt: skip

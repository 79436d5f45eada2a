"""Rules → blocks of rows over the rep × product totals, and the objective terms.

Columns ``t[r, p]`` (index ``r * P + p``) are each rep's yearly target per
product. Every rule compiles, with numpy over all its units at once, to one
:class:`attain.model.Block`: COO entries, row bounds, the unit each row is about, and
each row's *sensitivity* (how far its bound moves per point, 0.01, of the
rule's parameter) so duals can be read as "one more point of X is worth …".
A level's target is its reps' sum × its buffer over the reps' buffer, so rules
on a level's targets divide their bounds by that scale.
"""

from __future__ import annotations

import numpy as np

from attain.allocate.inputs import Inputs, select_units
from attain.model import Block
from attain.model import Model as CoreModel
from attain.schema.allocation import (
    BoundsRule,
    CapacityRule,
    GrowthRule,
    MixRule,
    RampRule,
    ShareRule,
)

__all__ = ["AllocationModel", "build_model"]

INF = np.inf
#: Ties in the product split are broken toward the fair-share mix at this weight.
TIE_WEIGHT = 1e-4
#: The tie-break terms: summed (each at its weight) into a level of their own after the
#: last objective level (:data:`attain.allocate.solve.TIE_LEVEL`), never a reported value.
TIE_TERMS = ("mix_tie", "month_tie")


class AllocationModel(CoreModel):
    """The stage-1 (or monolithic) allocation model: columns in currency, rows of rules.

    The solver sees every currency column and row in units of ``money``, the mean rep
    target (columns scaled with ``col_scale``, rows with ``row_scale``): numbers near 1.
    A soft rule's slack is a fraction of the reps' total (``slack_unit``); the solver sees
    it in mean rep targets too, so its tolerances (1e-7) cannot hide a bend of a
    ten-millionth of the total.
    """

    def __init__(self, inputs: Inputs, n_cols: int) -> None:
        super().__init__()
        self.inputs = inputs
        self.money = inputs.total / inputs.n_reps
        self.row_scale = self.money
        self.add_cols(n_cols)
        self.terms: dict[str, np.ndarray] = {}
        self.rep_lower: np.ndarray | None = None
        self.rep_upper: np.ndarray | None = None
        self.n_cells = 0
        """Number of month cells (monolithic models only)."""
        self.cell_start = 0
        self.cell_shares: np.ndarray | None = None
        """The month tie-break's reference shares ``s'[r, p, k]`` (monolithic models only)."""
        self.tie_cols: np.ndarray | None = None
        """The ``w`` columns of the mix tie-break, one per ``t[r, p]`` (see :func:`_mix_tie`)."""

    def add_cols(self, n, lower=0.0, upper=INF, integer=False, scale=None) -> np.ndarray:
        """Currency columns by default: the solver sees them in mean rep targets."""
        return super().add_cols(n, lower, upper, integer, self.money if scale is None else scale)

    def term(self, name: str) -> np.ndarray:
        c = np.zeros(self.n_cols)
        vec = self.terms[name]
        c[: len(vec)] = vec
        return c

    def tie(self) -> np.ndarray | None:
        """The tie-break terms (:data:`TIE_TERMS`) of this model summed; None without any."""
        present = [name for name in TIE_TERMS if name in self.terms]
        return sum(self.term(name) for name in present) if present else None


def build_model(inputs: Inputs, objective_terms: set[str]) -> AllocationModel:
    R, P = inputs.n_reps, inputs.n_products
    # Columns: t[r, p] (R·P), then each rep's total T[r] (R). Rules on a rep's total touch
    # one column instead of P, which keeps the rows short and the LP fast.
    n = R * P + R
    model = AllocationModel(inputs, n)
    model.rep_lower = np.zeros(R)
    model.rep_upper = np.full(R, INF)
    model.add(_rep_totals(inputs))
    model.add(_company_target(inputs))
    names = inputs.rules.rule_names()
    for name, rule in zip(names, inputs.rules.rules, strict=True):
        block = COMPILERS[type(rule)](inputs, rule, name)
        block.soft, block.priority, block.penalty = rule.soft, rule.priority, rule.penalty
        if rule.soft and rule.priority is None and rule.penalty is None:
            block.priority = 1
        block.slack_unit = inputs.total  # a bend is a fraction of the reps' total
        block.describe = describe_rule(rule)
        model.add(block)
        if block.level == "rep" and not rule.soft and getattr(rule, "product", None) is None:
            _track_rep_bands(model, block)
    for term in sorted(objective_terms):
        TERMS[term](model)
    if P > 1:
        _mix_tie(model)
    return model


def _rep_totals(inputs: Inputs) -> Block:
    """``Σ_p t[r, p] − T[r] = 0``: defines each rep's total column."""
    R, P = inputs.n_reps, inputs.n_products
    rows = np.concatenate([np.repeat(np.arange(R), P), np.arange(R)])
    cols = np.concatenate([np.arange(R * P), R * P + np.arange(R)])
    vals = np.concatenate([np.ones(R * P), -np.ones(R)])
    zero = np.zeros(R)
    return Block(
        "rep_total", "structure", "rep", np.arange(R), rows, cols, vals, zero, zero, zero,
        role="structure",
    )  # fmt: skip


def rep_of_col(inputs: Inputs, cols: np.ndarray) -> np.ndarray:
    """The rep a t or T column belongs to; -1 for any other column."""
    R, P = inputs.n_reps, inputs.n_products
    cols = np.asarray(cols)
    return np.where(cols < R * P, cols // P, np.where(cols < R * P + R, cols - R * P, -1))


def unit_sum(inputs: Inputs, level: str, units: np.ndarray, product: int | None = None):
    """COO entries of each selected unit's total (Σ of its reps' T) or product total (Σ t[·, p])."""
    P = inputs.n_products
    pos = np.full(len(inputs.unit_names[level]), -1)
    pos[units] = np.arange(len(units))
    row_of_rep = pos[inputs.codes[level]]
    reps = np.flatnonzero(row_of_rep >= 0)
    if product is None:
        cols = inputs.n_reps * P + reps
        return row_of_rep[reps], cols, np.ones(len(cols))
    prods = np.array([product])
    rows = np.repeat(row_of_rep[reps], len(prods))
    cols = (reps[:, None] * P + prods[None, :]).ravel()
    return rows, cols, np.ones(len(cols))


def unit_values(inputs: Inputs, level: str, units: np.ndarray, per_rep: np.ndarray) -> np.ndarray:
    """Σ of a per-rep quantity over each selected unit."""
    sums = np.bincount(
        inputs.codes[level], weights=per_rep, minlength=len(inputs.unit_names[level])
    )
    return sums[units]


def _block(name, kind, level, units, entries, lower, upper, sens, role="rule") -> Block:
    rows, cols, vals = entries
    return Block(name, kind, level, units, rows, cols, vals, lower, upper, sens, role=role)


def _company_target(inputs: Inputs) -> Block:
    if inputs.product_targets is None:
        entries = unit_sum(inputs, "company", np.array([0]))
        t = np.array([inputs.total])
        block = _block("company_target", "company_target", "company", [0], entries, t, t, 0.01 * t)
        block.shared = True  # every conflict over totals involves it
        return block
    rows, cols, vals = [], [], []
    for p in range(inputs.n_products):
        r, c, v = unit_sum(inputs, "company", np.array([0]), p)
        rows.append(r + p)
        cols.append(c)
        vals.append(v)
    t = inputs.product_targets
    entries = (np.concatenate(rows), np.concatenate(cols), np.concatenate(vals))
    units = np.zeros(inputs.n_products, dtype=np.int64)
    block = _block("company_target", "company_target", "company", units, entries, t, t, 0.01 * t)
    block.shared = True
    return block


def _product_index(inputs: Inputs, product: str | None) -> int | None:
    return None if product is None else inputs.products.index(product)


def _share(inputs: Inputs, rule: ShareRule, name: str) -> Block:
    units = select_units(inputs, rule.level, rule.where)
    lo = rule.value if rule.value is not None else rule.min
    hi = rule.value if rule.value is not None else rule.max
    n = len(units)
    lower = np.full(n, -INF if lo is None else lo * inputs.total)
    upper = np.full(n, INF if hi is None else hi * inputs.total)
    entries = unit_sum(inputs, rule.level, units)
    return _block(
        name, "share", rule.level, units, entries, lower, upper, np.full(n, 0.01 * inputs.total)
    )


def _growth(inputs: Inputs, rule: GrowthRule, name: str) -> Block:
    p = _product_index(inputs, rule.product)
    ly = inputs.last_year.sum(axis=1) if p is None else inputs.last_year[:, p]
    units = select_units(inputs, rule.level, rule.where)
    base = unit_values(inputs, rule.level, units, ly)
    # A unit without last year's sales has nothing to grow from: the rule skips it.
    units = units[base > 0]
    base = base[base > 0] / inputs.level_scale(rule.level)
    lower = -INF * np.ones(len(units)) if rule.min is None else (1 + rule.min) * base
    upper = INF * np.ones(len(units)) if rule.max is None else (1 + rule.max) * base
    entries = unit_sum(inputs, rule.level, units, p)
    return _block(name, "growth", rule.level, units, entries, lower, upper, 0.01 * base)


def _capacity(inputs: Inputs, rule: CapacityRule, name: str) -> Block:
    units = select_units(inputs, rule.level, rule.where)
    if rule.amount is not None:
        cap = np.full(len(units), rule.amount)
    elif rule.per_head is not None:
        heads = unit_values(inputs, rule.level, units, np.ones(inputs.n_reps))
        cap = rule.per_head * heads
    else:
        cap = rule.scale * unit_values(
            inputs, rule.level, units, inputs.reps["capacity"].to_numpy(float)
        )
    cap = cap / inputs.level_scale(rule.level)
    entries = unit_sum(inputs, rule.level, units)
    return _block(
        name, "capacity", rule.level, units, entries, np.full(len(units), -INF), cap, 0.01 * cap
    )


def _bounds(inputs: Inputs, rule: BoundsRule, name: str) -> Block:
    units = select_units(inputs, rule.level, rule.where)
    scale = inputs.level_scale(rule.level)
    n = len(units)
    lower = np.full(n, -INF if rule.min is None else rule.min / scale)
    upper = np.full(n, INF if rule.max is None else rule.max / scale)
    sens = 0.01 * np.where(np.isfinite(upper), upper, np.where(np.isfinite(lower), lower, 0))
    entries = unit_sum(inputs, rule.level, units, _product_index(inputs, rule.product))
    return _block(name, "bounds", rule.level, units, entries, lower, upper, sens)


def _mix(inputs: Inputs, rule: MixRule, name: str) -> Block:
    """``S_p - min·S >= 0`` and ``S_p - max·S <= 0`` per unit, stacked; plus ``S_p >= amount``."""
    units = select_units(inputs, rule.level, rule.where)
    p = inputs.products.index(rule.product)
    n = len(units)
    r_all, c_all, _ = unit_sum(inputs, rule.level, units)
    r_p, c_p, _ = unit_sum(inputs, rule.level, units, p)
    fair_total = unit_values(inputs, rule.level, units, inputs.fair.sum(axis=1))
    rows, cols, vals, lower, upper, sens, unit_ids, shares = [], [], [], [], [], [], [], []
    for share, lo, hi in ((rule.min, 0.0, INF), (rule.max, -INF, 0.0)):
        if share is None:
            continue
        offset = sum(len(x) for x in lower)
        rows.append(np.concatenate([r_p, r_all]) + offset)
        cols.append(np.concatenate([c_p, c_all]))
        vals.append(np.concatenate([np.ones(len(c_p)), np.full(len(c_all), -share)]))
        lower.append(np.full(n, lo))
        upper.append(np.full(n, hi))
        sens.append(0.01 * fair_total)
        unit_ids.append(units)
        shares.append(np.full(n, share))
    if rule.min_amount is not None:
        offset = sum(len(x) for x in lower)
        r, c, v = unit_sum(inputs, rule.level, units, p)
        rows.append(r + offset)
        cols.append(c)
        vals.append(v)
        lower.append(np.full(n, rule.min_amount / inputs.level_scale(rule.level)))
        upper.append(np.full(n, INF))
        sens.append(np.full(n, 0.01 * rule.min_amount))
        unit_ids.append(units)
        shares.append(np.full(n, np.nan))
    entries = (np.concatenate(rows), np.concatenate(cols), np.concatenate(vals))
    cat = np.concatenate
    block = _block(
        name, "mix", rule.level, cat(unit_ids), entries, cat(lower), cat(upper), cat(sens)
    )
    block.info = {"product": rule.product, "share": cat(shares)}
    return block


def ramp_factor(inputs: Inputs) -> np.ndarray:
    """Per rep: the year's share of a full target under the ramp (profile-weighted)."""
    mix = inputs.fair / np.maximum(inputs.fair.sum(axis=1, keepdims=True), 1e-300)
    monthly = mix @ inputs.profiles  # the rep's own monthly profile
    return (monthly * inputs.ramp_months).sum(axis=1)


def _ramp(inputs: Inputs, rule: RampRule, name: str) -> Block:
    selected = select_units(inputs, "rep", rule.where)
    factor = ramp_factor(inputs)
    units = selected[factor[selected] < 1 - 1e-12]
    cap = factor[units] * inputs.full[units]
    entries = unit_sum(inputs, "rep", units)
    return _block(
        name,
        "ramp",
        "rep",
        units,
        entries,
        np.full(len(units), -INF),
        cap,
        0.01 * inputs.full[units],
    )


COMPILERS = {
    ShareRule: _share,
    GrowthRule: _growth,
    CapacityRule: _capacity,
    BoundsRule: _bounds,
    MixRule: _mix,
    RampRule: _ramp,
}


def _track_rep_bands(model: AllocationModel, block: Block) -> None:
    """Rep-level hard bands on the total, kept so rounding never steps over them."""
    np.maximum.at(model.rep_lower, block.units, np.nan_to_num(block.lower, neginf=0.0))
    np.minimum.at(model.rep_upper, block.units, block.upper)


def fair_rep(inputs: Inputs) -> np.ndarray:
    """Each rep's fair total, floored so a rep without any basis still has a reference."""
    fair = inputs.fair.sum(axis=1)
    return np.maximum(fair, inputs.total / inputs.n_reps * 1e-3)


def _deviation_term(model: AllocationModel, name: str, ref: np.ndarray, reps: np.ndarray) -> None:
    """``T_r − up_r + down_r = ref_r`` and the term ``mean((up_r + down_r) / ref_r)``.

    One equality row per rep with split deviation columns: interior point solves this
    form several times faster than the ``d >= ±(T − ref)`` pair of rows.
    """
    inputs = model.inputs
    n = len(reps)
    up = model.add_cols(n)
    down = model.add_cols(n)
    r, c, v = unit_sum(inputs, "rep", reps)
    rows = np.concatenate([r, np.arange(n), np.arange(n)])
    cols = np.concatenate([c, up, down])
    vals = np.concatenate([v, -np.ones(n), np.ones(n)])
    block = _block(
        name, "objective", "rep", reps, (rows, cols, vals), ref, ref, np.zeros(n), "objective"
    )
    model.add(block)
    vec = np.zeros(model.n_cols)
    vec[up] = 1.0 / (n * ref)
    vec[down] = 1.0 / (n * ref)
    model.terms[name] = vec
    # In units of the reference each deviation column costs 1/n: the level's objective is
    # evenly scaled (a rep with a tiny reference no longer dwarfs every other coefficient).
    model.col_scale[np.concatenate([up, down])] = np.tile(ref, 2)


def _minimax(model: AllocationModel) -> None:
    """A column ``z`` with ``|T_r - f_r| <= z · f_r``: z is the worst relative gap."""
    inputs = model.inputs
    f = fair_rep(inputs)
    R = inputs.n_reps
    z = model.add_cols(1)[0]
    model.col_scale[z] = 1.0  # a fraction: the solver sees it as it is
    r, c, v = unit_sum(inputs, "rep", np.arange(R))
    rows = np.concatenate([r, np.arange(R), r + R, np.arange(R) + R])
    cols = np.concatenate([c, np.full(R, z), c, np.full(R, z)])
    vals = np.concatenate([v, -f, v, f])
    lower = np.concatenate([np.full(R, -INF), f])
    upper = np.concatenate([f, np.full(R, INF)])
    units = np.concatenate([np.arange(R), np.arange(R)])
    block = _block(
        "minimax", "objective", "rep", units, (rows, cols, vals), lower, upper,
        np.zeros(2 * R), "objective",
    )  # fmt: skip
    model.add(block)
    vec = np.zeros(model.n_cols)
    vec[z] = 1.0
    model.terms["minimax"] = vec


def _l1(model: AllocationModel) -> None:
    _deviation_term(model, "l1", fair_rep(model.inputs), np.arange(model.inputs.n_reps))


def _last_year(model: AllocationModel) -> None:
    inputs = model.inputs
    ly = inputs.last_year.sum(axis=1)
    reps = np.flatnonzero(ly > 0)
    ref = ly[reps] * inputs.total / max(ly.sum(), 1e-300)
    _deviation_term(model, "last_year", ref, reps)


TERMS = {"minimax": _minimax, "l1": _l1, "last_year": _last_year}


def _mix_tie(model: AllocationModel) -> None:
    """``w[r,p] >= |t[r,p] − fair[r,p]|``: ties in the product split lean to each cell's fair share.

    Against the fixed fair cell (not the rep's own total × the fair mix) each row has two
    entries, which keeps the last level as sparse as the first (10× faster at 10,000 reps).
    """
    inputs = model.inputs
    n = inputs.n_reps * inputs.n_products
    w = model.add_cols(n)
    cell = np.arange(n)
    ref = inputs.fair.ravel()
    rows = np.concatenate([cell, cell, cell + n, cell + n])
    cols = np.concatenate([cell, w, cell, w])
    vals = np.concatenate([np.ones(n), -np.ones(n), np.ones(n), np.ones(n)])
    lower = np.concatenate([np.full(n, -INF), ref])
    upper = np.concatenate([ref, np.full(n, INF)])
    rep_of_cell = cell // inputs.n_products
    units = np.concatenate([rep_of_cell, rep_of_cell])
    block = _block(
        "mix_tie", "objective", "rep", units, (rows, cols, vals), lower, upper,
        np.zeros(2 * n), "objective",
    )  # fmt: skip
    model.add(block)
    vec = np.zeros(model.n_cols)
    vec[w] = TIE_WEIGHT / inputs.total
    model.terms["mix_tie"] = vec
    model.tie_cols = w


def describe_rule(rule) -> str:
    """The rule in a planner's words, with its numbers."""
    where = f" where {_where_text(rule.where)}" if rule.where else ""
    scope = ("the company" if rule.level == "company" else f"{rule.level}s") + where
    product = getattr(rule, "product", None)
    of = f"{product} target" if product else "target"
    if isinstance(rule, ShareRule):
        if rule.value is not None:
            return f"{scope} take exactly {rule.value:.1%} of the total"
        return f"{scope} take {_range(rule.min, rule.max, pct=True)} of the total"
    if isinstance(rule, GrowthRule):
        return (
            f"{scope}: {of} grows {_range(rule.min, rule.max, pct=True, signed=True)} on last year"
        )
    if isinstance(rule, CapacityRule):
        if rule.per_head is not None:
            return f"{scope}: target ≤ {rule.per_head:,.0f} per head"
        if rule.amount is not None:
            return f"{scope}: target ≤ {rule.amount:,.0f}"
        return f"{scope}: target ≤ {rule.scale:g} × capacity"
    if isinstance(rule, BoundsRule):
        return f"{scope}: {of} {_range(rule.min, rule.max)}"
    if isinstance(rule, MixRule):
        parts = []
        if rule.min is not None or rule.max is not None:
            parts.append(f"{rule.product} is {_range(rule.min, rule.max, pct=True)} of the total")
        if rule.min_amount is not None:
            parts.append(f"{rule.product} ≥ {rule.min_amount:,.0f}")
        return f"{scope}: " + " and ".join(parts)
    if isinstance(rule, RampRule):
        steps = ", ".join(f"{s.share:.0%} below {s.tenure_below} months" for s in rule.steps)
        return f"{scope}: new hires carry {steps} of a full target"
    return ""


def _range(lo, hi, pct: bool = False, signed: bool = False) -> str:
    def fmt(v):
        if pct:
            return f"{v:+.1%}" if signed else f"{v:.1%}"
        return f"{v:,.0f}"

    if lo is not None and hi is not None:
        return f"between {fmt(lo)} and {fmt(hi)}"
    return f"at least {fmt(lo)}" if lo is not None else f"at most {fmt(hi)}"


def _where_text(where) -> str:
    parts = []
    for column, cond in where.items():
        if isinstance(cond, list):
            parts.append(f"{column} in {', '.join(map(str, cond))}")
        elif hasattr(cond, "min"):
            bits = []
            if cond.min is not None:
                bits.append(f"{column} ≥ {cond.min:g}")
            if cond.max is not None:
                bits.append(f"{column} ≤ {cond.max:g}")
            if cond.not_in is not None:
                bits.append(f"{column} not in {', '.join(map(str, cond.not_in))}")
            parts.append(" and ".join(bits))
        else:
            parts.append(f"{column} = {cond}")
    return "; ".join(parts)

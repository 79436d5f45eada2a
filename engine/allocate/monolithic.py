"""The monolithic path: every rep × product × month cell in the one model.

For rule sets small enough, or to prove the staged decomposition exact: the
stage-1 model plus the month cells ``m[r,p,k]``, ``Σ_k m[r,p,k] = t[r,p]``, the
seasonality band ``(s_k − tol)·t <= m_k <= (s_k + tol)·t`` around the raw
profile (× the ramp, renormalised, for a ramping rep) and the quarter checkpoints
on each cell's quarter. The bands are homogeneous in ``t`` and always satisfiable
by ``m = s'·t``, ``s'`` the staged shares (:func:`~attain.allocate.split.month_profiles`
of the adjusted profiles, which lie in the band and meet the checkpoints), which is
why the staged optimum equals this one (tests/test_allocate_staged.py proves it on
small instances).

Nothing in the objective levels prices a month, so on its own the solver would
return any vertex of the bands. The month tie-break ``month_tie``, weight ×
``Σ |m − s'·t|``, joins the product tie-break
(:func:`~attain.allocate.build._mix_tie`) in the tie-break level ``solve`` adds after
the last objective level, on that level's optimal face (no level's value is theirs). As ``m = s'·t`` is feasible for every
``t``, the term is 0 at the optimum and moves no level's value, and the months
come out as stage 2's closed form ``t × s'``. It costs no rows: each cell is
``m = s'·t + u − d`` with ``u, d >= 0`` — the change of columns
:class:`~attain.allocate.solve.Substitution` makes for the product tie, built in
here because the reference ``s'·t`` is a column, not a constant — so
``|m − s'·t| = u + d`` once the term is priced (``AllocationModel.cell_shares`` keeps
``s'``; :func:`cell_values` turns the columns back into cells).
"""

from __future__ import annotations

import numpy as np

from attain.allocate.build import TIE_WEIGHT, AllocationModel
from attain.allocate.split import is_ramping, month_profiles
from attain.model import Block

__all__ = ["MONTH_TIE_WEIGHT", "add_cells", "cell_values"]

INF = np.inf
K = 12
#: The month tie-break's weight per unit of ``|m − s'·t|`` (÷ the total), as the product tie's.
MONTH_TIE_WEIGHT = TIE_WEIGHT
#: Coefficients this small (a reference share on its band's edge) are zeros of rounding.
SNAP = 1e-12


def add_cells(model: AllocationModel, shares: np.ndarray) -> None:
    """Add the month cells; ``shares[r, p, k]`` are stage 2's ``s'``, the tie-break's aim."""
    inputs = model.inputs
    R, P = inputs.n_reps, inputs.n_products
    n, N = R * P, R * P * K
    ref = shares.reshape(n, K)
    ref = ref / np.maximum(ref.sum(axis=1, keepdims=True), 1e-300)  # Σ_k s'_k = 1
    up = model.add_cols(N)
    down = model.add_cols(N)
    model.n_cells = N
    model.cell_start = int(up[0])
    model.cell_shares = ref.reshape(R, P, K)
    cells = _Cells(ref, up, down)
    rp = np.arange(n)
    split = Block("month_split", "structure", "rep", rp // P,
                  *cells.entries(cells.rp, np.arange(N), np.ones(N), rp, rp, -np.ones(n)),
                  np.zeros(n), np.zeros(n), np.zeros(n), role="structure")  # fmt: skip
    model.add(split)
    # The band: m − bound·t ≷ 0; with its lower bound clipped at 0, m >= 0 follows.
    tol = inputs.rules.seasonality.tolerance
    centre = month_profiles(inputs, inputs.profiles).ravel()
    cell = np.arange(N)
    rows, cols, vals, lower, upper = [], [], [], [], []
    for i, (bound, row_lo, row_hi) in enumerate(
        ((np.maximum(centre - tol, 0.0), 0.0, INF), (centre + tol, -INF, 0.0))
    ):
        r = cell + i * N
        entries = cells.entries(r, cell, np.ones(N), r, cells.rp, -bound)
        rows.append(entries[0])
        cols.append(entries[1])
        vals.append(entries[2])
        lower.append(np.full(N, row_lo))
        upper.append(np.full(N, row_hi))
    rep = np.concatenate([cell, cell]) // (P * K)
    band = Block("seasonality", "seasonality", "rep", rep, np.concatenate(rows),
                 np.concatenate(cols), np.concatenate(vals), np.concatenate(lower),
                 np.concatenate(upper), np.zeros(2 * N))  # fmt: skip
    model.add(band)
    _checkpoints(model, cells)
    vec = np.zeros(model.n_cols)
    vec[np.concatenate([up, down])] = MONTH_TIE_WEIGHT / inputs.total
    model.terms["month_tie"] = vec


class _Cells:
    """The month cells as columns: ``m[c] = s'[c]·t[rp(c)] + u[c] − d[c]``."""

    def __init__(self, ref: np.ndarray, up: np.ndarray, down: np.ndarray) -> None:
        self.n = ref.shape[0]
        self.ref = ref.ravel()
        self.up, self.down = up, down
        self.rp = np.repeat(np.arange(self.n), K)  # the t column of each cell

    def entries(self, row, cell, coef, t_row, t_col, t_coef):
        """COO entries of rows ``Σ coef·m[cell] + Σ t_coef·t[t_col]``.

        Per row, the t coefficients are summed and those of rounding size dropped (a row
        whose reference shares meet its bound exactly holds no t).
        """
        tr = np.concatenate([row, t_row])
        tc = np.concatenate([self.rp[cell], t_col])
        key, inverse = np.unique(tr * self.n + tc, return_inverse=True)
        tv = np.bincount(inverse, np.concatenate([coef * self.ref[cell], t_coef]), len(key))
        keep = np.abs(tv) >= SNAP
        rows = np.concatenate([key[keep] // self.n, row, row])
        cols = np.concatenate([key[keep] % self.n, self.up[cell], self.down[cell]])
        return rows, cols, np.concatenate([tv[keep], coef, -coef])


def _checkpoints(model: AllocationModel, cells: _Cells) -> None:
    inputs = model.inputs
    P = inputs.n_products
    checkpoints = inputs.rules.seasonality.checkpoints
    if not checkpoints:
        return
    keep = np.flatnonzero(~is_ramping(inputs))
    rp = (keep[:, None] * P + np.arange(P)[None, :]).ravel()
    m = len(rp)
    rows, cols, vals, lower, upper = [], [], [], [], []
    for cp in checkpoints:
        months = np.arange(3 * (cp.quarter - 1), 3 * cp.quarter)
        for bound, lo, hi in ((cp.min, 0.0, INF), (cp.max, -INF, 0.0)):
            if bound is None:
                continue
            offset = sum(len(x) for x in lower)
            r = np.arange(m) + offset
            cell = (rp[:, None] * K + months[None, :]).ravel()
            entries = cells.entries(
                np.repeat(r, 3), cell, np.ones(3 * m), r, rp, np.full(m, -bound)
            )
            rows.append(entries[0])
            cols.append(entries[1])
            vals.append(entries[2])
            lower.append(np.full(m, lo))
            upper.append(np.full(m, hi))
    if not lower:
        return
    units = np.tile(np.repeat(keep, P), len(lower))
    block = Block("checkpoints", "seasonality", "rep", units, np.concatenate(rows),
                  np.concatenate(cols), np.concatenate(vals), np.concatenate(lower),
                  np.concatenate(upper), np.zeros(sum(len(x) for x in lower)))  # fmt: skip
    model.add(block)


def cell_values(model: AllocationModel, x: np.ndarray) -> np.ndarray:
    """The month cells of a solved monolithic model, as rep × product × month."""
    inputs = model.inputs
    R, P = inputs.n_reps, inputs.n_products
    n, N, start = R * P, model.n_cells, model.cell_start
    diff = x[start : start + N] - x[start + N : start + 2 * N]
    cells = model.cell_shares.reshape(n, K) * x[:n, None] + diff.reshape(n, K)
    return np.maximum(cells, 0.0).reshape(R, P, K)

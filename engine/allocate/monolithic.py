"""The monolithic path: every rep × product × month cell in the one model.

For rule sets small enough, or to prove the staged decomposition exact: the
stage-1 model plus one column per cell, ``Σ_k m[r,p,k] = t[r,p]``, the
seasonality band ``(s_k − tol)·t <= m_k <= (s_k + tol)·t`` and the quarter
checkpoints on each cell's quarter. The bands are homogeneous in ``t`` and
always satisfiable by ``m = s·t``, which is why the staged optimum equals
this one (tests/test_allocate_staged.py proves it on small instances).
"""

from __future__ import annotations

import numpy as np

from attain.allocate.build import Model, RowBlock
from attain.allocate.split import is_ramping

__all__ = ["add_cells", "cell_values"]

INF = np.inf
K = 12


def add_cells(model: Model, shares: np.ndarray) -> None:
    """Add the month cells; ``shares[r, p, k]`` is each cell's profile share."""
    inputs = model.inputs
    R, P = inputs.n_reps, inputs.n_products
    n = R * P
    first = model.add_cols(n * K)[0]
    model.n_cells = n * K
    model.cell_start = int(first)
    cell = np.arange(n * K)
    total_col = cell // K  # the t[r, p] column of each cell
    # Σ_k m - t = 0
    rows = np.concatenate([total_col, np.arange(n)])
    cols = np.concatenate([first + cell, np.arange(n)])
    vals = np.concatenate([np.ones(n * K), -np.ones(n)])
    split = RowBlock("month_split", "structure", "rep", np.arange(n) // P, rows, cols, vals,
                     np.zeros(n), np.zeros(n), np.zeros(n), is_rule=False)  # fmt: skip
    model.blocks.append(split)
    season = inputs.rules.seasonality
    tol = season.tolerance
    s = shares.reshape(n * K)
    rows = np.concatenate([cell, cell, cell + n * K, cell + n * K])
    cols = np.concatenate([first + cell, total_col, first + cell, total_col])
    vals = np.concatenate([np.ones(n * K), -(s - tol), np.ones(n * K), -(s + tol)])
    lower = np.concatenate([np.zeros(n * K), np.full(n * K, -INF)])
    upper = np.concatenate([np.full(n * K, INF), np.zeros(n * K)])
    rep = np.concatenate([cell, cell]) // (P * K)
    band = RowBlock("seasonality", "seasonality", "rep", rep, rows, cols, vals, lower, upper,
                    np.zeros(2 * n * K))  # fmt: skip
    model.blocks.append(band)
    _checkpoints(model, first)


def _checkpoints(model: Model, first: int) -> None:
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
            rows += [np.repeat(r, 3), r]
            cols += [(first + rp[:, None] * K + months[None, :]).ravel(), rp]
            vals += [np.ones(3 * m), np.full(m, -bound)]
            lower.append(np.full(m, lo))
            upper.append(np.full(m, hi))
    if not lower:
        return
    units = np.tile(np.repeat(keep, P), len(lower))
    block = RowBlock("checkpoints", "seasonality", "rep", units, np.concatenate(rows),
                     np.concatenate(cols), np.concatenate(vals), np.concatenate(lower),
                     np.concatenate(upper), np.zeros(sum(len(x) for x in lower)))  # fmt: skip
    model.blocks.append(block)


def cell_values(model: Model, x: np.ndarray) -> np.ndarray:
    """The month cells of a solved monolithic model, as rep × product × month."""
    inputs = model.inputs
    cells = x[model.cell_start : model.cell_start + model.n_cells]
    return np.maximum(cells, 0.0).reshape(inputs.n_reps, inputs.n_products, K)

"""Solved arrays → the labelled DataFrames and summary of an :class:`Allocation`."""

from __future__ import annotations

import calendar
from typing import Any

import numpy as np
import pandas as pd

from attain.allocate.result import json_safe
from attain.allocate.rounding import apportion

__all__ = ["build_frames"]


def build_frames(
    inputs, model, solution, binding, pairs, rounded, fairness, solver, method,
    build_seconds, round_seconds, fair,
) -> dict[str, Any]:  # fmt: skip
    unit = rounded["unit"]
    decimals = max(0, int(np.ceil(-np.log10(unit) - 1e-9))) if unit < 1 else 0
    targets = _targets(inputs, rounded, unit, decimals)
    rules = _rules(model, solution, binding)
    explain = _explain(inputs, model, solution, binding, pairs, rounded, fair, unit)
    levels = _levels(inputs, rounded, unit, fair)
    bent = rules[rules["soft"] & (rules["bent"] > 0)]
    summary = {
        "status": solution.status.value,
        "objective": solution.objective,
        "objectives": {lv.name: lv.value for lv in solution.levels},
        "mip_gap": max((lv.gap or 0.0 for lv in solution.levels), default=0.0),
        "name": inputs.rules.name,
        "currency": inputs.company.rules.currency,
        "company_target": inputs.company_target,
        "total_target": float(rounded["rep"].sum() * unit),
        "total_challenge": float(rounded["challenge"].sum() * unit),
        "level_totals": {lv: float(v.sum() * unit) for lv, v in rounded["levels"].items()},
        "buffer": inputs.buffer,
        "rounding_unit": unit,
        "decimals": decimals,
        "solver": solver,
        "method": method,
        "build_seconds": build_seconds,
        "solve_seconds": solution.solve_seconds,
        "round_seconds": round_seconds,
        "n_reps": inputs.n_reps,
        "n_products": inputs.n_products,
        "granularity": inputs.rules.seasonality.granularity,
        "periods": targets["period"].unique().tolist(),
        "n_variables": int(solution.assembled.problem.n_cols),
        "n_constraints": int(solution.assembled.problem.n_rows),
        "fairness": fairness,
        "bent_soft_rules": bent[
            ["rule", "type", "level", "priority", "penalty", "bent", "n_bent"]
        ].to_dict(orient="records"),
        "rules": rules.drop(columns=["describe"]).to_dict(orient="records"),
    }
    return {
        "targets": targets,
        "levels": levels,
        "explain": explain,
        "rules": rules,
        "summary": json_safe(summary),
    }


def _targets(inputs, rounded, unit, decimals) -> pd.DataFrame:
    labels, target, challenge = period_cells(inputs, rounded)
    R, P, K = target.shape
    reps = inputs.reps
    rep_idx = np.repeat(np.arange(R), K * P)
    frame = pd.DataFrame({"rep_id": reps["rep_id"].to_numpy()[rep_idx]})
    for level in inputs.company.hierarchy:
        frame[level] = reps[level].to_numpy()[rep_idx]
    # Rows run rep → period → product; the arrays are rep × product × period.
    frame["period"] = np.tile(np.repeat(np.asarray(labels, dtype=object), P), R)
    frame["product"] = np.tile(np.array(inputs.products), R * K)
    frame["target"] = np.round(target.transpose(0, 2, 1).ravel() * unit, decimals)
    frame["challenge"] = np.round(challenge.transpose(0, 2, 1).ravel() * unit, decimals)
    return frame


def period_cells(inputs, rounded) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Period labels and the rounded target and challenge cells (rep × product × period, in
    rounding units) at the seasonality's ``granularity``.

    ``quarter`` sums each fiscal quarter's three months; ``week`` splits each month cell over
    :func:`month_weeks` by largest remainders. Either way every period cell is a whole number
    of units and the periods of a month or a year add up exactly to it.
    """
    month, chal = rounded["month"], rounded["challenge"]
    granularity = inputs.rules.seasonality.granularity
    if granularity == "quarter":
        R, P, K = month.shape
        year = inputs.company.rules.fiscal_year
        labels = [f"{year:04d}-Q{q + 1}" for q in range(K // 3)]
        quarters = (R, P, K // 3, 3)
        return labels, month.reshape(quarters).sum(axis=3), chal.reshape(quarters).sum(axis=3)
    if granularity == "week":
        labels, of_month, share = month_weeks(inputs.periods)
        return labels, split_weeks(month, of_month, share), split_weeks(chal, of_month, share)
    return list(inputs.periods), month, chal


def month_weeks(periods) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The weeks of each ``YYYY-MM`` period: days 1–7, 8–14, 15–21, 22–28 and 29–end (a week
    with no days — W5 of a 28-day February — is left out).

    Returns the labels ``YYYY-MM-Wn``, each week's month index and its share of the month's
    days.
    """
    labels, of_month, share = [], [], []
    for k, period in enumerate(periods):
        days = calendar.monthrange(int(period[:4]), int(period[5:7]))[1]
        for w in range(5):
            n = min(7, days - 7 * w)
            if n > 0:
                labels.append(f"{period}-W{w + 1}")
                of_month.append(k)
                share.append(n / days)
    return labels, np.asarray(of_month, dtype=np.int64), np.asarray(share)


def split_weeks(cells: np.ndarray, of_month: np.ndarray, share: np.ndarray) -> np.ndarray:
    """Split integer month cells (… × month) over their weeks (… × week) by largest remainders.

    Each cell's weeks get ``cell × share`` rounded down or up, ties to the earlier week, and
    add up exactly to the cell.
    """
    lead = cells.shape[:-1]
    K, W = cells.shape[-1], len(of_month)
    flat = cells.reshape(-1, K).astype(np.int64)
    n = flat.shape[0]
    exact = flat[:, of_month] * share[None, :]  # n × W
    groups = np.repeat(np.arange(n) * K, W) + np.tile(of_month, n)
    weeks = apportion(exact.ravel(), groups, flat.ravel())
    return weeks.reshape(*lead, W)


def _rules(model, solution, binding) -> pd.DataFrame:
    a = solution.assembled
    rows = []
    n_bind = np.bincount(
        a.row_block, weights=binding.at_lower | binding.at_upper, minlength=len(model.blocks)
    )
    bent = np.bincount(a.row_block, weights=binding.bent, minlength=len(model.blocks))
    n_bent = np.bincount(a.row_block, weights=binding.bent > 0, minlength=len(model.blocks))
    worth = np.bincount(a.row_block, weights=binding.worth, minlength=len(model.blocks))
    # The last objective level's figure; empty when the objective has one level.
    worth_last = (
        np.full(len(model.blocks), np.nan)
        if binding.worth_last is None
        else np.bincount(a.row_block, weights=binding.worth_last, minlength=len(model.blocks))
    )
    for i, b in enumerate(model.blocks):
        if not b.is_rule:
            continue
        rows.append(
            {
                "rule": b.name,
                "type": b.kind,
                "level": b.level,
                "soft": bool(b.soft),
                "priority": b.priority,
                "penalty": b.penalty,
                "rows": b.n_rows,
                "binding": int(n_bind[i]),
                "bent": float(bent[i]),
                "n_bent": int(n_bent[i]),
                "worth_per_point": float(worth[i]),
                "last_worth_per_point": float(worth_last[i]),
                "describe": b.describe,
            }
        )
    return pd.DataFrame(rows)


def _explain(inputs, model, solution, binding, pairs, rounded, fair, unit) -> pd.DataFrame:
    R, P = inputs.n_reps, inputs.n_products
    names = np.array([b.name for b in model.blocks], dtype=object)
    reps = inputs.reps
    lp_total = solution.x[: R * P].reshape(R, P).sum(axis=1)
    ly = inputs.last_year.sum(axis=1)
    target = rounded["rep"] * unit
    frame = pd.DataFrame({"level": "rep", "unit": reps["rep_id"].to_numpy()})
    for level in inputs.company.hierarchy:
        frame[level] = reps[level].to_numpy()
    frame["fair_share"] = inputs.fair.sum(axis=1)
    frame["last_year"] = ly
    frame["potential"] = inputs.potential.sum(axis=1)
    frame["target"] = target
    frame["challenge"] = rounded["challenge"].sum(axis=(1, 2)) * unit
    frame["lp_target"] = lp_total
    frame["gap"] = np.where(fair > 0, lp_total / fair - 1, 0.0)
    frame["growth"] = np.where(ly > 0, target / np.where(ly > 0, ly, 1) - 1, np.nan)
    binding_rules, lever, worth = _rep_levers(pairs, names, R)
    frame["binding_rules"] = binding_rules
    frame["top_lever"] = lever
    frame["lever_per_point"] = worth
    if binding.worth_last is None:  # one objective level: the lever above is the last's
        frame["last_lever"] = ""
        frame["last_lever_per_point"] = np.nan
    else:
        _, lever, worth = _rep_levers(pairs, names, R, "worth_last")
        frame["last_lever"] = lever
        frame["last_lever_per_point"] = worth
    return pd.concat(
        [frame, _unit_rows(inputs, model, solution, binding, rounded, unit)], ignore_index=True
    )


def _rep_levers(pairs: pd.DataFrame, names: np.ndarray, R: int, column: str = "worth"):
    """Per rep: its binding rules, and the rule whose ``column`` (a level's worth per point)
    helps most, with that worth (none when no binding rule helps)."""
    binding_rules = np.full(R, "", dtype=object)
    lever = np.full(R, "", dtype=object)
    worth = np.zeros(R)
    if not len(pairs):
        return binding_rules, lever, worth
    p = pairs.assign(name=names[pairs["block"].to_numpy()])
    # Each rep's names, sorted, joined: one slice per rep of the sorted pairs (a groupby
    # ``agg`` builds a Series per rep: 0.2 s at 10,000 reps).
    ordered = p.drop_duplicates(["rep", "name"]).sort_values(["rep", "name"])
    reps = ordered["rep"].to_numpy()
    rule_names = ordered["name"].to_numpy(dtype=object)
    starts = np.flatnonzero(np.r_[True, reps[1:] != reps[:-1]])
    ends = np.r_[starts[1:], len(reps)]
    binding_rules[reps[starts]] = [
        ";".join(rule_names[a:b]) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)
    ]
    best = p.sort_values(["rep", column, "name"], kind="stable").drop_duplicates("rep")
    best = best[best[column] < 0]
    lever[best["rep"].to_numpy()] = best["name"].to_numpy()
    worth[best["rep"].to_numpy()] = best[column].to_numpy()
    return binding_rules, lever, worth


def _unit_rows(inputs, model, solution, binding, rounded, unit) -> pd.DataFrame:
    """One row per unit of each hierarchy level and the company, with its binding rules."""
    a = solution.assembled
    frames = []
    for level in inputs.levels[:-1]:
        names = inputs.unit_names[level]
        codes = inputs.codes[level]
        scale = inputs.level_scale(level)
        n = len(names)
        active = np.full(n, "", dtype=object)
        level_blocks = [i for i, b in enumerate(model.blocks) if b.is_rule and b.level == level]
        for i in level_blocks:
            rows = np.flatnonzero(
                (a.row_block == i) & (binding.at_lower | binding.at_upper | (binding.bent > 0))
            )
            units = np.unique(model.blocks[i].units[a.row_local[rows]])
            for u in units:
                active[u] = (
                    f"{active[u]};{model.blocks[i].name}" if active[u] else model.blocks[i].name
                )
        frame = pd.DataFrame({"level": level, "unit": names})
        frame["fair_share"] = (
            np.bincount(codes, weights=inputs.fair.sum(axis=1), minlength=n) * scale
        )
        frame["last_year"] = np.bincount(codes, weights=inputs.last_year.sum(axis=1), minlength=n)
        frame["potential"] = np.bincount(codes, weights=inputs.potential.sum(axis=1), minlength=n)
        frame["target"] = rounded["levels"][level] * unit
        frame["binding_rules"] = active
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def level_frame(inputs, rounded, unit, level: str, fair) -> pd.DataFrame:
    names = inputs.unit_names[level]
    codes = inputs.codes[level]
    n = len(names)
    target = rounded["levels"][level] * unit
    frame = pd.DataFrame({level if level != "company" else "unit": names, "target": target})
    frame["share"] = target / max(target.sum(), 1e-300)
    frame["fair_share"] = np.bincount(
        codes, weights=inputs.fair.sum(axis=1), minlength=n
    ) * inputs.level_scale(level)
    frame["reps"] = np.bincount(codes, minlength=n)
    return frame


def _levels(inputs, rounded, unit, fair) -> dict[str, pd.DataFrame]:
    return {level: level_frame(inputs, rounded, unit, level, fair) for level in inputs.levels[:-1]}

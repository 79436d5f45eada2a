"""Each recorded line's explanation: the parts that add up to its amount.

A regular line of period ``P`` keeps the parts of the explanation record
(:meth:`attain.Payouts.explanation`, the table ``statements.csv`` is made of) of its
plan, rep, component and period — tier slices, rates, bases, rounding, paid before. An
adjustment line for a closed period ``Q`` keeps the parts of ``Q``'s line as recomputed
now, then ``recorded for Q before this close`` (what the ledger held for it, negative),
so its parts add up to the difference it pays. A manual line is one part: its reason
code, author and reason. The ledger stores them in ``line_parts``; a paid line is then
explained from the ledger alone, whatever the plan files have become.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

__all__ = ["PART_FIELDS", "close_parts", "manual_parts", "period_rows"]

#: The record's columns → the ledger's ``line_parts`` columns.
PART_FIELDS = {
    "part": "part",
    "measure": "measure",
    "from": "from_value",
    "to": "to_value",
    "base": "base",
    "rate": "rate",
}
_LINE_KEY = ["rep_id", "period", "component"]
COLUMNS = ["pos", *PART_FIELDS.values(), "amount", "detail"]


def close_parts(results, lines: pd.DataFrame) -> pd.DataFrame:
    """The parts of a close's regular and adjustment lines: ``lines`` has ``pos, plan,
    rep_id, component, kind, for_period, paid_before``; returns :data:`COLUMNS`, in line
    order then part order (``amount`` in minor units)."""
    from attain.incentive.explain import explanation

    frames = []
    for result in results:
        name = result.compiled.name
        mine = lines[(lines["plan"] == name) & lines["kind"].isin(["regular", "adjustment"])]
        if mine.empty:
            continue
        wanted = mine[["pos", "rep_id", "component", "for_period", "kind", "paid_before"]]
        wanted = wanted.rename(columns={"for_period": "period"})
        candidates = period_rows(result.lines, set(pd.unique(wanted["period"].astype(str))))
        head = result.lines[_LINE_KEY].iloc[candidates].astype(str)
        head["at"] = candidates
        pairs = head.merge(wanted[["pos", *_LINE_KEY]], on=_LINE_KEY)  # at ↔ pos
        rows = _sorted_unique(pairs["at"].to_numpy(), len(result.lines))
        if len(rows):
            subset = result.lines.iloc[rows].reset_index(drop=True)
            record = explanation(dataclasses.replace(result, lines=subset), strings=False)
            frames.append(_from_record(_with_pos(record, pairs)))
        adjust = wanted[(wanted["kind"] == "adjustment") & (wanted["paid_before"] != 0)]
        if len(adjust):
            frames.append(
                _one_part(
                    adjust["pos"].to_numpy(),
                    "recorded for " + adjust["period"].astype(str) + " before this close",
                    "",
                    -adjust["paid_before"].to_numpy(np.int64),
                    order=1,
                )
            )
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out = out.sort_values(["pos", "order"], kind="stable").drop(columns="order")
    return out.reset_index(drop=True)[COLUMNS]


def _sorted_unique(at: np.ndarray, n: int) -> np.ndarray:
    """``np.unique`` of row numbers below ``n``, by marking them (no sort)."""
    marked = np.zeros(n, dtype=bool)
    marked[at] = True
    return np.flatnonzero(marked)


def _with_pos(record: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """The explanation record of the lines at ``pairs["at"]`` with the ``pos`` of each
    part's line, as merging it on :data:`_LINE_KEY` gives it: when each line has one
    position (always, but for a repeated key), read by the record's ``line`` (its row
    among the sorted ``at``), not by a merge on three text columns."""
    if not pairs["at"].is_unique:
        return record.merge(pairs[["pos", *_LINE_KEY]], on=_LINE_KEY, sort=False)
    pos = pairs["pos"].to_numpy()[np.argsort(pairs["at"].to_numpy(), kind="stable")]
    return record.assign(pos=pos[record["line"].to_numpy()])


def period_rows(lines: pd.DataFrame, periods: set[str]) -> np.ndarray:
    """The rows of a result's lines in ``periods`` (by the period's code, not its text:
    the lines of a year are many more than those of the periods a close explains)."""
    period = lines["period"]
    if isinstance(period.dtype, pd.CategoricalDtype):
        wanted = np.isin(np.asarray(period.cat.categories, dtype=object), list(periods))
        return np.flatnonzero(wanted[period.cat.codes.to_numpy()])
    return np.flatnonzero(period.astype(str).isin(periods).to_numpy())


def manual_parts(manual: pd.DataFrame) -> pd.DataFrame:
    """One part per manual line: ``manual`` has ``pos, amount, cause``."""
    if manual.empty:
        return pd.DataFrame(columns=COLUMNS)
    out = _one_part(
        manual["pos"].to_numpy(),
        manual["cause"].astype(str),
        "",
        manual["amount"].to_numpy(np.int64),
        order=0,
    )
    return out.drop(columns="order")[COLUMNS]


def _from_record(record: pd.DataFrame) -> pd.DataFrame:
    known = {"line", *_LINE_KEY, *PART_FIELDS, "amount", "amount_minor", "pos"}
    extra = [c for c in record.columns if c not in known]
    out = pd.DataFrame({"pos": record["pos"].to_numpy(np.int64), "order": 0})
    for source, column in PART_FIELDS.items():
        values = record[source] if source in record.columns else ""
        out[column] = _text(pd.Series(values, index=record.index))
    out["amount"] = record["amount_minor"].to_numpy(np.int64)
    if extra:  # further columns of the record (e.g. a deal's breakdown) kept as JSON
        text = record[extra].astype(str).to_json(orient="records", lines=True, force_ascii=False)
        out["detail"] = text.splitlines()
    else:
        out["detail"] = None
    return out


def _text(values: pd.Series) -> np.ndarray:
    """A record's column as Python strings, a missing value empty (``fillna("")``, then
    ``astype(str)``): a column of strings already is kept as it is, not converted to
    Arrow and back (a close's parts are millions of cells)."""
    if values.dtype == object:
        cells = values.to_numpy()
        if pd.api.types.infer_dtype(cells, skipna=False) == "string":
            return cells
    return values.fillna("").astype(str).to_numpy()


def _one_part(pos, part, measure, amount, order: int) -> pd.DataFrame:
    n = len(pos)
    part = np.asarray(part, dtype=object) if not isinstance(part, str) else np.full(n, part, object)
    return pd.DataFrame(
        {
            "pos": np.asarray(pos, dtype=np.int64),
            "order": order,
            "part": part,
            "measure": measure,
            "from_value": "",
            "to_value": "",
            "base": "",
            "rate": "",
            "amount": np.asarray(amount, dtype=np.int64),
            "detail": None,
        }
    )

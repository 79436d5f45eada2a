"""Closing a period: the exact payouts up to it as of now, reconciled with the ledger.

For each plan, rep and line (component, or an adjustment line such as ``rounding``),
the exact evaluator gives what every period up to the closed one is payable as of
today's data and plan (``payouts(through=)``: later periods are not evaluated). The
ledger holds what was recorded for each period (regular lines, and adjustments naming
it in ``for_period``). Closing period ``P``:

- each closed period ``Q < P`` whose recomputed amount differs from what the ledger
  holds for it gets an ``adjustment`` line in ``P`` for the difference, naming ``Q`` and
  the cause (the plan or the data changed since the previous close);
- ``P`` gets its ``regular`` lines. With a year-to-date measure the regular amount is
  the earned to date less what the ledger holds for the earlier periods after this
  close's adjustments (``paid_before``), which is what the evaluator's true-up pays.

So after every close, what the ledger holds for each period equals the recomputation,
and the sum over the year equals what the year to date earned: nothing paid twice, no
closed line changed. Manual lines are the user's and are never reconciled away.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["KEY", "reconcile"]

KEY = ["plan", "rep_id", "component", "for_period"]


def reconcile(
    computed: pd.DataFrame, recorded: pd.DataFrame, labels: list[str], period: str
) -> pd.DataFrame:
    """The lines a close of ``period`` records.

    ``computed``: ``plan, rep_id, component, for_period, amount, earned_to_date`` — every
    period of the year as of now; ``recorded``: ``plan, rep_id, component, for_period,
    amount`` — the ledger's sums per period (manual lines excluded). Returns ``plan,
    rep_id, component, kind, for_period, amount, earned_to_date, paid_before`` (non-zero
    amounts only), adjustments first, in key order.
    """
    at = labels.index(period)
    computed = computed[_position(computed["for_period"], labels) <= at]
    recorded = recorded[_position(recorded["for_period"], labels) < at]
    both = computed.merge(
        recorded.rename(columns={"amount": "recorded"}), on=KEY, how="outer", sort=False
    )
    both["amount"] = both["amount"].fillna(0).astype(np.int64)
    both["recorded"] = both["recorded"].fillna(0).astype(np.int64)
    both["earned_to_date"] = both["earned_to_date"].fillna(0).astype(np.int64)
    current = both["for_period"] == period
    adjust = both[~current].copy()
    adjust["amount"] = adjust["amount"] - adjust["recorded"]
    adjust = adjust[adjust["amount"] != 0]
    adjust["kind"] = "adjustment"
    # Paid before P, per line, once this close's adjustments are in.
    before = (
        both[~current]
        .assign(after=lambda d: d["amount"])
        .groupby(["plan", "rep_id", "component"], sort=False)["after"]
        .sum()
    )
    regular = both[current].copy()
    regular["kind"] = "regular"
    keys = pd.MultiIndex.from_frame(regular[["plan", "rep_id", "component"]])
    regular["paid_before"] = before.reindex(keys, fill_value=0).to_numpy(np.int64)
    regular = regular[regular["amount"] != 0]
    adjust["paid_before"] = adjust["recorded"]
    adjust["earned_to_date"] = 0
    out = pd.concat([adjust, regular], ignore_index=True)
    out["order"] = _position(out["for_period"], labels)
    out = out.sort_values(["plan", "rep_id", "component", "order"], kind="stable")
    cols = ["plan", "rep_id", "component", "kind", "for_period", "amount", "earned_to_date"]
    return out[[*cols, "paid_before"]].reset_index(drop=True)


def _position(periods: pd.Series, labels: list[str]) -> np.ndarray:
    """Each period's position in the year; one not of the year after them all (found by
    a hash of the labels: a close has a million lines)."""
    at = pd.Index(labels).get_indexer(periods)
    return np.where(at < 0, len(labels), at)

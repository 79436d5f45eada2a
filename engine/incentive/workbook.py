"""payouts.xlsx: the payout lines, each participant's year by component, the components'
totals and the explanation parts, formatted (money in the plan's currency and decimals,
percentages), frozen headers and autofilters, byte-identical on every run
(:mod:`attain.xlsx`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from attain.xlsx import Styles, table, write_workbook

__all__ = ["write_payouts_xlsx"]

_ORG = ("name", "role", "team", "region")


def write_payouts_xlsx(path: str | Path, payouts) -> Path:
    """Sheets ``plan`` (what was run: plan, version, currency, year, total), ``payouts``
    (one row per line), ``by rep`` (each participant's year, one column per line kind,
    and the total), ``by component`` (totals and share of the payout) and ``parts`` (the
    explanation record: every line's parts, adding up to it)."""
    compiled = payouts.compiled
    unit, scale = compiled.minor_unit, compiled.scale
    styles = Styles(payouts.currency, unit)
    people = payouts._context["book"].people
    org = [c for c in _ORG if c in people.columns]
    who = people[["rep_id", *org]].astype(str)
    lines = payouts.lines
    labels = {c.name: c.label for c in compiled.components}
    line_table = pd.DataFrame(
        {
            "rep_id": lines["rep_id"].astype(str).to_numpy(),
            "period": lines["period"].astype(str).to_numpy(),
            "component": lines["component"].astype(str).to_numpy(),
        }
    ).merge(who, on="rep_id", how="left")
    line_table["line"] = line_table["component"].map(lambda k: labels.get(k, k.replace("_", " ")))
    line_table["amount"] = lines["amount_minor"].to_numpy() / scale
    line_table = line_table[["rep_id", *org, "period", "component", "line", "amount"]]
    by_rep = _by_rep(payouts, who, scale)
    summary = payouts.summary
    total_minor = int(payouts.totals["payable_minor"].sum())
    by_component = lines.groupby("component", sort=False, observed=True)["amount_minor"].agg(
        ["sum", "size"]
    )
    by_component = by_component[(by_component["sum"] != 0) | by_component.index.isin(labels)]
    components = pd.DataFrame(
        {
            "component": by_component.index.astype(str),
            "lines": by_component["size"].to_numpy(),
            "amount": by_component["sum"].to_numpy() / scale,
            "share of payout": by_component["sum"].to_numpy() / total_minor
            if total_minor
            else np.zeros(len(by_component)),
        }
    )
    plan = pd.DataFrame(
        [
            ("plan", compiled.name),
            ("version", compiled.version),
            ("description", compiled.description),
            ("currency", payouts.currency),
            ("fiscal year", str(summary["fiscal_year"])),
            ("period", compiled.period),
            ("participants", f"{summary['n_participants']:,}"),
            ("total payout", summary["total_payout"]),
        ],
        columns=["field", "value"],
    )
    parts = payouts.explanation(internal=True)
    parts = parts.drop(columns=["line", "amount"]).rename(columns={"amount_minor": "amount"})
    parts["amount"] = parts["amount"].to_numpy() / scale
    money = {"amount": "money"}
    sheets = [
        *table("plan", plan, {}, styles),
        *table("payouts", line_table, money, styles, freeze_columns=1),
        *table("by rep", by_rep, {c: "money" for c in by_rep.columns[len(org) + 1 :]}, styles),
        *table(
            "by component",
            components,
            {"lines": "integer", "amount": "money", "share of payout": "percent"},
            styles,
        ),
        *table("parts", parts, money, styles, freeze_columns=1),
    ]
    return write_workbook(path, sheets, styles)


def _by_rep(payouts, who: pd.DataFrame, scale: int) -> pd.DataFrame:
    """Each participant's year: one money column per line kind with an amount, the total."""
    lines = payouts.lines
    kinds = [str(k) for k in lines["component"].cat.categories]
    people = pd.Index(pd.unique(payouts.totals["rep_id"]))
    r = people.get_indexer(lines["rep_id"])
    k = lines["component"].cat.codes.to_numpy()
    grid = np.zeros((len(people), len(kinds)), dtype=np.int64)
    np.add.at(grid, (r, k), lines["amount_minor"].to_numpy())
    names = {c.name for c in payouts.compiled.components}
    keep = [i for i, name in enumerate(kinds) if name in names or grid[:, i].any()]
    out = pd.DataFrame({"rep_id": people.astype(str)}).merge(who, on="rep_id", how="left")
    for i in keep:
        out[kinds[i]] = grid[:, i] / scale
    year = payouts.totals.groupby("rep_id", sort=False)["payable_minor"].sum()
    out["total"] = year.reindex(people).to_numpy() / scale
    return out

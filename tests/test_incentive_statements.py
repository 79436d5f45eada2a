"""Statements list the credited deals and, for deal and cumulative scopes, what each deal
earned at which rate, from the explanation record; the per-deal rows add up to the line."""

from __future__ import annotations

import pandas as pd
import pytest

from attain.data import company_from_frames
from attain.incentive import load_plan, payouts

COMPANY = {
    "kind": "company",
    "name": "Tiny",
    "currency": "EUR",
    "fiscal_year": 2027,
    "hierarchy": ["team"],
    "products": ["a", "b"],
    "tables": {"org": "org.csv"},
}
ORG = [("R1", "rep", 1.1), ("R2", "rep", 1.0), ("M1", "manager", 1.0)]
COLUMNS = ["date", "rep_id", "product", "amount", "split", "quantity", "new_customer", "type"]
TIERS = [{"start": 0, "end": 1_000_000, "rate": 0.08}, {"start": 1_000_000, "rate": 0.10}]


def run(plan_dict, rows):
    org = pd.DataFrame(
        [
            {"rep_id": r, "name": r, "team": "T1", "role": role, "tenure_months": 12}
            | {"capacity": 0, "target_incentive": 12_000, "collab": collab}
            for r, role, collab in ORG
        ]
    )
    company = company_from_frames(COMPANY, org=org)
    deals = pd.DataFrame([row[:-1] for row in rows], columns=COLUMNS)
    deals.insert(0, "deal_id", [row[-1] for row in rows])
    targets = pd.DataFrame(columns=["rep_id", "period", "product", "target"])
    return payouts(load_plan(plan_dict, company), targets, deals, company)


def plan(components, **kw) -> dict:
    return {"kind": "plan", "name": "t", "period": "year", "measure": "period", **kw} | {
        "components": components
    }


def commission(**kw):
    return {"type": "commission", "name": "c", "tiers": TIERS, **kw}


def _book(date, rep, amount, deal):
    return (date, rep, "a", amount, 1.0, 1, False, "booking", deal)


def _cancel(date, rep, amount, deal):
    return (date, rep, "a", amount, 1.0, 1, False, "cancellation", deal)


ROWS = [
    _book("2027-01-10", "R1", 1_100_000, "D1"),
    _book("2027-01-12", "R1", 300_000, "D2"),
    _cancel("2027-02-10", "R1", 200_000, "D1"),
    ("2027-01-10", "R2", "a", 1_000, 0.5, 1, False, "booking", "D3"),
    ("2027-01-10", "R1", "a", 1_000, 0.5, 1, False, "booking", "D3"),
]


def _lines(r) -> pd.Series:
    lines = r.lines.astype({"period": str, "component": str})
    return lines.set_index(["rep_id", "period", "component"])["amount_minor"]


@pytest.mark.parametrize("scope", ["deal", "cumulative"])
@pytest.mark.parametrize("measure", ["ytd", "period"])
def test_per_deal_amounts_add_up_to_every_line(scope, measure):
    """Retroactive 8% / 10% from 1M, a 1.1 modifier for R1: each deal's commission, then a
    row for the rest of the line (the modifier), add up to the line, period by period."""
    p = plan(
        [commission(method="retroactive", scope=scope)],
        period="month",
        measure=measure,
        modifiers=[{"name": "collab", "column": "collab"}],
    )
    r = run(p, ROWS)
    b = r.deal_breakdown()
    sums = b.groupby(["rep_id", "period", "component"])["amount_minor"].sum()
    lines = _lines(r)
    lines = lines[lines.index.get_level_values("component") == "c"]
    assert (lines.reindex(sums.index) == sums).all()
    assert set(lines[lines != 0].index) <= set(sums.index)
    d1 = b[(b["deal_id"] == "D1") & (b["period"] == "2027-01")].iloc[0]
    assert (d1["credit"], d1["rate"], d1["amount"]) == ("1100000.00", "10%", "110000.00")
    rest = b[(b["rep_id"] == "R1") & (b["period"] == "2027-01") & (b["deal_id"] == "")]
    assert rest["type"].str.startswith("rest of the line").all()
    assert rest["amount_minor"].sum() == lines["R1", "2027-01", "c"] // 11  # the 10%


def test_deal_scope_cancellation_re_prices_its_deal_in_the_breakdown():
    """1.1M booked at 10% = 110,000; 200k cancelled re-prices D1 to 900k at 8% = 72,000:
    the cancellation row earns −38,000 (19% of −200,000)."""
    r = run(plan([commission(method="retroactive", scope="deal")], period="month"), ROWS[:3])
    row = r.deal_breakdown().query("type == 'cancellation'").iloc[0]
    assert (row["credit"], row["amount"], row["rate"]) == ("-200000.00", "-38000.00", "19%")


def test_statement_lists_credited_deals_with_splits_and_what_each_deal_earned():
    r = run(plan([commission(method="retroactive", scope="deal")], period="month"), ROWS)
    text = r.statement("R1")
    assert "## Credited deals (4)" in text
    assert "| D3 | 2027-01-10 | a | 50% | 500.00 |" in text
    assert "| D1 | 2027-02-10 | a | 100% | -200,000.00 |" in text
    assert "## Earned by deal (4)" in text
    assert "| C | 2027-02 | D1 | 2027-02-10 | -200,000.00 | 19% | -38,000.00 |" in text
    deals = r.credited_deals()
    assert deals.query("rep_id == 'R2'")[["deal_id", "split", "credit"]].values.tolist() == [
        ["D3", "0.5", "500.00"]
    ]


def test_statement_lists_the_largest_deals_and_counts_the_rest(monkeypatch):
    from attain.incentive import statements

    monkeypatch.setattr(statements, "TOP_DEALS", 2)
    r = run(plan([commission(method="retroactive", scope="deal")], period="month"), ROWS)
    text = r.statement("R1")
    assert "The 2 largest; 2 more in credited_deals.csv." in text
    assert "| D1 | 2027-01-10 | a | 100% | 1,100,000.00 |" in text
    assert "| D3 |" not in text.split("## Credited deals")[1].split("## Earned")[0]


def test_the_deal_tables_are_written_beside_the_statements(tmp_path):
    r = run(plan([commission(method="retroactive", scope="deal")], period="month"), ROWS)
    r.write(tmp_path)
    deals = pd.read_csv(tmp_path / "credited_deals.csv", dtype=str)
    assert list(deals.columns) == [
        "rep_id", "period", "deal_id", "date", "type", "product", "customer", "split",
        "credit", "rolled_up",
    ]  # fmt: skip
    per_deal = pd.read_csv(tmp_path / "statement_deals.csv", dtype=str, keep_default_na=False)
    payouts = pd.read_csv(tmp_path / "payouts.csv", dtype=str)
    total = per_deal["amount"].map(float).sum()
    assert abs(total - payouts[payouts["component"] == "c"]["amount"].map(float).sum()) < 1e-6

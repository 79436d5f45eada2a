"""Instalments (holdback): part of each period's payable held back and paid later; paid
and unpaid parts tracked and clawed back separately; exact == vectorised."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.errors import DataError, RuleFileError
from attain.incentive import compile_plan, load_plan, payouts
from attain.incentive.vectorised import evaluate

ROOT = Path(__file__).resolve().parent.parent
D = Decimal
TARGETS = pd.DataFrame({"rep_id": ["R1"], "period": "2027", "product": "a", "target": 0})


def _doc_example(name: str = "holdback"):
    text = (ROOT / "docs" / "plans.md").read_text(encoding="utf-8")
    block = text.split(f"<!-- worked-example: {name} -->", 1)[1]
    plan_text = block.split("```yaml\n", 1)[1].split("```", 1)[0]
    csv_text = block.split("```csv\n", 1)[1].split("```", 1)[0]
    table = block.split("| rep | period | component | amount |", 1)[1].split("\n\n", 1)[0]
    expected = []
    for row in table.strip().splitlines()[2:]:
        rep, period, component, value = (c.strip() for c in row.strip("|").split("|")[:4])
        expected.append((rep, period, component, D(value.replace(",", ""))))
    deals = pd.read_csv(io.StringIO(csv_text), dtype=str).assign(product="a")
    deals = deals.astype({"amount": float})
    return yaml.safe_load(plan_text), deals, expected


def _lines(result):
    lines = result.lines
    return {
        (r, str(p), str(c)): D(int(m)) / 100
        for r, p, c, m in zip(
            lines.rep_id, lines.period, lines.component, lines.amount_minor, strict=True
        )
        if m != 0
    }


def _check_parts(result):
    parts = result.explanation(internal=True)
    total = parts.groupby("line")["amount_minor"].sum()
    assert sorted(total.index) == list(range(len(result.lines)))
    assert (total.to_numpy() == result.lines["amount_minor"].to_numpy()).all()


def test_the_documented_holdback_example():
    spec, deals, expected = _doc_example()
    r = payouts(spec, TARGETS, deals)
    assert _lines(r) == {(rep, p, c): v for rep, p, c, v in expected}
    assert r.summary.total_payout == "13500.00"
    assert r.summary.held_back_outstanding == "1500.00"
    assert r.summary.n_held_back_outstanding == 1
    held = r.totals.set_index("period")["held_balance_minor"].to_dict()
    assert held == {"2027-Q1": 300000, "2027-Q2": 500000, "2027-Q3": 0, "2027-Q4": 150000}
    text = r.statement("R1")
    assert "a clawback's share still held, cancelled (not taken from pay): 2,000.00" in text
    assert "(held back, to be paid later 1,500.00)" in text
    _check_parts(r)


def test_the_documented_release_on_payment():
    spec, deals, expected = _doc_example("holdback-payment")
    r = payouts(spec, TARGETS, deals)
    assert _lines(r) == {(rep, p, c): v for rep, p, c, v in expected}
    assert r.summary.held_back_outstanding == "2500.00"
    assert r.summary.total_payout == "18500.00"
    _check_parts(r)
    # a cancellation's held share cancels what is still held (A3's unpaid 2,500 first)
    more = pd.concat(
        [deals, pd.DataFrame([{"deal_id": "A2", "date": "2027-08-10", "rep_id": "R1",
                               "amount": 40000.0, "type": "cancellation", "product": "a"}])],
        ignore_index=True,
    )  # fmt: skip
    r = payouts(spec, TARGETS, more)
    lines = _lines(r)
    assert lines[("R1", "2027-Q3", "held_back")] == D("2000.00")
    assert r.summary.held_back_outstanding == "500.00"


def test_payment_dates_are_read_and_checked():
    spec, deals, _ = _doc_example("holdback-payment")
    bad = deals.copy()
    bad.loc[1, "paid_date"] = "soon"
    with pytest.raises(DataError) as e:
        payouts(spec, TARGETS, bad)
    (p,) = e.value.problems
    assert (p.row, p.field) == (2, "paid_date") and "not a date" in p.message
    with pytest.raises(DataError, match="reads the actuals column `paid_date`"):
        payouts(spec, TARGETS, deals.drop(columns="paid_date"))
    # paid before the booking's period ends: released at once
    early = deals.assign(paid_date=["2027-01-31", "2027-06-30", "2027-05-31"])
    r = payouts(spec, TARGETS, early)
    assert r.summary.held_back_outstanding is None
    assert r.totals["payable_minor"].tolist()[:2] == [600000, 1500000]


def test_year_end_release_pays_what_the_year_earned():
    spec, deals, _ = _doc_example()
    spec["holdback"] = {"share": 0.5}
    r = payouts(spec, TARGETS, deals)
    lines = _lines(r)
    # 3,000 + 5,000 − 2,000 cancelled, and Q4's own half, held and paid at once
    assert lines[("R1", "2027-Q4", "held_released")] == D("7500.00")
    assert lines[("R1", "2027-Q4", "held_back")] == D("-1500.00")
    assert r.summary.total_payout == "15000.00"
    assert r.summary.held_back_outstanding is None


def test_a_clawback_after_release_is_taken_from_pay():
    spec, deals, _ = _doc_example()
    spec["holdback"] = {"share": 0.5, "release": "later", "after_periods": 1}
    deals.loc[2, "date"] = "2027-11-10"  # the cancellation comes after Q2's half was paid
    deals = deals.iloc[:3]
    r = payouts(spec, TARGETS, deals)
    lines = _lines(r)
    # Q4: −4,000 of commission; its held half cancels nothing left (Q3 released Q2's 5,000)
    assert lines[("R1", "2027-Q4", "commission")] == D("-4000.00")
    assert ("R1", "2027-Q4", "held_back") not in lines
    assert r.totals.set_index("period")["payable_minor"]["2027-Q4"] == -400000


def test_holdback_and_draw_do_not_mix_and_later_needs_after_periods():
    spec, _, _ = _doc_example()
    with pytest.raises(RuleFileError, match="`draw` or a `holdback`"):
        load_plan({**spec, "draw": {"amount": 100}})
    with pytest.raises(RuleFileError, match="after_periods"):
        load_plan({**spec, "holdback": {"share": 0.5, "release": "later"}})
    with pytest.raises(RuleFileError, match="share"):
        load_plan({**spec, "holdback": {"share": 0}})


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_exact_and_vectorised_agree_with_a_holdback(data):
    from attain.incentive.exact import Windows, evaluate_exact
    from attain.schema.plan import Plan

    period = data.draw(st.sampled_from(["month", "quarter", "two_week"]))
    release = data.draw(st.sampled_from(["year_end", "later"]))
    holdback = {"share": data.draw(st.integers(1, 8)) / 8, "release": release}
    if release == "later":
        holdback["after_periods"] = data.draw(st.integers(1, 4))
    spec = {
        "kind": "plan",
        "name": "p",
        "period": period,
        "measure": data.draw(st.sampled_from(["period", "ytd"])),
        "negative_balance": data.draw(st.sampled_from(["carry_forward", "claw_back"])),
        "holdback": holdback,
        "components": [
            {
                "type": "commission",
                "name": "c",
                "method": data.draw(st.sampled_from(["marginal", "retroactive"])),
                "tiers": [
                    {"start": 0, "end": 50_000, "rate": 0.05},
                    {"start": 50_000, "rate": 0.1},
                ],
            }
        ],
    }
    plan = Plan.model_validate(spec)
    compiled = compile_plan(plan, ("a",))
    n_r, n_p = 4, compiled.n_periods
    ytd = plan.measure == "ytd"
    sales = np.array(
        data.draw(st.lists(st.integers(-30_000, 90_000), min_size=n_r * n_p, max_size=n_r * n_p)),
        float,
    ).reshape(n_r, n_p, 1)
    minor = (sales * 100).astype(np.int64)
    k = compiled.n_slots // n_p
    months = np.full(n_p, k)
    w = Windows(
        net=np.cumsum(minor, axis=1) if ytd else minor,
        gross=np.cumsum(minor, axis=1) if ytd else minor,
        targets=np.zeros_like(minor),
        ti=np.zeros(n_r, dtype=np.int64),
        months=np.cumsum(months) if ytd else months,
        periods=np.cumsum(np.ones(n_p, np.int64)) if ytd else np.ones(n_p, np.int64),
        active=np.ones(n_p, dtype=bool),
        participant=np.ones(n_r, dtype=bool),
        people=pd.DataFrame({"rep_id": [f"R{i}" for i in range(n_r)], "role": "rep"}),
    )
    ev = evaluate_exact(compiled, w)
    fl = evaluate(compiled, sales[:, None], np.zeros((n_r, n_p, 1)), ti=np.zeros(n_r), detail=True)
    assert list(fl) == list(ev.lines)
    # the exact path rounds each period's held part; the float path does not
    for name in ("held_back", "held_released"):
        i = ev.lines.index(name)
        diff = np.abs(fl[name][:, 0] * 100 - ev.payable[i])
        assert diff.max() <= 2 * n_p + 1e-6, (name, diff.max())
    year = evaluate(compiled, sales[:, None], np.zeros((n_r, n_p, 1)), ti=np.zeros(n_r))
    assert np.allclose(year[:, 0] * 100, ev.total.sum(axis=1), atol=4 * n_p)
    # what the year pays plus what is still held is what it earned
    earned = ev.payable[: ev.lines.index("held_back")].sum(axis=(0, 2))
    assert (ev.total.sum(axis=1) + ev.held_balance[:, -1] == earned).all()
    assert (ev.held_balance >= 0).all()

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
from attain.load import parse_rules

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
    deals = pd.read_csv(io.StringIO(csv_text), dtype=str)
    if "product" not in deals.columns:
        deals = deals.assign(product="a")
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
    # a cancellation's held share cancels its own deal's held part first: 2,000 of A2's
    # 5,000 (due in Q4), not A3's unpaid 2,500, which is due last
    more = pd.concat(
        [deals, pd.DataFrame([{"deal_id": "A2", "date": "2027-08-10", "rep_id": "R1",
                               "amount": 40000.0, "type": "cancellation", "product": "a"}])],
        ignore_index=True,
    )  # fmt: skip
    r = payouts(spec, TARGETS, more)
    lines = _lines(r)
    assert lines[("R1", "2027-Q3", "held_back")] == D("2000.00")
    assert lines[("R1", "2027-Q4", "held_released")] == D("3000.00")
    assert r.summary.held_back_outstanding == "2500.00"
    _check_parts(r)


def test_the_documented_cancellation_before_payment():
    spec, deals, expected = _doc_example("holdback-cancel")
    r = payouts(spec, TARGETS, deals)
    assert _lines(r) == {(rep, p, c): v for rep, p, c, v in expected}
    assert r.summary.total_payout == "6000.00"
    assert r.summary.held_back_outstanding == "2000.00"
    held = r.totals.set_index("period")["held_balance_minor"].to_dict()
    assert held == {"2027-Q1": 500000, "2027-Q2": 400000, "2027-Q3": 200000, "2027-Q4": 200000}
    text = r.statement("R1")
    assert "the cancelled deal's part still held, cancelled (not taken from pay): 1,000.00" in text
    _check_parts(r)


def test_a_cancellation_takes_its_own_deals_part_then_the_rest():
    spec, deals, _ = _doc_example("holdback-cancel")
    # A1 cancelled whole: its held half is 3,000 of the −6,000; A1's own parcel covers it
    whole = deals.copy()
    whole.loc[2, "amount"] = 60000.0
    lines = _lines(payouts(spec, TARGETS, whole))
    assert lines[("R1", "2027-Q2", "held_back")] == D("3000.00")
    assert ("R1", "2027-Q3", "held_released") not in lines  # nothing of A1 left to pay
    # A1 paid before its cancellation (in Q1): nothing of it is held, so the cancellation
    # cancels A2's unpaid part instead, and what remains is clawed back from pay
    paid = deals.copy()
    paid.loc[0, "paid_date"] = "2027-03-20"
    r = payouts(spec, TARGETS, paid)
    lines = _lines(r)
    assert lines[("R1", "2027-Q1", "held_back")] == D("-5000.00")
    assert lines[("R1", "2027-Q1", "held_released")] == D("3000.00")
    assert lines[("R1", "2027-Q2", "held_back")] == D("1000.00")
    assert r.summary.held_back_outstanding == "1000.00"
    parts = r.explanation(internal=True)
    q2 = parts[(parts["period"] == "2027-Q2") & (parts["component"] == "held_back")]
    assert q2["part"].tolist() == ["a clawback's share still held, cancelled (not taken from pay)"]
    _check_parts(r)


def test_the_documented_holdback_of_some_components():
    spec, deals, expected = _doc_example("holdback-components")
    targets = pd.concat([TARGETS, TARGETS.assign(product="b")], ignore_index=True)
    r = payouts(spec, targets, deals)
    assert _lines(r) == {(rep, p, c): v for rep, p, c, v in expected}
    assert r.summary.total_payout == "10000.00"
    assert r.summary.held_back_outstanding is None
    assert "this share of the period's payable of commission is paid later" in r.statement("R1")
    _check_parts(r)
    # all components named: the renewals' half is held too, and their clawback cancels it
    spec["holdback"]["components"] = ["commission", "renewals"]
    lines = _lines(payouts(spec, targets, deals))
    assert lines[("R1", "2027-Q1", "held_back")] == D("-4000.00")
    assert lines[("R1", "2027-Q3", "held_back")] == D("500.00")


def test_a_component_holdback_stays_within_the_payable():
    """The held components' part of a period never exceeds what the period pays (a total
    cap or the other components' clawback takes it down), nor its clawback."""
    spec, deals, _ = _doc_example("holdback-components")
    targets = pd.concat([TARGETS, TARGETS.assign(product="b")], ignore_index=True)
    # Q2: commission +3,000, renewals −2,000 (B1 cancelled whole): the period pays 1,000,
    # so half of 1,000 is held, not half of the commission's 3,000
    deals = deals.copy()
    deals.loc[3, ["date", "amount"]] = ["2027-05-20", 100000.0]
    lines = _lines(payouts(spec, targets, deals))
    assert lines[("R1", "2027-Q2", "held_back")] == D("-500.00")
    assert lines[("R1", "2027-Q4", "held_released")] == D("3500.00")
    # a clawback of the held component cancels no more than the period takes back
    deals.loc[3, ["date", "amount", "product"]] = ["2027-08-01", 50000.0, "a"]
    deals.loc[1, "amount"] = 400000.0  # renewals 8,000 in Q1
    spec["negative_balance"] = "claw_back"
    lines = _lines(payouts(spec, targets, deals))
    assert lines[("R1", "2027-Q3", "commission")] == D("-5000.00")
    assert lines[("R1", "2027-Q3", "held_back")] == D("2500.00")


def test_unknown_holdback_components_are_located_errors():
    text = (ROOT / "docs" / "plans.md").read_text(encoding="utf-8")
    block = text.split("<!-- worked-example: holdback-components -->", 1)[1]
    plan_text = block.split("```yaml\n", 1)[1].split("```", 1)[0]
    bad = plan_text.replace("components: [commission]}", "components: [commission, bonus]}")
    with pytest.raises(RuleFileError) as e:
        parse_rules(bad, source="plan.yaml")
    (p,) = e.value.problems
    assert p.path == "holdback.components[1]" and "unknown component `bonus`" in p.message
    assert (p.source, p.line, p.column) == ("plan.yaml", 6, 49)
    with pytest.raises(RuleFileError, match="named twice"):
        parse_rules(plan_text.replace("[commission]}", "[commission, commission]}"))


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
    held = data.draw(st.sampled_from([None, ["c"], ["d"], ["c", "d"]]))
    if held is not None:
        holdback["components"] = held
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
            },
            {"type": "commission", "name": "d", "tiers": [{"start": 0, "rate": 0.03}]},
        ],
    }
    if data.draw(st.booleans()):  # the total cap takes what the held components earn last
        spec["total_cap"] = {"amount": data.draw(st.integers(1, 20)) * 500}
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


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_release_on_payment_at_the_years_end_is_release_at_year_end(data):
    """Every booking paid in the plan's last period: releasing on payment (own deals'
    parcels cancelled first) pays exactly what `year_end` pays, line by line, and the
    vectorised path pays both alike, so exact == vectorised carries over to `payment`."""
    period = data.draw(st.sampled_from(["month", "quarter"]))
    held = data.draw(st.sampled_from([None, ["c"], ["c", "d"]]))
    spec = {
        "kind": "plan",
        "name": "p",
        "period": period,
        "measure": data.draw(st.sampled_from(["period", "ytd"])),
        "negative_balance": "claw_back",
        "holdback": {"share": data.draw(st.integers(1, 8)) / 8, "release": "payment"},
        "components": [
            {"type": "commission", "name": "c", "products": ["a"],
             "tiers": [{"start": 0, "end": 50_000, "rate": 0.05}, {"start": 50_000, "rate": 0.1}]},
            {"type": "commission", "name": "d", "products": ["b"],
             "tiers": [{"start": 0, "rate": 0.03}]},
        ],
    }  # fmt: skip
    if held is not None:
        spec["holdback"]["components"] = held
    rows = []
    for k in range(data.draw(st.integers(1, 8))):
        month = data.draw(st.integers(1, 12))
        product = data.draw(st.sampled_from("ab"))
        amount = data.draw(st.integers(1, 9_000)) * 10.07
        rows.append((f"D{k}", f"2027-{month:02d}-05", amount, "booking", product, "2027-12-20"))
        if data.draw(st.booleans()):
            later = data.draw(st.integers(month, 12))
            cut = round(amount * data.draw(st.sampled_from([0.3, 1.0])), 2)
            rows.append((f"D{k}", f"2027-{later:02d}-25", cut, "cancellation", product, ""))
    columns = ["deal_id", "date", "amount", "type", "product", "paid_date"]
    deals = pd.DataFrame(rows, columns=columns).assign(rep_id="R1")
    targets = pd.concat([TARGETS, TARGETS.assign(product="b")], ignore_index=True)
    on_payment = payouts(spec, targets, deals)
    year_end = {**spec, "holdback": {**spec["holdback"], "release": "year_end"}}
    at_year_end = payouts(year_end, targets, deals.drop(columns="paid_date"))
    assert _lines(on_payment) == _lines(at_year_end)
    _check_parts(on_payment)
    vector = [compile_plan(load_plan(s), ("a", "b")) for s in (spec, year_end)]
    n_p = vector[0].n_periods
    sales = np.array(data.draw(st.lists(st.integers(-9_000, 90_000), min_size=2 * n_p,
                                        max_size=2 * n_p)), float).reshape(1, 1, n_p, 2)  # fmt: skip
    a, b = (evaluate(c, sales, np.zeros((1, n_p, 2)), ti=np.zeros(1), detail=True) for c in vector)
    assert all(np.array_equal(a[name], b[name]) for name in a)

"""Hypothesis invariants of the payout engine, and exact ↔ vectorised agreement.

Plans are drawn at random from every component kind; measures are drawn as arrays
of people × periods × products, so one example checks many windows at once.
Sales and targets are whole currency units so the float path sees them exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.incentive import compile_plan
from attain.incentive.exact import Windows, evaluate_exact
from attain.incentive.pool import split_exact
from attain.incentive.vectorised import evaluate
from attain.schema.plan import Plan

PRODUCTS = ("a", "b")
SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def tier_tables(draw, basis="amount", increasing=False):
    n = draw(st.integers(1, 4))
    step = st.integers(1, 40) if basis == "amount" else st.integers(1, 8)
    edges, at = [0.0], 0.0
    for _ in range(n - 1):
        at += draw(step) * (25_000 if basis == "amount" else 0.125)
        edges.append(at)
    rates = sorted(draw(st.lists(st.integers(0, 200), min_size=n, max_size=n)))
    if not increasing:
        rates = draw(st.permutations(rates))
    return [
        {"start": s, "rate": r / 1000, **({"end": edges[i + 1]} if i + 1 < n else {})}
        for i, (s, r) in enumerate(zip(edges, rates, strict=True))
    ]


def _cap(draw):
    return draw(
        st.one_of(
            st.none(),
            st.builds(lambda a: {"amount": a}, st.integers(100, 50_000)),
            st.builds(lambda m: {"multiple_of_ti": m / 4}, st.integers(1, 12)),
        )
    )


@st.composite
def components(draw, monotone=False):
    kind = draw(
        st.sampled_from(["commission", "curve", "step"] + ([] if monotone else ["penalty"]))
    )
    products = draw(st.sampled_from([None, ["a"], ["b"]]))
    base = {"name": f"c{draw(st.integers(0, 10**6))}", "products": products}
    gate = None
    if not monotone and draw(st.booleans()):
        gate = {
            "products": ["b"],
            "min_attainment": draw(st.integers(0, 12)) / 10,
            "applies_to": draw(st.sampled_from(["component", "accelerator"])),
        }
    if kind == "commission":
        basis = draw(st.sampled_from(["amount", "attainment"]))
        method = draw(st.sampled_from(["marginal", "retroactive", "interpolated"]))
        return {
            **base,
            "type": "commission",
            "basis": basis,
            "method": method,
            "boundary": draw(st.sampled_from(["upper", "lower"])),
            "split": "edges" if method == "marginal" and draw(st.booleans()) else "proportional",
            "tiers": draw(tier_tables(basis, increasing=monotone or method != "marginal")),
            "gate": gate,
            "cap": _cap(draw),
            "base_floor": draw(
                st.none()
                | st.builds(
                    lambda a, m: {"amount": a, "mode": m},
                    st.integers(0, 100_000),
                    st.sampled_from(["threshold", "deductible"]),
                )
            ),
        }
    if kind == "curve":
        n = draw(st.integers(2, 4))
        att = np.cumsum(draw(st.lists(st.integers(1, 8), min_size=n, max_size=n))) / 8
        pay = np.cumsum(draw(st.lists(st.integers(0, 8), min_size=n, max_size=n))) / 4
        return {
            **base,
            "type": "attainment_curve",
            "weight": draw(st.integers(1, 10)) / 10,
            "points": [{"attainment": a, "payout": p} for a, p in zip(att, pay, strict=True)],
            "gate": gate,
        }
    if kind == "step":
        n = draw(st.integers(1, 3))
        att = np.cumsum(draw(st.lists(st.integers(1, 8), min_size=n, max_size=n))) / 8
        amounts = sorted(draw(st.lists(st.integers(0, 3000), min_size=n, max_size=n)))
        return {
            **base,
            "type": "step_bonus",
            "gate": gate,
            "steps": [{"attainment": a, "amount": v} for a, v in zip(att, amounts, strict=True)],
        }
    return {
        **base,
        "type": "penalty",
        "below": draw(st.integers(1, 10)) / 10,
        "amount": draw(st.integers(0, 2000)),
    }


@st.composite
def plans(draw, monotone=False, **fixed):
    comps = draw(
        st.lists(
            components(monotone=monotone), min_size=1, max_size=3, unique_by=lambda c: c["name"]
        )
    )
    spec = {
        "kind": "plan",
        "name": "p",
        "period": draw(st.sampled_from(["month", "quarter", "semi_monthly", "two_week"])),
        "measure": draw(st.sampled_from(["period", "ytd"])),
        "negative_balance": draw(st.sampled_from(["carry_forward", "claw_back"])),
        "target_incentive": {"amount": draw(st.integers(0, 60_000))},
        "components": comps,
        "rounding": {"mode": draw(st.sampled_from(["half_up", "half_even", "down"]))},
    }
    if not monotone and draw(st.booleans()):
        spec["draw"] = {"amount": draw(st.integers(0, 5000)), "recoverable": draw(st.booleans())}
        if draw(st.booleans()):
            spec["draw"]["paid"] = "advance"
        if spec["draw"]["recoverable"] and draw(st.booleans()):
            spec["draw"]["recovery"] = {
                "delay": draw(st.integers(1, 3)),
                "max_amount": draw(st.integers(0, 3000)),
                "max_share": draw(st.sampled_from([0.25, 0.5, 1.0])),
            }
    elif not monotone and draw(st.integers(0, 2)) == 0:  # instalments, of some components
        spec["holdback"] = {"share": draw(st.integers(1, 8)) / 8}
        if draw(st.booleans()):
            spec["holdback"].update(release="later", after_periods=draw(st.integers(1, 3)))
        if draw(st.booleans()):
            names = [c["name"] for c in comps]
            spec["holdback"]["components"] = draw(
                st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True)
            )
    if draw(st.booleans()):
        spec["total_cap"] = {"multiple_of_ti": draw(st.integers(1, 12)) / 4}
    spec.update(fixed)
    return Plan.model_validate(spec)


def measures(draw, n_reps, n_periods, low=-20_000):
    sales = draw(
        st.lists(
            st.integers(low, 400_000),
            min_size=n_reps * n_periods * 2,
            max_size=n_reps * n_periods * 2,
        )
    )
    targets = draw(
        st.lists(
            st.integers(0, 300_000),
            min_size=n_reps * n_periods * 2,
            max_size=n_reps * n_periods * 2,
        )
    )
    shape = (n_reps, n_periods, 2)
    return np.array(sales, float).reshape(shape), np.array(targets, float).reshape(shape)


def exact_run(compiled, sales, targets, ti):
    """Exact evaluation of per-period sales/targets in whole currency units."""
    scale = compiled.scale
    ytd = compiled.measure == "ytd"
    n_reps, n_periods, _ = sales.shape
    k = compiled.n_slots // n_periods

    def window(x):
        x = (x * scale).astype(np.int64)
        return np.cumsum(x, axis=1) if ytd else x

    months = np.full(n_periods, k)
    periods = np.ones(n_periods, dtype=np.int64)
    w = Windows(
        net=window(sales),
        gross=window(sales),
        targets=window(targets),
        ti=np.full(n_reps, int(ti * scale), dtype=np.int64),
        months=np.cumsum(months) if ytd else months,
        periods=np.cumsum(periods) if ytd else periods,
        active=np.ones(n_periods, dtype=bool),
        participant=np.ones(n_reps, dtype=bool),
        people=pd.DataFrame({"rep_id": [f"R{i}" for i in range(n_reps)], "role": "rep"}),
    )
    return evaluate_exact(compiled, w)


def n_periods_of(plan):
    return {"month": 12, "quarter": 4, "semi_monthly": 24, "two_week": 26}[plan.period]


def test_an_attainment_tier_starting_at_target_pays_a_rep_exactly_at_target():
    """A rep whose sales equal the target reach a tier starting at 100% in both evaluators
    (a target of 123: 123 ÷ 10⁶ × 10⁶ is an ulp above 123 in floating point)."""
    plan = Plan.model_validate(
        {
            "kind": "plan",
            "name": "p",
            "period": "quarter",
            "target_incentive": {"amount": 0},
            "components": [
                {
                    "type": "commission",
                    "name": "c",
                    "method": "retroactive",
                    "basis": "attainment",
                    "tiers": [{"start": 0, "end": 1.0, "rate": 0}, {"start": 1.0, "rate": 0.5}],
                }
            ],
        }
    )
    compiled = compile_plan(plan, PRODUCTS)
    sales = np.full((1, 4, 2), 61.5)  # 123 a quarter
    targets = np.full((1, 4, 2), 61.5)
    ev = exact_run(compiled, sales, targets, 0)
    fl = evaluate(compiled, sales[:, None], targets, ti=np.zeros(1), detail=True)
    assert ev.payable[0][0, 0] == 6150  # half of 123.00, in cents
    assert fl["c"][0, 0, 0] * compiled.scale == pytest.approx(6150)


@SETTINGS
@given(st.data())
def test_exact_and_vectorised_agree_within_one_minor_unit_per_line(data):
    plan = data.draw(plans())
    compiled = compile_plan(plan, PRODUCTS)
    n_p = n_periods_of(plan)
    sales, targets = measures(data.draw, 5, n_p)
    ti = plan.target_incentive.amount
    ev = exact_run(compiled, sales, targets, ti)
    fl = evaluate(compiled, sales[:, None], targets, ti=np.full(5, ti), detail=True)
    n = len(compiled.components)
    # A line is the difference of two rounded windows: within 1 unit when rounding to the
    # nearest; rounding `down` (toward zero) across a sign change can reach 2.
    tolerance = 2 if plan.rounding.mode == "down" else 1
    for i, name in enumerate(ev.lines[:n]):
        diff = np.abs(fl[name][:, 0] * compiled.scale - ev.payable[i])
        assert diff.max() <= tolerance + 1e-6, (name, diff.max())
    total_float = sum(v[:, 0] for v in fl.values()) * compiled.scale
    bound = np.full(n_p, 2.0 * (n + 2))
    if plan.negative_balance == "carry_forward" or plan.holdback is not None:
        # A carried balance is the sum of the lines so far, each within its own tolerance
        # (the float path does not round a line): the differences add up period by period;
        # so do held parts (each rounded once more on the exact path) when released.
        bound = np.cumsum(bound + (plan.holdback is not None))
    assert (np.abs(total_float - ev.total) <= bound + 1e-6).all()
    yearly = evaluate(compiled, sales[:, None], targets, ti=np.full(5, ti))
    assert np.allclose(yearly[:, 0] * compiled.scale, ev.total.sum(axis=1), atol=2 * n_p * (n + 2))


@SETTINGS
@given(st.data())
def test_payout_is_non_decreasing_in_sales_without_penalties_or_gates(data):
    plan = data.draw(plans(monotone=True, measure="period", period="quarter"))
    compiled = compile_plan(plan, PRODUCTS)
    sales, targets = measures(data.draw, 6, 4, low=0)
    extra = np.array(data.draw(st.lists(st.integers(0, 100_000), min_size=48, max_size=48)), float)
    more = sales + extra.reshape(sales.shape)
    ti = plan.target_incentive.amount
    lo = exact_run(compiled, sales, targets, ti).total
    hi = exact_run(compiled, more, targets, ti).total
    n = len(compiled.components)
    assert (hi >= lo - n).all()  # ± rounding of each line


@SETTINGS
@given(tier_tables(), st.lists(st.integers(0, 2_000_000), min_size=10, max_size=10))
def test_marginal_tiers_are_continuous_in_sales(table, amounts):
    plan = Plan.model_validate(
        {
            "kind": "plan",
            "name": "p",
            "period": "year",
            "measure": "period",
            "components": [{"type": "commission", "name": "c", "tiers": table}],
        }
    )
    compiled = compile_plan(plan, PRODUCTS)
    x = np.array(amounts, float)[:, None, None] * np.array([1, 0])
    eps = 0.01  # one cent more
    lo = exact_run(compiled, x, np.zeros_like(x), 0).total[:, 0]
    hi = exact_run(compiled, x + np.array([eps, 0]), np.zeros_like(x), 0).total[:, 0]
    max_rate = max(t["rate"] for t in table)
    assert (np.abs(hi - lo) <= max_rate * 1 + 1).all()  # one cent × rate, ± one rounding


@SETTINGS
@given(st.data())
def test_no_cap_is_ever_exceeded(data):
    plan = data.draw(plans(monotone=True))
    cap = data.draw(st.integers(1, 30_000))
    spec = plan.model_dump()
    for c in spec["components"]:
        if c["type"] in ("commission", "attainment_curve"):
            c["cap"] = {"amount": cap}
    spec["total_cap"] = {"amount": 2 * cap}
    plan = Plan.model_validate(spec)
    compiled = compile_plan(plan, PRODUCTS)
    sales, targets = measures(data.draw, 4, n_periods_of(plan))
    ev = exact_run(compiled, sales, targets, plan.target_incentive.amount)
    scale = compiled.scale
    for i, c in enumerate(compiled.components):
        if c.cap is not None:
            assert ev.earned[i].max() <= cap * scale
    window_total = ev.earned[: len(compiled.components) + 2].sum(axis=0)
    assert window_total.max() <= 2 * cap * scale


@SETTINGS
@given(st.data())
def test_quarterly_ytd_true_ups_add_up_to_the_annual_calculation(data):
    period = data.draw(st.sampled_from(["quarter", "semi_monthly", "two_week"]))
    plan = data.draw(
        plans(monotone=True, period=period, measure="ytd", negative_balance="claw_back")
    )
    spec = plan.model_dump()
    spec.pop("total_cap")
    quarterly = Plan.model_validate(spec)
    annual = Plan.model_validate({**spec, "period": "year"})
    sales, targets = measures(data.draw, 5, n_periods_of(plan))
    ti = plan.target_incentive.amount
    q = exact_run(compile_plan(quarterly, PRODUCTS), sales, targets, ti)
    y = exact_run(
        compile_plan(annual, PRODUCTS),
        sales.sum(axis=1, keepdims=True),
        targets.sum(axis=1, keepdims=True),
        ti,
    )
    assert (q.total.sum(axis=1) == y.total[:, 0]).all()


@SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(1, 10**9), st.lists(st.integers(1, 1000), min_size=1, max_size=5)),
        min_size=1,
        max_size=20,
    )
)
def test_split_credits_add_up_to_the_deal(deals):
    totals = np.array([amount for amount, _ in deals], dtype=np.int64)
    group = np.concatenate([[g] * len(w) for g, (_, w) in enumerate(deals)])
    weight = np.concatenate([w for _, w in deals])
    shares = split_exact(totals, group, weight)
    assert (
        np.bincount(group, weights=shares, minlength=len(deals)).astype(np.int64) == totals
    ).all()
    exact = totals[group] * weight / np.bincount(group, weights=weight)[group]
    assert (np.abs(shares - exact) < 1).all()


@SETTINGS
@given(st.data())
def test_year_total_equals_the_sum_of_the_detail_lines(data):
    """Without detail the evaluator keeps one running total (no stack of lines, no
    per-period true-up arrays, nothing over periods for a one-window plan), and with
    ``detail="year"`` it sums each line over the year without per-period arrays: both
    must agree with the per-period lines, whatever the chunking or the memory layout."""
    period = data.draw(st.sampled_from(["month", "quarter", "year"]))
    plan = data.draw(plans(period=period))
    compiled = compile_plan(plan, PRODUCTS)
    n_p = {"month": 12, "quarter": 4, "year": 1}[period]
    sales, targets = measures(data.draw, 15, n_p)
    sales = sales.reshape(5, 3, n_p, 2)  # 5 reps × 3 trials
    targets = targets[:5]
    ti = np.full(5, float(plan.target_incentive.amount))
    lines = evaluate(compiled, sales, targets, ti=ti, detail=True)
    expected = sum(v.sum(axis=-1) for v in lines.values())
    total = evaluate(compiled, sales, targets, ti=ti)
    np.testing.assert_allclose(total, expected, rtol=1e-12, atol=1e-6)
    year = evaluate(compiled, sales, targets, ti=ti, detail="year")  # each line's year
    assert list(year) == list(lines)
    for name, value in lines.items():
        np.testing.assert_allclose(year[name], value.sum(axis=-1), rtol=1e-12, atol=1e-6)
    assert np.array_equal(evaluate(compiled, sales, targets, ti=ti, chunk=1), total)
    trials_first = np.ascontiguousarray(sales.swapaxes(0, 1)).swapaxes(0, 1)
    assert np.array_equal(evaluate(compiled, trials_first, targets, ti=ti), total)


def test_detail_must_be_a_known_kind():
    plan = {
        "kind": "plan",
        "name": "p",
        "period": "year",
        "components": [{"type": "commission", "name": "c", "tiers": [{"start": 0, "rate": 0.1}]}],
    }
    compiled = compile_plan(Plan.model_validate(plan), PRODUCTS)
    with pytest.raises(ValueError, match="detail"):
        evaluate(compiled, np.ones((2, 3)), np.ones(2), ti=np.ones(2), detail="month")


@SETTINGS
@given(st.data())
def test_exact_and_vectorised_agree_with_effective_dates(data):
    """A plan in force for whole pay periods only: deals outside the dates do not count,
    TI is prorated to the months in force, periods out of force pay nothing (no draw),
    and after the plan ends a YTD window keeps what the year earned. Both paths agree."""
    import datetime as dt

    from attain.data import company_from_frames
    from attain.incentive import load_plan, payouts
    from attain.incentive.calendar import Calendar
    from attain.incentive.vectorised import population

    plan = data.draw(plans(period=data.draw(st.sampled_from(["month", "quarter"]))))
    n_p = n_periods_of(plan)
    k = 12 // n_p
    first = data.draw(st.integers(0, n_p - 1))
    last = data.draw(st.integers(first, n_p - 1))
    end = pd.Timestamp(2027, k * last + k, 1) + pd.offsets.MonthEnd(0)
    spec = plan.model_dump(mode="json")
    spec["effective_from"] = str(dt.date(2027, k * first + 1, 1))
    spec["effective_to"] = str(end.date())
    if data.draw(st.booleans()):
        spec.pop("effective_from")
    sales, targets = measures(data.draw, 3, 12, low=0)
    reps = ["R0", "R1", "R2"]
    org = pd.DataFrame({"rep_id": reps, "name": reps, "team": "T", "role": "rep"})
    org["tenure_months"], org["capacity"], org["target_incentive"] = 12, 0, 0
    company = company_from_frames(
        {
            "kind": "company",
            "name": "t",
            "currency": "EUR",
            "fiscal_year": 2027,
            "hierarchy": ["team"],
            "products": list(PRODUCTS),
            "tables": {"org": "org.csv"},
        },
        org=org,
    )
    idx = [(r, m, j) for r in range(3) for m in range(12) for j in range(2)]
    deals = pd.DataFrame(
        {
            "deal_id": [f"D{i}" for i in range(len(idx))],
            "date": [f"2027-{m + 1:02d}-15" for _, m, _ in idx],
            "rep_id": [reps[r] for r, _, _ in idx],
            "product": [PRODUCTS[j] for _, _, j in idx],
            "amount": [sales[r, m, j] for r, m, j in idx],
        }
    )
    deals = deals[deals["amount"] > 0]
    tgt = pd.DataFrame(
        {
            "rep_id": [reps[r] for r, _, _ in idx],
            "period": [f"2027-{m + 1:02d}" for _, m, _ in idx],
            "product": [PRODUCTS[j] for _, _, j in idx],
            "target": [targets[r, m, j] for r, m, j in idx],
        }
    )
    result = payouts(load_plan(spec, company), tgt, deals, company)
    ev, compiled = result._context["evaluation"], result.compiled
    pop = population(
        compiled, 3, result._context["book"].people, calendar=Calendar(2027, 1, plan.period)
    )
    per = sales.reshape(3, n_p, k, 2).sum(axis=2)
    tg = targets.reshape(3, n_p, k, 2).sum(axis=2)
    fl = evaluate(compiled, per[:, None], tg, pop=pop, detail=True)
    tolerance = 2 if plan.rounding.mode == "down" else 1
    n = len(compiled.components)
    for i, name in enumerate(ev.lines[:n]):
        diff = np.abs(fl[name][:, 0] * compiled.scale - ev.payable[i])
        assert diff.max() <= tolerance + 1e-6, (name, diff.max())
    total_float = sum(v[:, 0] for v in fl.values()) * compiled.scale
    bound = np.full(n_p, 2.0 * (n + 2))
    if plan.negative_balance == "carry_forward" or plan.holdback is not None:
        # A carried balance is the sum of the lines so far, each within its own tolerance
        # (the float path does not round a line): the differences add up period by period;
        # so do held parts (each rounded once more on the exact path) when released.
        bound = np.cumsum(bound + (plan.holdback is not None))
    assert (np.abs(total_float - ev.total) <= bound + 1e-6).all()


@given(st.integers(-(10**15), 10**15), st.integers(0, 3))
def test_statement_money_text_is_the_exact_decimal(minor, unit):
    from decimal import Decimal

    from attain.incentive.statements import _money

    assert _money(minor, unit) == f"{Decimal(minor).scaleb(-unit):,.{unit}f}"


@SETTINGS
@given(st.data())
def test_exact_and_vectorised_agree_with_a_clawback_share(data):
    """A clawback that takes back a fixed share of each cancellation: the vectorised
    evaluator credits net sales × (1 − share × rate) ÷ (1 − rate) with the deal model's
    cancellation rates, which is the exact credit when every booking is cancelled at its
    product's rate."""
    from attain.incentive import payouts
    from attain.incentive.deals import deal_model
    from attain.incentive.vectorised import approximations, population

    plan = data.draw(plans(period=data.draw(st.sampled_from(["month", "quarter"]))))
    spec = plan.model_dump(mode="json")
    spec["clawback"] = {"share": data.draw(st.integers(0, 8)) / 8}
    spec["negative_balance"] = "claw_back"
    n_p = n_periods_of(plan)
    k = 12 // n_p
    rates = [data.draw(st.integers(0, 4)) / 8 for _ in PRODUCTS]
    booked = (
        np.array(
            data.draw(st.lists(st.integers(0, 50), min_size=3 * 12 * 2, max_size=3 * 12 * 2))
        ).reshape(3, 12, 2)
        * 8_000.0
    )
    _, targets = measures(data.draw, 3, 12, low=0)
    reps = ["R0", "R1", "R2"]
    rows, tgt = [], []
    for r in range(3):
        for m in range(12):
            for j, product in enumerate(PRODUCTS):
                day = f"2027-{m + 1:02d}-10"
                tgt.append((reps[r], f"2027-{m + 1:02d}", product, targets[r, m, j]))
                if booked[r, m, j] > 0:
                    deal = f"D{r}-{m}-{j}"
                    rows.append((deal, day, reps[r], product, booked[r, m, j], "booking"))
                    if rates[j] > 0:
                        cut = booked[r, m, j] * rates[j]
                        rows.append((deal, day, reps[r], product, cut, "cancellation"))
    columns = ["deal_id", "date", "rep_id", "product", "amount", "type"]
    deals = pd.DataFrame(rows, columns=columns)
    tgt = pd.DataFrame(tgt, columns=["rep_id", "period", "product", "target"])
    spec["fiscal_year"] = 2027
    result = payouts(spec, tgt, deals)
    ev, compiled = result._context["evaluation"], result.compiled
    model = deal_model(deals, reps, compiled.products)
    pop = population(compiled, 3, result._context["book"].people, deals=model)
    net = booked * (1 - np.array(rates))
    per = net.reshape(3, n_p, k, 2).sum(axis=2)
    tg = targets.reshape(3, n_p, k, 2).sum(axis=2)
    fl = evaluate(compiled, per[:, None], tg, pop=pop, detail=True)
    tolerance = 2 if plan.rounding.mode == "down" else 1
    n = len(compiled.components)
    for i, name in enumerate(ev.lines[:n]):
        diff = np.abs(fl[name][:, 0] * compiled.scale - ev.payable[i])
        assert diff.max() <= tolerance + 1e-6, (name, diff.max())
    if spec["clawback"]["share"] < 1 and any(rates):
        assert any("takes back" in a for a in approximations(compiled, pop))

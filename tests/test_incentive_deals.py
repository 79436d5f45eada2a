"""The vectorised deal model against the exact path, where the model is exact.

The exact path pays real deals; the vectorised path sees only sales per rep × period ×
product and a :class:`~attain.incentive.deals.DealModel` estimated from the same deals.
When the deals are what the model assumes (integer units at one price per product,
deals of one size per rep and product, cancellations at one rate, dates on month
boundaries), the two must agree within one minor unit per line.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.data import company_from_frames
from attain.incentive import load_plan, payouts
from attain.incentive.calendar import Calendar
from attain.incentive.deals import deal_model, period_coverage
from attain.incentive.vectorised import approximations, evaluate, population

SETTINGS = settings(max_examples=25, deadline=None)
PRODUCTS = ("a", "b")
REPS = ("R1", "R2", "R3")
COMPANY = {
    "kind": "company",
    "name": "Tiny",
    "currency": "EUR",
    "fiscal_year": 2027,
    "hierarchy": ["team"],
    "products": list(PRODUCTS),
    "tables": {"org": "org.csv"},
}


def company():
    org = pd.DataFrame(
        {
            "rep_id": list(REPS),
            "name": list(REPS),
            "team": "T1",
            "role": "rep",
            "tenure_months": 12,
            "capacity": 0,
            "target_incentive": 12000,
        }
    )
    return company_from_frames(COMPANY, org=org)


def month_date(m: int, day: int = 15) -> str:
    return f"2027-{m + 1:02d}-{day:02d}"


def month_end(m: int) -> dt.date:
    return (pd.Timestamp(2027, m + 1, 1) + pd.offsets.MonthEnd(0)).date()


def deal_frame(rows) -> pd.DataFrame:
    """rows: (month, rep, product, amount, quantity, type); a cancellation cancels (part
    of) the deal on the row before it."""
    ids = []
    for i, row in enumerate(rows):
        ids.append(ids[-1] if row[5] == "cancellation" else f"D{i}")
    return pd.DataFrame(
        [
            {
                "deal_id": ids[i],
                "date": month_date(m),
                "rep_id": rep,
                "product": prod,
                "amount": amount,
                "split": 1.0,
                "quantity": qty,
                "new_customer": False,
                "type": kind,
            }
            for i, (m, rep, prod, amount, qty, kind) in enumerate(rows)
        ],
        columns=[
            "deal_id",
            "date",
            "rep_id",
            "product",
            "amount",
            "split",
            "quantity",
            "new_customer",
            "type",
        ],
    )


def target_frame(targets: np.ndarray) -> pd.DataFrame:
    rows = [
        (rep, f"2027-{m + 1:02d}", prod, float(targets[r, m, k]))
        for r, rep in enumerate(REPS)
        for m in range(12)
        for k, prod in enumerate(PRODUCTS)
    ]
    return pd.DataFrame(rows, columns=["rep_id", "period", "product", "target"])


def compare(plan_spec: dict, rows, targets: np.ndarray, net_months: np.ndarray, tolerance=1):
    """Run both paths; every component line within ``tolerance`` minor units."""
    c = company()
    plan = load_plan(plan_spec, c)
    actuals = deal_frame(rows)
    result = payouts(plan, target_frame(targets), actuals, c)
    ev, compiled = result._context["evaluation"], result.compiled
    people = result._context["book"].people
    k = {"month": 1, "quarter": 3, "year": 12}[plan.period]
    sales = net_months.reshape(len(REPS), 12 // k, k, len(PRODUCTS)).sum(axis=2)
    tg = targets.reshape(len(REPS), 12 // k, k, len(PRODUCTS)).sum(axis=2)
    pop = population(
        compiled,
        len(REPS),
        people,
        calendar=Calendar(2027, 1, plan.period),
        deals=deal_model(actuals, people["rep_id"], PRODUCTS),
    )
    lines = evaluate(compiled, sales[:, None], tg, pop=pop, detail=True)
    scale = compiled.scale
    for i, name in enumerate(ev.lines[: len(compiled.components)]):
        diff = np.abs(lines[name][:, 0] * scale - ev.payable[i])
        assert diff.max() <= tolerance + 1e-6, (name, diff.max())
    total = sum(v[:, 0] for v in lines.values()) * scale
    assert np.abs(total - ev.total).max() <= tolerance * (len(compiled.components) + 2) + 1e-6
    return result, lines, pop


def tier_table(draw):
    n = draw(st.integers(1, 3))
    edges = np.cumsum([0] + [draw(st.integers(1, 8)) * 2_000 for _ in range(n - 1)])
    rates = [draw(st.integers(0, 150)) / 1000 for _ in range(n)]
    return [
        {"start": float(s), "rate": r, **({"end": float(edges[i + 1])} if i + 1 < n else {})}
        for i, (s, r) in enumerate(zip(edges, rates, strict=True))
    ]


@st.composite
def _tier_table(draw):
    return tier_table(draw)


def base_plan(draw, components, **kw):
    return {
        "kind": "plan",
        "name": "p",
        "period": kw.pop("period", None) or draw(st.sampled_from(["month", "quarter"])),
        "measure": draw(st.sampled_from(["period", "ytd"])),
        "negative_balance": draw(st.sampled_from(["carry_forward", "claw_back"])),
        "components": components,
        **kw,
    }


def window(draw, k: int) -> tuple[dt.date, dt.date]:
    """Whole pay periods of ``k`` months (the vectorised path sees periods, not days)."""
    first = draw(st.integers(0, 12 // k - 1))
    last = draw(st.integers(first, 12 // k - 1))
    return dt.date(2027, k * first + 1, 1), month_end(k * last + k - 1)


@SETTINGS
@given(st.data())
def test_spiff_units_and_effective_dates_agree_with_the_exact_path(data):
    """Integer units at one price per product: units = sales ÷ price exactly; the SPIFF
    window and the effective dates on month boundaries."""
    draw = data.draw
    price = [draw(st.integers(1, 500)) for _ in PRODUCTS]
    units = np.array(draw(st.lists(st.integers(0, 9), min_size=72, max_size=72))).reshape(3, 12, 2)
    rows, net = [], np.zeros((3, 12, 2))
    for r, rep in enumerate(REPS):
        for m in range(12):
            for k, prod in enumerate(PRODUCTS):
                if units[r, m, k]:
                    amount = int(units[r, m, k]) * price[k]
                    rows.append((m, rep, prod, amount, int(units[r, m, k]), "booking"))
                    net[r, m, k] = amount
    period = draw(st.sampled_from(["month", "quarter"]))
    k = 1 if period == "month" else 3
    start, end = window(draw, k)
    spiff = {
        "type": "spiff",
        "name": "s",
        "products": draw(st.sampled_from([None, ["a"], ["b"]])),
        "start": str(start),
        "end": str(end),
        "per_unit": draw(st.integers(1, 40)) / 4,
    }
    commission = {"type": "commission", "name": "c", "tiers": draw(_tier_table())}
    extra = {}
    if draw(st.booleans()):
        lo, hi = window(draw, k)
        extra = {"effective_from": str(lo), "effective_to": str(hi)}
    spec = base_plan(draw, [commission, spiff], **extra, period=period)
    targets = np.full((3, 12, 2), 1_000.0)
    compare(spec, rows, targets, net)


@SETTINGS
@given(st.data())
def test_deal_scope_agrees_when_deals_have_the_rep_s_average_size(data):
    """Every deal of a rep and product has the same size, so a period's sales are whole
    deals of the average size; per-deal tiers then pay the same as the exact path."""
    draw = data.draw
    size = np.array(draw(st.lists(st.integers(1, 900), min_size=6, max_size=6))).reshape(3, 2) * 10
    count = np.array(draw(st.lists(st.integers(0, 3), min_size=72, max_size=72))).reshape(3, 12, 2)
    rows, net = [], np.zeros((3, 12, 2))
    for r, rep in enumerate(REPS):
        for m in range(12):
            for k, prod in enumerate(PRODUCTS):
                for _ in range(count[r, m, k]):
                    rows.append((m, rep, prod, int(size[r, k]), 1, "booking"))
                    net[r, m, k] += size[r, k]
    commission = {
        "type": "commission",
        "name": "c",
        "scope": "deal",
        "method": draw(st.sampled_from(["marginal", "retroactive"])),
        "boundary": draw(st.sampled_from(["upper", "lower"])),
        "tiers": draw(_tier_table()),
    }
    spec = base_plan(draw, [commission])
    result, _, pop = compare(spec, rows, np.full((3, 12, 2), 1_000.0), net)
    assert approximations(result.compiled, pop) == [
        "c: scope `deal`: the period total as deals of the rep's average size, plus one deal "
        "of the remainder; cancellations not as deals"
    ]


@SETTINGS
@given(st.data())
def test_cumulative_scope_agrees_when_deals_have_the_rep_s_average_size(data):
    """Retroactive tiers, `cumulative` scope: every deal of a rep has one size, so the
    running position after the i-th deal of the window is i × that size."""
    draw = data.draw
    size = np.array(draw(st.lists(st.integers(1, 900), min_size=3, max_size=3))) * 10
    count = np.array(draw(st.lists(st.integers(0, 3), min_size=72, max_size=72))).reshape(3, 12, 2)
    rows, net = [], np.zeros((3, 12, 2))
    for r, rep in enumerate(REPS):
        for m in range(12):
            for k, prod in enumerate(PRODUCTS):
                for _ in range(count[r, m, k]):
                    rows.append((m, rep, prod, int(size[r]), 1, "booking"))
                    net[r, m, k] += size[r]
    commission = {
        "type": "commission",
        "name": "c",
        "scope": "cumulative",
        "method": "retroactive",
        "boundary": draw(st.sampled_from(["upper", "lower"])),
        "tiers": draw(_tier_table()),
    }
    spec = base_plan(draw, [commission])
    result, _, pop = compare(spec, rows, np.full((3, 12, 2), 1_000.0), net)
    assert approximations(result.compiled, pop) == [
        "c: scope `cumulative`: the window's credit as deals of the rep's average size, "
        "landing one after another"
    ]


@SETTINGS
@given(st.data())
def test_gross_selection_agrees_at_a_uniform_cancellation_rate(data):
    """Bookings B and cancellations B / 4 in the same month: net = 3B/4, and the model's
    gross = net ÷ (1 − 1/4) = B, the bookings the exact path selects the tier on."""
    draw = data.draw
    booked = np.array(draw(st.lists(st.integers(0, 60), min_size=72, max_size=72)))
    booked = booked.reshape(3, 12, 2) * 400
    rows, net = [], np.zeros((3, 12, 2))
    for r, rep in enumerate(REPS):
        for m in range(12):
            for k, prod in enumerate(PRODUCTS):
                b = int(booked[r, m, k])
                if b:
                    rows.append((m, rep, prod, b, 1, "booking"))
                    rows.append((m, rep, prod, b // 4, 1, "cancellation"))
                    net[r, m, k] = b - b // 4
    commission = {
        "type": "commission",
        "name": "c",
        "method": draw(st.sampled_from(["marginal", "retroactive", "interpolated"])),
        "select_on": "gross",
        "paid_on": draw(st.sampled_from(["net", "gross"])),
        "tiers": draw(_tier_table()),
    }
    spec = base_plan(draw, [commission])
    compare(spec, rows, np.full((3, 12, 2), 1_000.0), net)


def test_deal_model_estimates_price_size_and_cancellation_rate():
    actuals = deal_frame(
        [
            (0, "R1", "a", 100, 4, "booking"),  # 25 per unit
            (1, "R1", "a", 300, 12, "booking"),
            (2, "R1", "a", 40, 1, "cancellation"),
            (0, "R2", "b", 90, 3, "booking"),
        ]
    )
    model = deal_model(actuals, list(REPS), PRODUCTS)
    np.testing.assert_allclose(model.unit_price, [25.0, 30.0])
    np.testing.assert_allclose(model.cancellation_rate, [0.1, 0.0])
    # R1 sells a at 200 a deal; R2 and R3 have no deals of a: the product's mean (200).
    np.testing.assert_allclose(model.deal_size[:, 0], [200.0, 200.0, 200.0])
    np.testing.assert_allclose(model.deal_size[:, 1], [90.0, 90.0, 90.0])
    given_price = deal_model(actuals, list(REPS), PRODUCTS, unit_prices={"b": 45.0})
    assert given_price.unit_price[1] == 45.0


def test_period_coverage_counts_days_and_months_in_force():
    cal = Calendar(2027, 1, "quarter")
    share, months = period_coverage(cal, dt.date(2027, 2, 1), dt.date(2027, 4, 30), 4)
    np.testing.assert_allclose(share, [(28 + 31) / 90, 30 / 91, 0, 0])
    assert months.tolist() == [2, 1, 0, 0]


def test_a_spiff_without_a_unit_price_pays_nothing_and_says_so():
    c = company()
    plan = load_plan(
        {
            "kind": "plan",
            "name": "p",
            "fiscal_year": 2027,
            "components": [
                {
                    "type": "spiff",
                    "name": "s",
                    "start": "2027-01-01",
                    "end": "2027-12-31",
                    "per_unit": 5,
                }
            ],
        },
        c,
    )
    from attain.incentive import compile_plan

    compiled = compile_plan(plan, PRODUCTS)
    pay = evaluate(compiled, np.ones((3, 2, 12, 2)) * 100, np.ones((3, 12, 2)))
    assert (pay == 0).all()
    assert approximations(compiled) == ["s: SPIFF pays nothing (no unit price for its products)"]


@given(st.lists(st.integers(0, 30), min_size=1, max_size=200))
def test_each_codes_first_row_is_numpys(codes):
    from attain.incentive.checks import _first_rows

    codes = np.array(codes)
    assert _first_rows(codes).tolist() == np.unique(codes, return_index=True)[1].tolist()

"""Exact splits, own credit under roll-up, and team pools: exact ↔ vectorised agreement.

Team pools are computed from deals in the exact path (a manager's own sales are the
deal rows that are not rolled-up copies) and from credited sales in the vectorised one
(a manager's own sales are their credit less their unit's members'); on the same deals
the two agree within one minor unit per window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.data import company_from_frames
from attain.incentive import load_plan, payouts
from attain.incentive.pool import own_credit, split_exact
from attain.incentive.vectorised import evaluate, population

COMPANY = {
    "kind": "company",
    "name": "Pools",
    "currency": "EUR",
    "fiscal_year": 2027,
    "hierarchy": ["team"],
    "products": ["a", "b"],
    "tables": {"org": "org.csv"},
}
PEOPLE = [  # rep_id, team, role
    ("R1", "T1", "rep"),
    ("R2", "T1", "rep"),
    ("R3", "T1", "senior"),
    ("M1", "T1", "manager"),
    ("R4", "T2", "rep"),
    ("R5", "T2", "senior"),
    ("M2", "T2", "manager"),
]
REPS = [p[0] for p in PEOPLE]


def company():
    org = pd.DataFrame(
        [
            {
                "rep_id": r,
                "name": r,
                "team": t,
                "role": role,
                "tenure_months": 12,
                "capacity": 0,
                "target_incentive": 10_000,
            }
            for r, t, role in PEOPLE
        ]
    )
    return company_from_frames(COMPANY, org=org)


def test_split_exact_adds_up_and_gives_leftovers_to_the_largest_remainders():
    shares = split_exact(np.array([100, 7]), np.array([0, 0, 0, 1, 1]), np.array([1, 1, 1, 2, 1]))
    assert shares.tolist() == [34, 33, 33, 5, 2]
    # An item alone in its group takes the total, none with weight 0; the others ranked.
    shares = split_exact(
        np.array([100, 7, 9, 5]), np.array([1, 0, 2, 1, 3]), np.array([1, 1, 2, 1, 0])
    )
    assert shares.tolist() == [4, 100, 9, 3, 0]


def test_own_credit_takes_the_members_out_of_a_manager_s_rolled_up_credit():
    unit = np.array([0, 0, 0, 1, 1])
    member = np.array([True, True, False, True, False])
    S = np.array([[10.0], [20.0], [35.0], [4.0], [4.0]])  # M of unit 0 sold 5, of unit 1: 0
    assert own_credit(S, unit, member)[:, 0].tolist() == [10, 20, 5, 4, 0]
    assert own_credit(S, None, member) is S


@st.composite
def pool_cases(draw):
    funding = draw(st.sampled_from(["per_member", "fixed", "share_of_sales"]))
    pool = {
        "type": "team_pool",
        "name": "pool",
        "products": draw(st.sampled_from([None, ["a"]])),
        "team_threshold": draw(st.sampled_from([0, 0.5, 0.8, 1.0])),
        "split": draw(st.sampled_from(["equal", "pro_rata", "shares"])),
        "min_attainment": draw(st.sampled_from([0, 0, 0.5])),
    }
    pool[funding] = {"per_member": 150, "fixed": 1_000, "share_of_sales": 0.01}[funding]
    if pool["split"] == "shares":
        pool["shares"] = {"rep": 0.2, "senior": 0.3, "manager": 0.5}
    spec = {
        "kind": "plan",
        "name": "p",
        "period": draw(st.sampled_from(["month", "quarter"])),
        "measure": draw(st.sampled_from(["period", "ytd"])),
        "negative_balance": "claw_back",
        "components": [pool],
    }
    if draw(st.booleans()):
        spec["credit"] = {"roll_up": "team"}
    rows = []
    for k in range(draw(st.integers(1, 14))):
        rep = draw(st.sampled_from(REPS))
        month = draw(st.integers(1, 12))
        product = draw(st.sampled_from("ab"))
        amount = draw(st.integers(1, 60)) * 1_000  # whole units: the float path is exact
        rows.append((f"D{k}", f"2027-{month:02d}-05", rep, product, amount, "booking"))
        if draw(st.integers(0, 5)) == 0:
            later = min(12, month + draw(st.integers(0, 3)))
            cut = amount // draw(st.sampled_from([1, 2, 4]))
            rows.append((f"D{k}", f"2027-{later:02d}-20", rep, product, cut, "cancellation"))
    deals = pd.DataFrame(rows, columns=["deal_id", "date", "rep_id", "product", "amount", "type"])
    deals["split"], deals["quantity"], deals["new_customer"] = 1.0, 1, False
    targets = [
        (r, "2027", "a", draw(st.integers(0, 30)) * 10_000)
        for r in REPS
        if not r.startswith("M") or draw(st.booleans())
    ]
    return spec, deals, pd.DataFrame(targets, columns=["rep_id", "period", "product", "target"])


@settings(max_examples=40, deadline=None)
@given(pool_cases())
def test_team_pool_exact_and_vectorised_agree_within_one_minor_unit(case):
    """Every split, funding, roll-up and window: the vectorised pool line (fed the credited
    sales the exact run measured) is within one minor unit of the exact one per window
    (two per YTD line, the difference of two windows)."""
    spec, deals, targets = case
    c = company()
    result = payouts(load_plan(spec, c), targets, deals, c)
    compiled, ctx = result.compiled, result._context
    w = ctx["windows"]
    ytd = compiled.measure == "ytd"
    per_period = (lambda x: np.diff(x, axis=1, prepend=0)) if ytd else (lambda x: x)
    scale = compiled.scale
    sales = per_period(w.net) / scale  # credited (rolled up) per rep × period × product
    tg = per_period(w.targets) / scale
    pop = population(compiled, len(w.people), w.people)
    fl = evaluate(compiled, sales[:, None], tg, pop=pop, detail=True)["pool"][:, 0]
    exact = np.zeros(fl.shape, dtype=np.int64)
    lines = result.lines[result.lines["component"] == "pool"]
    labels = ctx["book"].calendar.period_labels()
    rep_index = {r: i for i, r in enumerate(ctx["book"].rep_ids)}
    columns = (lines["rep_id"], lines["period"], lines["amount_minor"])
    for rep, period, minor in zip(*columns, strict=True):
        exact[rep_index[rep], labels.index(period)] = minor
    tolerance = 2 if ytd else 1
    diff = np.abs(fl * scale - exact)
    assert diff.max() <= tolerance + 1e-6, (diff.max(), np.argwhere(diff > tolerance + 1e-6))

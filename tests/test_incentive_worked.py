"""Worked cases: each payout checked against arithmetic done by hand in its docstring.

A tiny company (products a and b; reps R1, R2 and manager M1 in team T1; TI 12,000
for reps) and one-call helpers come first; then one test per case.
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import yaml

from attain.data import company_from_frames
from attain.errors import DataError
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

ORG = [
    # rep_id, team, role, target_incentive, collab
    ("R1", "T1", "rep", 12000, 1.1),
    ("R2", "T1", "rep", 12000, 1.0),
    ("M1", "T1", "manager", 24000, 1.0),
]


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
                "target_incentive": ti,
                "collab": c,
            }
            for r, t, role, ti, c in ORG
        ]
    )
    return company_from_frames(COMPANY, org=org)


def deals(rows) -> pd.DataFrame:
    """rows: (date, rep, product, amount[, split, quantity, new_customer, type, deal_id])."""
    out = []
    for i, row in enumerate(rows):
        date, rep, product, amount, *rest = row
        split, qty, new, kind, deal = (rest + [1.0, 1, False, "booking", None][len(rest) :])[:5]
        out.append(
            {
                "deal_id": deal or f"D{i}",
                "date": date,
                "rep_id": rep,
                "product": product,
                "amount": amount,
                "split": split,
                "quantity": qty,
                "new_customer": new,
                "type": kind,
            }
        )
    columns = ["deal_id", "date", "rep_id", "product", "amount", "split", "quantity"]
    return pd.DataFrame(out, columns=[*columns, "new_customer", "type"])


def targets(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["rep_id", "period", "product", "target"])


def plan(components, **kw) -> dict:
    base = {"kind": "plan", "name": "t", "period": "year", "measure": "period"}
    return {**base, **kw, "components": components}


def run(plan_dict, deal_rows, target_rows=(), **kw):
    c = company()
    p = load_plan(plan_dict, c)
    return payouts(p, targets(list(target_rows)), deals(deal_rows), c, **kw)


def amount(result, rep, component=None, period=None) -> Decimal:
    lines = result.lines
    sel = lines["rep_id"] == rep
    if component is not None:
        sel &= lines["component"] == component
    if period is not None:
        sel &= lines["period"] == period
    return Decimal(int(lines.loc[sel, "amount_minor"].sum())) / 100


def tiers(*bands):
    """tiers((0, 1e6, 0.08), (1e6, None, 0.10))"""
    out = []
    for start, end, rate in bands:
        t = {"start": start, "rate": rate}
        if end is not None:
            t["end"] = end
        out.append(t)
    return out


D = Decimal
TIERS_8_10 = tiers((0, 1_000_000, 0.08), (1_000_000, None, 0.10))


def commission(**kw):
    return {"type": "commission", "name": "c", "tiers": TIERS_8_10, **kw}


CURVE = {
    "type": "attainment_curve",
    "name": "bonus",
    "points": [
        {"attainment": 0.5, "payout": 0.3},
        {"attainment": 1.0, "payout": 1.0},
        {"attainment": 1.5, "payout": 2.0},
    ],
}
TI = {"column": "target_incentive"}


def year_target(rep="R1", amount=1_000_000, product="a"):
    return (rep, "2027", product, amount)


# --- tiered commission ---------------------------------------------------------------


def test_marginal_tiers():
    """1.3M sales, 8% to 1M, 10% above, marginal:
    1,000,000 × 8% + 300,000 × 10% = 80,000 + 30,000 = 110,000.00."""
    r = run(plan([commission()]), [("2027-03-01", "R1", "a", 1_300_000)])
    assert amount(r, "R1") == D("110000.00")


def test_retroactive_tiers():
    """1.3M sales, retroactive: the whole amount at the tier reached, 1,300,000 × 10% = 130,000."""
    r = run(plan([commission(method="retroactive")]), [("2027-03-01", "R1", "a", 1_300_000)])
    assert amount(r, "R1") == D("130000.00")


def test_boundary_upper_puts_the_edge_in_the_upper_tier():
    """Exactly 1,000,000 with boundary `upper` (default): 1,000,000 × 10% = 100,000."""
    r = run(plan([commission(method="retroactive")]), [("2027-03-01", "R1", "a", 1_000_000)])
    assert amount(r, "R1") == D("100000.00")


def test_boundary_lower_keeps_the_edge_in_the_lower_tier():
    """Exactly 1,000,000 with boundary `lower`: 1,000,000 × 8% = 80,000."""
    p = plan([commission(method="retroactive", boundary="lower")])
    r = run(p, [("2027-03-01", "R1", "a", 1_000_000)])
    assert amount(r, "R1") == D("80000.00")


def test_interpolated_rate_moves_linearly_in_the_band():
    """Rates 4% from 0, 6% from 1M, 10% from 2M, interpolated; 1.5M sits halfway
    between 1M and 2M: rate 6% + 0.5 × (10% − 6%) = 8%; 1,500,000 × 8% = 120,000."""
    t = tiers((0, 1e6, 0.04), (1e6, 2e6, 0.06), (2e6, None, 0.10))
    r = run(
        plan([commission(method="interpolated", tiers=t)]), [("2027-03-01", "R1", "a", 1_500_000)]
    )
    assert amount(r, "R1") == D("120000.00")


def test_marginal_tiers_on_attainment():
    """Target 1M, sales 1.3M; 5% on the part up to 100% attainment, 15% above:
    1,000,000 × 5% + 300,000 × 15% = 50,000 + 45,000 = 95,000."""
    t = tiers((0, 1.0, 0.05), (1.0, None, 0.15))
    r = run(
        plan([commission(basis="attainment", tiers=t)]),
        [("2027-03-01", "R1", "a", 1_300_000)],
        [year_target()],
    )
    assert amount(r, "R1") == D("95000.00")


def test_tier_selected_by_gross_paid_on_net():
    """Bookings 1.2M, a 300k cancellation: gross 1.2M selects the 10% tier
    (retroactive), paid on net 900,000 × 10% = 90,000."""
    rows = [
        ("2027-02-01", "R1", "a", 1_200_000, 1.0, 1, False, "booking", "D1"),
        ("2027-02-01", "R1", "a", 300_000, 1.0, 1, False, "booking", "D2"),
        ("2027-03-01", "R1", "a", 300_000, 1.0, 1, False, "cancellation", "D2"),
    ]
    # D1 1.2M + D2 0.3M booked = 1.5M gross; net 1.2M. Rate 10%; paid 1,200,000 × 10%.
    p = plan([commission(method="retroactive", select_on="gross", paid_on="net")])
    r = run(p, rows)
    assert amount(r, "R1") == D("120000.00")
    # Selected on net 1.2M too (still tier 2): the same 120,000; on 900k net it would be 8%.
    rows[0] = ("2027-02-01", "R1", "a", 900_000, 1.0, 1, False, "booking", "D1")
    r = run(p, rows)  # gross 1.2M -> 10%; net 900,000 × 10% = 90,000
    assert amount(r, "R1") == D("90000.00")
    r = run(plan([commission(method="retroactive")]), rows)  # net selects: 900,000 × 8%
    assert amount(r, "R1") == D("72000.00")


def test_deal_scope_applies_tiers_to_each_deal_alone():
    """Two deals of 600k, retroactive 8%/10% at 1M, scope `deal`: each deal is below 1M,
    600,000 × 8% × 2 = 96,000 (scope `period` would pay 1,200,000 × 10% = 120,000)."""
    rows = [("2027-01-10", "R1", "a", 600_000), ("2027-02-10", "R1", "a", 600_000)]
    r = run(plan([commission(method="retroactive", scope="deal")]), rows)
    assert amount(r, "R1") == D("96000.00")
    r = run(plan([commission(method="retroactive")]), rows)
    assert amount(r, "R1") == D("120000.00")


def test_cumulative_scope_lands_each_deal_on_the_ytd_position():
    """Scope `cumulative`, retroactive: deal 1 (600k) lands at 600k → 8% = 48,000;
    deal 2 (600k) lands at 1.2M → 10% = 60,000; earlier deals keep their rate: 108,000."""
    rows = [("2027-01-10", "R1", "a", 600_000), ("2027-02-10", "R1", "a", 600_000)]
    r = run(plan([commission(method="retroactive", scope="cumulative")]), rows)
    assert amount(r, "R1") == D("108000.00")


# --- periods, true-ups, cancellations ------------------------------------------------------


def monthly(components, **kw):
    return plan(components, period="month", measure="ytd", **kw)


FLAT_TIERS = tiers((0, 120_000, 0.05), (120_000, None, 0.10))


def test_ytd_true_up_pays_the_difference():
    """Marginal 5% to 120k, 10% above, monthly on YTD. Jan 100k: 5,000 paid.
    Feb YTD 150k earns 120,000 × 5% + 30,000 × 10% = 9,000; minus 5,000 paid = 4,000."""
    rows = [("2027-01-05", "R1", "a", 100_000), ("2027-02-05", "R1", "a", 50_000)]
    r = run(monthly([commission(tiers=FLAT_TIERS)]), rows)
    assert amount(r, "R1", period="2027-01") == D("5000.00")
    assert amount(r, "R1", period="2027-02") == D("4000.00")


def test_cancellation_reverses_credit_in_its_own_period():
    """10% commission per month, each month alone, claw back: Jan booking 100k pays
    10,000; its cancellation in March pays −10,000 in March; February is untouched."""
    rows = [
        ("2027-01-05", "R1", "a", 100_000, 1.0, 1, False, "booking", "D1"),
        ("2027-03-05", "R1", "a", 100_000, 1.0, 1, False, "cancellation", "D1"),
    ]
    p = plan(
        [commission(tiers=tiers((0, None, 0.10)))],
        period="month",
        negative_balance="claw_back",
    )
    r = run(p, rows)
    assert amount(r, "R1", period="2027-01") == D("10000.00")
    assert amount(r, "R1", period="2027-02") == D("0.00")
    assert amount(r, "R1", period="2027-03") == D("-10000.00")


CANCEL_ROWS = [
    ("2027-01-05", "R1", "a", 100_000, 1.0, 1, False, "booking", "D1"),
    ("2027-01-06", "R1", "a", 40_000, 1.0, 1, False, "booking", "D2"),
    ("2027-02-05", "R1", "a", 40_000, 1.0, 1, False, "cancellation", "D2"),
    ("2027-03-05", "R1", "a", 100_000, 1.0, 1, False, "booking", "D3"),
]


def test_carry_forward_recovers_a_negative_balance_from_later_earnings():
    """10% on YTD. Jan 140k → 14,000 paid. Feb: a 40k cancellation, YTD 100k earns
    10,000 < 14,000 paid: pays 0 (4,000 carried forward). Mar YTD 200k earns 20,000;
    paid so far 14,000 → pays 6,000."""
    r = run(monthly([commission(tiers=tiers((0, None, 0.10)))]), CANCEL_ROWS)
    assert amount(r, "R1", period="2027-01") == D("14000.00")
    assert amount(r, "R1", period="2027-02") == D("0.00")
    assert amount(r, "R1", "carried_forward", "2027-02") == D("4000.00")
    assert amount(r, "R1", period="2027-03") == D("6000.00")


def test_claw_back_pays_a_negative_balance_now():
    """Same deals, `claw_back`: Feb pays 10,000 − 14,000 = −4,000; Mar 20,000 − 10,000 = 10,000."""
    p = monthly([commission(tiers=tiers((0, None, 0.10)))], negative_balance="claw_back")
    r = run(p, CANCEL_ROWS)
    assert amount(r, "R1", period="2027-02") == D("-4000.00")
    assert amount(r, "R1", period="2027-03") == D("10000.00")


def test_quarterly_targets_and_periods():
    """Quarterly plan; a 300k Q1 target row; 330k of Q1 sales → 110% → kicker of 500."""
    step = {"type": "step_bonus", "name": "kick", "steps": [{"attainment": 1.1, "amount": 500}]}
    p = plan([step], period="quarter")
    r = run(p, [("2027-02-01", "R1", "a", 330_000)], [("R1", "2027-Q1", "a", 300_000)])
    assert amount(r, "R1", period="2027-Q1") == D("500.00")
    assert amount(r, "R1", period="2027-Q2") == D("0.00")


def test_effective_from_ignores_deals_before_a_mid_year_change():
    """Plan effective 2027-07-01: March's 100k does not count, August's 50k does:
    50,000 × 10% = 5,000; months before July get no lines."""
    rows = [("2027-03-01", "R1", "a", 100_000), ("2027-08-01", "R1", "a", 50_000)]
    p = plan(
        [commission(tiers=tiers((0, None, 0.10)))], period="month", effective_from="2027-07-01"
    )
    r = run(p, rows)
    assert amount(r, "R1") == D("5000.00")
    assert set(r.lines["period"]) == {f"2027-{m:02d}" for m in range(7, 13)}


# --- credit ------------------------------------------------------------------------------


def test_split_credit_between_two_reps():
    """A 100k deal split 60/40, 10% flat: R1 60,000 × 10% = 6,000; R2 40,000 × 10% = 4,000."""
    rows = [
        ("2027-01-05", "R1", "a", 100_000, 0.6, 1, False, "booking", "D1"),
        ("2027-01-05", "R2", "a", 100_000, 0.4, 1, False, "booking", "D1"),
    ]
    r = run(plan([commission(tiers=tiers((0, None, 0.10)))]), rows)
    assert amount(r, "R1") == D("6000.00")
    assert amount(r, "R2") == D("4000.00")


def test_new_customer_multiplier():
    """A new-customer deal of 100k credited ×1.2 = 120,000; 10% → 12,000."""
    p = plan([commission(tiers=tiers((0, None, 0.10)))], credit={"new_customer_multiplier": 1.2})
    r = run(p, [("2027-01-05", "R1", "a", 100_000, 1.0, 1, True)])
    assert amount(r, "R1") == D("12000.00")


def test_manager_roll_up_credits_the_team():
    """R1 sells 60k, R2 40k; M1's credit rolls up to 100k; a 1% override pays 1,000
    (the reps are not paid by this component)."""
    comp = commission(tiers=tiers((0, None, 0.01)), roles=["manager"])
    p = plan([comp], credit={"roll_up": "team"})
    r = run(p, [("2027-01-05", "R1", "a", 60_000), ("2027-01-05", "R2", "a", 40_000)])
    assert amount(r, "M1") == D("1000.00")
    assert amount(r, "R1") == D("0.00")


def test_credit_products_filter():
    """Only product b earns credit: 100k of a and 50k of b → 50,000 × 10% = 5,000."""
    p = plan([commission(tiers=tiers((0, None, 0.10)))], credit={"products": ["b"]})
    r = run(p, [("2027-01-05", "R1", "a", 100_000), ("2027-01-05", "R1", "b", 50_000)])
    assert amount(r, "R1") == D("5000.00")


# --- attainment curve, steps, gates, penalties ---------------------------------------------


def test_curve_at_130_percent():
    """TI 12,000; curve (50%, 0.3) (100%, 1.0) (150%, 2.0); 130% attainment:
    1.0 + (1.3 − 1.0) / (1.5 − 1.0) × (2.0 − 1.0) = 1.6; 1.6 × 12,000 = 19,200."""
    r = run(
        plan([CURVE], target_incentive=TI), [("2027-05-01", "R1", "a", 1_300_000)], [year_target()]
    )
    assert amount(r, "R1") == D("19200.00")


def test_curve_threshold_and_interpolation_below_target():
    """40% is below the 50% threshold: 0. At 75%: 0.3 + 0.25 / 0.5 × 0.7 = 0.65;
    0.65 × 12,000 = 7,800."""
    r = run(
        plan([CURVE], target_incentive=TI), [("2027-05-01", "R1", "a", 400_000)], [year_target()]
    )
    assert amount(r, "R1") == D("0.00")
    r = run(
        plan([CURVE], target_incentive=TI), [("2027-05-01", "R1", "a", 750_000)], [year_target()]
    )
    assert amount(r, "R1") == D("7800.00")


def test_curve_flat_above_last_point_and_capped():
    """200% attainment: flat at the last point, 2.0 × 12,000 = 24,000;
    with a cap of 1.5 × TI: 18,000."""
    r = run(
        plan([CURVE], target_incentive=TI), [("2027-05-01", "R1", "a", 2_000_000)], [year_target()]
    )
    assert amount(r, "R1") == D("24000.00")
    capped = {**CURVE, "cap": {"multiple_of_ti": 1.5}}
    r = run(
        plan([capped], target_incentive=TI), [("2027-05-01", "R1", "a", 2_000_000)], [year_target()]
    )
    assert amount(r, "R1") == D("18000.00")


def test_accelerator_gate_holds_the_curve_at_target():
    """130% on a, but b at 50% of its target (gate: b ≥ 80%, on the accelerator):
    the curve stops at 100% → 1.0 × 12,000 = 12,000 instead of 19,200.
    Attainment is on all products: (1.3M + 50k) / (1M + 100k) ≈ 122.7% → 1.4545… × TI
    ungated; gated it is held at 1.0."""
    gated = {
        **CURVE,
        "products": ["a"],
        "gate": {"products": ["b"], "min_attainment": 0.8, "applies_to": "accelerator"},
    }
    rows = [("2027-05-01", "R1", "a", 1_300_000), ("2027-05-01", "R1", "b", 50_000)]
    tg = [year_target(), year_target(amount=100_000, product="b")]
    r = run(plan([gated], target_incentive=TI), rows, tg)
    assert amount(r, "R1") == D("12000.00")
    rows[1] = ("2027-05-01", "R1", "b", 90_000)  # b at 90%: gate holds → 19,200
    r = run(plan([gated], target_incentive=TI), rows, tg)
    assert amount(r, "R1") == D("19200.00")


def test_component_gate_blocks_the_whole_component():
    """Gate b ≥ 80% on the component; b at 50%: the 10% commission on a's 100k pays 0."""
    comp = commission(
        tiers=tiers((0, None, 0.10)),
        products=["a"],
        gate={"products": ["b"], "min_attainment": 0.8},
    )
    rows = [("2027-05-01", "R1", "a", 100_000), ("2027-05-01", "R1", "b", 50_000)]
    r = run(plan([comp]), rows, [year_target(amount=100_000, product="b")])
    assert amount(r, "R1") == D("0.00")


def test_step_bonus_pays_the_highest_step_reached():
    """Steps 110% → 500, 125% → 1,500; 120% attainment reaches only the first: 500.
    At 130%: 1,500 (not 2,000: steps do not add up)."""
    step = {
        "type": "step_bonus",
        "name": "kick",
        "steps": [{"attainment": 1.1, "amount": 500}, {"attainment": 1.25, "amount": 1500}],
    }
    r = run(plan([step]), [("2027-05-01", "R1", "a", 1_200_000)], [year_target()])
    assert amount(r, "R1") == D("500.00")
    r = run(plan([step]), [("2027-05-01", "R1", "a", 1_300_000)], [year_target()])
    assert amount(r, "R1") == D("1500.00")


def test_penalty_below_a_level():
    """10% commission on 400k = 40,000; attainment 40% < 50%: penalty 1,000 → 39,000."""
    pen = {"type": "penalty", "name": "pen", "below": 0.5, "amount": 1000}
    r = run(
        plan([commission(tiers=tiers((0, None, 0.10))), pen]),
        [("2027-05-01", "R1", "a", 400_000)],
        [year_target()],
    )
    assert amount(r, "R1", "pen") == D("-1000.00")
    assert amount(r, "R1") == D("39000.00")


# --- SPIFF, team pool, draws, caps, modifiers, rounding -----------------------------------


def test_spiff_per_unit_in_its_window():
    """5.00 per unit of b, March 1 – April 30. Feb: 10 units (outside). Mar: 20 units at a
    50% split → 10 units → 50.00. Apr: 4 units → 20.00. Total 70.00."""
    spiff = {
        "type": "spiff",
        "name": "spiff",
        "products": ["b"],
        "start": "2027-03-01",
        "end": "2027-04-30",
        "per_unit": 5,
    }
    rows = [
        ("2027-02-10", "R1", "b", 1000, 1.0, 10),
        ("2027-03-10", "R1", "b", 1000, 0.5, 20, False, "booking", "D9"),
        ("2027-03-10", "R2", "b", 1000, 0.5, 20, False, "booking", "D9"),
        ("2027-04-10", "R1", "b", 1000, 1.0, 4),
    ]
    r = run(plan([spiff]), rows)
    assert amount(r, "R1") == D("70.00")


POOL = {"type": "team_pool", "name": "pool", "per_member": 600, "split": "equal"}
POOL_ROWS = [("2027-05-01", "R1", "a", 120_000), ("2027-05-01", "R2", "a", 90_000)]
POOL_TARGETS = [year_target("R1", 100_000), year_target("R2", 100_000)]


def test_team_pool_equal_split():
    """Team T1 (R1, R2; the manager is not a member): 210k of a 200k target = 105% ≥ 100%.
    Funded 600 × 2 members = 1,200; equally: 600 each."""
    p = plan([POOL], participants={"roles": ["rep"]})
    r = run(p, POOL_ROWS, POOL_TARGETS)
    assert amount(r, "R1") == D("600.00")
    assert amount(r, "R2") == D("600.00")


def test_team_pool_individual_gate():
    """Same team, individual gate 100%: R2 at 90% does not share; R1 takes the 1,200."""
    p = plan([{**POOL, "min_attainment": 1.0}], participants={"roles": ["rep"]})
    r = run(p, POOL_ROWS, POOL_TARGETS)
    assert amount(r, "R1") == D("1200.00")
    assert amount(r, "R2") == D("0.00")


def test_team_pool_pro_rata_adds_up_to_the_cent():
    """A fixed 1,000.00 pot, pro rata to credit 120k : 60k = 2 : 1 → 666.666… and 333.333…;
    floors 666.66 + 333.33 leave 0.01, given to the larger remainder: 666.67 + 333.33."""
    pool = {
        "type": "team_pool",
        "name": "pool",
        "fixed": 1000,
        "split": "pro_rata",
        "team_threshold": 0.5,
    }
    rows = [("2027-05-01", "R1", "a", 120_000), ("2027-05-01", "R2", "a", 60_000)]
    r = run(plan([pool], participants={"roles": ["rep"]}), rows, POOL_TARGETS)
    assert amount(r, "R1") == D("666.67")
    assert amount(r, "R2") == D("333.33")


def test_team_pool_role_shares():
    """Fixed 1,000 split 20% manager / 80% reps: M1 200.00; R1 and R2 400.00 each."""
    pool = {
        "type": "team_pool",
        "name": "pool",
        "fixed": 1000,
        "split": "shares",
        "shares": {"manager": 0.2, "rep": 0.8},
    }
    r = run(plan([pool]), POOL_ROWS, POOL_TARGETS)
    assert amount(r, "M1") == D("200.00")
    assert amount(r, "R1") == D("400.00")
    assert amount(r, "R2") == D("400.00")


def test_team_pool_not_funded_below_threshold():
    """Team at 105% but threshold 110%: no pool, everyone 0."""
    p = plan([{**POOL, "team_threshold": 1.1}], participants={"roles": ["rep"]})
    r = run(p, POOL_ROWS, POOL_TARGETS)
    assert amount(r, "R1") + amount(r, "R2") == D("0.00")


DRAW_ROWS = [("2027-01-10", "R1", "a", 12_000), ("2027-02-10", "R1", "a", 40_000)]


def test_recoverable_draw():
    """Draw 3,000/month, 10% commission. Jan earns 1,200 → top-up 1,800 (owed 1,800).
    Feb earns 4,000 → recover min(1,800, 4,000 − 3,000) = 1,000 → pays 3,000 (owed 800)."""
    p = plan([commission(tiers=tiers((0, None, 0.10)))], period="month", draw={"amount": 3000})
    r = run(p, DRAW_ROWS)
    assert amount(r, "R1", "draw", "2027-01") == D("1800.00")
    assert amount(r, "R1", period="2027-01") == D("3000.00")
    assert amount(r, "R1", "draw_recovery", "2027-02") == D("-1000.00")
    assert amount(r, "R1", period="2027-02") == D("3000.00")
    feb = r.totals[(r.totals.rep_id == "R1") & (r.totals.period == "2027-02")]
    assert int(feb["draw_balance_minor"].iloc[0]) == 80000


def test_non_recoverable_draw_is_a_guaranteed_minimum():
    """Same, `recoverable: false`: Jan 1,200 + 1,800 = 3,000; Feb pays its full 4,000."""
    p = plan(
        [commission(tiers=tiers((0, None, 0.10)))],
        period="month",
        draw={"amount": 3000, "recoverable": False},
    )
    r = run(p, DRAW_ROWS)
    assert amount(r, "R1", period="2027-01") == D("3000.00")
    assert amount(r, "R1", period="2027-02") == D("4000.00")


def test_component_cap_amount():
    """10% on 400k = 40,000, capped at 15,000."""
    comp = commission(tiers=tiers((0, None, 0.10)), cap={"amount": 15000})
    r = run(plan([comp]), [("2027-05-01", "R1", "a", 400_000)])
    assert amount(r, "R1") == D("15000.00")


def test_total_cap_in_target_incentive():
    """10% on 400k = 40,000 plus a 500 kicker; total cap 3 × TI = 36,000: a −4,500 line."""
    step = {"type": "step_bonus", "name": "kick", "steps": [{"attainment": 0.1, "amount": 500}]}
    p = plan(
        [commission(tiers=tiers((0, None, 0.10))), step],
        target_incentive=TI,
        total_cap={"multiple_of_ti": 3},
    )
    r = run(p, [("2027-05-01", "R1", "a", 400_000)], [year_target()])
    assert amount(r, "R1", "total_cap") == D("-4500.00")
    assert amount(r, "R1") == D("36000.00")


def test_modifier_from_an_org_column():
    """R1's collaboration score is 1.1: 10% on 100k = 10,000 × 1.1 = 11,000; R2 (1.0) 10,000."""
    p = plan(
        [commission(tiers=tiers((0, None, 0.10)))],
        modifiers=[{"name": "collab", "column": "collab"}],
    )
    rows = [("2027-05-01", "R1", "a", 100_000), ("2027-05-01", "R2", "a", 100_000)]
    r = run(p, rows)
    assert amount(r, "R1") == D("11000.00")
    assert amount(r, "R2") == D("10000.00")


def test_rounding_modes():
    """10% of 12.25 = 1.225: half_up → 1.23, half_even → 1.22, down → 1.22."""
    for mode, want in (("half_up", "1.23"), ("half_even", "1.22"), ("down", "1.22")):
        p = plan([commission(tiers=tiers((0, None, 0.10)))], rounding={"mode": mode})
        r = run(p, [("2027-05-01", "R1", "a", 12.25)])
        assert amount(r, "R1") == D(want), mode


def test_rounding_per_total():
    """Two components of 10% on 0.05 = 0.005 each. Per line: 0.01 + 0.01 = 0.02.
    Per total: 0.005 + 0.005 = 0.010 → 0.01, with a −0.01 rounding line."""
    comps = [
        commission(tiers=tiers((0, None, 0.10))),
        {**commission(tiers=tiers((0, None, 0.10))), "name": "c2"},
    ]
    rows = [("2027-05-01", "R1", "a", 0.05)]
    assert amount(run(plan(comps), rows), "R1") == D("0.02")
    r = run(plan(comps, rounding={"apply": "per_total"}), rows)
    assert amount(r, "R1") == D("0.01")
    assert amount(r, "R1", "rounding") == D("-0.01")


def test_participants_by_role_and_filter():
    """Roles [rep] with where team T1: R1 and R2 get lines, M1 none."""
    p = plan([commission()], participants={"roles": ["rep"], "where": {"team": ["T1"]}})
    r = run(p, [("2027-05-01", "R1", "a", 1000)])
    assert set(r.lines["rep_id"]) == {"R1", "R2"}


def test_statement_explains_the_arithmetic():
    """The marginal 1.3M case reads: tier 2 (from 1,000,000.00): 300,000.00 × 10% = 30,000.00."""
    r = run(plan([commission()]), [("2027-03-01", "R1", "a", 1_300_000)])
    text = r.statement_lines().query("rep_id == 'R1'")["arithmetic"].iloc[0]
    assert "tier 1 (0.00 to 1,000,000.00): 1,000,000.00 x 8% = 80,000.00" in text
    assert "tier 2 (from 1,000,000.00): 300,000.00 x 10% = 30,000.00" in text
    assert "110,000.00" in r.statement("R1")


# --- cancellations, roles, pools, balances and warnings ---------------------------------


def _cancel(date, rep, amount, deal):
    return (date, rep, "a", amount, 1.0, 1, False, "cancellation", deal)


def _book(date, rep, amount, deal):
    return (date, rep, "a", amount, 1.0, 1, False, "booking", deal)


def test_a_cancellation_re_prices_its_deal():
    """Deal scope, 8% / 10% retroactive from 1M: 1.1M booked pays 110,000; cancelling 200k
    re-prices the deal at its net 900k (72,000): the cancellation pays −38,000, not −16,000."""
    p = plan([commission(method="retroactive", scope="deal")])
    r = run(
        p, [_book("2027-01-10", "R1", 1_100_000, "D1"), _cancel("2027-02-10", "R1", 200_000, "D1")]
    )
    assert amount(r, "R1") == D("72000.00")


def test_gross_selected_marginal_deal_and_cumulative_scopes_claw_back_a_cancelled_deal():
    """Marginal 10% to 100, 20% above, selected on gross, paid on net, monthly YTD with
    claw_back: 140 booked in January pays 10 + 8 = 18.00; fully cancelled in February the
    deal's net is 0, so February pays −18.00, in every scope."""
    t = tiers((0, 100, 0.1), (100, None, 0.2))
    rows = [_book("2027-01-10", "R1", 140, "D1"), _cancel("2027-02-10", "R1", 140, "D1")]
    for scope in ("period", "deal", "cumulative"):
        c = commission(tiers=t, scope=scope, select_on="gross")
        r = run(plan([c], period="month", measure="ytd", negative_balance="claw_back"), rows)
        assert amount(r, "R1", "c", "2027-01") == D("18.00"), scope
        assert amount(r, "R1", "c", "2027-02") == D("-18.00"), scope


def test_a_component_for_some_roles_is_not_on_the_others_statements():
    """A manager-only override has no line (and no arithmetic) for the reps."""
    p = plan([commission(), {**commission(), "name": "override", "roles": ["manager"]}])
    r = run(p, [("2027-03-01", "R1", "a", 1000)])
    assert set(r.lines.loc[r.lines["component"] == "override", "rep_id"]) == {"M1"}
    assert "override" not in set(r.explanation().query("rep_id == 'R1'")["component"])


def test_pro_rata_pool_weighs_own_sales_not_the_manager_s_rolled_up_credit():
    """A fixed 900 pot, pro rata, team rolled up to M1: R1 sold 120k and R2 60k; M1 sold
    nothing of their own, so shares are 600 / 300 / 0 (not a third of the pot to M1 for the
    team's 180k credited to them)."""
    pool = {"type": "team_pool", "name": "pool", "fixed": 900, "split": "pro_rata"}
    pool["team_threshold"] = 0.5
    p = plan([pool], credit={"roll_up": "team"})
    rows = [("2027-05-01", "R1", "a", 120_000), ("2027-05-01", "R2", "a", 60_000)]
    r = run(p, rows, POOL_TARGETS)
    assert [amount(r, rep) for rep in ("R1", "R2", "M1")] == [D("600.00"), D("300.00"), D("0")]


def test_a_one_period_penalty_carried_forward_shows_its_balance():
    """Yearly plan, carry_forward: 5% commission on 10,000 (500) and a 2,000 penalty below
    50% of a 100k target: the year earns −1,500, pays 0, and carries −1,500 (in totals, on
    the statement and as a warning)."""
    pen = {"type": "penalty", "name": "pen", "below": 0.5, "amount": 2000}
    p = plan([commission(tiers=tiers((0, None, 0.05))), pen])
    r = run(p, [("2027-03-01", "R1", "a", 10_000)], [year_target("R1", 100_000)])
    assert amount(r, "R1") == D("0")
    row = r.totals[r.totals["rep_id"] == "R1"].iloc[0]
    assert row["carried_balance_minor"] == -150_000
    assert "balance carried forward -1,500.00" in r.statement("R1")
    assert "balance-carried-past-year-end" in {n.code for n in r.notices}
    assert r.summary["warnings"][0]["code"] == "balance-carried-past-year-end"
    assert r.summary["carried_balance"] == "-1500.00" and r.summary["n_carried_balance"] == 1


def test_silent_zeros_are_warned():
    """Roles matching nobody, a pool with no team target, a year without deals and a
    cancellation beyond its booking each give a warning."""
    pool = {"type": "team_pool", "name": "pool", "per_member": 100}
    allow = {"over_cancellation": "allow"}  # declared: else a data error
    p = plan([{**commission(), "roles": ["vp"]}, pool], credit=allow)
    rows = [_book("2027-01-10", "R1", 100, "D1"), _cancel("2027-02-10", "R1", 300, "D1")]
    codes = [n.code for n in run(p, rows).notices]
    assert codes == [
        "roles-match-nobody",
        "pool-without-team-target",
        "sold-without-target",  # R1 sold, has no target and is paid nothing
        "cancellation-exceeds-booking",
    ]
    codes = [n.code for n in run(plan([commission()]), [("2026-03-01", "R1", "a", 1000)]).notices]
    assert codes == ["no-deals-in-year"]
    p = plan([commission()], participants={"roles": ["vp"]})
    assert [n.code for n in run(p, []).notices] == ["roles-match-nobody"]


def test_the_pool_warning_is_the_kinds_notice():
    """The team pool's own ``notices`` hook raises its warning (the run lists it), and a
    team with a positive target for the pool's products silences it."""
    from attain.incentive.kinds import kind_of

    pool = {"type": "team_pool", "name": "pool", "per_member": 100}
    r = run(plan([commission(), pool]), [_book("2027-01-10", "R1", 100, "D1")])
    c = r.compiled.components[1]
    (notice,) = kind_of(c).notices(c, r._context["windows"])
    assert notice.code == "pool-without-team-target" and notice.source == "pool"
    assert "pool-without-team-target" in [n.code for n in r.notices]
    r = run(plan([commission(), pool]), [_book("2027-01-10", "R1", 100, "D1")], [year_target()])
    c = r.compiled.components[1]
    assert kind_of(c).notices(c, r._context["windows"]) == []


def test_attainment_reads_at_the_precision_it_is_selected_at():
    """99.95% of target against a 100% curve point reads 99.9% (truncated), never 100.0%;
    against a 99.95% step it reads 99.95% and the step pays."""
    r = run(
        plan([CURVE], target_incentive=TI), [("2027-03-01", "R1", "a", 999_500)], [year_target()]
    )
    assert "attainment 99.9%" in r.statement_lines().query("rep_id == 'R1'")["inputs"].iloc[0]
    step = {"type": "step_bonus", "name": "s", "steps": [{"attainment": 0.9995, "amount": 100}]}
    r = run(plan([step]), [("2027-03-01", "R1", "a", 999_500)], [year_target()])
    assert "attainment 99.95%" in r.statement_lines().query("rep_id == 'R1'")["inputs"].iloc[0]
    assert amount(r, "R1") == D("100.00")


def test_a_statement_has_its_header_year_total_and_no_zero_lines():
    """R1's statement names them (role, team, plan, year), leaves out the zero SPIFF line
    (it stays in payouts.csv) and ends with what the year paid."""
    spiff = {"type": "spiff", "name": "sp", "start": "2027-03-01", "end": "2027-03-31"}
    p = plan([commission(), {**spiff, "per_unit": 5}])
    r = run(p, [("2027-05-01", "R1", "a", 1000)])
    text = r.statement("R1")
    assert "name: R1 · role: rep · team: T1 · plan `t`, fiscal year 2027" in text
    assert "SPIFF" not in text and "sp" in set(r.lines["component"])
    assert text.rstrip().endswith("**Paid this year: 80.00 EUR**")


def test_draw_and_clawback_follow_the_declared_policy():
    """Monthly, claw_back, a 3,000 draw: January earns 10% of 50,000 = 5,000; February's
    cancellation of it claws back −5,000. `absorb` tops February up to the draw (+8,000,
    payable 3,000); `owe` tops up only the earnings (+3,000, payable −2,000)."""
    rows = [_book("2027-01-10", "R1", 50_000, "D1"), _cancel("2027-02-10", "R1", 50_000, "D1")]
    c = commission(tiers=tiers((0, None, 0.1)))
    base = {"period": "month", "measure": "period", "negative_balance": "claw_back"}
    for policy, top_up, payable in (
        ("absorb", "8000.00", "3000.00"),
        ("owe", "3000.00", "-2000.00"),
    ):
        p = plan([c], **base, draw={"amount": 3000, "recoverable": False, "clawback": policy})
        r = run(p, rows)
        assert amount(r, "R1", "c", "2027-02") == D("-5000.00")
        assert amount(r, "R1", "draw", "2027-02") == D(top_up)
        assert amount(r, "R1", period="2027-02") == D(payable)
        assert f"draw.clawback {policy}" in r.statement("R1")
    p = plan([c], **base, draw={"amount": 3000})  # recoverable: owed after the year
    # R1: 8,000 topped up in February, then 3,000 a month for ten; R2 and M1 sold nothing
    assert run(p, rows).summary["draw_balance_outstanding"] == "110000.00"


# --- clawback policies and advance draws: the worked examples of docs/plans.md -----------

DOCS = Path(__file__).resolve().parent.parent / "docs" / "plans.md"


def _doc_example(name: str):
    """The plan, deals and expected lines under ``<!-- worked-example: name -->``."""
    text = DOCS.read_text(encoding="utf-8")
    block = text.split(f"<!-- worked-example: {name} -->", 1)[1]
    plan_text = block.split("```yaml\n", 1)[1].split("```", 1)[0]
    csv_text = block.split("```csv\n", 1)[1].split("```", 1)[0]
    table = block.split("| rep | period | component | amount |", 1)[1].split("\n\n", 1)[0]
    expected = []
    for row in table.strip().splitlines()[2:]:  # after the header's end and the rule
        rep, period, component, value = (c.strip() for c in row.strip("|").split("|")[:4])
        expected.append((rep, period, component, Decimal(value.replace(",", ""))))
    return yaml.safe_load(plan_text), pd.read_csv(io.StringIO(csv_text), dtype=str), expected


def _run_doc(name: str, org_extra=None):
    spec, frame, expected = _doc_example(name)
    rows = [
        (r.date, r.rep_id, "a", float(r.amount), 1.0, 1, False, r.type, r.deal_id)
        for r in frame.itertuples()
    ]
    org = pd.DataFrame(
        [
            {
                "rep_id": r,
                "name": r,
                "team": t,
                "role": role,
                "tenure_months": 12,
                "capacity": 0,
                "target_incentive": ti,
                "collab": c,
                **(org_extra or {}).get(r, {}),
            }
            for r, t, role, ti, c in ORG
        ]
    )
    c = company_from_frames(COMPANY, org=org)
    result = payouts(load_plan(spec, c), targets([]), deals(rows), c)
    return result, expected


def _check_doc(result, expected):
    for rep, period, component, value in expected:
        assert amount(result, rep, component, period) == value, (rep, period, component)
    listed = {(rep, period, component) for rep, period, component, _ in expected}
    reps = {rep for rep, _, _, _ in expected}
    lines = result.lines[result.lines["rep_id"].isin(reps)]
    for rep, period, component, minor in zip(
        lines["rep_id"], lines["period"], lines["component"], lines["amount_minor"], strict=True
    ):
        if minor != 0:
            assert (rep, period, component) in listed, (rep, period, component, minor)


def test_the_documented_clawback_example():
    """docs/plans.md, *Clawback*: windows by days since booking (all within 90, half within
    180, nothing after), only what was credited (a 2026 booking's cancellation takes back
    nothing), and R2's termination on 31 May clawing back a deal booked 41 days before."""
    org = {"R1": {"termination_date": ""}, "R2": {"termination_date": "2027-05-31"}}
    org["M1"] = {"termination_date": ""}
    result, expected = _run_doc("clawback", org)
    _check_doc(result, expected)
    assert result.summary["n_deal_rows_excluded"]["after_termination"] == 1
    _parts_add_up(result)


def test_the_documented_advance_draw_example():
    """docs/plans.md, *Draws*: a 9,000 quarterly advance settled against the quarter's
    earnings; the 3,000 shortfall of Q1 recovered 2,000 / 500 / 500 (at most 2,000 and
    half the excess per quarter)."""
    result, expected = _run_doc("draw-advance")
    _check_doc(result, expected)
    assert amount(result, "R1") == D("51000.00")
    balance = result.totals[result.totals.rep_id == "R1"]["draw_balance_minor"].tolist()
    assert balance == [300000, 100000, 50000, 0]
    parts = result.explanation()
    q2 = parts[(parts.period == "2027-Q2") & (parts.component == "draw_recovery")]
    assert q2["part"].tolist() == [
        "advance settled against the period's earnings",
        "draw recovered",
    ]
    assert q2["amount"].tolist() == ["-9000.00", "-2000.00"]
    assert "paid at the start of the period" in result.statement("R1")
    _parts_add_up(result)


def _parts_add_up(result):
    parts = result.explanation(internal=True)
    total = parts.groupby("line")["amount_minor"].sum()
    assert (total.to_numpy() == result.lines["amount_minor"].to_numpy()).all()


def test_a_cancellation_takes_back_its_declared_share():
    """`clawback.share: 0.5`: 100,000 booked in January at 10% pays 10,000; 100,000
    cancelled in March takes back 50,000 of credit: −5,000."""
    p = plan(
        [commission(tiers=tiers((0, None, 0.10)))],
        period="month",
        measure="ytd",
        negative_balance="claw_back",
        clawback={"share": 0.5},
    )
    rows = [
        ("2027-01-10", "R1", "a", 100_000, 1.0, 1, False, "booking", "D1"),
        ("2027-03-10", "R1", "a", 100_000, 1.0, 1, False, "cancellation", "D1"),
    ]
    r = run(p, rows)
    assert amount(r, "R1", "c", "2027-01") == D("10000.00")
    assert amount(r, "R1", "c", "2027-03") == D("-5000.00")


def test_clawback_windows_in_calendar_months():
    """Windows of 1 and 3 months: booked 31 January; cancelled 28 February (within a month:
    the month's last day) takes back all of 10,000; a second deal booked 15 January and
    cancelled 16 April (past 3 months) nothing; one cancelled 15 April half."""
    p = plan(
        [commission(tiers=tiers((0, None, 0.10)))],
        period="year",
        clawback={
            "windows": [{"within_months": 1, "share": 1.0}, {"within_months": 3, "share": 0.5}]
        },
    )
    rows = [
        ("2027-01-31", "R1", "a", 10_000, 1.0, 1, False, "booking", "D1"),
        ("2027-02-28", "R1", "a", 10_000, 1.0, 1, False, "cancellation", "D1"),
        ("2027-01-15", "R1", "a", 20_000, 1.0, 1, False, "booking", "D2"),
        ("2027-04-16", "R1", "a", 20_000, 1.0, 1, False, "cancellation", "D2"),
        ("2027-01-15", "R1", "a", 40_000, 1.0, 1, False, "booking", "D3"),
        ("2027-04-15", "R1", "a", 40_000, 1.0, 1, False, "cancellation", "D3"),
    ]
    r = run(p, rows)
    # credit: 10,000 − 10,000 + 20,000 − 0 + 40,000 − 20,000 = 40,000 → 4,000
    assert amount(r, "R1", "c") == D("4000.00")


def test_only_paid_never_takes_back_more_than_was_credited():
    """`only_paid`: 30,000 booked in January pays 3,000; a 40,000 cancellation in March takes
    back only the 30,000 credited (−3,000); without it −4,000 (and a warning). A termination
    after a partial cancellation claws back only what is left of the deal."""
    rows = [
        ("2027-01-10", "R1", "a", 30_000, 1.0, 1, False, "booking", "D1"),
        ("2027-03-10", "R1", "a", 40_000, 1.0, 1, False, "cancellation", "D1"),
    ]
    base = {"period": "month", "measure": "ytd", "negative_balance": "claw_back"}
    comps = [commission(tiers=tiers((0, None, 0.10)))]
    capped = run(plan(comps, **base, clawback={"only_paid": True}), rows)
    assert amount(capped, "R1", "c", "2027-03") == D("-3000.00")
    assert amount(capped, "R1", "c") == D("0.00")
    assert "cancellation-exceeds-booking" not in str(capped.summary["warnings"])
    plain = run(plan(comps, **base, credit={"over_cancellation": "allow"}), rows)
    assert amount(plain, "R1", "c") == D("-1000.00")
    assert "cancellation-exceeds-booking" in str(plain.summary["warnings"])


def test_termination_claws_back_only_what_is_left_of_a_deal():
    """R1 leaves on 30 April; D1 (50,000 booked 1 April, 20,000 cancelled 10 April) is within
    60 days: the termination takes back the 30,000 left, not 50,000; D2 booked 5 May earns
    nothing."""
    org = company().org.copy()
    org["termination_date"] = ["2027-04-30", "", ""]
    c = company_from_frames(COMPANY, org=org)
    p = plan(
        [commission(tiers=tiers((0, None, 0.10)))],
        period="month",
        measure="ytd",
        negative_balance="claw_back",
        clawback={"on_termination": {"within_days": 60}},
    )
    rows = [
        ("2027-04-01", "R1", "a", 50_000, 1.0, 1, False, "booking", "D1"),
        ("2027-04-10", "R1", "a", 20_000, 1.0, 1, False, "cancellation", "D1"),
        ("2027-05-05", "R1", "a", 10_000, 1.0, 1, False, "booking", "D2"),
    ]
    r = payouts(load_plan(p, c), targets([]), deals(rows), c)
    assert amount(r, "R1", "c", "2027-04") == D("0.00")
    assert amount(r, "R1", "c") == D("0.00")
    assert r.summary["n_deal_rows_excluded"]["after_termination"] == 1


def test_termination_column_must_hold_dates():
    org = company().org.copy()
    org["termination_date"] = ["2027-13-01", "", ""]
    c = company_from_frames(COMPANY, org=org)
    p = plan(
        [commission(tiers=tiers((0, None, 0.10)))],
        clawback={"on_termination": {"within_days": 60}},
    )
    with pytest.raises(DataError) as exc:
        payouts(load_plan(p, c), targets([]), deals([("2027-04-01", "R1", "a", 5)]), c)
    assert "termination_date '2027-13-01' is not a date" in str(exc.value)
    p["clawback"]["on_termination"]["column"] = "left_on"
    with pytest.raises(DataError, match="org column `left_on`"):
        payouts(load_plan(p, c), targets([]), deals([("2027-04-01", "R1", "a", 5)]), c)


def test_recovery_delay_starts_in_a_later_period():
    """Monthly top-up draw 3,000 with `recovery.delay: 2`: January earns 1,200 (short
    1,800); February earns 4,000 but January's shortfall is not recoverable yet; March
    earns 4,000 and repays 1,000."""
    p = plan(
        [commission(tiers=tiers((0, None, 0.10)))],
        period="month",
        draw={"amount": 3000, "recovery": {"delay": 2}},
    )
    rows = [*DRAW_ROWS, ("2027-03-10", "R1", "a", 40_000)]
    r = run(p, rows)
    assert amount(r, "R1", "draw", "2027-01") == D("1800.00")
    assert amount(r, "R1", "draw_recovery", "2027-02") == D("0.00")
    assert amount(r, "R1", period="2027-02") == D("4000.00")
    assert amount(r, "R1", "draw_recovery", "2027-03") == D("-1000.00")


def test_a_non_recoverable_advance_keeps_the_shortfall():
    """`paid: advance, recoverable: false`: January earns 1,200 of a 3,000 advance; the
    settlement takes back 1,200 and the 1,800 short is kept; February earns 4,000:
    advance 3,000, settled −3,000, nothing recovered, 4,000 paid."""
    p = plan(
        [commission(tiers=tiers((0, None, 0.10)))],
        period="month",
        draw={"amount": 3000, "paid": "advance", "recoverable": False, "paid_at": "end"},
    )
    r = run(p, DRAW_ROWS)
    assert amount(r, "R1", "draw", "2027-01") == D("3000.00")
    assert amount(r, "R1", "draw_recovery", "2027-01") == D("-1200.00")
    assert amount(r, "R1", period="2027-01") == D("3000.00")
    assert amount(r, "R1", "draw_recovery", "2027-02") == D("-3000.00")
    assert amount(r, "R1", period="2027-02") == D("4000.00")
    assert r.totals["draw_balance_minor"].eq(0).all()
    assert "paid at the end of the period" in r.statement("R1")


def test_a_base_floor_per_window_threshold_or_deductible():
    """10% on the year's 80,000 with a 100,000 floor: `threshold` pays nothing; on 150,000
    it pays 15,000 in full; `deductible` pays 10% of the 50,000 above it, 5,000. A floor of
    0 turns a net-negative year (30,000 booked, 50,000 cancelled) into 0, not −2,000 clawed
    back."""
    comp = commission(tiers=tiers((0, None, 0.10)))
    low = [("2027-03-01", "R1", "a", 80_000)]
    high = [("2027-03-01", "R1", "a", 150_000)]
    floor = {"amount": 100_000}
    assert amount(run(plan([{**comp, "base_floor": floor}]), low), "R1") == D("0.00")
    assert amount(run(plan([{**comp, "base_floor": floor}]), high), "R1") == D("15000.00")
    deductible = {**comp, "base_floor": {**floor, "mode": "deductible"}}
    r = run(plan([deductible]), high)
    assert amount(r, "R1") == D("5000.00")
    assert "only the base (per window) above 100,000.00 counts" in r.statement("R1")
    negative = [
        ("2027-03-01", "R1", "a", 30_000, 1.0, 1, False, "booking", "D1"),
        ("2027-04-01", "R1", "a", 50_000, 1.0, 1, False, "cancellation", "D1"),
    ]
    owed = {"negative_balance": "claw_back", "credit": {"over_cancellation": "allow"}}
    assert amount(run(plan([comp], **owed), negative), "R1") == D("-2000.00")
    floored = run(plan([{**comp, "base_floor": {"amount": 0}}], **owed), negative)
    assert amount(floored, "R1") == D("0.00")


def test_a_base_floor_per_deal_reprices_a_cancelled_deal():
    """Deal scope, 10%, nothing on a deal below 20,000: D1 25,000 pays 2,500; a 10,000
    cancellation takes it to 15,000, below the floor: −2,500 (the deal pays nothing); D2
    of 15,000 pays nothing."""
    comp = commission(tiers=tiers((0, None, 0.10)), scope="deal", base_floor={"amount": 20_000})
    rows = [
        ("2027-01-10", "R1", "a", 25_000, 1.0, 1, False, "booking", "D1"),
        ("2027-02-10", "R1", "a", 10_000, 1.0, 1, False, "cancellation", "D1"),
        ("2027-01-20", "R1", "a", 15_000, 1.0, 1, False, "booking", "D2"),
    ]
    r = run(plan([comp], period="month", negative_balance="claw_back"), rows)
    assert amount(r, "R1", "c", "2027-01") == D("2500.00")
    assert amount(r, "R1", "c", "2027-02") == D("-2500.00")


def test_select_on_gross_paid_on_net_split_is_declared():
    """Marginal 8% to 100,000 and 10% above, selected on gross 120,000 (a 20,000
    cancellation), paid on net 100,000. `proportional` (the default): net at gross's
    average rate, 100,000 × 10,000 / 120,000 = 8,333.33. `edges`: net sliced at the edges,
    rates up to the tier gross reached: 100,000 × 8% = 8,000.00; paid on gross and
    selected on net 100,000 (tier 2 reached at its edge), 120,000 of gross pays
    8,000 + 20,000 × 10% = 10,000.00; selected on net 90,000 (tier 1) with gross
    110,000, the slice above 100,000 is held to 8%: 8,800.00."""
    rows = [
        ("2027-01-10", "R1", "a", 120_000, 1.0, 1, False, "booking", "D1"),
        ("2027-02-10", "R1", "a", 20_000, 1.0, 1, False, "cancellation", "D1"),
    ]
    t = tiers((0, 100_000, 0.08), (100_000, None, 0.10))
    gross_net = {"select_on": "gross", "paid_on": "net", "tiers": t}
    assert amount(run(plan([commission(**gross_net)]), rows), "R1") == D("8333.33")
    edges = run(plan([commission(**gross_net, split="edges")]), rows)
    assert amount(edges, "R1") == D("8000.00")
    net_gross = {"select_on": "net", "paid_on": "gross", "tiers": t, "split": "edges"}
    assert amount(run(plan([commission(**net_gross)]), rows), "R1") == D("10000.00")
    rows[0] = (*rows[0][:3], 110_000, *rows[0][4:])
    assert amount(run(plan([commission(**net_gross)]), rows), "R1") == D("8800.00")
    parts = edges.explanation()
    parts = parts[(parts["component"] == "c") & (parts["rep_id"] == "R1")]
    assert parts["amount"].tolist() == ["8000.00"] and parts["rate"].tolist() == ["8%"]
    assert parts["measure"].iloc[0] == "net credit at the tier edges, rates up to gross's tier"

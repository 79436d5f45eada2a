"""The explanation record: every line's parts add up to its amount, exactly, for every
component kind, every example plan and generated plans; and the parts a kind returns are
the exact amount it pays (as fractions, before rounding)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.data import company_from_frames, load_company
from attain.incentive import KINDS, compile_plan, load_plan, payouts
from attain.incentive.kinds import ExactInputs

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ROOT / "tests" / "fixtures" / "incentive" / "targets.csv"
ACTUALS = ROOT / "scenarios" / "sample" / "actuals.csv"


def _check_parts(result) -> pd.DataFrame:
    """Each line's parts sum to its amount; the rounding part is at most a unit per part."""
    parts = result.explanation(internal=True)
    lines = result.lines
    total = parts.groupby("line")["amount_minor"].sum()
    assert sorted(total.index) == list(range(len(lines)))  # every line has parts
    assert (total.to_numpy() == lines["amount_minor"].to_numpy()).all()
    n = parts.groupby("line").size()
    rounding = parts[parts["part"] == "rounding to the minor unit"]
    if len(rounding):
        bound = n.loc[rounding["line"]].to_numpy()
        assert (np.abs(rounding["amount_minor"].to_numpy()) <= bound).all()
    return parts


@pytest.fixture(scope="module")
def sample():
    return load_company(ROOT / "scenarios" / "sample")


@pytest.mark.parametrize("plan", sorted((ROOT / "rules").glob("plan_*.yaml")), ids=lambda p: p.name)
def test_every_example_plan_s_parts_add_up_to_its_lines(plan, sample):
    result = payouts(load_plan(plan, sample), TARGETS, ACTUALS, sample)
    parts = _check_parts(result)
    public = result.explanation()
    assert list(public.columns[:10]) == [
        "rep_id",
        "period",
        "component",
        "part",
        "measure",
        "from",
        "to",
        "base",
        "rate",
        "amount",
    ]
    # amount text is the exact minor units
    text = public["amount"].map(lambda v: round(float(v) * 100)).to_numpy()
    assert (text == parts["amount_minor"].to_numpy()).all()


@pytest.mark.parametrize("plan", sorted((ROOT / "rules").glob("plan_*.yaml")), ids=lambda p: p.name)
def test_the_parts_of_some_lines_are_those_of_the_year_s_cells(plan, sample, monkeypatch):
    # Kinds whose parts work cell by cell compute the explained lines' cells only (a close
    # explains its period's lines): the same parts as taken from the year's cells.
    import dataclasses

    from attain.incentive.explain import explanation
    from attain.incentive.kinds.commission import CommissionKind
    from attain.incentive.kinds.curve import CurveKind
    from attain.incentive.kinds.steps import StepsKind

    result = payouts(load_plan(plan, sample), TARGETS, ACTUALS, sample)
    some = result.lines.iloc[np.arange(0, len(result.lines), 7)].reset_index(drop=True)
    few = explanation(dataclasses.replace(result, lines=some))
    for kind in (CommissionKind, CurveKind, StepsKind):
        assert kind.cellwise_parts
        monkeypatch.setattr(kind, "cellwise_parts", False)
    pd.testing.assert_frame_equal(few, explanation(dataclasses.replace(result, lines=some)))


# --- the statement errors, read from the record --------------------------------

COMPANY = {
    "kind": "company",
    "name": "Tiny",
    "currency": "EUR",
    "fiscal_year": 2027,
    "hierarchy": ["team"],
    "products": ["a", "b"],
    "tables": {"org": "org.csv"},
}


def company():
    org = pd.DataFrame(
        {
            "rep_id": ["R1", "R2", "R3", "M1"],
            "name": ["R1", "R2", "R3", "M1"],
            "team": ["T1", "T1", "T2", "T1"],
            "role": ["rep", "rep", "se", "manager"],
            "tenure_months": 12,
            "capacity": 0,
            "target_incentive": [12000, 12000, 6000, 24000],
            "collab": [1.1, 1.0, 1.0, 1.0],
            "termination_date": ["", "2027-06-30", "", ""],
        }
    )
    return company_from_frames(COMPANY, org=org)


def deals(rows) -> pd.DataFrame:
    out = []
    for i, (date, rep, product, amount, *rest) in enumerate(rows):
        kind, deal = (rest + ["booking", None])[:2] if rest else ("booking", None)
        paid = {"paid_date": rest[2]} if len(rest) > 2 else {}  # release on payment
        out.append(
            {
                **paid,
                "deal_id": deal or f"D{i}",
                "date": date,
                "rep_id": rep,
                "product": product,
                "amount": amount,
                "split": 1.0,
                "quantity": max(1, int(amount // 1000)),
                "new_customer": False,
                "type": kind,
            }
        )
    return pd.DataFrame(out)


def run(spec, rows, target_rows=()):
    c = company()
    base = {"kind": "plan", "name": "t", "period": "year", "measure": "period"}
    p = load_plan({**base, **spec}, c)
    t = pd.DataFrame(list(target_rows), columns=["rep_id", "period", "product", "target"])
    return payouts(p, t, deals(rows), c)


def _parts_of(result, rep="R1", component="c"):
    parts = result.explanation()
    return parts[(parts["rep_id"] == rep) & (parts["component"] == component)]


def test_interpolated_tier_shows_the_interpolated_rate():
    """4%/6%/10% interpolated on 1.5M pays 120,000: the part reads 1,500,000 × 8%."""
    tiers = [
        {"start": 0, "end": 1e6, "rate": 0.04},
        {"start": 1e6, "end": 2e6, "rate": 0.06},
        {"start": 2e6, "rate": 0.10},
    ]
    c = {"type": "commission", "name": "c", "method": "interpolated", "tiers": tiers}
    r = run({"components": [c]}, [("2027-03-01", "R1", "a", 1_500_000)])
    p = _parts_of(r)
    assert p[["part", "base", "rate", "amount"]].values.tolist() == [
        ["tier 2, rate interpolated", "1500000.00", "8%", "120000.00"]
    ]
    _check_parts(r)


def test_lower_boundary_shows_the_tier_that_pays():
    """`boundary: lower` at exactly 1M pays 80,000 at tier 1's 8%."""
    tiers = [{"start": 0, "end": 1e6, "rate": 0.08}, {"start": 1e6, "rate": 0.10}]
    c = {"type": "commission", "name": "c", "method": "retroactive", "boundary": "lower"}
    r = run({"components": [{**c, "tiers": tiers}]}, [("2027-03-01", "R1", "a", 1_000_000)])
    p = _parts_of(r)
    assert p[["part", "rate", "amount"]].values.tolist() == [["tier 1 reached", "8%", "80000.00"]]


def test_selected_on_gross_paid_on_net_splits_the_paid_measure():
    """Gross 1.5M selects; net 1.2M is paid: 1.2M split as gross fills the tiers
    (1M/1.5M → 800,000 at 8%, 0.5M/1.5M → 400,000 at 10%) = 64,000 + 40,000."""
    rows = [
        ("2027-02-01", "R1", "a", 1_200_000, "booking", "D1"),
        ("2027-02-01", "R1", "a", 300_000, "booking", "D2"),
        ("2027-03-01", "R1", "a", 300_000, "cancellation", "D2"),
    ]
    tiers = [{"start": 0, "end": 1e6, "rate": 0.08}, {"start": 1e6, "rate": 0.10}]
    c = {"type": "commission", "name": "c", "select_on": "gross", "tiers": tiers}
    r = run({"components": [c]}, rows)
    p = _parts_of(r)
    assert p[["part", "base", "rate", "amount"]].values.tolist() == [
        ["tier 1", "800000.00", "8%", "64000.00"],
        ["tier 2", "400000.00", "10%", "40000.00"],
    ]


def test_modifier_and_cap_are_parts():
    """R1's collab modifier 1.1 on 10% of 100k = 10,000 → +1,000; a cap of 10,500 takes 500."""
    c = {"type": "commission", "name": "c", "tiers": [{"start": 0, "rate": 0.1}]}
    spec = {
        "components": [{**c, "cap": {"amount": 10_500}}],
        "modifiers": [{"name": "collab", "column": "collab"}],
    }
    r = run(spec, [("2027-03-01", "R1", "a", 100_000)])
    p = _parts_of(r)
    assert p[["part", "amount"]].values.tolist() == [
        ["tier 1", "10000.00"],
        ["modifier", "1000.00"],
        ["cap", "-500.00"],
    ]


def test_slices_rounded_half_up_and_a_rounding_part_makes_the_line():
    """Marginal slices 1,000,000.005-ish: each slice shows its own rounded amount and the
    difference to the line's rounding is its own part."""
    tiers = [
        {"start": 0, "end": 1000.05, "rate": 0.05},
        {"start": 1000.05, "rate": 0.15},
    ]
    c = {"type": "commission", "name": "c", "tiers": tiers}
    r = run({"components": [c]}, [("2027-03-01", "R1", "a", 1000.15)])
    # 1000.05 × 5% = 50.0025 → 50.00; 0.10 × 15% = 0.015 → 0.02; exact 50.0175 → 50.02
    p = _parts_of(r)
    assert p["amount"].tolist() == ["50.00", "0.02"]
    assert int(p["amount"].map(lambda v: round(float(v) * 100)).sum()) == 5002


# --- every kind: parts are the exact amount, as fractions ----------------------------


def _fractions(num, den, shape):
    num = np.broadcast_to(np.asarray(num, dtype=object), shape)
    den = np.broadcast_to(np.asarray(den, dtype=object), shape)
    return np.vectorize(lambda n, d: Fraction(int(n), int(d)), otypes=[object])(num, den)


KIND_SPECS = {
    "marginal": {"type": "commission", "name": "c", "method": "marginal"},
    "retroactive": {"type": "commission", "name": "c", "method": "retroactive"},
    "interpolated": {"type": "commission", "name": "c", "method": "interpolated"},
    "marginal_attainment": {"type": "commission", "name": "c", "basis": "attainment"},
    "interpolated_attainment": {
        "type": "commission",
        "name": "c",
        "basis": "attainment",
        "method": "interpolated",
    },
    "curve": {
        "type": "attainment_curve",
        "name": "c",
        "weight": 0.7,
        "points": [
            {"attainment": 0.5, "payout": 0.3},
            {"attainment": 1.0, "payout": 1.0},
            {"attainment": 1.5, "payout": 2.5},
        ],
    },
    "steps": {
        "type": "step_bonus",
        "name": "c",
        "steps": [{"attainment": 0.8, "amount": 500}, {"attainment": 1.1, "share_of_ti": 0.2}],
    },
    "penalty_amount": {"type": "penalty", "name": "c", "below": 0.6, "amount": 700},
    "penalty_ti": {"type": "penalty", "name": "c", "below": 0.6, "share_of_ti": 0.05},
}
AMOUNT_TIERS = [
    {"start": 0, "end": 50_000, "rate": 0.04},
    {"start": 50_000, "end": 120_000, "rate": 0.07},
    {"start": 120_000, "rate": 0.11},
]
ATT_TIERS = [
    {"start": 0, "end": 0.8, "rate": 0.02},
    {"start": 0.8, "end": 1.2, "rate": 0.05},
    {"start": 1.2, "rate": 0.09},
]


def _compiled(name, select_on="net", accelerator=False):
    from attain.schema.plan import Plan

    spec = dict(KIND_SPECS[name])
    if spec["type"] == "commission":
        spec["tiers"] = ATT_TIERS if spec.get("basis") == "attainment" else AMOUNT_TIERS
        spec["select_on"] = select_on
    plan = Plan.model_validate(
        {"kind": "plan", "name": "p", "components": [spec], "target_incentive": {"amount": 1}}
    )
    return compile_plan(plan, ("a", "b")).components[0]


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(sorted(KIND_SPECS)),
    st.sampled_from(["net", "gross"]),
    st.booleans(),
    st.lists(st.integers(-30_000, 250_000), min_size=6, max_size=6),
    st.lists(st.integers(0, 200_000), min_size=6, max_size=6),
    st.lists(st.integers(0, 60_000), min_size=6, max_size=6),
)
def test_a_kind_s_parts_are_its_exact_amount(name, select_on, accel, sel, tgt, ti):
    c = _compiled(name, select_on)
    shape = (2, 3)
    S = np.array(sel, dtype=np.int64).reshape(shape) * 100
    A = np.abs(S) // 2 if select_on == "gross" else S
    T = np.array(tgt, dtype=np.int64).reshape(shape) * 100
    ti_num = (np.array(ti, dtype=np.int64).reshape(shape) * 100).astype(object)
    fail = (S < T) if accel else None
    x = ExactInputs(S, A if c.paid_on != c.select_on else S, T, ti_num, fail)
    kind = KINDS[c.type]
    exact = _fractions(*kind.exact(c, x), shape)
    total = np.full(shape, Fraction(0), dtype=object)
    for part in kind.parts(c, x):
        total = total + _fractions(*part.amount, shape)
        if part.base is not None and part.rate is not None and part.rate_style != "per_unit":
            base = _fractions(*part.base, shape)
            rate = _fractions(*part.rate, shape)
            amount = _fractions(*part.amount, shape)
            assert (base * rate == amount).all(), part.name
    assert (total == exact).all(), name


# --- generated plans over every kind ---------------------------------------------------


@st.composite
def component_specs(draw, i):
    kind = draw(st.sampled_from(["commission", "curve", "steps", "penalty", "spiff", "pool"]))
    base = {"name": f"k{i}"}
    if draw(st.booleans()):
        base["roles"] = ["rep"]
    if kind == "commission":
        scope = draw(st.sampled_from(["period", "deal", "cumulative"]))
        spec = {
            **base,
            "type": "commission",
            "method": draw(st.sampled_from(["marginal", "retroactive", "interpolated"])),
            "scope": scope,
            "select_on": draw(st.sampled_from(["net", "gross"])),
            "paid_on": draw(st.sampled_from(["net", "gross"])),
            "tiers": AMOUNT_TIERS,
        }
        if spec["method"] == "marginal":
            spec["split"] = draw(st.sampled_from(["proportional", "edges"]))
        if scope == "period" and draw(st.booleans()):
            spec["cap"] = {"amount": draw(st.integers(100, 20_000))}
        if scope != "cumulative" and draw(st.booleans()):
            spec["base_floor"] = {
                "amount": draw(st.integers(0, 60_000)),
                "mode": draw(st.sampled_from(["threshold", "deductible"])),
            }
        return spec
    if kind in ("curve", "steps", "penalty"):
        spec = {**KIND_SPECS[{"curve": "curve", "steps": "steps", "penalty": "penalty_ti"}[kind]]}
        return {**spec, **base}
    if kind == "spiff":
        return {
            **base,
            "type": "spiff",
            "start": "2027-02-01",
            "end": "2027-07-31",
            "per_unit": draw(st.integers(1, 40)),
        }
    return {
        **base,
        "type": "team_pool",
        "share_of_sales": 0.01,
        "team_threshold": 0.5,
        "split": draw(st.sampled_from(["equal", "pro_rata"])),
    }


@st.composite
def runs(draw):
    n = draw(st.integers(1, 3))
    comps = [draw(component_specs(i)) for i in range(n)]
    spec = {
        "period": draw(st.sampled_from(["month", "quarter", "year"])),
        "measure": draw(st.sampled_from(["period", "ytd"])),
        "negative_balance": draw(st.sampled_from(["carry_forward", "claw_back"])),
        "target_incentive": {"column": "target_incentive"},
        "components": comps,
        "rounding": {
            "mode": draw(st.sampled_from(["half_up", "half_even", "down"])),
            "apply": draw(st.sampled_from(["per_line", "per_total"])),
        },
    }
    if draw(st.booleans()):
        spec["modifiers"] = [{"name": "collab", "column": "collab"}]
    if draw(st.booleans()):
        spec["draw"] = {"amount": draw(st.integers(0, 3000))}
        if draw(st.booleans()):
            spec["draw"]["paid"] = "advance"
            spec["draw"]["paid_at"] = draw(st.sampled_from(["start", "end"]))
        spec["draw"]["recoverable"] = draw(st.booleans())
        if spec["draw"]["recoverable"] and draw(st.booleans()):
            spec["draw"]["recovery"] = {
                "delay": draw(st.integers(1, 3)),
                "max_amount": draw(st.integers(0, 2000)),
                "max_share": draw(st.sampled_from([0.25, 0.5, 1.0])),
            }
        spec["draw"]["clawback"] = draw(st.sampled_from(["absorb", "owe"]))
    if "draw" not in spec and draw(st.booleans()):
        spec["holdback"] = {"share": draw(st.sampled_from([0.3, 0.5, 1.0]))}
        release = draw(st.sampled_from(["year_end", "later", "payment"]))
        if release == "later":
            spec["holdback"].update(release="later", after_periods=draw(st.integers(1, 3)))
        elif release == "payment":
            spec["holdback"]["release"] = "payment"
        if draw(st.booleans()):
            names = [c["name"] for c in comps]
            spec["holdback"]["components"] = draw(
                st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True)
            )
    paid = spec.get("holdback", {}).get("release") == "payment"
    if draw(st.booleans()):
        clawback = {"only_paid": draw(st.booleans())}
        if draw(st.booleans()):
            clawback["windows"] = [
                {"within_days": 30, "share": 1.0},
                {"within_days": 90, "share": draw(st.sampled_from([0.3, 0.5]))},
            ]
        else:
            clawback["share"] = draw(st.sampled_from([0.25, 0.5, 1.0]))
        if draw(st.booleans()):
            clawback["on_termination"] = {"within_days": draw(st.integers(0, 120))}
        spec["clawback"] = clawback
    rows = []
    for k in range(draw(st.integers(1, 12))):
        rep = draw(st.sampled_from(["R1", "R2", "R3", "M1"]))
        month = draw(st.integers(1, 12))
        amount = draw(st.integers(1, 40_000)) * 7.31
        row = (f"2027-{month:02d}-05", rep, draw(st.sampled_from("ab")), amount, "booking", f"D{k}")
        if paid:  # paid some months later (or before the booking), or not yet
            when = draw(st.one_of(st.none(), st.integers(1, 12)))
            row += ("" if when is None else f"2027-{when:02d}-10",)
        rows.append(row)
        if draw(st.integers(0, 4)) == 0:
            later = min(12, month + draw(st.integers(0, 3)))
            cut = round(amount * draw(st.sampled_from([0.25, 0.5, 1.0])), 2)
            back = (f"2027-{later:02d}-20", rep, rows[-1][2], cut, "cancellation", f"D{k}")
            rows.append(back + (("",) if paid else ()))
    targets = [(r, "2027", "a", draw(st.integers(0, 200_000))) for r in ("R1", "R2", "R3", "M1")]
    return spec, rows, targets


@settings(max_examples=30, deadline=None)
@given(runs())
def test_generated_plans_parts_add_up_to_every_line(case):
    spec, rows, targets = case
    _check_parts(run(spec, rows, targets))


def test_a_termination_clawback_cancels_the_deals_held_part_on_payment():
    """R2 leaves on 30 June: the clawback of a booking made in May is a cancellation of
    that deal (a row after the actuals' own), so it cancels the deal's part still held,
    not the part of an older, unpaid deal (due last)."""
    spec = {
        "period": "month",
        "negative_balance": "claw_back",
        "components": [{"type": "commission", "name": "c", "tiers": [{"start": 0, "rate": 0.1}]}],
        "holdback": {"share": 0.5, "release": "payment"},
        "clawback": {"share": 1.0, "on_termination": {"within_days": 60}},
    }
    rows = [
        ("2027-03-10", "R2", "a", 10_000, "booking", "D1", ""),
        ("2027-05-20", "R2", "a", 4_000, "booking", "D2", "2027-09-01"),
    ]
    r = run(spec, rows)
    lines = r.lines.set_index(["rep_id", "period", "component"])["amount_minor"]
    assert lines[("R2", "2027-06", "c")] == -40_000
    assert lines[("R2", "2027-06", "held_back")] == 20_000  # D2's own part, never paid
    assert lines.get(("R2", "2027-09", "held_released"), 0) == 0  # nothing of D2 left
    assert r.summary.held_back_outstanding == "500.00"  # D1's part, untouched
    _check_parts(r)

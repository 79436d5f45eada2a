"""Proration by days in role, from a dated org: exact, and whole for a whole year."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.incentive.calendar import Calendar
from attain.incentive.proration import days_in_role, prorate

CAL = Calendar(2027)


def org(rows):
    frame = pd.DataFrame(rows, columns=["rep_id", "role", "start_date", "end_date"])
    for c in ("start_date", "end_date"):
        frame[c] = pd.to_datetime(frame[c])
    return frame


def test_a_whole_year_a_leaver_and_a_role_change():
    dated = org(
        [
            ("A", "rep", None, None),
            ("B", "rep", None, "2027-06-30"),
            ("C", "rep", None, "2027-03-31"),
            ("C", "manager", "2027-04-01", None),
        ]
    )
    days = days_in_role(dated, ["A", "B", "C"], CAL, roles=["rep"])
    assert days.sum(axis=1).tolist() == [365, 181, 90]
    assert days[1, 5] == 30 and days[1, 6] == 0
    pay = prorate(np.array([3_650_000, 3_650_000, 3_650_000]), days, CAL)
    assert pay.tolist() == [3_650_000, 1_810_000, 900_000]
    all_roles = days_in_role(dated, ["C"], CAL)
    assert all_roles.sum() == 365


@settings(max_examples=40, deadline=None)
@given(cut=st.integers(0, 364), amount=st.integers(0, 10**9))
def test_the_parts_of_a_split_year_add_up_to_the_year_within_a_unit(cut, amount):
    day = np.datetime64("2027-01-01") + cut
    dated = org([("A", "rep", None, str(day)), ("A", "senior_rep", str(day + 1), None)])
    first = prorate(np.array([amount]), days_in_role(dated, ["A"], CAL, ["rep"]), CAL)
    second = prorate(np.array([amount]), days_in_role(dated, ["A"], CAL, ["senior_rep"]), CAL)
    assert abs(int(first[0] + second[0]) - amount) <= 1
    # exact to the minor unit: within half a unit of amount × days ÷ 365
    assert 2 * abs(int(first[0]) * 365 - amount * (cut + 1)) <= 365


# --- payouts on a dated org ----------------------------------------------------------

ROWS = [  # rep_id, role, start_date, end_date
    ("R1", "rep", "", ""),
    ("R2", "rep", "", "2027-06-30"),  # leaves
    ("R3", "rep", "", "2027-03-31"),  # promoted
    ("R3", "manager", "2027-04-01", ""),
    ("R4", "rep", "2027-03-16", ""),  # joins mid-month
]


COMPANY = {
    "kind": "company",
    "name": "Tiny",
    "currency": "EUR",
    "fiscal_year": 2027,
    "hierarchy": ["team"],
    "products": ["a", "b"],
    "tables": {"org": "org.csv"},
}


def _team_org(rows):
    from attain.data import company_from_frames

    org = pd.DataFrame(
        [
            {
                "rep_id": r,
                "name": r,
                "team": t,
                "role": role,
                "tenure_months": 12,
                "capacity": 0,
                "target_incentive": 12000,
                "start_date": s,
                "end_date": e,
            }
            for r, t, role, s, e in rows
        ]
    )
    return company_from_frames(COMPANY, org=org)


def _quarterly(ids):
    """Targets of 1,000 a quarter and one 1,000 deal in each quarter's middle month."""
    targets = pd.DataFrame(
        [(r, f"2027-Q{q}", "a", 1000) for r in ids for q in (1, 2, 3, 4)],
        columns=["rep_id", "period", "product", "target"],
    )
    deals = pd.DataFrame(
        [(f"D{r}{q}", f"2027-{3 * q - 1:02d}-10", r, "a", 1000) for r in ids for q in (1, 2, 3, 4)],
        columns=["deal_id", "date", "rep_id", "product", "amount"],
    )
    return targets, deals


def _simulated(result, plan, company, **options):
    """The vectorised evaluator on a quarterly plan, fed the exact run's credit and
    targets (people in the run's order)."""
    from attain.incentive import compile_plan, evaluate, population

    book, credit = result._context["book"], result._context["credit"]
    n = len(book.people)
    sales = credit.net_months.sum(axis=2).reshape(n, 4, 3).sum(axis=2) / 100
    targets = credit.targets[..., 0].reshape(n, 4, 3).sum(axis=2) / 100
    compiled = compile_plan(plan, company.products, 2)
    pop = population(compiled, n, book.people, calendar=book.calendar, dated=company.org_dated)
    return evaluate(compiled, sales[:, None, :], targets, pop=pop, **options)


def dated_company():
    return _team_org([(r, "T1", role, s, e) for r, role, s, e in ROWS])


def dated_plan(period="month", proration="days"):
    return {
        "kind": "plan",
        "name": "t",
        "period": period,
        "measure": "ytd",
        "proration": proration,
        "target_incentive": {"column": "target_incentive"},
        "components": [
            {
                "type": "commission",
                "name": "c",
                "roles": ["rep"],
                "tiers": [{"start": 0, "rate": 0.1}],
            },
            {
                "type": "attainment_curve",
                "name": "bonus",
                "roles": ["rep"],
                "cap": {"multiple_of_ti": 1.2},
                "points": [
                    {"attainment": 0, "payout": 0},
                    {"attainment": 1.0, "payout": 1.0},
                    {"attainment": 2.0, "payout": 3.0},
                ],
            },
            {"type": "step_bonus", "name": "steps", "steps": [{"attainment": 0.5, "amount": 1200}]},
        ],
        "draw": {"amount": 300},
    }


def dated_run(period="month", proration="days"):
    from attain.incentive import load_plan, payouts

    company = dated_company()
    plan = load_plan(dated_plan(period, proration), company)
    ids = list(company.org["rep_id"])
    t = pd.DataFrame(
        [(r, f"2027-{m:02d}", "a", 10000) for r in ids for m in range(1, 13)],
        columns=["rep_id", "period", "product", "target"],
    )
    deals = pd.DataFrame(
        [
            (f"D{i}-{m}", f"2027-{m:02d}-20", r, "a", 9000 + 1000 * i)
            for i, r in enumerate(ids)
            for m in range(1, 13)
        ],
        columns=["deal_id", "date", "rep_id", "product", "amount"],
    )
    return company, plan, payouts(plan, t, deals, company)


def by_rep(result, component=None):
    lines = result.lines
    if component is not None:
        lines = lines[lines["component"] == component]
    return lines.groupby("rep_id")["amount_minor"].sum().to_dict()


def test_a_leaver_a_joiner_and_a_promotion_are_paid_for_their_days_in_role():
    _, _, result = dated_run()
    # credit after R2's end_date and before R4's start_date is not credited
    assert result.summary.n_deal_rows_excluded["outside_days_in_role"] == 6 + 2
    (notice,) = [n for n in result.notices if n.code == "credit-outside-days-in-role"]
    assert notice.count == 8
    commission = by_rep(result, "c")
    assert commission["R1"] == 12 * 90_000  # 10% of 9,000.00 a month
    assert commission["R2"] == 6 * 100_000  # six months
    assert commission["R3"] == 3 * 110_000  # a rep until March: the rest is a manager's
    assert commission["R4"] == 10 * 120_000  # from the 20th of March
    # R1's bonus: 90% attainment all year, the whole TI (capped at 1.2x: not reached)
    bonus = by_rep(result, "bonus")
    assert bonus["R1"] == 1_080_000
    # R2 is measured on the targets given (the allocation gives a leaver none after leaving):
    # 50% of the year's, so half the curve, for the six months of twelve held
    assert bonus["R2"] == 300_000
    # the draw is paid for the share of the month held: none after leaving
    lines = result.lines
    draw = lines[(lines["component"] == "draw") & (lines["rep_id"] == "R2")]
    assert set(draw["period"].astype(str)) <= {f"2027-0{m}" for m in range(1, 7)}


def test_open_headcount_is_not_paid():
    from attain.data import company_from_frames
    from attain.incentive import load_plan, payouts

    base = dated_company()
    org = base.org_dated.astype(str).replace({"NaT": "", "nan": ""})
    hire = org.iloc[[0]].assign(rep_id="OPEN-1", start_date="2027-07-01", end_date="")
    org = pd.concat([org.assign(open_headcount="false"), hire.assign(open_headcount="true")])
    company = company_from_frames(COMPANY, org=org)
    plan = load_plan(dated_plan(), company)
    targets = pd.DataFrame(
        [("OPEN-1", "2027-09", "a", 10000)], columns=["rep_id", "period", "product", "target"]
    )
    deals = pd.DataFrame(columns=["deal_id", "date", "rep_id", "product", "amount"])
    result = payouts(plan, targets, deals, company)
    assert "OPEN-1" not in set(result.lines["rep_id"])  # no draw for a placeholder
    assert (result.lines["component"] == "draw").any()  # the others' draws


def test_statement_parts_show_the_share_and_add_up_to_every_line():
    _, _, result = dated_run("quarter")
    parts = result.explanation(internal=True)
    share = parts[parts["part"] == "days not in role"]
    assert not share.empty and (share["measure"] == "days in role").all()
    r4 = share[(share["rep_id"] == "R4") & (share["component"] == "steps")]
    # Q1 pays no step (40%); the year to Q2 holds 16 of March's 31 days and three months
    # of the six: (16/31 + 3) / 6 = 58.6022%, so 41.3978% of the step is not paid
    assert r4["period"].iloc[0] == "2027-Q2" and r4["rate"].iloc[0] == "-41.3978%"
    keys = ["rep_id", "period", "component"]
    total = parts.groupby(keys)["amount_minor"].sum()
    lines = result.lines.astype({"period": str, "component": str}).set_index(keys)
    assert (total == lines["amount_minor"].reindex(total.index)).all()


def test_proration_none_pays_the_window_whole_on_any_day_held():
    _, _, days = dated_run(proration="days")
    _, _, none = dated_run(proration="none")
    assert by_rep(none, "steps")["R4"] > by_rep(days, "steps")["R4"]
    assert by_rep(none, "c") == by_rep(days, "c")  # credit counts the days in role either way
    assert "days not in role" not in set(none.explanation()["part"])


@pytest.mark.parametrize("period", ["month", "quarter"])
def test_the_vectorised_evaluator_pays_what_the_exact_path_pays(period):
    from attain.incentive import compile_plan, evaluate, population

    company, plan, result = dated_run(period)
    ids = list(company.org["rep_id"])
    exact = pd.Series(by_rep(result)).reindex(ids).to_numpy() / 100
    book, credit = result._context["book"], result._context["credit"]
    k = book.calendar.months_per_period
    sales = credit.net_months.sum(axis=2).reshape(len(ids), -1, k).sum(axis=2) / 100
    targets = book.targets[..., 0].reshape(len(ids), -1, k).sum(axis=2) / 100
    compiled = compile_plan(plan, company.products, 2)
    pop = population(
        compiled, len(ids), company.org, calendar=book.calendar, dated=company.org_dated
    )
    simulated = evaluate(compiled, sales[:, None, :], targets, pop=pop)[:, 0]
    np.testing.assert_allclose(simulated, exact, atol=0.01 * 12 * 4, rtol=0)


def test_the_documented_dated_org_example():
    """docs/plans.md, *A dated org: days in role*: the table there, line by line."""
    import io
    from decimal import Decimal
    from pathlib import Path

    import yaml

    from attain.data import company_from_frames
    from attain.incentive import load_plan, payouts

    text = (Path(__file__).resolve().parent.parent / "docs" / "plans.md").read_text("utf-8")
    block = text.split("<!-- worked-example: dated-org -->", 1)[1]
    plan_text = block.split("```yaml\n", 1)[1].split("```", 1)[0]
    org_text = block.split("```org\n", 1)[1].split("```", 1)[0]
    csv_text = block.split("```csv\n", 1)[1].split("```", 1)[0]
    table = block.split("| rep | period | component | amount |", 1)[1].split("\n\n", 1)[0]
    expected = {}
    for row in table.strip().splitlines()[1:]:
        rep, period, component, value = (c.strip() for c in row.strip("|").split("|"))
        expected[(rep, period, component)] = Decimal(value.replace(",", ""))
    org = pd.read_csv(io.StringIO(org_text), dtype=str).fillna("")
    org = org.assign(name=org["rep_id"], team="T1", tenure_months=12, capacity=0)
    org["target_incentive"] = 12000
    company = company_from_frames(COMPANY, org=org)
    deals = pd.read_csv(io.StringIO(csv_text), dtype=str).assign(product="a")
    targets = pd.DataFrame(
        [(r, q, "a", 30000) for r in ("ANA", "BEN", "CAI") for q in ("2027-Q1", "2027-Q2")],
        columns=["rep_id", "period", "product", "target"],
    )
    result = payouts(load_plan(yaml.safe_load(plan_text), company), targets, deals, company)
    lines = result.lines
    got = {
        (r, str(p), str(c)): Decimal(int(m)) / 100
        for r, p, c, m in zip(
            lines.rep_id, lines.period, lines.component, lines.amount_minor, strict=True
        )
        if m != 0
    }
    assert got == expected
    assert result.summary.n_deal_rows_excluded["outside_days_in_role"] == 2
    parts = result.explanation(internal=True)
    ben = parts[(parts["rep_id"] == "BEN") & (parts["period"] == "2027-Q2")]
    row = ben[ben["part"] == "days not in role"].iloc[0]
    assert (row["rate"], row["amount"]) == ("-50.5376%", "-758.06")


def test_a_transfer_moves_a_rep_between_team_pools_on_its_date():
    from attain.incentive import load_plan, payouts

    rows = [  # R1 moves from T1 to T2 on 1 July
        ("R1", "T1", "", "2027-06-30"),
        ("R1", "T2", "2027-07-01", ""),
        ("R2", "T1", "", ""),
        ("R3", "T2", "", ""),
    ]
    company = _team_org([(r, t, "rep", s, e) for r, t, s, e in rows])
    spec = {
        "kind": "plan",
        "name": "pools",
        "period": "quarter",
        "measure": "period",
        "components": [
            {"type": "team_pool", "name": "pool", "level": "team", "fixed": 900, "split": "equal"}
        ],
    }
    plan = load_plan(spec, company)
    targets, deals = _quarterly(["R1", "R2", "R3"])
    result = payouts(plan, targets, deals, company)
    pay = result.lines.pivot_table(
        index="rep_id", columns="period", values="amount_minor", aggfunc="sum", observed=True
    )
    # H1: T1 is R1 and R2 (450 each), T2 is R3 alone; H2: T1 is R2 alone, T2 is R1 and R3
    assert pay.loc["R1"].tolist() == [45_000, 45_000, 45_000, 45_000]
    assert pay.loc["R2"].tolist() == [45_000, 45_000, 90_000, 90_000]
    assert pay.loc["R3"].tolist() == [90_000, 90_000, 45_000, 45_000]
    # the vectorised evaluator, fed the same credit, pays the same
    lines = _simulated(result, plan, company, detail=True)
    np.testing.assert_allclose(lines["pool"][:, 0, :] * 100, pay.to_numpy(), atol=1)


ROLL_UP_ROWS = [  # rep_id, team, role, start_date, end_date
    ("M1", "T1", "manager", "", ""),
    ("M2", "T2", "manager", "", "2027-10-31"),  # leaves at the end of October
    ("A", "T1", "rep", "", "2027-06-30"),  # moves from T1 to T2 on 1 July
    ("A", "T2", "rep", "2027-07-01", ""),
    ("B", "T2", "rep", "", ""),
]


def _roll_up_run():
    from attain.incentive import load_plan, payouts

    company = _team_org(ROLL_UP_ROWS)
    spec = {
        "kind": "plan",
        "name": "overlay",
        "period": "month",
        "measure": "period",
        "credit": {"roll_up": "team"},
        "components": [
            {"type": "commission", "name": "c", "tiers": [{"start": 0, "rate": 0.01}]},
        ],
    }
    plan = load_plan(spec, company)
    targets = pd.DataFrame(
        [(r, f"2027-{m:02d}", "a", 1000) for r in ("A", "B") for m in range(1, 13)],
        columns=["rep_id", "period", "product", "target"],
    )
    deals = pd.DataFrame(
        [
            (f"D{r}{m}", f"2027-{m:02d}-15", r, "a", amount)
            for r, amount in (("A", 1000), ("B", 100))
            for m in range(1, 13)
        ],
        columns=["deal_id", "date", "rep_id", "product", "amount"],
    )
    return payouts(plan, targets, deals, company)


def test_the_roll_up_follows_a_transfer_and_ends_with_a_managers_leaving():
    result = _roll_up_run()
    lines = result.lines[result.lines["component"] == "c"]
    pay = lines.pivot_table(
        index="rep_id", columns="period", values="amount_minor", aggfunc="sum", observed=True
    ).fillna(0)
    m1 = pay.loc["M1"].to_dict()
    m2 = pay.loc["M2"].to_dict()
    # M1 manages A until June only: 1% of 1,000.00 a month, then nothing
    assert [m1.get(f"2027-{m:02d}", 0) for m in range(1, 13)] == [1000] * 6 + [0] * 6
    # M2 manages B all the time it is there, and A from July; nothing after October
    assert [m2.get(f"2027-{m:02d}", 0) for m in range(1, 13)] == [100] * 6 + [1100] * 4 + [0] * 2
    # the members are paid on their own deals only
    assert pay.loc["A"].sum() == 12 * 1000 and pay.loc["B"].sum() == 12 * 100


def test_a_target_less_manager_gets_the_targets_of_the_team_they_manage_slot_by_slot():
    result = _roll_up_run()
    targets = result._context["credit"].targets[..., 0]  # int64[R, S] minor units
    ids = list(result._context["book"].people["rep_id"])
    m1, m2 = targets[ids.index("M1")], targets[ids.index("M2")]
    assert m1.tolist() == [100_000] * 6 + [0] * 6  # A's targets while A is in T1
    assert m2.tolist() == [100_000] * 6 + [200_000] * 6  # B's, and A's from July


def test_a_role_held_earlier_in_the_year_matches_its_participants():
    from attain.incentive import load_plan, payouts

    company = _team_org(
        [
            ("A", "T1", "senior", "", "2027-03-31"),  # a senior until March, then a manager
            ("A", "T1", "manager", "2027-04-01", ""),
            ("B", "T1", "manager", "", ""),
        ]
    )
    spec = {
        "kind": "plan",
        "name": "seniors",
        "period": "month",
        "participants": {"roles": ["senior"]},
        "components": [{"type": "commission", "name": "c", "tiers": [{"start": 0, "rate": 0.1}]}],
    }
    targets = pd.DataFrame(
        [("A", "2027-01", "a", 1000)], columns=["rep_id", "period", "product", "target"]
    )
    deals = pd.DataFrame(
        [("D1", "2027-02-10", "A", "a", 500)],
        columns=["deal_id", "date", "rep_id", "product", "amount"],
    )
    result = payouts(load_plan(spec, company), targets, deals, company)
    assert "roles-match-nobody" not in [n.code for n in result.notices]
    assert result.lines["amount_minor"].sum() == 5_000
    # a component limited to a role no participant holds on any day still gets the warning
    spec["components"][0]["roles"] = ["manager"]
    result = payouts(load_plan(spec, company), targets, deals, company)
    assert "roles-match-nobody" in [n.code for n in result.notices]


def test_a_team_pool_splits_by_the_role_each_member_holds_at_the_windows_end():
    from attain.incentive import load_plan, payouts

    company = _team_org(
        [
            ("R1", "T1", "rep", "", "2027-06-30"),  # promoted on 1 July
            ("R1", "T1", "manager", "2027-07-01", ""),
            ("R2", "T1", "rep", "", ""),
            ("R3", "T1", "rep", "", ""),
        ]
    )
    spec = {
        "kind": "plan",
        "name": "pools",
        "period": "quarter",
        "measure": "period",
        "components": [
            {
                "type": "team_pool",
                "name": "pool",
                "level": "team",
                "fixed": 900,
                "split": "shares",
                "shares": {"rep": 0.6, "manager": 0.4},
            }
        ],
    }
    plan = load_plan(spec, company)
    targets, deals = _quarterly(["R1", "R2", "R3"])
    result = payouts(plan, targets, deals, company)
    pay = result.lines.pivot_table(
        index="rep_id", columns="period", values="amount_minor", aggfunc="sum", observed=True
    ).fillna(0)
    # Q1–Q2: three reps share the whole pool; Q3–Q4: the manager's 40%, the reps' 60%
    assert pay.loc["R1"].tolist() == [30_000, 30_000, 36_000, 36_000]
    assert pay.loc["R2"].tolist() == [30_000, 30_000, 27_000, 27_000]
    order = list(result._context["book"].people["rep_id"])
    simulated = _simulated(result, plan, company)[:, 0]
    exact = pay.sum(axis=1).reindex(order).to_numpy() / 100
    np.testing.assert_allclose(simulated, exact, atol=0.01)


def test_a_pro_rata_pool_weighs_own_credit_by_the_roll_up_unit_of_each_window():
    """The simulator takes a manager's own credit as the exact path does on a dated org:
    the rolled-up credit less the members of the unit they manage in that window."""
    from attain.incentive import load_plan, payouts

    company = _team_org(ROLL_UP_ROWS)
    spec = {
        "kind": "plan",
        "name": "pools",
        "period": "quarter",
        "measure": "period",
        "credit": {"roll_up": "team"},
        "components": [
            {
                "type": "team_pool",
                "name": "pool",
                "level": "team",
                "fixed": 900,
                "split": "pro_rata",
            }
        ],
    }
    plan = load_plan(spec, company)
    targets, deals = _quarterly(["A", "B"])
    result = payouts(plan, targets, deals, company)
    people = list(result._context["book"].people["rep_id"])
    exact = (
        result.lines.groupby("rep_id", observed=True)["amount_minor"]
        .sum()
        .reindex(people)
        .fillna(0)
        .to_numpy()
        / 100
    )
    assert exact[people.index("M1")] == 0  # no sales of their own: no pro-rata share
    np.testing.assert_allclose(_simulated(result, plan, company)[:, 0], exact, atol=0.01)

"""Small allocations whose optimum is worked out by hand in each test's docstring."""

from __future__ import annotations

import numpy as np
import pytest

from attain.allocate import allocate
from attain.allocate.toy import toy_company
from attain.allocate.toy import toy_rules as rules


def totals(allocation) -> list[float]:
    return allocation.rep_totals().tolist()


def test_minimax_spreads_a_capacity_shortfall_evenly():
    """Fair shares 100, 100, 200 (potential); total 400; rep 3 can carry at most 150.

    Rep 3's gap is at least (200 − 150) / 200 = 25%. The 50 it cannot carry goes to
    reps 1 and 2; one of them carries at least 25 more, a gap of at least 25%. So the
    worst gap is 25%, reached only by 125, 125, 150 (every rep exactly 25% off). A mean
    (L1) objective alone is indifferent to how reps 1 and 2 split the 50.
    """
    company = toy_company([100, 100, 200], capacity=[1e9, 1e9, 150])
    cap = {"type": "capacity", "level": "rep"}
    result = allocate(rules(400, cap, objective=["minimax"]), company)
    assert result.objective == pytest.approx(0.25)
    assert totals(result) == pytest.approx([125, 125, 150])
    assert result.fairness["max_gap"] == pytest.approx(0.25)
    row = result.rules.set_index("rule").loc["capacity_1"]
    assert row["binding"] == 1
    # One more point of capacity (1.5) lowers rep 3's gap by 1.5/200 = 0.75 points, and
    # so the worst gap: reps 1 and 2 share 48.5 → 24.25%.
    assert row["worth_per_point"] == pytest.approx(-0.0075, rel=1e-6)


def test_growth_cap_forces_redistribution():
    """Equal potential (fair share 100 each, total 300); last year 50, 80, 200; growth ≤ 25%.

    Rep 1 may carry at most 62.5 (gap 37.5%, forced) and rep 2 at most 100. Minimax
    allows everyone a gap of 37.5%: reps 2 and 3 within [62.5, 137.5]. The 237.5 left
    after rep 1 needs rep 3 ≤ 137.5, so rep 2 ≥ 100 = its cap: 62.5, 100, 137.5.
    """
    company = toy_company([100, 100, 100], last_year=[50, 80, 200])
    growth = {"name": "cap25", "type": "growth", "max": 0.25}
    result = allocate(rules(300, growth), company)
    assert result.summary["objectives"]["minimax"] == pytest.approx(0.375)
    assert totals(result) == pytest.approx([62.5, 100, 137.5])
    explain = result.explain.set_index("unit")
    assert explain.loc["R001", "binding_rules"] == "cap25"
    assert explain.loc["R002", "binding_rules"] == "cap25"
    assert result.fairness["n_at_growth_limit"] == 2


def test_rounding_by_largest_remainders_respects_caps():
    """Three equal reps, total 1,000, rounded to 100: each LP target is 333.33.

    Ten units of 100 go out; the floors give 3 each and one unit is spare. The
    remainders tie, so the first rep would get it — but rep 1's capacity is 350 and
    400 would cross it, so rep 2 takes it: 300, 400, 300. Rep 2's 4 units over 12 flat
    months (0.33 each) go to its first four months; every sum is exact.
    """
    company = toy_company([1, 1, 1], capacity=[350, 1e9, 1e9])
    cap = {"type": "capacity", "level": "rep"}
    result = allocate(rules(1000, cap, unit=100), company)
    assert totals(result) == [300, 400, 300]
    t = result.targets
    assert (t["target"] % 100 == 0).all()
    assert t["target"].sum() == 1000
    rep2 = t[t["rep_id"] == "R002"].sort_values("period")["target"].tolist()
    assert rep2 == [100] * 4 + [0] * 8


def test_buffer_makes_levels_add_up_to_more_than_the_whole():
    """Company 1,000; teams 1.03, reps 1.05 → teams add up to 1,030 and reps to 1,050."""
    company = toy_company(
        [1, 1, 2, 2], regions=["N", "N", "S", "S"], teams=["N1", "N2", "S1", "S1"]
    )
    result = allocate(rules(1000, unit=1, buffer={"team": 1.03, "rep": 1.05}), company)
    assert result.summary["total_target"] == 1050
    assert result.summary["level_totals"] == {"company": 1000, "region": 1000, "team": 1030}
    assert totals(result) == [175, 175, 350, 350]
    regions = result.levels["region"].set_index("region")["target"]
    assert regions.to_dict() == {"N": 333, "S": 667}


def test_soft_rule_bends_by_priority_and_reports_it():
    """Fair 100 each (total 200); soft: rep 1 ≥ 150 (priority 1); hard: rep 2 ≥ 80.

    Rep 1 can reach at most 200 − 80 = 120: the soft floor bends by 30, no more.
    """
    company = toy_company([1, 1])
    soft = {"name": "wish", "type": "bounds", "where": {"rep_id": "R001"}, "min": 150,
            "soft": True, "priority": 1}  # fmt: skip
    hard = {"name": "floor", "type": "bounds", "where": {"rep_id": "R002"}, "min": 80}
    result = allocate(rules(200, soft, hard), company)
    assert totals(result) == pytest.approx([120, 80])
    bent = result.summary["bent_soft_rules"]
    assert [b["rule"] for b in bent] == ["wish"]
    assert bent[0]["bent"] == pytest.approx(30)


def test_an_unbent_soft_rule_stays_unbent_at_later_levels():
    """200 reps, fair 1M each (total 200M); soft: rep 1 ≥ 1.1M (priority 1).

    Nothing stops rep 1 from carrying 1.1M, so the soft level's optimum bends nothing,
    and the worst gap is rep 1's, exactly 10% (the other 199 share the 100k less: 0.05%
    each). Every later level holds the soft level at its optimum: a hold loose by a
    ten-millionth of the total (20 here) would let the floor give way and the worst
    gap drop to 9.998%.
    """
    company = toy_company([1] * 200)
    soft = {"name": "wish", "type": "bounds", "where": {"rep_id": "R001"}, "min": 1_100_000,
            "soft": True, "priority": 1}  # fmt: skip
    result = allocate(rules(200_000_000, soft), company)
    # To the solver's own tolerance (a ten-millionth of the mean rep target, 0.1 here).
    assert result.summary["objectives"]["minimax"] == pytest.approx(0.1, rel=1e-5)
    assert totals(result)[0] >= 1_100_000 - 1
    assert result.summary["bent_soft_rules"] == []


def test_product_targets_and_mix():
    """Two products, by-product targets 600 and 400; a cloud share of at most 30% per rep.

    Fair (potential) mixes are 50/50 for both reps, so each rep's cloud (p2) share is cut
    to 30%... the company needs 400 of p2 but 30% of 1000 is 300: the mix rule conflicts
    with the product target and the allocation is infeasible, naming both.
    """
    from attain.errors import InfeasibleError

    company = toy_company([[1, 1], [1, 1]])
    r = rules(1, {"name": "p2_cap", "type": "mix", "product": "p2", "max": 0.3})
    r["company_target"] = {"by_product": {"p1": 600, "p2": 400}}
    with pytest.raises(InfeasibleError) as info:
        allocate(r, company)
    assert info.value.rule_sets == [["company_target", "p2_cap"]]
    text = str(info.value)
    assert "p2_cap" in text and "400" in text


def test_by_product_targets_are_met_exactly_after_rounding():
    company = toy_company([[3, 1], [1, 1], [1, 2]])
    r = rules(1, unit=10)
    r["company_target"] = {"by_product": {"p1": 1000, "p2": 555}}
    result = allocate(r, company)
    by_product = result.targets.groupby("product")["target"].sum()
    assert by_product.to_dict() == {"p1": 1000, "p2": 560} or by_product.sum() == 1560
    assert np.isclose(by_product.sum(), 1560)


def test_two_independent_conflicts_are_both_reported():
    """Total 400 over four reps, two in the North and two in the South.

    The North needs at least 500 (more than the whole total), and every rep may carry at
    most 50 (200 in all, half the total): each rule conflicts with the company target on
    its own, and dropping either leaves the other's conflict. Both are reported.
    """
    from attain.errors import InfeasibleError

    company = toy_company([1, 1, 1, 1], regions=["North", "North", "South", "South"])
    floor = {"name": "north_floor", "type": "bounds", "level": "region",
             "where": {"region": "North"}, "min": 500}  # fmt: skip
    cap = {"name": "rep_cap", "type": "capacity", "level": "rep", "amount": 50}
    with pytest.raises(InfeasibleError) as info:
        allocate(rules(400, floor, cap), company)
    assert sorted(info.value.rule_sets) == [
        ["company_target", "north_floor"],
        ["company_target", "rep_cap"],
    ]
    assert "2 conflicts found" in str(info.value)


def test_a_company_wide_rule_binds_for_the_company_not_for_every_rep():
    """Two products, fair mix 50/50; the company's p2 share must be at least 70%.

    The mix rule binds once, on the company's row: it is one binding rule in the rules
    frame and in the labelled binding frame, and holds no rep (``n_at_mix`` 0).
    """
    company = toy_company([[1, 1], [1, 1], [1, 1]])
    mix = {"name": "p2_push", "type": "mix", "level": "company", "product": "p2", "min": 0.7}
    result = allocate(rules(300, mix), company)
    row = result.rules.set_index("rule").loc["p2_push"]
    assert row["binding"] == 1
    assert result.fairness["n_at_mix"] == 0
    frame = result.binding[result.binding["rule"] == "p2_push"]
    assert frame[["level", "unit", "side"]].to_dict("records") == [
        {"level": "company", "unit": "company", "side": "lower"}
    ]

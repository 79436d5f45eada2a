"""An evaluation that stops at a period gives the year's numbers up to it.

A close of period P pays the periods up to P only, so the exact evaluator is run on the
windows up to P (:func:`attain.incentive.exact.windows_upto`). That is only right if no
stage reads a later window; these tests hold every kind, adjustment and true-up to it,
on random plans and on the shipped ones, and check the plans it must leave whole.
"""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.incentive import compile_plan, load_plan, payouts
from attain.incentive.exact import Evaluation, evaluate_exact, windows_upto
from attain.schema.plan import Plan
from tests.test_incentive_properties import (
    PRODUCTS,
    exact_run,
    measures,
    n_periods_of,
    plans,
)

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ROOT / "tests" / "fixtures" / "incentive" / "targets.csv"
ACTUALS = ROOT / "scenarios" / "sample" / "actuals.csv"
SHIPPED = sorted((ROOT / "rules").glob("plan_*.yaml"))


def _arrays(ev: Evaluation) -> dict[str, np.ndarray]:
    return {
        f.name: getattr(ev, f.name)
        for f in fields(ev)
        if isinstance(getattr(ev, f.name), np.ndarray)
    }


def _assert_prefix(cut: Evaluation, year: Evaluation, n: int) -> None:
    assert cut.lines == year.lines
    for name, a in _arrays(year).items():
        b = _arrays(cut)[name]
        np.testing.assert_array_equal(b[..., :n], a[..., :n], err_msg=name)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_the_windows_up_to_a_period_give_the_years_numbers_up_to_it(data):
    plan = data.draw(plans())
    compiled = compile_plan(plan, PRODUCTS)
    n_p = n_periods_of(plan)
    sales, targets = measures(data.draw, 4, n_p)
    ti = plan.target_incentive.amount
    year = exact_run(compiled, sales, targets, ti)
    at = data.draw(st.integers(0, n_p - 1))
    w = _windows_of(compiled, sales, targets, ti)
    cut = evaluate_exact(compiled, w, through=at)
    _assert_prefix(cut, year, at + 1)
    hb = compiled.holdback
    if hb is None or hb.release == "later":  # these stop at the period: nothing after it
        assert cut.total.shape[-1] == at + 1


def _windows_of(compiled, sales, targets, ti):
    """The windows :func:`exact_run` evaluates (captured from its call)."""
    import attain.incentive.exact as exact
    import tests.test_incentive_properties as props

    seen = {}

    def capture(c, w, through=None):
        seen["w"] = w
        return exact.evaluate_exact(c, w, through)

    original = props.evaluate_exact
    props.evaluate_exact = capture
    try:
        exact_run(compiled, sales, targets, ti)
    finally:
        props.evaluate_exact = original
    return seen["w"]


def _holdback_plan(release: str) -> Plan:
    spec = {
        "kind": "plan",
        "name": "p",
        "period": "month",
        "measure": "ytd",
        "target_incentive": {"amount": 10_000},
        "components": [
            {"type": "commission", "name": "c", "tiers": [{"start": 0, "rate": 0.1}]},
        ],
        "holdback": {"share": 0.25},
    }
    if release == "later":
        spec["holdback"].update(release="later", after_periods=2)
    return Plan.model_validate(spec)


def test_a_holdback_released_at_the_years_end_keeps_the_whole_year():
    """Its parcels are due in the year's last period in force: cut at March, March would
    look like the last one and release them there."""
    compiled = compile_plan(_holdback_plan("year_end"), PRODUCTS)
    rng = np.random.default_rng(3)
    sales = rng.integers(0, 50_000, (3, 12, 2)).astype(float)
    targets = np.full((3, 12, 2), 20_000.0)
    w = _windows_of(compiled, sales, targets, 10_000)
    assert windows_upto(compiled, w, 3) is w
    year = evaluate_exact(compiled, w)
    _assert_prefix(evaluate_exact(compiled, w, through=2), year, 3)
    # what a naive cut would pay: the held parts released at once
    naive = replace(
        w,
        net=w.net[:, :3],
        gross=w.gross[:, :3],
        targets=w.targets[:, :3],
        months=w.months[:3],
        periods=w.periods[:3],
        active=w.active[:3],
    )
    assert not np.array_equal(evaluate_exact(compiled, naive).total, year.total[:, :3])


def test_a_holdback_released_later_is_cut_and_its_parcels_stay_outstanding():
    compiled = compile_plan(_holdback_plan("later"), PRODUCTS)
    rng = np.random.default_rng(5)
    sales = rng.integers(-10_000, 50_000, (4, 12, 2)).astype(float)
    targets = np.full((4, 12, 2), 20_000.0)
    w = _windows_of(compiled, sales, targets, 10_000)
    year = evaluate_exact(compiled, w)
    for at in range(12):
        cut = evaluate_exact(compiled, w, through=at)
        assert cut.total.shape[-1] == at + 1
        _assert_prefix(cut, year, at + 1)


@pytest.mark.parametrize("plan_file", SHIPPED, ids=lambda p: p.stem)
def test_a_shipped_plan_through_a_period_pays_what_its_year_pays_up_to_it(
    plan_file, sample_company
):
    plan = load_plan(plan_file, sample_company)
    year = payouts(plan, TARGETS, ACTUALS, sample_company)
    labels = year._context["book"].calendar.period_labels()
    paid = sorted(set(year.lines["period"].astype(str)), key=labels.index)
    for through in (paid[0], labels[len(labels) // 2]):  # its first period with lines, mid-year
        cut = payouts(plan, TARGETS, ACTUALS, sample_company, through=through)
        keep = year.lines["period"].astype(str).map(labels.index) <= labels.index(through)
        upto = year.lines[keep.to_numpy()].reset_index(drop=True)
        pd.testing.assert_frame_equal(
            cut.lines.astype({"period": str}),
            upto.astype({"period": str}),
            check_categorical=False,
        )
        parts = year.explanation()
        parts = parts[parts["period"].astype(str).map(labels.index) <= labels.index(through)]
        pd.testing.assert_frame_equal(
            cut.explanation().astype({"period": str}),
            parts.reset_index(drop=True).astype({"period": str}),
            check_categorical=False,
        )
        year_codes = {n.code for n in year.notices} - {"year-end-balance"}
        assert {n.code for n in cut.notices} <= year_codes | {"sold-without-target"}


def _dated_runs():
    from tests.test_incentive_proration import _roll_up_run, dated_company, dated_plan

    yield "roll-up", lambda through=None: _roll_up_run_through(_roll_up_run, through)
    for period in ("month", "quarter"):
        for proration in ("days", "none"):
            yield f"{period}-{proration}", _dated(dated_company, dated_plan, period, proration)


def _dated(company_of, plan_of, period, proration):
    from attain.incentive import load_plan

    def run(through=None):
        company = company_of()
        plan = load_plan(plan_of(period, proration), company)
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
        return payouts(plan, t, deals, company, through=through)

    return run


def _roll_up_run_through(make, through):
    import attain.incentive as incentive

    if through is None:
        return make()
    original = incentive.payouts
    try:  # the same run, stopped at ``through``
        incentive.payouts = lambda *a, **k: original(*a, **k, through=through)
        return make()
    finally:
        incentive.payouts = original


@pytest.mark.parametrize(
    "name, run", list(_dated_runs()), ids=lambda x: x if isinstance(x, str) else ""
)
def test_a_dated_org_through_a_period_pays_what_its_year_pays_up_to_it(name, run):
    """People who join, leave, change role or team during the year: their shares of days
    in role, their team at each window's end and the draw's share are cut with the
    windows."""
    year = run()
    labels = year._context["book"].calendar.period_labels()
    for through in labels[:-1]:
        cut = run(through)
        assert cut._context["evaluation"].total.shape[-1] == labels.index(through) + 1
        keep = year.lines["period"].astype(str).map(labels.index) <= labels.index(through)
        upto = year.lines[keep.to_numpy()].reset_index(drop=True)
        pd.testing.assert_frame_equal(
            cut.lines.astype({"period": str}), upto.astype({"period": str}), check_categorical=False
        )
        parts = year.explanation()
        parts = parts[parts["period"].astype(str).map(labels.index) <= labels.index(through)]
        pd.testing.assert_frame_equal(
            cut.explanation().astype({"period": str}),
            parts.reset_index(drop=True).astype({"period": str}),
            check_categorical=False,
        )


def test_a_period_without_lines_has_an_empty_explanation(sample_company):
    """The overlay pays nothing in the first quarter: its record there has the columns
    and no rows (it used to raise)."""
    plan = load_plan(ROOT / "rules" / "plan_cloud_overlay.yaml", sample_company)
    cut = payouts(plan, TARGETS, ACTUALS, sample_company, through="2027-Q1")
    assert cut.lines.empty
    record = cut.explanation()
    year = payouts(plan, TARGETS, ACTUALS, sample_company).explanation()
    assert record.empty and list(record.columns) == list(year.columns)
    assert (record.dtypes == year.dtypes).all()

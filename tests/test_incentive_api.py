"""The incentive API: DataFrames in and out, JSON, errors, and the simulator's evaluator."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.errors import DataError, RuleFileError
from attain.incentive import Payouts, compile_plan, load_plan, payouts
from attain.incentive.vectorised import approximations, evaluate, population

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ROOT / "tests" / "fixtures" / "incentive" / "targets.csv"
ACTUALS = ROOT / "scenarios" / "sample" / "actuals.csv"

SIMPLE = {
    "kind": "plan",
    "name": "simple",
    "period": "quarter",
    "components": [
        {
            "type": "commission",
            "name": "c",
            "tiers": [{"start": 0, "end": 100000, "rate": 0.05}, {"start": 100000, "rate": 0.1}],
        }
    ],
}


def test_public_api_is_exported():
    import attain.incentive as inc

    assert set(inc.__all__) >= {"payouts", "Payouts", "compile_plan", "load_plan", "CompiledPlan"}


def test_dataframes_in_without_a_company():
    """People and their org columns come from the targets table."""
    targets = pd.read_csv(TARGETS)
    actuals = pd.read_csv(ACTUALS)
    result = payouts(load_plan(SIMPLE), targets, actuals)
    assert isinstance(result, Payouts)
    assert set(result.lines.columns) >= {"rep_id", "period", "component", "amount_minor", "amount"}
    assert result.lines["period"].unique().tolist() == [f"2027-Q{q}" for q in range(1, 5)]
    assert result.lines["amount_minor"].dtype == np.int64
    json.dumps(result.to_json())  # JSON-ready


def test_company_and_no_company_agree_for_reps(sample_company):
    targets = pd.read_csv(TARGETS)
    with_company = payouts(load_plan(SIMPLE), targets, ACTUALS, sample_company)
    without = payouts(load_plan(SIMPLE), targets, ACTUALS)
    a = with_company.lines.set_index(["rep_id", "period"])["amount_minor"]
    b = without.lines.set_index(["rep_id", "period"])["amount_minor"]
    common = a.index.intersection(b.index)
    assert len(common) > 1000
    assert (a[common] == b[common]).all()


def test_payouts_through_a_period_are_the_years_lines_up_to_it(sample_company):
    plan = load_plan(SIMPLE)
    year = payouts(plan, TARGETS, ACTUALS, sample_company)
    half = payouts(plan, TARGETS, ACTUALS, sample_company, through="2027-Q2")
    upto = year.lines[year.lines["period"].astype(str) <= "2027-Q2"].reset_index(drop=True)
    assert len(upto) < len(year.lines)
    pd.testing.assert_frame_equal(
        half.lines.astype({"period": str}), upto.astype({"period": str}), check_categorical=False
    )
    assert set(half.totals["period"]) == {"2027-Q1", "2027-Q2"}
    with pytest.raises(ValueError, match=r"through='2027-Q5' is not a pay period .*2027-Q1"):
        payouts(plan, TARGETS, ACTUALS, sample_company, through="2027-Q5")


def test_plan_built_in_python_is_checked_against_the_company(sample_company):
    plan = load_plan({**SIMPLE, "credit": {"products": ["coer"]}})  # no company: form only
    with pytest.raises(RuleFileError, match="unknown product `coer`"):
        payouts(plan, TARGETS, ACTUALS, sample_company)


def test_target_for_a_rep_outside_the_org_is_located(sample_company):
    targets = pd.read_csv(TARGETS)
    targets.loc[[3, 7], "rep_id"] = "ghost"
    with pytest.raises(DataError) as info:
        payouts(load_plan(SIMPLE), targets, ACTUALS, sample_company)
    (problem,) = info.value.problems
    assert (problem.source, problem.row, problem.field) == ("<targets>", 4, "rep_id")
    assert problem.message == "unknown rep 'ghost' (and 1 more rows)"


def test_overlapping_target_rows_are_a_data_error():
    targets = pd.DataFrame(
        {
            "rep_id": ["R1", "R1"],
            "period": ["2027-Q1", "2027-02"],
            "product": ["a", "a"],
            "target": [300.0, 100.0],
        }
    )
    with pytest.raises(DataError, match="overlaps"):
        payouts(load_plan(SIMPLE), targets, None)


def test_write_is_byte_identical(tmp_path, sample_company):
    plan = load_plan(ROOT / "rules" / "plan_team_bonus.yaml")
    for name in ("a", "b"):
        payouts(plan, TARGETS, ACTUALS, sample_company).write(tmp_path / name)
    for file in ("payouts.csv", "statements.csv", "summary.json"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


@pytest.mark.parametrize("name", ["plan_team_bonus", "plan_attainment_curve", "plan_field_rep"])
def test_exact_and_vectorised_agree_on_the_sample(name, sample_company):
    """The sample's credit and targets fed to both paths: every line within one cent
    (a SPIFF needs a deal model for its units; without one the vectorised path leaves it
    out, as :func:`approximations` says)."""
    result = payouts(load_plan(ROOT / "rules" / f"{name}.yaml"), TARGETS, ACTUALS, sample_company)
    ctx = result._context
    w, ev, compiled = ctx["windows"], ctx["evaluation"], result.compiled
    net, tg = w.net, w.targets
    if compiled.measure == "ytd":
        net, tg = np.diff(net, axis=1, prepend=0), np.diff(tg, axis=1, prepend=0)
    scale = compiled.scale
    lines = evaluate(
        compiled, net[:, None] / scale, tg / scale, people=ctx["book"].people, detail=True
    )
    skip = {c.name for c in compiled.components if c.type == "spiff"}
    for i, line in enumerate(ev.lines[: len(compiled.components)]):
        if line not in skip:
            assert np.abs(lines[line][:, 0] * scale - ev.payable[i]).max() <= 1, line
    assert approximations(compiled) == [
        f"{n}: SPIFF pays nothing (no unit price for its products)" for n in skip
    ]


def test_vectorised_shapes_and_chunking():
    plan = load_plan({**SIMPLE, "period": "year", "measure": "period"})
    compiled = compile_plan(plan, ("a", "b"))
    rng = np.random.default_rng(0)
    sales = rng.uniform(0, 300_000, (50, 40))
    pay = evaluate(compiled, sales, np.full(50, 100_000.0))
    assert pay.shape == (50, 40)
    assert np.array_equal(pay, evaluate(compiled, sales, np.full(50, 100_000.0), chunk=7))
    # 150k: 100,000 × 5% + 50,000 × 10% = 10,000
    one = evaluate(compiled, np.array([[150_000.0]]), np.array([100_000.0]))
    assert one[0, 0] == pytest.approx(10_000.0)
    by_product = np.zeros((50, 40, 1, 2))
    by_product[..., 0, 0] = sales
    assert np.allclose(evaluate(compiled, by_product, np.zeros((50, 1, 2))), pay)


def test_population_is_reusable():
    plan = load_plan({**SIMPLE, "period": "year", "measure": "period"})
    compiled = compile_plan(plan, ("a", "b"))
    pop = population(compiled, 3)
    out = evaluate(compiled, np.ones((3, 5)) * 200_000, np.ones(3), pop=pop)
    assert np.allclose(out, 15_000.0)


@pytest.mark.parametrize("plans", [["plan_draw"], ["plan_field_rep", "plan_team_bonus"]])
def test_written_statements_are_each_persons_statement(plans, tmp_path, sample_company):
    """The files (written in one pass) say what ``statement(rep)`` says for each person."""
    from attain.incentive.api import payouts_of_plans

    loaded = [load_plan(ROOT / "rules" / f"{p}.yaml", sample_company) for p in plans]
    if len(loaded) == 1:
        result = payouts(loaded[0], TARGETS, ACTUALS, sample_company)
    else:
        result = payouts_of_plans(loaded, TARGETS, ACTUALS, sample_company)
    result.write(tmp_path)
    files = sorted((tmp_path / "statements").glob("*.md"))
    people = set().union(*(set(r.totals["rep_id"]) for r in getattr(result, "results", [result])))
    assert {f.stem for f in files} == people
    for path in files[:: max(1, len(files) // 12)] + [files[-1]]:
        assert path.read_text() == result.statement(path.stem)


def test_minor_units_as_exact_text():
    from attain.incentive.result import format_minor

    values = np.array([0, 5, -5, 99, -100, 123456, -(10**15)], dtype=np.int64)
    expected = {
        0: ["0", "5", "-5", "99", "-100", "123456", "-1000000000000000"],
        2: ["0.00", "0.05", "-0.05", "0.99", "-1.00", "1234.56", "-10000000000000.00"],
        3: ["0.000", "0.005", "-0.005", "0.099", "-0.100", "123.456", "-1000000000000.000"],
    }
    for unit, text in expected.items():
        got = format_minor(values, unit)
        assert got.tolist() == text and got.dtype == "str"
        assert format_minor(pd.Series(values), unit).tolist() == text
    assert format_minor(np.zeros(0, dtype=np.int64), 2).dtype == "str"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-(10**17), 10**17), min_size=1, max_size=50), st.integers(0, 4))
def test_minor_units_text_is_the_decimal_of_each_amount(values, unit):
    from decimal import Decimal

    from attain.incentive.result import format_minor

    got = format_minor(np.array(values, dtype=np.int64), unit).tolist()
    assert got == [f"{Decimal(v).scaleb(-unit):.{unit}f}" for v in values]

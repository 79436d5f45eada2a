"""KPI / MBO components on non-revenue measures: counts and ratios from the measures table,
rising and falling tables, exact == vectorised, parts that add up, located errors."""

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
from attain.incentive.exact import Windows, evaluate_exact
from attain.incentive.kinds.base import to_windows
from attain.incentive.vectorised import approximations, evaluate, population
from attain.schema.plan import Plan

ROOT = Path(__file__).resolve().parent.parent
D = Decimal

# The worked example of docs/plans.md ("KPI and MBO components").
PLAN = {
    "kind": "plan",
    "name": "mbo",
    "fiscal_year": 2027,
    "period": "quarter",
    "measure": "ytd",
    "target_incentive": {"amount": 20000},
    "components": [
        {
            "type": "kpi",
            "name": "new_accounts",
            "measure": "new_a_accounts",
            "target": 8,
            "weight": 0.25,
            "points": [
                {"at": 0.5, "payout": 0.5},
                {"at": 1.0, "payout": 1.0},
                {"at": 1.5, "payout": 2.0},
            ],
        },
        {
            "type": "kpi",
            "name": "expense_rate",
            "measure": "sales_expense_rate",
            "aggregate": "ratio",
            "target": 0.1,
            "direction": "lower",
            "weight": 0.15,
            "points": [
                {"at": 0.8, "payout": 1.5},
                {"at": 1.0, "payout": 1.0},
                {"at": 1.3, "payout": 0.0},
            ],
        },
        {
            "type": "kpi",
            "name": "collection",
            "measure": "collection_rate",
            "aggregate": "ratio",
            "basis": "value",
            "shape": "steps",
            "weight": 0.1,
            "points": [{"at": 0.9, "payout": 0.5}, {"at": 0.95, "payout": 1.0}],
        },
    ],
}
TARGETS = pd.DataFrame({"rep_id": ["R1", "R2"], "period": "2027", "product": "core", "target": 0})
DEALS = pd.DataFrame(
    {
        "deal_id": ["D1"],
        "date": ["2027-01-10"],
        "rep_id": ["R1"],
        "product": ["core"],
        "amount": [1000.0],
    }
)
MEASURES = pd.DataFrame(
    [
        ("R1", "2027-02-14", "new_a_accounts", 2, None),
        ("R1", "2027-03-30", "new_a_accounts", 1, None),
        ("R1", "2027-05-03", "new_a_accounts", 2, None),
        ("R1", "2027-03-31", "sales_expense_rate", 27_000, 300_000),
        ("R1", "2027-06-30", "sales_expense_rate", 45_000, 300_000),
        ("R1", "2027-03-31", "collection_rate", 280_000, 300_000),
        ("R1", "2027-06-30", "collection_rate", 290_000, 300_000),
        ("R2", "2027-01-20", "new_a_accounts", 1, None),
    ],
    columns=["rep_id", "date", "measure", "value", "denominator"],
)


def _amount(result, rep, component, period):
    lines = result.lines
    row = lines[(lines.rep_id == rep) & (lines.component == component) & (lines.period == period)]
    return D(int(row["amount_minor"].sum())) / 100


def _doc_example():
    """The plan, measures and expected lines under ``<!-- worked-example: kpi -->``."""
    text = (ROOT / "docs" / "plans.md").read_text(encoding="utf-8")
    block = text.split("<!-- worked-example: kpi -->", 1)[1]
    plan_text = block.split("```yaml\n", 1)[1].split("```", 1)[0]
    csv_text = block.split("```csv\n", 1)[1].split("```", 1)[0]
    table = block.split("| rep | period | component | amount |", 1)[1].split("\n\n", 1)[0]
    expected = []
    for row in table.strip().splitlines()[2:]:
        rep, period, component, value = (c.strip() for c in row.strip("|").split("|")[:4])
        expected.append((rep, period, component, D(value.replace(",", ""))))
    return yaml.safe_load(plan_text), pd.read_csv(io.StringIO(csv_text)), expected


def test_the_documented_kpi_example():
    spec, measures, expected = _doc_example()
    assert spec == PLAN and measures.equals(
        MEASURES[MEASURES.rep_id == "R1"].reset_index(drop=True).astype(measures.dtypes)
    )
    r = payouts(spec, TARGETS, DEALS, measures=measures)
    for rep, period, component, value in expected:
        assert _amount(r, rep, component, period) == value, (rep, period, component)
    text = r.statement("R1")
    assert "sales_expense_rate 27,000 / 300,000 = 9.00%; target 10.00%; attainment 90.00%" in text
    assert "collection_rate 280,000 / 300,000 = 93.33%" in text
    _check_parts(r)


def test_a_ratio_without_a_value_pays_nothing():
    r = payouts(PLAN, TARGETS, DEALS, measures=MEASURES)
    # R2 has no expense or collection values: nothing, even on the falling table
    assert _amount(r, "R2", "expense_rate", "2027-Q1") == D("0.00")
    assert _amount(r, "R2", "collection", "2027-Q1") == D("0.00")
    # R2's one account against 2 is 50%: 0.5 × 25% × 5,000
    assert _amount(r, "R2", "new_accounts", "2027-Q1") == D("625.00")


def _check_parts(result):
    parts = result.explanation(internal=True)
    total = parts.groupby("line")["amount_minor"].sum()
    assert sorted(total.index) == list(range(len(result.lines)))
    assert (total.to_numpy() == result.lines["amount_minor"].to_numpy()).all()
    return parts


def test_a_falling_table_needs_direction_lower():
    spec = {**PLAN, "components": [{**PLAN["components"][1], "direction": "higher"}]}
    with pytest.raises(RuleFileError, match="needs `direction: lower`"):
        load_plan(spec)
    rising = {**PLAN["components"][0], "direction": "lower"}
    with pytest.raises(RuleFileError, match="payouts fall as the measure rises"):
        load_plan({**PLAN, "components": [rising]})


def test_attainment_needs_a_target_and_value_takes_none():
    comp = {k: v for k, v in PLAN["components"][0].items() if k != "target"}
    with pytest.raises(RuleFileError, match="exactly one of `target` or `target_column`"):
        load_plan({**PLAN, "components": [comp]})
    with pytest.raises(RuleFileError, match="give no target"):
        load_plan({**PLAN, "components": [{**PLAN["components"][2], "target": 0.9}]})


def test_missing_measures_table_is_located_at_the_component():
    with pytest.raises(DataError) as e:
        payouts(PLAN, TARGETS, DEALS)
    (p,) = e.value.problems
    assert p.path == "components[0].measure" and "no measures table" in p.message


def test_a_measure_without_rows_is_an_error_naming_the_measures_present():
    rows = MEASURES[MEASURES.measure != "collection_rate"]
    with pytest.raises(DataError) as e:
        payouts(PLAN, TARGETS, DEALS, measures=rows)
    (p,) = e.value.problems
    assert "no row of measure `collection_rate`" in p.message
    assert "new_a_accounts" in p.hint


def test_bad_rows_are_located():
    bad = MEASURES.copy()
    bad.loc[3, "denominator"] = None
    bad.loc[7, "rep_id"] = "NOBODY"
    with pytest.raises(DataError) as e:
        payouts(PLAN, TARGETS, DEALS, measures=bad)
    found = {(p.row, p.field) for p in e.value.problems}
    assert (4, "denominator") in found  # a DataFrame's rows count from 1
    assert (8, "rep_id") in found
    cells = MEASURES.astype({"value": object})
    cells.loc[0, "value"] = "lots"
    with pytest.raises(DataError) as e:
        payouts(PLAN, TARGETS, DEALS, measures=cells)
    assert e.value.problems[0].field == "value"


def test_nobody_with_a_value_and_rows_left_out_are_warnings():
    rows = MEASURES.copy()
    rows.loc[len(rows)] = ("R1", "2026-12-31", "new_a_accounts", 4, None)
    rows.loc[len(rows)] = ("R1", "2027-01-31", "meetings", 4, None)
    spec = {
        **PLAN,
        "components": [*PLAN["components"], {**PLAN["components"][0], "name": "meet"}],
    }
    spec["components"][-1]["measure"] = "meetings"
    spec["components"][-1]["target"] = 0
    r = payouts(spec, TARGETS, DEALS, measures=rows)
    codes = [n.code for n in r.notices]
    assert codes.count("measure-rows-left-out") == 1  # the 2026 row
    assert "kpi-without-target" in codes
    r = payouts(PLAN, TARGETS, DEALS, measures=rows[rows.measure != "meetings"].iloc[:0])
    assert [n.code for n in r.notices].count("measure-without-values") == 3
    assert any(w["code"] == "measure-without-values" for w in r.summary.warnings)


def test_targets_from_an_org_column():
    spec = {**PLAN, "components": [dict(PLAN["components"][0])]}
    del spec["components"][0]["target"]
    spec["components"][0]["target_column"] = "accounts_target"
    targets = TARGETS.assign(accounts_target=[4, 8])
    r = payouts(spec, targets, DEALS, measures=MEASURES)
    # R1: 3 against 4 × 3/12 = 1 → 300% → the flat top, 2.0 × 25% × 5,000
    assert _amount(r, "R1", "new_accounts", "2027-Q1") == D("2500.00")
    # R2: 1 against 2 → 50% → 0.5 × 1,250
    assert _amount(r, "R2", "new_accounts", "2027-Q1") == D("625.00")


def test_the_simulator_takes_a_kpi_at_target_and_says_so():
    compiled = compile_plan(Plan.model_validate(PLAN), ("core",))
    notes = approximations(compiled)
    assert any("taken at its target" in n for n in notes)
    assert any("pays nothing without measures" in n for n in notes)
    pay = evaluate(compiled, np.zeros((2, 1, 4)), np.zeros((2, 4)), ti=np.full(2, 20000.0))
    # at target: 1.0 × 25% + 1.0 × 15% of 20,000; the value-based collection KPI nothing
    assert np.allclose(pay, 8000.0)


def test_the_example_plan_runs_through_the_cli(tmp_path):
    measures = ROOT / "tests" / "fixtures" / "incentive" / "measures.csv"
    code = _kpi_payout(tmp_path, "o", "--measures", str(measures))
    assert code == 0
    parts = pd.read_csv(tmp_path / "o" / "statements.csv", dtype=str)
    lines = pd.read_csv(tmp_path / "o" / "payouts.csv", dtype=str)
    key = ["rep_id", "period", "component"]
    minor = parts.assign(m=parts["amount"].map(lambda v: int(D(v) * 100)))
    sums = minor.groupby(key)["m"].sum()
    amounts = lines.set_index(key)["amount"].map(lambda v: int(D(v) * 100))
    assert (sums.reindex(amounts.index).to_numpy() == amounts.to_numpy()).all()
    assert (amounts != 0).any()


def _kpi_payout(tmp_path, name: str, *extra: str) -> int:
    from attain.cli.main import main

    return main(
        [
            "payout",
            str(ROOT / "rules" / "plan_kpi_mbo.yaml"),
            "--targets",
            str(ROOT / "tests" / "fixtures" / "incentive" / "targets.csv"),
            "--actuals",
            str(ROOT / "scenarios" / "sample" / "actuals.csv"),
            *extra,
            "--out",
            str(tmp_path / name),
        ]
    )


def test_the_example_plan_reads_the_company_measures_table(tmp_path):
    """The sample company names its measures table: the shipped KPI plan runs without
    --measures, on the same figures as with the table given; --measures overrides it."""
    sample = ROOT / "scenarios" / "sample" / "measures.csv"
    fixture = ROOT / "tests" / "fixtures" / "incentive" / "measures.csv"
    assert _kpi_payout(tmp_path, "company") == 0
    assert _kpi_payout(tmp_path, "given", "--measures", str(sample)) == 0
    assert _kpi_payout(tmp_path, "other", "--measures", str(fixture)) == 0
    company, given, other = (
        (tmp_path / n / "payouts.csv").read_bytes() for n in ("company", "given", "other")
    )
    assert company == given
    assert company != other
    kpi = pd.read_csv(io.BytesIO(company), dtype={"amount": str})
    assert {"new_accounts", "expense_rate", "collection"} <= set(kpi["component"])
    assert (kpi.groupby("component")["amount"].apply(lambda a: (a != "0.00").any())).all()


def test_a_company_without_a_measures_table_says_where_to_name_one(tmp_path, sample_dir):
    import shutil

    folder = tmp_path / "company"
    shutil.copytree(sample_dir, folder)
    manifest = folder / "company.yaml"
    manifest.write_text(manifest.read_text().replace("  measures: measures.csv\n", ""))
    plan = ROOT / "rules" / "plan_kpi_mbo.yaml"
    with pytest.raises(DataError) as e:
        payouts(plan, ROOT / "tests" / "fixtures" / "incentive" / "targets.csv", None, folder)
    (p,) = e.value.problems
    assert p.code == "missing-measures" and "tables: measures:" in p.hint
    r = payouts(
        plan,
        ROOT / "tests" / "fixtures" / "incentive" / "targets.csv",
        None,
        folder,
        measures=sample_dir / "measures.csv",
    )
    assert r.totals["payable_minor"].sum() > 0


def test_measures_until_leaves_later_rows_out_and_counts_them():
    until = pd.Timestamp("2027-04-30").date()
    cut = payouts(PLAN, TARGETS, DEALS, measures=MEASURES, measures_until=until)
    early = MEASURES[MEASURES["date"] <= "2027-04-30"]
    same = payouts(PLAN, TARGETS, DEALS, measures=early)
    assert cut.totals["payable_minor"].tolist() == same.totals["payable_minor"].tolist()
    (note,) = [n for n in cut.notices if "after 2027-04-30" in n.message]
    assert note.code == "measure-rows-left-out" and note.count == len(MEASURES) - len(early)


# --- exact == vectorised ------------------------------------------------------------


@st.composite
def kpi_specs(draw, i):
    lower = draw(st.booleans())
    ratio = draw(st.booleans())
    on_value = draw(st.booleans())
    steps = draw(st.booleans())
    n = draw(st.integers(1 if steps else 2, 4))
    at = np.cumsum(draw(st.lists(st.integers(1, 8), min_size=n, max_size=n))) / 8
    if on_value and not ratio:
        at = at * 8  # counts: whole numbers
    pays = sorted(draw(st.lists(st.integers(0, 12), min_size=n, max_size=n)))
    if lower:
        pays = pays[::-1]
    spec = {
        "type": "kpi",
        "name": f"k{i}",
        "measure": f"m{i}",
        "aggregate": "ratio" if ratio else "sum",
        "basis": "value" if on_value else "attainment",
        "direction": "lower" if lower else "higher",
        "shape": "steps" if steps else "linear",
        "weight": draw(st.integers(1, 10)) / 10,
        "points": [{"at": float(a), "payout": p / 4} for a, p in zip(at, pays, strict=True)],
    }
    if not on_value:
        spec["target"] = draw(st.integers(0, 3)) * (0.25 if ratio else 12)
    if draw(st.booleans()):
        spec["cap"] = {"multiple_of_ti": draw(st.integers(1, 8)) / 8}
    return spec


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_exact_and_vectorised_agree_within_one_minor_unit(data):
    n_comp = data.draw(st.integers(1, 3))
    spec = {
        "kind": "plan",
        "name": "p",
        "period": data.draw(st.sampled_from(["month", "quarter", "semi_monthly"])),
        "measure": data.draw(st.sampled_from(["period", "ytd"])),
        "negative_balance": data.draw(st.sampled_from(["carry_forward", "claw_back"])),
        "target_incentive": {"amount": data.draw(st.integers(0, 60_000))},
        "components": [data.draw(kpi_specs(i)) for i in range(n_comp)],
        "rounding": {"mode": data.draw(st.sampled_from(["half_up", "half_even"]))},
    }
    plan = Plan.model_validate(spec)
    compiled = compile_plan(plan, ("a",))
    n_r, n_p = 4, compiled.n_periods
    ytd = plan.measure == "ytd"
    measures_exact, measures_float = {}, {}
    for c in plan.components:
        value = np.array(
            data.draw(st.lists(st.integers(0, 12), min_size=n_r * n_p, max_size=n_r * n_p))
        ).reshape(n_r, n_p)
        den = np.array(
            data.draw(st.lists(st.integers(0, 12), min_size=n_r * n_p, max_size=n_r * n_p))
        ).reshape(n_r, n_p)
        if c.aggregate == "ratio":
            value = np.minimum(value, den) if data.draw(st.booleans()) else value
        else:
            den = np.zeros_like(den)
        micro = [(a * 1_000_000).astype(np.int64) for a in (value, den, np.ones_like(value))]
        measures_exact[c.measure] = tuple(to_windows(a, 1, ytd) for a in micro)
        measures_float[c.measure] = (value.astype(float), den.astype(float))
    ti = plan.target_incentive.amount
    months = np.full(n_p, compiled.n_slots // n_p)
    w = Windows(
        net=np.zeros((n_r, n_p, 1), dtype=np.int64),
        gross=np.zeros((n_r, n_p, 1), dtype=np.int64),
        targets=np.zeros((n_r, n_p, 1), dtype=np.int64),
        ti=np.full(n_r, ti * 100, dtype=np.int64),
        months=np.cumsum(months) if ytd else months,
        periods=np.cumsum(np.ones(n_p, dtype=np.int64)) if ytd else np.ones(n_p, np.int64),
        active=np.ones(n_p, dtype=bool),
        participant=np.ones(n_r, dtype=bool),
        people=pd.DataFrame({"rep_id": [f"R{i}" for i in range(n_r)], "role": "rep"}),
        measures=measures_exact,
    )
    ev = evaluate_exact(compiled, w)
    pop = population(compiled, n_r, w.people, ti=np.full(n_r, float(ti)), measures=measures_float)
    fl = evaluate(compiled, np.zeros((n_r, 1, n_p)), np.zeros((n_r, n_p)), pop=pop, detail=True)
    for i, name in enumerate(compiled.names):
        diff = np.abs(fl[name][:, 0] * 100 - ev.payable[i])
        assert diff.max() <= 1 + 1e-6, (name, diff.max())
    total = sum(v[:, 0] for v in fl.values()) * 100
    assert np.abs(total - ev.total).max() <= 2 * (n_comp + 2) + 1e-6


@settings(max_examples=20, deadline=None)
@given(st.data())
def test_generated_kpi_runs_parts_add_up_to_every_line(data):
    comps = [data.draw(kpi_specs(i)) for i in range(data.draw(st.integers(1, 3)))]
    spec = {
        **PLAN,
        "period": data.draw(st.sampled_from(["month", "quarter", "two_week"])),
        "measure": data.draw(st.sampled_from(["period", "ytd"])),
        "components": comps,
    }
    rows = []
    for c in comps:
        for _ in range(data.draw(st.integers(1, 6))):
            month = data.draw(st.integers(1, 12))
            value = data.draw(st.integers(0, 50))
            den = data.draw(st.integers(1, 60)) if c["aggregate"] == "ratio" else None
            rep = data.draw(st.sampled_from(["R1", "R2"]))
            rows.append((rep, f"2027-{month:02d}-11", c["measure"], value, den))
    frame = pd.DataFrame(rows, columns=["rep_id", "date", "measure", "value", "denominator"])
    _check_parts(payouts(spec, TARGETS, DEALS, measures=frame))


def test_a_leavers_measures_after_the_end_date_are_left_out_and_counted():
    from attain.data import company_from_frames

    org = pd.DataFrame(
        {
            "rep_id": ["R1", "R2"],
            "name": ["R1", "R2"],
            "team": "T1",
            "role": "rep",
            "tenure_months": 12,
            "capacity": 0,
            "target_incentive": 20000,
            "start_date": "",
            "end_date": ["2027-03-31", ""],  # R1 leaves at the end of March
        }
    )
    rules = {
        "kind": "company",
        "name": "Tiny",
        "currency": "EUR",
        "fiscal_year": 2027,
        "hierarchy": ["team"],
        "products": ["core"],
        "tables": {"org": "org.csv"},
    }
    company = company_from_frames(rules, org=org)
    cut = payouts(PLAN, TARGETS, DEALS, company, measures=MEASURES)
    kept = MEASURES[~((MEASURES["rep_id"] == "R1") & (MEASURES["date"] > "2027-03-31"))]
    same = payouts(PLAN, TARGETS, DEALS, company, measures=kept)
    assert cut.totals["payable_minor"].tolist() == same.totals["payable_minor"].tolist()
    (note,) = [n for n in cut.notices if "not in the org" in n.message]
    assert note.code == "measure-rows-left-out" and note.count == len(MEASURES) - len(kept) == 3
    whole = payouts(PLAN, TARGETS, DEALS, measures=MEASURES)  # no dates: every row counts
    assert whole.totals["payable_minor"].sum() != cut.totals["payable_minor"].sum()

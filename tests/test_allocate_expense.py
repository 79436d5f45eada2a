"""Expense budgets allocated with the targets: exact, adding up, within each max rate."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from attain.allocate import allocate
from attain.allocate.expense import YEAR, expense_budgets
from attain.allocate.toy import toy_company, toy_rules
from attain.cli.main import main
from attain.errors import InfeasibleError, RuleFileError
from attain.schema.expense import ExpenseBudget

DOCS = Path(__file__).resolve().parent.parent / "docs" / "allocation.md"


def _doc_example(name: str):
    block = DOCS.read_text(encoding="utf-8").split(f"<!-- worked-example: {name} -->", 1)[1]
    return block


def doc_company():
    """The six reps of docs/allocation.md's worked examples."""
    block = _doc_example("expenses")
    org = pd.read_csv(io.StringIO(block.split("```csv\n", 1)[1].split("```", 1)[0]))
    return toy_company(
        org["potential"].tolist(), regions=org["region"].tolist(), teams=org["team"].tolist()
    )


def test_the_documented_worked_example():
    block = _doc_example("expenses")
    spec = toy_rules(1_600_000, unit=1000)
    spec.update(yaml.safe_load(block.split("```yaml\n", 1)[1].split("```", 1)[0]))
    result = allocate(spec, doc_company())
    table = block.split("| level | unit | target | expense_budget | rate |", 1)[1]
    rows = [r.strip("|").split("|") for r in table.strip().split("\n\n")[0].splitlines()[1:]]
    year = result.expense_budget[result.expense_budget["period"] == YEAR].set_index("unit")
    assert len(rows) == len(year) == 6
    for level, unit, target, budget, rate in (map(str.strip, r) for r in rows):
        row = year.loc[unit]
        assert row["level"] == level
        assert Decimal(str(row["target"])) == Decimal(target.replace(",", ""))
        assert Decimal(str(row["expense_budget"])) == Decimal(budget.replace(",", ""))
        assert f"{row['rate']:.2%}" == rate
    assert year.loc["North-1", "capped"] and not year.loc["South-1", "capped"]
    s = result.summary["expenses"]
    assert s["budget"] == 100_000 and s["by_level"]["team"]["n_capped"] == 2


def test_a_rate_budget_adds_up_by_level_and_month_and_is_written_as_exact_text(tmp_path):
    spec = toy_rules(1_600_000, unit=1000, buffer={"team": 1.03, "rep": 1.05})
    spec["expenses"] = {"rate": 0.0613, "levels": ["region", "team", "rep"]}
    result = allocate(spec, doc_company())
    budget = result.expense_budget
    assert budget["expense_budget"].dtype.kind == "f"
    year = budget[budget["period"] == YEAR]
    cents = (year.set_index(["level", "unit"])["expense_budget"] * 100).round().astype(int)
    total = cents.loc["company"].sum()
    assert total == 9_808_000  # 6.13% of 1,600,000.00, exactly
    for level in ("region", "team", "rep"):
        assert cents.loc[level].sum() == total
    # Months add up to the year for every unit, and every level's months to the company's.
    months = budget[budget["period"] != YEAR].assign(
        c=lambda f: (f["expense_budget"] * 100).round().astype(int)
    )
    by_unit = months.groupby(["level", "unit"])["c"].sum()
    assert (by_unit == cents.reindex(by_unit.index)).all()
    per_month = months.groupby(["level", "period"])["c"].sum().unstack("level")
    for level in ("region", "team", "rep"):
        assert (per_month[level] == per_month["company"]).all()
    # Without buffers between them a level's rate is its parent's; teams carry 3% more.
    rates = year.set_index("unit")["rate"]
    assert rates["North"] == pytest.approx(0.0613, abs=1e-6)
    assert rates["North-1"] == pytest.approx(0.0613 / 1.03, abs=1e-5)
    result.write(tmp_path, xlsx=False)
    text = (tmp_path / "expense_budget.csv").read_text().splitlines()
    assert text[0] == "level,unit,region,team,period,target,expense_budget,rate,capped"
    assert text[1] == "company,company,,,year,1600000.00,98080.00,0.0613,False"
    assert result.frames["expense_budget"] is budget


def test_a_team_with_no_target_gets_no_budget_and_a_warning():
    spec = toy_rules(
        1_600_000, {"type": "bounds", "level": "team", "where": {"team": "North-2"}, "max": 0}
    )
    spec["expenses"] = {"rate": 0.05}
    result = allocate(spec, doc_company())
    year = result.expense_budget[result.expense_budget["period"] == YEAR].set_index("unit")
    assert year.loc["North-2", "expense_budget"] == 0 and np.isnan(year.loc["North-2", "rate"])
    codes = {n.code: n for n in result.notices}
    assert "expense-zero-budget" in codes and "North-2" in codes["expense-zero-budget"].message
    assert any(w["code"] == "expense-zero-budget" for w in result.summary["warnings"])


def test_a_budget_the_max_rates_cannot_hold_is_a_conflict_that_exits_3(tmp_path):
    spec = toy_rules(1_600_000, unit=1000)
    spec["expenses"] = {"total": 120_000, "max_rate": {"team": 0.07}}
    with pytest.raises(InfeasibleError) as caught:
        allocate(spec, doc_company())
    assert "112,000.00" in str(caught.value) and "team 7.00%" in str(caught.value)
    rules = tmp_path / "r.yaml"
    rules.write_text(yaml.safe_dump(spec))
    data = tmp_path / "data"
    _write_company(doc_company(), data)
    out = tmp_path / "out"
    assert main(["allocate", str(rules), "--data", str(data), "--out", str(out)]) == 3
    assert not out.exists()


def _write_company(company, folder: Path) -> None:
    folder.mkdir()
    for name in ("org", "potential", "history"):
        getattr(company, name).to_csv(folder / f"{name}.csv", index=False)
    (folder / "company.yaml").write_text(yaml.safe_dump(company.rules.model_dump(mode="json")))


@pytest.mark.parametrize(
    ("expenses", "where", "message"),
    [
        ({"rate": 0}, "expenses.rate", "greater than 0"),
        ({"rate": 1.5}, "expenses.rate", "at most 1"),
        ({"rate": 0.05, "total": 10}, "expenses", "not both"),
        ({"rate": 0.05, "max_rate": {"teem": 0.1}}, "expenses.max_rate.teem", "unknown level"),
        ({"rate": 0.05, "levels": ["team", "region"]}, "expenses.levels", "top-down"),
        (
            {"rate": 0.05, "weights": {"region": {"Nort": 1}}},
            "expenses.weights.region.Nort",
            "North",
        ),
        ({"rate": 0.08, "max_rate": {"company": 0.07}}, "expenses.rate", "above the company's"),
        ({"total": 200_000, "max_rate": {"company": 0.1}}, "expenses.total", "above the company's"),
    ],
)
def test_bad_expense_rules_are_located_errors(expenses, where, message, tmp_path):
    spec = toy_rules(1_600_000)
    spec["expenses"] = expenses
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    with pytest.raises(RuleFileError) as caught:
        allocate(path, doc_company())
    problems = caught.value.problems
    assert any(p.path == where and message in p.message and p.line for p in problems), problems


def test_a_weighted_level_needs_every_unit_s_weight():
    spec = toy_rules(1_600_000)
    spec["expenses"] = {"rate": 0.05, "weights": {"team": {"North-1": 1, "North-2": 1}}}
    with pytest.raises(RuleFileError, match=r"no weight for 1 team unit\(s\): South-1"):
        allocate(spec, doc_company())


# --- the property: on random orgs, weights and caps --------------------------------------


def _fake(n_regions, teams_per, reps_per, targets, spend):
    """The inputs expense_budgets reads, for an org of regions → teams → reps."""
    rows = []
    for r in range(n_regions):
        for t in range(teams_per[r]):
            for k in range(reps_per[r][t]):
                rows.append((f"G{r}", f"G{r}-T{t}", f"R{r}{t}{k:03d}"))
    reps = pd.DataFrame(rows, columns=["region", "team", "rep_id"]).sort_values("rep_id")
    reps = reps.reset_index(drop=True)
    codes, names = (
        {"company": np.zeros(len(reps), dtype=np.int64)},
        {"company": np.array(["company"], dtype=object)},
    )
    for level, column in (("region", "region"), ("team", "team"), ("rep", "rep_id")):
        u, inv = np.unique(reps[column].to_numpy(), return_inverse=True)
        codes[level], names[level] = inv.astype(np.int64), u.astype(object)
    R = len(reps)
    months = np.asarray(targets[: R * 12], dtype=np.int64).reshape(R, 1, 12)
    rep = months.sum(axis=(1, 2))
    levels = {"company": np.array([rep.sum()])}
    for level in ("region", "team"):
        levels[level] = np.bincount(codes[level], weights=rep, minlength=len(names[level])).astype(
            np.int64
        )
    company = SimpleNamespace(rules=SimpleNamespace(minor_unit=2), hierarchy=("region", "team"))
    inputs = SimpleNamespace(
        rules=SimpleNamespace(expenses=spend),
        company=company,
        levels=("company", "region", "team", "rep"),
        codes=codes,
        unit_names=names,
        reps=reps,
        n_reps=R,
        periods=tuple(f"2027-{m:02d}" for m in range(1, 13)),
        source="<rules>",
    )
    return inputs, {"unit": 0.01, "rep": rep, "levels": levels, "month": months}


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    n_regions=st.integers(1, 3),
    rate=st.floats(0.01, 0.2),
    team_cap=st.one_of(st.none(), st.floats(0.05, 0.5)),
    weighted=st.booleans(),
    with_reps=st.booleans(),
)
def test_budgets_add_up_exactly_and_stay_within_each_max_rate(
    data, n_regions, rate, team_cap, weighted, with_reps
):
    teams_per = [data.draw(st.integers(1, 3)) for _ in range(n_regions)]
    reps_per = [[data.draw(st.integers(1, 4)) for _ in range(t)] for t in teams_per]
    R = sum(map(sum, reps_per))
    targets = data.draw(st.lists(st.integers(0, 10**9), min_size=R * 12, max_size=R * 12))
    weights = {}
    if weighted:
        weights["region"] = {f"G{r}": data.draw(st.floats(0.1, 10)) for r in range(n_regions)}
    spend = ExpenseBudget(
        rate=rate,
        levels=["region", "team", "rep"] if with_reps else None,
        weights=weights,
        max_rate={"team": team_cap} if team_cap else {},
    )
    inputs, rounded = _fake(n_regions, teams_per, reps_per, targets, spend)
    company_target = int(rounded["levels"]["company"][0])
    expected = int(
        (Decimal(repr(rate)) * company_target).to_integral_value(rounding="ROUND_HALF_UP")
    )
    try:
        result = expense_budgets(inputs, rounded)
    except InfeasibleError:
        team_target = rounded["levels"]["team"]
        room = sum(int(Decimal(repr(team_cap)) * int(t)) for t in team_target)
        assert team_cap is not None and expected > room
        return
    frame = result.frame
    frame = frame.assign(minor=(frame["expense_budget"] * 100).round().astype(np.int64))
    year = frame[frame["period"] == YEAR]
    assert year.loc[year["level"] == "company", "minor"].item() == expected
    for level in ("region", "team", *(["rep"] if with_reps else [])):
        assert year.loc[year["level"] == level, "minor"].sum() == expected
    # Each child level adds up to its parents, unit by unit.
    reg = year[year["level"] == "region"].set_index("unit")["minor"]
    team = year[year["level"] == "team"]
    assert (team.groupby("region")["minor"].sum() == reg.reindex(team["region"].unique())).all()
    if team_cap:
        t = team["target"].to_numpy() * 100
        assert (team["minor"].to_numpy() <= np.floor(team_cap * t + 1e-6)).all()
    months = frame[frame["period"] != YEAR]
    by_unit = months.groupby(["level", "unit"], sort=False)["minor"].sum()
    per_year = year.set_index(["level", "unit"])["minor"]
    assert (by_unit == per_year.reindex(by_unit.index)).all()
    per_month = months.groupby(["period", "level"])["minor"].sum().unstack()
    assert (per_month.sub(per_month["company"], axis=0) == 0).all().all()

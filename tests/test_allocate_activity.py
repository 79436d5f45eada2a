"""Weekly activity targets: the revenue target through the funnel, ISO weeks, whole counts."""

from __future__ import annotations

import datetime as dt
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
from attain.allocate.activity import activity_targets, fiscal_weeks
from attain.allocate.toy import toy_rules
from attain.cli.main import main
from attain.errors import RuleFileError
from attain.schema.activity import Activities
from tests.test_allocate_expense import _write_company, doc_company

DOCS = Path(__file__).resolve().parent.parent / "docs" / "allocation.md"
FUNNEL = [
    {"name": "visits", "to": "opportunities", "rate": 0.3},
    {"name": "opportunities", "to": "deals", "rate": 0.25},
    {"name": "deals", "to": "revenue"},
]


@pytest.fixture(scope="module")
def result():
    spec = toy_rules(1_600_000, unit=1000)
    spec["activities"] = {
        "funnel": FUNNEL,
        "average_deal": 5000,
        "segments": [{"where": {"region": "South"}, "rates": {"visits": 0.5}}],
    }
    return allocate(spec, doc_company())


def test_the_documented_worked_example(result):
    block = DOCS.read_text(encoding="utf-8").split("<!-- worked-example: activities -->", 1)[1]
    table = block.split("\n\n", 1)[0].strip().splitlines()[2:]
    acts = result.activity_targets.set_index(["rep_id", "week", "activity"])
    for row in table:
        week, days, revenue, activity, exact, target = (
            c.strip() for c in row.strip("|").split("|")
        )
        got = acts.loc[("R001", week, activity)]
        assert got["days"] == int(days)
        assert Decimal(str(got["revenue_target"])) == Decimal(revenue.replace(",", ""))
        assert f"{got['exact']:.4f}" == exact and got["target"] == int(target)
    year = result.activity_targets[result.activity_targets["rep_id"] == "R001"]
    assert year.groupby("activity")["target"].sum().to_dict() == {
        "deals": 40,
        "opportunities": 160,
        "visits": 533,
    }


def test_weeks_add_up_per_rep_and_follow_the_month_phasing_day_by_day(result):
    acts = result.activity_targets
    weeks = acts.drop_duplicates("week")
    assert weeks["days"].sum() == 365 and weeks["week"].iloc[0] == "2026-W53"
    assert weeks["week"].iloc[-1] == "2027-W52" and len(weeks) == 53
    # Every week is its exact figure rounded down or up, and the year is the rounded sum.
    assert ((acts["target"] - acts["exact"]).abs() < 1 + 1e-4).all()
    by_rep = acts.groupby(["rep_id", "activity"]).agg(t=("target", "sum"), e=("exact", "sum"))
    assert (by_rep["t"] == np.floor(by_rep["e"] + 0.5)).all()
    # A week's revenue is its days at their months' daily rates; the weeks add up to the year.
    months = result.targets.groupby(["rep_id", "period"])["target"].sum().unstack()
    deals = acts[acts["activity"] == "deals"]
    revenue = deals.groupby("rep_id")["revenue_target"].sum()
    assert np.allclose(revenue, months.sum(axis=1).reindex(revenue.index), atol=0.01 * 53)
    w13 = deals[deals["week"] == "2027-W13"].set_index("rep_id")["revenue_target"]
    expected = months["2027-03"] * 3 / 31 + months["2027-04"] * 4 / 30
    assert np.allclose(w13, expected.reindex(w13.index), atol=0.006)


def test_a_segment_s_rates_apply_to_its_reps(result):
    acts = result.activity_targets
    visits = acts[(acts["activity"] == "visits")].groupby("rep_id")["target"].sum()
    # R001 (North) and R004 (South) have the same revenue target: 0.3 against 0.5.
    assert visits["R001"] == 533 and visits["R004"] == 320
    assert set(acts.loc[acts["region"] == "South", "rate"].dropna()) == {0.5, 0.25}
    s = result.summary["activities"]
    assert s["totals"]["deals"] == 320 and s["weeks"] == 53


def test_a_one_step_funnel_is_accounts_times_an_average_order(tmp_path):
    spec = toy_rules(1_600_000, unit=1000)
    spec["activities"] = {"funnel": [{"name": "new_a_accounts", "to": "revenue"}],
                          "average_deal": 40_000}  # fmt: skip
    result = allocate(spec, doc_company())
    acts = result.activity_targets
    assert acts.groupby("rep_id")["target"].sum().to_dict() == {
        "R001": 5, "R002": 5, "R003": 10, "R004": 5, "R005": 5, "R006": 10,
    }  # fmt: skip
    result.write(tmp_path, xlsx=False)
    header = (tmp_path / "activity_targets.csv").read_text().splitlines()[0]
    assert header == (
        "rep_id,region,team,week,week_start,days,activity,target,exact,revenue_target,"
        "converts_to,rate,average_deal"
    )


def test_reps_without_a_revenue_target_get_none_and_a_warning():
    spec = toy_rules(1_600_000, {"type": "bounds", "where": {"rep_id": "R002"}, "max": 0})
    spec["activities"] = {"funnel": FUNNEL, "average_deal": 5000}
    result = allocate(spec, doc_company())
    acts = result.activity_targets
    assert acts.loc[acts["rep_id"] == "R002", "target"].sum() == 0
    notice = next(n for n in result.notices if n.code == "activity-zero-targets")
    assert notice.count == 1 and "R002" in notice.message


@pytest.mark.parametrize(
    ("funnel", "extra", "where", "message"),
    [
        ([{"name": "visits", "to": "deals", "rate": 0}, {"name": "deals", "to": "revenue"}], {},
         "activities.funnel.0.rate", "greater than 0"),
        ([{"name": "visits", "to": "deals", "rate": 1.2}, {"name": "deals", "to": "revenue"}], {},
         "activities.funnel.0.rate", "at most 1"),
        ([{"name": "visits", "to": "deals", "rate": 0.3}, {"name": "deals", "to": "wins"}], {},
         "activities.funnel.1.to", "must end in revenue"),
        ([{"name": "visits", "to": "calls", "rate": 0.3}, {"name": "deals", "to": "revenue"}], {},
         "activities.funnel.0.to", "names the next step"),
        ([{"name": "deals", "to": "revenue", "rate": 0.5}], {}, "activities.funnel.0.rate",
         "average_deal"),
        ([{"name": "visits", "to": "deals", "rate": 0.3}, {"name": "deals", "to": "revenue"}],
         {"segments": [{"where": {"region": "North"}, "rates": {"calls": 0.2}}]},
         "activities.segments.0.rates.calls", "no step `calls`"),
        ([{"name": "deals", "to": "revenue"}], {"segments": [{"where": {"regoin": "North"}}]},
         "activities.segments.0.where.regoin", "region"),
        ([{"name": "deals", "to": "revenue"}], {"products": ["cor"]}, "activities.products.0",
         "unknown product"),
    ],
)  # fmt: skip
def test_bad_funnels_are_located_errors(funnel, extra, where, message, tmp_path):
    spec = toy_rules(1_600_000)
    spec["activities"] = {"funnel": funnel, "average_deal": 5000, **extra}
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    with pytest.raises(RuleFileError) as caught:
        allocate(path, doc_company())
    problems = caught.value.problems
    paths = [p.path.replace("[", ".").replace("]", "") for p in problems]
    assert any(
        p == where and message in q.message and q.line for p, q in zip(paths, problems, strict=True)
    ), problems


def test_iso_weeks_of_a_fiscal_year_starting_in_april():
    weeks = fiscal_weeks(dt.date(2027, 4, 1))
    assert weeks.labels[0] == "2027-W13" and weeks.days[0] == 4  # Thursday 1 April
    assert weeks.days.sum() == 366  # April 2027 to March 2028 holds 29 February
    assert np.allclose(weeks.month_share.sum(axis=1), 1.0)


# --- the property: whole activities adding up per rep -----------------------------------


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    n_reps=st.integers(1, 5),
    rates=st.lists(st.floats(0.01, 1.0), min_size=0, max_size=3),
    deal=st.floats(100, 1e6),
)
def test_activity_targets_round_to_whole_counts_that_add_up_per_rep(data, n_reps, rates, deal):
    months = data.draw(st.lists(st.integers(0, 10**6), min_size=n_reps * 12, max_size=n_reps * 12))
    names = [f"step{i}" for i in range(len(rates) + 1)]
    funnel = [
        {
            "name": n,
            "to": names[i + 1] if i < len(rates) else "revenue",
            **({"rate": rates[i]} if i < len(rates) else {}),
        }
        for i, n in enumerate(names)
    ]
    spec = Activities.model_validate({"funnel": funnel, "average_deal": deal})
    reps = pd.DataFrame({"rep_id": [f"R{i}" for i in range(n_reps)], "region": "N", "team": "N-1"})
    inputs = SimpleNamespace(
        rules=SimpleNamespace(activities=spec),
        company=SimpleNamespace(rules=SimpleNamespace(minor_unit=2), hierarchy=("region", "team")),
        periods=tuple(f"2027-{m:02d}" for m in range(1, 13)),
        products=("p1",),
        reps=reps,
        n_reps=n_reps,
    )
    cells = np.asarray(months, dtype=np.int64).reshape(n_reps, 1, 12)
    out = activity_targets(inputs, {"unit": 1000.0, "month": cells})
    frame = out.frame
    assert frame["target"].dtype.kind == "i" and (frame["target"] >= 0).all()
    assert ((frame["target"] - frame["exact"]).abs() < 1 + 1e-4).all()
    revenue = cells.sum(axis=(1, 2)) * 1000.0
    # Activities per unit of revenue: ÷ the average deal, ÷ the rates from the step on.
    per = 1.0 / (np.cumprod([1.0, *reversed(rates)])[::-1] * deal)
    year = frame.groupby(["rep_id", "activity"], sort=False)["target"].sum().unstack()
    for i, name in enumerate(names):
        exact = revenue * per[i]  # the year's total: rounded to the nearest whole activity
        assert (np.abs(year[name].reindex(reps["rep_id"]).to_numpy() - exact) <= 0.5 + 1e-6).all()
    assert out.summary["totals"] == {n: int(year[n].sum()) for n in names}


def test_a_bad_funnel_exits_2_at_its_line(tmp_path, capsys):
    spec = toy_rules(1_600_000)
    spec["activities"] = {"funnel": [{"name": "visits", "to": "deals", "rate": 0.3},
                                     {"name": "deals", "to": "wins"}], "average_deal": 5000}  # fmt: skip
    rules = tmp_path / "r.yaml"
    rules.write_text(yaml.safe_dump(spec, sort_keys=False))
    data = tmp_path / "data"
    _write_company(doc_company(), data)
    out = tmp_path / "out"
    assert main(["allocate", str(rules), "--data", str(data), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "r.yaml:" in err and "activities.funnel[1].to" in err and "must end in revenue" in err
    assert not out.exists()

"""Re-planning the rest of the year: past months never change, the year adds up, leavers'
and relieved targets go where the rules say, joiners ramp from their start date."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from attain.allocate import allocate
from attain.allocate.replan import Replanned, replan
from attain.allocate.toy import toy_company, toy_rules
from attain.cli.main import main
from attain.data import company_from_frames
from attain.errors import DataError, InputError, RuleFileError

ROOT = Path(__file__).resolve().parent.parent
UNIT = 100.0
TOTAL = 1_200_000.0
PERIODS = [f"2027-{m:02d}" for m in range(1, 13)]


def company(n_reps: int = 8, seed: int = 1, dates: dict | None = None, extra: list | None = None):
    """A toy company of two teams; ``dates`` = {rep_id: (start, end)}; ``extra`` = more org
    rows (dicts) such as open headcount."""
    rng = np.random.default_rng(seed)
    potential = rng.uniform(50, 150, size=(n_reps, 2)).round(1).tolist()
    teams = ["North-1" if i < n_reps // 2 else "North-2" for i in range(n_reps)]
    base = toy_company(potential, teams=teams, season=[1, 1, 2, 1, 1, 2, 1, 1, 2, 1, 1, 3])
    if dates is None and extra is None:
        return base
    org = base.org.copy().astype(str)
    org["start_date"] = ""
    org["end_date"] = ""
    org["open_headcount"] = "false"
    for rep, (start, end) in (dates or {}).items():
        row = org["rep_id"] == rep
        org.loc[row, "start_date"] = start or ""
        org.loc[row, "end_date"] = end or ""
    if extra:
        org = pd.concat([org, pd.DataFrame(extra).astype(str)], ignore_index=True)
    return company_from_frames(base.rules, org=org, potential=base.potential, history=base.history)


def rules(**replan) -> dict:
    spec = toy_rules(TOTAL, unit=UNIT, buffer={"rep": 1.05}, challenge={"stretch": 0.1})
    spec["seasonality"] = {"source": "history"}
    if replan:
        spec["replan"] = replan
    return spec


@pytest.fixture(scope="module")
def previous(tmp_path_factory):
    """The year as first planned (no dates), written as an allocation writes it."""
    out = tmp_path_factory.mktemp("prev")
    allocate(rules(), company()).write(out, xlsx=False)
    return out / "targets.csv"


def lines(path_or_text, periods) -> list[str]:
    text = Path(path_or_text).read_text() if isinstance(path_or_text, Path) else path_or_text
    rows = text.splitlines()
    return [r for r in rows[1:] if r.split(",")[3] in periods]


def table(result: Replanned) -> pd.DataFrame:
    return result.targets.set_index(["rep_id", "period", "product"])["target"]


def prev_table(path: Path) -> pd.Series:
    return pd.read_csv(path).set_index(["rep_id", "period", "product"])["target"]


def csv_text(result: Replanned, tmp_path: Path) -> Path:
    result.write(tmp_path, xlsx=False)
    return tmp_path / "targets.csv"


def test_a_replan_with_nothing_changed_gives_the_previous_targets_byte_for_byte(previous, tmp_path):
    result = replan(rules(), company(), "2027-07", previous)
    path = csv_text(result, tmp_path)
    assert path.read_bytes() == previous.read_bytes()
    assert result.changes.empty
    assert [n.code for n in result.notices] == ["replan-unchanged"]


def test_a_leaver_s_rest_goes_to_their_team_and_past_months_stay_byte_equal(previous, tmp_path):
    leaver = "R002"
    data = company(dates={leaver: (None, "2027-08-15")})
    result = replan(rules(leavers="team"), data, "2027-07", previous)
    path = csv_text(result, tmp_path)
    past = PERIODS[:6]
    assert lines(path, past) == lines(previous, past)
    new, old = table(result), prev_table(previous)
    # After the month they leave: nothing; the month they leave: its days in the org.
    assert new.loc[leaver].loc[PERIODS[8:]].sum() == 0
    aug = old.loc[(leaver, "2027-08")].sum()
    assert new.loc[(leaver, "2027-08")].sum() == pytest.approx(
        round(aug / UNIT * 15 / 31) * UNIT, abs=len(data.products) * UNIT
    )
    team = result.targets.groupby("team")["target"].sum()
    before = pd.read_csv(previous).groupby("team")["target"].sum()
    assert team["North-1"] == before["North-1"]  # the team makes it up, exactly
    assert result.targets["target"].sum() == pytest.approx(TOTAL * 1.05)
    changes = result.changes
    assert set(changes.loc[changes["rep_id"] == leaver, "period"]) == set(PERIODS[7:])
    assert changes.loc[changes["rep_id"] == leaver, "reason"].str.contains("left 2027-08-15").all()
    mates = changes[(changes["team"] == "North-1") & (changes["rep_id"] != leaver)]
    assert (mates["change"] > 0).any()
    assert mates["reason"].str.contains("team North-1 makes up").all()
    assert result.summary["replan"]["leavers"] == [leaver]


def test_a_dropped_leaver_lowers_the_company_total_by_exactly_their_rest(previous):
    leaver = "R006"
    data = company(dates={leaver: (None, "2027-09-30")})
    result = replan(rules(leavers="drop"), data, "2027-07", previous)
    old = prev_table(previous)
    gone = old.loc[leaver].loc[PERIODS[9:]].sum()
    assert result.targets["target"].sum() == pytest.approx(TOTAL * 1.05 - gone)
    assert result.summary["replan"]["dropped"] == pytest.approx(gone)
    assert (
        table(result).loc[leaver].loc[PERIODS[:9]].sum() == old.loc[leaver].loc[PERIODS[:9]].sum()
    )


def test_open_headcount_takes_over_a_leaver_s_rest(previous):
    hire = {
        "rep_id": "OPEN-1", "name": "open", "region": "North", "team": "North-2", "role": "rep",
        "tenure_months": 0, "capacity": 1e12, "target_incentive": 10000.0,
        "start_date": "2027-10-01", "end_date": "", "open_headcount": "true",
    }  # fmt: skip
    data = company(dates={"R007": (None, "2027-09-30")}, extra=[hire])
    result = replan(rules(leavers="open_headcount"), data, "2027-07", previous)
    old, new = prev_table(previous), table(result)
    gone = old.loc["R007"].loc[PERIODS[9:]].sum()
    assert new.loc["OPEN-1"].sum() == pytest.approx(gone)
    assert new.loc["OPEN-1"].loc[PERIODS[:9]].sum() == 0
    assert result.targets["target"].sum() == pytest.approx(TOTAL * 1.05)
    assert "OPEN-1" in result.summary["replan"]["joiners"]


def test_relief_lowers_exactly_what_is_declared(previous):
    relief = [
        {"rep_id": "R003", "months": ["2027-08", "2027-09"], "share": 1.0,
         "reason": "parental leave"},
        {"rep_id": "R005", "months": ["2027-10"], "amount": 2000, "reason": "accounts to R006"},
    ]  # fmt: skip
    result = replan(rules(relief=relief), company(), "2027-07", previous)
    old, new = prev_table(previous), table(result)
    assert new.loc["R003"].loc[["2027-08", "2027-09"]].sum() == 0
    assert new.loc[("R005", "2027-10")].sum() == old.loc[("R005", "2027-10")].sum() - 2000
    dropped = old.loc["R003"].loc[["2027-08", "2027-09"]].sum() + 2000
    assert result.targets["target"].sum() == pytest.approx(TOTAL * 1.05 - dropped)
    reasons = result.changes.set_index(["rep_id", "period"])["reason"]
    assert reasons[("R003", "2027-08")] == "relief: parental leave (100% of the month, dropped)"
    assert "accounts to R006" in reasons[("R005", "2027-10")]


def test_relief_made_up_by_the_team_keeps_the_team_total(previous):
    relief = [{"rep_id": "R001", "months": ["2027-11"], "share": 0.5, "reason": "training",
               "to": "team"}]  # fmt: skip
    result = replan(rules(relief=relief), company(), "2027-07", previous)
    old = prev_table(previous)
    nov = old.loc[("R001", "2027-11")]
    assert table(result).loc[("R001", "2027-11")].sum() == pytest.approx(
        nov.sum() - (np.floor(nov / UNIT * 0.5 + 0.5) * UNIT).sum()
    )
    team = result.targets.groupby("team")["target"].sum()
    before = pd.read_csv(previous).groupby("team")["target"].sum()
    assert team["North-1"] == before["North-1"]
    assert result.targets["target"].sum() == pytest.approx(TOTAL * 1.05)


def test_a_joiner_ramps_from_their_start_date(previous):
    hire = {
        "rep_id": "R100", "name": "new", "region": "North", "team": "North-1", "role": "rep",
        "tenure_months": 0, "capacity": 1e12, "target_incentive": 10000.0,
        "start_date": "2027-09-01", "end_date": "", "open_headcount": "false",
    }  # fmt: skip
    spec = rules()
    spec["rules"] = [{"name": "ramp", "type": "ramp", "steps": [{"tenure_below": 2, "share": 0.5}]}]
    data = company(extra=[hire])
    base = allocate(spec, company())
    prev = base.targets
    result = replan(spec, data, "2027-07", prev)
    new = table(result).loc["R100"].groupby(level="period").sum()
    assert new.loc[PERIODS[:8]].sum() == 0
    assert (new.loc[PERIODS[8:]] > 0).all()
    # The first two months at half a full month: the profile weighs September 2, October
    # and November 1 (within a unit per product).
    full = new.loc["2027-11"]
    assert new.loc["2027-10"] == pytest.approx(full / 2, abs=2 * UNIT)
    assert new.loc["2027-09"] == pytest.approx(full, abs=2 * UNIT)
    assert result.targets["target"].sum() == pytest.approx(TOTAL * 1.05)
    assert "R100" in result.summary["replan"]["joiners"]


def test_the_cli_writes_the_replan_and_its_explanation(tmp_path, previous):
    import yaml

    from attain.sample import write_sample

    del previous
    data = tmp_path / "co"
    write_sample(data, n_reps=30, seed=3)
    spec = tmp_path / "rules.yaml"
    spec.write_text(yaml.safe_dump(toy_rules(3_000_000.0, unit=1000.0)))
    first = tmp_path / "first"
    assert main(["allocate", str(spec), "--data", str(data), "--out", str(first)]) == 0
    rep = pd.read_csv(first / "targets.csv")["rep_id"].iloc[0]
    with_relief = yaml.safe_load(spec.read_text())
    with_relief["replan"] = {
        "relief": [{"rep_id": str(rep), "months": ["2027-07"], "share": 1, "reason": "leave"}]
    }
    spec.write_text(yaml.safe_dump(with_relief))
    out = tmp_path / "july"
    argv = ["allocate", str(spec), "--data", str(data), "--replan-from", "2027-07",
            "--targets", str(first / "targets.csv"), "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    changes = pd.read_csv(out / "replan.csv")
    assert list(changes.columns[:1]) == ["rep_id"]
    assert {"period", "old_target", "new_target", "change", "actual", "reason"} <= set(changes)
    row = changes[(changes["rep_id"] == rep) & (changes["period"] == "2027-07")].iloc[0]
    assert row["new_target"] == 0 and row["reason"].startswith("relief: leave")
    # A re-plan month of another year, and a re-plan without the previous targets: exit 2.
    bad = tmp_path / "bad"
    assert main([*argv[:6], "2026-07", *argv[7:-1], str(bad)]) == 2
    assert main(["allocate", str(spec), "--data", str(data), "--replan-from", "2027-07",
                 "--out", str(bad)]) == 2  # fmt: skip
    assert not bad.exists()


def test_bad_replan_input_is_located(previous):
    with pytest.raises(InputError, match="not a month of fiscal year 2027"):
        replan(rules(), company(), "2028-01", previous)
    relief = [{"rep_id": "R001", "months": ["2027-03"], "share": 1.0, "reason": "x"}]
    with pytest.raises(RuleFileError, match="before the re-plan month"):
        replan(rules(relief=relief), company(), "2027-07", previous)
    relief = [{"rep_id": "R999", "months": ["2027-08"], "share": 1.0, "reason": "x"}]
    with pytest.raises(RuleFileError, match="R999"):
        replan(rules(relief=relief), company(), "2027-07", previous)
    relief = [{"rep_id": "R001", "months": ["2027-08"], "amount": 1e9, "reason": "x"}]
    with pytest.raises(RuleFileError, match="more than"):
        replan(rules(relief=relief), company(), "2027-07", previous)
    other_year = previous.read_text().replace("2027-", "2026-")
    frame = pd.read_csv(io.StringIO(other_year), dtype=str)
    with pytest.raises(DataError, match="fiscal year 2027"):
        replan(rules(), company(), "2027-07", frame)
    with pytest.raises(RuleFileError, match="no open headcount"):
        replan(rules(leavers="open_headcount"), company(dates={"R001": (None, "2027-08-31")}),
               "2027-07", previous)  # fmt: skip


@st.composite
def changes(draw):
    n_reps = draw(st.integers(4, 10))
    month = draw(st.integers(2, 11))
    leaver = draw(st.none() | st.integers(0, n_reps - 1))
    dates = {}
    if leaver is not None:
        end = draw(st.integers(month, 12))
        dates[f"R{leaver + 1:03d}"] = (
            None,
            f"2027-{end:02d}-{draw(st.sampled_from([10, 28])):02d}",
        )
    relief = []
    if draw(st.booleans()):
        rep = draw(st.integers(0, n_reps - 1))
        k = draw(st.integers(month, 12))
        relief.append({"rep_id": f"R{rep + 1:03d}", "months": [f"2027-{k:02d}"],
                       "share": draw(st.sampled_from([0.25, 1.0])), "reason": "r", "to": "team"})  # fmt: skip
    seed = draw(st.integers(0, 50))
    return n_reps, month, dates, relief, seed


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes())
@example((8, 11, {}, [{"rep_id": "R004", "months": ["2027-11"], "share": 1.0, "reason": "r",
                       "to": "team"}], 43))  # fmt: skip
def test_a_replan_keeps_the_past_and_adds_up_to_the_company_total(case):
    # The example: a past month's challenge took one of the rep's spare units (6,800 →
    # 6,900) when their open months' challenge could not hold them all.
    n_reps, month, dates, relief, seed = case
    first = allocate(rules(), company(n_reps, seed))
    data = company(n_reps, seed, dates=dates or None)
    result = replan(rules(leavers="team", relief=relief), data, PERIODS[month - 1], first.targets)
    old, new = first.targets, result.targets
    past = old["period"].isin(PERIODS[: month - 1])
    key = ["rep_id", "period", "product", "target", "challenge"]
    assert (
        old.loc[past, key]
        .reset_index(drop=True)
        .equals(new.loc[new["period"].isin(PERIODS[: month - 1]), key].reset_index(drop=True))
    )
    # Nothing is dropped: the year adds up to the company target × the rep buffer.
    assert new["target"].sum() == pytest.approx(TOTAL * 1.05, abs=1e-6)
    assert np.allclose(new["target"] / UNIT, np.round(new["target"] / UNIT))
    teams = new.groupby("team")["target"].sum()
    before = old.groupby("team")["target"].sum()
    for team in set(result.changes.loc[result.changes["reason"].str.contains("made up|makes up"),
                                       "team"]):  # fmt: skip
        assert teams[team] == pytest.approx(before[team])


def test_a_leaver_s_growth_floor_no_longer_binds():
    """A floor on growth cannot be owed by a rep who leaves in August: the re-plan
    loosens it (a warning says so) instead of finding the rules in conflict."""
    spec = rules(leavers="team")
    spec["rules"] = [{"name": "floor", "type": "growth", "min": -0.02}]
    first = allocate({k: v for k, v in spec.items() if k != "replan"}, company())
    data = company(dates={"R004": (None, "2027-08-31")})
    result = replan(spec, data, "2027-07", first.targets)
    assert table(result).loc["R004"].loc[PERIODS[8:]].sum() == 0
    assert "replan-rules-loosened" in [n.code for n in result.notices]


# --- expense budgets and activity targets: the past is held ------------------------------


def budget_rules(**replan) -> dict:
    spec = rules(**replan)
    spec["expenses"] = {"rate": 0.06, "levels": ["team", "rep"], "max_rate": {"rep": 0.09}}
    spec["activities"] = {
        "funnel": [
            {"name": "visits", "to": "opportunities", "rate": 0.3},
            {"name": "opportunities", "to": "deals", "rate": 0.25},
            {"name": "deals", "to": "revenue"},
        ],
        "average_deal": 2_000,
    }
    return spec


@pytest.fixture(scope="module")
def previous_budgets(tmp_path_factory):
    out = tmp_path_factory.mktemp("prev_budgets")
    allocate(budget_rules(), company()).write(out, xlsx=False)
    return out


def _cents(frame: pd.DataFrame) -> pd.Series:
    key = ["level", "unit", "period"]
    return (frame.set_index(key)["expense_budget"].astype(float) * 100).round().astype(np.int64)


def test_a_replan_holds_past_months_of_expense_budgets_and_weeks_of_activity_targets(
    previous_budgets, tmp_path
):
    leaver = "R002"
    data = company(dates={leaver: (None, "2027-08-15")})
    result = replan(budget_rules(leavers="team"), data, "2027-07", previous_budgets / "targets.csv")
    assert "replan-past-not-held" not in {n.code for n in result.notices}
    assert result.summary["expenses"]["held"]["months"] == 6
    # the weeks from Monday 28 December 2026 to Monday 28 June 2027 (which straddles July)
    assert result.summary["activities"]["held_weeks"] == 27
    result.write(tmp_path, xlsx=False)
    old = pd.read_csv(previous_budgets / "expense_budget.csv", dtype=str)
    new = pd.read_csv(tmp_path / "expense_budget.csv", dtype=str)
    past = old["period"].isin(PERIODS[:6])
    # past months: the same rows, to the cent, at every level
    merged = old[past].merge(new, on=["level", "unit", "period"], suffixes=("_old", "_new"))
    assert len(merged) == past.sum()
    assert (merged["expense_budget_old"] == merged["expense_budget_new"]).all()
    # every level still adds up to the company's budget (6% of the company target)
    cents = _cents(new)
    year = cents.xs("year", level="period")
    for level in ("team", "rep"):
        assert year.loc[level].sum() == year.loc["company"].sum()
    months = cents.drop("year", level="period")
    by_unit = months.groupby(level=["level", "unit"]).sum()
    assert (by_unit == year.reindex(by_unit.index)).all()  # months add up to the year
    # a leaver has no budget after their last month, and the rest moved to the others
    rep_months = months.loc["rep"].loc[leaver]
    assert rep_months.loc[PERIODS[8:]].sum() == 0
    # activity targets: every week that starts before July as it was, the rest re-split
    acts_old = pd.read_csv(previous_budgets / "activity_targets.csv", dtype=str)
    acts_new = pd.read_csv(tmp_path / "activity_targets.csv", dtype=str)
    held = acts_old["week_start"] < "2027-07-01"
    key = ["rep_id", "week", "activity"]
    a = acts_old[held].set_index(key)["target"]
    b = acts_new.set_index(key)["target"].reindex(a.index)
    assert (a == b).all()
    totals = result.summary["activities"]["totals"]
    counts = acts_new.astype({"target": int}).groupby("activity")["target"].sum()
    assert {k: int(v) for k, v in counts.items()} == totals


def test_without_the_previous_budget_files_the_past_is_split_again_with_a_warning(
    previous_budgets, tmp_path
):
    frame = pd.read_csv(previous_budgets / "targets.csv")
    result = replan(budget_rules(), company(), "2027-07", frame)
    warned = [n for n in result.notices if n.code == "replan-past-not-held"]
    assert len(warned) == 2  # both files: a frame has no folder beside it
    given = replan(
        budget_rules(),
        company(),
        "2027-07",
        frame,
        previous_expenses=previous_budgets / "expense_budget.csv",
        previous_activities=previous_budgets / "activity_targets.csv",
    )
    assert "replan-past-not-held" not in {n.code for n in given.notices}


def test_activity_targets_fall_only_on_a_leaver_s_and_a_joiner_s_days_in_the_org(tmp_path):
    data = company(dates={"R002": (None, "2027-08-15"), "R005": ("2027-03-10", None)})
    result = allocate(budget_rules(), data)
    acts = result.activity_targets.astype({"rep_id": str, "week_start": str, "activity": str})
    leaver = acts[acts["rep_id"] == "R002"]
    after = leaver["week_start"] > "2027-08-15"
    assert leaver.loc[after, "target"].sum() == 0 and leaver.loc[after, "revenue_target"].sum() == 0
    joiner = acts[acts["rep_id"] == "R005"]
    before = joiner["week_start"] < "2027-03-03"  # weeks ending before 10 March
    assert joiner.loc[before, "revenue_target"].sum() == 0
    # August's target is all on its first 15 days: the weeks hold January to August
    targets = result.targets[result.targets["rep_id"] == "R002"]
    held = targets[targets["period"] <= "2027-08"]["target"].sum()
    weekly = leaver[leaver["activity"] == "deals"]["revenue_target"].sum()
    assert weekly == pytest.approx(held, abs=1)
    aug = leaver[(leaver["activity"] == "deals") & (leaver["week_start"] == "2027-08-09")]
    aug_target = targets[targets["period"] == "2027-08"]["target"].sum()
    assert aug["revenue_target"].iloc[0] == pytest.approx(aug_target * 7 / 15, abs=0.01)

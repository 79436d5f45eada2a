"""Levers read from the first fairness level (the worst gap) and from the last level (the mean
gap, the earlier levels held): hand-worked duals, checked by re-solving, and on the sample."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from attain.allocate import allocate
from attain.allocate.toy import toy_company
from attain.allocate.toy import toy_rules as rules

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules" / "allocation_fy27.yaml"
DATA = ROOT / "scenarios" / "sample"


CAPACITY = {"name": "cap", "type": "capacity", "level": "rep"}


def growth_case(max_growth=0.25):
    """Fair 100 each (total 400); rep 1's capacity is 60; rep 2 (last year 64) grows ≤ 25%."""
    company = toy_company(
        [100, 100, 100, 100], last_year=[100, 64, 100, 100], capacity=[60, 1e9, 1e9, 1e9]
    )
    growth = {"name": "r2_growth", "type": "growth", "where": {"rep_id": "R002"},
              "max": max_growth}  # fmt: skip
    return allocate(rules(400, CAPACITY, growth), company)


def floor_case(floor=270.0):
    """Fair 100, 200, 100, 100 (total 500); rep 1's capacity is 60; rep 2 carries ≥ 270."""
    company = toy_company([100, 200, 100, 100], capacity=[60, 1e9, 1e9, 1e9])
    bounds = {"name": "r2_floor", "type": "bounds", "where": {"rep_id": "R002"}, "min": floor}
    return allocate(rules(500, CAPACITY, bounds), company)


def reps(result) -> pd.DataFrame:
    return result.explain[result.explain["level"] == "rep"].set_index("unit")


def test_growth_cap_off_the_worst_gap_is_a_mean_gap_lever():
    """Rep 1 can carry at most 60: a gap of 40%, the worst, whatever the others do. Minimax
    lets reps 2–4 sit anywhere in [60, 140]; rep 2's cap is 1.25 × 64 = 80.

    Worst gap: one more point of capacity (0.6) lifts rep 1 to 60.6, a gap of 39.4%: −0.006.
    Rep 2's cap does not touch the worst gap: no lever there.

    Mean gap, 40% held: rep 1 = 60; reps 3 and 4 carry 340 − T2 ≥ 260 > 200, both above
    fair, so 4 × mean gap = 0.4 + (100 − T2)/100 + (240 − T2)/100 = 2.8 − T2/50, least at the
    cap, T2 = 80: 80, 260 for reps 3 and 4 (any split within [100, 140]), mean gap 0.3.
    One more point of rep 2's growth cap is 1% of last year, 0.64: rep 2 takes 0.64 off
    reps 3 and 4, both gaps shrink by 0.64/100, so the mean gap falls by
    2 × 0.0064 / 4 = 0.0032 per point.
    """
    result = growth_case()
    assert result.summary["objectives"] == pytest.approx({"minimax": 0.4, "l1": 0.3})
    rep = reps(result)
    assert rep.loc["R002", "binding_rules"] == "r2_growth"
    assert rep.loc["R002", "top_lever"] == ""
    assert rep.loc["R002", "lever_per_point"] == 0
    assert rep.loc["R002", "last_lever"] == "r2_growth"
    assert rep.loc["R002", "last_lever_per_point"] == pytest.approx(-0.0032, rel=1e-6)
    assert rep.loc["R001", "top_lever"] == "cap"
    assert rep.loc["R001", "lever_per_point"] == pytest.approx(-0.006, rel=1e-6)
    # Rep 1 is pinned by the held worst gap too (the held row and its cap share the dual):
    # its cap is a lever for the mean gap, at least the 0.003 a point of it is worth.
    assert rep.loc["R001", "last_lever"] == "cap"
    assert rep.loc["R001", "last_lever_per_point"] <= -0.003 + 1e-9
    assert (rep.loc[["R003", "R004"], "last_lever"] == "").all()
    row = result.rules.set_index("rule").loc["r2_growth"]
    assert row["worth_per_point"] == pytest.approx(0.0, abs=1e-12)
    assert row["last_worth_per_point"] == pytest.approx(-0.0032, rel=1e-6)


def test_growth_lever_matches_a_re_solve():
    """Relax rep 2's cap by a tenth of a point and solve again: the worst gap stays 40% (so
    re-solving is the same as holding it), and the mean gap moves by 0.1 × the lever."""
    eps = 0.001  # growth is a fraction: 0.1 point
    base, relaxed = growth_case(), growth_case(0.25 + eps)
    assert relaxed.summary["objectives"]["minimax"] == pytest.approx(0.4, rel=1e-9)
    diff = relaxed.summary["objectives"]["l1"] - base.summary["objectives"]["l1"]
    per_point = diff / (eps / 0.01)
    assert per_point == pytest.approx(-0.0032, rel=1e-6)
    assert reps(base).loc["R002", "last_lever_per_point"] == pytest.approx(per_point, rel=1e-6)


def test_floor_off_the_worst_gap_is_a_mean_gap_lever():
    """A lower bound: fair 100, 200, 100, 100 (total 500); rep 1 ≤ 60 (gap 40%, the worst);
    rep 2 ≥ 270 (gap 35%).

    Mean gap, 40% held: rep 1 = 60; reps 3 and 4 share 440 − T2 ≤ 170, both below fair, so
    4 × mean gap = 0.4 + (T2 − 200)/200 + (T2 − 240)/100, least at the floor, T2 = 270:
    0.4 + 0.35 + 0.30, a mean gap of 0.2625. One point lower floor is 2.7 less on rep 2
    (−2.7/200 of its gap) and 2.7 more on reps 3 and 4 (−2.7/100 of theirs): the mean gap
    falls by (0.0135 + 0.027) / 4 = 0.010125. The worst gap does not move: no first-level
    lever.
    """
    result = floor_case()
    assert result.summary["objectives"] == pytest.approx({"minimax": 0.4, "l1": 0.2625})
    rep = reps(result)
    assert rep.loc["R002", "top_lever"] == ""
    assert rep.loc["R002", "last_lever"] == "r2_floor"
    assert rep.loc["R002", "last_lever_per_point"] == pytest.approx(-0.010125, rel=1e-6)
    # Re-solved with the floor a tenth of a point (0.27) lower.
    relaxed = floor_case(270.0 - 0.1 * 2.7)
    diff = relaxed.summary["objectives"]["l1"] - result.summary["objectives"]["l1"]
    assert diff / 0.1 == pytest.approx(-0.010125, rel=1e-6)


def test_one_level_objective_has_no_second_lever():
    """With one objective level the first level is the last: its lever is not repeated."""
    company = toy_company([100, 100, 200], capacity=[1e9, 1e9, 150])
    result = allocate(rules(400, CAPACITY, objective=["minimax"]), company)
    rep = reps(result)
    assert rep.loc["R003", "top_lever"] == "cap"
    assert rep.loc["R003", "lever_per_point"] == pytest.approx(-0.0075, rel=1e-6)
    assert (rep["last_lever"] == "").all()
    assert rep["last_lever_per_point"].isna().all()
    assert np.isnan(result.rules.set_index("rule").loc["cap", "last_worth_per_point"])


def test_written_columns(tmp_path):
    growth_case().write(tmp_path, xlsx=False)
    explain = pd.read_csv(tmp_path / "explain.csv", keep_default_na=False)
    columns = list(explain.columns)
    i = columns.index("top_lever")
    assert columns[i : i + 4] == [
        "top_lever", "lever_per_point", "last_lever", "last_lever_per_point",
    ]  # fmt: skip
    rep2 = explain.set_index("unit").loc["R002"]
    assert rep2["last_lever"] == "r2_growth"
    assert float(rep2["last_lever_per_point"]) == -0.0032


@pytest.fixture(scope="module")
def sample():
    return allocate(RULES, DATA)


def test_sample_mean_gap_levers_explain_more_reps(sample):
    """On the shipped rules the worst gap is set by a handful of reps; the mean-gap level
    gives a lever to more of them, and every lever is a rule that binds its rep."""
    rep = sample.explain[sample.explain["level"] == "rep"]
    worst = rep["lever_per_point"] < 0
    mean = rep["last_lever_per_point"] < 0
    assert mean.sum() > worst.sum() >= 1
    assert (rep["lever_per_point"] <= 0).all() and (rep["last_lever_per_point"] <= 0).all()
    for column, on in (("top_lever", rep["lever_per_point"] != 0),
                       ("last_lever", rep["last_lever_per_point"] != 0)):  # fmt: skip
        assert (rep.loc[on, column] != "").all()
        assert (rep.loc[~on, column] == "").all()
        for lever, binding in zip(rep.loc[on, column], rep.loc[on, "binding_rules"], strict=True):
            assert lever in binding.split(";")
    # analytics_push binds every rep but only moves the product mix: its last-level dual is
    # the product tie-break's, which is no lever.
    assert "analytics_push" not in set(rep["last_lever"])
    # Per rule, the last level's worth adds up its rows like the first level's.
    rules = sample.rules.set_index("rule")
    assert rules.loc["new_hire_ramp", "last_worth_per_point"] < 0
    assert rules.loc["analytics_push", "last_worth_per_point"] == 0

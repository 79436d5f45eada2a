"""Every roll-up of an allocation adds up exactly: children to parents, months to years,
products to their targets; held values stay exact; any accepted buffer works; a result
that is silently zero carries a warning."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attain.allocate import allocate
from attain.allocate.toy import toy_company, toy_rules
from attain.cli.main import main
from attain.errors import RuleFileError

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "scenarios" / "sample"
RULES = ROOT / "rules"


def level_targets(result, level: str) -> pd.Series:
    frame = result.levels[level]
    return frame.set_index(level if level in frame else "unit")["target"]


def units(series: pd.Series, unit: float) -> pd.Series:
    return np.rint(series / unit).astype(np.int64)


def rep_totals(result) -> pd.DataFrame:
    return result.targets.groupby(["region", "team", "rep_id"], sort=True)["target"].sum()


def check_rollups(result, buffer: dict[str, float], total: float, unit: float) -> None:
    """The invariants of a rounded allocation, at every level."""
    t = result.targets
    assert np.allclose(t["target"] / unit, np.round(t["target"] / unit))
    # In whole units, so the sums are exact integers, not floats of cents.
    t = t.assign(target=np.rint(t["target"] / unit).astype(np.int64))
    reps = t.groupby(["region", "team", "rep_id"], sort=True)["target"].sum()
    order = ("company", "region", "team", "rep")
    b = {lv: buffer.get(lv, 1.0) for lv in order}
    for level in order:
        # On the decimals as written, half up (99,999,999.99 × 1.5 at 0.01 is a tie).
        exact = Decimal(repr(total)) * Decimal(repr(b[level])) / Decimal(repr(unit))
        expected = int(exact.to_integral_value(rounding=ROUND_HALF_UP))
        got = reps.sum() if level == "rep" else units(level_targets(result, level), unit).sum()
        assert got == expected, level
    teams = units(level_targets(result, "team"), unit)
    regions = units(level_targets(result, "region"), unit)
    region_of_team = reps.groupby(level=["region", "team"]).sum().reset_index()
    region_of_team = region_of_team.set_index("team")["region"]
    pairs = (
        ("region", "company", regions.groupby(lambda _: "company").sum(), None),
        ("team", "region", teams.groupby(region_of_team).sum(), regions),
        ("rep", "team", reps.groupby(level="team").sum(), teams),
    )
    for child, parent, sums, parents in pairs:
        if b[child] != b[parent]:
            continue
        if parents is None:
            parents = units(level_targets(result, "company"), unit)
        assert sums.sort_index().tolist() == parents.sort_index().tolist(), (
            f"{child}s do not add up to their {parent}"
        )


@st.composite
def problems(draw):
    n_reps = draw(st.integers(2, 14))
    n_products = draw(st.integers(1, 3))
    n_regions = draw(st.integers(1, min(3, n_reps)))
    region = [i % n_regions for i in range(n_reps)]
    teams = [f"T{r}{i % 2 if n_reps > 4 else 0}" for i, r in enumerate(region)]
    potential = draw(
        st.lists(
            st.lists(st.floats(1, 1000), min_size=n_products, max_size=n_products),
            min_size=n_reps,
            max_size=n_reps,
        )
    )
    buffer_value = st.sampled_from([0.5, 0.95, 1.0, 1.0, 1.03, 1.1, 1.5, 2.0])
    buffer = {lv: draw(buffer_value) for lv in ("region", "team", "rep") if draw(st.booleans())}
    unit = draw(st.sampled_from([0.01, 1.0, 7.0, 100.0, 1000.0]))
    total = draw(st.sampled_from([1_000_000.0, 123_456_789.0, 99_999_999.99, 340_000_001.0]))
    held = draw(st.booleans()) and n_regions > 1
    company = toy_company(potential, regions=[f"R{r}" for r in region], teams=teams, products=None)
    rules = []
    if held:
        # Region R0 held at exactly a whole number of units near its fair share.
        share = sum(map(sum, potential[0::n_regions])) / sum(map(sum, potential))
        amount = round(total * buffer.get("region", 1.0) * share / unit / 2) * unit
        rules.append(
            {
                "name": "held",
                "type": "bounds",
                "level": "region",
                "where": {"region": "R0"},
                "min": amount,
                "max": amount,
            }  # fmt: skip
        )
    if draw(st.booleans()):
        # A floor on one rep, outside the held region (which holds only half its fair
        # share and could not also carry the floor): any amount in cents, or whole units.
        floor = round(draw(st.floats(0.05, 0.5)) * total / n_reps, 2)
        if draw(st.booleans()):
            floor = round(floor / unit) * unit
        rep = "R002" if held else "R001"
        rules.append({"name": "floor", "type": "bounds", "where": {"rep_id": rep},
                      "min": floor})  # fmt: skip
    spec = toy_rules(total, *rules, unit=unit, buffer=buffer)
    if n_products > 1 and draw(st.booleans()):
        # A target per product instead of a total (the same sum).
        weights = draw(st.lists(st.integers(1, 5), min_size=n_products, max_size=n_products))
        parts = [round(total * w / sum(weights), 2) for w in weights[:-1]]
        parts.append(round(total - sum(parts), 2))
        names = [f"p{i + 1}" for i in range(n_products)]
        spec["company_target"] = {"by_product": dict(zip(names, parts, strict=True))}
    return company, spec, buffer, total, unit


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_every_rollup_adds_up_exactly(problem):
    company, rules, buffer, total, unit = problem
    result = allocate(rules, company)
    check_rollups(result, buffer, total, unit)
    for rule in rules["rules"]:
        if rule["name"] == "held":
            held = level_targets(result, "region")["R0"]
            assert held == pytest.approx(rule["min"], abs=unit * 1e-6)
    floors = [r for r in rules["rules"] if r["name"] == "floor"]
    for rule in floors:  # a floor rounds up, never down
        assert result.rep_totals()[rule["where"]["rep_id"]] >= rule["min"] - 1e-6
    by_product = rules["company_target"].get("by_product")
    if by_product:
        b_rep = buffer.get("rep", 1.0)
        t = result.targets.assign(target=units(result.targets["target"], unit))
        sums = t.groupby("product")["target"].sum()
        for product, amount in by_product.items():
            assert abs(sums[product] - amount * b_rep / unit) < 1 + 1e-6, product


@pytest.mark.parametrize("buffer", [{"team": 1.1}, {"rep": 0.95}, {"region": 0.5, "team": 2}])
def test_any_accepted_buffer_rounds(buffer, sample_company):
    """Before: `apportion: group totals are not reachable by rounding` (exit 1) on an odd
    total (123,456,789) with a team buffer of 1.1 or a rep buffer of 0.95."""
    rules = toy_rules(123_456_789, unit=None, buffer=buffer)
    result = allocate(rules, sample_company)
    check_rollups(result, buffer, 123_456_789, 0.01)


def test_by_product_teams_add_up_to_their_region(sample_company):
    """Before: Central's teams added up to 58,649,500 against its 58,650,000."""
    result = allocate(RULES / "allocation_by_product.yaml", sample_company)
    reps = rep_totals(result)
    teams = level_targets(result, "team")
    regions = level_targets(result, "region")
    region_of_team = reps.groupby(level=["region", "team"]).sum().reset_index()
    sums = teams.groupby(region_of_team.set_index("team")["region"]).sum()
    assert sums.to_dict() == regions.to_dict()
    assert regions["Central"] == 58_650_000
    by_product = result.targets.groupby("product")["target"].sum()
    wanted = {"core": 160e6, "cloud": 85e6, "services": 68e6, "analytics": 32e6}
    for product, amount in wanted.items():
        assert abs(by_product[product] - amount * 1.04) <= 500
    assert by_product.sum() == 345_000_000 * 1.04


def test_a_held_region_is_exact(tmp_path, sample_company):
    """Before: East held at exactly 60,000,000 came out 60,003,000."""
    rules = (RULES / "allocation_fy27.yaml").read_text()
    held = tmp_path / "held.yaml"
    held.write_text(
        rules.replace(
            "  - name: east_share\n    type: share\n    level: region\n"
            "    where: {region: East}\n    min: 0.15\n",
            "  - name: east_held\n    type: bounds\n    level: region\n"
            "    where: {region: East}\n    min: 60_000_000\n    max: 60_000_000\n",
        )
    )
    result = allocate(held, sample_company)
    assert level_targets(result, "region")["East"] == 60_000_000
    check_rollups(result, {"region": 1.0, "team": 1.03, "rep": 1.05}, 340e6, 1000)


def test_a_floor_that_eats_the_total_warns(tmp_path, sample_dir, capsys):
    """Before: 190 of the 300 reps got a zero target without a word (the 109 seniors
    at 917,000 take 99,953,000 of the 100,000,000)."""
    rules = tmp_path / "floor.yaml"
    rules.write_text(
        "kind: allocation\ncompany_target: {total: 100_000_000}\nrounding: {unit: 1000}\n"
        "rules:\n  - {name: senior_floor, type: bounds, where: {role: senior_rep}, "
        "min: 917_000}\n"
    )
    out = tmp_path / "out"
    assert main(["allocate", str(rules), "--data", str(sample_dir), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    zero = int((pd.read_csv(out / "targets.csv").groupby("rep_id")["target"].sum() == 0).sum())
    assert zero == 190
    [warning] = [w for w in summary["warnings"] if w["code"] == "zero-targets"]
    assert warning["count"] == zero
    assert warning["source"] == "senior_floor"
    assert f"warning: senior_floor: {zero} of 300 reps get a zero target" in err
    assert "[zero-targets]" in err


def test_a_coarse_rounding_unit_warns(sample_company):
    rules = toy_rules(340_000_000, unit=100_000_000)
    result = allocate(rules, sample_company)
    [notice] = result.notices
    assert notice.code == "zero-targets-rounded"
    assert notice.count == int((result.rep_totals() == 0).sum()) > 250
    assert result.summary["warnings"][0]["code"] == "zero-targets-rounded"


def test_a_plain_run_has_no_warnings(sample_company):
    result = allocate(RULES / "allocation_fy27.yaml", sample_company)
    assert result.notices == []
    assert result.summary["warnings"] == []


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("company_target: {total: 1.0e+308}", "company_target.total: must be at most 1e+13"),
        (
            "company_target: {total: 340_000_000}\nrounding: {unit: 1_000_000_000}",
            "rounding.unit: the rounding unit 1,000,000,000 is more than twice",
        ),
        (
            "company_target: {total: 340_000_000}\nrules:\n  - {type: capacity, scale: 1.0e+300}",
            "rules[0].scale: must be at most 1000",
        ),
        (
            "company_target: {total: 340_000_000}\nrules:\n  - {type: bounds, max: 1.0e+308}",
            "rules[0].max: must be at most 1e+13",
        ),
    ],
)
def test_degenerate_targets_exit_2_at_their_line(tmp_path, sample_dir, capsys, text, where):
    """Before: a 1e308 total gave exit 4 (kModelEmpty); a unit of 1e9 every target 0, exit 0."""
    rules = tmp_path / "bad.yaml"
    rules.write_text(f"kind: allocation\n{text}\n")
    out = tmp_path / "out"
    assert main(["allocate", str(rules), "--data", str(sample_dir), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{rules}:" in err and where in err
    assert "Traceback" not in err
    assert not out.exists()


def test_names_and_schema_errors_come_in_one_pass(tmp_path, sample_dir, capsys):
    """Every bad name, each at its own key or list item, the value said once."""
    rules = tmp_path / "typos.yaml"
    rules.write_text(
        "kind: allocation\n"
        "company_target: {total: 340_000_000}\n"
        "buffer: {teem: 1.02}\n"
        "rules:\n"
        "  - {type: bounds, level: regoin, max: 1.0e+9}\n"
        "  - {type: bounds, where: {region: Eest, rol: rep, team: [East-01, Esat-2]}, max: 1.0e+9}\n"
        "  - {type: growth, product: clowd, min: -0.5}\n"
        "  - type: bounds\n"
        "    maks: 100\n"
    )
    out = tmp_path / "out"
    assert main(["allocate", str(rules), "--data", str(sample_dir), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    expected = [
        ":3:16: buffer.teem: unknown level `teem` (did you mean `team`?); "
        "levels: company, region, rep, team [unknown-name]",
        ":5:27: rules[0].level: unknown level `regoin` (did you mean `region`?); "
        "levels: company, region, rep, team [unknown-name]",
        ":6:36: rules[1].where.region: no region `Eest` in the org table "
        "(did you mean `East`?) [unknown-name]",
        ":6:47: rules[1].where.rol: no column `rol` in the org table (did you mean `role`?); "
        "columns: rep_id, name, region, team, role, tenure_months, capacity, target_incentive "
        "[unknown-name]",
        ":6:68: rules[1].where.team[1]: no team `Esat-2` in the org table "
        "(did you mean `East-02`?) [unknown-name]",
        ":7:29: rules[2].product: unknown product `clowd` (did you mean `cloud`?); "
        "the company's products are: core, cloud, services, analytics [unknown-name]",
        ":9:5: rules[3].maks: unknown key [extra_forbidden]",
        "  hint: did you mean `max`?",
        "7 problems",
    ]
    assert err.splitlines() == [f"{rules}{line}" if line[0] == ":" else line for line in expected]
    assert main(["validate", str(rules), "--data", str(sample_dir)]) == 2
    assert capsys.readouterr().err == err


def test_names_are_checked_for_rules_built_in_python(sample_company):
    rules = toy_rules(1000, {"type": "bounds", "where": {"region": "Eest"}, "max": 10})
    with pytest.raises(RuleFileError) as info:
        allocate(rules, sample_company)
    [problem] = info.value.problems
    assert problem.path == "rules[0].where.region"
    assert "did you mean `East`?" in problem.message


def test_a_floor_inside_a_team_rounds_up():
    """Found by the property above: R001's floor 20,400,000.06 (unit 1) comes out at
    20,400,000, because its team T00 is rounded down first and then has no unit left to
    give it. The fix: a parent's band includes the sum of its children's rounded floors."""
    company = toy_company(
        [[1.0], [1.5], [1.0], [701.0], [4.0]],
        regions=["R0"] * 5,
        teams=["T00", "T01", "T00", "T01", "T00"],
        products=None,
    )
    floor = {"name": "floor", "type": "bounds", "where": {"rep_id": "R001"}, "min": 20400000.06}
    result = allocate(toy_rules(340_000_001.0, floor, unit=1.0, buffer={}), company)
    assert result.rep_totals()["R001"] >= 20_400_001


def test_a_level_total_on_a_tie_rounds_half_up_on_the_decimals():
    """99,999,999.99 × 1.5 is 14,999,999,998.5 cents, a tie that floating point puts below
    (14,999,999,998.499998): the team level is 14,999,999,999 cents, half up."""
    company = toy_company(
        [[1.0, 1.0]] * 5,
        regions=["R0"] * 5,
        teams=["T00", "T01", "T00", "T01", "T00"],
        products=None,
    )
    buffer = {"region": 0.5, "team": 1.5}
    result = allocate(toy_rules(99_999_999.99, unit=0.01, buffer=buffer), company)
    check_rollups(result, buffer, 99_999_999.99, 0.01)
    assert units(level_targets(result, "team"), 0.01).sum() == 14_999_999_999

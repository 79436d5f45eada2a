"""The example rule file on the sample company: files written, every hard rule re-checked
from targets.csv alone, and the same inputs give the same bytes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from attain.allocate import TIMING_KEYS, allocate
from attain.allocate.build import ramp_factor
from attain.allocate.inputs import prepare
from attain.data import load_company
from attain.load import load_rules

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules" / "allocation_fy27.yaml"
DATA = ROOT / "scenarios" / "sample"


@pytest.fixture(scope="module")
def company():
    return load_company(DATA)


@pytest.fixture(scope="module")
def written(tmp_path_factory, company):
    out = tmp_path_factory.mktemp("fy27")
    result = allocate(RULES, company)
    result.write(out)
    return out, result


def test_files_and_columns(written):
    out, _ = written
    assert sorted(p.name for p in out.iterdir()) == [
        ".attain-output.json",  # written as the command writes it: one output set
        "explain.csv",
        "summary.json",
        "targets.csv",
        "targets.xlsx",
    ]
    targets = pd.read_csv(out / "targets.csv", dtype={"period": str})
    assert list(targets.columns) == [
        "rep_id", "region", "team", "period", "product", "target", "challenge",
    ]  # fmt: skip
    assert targets["period"].str.fullmatch(r"2027-\d\d").all()
    summary = json.loads((out / "summary.json").read_text())
    for key in ("status", "objective", "total_target", "company_target", "solver",
                "build_seconds", "solve_seconds", "fairness", "bent_soft_rules"):  # fmt: skip
        assert key in summary
    assert summary["status"] == "optimal"
    explain = pd.read_csv(out / "explain.csv")
    assert set(explain["level"]) == {"rep", "team", "region", "company"}


def test_workbook_has_a_sheet_per_level_and_cards(written):
    from openpyxl import load_workbook

    out, result = written
    wb = load_workbook(out / "targets.xlsx", read_only=True)
    assert wb.sheetnames == ["company", "region", "team", "rep", "cards"]
    rows = list(wb["cards"].iter_rows(max_row=16, values_only=True))
    assert rows[0][0] == "Target card: R00001"
    assert rows[1][:2] == ("period", "core")
    assert rows[14][0] == "year"
    first = result.targets[result.targets["rep_id"] == "R00001"]["target"].sum()
    assert rows[14][5] == pytest.approx(first)


def test_every_hard_rule_holds_in_targets_csv(written, company):
    """Re-check each hard rule of rules/allocation_fy27.yaml from the written file."""
    out, _ = written
    rules = load_rules(RULES)
    t = pd.read_csv(out / "targets.csv", dtype={"period": str})
    unit = rules.rounding.unit
    org = company.org.set_index("rep_id")
    # Sums exact to the rounding unit.
    assert (np.round(t["target"] / unit) * unit == t["target"]).all()
    assert (
        t["target"].sum() == round(rules.company_target.total * rules.buffer["rep"] / unit) * unit
    )
    rep = t.groupby("rep_id")["target"].sum()
    assert set(rep.index) == set(org.index[org["role"] != "manager"])
    assert (t.groupby("rep_id")["challenge"].sum() >= rep).all()
    # Hierarchy columns match the org table.
    assert (t["region"].to_numpy() == org.loc[t["rep_id"], "region"].to_numpy()).all()
    history = company.history
    last = history[history["month"].str.startswith("2026")]
    ly = last.groupby("rep_id")["sales"].sum().reindex(rep.index).fillna(0)
    tenure = org.loc[rep.index, "tenure_months"]
    # rep_growth: -5%..+35% for tenure >= 12 (rep-level bands hold exactly after rounding)
    g = (rep / ly - 1)[(tenure >= 12) & (ly > 0)]
    assert g.min() >= -0.05 - 1e-9 and g.max() <= 0.35 + 1e-9
    # rep_capacity
    assert (rep <= org.loc[rep.index, "capacity"] + 1e-6).all()
    # team_capacity: 2.0M per head on the team's (buffered) target; rounding slack 1 unit/rep
    team = t.groupby("team")["target"].sum() * 1.03 / 1.05
    heads = t.drop_duplicates("rep_id").groupby("team").size()
    assert (team <= 2_000_000 * heads + unit * heads).all()
    # east_share
    region = t.groupby("region")["target"].sum()
    assert region["East"] / region.sum() >= 0.15 - 1e-9
    # senior_floor
    seniors = org.index[(org["role"] == "senior_rep") & (org["tenure_months"] >= 24)]
    assert (rep[rep.index.isin(seniors)] >= 600_000 - 1e-6).all()
    # team_cloud_mix: 15-40% cloud per team (each rep's product split moves < 2 units)
    by_team = t.pivot_table(index="team", columns="product", values="target", aggfunc="sum")
    share = by_team["cloud"] / by_team.sum(axis=1)
    slack = 2 * unit * heads / by_team.sum(axis=1)
    assert (share >= 0.15 - slack).all() and (share <= 0.40 + slack).all()
    # analytics_push
    by_product = t.groupby("product")["target"].sum()
    assert (
        by_product["analytics"] / by_product.sum() >= 0.09 - 2 * unit * len(rep) / by_product.sum()
    )
    # new_hire_ramp: total within the ramped share of a full target
    inputs = prepare(rules, company)
    cap = pd.Series(ramp_factor(inputs) * inputs.full, index=inputs.reps["rep_id"])
    ramping = cap.index[np.any(inputs.ramp_months < 1, axis=1)]
    assert len(ramping) > 0
    assert (rep[ramping] <= cap[ramping] + 1e-6).all()
    _check_seasonality(t, last, rules, ramping, unit)
    ramp = pd.DataFrame(inputs.ramp_months, index=inputs.reps["rep_id"], columns=range(1, 13))
    _check_ramping_months(t, last, ramp.loc[ramping], unit)


def _check_seasonality(t, last, rules, ramping, unit):
    """Months within ±1 point of last year's profile; Q1 ≥ 20%, Q4 ≤ 36% (steady reps)."""
    profile = last.assign(m=last["month"].str[5:].astype(int)).pivot_table(
        index="product", columns="m", values="sales", aggfunc="sum"
    )
    profile = profile.div(profile.sum(axis=1), axis=0)
    steady = t[~t["rep_id"].isin(ramping)].copy()
    steady["m"] = steady["period"].str[5:].astype(int)
    cell = steady.pivot_table(
        index=["rep_id", "product"], columns="m", values="target", aggfunc="sum"
    )
    total = cell.sum(axis=1)
    cell = cell[total >= 100 * unit]
    total = total[total >= 100 * unit]
    shares = cell.div(total, axis=0)
    expected = profile.loc[cell.index.get_level_values("product")].to_numpy()
    slack = unit / total.to_numpy()[:, None]
    assert (np.abs(shares.to_numpy() - expected) <= 0.01 + slack + 1e-9).all()
    q1 = shares[[1, 2, 3]].sum(axis=1)
    q4 = shares[[10, 11, 12]].sum(axis=1)
    assert (q1 >= 0.20 - 3 * unit / total - 1e-9).all()
    assert (q4 <= 0.36 + 3 * unit / total + 1e-9).all()


def _check_ramping_months(t, last, ramp, unit):
    """A ramping rep's months: within ±1 point of the profile × its monthly ramp share,
    renormalised (the ramp, not the checkpoints, shapes a new hire's year)."""
    profile = last.assign(m=last["month"].str[5:].astype(int)).pivot_table(
        index="product", columns="m", values="sales", aggfunc="sum"
    )
    profile = profile.div(profile.sum(axis=1), axis=0)
    new = t[t["rep_id"].isin(ramp.index)].assign(m=lambda f: f["period"].str[5:].astype(int))
    cell = new.pivot_table(index=["rep_id", "product"], columns="m", values="target", aggfunc="sum")
    total = cell.sum(axis=1)
    keep = (total >= 100 * unit).to_numpy()
    cell, total = cell[keep], total[keep]
    assert len(cell) > 0
    weighted = (
        profile.loc[cell.index.get_level_values("product")].to_numpy()
        * ramp.loc[cell.index.get_level_values("rep_id")].to_numpy()
    )
    expected = weighted / weighted.sum(axis=1, keepdims=True)
    shares = cell.div(total, axis=0).to_numpy()
    slack = unit / total.to_numpy()[:, None]
    assert (np.abs(shares - expected) <= 0.01 + slack + 1e-9).all()


def test_same_inputs_same_bytes(written, company, tmp_path):
    """Every file is byte-identical except the timing keys of summary.json."""
    out, _ = written
    allocate(RULES, company).write(tmp_path)
    for name in ("targets.csv", "explain.csv", "targets.xlsx"):
        assert (out / name).read_bytes() == (tmp_path / name).read_bytes(), name
    a, b = (json.loads((d / "summary.json").read_text()) for d in (out, tmp_path))
    for key in TIMING_KEYS:
        a.pop(key), b.pop(key)
    assert a == b


def test_explanation_names_binding_rules_and_levers(written):
    _, result = written
    reps = result.explain[result.explain["level"] == "rep"]
    seniors = reps[reps["binding_rules"].str.contains("senior_floor", na=False)]
    assert len(seniors) >= 1
    # The worst-gap rep is held by the senior floor: its dual says what a point is worth.
    worst = seniors.loc[seniors["gap"].abs().idxmax()]
    assert worst["top_lever"] == "senior_floor"
    assert worst["lever_per_point"] < 0
    f = result.fairness
    assert 0 <= f["gini_target_to_potential"] < 1
    assert f["ratio_min"] <= 1 <= f["ratio_max"]
    assert f["n_at_ramp"] > 0


def test_json_round_trip(written):
    _, result = written
    data = json.loads(result.to_json())
    assert data["status"] == "optimal"
    assert data["total_target"] == pytest.approx(result.targets["target"].sum())


def _sheet_rows(path):
    """Every sheet of the workbook at ``path``: name → rows (values only)."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}
    finally:
        wb.close()


@pytest.mark.parametrize("limit", [30, 40, 4799])
def test_long_sheets_continue_on_more_sheets(written, tmp_path, monkeypatch, limit):
    """Past MAX_SHEET_ROWS the cards (whole cards only), rep and level sheets go on
    to ``name 2``, ``name 3``, … — within the limit, in order, with the numbers of
    targets.csv."""
    import re
    import zipfile

    from attain.allocate import xlsx

    out, result = written
    monkeypatch.setattr(xlsx, "MAX_SHEET_ROWS", limit)
    path = xlsx.write_workbook(tmp_path / "a.xlsx", result)
    assert path.read_bytes() == xlsx.write_workbook(tmp_path / "b.xlsx", result).read_bytes()
    t = pd.read_csv(out / "targets.csv", dtype={"period": str})
    reps = sorted(t["rep_id"].unique())
    products = list(dict.fromkeys(t["product"]))
    height = 12 + 4

    def names(base, records, per):
        n = max(1, -(-records // per))
        return [base] + [f"{base} {i}" for i in range(2, n + 1)]

    levels = [n for level, f in result.levels.items() for n in names(level, len(f), limit - 1)]
    expected = [
        *levels,
        *names("rep", len(reps), limit - 1),
        *names("cards", len(reps), limit // height),
    ]
    sheets = _sheet_rows(path)
    assert list(sheets) == expected
    assert len(expected) > 5
    with zipfile.ZipFile(path) as z:
        members = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert members == [f"xl/worksheets/sheet{i}.xml" for i in range(1, len(expected) + 1)]
        for name in ("[Content_Types].xml", "xl/_rels/workbook.xml.rels"):
            assert z.read(name).decode().count("worksheets/sheet") == len(expected)
        for member in members:
            rows = [int(r) for r in re.findall(r'<row r="(\d+)"', z.read(member).decode())]
            assert rows == list(range(1, len(rows) + 1)) and len(rows) <= limit

    # rep: each sheet repeats the header; the records together are the reps in order.
    rep_sheets = [rows for name, rows in sheets.items() if re.fullmatch(r"rep( \d+)?", name)]
    header = rep_sheets[0][0]
    assert all(rows[0] == header for rows in rep_sheets)
    yearly = pd.DataFrame([r for rows in rep_sheets for r in rows[1:]], columns=header)
    assert yearly["rep_id"].tolist() == reps
    by_product = t.pivot_table(index="rep_id", columns="product", values="target", aggfunc="sum")
    assert np.allclose(yearly[products].to_numpy(float), by_product.loc[reps, products])

    # cards: every sheet starts with a title row and holds whole cards only.
    card_rows = []
    for name, rows in sheets.items():
        if re.fullmatch(r"cards( \d+)?", name):
            assert len(rows) % height == 0 or len(rows) % height == height - 1
            assert str(rows[0][0]).startswith("Target card: ")
            card_rows.extend(rows + [()] * (-len(rows) % height))
    cards = [card_rows[i : i + height] for i in range(0, len(card_rows), height)]
    assert [c[0][0] for c in cards] == [f"Target card: {rep}" for rep in reps]
    cells = []
    for rep, card in zip(reps, cards, strict=True):
        assert card[1][: len(products) + 1] == ("period", *products)
        assert card[height - 2][0] == "year"
        cells += [(rep, *row[: len(products) + 3]) for row in card[2 : height - 2]]
    got = pd.DataFrame(cells, columns=["rep_id", "period", *products, "total", "challenge"])
    want = t.pivot_table(index=["rep_id", "period"], columns="product", values="target")
    want["challenge"] = t.groupby(["rep_id", "period"])["challenge"].sum()
    got = got.set_index(["rep_id", "period"])
    assert got.index.equals(want.index)
    assert np.allclose(got[[*products, "challenge"]], want[[*products, "challenge"]])
    assert np.allclose(got["total"], want[products].sum(axis=1))


def test_sheets_within_the_limit_keep_their_names_and_bytes(written, tmp_path, monkeypatch):
    """The default limit, and one that just fits the cards (300 reps × 16 rows), give
    the single sheets and the same bytes."""
    from attain.allocate import xlsx

    out, result = written
    assert xlsx.MAX_SHEET_ROWS == 1_048_576
    assert list(_sheet_rows(out / "targets.xlsx")) == ["company", "region", "team", "rep", "cards"]
    monkeypatch.setattr(xlsx, "MAX_SHEET_ROWS", 300 * 16)
    fits = xlsx.write_workbook(tmp_path / "fits.xlsx", result)
    assert fits.read_bytes() == (out / "targets.xlsx").read_bytes()


def test_sheet_names_are_short_and_unique():
    from attain.allocate.xlsx import _sheet_names

    long = "x" * 40
    assert _sheet_names([(long, 2), ("rep", 1), ("REP", 2), ("cards", 1)]) == [
        "x" * 31,
        "x" * 29 + " 2",
        "rep",
        "REP 2",
        "REP 3",
        "cards",
    ]

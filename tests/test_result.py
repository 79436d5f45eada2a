"""The result protocol (attain.result): every engine's result, one plan or several, alike."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

import attain
from attain.errors import AttainError, NotFoundError, OutputError, Problem
from attain.output import MANIFEST, read_manifest
from attain.result import Result, Summary, summary_json

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
TARGETS = ROOT / "tests" / "fixtures" / "incentive" / "targets.csv"
ACTUALS = ROOT / "scenarios" / "sample" / "actuals.csv"
TERRITORY = {
    "kind": "territory",
    "name": "East test",
    "scope": {"region": "East"},
    "candidates": {"nearest": 4},
    "balance": [{"name": "workload_band", "measure": "workload", "min": 0.7, "max": 1.3}],
    "objective": {"weights": {"distance": 1.0, "disruption": 20.0}},
    "mip_gap": 0.01,
}
#: Files that hold wall-clock times (the only ones that differ between equal runs).
TIMED = {"timings.json"}
#: summary.json keys that hold wall-clock times.
TIMED_KEYS = {"build_seconds", "solve_seconds", "round_seconds"}


def _scenario(folder: Path, company, plans: list[str]) -> Path:
    history = company.history
    last = history[history["month"].isin(sorted(history["month"].unique())[-12:])].copy()
    last["period"] = last["month"].str.replace("2026", "2027")
    last["target"] = (last["sales"] * 1.05).round(2)
    last[["rep_id", "period", "product", "target"]].to_csv(folder / "t.csv", index=False)
    listed = ", ".join(str(RULES / f"{p}.yaml") for p in plans)
    path = folder / "s.yaml"
    path.write_text(
        f"kind: scenario\nname: s\ncompany: {company.root}\nplans: [{listed}]\n"
        "targets: {file: t.csv}\ntrials: 20\n"
    )
    return path


def _conforms(value, annotation) -> bool:
    """Whether ``value`` has the type a summary field declares (outer types checked)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, a) for a in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if annotation is typing.Any:
        return True
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return isinstance(value, list) and all(_conforms(v, item) for v in value)
    if origin is dict:
        key, item = typing.get_args(annotation)
        return isinstance(value, dict) and all(
            _conforms(k, key) and _conforms(v, item) for k, v in value.items()
        )
    return isinstance(value, origin or annotation)


@pytest.fixture(scope="module")
def results(sample_company, tmp_path_factory):
    """Each engine's result on the sample company, built once, by name."""
    built = {}

    def make(name: str):
        if name in built:
            return built[name]
        c = sample_company
        if name == "allocation":
            r = attain.allocate(RULES / "allocation_fy27.yaml", c)
        elif name == "payouts":
            r = attain.payouts(RULES / "plan_field_rep.yaml", TARGETS, ACTUALS, c)
        elif name == "payouts, two plans":
            plans = [RULES / "plan_field_rep.yaml", RULES / "plan_team_bonus.yaml"]
            r = attain.payouts(plans, TARGETS, ACTUALS, c)
        elif name.startswith("simulation"):
            plans = ["plan_field_rep"] if name == "simulation" else ["plan_field_rep", "plan_draw"]
            folder = tmp_path_factory.mktemp("scenario")
            r = attain.simulate(_scenario(folder, c, plans))
        elif name == "alignment":
            r = attain.align(TERRITORY, c, solver="highs")
        elif name == "replanned":
            from tests.test_allocate_replan import company, rules

            folder = tmp_path_factory.mktemp("replan")
            attain.allocate(rules(), company()).write(folder, xlsx=False)
            leaver = company(dates={"R002": (None, "2027-08-15")})
            r = attain.allocate(
                rules(), leaver, replan_from="2027-07", previous=folder / "targets.csv"
            )
        elif name.startswith("ledger"):
            from attain.ledger import Ledger

            book = Ledger(tmp_path_factory.mktemp("ledger") / "pay.db")
            book.init()
            plan = RULES / "plan_field_rep.yaml"
            r = book.close([plan], TARGETS, ACTUALS, "2027-01", company=c.root)
            if name == "ledger statements":
                r = book.statements("2027-01")
            book.dispose()
        elif name.endswith("expenses and activities"):
            from attain.allocate.toy import toy_rules
            from tests.test_allocate_activity import FUNNEL
            from tests.test_allocate_expense import doc_company
            from tests.test_track_activity import logged
            from tests.test_track_expense import expenses_frame

            spec = toy_rules(1_600_000, unit=1000)
            spec["expenses"] = {"rate": 0.06, "max_rate": {"team": 0.07}}
            spec["activities"] = {"funnel": FUNNEL, "average_deal": 5000}
            toy = doc_company()
            r = attain.allocate(spec, toy)
            if name.startswith("tracking"):
                folder = tmp_path_factory.mktemp("drivers")
                r.write(folder, xlsx=False)
                deals = pd.DataFrame(
                    {"deal_id": ["D1"], "date": ["2027-02-01"], "rep_id": ["R001"],
                     "product": ["p1"], "amount": [1000.0]}
                )  # fmt: skip
                expenses_frame().to_csv(folder / "expenses.csv", index=False)
                logged().to_csv(folder / "activities.csv", index=False)
                r = attain.track(
                    folder / "targets.csv", deals, "2027-03-31", company=toy, trials=10,
                    expenses=folder / "expenses.csv", activities=folder / "activities.csv",
                )  # fmt: skip
        elif name == "design":
            r = attain.design(RULES / "design_field_rep.yaml", trials=200)
        elif name == "tracking":
            deals = pd.read_csv(ACTUALS, dtype=str)
            folder = tmp_path_factory.mktemp("track")
            first = folder / "actuals_q1.csv"
            deals[deals["date"] < "2027-04-01"].to_csv(first, index=False)
            r = attain.track(TARGETS, first, "2027-03-31", company=c, trials=50)
        else:
            raise AssertionError(name)
        built[name] = r
        return r

    return make


KINDS = [
    "allocation",
    "payouts",
    "payouts, two plans",
    "simulation",
    "simulation, two plans",
    "alignment",
    "tracking",
    "allocation, expenses and activities",
    "tracking, expenses and activities",
    "replanned",
    "ledger close",
    "ledger statements",
    "design",
]


@pytest.mark.parametrize("name", KINDS)
def test_every_result_follows_the_protocol(name, results, tmp_path):
    result = results(name)
    assert isinstance(result, Result)

    summary = result.summary
    assert isinstance(summary, Summary) and dataclasses.is_dataclass(summary)
    assert summary.untyped == {}, f"summary keys without a typed field: {sorted(summary.untyped)}"
    document = summary.to_dict()
    assert list(summary) == list(document) and summary_json(dict(summary)) == summary_json(document)
    hints = typing.get_type_hints(type(summary))
    for f in dataclasses.fields(summary):
        value = getattr(summary, f.name)
        assert _conforms(value, hints[f.name]), f"{f.name}: {value!r} is not {hints[f.name]}"
        if f.name in document:
            assert summary[f.name] is value

    frames = result.frames
    assert frames and all(isinstance(k, str) for k in frames)
    assert all(isinstance(v, pd.DataFrame) for v in frames.values())

    text = result.to_json()
    assert isinstance(text, str) and text == result.to_json()
    assert json.loads(text) == json.loads(json.dumps(document))
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    out = tmp_path / "out"
    files = result.write(out)
    assert files and all(f.parent == out or out in f.parents for f in files)
    assert all(f.exists() for f in files)
    summary_file = getattr(type(result), "summary_file", "summary.json")
    assert (out / summary_file).read_text(encoding="utf-8") == text
    assert read_manifest(out)["kind"] == type(result).kind
    # The same result again into the same folder: the same set, the same bytes.
    before = {f: f.read_bytes() for f in files if f.name not in TIMED}
    again = result.write(out)
    assert sorted(again) == sorted(files)
    assert {f: f.read_bytes() for f in again if f.name not in TIMED} == before


@pytest.mark.parametrize("name", ["allocation", "payouts", "tracking"])
def test_write_is_one_transaction_that_refuses_a_folder_of_other_files(name, results, tmp_path):
    result = results(name)
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(OutputError):
        result.write(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]
    files = result.write(tmp_path, force=True)  # --force keeps what else is there
    assert (tmp_path / "mine.txt").read_text() == "keep me" and (tmp_path / MANIFEST).exists()
    assert all(f.exists() for f in files)


def test_several_plans_are_a_payouts_of_the_same_shape(results):
    one, two = results("payouts"), results("payouts, two plans")
    assert isinstance(two, attain.Payouts) and type(one).kind == type(two).kind
    assert one.plans == ("field_rep_marginal",) and one.parts == (one,)
    assert one["field_rep_marginal"] is one
    assert two.plans == ("field_rep_marginal", "team_bonus") and len(two.parts) == 2
    assert set(two.frames) == set(one.frames)
    for frame in two.frames.values():
        assert frame.columns[0] == "plan"
    assert [s.plan for s in one.summary.plans] == ["field_rep_marginal"]
    assert [s.plan for s in two.summary.plans] == ["field_rep_marginal", "team_bonus"]
    total = sum(Decimal(p.summary.total_payout) for p in two.parts)
    assert Decimal(two.summary.total_payout) == total
    assert len(two.lines) == sum(len(p.lines) for p in two.parts) == two.summary.n_lines
    with pytest.raises(NotFoundError, match="did you mean `team_bonus`"):
        two["team_bonu"]


def test_a_simulation_of_several_plans_is_the_same_type_as_of_one(results):
    one, two = results("simulation"), results("simulation, two plans")
    assert type(one) is type(two) and type(one.summary) is type(two.summary)
    assert set(one.summary) == set(two.summary)
    assert one.plans == ["field_rep_marginal"]
    assert two.plans == ["field_rep_marginal", "new_hire_draw"]


# --- what an embedding developer trips on ------------------------------------------------


@pytest.mark.parametrize("name", ["payouts", "payouts, two plans"])
def test_payouts_table_amounts_are_exact_decimals(name, results):
    result = results(name)
    table = result.payouts_table()
    amounts = table["amount"]
    assert amounts.map(type).eq(Decimal).all()
    assert amounts.sum() == Decimal(result.summary.total_payout)
    unit = result.compiled.minor_unit
    assert (amounts * 10**unit).map(int).tolist() == result.lines["amount_minor"].tolist()


def test_payouts_csv_still_writes_exact_text(results, tmp_path):
    result = results("payouts")
    result.write(tmp_path, statements=False)
    written = pd.read_csv(tmp_path / "payouts.csv", dtype={"amount": str})
    assert written["amount"].tolist() == [str(a) for a in result.payouts_table()["amount"]]


@pytest.mark.parametrize("name", ["payouts", "payouts, two plans"])
def test_a_statement_of_someone_not_paid_is_a_typed_error(name, results):
    result = results(name)
    with pytest.raises(NotFoundError) as caught:
        result.statement("R0001")
    error = caught.value
    assert isinstance(error, KeyError) and isinstance(error, AttainError)
    assert "`R0001`" in str(error) and "did you mean `R00001`" in str(error)
    assert error.name == "R0001" and "R00001" in error.suggestions
    with pytest.raises(KeyError, match="no participant `NOPE`"):
        result.statement("NOPE")
    assert result.statement("R00001").startswith("#")


def test_a_problem_without_a_hint_has_none():
    assert Problem("x.yaml", "wrong").hint is None
    assert Problem("x.yaml", "wrong", hint="").hint is None
    assert Problem("x.yaml", "wrong", hint="do this").hint == "do this"
    with pytest.raises(attain.RuleFileError) as caught:
        attain.parse_rules("kind: company\nname: x\n", source="x.yaml")
    assert all(p.hint is None or p.hint for p in caught.value.problems)


def test_summaries_read_as_attributes_and_as_the_files_keys(results):
    allocation = results("allocation")
    s = allocation.summary
    assert s.status == s["status"] == allocation.status
    assert s.total_target == s["total_target"] and isinstance(s.fairness, dict)
    assert s.get("no such key") is None and "status" in s
    with pytest.raises(KeyError):
        s["no such key"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.status = "changed"  # type: ignore[misc]
    assert set(TIMED_KEYS) <= set(s)


def test_a_summary_omits_absent_keys_and_keeps_untyped_ones():
    @dataclasses.dataclass(frozen=True)
    class Small(Summary):
        OMITTED_WHEN_NONE = frozenset({"sometimes"})

        always: int
        maybe: str | None = None
        sometimes: float | None = None

    s = Small.from_dict({"always": 1, "maybe": None, "newer": [1, 2]})
    assert s.to_dict() == {"always": 1, "maybe": None, "newer": [1, 2]}
    assert list(s) == ["always", "maybe", "newer"] and s["newer"] == [1, 2]
    assert s.untyped == {"newer": [1, 2]} and "sometimes" not in s
    assert (
        s.to_json() == '{\n  "always": 1,\n  "maybe": null,\n  "newer": [\n    1,\n    2\n  ]\n}\n'
    )
    assert Small(2, sometimes=0.5).to_dict() == {"always": 2, "maybe": None, "sometimes": 0.5}

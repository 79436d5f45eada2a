"""The payout ledger: closes, adjustments, states, audit and export, on SQLite and PostgreSQL.

A tiny company (reps R1..R3, products a and b) is written to a folder; each test closes
periods from its files. The PostgreSQL cases run where ``ATTAIN_TEST_POSTGRES_URL`` names
a server (``.ci/run`` starts one); without one they skip, except under ``CI=true``,
where they fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import attain
from attain.cli.main import main
from attain.errors import InputError
from attain.ledger import Ledger, LedgerError
from attain.ledger.store import SCHEMA_VERSION, ledger_url

MONTHS = [f"2027-{m:02d}" for m in range(1, 13)]
REPS = ["R1", "R2", "R3"]

PLAN = """kind: plan
name: field
company: company
period: month
measure: ytd
negative_balance: {negative}
components:
  - type: commission
    name: commission
    method: marginal
    tiers:
      - {{start: 0, end: 100000, rate: {rate}}}
      - {{start: 100000, rate: 0.1}}
  - type: spiff
    name: spiff_b
    products: [b]
    start: "2027-03-01"
    end: "2027-04-30"
    per_unit: 5
"""


def write_company(folder: Path, rate: float = 0.05, negative: str = "claw_back") -> Path:
    (folder / "company").mkdir(parents=True, exist_ok=True)
    (folder / "company" / "company.yaml").write_text(
        "kind: company\nname: Tiny\ncurrency: EUR\nfiscal_year: 2027\nhierarchy: [team]\n"
        "products: [a, b]\ntables: {org: org.csv}\n"
    )
    org = pd.DataFrame(
        {
            "rep_id": REPS,
            "name": REPS,
            "team": "T1",
            "role": "rep",
            "tenure_months": 12,
            "capacity": 0,
            "target_incentive": 12000,
        }
    )
    org.to_csv(folder / "company" / "org.csv", index=False)
    targets = pd.DataFrame(
        [(r, m, "a", 20000) for r in REPS for m in MONTHS],
        columns=["rep_id", "period", "product", "target"],
    )
    targets.to_csv(folder / "targets.csv", index=False)
    return write_plan(folder, rate, negative)


def write_plan(folder: Path, rate: float = 0.05, negative: str = "claw_back") -> Path:
    path = folder / "plan.yaml"
    path.write_text(PLAN.format(rate=rate, negative=negative))
    return path


def write_deals(folder: Path, deals: list[tuple], name: str = "actuals.csv") -> Path:
    """deals: (deal_id, date, rep, product, amount[, quantity])."""
    rows = [
        {
            "deal_id": d[0],
            "date": d[1],
            "rep_id": d[2],
            "product": d[3],
            "amount": abs(d[4]),
            "split": 1.0,
            "quantity": d[5] if len(d) > 5 else 1,
            "new_customer": False,
            "type": "booking" if d[4] >= 0 else "cancellation",
        }
        for d in deals
    ]
    path = folder / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def base_deals() -> list[tuple]:
    out = []
    for m in range(12):
        for i, rep in enumerate(REPS):
            out.append((f"D{m}{i}a", f"2027-{m + 1:02d}-10", rep, "a", 9000 + 1500 * i + 700 * m))
            if m in (2, 3):
                out.append((f"D{m}{i}b", f"2027-{m + 1:02d}-12", rep, "b", 2000, 3 + i))
    return out


def dated_through(deals: list[tuple], month: str) -> int:
    """How many of ``deals`` are dated in ``month`` (YYYY-MM) or before."""
    return sum(d[1][:7] <= month for d in deals)


# --- backends ---------------------------------------------------------------------------


def _postgres_url() -> str | None:
    return os.environ.get("ATTAIN_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield str(tmp_path / "pay.db")
        return
    base = _postgres_url()
    if not base:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but ATTAIN_TEST_POSTGRES_URL is not set")
        pytest.skip("no PostgreSQL server (set ATTAIN_TEST_POSTGRES_URL)")
    name = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(ledger_url(base), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    except sa.exc.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot reach the PostgreSQL server: {exc}")
        pytest.skip(f"cannot reach the PostgreSQL server: {exc}")
    db_url = ledger_url(base).set(database=name).render_as_string(hide_password=False)
    db_url = db_url.replace("postgresql+psycopg://", "postgresql://")
    yield db_url
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


@pytest.fixture
def company(tmp_path):
    plan = write_company(tmp_path)
    actuals = write_deals(tmp_path, base_deals())
    return tmp_path, plan, tmp_path / "targets.csv", actuals


def one_shot(plan: Path, targets: Path, actuals: Path) -> pd.DataFrame:
    """The yearly computation in one go: every line of every period."""
    result = attain.payouts(plan, targets, actuals, plan.parent / "company")
    return result.lines


def close_all(ledger, plan, targets, actuals, months=MONTHS):
    for m in months:
        ledger.close([plan], targets, actuals, m)


# --- schema --------------------------------------------------------------------------------


def test_init_creates_and_is_idempotent(url):
    ledger = Ledger(url)
    assert ledger.init() == (0, SCHEMA_VERSION)
    assert ledger.init() == (SCHEMA_VERSION, SCHEMA_VERSION)
    assert ledger.runs().empty


def test_a_newer_ledger_is_refused(url):
    ledger = Ledger(url)
    ledger.init()
    engine = sa.create_engine(ledger_url(url))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE schema_version SET version = {SCHEMA_VERSION + 1}")
    engine.dispose()
    with pytest.raises(LedgerError, match="newer than this attain"):
        ledger.runs()
    with pytest.raises(LedgerError, match="newer than this attain"):
        ledger.init()


def test_an_uninitialised_ledger_says_so(tmp_path):
    with pytest.raises(LedgerError, match="attain ledger init"):
        Ledger(tmp_path / "none.db").runs()
    assert not (tmp_path / "none.db").exists()  # a misspelt path leaves no empty file


def test_a_misspelt_ledger_path_exits_2_and_creates_nothing(tmp_path, capsys):
    assert main(["ledger", "runs", "--ledger", str(tmp_path / "typo.db")]) == 2
    assert "no ledger here" in capsys.readouterr().err
    assert not (tmp_path / "typo.db").exists()


# --- closes -------------------------------------------------------------------------------


def test_a_year_closed_month_by_month_equals_the_one_shot_year(url, company):
    folder, plan, targets, actuals = company
    ledger = Ledger(url)
    ledger.init()
    close_all(ledger, plan, targets, actuals)
    lines = ledger.lines()
    assert set(lines["kind"]) == {"regular"}
    expected = one_shot(plan, targets, actuals)
    expected = expected[expected["amount_minor"] != 0]
    got = lines.groupby(["rep_id", "period", "component"])["amount"].sum()
    want = expected.groupby(["rep_id", "period", "component"], observed=True)["amount_minor"].sum()
    assert got.to_dict() == {k: int(v) for k, v in want.items()}
    assert ledger.runs()["period"].tolist() == MONTHS


@pytest.mark.parametrize("release", ["later", "year_end"])
def test_a_holdback_of_some_components_closes_as_the_one_shot_year(tmp_path, release):
    """The ledger keeps no holdback state of its own: closing month by month with the
    commission (not the SPIFF) half held back records the one-shot year's lines."""
    plan = write_company(tmp_path)
    actuals = write_deals(
        tmp_path, base_deals() + [("D2" + "0a", "2027-06-15", REPS[0], "a", -9000)]
    )
    held = {"share": 0.5, "components": ["commission"], "release": release}
    if release == "later":
        held["after_periods"] = 2
    plan.write_text(plan.read_text() + f"holdback: {held}\n")
    ledger = Ledger(tmp_path / "ledger.db")
    ledger.init()
    close_all(ledger, plan, tmp_path / "targets.csv", actuals)
    lines = ledger.lines()
    expected = one_shot(plan, tmp_path / "targets.csv", actuals)
    expected = expected[expected["amount_minor"] != 0]
    assert {"held_back", "held_released"} <= set(expected["component"])
    got = lines.groupby(["rep_id", "period", "component"])["amount"].sum()
    want = expected.groupby(["rep_id", "period", "component"], observed=True)["amount_minor"].sum()
    assert got.to_dict() == {k: int(v) for k, v in want.items()}


def test_rerunning_a_close_is_a_noop_and_changed_inputs_are_refused(url, company):
    folder, plan, targets, actuals = company
    ledger = Ledger(url)
    ledger.init()
    first = ledger.close([plan], targets, actuals, "2027-01")
    again = ledger.close([plan], targets, actuals, "2027-01")
    assert again.noop and again.run_id is None
    assert len(ledger.lines()) == len(first.lines)
    changed = write_deals(folder, base_deals()[:-1], "other.csv")
    with pytest.raises(LedgerError, match="closed periods do not change"):
        ledger.close([plan], targets, changed, "2027-01")


def test_closing_out_of_order_is_refused(url, company):
    folder, plan, targets, actuals = company
    ledger = Ledger(url)
    ledger.init()
    with pytest.raises(LedgerError, match="previous period 2027-01 is not closed"):
        ledger.close([plan], targets, actuals, "2027-02")
    assert ledger.runs().empty


def test_a_late_deal_becomes_an_adjustment_naming_its_period(url, company):
    folder, plan, targets, actuals = company
    ledger = Ledger(url)
    ledger.init()
    close_all(ledger, plan, targets, actuals, MONTHS[:3])
    before = ledger.lines().copy()
    late = write_deals(folder, [*base_deals(), ("LATE", "2027-02-20", "R2", "a", 40000)], "v2.csv")
    result = ledger.close([plan], targets, late, "2027-04")
    adj = result.lines[result.lines["kind"] == "adjustment"]
    assert set(adj["rep_id"]) == {"R2"} and set(adj["for_period"]) <= {"2027-02", "2027-03"}
    assert adj["cause"].str.contains("data changed: actuals").all()
    after = ledger.lines()
    closed = after[after["period"] < "2027-04"].drop(columns=["held", "hold_reason"])
    pd.testing.assert_frame_equal(
        closed.reset_index(drop=True), before.drop(columns=["held", "hold_reason"])
    )
    # What the ledger holds for the year to date is the recomputation.
    expected = one_shot(plan, targets, late)
    expected = expected[expected["period"].astype(str) <= "2027-04"]
    assert after["amount"].sum() == expected["amount_minor"].sum()


def test_a_corrected_plan_is_named_as_the_cause(url, company):
    folder, plan, targets, actuals = company
    ledger = Ledger(url)
    ledger.init()
    close_all(ledger, plan, targets, actuals, MONTHS[:2])
    write_plan(folder, rate=0.06)
    result = ledger.close([plan], targets, actuals, "2027-03")
    adj = result.lines[result.lines["kind"] == "adjustment"]
    assert len(adj) == 2 * len(REPS)
    assert adj["cause"].str.contains("plan field changed").all()
    assert (adj["amount"] > 0).all()


CHANGES = st.lists(
    st.tuples(
        st.sampled_from(["late", "cancel", "resize"]),
        st.integers(0, 3),  # the close at which the change arrives
        st.integers(0, 3),  # how many months back it reaches
        st.sampled_from(REPS),
        st.integers(1, 60).map(lambda k: 1000 * k),
    ),
    max_size=4,
)


@settings(
    max_examples=5,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(changes=CHANGES, negative=st.sampled_from(["claw_back", "carry_forward"]))
def test_paid_plus_adjustments_equal_the_recomputed_year(tmp_path_factory, changes, negative):
    folder = tmp_path_factory.mktemp("ledger")
    plan = write_company(folder, negative=negative)
    targets = folder / "targets.csv"
    deals = [d for d in base_deals() if d[1] < "2027-07"]
    ledger = Ledger(folder / "pay.db")
    ledger.init()
    months = MONTHS[:4]
    cancelled: set[str] = set()
    for step, m in enumerate(months):
        for kind, _, ago, rep, amount in [c for c in changes if c[1] == step]:
            back = max(step - ago, 0)  # a closed month (or this one)
            date, booked = f"2027-{back + 1:02d}-15", f"D{back}{REPS.index(rep)}a"
            if kind == "late":
                deals.append((f"L{len(deals)}", date, rep, "a", amount))
            elif kind == "cancel" and booked not in cancelled:
                cancelled.add(booked)
                original = next(d for d in deals if d[0] == booked)
                deals.append((booked, date, rep, "a", -original[4]))
            elif kind == "resize" and booked not in cancelled:
                deals = [(*d[:4], d[4] + amount) if d[0] == booked else d for d in deals]
        actuals = write_deals(folder, deals, f"actuals_{step}.csv")
        ledger.close([plan], targets, actuals, m)
        # Every close: the ledger per line and period = the recomputation through m.
        lines = ledger.lines()
        expected = one_shot(plan, targets, actuals)
        expected = expected[expected["period"].astype(str) <= m]
        got = lines.groupby(["rep_id", "component", "for_period"])["amount"].sum()
        got = got[got != 0]
        want = expected.groupby(["rep_id", "component", "period"], observed=True)[
            "amount_minor"
        ].sum()
        want = want[want != 0]
        assert {k: int(v) for k, v in got.items()} == {k: int(v) for k, v in want.items()}
        # Paid total + adjustments = what the year to date earned, per rep.
        assert lines["amount"].sum() == expected["amount_minor"].sum()
        # Each line of the close is explained by its stored parts, and each adjustment
        # (only deals change here) names at least one changed deal of its rep.
        st = ledger.statements(m)
        minor = st.parts["amount"].str.replace(".", "", regex=False).astype(int)
        sums = minor.groupby(st.parts["line_id"]).sum()
        assert sums.to_dict() == dict(
            zip(st.lines["line_id"], st.lines["amount_minor"], strict=True)
        )
        adjusted = st.lines[st.lines["kind"] == "adjustment"]
        assert (adjusted["deals"] != "").all(), adjusted[["rep_id", "for_period", "cause"]]
        assert_deal_index_is_current(ledger)
    # No line recorded twice: one regular line per rep, component and period.
    regular = ledger.lines().query("kind == 'regular'")
    assert not regular.duplicated(["plan", "rep_id", "component", "period"]).any()


# --- states ---------------------------------------------------------------------------------


def test_approve_hold_release_pay_and_their_errors(url, company):
    folder, plan, targets, actuals = company
    ledger = Ledger(url)
    ledger.init()
    ledger.close([plan], targets, actuals, "2027-01")
    assert set(ledger.lines()["state"]) == {"calculated"}
    with pytest.raises(LedgerError, match="it is calculated"):
        ledger.pay("2027-01", by="payroll")
    assert len(ledger.approve("2027-01", by="finance", reason="reviewed")) == len(REPS)
    with pytest.raises(LedgerError, match="it is approved"):
        ledger.approve("2027-01", by="finance")
    held = ledger.hold("2027-01", rep="R2", by="finance", reason="disputed deal")
    assert held["held"].all()
    with pytest.raises(LedgerError, match="cannot pay held line .*disputed deal"):
        ledger.pay("2027-01", rep="R2", by="payroll")
    paid = ledger.pay("2027-01", by="payroll")
    assert sorted(paid["rep_id"]) == ["R1", "R3"]
    ledger.release("2027-01", rep="R2", by="finance", reason="settled")
    assert list(ledger.pay("2027-01", rep="R2", by="payroll")["rep_id"]) == ["R2"]
    with pytest.raises(LedgerError, match="it is paid"):
        ledger.pay("2027-01", by="payroll")
    events = ledger.events()
    assert set(events["event"]) == {"approve", "hold", "release", "pay"}
    assert (events.loc[events["event"] == "hold", "reason"] == "disputed deal").all()


def test_manual_adjustment_is_recorded_when_its_period_closes(url, company):
    folder, plan, targets, actuals = company
    ledger = Ledger(url)
    ledger.init()
    ledger.close([plan], targets, actuals, "2027-01")
    with pytest.raises(LedgerError, match="is closed"):
        ledger.adjust("2027-01", "R1", 50000, "bonus", by="hr")
    with pytest.raises(LedgerError, match="unknown reason code"):
        ledger.adjust("2027-02", "R1", 50000, "gift", by="hr")
    ident = ledger.adjust("2027-02", "R1", 50000, "bonus", by="hr", reason="launch award")
    result = ledger.close([plan], targets, actuals, "2027-02")
    manual = result.lines[result.lines["kind"] == "manual"]
    assert manual["amount"].tolist() == [50000]
    assert "bonus by hr: launch award" in manual["cause"].iloc[0]
    assert int(ledger.adjustments().set_index("id").loc[ident, "line_id"]) > 0
    # A manual line is never reconciled away by a later close.
    result = ledger.close([plan], targets, actuals, "2027-03")
    assert (result.lines["kind"] == "regular").all()


# --- audit ----------------------------------------------------------------------------------


def test_runs_show_diff_and_export(url, company):
    folder, plan, targets, actuals = company
    ledger = Ledger(url)
    ledger.init()
    ledger.close([plan], targets, actuals, "2027-01")
    write_plan(folder, rate=0.06)
    ledger.close([plan], targets, actuals, "2027-02")
    runs = ledger.runs()
    assert runs["run"].tolist() == [1, 2]
    record = ledger.run(2)
    assert set(record["data"]) >= {"targets", "actuals", "company"}
    assert record["attain_version"] == attain.__version__
    assert "rate: 0.06" in ledger.plan_text(record["plans"]["field"])
    diff = ledger.diff(1, 2)  # the corrected plan's adjustments of January
    assert set(diff["cause"]) == {"plan"} and set(diff["periods"]) == {"2027-01"}
    adjusted = ledger.lines("2027-02").query("kind == 'adjustment'")
    assert diff["change"].sum() == adjusted["amount"].sum()
    assert ledger.diff(2, 2).empty
    ledger.approve("2027-02", by="f")
    ledger.pay("2027-02", by="p")
    table = ledger.export(
        "2027-02", codes={"commission": "E100", "kind:adjustment": "E900"}, pay_date="2027-03-05"
    )
    assert list(table.columns) == [
        "rep_id",
        "period",
        "component",
        "amount",
        "currency",
        "pay_date",
        "earning_code",
        "for_period",
    ]
    adj = table[table["for_period"] != ""]
    assert set(adj["for_period"]) == {"2027-01"} and set(adj["earning_code"]) == {"E900"}
    assert set(table.loc[table["for_period"] == "", "earning_code"]) == {"E100"}
    assert (table["currency"] == "EUR").all() and (table["pay_date"] == "2027-03-05").all()
    total = sum(int(a.replace(".", "")) for a in table["amount"])
    assert total == int(ledger.lines("2027-02")["amount"].sum())


# --- CLI and faults ------------------------------------------------------------------------


def test_cli_monthly_cycle(tmp_path, company, capsys):
    folder, plan, targets, actuals = company
    db = str(tmp_path / "pay.db")
    assert main(["ledger", "init", "--ledger", db]) == 0
    args = [str(plan), "--targets", str(targets), "--actuals", str(actuals), "--ledger", db]
    assert main(["payout", *args, "--close", "2027-02"]) == 2
    assert "previous period 2027-01 is not closed" in capsys.readouterr().err
    assert main(["payout", *args, "--close", "2027-01"]) == 0
    assert "closed 2027-01 as run 1" in capsys.readouterr().out
    assert main(["payout", *args, "--close", "2027-01"]) == 0
    assert "nothing recorded" in capsys.readouterr().out
    assert main(["ledger", "approve", "--ledger", db, "--period", "2027-01", "--by", "f"]) == 0
    assert main(["ledger", "approve", "--ledger", db, "--period", "2027-01"]) == 2
    assert main(["ledger", "hold", "--ledger", db, "--period", "2027-01", "--rep", "R1"]) == 0
    assert main(["ledger", "pay", "--ledger", db, "--period", "2027-01", "--rep", "R1"]) == 2
    assert "cannot pay held line" in capsys.readouterr().err
    assert main(["ledger", "pay", "--ledger", db, "--period", "2027-01", "--by", "p"]) == 0
    out = tmp_path / "payroll.csv"
    assert main(["ledger", "export", "--ledger", db, "--period", "2027-01", "--out", str(out)]) == 0
    assert out.read_text().splitlines()[0] == (
        "rep_id,period,component,amount,currency,pay_date,earning_code,for_period"
    )
    assert len(out.read_text().splitlines()) == 1 + 2  # R1 is held
    for command in (["runs"], ["show", "1"], ["diff", "1", "1"]):
        assert main(["ledger", *command[:1], "--ledger", db, *command[1:]]) == 0
    assert main(["ledger", "show", "--ledger", db, "9"]) == 2


def test_wrong_password_exits_2_without_the_password(capsys):
    url = "postgresql://attain:s3cret@127.0.0.1:1/nowhere"
    assert main(["ledger", "init", "--ledger", url]) == 2
    err = capsys.readouterr().err
    assert "s3cret" not in err and "127.0.0.1:1/nowhere" in err and "Traceback" not in err


def test_bad_url_exits_2(capsys):
    assert main(["ledger", "init", "--ledger", "mysql://x@y/z"]) == 2
    assert "unsupported database" in capsys.readouterr().err


def test_a_failed_close_leaves_the_ledger_as_before(url, company, monkeypatch):
    folder, plan, targets, actuals = company
    ledger = Ledger(url)
    ledger.init()
    from attain.ledger import api

    def broken(*args, **kw):
        raise RuntimeError("killed mid-close")

    monkeypatch.setattr(api, "_insert_lines", broken)
    with pytest.raises(RuntimeError):
        ledger.close([plan], targets, actuals, "2027-01")
    assert ledger.runs().empty and ledger.lines().empty


def test_a_lost_connection_exits_4_and_records_nothing(url, company, monkeypatch, capsys):
    folder, plan, targets, actuals = company
    Ledger(url).init()
    from attain.ledger import api

    def lost(conn, *args, **kw):
        if conn.dialect.name == "postgresql":  # the server ends this session
            conn.exec_driver_sql("SELECT pg_terminate_backend(pg_backend_pid())")
        reason = Exception("disk I/O error")
        raise sa.exc.OperationalError("INSERT", {}, reason, connection_invalidated=True)

    monkeypatch.setattr(api, "_insert_lines", lost)
    args = [str(plan), "--targets", str(targets), "--actuals", str(actuals), "--ledger", url]
    assert main(["payout", *args, "--close", "2027-01"]) == 4
    err = capsys.readouterr().err
    assert "ledger" in err and "Traceback" not in err
    assert Ledger(url).runs().empty


CONCURRENT = """
import sys
from attain.ledger import Ledger
from attain.errors import InputError
try:
    r = Ledger(sys.argv[1]).close([sys.argv[2]], sys.argv[3], sys.argv[4], "2027-01")
    print("noop" if r.noop else "closed")
except InputError as e:
    print("error:", e)
"""


def test_two_concurrent_closes_record_once(url, company):
    folder, plan, targets, actuals = company
    Ledger(url).init()
    args = [sys.executable, "-c", CONCURRENT, url, str(plan), str(targets), str(actuals)]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outs = sorted(p.communicate(timeout=120)[0].strip() for p in procs)
    assert outs.count("closed") == 1, outs
    other = [o for o in outs if o != "closed"][0]
    assert other == "noop" or "closed by" in other or "at the same time" in other or "busy" in other
    ledger = Ledger(url)
    assert len(ledger.runs()) == 1
    lines = ledger.lines()
    assert not lines.duplicated(["rep_id", "component", "period"]).any()
    assert isinstance(np.int64(lines["amount"].sum()), np.integer)


def test_ledger_is_public():
    assert attain.Ledger is Ledger
    assert issubclass(LedgerError, InputError)


@pytest.mark.parametrize("amount", ["inf", "-Infinity", "NaN", "1e20", "12.345"])
def test_an_adjustment_amount_that_is_no_amount_exits_2(tmp_path, capsys, amount):
    """Before: `--amount inf` ended in an internal error (int of Infinity)."""
    db = str(tmp_path / "pay.db")
    assert main(["ledger", "init", "--ledger", db]) == 0
    args = ["ledger", "adjust", "--ledger", db, "--period", "2027-02", "--rep", "R1"]
    args += ["--amount", amount, "--code", "bonus", "--by", "hr"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--amount" in err and "Traceback" not in err


def test_broken_earning_codes_are_located(tmp_path, capsys):
    """Before: a codes file that is not YAML ended in an internal error."""
    db = str(tmp_path / "pay.db")
    assert main(["ledger", "init", "--ledger", db]) == 0
    codes = tmp_path / "codes.yaml"
    codes.write_text("commission: E100\n  bad: [\n", encoding="utf-8")
    args = ["ledger", "export", "--ledger", db, "--period", "2027-01", "--codes", str(codes)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"{codes}:2:" in err and "earning codes" in err and "Traceback" not in err


# --- schema version 2: deals, parts, statements ----------------------------------------------


def _downgrade_to_v1(url: str) -> None:
    """Make a version 1 ledger of this one: drop the tables versions 2 and 3 added."""
    from attain.ledger import store

    engine = sa.create_engine(ledger_url(url))
    with engine.begin() as conn:
        for table in [*reversed(store._V3), *reversed(store._V2)]:
            table.drop(conn)
        conn.exec_driver_sql("UPDATE schema_version SET version = 1")
    engine.dispose()


def _downgrade_to_v2(url: str) -> None:
    """Make a version 2 ledger of this one: no deal index, deals indexed as version 2
    indexed them."""
    from attain.ledger import store

    engine = sa.create_engine(ledger_url(url))
    with engine.begin() as conn:
        for table in reversed(store._V3):
            table.drop(conn)
        conn.exec_driver_sql("CREATE INDEX deals_current ON deals (to_run, deal_id)")
        conn.exec_driver_sql("UPDATE schema_version SET version = 2")
    engine.dispose()


def test_a_v1_ledger_is_migrated_and_keeps_its_lines(url, company):
    from attain.ledger import store

    folder, plan, targets, actuals = company
    ledger = Ledger(url)
    with ledger._tx() as conn:  # a new ledger built only to version 1 has only its tables
        assert store.migrate(conn, url, to=1) == (0, 1)
        names = set(sa.inspect(conn).get_table_names())
    assert "lines" in names and not names & {t.name for t in [*store._V2, *store._V3]}
    with pytest.raises(LedgerError, match="schema version 1; this attain uses 3"):
        ledger.runs()
    assert ledger.init() == (1, 3)
    ledger.close([plan], targets, actuals, "2027-01")
    _downgrade_to_v1(url)  # January closed by a version 1 attain
    before = ledger_lines = Ledger(url)
    with pytest.raises(LedgerError, match="migrate it: attain ledger init"):
        before.lines()
    assert ledger_lines.init() == (1, 3)
    january = ledger_lines.lines("2027-01")
    assert len(january) == len(REPS)
    assert ledger_lines.explain(int(january["id"].iloc[0]))["parts"].empty
    late = write_deals(folder, [*base_deals(), ("LATE", "2027-01-20", "R1", "a", 30000)], "v2.csv")
    result = ledger_lines.close([plan], targets, late, "2027-02")
    adj = result.lines[result.lines["kind"] == "adjustment"]
    # The close before did not record its deals: the cause says what changed, no deal.
    assert list(adj["rep_id"]) == ["R1"] and adj["cause"].iloc[0] == (
        "data changed: actuals (deals not named: run 1 was closed before the ledger recorded deals)"
    )
    with pytest.raises(LedgerError, match="did not record its deals"):
        ledger_lines.deals(1)
    # A close records the deal rows of the periods it pays, not those dated later.
    assert len(ledger_lines.deals(2)) == dated_through(base_deals(), "2027-02") + 1
    # From here on the deals are known.
    resized = [(*d[:4], d[4] + 1000) if d[0] == "LATE" else d for d in [*base_deals()]]
    resized.append(("LATE", "2027-01-20", "R1", "a", 31000))
    v3 = write_deals(folder, resized, "v3.csv")
    result = ledger_lines.close([plan], targets, v3, "2027-03")
    adj = result.lines[result.lines["kind"] == "adjustment"]
    assert adj["cause"].str.startswith("deals: LATE resized (30000.00 → 31000.00)").all()


def test_a_v2_ledger_is_migrated_to_v3_and_names_deals_as_before(url, company):
    """A ledger whose January was closed by a version 2 attain (deals indexed on
    ``(to_run, deal_id)``, no deal index) migrates in place: the index on deals goes,
    February's close reads the current versions from ``deals`` and names the late deal,
    and writes the deal index the next close reads."""
    from attain.ledger import store

    folder, plan, targets, actuals = company
    ledger = Ledger(url)
    ledger.init()
    ledger.close([plan], targets, actuals, "2027-01")
    _downgrade_to_v2(url)
    old = Ledger(url)
    with pytest.raises(LedgerError, match="schema version 2; this attain uses 3"):
        old.lines()
    assert old.init() == (2, 3)
    with old._tx() as conn:
        inspector = sa.inspect(conn)
        assert "deal_index" in inspector.get_table_names()
        assert [i["name"] for i in inspector.get_indexes("deals")] == []
        assert conn.execute(sa.select(sa.func.count()).select_from(store.deal_index)).scalar() == 0
    january = old.lines("2027-01")
    late = write_deals(folder, [*base_deals(), ("LATE", "2027-01-20", "R1", "a", 30000)], "v2.csv")
    result = old.close([plan], targets, late, "2027-02")
    adj = result.lines[result.lines["kind"] == "adjustment"]
    assert list(adj["rep_id"]) == ["R1"]
    assert adj["cause"].iloc[0].startswith("deals: LATE added (booked 30000.00 on 2027-01-20)")
    assert len(old.deals(1)) == dated_through(base_deals(), "2027-01")
    assert len(old.deals(2)) == dated_through(base_deals(), "2027-02") + 1
    assert_deal_index_is_current(old, run=2)
    assert old.lines("2027-01").equals(january)  # the closed period as it was
    old.dispose()


def assert_deal_index_is_current(ledger: Ledger, run: int | None = None) -> None:
    """``deal_index`` lists exactly the deal versions valid now — ids, content hashes and
    the hashes of their keys — and is the last close's (``run``, if given)."""
    from attain.ledger import store
    from attain.ledger.deals import key_hashes

    d = store.deals
    with ledger._tx() as conn:
        index = conn.execute(sa.select(store.deal_index)).one()
        current = pd.DataFrame(
            conn.execute(
                sa.select(d.c.id, d.c.deal_id, d.c.type, d.c.rep_id, d.c.hash).where(
                    d.c.to_run.is_(None)
                )
            ).fetchall(),
            columns=["id", "deal_id", "type", "rep_id", "hash"],
        )
        last = conn.execute(sa.select(sa.func.max(store.run_deals.c.run_id))).scalar()
    assert index.run_id == (last if run is None else run) and index.n_deals == len(current)
    ids = np.frombuffer(index.ids, dtype="<i8")
    stored = pd.DataFrame(
        {
            "key": np.frombuffer(index.keys, dtype="<i8"),
            "hash": np.frombuffer(index.hashes, dtype="<i8"),
        },
        index=ids,
    ).sort_index()
    current = current.set_index("id").sort_index()
    assert stored.index.tolist() == current.index.tolist()
    assert stored["hash"].tolist() == current["hash"].astype(np.int64).tolist()
    assert stored["key"].tolist() == key_hashes(current).tolist()


def _deal_rows(deals: list[tuple]) -> list[tuple]:
    return [d for d in deals if d[1] < "2027-05"]


def test_adjustment_causes_name_the_deals_that_changed(url, company):
    folder, plan, targets, actuals = company
    ledger = Ledger(url)
    ledger.init()
    deals = _deal_rows(base_deals())
    first = write_deals(folder, deals, "v1.csv")
    close_all(ledger, plan, targets, first, MONTHS[:3])
    assert set(ledger.run(3)) >= {"n_deals", "n_deals_changed"}
    assert ledger.run(3)["n_deals_changed"] == 0  # nothing changed: no deal row written
    changed = [
        (*d[:4], d[4] + 5000) if d[0] == "D10a" else d  # R1's February deal resized
        for d in deals
        if d[0] != "D12a"  # R3's February deal removed
    ]
    changed.append(("LATE", "2027-02-20", "R2", "a", 40000))  # a late deal for R2
    changed.append(("D00a", "2027-03-05", "R1", "a", -9000))  # R1's January deal cancelled
    v2 = write_deals(folder, changed, "v2.csv")
    result = ledger.close([plan], targets, v2, "2027-04")
    lines = result.lines.reset_index(drop=True)
    adj = lines[lines["kind"] == "adjustment"]
    assert set(adj["rep_id"]) == set(REPS)
    named = {}
    for row in ledger.lines("2027-04").query("kind == 'adjustment'").itertuples():
        deals_of = ledger.explain(int(row.id))["deals"]
        named[(row.rep_id, row.for_period)] = set(
            zip(deals_of["deal_id"], deals_of["change"], strict=True)
        )
        assert row.cause.startswith("deals: ") and "data changed: actuals" in row.cause
    # Each adjustment names the changed deals of its rep dated in its period or before
    # (the plan measures the year to date), and only those.
    assert named[("R1", "2027-02")] == {("D10a", "resized")}
    assert named[("R1", "2027-03")] == {("D10a", "resized"), ("D00a", "cancelled")}
    assert named[("R2", "2027-02")] == {("LATE", "added")}
    assert named[("R3", "2027-02")] == {("D12a", "removed")}
    # The deals each run used stay as they were: run 3 saw the old amount.
    old = ledger.deals(3).set_index(["deal_id", "type"])
    new = ledger.deals(4).set_index(["deal_id", "type"])
    assert old.loc[("D10a", "booking"), "amount"] + 500000 == new.loc[("D10a", "booking"), "amount"]
    assert ("D12a", "booking") in old.index and ("D12a", "booking") not in new.index
    assert ledger.run(4)["n_deals_changed"] == 4


def test_a_close_records_the_deals_of_the_periods_it_pays(url, company):
    """A year of deals closed month by month: each close records the rows dated in its
    period or before (a later row is a later close's fact), and a row entering with its
    own period is not a change; a late row of a closed period still is, and is named."""
    folder, plan, targets, actuals = company
    ledger = Ledger(url)
    ledger.init()
    close_all(ledger, plan, targets, actuals, MONTHS[:2])
    assert set(ledger.deals(1)["date"].str[:7]) == {"2027-01"}
    assert len(ledger.deals(2)) == dated_through(base_deals(), "2027-02")
    assert ledger.run(1)["n_deals"] == dated_through(base_deals(), "2027-01")
    assert ledger.run(2)["n_deals_changed"] == 0
    late = write_deals(folder, [*base_deals(), ("LATE", "2027-02-20", "R2", "a", 40000)], "v2.csv")
    result = ledger.close([plan], targets, late, "2027-03")
    assert ledger.run(3)["n_deals_changed"] == 1
    assert len(ledger.deals(3)) == dated_through(base_deals(), "2027-03") + 1
    (line,) = ledger.lines("2027-03").query("kind == 'adjustment'").itertuples()
    assert line.rep_id == "R2" and line.for_period == "2027-02"
    assert list(ledger.explain(int(line.id))["deals"]["deal_id"]) == ["LATE"]
    assert result.lines["cause"].str.startswith("deals: LATE added").any()


def test_a_re_credited_deal_is_named_for_both_reps(url, company):
    folder, plan, targets, actuals = company
    ledger = Ledger(url)
    ledger.init()
    deals = _deal_rows(base_deals())
    close_all(ledger, plan, targets, write_deals(folder, deals, "v1.csv"), MONTHS[:2])
    moved = [(d[0], d[1], "R3", *d[3:]) if d[0] == "D01a" else d for d in deals]
    ledger.close([plan], targets, write_deals(folder, moved, "v2.csv"), "2027-03")
    for row in ledger.lines("2027-03").query("kind == 'adjustment'").itertuples():
        deals_of = ledger.explain(int(row.id))["deals"]
        assert set(deals_of["change"]) == {"re-credited"} and set(deals_of["deal_id"]) == {"D01a"}
        assert row.rep_id in ("R2", "R3")


def test_a_plan_change_names_the_plan_versions(url, company):
    folder, plan, targets, actuals = company
    ledger = Ledger(url)
    ledger.init()
    ledger.close([plan], targets, actuals, "2027-01")
    old_hash = ledger.run(1)["plans"]["field"]
    write_plan(folder, rate=0.06)
    result = ledger.close([plan], targets, actuals, "2027-02")
    new_hash = ledger.run(2)["plans"]["field"]
    adj = result.lines[result.lines["kind"] == "adjustment"]
    assert (adj["cause"] == f"plan field changed ({old_hash[:8]} → {new_hash[:8]})").all()


def test_every_line_keeps_the_parts_of_its_explanation(url, company):
    folder, plan, targets, actuals = company
    ledger = Ledger(url)
    ledger.init()
    close_all(ledger, plan, targets, actuals, MONTHS[:3])
    record = attain.payouts(plan, targets, actuals, folder / "company").explanation(internal=True)
    march = ledger.statements("2027-03")
    for row in march.lines.itertuples():
        got = march.parts[march.parts["line_id"] == row.line_id]
        want = record[
            (record["rep_id"] == row.rep_id)
            & (record["period"] == "2027-03")
            & (record["component"] == row.component)
        ]
        assert got["part"].tolist() == want["part"].tolist()
        assert got["amount"].tolist() == want["amount"].tolist()
        assert got["rate"].tolist() == want["rate"].tolist()
        assert got["base"].tolist() == want["base"].tolist()
    # An adjustment's parts: the period recomputed, less what the ledger held for it.
    write_plan(folder, rate=0.06)
    ledger.close([plan], targets, actuals, "2027-04")
    april = ledger.statements("2027-04")
    sums = (
        april.parts.assign(
            minor=april.parts["amount"].str.replace(".", "", regex=False).astype(int)
        )
        .groupby("line_id")["minor"]
        .sum()
    )
    assert sums.to_dict() == dict(
        zip(april.lines["line_id"], april.lines["amount_minor"], strict=True)
    )
    adj = april.parts[april.parts["kind"] == "adjustment"]
    assert adj.groupby("line_id")["part"].last().str.startswith("recorded for 2027-0").all()


def test_statements_show_status_holds_and_manual_adjustments(url, company, tmp_path):
    folder, plan, targets, actuals = company
    ledger = Ledger(url)
    ledger.init()
    ledger.close([plan], targets, actuals, "2027-01")
    ledger.adjust("2027-02", "R1", 50000, "bonus", by="hr", reason="launch award")
    ledger.close([plan], targets, actuals, "2027-02")
    ledger.approve("2027-02", by="finance")
    ledger.hold("2027-02", rep="R2", by="finance", reason="disputed deal")
    ledger.pay("2027-02", rep="R3", by="payroll")
    st = ledger.statements("2027-02")
    status = dict(
        zip(st.lines["rep_id"] + "/" + st.lines["component"], st.lines["status"], strict=True)
    )
    assert status == {
        "R1/commission": "approved",
        "R1/manual": "approved",
        "R2/commission": "held",
        "R3/commission": "paid",
    }
    held = st.lines[st.lines["status"] == "held"]
    assert (held["hold_reason"] == "disputed deal").all()
    manual = st.lines[st.lines["kind"] == "manual"].iloc[0]
    assert (manual["reason_code"], manual["author"], manual["amount"]) == ("bonus", "hr", "500.00")
    text = st.markdown("R1")
    assert "bonus by hr" in text and "launch award" in text and "| approved |" in text
    assert "held: disputed deal" in st.markdown("R2")
    assert (
        main(
            [
                "ledger",
                "statements",
                "--ledger",
                url,
                "--period",
                "2027-02",
                "--out",
                str(tmp_path / "st"),
            ]
        )
        == 0
    )
    assert (tmp_path / "st" / "statements" / "R2.md").read_text().count("disputed deal") >= 1
    lines_csv = pd.read_csv(tmp_path / "st" / "lines.csv", dtype=str, keep_default_na=False)
    assert list(lines_csv.columns[:9]) == [
        "line_id",
        "rep_id",
        "period",
        "plan",
        "component",
        "kind",
        "for_period",
        "amount",
        "status",
    ]
    assert (
        main(
            [
                "ledger",
                "statements",
                "--ledger",
                url,
                "--period",
                "2027-05",
                "--out",
                str(tmp_path / "none"),
            ]
        )
        == 2
    )


def test_show_line_explains_a_paid_line_from_the_ledger_alone(tmp_path, company, capsys):
    folder, plan, targets, actuals = company
    db = str(tmp_path / "pay.db")
    Ledger(db).init()
    ledger = Ledger(db)
    close_all(ledger, plan, targets, actuals, MONTHS[:2])
    late = write_deals(folder, [*base_deals(), ("LATE", "2027-02-20", "R2", "a", 40000)], "v2.csv")
    ledger.close([plan], targets, late, "2027-03")
    ledger.approve("2027-03", by="finance")
    ledger.pay("2027-03", by="payroll", reason="March run")
    line = int(ledger.lines("2027-03").query("kind == 'adjustment'")["id"].iloc[0])
    for path in (plan, targets, actuals, late):  # the ledger alone explains it
        path.unlink()
    capsys.readouterr()
    assert main(["ledger", "show", "--ledger", db, "--line", str(line)]) == 0
    out = capsys.readouterr().out
    assert f"line {line}: R2, 2027-03, commission (adjustment for 2027-02)" in out
    assert "paid" in out and "LATE" in out and "booked 40000.00 on 2027-02-20" in out
    assert "recorded for 2027-02 before this close" in out and "March run" in out
    assert main(["ledger", "show", "--ledger", db]) == 2
    assert main(["ledger", "show", "--ledger", db, "--line", "999"]) == 2


def test_bulk_inserts_keep_every_value(url):
    """COPY on PostgreSQL, executemany on SQLite: text with commas, quotes, new lines and
    backslashes, empty text, NULL and big integers come back as they went in."""
    from attain.ledger import store

    ledger = Ledger(url)
    ledger.init()
    scratch = sa.Table(
        "scratch",
        sa.MetaData(),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("maybe", sa.Text, nullable=True),
    )
    text = ["", "a,b", 'say "hi"', "two\nlines", "\\N?", "é ü 中", "x" * 300]
    frame = pd.DataFrame(
        {
            "n": np.arange(len(text), dtype=np.int64) * (2**40) - 7,
            "text": text,
            "maybe": [None, "", "m", None, "\\", ",", '"'],
        }
    )
    with ledger._tx() as conn:
        scratch.create(conn)
        store.insert_frame(conn, scratch, frame)
        got = pd.DataFrame(
            conn.execute(sa.select(scratch)).fetchall(), columns=["n", "text", "maybe"]
        )
    assert got["n"].tolist() == frame["n"].tolist()
    assert got["text"].tolist() == text
    assert got["maybe"].tolist() == frame["maybe"].tolist()


@pytest.mark.parametrize(
    "column",
    [
        ["it's", "it's", "it's", "it's"],  # a quote in a literal
        ["a?b", "a?b", "a?b", "a?b"],  # not a parameter inside a literal
        [None, None, None, None],
        ["same", "other"],  # differs at the last row only
        ["x\x00y", "x\x00y", "x\x00y", "x\x00y"],  # NUL: bound, not a literal
        ["", "", "", ""],
    ],
)
def test_bulk_inserts_write_a_column_of_one_value_as_it_is(url, column):
    """SQLite writes a column holding one value into the statement (:func:`_literal`):
    the rows read back as they went in, whether the column is constant or not."""
    from attain.ledger import store

    ledger = Ledger(url)
    ledger.init()
    scratch = sa.Table(
        "scratch",
        sa.MetaData(),
        sa.Column("k", sa.Integer, nullable=False),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.Column("text", sa.Text, nullable=True),
    )
    n = 1_300  # more than one statement's rows
    if any(v is not None and "\x00" in v for v in column):  # PostgreSQL text holds no NUL
        assert store._literal(pd.Series(column * 2)) is None
        if "postgresql" in str(url):
            return
    frame = pd.DataFrame(
        {
            "k": np.arange(n),
            "n": np.full(n, -(2**40)),
            "text": [column[0]] * (n - 1) + [column[-1]],
        }
    )
    with ledger._tx() as conn:
        scratch.create(conn)
        store.insert_frame(conn, scratch, frame)
        got = conn.execute(sa.select(scratch).order_by(scratch.c.k)).fetchall()
    assert [r.n for r in got] == frame["n"].tolist()
    assert [r.text for r in got] == frame["text"].tolist()
    assert store._literal(frame["n"]) == str(-(2**40))
    assert store._literal(frame["k"]) is None


def test_colliding_key_hashes_fall_back_to_the_keys_text(url, company, monkeypatch):
    """Key hashes that collide among a close's own rows (forced here: every deal id
    hashes alike) are matched on the keys' text; no deal index is kept until a close's
    hashes are distinct again, which then reads the current versions from ``deals``."""
    from attain.ledger import deals as ledger_deals

    folder, plan, targets, actuals = company
    ledger = Ledger(url)
    ledger.init()
    rows = _deal_rows(base_deals())
    real = ledger_deals._text_hash
    monkeypatch.setattr(ledger_deals, "_text_hash", lambda v: np.zeros(len(v), dtype=np.int64))
    ledger.close([plan], targets, write_deals(folder, rows, "v1.csv"), "2027-01")
    late = [*rows, ("LATE", "2027-01-20", "R2", "a", 40000)]
    result = ledger.close([plan], targets, write_deals(folder, late, "v2.csv"), "2027-02")
    adj = result.lines[result.lines["kind"] == "adjustment"]
    assert list(adj["rep_id"]) == ["R2"]
    assert adj["cause"].iloc[0].startswith("deals: LATE added (booked 40000.00 on 2027-01-20)")
    assert ledger.run(2)["n_deals_changed"] == 1
    with ledger._tx() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM deal_index")).scalar() == 0
    monkeypatch.setattr(ledger_deals, "_text_hash", real)
    resized = [(*d[:4], 45000) if d[0] == "LATE" else d for d in late]
    result = ledger.close([plan], targets, write_deals(folder, resized, "v3.csv"), "2027-03")
    adj = result.lines[result.lines["kind"] == "adjustment"]
    assert adj["cause"].str.startswith("deals: LATE resized (40000.00 → 45000.00)").all()
    assert ledger.run(3)["n_deals_changed"] == 1
    assert_deal_index_is_current(ledger, run=3)


def test_a_new_deal_whose_key_hash_is_a_gone_deals_is_told_apart(url, company, monkeypatch):
    """A new deal row whose key hashes like that of a row that went (forced here) is
    matched to it by hash, and the old row's key tells them apart: one removed, one
    added, both named; the deal versions are as if the hashes differed."""
    from attain.ledger import deals as ledger_deals

    folder, plan, targets, actuals = company
    real = ledger_deals._text_hash

    def alike(values):
        values = np.asarray(values, dtype=object)
        return real(np.where(values == "NEW", "D01a", values).astype(object))

    monkeypatch.setattr(ledger_deals, "_text_hash", alike)
    ledger = Ledger(url)
    ledger.init()
    rows = _deal_rows(base_deals())
    ledger.close([plan], targets, write_deals(folder, rows, "v1.csv"), "2027-01")
    ledger.close([plan], targets, write_deals(folder, rows, "v2.csv"), "2027-02")
    was = next(d for d in rows if d[0] == "D01a")
    swapped = [("NEW", *d[1:4], d[4] + 7000) if d[0] == "D01a" else d for d in rows]
    ledger.close([plan], targets, write_deals(folder, swapped, "v3.csv"), "2027-03")
    named = set()
    for row in ledger.lines("2027-03").query("kind == 'adjustment'").itertuples():
        deals_of = ledger.explain(int(row.id))["deals"]
        named |= set(zip(deals_of["deal_id"], deals_of["change"], strict=True))
    assert named == {("D01a", "removed"), ("NEW", "added")}
    now = ledger.deals(3).set_index("deal_id")
    assert "D01a" not in now.index and now.loc["NEW", "rep_id"] == was[2]
    assert ledger.run(3)["n_deals_changed"] == 2
    assert_deal_index_is_current(ledger, run=3)


def test_a_close_is_one_bulk_transaction_and_others_keep_full_sync(tmp_path, company, monkeypatch):
    """SQLite: a close's transaction runs with a large page cache and synchronous NORMAL
    (atomic either way in WAL mode); the connection goes back to FULL afterwards, so
    approvals and payments are durable at once."""
    from attain.ledger import api

    folder, plan, targets, actuals = company
    ledger = Ledger(tmp_path / "pay.db")
    ledger.init()
    seen = {}
    insert = api._insert_lines

    def spy(conn, *args, **kw):
        for name in ("synchronous", "cache_size", "journal_mode"):
            seen[name] = conn.exec_driver_sql(f"PRAGMA {name}").scalar()
        return insert(conn, *args, **kw)

    monkeypatch.setattr(api, "_insert_lines", spy)
    ledger.close([plan], targets, actuals, "2027-01")
    assert seen == {"synchronous": 1, "cache_size": -262144, "journal_mode": "wal"}
    with ledger._tx() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -2000

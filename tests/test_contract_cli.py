"""The contract every command keeps, whatever its input: exit 0, 2 or 3; never a
traceback; a located message on 2; and the --out folder afterwards holds either the
previous complete output set or the new complete one.

Rule files and CSV tables of a tiny company are mutated by hypothesis (hostile
numbers and ids, cut rows, deleted lines, stray characters, deep nesting) and fed to
every command that reads them. The in-suite run is small; ``make fuzz`` runs the same
properties with many more examples (``ATTAIN_FUZZ_EXAMPLES``).

The failures this contract was written against each have a regression test below.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attain.cli.main import main
from attain.output import MANIFEST, read_manifest

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "tests" / "corpus" / "_base"
PLAN = (ROOT / "rules" / "plan_field_rep.yaml").read_text().replace("company: ", "# company: ")
EXAMPLES = int(os.environ.get("ATTAIN_FUZZ_EXAMPLES", "4"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 10,  # the in-suite run is the same every time
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ALLOCATION = """\
kind: allocation
name: tiny
company_target: {total: 8_000_000, currency: EUR}
buffer: {region: 1.0, team: 1.0, rep: 1.05}
participants: {role: {not_in: [manager]}}
fair_share: {basis: blend, potential_weight: 0.6}
rounding: {unit: 1000}
rules:
  - {name: rep_growth, type: growth, level: rep, min: -0.5, max: 2.0}
  - {name: rep_capacity, type: capacity, level: rep}
"""
TERRITORY = """\
kind: territory
name: tiny
reps: {role: [rep, senior_rep]}
candidates: {nearest: 3}
balance:
  - {name: workload_band, measure: workload, min: 0.5, max: 1.5}
capacity: {max_units: 40}
time_limit: 5
"""
SCENARIO = """\
kind: scenario
name: tiny
company: data
plans: [plan.yaml]
targets: {file: targets.csv}
trials: 5
performance: {distribution: lognormal, mean: 1.0, sd: 0.2}
"""
#: A located message: file:line:col:, file: row N, file: column C:, or file: <problem>.
LOCATED = re.compile(r"^(\d[\d,]* problems; the first \d+:\n)?[^\s:][^:\n]*:( |\d+:\d+:)")


# --- the contract ------------------------------------------------------------------------


def run(args: list[str]) -> tuple[int, str, str]:
    """Run the CLI in this process; its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def snapshot(folder: Path) -> dict[str, bytes] | None:
    """Every file under ``folder`` and its bytes (None: no folder)."""
    if not folder.exists():
        return None
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def whole_set(out: Path, before: dict[str, bytes] | None) -> str:
    """``previous`` or ``new``: the state of ``out`` is one complete set, never a mix."""
    now = snapshot(out)
    if now == before:
        return "previous"
    assert now is not None, f"{out} is gone"
    manifest = read_manifest(out)
    assert manifest is not None, f"{out} changed but holds no manifest: {sorted(now)}"
    kept = set(manifest.get("kept", []))
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    found = {
        name: hashlib.sha256(data).hexdigest()
        for name, data in now.items()
        if name != MANIFEST and name.split("/")[0] not in kept
    }
    assert found == listed, "the folder is not the set its manifest lists"
    return "new"


def no_strays(out: Path) -> None:
    """No staging folder or temporary file is left beside or inside ``out``."""
    strays = [p.name for p in out.parent.iterdir() if ".attain-stage-" in p.name]
    strays += [p.name for p in out.parent.iterdir() if ".attain-old-" in p.name]
    if out.exists():
        strays += [p.name for p in out.rglob("*.tmp")]
    assert not strays, strays


def keeps_contract(code: int, out: str, err: str) -> None:
    assert code in (0, 2, 3), (code, err)
    assert "Traceback" not in out + err and "internal error" not in err, err
    if code == 2:  # (after the progress bar's label, which goes to stderr too)
        message = "\n".join(line for line in err.splitlines() if line != "simulating")
        assert LOCATED.match(message), err


# --- a tiny company and a previous output of every command ----------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """The tiny company (tests/corpus/_base), rule files for it, and targets."""
    root = tmp_path_factory.mktemp("world")
    shutil.copytree(BASE, root / "data")
    (root / "plan.yaml").write_text(PLAN)
    (root / "allocation.yaml").write_text(ALLOCATION)
    (root / "territory.yaml").write_text(TERRITORY)
    code, _, err = run(["allocate", root / "allocation.yaml", "--data", root / "data",
                        "--out", root / "alloc"])  # fmt: skip
    assert code == 0, err
    shutil.copy(root / "alloc" / "targets.csv", root / "targets.csv")
    (root / "scenario.yaml").write_text(SCENARIO)
    return root


def fresh(world: Path, tmp_path: Path) -> Path:
    """A copy of the world to mutate."""
    here = tmp_path / f"w{len(list(tmp_path.iterdir()))}"
    shutil.copytree(world, here, ignore=shutil.ignore_patterns("alloc"))
    return here


def commands(w: Path, out: Path) -> dict[str, list[object]]:
    data = w / "data"
    return {
        "payout": ["payout", w / "plan.yaml", "--targets", w / "targets.csv",
                   "--actuals", data / "actuals.csv", "--data", data, "--out", out],
        "allocate": ["allocate", w / "allocation.yaml", "--data", data, "--out", out],
        "territory": ["territory", w / "territory.yaml", "--data", data, "--out", out],
        "simulate": ["simulate", w / "scenario.yaml", "--out", out],
        "validate": ["validate", w / "plan.yaml", w / "allocation.yaml", w / "territory.yaml",
                     w / "scenario.yaml", data, "--data", data],
    }  # fmt: skip


def rename_rep(w: Path, old: str, new: str) -> None:
    """Give rep ``old`` the id ``new`` in every table and the targets."""
    for path in [*(w / "data").glob("*.csv"), w / "targets.csv"]:
        path.write_text(path.read_text().replace(old, new))


def check_command(args: list[object], out: Path) -> None:
    """Run once on good input (the previous set), then on the mutated input: the contract."""
    before = snapshot(out)
    code, stdout, err = run(args)
    keeps_contract(code, stdout, err)
    if "--out" in args:
        state = whole_set(out, before)
        # a failed run leaves the previous set; a good one the new (which may be
        # byte-identical to the previous when the mutation changed nothing that counts)
        assert code == 0 or state == "previous", (code, state, err)
        no_strays(out)


# --- mutations -------------------------------------------------------------------------

HOSTILE_CELLS = [
    "", " ", "1e17", "1e308", "-1e308", "1e-400", "nan", "inf", "-inf", "60152.195",
    "12k", "0x10", "1_000", "-0", "9" * 40, "../../../x/pwn", "/abs/pwn", "a\x00b",
    "R\u202e1", "\ufeffR1", "'", '"', '"unclosed', "=cmd|' /C calc'!A0", "true", "2027-02-30",
    "2027-13", "NULL", "None", "\\", "%s%n", "R00001", "M0001", "cloud", "cancellation",
]  # fmt: skip
HOSTILE_NUMBERS = [
    ".inf", "-.inf", ".nan", "1e308", "-1e308", "1e17", "1e-17", "0", "-1", "1e400",
    "99999999999999999999999", "0.0000001", "-0.0", "1_000", "'10'", "null", "[]", "{}",
    "[" * 200 + "]" * 200, "&a", "*a", "!!python/object:os.system", "10%",
]  # fmt: skip


@st.composite
def table_mutation(draw):
    table = draw(st.sampled_from(["org", "accounts", "history", "actuals"]))
    kind = draw(st.sampled_from(["cell", "cell", "cut", "drop-cell", "dup-header", "row"]))
    value = draw(st.sampled_from(HOSTILE_CELLS) | st.text(max_size=6))
    return table, kind, value, draw(st.integers(0, 10**6)), draw(st.integers(0, 10**6))


def mutate_table(path: Path, kind: str, value: str, a: int, b: int) -> None:
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    row = 1 + a % (len(lines) - 1)
    cells = lines[row].split(",")
    if kind == "cell":
        cells[b % len(cells)] = value.replace(",", ";").replace("\n", " ")
        lines[row] = ",".join(cells)
    elif kind == "drop-cell":
        lines[row] = ",".join(cells[: b % len(cells)])
    elif kind == "dup-header":
        lines[0] = ",".join([*header, header[b % len(header)]])
    elif kind == "row":
        lines.insert(row, ",".join([value.replace(",", ";")] * len(header)))
    text = "\n".join(lines) + "\n"
    if kind == "cut":
        text = text[: len(lines[0]) + 1 + b % max(1, len(text) - len(lines[0]) - 1)]
    path.write_text(text, encoding="utf-8", errors="surrogatepass")


@st.composite
def rule_mutation(draw):
    kind = draw(st.sampled_from(["number", "number", "drop-line", "insert", "nest"]))
    value = draw(st.sampled_from(HOSTILE_NUMBERS) | st.text(max_size=4))
    return kind, value, draw(st.integers(0, 10**6))


def mutate_rules(path: Path, kind: str, value: str, a: int) -> None:
    text = path.read_text()
    if kind == "number":
        numbers = list(re.finditer(r"(?<=[:\s\[,])-?\d[\d_.]*", text))
        if numbers:
            m = numbers[a % len(numbers)]
            text = text[: m.start()] + value + text[m.end() :]
    elif kind == "drop-line":
        lines = text.splitlines()
        del lines[a % len(lines)]
        text = "\n".join(lines) + "\n"
    elif kind == "insert":
        at = a % (len(text) + 1)
        text = text[:at] + value + text[at:]
    else:
        text += "extra: " + "[" * (50 + a % 2000) + "]" * (50 + a % 2000) + "\n"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")


# --- the properties --------------------------------------------------------------------


@FUZZ
@given(mutation=table_mutation(), command=st.sampled_from(["payout", "validate", "allocate"]))
def test_fuzzed_tables_keep_the_contract(world, tmp_path, mutation, command):
    w = fresh(world, tmp_path)
    table, kind, value, a, b = mutation
    out = w / "out"
    args = commands(w, out)[command]
    if command != "validate":
        code, _, err = run(args)  # the previous complete set
        assert code == 0, err
    mutate_table(w / "data" / f"{table}.csv", kind, value, a, b)
    check_command(args, out)


@FUZZ
@given(
    mutation=rule_mutation(),
    command=st.sampled_from(["payout", "allocate", "simulate", "validate"]),
)
def test_fuzzed_rule_files_keep_the_contract(world, tmp_path, mutation, command):
    w = fresh(world, tmp_path)
    out = w / "out"
    args = commands(w, out)[command]
    if command != "validate":
        code, _, err = run(args)
        assert code == 0, err
    file = {"payout": "plan.yaml", "allocate": "allocation.yaml", "simulate": "scenario.yaml"}
    mutate_rules(w / file.get(command, "plan.yaml"), *mutation)
    check_command(args, out)


@settings(max_examples=max(3, EXAMPLES // 2), deadline=None, derandomize=EXAMPLES <= 10)
@given(
    reps=st.integers(-5, 40) | st.sampled_from([10**12]),
    seed=st.integers(-(2**70), 2**70),
    products=st.integers(-1, 8),
)
def test_fuzzed_sample_arguments_keep_the_contract(tmp_path_factory, reps, seed, products):
    out = tmp_path_factory.mktemp("s") / "company"
    assert run(["sample", "--out", out, "--reps", 3])[0] == 0
    before = snapshot(out)
    args = ["sample", "--out", out, "--reps", reps, "--seed", seed, "--products", products]
    if reps > 10**6:
        args[args.index("--reps") + 1] = "12x"  # the argument check, not a huge draw
    code, stdout, err = run(args)
    keeps_contract(code, stdout, err)
    assert code == 0 or whole_set(out, before) == "previous"
    whole_set(out, before)
    no_strays(out)


def test_territory_keeps_the_contract_on_a_cut_table(world, tmp_path):
    w = fresh(world, tmp_path)
    out = w / "out"
    args = commands(w, out)["territory"]
    assert run(args)[0] == 0
    mutate_table(w / "data" / "accounts.csv", "cut", "", 0, 2000)
    check_command(args, out)


# --- regressions: each failure the contract was written against -------------------------


def test_a_hostile_rep_id_never_writes_outside_out(world, tmp_path):
    for rep_id in ("../../../../x/pwn", "/abs/pwn", "..", "a\\b", "R\x00x"):
        w = fresh(world, tmp_path)
        rename_rep(w, "R00001", rep_id)
        before = set(tmp_path.rglob("*"))
        code, _, err = run(commands(w, w / "out")["payout"] + ["--html"])
        assert code == 2 and "column rep_id" in err, err
        assert run(["validate", w / "data"])[0] == 2
        assert not (w / "out").exists()
        assert set(tmp_path.rglob("*")) == before
        # where `out / "statements" / rep_id` used to write
        escaped = Path(os.path.normpath(w / "out" / "statements" / f"{rep_id}.md"))
        assert "\x00" in rep_id or not escaped.exists()


def test_statement_names_of_unusual_ids_are_encoded_inside_out(world, tmp_path):
    w = fresh(world, tmp_path)
    rename_rep(w, "R00001", "R 1%")
    rename_rep(w, "R00002", "CON")
    code, _, err = run(commands(w, w / "out")["payout"] + ["--html"])
    assert code == 0, err
    names = {p.name for p in (w / "out" / "statements").iterdir()}
    assert {"R%201%25.md", "R%201%25.html", "%43ON.md"} <= names


def test_a_huge_deal_amount_is_a_located_error_not_a_dropped_deal(world, tmp_path):
    for amount in ("1e17", "1e18", "1e20", "1e308"):
        w = fresh(world, tmp_path)
        mutate_table(w / "data" / "actuals.csv", "cell", amount, 0, 4)
        code, _, err = run(commands(w, w / "out")["validate"])
        assert code == 2 and "row 2, column amount: too large" in err, err
        if amount == "1e17":
            code, _, err = run(commands(w, w / "out")["payout"])
            assert code == 2 and "row 2, column amount: too large" in err, err


def test_a_deal_row_cut_short_is_a_located_error(world, tmp_path):
    w = fresh(world, tmp_path)
    actuals = w / "data" / "actuals.csv"
    lines = actuals.read_text().splitlines()
    lines[-1] = ",".join(lines[-1].split(",")[:4]) + ",410"  # cut inside 41081.60
    actuals.write_text("\n".join(lines))
    code, _, err = run(commands(w, w / "out")["payout"])
    assert code == 2, err
    assert f"actuals.csv: row {len(lines)}: the row has 5 cells where the header has 9" in err


def test_a_duplicate_header_is_a_located_error(world, tmp_path):
    w = fresh(world, tmp_path)
    mutate_table(w / "data" / "org.csv", "dup-header", "", 0, 6)  # capacity twice
    code, _, err = run(commands(w, w / "out")["validate"])
    assert code == 2 and "org.csv: row 1, column capacity: column `capacity` appears twice" in err


def test_a_sub_cent_amount_is_an_error_as_the_docs_say(world, tmp_path):
    w = fresh(world, tmp_path)
    mutate_table(w / "data" / "actuals.csv", "cell", "60152.195", 0, 4)
    code, _, err = run(commands(w, w / "out")["payout"])
    assert code == 2 and "row 2, column amount: has more decimals than" in err, err
    assert "is not a valid amount" in (ROOT / "docs" / "plans.md").read_text()


def test_interrupted_sample_over_an_earlier_one_leaves_the_earlier_one(tmp_path, monkeypatch):
    out = tmp_path / "company"
    assert run(["sample", "--out", out, "--reps", 30])[0] == 0
    before = snapshot(out)
    import attain.sample

    real = attain.sample.write_csv
    calls = []

    def interrupted(path, frame, *args, **kwargs):
        calls.append(path)
        if len(calls) == 3:  # org.csv written, accounts.csv too: Ctrl-C now
            raise KeyboardInterrupt
        return real(path, frame, *args, **kwargs)

    monkeypatch.setattr(attain.sample, "write_csv", interrupted)
    code, _, err = run(["sample", "--out", out, "--reps", 50, "--seed", 9])
    assert code == 130 and "interrupted" in err
    assert snapshot(out) == before
    no_strays(out)
    assert run(["validate", out])[0] == 0


def test_interrupted_payout_leaves_the_previous_payout(world, tmp_path, monkeypatch):
    from attain.incentive import result as incentive_result

    w = fresh(world, tmp_path)
    args = commands(w, w / "out")["payout"]
    assert run(args)[0] == 0
    before = snapshot(w / "out")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(incentive_result, "write_json", interrupted)  # summary.json, last
    assert run(args)[0] == 130
    assert snapshot(w / "out") == before
    no_strays(w / "out")


def test_a_second_payout_leaves_no_statement_of_the_first(world, tmp_path):
    w = fresh(world, tmp_path)
    args = commands(w, w / "out")["payout"]
    assert run(args)[0] == 0
    first = {p.name for p in (w / "out" / "statements").iterdir()}
    rename_rep(w, "R00001", "R00099")
    assert run(args)[0] == 0
    second = {p.name for p in (w / "out" / "statements").iterdir()}
    assert "R00001.md" in first and "R00001.md" not in second and "R00099.md" in second
    assert whole_set(w / "out", None) == "new"


def test_payout_refuses_to_replace_an_allocation_unless_forced(world, tmp_path):
    w = fresh(world, tmp_path)
    alloc = w / "alloc2"
    assert run(commands(w, alloc)["allocate"])[0] == 0
    before = snapshot(alloc)
    args = commands(w, alloc)["payout"]
    args[args.index("--targets") + 1] = alloc / "targets.csv"
    code, _, err = run(args)
    assert code == 2 and "holds the allocation output of another run" in err, err
    assert "holds an input of this run" in err
    assert snapshot(alloc) == before
    assert run([*args, "--force"])[0] == 0
    now = snapshot(alloc)
    assert now["targets.csv"] == before["targets.csv"]  # the input is kept
    assert now["summary.json"] != before["summary.json"]
    assert read_manifest(alloc)["kind"] == "payouts"


def test_a_folder_of_other_files_is_refused(world, tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    code, _, err = run(["sample", "--out", tmp_path, "--reps", 3])
    assert code == 2 and "is not empty and holds no attain output" in err
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]


def test_a_full_disk_is_exit_2_naming_the_folder(world, tmp_path, monkeypatch):
    import errno

    import attain.sample

    def full(path, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(attain.sample, "write_text", full)
    out = tmp_path / "company"
    code, _, err = run(["sample", "--out", out, "--reps", 3])
    assert code == 2, err
    assert err.startswith(f"{out}: cannot use this folder for the output: No space left")
    assert not out.exists()
    no_strays(out)


def test_deep_rule_files_are_exit_2(tmp_path):
    yaml_file = tmp_path / "deep.yaml"
    yaml_file.write_text("kind: plan\nx: " + "[" * 1000 + "]" * 1000 + "\n")
    json_file = tmp_path / "deep.json"
    json_file.write_text('{"kind": ' + "[" * 5000 + "]" * 5000 + "}")
    for path in (yaml_file, json_file):
        code, out, err = run(["validate", path])
        keeps_contract(code, out, err)
        assert code == 2 and "nested too deeply" in err


def test_validate_dev_zero_is_exit_2():
    code, out, err = run(["validate", "/dev/zero"])
    assert code == 2 and "/dev/zero: is not a regular file" in err


def test_a_negative_seed_is_exit_2(tmp_path):
    code, _, err = run(["sample", "--out", tmp_path / "s", "--seed", "-1"])
    assert code == 2 and "--seed" in err
    assert not (tmp_path / "s").exists()


def test_ctrl_c_is_130_not_1(monkeypatch):
    import attain

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(attain, "validate_paths", interrupted)
    code, _, err = run(["validate", "x.yaml"])
    assert code == 130 and err.strip().endswith("interrupted")


def test_problem_counts_are_exact(world, tmp_path):
    w = fresh(world, tmp_path)
    actuals = w / "data" / "actuals.csv"
    lines = actuals.read_text().splitlines()
    bad = [lines[0]] + [f"X{i:07d},2027-01-05,R00001,core,100.00,0.5,1,False,booking"
                        for i in range(2731)]  # fmt: skip
    actuals.write_text("\n".join(bad) + "\n")
    code, _, err = run(["validate", w / "data"])
    assert code == 2
    assert err.startswith("2,731 problems; the first 25:\n"), err[:200]
    assert "... and 2,706 more problems in this table" in err


# --- a ledger that is not a ledger ------------------------------------------------------

LEDGER_COMMANDS = {
    "init": [],
    "runs": [],
    "show": ["1"],
    "diff": ["1", "2"],
    "approve": ["--period", "2027-01", "--by", "f"],
    "hold": ["--period", "2027-01", "--rep", "R00001", "--by", "f"],
    "release": ["--period", "2027-01", "--rep", "R00001", "--by", "f"],
    "pay": ["--period", "2027-01", "--by", "p"],
    "adjust": ["--period", "2027-01", "--rep", "R00001", "--amount", "10", "--by", "f",
               "--code", "bonus"],
    "export": ["--period", "2027-01"],
}  # fmt: skip


def bad_ledgers(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Paths given as --ledger that are no ledger, and what the message must say."""
    text = tmp_path / "deals.csv"
    text.write_text("deal_id,date\nD1,2027-01-01\n")
    short = tmp_path / "short.db"
    short.write_bytes(b"SQLite")  # cut before the end of the header
    fake = tmp_path / "fake.db"
    fake.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)  # the header, then garbage
    folder = tmp_path / "folder.db"
    folder.mkdir()
    return {
        "text": (text, "the file is not a SQLite database"),
        "short": (short, "the file is not a SQLite database"),
        "fake": (fake, "not a database"),
        "folder": (folder, "is a folder, not a ledger file"),
        "device": (Path("/dev/null"), "is not a regular file"),
        "no folder": (tmp_path / "nowhere" / "pay.db", "no folder"),
    }


@pytest.mark.parametrize("command", sorted(LEDGER_COMMANDS))
def test_a_ledger_that_is_no_sqlite_database_is_exit_2_located(tmp_path, command):
    for name, (path, says) in bad_ledgers(tmp_path).items():
        before = path.read_bytes() if path.is_file() else None
        code, out, err = run(["ledger", command, "--ledger", path, *LEDGER_COMMANDS[command]])
        keeps_contract(code, out, err)
        assert code == 2, (name, err)
        assert err.startswith(f"{path}: ") and says in err, (name, err)
        assert (path.read_bytes() if path.is_file() else None) == before  # left as it was


def test_payout_close_on_no_ledger_is_exit_2_before_any_work(world, tmp_path, monkeypatch):
    import attain.incentive.api

    def computed(*args, **kwargs):
        raise AssertionError("computed the payouts before opening the ledger")

    monkeypatch.setattr(attain.incentive.api, "payouts", computed)
    w = fresh(world, tmp_path)
    args = commands(w, w / "out")["payout"][:-2]  # without --out
    for name, (path, says) in bad_ledgers(tmp_path).items():
        code, out, err = run([*args, "--ledger", path, "--close", "2027-01"])
        keeps_contract(code, out, err)
        assert code == 2 and err.startswith(f"{path}: ") and says in err, (name, err)
    assert not (w / "out").exists()


# --- targets and plans in other units than the money -----------------------------------


def test_a_sub_cent_target_is_a_located_error_not_rounded(world, tmp_path):
    w = fresh(world, tmp_path)
    targets = w / "targets.csv"
    lines = targets.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[3].split(",")
    cells[header.index("target")] = "1234.565"
    lines[3] = ",".join(cells)
    targets.write_text("\n".join(lines) + "\n")
    for command in ("payout", "simulate"):
        code, out, err = run(commands(w, w / command)[command])
        keeps_contract(code, out, err)
        assert code == 2, err
        assert (
            "targets.csv: row 4, column target: has more decimals than the currency's minor "
            "unit (2 decimal places): 1234.565" in err
        ), err


def _plan_in_unit(w: Path, minor_unit: int) -> None:
    plan = w / "plan.yaml"
    plan.write_text(
        plan.read_text().replace("rounding:\n", f"rounding:\n  minor_unit: {minor_unit}\n")
    )


def test_a_plan_coarser_than_the_money_never_rounds_a_deal(world, tmp_path):
    w = fresh(world, tmp_path)
    _plan_in_unit(w, 0)  # whole euros, while the deals are in cents
    code, out, err = run(commands(w, w / "out")["payout"])
    keeps_contract(code, out, err)
    assert code == 2, err
    assert "actuals.csv: row 2, column amount: has more decimals than the plan's minor unit" in err
    assert "rounding.minor_unit is 0, the company's minor_unit 2" in err
    assert not (w / "out").exists()


def test_a_plan_coarser_than_whole_amounts_converts_them_exactly(world, tmp_path):
    w = fresh(world, tmp_path)
    _plan_in_unit(w, 0)
    actuals = w / "data" / "actuals.csv"
    frame = actuals.read_text().splitlines()
    amount = frame[0].split(",").index("amount")
    rows = [r.split(",") for r in frame[1:]]
    for r in rows:
        r[amount] = str(round(float(r[amount])))
    actuals.write_text("\n".join([frame[0], *(",".join(r) for r in rows)]) + "\n")
    code, out, err = run(commands(w, w / "out")["payout"])
    assert code == 0, err


def test_a_plan_finer_than_the_money_converts_exactly(world, tmp_path):
    w = fresh(world, tmp_path)
    code, _, err = run(commands(w, w / "cents")["payout"])
    assert code == 0, err
    _plan_in_unit(w, 4)
    code, _, err = run(commands(w, w / "finer")["payout"])
    assert code == 0, err
    import pandas as pd

    cents = pd.read_csv(w / "cents" / "payouts.csv")
    finer = pd.read_csv(w / "finer" / "payouts.csv")
    # the same lines; paid year to date, each rep's year within half a cent of the cents'
    assert len(cents) == len(finer)
    year = [f.groupby(["rep_id", "component"])["amount"].sum() for f in (cents, finer)]
    assert (abs(year[0] - year[1]) <= 0.005 + 1e-9).all()


# --- rows of the wrong length and carriage returns, in every table the CLI reads -------

#: Each table the command line reads, and the commands that read it.
TABLE_READERS = {
    "org": ["validate", "payout"],
    "accounts": ["validate", "allocate"],
    "history": ["validate", "allocate"],
    "actuals": ["validate", "payout", "track"],
    "targets": ["payout", "track"],
}


def _table_path(w: Path, table: str) -> Path:
    return w / "targets.csv" if table == "targets" else w / "data" / f"{table}.csv"


def _reading(w: Path, command: str) -> list[object]:
    if command == "track":
        data = w / "data"
        return ["track", "--targets", w / "targets.csv", "--actuals", data / "actuals.csv",
                "--as-of", "2027-12-31", "--data", data, "--out", w / "out", "--trials", 5]  # fmt: skip
    return commands(w, w / "out")[command]


def _edit_rows(path: Path, edit) -> int:
    """Apply ``edit(cells)`` to some data rows; the header's number of cells."""
    lines = path.read_text().splitlines()
    n = len(lines[0].split(","))
    for i in range(1, len(lines)):
        cells = edit(i, lines[i].split(","))
        if cells is not None:
            lines[i] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    return n


@pytest.mark.parametrize(
    ("table", "command"), [(t, c) for t, cs in TABLE_READERS.items() for c in cs]
)
@pytest.mark.parametrize("where", ["one", "first", "every"])
def test_a_row_with_too_many_cells_is_a_located_error(world, tmp_path, table, command, where):
    """Before: with one cell too many on the first row (or every row), pandas took the
    first cell as an index and checked every cell one column to the left."""
    w = fresh(world, tmp_path)
    rows = {"one": {3}, "first": {1}, "every": None}[where]
    n = _edit_rows(
        _table_path(w, table),
        lambda i, cells: [*cells, "x"] if rows is None or i in rows else None,
    )
    code, out, err = run(_reading(w, command))
    keeps_contract(code, out, err)
    row = 4 if where == "one" else 2
    assert code == 2, err
    assert f"{table}.csv: row {row}: the row has {n + 1} cells where the header has {n}" in err
    assert "[long-row]" in err and "column" not in err.splitlines()[0 if where != "every" else 1]
    assert not (w / "out").exists()


@pytest.mark.parametrize(
    ("table", "command"), [(t, c) for t, cs in TABLE_READERS.items() for c in cs]
)
def test_a_quoted_lone_carriage_return_is_read_as_the_cells_text(world, tmp_path, table, command):
    """A quoted ``\\r`` is part of its cell: in an id it is a located control character
    (not a row cut short), in a column attain does not read it is kept as text."""
    w = fresh(world, tmp_path)
    path = _table_path(w, table)
    header = path.read_text().splitlines()[0].split(",")
    id_column = header.index("rep_id") if "rep_id" in header else 0

    def with_cr(i, cells):
        if i == 2:
            cells[id_column] = f'"{cells[id_column][:3]}\r{cells[id_column][3:]}"'
        return cells

    _edit_rows(path, with_cr)
    data = path.read_bytes()
    code, out, err = run(_reading(w, command))
    keeps_contract(code, out, err)
    assert code == 2, err
    assert f"{table}.csv: row 3, column {header[id_column]}: holds a control" in err, err
    assert "cells where the header" not in err
    # a quoted \r in a column of its own is the cell's text, and the run goes through
    lines = data.decode().replace("\r", "").split("\n")
    lines[0] += ",note"
    lines[1:] = [f'{line},"a\rb"' if line else line for line in lines[1:]]
    path.write_bytes("\n".join(lines).encode())
    code, out, err = run(_reading(w, command))
    keeps_contract(code, out, err)
    assert code == 0, err


def test_a_rep_missing_from_the_targets_is_a_warning_not_a_silent_zero(world, tmp_path):
    w = fresh(world, tmp_path)
    plan = (ROOT / "rules" / "plan_attainment_curve.yaml").read_text()
    (w / "curve.yaml").write_text(plan.replace("company: ", "# company: "))
    targets = w / "targets.csv"
    targets.write_text(
        "".join(line for line in targets.read_text().splitlines(True) if "R00002," not in line)
    )
    args = commands(w, w / "out")["payout"]
    args[1] = w / "curve.yaml"
    code, out, err = run(args)
    assert code == 0, err
    assert (
        "warning: attainment_curve: 1 participant(s) have credited sales but no target in "
        "fiscal year 2027, and are paid 0: R00002" in err
    )
    import json

    codes = [n["code"] for n in json.loads((w / "out" / "summary.json").read_text())["warnings"]]
    assert "sold-without-target" in codes
    # on amounts (a commission plan) the rep is paid without a target: no warning
    code, out, err = run(commands(w, w / "out2")["payout"])
    assert code == 0 and "sold-without-target" not in err


def test_payout_reads_the_org_alone_of_the_company(world, tmp_path):
    """History and accounts pay no one: a payout neither reads nor holds them."""
    w = fresh(world, tmp_path)
    (w / "data" / "history.csv").write_text("not,a,history\n1,2\n")
    code, out, err = run(commands(w, w / "out")["payout"])
    assert code == 0, err
    assert run(commands(w, w / "out")["validate"])[0] == 2  # validate still reads them all


def test_a_full_disk_met_by_a_writer_naming_no_file_names_the_folder(tmp_path, monkeypatch):
    """pandas' to_csv raises ENOSPC without a file name: the message named nothing."""
    import errno

    import attain.sample

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(attain.sample, "write_csv", full)
    out = tmp_path / "company"
    code, _, err = run(["sample", "--out", out, "--reps", 3])
    assert code == 2, err
    assert err.startswith(f"{out}: cannot use this folder for the output: No space left"), err
    assert not out.exists()
    no_strays(out)

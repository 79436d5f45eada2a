"""Atomic, byte-stable writers."""

from __future__ import annotations

import pandas as pd
import pytest

from attain.output import atomic_path, write_csv, write_json


def test_failed_write_leaves_nothing_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_json_is_byte_stable(tmp_path):
    write_json(tmp_path / "a.json", {"b": 1, "a": [1.5, "é"]})
    write_json(tmp_path / "b.json", {"a": [1.5, "é"], "b": 1})
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_csv_has_unix_newlines(tmp_path):
    write_csv(tmp_path / "x.csv", pd.DataFrame({"a": [1, 2]}))
    assert (tmp_path / "x.csv").read_bytes() == b"a\n1\n2\n"


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"rep_id": ["R1", "R2"], "target": [26000, -3]}),
        pd.DataFrame({"a": pd.array(["é ü 東京", " y "], dtype="string"), "b": [0, 2**62]}),
        pd.DataFrame({"a": ["p", "q", "x", "y"], "b": [0, 0, 1, 2]}).iloc[2:],
        # text pandas holds in Arrow in several chunks (a concatenation): joined the same
        pd.DataFrame(
            {
                "a": pd.concat(
                    [pd.Series(["x"], dtype="string[pyarrow]"), pd.Series(["y"], dtype="str")],
                    ignore_index=True,
                ),
                "b": [1, 2],
            }
        ),
        # Each of these is left to pandas: a comma, a quote, an empty or missing cell,
        # something not text in a text column, a float, a boolean, a category.
        pd.DataFrame({"a": ["x,1", "y"], "b": [1, 2]}),
        pd.DataFrame({"a": ['x"', "y"], "b": [1, 2]}),
        pd.DataFrame({"a": ["", "y"], "b": [1, 2]}),
        pd.DataFrame({"a": [None, "y"], "b": [1, 2]}),
        pd.DataFrame({"a": ["x", 3], "b": [1, 2]}),
        pd.DataFrame({"a": ["x", "y"], "b": [1.5, 2.0]}),
        pd.DataFrame({"a": ["x", "y"], "b": [True, False]}),
        pd.DataFrame({"a": pd.Categorical(["x", "y"]), "b": [1, 2]}),
    ],
)
def test_csv_is_the_bytes_pandas_writes(tmp_path, frame):
    """Integer and plain-text tables are joined by Arrow; the file is pandas' to the byte."""
    path = write_csv(tmp_path / "t.csv", frame)
    assert path.read_bytes() == frame.to_csv(index=False, lineterminator="\n").encode()


def test_written_files_are_not_private(tmp_path):
    import os
    import stat

    path = write_json(tmp_path / "s.json", {})
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode == 0o666 & ~_current_umask()


def _current_umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- output sets -----------------------------------------------------------------------

import errno  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from attain import output  # noqa: E402
from attain.errors import OutputError  # noqa: E402
from attain.output import (  # noqa: E402
    MANIFEST,
    output_set,
    read_manifest,
    safe_filename,
    unsafe_filename,
)


def _tree(folder):
    """Every file under ``folder`` with its bytes (the state a reader would see)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _write_set(out, files, kind="payouts", **kw):
    with output_set(out, kind=kind, **kw) as stage:
        for name, text in files.items():
            write_text_to = stage.path / name
            write_text_to.parent.mkdir(parents=True, exist_ok=True)
            write_text_to.write_text(text)
    return stage


def test_a_set_replaces_the_previous_one_whole(tmp_path):
    out = tmp_path / "out"
    _write_set(out, {"payouts.csv": "old", "statements/R1.md": "r1", "statements/R2.md": "r2"})
    _write_set(out, {"payouts.csv": "new", "statements/R1.md": "r1 new"})
    # R2's statement of the earlier run does not survive beside the new set
    assert set(_tree(out)) == {MANIFEST, "payouts.csv", "statements/R1.md"}
    assert (out / "payouts.csv").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging folder left


def test_the_manifest_lists_every_file_with_its_digest(tmp_path):
    import hashlib

    _write_set(tmp_path / "o", {"a.csv": "x", "statements/b.md": "y"})
    manifest = read_manifest(tmp_path / "o")
    assert manifest["kind"] == "payouts"
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    assert listed == {
        "a.csv": hashlib.sha256(b"x").hexdigest(),
        "statements/b.md": hashlib.sha256(b"y").hexdigest(),
    }


@pytest.mark.parametrize("failure", [RuntimeError("boom"), KeyboardInterrupt()])
def test_a_failed_or_interrupted_set_leaves_the_previous_one(tmp_path, failure):
    out = tmp_path / "out"
    _write_set(out, {"payouts.csv": "old", "summary.json": "{}"})
    before = _tree(out)
    with pytest.raises(type(failure)), output_set(out, kind="payouts") as stage:
        (stage.path / "payouts.csv").write_text("new")
        raise failure
    assert _tree(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_first_failed_set_leaves_no_folder(tmp_path):
    with pytest.raises(RuntimeError), output_set(tmp_path / "new", kind="allocation") as stage:
        (stage.path / "targets.csv").write_text("half")
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []


def test_refuses_a_folder_holding_an_input(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "org.csv").write_text("rep_id\n")
    with pytest.raises(OutputError) as info, output_set(data, "allocation", inputs=[data]):
        pass
    assert "holds an input of this run" in str(info.value)
    assert "--force" in str(info.value)
    assert (data / "org.csv").read_text() == "rep_id\n"


def test_refuses_another_kind_of_output_unless_forced(tmp_path):
    out = tmp_path / "out"
    _write_set(out, {"targets.csv": "t", "summary.json": "allocation"}, kind="allocation")
    with pytest.raises(OutputError, match="holds the allocation output"):
        _write_set(out, {"payouts.csv": "p", "summary.json": "payouts"})
    assert (out / "summary.json").read_text() == "allocation"
    # forced: the payouts are written, the allocation's targets are kept
    _write_set(out, {"payouts.csv": "p", "summary.json": "payouts"}, force=True)
    assert _tree(out)["targets.csv"] == b"t"
    assert _tree(out)["summary.json"] == b"payouts"
    assert read_manifest(out)["kind"] == "payouts"


def test_refuses_a_folder_of_other_files_unless_forced(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="holds no attain output"):
        _write_set(tmp_path, {"payouts.csv": "p"})
    _write_set(tmp_path, {"payouts.csv": "p"}, force=True)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    # a later forced run of the same kind keeps the notes and replaces its own files
    _write_set(tmp_path, {"summary.json": "s"}, force=True)
    assert sorted(_tree(tmp_path)) == [MANIFEST, "notes.txt", "summary.json"]


def test_refuses_a_file_as_the_folder(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(OutputError, match="is a file"):
        _write_set(tmp_path / "f", {"a": "b"})


def test_a_killed_run_is_cleaned_up_by_the_next(tmp_path):
    out = tmp_path / "out"
    _write_set(out, {"a.csv": "old"})
    dead = _dead_pid()
    stale = tmp_path / f".out.attain-stage-{dead}-abcd"
    stale.mkdir()
    (stale / "a.csv").write_text("half")
    _write_set(out, {"a.csv": "new"})
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_set_moved_aside_by_a_kill_is_put_back(tmp_path):
    """Without an atomic exchange the swap is two renames; a kill between them leaves
    the previous set under its aside name, and the next run restores it first."""
    out = tmp_path / "out"
    _write_set(out, {"a.csv": "old"})
    os.rename(out, tmp_path / f".out.attain-old-{_dead_pid()}-abcd")
    with pytest.raises(RuntimeError), output_set(out, kind="payouts"):
        raise RuntimeError
    assert (out / "a.csv").read_text() == "old"


def test_the_swap_without_an_atomic_exchange(tmp_path, monkeypatch):
    monkeypatch.setattr(output, "_exchange", lambda a, b: False)
    out = tmp_path / "out"
    _write_set(out, {"a.csv": "old", "b.csv": "old"})
    _write_set(out, {"a.csv": "new"})
    assert sorted(_tree(out)) == [MANIFEST, "a.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_full_disk_names_the_output_folder(tmp_path):
    out = tmp_path / "out"
    _write_set(out, {"a.csv": "old"})
    with pytest.raises(OutputError) as info, output_set(out, kind="payouts") as stage:
        raise OSError(errno.ENOSPC, "No space left on device", str(stage.path / "a.csv"))
    message = str(info.value)
    assert message.startswith(f"{out}: cannot use this folder for the output: No space left")
    assert "free some space" in message
    assert (out / "a.csv").read_text() == "old"


def test_a_read_only_target_names_the_output_folder(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path))

    monkeypatch.setattr(output.tempfile, "mkdtemp", refuse)
    with pytest.raises(OutputError, match="Read-only file system"):
        _write_set(tmp_path / "out", {"a": "b"})


def test_final_names_are_where_the_files_end_up(tmp_path):
    out = tmp_path / "o"
    with output_set(out, kind="payouts") as stage:
        written = [stage.path / "a.csv"]
        written[0].write_text("x")
        shown = stage.final(written)
    assert shown == [out / "a.csv"] and shown[0].read_text() == "x"


def test_a_symlinked_out_folder_is_followed(tmp_path):
    real = tmp_path / "real"
    _write_set(real, {"a.csv": "old"})
    (tmp_path / "link").symlink_to(real)
    _write_set(tmp_path / "link", {"a.csv": "new"})
    assert (tmp_path / "link").is_symlink()
    assert (real / "a.csv").read_text() == "new"


def _dead_pid() -> int:
    """A process id that no process has (a child that has exited and been reaped)."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# --- safe file names -------------------------------------------------------------------

HOSTILE_IDS = [
    "../../../../x/pwn",
    "/abs/pwn",
    "..",
    ".",
    "",
    "a/b",
    "a\\b",
    "..\\..\\x",
    "C:\\x",
    "a\x00b",
    "\x1b[31mred",
    "line\nbreak",
    "CON",
    "nul.txt",
    "LPT1",
    ".hidden",
    "trailing.",
    "trailing ",
    "a%2Fb",
    "%",
    "x" * 300,
    "\u202egnp.exe",
    "\ud800",
    "con\u0000",
    "~root",
    "$HOME",
    'a*b?c<d>e|f"g:h',
]


@pytest.mark.parametrize("rep_id", HOSTILE_IDS, ids=repr)
def test_a_hostile_id_names_one_file_inside_its_folder(tmp_path, rep_id):
    name = safe_filename(rep_id)
    assert unsafe_filename(name) == rep_id
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert not name.startswith(".") and not name.endswith((".", " "))
    assert name.split(".")[0].lower() not in output._WINDOWS_DEVICES
    if len(name.encode("utf-8", "surrogatepass")) < 250 and "\ud800" not in rep_id:
        path = tmp_path / "statements" / f"{name}.md"
        path.parent.mkdir(exist_ok=True)
        path.write_text("x")
        assert [p.parent for p in tmp_path.rglob("*.md")] == [tmp_path / "statements"]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_safe_names_round_trip_and_stay_one_component(rep_id):
    name = safe_filename(rep_id)
    assert unsafe_filename(name) == rep_id
    assert os.sep not in name and "\\" not in name and name not in (".", "..")
    assert not any(ord(c) < 32 for c in name)


def test_plain_ids_keep_their_names():
    for rep_id in ("R00001", "rep-7", "a.b", "张三", "Zoë_1"):
        assert safe_filename(rep_id) == rep_id


def test_manifest_json_is_stable(tmp_path):
    _write_set(tmp_path / "a", {"x.csv": "1"})
    _write_set(tmp_path / "b", {"x.csv": "1"})
    a = json.loads((tmp_path / "a" / MANIFEST).read_text())
    assert (tmp_path / "a" / MANIFEST).read_bytes() == (tmp_path / "b" / MANIFEST).read_bytes()
    assert a["files"][0]["bytes"] == 1


# --- the refusal comes before the work -------------------------------------------------

from pathlib import Path  # noqa: E402

from attain.output import check_output_set  # noqa: E402

_ROOT = Path(__file__).resolve().parent.parent


def _computed(*args, **kwargs):
    raise AssertionError("the command computed before refusing its --out folder")


#: Per command: its arguments (``OUT`` stands for --out) and the entry points it computes
#: with, each patched to fail the test if the command reaches it.
_COMMANDS = {
    "allocate": (
        ["allocate", "rules.yaml", "--data", "data", "--out", "OUT"],
        ["attain.cli.allocate.allocate_targets"],
    ),
    "territory": (
        ["territory", "rules.yaml", "--data", "data", "--out", "OUT"],
        ["attain.cli.territory.align"],
    ),
    "payout": (
        ["payout", "plan.yaml", "--targets", "t.csv", "--actuals", "a.csv", "--out", "OUT"],
        ["attain.cli.payout.load_company", "attain.cli.payout.load_plan"],
    ),
    "payout --close": (
        [
            "payout",
            "plan.yaml",
            "--targets",
            "t.csv",
            "--actuals",
            "a.csv",
            "--out",
            "OUT",
            "--ledger",
            "pay.db",
            "--close",
            "2027-01",
        ],
        ["attain.cli.ledger.close_period", "attain.cli.payout.load_company"],
    ),  # fmt: skip
    "simulate": (
        ["simulate", str(_ROOT / "scenarios" / "compare_plans.yaml"), "--out", "OUT"],
        ["attain.cli.simulate.simulate_scenario"],
    ),
    "track": (
        [
            "track",
            "--targets",
            "t.csv",
            "--actuals",
            "a.csv",
            "--as-of",
            "2027-06-30",
            "--data",
            "data",
            "--out",
            "OUT",
        ],
        ["attain.data.load_company", "attain.cli.track.track_progress"],
    ),  # fmt: skip
    "demo": (["demo", "--out", "OUT"], ["attain.load_company", "attain.cli.demo._allocate"]),
    "design": (
        ["design", str(_ROOT / "rules" / "design_field_rep.yaml"), "--out", "OUT"],
        ["attain.cli.design.run_design"],
    ),
    "sample": (
        ["sample", "--out", "OUT"],
        ["attain.write_sample", "attain.sample._make_sample"],
    ),
}


def _run_refused(monkeypatch, tmp_path, capsys, command, out):
    import importlib

    from attain.cli.main import main

    args, entries = _COMMANDS[command]
    # Import what the command imports first, so no module binds a patched name for good.
    for module in ("attain.cli.allocate", "attain.cli.territory", "attain.cli.payout",
                   "attain.cli.ledger", "attain.cli.simulate", "attain.cli.track",
                   "attain.cli.demo", "attain.cli.design", "attain.sample",
                   "attain.track.api"):  # fmt: skip
        importlib.import_module(module)
    for entry in entries:
        module, _, name = entry.rpartition(".")
        monkeypatch.setattr(importlib.import_module(module), name, _computed)
    monkeypatch.chdir(tmp_path)
    before = _tree(out)
    code = main([str(out) if a == "OUT" else a for a in args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and "computed" not in err
    assert _tree(out) == before  # nothing written, nothing replaced
    return err


@pytest.mark.parametrize("command", sorted(_COMMANDS))
def test_a_folder_of_other_files_is_refused_before_any_work(monkeypatch, tmp_path, capsys, command):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    err = _run_refused(monkeypatch, tmp_path, capsys, command, out)
    assert "holds no attain output" in err and "--force" in err


@pytest.mark.parametrize("command", sorted(_COMMANDS))
def test_another_kind_of_output_is_refused_before_any_work(monkeypatch, tmp_path, capsys, command):
    out = tmp_path / "out"
    _write_set(out, {"summary.json": "{}"}, kind="another")
    err = _run_refused(monkeypatch, tmp_path, capsys, command, out)
    assert "holds the another output of another run" in err


def test_a_payout_into_the_allocation_folder_is_refused_before_any_work(
    monkeypatch, tmp_path, capsys
):
    out = tmp_path / "OUT"
    _write_set(out, {"targets.csv": "t", "summary.json": "allocation"}, kind="allocation")
    err = _run_refused(monkeypatch, tmp_path, capsys, "payout", out)
    assert "holds the allocation output" in err


@pytest.mark.parametrize("command", ["allocate", "territory", "track"])
def test_the_data_folder_as_out_is_refused_before_any_work(monkeypatch, tmp_path, capsys, command):
    data = tmp_path / "data"
    data.mkdir()
    (data / "company.yaml").write_text("kind: company\n")
    err = _run_refused(monkeypatch, tmp_path, capsys, command, data)
    assert "holds an input of this run" in err


def test_check_output_set_writes_nothing(tmp_path):
    check_output_set(tmp_path / "new" / "out", "payouts")  # a new folder is fine
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "f").write_text("")
    with pytest.raises(OutputError, match="is a file"):
        check_output_set(tmp_path / "f" / "out", "payouts")
    with pytest.raises(OutputError, match="is a file"):
        check_output_set(tmp_path / "f", "payouts")
    _write_set(tmp_path / "o", {"payouts.csv": "p"})
    check_output_set(tmp_path / "o", "payouts")  # its own kind: replaced
    with pytest.raises(OutputError, match="holds the payouts output"):
        check_output_set(tmp_path / "o", "allocation")
    check_output_set(tmp_path / "o", "allocation", force=True)

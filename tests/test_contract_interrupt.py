"""Commands killed at random points (SIGINT and SIGKILL, real subprocesses) leave the
--out folder holding the previous complete output set or the new one, never a mix.

Each run starts from a previous complete set. The kill lands either a random time
after the command starts, or a random time after it starts writing (its staging
folder appears beside --out), so the write phase is hit however busy the machine
is. After SIGINT the command exits 130 (or 0 if it finished first) and leaves no
staging folder; after SIGKILL a staging folder may remain, and the next run on the
folder removes it. The in-suite run is two kills; ``make fuzz`` runs
``ATTAIN_FUZZ_KILLS`` of them over every command.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_contract_cli import no_strays, run, snapshot, whole_set

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "scenarios" / "sample"
KILLS = int(os.environ.get("ATTAIN_FUZZ_KILLS", "0"))
ENTRY = "from attain.cli import entry; entry()"  # what the console script runs
#: An allocation of the bundled sample (the payout's targets).
TARGETS = ROOT / "tests" / "fixtures" / "incentive" / "targets.csv"


def commands(out: Path) -> dict[str, list[str]]:
    rules = ROOT / "rules"
    return {
        "sample": ["sample", "--out", str(out), "--reps", "2000", "--seed", "11"],
        "payout": ["payout", str(rules / "plan_field_rep.yaml"), "--targets",
                   str(TARGETS), "--actuals",
                   str(SAMPLE / "actuals.csv"), "--data", str(SAMPLE), "--out", str(out),
                   "--html"],
        "allocate": ["allocate", str(rules / "allocation_fy27.yaml"), "--data", str(SAMPLE),
                     "--out", str(out)],
        "simulate": ["simulate", str(ROOT / "scenarios" / "compare_plans.yaml"), "--out",
                     str(out), "--trials", "200"],
        "territory": ["territory", str(rules / "territory_balance.yaml"), "--data",
                      str(SAMPLE), "--out", str(out), "--time-limit", "5"],
        "demo": ["demo", "--out", str(out), "--trials", "50"],
    }  # fmt: skip


def previous(command: str, out: Path) -> list[str]:
    """A previous complete set in ``out`` (a different one: other seed or options)."""
    args = commands(out)[command]
    first = list(args)
    if command == "sample":
        first[first.index("--seed") + 1] = "3"
        first[first.index("--reps") + 1] = "40"
    if command == "payout":
        first.remove("--html")
    code, _, err = run(first)
    assert code == 0, err
    return args


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def kill_once(
    command: str, out: Path, signum: int, rng: random.Random, phase: str | None = None
) -> None:
    args = previous(command, out)
    before = snapshot(out)
    child = subprocess.Popen(
        [sys.executable, "-c", ENTRY, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        # A shell ignores SIGINT for the jobs it runs in the background (CI, `make test &`),
        # and a child inherits that: it would never be interrupted, and pass by finishing.
        preexec_fn=_default_sigint,
    )
    phase = phase or ("write" if rng.random() < 0.7 else "any")
    if phase == "write":  # a random point of the write phase
        deadline = time.monotonic() + 120
        while child.poll() is None and time.monotonic() < deadline:
            if any(".attain-stage-" in p.name for p in out.parent.iterdir()):
                break
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.4))
    else:  # a random point of the whole run
        time.sleep(rng.uniform(0, 6))
    if child.poll() is None:
        child.send_signal(signum)
    _, err = child.communicate(timeout=300)
    whole_set(out, before)
    if signum == signal.SIGINT:
        # -2: interrupted while the interpreter was starting, before any of attain ran
        assert child.returncode in (0, 130, -signal.SIGINT), (child.returncode, err)
        if child.returncode == 130:
            assert "Traceback" not in err and err.strip().endswith("interrupted"), err
        no_strays(out)
    else:
        assert child.returncode in (0, -signal.SIGKILL), (child.returncode, err)
        code, _, err = run(args)  # the next run cleans up after the killed one
        assert code == 0, err
        assert whole_set(out, None) == "new"
        no_strays(out)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL])
def test_a_command_killed_while_writing_leaves_a_whole_set(tmp_path, signum):
    kill_once("sample", tmp_path / "out", signum, random.Random(int(signum)), phase="write")


@pytest.mark.skipif(not KILLS, reason="make fuzz (ATTAIN_FUZZ_KILLS) runs the long version")
def test_many_random_kills_leave_whole_sets(tmp_path):
    rng = random.Random()
    names = sorted(commands(tmp_path))
    for i in range(KILLS):
        command = rng.choice(names)
        signum = rng.choice([signal.SIGINT, signal.SIGKILL])
        kill_once(command, tmp_path / f"out{i}", signum, rng)


def test_ctrl_c_while_the_command_line_imports_exits_130_without_a_traceback(monkeypatch, capsys):
    """Before: Ctrl-C during `import attain.cli.main` showed Python's traceback."""
    import builtins

    import attain.cli

    real_import = builtins.__import__

    def interrupted(name, *args, **kwargs):
        if name == "attain.cli.main":
            raise KeyboardInterrupt
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "attain.cli.main", raising=False)
    monkeypatch.setattr(builtins, "__import__", interrupted)
    with pytest.raises(SystemExit) as exit_:
        attain.cli.entry()
    assert exit_.value.code == 130
    assert capsys.readouterr().err == "interrupted\n"

"""The command line starts without the engines: no pandas, numpy, arrow or solver is
imported until a command that needs one runs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pandas", "numpy", "pyarrow", "highspy", "ortools", "pulp", "scipy", "openpyxl")


def _loaded_after(code: str) -> list[str]:
    """The heavy top-level modules in ``sys.modules`` after running ``code`` afresh."""
    probe = (
        "import sys, io, contextlib\n"
        f"{code}\n"
        f"print('\\n' + __import__('json').dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_command_line_imports_no_engine():
    assert _loaded_after("import attain.cli.main") == []


def test_importing_attain_imports_no_engine():
    assert _loaded_after("import attain; attain.__version__; attain.InputError") == []


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["schema"], ["schema", "plan"]])
def test_light_commands_import_no_engine(args):
    code = (
        "from attain.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main({args!r}) == 0\n"
    )
    assert _loaded_after(code) == []


def test_validating_a_plan_without_data_imports_no_engine(tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "kind: plan\nname: small\nparticipants: {roles: [rep]}\ncomponents:\n"
        "  - {type: commission, name: commission, method: marginal,\n"
        "     tiers: [{start: 0, end: 1000000, rate: 0.06}, {start: 1000000, rate: 0.1}]}\n"
    )
    code = (
        "from attain.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['validate', {str(plan)!r}]) == 0\n"
    )
    assert _loaded_after(code) == []


def test_a_public_name_is_imported_on_first_use():
    assert {"numpy", "pandas"} <= set(_loaded_after("import attain; attain.load_company"))

"""The built wheel works on its own: installed into a fresh venv, `attain demo` runs
from any folder on the files it ships (py.typed, the schema, the sample, the rules).

The fresh venv gets the wheel alone (``--no-deps``); its dependencies are reached
through a path line to this environment's site-packages, written after the install so
that pip never sees (and never touches) the editable checkout. Resolving the
dependencies again from the index would take minutes and test pip, not attain.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.install
_NOT_SOURCES = (
    ".git",
    ".venv",
    "build",
    "out",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # From a copy of the sources: setuptools' build/ folder in a checkout may hold
    # files since removed, and the checkout stays untouched.
    source = tmp_path_factory.mktemp("source") / "attain"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*_NOT_SOURCES))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "-w", str(out), str(source)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (found,) = out.glob("attain-*.whl")
    return found


def test_the_wheel_carries_types_schema_sample_and_rules(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (
        "attain/py.typed",
        "attain/rules.schema.json",
        "attain/cli/main.py",
        "attain/rules/allocation_fy27.yaml",
        "attain/rules/plan_field_rep.yaml",
        "attain/scenarios/compare_plans.yaml",
        "attain/scenarios/sample/company.yaml",
        "attain/scenarios/sample/org.csv",
    ):
        assert name in names, name
    assert not any(n.startswith(("engine/", "cli/", "tests/")) for n in names)
    shipped = {n.removeprefix("attain/") for n in names if n.startswith("attain/rules/")}
    assert shipped == {f"rules/{p.name}" for p in (ROOT / "rules").glob("*.yaml")}


def test_the_installed_wheel_runs_the_demo_from_any_folder(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    )  # fmt: skip
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    work = tmp_path / "elsewhere"
    work.mkdir()
    done = subprocess.run(
        [str(env_dir / "bin" / "attain"), "demo", "--out", "X", "--trials", "20"],
        cwd=work, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    where = subprocess.run(
        [str(python), "-c", "import attain; print(attain.__file__)"],
        cwd=work, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert where.startswith(str(site)), where  # the wheel's copy, not the checkout
    for name in ("allocation/targets.csv", "payouts/payouts.csv", "simulation/report.html"):
        assert (work / "X" / name).is_file(), name
    assert "data: scenarios/sample/" in done.stdout

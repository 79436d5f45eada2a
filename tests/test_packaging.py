"""The package layout, the declared public API, and that both are documented."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import click

import attain
from attain.cli.main import cli
from attain.docs import generated_pages

ROOT = Path(__file__).resolve().parent.parent


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_subpackage_is_listed_in_pyproject():
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    found = {"attain.cli", "attain.rules", "attain.scenarios"} | {
        ".".join(("attain", *p.parent.relative_to(ROOT / "engine").parts))
        for p in (ROOT / "engine").rglob("__init__.py")
    }
    assert listed == found


def test_no_attain_folder_at_the_root():
    assert not (ROOT / "attain").exists()


def test_package_is_imported_from_engine():
    assert Path(attain.__file__).resolve().parent == ROOT / "engine"


def test_dependencies_have_lower_bounds():
    project = _pyproject()["project"]
    for spec in project["dependencies"] + project["optional-dependencies"]["dev"]:
        assert ">=" in spec, spec


def test_public_api_is_exported_and_documented():
    readme = (ROOT / "README.md").read_text()
    for name in attain.__all__:
        assert hasattr(attain, name), name
        if not name.startswith("_"):
            assert name in readme, f"{name} is public but not in the README"


def test_every_cli_command_is_documented():
    readme = (ROOT / "README.md").read_text()
    for command in cli.list_commands(click.Context(cli)):
        assert f"attain {command}" in readme, command


def test_generated_docs_are_current():
    for name, text in generated_pages().items():
        assert (ROOT / name).read_text() == text, f"{name} is stale: run `make docs`"


def test_every_public_name_is_resolved_lazily():
    assert set(attain.__all__) == {*attain._EXPORTS, "__version__"}
    # A subpackage imported first does not shadow the public function of its name.
    importlib.import_module("attain.allocate.core")
    importlib.import_module("attain.simulate.api")

    assert callable(attain.allocate) and callable(attain.simulate)
    assert attain.allocate.__module__.startswith("attain.allocate")

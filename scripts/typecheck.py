"""Type-check the library and the CLI under their import name, `attain`, with mypy.

The required layout maps `attain` onto engine/ and `attain.cli` onto cli/ (setuptools'
package-dir); mypy cannot follow the editable install's import hook, so this lays out
the package as installed — a tree of links in .venv/typecheck/attain — checks it with
the settings of pyproject.toml, and reports each error at its real file (engine/..., cli/...).

Usage: python scripts/typecheck.py   (make lint runs it)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TREE = ROOT / ".venv" / "typecheck"


def link_tree() -> Path:
    """.venv/typecheck/attain: every entry of engine/ linked, and cli/ as attain/cli."""
    if TREE.exists():
        shutil.rmtree(TREE)
    package = TREE / "attain"
    package.mkdir(parents=True)
    for entry in sorted((ROOT / "engine").iterdir()):
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    (package / "cli").symlink_to(ROOT / "cli")
    return TREE


def real_path(line: str) -> str:
    """Map a reported tree path back to the file in engine/ or cli/."""
    tree = re.escape(str(TREE.relative_to(ROOT)) + os.sep + "attain" + os.sep)
    line = re.sub(rf"^{tree}cli{re.escape(os.sep)}", "cli" + os.sep, line)
    return re.sub(rf"^{tree}", "engine" + os.sep, line)


def main() -> int:
    link_tree()
    env = {**os.environ, "MYPYPATH": str(TREE.relative_to(ROOT))}
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "-p", "attain"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    for line in (done.stdout + done.stderr).splitlines():
        print(real_path(line))
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())

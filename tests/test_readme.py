"""The README's tour is true: its console blocks are made by scripts/readme_tour.py, the
quick ones are re-run here, and every file it names exists (the shipped ones are
package data, so an installed attain has them too)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("readme_tour", ROOT / "scripts" / "readme_tour.py")
assert _spec is not None and _spec.loader is not None
tour = importlib.util.module_from_spec(_spec)
sys.modules["readme_tour"] = tour  # its dataclass looks its module up
_spec.loader.exec_module(tour)

README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = tour.blocks(README)
#: Paths the README names, in backticks, links or commands.
NAMED = re.compile(r"(?<![\w/.-])((?:rules|scenarios|docs|tests/corpus)/[\w./-]*[\w])")


def test_every_console_block_is_made_by_the_script():
    assert len(BLOCKS) == tour.console_blocks(README) >= 8
    for block in BLOCKS:
        assert block.commands, block.text


def test_every_file_the_readme_names_exists():
    names = set(NAMED.findall(README))
    assert "rules/infeasible_east_38.yaml" in names
    for name in sorted(names):
        if name.startswith("tests/corpus/"):
            continue  # named as a folder; its files are named relative to it
        assert (ROOT / name).exists(), f"README names {name}, which does not exist"


@pytest.mark.parametrize(
    "block", [b for b in BLOCKS if b.is_checked], ids=lambda b: b.commands[0][:60]
)
def test_quick_blocks_show_what_the_commands_print(block):
    (ROOT / "out").mkdir(exist_ok=True)
    assert tour.masked(tour.render(block)) == tour.masked(block.text), (
        "README is stale: run `python scripts/readme_tour.py`"
    )

"""Regenerate the console blocks of README.md by running them.

Every ```console block of the README follows a directive comment that says how it is
made, e.g. ``<!-- tour: run -->`` or ``<!-- tour: run, head=3, cwd=tests/corpus -->``.
Each ``$ command`` line of the block is run (from the repository root, or ``cwd``) with
this environment's ``attain`` first on PATH; its output (stdout and stderr, in order)
replaces the lines under it, cut to ``head`` lines per command followed by ``...`` if
longer. ``check`` marks blocks quick enough for tests/test_readme.py to re-run on every
test run (timings masked, a solver's own banner skipped). Outputs go to out/ (ignored
by git).

Usage:
    python scripts/readme_tour.py           # rewrite README.md
    python scripts/readme_tour.py --check   # exit 1 if a block is stale (timings masked)
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DIRECTIVE = re.compile(r"<!-- tour: (?P<options>[^>]*?) -->\n```console\n(?P<body>.*?)```", re.S)
#: Timings differ run to run; a comparison ignores them.
TIMING = re.compile(r"\b\d+(\.\d+)?\s?s\b")


@dataclass(frozen=True)
class Block:
    options: dict[str, str]
    commands: tuple[str, ...]
    text: str  # the block's body as it stands
    span: tuple[int, int]  # where the body sits in the README

    @property
    def is_checked(self) -> bool:
        return "check" in self.options


def blocks(readme: str) -> list[Block]:
    out = []
    for match in DIRECTIVE.finditer(readme):
        options: dict[str, str] = {}
        for item in filter(None, (o.strip() for o in match["options"].split(","))):
            key, _, value = item.partition("=")
            options[key.strip()] = value.strip()
        commands = tuple(line[2:] for line in match["body"].splitlines() if line.startswith("$ "))
        out.append(Block(options, commands, match["body"], match.span("body")))
    return out


def console_blocks(readme: str) -> int:
    return readme.count("```console\n")


def run(command: str, cwd: Path) -> str:
    """The command's output as a terminal would show it, without colours."""
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
           "COLUMNS": "100", "NO_COLOR": "1"}  # fmt: skip
    done = subprocess.run(
        ["bash", "-c", command + " 2>&1"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    return done.stdout


def render(block: Block) -> str:
    cwd = ROOT / block.options.get("cwd", ".")
    head = int(block.options["head"]) if "head" in block.options else None
    lines: list[str] = []
    for command in block.commands:
        lines.append(f"$ {command}")
        output = run(command, cwd).rstrip("\n").splitlines()
        if head is not None and len(output) > head:
            output = [*output[:head], "..."]
        lines.extend(output)
    return "\n".join(lines) + "\n"


#: What a solver library prints itself (not attain's words); a comparison skips it.
SOLVER_BANNER = re.compile(r"^(Running HiGHS .*|Includes third-party software .*)\n", re.M)


def masked(text: str) -> str:
    """The text as compared: timings masked, solver banners left out."""
    return TIMING.sub("<t>", SOLVER_BANNER.sub("", text))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale blocks")
    args = parser.parse_args(argv)
    (ROOT / "out").mkdir(exist_ok=True)
    readme = README.read_text(encoding="utf-8")
    found = blocks(readme)
    if len(found) != console_blocks(readme):
        print("every ```console block needs a `<!-- tour: ... -->` line above it")
        return 1
    stale = 0
    texts = []
    for block in found:  # in order: a later block may read what an earlier one wrote
        texts.append(render(block))
        if masked(texts[-1]) != masked(block.text):
            stale += 1
            print(f"{'stale' if args.check else 'updated'}: $ {block.commands[0]}", flush=True)
    for block, text in reversed(list(zip(found, texts, strict=True))):  # spans stay valid
        start, end = block.span
        readme = readme[:start] + text + readme[end:]
    if args.check:
        return 1 if stale else 0
    README.write_text(readme, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Render pages in headless Chromium: fail on console errors, write a PNG screenshot of each.

Usage:
    python scripts/render_report.py PAGE.html SHOT.png [HEIGHT] [PAGE.html SHOT.png [HEIGHT] ...]

Each page opens in its own Chromium with a fresh profile, offline-minded (no background
networking, no component updates, no sync, every host name resolving nowhere, so a page
that fetches anything fails), with the page's console logged to stderr. Any console
message (attain's pages run no scripts, so any message is a fault), uncaught exception,
failed resource load or network error fails the run (exit 1) after every page is tried;
so does a page whose markup names anything to fetch (``src``, ``href``, ``url(…)``,
``@import`` other than a fragment or a ``data:`` URL).
The window is 1200 px wide and HEIGHT tall (default 3200): the screenshot is that window.
Needs Debian's `chromium` (`make report` installs it when missing).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--enable-logging=stderr",
    "--v=0",
)
WIDTH = 1200
HEIGHT = 3200
# Chromium prints the page's console as `...:INFO:CONSOLE(12)] "message", source: ...`
# (console.log is INFO; warnings and errors carry their own level in the message line).
_CONSOLE = re.compile(r":(INFO|WARNING|ERROR):CONSOLE[^\]]*\]\s*(.*)")
_PAGE_ERRORS = re.compile(r"Uncaught|Failed to load resource|net::ERR_", re.IGNORECASE)
# What a self-contained page never has: a link to load (a fragment or data: URL is fine).
_EXTERNAL = re.compile(
    r"""(?:\b(?:src|href|srcset|poster|data)\s*=\s*["']?(?!#|data:)([^"'\s>]+))"""
    r"""|(?:url\(\s*["']?(?!#|data:)([^"')\s]+))|(@import)""",
    re.IGNORECASE,
)


def external_references(html: str) -> list[str]:
    """Everything ``html`` would fetch: the page must open offline, as one file."""
    return sorted({next(g for g in m.groups() if g) for m in _EXTERNAL.finditer(html)})


def browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("chromium is not installed: apt-get install -y chromium")


def render(page: Path, png: Path, width: int = WIDTH, height: int = HEIGHT) -> list[str]:
    """Screenshot ``page`` into ``png``; return the console problems found."""
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="attain-chromium-") as profile:
        command = [
            browser(),
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={png.resolve()}",
            page.resolve().as_uri(),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    problems = [
        f"loads {ref} (a page must be self-contained)"
        for ref in external_references(page.read_text(encoding="utf-8", errors="replace"))
    ]
    for line in done.stderr.splitlines():
        if _CONSOLE.search(line) or _PAGE_ERRORS.search(line):
            problems.append(line.strip())
    if done.returncode != 0:
        problems.append(f"chromium exited with {done.returncode}: {done.stderr.strip()[-500:]}")
    if not png.exists() or png.stat().st_size == 0:
        problems.append("no screenshot was written")
    return problems


def _specs(argv: list[str]) -> list[tuple[Path, Path, int]]:
    """``PAGE SHOT [HEIGHT]`` groups."""
    specs = []
    i = 0
    while i < len(argv):
        if i + 1 >= len(argv):
            raise ValueError(f"{argv[i]}: needs a screenshot path after it")
        page, shot = Path(argv[i]), Path(argv[i + 1])
        i += 2
        height = HEIGHT
        if i < len(argv) and argv[i].isdigit():
            height = int(argv[i])
            i += 1
        specs.append((page, shot, height))
    return specs


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    try:
        specs = _specs(argv)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    missing = [str(page) for page, _, _ in specs if not page.is_file()]
    if missing:
        for page in missing:
            print(f"{page}: no such file", file=sys.stderr)
        return 2
    failed = False
    for page, shot, height in specs:
        problems = render(page, shot, WIDTH, height)
        for problem in problems:
            print(f"{page}: {problem}", file=sys.stderr)
        if problems:
            failed = True
        else:
            print(f"rendered {page} without console errors; wrote {shot}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Render a report.html in headless Chromium: fail on console errors, write a PNG screenshot.

Usage: python scripts/render_report.py REPORT.html SCREENSHOT.png [--width 1200 --height 3200]

Chromium runs offline-minded (no background networking, no component updates, a fresh
profile) and logs the page's console to stderr; any console message of level warning
or error, any uncaught exception and any failed resource load fails the run (exit 1).
Needs Debian's `chromium` (apt-get install -y chromium).
"""

from __future__ import annotations

import argparse
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
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
)
# Chromium prints the page's console as `...:INFO:CONSOLE(12)] "message", source: ...`
# (console.log is INFO; warnings and errors carry their own level in the message line).
_CONSOLE = re.compile(r":(INFO|WARNING|ERROR):CONSOLE[^\]]*\]\s*(.*)")
_PAGE_ERRORS = re.compile(r"Uncaught|Failed to load resource|net::ERR_", re.IGNORECASE)


def browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("chromium is not installed: apt-get install -y chromium")


def render(report: Path, png: Path, width: int, height: int) -> list[str]:
    """Screenshot ``report`` into ``png``; return the console problems found."""
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="attain-chromium-") as profile:
        command = [
            browser(),
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={png.resolve()}",
            report.resolve().as_uri(),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    problems = []
    for line in done.stderr.splitlines():
        match = _CONSOLE.search(line)
        if match or _PAGE_ERRORS.search(line):
            problems.append(line.strip())
    if done.returncode != 0:
        problems.append(f"chromium exited with {done.returncode}: {done.stderr.strip()[-500:]}")
    if not png.exists() or png.stat().st_size == 0:
        problems.append("no screenshot was written")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("screenshot", type=Path)
    parser.add_argument("--width", type=int, default=1200)
    parser.add_argument("--height", type=int, default=3200)
    args = parser.parse_args(argv)
    if not args.report.is_file():
        print(f"{args.report}: no such file", file=sys.stderr)
        return 2
    problems = render(args.report, args.screenshot, args.width, args.height)
    for problem in problems:
        print(f"{args.report}: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"rendered {args.report} without console errors; wrote {args.screenshot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The `attain` command line: a thin layer over the library (see main.py)."""

import sys

__all__ = ["entry"]


def entry() -> None:
    """The `attain` console script. Ctrl-C while the command line is still being imported
    exits 130 with one line, as Ctrl-C during a command does, not with a traceback."""
    try:
        from attain.cli.main import entry as run
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    run()

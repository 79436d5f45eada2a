"""Run a backend in a child Python process, for libraries that cannot share this one.

The child is ``python -m attain.solvers.isolated``: it reads a pickled
``(solver, problem, options)`` from stdin and writes the pickled result to
stdout. Only numpy arrays and dataclasses cross the pipe.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from dataclasses import replace

from attain.errors import SolverError
from attain.solvers.problem import LinearProblem, SolveOptions, SolverResult

__all__ = ["solve_in_child"]


def solve_in_child(solver: str, problem: LinearProblem, options: SolveOptions) -> SolverResult:
    """The callbacks (``on_solution``, ``stop_bound``) stay behind: the search runs to its
    own end."""
    options = replace(options, on_solution=None, stop_bound=None)
    payload = pickle.dumps((solver, problem, options), protocol=pickle.HIGHEST_PROTOCOL)
    proc = subprocess.run(
        [sys.executable, "-m", "attain.solvers.isolated"],
        input=payload,
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise SolverError(f"solver `{solver}` failed in its child process: {tail[0]}")
    return pickle.loads(proc.stdout)


def _main() -> None:
    from attain.solvers import BACKENDS
    from attain.solvers.base import native_output

    solver, problem, options = pickle.loads(sys.stdin.buffer.read())
    # Standard output carries the pickled result: the library's own output goes to stderr
    # (``verbose``) or nowhere.
    with native_output(False, to=2 if options.verbose else None):
        result = BACKENDS[solver].solve(problem, options)
    sys.stdout.buffer.write(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    _main()

"""Progress of long steps: the library reports numbers, the CLI draws them on a terminal
only; piped output stays silent."""

from __future__ import annotations

import io

from click.testing import CliRunner

import attain
from attain.cli import progress as cli_progress
from attain.cli.main import cli
from attain.progress import Steps


def _recorder():
    seen: list[tuple[int, int]] = []
    return seen, lambda done, total: seen.append((done, total))


def _monotone_to_the_end(seen):
    assert seen, "progress was never reported"
    total = seen[-1][1]
    assert seen[-1] == (total, total)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert all(0 <= d <= t for d, t in seen)


def test_steps_count_out_and_never_pass_the_total():
    seen, progress = _recorder()
    steps = Steps(progress, total=2)
    for _ in range(3):
        steps.advance()
    assert seen == [(0, 2), (1, 2), (2, 2), (2, 2)]
    Steps(None, total=3).advance()  # nobody listening is fine


def test_writing_a_sample_reports_each_table_and_file(tmp_path):
    seen, progress = _recorder()
    attain.write_sample(tmp_path, n_reps=12, progress=progress)
    _monotone_to_the_end(seen)
    assert seen[-1] == (11, 11)  # five tables drawn, six files written


def test_loading_a_company_reports_each_table(sample_dir):
    seen, progress = _recorder()
    attain.load_company(sample_dir, progress=progress)
    _monotone_to_the_end(seen)
    assert seen[-1][1] == 6  # five tables and the checks


def test_validate_reports_the_tables_it_reads(sample_dir):
    seen, progress = _recorder()
    assert attain.validate_paths([sample_dir], progress=progress).ok
    _monotone_to_the_end(seen)


def test_nothing_is_drawn_when_stderr_is_not_a_terminal(tmp_path):
    result = CliRunner().invoke(cli, ["sample", "--out", str(tmp_path), "--reps", "12"])
    assert result.exit_code == 0
    assert result.stderr == ""


def test_a_terminal_gets_the_bar_on_stderr(monkeypatch):
    monkeypatch.setattr(cli_progress, "is_interactive", lambda: True)
    err = io.StringIO()
    monkeypatch.setattr(cli_progress.sys, "stderr", err)
    with cli_progress.progress_bar("working") as progress:
        progress(0, 4)
        progress(4, 4)
        progress(1, 2)  # a second phase restarts the bar
    assert "working" in err.getvalue()


# --- payouts and solves ------------------------------------------------------------------

PLAN = "rules/plan_field_rep.yaml"
TARGETS = "tests/fixtures/incentive/targets.csv"
ACTUALS = "scenarios/sample/actuals.csv"


def test_payouts_report_each_stage_of_each_plan_and_each_chunk_of_statements(
    sample_company, tmp_path
):
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    seen, progress = _recorder()
    plans = [root / PLAN, root / "rules/plan_team_bonus.yaml"]
    result = attain.payouts(
        plans, root / TARGETS, root / ACTUALS, sample_company, progress=progress
    )
    _monotone_to_the_end(seen)
    assert seen[-1] == (10, 10) and {t for _, t in seen} == {10}
    written, count = _recorder()
    result.write(tmp_path / "out", progress=count)
    _monotone_to_the_end(written)
    assert written[-1][1] == len(result.rep_ids) and len(written) <= 102


def test_a_watched_mip_reports_elapsed_and_highs_bounds(monkeypatch):
    import numpy as np

    from attain.progress import SolveStatus, watching_solves
    from attain.solvers import base, solve
    from attain.solvers.problem import LinearProblem, SparseMatrix

    rng = np.random.default_rng(3)
    n, m = 40, 20
    weights = rng.uniform(1, 5, (m, n))
    rows, cols = np.nonzero(weights)
    problem = LinearProblem(
        c=-rng.uniform(1, 10, n),
        A=SparseMatrix.from_coo(rows, cols, weights[rows, cols], weights.shape),
        row_lower=np.full(m, -np.inf),
        row_upper=weights.sum(axis=1) / 6,
        col_lower=np.zeros(n),
        col_upper=np.full(n, 3.0),
        integrality=np.ones(n, dtype=np.int8),
    )
    monkeypatch.setattr(base, "_TICK", 0.01)  # forward the callbacks every 5 ms
    seen: list[SolveStatus] = []
    with watching_solves(seen.append):
        result = solve(problem, "highs")
    assert result.status.has_solution
    assert seen[0].elapsed < 0.5 and all(s.solver == "highs" for s in seen)
    elapsed = [s.elapsed for s in seen]
    assert elapsed == sorted(elapsed) and elapsed[-1] <= result.seconds + 1e-3
    bounded = [s for s in seen if s.bound is not None]
    assert bounded, "HiGHS's MIP callback never reported a bound"
    assert all(s.bound <= s.objective + 1e-6 for s in bounded if s.objective is not None)
    # Unwatched, nothing is called and nothing changes.
    assert solve(problem, "highs").objective == result.objective


def test_the_solve_line_says_what_the_solver_said(monkeypatch):
    from attain.progress import SolveStatus

    line = cli_progress.solve_line(
        "solving", SolveStatus("highs", 12.3, 1234567.0, 1230000.0, 0.0035)
    )
    assert line == "solving (highs): 12s, best 1,234,567, bound 1,230,000, gap 0.35%"
    assert cli_progress.solve_line("solving", SolveStatus("cbc", 3.0)) == "solving (cbc): 3s"
    with cli_progress.solve_status("solving") as watch:  # tests: stderr is no terminal
        assert watch is None

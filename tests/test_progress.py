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
    assert seen[-1] == (9, 9)


def test_loading_a_company_reports_each_table(sample_dir):
    seen, progress = _recorder()
    attain.load_company(sample_dir, progress=progress)
    _monotone_to_the_end(seen)
    assert seen[-1][1] == 5  # four tables and the checks


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

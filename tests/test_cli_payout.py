"""`attain payout` through the CLI: files written, byte-stable, bad input → exit 2 located."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from attain.cli.main import cli, main

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ROOT / "tests" / "fixtures" / "incentive" / "targets.csv"
ACTUALS = ROOT / "scenarios" / "sample" / "actuals.csv"
PLAN = ROOT / "rules" / "plan_field_rep.yaml"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_payout_writes_payouts_statements_and_summary(tmp_path):
    out = tmp_path / "out"
    result = run(
        "payout", str(PLAN), "--targets", str(TARGETS), "--actuals", str(ACTUALS), "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "300 participants" in result.output
    header = (out / "payouts.csv").read_text().splitlines()[0]
    assert header == "rep_id,period,component,amount"
    assert (out / "statements.csv").exists() and (out / "summary.json").exists()
    assert (out / "statements" / "R00001.md").read_text().startswith("# Statement: R00001")


def test_same_inputs_give_byte_identical_outputs(tmp_path):
    args = ["--targets", str(TARGETS), "--actuals", str(ACTUALS)]
    for name in ("a", "b"):
        assert main(["payout", str(PLAN), *args, "--xlsx", "--out", str(tmp_path / name)]) == 0
    files = ("payouts.csv", "payouts.xlsx", "statements.csv", "summary.json")
    for file in (*files, "credited_deals.csv", "statement_deals.csv", "statements/R00042.md"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


@pytest.mark.parametrize("plan", sorted((ROOT / "rules").glob("plan_*.yaml")), ids=lambda p: p.name)
def test_every_example_plan_runs_on_the_sample(plan, tmp_path):
    code = main(
        [
            "payout",
            str(plan),
            "--targets",
            str(TARGETS),
            "--actuals",
            str(ACTUALS),
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0


def test_bad_plan_exits_2_with_file_and_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        PLAN.read_text().replace("{start: 1000000, end: 1500000", "{start: 900000, end: 1500000")
    )
    bad.write_text(
        bad.read_text().replace(
            "company: ../scenarios/sample", f"company: {ROOT / 'scenarios' / 'sample'}"
        )
    )
    code = main(
        [
            "payout",
            str(bad),
            "--targets",
            str(TARGETS),
            "--actuals",
            str(ACTUALS),
            "--out",
            str(tmp_path / "o"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert f"{bad}:" in err and "overlap" in err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_bad_targets_row_exits_2_with_row_and_column(tmp_path, capsys):
    targets = tmp_path / "targets.csv"
    lines = TARGETS.read_text().splitlines()
    lines[3] = lines[3].replace("2027-01", "2027-13")
    targets.write_text("\n".join(lines) + "\n")
    code = main(
        [
            "payout",
            str(PLAN),
            "--targets",
            str(targets),
            "--actuals",
            str(ACTUALS),
            "--out",
            str(tmp_path / "o"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert f"{targets}: row 4, column period:" in err
    assert "Traceback" not in err


def test_bad_actuals_cell_exits_2(tmp_path, capsys):
    actuals = tmp_path / "actuals.csv"
    lines = ACTUALS.read_text().splitlines()
    lines[5] = lines[5].replace(",1.0,", ",1.5,", 1)
    actuals.write_text("\n".join(lines) + "\n")
    code = main(
        [
            "payout",
            str(PLAN),
            "--targets",
            str(TARGETS),
            "--actuals",
            str(actuals),
            "--out",
            str(tmp_path / "o"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and f"{actuals}: row 6, column split" in err


def test_missing_option_is_a_usage_error():
    result = run("payout", str(PLAN), "--out", "x")
    assert result.exit_code == 2 and "--targets" in result.output


def test_help_shows_an_example():
    result = run("payout", "--help")
    assert result.exit_code == 0 and "Example: attain payout" in result.output


def test_several_plans_per_person_in_one_run(tmp_path):
    """A rep plan plus a product overlay: one payouts.csv with a `plan` column, each
    plan's lines as in its own run, and a statement that shows both plans."""
    overlay = ROOT / "rules" / "plan_cloud_overlay.yaml"
    args = ["--targets", str(TARGETS), "--actuals", str(ACTUALS)]
    both = tmp_path / "both"
    result = run("payout", str(PLAN), str(overlay), *args, "--out", str(both))
    assert result.exit_code == 0, result.output
    assert "all plans: total" in result.output
    import pandas as pd

    table = pd.read_csv(both / "payouts.csv", dtype=str)
    assert list(table.columns) == ["plan", "rep_id", "period", "component", "amount"]
    for plan, name in ((PLAN, "field_rep_marginal"), (overlay, "cloud_overlay")):
        alone = tmp_path / name
        assert run("payout", str(plan), *args, "--out", str(alone)).exit_code == 0
        own = pd.read_csv(alone / "payouts.csv", dtype=str)
        mine = table[table["plan"] == name].drop(columns="plan").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, own)
    statement = (both / "statements" / "R00001.md").read_text()
    assert "## Plan `field_rep_marginal`" in statement
    assert "## Plan `cloud_overlay`" in statement
    assert "Payable in all plans this year" in statement
    # statements.csv is each plan's explanation record, as in its own run, plan first.
    statements = pd.read_csv(both / "statements.csv", dtype=str, keep_default_na=False)
    assert set(statements["plan"]) == {"field_rep_marginal", "cloud_overlay"}
    for name in ("field_rep_marginal", "cloud_overlay"):
        own = pd.read_csv(tmp_path / name / "statements.csv", dtype=str, keep_default_na=False)
        mine = statements[statements["plan"] == name].drop(columns="plan")
        pd.testing.assert_frame_equal(mine.reset_index(drop=True), own)


def test_the_same_plan_twice_is_a_usage_error(tmp_path, capsys):
    args = ["--targets", str(TARGETS), "--actuals", str(ACTUALS), "--out", str(tmp_path / "o")]
    assert main(["payout", str(PLAN), str(PLAN), *args]) == 2
    assert "plan names must differ" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_plan_version_is_on_statements_and_in_summary(tmp_path):
    """A declared `version:` is shown as given; without one, the content hash stands in (the
    same for the same settings however the file is laid out)."""
    import json

    text = PLAN.read_text()
    versioned = tmp_path / "versioned.yaml"
    versioned.write_text(text.replace("kind: plan\n", "kind: plan\nversion: '2027.2'\n", 1))
    relaid = tmp_path / "relaid.yaml"
    relaid.write_text("# the same plan, another comment\n" + text)
    args = [
        "--targets",
        str(TARGETS),
        "--actuals",
        str(ACTUALS),
        "--data",
        str(ROOT / "scenarios" / "sample"),
    ]
    versions = []
    for plan in (versioned, relaid, PLAN):
        out = tmp_path / plan.stem
        assert main(["payout", str(plan), *args, "--out", str(out)]) == 0
        versions.append(json.loads((out / "summary.json").read_text())["plan_version"])
        assert f"version {versions[-1]}" in (out / "statements" / "R00001.md").read_text()
    assert versions[0] == "2027.2"
    assert versions[1] == versions[2] and versions[1].startswith("sha256:")
    assert len(versions[1]) == len("sha256:") + 12


def test_a_cancellation_beyond_its_booking_is_a_located_data_error(tmp_path, capsys):
    """Deal D00000002 (35,130.97 booked) cancelled for 40,000 on row 4: exit 2 naming the
    file, row, field and deal, nothing written; declared `allow`, it runs with a warning."""
    actuals = tmp_path / "actuals.csv"
    lines = ACTUALS.read_text().splitlines()
    lines.insert(3, "D00000002,2027-03-01,R00034,core,40000,1.0,18,False,cancellation")
    actuals.write_text("\n".join(lines) + "\n")
    args = ["--targets", str(TARGETS), "--actuals", str(actuals)]
    out = tmp_path / "o"
    assert main(["payout", str(PLAN), *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{actuals}: row 4, column amount" in err
    assert "deal D00000002 is cancelled for 40,000.00 in all, more than its bookings" in err
    assert "Traceback" not in err and not out.exists()
    allowed = tmp_path / "allowed.yaml"
    text = PLAN.read_text().replace("../scenarios/sample", str(ROOT / "scenarios" / "sample"))
    allowed.write_text(text.replace("credit:\n", "credit:\n  over_cancellation: allow\n", 1))
    assert main(["payout", str(allowed), *args, "--out", str(out)]) == 0
    assert "cancellation-exceeds-booking" in (out / "summary.json").read_text()


def test_payouts_workbook_has_lines_reps_components_and_parts_formatted(tmp_path):
    """payouts.xlsx: the lines as money, each rep's year adding up to their total, the
    components' shares as percentages, and the explanation parts; headers frozen."""
    import csv

    import openpyxl

    out = tmp_path / "o"
    args = ["--targets", str(TARGETS), "--actuals", str(ACTUALS), "--out", str(out)]
    assert main(["payout", str(PLAN), *args, "--xlsx"]) == 0
    book = openpyxl.load_workbook(out / "payouts.xlsx")
    assert book.sheetnames == ["plan", "payouts", "by rep", "by component", "parts"]
    lines = book["payouts"]
    assert lines.freeze_panes == "B2" and lines.auto_filter.ref
    with open(out / "payouts.csv") as f:
        n_lines = sum(1 for _ in csv.reader(f)) - 1
    assert lines.max_row == n_lines + 1
    assert lines.cell(2, lines.max_column).number_format == '#,##0.00 "EUR"'
    reps = list(book["by rep"].iter_rows(min_row=2, values_only=True))
    header = [c.value for c in book["by rep"][1]]
    first = header.index("commission")
    assert all(abs(sum(r[first:-1]) - r[-1]) < 1e-6 for r in reps)
    shares = [r[3] for r in book["by component"].iter_rows(min_row=2, values_only=True)]
    assert book["by component"].cell(2, 4).number_format == "0.00%"
    assert abs(sum(shares) - 1) < 1e-9
    plan = dict(book["plan"].iter_rows(min_row=2, values_only=True))
    assert plan["version"].startswith("sha256:") and plan["currency"] == "EUR"


def test_a_close_reads_and_records_the_company_measures_table(tmp_path, sample_dir):
    """A KPI plan closes on the company's measures table, which the run records with its
    other inputs: the same close again is a no-op, after the table changed an error."""
    import shutil

    folder = tmp_path / "company"
    shutil.copytree(sample_dir, folder)
    ledger = str(tmp_path / "ledger.db")
    assert main(["ledger", "init", "--ledger", ledger]) == 0
    close = ["payout", str(ROOT / "rules" / "plan_kpi_mbo.yaml"), "--targets", str(TARGETS),
             "--actuals", str(folder / "actuals.csv"), "--data", str(folder),
             "--ledger", ledger, "--close", "2027-Q1"]  # fmt: skip
    assert main(close) == 0
    assert main(close) == 0  # the same inputs: nothing to do
    table = folder / "measures.csv"
    text = table.read_text()
    table.write_text(text.replace("new_a_accounts,1,\n", "new_a_accounts,2,\n", 1))
    assert table.read_text() != text
    assert main(close) == 2
    assert main([*close, "--measures", str(table)]) == 2  # a usage error

"""The command line: exit codes, messages, and each command's documented example."""

from __future__ import annotations

import json
from pathlib import Path

import click
import jsonschema
import pytest
from click.testing import CliRunner

import attain
from attain.cli import main as cli_main
from attain.cli.main import LAZY_COMMANDS, cli, main


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"attain, version {attain.__version__}"


def test_validate_sample(sample_dir, capsys):
    assert main(["validate", str(sample_dir)]) == 0
    out = capsys.readouterr().out
    assert f"ok  {sample_dir}" in out and "1 checked, no problems" in out


def test_validate_reports_every_file(tmp_path, sample_dir, capsys):
    (tmp_path / "a.yaml").write_text("kind: compnay\n")
    (tmp_path / "b.yaml").write_text("kind: company\nname: x\n")
    assert main(["validate", str(tmp_path), str(sample_dir)]) == 2
    captured = capsys.readouterr()
    assert "a.yaml:1:7: kind: unknown kind `compnay`" in captured.err
    assert "b.yaml:1:1: currency: required field is missing" in captured.err
    assert f"ok  {sample_dir}" in captured.out


def test_validate_with_data_checks_allocation_names(tmp_path, sample_dir, capsys):
    rules = Path(__file__).resolve().parent.parent / "rules" / "allocation_fy27.yaml"
    bad = tmp_path / "fy27.yaml"
    bad.write_text(rules.read_text().replace("where: {region: East}", "where: {region: Eest}"))
    assert main(["validate", str(bad)]) == 0
    assert "add --data DIR to check the regions" in capsys.readouterr().out
    assert main(["validate", str(bad), "--data", str(sample_dir)]) == 2
    captured = capsys.readouterr()
    assert f"{bad}:74:21: rules[3].where.region: no region `Eest` in the org table" in captured.err
    assert "Traceback" not in captured.err
    assert f"ok  {sample_dir}" in captured.out


def test_validate_missing_path(capsys):
    assert main(["validate", "no/such/file.yaml"]) == 2
    assert "no/such/file.yaml: no such file or folder" in capsys.readouterr().err


def test_schema_of_one_kind_is_json_schema(capsys):
    assert main(["schema", "company"]) == 0
    schema = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert "currency" in schema["properties"]


def test_schema_of_all_kinds(capsys):
    assert main(["schema"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert set(document["$defs"]) == set(attain.KINDS)


def test_schema_unknown_kind(capsys):
    assert main(["schema", "nope"]) == 2
    assert "unknown kind 'nope'" in capsys.readouterr().err


def test_sample_command_is_deterministic(tmp_path):
    runner = CliRunner()
    for name in ("a", "b"):
        result = runner.invoke(
            cli, ["sample", "--out", str(tmp_path / name), "--reps", "12", "--seed", "5"]
        )
        assert result.exit_code == 0, result.output
    for file in ("org.csv", "history.csv", "actuals.csv", "accounts.csv", "company.yaml"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


def test_sample_rejects_zero_reps(capsys):
    assert main(["sample", "--out", "x", "--reps", "0"]) == 2
    assert "Invalid value for '--reps'" in capsys.readouterr().err


def test_sample_with_five_products(tmp_path):
    result = CliRunner().invoke(
        cli, ["sample", "--out", str(tmp_path), "--reps", "20", "--products", "5"]
    )
    assert result.exit_code == 0, result.output
    company = attain.load_company(tmp_path)
    assert company.products == ("core", "cloud", "services", "analytics", "security")


@pytest.mark.parametrize("products", ["0", "7"])
def test_sample_rejects_products_out_of_range(products, capsys):
    assert main(["sample", "--out", "x", "--products", products]) == 2
    err = capsys.readouterr().err
    assert f"Invalid value for '--products': {products} is not in the range 1<=x<=6" in err
    assert "Traceback" not in err


def test_allocation_runs_on_a_five_product_sample(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["sample", "--out", str(data), "--products", "5"]) == 0
    rules = Path(__file__).resolve().parent.parent / "rules" / "allocation_fy27.yaml"
    out = tmp_path / "out"
    assert main(["allocate", str(rules), "--data", str(data), "--out", str(out)]) == 0, (
        capsys.readouterr().err
    )
    rows = [line.split(",") for line in (out / "targets.csv").read_text().splitlines()[1:]]
    assert {row[4] for row in rows} == {"core", "cloud", "services", "analytics", "security"}
    assert len({row[3] for row in rows}) == 12  # 12 months x 5 products per rep


def test_usage_errors_exit_2(capsys):
    assert main(["frobnicate"]) == 2
    assert main(["validate"]) == 2


def test_internal_error_is_one_line_without_traceback(monkeypatch, capsys):
    def boom(paths, data=None, progress=None):
        raise RuntimeError("kaput")

    monkeypatch.setattr(cli_main.attain, "validate_paths", boom)
    assert main(["validate", "x"]) == 1
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: kaput" in err and "please report it" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_an_unwritable_output_folder_is_bad_input(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["sample", "--out", str(blocker / "sub"), "--reps", "3"]) == 2
    err = capsys.readouterr().err
    assert "cannot use" in err and "Traceback" not in err


def test_debug_shows_the_traceback(monkeypatch, capsys):
    monkeypatch.setattr(cli_main.attain, "validate_paths", lambda paths, **kw: 1 / 0)
    assert main(["--debug", "validate", "x"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_demo_runs_the_whole_flow(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--trials", "40"]) == 0
    out = capsys.readouterr().out
    assert "Sample Co" in out
    for name in (
        "allocation/targets.csv",
        "payouts/payouts.csv",
        "simulation/report.html",
        "tracking/board.html",
        "replan/replan.csv",
    ):
        assert (tmp_path / name).is_file(), name
    assert "The year at 30 June" in out and "Re-planned from 2027-07" in out
    # The re-plan keeps January-June as they were.
    first = (tmp_path / "allocation" / "targets.csv").read_text().splitlines()
    again = (tmp_path / "replan" / "targets.csv").read_text().splitlines()
    half = [f"2027-{m:02d}" for m in range(1, 7)]
    assert [r for r in first if r.split(",")[3] in half] == [
        r for r in again if r.split(",")[3] in half
    ]
    assert f"wrote {tmp_path / 'payouts' / 'payouts.csv'}" in out
    assert f"files in {tmp_path / 'payouts' / 'statements'}/" in out  # many fold into one line


def test_demo_without_its_shipped_files_says_so(monkeypatch, tmp_path, capsys):
    from attain.cli import demo

    monkeypatch.setattr(demo, "SAMPLE", tmp_path / "missing")
    assert main(["demo", "--out", str(tmp_path / "out")]) == 2
    assert "sample company shipped with attain is missing" in capsys.readouterr().err


COMMANDS = cli.list_commands(click.Context(cli))


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command):
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output, result.output


@pytest.mark.parametrize("name", sorted(LAZY_COMMANDS))
def test_a_lazy_commands_kept_summary_is_its_own(name):
    command = LAZY_COMMANDS[name].load()
    assert command.get_short_help_str(1000) == LAZY_COMMANDS[name].short_help
    assert command.name == name


def test_help_lists_every_command_without_importing_it(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert f"  {name} " in out, name


def test_the_shipped_schema_is_the_generated_one(capsys):
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == attain.schema.schema_document()
    assert main(["schema", "plan"]) == 0
    assert json.loads(capsys.readouterr().out) == attain.json_schema("plan")


def test_init_writes_a_starter_that_validates(tmp_path, capsys):
    folder = tmp_path / "mine"
    assert main(["init", str(folder)]) == 0
    assert f"wrote {folder / 'rules' / 'allocation_fy27.yaml'}" in capsys.readouterr().out
    assert (folder / "README.md").is_file()
    assert (folder / "scenarios" / "sample" / "org.csv").is_file()
    # Every relative path in the copied files holds: the whole starter validates.
    report = attain.validate_paths(
        [folder / "rules", folder / "scenarios"], data=folder / "scenarios" / "sample"
    )
    assert report.ok, [str(p) for p in report.problems]


def test_init_refuses_a_non_empty_folder_unless_forced(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["init", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path}: is not empty" in err and "--force" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]  # nothing written
    assert main(["init", str(tmp_path), "--force"]) == 0
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert (tmp_path / "rules" / "plan_field_rep.yaml").is_file()

"""`attain territory`: exit codes, files, messages."""

from __future__ import annotations

from pathlib import Path

from attain.cli.main import main

ROOT = Path(__file__).resolve().parent.parent

FAST = """\
kind: territory
scope: {region: North}
candidates: {nearest: 3}
balance:
  - {name: workload_band, measure: workload, min: 0.7, max: 1.3}
mip_gap: 0.01
"""


def test_help_has_an_example(capsys):
    assert main(["territory", "--help"]) == 0
    out = capsys.readouterr().out
    example = next(line for line in out.splitlines() if "Example:" in line)
    assert "attain territory rules/territory_balance.yaml" in example
    assert (ROOT / "rules" / "territory_balance.yaml").exists()


def test_solves_and_writes(tmp_path, sample_dir, capsys):
    rules = tmp_path / "fast.yaml"
    rules.write_text(FAST)
    out = tmp_path / "out"
    code = main(["territory", str(rules), "--data", str(sample_dir), "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "units moved" in text and "wrote" in text
    for name in ("assignment.csv", "moves.csv", "reps.csv", "summary.json", "map.html"):
        assert (out / name).exists(), name
    header = (out / "assignment.csv").read_text().splitlines()[0]
    assert header == "unit_id,rep_id,previous_rep_id,moved"


def test_infeasible_exits_3_with_the_conflict(tmp_path, sample_dir, capsys):
    rules = tmp_path / "bad.yaml"
    rules.write_text(FAST + "capacity: {max_units: 2}\n")
    code = main(["territory", str(rules), "--data", str(sample_dir), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 3
    assert "capacity.max_units" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_bad_rule_file_exits_2_with_its_place(tmp_path, sample_dir, capsys):
    rules = tmp_path / "typo.yaml"
    rules.write_text("kind: territory\nbalance:\n  - {measure: workload, min: 1.5}\n")
    code = main(["territory", str(rules), "--data", str(sample_dir), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{rules}:3:5: balance[0]:" in err


def test_lp_only_solver_is_refused(tmp_path, sample_dir, capsys):
    rules = tmp_path / "fast.yaml"
    rules.write_text(FAST)
    args = ["territory", str(rules), "--data", str(sample_dir), "--out", str(tmp_path / "o")]
    assert main([*args, "--solver", "glop"]) == 2  # not offered: glop solves LPs only
    assert "glop" in capsys.readouterr().err


def test_rule_the_data_refutes_is_located(tmp_path, sample_dir, capsys):
    rules = tmp_path / "measure.yaml"
    rules.write_text(FAST.replace("measure: workload", "measure: visits"))
    code = main(["territory", str(rules), "--data", str(sample_dir), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{rules}:5:36: balance[0].measure: the units have no numeric measure `visits`" in err


def test_export_model_writes_a_model_highs_reads(tmp_path, sample_dir, capsys):
    import highspy

    rules = tmp_path / "fast.yaml"
    rules.write_text(FAST)
    model = tmp_path / "model.mps"
    args = ["territory", str(rules), "--data", str(sample_dir), "--out", str(tmp_path / "out")]
    assert main([*args, "--export-model", str(model)]) == 0
    assert f"wrote {model}" in capsys.readouterr().out
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(model))
    assert h.getNumCol() > 0 and h.getNumRow() > 0

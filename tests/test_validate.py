"""`validate_paths`: files, folders, and the data a rule file names."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import attain
from attain.schema import KINDS, RuleModel


class _Names(RuleModel):
    """A kind that names a data folder and a file."""

    kind: Literal["names_data"] = "names_data"
    data: str
    file: str

    def referenced_paths(self, base: Path) -> list[Path]:
        return [base / self.data, base / self.file]


def test_referenced_data_is_loaded_and_checked(tmp_path, sample_dir, monkeypatch):
    monkeypatch.setitem(KINDS, "names_data", _Names)
    good = tmp_path / "good.yaml"
    good.write_text(f"kind: names_data\ndata: {sample_dir}\nfile: {sample_dir / 'org.csv'}\n")
    assert attain.validate_paths([good]).ok
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"kind: names_data\ndata: {tmp_path}\nfile: missing.csv\n")
    report = attain.validate_paths([bad])
    messages = [str(p) for p in report.problems]
    assert any("no company.yaml" in m for m in messages)
    assert any(
        m.startswith(f"{bad}: names {tmp_path / 'missing.csv'}, which does not exist")
        for m in messages
    )


def test_a_folder_of_rule_files_is_walked(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.yml").write_text("kind: nope\n")
    (tmp_path / "notes.txt").write_text("ignored")
    report = attain.validate_paths([tmp_path])
    assert [p.source for p in report.problems] == [str(tmp_path / "sub" / "x.yml")]


def test_an_empty_folder_is_a_problem(tmp_path):
    report = attain.validate_paths([tmp_path])
    assert report.problems[0].code == "empty-folder"


ROOT = Path(__file__).resolve().parent.parent


def _misnamed(tmp_path: Path) -> tuple[Path, Path]:
    """The fy27 allocation rules with a region and a product misspelt; a territory rule
    file balancing a measure the units do not have."""
    alloc = (ROOT / "rules" / "allocation_fy27.yaml").read_text()
    bad_alloc = tmp_path / "alloc.yaml"
    bad_alloc.write_text(
        alloc.replace("where: {region: East}", "where: {region: Eest}").replace(
            "product: cloud", "product: clowd"
        )
    )
    terr = (ROOT / "rules" / "territory_balance.yaml").read_text()
    assert "measure: workload" in terr
    bad_terr = tmp_path / "terr.yaml"
    bad_terr.write_text(terr.replace("measure: workload", "measure: wrkload", 1))
    return bad_alloc, bad_terr


def test_allocation_and_territory_names_are_checked_against_data(tmp_path, sample_dir):
    bad_alloc, bad_terr = _misnamed(tmp_path)
    # Without a company only their form is checked: both are well-formed, and said so.
    report = attain.validate_paths([bad_alloc, bad_terr])
    assert report.ok and report.form_only == [str(bad_alloc), str(bad_terr)]
    report = attain.validate_paths([bad_alloc, bad_terr], data=sample_dir)
    messages = [str(p) for p in report.problems]
    assert len(messages) == 3
    assert any(
        m.startswith(f"{bad_alloc}:") and "rules[3].where.region: no region `Eest`" in m
        for m in messages
    )
    assert any("unknown product `clowd`" in m for m in messages)
    assert any(
        m.startswith(f"{bad_terr}:") and "no numeric measure `wrkload`" in m for m in messages
    )
    assert report.checked == [str(sample_dir)]  # the company itself passed
    assert report.form_only == []


def test_the_shipped_rules_pass_against_the_sample(sample_dir):
    report = attain.validate_paths([ROOT / "rules"], data=sample_dir)
    assert report.ok, report.problems
    assert len(report.checked) == 1 + len(list((ROOT / "rules").glob("*.yaml")))


def test_a_bad_data_folder_is_a_problem_and_the_rules_still_get_their_form_checked(tmp_path):
    bad_alloc, _ = _misnamed(tmp_path)
    report = attain.validate_paths([bad_alloc], data=tmp_path / "nowhere")
    assert [p.source for p in report.problems] == [str(tmp_path / "nowhere")]
    assert report.checked == [str(bad_alloc)]


def test_a_scenarios_unit_prices_name_its_companys_products(tmp_path, sample_dir):
    plan = ROOT / "rules" / "plan_field_rep.yaml"
    text = (
        f"kind: scenario\nname: s\ncompany: {sample_dir}\nplans: [{plan}]\n"
        f"targets: {{file: {sample_dir / 'org.csv'}}}\n"
    )
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(text + "unit_prices: {cloud: 450}\n")
    bad.write_text(text + "unit_prices: {clowd: 450}\n")
    assert attain.validate_paths([good]).ok
    [problem] = attain.validate_paths([bad]).problems
    assert problem.path == "unit_prices.clowd" and "unknown product `clowd`" in problem.message


def _company_with_measures(tmp_path: Path, sample_dir: Path, rows: str) -> Path:
    """The sample company with a measures table of its own: the sample's first rows and
    ``rows`` after them (CSV lines)."""
    import shutil

    folder = tmp_path / "company"
    shutil.copytree(sample_dir, folder)
    head = (sample_dir / "measures.csv").read_text().splitlines()[:4]
    (folder / "measures.csv").write_text("\n".join(head) + "\n" + rows)
    return folder


def test_the_measures_table_s_cells_are_checked_each_at_its_place(tmp_path, sample_dir):
    from attain.cli.main import main

    rows = (
        "NOBODY,2027-03-31,new_a_accounts,1,\n"  # row 5: an unknown person
        "R00001,2027-02-30,new_a_accounts,1,\n"  # row 6: no such day
        "R00001,2027-03-31,collection_rate,lots,1000\n"  # row 7: not a number
        "R00002,2027-03-31,collection_rate,950,\n"  # row 8: a ratio without denominator
    )
    folder = _company_with_measures(tmp_path, sample_dir, rows)
    source = str(folder / "measures.csv")
    report = attain.validate_paths([folder])
    found = {(p.source, p.row, p.field, p.code) for p in report.problems}
    assert (source, 6, "date", "date") in found
    assert (source, 7, "value", "number") in found
    # the references and the ratios are checked once every cell is typed
    rows = rows.replace("2027-02-30", "2027-02-28").replace("lots", "990")
    folder = _company_with_measures(tmp_path / "2", sample_dir, rows)
    source = str(folder / "measures.csv")
    report = attain.validate_paths([folder])
    found = {(p.source, p.row, p.field, p.code) for p in report.problems}
    assert found == {
        (source, 5, "rep_id", "unknown-reference"),
        (source, 8, "denominator", "missing-denominator"),
    }
    assert main(["validate", str(folder)]) == 2


def test_a_kpi_plan_is_checked_against_its_company_s_measures_table(tmp_path, sample_dir):
    """A measure the plan reads as a ratio needs a denominator on each row, although the
    table alone is valid (no denominator on any row: a count); a measure it reads must
    have rows."""
    folder = _company_with_measures(tmp_path, sample_dir, "")
    table = folder / "measures.csv"
    header = "rep_id,date,measure,value,denominator\n"
    table.write_text(
        header + "R00001,2027-01-31,new_a_accounts,1,\n"
        "R00001,2027-01-31,sales_expense_rate,900,\n"
        "R00001,2027-01-31,collection_rate,950,1000\n"
    )
    assert attain.validate_paths([folder]).ok
    plan = tmp_path / "plan_kpi.yaml"
    plan.write_text(
        (ROOT / "rules" / "plan_kpi_mbo.yaml")
        .read_text()
        .replace("company: ../scenarios/sample", f"company: {folder}")
    )
    [problem] = attain.validate_paths([plan]).problems
    assert (problem.source, problem.row, problem.field, problem.code) == (
        str(table),
        3,
        "denominator",
        "missing-denominator",
    )
    assert "`sales_expense_rate` is a ratio" in problem.message
    table.write_text(header + "R00001,2027-01-31,sales_expense_rate,900,9000\n")
    problems = attain.validate_paths([plan]).problems
    assert [(p.code, p.message) for p in problems] == [
        ("unknown-measure", f"no row of measure `{m}`, which a KPI component reads")
        for m in ("collection_rate", "new_a_accounts")
    ]


def test_the_shipped_kpi_plan_validates_against_the_sample_measures(sample_dir):
    report = attain.validate_paths([sample_dir, ROOT / "rules" / "plan_kpi_mbo.yaml"])
    assert report.ok, report.problems
    assert report.summaries[str(sample_dir)]["measures"] == [
        "collection_rate",
        "new_a_accounts",
        "sales_expense_rate",
    ]

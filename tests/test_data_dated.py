"""An effective-dated org: several rows per person, open headcount, overlaps and gaps located."""

from __future__ import annotations

import pandas as pd
import pytest

import attain
from attain.errors import DataError


def dated(sample_company, rows: list[dict]) -> pd.DataFrame:
    org = sample_company.org.copy()
    org["start_date"] = ""
    org["end_date"] = ""
    extra = []
    for r in rows:
        base = org[org["rep_id"] == r.get("like", r["rep_id"])].iloc[0].to_dict()
        base.update({k: v for k, v in r.items() if k != "like"})
        extra.append(base)
    keep = org[~org["rep_id"].isin([r["rep_id"] for r in rows])]
    out = pd.concat([keep, pd.DataFrame(extra)], ignore_index=True).astype(str)
    if "open_headcount" in out.columns:
        out["open_headcount"] = out["open_headcount"].replace("nan", "false")
    return out


def test_a_transfer_is_two_rows_and_the_org_keeps_the_latest(sample_company):
    org = dated(
        sample_company,
        [
            {"rep_id": "R00001", "team": "East-01", "end_date": "2027-06-30"},
            {"rep_id": "R00001", "team": "East-02", "start_date": "2027-07-01"},
            {
                "rep_id": "OPEN-001",
                "like": "R00002",
                "start_date": "2027-09-01",
                "open_headcount": "true",
            },
        ],
    )
    company = attain.company_from_frames(sample_company.rules, org=org)
    assert company.org_dated is not None and len(company.org_dated) == len(org)
    assert company.org["rep_id"].is_unique
    assert company.org.set_index("rep_id").loc["R00001", "team"] == "East-02"
    assert bool(company.org_dated.set_index("rep_id").loc["OPEN-001", "open_headcount"])
    assert (
        attain.company_from_frames(sample_company.rules, org=sample_company.org).org_dated is None
    )


@pytest.mark.parametrize(
    ("rows", "code", "text"),
    [
        (
            [
                {"rep_id": "R00001", "end_date": "2027-06-30"},
                {"rep_id": "R00001", "team": "East-02", "start_date": "2027-06-01"},
            ],
            "overlap",
            "starts 2027-06-01 while the row on row",
        ),
        (
            [
                {"rep_id": "R00001", "end_date": "2027-06-30"},
                {"rep_id": "R00001", "team": "East-02", "start_date": "2027-07-15"},
            ],
            "gap",
            "2027-07-01 to 2027-07-14 are in no row",
        ),
        (
            [{"rep_id": "R00001", "start_date": "2027-05-01", "end_date": "2027-04-01"}],
            "dates",
            "before it starts",
        ),
        (
            [{"rep_id": "OPEN-9", "like": "R00002", "open_headcount": "true"}],
            "open-headcount",
            "has no start_date",
        ),
        ([{"rep_id": "R00001", "end_date": "2027-13-01"}], "date", "not a date"),
    ],
)
def test_bad_dated_rows_are_located(sample_company, rows, code, text):
    org = dated(sample_company, rows)
    with pytest.raises(DataError) as e:
        attain.company_from_frames(sample_company.rules, org=org)
    p = next(p for p in e.value.problems if p.code == code)
    assert text in p.message and p.row is not None and p.field in ("start_date", "end_date")
    assert p.source == "<org>"

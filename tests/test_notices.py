"""Warnings: their text and their JSON form."""

from __future__ import annotations

from attain.notices import Notice, notices_json


def test_a_notice_reads_as_one_line_with_its_code_and_place() -> None:
    n = Notice(
        "zero-targets", "125 of 300 reps have a zero target", source="senior_floor", count=125
    )
    assert str(n) == "warning: senior_floor: 125 of 300 reps have a zero target [zero-targets]"
    assert n.to_json() == {
        "code": "zero-targets",
        "message": "125 of 300 reps have a zero target",
        "source": "senior_floor",
        "count": 125,
    }


def test_a_notice_without_place_or_count_leaves_them_out() -> None:
    n = Notice("no-participants", "the plan pays nobody")
    assert str(n) == "warning: the plan pays nobody [no-participants]"
    assert notices_json([n]) == [{"code": "no-participants", "message": "the plan pays nobody"}]

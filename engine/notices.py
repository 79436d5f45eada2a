"""Warnings about results that are valid but probably not what the user meant.

A result that is silently zero or empty (nobody matched a rule, every target
rounded to 0, a rep paid nothing because it has no target) is not an error:
the run succeeds. It carries a :class:`Notice` for each such finding, which
the result's ``summary.json`` lists under ``warnings`` and the CLI prints to
stderr as ``warning: <message> [<code>]``. The library itself never prints.

Codes are stable kebab-case names (``zero-targets``, ``no-participants``), so a
caller can filter on them; messages are one plain line with the numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["YEAR_END_BALANCE_NOTICE", "Notice", "notices_json"]

#: A balance still owed after the year's last period; where the data stops before the
#: year does (a close, tracking to a date) it is not a fact yet, and is left out.
YEAR_END_BALANCE_NOTICE = "balance-carried-past-year-end"


@dataclass(frozen=True)
class Notice:
    """One warning: a stable ``code``, a one-line ``message``, and where it comes from.

    ``source`` names the rule, component or file concerned (empty when the
    whole run is); ``count`` is how many units, rows or lines it concerns.
    """

    code: str
    message: str
    source: str = ""
    count: int | None = None

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"warning: {where}{self.message} [{self.code}]"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.source:
            data["source"] = self.source
        if self.count is not None:
            data["count"] = self.count
        return data


def notices_json(notices: Iterable[Notice]) -> list[dict[str, Any]]:
    """The ``warnings`` list of a summary.json, in the order the notices were raised."""
    return [n.to_json() for n in notices]

"""The errors attain raises.

Every error a user can cause derives from :class:`AttainError`; the CLI maps
each subclass to an exit code (DESIGN §3) and prints ``str(error)``, which is
one line per problem, compiler style::

    AttainError
    ├── InputError              bad input: exit 2
    │   ├── RuleFileError       a rule file (YAML/JSON) is wrong
    │   ├── DataError           a data table (CSV/Parquet/Excel/DataFrame) is wrong
    │   └── OutputError         the output folder may not be replaced, or cannot be written
    ├── InfeasibleError         the rules conflict: exit 3
    ├── SolverError             a solver is unavailable or failed: exit 4
    │   └── SolverUnavailableError
    ├── StorageError            the ledger's database was lost mid-run: exit 4
    └── NotFoundError           a name asked of a result is not in it (also a KeyError)

An :class:`InputError` carries every :class:`Problem` found, not only the
first, each with its place (file, line and column, or row and column) and,
where one helps, a hint.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "AttainError",
    "DataError",
    "InfeasibleError",
    "InputError",
    "NotFoundError",
    "OutputError",
    "Problem",
    "RuleFileError",
    "SolverError",
    "SolverUnavailableError",
    "StorageError",
]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one place of an input.

    ``line``/``column`` (1-based) locate a rule file; ``row`` (as the user
    counts it: the spreadsheet row, header being row 1) and ``field`` locate a
    data table cell. ``path`` is the dotted field path (``tiers[1].rate``). ``hint``
    is None when there is none (an empty hint given is taken as none).
    """

    source: str
    message: str
    path: str = ""
    line: int | None = None
    column: int | None = None
    row: int | None = None
    field: str | None = None
    code: str = ""
    hint: str | None = None
    count: int = 1
    """How many problems this stands for: 1, or for the line that closes a capped list
    (code ``more``) the number of problems found but not listed."""

    def __post_init__(self) -> None:
        if not self.hint:
            object.__setattr__(self, "hint", None)

    def __str__(self) -> str:
        if self.line is not None:
            place = f"{self.source}:{self.line}:{self.column or 1}:"
        elif self.row is not None:
            place = f"{self.source}: row {self.row}"
            place += f", column {self.field}:" if self.field else ":"
        elif self.field:
            place = f"{self.source}: column {self.field}:"
        else:
            place = f"{self.source}:"
        text = f"{place} {self.path}: {self.message}" if self.path else f"{place} {self.message}"
        if self.code:
            text += f" [{self.code}]"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class AttainError(Exception):
    """Base of every error attain raises on purpose."""


class InputError(AttainError):
    """Bad input: one or more located problems."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: Sequence[Problem] = tuple(problems)
        if not self.problems:
            raise ValueError("an InputError needs at least one problem")
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def n_problems(self) -> int:
        """Every problem found, listed or not (a capped list lists the first ones)."""
        return sum(p.count for p in self.problems)

    @property
    def n_listed(self) -> int:
        return sum(1 for p in self.problems if p.code != "more")


class RuleFileError(InputError):
    """A rule file could not be read or does not follow the rule language."""


class DataError(InputError):
    """A data table has a missing column, a bad cell, or a dangling reference."""


class OutputError(InputError):
    """The output folder holds inputs or other outputs, or cannot be written (full,
    read-only); nothing was written."""


class InfeasibleError(AttainError):
    """The hard rules conflict; ``conflicts`` names them with their numbers."""

    def __init__(self, message: str, conflicts: Sequence[str] = ()):
        self.conflicts = tuple(conflicts)
        lines = [message, *(f"  - {c}" for c in self.conflicts)]
        super().__init__("\n".join(lines))


class SolverError(AttainError):
    """A solver failed, or returned something that does not check out."""


class SolverUnavailableError(SolverError):
    """The requested solver is not installed or not usable here."""


class StorageError(AttainError):
    """The ledger's database went away or failed mid-run (connection lost, disk full);
    its transaction was rolled back, so nothing was half-written."""


class NotFoundError(AttainError, KeyError):
    """A name asked of a result is not in it (``payouts.statement("NOPE")``): says what
    was asked, what kind of name, and the nearest names it holds."""

    def __init__(self, what: str, name: object, known: Iterable[object] = ()):
        self.what = what
        self.name = name
        names = [str(k) for k in known]
        self.suggestions = _nearest(str(name), names)
        text = f"no {what} `{name}`"
        if self.suggestions:
            text += "; did you mean " + " or ".join(f"`{s}`" for s in self.suggestions) + "?"
        elif names:
            text += f" (it has {len(names):,}, e.g. `{names[0]}`)"
        self.message = text
        super().__init__(text)

    def __str__(self) -> str:  # KeyError would show the message quoted
        return self.message


def _nearest(name: str, names: list[str], n: int = 3, cutoff: float = 0.6) -> tuple[str, ...]:
    """The ``n`` names most like ``name`` (difflib's ratio; ties in name order)."""
    import difflib

    matcher = difflib.SequenceMatcher(b=name)
    scored = []
    for candidate in names:
        matcher.set_seq1(candidate)
        if matcher.real_quick_ratio() >= cutoff and matcher.quick_ratio() >= cutoff:
            score = matcher.ratio()
            if score >= cutoff:
                scored.append((-score, candidate))
    return tuple(c for _, c in sorted(scored)[:n])

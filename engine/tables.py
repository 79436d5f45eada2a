"""The input tables a company brings, and their columns.

One :class:`Column` list per table; ``docs/data.md`` is written from these
specs and a test keeps the two in step. Columns not listed here are kept as
they are (a company may filter on its own columns, e.g. ``segment``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DATED_ORG",
    "ID_MAX_BYTES",
    "KEYS",
    "MAX_AMOUNT",
    "TABLES",
    "Column",
    "markdown_reference",
    "table_columns",
]

#: Every number cell (money, quantities, coefficients) must be below this in size:
#: 10^13 of the currency is more than any company books in a year, and keeps every
#: amount exact in float64 cents (below 2^53).
MAX_AMOUNT = 10**13
#: The longest id (in UTF-8 bytes) of a column whose ids name files, so that the
#: encoded file name (statements/<rep_id>.html) fits every file system's 255 bytes.
ID_MAX_BYTES = 80

ColumnType = Literal["id", "text", "int", "number", "date", "month", "bool", "choice"]


@dataclass(frozen=True)
class Column:
    """One column of an input table and the checks every cell must pass."""

    name: str
    type: ColumnType
    description: str
    required: bool = True
    """Whether the column must be present (an optional one takes ``default``)."""
    default: object = None
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    choices: tuple[str, ...] = ()
    references: str | None = None
    """``table.column`` every value must exist in (a dangling reference is an error)."""
    file_name: bool = False
    """The ids name files: no ``/`` or ``\\``, not ``.``/``..``, at most
    :data:`ID_MAX_BYTES` bytes."""


ORG = (
    Column("rep_id", "id", "Unique id of the person.", file_name=True),
    Column("name", "text", "Display name."),
    Column(
        "role",
        "text",
        "Role, e.g. `rep`, `senior_rep`, `manager`; plans select participants by it.",
    ),
    Column("tenure_months", "int", "Months since hire; drives new-hire ramps.", min=0),
    Column(
        "capacity", "number", "The most this person can sell in the plan year (currency).", min=0
    ),
    Column(
        "target_incentive",
        "number",
        "Yearly incentive paid at 100% attainment (currency).",
        min=0,
    ),
)

#: Optional org columns of an effective-dated org: a person may then have several rows
#: (a transfer or a role change starts a new row), and open headcount is allowed.
DATED_ORG = (
    Column(
        "start_date",
        "date",
        "First day of this row (empty: from before the year). A transfer or role change "
        "starts a new row the day after the previous one ends.",
        required=False,
    ),
    Column(
        "end_date",
        "date",
        "Last day of this row (empty: still in it). A leaver's last row ends on the last day.",
        required=False,
    ),
    Column(
        "open_headcount",
        "bool",
        "A to-be-hired placeholder (e.g. `rep_id` `OPEN-001`) with its planned `start_date` "
        "and role.",
        required=False,
        default=False,
    ),
)

ACCOUNTS = (
    Column("account_id", "id", "Unique id of the customer account."),
    Column("rep_id", "id", "The rep who owns the account now.", references="org.rep_id"),
    Column("current_revenue", "number", "Revenue from the account over the last 12 months.", min=0),
    Column(
        "growth_coefficient",
        "number",
        "Expected growth multiplier of the account (1.2 = could buy 20% more).",
        min=0,
    ),
    Column(
        "workload",
        "number",
        "Effort index to serve the account.",
        required=False,
        default=1.0,
        min=0,
    ),
    Column(
        "latitude", "number", "Location, for territory travel.", required=False, min=-90, max=90
    ),
    Column(
        "longitude", "number", "Location, for territory travel.", required=False, min=-180, max=180
    ),
)

POTENTIAL = (
    Column("rep_id", "id", "The rep.", references="org.rep_id"),
    Column("product", "id", "The product line.", references="company.products"),
    Column(
        "potential",
        "number",
        "What the rep's market could buy of the product in the plan year.",
        min=0,
    ),
)

HISTORY = (
    Column("rep_id", "id", "The rep.", references="org.rep_id"),
    Column("product", "id", "The product line.", references="company.products"),
    Column("month", "month", "Calendar month, `YYYY-MM`."),
    Column("sales", "number", "Sales booked in the month (currency).", min=0),
)

ACTUALS = (
    Column("deal_id", "id", "Id of the deal; rows of a split deal share it."),
    Column("date", "date", "Booking (or cancellation) date, `YYYY-MM-DD`."),
    Column(
        "rep_id", "id", "The rep credited on this row.", references="org.rep_id", file_name=True
    ),
    Column("product", "id", "The product line.", references="company.products"),
    Column(
        "amount",
        "number",
        "The whole deal's amount (currency), before the split.",
        min=0,
        min_exclusive=True,
    ),
    Column(
        "split",
        "number",
        "This rep's share of the credit (0–1]; the rows of a deal add up to 1.",
        required=False,
        default=1.0,
        min=0,
        max=1,
        min_exclusive=True,
    ),
    Column(
        "quantity",
        "number",
        "Units sold (for per-unit SPIFFs).",
        required=False,
        default=1.0,
        min=0,
    ),
    Column("new_customer", "bool", "The deal wins a new customer.", required=False, default=False),
    Column(
        "type",
        "choice",
        "`booking`, or `cancellation` of an earlier booking with the same `deal_id`; "
        "a cancellation reverses credit in the period of its own date.",
        required=False,
        default="booking",
        choices=("booking", "cancellation"),
    ),
)

MEASURES = (
    Column("rep_id", "id", "The person.", references="org.rep_id"),
    Column("date", "date", "The day the value belongs to, `YYYY-MM-DD`."),
    Column("measure", "id", "The measure's name, as KPI components name it (`new_a_accounts`)."),
    Column("value", "number", "A count (accounts won), or a ratio's numerator (collected)."),
    Column(
        "denominator",
        "number",
        "A ratio's denominator (invoiced); empty for counts. A measure with a denominator "
        "on one row is a ratio: every row of it needs one.",
        required=False,
        min=0,
    ),
)

TABLES: dict[str, tuple[Column, ...]] = {
    "org": ORG,
    "accounts": ACCOUNTS,
    "potential": POTENTIAL,
    "history": HISTORY,
    "actuals": ACTUALS,
    "measures": MEASURES,
}

#: The key columns that must be unique in each table.
KEYS: dict[str, tuple[str, ...]] = {
    "org": ("rep_id",),
    "accounts": ("account_id",),
    "potential": ("rep_id", "product"),
    "history": ("rep_id", "product", "month"),
    "actuals": ("deal_id", "type", "rep_id"),
    "measures": (),  # several rows of a person, day and measure add up
}


def table_columns(table: str, hierarchy: Sequence[str] = ()) -> tuple[Column, ...]:
    """The columns of ``table``; the org table also has one column per hierarchy level."""
    columns = TABLES[table]
    if table != "org":
        return columns
    levels = tuple(
        Column(level, "id", f"Hierarchy level `{level}` (from company.yaml).")
        for level in hierarchy
    )
    return columns[:2] + levels + columns[2:]


_INTRO = """\
# Input data

A company's data folder holds a manifest, `company.yaml` (`kind: company`, see
[rules.md](rules.md#kind-company)), and the tables it names. Tables are CSV
(UTF-8, a header row), Parquet, or Excel (`.xlsx`, first sheet); through the
Python API they are pandas DataFrames (`attain.company_from_frames`).

Every cell is checked when the company is loaded: missing columns, empty
cells, text in number columns, out-of-range values, duplicate keys, and
references to unknown reps or products are errors naming the file, the row
and the column — `org.csv: row 17, column capacity: not a number: '12k'`.
Rows count as a spreadsheet does (the header is row 1, so the first record of
a CSV or Excel file is row 2); Parquet files and DataFrames count records
from 1. No row is ever dropped silently. Columns not listed here are kept and
can be used by filters in rule files (e.g. a `segment` column).

Limits and strict reading (each a located error, exit 2):

- **Rows**: the header names each column once (`capacity` twice is an error,
  not a renamed copy), and every row has exactly one cell per column: a row cut
  short, a file cut off in its last row, and a row with a cell too many (an
  unquoted comma) are errors naming the row and both counts — missing cells
  never take defaults, and no cell becomes an index. Lines end in `\\n`, `\\r\\n`
  or a lone `\\r`; a line end inside quotes is part of its cell's text (and a
  control character, an error, in an id or text column).
- **Numbers**: every number cell is finite and below 10^13 in size
  (10,000,000,000,000 of the currency: more than any company books in a year,
  and every amount stays exact in cents). A deal `amount` has at most the
  currency's `minor_unit` decimals (`60152.195` euros is an error, never
  rounded in silence; docs/plans.md says the same), and so has a `target` of
  a targets table (`attain payout`, `track`, `simulate`). A plan whose
  `rounding.minor_unit` differs from the company's computes money in its own
  unit: a finer one holds every amount exactly; with a coarser one (whole euros
  for a company in cents) every deal amount and target must be whole in the
  plan's unit, and one that is not is an error at its row, never rounded.
- **Ids and text**: no cell holds a control character (NUL, newline, escape)
  or an invisible format character (bidi overrides, zero-width spaces).
  Rep ids name files (`statements/<rep_id>.md`), so a `rep_id` may not hold
  `/` or `\\`, be `.` or `..`, or be longer than 80 bytes (UTF-8).
- **File names**: ids become file names through a reversible percent-encoding
  (`attain.output.safe_filename`): letters and digits of any script, `-`, `_`,
  `.` and `+` stay as they are; every other character becomes `%XX` per UTF-8
  byte, as do a leading or trailing `.` and the first letter of a Windows
  device name (`CON` → `%43ON`). `R 7` is written `statements/R%207.md`;
  `urllib.parse.unquote` gives the id back.
- **Size**: a table file may be at most 2 GiB (`ATTAIN_MAX_TABLE_BYTES`
  overrides it, in bytes), a rule file at most 5 MB
  (`ATTAIN_MAX_RULE_FILE_BYTES`), nested at most 64 levels deep (checked on
  the text before it is parsed); a path that is not a regular file (a device
  such as `/dev/zero`, a pipe) is refused. A CSV table is read in blocks of
  whole records (8 MiB; `ATTAIN_CSV_BLOCK_BYTES` overrides it), each typed
  and checked on its own with its true row numbers, so the file never exists
  whole as text; the checked table (repeated ids stored once) is what stays
  in memory. A Parquet file is read 65,536 rows at a time (pyarrow's batches),
  and so is the first sheet of an Excel workbook (openpyxl's read-only mode,
  which holds the workbook's shared strings whole: the size limit is on the
  compressed file). In Excel a date cell reads as `YYYY-MM-DD`, a whole
  number without `.0`, a blank row is skipped (the rows after it keep their
  numbers), and a filled cell right of the header's last column is an error
  at its row.

Output folders. Every command writes its files as one set: into a hidden
staging folder beside `--out`, swapped into place only when every file is
written (with a manifest, `.attain-output.json`, listing each file's size
and SHA-256). An error, Ctrl-C (exit 130) or a kill leaves the previous
complete set, never a mix, and files of an earlier run never survive beside
a new one. A command refuses (exit 2) an `--out` folder that holds its own
inputs, another command's output, or other files, before it reads or computes
anything (not after a long solve), unless given `--force`:
then the other entries are kept and only an earlier set of the same kind is
replaced. A run killed with SIGKILL may leave its staging folder
(`.NAME.attain-stage-PID-…`) beside `--out`; the next run there removes it.
A full disk or a read-only folder is an error naming the `--out` folder.

Derived values:

- **potential value** of an account = `current_revenue × growth_coefficient`;
- **tier**: accounts ranked by potential value; an account is in the first tier
  whose cumulative share (the manifest's `tier_shares`, default A 70% / B 20% /
  C 10%) the accounts ranked above it have not filled, so the top accounts
  making 70% of all potential are A;
- **potential per rep × product**, when no `potential` table is given: the sum
  of the rep's accounts' potential value, split over products by the rep's own
  product mix over the last 12 months of history (the company's mix for a rep
  without history).

This page is generated from `engine/tables.py` (`make docs`).
"""


#: What docs/data.md says below a table's key.
_TABLE_NOTES = {
    "org": " With `start_date` or `end_date` (a dated org): `rep_id`, `start_date`; a "
    "person's rows may not overlap, nor leave a gap between them. The dates are "
    "honoured everywhere: the allocation and the re-plan (docs/allocation.md; weekly "
    "activity targets only on days in the org), payouts (credit only on days in a "
    "participant role, components limited to `roles:` by date, fixed amounts and "
    "the draw by days in role: docs/plans.md, *A dated org*) and the simulator (a "
    "rep sells and is paid only while in the org: docs/simulate.md).",
    "measures": "No unique key: several rows of a person, day and measure add up. The "
    "non-revenue measures KPI components read (docs/plans.md, *KPI*): one row per recorded "
    "value. A window's count is the sum of its values; its ratio is the sum of the values "
    "over the sum of the denominators (an exact year-to-date ratio, not an average of "
    "monthly ratios). Rows dated outside the plan year, and rows of measures a plan does "
    "not read, are left out and counted in a warning; `attain track` leaves out the rows "
    "dated after `--as-of` the same way. `attain payout` and `attain track` read this "
    "table when company.yaml names it (`tables: measures: measures.csv`); `--measures "
    "FILE` overrides it.",
}


def markdown_reference() -> str:
    """docs/data.md: the intro and one table of columns per input table."""
    parts = [_INTRO]
    for table, columns in TABLES.items():
        key = ", ".join(f"`{k}`" for k in KEYS[table])
        note = _TABLE_NOTES.get(table, "")
        parts += [
            f"## {table}",
            "",
            f"Unique key: {key}.{note}" if key else note.strip(),
            "",
            "| column | type | required | checks | meaning |",
            "| --- | --- | --- | --- | --- |",
        ]
        if table == "org":
            parts.append(
                "| *one per hierarchy level* | id | yes | a unit sits in one parent unit | "
                "The levels named by `hierarchy` in company.yaml, e.g. `region`, `team`. |"
            )
            columns = (*columns, *DATED_ORG)
        for c in columns:
            required = (
                "yes"
                if c.required
                else f"no (default `{c.default}`)"
                if c.default is not None
                else "no"
            )
            parts.append(f"| `{c.name}` | {c.type} | {required} | {_checks(c)} | {c.description} |")
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def _checks(c: Column) -> str:
    checks = []
    if c.min is not None:
        checks.append(f"> {c.min:g}" if c.min_exclusive else f"≥ {c.min:g}")
    if c.max is not None:
        checks.append(f"≤ {c.max:g}")
    if c.choices:
        checks.append("one of " + ", ".join(f"`{x}`" for x in c.choices))
    if c.references:
        checks.append(f"must exist in {c.references}")
    if c.file_name:
        checks.append(f"no `/` or `\\`, at most {ID_MAX_BYTES} bytes")
    if c.type == "month":
        checks.append("`YYYY-MM`")
    if c.type == "date":
        checks.append("`YYYY-MM-DD`")
    return "; ".join(checks)

"""`attain ledger …`: the payout ledger's states, adjustments, audit and payroll export;
and `attain payout … --ledger URL --close PERIOD` (see :func:`close_period`)."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click
import yaml

from attain.cli.options import echo_notices, force_option
from attain.errors import DataError, Problem
from attain.schema.base import MAX_AMOUNT

ledger_option = click.option(
    "--ledger",
    "url",
    required=True,
    help="The ledger: a file path (SQLite) or postgresql://user:password@host:port/db.",
)
period_option = click.option("--period", required=True, help="Pay period label, e.g. 2027-03.")


def _open(url: str):
    from attain.ledger import Ledger

    return Ledger(url)


@click.group()
def ledger() -> None:
    """Keep payout periods on a ledger: close, approve, hold, pay, adjust, audit, export.

    A plain path is a SQLite file; postgresql://… a PostgreSQL database. Periods are
    closed with `attain payout PLAN… --targets T --actuals A --ledger URL --close P`.

    Example: attain ledger init --ledger pay.db
    """


@ledger.command()
@ledger_option
def init(url: str) -> None:
    """Create the ledger (or migrate it to this attain's schema version).

    Example: attain ledger init --ledger pay.db
    """
    before, after = _open(url).init()
    if before == after:
        click.echo(f"{url}: ledger at schema version {after}, nothing to do")
    elif before == 0:
        click.echo(f"created ledger {url} (schema version {after})")
    else:
        click.echo(f"migrated ledger {url} from schema version {before} to {after}")


def _state_command(name: str, doc: str):
    @ledger.command(name=name, help=doc)
    @ledger_option
    @period_option
    @click.option("--rep", default=None, help="Only this rep's lines.")
    @click.option("--line", type=int, default=None, help="Only this line (its id).")
    @click.option("--by", default="", help="Who does it (recorded with the change).")
    @click.option("--reason", default="", help="Why (recorded with the change).")
    def command(url, period, rep, line, by, reason) -> None:
        book = _open(url)
        moved = getattr(book, name)(period, rep=rep, line=line, by=by, reason=reason)
        verb = {"approve": "approved", "pay": "paid", "hold": "held", "release": "released"}[name]
        n = len(moved)
        click.echo(f"{period}: {verb} {n} line{'s' if n != 1 else ''}")
        if name == "pay":
            held = book.lines(period, rep, line)
            n_held = int((held["held"] & (held["state"] != "paid")).sum())
            if n_held:
                click.echo(f"{period}: {n_held} held line(s) not paid", err=True)

    return command


_state_command(
    "approve",
    "Approve calculated lines of a period (all, a rep's, or one).\n\n"
    "Example: attain ledger approve --ledger pay.db --period 2027-03 --by finance",
)
_state_command(
    "hold",
    "Hold a rep's lines of a period, or one line, from payment.\n\n"
    "Example: attain ledger hold --ledger pay.db --period 2027-03 --rep R00007 --by finance "
    "--reason 'disputed deal'",
)
_state_command(
    "release",
    "Release the holds on a rep's lines of a period, or on one line.\n\n"
    "Example: attain ledger release --ledger pay.db --period 2027-03 --rep R00007 --by finance",
)
_state_command(
    "pay",
    "Mark approved lines of a period paid; held lines are not paid.\n\n"
    "Example: attain ledger pay --ledger pay.db --period 2027-03 --by payroll",
)


@ledger.command()
@ledger_option
@period_option
@click.option("--rep", required=True, help="The rep paid (or recovered from).")
@click.option("--amount", required=True, help="Amount in the currency, e.g. 500.00 or -120.50.")
@click.option(
    "--code",
    "reason_code",
    required=True,
    type=click.Choice(["bonus", "correction", "guarantee", "other"]),
    help="Reason code.",
)
@click.option("--by", required=True, help="Who enters it.")
@click.option("--reason", default="", help="Why, in words.")
@click.option("--component", default="manual", show_default=True, help="Line name.")
@click.option("--minor-unit", default=2, show_default=True, help="Decimals of the currency.")
def adjust(url, period, rep, amount, reason_code, by, reason, component, minor_unit) -> None:
    """Enter a manual adjustment for an open period, recorded when it closes.

    Example: attain ledger adjust --ledger pay.db --period 2027-04 --rep R00007
    --amount 500 --code bonus --by finance --reason 'launch award'
    """
    try:
        value = Decimal(amount)
        minor = value.scaleb(minor_unit)
        # inf and NaN are not amounts; neither is anything past the money limit.
        if not value.is_finite() or abs(value) >= Decimal(MAX_AMOUNT):
            raise InvalidOperation
        if minor != minor.to_integral_value():
            raise InvalidOperation
    except InvalidOperation:
        raise click.BadParameter(
            f"not an amount below {MAX_AMOUNT:,.0f} with at most {minor_unit} decimals: {amount!r}",
            param_hint="--amount",
        ) from None
    ident = _open(url).adjust(period, rep, int(minor), reason_code, by, reason, component)
    click.echo(f"{period}: manual adjustment {ident} for {rep} entered ({reason_code})")


@ledger.command()
@ledger_option
def runs(url: str) -> None:
    """List the runs: period, when, attain version, lines and total.

    Example: attain ledger runs --ledger pay.db
    """
    table = _open(url).runs()
    click.echo(table.to_string(index=False) if not table.empty else "no runs")


@ledger.command()
@ledger_option
@click.argument("run", type=int, required=False)
@click.option("--line", type=int, default=None, help="Explain this line (its id) instead.")
def show(url: str, run: int | None, line: int | None) -> None:
    """Show one run (plans' hashes, data hashes, options, timings, lines), or one line
    with --line: its status, history, holds, the deals it names and its parts.

    Example: attain ledger show --ledger pay.db 3  ·  attain ledger show --ledger pay.db --line 17
    """
    if (run is None) == (line is None):
        raise click.UsageError("give a RUN or --line ID (one of the two)")
    book = _open(url)
    if line is not None:
        _show_line(book.explain(line))
        return
    record = book.run(run)
    click.echo(json.dumps(record, indent=2, sort_keys=True, default=str))
    lines = book.run_lines(run)
    if not lines.empty:
        cols = [
            "id",
            "plan",
            "rep_id",
            "component",
            "kind",
            "for_period",
            "amount",
            "state",
            "cause",
        ]
        click.echo(lines[cols].to_string(index=False))


def _show_line(explained: dict) -> None:
    from attain.incentive.result import format_minor

    line = explained["line"]
    unit = line["minor_unit"]
    cur = f" {line['currency']}" if line["currency"] else ""
    what = line["kind"] + (f" for {line['for_period']}" if line["kind"] != "regular" else "")
    click.echo(
        f"line {line['id']}: {line['rep_id']}, {line['period']}, {line['component']} ({what}): "
        f"{line['amount_text']}{cur}, {line['status']}"
        + (f" ({line['hold_reason']})" if line["status"] == "held" else "")
    )
    plan = f"plan {line['plan']} ({line['plan_hash'][:12]}), " if line["plan"] else ""
    click.echo(f"{plan}run {line['run_id']}")
    if line["cause"]:
        click.echo(f"cause: {line['cause']}")
    if explained["manual"] is not None:
        m = explained["manual"]
        click.echo(f"manual adjustment {m['id']}: {m['reason_code']} by {m['by']}: {m['reason']}")
    parts = explained["parts"]
    if not parts.empty:
        table = parts.rename(columns={"from_value": "from", "to_value": "to"})
        table["amount"] = format_minor(table["amount"].to_numpy(), unit).to_numpy()
        cols = ["part", "measure", "from", "to", "base", "rate", "amount"]
        click.echo("\nparts (they add up to the line):")
        click.echo(table[cols].to_string(index=False))
    elif line["kind"] != "manual":
        click.echo("\nno parts stored (the line was closed before schema version 2)")
    deals = explained["deals"]
    if not deals.empty:
        click.echo("\ndeals:")
        click.echo(deals[["deal_id", "type", "rep_id", "change", "detail"]].to_string(index=False))
    events = explained["events"]
    if not events.empty:
        click.echo("\nhistory:")
        events = events.assign(at=events["at"].astype(str).str.slice(0, 19))
        click.echo(events[["at", "event", "state", "by", "reason"]].to_string(index=False))


@ledger.command()
@ledger_option
@period_option
@click.option("--rep", default=None, help="Only this rep's statement.")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write lines.csv, statements.csv and statements/<rep>.md into.",
)
@force_option
def statements(url, period, rep, out, force) -> None:
    """Write a closed period's statements from the ledger: each line's status
    (calculated, approved, held, paid), holds, adjustments, manual lines and parts.

    Example: attain ledger statements --ledger pay.db --period 2027-03 --out statements_2027-03
    """
    result = _open(url).statements(period, rep)
    result.write(out, force=force)
    echo_notices(result.notices)
    s = result.summary
    click.echo(
        f"{period}: {s.n_lines} lines for {s.n_reps} reps ({s.n_held} held), total "
        f"{s.total} {s.currency}".rstrip()
    )
    click.echo(
        f"wrote {out / 'lines.csv'}, {out / 'statements.csv'}, {out / 'summary.json'} and "
        f"{s.n_reps} statements under {out / 'statements'}"
    )


@ledger.command()
@ledger_option
@click.argument("run_a", type=int)
@click.argument("run_b", type=int)
def diff(url: str, run_a: int, run_b: int) -> None:
    """Per rep and component: what changed between two runs, and whether plan or data did.

    Example: attain ledger diff --ledger pay.db 3 4
    """
    ledger = _open(url)
    table = ledger.diff(run_a, run_b)
    if table.empty:
        click.echo("no differences")
        return
    from attain.incentive.result import format_minor

    run = ledger.run(run_a)
    unit = int(run["minor_unit"])
    for column in ("amount_a", "amount_b", "change"):  # integer minor units → money text
        table[column] = format_minor(table[column].to_numpy(), unit).to_numpy()
    if run.get("currency"):
        click.echo(f"amounts in {run['currency']}")
    click.echo(table.to_string(index=False))


@ledger.command()
@ledger_option
@period_option
@click.option(
    "--format", "fmt", type=click.Choice(["payroll"]), default="payroll", show_default=True
)
@click.option(
    "--codes",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="YAML mapping of component (or kind:adjustment, kind:manual) → earning code.",
)
@click.option("--pay-date", default=None, help="Pay date (YYYY-MM-DD); default: the day paid.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="CSV file to write; default: standard output.",
)
def export(url, period, fmt, codes, pay_date, out) -> None:
    """Export a period's paid lines for payroll as CSV.

    Example: attain ledger export --ledger pay.db --period 2027-03 --format payroll
    --out payroll_2027-03.csv
    """
    mapping = _codes(codes) if codes is not None else None
    table = _open(url).export(period, fmt, mapping, pay_date)
    if out is None:
        click.echo(table.to_csv(index=False, lineterminator="\n"), nl=False)
        return
    from attain.output import write_csv

    write_csv(out, table)
    click.echo(f"wrote {out} ({len(table)} lines)")


def _codes(path: Path) -> dict[str, str]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        raise DataError(
            [Problem(str(path), "earning codes: not a YAML mapping", line=line, column=column)]
        ) from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str | int) for k, v in data.items()
    ):
        raise DataError(
            [Problem(str(path), "earning codes: a mapping of component name → earning code")]
        )
    return {k: str(v) for k, v in data.items()}


def close_period(plans, targets, actuals, data, url: str, period: str) -> None:
    """`attain payout … --ledger URL --close PERIOD`: close the period on the ledger."""
    book = _open(url)
    result = book.close(
        list(plans), targets, actuals, period, company=data, options={"close": period}
    )
    echo_notices(result.notices)
    if result.noop:
        click.echo(
            f"{period} is already closed with these inputs (run {result.summary['run']}); "
            "nothing recorded"
        )
        return
    s = result.summary
    click.echo(
        f"closed {period} as run {s['run']}: {s['n_lines']} lines "
        f"({s['n_adjustments']} adjustments), total {s['total']} {s['currency']}".rstrip()
    )

"""``creditcase import records FILE`` and ``creditcase publicity sweep``.

``import records`` loads a .csv / .json / .xlsx file of 双公示 records in the
national field codes (see :mod:`creditcase.core.importer`) with a progress bar,
prints one summary line and writes the per-row error report beside the file.
Exit status: 0 all rows stored or unchanged; 1 some rows were invalid (the valid
ones are stored; see the report); 2 the file was refused (nothing stored);
3 the import stopped part-way (the message says which rows were stored).

``publicity sweep`` moves overdue publications to ``overdue`` and ends the
publication of records whose publicity period is over; run it daily from cron.
"""

from __future__ import annotations

import datetime as dt
import getpass
import sys
from pathlib import Path

import click

from creditcase.core.importer import DEFAULT_BATCH


def _connect() -> None:
    from creditcase.cli import _connect as connect_storage

    connect_storage()


def _principal(by: str | None, department: str | None):
    from creditcase.core.accounts import Principal, User

    if by:
        user = User.objects(username=by, active=True).first()
        if user is None:
            raise click.ClickException(f"no active user {by}")
        principal = Principal.of(user)
        if not principal.has("data_provider", "credit_office"):
            raise click.ClickException(f"{by} may not push records (needs data_provider or "
                                       "credit_office)")
        return principal
    if not department:
        raise click.ClickException("give --department CODE (or --by USER to import as that user)")
    return Principal(f"cli:{getpass.getuser()}", department, frozenset({"admin"}))


@click.group("import")
def import_group() -> None:
    """Import data files."""


@import_group.command("records")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--department", default=None,
              help="Source department code (default: the --by user's department).")
@click.option("--kind", type=click.Choice(["penalty", "licence"]), default=None,
              help="Expected kind (default: from the column codes, CF_* or XK_*).")
@click.option("--by", default=None, help="Import as this user (audited); needs data_provider "
                                         "or credit_office.")
@click.option("--severity", type=click.Choice(["minor", "general", "serious",
                                               "轻微", "一般", "严重"]), default=None,
              help="Severity of penalty rows that have no severity column value.")
@click.option("--batch", "batch_size", type=click.IntRange(1, 10_000), default=DEFAULT_BATCH,
              show_default=True, help="Rows per transaction.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def import_records_command(file: Path, department: str | None, kind: str | None, by: str | None,
                           severity: str | None, batch_size: int, quiet: bool) -> None:
    """Import 双公示 records from FILE (.csv, .json or .xlsx) whose columns are the
    national field codes (CF_* penalties, XK_* licences)."""
    from tqdm import tqdm

    from creditcase.core.errors import DomainError
    from creditcase.core.importer import ImportAborted, ImportRefused, import_records

    _connect()
    principal = _principal(by, department)
    bar: tqdm | None = None

    def started(total: int) -> None:
        nonlocal bar
        if not quiet:
            bar = tqdm(total=total, unit="row", desc=file.name, file=sys.stderr,
                       dynamic_ncols=True)

    def progress(n: int) -> None:
        if bar is not None:
            bar.update(n)

    try:
        summary = import_records(principal, file, department=department, kind=kind,
                                 severity=severity, batch_size=batch_size, progress=progress,
                                 started=started)
    except ImportRefused as exc:
        _close(bar)
        details = "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.errors.items())
        click.echo(f"refused, nothing stored: {exc.detail}" + (f" ({details})" if details else ""),
                   err=True)
        sys.exit(2)
    except ImportAborted as exc:
        _close(bar)
        click.echo(str(exc), err=True)
        if exc.summary.report:
            click.echo(f"error report: {exc.summary.report}", err=True)
        sys.exit(3)
    except DomainError as exc:
        _close(bar)
        raise click.ClickException(exc.detail) from exc
    _close(bar)
    click.echo(summary.line())
    if summary.failed:
        sys.exit(1)


def _close(bar) -> None:
    if bar is not None:
        bar.close()


@click.group("publicity")
def publicity_group() -> None:
    """双公示 publicity."""


@publicity_group.command("sweep")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Sweep as of this day (default: today, China Standard Time).")
def sweep_command(today: dt.datetime | None) -> None:
    """Mark overdue publications and end publication at the end of the period."""
    from creditcase.core import publicity

    _connect()
    counts = publicity.sweep(today.date() if today else None)
    click.echo(f"overdue {counts.overdue}, ended {counts.ended}")


__all__ = ["import_group", "publicity_group"]

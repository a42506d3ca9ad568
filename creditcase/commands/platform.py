"""``creditcase platform``: scheduled and operator tasks of the credit platform.

* ``sweep`` marks list entries whose period has ended as expired (each with
  its ``list.entry.removed`` event); run it daily, it is safe to repeat;
* ``overdue`` lists objections, repair applications and commitments past their
  working-day due dates (exit status 1 when there are any, for monitoring);
* ``regrade`` recomputes stored credit grades (after a bulk import, or for
  every graded subject after a new scheme takes effect);
* ``measures`` prints the measure catalogue with each measure's status
  (``draft`` measures have no legal basis and are never enforced).

The logic lives in :mod:`creditcase.core.lists`, :mod:`creditcase.core.grades`
and the workflow modules; these commands only connect, call and print.
"""

from __future__ import annotations

import datetime as dt
import json

import click


def _connect() -> None:
    from creditcase.cli import _connect as connect_storage

    connect_storage()


def _day(value: dt.datetime | None) -> dt.date:
    from creditcase.core.db import local_today

    return value.date() if value else local_today()


@click.group("platform")
def platform() -> None:
    """Credit platform tasks: list expiry, overdue steps, grades, measures."""


@platform.command("sweep")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Expire as of this day (default: today in Beijing).")
def sweep(today: dt.datetime | None) -> None:
    """Expire list entries whose valid_until has passed."""
    from creditcase.core import lists

    _connect()
    expired = lists.expire_entries(_day(today))
    for entry in expired:
        click.echo(f"expired {entry.list_type} {entry.basis_doc_no} "
                   f"(valid until {entry.valid_until.isoformat()})")
    click.echo(f"{len(expired)} list entr{'y' if len(expired) == 1 else 'ies'} expired")


@platform.command("overdue")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Judge deadlines as of this day (default: today in Beijing).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def overdue(today: dt.datetime | None, as_json: bool) -> None:
    """Objections, repair applications and commitments past their due dates."""
    from creditcase.core import commitments, objections, repairs
    from creditcase.core.accounts import SYSTEM

    _connect()
    day = _day(today)
    rows = [{"kind": "objection", "number": o.number, "state": o.state,
             "due": o.due_date.isoformat(), "department": o.record_source_department}
            for o in objections.overdue(day)]
    rows += [{"kind": "repair", "number": a.number, "state": a.state,
              "due": a.due_date.isoformat(), "department": a.deciding_department}
             for a in repairs.overdue(SYSTEM, day)]
    rows += [{"kind": "commitment", "number": str(c.pk), "state": c.status,
              "due": min(i.due_date for i in c.overdue_items(day)).isoformat(),
              "department": c.department} for c in commitments.overdue(SYSTEM, day)]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            click.echo(f"{row['kind']:<10} {row['number']}  {row['state']:<14} due {row['due']}  "
                       f"{row['department']}")
        click.echo(f"{len(rows)} overdue as of {day.isoformat()}")
    if rows:
        raise SystemExit(1)


@platform.command("regrade")
@click.argument("codes", nargs=-1)
@click.option("--all", "everyone", is_flag=True, help="Every subject with a stored grade.")
def regrade(codes: tuple[str, ...], everyone: bool) -> None:
    """Recompute the stored grades of the given subjects (USCC or ID number)."""
    from creditcase.core import grades, ids
    from creditcase.core.errors import RuleViolation
    from creditcase.core.subjects import identify

    if not codes and not everyone:
        raise click.UsageError("give subject codes or --all")
    _connect()
    subjects: list[str] = []
    for code in codes:
        try:
            subjects.append(identify(code)[1])
        except RuleViolation as exc:
            raise click.ClickException(exc.detail) from exc
    if everyone:
        subjects += list(grades.GradeResult.objects.distinct("subject_code"))
    for code in sorted(set(subjects)):
        result = grades.recompute(code)
        click.echo(f"{ids.mask(code)}  {result.grade} {result.score}  ({result.scheme})")
    click.echo(f"{len(set(subjects))} grade(s) recomputed")


@platform.command("measures")
@click.option("--domain", default=None, help="Only measures that apply to this domain.")
def measures(domain: str | None) -> None:
    """The measure catalogue with each measure's status."""
    from creditcase.core.lists import Measure

    _connect()
    for measure in Measure.objects.order_by("code"):
        if domain and not measure.applies_to(domain):
            continue
        click.echo(f"{measure.code:<12} {measure.status:<12} {measure.kind:<6} "
                   f"{measure.binding:<13} {measure.text_zh}")

"""``creditcase dlq``: list and replay the dead-letter queue (死信队列).

Operators use it after fixing whatever made messages fail (a broken channel
plugin, a database outage that outlasted the retries, a producer sending bodies
that fail the schema): ``creditcase dlq list`` shows what is there and why,
``creditcase dlq replay`` sends messages back to the queue they died in. Both
need ``CREDITCASE_AMQP_URL``: in embedded mode the dead-letter queue lives
inside the ``creditcase serve`` process. The logic is in
:mod:`creditcase.queue.deadletter`.
"""

from __future__ import annotations

import json
import sys

import click

from creditcase.config import Settings


def _broker_settings() -> Settings:
    settings = Settings.from_env()
    if settings.embedded_broker:
        raise click.ClickException("CREDITCASE_AMQP_URL is not set: in embedded mode the "
                                   "dead-letter queue lives inside `creditcase serve`")
    return settings


def _connection(settings: Settings):
    from creditcase.queue import topology

    conn = topology.connection(settings, name="creditcase-dlq")
    try:
        topology.declare_all(conn, settings)
    except Exception as exc:
        conn.release()
        raise click.ClickException(f"broker {topology.safe_url(settings.broker_url)} not "
                                   f"reachable: {type(exc).__name__}: {exc}") from exc
    return conn


def _line(letter) -> str:
    when = letter.died_at.strftime("%Y-%m-%d %H:%M:%S") if letter.died_at else "-"
    replayed = f" replayed={letter.replays}" if letter.replays else ""
    return (f"{letter.message_id or '-'}  {letter.event_type or letter.content_type or '-'}  "
            f"queue={letter.queue or '-'} key={letter.routing_key or '-'} "
            f"reason={letter.reason or '-'} deaths={letter.deaths} at={when}{replayed}")


@click.group("dlq")
def dlq() -> None:
    """Dead-letter queue (死信队列): messages consumers rejected."""


@dlq.command("list")
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True,
              help="Show at most this many, oldest first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON, bodies included.")
def dlq_list(limit: int, as_json: bool) -> None:
    """Show dead-lettered messages without removing them."""
    from creditcase.queue import deadletter

    settings = _broker_settings()
    conn = _connection(settings)
    try:
        total = deadletter.count(conn, settings)
        letters = deadletter.peek(conn, settings, limit)
    finally:
        conn.release()
    if as_json:
        click.echo(json.dumps({"total": total, "messages": [d.as_dict() for d in letters]},
                              ensure_ascii=False, indent=2, default=str))
        return
    click.echo(f"死信队列 dead-letter queue: {total} message(s)"
               + (f", showing {len(letters)}" if len(letters) < total else ""))
    for letter in letters:
        click.echo(_line(letter))


@dlq.command("replay")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Replay at most this many, oldest first (default: all).")
def dlq_replay(limit: int | None) -> None:
    """Send dead-lettered messages back to the queue each died in.

    Exits 1 when a message could not be replayed (it stays in the queue)."""
    from creditcase.queue import deadletter

    settings = _broker_settings()
    conn = _connection(settings)
    try:
        report = deadletter.replay(conn, settings, limit)
    finally:
        conn.release()
    for letter in report.replayed:
        click.echo(f"replayed {_line(letter)}")
    for letter, problem in report.failed:
        click.echo(f"NOT replayed {letter.message_id or '-'}: {problem}", err=True)
    click.echo(f"{len(report.replayed)} replayed, {len(report.failed)} left in the "
               "dead-letter queue")
    if report.failed:
        sys.exit(1)

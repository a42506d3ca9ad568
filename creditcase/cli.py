"""The ``creditcase`` command.

``serve`` runs everything in one process (in embedded mode the check worker
and the outbox relay run as threads beside the web server); ``worker`` and
``relay`` run those parts on their own against RabbitMQ; the other commands
administer data. Commands print plain text; exit status is non-zero on any
failure, with the reason on stderr.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import signal
import sys
import threading
from pathlib import Path

import click

from creditcase import __version__
from creditcase.config import Settings


def _settings() -> Settings:
    return Settings.from_env()


def _embedded_lock_hint(settings: Settings, exc: Exception) -> None:
    if settings.embedded_database and "lock" in str(exc).lower():
        raise click.ClickException(
            f"the embedded database in {settings.data_dir / 'db'} is in use by another "
            "process (is `creditcase serve` running?). Stop it, or share one server: "
            f"`secantusd-py --port 27017 --storage-path {settings.data_dir / 'db'}` and "
            "CREDITCASE_MONGODB_URI=mongodb://127.0.0.1:27017") from exc


def _connect(settings: Settings | None = None) -> Settings:
    """Connect storage only (commands that need no plugins)."""
    from creditcase.core import runtime

    settings = settings or _settings()
    try:
        runtime.init_storage(settings)
    except Exception as exc:
        _embedded_lock_hint(settings, exc)
        raise
    return settings


def _runtime(settings: Settings | None = None):
    """Storage, plugins and the workflow service; a broken plugin stops here, named."""
    from creditcase.core import runtime
    from creditcase.core.plugins import PluginError, PluginHost

    settings = _connect(settings)
    try:
        host = PluginHost.create(disabled=settings.disabled_plugins)
    except PluginError as exc:
        raise click.ClickException(str(exc)) from exc
    return runtime.build(settings, host=host, connect=False)


def _stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT, so loops finish the message in hand."""
    stop = threading.Event()

    def handler(signum, frame):
        logging.getLogger("creditcase").info("signal %s: finishing current work", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


@click.group()
@click.version_option(__version__, prog_name="creditcase")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def main(verbose: bool) -> None:
    """creditcase: administrative cases with a mandatory credit check (逢办必查)."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not verbose:
        logging.getLogger("secantus").setLevel(logging.WARNING)


# -- running -----------------------------------------------------------------------------------

@main.command()
@click.option("--host", default=None, help="Address to listen on (CREDITCASE_HOST).")
@click.option("--port", type=int, default=None, help="Port (CREDITCASE_PORT, default 5000).")
@click.option("--threads", type=int, default=8, show_default=True)
def serve(host: str | None, port: int | None, threads: int) -> None:
    """Run the web app; in embedded mode also the check worker and the relay."""
    import waitress

    from creditcase.queue.service import start_background
    from creditcase.web.app import create_app

    settings = _settings()
    rt = _runtime(settings)
    app = create_app(runtime=rt)
    stop = threading.Event()
    if settings.embedded_broker:
        start_background(rt, stop)
    host, port = host or settings.host, port or settings.port
    database = f"embedded {settings.data_dir}" if settings.embedded_database else "MongoDB"
    broker = "memory://" if settings.embedded_broker else "RabbitMQ"
    click.echo(f"creditcase {__version__} on http://{host}:{port}  "
               f"(database: {database}, broker: {broker})")
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="creditcase")
    finally:
        stop.set()


@main.command()
def worker() -> None:
    """Consume check requests and run the stale marker on RabbitMQ (SIGTERM finishes the
    message in hand)."""
    from creditcase.queue.worker import run_worker

    settings = _settings()
    if settings.embedded_broker:
        raise click.ClickException("CREDITCASE_AMQP_URL is not set: in embedded mode "
                                   "`creditcase serve` runs the worker itself")
    stop = _stop_on_signals()
    run_worker(_runtime(settings), stop)


@main.command()
def relay() -> None:
    """Publish outbox entries to RabbitMQ with publisher confirms."""
    from creditcase.queue.relay import Relay

    settings = _settings()
    if settings.embedded_broker:
        raise click.ClickException("CREDITCASE_AMQP_URL is not set: in embedded mode "
                                   "`creditcase serve` runs the relay itself")
    stop = _stop_on_signals()
    _runtime(settings)
    Relay(settings).run(stop)


# -- data --------------------------------------------------------------------------------------

@main.command()
@click.option("--subjects", type=int, default=200, show_default=True)
@click.option("--reset", is_flag=True, help="Delete existing data first (demo databases only).")
def demo(subjects: int, reset: bool) -> None:
    """Load the demo city (舞钢市, 410481) and print how to log in."""
    from creditcase.demo import DemoAlreadyLoaded, load_demo

    rt = _runtime()
    try:
        summary = load_demo(rt, subjects=subjects, reset=reset)
    except DemoAlreadyLoaded as exc:
        raise click.ClickException(f"{exc} (use --reset to load it again)")
    click.echo(summary.login_text())


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def plugins(as_json: bool) -> None:
    """List plugins with their version, domains, channels and hooks."""
    from creditcase.core.plugins import PluginError, PluginHost

    try:
        rows = PluginHost.create(disabled=_settings().disabled_plugins).describe()
    except PluginError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(f"{row['name']}  {row['version'] or ''}  ({row['distribution']})")
        if row["domains"]:
            click.echo(f"  domains:  {', '.join(row['domains'])}")
        if row["channels"]:
            click.echo(f"  channels: {', '.join(row['channels'])}")
        click.echo(f"  hooks:    {', '.join(row['hooks'])}")


@main.group()
def archive() -> None:
    """Evidence archive."""


@archive.command("verify")
def archive_verify() -> None:
    """Recompute the evidence hash chain; exit 1 naming each bad bundle."""
    from creditcase.core.evidence import verify_chain

    _connect()
    count, problems = verify_chain()
    for p in problems:
        click.echo(f"BAD bundle seq={p.seq} case={p.case_id}: {p.problem}", err=True)
    if problems:
        click.echo(f"{len({p.seq for p in problems})} of {count} bundles failed verification",
                   err=True)
        sys.exit(1)
    click.echo(f"{count} bundles verified, chain intact")


@main.group()
def ids() -> None:
    """Identity codes (USCC, citizen ID number)."""


@ids.command("check")
@click.argument("code")
def ids_check(code: str) -> None:
    """Validate CODE; exit 0 when valid, else 1 with the rule that failed."""
    from creditcase.core import ids as core_ids

    try:
        kind, normalised = core_ids.validate(code)
    except core_ids.IdentityCodeError as exc:
        click.echo(f"invalid: {exc.rule}: {exc.message}", err=True)
        sys.exit(1)
    label = "USCC 统一社会信用代码" if kind == "uscc" else "ID number 公民身份号码"
    click.echo(f"valid {label}: {core_ids.mask(normalised)}")


@main.group()
def calendar() -> None:
    """Working days from the official holiday schedule."""


@calendar.command("add-working-days")
@click.argument("date", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("n", type=int)
def calendar_add(date: dt.datetime, n: int) -> None:
    """Print DATE plus N working days (DATE itself not counted)."""
    from creditcase.core.calendar import CalendarDataMissing, current_calendar

    _connect()  # years the credit office loaded live in the database
    try:
        click.echo(current_calendar().add_working_days(date.date(), n).isoformat())
    except CalendarDataMissing as exc:
        raise click.ClickException(str(exc))


@calendar.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", "loaded_by", default="credit_office", show_default=True)
def calendar_load(file: Path, loaded_by: str) -> None:
    """Load a year's official schedule from FILE (JSON: year, off, makeup_workdays, source)."""
    from creditcase.core.calendar import CalendarFileError, load_year_file, store_year

    try:
        schedule = load_year_file(file)
    except CalendarFileError as exc:
        raise click.ClickException(str(exc))
    _connect()
    store_year(schedule, loaded_by=loaded_by)
    click.echo(f"loaded {schedule.year}: {len(schedule.off)} days off, "
               f"{len(schedule.makeup_workdays)} make-up working days ({schedule.source})")


@calendar.command("years")
def calendar_years() -> None:
    """List the years with official data."""
    from creditcase.core.calendar import current_calendar

    _connect()
    cal = current_calendar()
    for year in cal.years:
        click.echo(f"{year}: {cal.working_days_in_year(year)} working days")


@main.group()
def departments() -> None:
    """Departments."""


@departments.command("create")
@click.argument("code")
@click.argument("name")
@click.option("--domain", "domains", multiple=True, help="Enable a domain (repeatable).")
@click.option("--credit-office", is_flag=True)
def departments_create(code: str, name: str, domains: tuple[str, ...], credit_office: bool) -> None:
    from creditcase.core import accounts
    from creditcase.core.errors import DomainError

    rt = _runtime()
    unknown = [d for d in domains if rt.host.domain(d) is None]
    if unknown:
        raise click.ClickException(f"unknown domains: {', '.join(unknown)}")
    try:
        accounts.create_department(code, name, domains=list(domains), credit_office=credit_office)
    except DomainError as exc:
        raise click.ClickException(exc.detail)
    click.echo(f"department {code} created")


@main.group()
def users() -> None:
    """Users and tokens."""


@users.command("create")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True,
              help="handler, reviewer, dept_admin, data_provider, credit_office, admin")
@click.option("--department", required=True, help="Department code.")
@click.option("--password", default=None, help="Set a password for the web login.")
@click.option("--token", is_flag=True, help="Issue a bearer token (printed on the last line).")
def users_create(name: str, roles: tuple[str, ...], department: str, password: str | None,
                 token: bool) -> None:
    from creditcase.core import accounts
    from creditcase.core.errors import DomainError

    _connect()
    try:
        user = accounts.create_user(name, roles=list(roles), department=department,
                                    password=password)
    except DomainError as exc:
        raise click.ClickException(exc.detail)
    click.echo(f"user {name} created ({', '.join(roles)} @ {department})")
    if token:
        click.echo(accounts.issue_token(user, label="cli"))


def _register_command_groups() -> None:
    """Groups that live in ``creditcase.commands``, one module per area."""
    from creditcase.commands.importing import import_group, publicity_group
    from creditcase.commands.platform import platform
    from creditcase.commands.queue_ops import dlq

    for group in (import_group, publicity_group, platform, dlq):
        main.add_command(group)


_register_command_groups()


if __name__ == "__main__":  # pragma: no cover
    main()

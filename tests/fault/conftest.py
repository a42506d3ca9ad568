"""Fixtures for the fault tests: a private RabbitMQ virtual host, control of the
broker itself, a standalone database server shared with subprocesses, and
``creditcase worker`` / ``creditcase relay`` processes to kill.

These tests stop RabbitMQ (``rabbitmqctl stop_app``) and kill processes, so they
need ``rabbitmqctl`` on the machine that runs the broker. Without it they are
skipped, or fail when ``CREDITCASE_REQUIRE_RABBITMQ=1`` (CI). Everything runs in
a virtual host created for the session and deleted after it, so messages of
other test runs on the same broker never mix with these; stopping the broker
of course affects everyone, which is why only these tests do it and why the
broker is always started again in a ``finally``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import types
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import kombu
import pytest

from creditcase.config import Settings
from creditcase.core import db as core_db
from creditcase.core import runtime

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
RABBITMQCTL_TIMEOUT = 120


def _unavailable(message: str) -> None:
    if os.environ.get("CREDITCASE_REQUIRE_RABBITMQ") == "1":
        pytest.fail(message)
    pytest.skip(message)


def rabbitmqctl(*args: str, timeout: float = RABBITMQCTL_TIMEOUT) -> str:
    """Run ``rabbitmqctl`` and return its output; a failure fails the test."""
    result = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True,
                            timeout=timeout, check=False)
    if result.returncode != 0:
        raise AssertionError(f"rabbitmqctl {' '.join(args)} failed ({result.returncode}): "
                             f"{result.stdout}{result.stderr}")
    return result.stdout


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def fault_amqp_url() -> Iterator[str]:
    """A URL of the test broker in a virtual host of this session only."""
    base = os.environ.get("CREDITCASE_TEST_AMQP_URL") or DEFAULT_AMQP_URL
    if shutil.which("rabbitmqctl") is None:
        _unavailable("fault tests need rabbitmqctl to control the broker")
    try:
        with kombu.Connection(base, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
            user = conn.userid
    except Exception as exc:
        _unavailable(f"RabbitMQ not reachable at {kombu.Connection(base).as_uri()}: {exc}")
    vhost = f"creditcase-fault-{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", vhost)
    try:
        rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
        parsed = kombu.Connection(base)
        yield (f"amqp://{quote(parsed.userid, safe='')}:{quote(parsed.password, safe='')}@"
               f"{parsed.hostname}:{parsed.port or 5672}/{quote(vhost, safe='')}")
    finally:
        with contextlib.suppress(Exception):
            rabbitmqctl("await_startup")
        rabbitmqctl("delete_vhost", vhost)


class BrokerControl:
    """Stops and starts the RabbitMQ application; the fixture always restarts it."""

    def __init__(self) -> None:
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True
        rabbitmqctl("stop_app")

    def start(self) -> None:
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup")
        self.stopped = False


@pytest.fixture
def broker_control(fault_amqp_url: str) -> Iterator[BrokerControl]:
    control = BrokerControl()
    try:
        yield control
    finally:
        if control.stopped:
            control.start()


@pytest.fixture(scope="session")
def standalone_db_uri(tmp_path_factory) -> Iterator[str]:
    """A SecantusDB server in its own process (``secantusd-py``), so that worker and
    relay processes and this test process share one database."""
    executable = Path(sys.executable).with_name("secantusd-py")
    if not executable.exists():
        executable = Path(shutil.which("secantusd-py") or "secantusd-py")
    port = free_port()
    storage = tmp_path_factory.mktemp("secantus")
    server = subprocess.Popen([str(executable), "--port", str(port), "--storage-path",
                               str(storage), "--log-level", "WARNING"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"secantusd-py did not start (exit {server.poll()})")
                time.sleep(0.05)
        yield f"mongodb://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def fault_settings(_storage: Settings, standalone_db_uri: str, fault_amqp_url: str,
                   tmp_path_factory) -> Iterator[Settings]:
    """Settings pointing at the standalone database and the private virtual host. For
    the module's duration this process's documents use that database too; the
    session's database is connected again afterwards."""
    settings = dataclasses.replace(_storage, mongodb_uri=standalone_db_uri,
                                   mongodb_db="creditcase_fault", amqp_url=fault_amqp_url,
                                   data_dir=tmp_path_factory.mktemp("fault-data"))
    runtime.init_storage(settings)
    try:
        yield settings
    finally:
        core_db.connect(_storage.mongodb_uri, _storage.mongodb_db, _storage.data_dir)


class Process:
    """A ``creditcase`` subprocess whose log lines can be waited for."""

    def __init__(self, args: list[str], env: dict[str, str], name: str):
        self.name = name
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self.proc = subprocess.Popen([sys.executable, "-m", "creditcase.cli", *args], env=env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = 30, after: int = 0) -> re.Match:
        """The first log line (from line ``after`` on) matching ``pattern``."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines[after:]:
                    match = regex.search(line)
                    if match:
                        return match
                if self.proc.poll() is not None and not self._reader.is_alive():
                    raise AssertionError(f"{self.name} exited ({self.proc.returncode}) before "
                                         f"logging {pattern!r}:\n{self.output}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{self.name} did not log {pattern!r} within "
                                         f"{timeout}s:\n{self.output}")
                self._changed.wait(min(remaining, 0.2))

    def kill(self) -> None:
        """``kill -9``: no handler, no cleanup, no acknowledgement."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def terminate(self, timeout: float = 30) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._reader.join(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture
def processes(fault_settings: Settings) -> Iterator:
    """``start(command, **test_delays)`` runs ``creditcase <command>`` against the fault
    database and broker; every process still running at the end is killed."""
    started: list[Process] = []

    def start(command: str, **delays: float) -> Process:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITCASE_")}
        env.update({
            "CREDITCASE_MONGODB_URI": fault_settings.mongodb_uri,
            "CREDITCASE_MONGODB_DB": fault_settings.mongodb_db,
            "CREDITCASE_AMQP_URL": fault_settings.amqp_url,
            "CREDITCASE_DATA_DIR": str(fault_settings.data_dir),
            "CREDITCASE_SECRET_KEY": "fault-tests",
            "PYTHONUNBUFFERED": "1",
        })
        for point, seconds in delays.items():
            env[f"CREDITCASE_TEST_{point.upper()}_DELAY"] = str(seconds)
        process = Process([command], env, f"creditcase {command} #{len(started) + 1}")
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


LAND_SAMPLE = {"parcel_no": "舞自然资〔2026〕-07号", "location": "舞钢市垭口街道",
               "area_m2": "12000", "land_use": "工业", "transfer_method": "挂牌",
               "starting_price": "3600000", "bid_deposit_paid": True, "term_years": 50}


@pytest.fixture
def apply_case(workflow, city):
    """``apply_case(code, name)``: a land case (a shipped domain, so that worker
    processes, which load plugins from entry points, know it)."""
    from creditcase.plugins.land import LandDomain

    fields = LandDomain.application_schema().fields
    data = {k: v for k, v in LAND_SAMPLE.items() if k in fields}

    def apply(code: str = "91350100M000100Y43", name: str = "舞钢测试建设有限公司"):
        return workflow.apply(city.handler, domain="land", matter="土地出让",
                              subject={"code": code, "name": name}, data=data)

    return apply


@pytest.fixture
def broker(fault_settings: Settings) -> Iterator[kombu.Connection]:
    """A connection to the fault virtual host with the topology declared and the
    work queues empty."""
    from creditcase.queue import topology

    conn = topology.connection(fault_settings, name="creditcase-fault-tests")
    topology.declare_all(conn, fault_settings)
    with conn.channel() as channel:
        for name in (topology.CHECK_REQUESTS_QUEUE, topology.STALE_MARKER_QUEUE,
                     topology.DEAD_LETTER_QUEUE):
            channel.queue_purge(name)
    try:
        yield conn
    finally:
        conn.release()


def queue_depth(conn: kombu.Connection, name: str) -> int:
    """Messages ready in queue ``name`` (not counting any held unacknowledged)."""
    with conn.channel() as channel:
        return channel.queue_declare(name, passive=True).message_count


def wait_for(predicate, what: str, timeout: float = 30.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


@pytest.fixture
def helpers() -> types.SimpleNamespace:
    """Plain functions for the tests (a conftest module cannot be imported by name)."""
    return types.SimpleNamespace(queue_depth=queue_depth, wait_for=wait_for)

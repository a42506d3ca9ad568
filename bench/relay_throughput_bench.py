"""Outbox relay throughput against a bare confirmed kombu publish loop, same run.

Both sides publish the same CloudEvent bodies to ``creditcase.events`` on the
same RabbitMQ, persistent, with publisher confirms and ``mandatory``, one
message at a time waiting for its confirm. The bare loop does only that; the
relay also claims its batch from the outbox, serialises each entry and marks
the batch sent in the database (a standalone ``secantusd-py`` server started
for the run, as in production where the database is another process). Rounds
alternate bare, relay, bare, relay, ... and the medians are compared; the goal
is a relay at least 60% as fast as the bare loop. A third measurement, the
relay's database work alone (read a batch, mark it sent), shows how much of the
relay's time the database takes.

    python -m bench.relay_throughput_bench [--messages 2000] [--rounds 3] [--mongodb-uri URI]

RabbitMQ is ``CREDITCASE_AMQP_URL`` (default the local guest broker). With
``rabbitmqctl`` available the run uses a virtual host of its own, deleted at
the end, so it disturbs nobody's queues. Prints a table and writes JSON to
``bench/results/``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import kombu

from bench import harness
from creditcase.config import Settings
from creditcase.core import outbox, runtime
from creditcase.core.db import utcnow
from creditcase.core.outbox import EVENTS_EXCHANGE, OutboxEntry
from creditcase.queue import topology
from creditcase.queue.relay import Relay

RESULTS = Path(__file__).resolve().parent / "results"
ROUTING_KEY = "objection.filed"  # bound by the event log only: no consumer work in the way
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"


@contextlib.contextmanager
def standalone_database() -> Iterator[str]:
    """A ``secantusd-py`` server on a free port with its data in a temporary folder."""
    executable = Path(sys.executable).with_name("secantusd-py")
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="creditcase-bench-db-") as storage:
        server = subprocess.Popen([str(executable), "--port", str(port), "--storage-path",
                                   storage, "--log-level", "WARNING"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("secantusd-py did not start") from None
                    time.sleep(0.05)
            yield f"mongodb://127.0.0.1:{port}"
        finally:
            server.terminate()
            server.wait(timeout=30)


def body(n: int) -> dict:
    return outbox.cloud_event(ROUTING_KEY, "subject/91350100M000100Y43",
                              {"objection_id": f"bench-{n}", "subject_code": "91350100M000100Y43",
                               "record_id": uuid.uuid4().hex[:24], "state": "filed",
                               "reason": "记录内容与事实不符，申请更正"})


def bare_round(settings: Settings, messages: int) -> float:
    """Messages per second of a plain confirmed, mandatory, persistent publish loop."""
    bodies = [body(n) for n in range(messages)]
    returned: list[str] = []
    conn = topology.connection(settings, name="bench-bare")
    try:
        producer = kombu.Producer(conn.default_channel,
                                  on_return=lambda exc, *args: returned.append(str(exc)))
        started = time.perf_counter()
        for item in bodies:
            producer.publish(item, exchange=EVENTS_EXCHANGE, routing_key=ROUTING_KEY,
                             serializer="json", delivery_mode=2, message_id=item["id"],
                             mandatory=True, confirm_timeout=10)
        elapsed = time.perf_counter() - started
    finally:
        conn.release()
    if returned:
        raise RuntimeError(f"{len(returned)} messages returned: {returned[0]}")
    return messages / elapsed


def relay_round_entries(messages: int) -> None:
    """``messages`` unsent outbox entries, as core writes them."""
    now = utcnow()
    docs = []
    for n in range(messages):
        item = body(n)
        docs.append(OutboxEntry(event_id=item["id"], exchange=EVENTS_EXCHANGE,
                                routing_key=ROUTING_KEY, body=item,
                                created_at=now + dt.timedelta(microseconds=n)).to_mongo())
    OutboxEntry._get_collection().insert_many(docs)


def relay_round(settings: Settings, messages: int, batch: int) -> float:
    """Messages per second of :class:`Relay` draining ``messages`` outbox entries."""
    relay_round_entries(messages)
    with Relay(settings, batch=batch) as relay:
        relay.publish_pending()  # connect and declare outside the timing: as a running relay
        OutboxEntry._get_collection().update_many({}, {"$set": {"sent_at": None}})
        started = time.perf_counter()
        sent = 0
        while sent < messages:
            done = relay.publish_pending()
            if done == 0:
                raise RuntimeError(f"relay stalled after {sent} of {messages}")
            sent += done
        elapsed = time.perf_counter() - started
    OutboxEntry._get_collection().delete_many({})
    return messages / elapsed


def database_round(settings: Settings, messages: int, batch: int) -> float:
    """Messages per second of the relay's database work alone: read each batch of
    entries, mark it sent; no broker. The relay cannot be faster than this."""
    relay_round_entries(messages)
    relay = Relay(settings, batch=batch)
    started = time.perf_counter()
    done = 0
    while done < messages:
        docs = relay._pending()
        if not docs:
            raise RuntimeError(f"no entries after {done} of {messages}")
        done += relay._mark_sent(docs)
    elapsed = time.perf_counter() - started
    OutboxEntry._get_collection().delete_many({})
    return messages / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=100, help="the relay's batch size")
    parser.add_argument("--mongodb-uri", default=None,
                        help="a MongoDB replica set to use instead of a fresh SecantusDB server "
                             "(its database creditcase_bench is emptied)")
    args = parser.parse_args()
    base_url = os.environ.get("CREDITCASE_AMQP_URL") or DEFAULT_AMQP_URL
    database_server = contextlib.nullcontext(args.mongodb_uri) if args.mongodb_uri \
        else standalone_database()
    with harness.private_vhost(base_url) as amqp_url, database_server as mongodb_uri:
        settings = Settings(mongodb_uri=mongodb_uri, mongodb_db="creditcase_bench",
                            amqp_url=amqp_url, data_dir=Path(tempfile.gettempdir()))
        runtime.init_storage(settings)
        OutboxEntry._get_collection().delete_many({})
        with topology.connection(settings, name="bench-setup") as conn:
            topology.declare_all(conn, settings)
        bare_round(settings, min(200, args.messages))  # warm up both paths
        relay_round(settings, min(200, args.messages), args.batch)
        bare, relayed, database = [], [], []
        for round_no in range(1, args.rounds + 1):
            bare.append(bare_round(settings, args.messages))
            relayed.append(relay_round(settings, args.messages, args.batch))
            database.append(database_round(settings, args.messages, args.batch))
            print(f"round {round_no}: bare {bare[-1]:7.0f} msg/s   relay {relayed[-1]:7.0f} msg/s"
                  f"   relay's database work alone {database[-1]:7.0f} msg/s")
    bare_median, relay_median = statistics.median(bare), statistics.median(relayed)
    database_median = statistics.median(database)
    ratio = relay_median / bare_median
    # one message costs the relay its database share plus a publish, done one after the other
    expected = 1 / (1 / bare_median + 1 / database_median)
    print()
    print(f"{'':32}{'median msg/s':>14}{'min':>10}{'max':>10}")
    for label, values in (("bare confirmed publish", bare), ("outbox relay", relayed),
                          ("relay's database work alone", database)):
        print(f"{label:32}{statistics.median(values):14.0f}{min(values):10.0f}"
              f"{max(values):10.0f}")
    print(f"relay / bare = {ratio:.0%} (goal: at least 60%) -> {'OK' if ratio >= 0.6 else 'MISSED'}")
    print(f"publish and database work in sequence would give {expected:.0f} msg/s "
          f"({expected / bare_median:.0%} of bare); the database work alone is "
          f"{database_median / bare_median:.0%} of bare")
    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"relay_throughput-{stamp}.json"
    path.write_text(json.dumps({
        "benchmark": "relay_throughput", "at": stamp, "messages": args.messages,
        "rounds": args.rounds, "batch": args.batch, "bare_msgs_per_s": bare,
        "relay_msgs_per_s": relayed, "database_msgs_per_s": database,
        "bare_median": bare_median, "relay_median": relay_median,
        "database_median": database_median, "ratio": ratio,
        "database": "given MongoDB" if args.mongodb_uri else "SecantusDB (secantusd-py)",
        "goal_ratio": 0.6, "python": platform.python_version(), "machine": platform.machine(),
        "cpus": os.cpu_count(), "load_average": os.getloadavg(),
    }, indent=2))
    print(f"written {path}")


if __name__ == "__main__":
    main()

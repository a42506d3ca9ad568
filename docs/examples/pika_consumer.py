"""A small creditcase event consumer written with plain pika (no creditcase code).

It binds its own durable queue to the ``creditcase.events`` topic exchange,
reads CloudEvents 1.0 JSON bodies, and applies each event once however often
it is delivered (delivery is at least once: keep a processed-id store, here a
SQLite table, and acknowledge only after the event is stored). A body that is
not a CloudEvent is rejected without requeue, so it cannot block the queue.

    pip install pika
    python docs/examples/pika_consumer.py --url amqp://guest:guest@127.0.0.1:5672/%2F \\
        --queue my-system.creditcase --key 'record.*' --key 'case.decided'

See docs/events.md for every event type, its routing key and its data.
"""

from __future__ import annotations

import argparse
import json
import logging
import sqlite3
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any

import pika

EXCHANGE = "creditcase.events"
log = logging.getLogger("creditcase-consumer")

#: Called with each new event; return normally once it is stored.
Handler = Callable[[dict[str, Any]], None]


def connection_parameters(url: str) -> pika.URLParameters:
    """Parameters with a heartbeat, so a dead connection is noticed within a minute."""
    params = pika.URLParameters(url)
    params.heartbeat = 30
    params.blocked_connection_timeout = 60
    return params


def declare(channel: Any, queue: str, keys: Iterable[str]) -> None:
    """Declare the exchange exactly as creditcase does (topic, durable, no arguments),
    then this consumer's durable queue with one binding per routing key pattern."""
    channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
    channel.queue_declare(queue, durable=True)
    for key in keys:
        channel.queue_bind(queue, EXCHANGE, routing_key=key)


def is_cloud_event(body: Any) -> bool:
    return (isinstance(body, dict) and body.get("specversion") == "1.0"
            and isinstance(body.get("id"), str) and isinstance(body.get("type"), str)
            and isinstance(body.get("data"), dict))


def store_once(store: MutableMapping[str, dict[str, Any]]) -> Handler:
    """A handler keeping each event in ``store`` under its id; a repeat is ignored."""

    def handle(event: dict[str, Any]) -> None:
        if event["id"] in store:
            log.info("event %s already applied; duplicate ignored", event["id"])
            return
        store[event["id"]] = event

    return handle


def sqlite_store(path: str) -> Handler:
    """A handler that records each event id once in a SQLite table (the processed-id
    ledger) together with what the application does with the event."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, type TEXT, "
               "subject TEXT, time TEXT, data TEXT)")

    def handle(event: dict[str, Any]) -> None:
        with db:  # one transaction: the ledger row and the application's own write
            cursor = db.execute("INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?)",
                                (event["id"], event["type"], event.get("subject"),
                                 event.get("time"), json.dumps(event["data"])))
        if cursor.rowcount:
            log.info("%s %s %s", event["type"], event.get("subject"), event["id"])

    return handle


def consume(channel: Any, queue: str, handle: Handler, *, stop_after: int | None = None,
            idle_timeout: float | None = None) -> int:
    """Consume ``queue`` until ``stop_after`` deliveries were acknowledged or nothing
    arrived for ``idle_timeout`` seconds (``None``: forever). Returns the count."""
    # Up to 20 unacknowledged messages in flight: enough to hide the network round
    # trip, few enough that a restart re-reads little.
    channel.basic_qos(prefetch_count=20)
    done = 0
    for method, properties, payload in channel.consume(queue, inactivity_timeout=idle_timeout):
        if method is None:  # idle for idle_timeout seconds
            break
        try:
            event = json.loads(payload)
        except ValueError:
            event = None
        if not is_cloud_event(event):
            log.error("message %s is not a CloudEvent; rejected", properties.message_id)
            channel.basic_reject(method.delivery_tag, requeue=False)
            continue
        handle(event)  # raises -> no ack: the message is delivered again after a restart
        channel.basic_ack(method.delivery_tag)
        done += 1
        if stop_after is not None and done >= stop_after:
            break
    channel.cancel()
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5672/%2F")
    parser.add_argument("--queue", required=True, help="this consumer's own queue name")
    parser.add_argument("--key", action="append", default=[],
                        help="routing key pattern, e.g. 'record.*' (repeatable; default '#')")
    parser.add_argument("--db", default="creditcase-events.sqlite3")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    connection = pika.BlockingConnection(connection_parameters(args.url))
    channel = connection.channel()
    declare(channel, args.queue, args.key or ["#"])
    try:
        consume(channel, args.queue, sqlite_store(args.db))
    except KeyboardInterrupt:
        pass
    finally:
        connection.close()


if __name__ == "__main__":
    main()

"""Broker fixtures for integration tests.

``rabbitmq_url`` connects to ``CREDITCASE_TEST_AMQP_URL`` (default
``amqp://guest:guest@127.0.0.1:5672//``). When the broker cannot be reached the
test is skipped, or fails when ``CREDITCASE_REQUIRE_RABBITMQ=1`` (CI sets it, so a
missing broker never turns into a silently green run).
"""

from __future__ import annotations

import os

import kombu
import pytest

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"


def _reachable(url: str) -> str | None:
    """None when the broker answers, else the reason it does not."""
    try:
        with kombu.Connection(url, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(scope="session")
def _rabbitmq_status() -> tuple[str, str | None]:
    url = os.environ.get("CREDITCASE_TEST_AMQP_URL") or DEFAULT_AMQP_URL
    return url, _reachable(url)


@pytest.fixture
def rabbitmq_url(_rabbitmq_status: tuple[str, str | None]) -> str:
    """The URL of a reachable RabbitMQ broker."""
    url, problem = _rabbitmq_status
    if problem:
        message = f"RabbitMQ not reachable at {kombu.Connection(url).as_uri()}: {problem}"
        if os.environ.get("CREDITCASE_REQUIRE_RABBITMQ") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return url

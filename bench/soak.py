"""A bounded soak: steady mixed traffic with RabbitMQ restarted in the middle.

The whole system runs as it does in production on one machine: gunicorn (2
workers) serving the app, ``creditcase relay`` and ``creditcase worker``
(check worker and stale marker) over RabbitMQ (a benchmark virtual host), a
standalone SecantusDB server, and an event consumer of this script bound to
every event (``#``) that stores each event id once (idempotent by event id,
in ``processed_events``).

For ``--minutes`` (default 10) requests arrive at a steady ``--rate`` (per
second) in a fixed mix: apply (POST /cases), check again (POST
/cases/{id}/checks), decide with feedback then archive, import (POST
/records/bulk for subjects that have open cases, so the stale marker has
work), and the public 双公示 search. Halfway through, ``rabbitmqctl
stop_app`` stops the broker for ``--outage`` seconds and ``start_app``
brings it back (always, in a ``finally``). Then traffic stops and the script
drives every open case to a final state.

Pass criteria, all checked at the end: every case is archived or withdrawn; no
event sent to ``creditcase.events`` is missing from the consumer's store; no
5xx was answered; the resident memory of each creditcase process grew less
than 10% from the end of the warm-up to the end of the traffic.

RabbitMQ is shared with other users of the machine: run the soak alone, and
briefly (``--minutes 1``) while developing.

    python -m bench.soak [--minutes 10] [--rate 8]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import random
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

NAME = "soak"
DB_NAME = "bench_soak"
CONSUMER = "soak-event-tap"
TAP_QUEUE = "bench.soak.events"
FINAL_STATES = ("archived", "withdrawn")
MIX = (("apply", 30), ("check", 8), ("decide", 30), ("import", 10), ("search", 22))
RSS_LIMIT = 0.10


# -- the event consumer -----------------------------------------------------------------------------

def start_tap(rt: Any, stop: threading.Event) -> threading.Thread:
    """An idempotent consumer of every event, reconnecting across the broker restart."""
    import kombu

    from creditcase.queue import topology
    from creditcase.queue.consumers import BaseConsumer, ProcessedEvent

    class EventTap(BaseConsumer):
        name = CONSUMER
        prefetch_count = 50

        def queues(self) -> list[kombu.Queue]:
            return [kombu.Queue(TAP_QUEUE, exchange=topology.EVENTS, routing_key="#", durable=True)]

        def on_message(self, body: Any, message: kombu.Message) -> None:
            try:
                ProcessedEvent.remember(CONSUMER, str(body["id"]), str(body.get("type", "")))
            except Exception:
                self.failed(message, body)
                return
            message.ack()

    tap = EventTap(rt, stop)
    with kombu.Connection(rt.settings.broker_url) as conn:
        tap.queues()[0](conn.default_channel).declare()

    def run() -> None:
        try:
            tap.run()
        finally:
            tap.connection.release()

    thread = threading.Thread(target=run, name="soak-event-tap", daemon=True)
    thread.start()
    return thread


# -- HTTP ---------------------------------------------------------------------------------------

class Client:
    """Keep-alive HTTP connections, one per thread."""

    def __init__(self, port: int):
        self.port = port
        self.local = threading.local()
        self.statuses: Counter[str] = Counter()
        self.server_errors: list[str] = []
        self.lock = threading.Lock()

    def request(self, action: str, method: str, path: str, token: str | None = None,
                body: Any = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        for attempt in range(2):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                                    timeout=60)
            try:
                conn.request(method, path, body=payload, headers=headers)
                response = conn.getresponse()
                raw = response.read()
                break
            except (OSError, http.client.HTTPException):
                conn.close()
                self.local.conn = None
                if attempt:
                    raise
        status = response.status
        with self.lock:
            self.statuses[f"{action} {status}"] += 1
            if status >= 500:
                self.server_errors.append(f"{method} {path} -> {status}: {raw[:300]!r}")
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = None
        return status, data


# -- traffic ------------------------------------------------------------------------------------

class Traffic:
    def __init__(self, client: Client, tokens: dict[str, str], subjects: list[str], seed: int = 1):
        self.client, self.tokens, self.subjects = client, tokens, subjects
        self.rng = random.Random(seed)
        self.cases: dict[str, str] = {}
        self.lock = threading.Lock()
        self.serial = 0

    def _pick(self, states: tuple[str, ...]) -> str | None:
        with self.lock:
            candidates = [c for c, s in self.cases.items() if s in states]
            return self.rng.choice(candidates) if candidates else None

    def _note(self, case: dict | None) -> None:
        if isinstance(case, dict) and "id" in case and "state" in case:
            with self.lock:
                self.cases[case["id"]] = case["state"]

    def apply(self) -> None:
        code = self.rng.choice(self.subjects)
        status, case = self.client.request(
            "apply", "POST", "/api/v1/cases", self.tokens["handler"],
            {"domain": harness.DEFAULT_DOMAIN, "matter": "ZFCG-001 政府采购供应商资格审查",
             "subject": {"code": code, "name": f"基准企业{code[-6:]}有限公司"},
             "data": harness.application(self.rng)})
        if status == 201:
            self._note(case)

    def check(self) -> None:
        case_id = self._pick(("applied", "checking", "checked", "stale"))
        if case_id:
            _, case = self.client.request("check", "POST", f"/api/v1/cases/{case_id}/checks",
                                          self.tokens["handler"])
            self._note(case)

    def decide(self, case_id: str | None = None) -> None:
        case_id = case_id or self._pick(("applied", "checking", "checked", "stale", "decided"))
        if not case_id:
            return
        status, case = self.client.request("read", "GET", f"/api/v1/cases/{case_id}",
                                           self.tokens["handler"])
        if status != 200:
            return
        self._note(case)
        if case["state"] == "checked":
            current = next((c for c in case.get("checks", []) if c.get("current")), None)
            if current is None:
                return
            measures = [m["code"] for m in current.get("measures", [])]
            body = {"outcome": "rejected" if measures else "approved",
                    "feedback": [{"measure": m, "applied": True} for m in measures],
                    "reasons": "依联合惩戒措施不予通过" if measures else "",
                    "expected_version": case["version"]}
            status, case = self.client.request("decide", "POST",
                                               f"/api/v1/cases/{case_id}/decision",
                                               self.tokens["handler"], body)
            if status != 200:
                return
            self._note(case)
        if case["state"] == "decided":
            status, _ = self.client.request("archive", "POST", f"/api/v1/cases/{case_id}/archive",
                                            self.tokens["handler"])
            if status == 201:
                with self.lock:
                    self.cases[case_id] = "archived"

    def import_(self) -> None:
        records = []
        for _ in range(10):
            with self.lock:
                self.serial += 1
                serial = self.serial
            code = self.rng.choice(self.subjects)
            penalty = self.rng.random() < 0.3
            records.append({"subject_code": code, "subject_name": f"基准企业{code[-6:]}有限公司",
                            "kind": "penalty" if penalty else "licence",
                            "severity": "general" if penalty else None,
                            "title": "罚款" if penalty else "建筑业企业资质许可",
                            "doc_no": f"舞浸〔2026〕{uuid.uuid4().hex[:8]}-{serial}号",
                            "authority": "舞钢市市场监督管理局",
                            "decision_date": (dt.date.today() - dt.timedelta(days=2)).isoformat()})
        self.client.request("import", "POST", "/api/v1/records/bulk", self.tokens["provider"],
                            {"records": records})

    def search(self) -> None:
        code = self.rng.choice(self.subjects)
        query = self.rng.choice([code, code[-6:], "基准企业"])
        self.client.request("search", "GET",
                            "/api/v1/public/publicity?" + _query({"q": query}))

    def run(self, action: str) -> None:
        getattr(self, "import_" if action == "import" else action)()


def _query(params: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


# -- the broker --------------------------------------------------------------------------------

class BrokerRestart:
    """``rabbitmqctl stop_app`` now, ``start_app`` later; ``ensure_started`` in a finally."""

    def __init__(self) -> None:
        self.ctl = shutil.which("rabbitmqctl")
        self.stopped = False
        self.events: list[str] = []

    def stop(self) -> None:
        if self.ctl is None:
            raise RuntimeError("rabbitmqctl not found: the soak restarts the broker")
        self.stopped = True
        subprocess.run([self.ctl, "-q", "stop_app"], check=True, capture_output=True, timeout=120)
        self.events.append(f"{time.strftime('%H:%M:%S')} stop_app")

    def ensure_started(self) -> None:
        if not self.stopped or self.ctl is None:
            return
        subprocess.run([self.ctl, "-q", "start_app"], check=True, capture_output=True, timeout=180)
        subprocess.run([self.ctl, "-q", "await_startup"], check=False, capture_output=True,
                       timeout=180)
        self.stopped = False
        self.events.append(f"{time.strftime('%H:%M:%S')} start_app")


# -- main --------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=8, help="requests per second, all kinds")
    parser.add_argument("--outage", type=float, default=15, help="seconds the broker is down")
    parser.add_argument("--drain-timeout", type=float, default=600)
    parser.add_argument("--subjects", type=int, default=1000,
                        help="subjects the traffic draws from; few subjects pile many open "
                             "cases on each, and every record imported for one of them "
                             "sends all of them back to checking")
    parser.add_argument("--mongodb-uri", default=None)
    parser.add_argument("--amqp-url", default=None)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    amqp = harness.amqp_url(args.amqp_url)
    logdir = harness.RESULTS / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    duration = args.minutes * 60
    broker = BrokerRestart()
    stop_tap = threading.Event()
    from creditcase.core.accounts import User, issue_token

    with harness.database_server(args.mongodb_uri) as server:
        rt = harness.build_runtime(server.uri, DB_NAME, amqp)
        city = harness.seed_city(rt.host)
        subjects = harness.subject_codes(args.subjects)
        from creditcase.core import db as core_db

        database = core_db.database()
        harness.seed_records(database, subjects, 2, city.department)
        harness.seed_blacklist(subjects[: args.subjects // 10], city.department)
        harness.purge_creditcase_queues(amqp)
        tokens = {"handler": issue_token(User.objects.get(username=city.handler.username)),
                  "provider": issue_token(User.objects.get(username=city.provider.username))}
        env = harness.creditcase_env(server.uri, DB_NAME, amqp,
                                     CREDITCASE_PUBLIC_RATE_LIMIT="1000000 per minute")
        port = harness.free_port()
        processes: dict[str, subprocess.Popen] = {}
        started = core_db.utcnow()
        try:
            handle = open(logdir / "soak-gunicorn.log", "ab")  # noqa: SIM115
            processes["gunicorn"] = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                 "--log-level", "warning", "bench.http_app:app"], cwd=harness.ROOT, env=env,
                stdout=handle, stderr=subprocess.STDOUT)
            processes["relay"] = harness.start_cli(["relay"], env, logdir / "soak-relay.log")
            processes["worker"] = harness.start_cli(["worker"], env, logdir / "soak-worker.log")
            start_tap(rt, stop_tap)
            client = Client(port)
            _wait_http(client)
            traffic = Traffic(client, tokens, subjects)
            report = run_traffic(args, traffic, broker, processes, duration)
            drained = drain(traffic, args.drain_timeout)
            events = events_report(args.drain_timeout, started)
        finally:
            broker.ensure_started()
            stop_tap.set()
            harness.stop_processes(list(processes.values()))
            _delete_tap(amqp)
    cases = Counter(traffic.cases.values())
    final = sum(n for state, n in cases.items() if state in FINAL_STATES)
    rss = report["rss_mib"]
    growth = {name: harness.ratio(rss["end"][name] - rss["baseline"][name], rss["baseline"][name])
              for name in rss["baseline"] if name != "database"}
    checks = {
        "every_case_final": drained and final == len(traffic.cases) and len(traffic.cases) > 0,
        "no_event_missing": events["missing"] == 0 and events["sent"] > 0,
        "no_5xx": not client.server_errors,
        "rss_growth_below_10pct": all(g < RSS_LIMIT for g in growth.values()),
    }
    result = {"minutes": args.minutes, "rate_per_s": args.rate, "outage_s": args.outage,
              "requests": dict(sorted(client.statuses.items())),
              "server_errors": client.server_errors[:20], "cases": dict(cases),
              "events": events, "rss_mib": rss, "rss_growth": growth,
              "broker": broker.events, "lag_s_max": report["lag_max"],
              "served_seconds": report["served_seconds"],
              "served_rate_per_s": report["served_rate_per_s"],
              "client_errors": _ERRORS[:20], "checks": checks,
              "passed": all(checks.values())}
    path = harness.write_result(NAME, result)
    rows = [[k, "yes" if v else "NO"] for k, v in checks.items()]
    rows += [[f"RSS growth {name}", f"{g:+.1%}"] for name, g in growth.items()]
    rows += [["cases", json.dumps(dict(cases), ensure_ascii=False)],
             ["events sent / stored / missing",
              f"{events['sent']} / {events['stored']} / {events['missing']}"],
             ["requests", sum(client.statuses.values())],
             ["traffic served in", f"{report['served_seconds']:.0f}s "
                                   f"({report['served_rate_per_s']:.1f} req/s of {args.rate:g})"],
             ["broker", "; ".join(broker.events)]]
    print(harness.table(rows, ["soak", "result"]))
    print(f"\nwritten {path}")
    return 0 if result["passed"] else 1


def _delete_tap(amqp: str) -> None:
    """The tap queue would keep collecting other runs' events: remove it."""
    import kombu

    try:
        with kombu.Connection(amqp, connect_timeout=5) as conn:
            conn.default_channel.queue_delete(TAP_QUEUE)
    except Exception as exc:
        harness.log(f"soak: could not delete {TAP_QUEUE}: {exc}")


def _wait_http(client: Client, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if client.request("health", "GET", "/api/v1/meta/health")[0] == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("gunicorn did not come up")
        time.sleep(0.5)


def _rss(processes: dict[str, subprocess.Popen]) -> dict[str, float]:
    from bench.http_bench import worker_pids

    out = {}
    for i, pid in enumerate(sorted(worker_pids(processes["gunicorn"].pid))):
        out[f"gunicorn worker {i}"] = harness.rss_mib(pid)
    out["relay"] = harness.rss_mib(processes["relay"].pid)
    out["worker"] = harness.rss_mib(processes["worker"].pid)
    return out


def run_traffic(args: argparse.Namespace, traffic: Traffic, broker: BrokerRestart,
                processes: dict[str, subprocess.Popen], duration: float) -> dict[str, Any]:
    actions = [a for a, weight in MIX for _ in range(weight)]
    rng = random.Random(7)
    interval = 1.0 / args.rate
    warmup = max(10.0, 0.15 * duration)
    restart_at = duration / 2
    baseline: dict[str, float] = {}
    lag_max = 0.0
    harness.log(f"soak: {args.minutes:g} min at {args.rate:g} req/s; broker restart at "
                f"{restart_at:.0f}s for {args.outage:.0f}s")
    pool = ThreadPoolExecutor(max_workers=8)
    t0 = time.monotonic()
    n = 0
    outage_end = None
    try:
        while (now := time.monotonic() - t0) < duration:
            due = n * interval
            if due > now:
                time.sleep(due - now)
            lag_max = max(lag_max, now - due)
            pool.submit(_guard, traffic, rng.choice(actions))
            n += 1
            if not baseline and now >= warmup:
                baseline = _rss(processes)
                harness.log(f"soak: warm-up done, RSS baseline {baseline}")
            if outage_end is None and now >= restart_at:
                harness.log("soak: rabbitmqctl stop_app")
                broker.stop()
                outage_end = time.monotonic() + args.outage
            if outage_end is not None and broker.stopped and time.monotonic() >= outage_end:
                harness.log("soak: rabbitmqctl start_app")
                broker.ensure_started()
    finally:
        broker.ensure_started()
        pool.shutdown(wait=True)
    served = time.monotonic() - t0
    end = _rss(processes)
    if not baseline:
        baseline = end
    harness.log(f"soak: traffic done ({n} requests in {served:.0f}s), RSS {end}")
    # requests are submitted at the steady rate; when the system serves them more
    # slowly they queue in the pool, and the traffic phase ends later than planned
    return {"rss_mib": {"baseline": baseline, "end": end}, "lag_max": lag_max,
            "requests_submitted": n, "served_seconds": served,
            "served_rate_per_s": n / served if served else 0.0}


_ERRORS: list[str] = []


def _guard(traffic: Traffic, action: str) -> None:
    try:
        traffic.run(action)
    except Exception as exc:  # counted as a failed request, never silent
        with traffic.client.lock:
            traffic.client.statuses[f"{action} exception"] += 1
            _ERRORS.append(f"{action}: {type(exc).__name__}: {exc}")


def drain(traffic: Traffic, timeout: float) -> bool:
    """Decide and archive every open case as its check arrives."""
    harness.log(f"soak: draining {len(traffic.cases)} cases")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with traffic.lock:
            open_cases = [c for c, s in traffic.cases.items() if s not in FINAL_STATES]
        if not open_cases:
            return True
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda case_id: _guard_decide(traffic, case_id), open_cases))
        time.sleep(1)
    return False


def _guard_decide(traffic: Traffic, case_id: str) -> None:
    try:
        traffic.decide(case_id)
    except Exception as exc:
        _ERRORS.append(f"drain {case_id}: {type(exc).__name__}: {exc}")


def events_report(timeout: float, since: dt.datetime) -> dict[str, Any]:
    """Wait until the outbox is sent and the consumer has every sent event."""
    from creditcase.core.outbox import EVENTS_EXCHANGE, OutboxEntry
    from creditcase.queue.consumers import ProcessedEvent

    deadline = time.monotonic() + timeout
    while True:
        unsent = OutboxEntry.objects(sent_at=None).count()
        sent = set(OutboxEntry.objects(exchange=EVENTS_EXCHANGE, sent_at__ne=None)
                   .scalar("event_id"))
        stored = set(ProcessedEvent.objects(consumer=CONSUMER).scalar("event_id"))
        missing = sent - stored
        if (not unsent and not missing) or time.monotonic() > deadline:
            break
        time.sleep(1)
    return {"sent": len(sent), "stored": len(stored), "unsent_in_outbox": unsent,
            "missing": len(missing), "missing_sample": sorted(missing)[:10],
            "duplicates_ignored": len(stored - sent)}


if __name__ == "__main__":
    sys.exit(main())

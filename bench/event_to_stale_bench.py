"""From a credit record push to the affected open case being stale, over RabbitMQ.

The system runs as in production on one machine: a ``creditcase relay`` and two
``creditcase worker`` processes (each a check worker and a stale marker)
against a standalone SecantusDB server and RabbitMQ. The benchmark opens one
land case per subject, waits until the workers have checked them all, then
pushes one penalty record per subject at a steady rate while the re-checks
the stale cases trigger keep the workers busy.

Latency of one push = from just before ``push_record`` is called to the
moment the stale marker has stored the case's ``stale`` transition and then
its processed-event row (``ProcessedEvent.processed_at``: written after the
transition commits, so the figure is an upper bound). The goal is p99 under
500 ms.

    python -m bench.event_to_stale_bench [--subjects 200] [--rate 20]

RabbitMQ is ``CREDITCASE_AMQP_URL`` (default the local guest broker); with
``rabbitmqctl`` the run uses a virtual host of its own. Prints a table and
writes JSON to ``bench/results/``.
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
from collections.abc import Iterator
from pathlib import Path

from bench import harness
from creditcase.config import Settings
from creditcase.core import accounts, ids, records, runtime
from creditcase.core.accounts import Principal
from creditcase.core.cases import Case, WorkflowService
from creditcase.core.db import as_utc, utcnow
from creditcase.core.outbox import OutboxEntry
from creditcase.core.plugins import PluginHost
from creditcase.queue.consumers import ProcessedEvent

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
DEPARTMENT = "410481-BENCH"
LAND_APPLICATION = {"parcel_no": "舞自然资〔2026〕-07号", "location": "舞钢市垭口街道",
                    "area_m2": "12000", "land_use": "工业", "transfer_method": "挂牌",
                    "starting_price": "3600000", "bid_deposit_paid": True, "term_years": 50}


@contextlib.contextmanager
def standalone_database(storage: Path) -> Iterator[str]:
    """A ``secantusd-py`` server on a free port with its data under ``storage``."""
    executable = Path(sys.executable).with_name("secantusd-py")
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
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
                    raise RuntimeError("secantusd-py did not start") from None
                time.sleep(0.05)
        yield f"mongodb://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextlib.contextmanager
def processes(settings: Settings, logs: Path, workers: int) -> Iterator[None]:
    """``creditcase relay`` and ``workers`` × ``creditcase worker``, stopped with SIGTERM."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITCASE_")}
    env.update({"CREDITCASE_MONGODB_URI": settings.mongodb_uri,
                "CREDITCASE_MONGODB_DB": settings.mongodb_db,
                "CREDITCASE_AMQP_URL": settings.amqp_url,
                "CREDITCASE_DATA_DIR": str(settings.data_dir),
                "CREDITCASE_SECRET_KEY": "bench"})
    started = []
    try:
        for name in ["relay", *(["worker"] * workers)]:
            log = (logs / f"{name}-{len(started)}.log").open("w")
            started.append((subprocess.Popen([sys.executable, "-m", "creditcase.cli", name],
                                             env=env, stdout=log, stderr=subprocess.STDOUT),
                            log))
        yield
    finally:
        for process, _ in started:
            process.terminate()
        for process, log in started:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()


def subject_code(n: int) -> str:
    body8 = f"MA4{n:05d}"
    return ids.make_uscc(f"91410481{body8}{ids._org_code_check_character(body8)}")


def wait_for(predicate, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=200, help="cases, one per subject")
    parser.add_argument("--rate", type=float, default=20.0, help="record pushes per second")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    base_url = os.environ.get("CREDITCASE_AMQP_URL") or DEFAULT_AMQP_URL
    with tempfile.TemporaryDirectory(prefix="creditcase-bench-") as tmp, \
            harness.private_vhost(base_url) as amqp_url, \
            standalone_database(Path(tmp) / "db") as mongodb_uri:
        settings = Settings(mongodb_uri=mongodb_uri, mongodb_db="creditcase_bench",
                            amqp_url=amqp_url, data_dir=Path(tmp), secret_key="bench")
        runtime.init_storage(settings)
        workflow = WorkflowService(PluginHost.create())
        accounts.create_department(DEPARTMENT, "基准测试局", domains=["land"])
        handler = Principal.of(accounts.create_user("bench-handler", roles=["handler"],
                                                    department=DEPARTMENT))
        provider = Principal.of(accounts.create_user("bench-provider", roles=["data_provider"],
                                                     department=DEPARTMENT))
        codes = [subject_code(n) for n in range(args.subjects)]
        with processes(settings, Path(tmp), args.workers):
            for n, code in enumerate(codes):
                workflow.apply(handler, domain="land", matter="土地出让",
                               subject={"code": code, "name": f"基准企业{n:03d}有限公司"},
                               data=LAND_APPLICATION)
            wait_for(lambda: Case.objects(state="checked").count() == len(codes),
                     "the first checks", timeout=300)
            print(f"{len(codes)} cases checked by {args.workers} workers; pushing records at "
                  f"{args.rate:g}/s")
            pushed: dict[str, dt.datetime] = {}
            interval = 1 / args.rate
            next_at = time.monotonic()
            for n, code in enumerate(codes):
                time.sleep(max(0.0, next_at - time.monotonic()))
                next_at += interval
                before = utcnow()
                record, _ = records.push_record(provider, {
                    "subject_code": code, "subject_name": f"基准企业{n:03d}有限公司",
                    "kind": "penalty", "severity": "general", "title": "未按规定履行安全生产职责",
                    "doc_no": f"舞应急罚〔2026〕{n + 1}号", "decision_date": dt.date(2026, 3, 2),
                    "authority": "舞钢市应急管理局"})
                entry = OutboxEntry.objects(routing_key="record.created",
                                            body__data__record_id=str(record.pk)).only(
                    "event_id").first()
                pushed[entry.event_id] = before
            wait_for(lambda: ProcessedEvent.objects(consumer="stale-marker",
                                                    event_id__in=list(pushed)).count()
                     == len(pushed), "the stale marker", timeout=300)
            stale_cases = len(set(OutboxEntry.objects(routing_key="case.stale")
                                  .distinct("body.data.case_id")))
        done = {p.event_id: as_utc(p.processed_at)
                for p in ProcessedEvent.objects(consumer="stale-marker",
                                                event_id__in=list(pushed))}
        sent = {e.event_id: as_utc(e.sent_at)
                for e in OutboxEntry.objects(event_id__in=list(pushed)).only("event_id",
                                                                            "sent_at")}
    latencies = [(done[event_id] - at).total_seconds() * 1000 for event_id, at in pushed.items()]
    # where the time goes: until the relay marked the record event sent, and after
    to_relay = [(sent[event_id] - at).total_seconds() * 1000 for event_id, at in pushed.items()]
    after_relay = [max((done[event_id] - sent[event_id]).total_seconds() * 1000, 0.0)
                   for event_id in pushed]
    summary = {"p50": harness.percentile(latencies, 50), "p90": harness.percentile(latencies, 90),
               "p99": harness.percentile(latencies, 99), "max": max(latencies),
               "mean": statistics.fmean(latencies)}
    print()
    print(f"{'pushes':>8}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    print(f"{len(latencies):>8}{summary['p50']:10.1f}{summary['p90']:10.1f}"
          f"{summary['p99']:10.1f}{summary['max']:10.1f}")
    for label, values in (("push -> relay marked the event sent", to_relay),
                          ("then -> stale marker done", after_relay)):
        p50, p99 = harness.percentile(values, 50), harness.percentile(values, 99)
        print(f"  {label:38} p50 {p50:7.1f}  p99 {p99:7.1f}")
    print(f"cases made stale: {stale_cases} of {len(codes)}")
    ok = summary["p99"] < 500 and stale_cases == len(codes)
    print(f"p99 under 500 ms: {'OK' if ok else 'MISSED'}")
    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"event_to_stale-{stamp}.json"
    path.write_text(json.dumps({
        "benchmark": "event_to_stale", "at": stamp, "subjects": args.subjects,
        "rate_per_s": args.rate, "workers": args.workers, "latency_ms": summary,
        "until_relay_marked_sent_ms": {"p50": harness.percentile(to_relay, 50),
                                       "p99": harness.percentile(to_relay, 99)},
        "after_relay_ms": {"p50": harness.percentile(after_relay, 50),
                           "p99": harness.percentile(after_relay, 99)},
        "cases_made_stale": stale_cases, "goal_p99_ms": 500,
        "database": "SecantusDB (secantusd-py)", "python": platform.python_version(),
        "cpus": os.cpu_count(), "load_average": os.getloadavg(),
        "samples_ms": sorted(round(v, 1) for v in latencies),
    }, indent=2))
    print(f"written {path}")


if __name__ == "__main__":
    main()

"""End-to-end cases per second against the floor of the storage and the broker.

The measured run: handler threads in this process apply procurement cases
through :class:`~creditcase.core.cases.WorkflowService`; ``creditcase relay``
and ``creditcase worker`` run as their own processes over RabbitMQ (a
benchmark virtual host), so every check request and every case event travels
through the transactional outbox, the confirmed relay and the broker. A
handler decides each case as soon as its check is in (feedback for every
measure raised; a tenth of the subjects are on the 失信被执行人 list, so their
cases take the rejecting path) and archives it. A case counts when it is
archived and every outbox entry it caused has been confirmed by the broker.

The floor: a minimal script doing, per case, exactly the number of raw
database writes (inserts and updates, as counted by the server's
``opcounters`` during the measured run) and confirmed, persistent,
``mandatory`` publishes (one per outbox entry) that the real run did, against
the same database server and broker, with the same number of client
processes. Target: cases/s >= 0.6 x the floor's cases/s.

The server's own single-client cost per insert, per indexed read and per
four-insert transaction is measured too: that is what bounds both figures
when the database server is the busy process.

    python -m bench.e2e_bench [--cases 300] [--handlers 4] [--workers 1] [--relays 1]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

NAME = "e2e"
TARGET_RATIO = 0.6
DB_NAME = "bench_e2e"
FLOOR_DB = "bench_floor"
FLOOR_EXCHANGE = "bench.floor"
FLOOR_QUEUE = "bench.floor"
TAP_QUEUE = "bench.e2e.events"
MATTER = "ZFCG-001 政府采购供应商资格审查"
#: how often a handler thread with nothing ready asks for its checked cases again
POLL_SECONDS = 0.1


# -- the measured run --------------------------------------------------------------------------------

class Handlers:
    """Handler threads: each keeps ``window`` of its cases in flight, decides and
    archives them as their checks arrive."""

    def __init__(self, runtime: Any, principal: Any, jobs: list[tuple[str, str]], threads: int,
                 window: int):
        self.runtime, self.principal, self.window = runtime, principal, window
        self.lanes = [jobs[i::threads] for i in range(threads)]
        self.latencies: list[float] = []
        self.case_ids: list[str] = []
        self.errors: list[str] = []
        #: archives refused with 409 after the service's own five attempts
        self.archive_retries = 0
        self._lock = threading.Lock()

    def run(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        threads = [threading.Thread(target=self._lane, args=(lane, deadline), daemon=True)
                   for lane in self.lanes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()) + 5)
        if any(t.is_alive() for t in threads):
            self.errors.append(f"handlers still busy after {timeout:.0f}s")

    def _lane(self, jobs: list[tuple[str, str]], deadline: float) -> None:
        from creditcase.core.cases import Case

        workflow = self.runtime.workflow
        rng = random.Random(len(jobs))
        inflight: dict[str, float] = {}
        position = 0
        try:
            while (position < len(jobs) or inflight) and time.monotonic() < deadline:
                while position < len(jobs) and len(inflight) < self.window:
                    code, name = jobs[position]
                    position += 1
                    case = workflow.apply(self.principal, domain=harness.DEFAULT_DOMAIN,
                                          matter=MATTER, subject={"code": code, "name": name},
                                          data=harness.application(rng))
                    inflight[str(case.pk)] = time.perf_counter()
                ready = list(Case.objects(pk__in=list(inflight), state="checked").only("id"))
                if not ready:
                    # a handler looks at the queue now and then; polling hard would load
                    # the database with queries no deployment makes
                    time.sleep(POLL_SECONDS)
                    continue
                for case in ready:
                    case_id = str(case.pk)
                    self._finish(workflow, case_id)
                    started = inflight.pop(case_id)
                    with self._lock:
                        self.latencies.append(time.perf_counter() - started)
                        self.case_ids.append(case_id)
        except Exception as exc:  # reported in the result, never hidden
            with self._lock:
                self.errors.append(f"{type(exc).__name__}: {exc}")

    def _finish(self, workflow: Any, case_id: str) -> None:
        case = workflow.get(self.principal, case_id)
        check = workflow.latest_check(case)
        outcome, feedback, reasons = harness.feedback_for(check)
        workflow.decide(self.principal, case_id, outcome=outcome, feedback=feedback,
                        reasons=reasons)
        self.archive(workflow, case_id)

    def archive(self, workflow: Any, case_id: str) -> None:
        """Archive, retrying as a client retries a 409: every bundle takes the next
        number of the one evidence chain, so concurrent archives can collide even after
        the service's own retries."""
        from creditcase.core.errors import Conflict

        for attempt in range(50):
            try:
                workflow.archive(self.principal, case_id)
                return
            except Conflict:
                if attempt == 49:
                    raise
                with self._lock:
                    self.archive_retries += 1


def wait_outbox_drained(since: Any, timeout: float) -> bool:
    from creditcase.core.outbox import OutboxEntry

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if OutboxEntry.objects(created_at__gte=since, sent_at=None).count() == 0:
            return True
        time.sleep(0.05)
    return False


def measured_run(args: argparse.Namespace, server: harness.DatabaseServer, amqp: str,
                 logdir: Path) -> dict[str, Any]:
    import kombu

    from creditcase.core import db as core_db
    from creditcase.core.cases import Case
    from creditcase.core.outbox import OutboxEntry
    from creditcase.queue import topology

    rt = harness.build_runtime(server.uri, DB_NAME, amqp)
    city = harness.seed_city(rt.host)
    codes = harness.subject_codes(args.subjects)
    database = core_db.database()
    harness.seed_records(database, codes, args.records_per_subject, city.department)
    blacklisted = codes[: int(len(codes) * args.blacklisted_share)]
    harness.seed_blacklist(blacklisted, city.department)
    harness.purge_creditcase_queues(amqp)

    env = harness.creditcase_env(server.uri, DB_NAME, amqp)
    processes = [harness.start_cli(["relay"], env, logdir / f"relay-{i}.log")
                 for i in range(args.relays)]
    processes += [harness.start_cli(["worker"], env, logdir / f"worker-{i}.log")
                  for i in range(args.workers)]
    rng = random.Random(3)
    names = {code: f"基准企业{code[-6:]}有限公司" for code in codes}
    # an event consumer bound to every case event, so that no event is unroutable
    tap_conn = kombu.Connection(amqp)
    tap = kombu.Queue(TAP_QUEUE, exchange=topology.EVENTS, routing_key="#", exclusive=True)
    tap(tap_conn.default_channel).declare()
    try:
        harness.log(f"e2e: warm-up with {args.warmup} cases")
        warm = Handlers(rt, city.handler, [(c, names[c]) for c in rng.choices(codes, k=args.warmup)],
                        args.handlers, args.window)
        warm.run(args.timeout)
        if warm.errors:
            raise RuntimeError(f"warm-up failed: {warm.errors[:3]}")
        wait_outbox_drained(core_db.utcnow().replace(year=2000), args.timeout)

        jobs = [(c, names[c]) for c in rng.choices(codes, k=args.cases)]
        handlers = Handlers(rt, city.handler, jobs, args.handlers, args.window)
        pids = {"database": server.pid, "bench (handlers)": None,
                **{f"relay-{i}": p.pid for i, p in enumerate(processes[: args.relays])},
                **{f"worker-{i}": p.pid for i, p in enumerate(processes[args.relays:])}}
        cpu_before = {k: harness.cpu_seconds(pid) if pid else _self_cpu()
                      for k, pid in pids.items() if pid or k.startswith("bench")}
        counters_before = harness.opcounters(database)
        started_at = core_db.utcnow()
        harness.log(f"e2e: {args.cases} cases, {args.handlers} handler threads, "
                    f"{args.workers} worker(s), {args.relays} relay(s)")
        t0 = time.perf_counter()
        handlers.run(args.timeout)
        drained = wait_outbox_drained(started_at, args.timeout)
        elapsed = time.perf_counter() - t0
        counters_after = harness.opcounters(database)
        cpu_after = {k: harness.cpu_seconds(pid) if pid else _self_cpu()
                     for k, pid in pids.items() if pid or k.startswith("bench")}
        if handlers.errors:
            raise RuntimeError(f"measured run failed: {handlers.errors[:3]}")
        if not drained:
            raise RuntimeError("the outbox did not drain: the relay is stuck")
        archived = Case.objects(pk__in=handlers.case_ids, state="archived").count()
        if archived != args.cases:
            raise RuntimeError(f"only {archived} of {args.cases} cases archived")
        entries = OutboxEntry.objects(created_at__gte=started_at)
        published = entries.count()
        inserts = counters_after["insert"] - counters_before["insert"]
        updates = counters_after["update"] - counters_before["update"]
        deletes = counters_after["delete"] - counters_before["delete"]
        queries = harness.reads(counters_before, counters_after)
        commands = counters_after["command"] - counters_before["command"]
        cpu = {k: cpu_after[k] - cpu_before[k] for k in cpu_before}
        return {
            "cases": args.cases, "seconds": elapsed, "cases_per_s": args.cases / elapsed,
            "latency_ms": {"p50": harness.percentile(handlers.latencies, 50) * 1000,
                           "p99": harness.percentile(handlers.latencies, 99) * 1000},
            "per_case": {"writes": (inserts + updates + deletes) / args.cases,
                         "inserts": inserts / args.cases, "updates": updates / args.cases,
                         "deletes": deletes / args.cases, "queries": queries / args.cases,
                         "other_commands": commands / args.cases,
                         "confirmed_publishes": published / args.cases},
            "cpu_ms_per_case": {k: v * 1000 / args.cases for k, v in cpu.items()},
            "archive_409_retries": handlers.archive_retries,
            "blacklisted_share": args.blacklisted_share,
            "layout": {"handler_threads": args.handlers, "window": args.window,
                       "workers": args.workers, "relays": args.relays},
        }
    finally:
        harness.stop_processes(processes)
        tap_conn.release()


def _self_cpu() -> float:
    times = os.times()
    return times.user + times.system


# -- the floor ---------------------------------------------------------------------------------------

def floor_lane(uri: str, amqp: str, cases: int, inserts: int, updates: int, publishes: int,
               body_bytes: int, out: Any) -> None:
    """One client process of the floor: per case ``inserts`` + ``updates`` raw writes and
    ``publishes`` confirmed publishes."""
    import json

    import pymongo
    from kombu import Exchange, Producer

    from creditcase.config import Settings
    from creditcase.queue import topology

    client = pymongo.MongoClient(uri)
    collection = client[FLOOR_DB]["floor_docs"]
    conn = topology.connection(Settings(amqp_url=amqp), name="bench-floor")
    producer = Producer(conn.default_channel)
    exchange = Exchange(FLOOR_EXCHANGE, type="direct", durable=True)
    payload = "x" * body_bytes
    body = json.dumps({"specversion": "1.0", "data": payload})
    time.sleep(0.2)
    t0 = time.perf_counter()
    for _ in range(cases):
        last = None
        for _ in range(inserts):
            last = collection.insert_one({"payload": payload, "state": "new", "version": 0}).inserted_id
        for _ in range(updates):
            collection.update_one({"_id": last}, {"$set": {"state": "next"}, "$inc": {"version": 1}})
        for _ in range(publishes):
            producer.publish(body, exchange=exchange, routing_key=FLOOR_QUEUE, mandatory=True,
                             delivery_mode=2, content_type="application/json",
                             retry=True, retry_policy=topology.PUBLISH_RETRY_POLICY)
    out.put(time.perf_counter() - t0)
    conn.release()
    client.close()


def floor_run(server: harness.DatabaseServer, amqp: str, cases: int, lanes: int,
              per_case: dict[str, float], body_bytes: int) -> dict[str, Any]:
    import kombu
    import pymongo
    from kombu import Exchange, Queue

    client = pymongo.MongoClient(server.uri)
    client.drop_database(FLOOR_DB)
    inserts = round(per_case["inserts"])
    updates = round(per_case["updates"] + per_case["deletes"])
    publishes = round(per_case["confirmed_publishes"])
    exchange = Exchange(FLOOR_EXCHANGE, type="direct", durable=True)
    queue = Queue(FLOOR_QUEUE, exchange=exchange, routing_key=FLOOR_QUEUE, durable=True)
    with kombu.Connection(amqp) as conn:
        channel = conn.channel()
        exchange(channel).declare()
        queue(channel).declare()
        queue(channel).purge()
        channel.close()
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    share = [cases // lanes + (1 if i < cases % lanes else 0) for i in range(lanes)]
    harness.log(f"floor: {cases} cases x ({inserts} inserts + {updates} updates + "
                f"{publishes} confirmed publishes), {lanes} processes")
    db_cpu = harness.cpu_seconds(server.pid) if server.pid else None
    t0 = time.perf_counter()
    procs = [context.Process(target=floor_lane, args=(server.uri, amqp, n, inserts, updates,
                                                      publishes, body_bytes, out))
             for n in share if n]
    for proc in procs:
        proc.start()
    durations = [out.get(timeout=900) for _ in procs]
    for proc in procs:
        proc.join()
    wall = time.perf_counter() - t0
    if db_cpu is not None:
        db_cpu = (harness.cpu_seconds(server.pid) - db_cpu) * 1000 / cases
    # the lanes start at different moments; the slowest lane's own time is the run's time
    elapsed = max(durations)
    with kombu.Connection(amqp) as conn:
        channel = conn.channel()
        queue(channel).delete()
        exchange(channel).delete()
        channel.close()
    client.drop_database(FLOOR_DB)
    client.close()
    return {"cases": cases, "seconds": elapsed, "wall_seconds": wall,
            "cases_per_s": cases / elapsed, "processes": lanes,
            "database_cpu_ms_per_case": db_cpu,
            "per_case": {"inserts": inserts, "updates": updates, "confirmed_publishes": publishes}}


# -- what bounds it ------------------------------------------------------------------------------------

def op_costs(uri: str, n: int = 400) -> dict[str, float]:
    """Single-client latency of one insert, one indexed read and one 4-insert transaction."""
    import pymongo

    client = pymongo.MongoClient(uri)
    collection = client["bench_opcost"]["docs"]
    collection.drop()
    ids = []
    t0 = time.perf_counter()
    for i in range(n):
        ids.append(collection.insert_one({"i": i, "payload": "x" * 400}).inserted_id)
    insert_ms = (time.perf_counter() - t0) / n * 1000
    t0 = time.perf_counter()
    for oid in ids:
        collection.find_one({"_id": oid})
    find_ms = (time.perf_counter() - t0) / n * 1000
    t0 = time.perf_counter()
    for _ in range(n // 4):
        with client.start_session() as session:
            session.with_transaction(lambda s: [collection.insert_one({"t": 1}, session=s)
                                                for _ in range(4)])
    txn_ms = (time.perf_counter() - t0) / (n // 4) * 1000
    client.drop_database("bench_opcost")
    client.close()
    return {"insert_ms": insert_ms, "find_by_id_ms": find_ms, "txn_4_inserts_ms": txn_ms}


def lookup_costs(uri: str, n: int = 50) -> dict[str, float]:
    """Costs of the lookups the workflow repeats, on the data the run left behind: a case
    by id alone, a case by id and department (``WorkflowService.get``), the head of the
    evidence chain (``evidence.build_bundle``) and the relay's claim query."""
    import datetime as dt

    import pymongo

    client = pymongo.MongoClient(uri)
    db = client[DB_NAME]
    case = db.cases.find_one({}, {"_id": 1, "department": 1})
    now = dt.datetime.now(dt.UTC)
    probes = {
        "case_by_id_ms": lambda: db.cases.find_one({"_id": case["_id"]}),
        "case_by_id_and_department_ms": lambda: db.cases.find_one(
            {"_id": case["_id"], "department": case["department"]}),
        "evidence_chain_head_ms": lambda: db.evidence_bundles.find_one(
            {}, {"seq": 1, "hash": 1}, sort=[("seq", -1)]),
        "outbox_claim_query_ms": lambda: list(db.outbox.find(
            {"sent_at": None, "$or": [{"lease_until": None}, {"lease_until": {"$lte": now}}]},
            {"_id": 1}).sort("created_at", 1).limit(100)),
        "outbox_unsent_only_ms": lambda: list(db.outbox.find(
            {"sent_at": None}, {"_id": 1}).sort("created_at", 1).limit(100)),
    }
    out: dict[str, float] = {"cases_stored": db.cases.estimated_document_count(),
                             "outbox_entries": db.outbox.estimated_document_count()}
    for name, probe in probes.items():
        t0 = time.perf_counter()
        for _ in range(n):
            probe()
        out[name] = (time.perf_counter() - t0) / n * 1000
    client.close()
    return out


# -- main ----------------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--handlers", type=int, default=4, help="handler threads")
    parser.add_argument("--window", type=int, default=8, help="cases in flight per handler")
    parser.add_argument("--workers", type=int, default=1, help="check worker processes")
    parser.add_argument("--relays", type=int, default=1, help="outbox relay processes")
    parser.add_argument("--subjects", type=int, default=200)
    parser.add_argument("--records-per-subject", type=int, default=3)
    parser.add_argument("--blacklisted-share", type=float, default=0.1)
    parser.add_argument("--floor-processes", type=int, default=0,
                        help="client processes of the floor (default: as many as the real run)")
    parser.add_argument("--body-bytes", type=int, default=700,
                        help="size of a floor message and document (a case event is ~700 B)")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--mongodb-uri", default=None, help="use this server instead of secantusd-py")
    parser.add_argument("--amqp-url", default=None,
                        help=f"broker (default: vhost {harness.BENCH_VHOST} on 127.0.0.1)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    amqp = harness.amqp_url(args.amqp_url)
    logdir = harness.RESULTS / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    with harness.database_server(args.mongodb_uri) as server:
        real = measured_run(args, server, amqp, logdir)
        lanes = args.floor_processes or (1 + args.workers + args.relays)
        floor = floor_run(server, amqp, args.cases, lanes, real["per_case"], args.body_bytes)
        lookups = lookup_costs(server.uri)
        costs = op_costs(server.uri)
    ratio = harness.ratio(real["cases_per_s"], floor["cases_per_s"])
    per_case = real["per_case"]
    # the database work of one case done back to back by one client, at the measured costs
    serial_db_ms = (per_case["writes"] * costs["insert_ms"]
                    + per_case["queries"] * costs["find_by_id_ms"])
    result = {
        "database": server.kind, "broker": harness.amqp_url(args.amqp_url).rsplit("@", 1)[-1],
        "creditcase": real, "floor": floor, "ratio": ratio, "target": f">= {TARGET_RATIO}",
        "met": ratio >= TARGET_RATIO, "server_op_costs": costs, "lookup_costs": lookups,
        "serial_db_ms_per_case": serial_db_ms,
    }
    path = harness.write_result(NAME, result)
    print(harness.table([
        ["creditcase cases/s", real["cases_per_s"], ""],
        ["floor cases/s", floor["cases_per_s"], ""],
        ["database CPU ms / case: creditcase, floor",
         f"{real['cpu_ms_per_case'].get('database', float('nan')):.1f}, "
         f"{floor['database_cpu_ms_per_case'] or float('nan'):.1f}", ""],
        ["ratio", ratio, f">= {TARGET_RATIO}"],
        ["case latency p50 ms", real["latency_ms"]["p50"], ""],
        ["case latency p99 ms", real["latency_ms"]["p99"], ""],
        ["writes / case", per_case["writes"], ""],
        ["queries / case", per_case["queries"], ""],
        ["confirmed publishes / case", per_case["confirmed_publishes"], ""],
        ["server: insert ms", costs["insert_ms"], ""],
        ["server: find by _id ms", costs["find_by_id_ms"], ""],
        ["server: 4-insert transaction ms", costs["txn_4_inserts_ms"], ""],
        *[[f"lookup: {k}", v, ""] for k, v in lookups.items()],
        ["archive 409 retries", real["archive_409_retries"], ""],
        *[[f"CPU ms / case: {k}", v, ""] for k, v in real["cpu_ms_per_case"].items()],
    ], ["e2e", "value", "target"]))
    print(f"\nwritten {path}")
    return result


if __name__ == "__main__":
    main()

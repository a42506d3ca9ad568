"""Shared plumbing of the benchmark scripts in ``bench/``.

Every benchmark measures a figure against a reference taken in the same run,
prints a small table and writes its JSON to ``bench/results/``. This module
holds what they share: a standalone SecantusDB server (``secantusd-py``) as a
subprocess (or a MongoDB URI given with ``--mongodb-uri``), an isolated
RabbitMQ virtual host so benchmark messages never mix with the test suites
using the same broker, the seed data (departments, users, subjects with
credit records), percentiles, resident memory and result files.

Scripts import it as ``from bench import harness`` after putting the repository
root on ``sys.path`` (see :func:`bootstrap`), so they run both as
``python -m bench.<name>`` and as ``python bench/<name>.py``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import kombu

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
#: RabbitMQ virtual host of the benchmarks (created on first use with rabbitmqctl)
BENCH_VHOST = "creditcase-bench"
DEFAULT_AMQP_URL = f"amqp://guest:guest@127.0.0.1:5672/{BENCH_VHOST}"
DEFAULT_DOMAIN = "procurement"


def bootstrap() -> None:
    """Make ``import bench.harness`` and ``import creditcase`` work however the script runs."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


# -- numbers -------------------------------------------------------------------------------------

def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


def rounded(value: Any, digits: int = 3) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, digits)
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v, digits) for v in value]
    return value


# -- output --------------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "host": socket.gethostname(),
            # other work on the machine skews percentiles: keep the load beside the figures
            "load_average_1_5_15": list(os.getloadavg())}


def write_result(name: str, data: dict[str, Any]) -> Path:
    """Write ``bench/results/<name>-<UTC timestamp>.json`` and return its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{name}-{stamp}.json"
    body = {"benchmark": name, "finished_at": dt.datetime.now(dt.UTC).isoformat(),
            "machine": machine(), **rounded(data)}
    path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
    return path


def table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    """A Markdown table (pipes), readable in a terminal too."""
    cells = [[_fmt(c) for c in header]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(cells[0], widths, strict=True)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
              for row in cells[1:]]
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:,.2f}" if abs(value) >= 10 else f"{value:.3f}"
    return str(value)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the database server ---------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _venv_bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else (shutil.which(name) or name)


@dataclass
class DatabaseServer:
    """A database for one benchmark run: a ``secantusd-py`` subprocess on a free port
    with its files in a temporary directory, or an existing server (``uri`` given)."""

    uri: str
    process: subprocess.Popen | None = None
    storage: Path | None = None

    @property
    def kind(self) -> str:
        return "SecantusDB standalone (secantusd-py)" if self.process else "external MongoDB URI"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None


@contextlib.contextmanager
def database_server(uri: str | None = None, *, cache_size: str | None = None
                    ) -> Iterator[DatabaseServer]:
    """Start ``secantusd-py --port P --storage-path D`` (unless ``uri`` is given) and stop it
    afterwards, deleting its files."""
    if uri:
        yield DatabaseServer(uri)
        return
    storage = Path(tempfile.mkdtemp(prefix="creditcase-bench-db-"))
    port = free_port()
    command = [_venv_bin("secantusd-py"), "--port", str(port), "--storage-path", str(storage / "db"),
               "--log-level", "WARNING"]
    if cache_size:
        command += ["--cache-size", cache_size]
    logfile = open(storage / "server.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, stdout=logfile, stderr=subprocess.STDOUT)
    server = DatabaseServer(f"mongodb://127.0.0.1:{port}/?directConnection=true", process, storage)
    try:
        _wait_for_server(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        logfile.close()
        shutil.rmtree(storage, ignore_errors=True)


def _wait_for_server(server: DatabaseServer, timeout: float = 30) -> None:
    import pymongo

    deadline = time.monotonic() + timeout
    while True:
        if server.process is not None and server.process.poll() is not None:
            log_text = (server.storage / "server.log").read_text(errors="replace")[-2000:] \
                if server.storage else ""
            raise RuntimeError(f"secantusd-py exited with {server.process.returncode}: {log_text}")
        try:
            client = pymongo.MongoClient(server.uri, serverSelectionTimeoutMS=500)
            client.admin.command("ping")
            client.close()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def opcounters(db: Any) -> dict[str, int]:
    """The server's operation counters (``serverStatus.opcounters``)."""
    counters = db.command("serverStatus").get("opcounters", {})
    return {k: int(v) for k, v in counters.items()}


def writes(before: dict[str, int], after: dict[str, int]) -> int:
    return sum(after.get(k, 0) - before.get(k, 0) for k in ("insert", "update", "delete"))


def reads(before: dict[str, int], after: dict[str, int]) -> int:
    return sum(after.get(k, 0) - before.get(k, 0) for k in ("query", "getmore"))


# -- the broker ----------------------------------------------------------------------------------

@contextlib.contextmanager
def private_vhost(base_url: str) -> Iterator[str]:
    """The broker URL in a fresh virtual host when ``rabbitmqctl`` is at hand."""
    if shutil.which("rabbitmqctl") is None:
        print(f"rabbitmqctl not found: using {kombu.Connection(base_url).as_uri()} as it is")
        yield base_url
        return
    parsed = kombu.Connection(base_url)
    vhost = f"creditcase-bench-{uuid.uuid4().hex[:8]}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True)
    try:
        subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, parsed.userid,
                        ".*", ".*", ".*"], check=True)
        yield (f"amqp://{quote(parsed.userid, safe='')}:{quote(parsed.password, safe='')}@"
               f"{parsed.hostname}:{parsed.port or 5672}/{quote(vhost, safe='')}")
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False)



def ensure_vhost(vhost: str = BENCH_VHOST) -> None:
    """Create the benchmark virtual host (idempotent) so benchmark queues never share
    names with the tests' queues on the same broker."""
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        raise RuntimeError("rabbitmqctl not found: pass --amqp-url for an existing virtual host")
    listed = subprocess.run([ctl, "-q", "list_vhosts"], capture_output=True, text=True, check=True)
    if vhost not in listed.stdout.split():
        subprocess.run([ctl, "-q", "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run([ctl, "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
                   check=True, capture_output=True)


def amqp_url(given: str | None) -> str:
    """The broker for a run: ``given``, else the benchmark vhost on 127.0.0.1."""
    if given:
        return given
    ensure_vhost()
    return DEFAULT_AMQP_URL


def purge_creditcase_queues(url: str) -> None:
    """Empty the creditcase work queues of ``url`` before a run (benchmark vhost only)."""
    import kombu

    from creditcase.config import Settings
    from creditcase.queue import topology

    settings = Settings(amqp_url=url)
    with kombu.Connection(url) as conn:
        topology.declare_all(conn, settings)
        channel = conn.channel()
        try:
            for queue in topology.topology(settings).queues:
                if (queue.queue_arguments or {}).get("x-queue-type") == "stream":
                    continue  # a stream is a log: it cannot be purged, and nothing consumes it away
                queue(channel).purge()
        finally:
            channel.close()


# -- processes -----------------------------------------------------------------------------------

def creditcase_env(uri: str, db_name: str, amqp: str | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITCASE_")}
    env.update(CREDITCASE_MONGODB_URI=uri, CREDITCASE_MONGODB_DB=db_name,
               CREDITCASE_SECRET_KEY="bench-secret", PYTHONUNBUFFERED="1")
    if amqp:
        env["CREDITCASE_AMQP_URL"] = amqp
    env.update(extra)
    return env


def start_cli(args: Sequence[str], env: dict[str, str], logfile: Path) -> subprocess.Popen:
    """Run ``creditcase <args>`` as a subprocess logging to ``logfile``."""
    handle = open(logfile, "ab")  # noqa: SIM115 - owned by the process
    return subprocess.Popen([sys.executable, "-m", "creditcase.cli", *args], env=env, cwd=ROOT,
                            stdout=handle, stderr=subprocess.STDOUT)


def stop_processes(processes: Sequence[subprocess.Popen], timeout: float = 20) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def rss_mib(pid: int) -> float:
    """Resident memory of a process in MiB (from /proc, or psutil elsewhere)."""
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    import psutil

    return psutil.Process(pid).memory_info().rss / 2**20


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


# -- the creditcase runtime and seed data ------------------------------------------------------------

def build_runtime(uri: str, db_name: str, amqp: str | None = None, *, fresh: bool = True):
    """Connect the core to ``uri``/``db_name`` (dropped first when ``fresh``) and build
    the runtime with the installed plugins."""
    import pymongo
    from argon2 import PasswordHasher

    from creditcase.config import Settings
    from creditcase.core import accounts, runtime

    if fresh:
        client = pymongo.MongoClient(uri)
        client.drop_database(db_name)
        client.close()
    settings = Settings(mongodb_uri=uri, mongodb_db=db_name, amqp_url=amqp,
                        data_dir=Path(tempfile.gettempdir()), secret_key="bench-secret")
    # seeding users must not spend a second of argon2 per password
    accounts.set_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    return runtime.build(settings)


@dataclass
class City:
    department: str
    other_department: str
    handler: Any
    reviewer: Any
    credit_office: Any
    provider: Any


def seed_city(host: Any) -> City:
    from creditcase.core import accounts
    from creditcase.core.accounts import Principal

    domains = sorted(host.domains)
    accounts.create_department("410481-BENCH", "基准测试局", domains=domains)
    accounts.create_department("410481-BENCH2", "基准测试二局", domains=domains)
    accounts.create_department("410481-XYB", "市信用办", credit_office=True)
    users = {}
    for name, roles, dept in [("bench-handler", ["handler"], "410481-BENCH"),
                              ("bench-reviewer", ["reviewer"], "410481-BENCH"),
                              ("bench-office", ["credit_office"], "410481-XYB"),
                              ("bench-provider", ["data_provider"], "410481-BENCH")]:
        users[name] = Principal.of(accounts.create_user(name, roles=roles, department=dept,
                                                        password=f"{name}-pass"))
    return City("410481-BENCH", "410481-BENCH2", users["bench-handler"], users["bench-reviewer"],
                users["bench-office"], users["bench-provider"])


def subject_codes(count: int, seed: int = 7) -> list[str]:
    """``count`` distinct valid USCCs of enterprises (9 1 + region 410481 + body)."""
    from creditcase.core import ids

    rng = random.Random(seed)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    codes: set[str] = set()
    while len(codes) < count:
        body = "".join(rng.choice(alphabet) for _ in range(8))
        # GB 11714: the organisation code carries its own check character
        total = sum((int(c) if c.isdigit() else ord(c) - 55) * w
                    for c, w in zip(body, weights, strict=True))
        r = 11 - total % 11
        check = "X" if r == 10 else "0" if r == 11 else str(r)
        codes.add(ids.make_uscc("91410481" + body + check))
    return sorted(codes)


def record_documents(codes: Sequence[str], per_subject: int, *, department: str,
                     seed: int = 11, adverse_share: float = 0.2) -> Iterator[dict[str, Any]]:
    """Raw ``credit_records`` documents (licences, some general penalties), shaped as
    ``push_record`` stores them, for bulk seeding large collections quickly."""
    from creditcase.core.records import content_hash

    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    for code in codes:
        for serial in range(1, per_subject + 1):
            penalty = rng.random() < adverse_share
            decided = (now - dt.timedelta(days=rng.randint(30, 700))).date()
            values = {"subject_code": code, "subject_name": f"基准企业{code[-6:]}有限公司",
                      "subject_kind": "legal", "kind": "penalty" if penalty else "licence",
                      "severity": "general" if penalty else None,
                      "title": "罚款" if penalty else "建筑业企业资质许可", "content": "",
                      "decision_date": decided, "authority": "舞钢市市场监督管理局",
                      "fields": {}}
            yield {**values, "decision_date": dt.datetime.combine(decided, dt.time()),
                   "doc_no": f"舞基〔{decided.year}〕{code[8:17]}-{serial}号",
                   "source_department": department,
                   "state": "active", "publicity_state": "published",
                   "published_at": now, "revision": 1, "content_hash": content_hash(values),
                   "history": [], "created_at": now, "updated_at": now, "version": 0,
                   "effective_until": dt.datetime.combine(decided + dt.timedelta(days=1095),
                                                          dt.time())}


def seed_records(db: Any, codes: Sequence[str], per_subject: int, department: str,
                 batch: int = 2000) -> int:
    """Insert the documents of :func:`record_documents` in batches; returns how many."""
    collection = db["credit_records"]
    pending: list[dict[str, Any]] = []
    total = 0
    for doc in record_documents(codes, per_subject, department=department):
        pending.append(doc)
        if len(pending) >= batch:
            collection.insert_many(pending, ordered=False)
            total += len(pending)
            pending = []
    if pending:
        collection.insert_many(pending, ordered=False)
        total += len(pending)
    return total


def application(rng: random.Random | None = None) -> dict[str, Any]:
    """A valid procurement application whose bid deadline has passed (so a check run now
    is the evaluation-time check the procurement rules ask for)."""
    now = dt.datetime.now(dt.UTC)
    n = (rng or random).randint(1, 9999)
    return {"project_code": f"WGCG-2026-{n:04d}", "project_name": "舞钢市第一中学教学设备采购",
            "procurement_method": "公开招标", "budget_amount": "1280000.00",
            "tender_notice_date": (now - dt.timedelta(days=20)).date().isoformat(),
            "bid_deadline": (now - dt.timedelta(hours=2)).isoformat(),
            "purchaser": "舞钢市第一中学"}


def feedback_for(check: Any) -> tuple[str, list[dict[str, Any]], str]:
    """A decision that passes every guard: apply every measure; reject when an applied
    measure requires it. Returns ``(outcome, feedback, reasons)``."""
    measures = check.measures
    feedback = [{"measure": m["code"], "applied": True, "outcome_text": "已执行"} for m in measures]
    if any(m.get("effect") == "reject" for m in measures):
        return "rejected", feedback, "依联合惩戒措施不予通过"
    return "approved", feedback, ""


def seed_blacklist(codes: Sequence[str], department: str) -> int:
    """List each of ``codes`` as 失信被执行人 (SXBZXR), so their checks raise the
    procurement's mandatory measures and the decision takes the rejecting path."""
    from creditcase.core.lists import ListEntry

    today = dt.date.today()
    for code in codes:
        ListEntry(list_type="SXBZXR", color="black", subject_code=code,
                  subject_name=f"基准企业{code[-6:]}有限公司", issuer="舞钢市人民法院",
                  basis_doc_no=f"(2026)豫0481执{code[8:17]}号", listed_on=today - dt.timedelta(days=30),
                  valid_until=today + dt.timedelta(days=700), source_department=department).save()
    return len(codes)

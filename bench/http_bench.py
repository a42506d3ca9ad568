"""HTTP requests per second and p99 under gunicorn, against a bare JSON endpoint.

gunicorn runs ``bench.http_app:app`` (the app ``create_app()`` builds, plus
``GET /bench/bare``) with 2 sync workers against a standalone SecantusDB
server (or ``--mongodb-uri``). A load generator on loopback (``wrk`` when
installed, ``apt-get install wrk``; otherwise a Python loop of keep-alive
connections on threads) drives, one after the other:

- ``bare``: ``GET /bench/bare`` (no database, no authentication);
- ``read``: ``GET /api/v1/cases/{id}`` of a checked case, with a handler's
  bearer token (token lookup, department-scoped case read, its checks);
- ``apply``: ``POST /api/v1/cases`` (a procurement application: identity and
  schema validation, subject upsert, the case, audit and outbox in one
  transaction).

Target: read requests/s >= 0.3 x bare requests/s.

    python -m bench.http_bench [--duration 15] [--connections 8]
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

NAME = "http"
DB_NAME = "bench_http"
TARGET_RATIO = 0.3


# -- the server ---------------------------------------------------------------------------------

def start_gunicorn(uri: str, port: int, workers: int, logfile: Path) -> subprocess.Popen:
    env = harness.creditcase_env(uri, DB_NAME, CREDITCASE_PUBLIC_RATE_LIMIT="1000000 per minute")
    handle = open(logfile, "ab")  # noqa: SIM115 - owned by the process
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning", "--backlog", "2048",
         "bench.http_app:app"], cwd=harness.ROOT, env=env, stdout=handle,
        stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}; see {logfile}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/bench/bare")
            if conn.getresponse().status == 200:
                conn.close()
                return process
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer within 60s")


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    if children.exists():
        return [int(p) for p in children.read_text().split()]
    import psutil

    return [c.pid for c in psutil.Process(master).children()]


# -- load generators -------------------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def run_wrk(url: str, duration: float, connections: int, threads: int,
            method: str = "GET", body: str | None = None,
            headers: dict[str, str] | None = None) -> dict[str, Any]:
    lines = [f'wrk.method = "{method}"']
    for name, value in (headers or {}).items():
        lines.append(f'wrk.headers["{name}"] = "{value}"')
    if body is not None:
        lines.append(f"wrk.body = {json.dumps(body, ensure_ascii=False)}")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
        script = f.name
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d",
                          f"{int(duration)}s", "--latency", "-s", script, url],
                         capture_output=True, text=True, check=True).stdout
    Path(script).unlink()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {"generator": "wrk", "requests": total, "rps": rps, "p50_ms": p50, "p99_ms": p99,
            "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(0) if errors else ""}


def run_python(url: str, duration: float, connections: int, method: str = "GET",
               body: str | None = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """A closed-loop load generator: ``connections`` threads on keep-alive connections."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    latencies: list[list[float]] = [[] for _ in range(connections)]
    non2xx = [0] * connections
    stop = time.monotonic() + duration
    payload = body.encode() if body is not None else None

    def loop(i: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            conn.request(method, parts.path, body=payload, headers=headers or {})
            response = conn.getresponse()
            response.read()
            latencies[i].append((time.perf_counter() - t0) * 1000)
            if not 200 <= response.status < 400:
                non2xx[i] += 1
        conn.close()

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(connections)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    every = [x for lat in latencies for x in lat]
    return {"generator": "python threads", "requests": len(every), "rps": len(every) / elapsed,
            "p50_ms": harness.percentile(every, 50), "p99_ms": harness.percentile(every, 99),
            "non_2xx": sum(non2xx), "socket_errors": ""}


# -- main ----------------------------------------------------------------------------------------

def seed(uri: str) -> tuple[str, str]:
    """A department, a handler with a token and one checked case; returns (token, case id)."""
    from creditcase.core.accounts import User, issue_token

    rt = harness.build_runtime(uri, DB_NAME)
    city = harness.seed_city(rt.host)
    codes = harness.subject_codes(50)
    from creditcase.core import db as core_db

    harness.seed_records(core_db.database(), codes, 3, city.department)
    case = rt.workflow.apply(city.handler, domain=harness.DEFAULT_DOMAIN, matter="ZFCG-001",
                             subject={"code": codes[0], "name": "舞钢市恒信建材有限公司"},
                             data=harness.application())
    rt.workflow.perform_check(str(case.pk), case.check_request_id, city.handler.username)
    token = issue_token(User.objects.get(username=city.handler.username), label="bench")
    return token, str(case.pk)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=15, help="seconds per endpoint")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up per endpoint")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--mongodb-uri", default=None)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    use_wrk = args.generator == "wrk" or (args.generator == "auto" and shutil.which("wrk"))
    logdir = harness.RESULTS / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    with harness.database_server(args.mongodb_uri) as server:
        token, case_id = seed(server.uri)
        port = harness.free_port()
        gunicorn = start_gunicorn(server.uri, port, args.workers, logdir / "gunicorn.log")
        try:
            base = f"http://127.0.0.1:{port}"
            auth = {"Authorization": f"Bearer {token}"}
            body = json.dumps({"domain": harness.DEFAULT_DOMAIN,
                               "matter": "ZFCG-001 政府采购供应商资格审查",
                               "subject": {"code": harness.subject_codes(50)[1],
                                           "name": "舞钢市恒信建材有限公司"},
                               "data": harness.application()}, ensure_ascii=False)
            scenarios = {
                "bare": ("GET", "/bench/bare", None, {}),
                "read": ("GET", f"/api/v1/cases/{case_id}", None, auth),
                "apply": ("POST", "/api/v1/cases", body,
                          {**auth, "Content-Type": "application/json"}),
            }
            for name, (method, path, payload, headers) in scenarios.items():
                harness.log(f"http: {name} ({method} {path}) for {args.duration:.0f}s")

                def load(seconds: float, method=method, path=path, payload=payload,
                         headers=headers) -> dict[str, Any]:
                    if use_wrk:
                        return run_wrk(base + path, seconds, args.connections, 2, method,
                                       payload, headers)
                    return run_python(base + path, seconds, args.connections, method,
                                      payload, headers)

                load(args.warmup)
                pids = {"gunicorn workers": worker_pids(gunicorn.pid),
                        "database": [server.pid] if server.pid else []}
                before = {k: sum(harness.cpu_seconds(p) for p in v) for k, v in pids.items()}
                results[name] = load(args.duration)
                after = {k: sum(harness.cpu_seconds(p) for p in v) for k, v in pids.items()}
                results[name]["cpu_ms_per_request"] = {
                    k: (after[k] - before[k]) * 1000 / max(results[name]["requests"], 1)
                    for k in pids if pids[k]}
            pids = worker_pids(gunicorn.pid)
            rss = {str(pid): harness.rss_mib(pid) for pid in pids}
        finally:
            harness.stop_processes([gunicorn])
    ratio_read = harness.ratio(results["read"]["rps"], results["bare"]["rps"])
    ratio_apply = harness.ratio(results["apply"]["rps"], results["bare"]["rps"])
    result = {"database": server.kind, "server": f"gunicorn, {args.workers} sync workers",
              "connections": args.connections, "duration_s": args.duration,
              "endpoints": results, "read_to_bare": ratio_read, "apply_to_bare": ratio_apply,
              "target": f"read >= {TARGET_RATIO} x bare", "met": ratio_read >= TARGET_RATIO,
              "worker_rss_mib": rss}
    path = harness.write_result(NAME, result)
    rows = [[name, r["rps"], r["p50_ms"], r["p99_ms"], r["non_2xx"],
             r["cpu_ms_per_request"].get("gunicorn workers", float("nan")),
             r["cpu_ms_per_request"].get("database", float("nan"))]
            for name, r in results.items()]
    print(harness.table(rows, ["endpoint", "requests/s", "p50 ms", "p99 ms", "non-2xx",
                               "app CPU ms/req", "db CPU ms/req"]))
    print(f"\nread / bare = {ratio_read:.3f} (target >= {TARGET_RATIO}); "
          f"apply / bare = {ratio_apply:.3f}")
    print(f"written {path}")
    return result


if __name__ == "__main__":
    main()

"""Run every benchmark and write one JSON file and one Markdown table.

    python -m bench.run              # default sizes (about 40 minutes here, most of it the
                                     # public search benchmark filling a million records)
    python -m bench.run --full       # adds the 1,000,000-record check latency level
    python -m bench.run --quick      # small sizes, for trying the harness
    python -m bench.run --only e2e_bench,http_bench

Each benchmark runs as its own process (``python -m bench.<name>``), so one
that fails is reported and the others still run. The harness's own
benchmarks are ``e2e_bench``, ``peer_spiff_bench``, ``check_latency_bench``
and ``http_bench``; every other ``bench/*_bench.py`` present (the import,
publicity search, event-to-stale and relay throughput benchmarks) is run too
with its own defaults and its figures are reported again here, as it printed
and wrote them. Output: ``bench/results/<timestamp>.json`` (every result in
full) and ``bench/results/<timestamp>.md`` (the summary table, then each
benchmark's own table).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

OWN = ("e2e_bench", "peer_spiff_bench", "check_latency_bench", "http_bench")
#: benchmarks of the platform and messaging areas, run when present
KNOWN_OTHERS = ("import_bench", "publicity_search_bench", "event_to_stale_bench",
                "relay_throughput_bench")
PRESETS: dict[str, dict[str, list[str]]] = {
    "quick": {"e2e_bench": ["--cases", "60", "--warmup", "5"],
              "peer_spiff_bench": ["--cases", "40", "--warmup", "3"],
              "check_latency_bench": ["--records", "2000,10000", "--samples", "200"],
              "http_bench": ["--duration", "5", "--warmup", "1"]},
    "default": {},
    "full": {"check_latency_bench": ["--records", "10000,100000,1000000"]},
}


def discover() -> list[str]:
    found = sorted(p.stem for p in (harness.ROOT / "bench").glob("*_bench.py"))
    others = [n for n in KNOWN_OTHERS if n in found] + \
        [n for n in found if n not in OWN and n not in KNOWN_OTHERS]
    return [n for n in OWN if n in found] + others


def run_one(name: str, extra: list[str], timeout: float) -> dict[str, Any]:
    before = {p: p.stat().st_mtime for p in harness.RESULTS.glob("*.json")} \
        if harness.RESULTS.exists() else {}
    harness.log(f"run: {name} {' '.join(extra)}")
    t0 = time.perf_counter()
    # its own session, so that a timeout also ends the servers it started
    process = subprocess.Popen([sys.executable, "-m", f"bench.{name}", *extra], cwd=harness.ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
        status = process.returncode
    except subprocess.TimeoutExpired:
        _end_group(process)
        stdout, stderr = process.communicate()
        status = -1
        stderr = (stderr or "") + f"\ntimed out after {timeout:.0f}s"
    elapsed = time.perf_counter() - t0
    written = sorted(p for p in harness.RESULTS.glob("*.json")
                     if p not in before or p.stat().st_mtime > before[p]) \
        if harness.RESULTS.exists() else []
    data = []
    prefix = name.removesuffix("_bench") + "-"
    for path in [p for p in written if p.name.startswith(prefix)]:
        try:
            data.append({"file": path.name, "result": json.loads(path.read_text())})
        except (OSError, json.JSONDecodeError) as exc:
            data.append({"file": path.name, "error": str(exc)})
    harness.log(f"run: {name} {'ok' if status == 0 else f'FAILED ({status})'} in {elapsed:.0f}s")
    return {"name": name, "args": extra, "exit_status": status, "seconds": elapsed,
            "stdout": stdout, "stderr_tail": stderr[-4000:], "results": data}


def _end_group(process: subprocess.Popen) -> None:
    """Stop a timed-out benchmark and everything it started (database servers,
    gunicorn, relay and worker processes)."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _result(run: dict[str, Any]) -> dict[str, Any] | None:
    """The benchmark's own result: the last JSON named after it (``import_bench`` writes
    ``import-<stamp>.json``) that appeared while it ran. Other people's runs may write
    into the same folder meanwhile; their files are ignored."""
    prefix = run.get("name", "").removesuffix("_bench") + "-"
    for item in reversed(run.get("results", [])):
        if "result" in item and item["file"].startswith(prefix):
            return item["result"]
    return None


def summary_rows(runs: list[dict[str, Any]]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    by_name = {run["name"]: run for run in runs}

    def add(figure: str, value: Any, target: str = "", met: Any = "") -> None:
        rows.append([figure, value, target, {True: "yes", False: "no"}.get(met, met)])

    if (r := _result(by_name.get("e2e_bench", {"results": []}))) is not None:
        add("e2e cases/s (apply -> check -> decide -> archive, RabbitMQ workers)",
            r["creditcase"]["cases_per_s"])
        add("e2e floor cases/s (same writes and confirmed publishes)", r["floor"]["cases_per_s"])
        add("e2e / floor", r["ratio"], r["target"], r["met"])
    if (r := _result(by_name.get("peer_spiff_bench", {"results": []}))) is not None:
        add("creditcase cases/s, one process", r["creditcase"]["cases_per_s"])
        add("SpiffWorkflow cases/s, one process", r["spiffworkflow"]["cases_per_s"])
        add("creditcase / SpiffWorkflow", r["ratio"], r["target"], r["met"])
    if (r := _result(by_name.get("check_latency_bench", {"results": []}))) is not None:
        for level in r["levels"]:
            target = "<= 10 ms" if level["records"] >= 1_000_000 else ""
            met = level["check_ms"]["p99"] <= 10 if target else ""
            add(f"check p50 / p99 ms at {level['records']:,} records",
                f"{level['check_ms']['p50']:.2f} / {level['check_ms']['p99']:.2f}", target, met)
            add(f"raw indexed find p50 / p99 ms at {level['records']:,} records",
                f"{level['raw_find_ms']['p50']:.2f} / {level['raw_find_ms']['p99']:.2f}")
        add("check p99 growth / raw find p99 growth",
            f"x{r['check_p99_growth']:.2f} / x{r['raw_find_p99_growth']:.2f}",
            "check <= max(raw, 1) x1.1", r["met_growth"])
        if "check_p50_growth" in r:
            add("check p50 growth / raw find p50 growth",
                f"x{r['check_p50_growth']:.2f} / x{r['raw_find_p50_growth']:.2f}")
    if (r := _result(by_name.get("http_bench", {"results": []}))) is not None:
        for name, e in r["endpoints"].items():
            add(f"HTTP {name}: requests/s, p99 ms", f"{e['rps']:.0f}, {e['p99_ms']:.1f}")
        add("HTTP read / bare", r["read_to_bare"], r["target"], r["met"])
    for run in runs:
        if run["name"] in OWN:
            continue
        r = _result(run)
        if r is None:
            add(f"{run['name']} (reported again)", "no result" if run["exit_status"] else "ok")
            continue
        for key, value in _figures(r):
            add(f"{run['name']}: {key} (reported again)", value)
    for run in runs:
        if run["exit_status"] != 0:
            add(f"{run['name']}", "FAILED", "", False)
    return rows


#: words that mark a headline figure of another area's result
HEADLINE = ("ratio", "target", "goal", "met", "ok", "p99", "p50", "per_s", "per_second", "median")


def _figures(result: dict[str, Any], limit: int = 16) -> list[tuple[str, Any]]:
    """Numbers and verdicts of another area's result, flattened (``a.b.c``), the
    headline ones (ratios, targets, verdicts, percentiles, rates) first."""
    out: list[tuple[str, Any]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                if k in ("machine", "finished_at", "benchmark", "at"):
                    continue
                walk(f"{prefix}.{k}" if prefix else k, v)
        elif isinstance(value, (bool, int, float)) or (
                isinstance(value, str) and any(w in prefix.rsplit(".", 1)[-1] for w in HEADLINE)):
            out.append((prefix, value))

    walk("", result)
    headline = [f for f in out if any(w in f[0].rsplit(".", 1)[-1] for w in HEADLINE)]
    rest = [f for f in out if f not in headline]
    return (headline + rest)[:limit]


def markdown(runs: list[dict[str, Any]], preset: str, started: str) -> str:
    parts = [f"# Benchmark run {started} ({preset})", "",
             f"Machine: {json.dumps(harness.machine(), ensure_ascii=False)}", "",
             harness.table(summary_rows(runs), ["figure", "value", "target", "met"]), ""]
    for run in runs:
        parts += [f"## {run['name']}", "",
                  f"`python -m bench.{run['name']} {' '.join(run['args'])}` -> exit "
                  f"{run['exit_status']} in {run['seconds']:.0f}s", "", "```",
                  run["stdout"].strip() or "(no output)"]
        if run["exit_status"] != 0:
            parts += ["--- stderr (tail) ---", run["stderr_tail"].strip()]
        parts += ["```", ""]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_const", dest="preset", const="quick")
    group.add_argument("--full", action="store_const", dest="preset", const="full")
    parser.set_defaults(preset="default")
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    parser.add_argument("--skip", default="", help="comma-separated benchmark names")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per benchmark")
    args = parser.parse_args(argv)
    names = discover()
    if args.only:
        wanted = {n.strip().removesuffix(".py") for n in args.only.split(",") if n.strip()}
        names = [n for n in names if n in wanted]
    skip = {n.strip().removesuffix(".py") for n in args.skip.split(",") if n.strip()}
    names = [n for n in names if n not in skip]
    started = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    runs = [run_one(name, PRESETS[args.preset].get(name, []), args.timeout) for name in names]
    harness.RESULTS.mkdir(parents=True, exist_ok=True)
    body = {"run": started, "preset": args.preset, "machine": harness.machine(),
            "summary": [dict(zip(("figure", "value", "target", "met"), row, strict=True))
                        for row in summary_rows(runs)], "benchmarks": runs}
    json_path = harness.RESULTS / f"{started}.json"
    json_path.write_text(json.dumps(body, indent=2, ensure_ascii=False, default=str) + "\n")
    md_path = harness.RESULTS / f"{started}.md"
    md_path.write_text(markdown(runs, args.preset, started) + "\n")
    print(harness.table(summary_rows(runs), ["figure", "value", "target", "met"]))
    print(f"\nwritten {json_path}\nwritten {md_path}")
    return 0 if all(run["exit_status"] == 0 for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())

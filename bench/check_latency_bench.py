"""Credit check latency as the stored records grow, against the raw index lookup.

The collection ``credit_records`` is filled to each size in turn (default
10,000 and 100,000; ``--records 10000,100000,1000000`` adds the million),
five records per subject, a percent of the subjects on a black list. At each
size the check engine (:func:`creditcase.core.checks.run_check`: the records,
lists and reports channels, the measure catalogue, the grade and the domain's
recommendation) runs for randomly chosen subjects, and so does the raw
reference: the indexed ``find`` of one subject's active records with pymongo
on the same data. Targets: check p99 <= 10 ms at 1,000,000 records, and the
check's p99 growing no faster than the raw lookup's.

    python -m bench.check_latency_bench [--records 10000,100000] [--samples 400]

Filling a million records into the standalone SecantusDB server takes most of
the run (see docs/performance.md for the time it took here).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

NAME = "check_latency"
DB_NAME = "bench_check_latency"
PER_SUBJECT = 5
P99_TARGET_MS = 10.0
PERCENTILES = {"p50": 50, "p90": 90, "p99": 99}
#: run-to-run noise allowed when comparing growth factors (other work on a 2-core
#: machine moves a p99 by more than this; see the load average in the result)
GROWTH_TOLERANCE = 1.10


def make_case(code: str, department: str) -> Any:
    from bson import ObjectId

    from creditcase.core.cases import Case

    return Case(pk=ObjectId(), domain=harness.DEFAULT_DOMAIN, matter="ZFCG-001",
                department=department, subject_code=code,
                subject_name=f"基准企业{code[-6:]}有限公司", subject_kind="legal",
                data=harness.application(), state="checking", handler="bench-handler")


def measure(rt: Any, db: Any, codes: list[str], department: str, samples: int,
            rng: random.Random) -> dict[str, Any]:
    from creditcase.core import checks

    chosen = rng.choices(codes, k=samples)
    collection = db["credit_records"]
    # warm both paths on other subjects first
    for code in rng.choices(codes, k=20):
        checks.run_check(rt.host, make_case(code, department), request_id=str(uuid.uuid4()),
                         requested_by="bench")
        list(collection.find({"subject_code": code, "state": {"$in": ["active", "disputed"]}}))
    raw, check, hits = [], [], 0
    for code in chosen:
        t0 = time.perf_counter()
        docs = list(collection.find({"subject_code": code,
                                     "state": {"$in": ["active", "disputed"]}}))
        raw.append((time.perf_counter() - t0) * 1000)
        case = make_case(code, department)
        t0 = time.perf_counter()
        result = checks.run_check(rt.host, case, request_id=str(uuid.uuid4()),
                                  requested_by="bench")
        check.append((time.perf_counter() - t0) * 1000)
        hits += len(result.result["hits"])
        if len(docs) != PER_SUBJECT:
            raise RuntimeError(f"{code}: {len(docs)} records, expected {PER_SUBJECT}")
    return {"samples": samples, "hits_per_check": hits / samples,
            "check_ms": {p: harness.percentile(check, q) for p, q in PERCENTILES.items()},
            "raw_find_ms": {p: harness.percentile(raw, q) for p, q in PERCENTILES.items()}}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", default="10000,100000",
                        help="comma-separated sizes, ascending (e.g. 10000,100000,1000000)")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--mongodb-uri", default=None)
    parser.add_argument("--cache-size", default=None,
                        help="WiredTiger cache of the secantusd-py server (e.g. 2GB)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    sizes = sorted(int(s) for s in args.records.split(",") if s.strip())
    from creditcase.core import db as core_db

    rng = random.Random(17)
    levels = []
    with harness.database_server(args.mongodb_uri, cache_size=args.cache_size) as server:
        rt = harness.build_runtime(server.uri, DB_NAME)
        city = harness.seed_city(rt.host)
        database = core_db.database()
        every_code = harness.subject_codes(sizes[-1] // PER_SUBJECT, seed=23)
        random.Random(29).shuffle(every_code)
        codes: list[str] = []
        stored = 0
        started = time.perf_counter()
        for size in sizes:
            new = every_code[len(codes): size // PER_SUBJECT]
            t0 = time.perf_counter()
            stored += harness.seed_records(database, new, PER_SUBJECT, city.department)
            harness.seed_blacklist(new[: len(new) // 100], city.department)
            codes += new
            fill = time.perf_counter() - t0
            harness.log(f"check latency: {stored:,} records stored ({fill:.0f}s to add "
                        f"{len(new) * PER_SUBJECT:,}); measuring")
            level = measure(rt, database, codes, city.department, args.samples, rng)
            level.update(records=stored, subjects=len(codes), fill_seconds=fill)
            levels.append(level)
        total = time.perf_counter() - started
    first, last = levels[0], levels[-1]
    check_growth = harness.ratio(last["check_ms"]["p99"], first["check_ms"]["p99"])
    raw_growth = harness.ratio(last["raw_find_ms"]["p99"], first["raw_find_ms"]["p99"])
    check_growth_p50 = harness.ratio(last["check_ms"]["p50"], first["check_ms"]["p50"])
    raw_growth_p50 = harness.ratio(last["raw_find_ms"]["p50"], first["raw_find_ms"]["p50"])
    at_million = next((lv for lv in levels if lv["records"] >= 1_000_000), None)
    result = {
        "database": server.kind, "levels": levels, "seconds_total": total,
        "check_p99_growth": check_growth, "raw_find_p99_growth": raw_growth,
        "check_p50_growth": check_growth_p50, "raw_find_p50_growth": raw_growth_p50,
        "check_p99_increase_ms": last["check_ms"]["p99"] - first["check_ms"]["p99"],
        "raw_find_p99_increase_ms": last["raw_find_ms"]["p99"] - first["raw_find_ms"]["p99"],
        "target": f"p99 <= {P99_TARGET_MS} ms at 1,000,000; p99 growth <= raw find p99 growth "
                  f"(or no growth), x{GROWTH_TOLERANCE} for noise",
        # not growing at all is not growing faster than the lookup
        "met_growth": check_growth <= max(raw_growth, 1.0) * GROWTH_TOLERANCE,
        "met_p99_at_1m": (at_million["check_ms"]["p99"] <= P99_TARGET_MS) if at_million else None,
    }
    path = harness.write_result(NAME, result)
    rows = [[f"{lv['records']:,}", lv["check_ms"]["p50"], lv["check_ms"]["p90"],
             lv["check_ms"]["p99"], lv["raw_find_ms"]["p50"], lv["raw_find_ms"]["p90"],
             lv["raw_find_ms"]["p99"]] for lv in levels]
    print(harness.table(rows, ["records", "check p50 ms", "check p90 ms", "check p99 ms",
                               "raw find p50 ms", "raw find p90 ms", "raw find p99 ms"]))
    print(f"\ngrowth {first['records']:,} -> {last['records']:,}: p99 check x{check_growth:.2f}, "
          f"raw find x{raw_growth:.2f}; p50 check x{check_growth_p50:.2f}, "
          f"raw find x{raw_growth_p50:.2f}")
    print(f"written {path}")
    return result


if __name__ == "__main__":
    main()

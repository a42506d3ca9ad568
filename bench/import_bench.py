"""Bulk import of valid penalty records against a raw ``insert_many`` of the same documents.

The measured run: ``creditcase.core.importer.import_records`` reads a CSV file of
N valid penalty rows in the national field codes (CF_*), validates every row,
and stores them in batches (records + one outbox entry and one audit event per
record, one transaction per batch). Then the same file is imported again: every
row comes back ``unchanged`` (the idempotent path).

The reference, in the same run and against the same server: the very record
documents the importer stored, re-inserted with plain ``insert_many`` (batches
of the same size, no validation, no events, no transaction) into a scratch
collection with the same indexes as ``credit_records``. A second reference adds
the outbox entries and audit events the import wrote with the records (each
into a copy of its collection), i.e. every document the import stored. The rows are split into
rounds; each round imports its file and then re-inserts what it stored, so a
change in the machine's load during the run weighs on both figures alike.

Targets: import >= 5,000 records/s and >= 0.5 x the raw insert_many rate.

The database is a standalone SecantusDB server (``secantusd-py``, as the
harness starts it), or the SecantusDB server in this process (``--in-process``,
what ``creditcase import`` uses when no CREDITCASE_MONGODB_URI is set), or any
MongoDB given with ``--mongodb-uri``.

    python -m bench.import_bench [--records 50000] [--batch 1000] [--in-process]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

NAME = "import"
DB_NAME = "bench_import"
TARGET_RATE = 5000.0
TARGET_RATIO = 0.5
CATEGORIES = ("罚款", "警告;罚款", "没收违法所得;罚款", "通报批评", "责令停产停业;罚款")


def penalty_rows(count: int, codes: list[str], authority_uscc: str, seed: int = 5
                 ) -> Iterator[dict[str, str]]:
    """``count`` valid penalty rows in the national codes, decided in 2026."""
    rng = random.Random(seed)
    first = dt.date(2026, 1, 5)
    for n in range(1, count + 1):
        code = codes[n % len(codes)]
        decided = first + dt.timedelta(days=rng.randint(0, 300))
        categories = rng.choice(CATEGORIES)
        fine = rng.randint(1, 500) * 1000
        row = {
            "CF_XDR_MC": f"基准企业{code[-6:]}有限公司", "CF_XDR_LB": "法人及非法人组织",
            "CF_XDR_SHXYM": code, "CF_FRDB": "王某某",
            "CF_WSH": f"舞市监罚〔{decided.year}〕{n}号",
            "CF_WFXW": "未按规定公示年度报告", "CF_SY": f"当事人于{decided:%Y年%m月}未按规定报送年度报告。",
            "CF_YJ": "《企业信息公示暂行条例》第十七条", "CF_CFLB": categories,
            "CF_NR": f"罚款人民币{fine}元", "CF_NR_FK": f"{fine / 10000:g}",
            "CF_JDRQ": decided.isoformat(), "CF_YXQ": (decided + dt.timedelta(days=365)).isoformat(),
            "CF_CFJG": "舞钢市市场监督管理局", "CF_CFJGDM": authority_uscc,
            "CF_SJLY": "舞钢市市场监督管理局", "CF_SJLYDM": authority_uscc,
            "severity": rng.choice(("general", "general", "general", "minor", "serious")),
        }
        if "没收" in categories:
            row["CF_NR_WFFF"] = "0.35"
        yield row


def write_csv(path: Path, rows: Iterator[dict[str, str]]) -> int:
    from creditcase.core.records import PENALTY_CODES

    columns = [c for c in PENALTY_CODES if c not in ("BZ", "CF_GSJZQ")] + ["severity"]
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


@contextlib.contextmanager
def database(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    if args.in_process:
        from creditcase.core import db

        storage = Path(tempfile.mkdtemp(prefix="creditcase-bench-import-"))
        try:
            yield db.start_embedded(storage), "SecantusDB in this process (embedded mode)"
        finally:
            shutil.rmtree(storage, ignore_errors=True)
        return
    with harness.database_server(args.mongodb_uri) as server:
        yield server.uri, server.kind


def scratch_collection(database: Any, name: str = "credit_records") -> Any:
    """A collection with the indexes of ``name``, for the raw reference."""
    source = database[name]
    scratch = database[f"bench_raw_{name}"]
    scratch.drop()
    for name, spec in source.index_information().items():
        if name == "_id_":
            continue
        options = {k: v for k, v in spec.items() if k in ("unique", "sparse",
                                                           "partialFilterExpression")}
        scratch.create_index(spec["key"], name=name, **options)
    return scratch


def raw_insert(scratch: Any, documents: list[dict[str, Any]], batch: int) -> float:
    """Seconds to insert ``documents`` with plain insert_many in batches."""
    started = time.perf_counter()
    for start in range(0, len(documents), batch):
        scratch.insert_many(documents[start:start + batch], ordered=True)
    return time.perf_counter() - started


def parse_only(path: Path) -> float:
    """Rows/s of reading and validating alone (no storage)."""
    from creditcase.core import importer, records

    _, _, rows = importer.read_rows(path)
    started = time.perf_counter()
    count = 0
    for _, values in rows:
        records.load_record(values, kind="penalty")
        count += 1
    return count / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    harness.bootstrap()
    from creditcase.core import ids, importer

    workdir = Path(tempfile.mkdtemp(prefix="creditcase-import-bench-"))
    try:
        with database(args) as (uri, kind):
            harness.log(f"database: {kind} at {uri}")
            runtime = harness.build_runtime(uri, DB_NAME)
            city = harness.seed_city(runtime.host)
            authority = ids.make_uscc("11410481" + "MB1234562")
            codes = harness.subject_codes(max(10, args.records // 5))
            rows = list(penalty_rows(args.records, codes, authority))
            size = -(-len(rows) // args.rounds)
            paths = []
            for number in range(args.rounds):
                path = workdir / f"penalties-{number + 1}.csv"
                write_csv(path, iter(rows[number * size:(number + 1) * size]))
                paths.append(path)
            count = len(rows)
            harness.log(f"{count} rows in {len(paths)} files of ≤ {size}")
            validate_rate = parse_only(paths[0])
            harness.log(f"read + validate only: {validate_rate:,.0f} rows/s")

            from mongoengine.connection import get_db

            database_ = get_db()
            scratch = scratch_collection(database_)
            scratch_events = {name: scratch_collection(database_, name)
                              for name in ("outbox", "audit_events")}
            import_seconds = raw_seconds = events_seconds = 0.0
            created = raw_count = events_count = 0
            for path in paths:
                before = {name: set(database_[name].distinct("_id"))
                          for name in ("credit_records", "outbox", "audit_events")}
                started = time.perf_counter()
                summary = importer.import_records(city.provider, path, batch_size=args.batch)
                import_seconds += time.perf_counter() - started
                created += summary.created
                if summary.failed:
                    raise SystemExit(f"the bench rows must all be valid: {summary.errors[:3]}")
                stored = [d for d in database_["credit_records"].find({})
                          if d["_id"] not in before["credit_records"]]
                raw_seconds += raw_insert(scratch, stored, args.batch)
                raw_count += len(stored)
                for name, target in scratch_events.items():
                    written = [d for d in database_[name].find({})
                               if d["_id"] not in before[name]]
                    events_seconds += raw_insert(target, written, args.batch)
                    events_count += len(written)
                harness.log(f"{path.name}: {summary.line()}")
            scratch.drop()
            for target in scratch_events.values():
                target.drop()
            import_rate = created / import_seconds
            raw_rate = raw_count / raw_seconds
            # every document the import wrote (records, outbox entries, audit events)
            all_rate = raw_count / (raw_seconds + events_seconds)
            harness.log(f"import {import_rate:,.0f}/s; raw insert_many {raw_rate:,.0f}/s "
                        f"(with the events: {all_rate:,.0f} records/s)")

            started = time.perf_counter()
            again = importer.import_records(city.provider, paths[0], batch_size=args.batch)
            again_seconds = time.perf_counter() - started
            harness.log(f"re-import of {paths[0].name}: {again.line()} in {again_seconds:.1f}s")
            outbox = database_["outbox"].count_documents({})
            audit_count = database_["audit_events"].count_documents({"action": "record.imported"})
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    ratio = harness.ratio(import_rate, raw_rate)
    ratio_all = harness.ratio(import_rate, all_rate)
    rows = [
        ["import (CSV → validated → stored with events)", created, import_seconds, import_rate],
        ["raw insert_many of the same documents", raw_count, raw_seconds, raw_rate],
        [f"raw insert_many of them + their {events_count} event documents", raw_count,
         raw_seconds + events_seconds, all_rate],
        ["re-import, all unchanged", again.unchanged, again_seconds, again.unchanged / again_seconds],
        ["read + validate only (no storage)", count, count / validate_rate, validate_rate],
    ]
    print(harness.table(rows, ["step", "records", "seconds", "records/s"]))
    verdict = {"rate_target": TARGET_RATE, "rate_ok": import_rate >= TARGET_RATE,
               "ratio": ratio, "ratio_target": TARGET_RATIO, "ratio_ok": ratio >= TARGET_RATIO}
    print(f"\nimport {import_rate:,.0f}/s (target ≥ {TARGET_RATE:,.0f}: "
          f"{'met' if verdict['rate_ok'] else 'NOT met'}); ratio to raw insert_many "
          f"{ratio:.2f} (target ≥ {TARGET_RATIO}: {'met' if verdict['ratio_ok'] else 'NOT met'}); "
          f"to raw insert_many of every document written {ratio_all:.2f}")
    result = {"database": kind, "records": count, "batch": args.batch, "rounds": args.rounds,
              "import": {"seconds": import_seconds, "per_second": import_rate,
                         "created": created, "outbox_entries": outbox,
                         "audit_batch_events": audit_count},
              "raw_insert_many": {"per_second": raw_rate, "documents": raw_count},
              "raw_insert_many_with_events": {"records_per_second": all_rate,
                                              "event_documents": events_count,
                                              "ratio": ratio_all},
              "reimport_unchanged": {"seconds": again_seconds, "unchanged": again.unchanged},
              "validate_only_per_second": validate_rate, **verdict}
    print(f"written: {harness.write_result(NAME, result)}")
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=1000, help="rows per transaction")
    parser.add_argument("--rounds", type=int, default=5,
                        help="import and reference alternate in this many rounds")
    parser.add_argument("--in-process", action="store_true",
                        help="run SecantusDB in this process (embedded mode) instead of secantusd-py")
    parser.add_argument("--mongodb-uri", default=None, help="use this server instead")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()

"""Bulk import of 双公示 records from files in the national field codes.

Reads ``.csv`` (UTF-8 with or without BOM, else GB18030), ``.json`` (an array of
objects) and ``.xlsx`` (the first sheet, header in the first row). Columns are the
national codes of domain.md §3.2 / §3.3 (``XK_*`` licences, ``CF_*`` penalties)
plus the optional platform columns ``severity`` (轻微/一般/严重 or
minor/general/serious; required for penalties unless a default is given),
``publish``, ``publish_minor``, ``sector``, ``state``.

Every row is validated with the schemas of :mod:`creditcase.core.records`; a row
with any invalid field is not stored and each of its errors goes to the error
report written beside the input (``<name>.errors.csv``: row, doc_no, field, rule,
message). Valid rows are stored in batches (:func:`creditcase.core.records.store_batch`:
one transaction per batch with bulk inserts), so valid rows are stored even when
others fail. If a batch cannot be written, the import stops and
:class:`ImportAborted` says exactly which rows were committed before.

Row numbers are those a person sees: the line of a CSV file and the row of a sheet
(the header is row 1), the 1-based position of an object in a JSON array. This
module reads files and stores records; it never prints (the CLI draws the
progress bar from the ``progress`` callback).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from creditcase.core import publicity, records
from creditcase.core.accounts import Department, Principal
from creditcase.core.calendar import current_calendar
from creditcase.core.errors import DomainError, NotFound, RuleViolation

__all__ = [
    "FORMATS",
    "PLATFORM_COLUMNS",
    "ImportAborted",
    "ImportRefused",
    "ImportSummary",
    "RowError",
    "import_records",
    "read_rows",
    "report_path_for",
]

FORMATS = (".csv", ".json", ".xlsx")
#: Columns besides the national codes (lower case, as in the platform API).
PLATFORM_COLUMNS = ("severity", "publish", "publish_minor", "sector", "state", "type_severities")
REPORT_COLUMNS = ("row", "doc_no", "field", "rule", "message")
DEFAULT_BATCH = 1000


class ImportRefused(DomainError):
    """The file cannot be imported at all (format, encoding, header); nothing was stored."""

    title = "Import refused"


@dataclass(frozen=True)
class RowError:
    row: int
    doc_no: str
    field: str
    rule: str
    message: str


@dataclass
class ImportSummary:
    """What an import did. ``committed`` lists the row ranges stored, batch by batch."""

    path: Path
    kind: str
    department: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[RowError] = field(default_factory=list)
    committed: list[tuple[int, int]] = field(default_factory=list)
    report: Path | None = None

    @property
    def stored(self) -> int:
        """Rows written: new records and corrections."""
        return self.created + self.updated

    def line(self) -> str:
        """The one-line summary the CLI prints."""
        report = str(self.report) if self.report else "none (no invalid rows)"
        return (f"stored {self.stored} (created {self.created}, updated {self.updated}), "
                f"unchanged {self.unchanged}, failed {self.failed} of {self.rows} rows; "
                f"error report: {report}")

    def committed_text(self) -> str:
        if not self.committed:
            return "no rows"
        return ", ".join(f"{a}–{b}" if a != b else str(a) for a, b in _merge(self.committed))


def _merge(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


class ImportAborted(Exception):
    """A batch could not be written (or the import was interrupted). ``summary`` holds
    what was stored before; ``pending`` the rows of the batch that was not stored."""

    def __init__(self, summary: ImportSummary, pending: tuple[int, int] | None,
                 cause: BaseException) -> None:
        self.summary = summary
        self.pending = pending
        self.cause = cause
        failed = f"; the batch of rows {pending[0]}–{pending[1]} was not stored" if pending else ""
        super().__init__(
            f"import stopped: {type(cause).__name__}: {cause}. Stored (committed) before the "
            f"stop: rows {summary.committed_text()} ({summary.stored} stored, "
            f"{summary.unchanged} unchanged); no other row was stored{failed}. "
            "Importing the file again is safe: stored rows come back as unchanged.")


def report_path_for(path: Path) -> Path:
    """``data/penalties.csv`` → ``data/penalties.errors.csv``."""
    return path.with_name(f"{path.stem}.errors.csv")


# ------------------------------------------------------------------------- reading


def _cell(value: Any) -> Any:
    """Spreadsheet cells as the schemas expect them: dates kept, numbers as text."""
    if value is None or isinstance(value, dt.date | bool):
        return value
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    return value


def _column(name: Any) -> str:
    text = str(name or "").strip().lstrip("\ufeff")
    return text.lower() if text.lower() in PLATFORM_COLUMNS else text.upper()


def _check_header(columns: Sequence[str], kind: str | None, severity: str | None = None) -> str:
    """The kind of record the columns describe; refuses unknown, repeated or mixed
    columns and missing required ones (no row could be valid without them)."""
    national = [c for c in columns if c not in PLATFORM_COLUMNS]
    prefixes = {c[:3] for c in national if c[:3] in ("XK_", "CF_")}
    if len(prefixes) > 1:
        raise ImportRefused("the header mixes licence (XK_) and penalty (CF_) columns",
                            errors={"header": ["form: XK_* and CF_* columns cannot be mixed"]})
    found = {"XK_": "licence", "CF_": "penalty"}.get(next(iter(prefixes), ""))
    if kind and found and kind != found:
        raise ImportRefused(f"--kind {kind} but the columns are those of a {found}",
                            errors={"header": [f"one_of: columns are {found} codes"]})
    kind = kind or found
    if kind is None:
        raise ImportRefused("no national field codes in the header (XK_* or CF_*)",
                            errors={"header": ["required: national field codes such as CF_WSH"]})
    known = set(records.NATIONAL_CODES[kind]) | set(PLATFORM_COLUMNS)
    unknown = [c for c in columns if c not in known]
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    errors: dict[str, list[str]] = {}
    if unknown:
        errors["header"] = [f"unknown_field: {', '.join(repr(c) for c in unknown)} "
                            f"not a {kind} field code"]
    if duplicates:
        errors.setdefault("header", []).append(f"duplicate: {', '.join(duplicates)}")
    missing = [c for c in records.required_fields(kind)
               if c not in columns and not (c == "severity" and severity)]
    if missing:
        hint = " (or give a default with --severity)" if "severity" in missing else ""
        errors.setdefault("header", []).append(
            f"required: the columns {', '.join(missing)} are missing{hint}")
    if errors:
        raise ImportRefused("the header has columns that cannot be imported", errors=errors)
    return kind


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRefused("the file is neither UTF-8 nor GB18030 text",
                        errors={"file": ["encoding: expected UTF-8 or GB18030"]})


def _csv_rows(path: Path) -> tuple[list[str], int, Iterator[tuple[int, dict[str, Any]]]]:
    text = _decode(path.read_bytes())
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [_column(c) for c in next(reader)]
    except StopIteration:
        raise ImportRefused("the file is empty", errors={"file": ["required: a header row"]})
    total = sum(1 for row in csv.reader(io.StringIO(text, newline="")) if any(row)) - 1

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            line = reader.line_num
            values: dict[str, Any] = dict(zip(header, row, strict=False))
            if len(row) > len(header):
                values["_extra_cells"] = row[len(header):]
            yield line, values

    return header, total, rows()


def _json_rows(path: Path) -> tuple[list[str], int, Iterator[tuple[int, dict[str, Any]]]]:
    try:
        data = json.loads(_decode(path.read_bytes()))
    except json.JSONDecodeError as exc:
        raise ImportRefused(f"not JSON: {exc}", errors={"file": [f"json: {exc}"]}) from None
    if not isinstance(data, list):
        raise ImportRefused("a JSON import is an array of objects",
                            errors={"file": ["type: expected an array of objects"]})
    header: list[str] = []
    for item in data:
        if isinstance(item, dict):
            for key in item:
                column = _column(key)
                if column not in header:
                    header.append(column)

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        for position, item in enumerate(data, start=1):
            yield position, ({_column(k): val for k, val in item.items()}
                             if isinstance(item, dict) else {"_not_an_object": item})

    return header, len(data), rows()


def _xlsx_rows(path: Path) -> tuple[list[str], int, Iterator[tuple[int, dict[str, Any]]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportRefused(f"not an .xlsx workbook: {exc}",
                            errors={"file": [f"xlsx: {exc}"]}) from None
    sheet = workbook.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    try:
        header = [_column(c) for c in next(iterator)]
    except StopIteration:
        workbook.close()
        raise ImportRefused("the sheet is empty", errors={"file": ["required: a header row"]})
    while header and not header[-1]:
        header.pop()
    total = max((sheet.max_row or 1) - 1, 0)

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            for number, row in enumerate(iterator, start=2):
                if row is None or all(c is None or (isinstance(c, str) and not c.strip())
                                      for c in row):
                    continue
                yield number, {h: _cell(c) for h, c in zip(header, row, strict=False) if h}
        finally:
            workbook.close()

    return header, total, rows()


def read_rows(path: Path) -> tuple[list[str], int, Iterator[tuple[int, dict[str, Any]]]]:
    """``(columns, estimated row count, rows)`` of a .csv, .json or .xlsx file; rows are
    ``(row number, {column: value})``. Raises :class:`ImportRefused`."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_rows(path)
    if suffix == ".json":
        return _json_rows(path)
    if suffix == ".xlsx":
        return _xlsx_rows(path)
    raise ImportRefused(f"unsupported file type {suffix or '(none)'}",
                        errors={"file": [f"format: one of {', '.join(FORMATS)}"]})


# ------------------------------------------------------------------------- importing


def _row_errors(row: int, doc_no: str, errors: dict[str, list[str]]) -> list[RowError]:
    out = []
    for name, messages in errors.items():
        for message in messages:
            rule, text = records.split_rule(message)
            out.append(RowError(row, doc_no, name, rule, text))
    return out


def write_report(path: Path, errors: Sequence[RowError]) -> None:
    """The error report: UTF-8 with BOM (opens in spreadsheet programs), one line per
    invalid field. Values are not repeated in it (they may be personal data)."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REPORT_COLUMNS)
        for error in errors:
            writer.writerow((error.row, error.doc_no, error.field, error.rule, error.message))


def _load_row(values: dict[str, Any], kind: str, severity: str | None,
              columns: frozenset[str]) -> dict[str, Any]:
    if "_not_an_object" in values:
        raise RuleViolation("not an object", errors={"_schema": ["type: each item is an object"]})
    if "_extra_cells" in values:
        raise RuleViolation("extra cells", errors={"_row": [
            "columns: the row has more cells than the header"]})
    if severity and not values.get("severity"):
        values = {**values, "severity": severity}
    return records.load_record(values, kind=kind, columns=columns)


def import_records(principal: Principal, path: Path, *, department: str | None = None,
                   kind: str | None = None, severity: str | None = None,
                   batch_size: int = DEFAULT_BATCH,
                   progress: Callable[[int], None] | None = None,
                   started: Callable[[int], None] | None = None,
                   today: dt.date | None = None) -> ImportSummary:
    """Import the records of ``path`` as ``department`` (default: the principal's).

    ``severity`` is the default for rows without one. ``started(total)`` is called
    once the row count is known and ``progress(n)`` after every ``n`` rows handled.
    Returns the summary (the error report, if any row failed, is written beside
    the file). Raises :class:`ImportRefused` before storing anything when the file
    cannot be read, and :class:`ImportAborted` when a batch cannot be written.
    """
    path = Path(path)
    department = department or principal.department
    if department != principal.department and not principal.city_wide:
        raise RuleViolation("only the credit office may import for another department",
                            errors={"department": ["must be your own department"]})
    if not Department.objects(code=department).first():
        raise NotFound(f"no department {department}",
                       errors={"department": ["unknown department"]})
    if kind not in (None, "licence", "penalty"):
        raise RuleViolation(f"unknown kind {kind}", errors={"kind": ["one_of: licence, penalty"]})
    if severity is not None:
        severity = records.SEVERITY_ALIASES.get(severity, severity)
        if severity not in records.SEVERITIES:
            raise RuleViolation(f"unknown severity {severity}",
                                errors={"severity": ["one_of: minor, general, serious"]})
    header, total, rows = read_rows(path)
    kind = _check_header(header, kind, severity)
    columns = frozenset(header) | ({"severity"} if severity else frozenset())
    if started:
        started(total)
    summary = ImportSummary(path=path, kind=kind, department=department)
    report = report_path_for(path)
    calendar = current_calendar()
    day = today or publicity.today_local()
    doc_key = "XK_WSH" if kind == "licence" else "CF_WSH"

    def store(batch: list[dict[str, Any]], span: tuple[int, int]) -> list[records.Outcome]:
        return records.store_batch(principal, batch, source_department=department,
                                   calendar=calendar, today=day, lookup_first=False,
                                   batch_audit={"source": "import", "file": path.name,
                                                "rows": list(span)})

    def collect(future: Future[list[records.Outcome]], span: tuple[int, int],
                batch_rows: list[tuple[int, str]]) -> None:
        try:
            outcomes = future.result()
        except BaseException as exc:
            _finish(summary, report)
            raise ImportAborted(summary, span, exc) from exc
        for outcome in outcomes:
            row, doc_no = batch_rows[outcome.index]
            if outcome.outcome == "failed":
                summary.failed += 1
                summary.errors.extend(_row_errors(row, doc_no, outcome.errors))
            else:
                setattr(summary, outcome.outcome, getattr(summary, outcome.outcome) + 1)
        summary.committed.append(span)
        if progress:
            progress(len(batch_rows))

    # One writer thread: while it stores a batch, this thread reads and validates the
    # next one (the database server works while Python validates).
    pending: tuple[Future[list[records.Outcome]], tuple[int, int],
                   list[tuple[int, str]]] | None = None
    batch: list[dict[str, Any]] = []
    batch_rows: list[tuple[int, str]] = []
    invalid_since_progress = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer") as writer:
        try:
            for row, values in rows:
                summary.rows += 1
                doc_no = str(values.get(doc_key) or "").strip()
                try:
                    batch.append(_load_row(values, kind, severity, columns))
                    batch_rows.append((row, doc_no))
                except RuleViolation as exc:
                    summary.failed += 1
                    summary.errors.extend(_row_errors(row, doc_no, exc.errors))
                    invalid_since_progress += 1
                    if progress and invalid_since_progress == 100:
                        progress(invalid_since_progress)
                        invalid_since_progress = 0
                if len(batch) >= batch_size:
                    if pending:
                        collect(*pending)
                    span = (batch_rows[0][0], batch_rows[-1][0])
                    pending = (writer.submit(store, batch, span), span, batch_rows)
                    batch, batch_rows = [], []
            if pending:
                collect(*pending)
                pending = None
            if batch:
                span = (batch_rows[0][0], batch_rows[-1][0])
                collect(writer.submit(store, batch, span), span, batch_rows)
        except ImportAborted:
            raise
        except BaseException as exc:  # interrupted: say exactly what is stored
            unsettled = None
            if pending:
                try:
                    collect(*pending)
                except ImportAborted as aborted:
                    unsettled = aborted.pending
            _finish(summary, report)
            raise ImportAborted(summary, unsettled, exc) from exc
    if progress and invalid_since_progress:
        progress(invalid_since_progress)
    _finish(summary, report)
    return summary


def _finish(summary: ImportSummary, report: Path) -> None:
    summary.errors.sort(key=lambda e: e.row)
    if summary.errors:
        write_report(report, summary.errors)
        summary.report = report
    elif report.exists():
        report.unlink()  # an earlier run's report would now be wrong

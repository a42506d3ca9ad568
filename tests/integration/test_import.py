"""Bulk import of 双公示 files (CSV in UTF-8 with or without BOM or GB18030, JSON,
XLSX): valid rows stored in batches even when others fail, one line per invalid
field in the error report beside the file, refusal before storing anything when
the file cannot be read, and an abort that says exactly which rows were stored."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from creditcase.cli import main
from creditcase.core import ids, importer, publicity, records
from creditcase.core.audit import AuditEvent
from creditcase.core.errors import RuleViolation
from creditcase.core.outbox import OutboxEntry
from creditcase.core.records import CreditRecord

TODAY = dt.date(2026, 11, 26)
COMPANY = ids.make_uscc("91410481MA40K1Y37")
AUTHORITY = ids.make_uscc("11410481001122339")
PERSON = ids.make_id_number("41048119850312003")
COLUMNS = ["CF_XDR_MC", "CF_XDR_LB", "CF_XDR_SHXYM", "CF_FRDB", "CF_XDR_ZJLX", "CF_XDR_ZJHM",
           "CF_WSH", "CF_WFXW", "CF_SY", "CF_YJ", "CF_CFLB", "CF_NR", "CF_NR_FK", "CF_JDRQ",
           "CF_CFJG", "CF_CFJGDM", "CF_SJLY", "CF_SJLYDM", "severity"]


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(publicity, "today_local", lambda: TODAY)


def row(n: int, **changes: Any) -> dict[str, Any]:
    values = {"CF_XDR_MC": "舞钢市恒信建材有限公司", "CF_XDR_LB": "法人及非法人组织",
              "CF_XDR_SHXYM": COMPANY, "CF_FRDB": "李某", "CF_XDR_ZJLX": "", "CF_XDR_ZJHM": "",
              "CF_WSH": f"舞市监罚〔2026〕{n}号", "CF_WFXW": "销售不合格建材", "CF_SY": "抽检不合格",
              "CF_YJ": "《产品质量法》第四十九条", "CF_CFLB": "罚款", "CF_NR": "罚款人民币贰仟元",
              "CF_NR_FK": "0.2", "CF_JDRQ": "2026-11-20", "CF_CFJG": "舞钢市市场监督管理局",
              "CF_CFJGDM": AUTHORITY, "CF_SJLY": "舞钢市市场监督管理局", "CF_SJLYDM": AUTHORITY,
              "severity": "一般"}
    values.update(changes)
    return values


def mixed_rows() -> list[dict[str, Any]]:
    """Rows 2-7 of a file: 4 valid, 2 invalid (row 3 two fields, row 6 one field)."""
    return [row(1),
            row(2, CF_JDRQ="2026-02-30", CF_XDR_SHXYM="91410481MA40K1Y3ZZ"),
            row(3, CF_XDR_MC="王某某", CF_XDR_LB="自然人", CF_XDR_SHXYM="00000000000000000X",
                CF_FRDB="", CF_XDR_ZJLX="身份证", CF_XDR_ZJHM=PERSON),
            row(4, severity="严重"),
            row(5, CF_NR_FK=""),
            row(6, CF_CFLB="警告", CF_NR_FK="", severity="轻微")]


def write_csv(path: Path, rows: list[dict[str, Any]], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_report(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def check_mixed_result(summary: importer.ImportSummary, path: Path, first_row: int = 2) -> None:
    assert (summary.rows, summary.created, summary.updated, summary.unchanged, summary.failed) \
        == (6, 4, 0, 0, 2)
    assert summary.report == path.with_name(f"{path.stem}.errors.csv")
    report = read_report(summary.report)
    assert list(report[0]) == ["row", "doc_no", "field", "rule", "message"]
    assert sorted((r["row"], r["doc_no"], r["field"], r["rule"]) for r in report) == [
        (str(first_row + 1), "舞市监罚〔2026〕2号", "CF_JDRQ", "date"),
        (str(first_row + 1), "舞市监罚〔2026〕2号", "CF_XDR_SHXYM", "charset"),
        (str(first_row + 4), "舞市监罚〔2026〕5号", "CF_NR_FK", "required"),
    ]
    by_row = {(r["row"], r["field"]): r for r in report}
    assert by_row[(str(first_row + 1), "CF_JDRQ")]["message"].startswith("'2026-02-30' is not a date")
    assert by_row[(str(first_row + 4), "CF_NR_FK")]["message"] == "required when 处罚类别 includes 罚款"
    assert PERSON not in summary.report.read_text(encoding="utf-8-sig")
    stored = {r.doc_no: r for r in CreditRecord.objects}
    assert set(stored) == {"舞市监罚〔2026〕1号", "舞市监罚〔2026〕3号", "舞市监罚〔2026〕4号",
                           "舞市监罚〔2026〕6号"}
    assert stored["舞市监罚〔2026〕3号"].subject_code == PERSON
    assert stored["舞市监罚〔2026〕4号"].severity == "serious"
    assert stored["舞市监罚〔2026〕6号"].publicity_state == "not_applicable"  # 轻微
    assert stored["舞市监罚〔2026〕1号"].publicity_state == "published"
    assert OutboxEntry.objects(routing_key="record.created").count() == 4
    batches = list(AuditEvent.objects(action="record.imported", object_type="CreditRecordBatch"))
    assert {b.detail["file"] for b in batches} == {path.name}
    assert sum(b.detail["created"] for b in batches) == 4
    assert sorted(r["doc_no"] for b in batches for r in b.detail["records"]) == sorted(stored)
    assert AuditEvent.objects(action="record.created").count() == 0


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_with_valid_and_invalid_rows(city, tmp_path, encoding):
    path = write_csv(tmp_path / "penalties.csv", mixed_rows(), encoding)
    summary = importer.import_records(city.provider, path, batch_size=2)
    check_mixed_result(summary, path)
    assert summary.committed_text() == "2–7"


def test_json_array(city, tmp_path):
    path = tmp_path / "penalties.json"
    items = [{k: v for k, v in r.items() if v != ""} for r in mixed_rows()]
    items[0]["CF_NR_FK"] = 0.2  # numbers are fine in JSON
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    summary = importer.import_records(city.provider, path)
    check_mixed_result(summary, path, first_row=1)


def test_xlsx_sheet_with_typed_cells(city, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(COLUMNS)
    for values in mixed_rows():
        cells = [values[c] if values[c] != "" else None for c in COLUMNS]
        cells[COLUMNS.index("CF_JDRQ")] = (dt.datetime(2026, 11, 20) if values["CF_JDRQ"] ==
                                           "2026-11-20" else values["CF_JDRQ"])
        if values["CF_NR_FK"]:
            cells[COLUMNS.index("CF_NR_FK")] = float(values["CF_NR_FK"])
        sheet.append(cells)
    sheet.append([None] * len(COLUMNS))  # trailing empty rows are not rows
    path = tmp_path / "penalties.xlsx"
    book.save(path)
    summary = importer.import_records(city.provider, path)
    check_mixed_result(summary, path)
    assert CreditRecord.objects.get(doc_no="舞市监罚〔2026〕1号").fields["CF_NR_FK"] == "0.2"


def test_importing_again_changes_nothing_and_a_corrected_file_updates(city, tmp_path):
    path = write_csv(tmp_path / "a.csv", [row(1), row(2)])
    assert importer.import_records(city.provider, path).created == 2
    again = importer.import_records(city.provider, path)
    assert (again.created, again.unchanged, again.failed) == (0, 2, 0) and again.report is None
    assert OutboxEntry.objects.count() == 2
    fixed = write_csv(tmp_path / "b.csv", [row(1), row(2, CF_NR="罚款人民币叁仟元"), row(2)])
    summary = importer.import_records(city.provider, fixed)
    # row 4 repeats row 3's number with the old content: applied after it, as a correction
    assert (summary.created, summary.updated, summary.unchanged) == (0, 2, 1)
    record = CreditRecord.objects.get(doc_no="舞市监罚〔2026〕2号")
    assert record.revision == 3 and record.content == "罚款人民币贰仟元"
    assert OutboxEntry.objects(routing_key="record.updated").count() == 2


def test_an_earlier_report_is_removed_when_no_row_fails(city, tmp_path):
    path = write_csv(tmp_path / "p.csv", [row(1), row(2, CF_JDRQ="x")])
    assert importer.import_records(city.provider, path).report.exists()
    write_csv(path, [row(1), row(2)])
    summary = importer.import_records(city.provider, path)
    assert summary.report is None and not importer.report_path_for(path).exists()


def test_default_severity_and_department_rules(city, tmp_path):
    path = write_csv(tmp_path / "p.csv", [row(1, severity=""), row(2, severity="轻微")])
    summary = importer.import_records(city.provider, path, severity="serious")
    assert summary.created == 2
    assert {r.doc_no: r.severity for r in CreditRecord.objects} == {
        "舞市监罚〔2026〕1号": "serious", "舞市监罚〔2026〕2号": "minor"}
    with pytest.raises(RuleViolation):
        importer.import_records(city.provider, path, department="410481-T2")
    office = importer.import_records(city.credit_office, path, department="410481-T2")
    assert (office.created, office.failed, office.department) == (1, 1, "410481-T2")
    assert [(e.row, e.field, e.rule) for e in office.errors] == [(2, "severity", "required")]
    with pytest.raises(records.NotFound):
        importer.import_records(city.credit_office, path, department="NOPE")


@pytest.mark.parametrize("content,fragment", [
    ("CF_WSH,CF_XDR_MC,序号\n1,2,3\n", "unknown_field"),
    ("CF_WSH,XK_WSH\n1,2\n", "form"),
    ("CF_WSH,CF_WSH\n1,2\n", "duplicate"),
    ("name,value\n1,2\n", "required"),
])
def test_a_file_that_cannot_be_imported_is_refused_before_storing(city, tmp_path, content,
                                                                  fragment):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(importer.ImportRefused) as refused:
        importer.import_records(city.provider, path)
    assert fragment in json.dumps(refused.value.errors)
    assert CreditRecord.objects.count() == 0


def test_required_columns(city, tmp_path):
    columns = [c for c in COLUMNS if c not in ("severity", "CF_WSH")]
    path = tmp_path / "p.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerow(row(1))
    with pytest.raises(importer.ImportRefused) as refused:
        importer.import_records(city.provider, path, severity="general")
    assert refused.value.errors == {"header": ["required: the columns CF_WSH are missing"]}
    columns.append("CF_WSH")
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerow(row(1))
    with pytest.raises(importer.ImportRefused) as refused:
        importer.import_records(city.provider, path)
    assert "--severity" in refused.value.errors["header"][0]
    assert importer.import_records(city.provider, path, severity="general").created == 1


def test_unreadable_files_are_refused(city, tmp_path):
    for name, data in [("x.txt", b"CF_WSH\n1\n"), ("x.json", b"{\"a\": 1}"), ("y.json", b"[1,"),
                       ("x.xlsx", b"not a workbook"), ("x.csv", b"\xff\xfe\xfa\xfb\x00")]:
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(importer.ImportRefused):
            importer.import_records(city.provider, path)
    with pytest.raises(importer.ImportRefused):
        importer.import_records(city.provider, tmp_path / "x.csv", kind="licence")


def test_rows_with_extra_cells_or_non_objects_fail_alone(city, tmp_path):
    path = tmp_path / "p.csv"
    header = ",".join(COLUMNS)
    good = ",".join(str(row(1)[c]) for c in COLUMNS)
    extra = ",".join(str(row(2)[c]) for c in COLUMNS) + ",surplus"
    path.write_text(f"{header}\n{good}\n\n{extra}\n", encoding="utf-8")
    summary = importer.import_records(city.provider, path)
    assert (summary.created, summary.failed) == (1, 1)
    assert [(e.row, e.field, e.rule) for e in summary.errors] == [(4, "_row", "columns")]
    json_path = tmp_path / "p.json"
    json_path.write_text(json.dumps([row(3), "text"], ensure_ascii=False), encoding="utf-8")
    summary = importer.import_records(city.provider, json_path)
    assert (summary.created, summary.failed) == (1, 1)
    assert [(e.row, e.field) for e in summary.errors] == [(2, "_schema")]


def test_a_storage_failure_stops_the_import_and_says_which_rows_were_stored(city, tmp_path,
                                                                          monkeypatch):
    path = write_csv(tmp_path / "p.csv", [row(n) for n in range(1, 8)] + [row(8, CF_JDRQ="x")])
    real = records.store_batch
    calls = []

    def failing(*args: Any, **kwargs: Any):
        calls.append(1)
        if len(calls) == 3:
            raise records.Conflict("the database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(records, "store_batch", failing)
    with pytest.raises(importer.ImportAborted) as aborted:
        importer.import_records(city.provider, path, batch_size=2)
    message = str(aborted.value)
    assert "rows 2–5 (4 stored, 0 unchanged)" in message
    assert "the batch of rows 6–7 was not stored" in message
    assert "the database went away" in message
    assert aborted.value.summary.committed == [(2, 3), (4, 5)]
    assert CreditRecord.objects.count() == 4


# -- the command ---------------------------------------------------------------------------------

@pytest.fixture
def run(db, settings, monkeypatch):
    monkeypatch.setenv("CREDITCASE_MONGODB_URI", settings.mongodb_uri)
    monkeypatch.setenv("CREDITCASE_MONGODB_DB", settings.mongodb_db)
    monkeypatch.setenv("CREDITCASE_DATA_DIR", str(settings.data_dir))

    def invoke(*args: str):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return invoke


def test_import_command(city, run, tmp_path):
    path = write_csv(tmp_path / "penalties.csv", mixed_rows())
    result = run("import", "records", str(path), "--by", "provider", "--quiet")
    assert result.exit_code == 1, result.output
    report = path.with_name("penalties.errors.csv")
    assert result.output.strip() == (
        f"stored 4 (created 4, updated 0), unchanged 0, failed 2 of 6 rows; error report: {report}")
    again = run("import", "records", str(path), "--by", "provider", "--kind", "penalty")
    assert again.exit_code == 1 and "unchanged 4, failed 2" in again.output
    ok = write_csv(tmp_path / "ok.csv", [row(9)])
    result = run("import", "records", str(ok), "--department", "410481-T2")
    assert result.exit_code == 0 and "error report: none" in result.output
    assert CreditRecord.objects.get(doc_no="舞市监罚〔2026〕9号").source_department == "410481-T2"


def test_import_command_refusals(city, run, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("CF_WSH,备注\n1,2\n", encoding="utf-8")
    result = run("import", "records", str(path), "--by", "provider")
    assert result.exit_code == 2 and "refused, nothing stored" in result.output
    assert run("import", "records", str(path)).exit_code == 1  # neither --by nor --department
    assert run("import", "records", str(path), "--by", "handler").exit_code == 1


def test_publicity_sweep_command(city, run):
    records.store_batch(city.provider, [records.load_record(
        {**row(1), "publish": "否"})], today=TODAY)
    result = run("publicity", "sweep", "--today", "2026-12-02")
    assert result.exit_code == 0 and result.output.strip() == "overdue 1, ended 0"

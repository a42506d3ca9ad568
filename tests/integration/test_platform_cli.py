"""``creditcase platform``: list expiry, overdue steps, regrading and the measure
catalogue from the command line, against the test database."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from creditcase.cli import main
from creditcase.core import grades, ids, lists
from creditcase.core import objections as obj
from creditcase.core.lists import ListEntry
from creditcase.core.records import push_record

SUBJECT = ids.make_uscc("91410481MA40K1Y37")


@pytest.fixture
def run(city, settings, monkeypatch):
    monkeypatch.setenv("CREDITCASE_MONGODB_URI", settings.mongodb_uri)
    monkeypatch.setenv("CREDITCASE_MONGODB_DB", settings.mongodb_db)
    monkeypatch.setenv("CREDITCASE_DATA_DIR", str(settings.data_dir))
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


def test_sweep_expires_entries_once(run, city):
    entry = lists.add_entry(city.credit_office, list_type="SXBZXR", subject_code=SUBJECT,
                            subject_name="舞钢市恒信建材有限公司", basis_doc_no="(2024)豫0481执1号",
                            listed_on=dt.date(2024, 1, 5))
    first = run("platform", "sweep", "--today", "2026-11-26")
    assert first.exit_code == 0 and "1 list entry expired" in first.output
    assert ListEntry.objects.get(pk=entry.pk).removal_reason == "expired"
    assert "0 list entries expired" in run("platform", "sweep", "--today", "2026-11-26").output


def test_overdue_lists_late_steps_and_fails_for_monitoring(run, city):
    record, _ = push_record(city.provider, {
        "subject_code": SUBJECT, "subject_name": "舞钢市恒信建材有限公司", "kind": "penalty",
        "severity": "general", "title": "销售不合格建材", "doc_no": "舞市监罚〔2026〕15号",
        "decision_date": dt.date(2026, 9, 1)})
    filed = obj.file_objection(None, {"name": "舞钢市恒信建材有限公司", "code": SUBJECT,
                                      "contact": "13800000000", "record_id": str(record.pk),
                                      "grounds": "处罚金额有误"}, on=dt.date(2026, 9, 30))
    assert run("platform", "overdue", "--today", "2026-10-09").exit_code == 0
    late = run("platform", "overdue", "--today", "2026-10-12", "--json")
    assert late.exit_code == 1
    assert json.loads(late.output) == [{"kind": "objection", "number": filed.number,
                                        "state": "SUBMITTED", "due": "2026-10-09",
                                        "department": "410481-T1"}]


def test_regrade_and_measures(run, city):
    push_record(city.provider, {
        "subject_code": SUBJECT, "subject_name": "舞钢市恒信建材有限公司", "kind": "penalty",
        "severity": "serious", "title": "销售不合格建材", "doc_no": "舞市监罚〔2026〕16号",
        "decision_date": dt.date(2026, 9, 1)})
    grades.GradeResult.objects(subject_code=SUBJECT).delete()  # as before grades were stored
    result = run("platform", "regrade", SUBJECT)
    assert result.exit_code == 0 and "A 85" not in result.output and "B 85" in result.output
    assert grades.stored(SUBJECT).score == 85
    assert run("platform", "regrade").exit_code != 0
    assert run("platform", "regrade", "not-a-code").exit_code != 0
    assert "1 grade(s) recomputed" in run("platform", "regrade", "--all").output

    lists.create_measure(city.credit_office, {
        "code": "TEST-XZ", "kind": "PUNISH", "binding": "DISCRETIONARY", "effect": "review",
        "text_zh": "测试草案", "domains": ["procurement"], "triggers": ["SXBZXR"]})
    catalogue = run("platform", "measures", "--domain", "procurement").output
    assert any(line.startswith("TEST-XZ") and "draft" in line for line in catalogue.splitlines())
    assert "ZFCG-JZ      enforceable" in catalogue and "ZTB-XZ" not in catalogue

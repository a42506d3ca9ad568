"""Credit commitments (domain.md §6.2) tracked to fulfilled or breached, a breach
becoming a credit record that raises hits and measures, and self-declared
information stored as a record."""

from __future__ import annotations

import datetime as dt

import pytest

from creditcase.core import commitments as com
from creditcase.core import grades, ids
from creditcase.core.checks import RecordsChannel, SubjectRef, match_measures
from creditcase.core.errors import Conflict, NotFound, PermissionDenied, RuleViolation
from creditcase.core.records import CreditRecord

SUBJECT = ids.make_uscc("91410481MA40K1Y37")
NAME = "舞钢市恒信建材有限公司"
SIGNED = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


def promise(city, principal=None, **changes) -> com.Commitment:
    values = {"subject_code": SUBJECT, "subject_name": NAME, "type": "审批替代型",
              "matter_code": "410481-XK-0012", "matter_name": "建筑工程施工许可",
              "text_version": "证明事项告知承诺书（2025版）", "signed_at": SIGNED, "public": True,
              "due_items": [{"description": "补交安全生产许可证", "due_date": dt.date(2026, 4, 30)},
                            {"description": "补交施工图审查合格书", "due_date": dt.date(2026, 5, 31)}]}
    values.update(changes)
    return com.make_commitment(principal or city.handler, values)


def test_a_commitment_is_fulfilled_when_every_due_item_is_delivered(city):
    made = promise(city)
    assert (made.status, made.type, made.department) == ("PENDING", "APPROVAL_SUBSTITUTE",
                                                         "410481-T1")
    first, second = made.due_items
    assert [c.pk for c in com.overdue(city.handler, dt.date(2026, 5, 1))] == [made.pk]
    com.fulfil_item(city.handler, str(made.pk), first.item_id, "许可证复印件已提交",
                    on=dt.date(2026, 4, 20))
    assert com.overdue(city.handler, dt.date(2026, 5, 1)) == []
    with pytest.raises(Conflict):
        com.fulfil_item(city.handler, str(made.pk), first.item_id, "again")
    with pytest.raises(RuleViolation) as open_items:
        com.verify(city.handler, str(made.pk), "FULFILLED", "")
    assert open_items.value.errors["due_items"] == ["not fulfilled: 补交施工图审查合格书"]
    com.fulfil_item(city.handler, str(made.pk), second.item_id, "审查合格书已提交")
    done = com.verify(city.reviewer, str(made.pk), "FULFILLED", "按期履约")
    assert (done.status, done.verified_by, done.breach_record_id) == ("FULFILLED", "reviewer", None)
    with pytest.raises(Conflict):
        com.verify(city.handler, str(made.pk), "BREACHED", "x", severity="general")
    assert CreditRecord.objects.count() == 0


def test_a_breach_becomes_a_credit_record_that_raises_hits_and_measures(city, host):
    made = promise(city)
    with pytest.raises(RuleViolation) as bad:
        com.verify(city.handler, str(made.pk), "BREACHED", "")
    assert set(bad.value.errors) == {"severity", "note"}
    with pytest.raises(PermissionDenied):
        com.verify(city.other_handler, str(made.pk), "BREACHED", "未补交", severity="serious")
    breached = com.verify(city.handler, str(made.pk), "BREACHED",
                          "逾期未补交施工图审查合格书，经核查承诺内容不实", severity="serious",
                          on=dt.date(2026, 6, 3))
    assert breached.status == "BREACHED" and breached.breach_severity == "serious"
    record = CreditRecord.objects.get(pk=breached.breach_record_id)
    assert (record.kind, record.severity, record.doc_no, record.source_department) == (
        "commitment_breach", "serious", str(made.pk), "410481-T1")
    assert record.decision_date == dt.date(2026, 6, 3) and "建筑工程施工许可" in record.title

    [hit] = RecordsChannel().query(SubjectRef(SUBJECT, NAME, "LEGAL"), dt.date(2026, 6, 4)).hits
    assert hit.code == "RECORD:commitment_breach:serious" and hit.adverse
    measures, _ = match_measures(host.domain("housing"), [hit])
    assert [m.code for m in measures] == ["GGZY-SC"]
    assert grades.stored(SUBJECT).score == 90  # 100 - 10 for a commitment breach


def test_commitments_are_validated(city):
    with pytest.raises(RuleViolation) as bad:
        promise(city, subject_code="x", subject_name=" ", type="口头型", text_version="",
                signed_at="yesterday", due_items=[{"description": "", "due_date": "soon"}])
    assert set(bad.value.errors) == {"subject_code", "subject_name", "type", "text_version",
                                     "signed_at", "due_items.0.description", "due_items.0.due_date"}
    with pytest.raises(RuleViolation) as bad:
        promise(city, matter_code="", due_items=[])
    assert set(bad.value.errors) == {"matter_code", "due_items"}
    with pytest.raises(RuleViolation) as bad:
        promise(city, signed_at=dt.datetime(2099, 1, 1, tzinfo=dt.UTC), type="主动型",
                due_items=[], record_id="0" * 24)
    assert set(bad.value.errors) == {"signed_at", "record_id"}
    with pytest.raises(PermissionDenied):
        promise(city, city.reviewer)
    repair = promise(city, type="REPAIR", matter_code="", due_items=[])
    assert repair.type == "REPAIR" and repair.status == "PENDING"
    with pytest.raises(NotFound):
        com.get_for(city.other_handler, str(repair.pk))
    assert com.get_for(city.credit_office, str(repair.pk)).pk == repair.pk


def test_self_declared_information_is_a_record_stored_once(city):
    values = {"subject_code": SUBJECT, "subject_name": NAME, "title": "取得建筑业企业资质证书",
              "content": "2026年5月取得建筑工程施工总承包二级资质，证书编号D241012345",
              "declared_on": dt.date(2026, 5, 20)}
    record, outcome = com.declare(city.provider, values)
    assert outcome == "created"
    assert (record.kind, record.severity, record.authority) == ("self_declared", None, "自主申报")
    assert record.doc_no.startswith("ZZSB-") and record.source_department == "410481-T1"
    again, outcome = com.declare(city.provider, values)
    assert (again.pk, outcome) == (record.pk, "unchanged")
    with pytest.raises(RuleViolation) as bad:
        com.declare(city.provider, {**values, "content": "", "title": "",
                                    "declared_on": dt.date(2099, 1, 1)})
    assert set(bad.value.errors) == {"content", "title", "declared_on"}
    with pytest.raises(PermissionDenied):
        com.declare(city.reviewer, values)

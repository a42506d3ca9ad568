"""Objections (domain.md §7.1): every transition of the state machine, the
refusals, the working-day due dates across holidays and make-up days, the
disputed mark on the record, and the record events that make open cases
stale."""

from __future__ import annotations

import datetime as dt

import marshmallow as ma
import pytest

from creditcase import hookimpl
from creditcase.core import accounts, grades, ids, lists
from creditcase.core import objections as obj
from creditcase.core.accounts import Principal
from creditcase.core.cases import Case, WorkflowService
from creditcase.core.domains import Domain
from creditcase.core.errors import ConcurrentUpdate, Conflict, NotFound, PermissionDenied, RuleViolation
from creditcase.core.outbox import OutboxEntry
from creditcase.core.plugins import PluginHost
from creditcase.core.records import CreditRecord, push_record
from creditcase.queue.consumers import SubjectEventSchema
from creditcase.testing import run_pending_checks

SUBJECT = ids.make_uscc("91410481MA40K1Y37")
OTHER = ids.make_uscc("91410481MA40K2Y3X")


class Application(ma.Schema):
    purpose = ma.fields.String(required=True)


class Sample(Domain):
    code = "testing"
    name_zh = "测试领域"
    name_en = "Testing"
    application_schema = Application


class Plugin:
    @hookimpl
    def creditcase_register_domains(self):
        return [Sample()]


@pytest.fixture(scope="module")
def host():
    return PluginHost.create(load_entrypoints=False, extra=[Plugin()])


@pytest.fixture
def record(city) -> CreditRecord:
    pushed, _ = push_record(city.provider, {
        "subject_code": SUBJECT, "subject_name": "舞钢市恒信建材有限公司", "kind": "penalty",
        "severity": "general", "title": "销售不合格建材", "doc_no": "舞市监罚〔2026〕15号",
        "decision_date": dt.date(2026, 9, 1), "authority": "舞钢市市场监督管理局",
        "fields": {"CF_CFLB": "罚款"}})
    return pushed


@pytest.fixture
def provider2(city) -> Principal:
    """A data provider of another department than the record's."""
    accounts.create_user("provider2", roles=["data_provider"], department="410481-T2")
    return Principal("provider2", "410481-T2", frozenset({"data_provider"}))


def filing(record: CreditRecord, **changes) -> dict:
    values = {"name": "舞钢市恒信建材有限公司", "code": record.subject_code, "contact": "13800000000",
              "record_id": str(record.pk), "grounds": "处罚决定已被复议机关撤销，请求撤销该记录",
              "requested": "revoke"}
    values.update(changes)
    return values


def file(record: CreditRecord, on: dt.date = dt.date(2026, 9, 30)) -> obj.Objection:
    return obj.file_objection(None, filing(record), on=on)


def record_events(since: int = 0) -> list[dict]:
    entries = list(OutboxEntry.objects(routing_key__startswith="record.").order_by("created_at"))
    return [e.body for e in entries[since:]]


def keys(prefix: str) -> list[str]:
    return [e.routing_key for e in OutboxEntry.objects(routing_key__startswith=prefix)
            .order_by("created_at")]


def test_upheld_with_a_correction_the_record_gets_a_revision_and_open_cases_go_stale(
        city, record, host):
    workflow = WorkflowService(host)
    case = workflow.apply(city.handler, domain="testing", matter="T-1",
                          subject={"code": SUBJECT, "name": "舞钢市恒信建材有限公司"},
                          data={"purpose": "测试"})
    run_pending_checks(workflow)
    assert Case.objects.get(pk=case.pk).state == "checked"
    before = len(record_events())

    filed = file(record, on=dt.date(2026, 9, 30))
    # 2026-10-01..07 are the National Day holiday: 2 working days run to 10-09
    assert (filed.state, filed.due_date, filed.channel) == ("SUBMITTED", dt.date(2026, 10, 9),
                                                            "public")
    assert record.reload().state == "active"  # marked only once accepted
    accepted = obj.accept(city.credit_office, str(filed.pk), on=dt.date(2026, 10, 9))
    # 10-10 is a Saturday make-up working day, 10-11 a Sunday: due Monday 10-12
    assert (accepted.state, accepted.due_date) == ("ACCEPTED", dt.date(2026, 10, 12))
    assert record.reload().state == "disputed"
    checking = obj.start_platform_check(city.credit_office, filed.number, on=dt.date(2026, 10, 10))
    assert (checking.state, checking.due_date) == ("PLATFORM_CHECK", dt.date(2026, 10, 12))
    referred = obj.refer_to_provider(city.credit_office, str(filed.pk), "协查函 2026-17号",
                                     on=dt.date(2026, 10, 12))
    assert (referred.state, referred.due_date) == ("PROVIDER_CHECK", dt.date(2026, 10, 26))
    upheld = obj.uphold(city.provider, str(filed.pk), "corrected", "处罚类别填报有误",
                        corrections={"severity": "minor", "fields": {"CF_CFLB": "警告"}},
                        on=dt.date(2026, 10, 20))
    assert (upheld.state, upheld.outcome, upheld.due_date) == ("UPHELD", "corrected",
                                                               dt.date(2026, 10, 22))
    record.reload()
    assert (record.state, record.revision, record.severity) == ("active", 2, "minor")
    assert record.fields["CF_CFLB"] == "警告" and record.history[0].snapshot["severity"] == "general"
    closed = obj.close(city.credit_office, str(filed.pk), "已电话告知申请人")
    assert closed.state == "CLOSED" and closed.due_date is None
    assert [s.state for s in closed.steps] == ["SUBMITTED", "ACCEPTED", "PLATFORM_CHECK",
                                               "PROVIDER_CHECK", "UPHELD", "CLOSED"]
    assert keys("objection.") == ["objection.submitted", "objection.accepted",
                                  "objection.platform_check", "objection.provider_check",
                                  "objection.upheld", "objection.closed"]

    # the record events the stale marker consumes: each names the subject
    events = record_events(before)
    assert [e["data"]["state"] for e in events] == ["disputed", "disputed", "active"]
    for body in events:
        loaded = SubjectEventSchema().load(body)
        assert loaded["data"]["subject_code"] == SUBJECT
        workflow.subject_changed(loaded["data"]["subject_code"], "test", serious=False)
    assert Case.objects.get(pk=case.pk).state == "stale"


def test_upheld_by_revocation_ends_publicity_and_lifts_founded_entries(city, record):
    entry = lists.add_entry(city.credit_office, list_type="SCJG_YZWF", subject_code=SUBJECT,
                            subject_name="舞钢市恒信建材有限公司", basis_doc_no=record.doc_no,
                            listed_on=dt.date(2026, 9, 5), record_id=str(record.pk))
    assert record.publicity_state == "published"
    filed = file(record)
    obj.accept(city.credit_office, str(filed.pk))
    obj.start_platform_check(city.credit_office, str(filed.pk))
    with pytest.raises(RuleViolation) as bad:
        obj.uphold(city.credit_office, str(filed.pk), "revoked", "平台错误关联主体",
                   corrections={"title": "x"})
    assert "corrections" in bad.value.errors
    upheld = obj.uphold(city.credit_office, str(filed.pk), "revoked", "平台错误关联主体")
    assert upheld.outcome == "revoked"
    record.reload()
    assert (record.state, record.publicity_state) == ("revoked", "ended")
    assert record_events()[-1]["type"] == "cn.creditcase.record.revoked"
    assert entry.reload().removed_at and "异议成立" in entry.removal_reason
    assert grades.stored(SUBJECT).inputs == []


def test_dismissed_objection_lifts_the_disputed_mark(city, record):
    filed = file(record)
    for step in (obj.accept, obj.start_platform_check):
        step(city.credit_office, str(filed.pk))
    obj.refer_to_provider(city.credit_office, str(filed.pk))
    assert record.reload().state == "disputed"
    dismissed = obj.dismiss(city.provider, str(filed.pk), "经核实处罚事实清楚、记录准确",
                            on=dt.date(2026, 9, 24))
    # 9-25..27 off, 9-28 Mon, 9-29 Tue
    assert (dismissed.state, dismissed.due_date) == ("DISMISSED", dt.date(2026, 9, 29))
    assert record.reload().state == "active" and record.revision == 1
    assert obj.close(city.credit_office, str(filed.pk)).state == "CLOSED"


def test_rejected_objection_never_marks_the_record(city, record):
    filed = file(record)
    with pytest.raises(RuleViolation):
        obj.reject(city.credit_office, str(filed.pk), " ")
    rejected = obj.reject(city.credit_office, str(filed.pk), "申请人并非该记录的主体")
    assert rejected.state == "REJECTED" and rejected.decision_reason == "申请人并非该记录的主体"
    assert record.reload().state == "active" and keys("record.") == ["record.created"]
    assert obj.close(city.credit_office, str(filed.pk)).state == "CLOSED"
    # a closed objection leaves room for a new one
    assert file(record).state == "SUBMITTED"


def test_each_step_is_refused_in_the_wrong_state_or_by_the_wrong_actor(city, record, provider2):
    filed = file(record)
    oid = str(filed.pk)
    with pytest.raises(Conflict):
        file(record)  # one open objection per record
    for wrong in (obj.start_platform_check, obj.refer_to_provider, obj.close):
        with pytest.raises(Conflict):
            wrong(city.credit_office, oid)
    with pytest.raises(Conflict):
        obj.dismiss(city.provider, oid, "x")
    with pytest.raises(PermissionDenied):
        obj.accept(city.provider, oid)
    with pytest.raises(ConcurrentUpdate):
        obj.accept(city.credit_office, oid, expected_version=filed.version + 3)
    obj.accept(city.credit_office, oid)
    obj.start_platform_check(city.credit_office, oid)
    with pytest.raises(PermissionDenied):  # the platform step is the credit office's
        obj.uphold(city.provider, oid, "revoked", "x")
    obj.refer_to_provider(city.credit_office, oid)
    with pytest.raises(PermissionDenied):  # the provider step is the source department's
        obj.uphold(city.credit_office, oid, "revoked", "x")
    with pytest.raises(PermissionDenied):
        obj.dismiss(provider2, oid, "x")
    with pytest.raises(PermissionDenied):
        obj.dismiss(city.handler, oid, "x")
    with pytest.raises(RuleViolation) as bad:
        obj.uphold(city.provider, oid, "corrected", "x", corrections={"doc_no": "x",
                                                                      "severity": "huge"})
    assert set(bad.value.errors) == {"corrections.doc_no", "corrections.severity"}
    with pytest.raises(RuleViolation):
        obj.uphold(city.provider, oid, "corrected", "x")  # names no correction
    with pytest.raises(RuleViolation) as bad:  # a penalty keeps a severity
        obj.uphold(city.provider, oid, "corrected", "x", corrections={"severity": None})
    assert set(bad.value.errors) == {"corrections.severity"}
    assert record.reload().state == "disputed" and record.revision == 1


def test_filing_is_validated_and_scoped_to_the_subject(city, record):
    with pytest.raises(RuleViolation) as bad:
        obj.file_objection(None, filing(record, name="", code="91350100M000100Y44",
                                        contact="call me", grounds="no", record_id="x",
                                        requested="burn"))
    assert set(bad.value.errors) == {"name", "code", "contact", "grounds", "record_id",
                                     "requested"}
    with pytest.raises(NotFound):  # someone else's record: as if it did not exist
        obj.file_objection(None, filing(record, code=OTHER))
    with pytest.raises(PermissionDenied):
        obj.file_objection(city.provider, filing(record))
    on_behalf = obj.file_objection(city.credit_office, filing(record, contact="0375-1234567"))
    assert on_behalf.channel == "office" and on_behalf.filed_by == "office"
    assert obj.track(on_behalf.number, SUBJECT).pk == on_behalf.pk
    with pytest.raises(NotFound):
        obj.track(on_behalf.number, OTHER)


def test_a_deadline_in_a_year_without_an_official_calendar_is_unknown(city, record):
    filed = file(record, on=dt.date(2026, 12, 28))
    assert filed.due_date == dt.date(2026, 12, 30) and not filed.due_unknown
    obj.accept(city.credit_office, str(filed.pk), on=dt.date(2026, 12, 29))
    obj.start_platform_check(city.credit_office, str(filed.pk), on=dt.date(2026, 12, 29))
    referred = obj.refer_to_provider(city.credit_office, str(filed.pk), on=dt.date(2026, 12, 29))
    assert referred.due_date is None and referred.due_unknown
    assert obj.overdue(dt.date(2027, 6, 1)) == []  # unknown is never reported as overdue
    assert [o.pk for o in obj.overdue(dt.date(2026, 12, 31))] == []
    late = file(push_record(city.provider, {
        "subject_code": SUBJECT, "subject_name": "舞钢市恒信建材有限公司", "kind": "penalty",
        "severity": "general", "title": "另一处罚", "doc_no": "舞市监罚〔2026〕16号",
        "decision_date": dt.date(2026, 9, 2)})[0], on=dt.date(2026, 12, 1))
    assert [o.pk for o in obj.overdue(dt.date(2026, 12, 4))] == [late.pk]

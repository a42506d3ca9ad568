"""Credit repair (domain.md §7.2, regime from 2026-04-01): every transition, the
minimum-publicity refusal naming its date, the conditions, the working-day due
dates, and the effects of approval (publicity and sharing end, founded list
entries lifted where the list allows it, grade recomputed)."""

from __future__ import annotations

import datetime as dt

import pytest

from creditcase.core import accounts, commitments, grades, ids, lists
from creditcase.core import objections as obj
from creditcase.core import repairs as rep
from creditcase.core.accounts import Principal
from creditcase.core.checks import RecordsChannel, SubjectRef
from creditcase.core.errors import Conflict, NotFound, PermissionDenied, RuleViolation
from creditcase.core.outbox import OutboxEntry
from creditcase.core.records import CreditRecord, push_record

SUBJECT = ids.make_uscc("91410481MA40K1Y37")
NAME = "舞钢市恒信建材有限公司"


def penalty(city, doc_no: str = "舞市监罚〔2026〕15号", decided: dt.date = dt.date(2026, 4, 10),
            kind: str = "penalty", severity: str | None = "general") -> CreditRecord:
    record, _ = push_record(city.provider, {
        "subject_code": SUBJECT, "subject_name": NAME, "kind": kind, "severity": severity,
        "title": "销售不合格建材", "doc_no": doc_no, "decision_date": decided,
        "authority": "舞钢市市场监督管理局"})
    return record


def commitment(city, record: CreditRecord | None = None, **changes) -> commitments.Commitment:
    values = {"subject_code": SUBJECT, "subject_name": NAME, "type": "信用修复型",
              "text_version": "信用修复承诺书（2026版）",
              "signed_at": dt.datetime(2026, 7, 1, 9, tzinfo=dt.UTC), "public": True,
              "record_id": str(record.pk) if record else None}
    values.update(changes)
    return commitments.make_commitment(city.provider, values)


def draft(city, record: CreditRecord, promise: commitments.Commitment | None = None,
          **changes) -> rep.RepairApplication:
    values = {"subject_code": SUBJECT, "record_id": str(record.pk), "applicant_name": "李某",
              "applicant_contact": "13800000000",
              "obligations_evidence": "罚款已于2026-04-20缴清，不合格建材已全部召回销毁",
              "commitment_id": str(promise.pk) if promise else None}
    values.update(changes)
    return rep.draft(city.credit_office, values)


def test_approved_repair_ends_publicity_lifts_entries_and_recomputes_the_grade(city):
    record = penalty(city)
    assert record.publicity_state == "published"
    lifted = lists.add_entry(city.credit_office, list_type="SCJG_YZWF", subject_code=SUBJECT,
                             subject_name=NAME, basis_doc_no="市监严〔2026〕1号",
                             listed_on=dt.date(2026, 4, 20), record_id=str(record.pk))
    kept = lists.add_entry(city.credit_office, list_type="ZFCG_YZWF", subject_code=SUBJECT,
                           subject_name=NAME, basis_doc_no=record.doc_no,
                           listed_on=dt.date(2026, 4, 20))
    before = grades.recompute(SUBJECT)
    assert (before.score, before.grade) == (35, "D")

    app = draft(city, record, commitment(city, record))
    assert (app.state, app.deciding_department) == ("DRAFT", "410481-T1")
    with pytest.raises(RuleViolation) as early:
        rep.submit(city.credit_office, str(app.pk), on=dt.date(2026, 7, 9))
    assert "2026-07-10" in early.value.detail and "2026-07-10" in early.value.errors["record_id"][0]
    submitted = rep.submit(city.credit_office, str(app.pk), on=dt.date(2026, 7, 10))
    assert (submitted.state, submitted.min_period_end, submitted.due_date) == (
        "SUBMITTED", dt.date(2026, 7, 10), dt.date(2026, 7, 14))
    assert submitted.regime == "GBF-2025-22+NDRC-ORDER-2025-36"
    forwarded = rep.forward(city.credit_office, app.number, on=dt.date(2026, 7, 14))
    assert (forwarded.state, forwarded.due_date) == ("FORWARDED", dt.date(2026, 7, 17))
    accepted = rep.accept(city.reviewer, str(app.pk), on=dt.date(2026, 7, 17))
    assert (accepted.state, accepted.due_date) == ("ACCEPTED", dt.date(2026, 7, 31))
    reviewing = rep.start_review(city.reviewer, str(app.pk), on=dt.date(2026, 7, 20))
    assert (reviewing.state, reviewing.due_date) == ("UNDER_REVIEW", dt.date(2026, 7, 31))
    events_before = OutboxEntry.objects(routing_key__startswith="record.").count()

    approved = rep.approve(city.reviewer, str(app.pk), "材料齐全，准予修复", on=dt.date(2026, 7, 22))
    assert (approved.state, approved.due_date) == ("APPROVED", dt.date(2026, 7, 24))
    assert approved.lifted_entries == [str(lifted.pk)] and approved.kept_entries == [str(kept.pk)]
    record.reload()
    assert (record.state, record.publicity_state) == ("repaired", "ended")
    event = OutboxEntry.objects(routing_key="record.updated").order_by("-created_at").first()
    assert OutboxEntry.objects(routing_key__startswith="record.").count() == events_before + 1
    assert event.body["data"]["state"] == "repaired" and event.body["data"]["subject_code"] == SUBJECT
    assert lifted.reload().removal_reason == "信用修复" and kept.reload().removed_at is None
    hits = RecordsChannel().query(SubjectRef(SUBJECT, NAME, "LEGAL"), dt.date(2026, 7, 22)).hits
    assert hits == []  # no longer shared with checks
    after = grades.stored(SUBJECT)
    assert (after.score, after.grade, after.inputs) == (70, "C", ["LIST:black"])

    closed = rep.close(city.credit_office, str(app.pk), "修复决定书已送达")
    assert closed.state == "CLOSED" and closed.due_date is None
    assert [s.state for s in closed.steps] == ["DRAFT", "SUBMITTED", "FORWARDED", "ACCEPTED",
                                               "UNDER_REVIEW", "APPROVED", "CLOSED"]


def test_due_dates_run_in_working_days_across_the_national_day_holiday(city):
    record = penalty(city, decided=dt.date(2026, 6, 1))
    app = draft(city, record, commitment(city))
    submitted = rep.submit(city.credit_office, str(app.pk), on=dt.date(2026, 9, 30))
    assert submitted.due_date == dt.date(2026, 10, 9)  # 10-01..07 off
    forwarded = rep.forward(city.credit_office, str(app.pk), on=dt.date(2026, 10, 9))
    assert forwarded.due_date == dt.date(2026, 10, 13)  # Saturday 10-10 is a make-up day


def test_submission_needs_performed_obligations_and_a_public_repair_commitment(city, provider2):
    record = penalty(city)
    app = draft(city, record, None, obligations_evidence="")
    with pytest.raises(RuleViolation) as bad:
        rep.submit(city.credit_office, str(app.pk), on=dt.date(2026, 8, 1))
    assert set(bad.value.errors) == {"obligations_evidence", "commitment_id"}
    wrong = commitment(city, type="APPROVAL_SUBSTITUTE", matter_code="410481-XK-001",
                       public=False, due_items=[{"description": "补交材料",
                                                 "due_date": dt.date(2026, 8, 1)}])
    rep.update_draft(city.credit_office, str(app.pk), {
        "commitment_id": str(wrong.pk), "obligations_evidence": "罚款已缴清"})
    with pytest.raises(RuleViolation) as bad:
        rep.submit(city.credit_office, str(app.pk), on=dt.date(2026, 8, 1))
    assert len(bad.value.errors["commitment_id"]) == 2  # not 信用修复型, not public
    other_record = penalty(city, "舞市监罚〔2026〕99号")
    breached = commitment(city, other_record)
    commitments.verify(city.provider, str(breached.pk), "BREACHED", "承诺内容不实", severity="general")
    rep.update_draft(city.credit_office, str(app.pk), {"commitment_id": str(breached.pk)})
    with pytest.raises(RuleViolation) as bad:
        rep.submit(city.credit_office, str(app.pk), on=dt.date(2026, 8, 1))
    assert len(bad.value.errors["commitment_id"]) == 2  # breached, for another record
    with pytest.raises(RuleViolation) as bad:
        rep.update_draft(city.credit_office, str(app.pk), {"applicant_contact": "x"})
    assert "applicant_contact" in bad.value.errors
    with pytest.raises(PermissionDenied):  # another department's window
        rep.update_draft(provider2, str(app.pk), {"obligations_evidence": "x"})
    rep.update_draft(city.credit_office, str(app.pk), {"commitment_id": str(commitment(city).pk)})
    assert rep.submit(city.credit_office, str(app.pk), on=dt.date(2026, 8, 1)).state == "SUBMITTED"


def test_drafting_is_refused_for_other_subjects_court_lists_and_duplicates(city):
    record = penalty(city)
    with pytest.raises(NotFound):
        draft(city, record, subject_code=ids.make_uscc("91410481MA40K2Y3X"))
    debtor = penalty(city, "(2026)豫0481执1号", kind="dishonest_debtor", severity=None)
    with pytest.raises(RuleViolation) as bad:
        draft(city, debtor)
    assert "record_id" in bad.value.errors
    draft(city, record)
    with pytest.raises(Conflict):
        draft(city, record)
    with pytest.raises(RuleViolation) as bad:
        rep.draft(city.credit_office, {"subject_code": "x", "record_id": str(record.pk),
                                       "applicant_name": "", "applicant_contact": "none"})
    assert set(bad.value.errors) == {"subject_code", "applicant_name", "applicant_contact"}
    with pytest.raises(PermissionDenied):
        rep.draft(city.reviewer, {"subject_code": SUBJECT, "record_id": str(record.pk)})


@pytest.fixture
def provider2(city) -> Principal:
    accounts.create_user("provider2", roles=["data_provider", "reviewer"], department="410481-T2")
    return Principal("provider2", "410481-T2", frozenset({"data_provider", "reviewer"}))


def submitted(city) -> tuple[CreditRecord, rep.RepairApplication]:
    record = penalty(city)
    app = draft(city, record, commitment(city, record))
    rep.submit(city.credit_office, str(app.pk), on=dt.date(2026, 8, 3))
    return record, rep.forward(city.credit_office, str(app.pk), on=dt.date(2026, 8, 3))


def test_the_deciding_department_decides_and_each_step_needs_its_state(city, provider2):
    record, app = submitted(city)
    aid = str(app.pk)
    with pytest.raises(PermissionDenied):
        rep.accept(provider2, aid)  # not the department that made the finding
    with pytest.raises(PermissionDenied):
        rep.accept(city.credit_office, aid)
    with pytest.raises(PermissionDenied):
        rep.forward(city.provider, aid)
    for wrong in (rep.start_review, rep.submit, rep.forward):
        with pytest.raises(Conflict):
            wrong(city.credit_office if wrong is not rep.start_review else city.reviewer, aid)
    with pytest.raises(Conflict):
        rep.approve(city.reviewer, aid)
    with pytest.raises(Conflict):
        rep.close(city.credit_office, aid)
    rep.accept(city.provider, aid)
    rep.start_review(city.reviewer, aid)
    with pytest.raises(RuleViolation):
        rep.reject(city.reviewer, aid, "")
    rejected = rep.reject(city.reviewer, aid, "违法所得尚未退缴", on=dt.date(2026, 8, 10))
    assert (rejected.state, rejected.decision_reason) == ("REJECTED", "违法所得尚未退缴")
    assert record.reload().state == "active"
    assert rep.close(city.credit_office, aid).state == "CLOSED"


def test_not_accepted_and_an_open_objection_blocks_approval(city):
    record, app = submitted(city)
    refused = rep.not_accept(city.reviewer, str(app.pk), "材料不齐全", on=dt.date(2026, 8, 4))
    assert (refused.state, refused.due_date) == ("NOT_ACCEPTED", dt.date(2026, 8, 6))
    rep.close(city.credit_office, str(app.pk))

    second = draft(city, record, commitment(city, record))
    rep.submit(city.credit_office, str(second.pk), on=dt.date(2026, 8, 5))
    rep.forward(city.credit_office, str(second.pk))
    rep.accept(city.reviewer, str(second.pk))
    rep.start_review(city.reviewer, str(second.pk))
    objection = obj.file_objection(None, {"name": NAME, "code": SUBJECT, "contact": "13800000000",
                                          "record_id": str(record.pk), "grounds": "处罚金额有误"})
    obj.accept(city.credit_office, str(objection.pk))
    with pytest.raises(Conflict, match="objection"):
        rep.approve(city.reviewer, str(second.pk))
    assert record.reload().state == "disputed"

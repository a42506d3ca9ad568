"""Agencies and credit reports: the agency registry with audited status changes
and staff, and report validity (agency in good standing, under one year old,
no major credit event after the issue date) with its invalidation."""

from __future__ import annotations

import datetime as dt

import pytest

from creditcase.core import ids, lists, reports
from creditcase.core.audit import AuditEvent
from creditcase.core.errors import Conflict, PermissionDenied, RuleViolation
from creditcase.core.outbox import OutboxEntry
from creditcase.core.records import push_record
from creditcase.core.reports import CreditReport, report_validity

SUBJECT = ids.make_uscc("91410481MA40K1Y37")
AGENCY = ids.make_uscc("91410100MA44XY7R1")
STAFF_ID = ids.make_id_number("41048119850312003")
FILING = "豫信评备字〔2025〕第008号"


@pytest.fixture
def agency(city):
    return reports.register_agency(city.credit_office, {
        "name": "河南诚信评估有限公司", "uscc": AGENCY, "filing_no": FILING,
        "filing_authority": "中国人民银行河南省分行", "filing_valid_until": dt.date(2030, 12, 31)})


def report(city, number: str = "HNCX-2026-0001", issued: dt.date = dt.date(2026, 5, 10),
           **changes) -> CreditReport:
    values = {"number": number, "subject_code": SUBJECT, "subject_name": "舞钢市恒信建材有限公司",
              "agency_filing_no": FILING, "issue_date": issued, "rating": "AA-",
              "sections": {"基本情况": "正常经营", "综合评价": "信用状况良好"},
              "risk_warnings": ["应收账款占比较高"]}
    values.update(changes)
    return reports.file_report(city.provider, values)


def penalty(city, doc_no: str, decided: dt.date, severity: str = "serious"):
    record, _ = push_record(city.provider, {
        "subject_code": SUBJECT, "subject_name": "舞钢市恒信建材有限公司", "kind": "penalty",
        "severity": severity, "title": "销售不合格建材", "doc_no": doc_no,
        "decision_date": decided, "authority": "舞钢市市场监督管理局"})
    return record


def invalidated() -> list[dict]:
    return [e.body["data"] for e in OutboxEntry.objects(routing_key="report.invalidated")]


def test_a_report_is_usable_only_while_its_agency_is_filed_and_in_good_standing(city, agency):
    filed = report(city)
    on = dt.date(2026, 6, 1)
    assert report_validity(filed, on).valid

    suspended = reports.set_agency_status(city.credit_office, FILING, "suspended", "年度检查未通过",
                                          expected_version=agency.version)
    validity = report_validity(filed, on)
    assert not validity.valid and "suspended" in validity.reasons[0]
    assert not filed.reload().void  # unusable, not voided
    reports.set_agency_status(city.credit_office, str(agency.pk), "filed", "整改完成")
    assert report_validity(filed, on).valid
    reports.set_agency_status(city.credit_office, FILING, "revoked", "出具虚假报告")
    assert "revoked" in report_validity(filed, on).reasons[0]
    with pytest.raises(Conflict):
        reports.set_agency_status(city.credit_office, FILING, "filed", "申请恢复")
    trail = [(a.detail["previous"], a.detail["status"], a.detail["reason"])
             for a in AuditEvent.objects(action="agency.status_changed").order_by("at")]
    assert trail == [("filed", "suspended", "年度检查未通过"), ("suspended", "filed", "整改完成"),
                     ("filed", "revoked", "出具虚假报告")]
    assert suspended.status_changed_at is not None
    with pytest.raises(PermissionDenied):
        reports.set_agency_status(city.provider, FILING, "suspended", "x")


def test_an_expired_filing_makes_reports_unusable(city, agency):
    filed = report(city)
    reports.update_agency(city.credit_office, FILING, {"filing_valid_until": dt.date(2026, 5, 31)},
                          expected_version=agency.version)
    assert report_validity(filed, dt.date(2026, 5, 31)).valid
    assert "filing expired" in report_validity(filed, dt.date(2026, 6, 1)).reasons[0]


def test_a_report_is_valid_for_one_year_from_its_issue_date(city, agency):
    filed = report(city, issued=dt.date(2025, 11, 26))
    assert filed.valid_until == dt.date(2026, 11, 26)
    assert report_validity(filed, dt.date(2026, 11, 25)).valid
    late = report_validity(filed, dt.date(2026, 11, 26))
    assert not late.valid and "older than 1 year" in late.reasons[0]
    leap = report(city, "HNCX-2024-0229", issued=dt.date(2024, 2, 29))
    assert leap.valid_until == dt.date(2025, 2, 28)


def test_a_serious_penalty_after_the_issue_date_voids_the_report_with_an_event(city, agency):
    earlier = report(city, "HNCX-2026-0001", issued=dt.date(2026, 5, 10))
    same_day = report(city, "HNCX-2026-0002", issued=dt.date(2026, 6, 1))
    penalty(city, "舞市监罚〔2026〕3号", dt.date(2026, 6, 1), severity="general")  # not major
    assert invalidated() == []
    penalty(city, "舞市监罚〔2026〕4号", dt.date(2026, 6, 1))
    assert earlier.reload().void and "舞市监罚〔2026〕4号" in earlier.void_reason
    assert not same_day.reload().void  # issued that day: the event is not after it
    [event] = invalidated()
    assert event["report_id"] == str(earlier.pk) and event["subject_code"] == SUBJECT
    validity = report_validity(earlier, dt.date(2026, 6, 2))
    assert not validity.valid and validity.reasons[0].startswith("void: major credit event")


def test_a_black_list_entry_voids_earlier_reports(city, agency):
    filed = report(city)
    lists.add_entry(city.credit_office, list_type="SXBZXR", subject_code=SUBJECT,
                    subject_name="舞钢市恒信建材有限公司", basis_doc_no="(2026)豫0481执7号",
                    listed_on=dt.date(2026, 7, 1))
    assert filed.reload().void and "black-list entry" in filed.void_reason
    assert [e["number"] for e in invalidated()] == ["HNCX-2026-0001"]
    # a red-list entry is no major event
    later = report(city, "HNCX-2026-0009", issued=dt.date(2026, 7, 2))
    lists.add_entry(city.credit_office, list_type="A_TAXPAYER", subject_code=SUBJECT,
                    subject_name="舞钢市恒信建材有限公司", basis_doc_no="A级2026-1",
                    listed_on=dt.date(2026, 7, 3))
    assert not later.reload().void


def test_a_report_filed_after_a_major_event_it_predates_is_void_from_the_start(city, agency):
    penalty(city, "舞市监罚〔2026〕5号", dt.date(2026, 6, 1))
    stale = report(city, issued=dt.date(2026, 5, 10))
    assert stale.void and "舞市监罚〔2026〕5号" in stale.void_reason
    fresh = report(city, "HNCX-2026-0003", issued=dt.date(2026, 6, 5))
    assert not fresh.void and report_validity(fresh, dt.date(2026, 6, 6)).valid


def test_reports_name_the_policy_sections(city, agency):
    with pytest.raises(RuleViolation) as bad:
        report(city, sections={"财务": "x", "基本情况": 3}, rating="AAAA", agency_filing_no="none")
    assert set(bad.value.errors) == {"sections", "rating", "agency_filing_no"}
    filed = report(city)
    assert "网络信用信息" in filed.missing_sections and "基本情况" not in filed.missing_sections
    assert CreditReport.objects.count() == 1


def test_agency_staff_and_credit_records(city, agency):
    staff = reports.add_staff(city.credit_office, FILING, {"name": "张某", "id_number": STAFF_ID,
                                                           "qualification": "信用管理师二级"})
    assert staff.masked_id_number != STAFF_ID and staff.masked_id_number.endswith(STAFF_ID[-4:])
    with pytest.raises(Conflict):
        reports.add_staff(city.credit_office, FILING, {"name": "张某", "id_number": STAFF_ID})
    with pytest.raises(RuleViolation) as bad:
        reports.add_staff(city.credit_office, FILING, {"name": "", "id_number": "110105194912310021"})
    assert set(bad.value.errors) == {"name", "id_number"}
    reports.add_staff_credit_record(city.credit_office, FILING, staff.staff_id, {
        "kind": "warning", "title": "出具报告未履行复核程序", "date": dt.date(2026, 3, 1)})
    reports.add_agency_credit_record(city.credit_office, FILING, {
        "kind": "commendation", "title": "年度优秀信用服务机构", "date": dt.date(2026, 1, 10)})
    with pytest.raises(RuleViolation) as bad:
        reports.add_agency_credit_record(city.credit_office, FILING, {"kind": "gossip", "title": ""})
    assert set(bad.value.errors) == {"kind", "title", "date"}
    stored = reports.get_agency(FILING)
    assert [e.title for e in stored.credit_records] == ["年度优秀信用服务机构"]
    assert stored.staff[0].credit_records[0].kind == "warning"
    audit_actions = {a.action for a in AuditEvent.objects(object_type="Agency")}
    assert {"agency.registered", "agency.staff_added", "agency.staff_credit_recorded",
            "agency.credit_recorded"} <= audit_actions
    assert all(STAFF_ID not in str(a.detail) for a in AuditEvent.objects(object_type="Agency"))

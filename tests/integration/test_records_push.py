"""Pushing credit records: the generic and the national 双公示 forms, single and
bulk, idempotency by source department and document number, corrections as
revisions with events, revocation, publishing later, and every invalid field
reported with its rule (nothing invalid stored)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from creditcase.core import ids, publicity, records
from creditcase.core.accounts import User, issue_token
from creditcase.core.audit import AuditEvent
from creditcase.core.cases import WorkflowService
from creditcase.core.errors import Conflict, NotFound, PermissionDenied, RuleViolation
from creditcase.core.outbox import OutboxEntry
from creditcase.core.records import CreditRecord
from creditcase.core.runtime import Runtime
from creditcase.web import create_app

TODAY = dt.date(2026, 11, 26)
PROBLEM = "application/problem+json"


def org_uscc(prefix: str, body: str) -> str:
    """A USCC whose embedded organisation code (GB 11714) is valid too."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, weights, strict=True))
    check = {10: "X", 11: "0"}.get(11 - total % 11, str(11 - total % 11))
    return ids.make_uscc(prefix + body + check)


COMPANY = org_uscc("91410481", "MA40K1Y3")
SHOP = org_uscc("92410481", "MA4C2D11")
AUTHORITY = org_uscc("11410481", "00112233")
PERSON = ids.make_id_number("41048119850312003")
REPRESENTATIVE = ids.make_id_number("41048119700101001")


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(publicity, "today_local", lambda: TODAY)


def national_penalty(doc_no: str = "舞市监罚〔2026〕101号", **changes: Any) -> dict[str, Any]:
    row = {
        "CF_XDR_MC": "舞钢市恒信建材有限公司", "CF_XDR_LB": "法人及非法人组织",
        "CF_XDR_SHXYM": COMPANY, "CF_FRDB": "李某", "CF_FR_ZJLX": "身份证",
        "CF_FR_ZJHM": REPRESENTATIVE, "CF_WSH": doc_no, "CF_WFXW": "销售不合格建材",
        "CF_SY": "经抽检，当事人销售的钢筋屈服强度不合格。", "CF_YJ": "《产品质量法》第四十九条",
        "CF_CFLB": "警告;罚款", "CF_NR": "警告，罚款人民币贰仟元", "CF_NR_FK": "0.2",
        "CF_JDRQ": "2026-11-20", "CF_CFJG": "舞钢市市场监督管理局", "CF_CFJGDM": AUTHORITY,
        "CF_SJLY": "舞钢市市场监督管理局", "CF_SJLYDM": AUTHORITY, "severity": "一般",
    }
    row.update(changes)
    return {k: v for k, v in row.items() if v is not None}


def national_licence(doc_no: str = "舞市监许〔2026〕7号", **changes: Any) -> dict[str, Any]:
    row = {
        "XK_XDR_MC": "舞钢市恒信建材有限公司", "XK_XDR_LB": "法人及非法人组织",
        "XK_XDR_SHXYM": COMPANY, "XK_FRDB": "李某", "XK_XKWS": "食品经营许可决定书",
        "XK_WSH": doc_no, "XK_XKLB": "普通", "XK_XKZS": "食品经营许可证",
        "XK_XKBH": "JY14104810012345", "XK_NR": "准予食品经营许可", "XK_JDRQ": "2026-03-02",
        "XK_YXQZ": "2026-03-02", "XK_YXQZI": "2031-03-01", "XK_XKJG": "舞钢市市场监督管理局",
        "XK_XKJGDM": AUTHORITY, "XK_ZT": "1", "XK_LYDW": "舞钢市市场监督管理局",
        "XK_LYDWDM": AUTHORITY,
    }
    row.update(changes)
    return {k: v for k, v in row.items() if v is not None}


# -- core ----------------------------------------------------------------------------------------

def test_national_penalty_derives_the_subject_and_publishes(city):
    values = records.load_record(national_penalty())
    assert values["kind"] == "penalty" and values["severity"] == "general"
    record, outcome = records.push_record(city.provider, values)
    assert outcome == "created"
    assert (record.subject_code, record.subject_name, record.subject_kind) == \
        (COMPANY, "舞钢市恒信建材有限公司", "LEGAL")
    assert (record.doc_no, record.decision_date, record.authority) == \
        ("舞市监罚〔2026〕101号", dt.date(2026, 11, 20), "舞钢市市场监督管理局")
    assert record.title == "销售不合格建材" and record.content == "警告，罚款人民币贰仟元"
    assert record.fields["CF_CFLB"] == "警告;罚款" and record.fields["CF_NR_FK"] == "0.2"
    assert record.fields["CF_JDRQ"] == "2026-11-20"
    assert record.source_department == city.department
    assert record.publicity_state == "published" and record.published_late is False
    assert record.publication_due == dt.date(2026, 12, 1)
    assert record.publicity_regime == "GBF-2025-22+NDRC-ORDER-2025-36"
    assert (record.publicity_min_until, record.publicity_until) == \
        (dt.date(2027, 2, 20), dt.date(2027, 11, 20))
    [event] = OutboxEntry.objects
    assert event.routing_key == "record.created"
    assert event.body["data"]["record_id"] == str(record.pk)
    assert event.body["subject"] == f"subject/{COMPANY}"
    assert AuditEvent.objects(action="record.created", object_id=str(record.pk)).count() == 1


def test_natural_person_is_identified_by_the_id_number(city):
    values = records.load_record(national_penalty(
        CF_XDR_MC="王某某", CF_XDR_LB="自然人", CF_XDR_SHXYM="00000000000000000X",
        CF_FRDB=None, CF_FR_ZJLX=None, CF_FR_ZJHM=None, CF_XDR_ZJLX="身份证",
        CF_XDR_ZJHM=PERSON.lower()))
    assert (values["subject_code"], values["subject_kind"]) == (PERSON, "NATURAL")
    assert "CF_XDR_SHXYM" not in values["fields"]  # the placeholder means "absent"


def test_the_same_content_is_unchanged_and_a_correction_is_a_revision(city):
    first, _ = records.push_record(city.provider, records.load_record(national_penalty()))
    again, outcome = records.push_record(city.provider, records.load_record(national_penalty()))
    assert outcome == "unchanged" and again.pk == first.pk and again.revision == 1
    assert OutboxEntry.objects.count() == 1
    assert AuditEvent.objects(action__startswith="record.").count() == 1

    fixed, outcome = records.push_record(city.provider, records.load_record(
        national_penalty(CF_NR="警告，罚款人民币叁仟元", CF_NR_FK="0.3")))
    assert outcome == "updated" and fixed.pk == first.pk
    assert fixed.revision == 2 and fixed.fields["CF_NR_FK"] == "0.3"
    assert [h.revision for h in fixed.history] == [1]
    assert fixed.history[0].snapshot["content"] == "警告，罚款人民币贰仟元"
    assert fixed.publicity_state == "published"
    assert [e.routing_key for e in OutboxEntry.objects.order_by("created_at")] == \
        ["record.created", "record.updated"]
    assert CreditRecord.objects.count() == 1

    # another department's record with the same number is another record
    _, outcome = records.push_record(city.credit_office, records.load_record(national_penalty()),
                                     source_department="410481-T2")
    assert outcome == "created" and CreditRecord.objects.count() == 2


def test_revoking_ends_publication_and_says_so(city):
    records.push_record(city.provider, records.load_record(national_penalty()))
    revoked, outcome = records.push_record(city.provider, records.load_record(
        national_penalty(state="revoked")))
    assert outcome == "updated" and revoked.state == "revoked"
    assert revoked.publicity_state == "ended" and revoked.publicity_ended_at is not None
    assert OutboxEntry.objects.order_by("-created_at").first().routing_key == "record.revoked"


def test_push_for_later_publication_then_publish(city):
    values = records.load_record(national_penalty(publish="否"))
    record, _ = records.push_record(city.provider, values)
    assert record.publicity_state == "due" and record.published_at is None
    published = publicity.publish(city.provider, str(record.pk))
    assert published.publicity_state == "published" and published.published_late is False
    with pytest.raises(Conflict):
        publicity.publish(city.provider, str(record.pk))
    with pytest.raises(PermissionDenied):
        publicity.publish(city.other_handler, str(record.pk))
    with pytest.raises(NotFound):
        publicity.publish(city.provider, "5f0000000000000000000000")

    late, _ = records.push_record(city.provider, records.load_record(
        national_penalty("罚〔2026〕3号", CF_JDRQ="2026-05-06", publish=False)))
    assert late.publicity_state == "overdue" and late.publication_due == dt.date(2026, 5, 14)
    late = publicity.publish(city.provider, str(late.pk))
    assert late.published_late is True

    on_time, _ = records.push_record(city.provider, records.load_record(
        national_penalty("罚〔2026〕4号", CF_JDRQ="2026-05-06")))
    assert on_time.published_late is True  # pushed (and so published) after the deadline


def test_minor_penalty_is_not_published_unless_necessary(city):
    minor, _ = records.push_record(city.provider, records.load_record(
        national_penalty("罚〔2026〕1号", severity="minor", CF_CFLB="警告", CF_NR_FK=None)))
    assert minor.publicity_state == "not_applicable"
    assert minor.publicity_regime == "GBF-2025-22+NDRC-ORDER-2025-36"
    assert minor.publicity_until is None and minor.publication_due == dt.date(2026, 12, 1)
    necessary, _ = records.push_record(city.provider, records.load_record(
        national_penalty("罚〔2026〕2号", severity="minor", publish_minor="是", CF_CFLB="警告",
                         CF_NR_FK=None, CF_JDRQ="2026-10-09")))
    assert necessary.publicity_state == "published"
    assert necessary.publicity_until == dt.date(2027, 1, 9)


def test_licence_is_published_until_it_expires_or_becomes_invalid(city):
    licence, _ = records.push_record(city.provider, records.load_record(national_licence()))
    assert licence.kind == "licence" and licence.title == "食品经营许可决定书"
    assert licence.effective_until == dt.date(2031, 3, 1)
    assert (licence.publicity_regime, licence.publicity_until) == ("XK-VALIDITY",
                                                                   dt.date(2031, 3, 1))
    assert licence.publicity_state == "published" and licence.severity is None
    invalid, outcome = records.push_record(city.provider, records.load_record(
        national_licence(XK_ZT="无效")))
    assert outcome == "updated" and invalid.fields["XK_ZT"] == "2"
    assert invalid.publicity_state == "ended"


def test_a_serious_penalty_voids_earlier_credit_reports(city):
    from creditcase.core.reports import CreditReport

    CreditReport(number="R-1", subject_code=COMPANY, subject_name="x", agency_filing_no="F",
                 issue_date=dt.date(2026, 1, 5), rating="AA").save()
    CreditReport(number="R-2", subject_code=COMPANY, subject_name="x", agency_filing_no="F",
                 issue_date=dt.date(2026, 11, 23), rating="AA").save()
    records.push_record(city.provider, records.load_record(national_penalty(severity="严重")))
    assert {r.number: r.void for r in CreditReport.objects} == {"R-1": True, "R-2": False}
    assert OutboxEntry.objects(routing_key="report.invalidated").count() == 1


def errors_of(raw: Any, **kwargs: Any) -> dict[str, list[str]]:
    with pytest.raises(RuleViolation) as caught:
        records.load_record(raw, **kwargs)
    return caught.value.errors


def rules(errors: dict[str, list[str]]) -> dict[str, set[str]]:
    return {field: {records.split_rule(m)[0] for m in messages}
            for field, messages in errors.items()}


def test_every_invalid_national_field_is_reported_with_its_rule(city):
    raw = national_penalty(
        CF_XDR_SHXYM="91410481MA40K1Y3ZZ", CF_XDR_LB="公司", CF_JDRQ="2026-02-30",
        CF_YXQ="2026/13/01", CF_CFLB="罚款;打板子", CF_NR_FK="-1", CF_NR_WFFF="0.1234567",
        CF_CFJGDM="00000000000000000X", CF_SJLYDM="123", CF_WSH="", severity="很严重",
        CF_XDR_MC="x" * 201, XK_ZT=None, CF_SOMETHING="1")
    got = rules(errors_of(raw))
    assert got == {
        "CF_XDR_SHXYM": {"charset"}, "CF_XDR_LB": {"one_of"}, "CF_JDRQ": {"date"},
        "CF_YXQ": {"date"}, "CF_CFLB": {"one_of"}, "CF_NR_FK": {"min"},
        "CF_NR_WFFF": {"decimal"}, "CF_CFJGDM": {"placeholder"}, "CF_SJLYDM": {"length"},
        "CF_WSH": {"required"}, "severity": {"one_of"}, "CF_XDR_MC": {"length"},
        "CF_SOMETHING": {"unknown_field"},
    }
    assert CreditRecord.objects.count() == 0


def test_conditional_national_rules():
    got = rules(errors_of(national_penalty(CF_CFLB="罚款;没收违法所得;吊销许可证件",
                                           CF_NR_FK=None, severity=None)))
    assert got == {"CF_NR_FK": {"required"}, "CF_NR_WFFF": {"required"},
                   "CF_NR_ZKDX": {"required"}, "severity": {"required"}}
    got = rules(errors_of(national_penalty(CF_XDR_SHXYM=None, CF_FRDB=None)))
    assert got == {"CF_XDR_SHXYM": {"required"}, "CF_FRDB": {"required"}}
    got = rules(errors_of(national_penalty(CF_XDR_LB="自然人", CF_XDR_ZJLX="护照",
                                           CF_XDR_ZJHM="E12345678")))
    assert got == {"CF_XDR_SHXYM": {"absent"}, "CF_XDR_ZJLX": {"unsupported"}}
    got = rules(errors_of(national_penalty(CF_XDR_LB="自然人", CF_XDR_SHXYM=None,
                                           CF_XDR_ZJLX="身份证",
                                           CF_XDR_ZJHM="110105194912310021")))
    assert got == {"CF_XDR_ZJHM": {"check_character"}}
    got = rules(errors_of(national_penalty(CF_JDRQ="2026-12-01")))
    assert got == {"CF_JDRQ": {"future"}}
    got = rules(errors_of(national_penalty(CF_YXQ="2026-11-19")))
    assert got == {"CF_YXQ": {"date_order"}}
    got = rules(errors_of(national_licence(XK_YXQZI="2025-01-01", XK_XKLB="许可", XK_ZT="3",
                                           XK_LYDWDM=None)))
    assert got == {"XK_YXQZI": {"date_order"}, "XK_XKLB": {"one_of"}, "XK_ZT": {"one_of"},
                   "XK_LYDWDM": {"required"}}
    got = rules(errors_of({**national_penalty(), "XK_WSH": "x"}))
    assert got == {"_schema": {"form"}}
    assert rules(errors_of(national_licence(), kind="penalty")) == {"kind": {"one_of"}}


def test_accepted_value_shapes():
    values = records.load_record(national_penalty(
        CF_JDRQ="20260506", CF_YXQ="2027年5月6日", CF_NR_FK=0.25, CF_CFLB=["罚款", "警告", "罚款"],
        CF_NR="  警告，罚款  "))
    assert values["decision_date"] == dt.date(2026, 5, 6)
    assert values["fields"]["CF_YXQ"] == "2027-05-06"
    assert values["fields"]["CF_NR_FK"] == "0.25"
    assert values["fields"]["CF_CFLB"] == "罚款;警告"
    assert values["content"] == "警告，罚款"
    assert records.load_record(national_penalty(sector="安全生产"))["sector"] == "work_safety"
    assert rules(errors_of(national_penalty(sector="矿山"))) == {"sector": {"one_of"}}
    shop = records.load_record(national_penalty(CF_XDR_LB="个体工商户", CF_XDR_SHXYM=SHOP,
                                                CF_FRDB=None))
    assert shop["subject_kind"] == "INDIVIDUAL_BUSINESS"


def test_generic_form_rules(city):
    base = {"subject_code": COMPANY, "subject_name": "某公司", "kind": "penalty",
            "title": "无证经营", "doc_no": "罚〔2026〕9号", "decision_date": "2026-04-02"}
    assert rules(errors_of(base)) == {"severity": {"required"}}
    values = records.load_record({**base, "severity": "严重"})
    assert values["severity"] == "serious"
    with pytest.raises(RuleViolation) as caught:
        records.push_record(city.provider, {**values, "subject_code": "91410481MA40K1Y3ZZ"})
    assert rules(caught.value.errors) == {"subject_code": {"charset"}}
    got = rules(errors_of({**base, "severity": "general", "fields": {
        "CF_NR_FK": "两千", "CF_JDRQ": "2026-13-01", "CF_CFLB": "打板子", "CF_CFJGDM": "123",
        "CF_SJLYDM": "00000000000000000X", "CF_XDR_SHXYM": "legacy value", "CF_SY": "事实"}}))
    assert got == {"fields.CF_NR_FK": {"decimal"}, "fields.CF_JDRQ": {"date"},
                   "fields.CF_CFLB": {"one_of"}, "fields.CF_CFJGDM": {"length"}}
    award = records.load_record({**base, "kind": "award", "title": "诚信企业"})
    record, _ = records.push_record(city.provider, award)
    assert record.publicity_state == "not_applicable" and record.publication_due is None


# -- HTTP ----------------------------------------------------------------------------------------

class Api:
    def __init__(self, client: FlaskClient):
        self.client = client
        self._tokens: dict[str, str] = {}

    def headers(self, user: str | None) -> dict[str, str]:
        if user is None:
            return {}
        if user not in self._tokens:
            self._tokens[user] = issue_token(User.objects.get(username=user), label="test")
        return {"Authorization": f"Bearer {self._tokens[user]}"}

    def get(self, path: str, user: str | None = "provider", **kwargs: Any):
        return self.client.get(path, headers=self.headers(user), **kwargs)

    def post(self, path: str, body: Any = None, user: str | None = "provider", **kwargs: Any):
        return self.client.post(path, json=body, headers=self.headers(user), **kwargs)


@pytest.fixture
def api(settings, host, city) -> Api:
    app: Flask = create_app({"TESTING": True}, runtime=Runtime(
        settings, host, WorkflowService(host), settings.mongodb_uri))
    return Api(app.test_client())


def problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    return json.loads(response.get_data(as_text=True))


def test_push_in_the_national_form_over_http(api):
    created = api.post("/api/v1/records", national_penalty())
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    record = body["record"]
    assert body["outcome"] == "created" and record["subject_code"] == COMPANY
    assert record["publicity_until"] == "2027-11-20" and record["publication_due"] == "2026-12-01"
    assert record["publicity_regime"] == "GBF-2025-22+NDRC-ORDER-2025-36"
    assert record["fields"]["CF_FR_ZJHM"] == ids.mask_id_number(REPRESENTATIVE)
    assert REPRESENTATIVE not in created.get_data(as_text=True)
    assert api.post("/api/v1/records", national_penalty()).get_json()["outcome"] == "unchanged"

    bad = problem(api.post("/api/v1/records", national_penalty(CF_JDRQ="明天", CF_CFLB="坐牢")),
                  422)
    assert set(bad["errors"]) == {"CF_JDRQ", "CF_CFLB"}
    assert bad["errors"]["CF_JDRQ"][0].startswith("date: ")
    problem(api.post("/api/v1/records", national_penalty(), user="handler"), 403)
    problem(api.post("/api/v1/records", national_penalty(source_department="410481-T2")), 403)
    assert CreditRecord.objects.count() == 1


def test_bulk_mixes_forms_and_reports_each_item(api):
    items = [national_penalty("罚〔2026〕1号"), national_licence("许〔2026〕1号"),
             national_penalty("罚〔2026〕2号", CF_NR_FK=None), 42,
             national_penalty("罚〔2026〕1号"), national_penalty("罚〔2026〕1号", CF_NR="更正")]
    body = api.post("/api/v1/records/bulk", {"records": items}).get_json()
    assert body["summary"] == {"created": 2, "updated": 1, "unchanged": 1, "failed": 2}
    assert [(i["index"], i["outcome"]) for i in body["items"]] == [
        (0, "created"), (1, "created"), (2, "failed"), (3, "failed"), (4, "unchanged"),
        (5, "updated")]
    assert body["items"][2]["errors"] == {"CF_NR_FK": [
        "required: required when 处罚类别 includes 罚款"]}
    assert body["items"][2]["doc_no"] == "罚〔2026〕2号"
    assert CreditRecord.objects.count() == 2
    assert CreditRecord.objects.get(doc_no="罚〔2026〕1号").revision == 2
    problem(api.post("/api/v1/records/bulk", {"records": []}), 422)


def test_publish_later_over_http(api):
    pushed = api.post("/api/v1/records", national_penalty(
        CF_JDRQ="2026-05-06", publish=False)).get_json()["record"]
    assert pushed["publicity_state"] == "overdue"
    path = f"/api/v1/records/{pushed['id']}/publish"
    problem(api.post(path, user="other"), 403)
    published = api.post(path)
    assert published.status_code == 200
    assert published.get_json()["publicity_state"] == "published"
    assert published.get_json()["published_late"] is True
    problem(api.post(path), 409)
    problem(api.post("/api/v1/records/nope/publish"), 404)
    assert AuditEvent.objects(action="record.published").count() == 1
    assert OutboxEntry.objects(routing_key="record.published").count() == 1

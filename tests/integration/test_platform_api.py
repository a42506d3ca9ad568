"""The credit platform's management surfaces over HTTP: measures and list types,
list expiry, agencies with staff and standing, report validity, public and
staff objections, credit repair, commitments and self-declarations, and grade
schemes. Core rules are covered by the unit tests; these check the contract:
status codes, problem+json with field paths, masking and roles."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest
from flask import Flask

from creditcase.core import ids
from creditcase.core.accounts import User, issue_token
from creditcase.core.cases import WorkflowService
from creditcase.core.db import local_today
from creditcase.core.lists import add_months
from creditcase.core.runtime import Runtime
from creditcase.web import create_app

SUBJECT = ids.make_uscc("91410481MA40K1Y37")
AGENCY = ids.make_uscc("91410100MA44XY7R1")
STAFF_ID = ids.make_id_number("41048119850312003")
NAME = "舞钢市恒信建材有限公司"
PROBLEM = "application/problem+json"
FILING = "豫信评备字〔2025〕第008号"


def make_app(settings, host, **config: Any) -> Flask:
    return create_app({"TESTING": True, **config},
                      runtime=Runtime(settings, host, WorkflowService(host), settings.mongodb_uri))


class Api:
    def __init__(self, app: Flask):
        self.client = app.test_client()
        self._tokens: dict[str, str] = {}

    def _headers(self, user: str | None) -> dict[str, str]:
        if user is None:
            return {}
        if user not in self._tokens:
            self._tokens[user] = issue_token(User.objects.get(username=user), label="test")
        return {"Authorization": f"Bearer {self._tokens[user]}"}

    def call(self, method: str, path: str, body: Any = None, user: str | None = "office",
             status: int = 200) -> Any:
        response = self.client.open(path, method=method, json=body, headers=self._headers(user))
        assert response.status_code == status, response.get_data(as_text=True)
        if status >= 400:
            assert response.mimetype == PROBLEM
        return json.loads(response.get_data(as_text=True) or "null")

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("PATCH", path, body, **kw)


@pytest.fixture
def api(settings, host, city) -> Api:
    return Api(make_app(settings, host))


def push_penalty(api: Api, doc_no: str, decided: dt.date, severity: str = "general") -> str:
    body = api.post("/api/v1/records", {
        "subject_code": SUBJECT, "subject_name": NAME, "kind": "penalty", "severity": severity,
        "title": "销售不合格建材", "doc_no": doc_no, "decision_date": decided.isoformat(),
        "authority": "舞钢市市场监督管理局"}, user="provider", status=201)
    return body["record"]["id"]


# -- measures and list types ---------------------------------------------------------------------

def test_the_credit_office_manages_measures_and_list_types(api):
    draft = {"code": "TEST-XZ", "kind": "PUNISH", "binding": "DISCRETIONARY", "effect": "review",
             "text_zh": "列为重点审查对象", "domains": ["procurement"], "triggers": ["SXBZXR"]}
    api.post("/api/v1/measures", draft, user="provider", status=403)
    created = api.post("/api/v1/measures", draft, status=201)
    assert (created["status"], created["enforceable"], created["version"]) == ("draft", False, 0)
    api.post("/api/v1/measures", draft, status=409)
    bad = api.post("/api/v1/measures", {**draft, "code": "TEST-2", "triggers": ["NOPE"],
                                        "domains": ["nowhere"], "kind": "MAYBE"}, status=422)
    assert {"triggers.0", "domains.0", "kind"} <= set(bad["errors"])
    api.patch("/api/v1/measures/TEST-XZ", {"legal_basis": "国发〔2016〕33号"}, status=422)
    stale = api.patch("/api/v1/measures/TEST-XZ", {"legal_basis": "国发〔2016〕33号",
                                                   "basis_list_version": "2024",
                                                   "expected_version": 5}, status=409)
    assert "expected_version" in stale["errors"]
    enforced = api.patch("/api/v1/measures/TEST-XZ", {
        "legal_basis": "国发〔2016〕33号（十三）", "expected_version": 0,
        "basis_list_version": "全国失信惩戒措施基础清单（2024年版）"})
    assert (enforced["status"], enforced["version"]) == ("enforceable", 1)
    off = api.post("/api/v1/measures/TEST-XZ/deactivate", {"reason": "清单调整"})
    assert off["status"] == "inactive" and api.get("/api/v1/measures/TEST-XZ",
                                                   user="handler")["active"] is False
    api.get("/api/v1/measures/NOPE", status=404)

    lt = api.get("/api/v1/lists/types/SXBZXR", user="handler")
    assert (lt["extension_months"], lt["max_period_months"]) == ([12, 36], 60)
    changed = api.patch("/api/v1/lists/types/SXBZXR", {"expected_version": 0, "reason": "司法解释修订",
                                                       "period_months": 24,
                                                       "extension_months": [12, 24]})
    assert changed["max_period_months"] == 48 and changed["history"][0]["changed_by"] == "office"
    api.patch("/api/v1/lists/types/SXBZXR", {"expected_version": 0, "reason": "x",
                                             "period_months": 1}, status=409)


def test_list_entries_read_remove_and_expire(api):
    record_id = push_penalty(api, "舞市监罚〔2026〕15号", local_today() - dt.timedelta(days=30))
    listed = api.post("/api/v1/lists/entries", {
        "list_type": "SCJG_YZWF", "subject_code": SUBJECT, "subject_name": NAME,
        "basis_doc_no": "市监严〔2026〕1号", "listed_on": "2023-01-05", "valid_until": "2025-01-05",
        "record_id": record_id}, status=201)
    assert listed["record_id"] == record_id and listed["expired"] is False
    bad = api.post("/api/v1/lists/entries", {
        "list_type": "SCJG_YZWF", "subject_code": SUBJECT, "subject_name": NAME,
        "basis_doc_no": "x", "listed_on": "2026-01-05", "valid_until": "2040-01-05"}, status=422)
    assert "valid_until" in bad["errors"]
    current = api.post("/api/v1/lists/entries", {
        "list_type": "SXBZXR", "subject_code": SUBJECT, "subject_name": NAME,
        "basis_doc_no": "(2026)豫0481执12号", "listed_on": local_today().isoformat()},
        user="provider", status=201)
    assert [e["id"] for e in api.get(f"/api/v1/lists/entries?subject_code={SUBJECT}",
                                     user="handler")] == [current["id"], listed["id"]]

    swept = api.post("/api/v1/lists/expire")
    assert swept["expired"] == 1 and swept["entries"][0]["removal_reason"] == "expired"
    api.post("/api/v1/lists/expire", user="provider", status=403)
    assert [e["id"] for e in api.get(f"/api/v1/lists/entries?subject_code={SUBJECT}")] \
        == [current["id"]]
    everything = api.get(f"/api/v1/lists/entries?subject_code={SUBJECT}&include_removed=true")
    assert len(everything) == 2
    api.call("DELETE", f"/api/v1/lists/entries/{listed['id']}", {"reason": "x"}, status=409)
    removed = api.call("DELETE", f"/api/v1/lists/entries/{current['id']}",
                       {"reason": "已履行"}, user="provider")
    assert removed["removed_by"] == "provider" and removed["removal_reason"] == "已履行"


# -- agencies and reports ------------------------------------------------------------------------

def test_agencies_staff_standing_and_report_validity(api):
    agency = api.post("/api/v1/agencies", {
        "name": "河南诚信评估有限公司", "uscc": AGENCY, "filing_no": FILING,
        "filing_authority": "中国人民银行河南省分行", "filing_valid_until": "2030-12-31"}, status=201)
    assert agency["standing"]["good"] is True
    staff = api.post(f"/api/v1/agencies/{agency['id']}/staff", {
        "name": "张某", "id_number": STAFF_ID, "qualification": "信用管理师二级"}, status=201)
    assert staff["id_number"] != STAFF_ID and "*" in staff["id_number"]
    bad = api.post(f"/api/v1/agencies/{agency['id']}/staff",
                   {"name": "李某", "id_number": "110105194912310021"}, status=422)
    assert "id_number" in bad["errors"]
    api.post(f"/api/v1/agencies/{agency['id']}/staff/{staff['staff_id']}/credit-records",
             {"kind": "warning", "title": "未履行复核程序", "date": "2026-03-01"}, status=201)
    read = api.get(f"/api/v1/agencies/{FILING}", user="handler")
    assert STAFF_ID not in json.dumps(read, ensure_ascii=False)
    assert read["staff"][0]["credit_records"][0]["kind_zh"] == "警示约谈"

    issued = local_today() - dt.timedelta(days=20)
    report = api.post("/api/v1/reports", {
        "number": "HNCX-2026-0001", "subject_code": SUBJECT, "subject_name": NAME,
        "agency_filing_no": FILING, "issue_date": issued.isoformat(), "rating": "AA-",
        "sections": {"基本情况": "正常经营", "综合评价": "信用状况良好"},
        "risk_warnings": ["应收账款占比较高"]}, user="provider", status=201)
    assert report["validity"]["valid"] and report["agency_name"] == "河南诚信评估有限公司"
    assert report["assessment"] == {"信用等级": "AA-", "风险提示": ["应收账款占比较高"],
                                    "评述": "信用状况良好"}
    assert "网络信用信息" in report["missing_sections"]
    bad = api.post("/api/v1/reports", {**{k: report[k] for k in ("subject_name", "rating")},
                                       "number": "N2", "subject_code": SUBJECT,
                                       "agency_filing_no": FILING, "issue_date": "2026-01-01",
                                       "sections": {"财务": "x"}}, user="provider", status=422)
    assert "sections" in bad["errors"]

    api.post(f"/api/v1/agencies/{agency['id']}/status", {"status": "suspended",
                                                         "reason": "年检未通过"})
    again = api.get(f"/api/v1/reports/{report['id']}", user="handler")
    assert again["validity"]["valid"] is False and "suspended" in again["validity"]["reasons"][0]
    assert api.get("/api/v1/reports/HNCX-2026-0001")["id"] == report["id"]
    api.get("/api/v1/reports/none", status=404)
    api.post(f"/api/v1/agencies/{agency['id']}/status", {"status": "filed", "reason": "整改完成"})

    push_penalty(api, "舞市监罚〔2026〕8号", local_today() - dt.timedelta(days=2), "serious")
    listed = api.get(f"/api/v1/subjects/{SUBJECT}/reports", user="handler")
    assert [r["number"] for r in listed] == ["HNCX-2026-0001"]
    assert listed[0]["void"] and "舞市监罚〔2026〕8号" in listed[0]["void_reason"]
    api.get("/api/v1/subjects/not-a-code/reports", status=422)


# -- objections ----------------------------------------------------------------------------------

def test_a_subject_files_and_follows_an_objection_without_login(api):
    record_id = push_penalty(api, "舞市监罚〔2026〕15号", local_today() - dt.timedelta(days=5))
    filing = {"name": NAME, "code": SUBJECT, "contact": "13800000000", "record_id": record_id,
              "grounds": "处罚金额填报有误，应为0.2万元", "requested": "correct"}
    bad = api.post("/api/v1/public/objections", {**filing, "contact": "x", "grounds": "no"},
                   user=None, status=422)
    assert {"contact", "grounds"} <= set(bad["errors"])
    api.post("/api/v1/public/objections", {**filing, "record_id": "0" * 24}, user=None,
             status=404)
    filed = api.post("/api/v1/public/objections", filing, user=None, status=201)
    assert filed["state"] == "SUBMITTED" and filed["number"].startswith("YY")
    api.post("/api/v1/public/objections", filing, user=None, status=409)
    tracked = api.get(f"/api/v1/public/objections/{filed['number']}?code={SUBJECT}", user=None)
    assert tracked["state_zh"] == "已提交"
    api.get(f"/api/v1/public/objections/{filed['number']}?code=91350100M000100Y43", user=None,
            status=404)

    number = filed["number"]
    api.post(f"/api/v1/objections/{number}/accept", {}, user="provider", status=403)
    accepted = api.post(f"/api/v1/objections/{number}/accept", {})
    assert api.get(f"/api/v1/records/{record_id}", user="provider")["state"] == "disputed"
    api.post(f"/api/v1/objections/{number}/refer", {}, status=409)
    api.post(f"/api/v1/objections/{number}/platform-check",
             {"expected_version": accepted["version"]})
    api.post(f"/api/v1/objections/{number}/refer", {"note": "协查函"})
    upheld = api.post(f"/api/v1/objections/{number}/uphold", {
        "outcome": "corrected", "reason": "金额填报有误",
        "corrections": {"content": "罚款0.2万元", "effective_until": "2027-12-31"}},
        user="provider")
    assert upheld["outcome"] == "corrected" and upheld["corrections"]["effective_until"] == "2027-12-31"
    record = api.get(f"/api/v1/records/{record_id}", user="provider")
    assert (record["state"], record["revision"], record["effective_until"]) == (
        "active", 2, "2027-12-31")
    listed = api.get("/api/v1/objections?state=UPHELD", user="provider")
    assert [o["number"] for o in listed] == [number]
    assert api.get("/api/v1/objections", user="other") == []  # another department's records
    assert len(api.get("/api/v1/objections", user="handler")) == 1
    api.post(f"/api/v1/objections/{number}/close", {"note": "已告知"})
    assert api.get(f"/api/v1/public/objections/{number}?code={SUBJECT}",
                   user=None)["state"] == "CLOSED"


def test_public_objection_filing_is_rate_limited(settings, host, city):
    api = Api(make_app(dataclasses.replace(settings, public_rate_limit="100 per minute"), host,
                       CREDITCASE_PUBLIC_OBJECTION_LIMIT="2 per minute"))
    for _ in range(2):
        api.get("/api/v1/public/objections/YY1?code=x", user=None, status=404)
    limited = api.client.get("/api/v1/public/objections/YY1?code=x")
    assert limited.status_code == 429 and limited.mimetype == PROBLEM
    assert "Retry-After" in limited.headers
    # the public search keeps its own budget
    assert api.client.get("/api/v1/public/publicity?q=x").status_code == 200


# -- repair, commitments, grades -----------------------------------------------------------------

def test_repair_commitments_and_grades_over_http(api):
    recent = push_penalty(api, "舞市监罚〔2026〕20号", local_today() - dt.timedelta(days=10))
    old = push_penalty(api, "舞市监罚〔2026〕21号", local_today() - dt.timedelta(days=200))
    before = api.get(f"/api/v1/subjects/{SUBJECT}/grade", user="handler")
    assert before["inputs"] == ["RECORD:penalty:general", "RECORD:penalty:general"]

    commitment = api.post("/api/v1/commitments", {
        "subject_code": SUBJECT, "subject_name": NAME, "type": "信用修复型",
        "text_version": "信用修复承诺书（2026版）", "signed_at": "2026-11-01T09:00:00",
        "public": True}, user="handler", status=201)
    assert commitment["type"] == "REPAIR" and commitment["signed_at"].startswith("2026-11-01T01:00")
    application = {"subject_code": SUBJECT, "record_id": recent, "applicant_name": "李某",
                   "applicant_contact": "13800000000", "obligations_evidence": "罚款已缴清",
                   "commitment_id": commitment["id"]}
    early = api.post("/api/v1/repairs", application, status=201)
    refused = api.post(f"/api/v1/repairs/{early['id']}/submit", {}, status=422)
    end = add_months(local_today() - dt.timedelta(days=10), 3).isoformat()
    assert refused["detail"].startswith(f"the minimum publicity period ends on {end}")
    assert end in refused["errors"]["record_id"][0]

    app = api.post("/api/v1/repairs", {**application, "record_id": old}, status=201)
    for step, user in (("submit", "office"), ("forward", "office"), ("accept", "reviewer"),
                       ("review", "reviewer")):
        moved = api.post(f"/api/v1/repairs/{app['id']}/{step}", {}, user=user)
    assert moved["state"] == "UNDER_REVIEW"
    api.post(f"/api/v1/repairs/{app['id']}/approve", {}, user="other", status=403)
    approved = api.post(f"/api/v1/repairs/{app['id']}/approve", {"note": "准予修复"},
                        user="reviewer")
    assert approved["state"] == "APPROVED" and approved["state_zh"] == "准予修复"
    assert api.get(f"/api/v1/records/{old}", user="provider")["state"] == "repaired"
    after = api.get(f"/api/v1/subjects/{SUBJECT}/grade", user="handler")
    assert after["inputs"] == ["RECORD:penalty:general"] and after["score"] == before["score"] + 5

    # a breached commitment becomes a record of the accepting department
    promise = api.post("/api/v1/commitments", {
        "subject_code": SUBJECT, "subject_name": NAME, "type": "APPROVAL_SUBSTITUTE",
        "matter_code": "410481-XK-0012", "text_version": "告知承诺书（2025版）",
        "signed_at": "2026-11-01T09:00:00+08:00",
        "due_items": [{"description": "补交材料", "due_date": "2026-11-20"}]},
        user="handler", status=201)
    bad = api.post(f"/api/v1/commitments/{promise['id']}/verify", {"status": "BREACHED"},
                   user="handler", status=422)
    assert set(bad["errors"]) == {"severity", "note"}
    breached = api.post(f"/api/v1/commitments/{promise['id']}/verify", {
        "status": "BREACHED", "severity": "general", "note": "逾期未补交材料"}, user="handler")
    record = api.get(f"/api/v1/records/{breached['breach_record_id']}", user="provider")
    assert (record["kind"], record["doc_no"]) == ("commitment_breach", promise["id"])
    assert api.get("/api/v1/commitments?status=BREACHED", user="other") == []

    declared = {"subject_code": SUBJECT, "subject_name": NAME, "title": "取得二级资质",
                "content": "2026年取得建筑工程施工总承包二级资质"}
    assert api.post("/api/v1/self-declarations", declared, user="provider",
                    status=201)["outcome"] == "created"
    assert api.post("/api/v1/self-declarations", declared, user="provider")["outcome"] == "unchanged"

    schemes = api.get("/api/v1/grade-schemes", user="handler")
    assert [s["id"] for s in schemes] == ["WG-2026-1"]
    new = {"id": "WG-2027-1", "name_zh": "2027版", "effective_from": local_today().isoformat(),
           "base_score": 100, "max_score": 100, "deductions": {"RECORD:penalty:": 50},
           "grades": [{"grade": "A", "min": 90, "label_zh": "优"},
                      {"grade": "D", "min": 0, "label_zh": "差"}]}
    api.post("/api/v1/grade-schemes", new, user="provider", status=403)
    assert api.post("/api/v1/grade-schemes", new, status=201)["id"] == "WG-2027-1"
    assert api.get("/api/v1/grade-schemes/current")["id"] == "WG-2027-1"
    regraded = api.get(f"/api/v1/subjects/{SUBJECT}/grade")
    assert regraded["scheme"] == "WG-2027-1" and regraded["inputs"] == [
        "RECORD:commitment_breach:general", "RECORD:penalty:general", "RECORD:self_declared:"]
    assert (regraded["score"], regraded["grade"]) == (50, "D")


def test_the_openapi_document_describes_the_platform(api):
    spec = api.get("/api/v1/openapi.json", user=None)
    paths = set(spec["paths"])
    assert {"/api/v1/measures/{code}", "/api/v1/lists/expire", "/api/v1/reports/{report_id}",
            "/api/v1/subjects/{code}/reports", "/api/v1/public/objections",
            "/api/v1/objections/{objection_id}/uphold", "/api/v1/repairs/{application_id}/submit",
            "/api/v1/commitments/{commitment_id}/verify", "/api/v1/self-declarations",
            "/api/v1/grade-schemes", "/api/v1/subjects/{code}/grade"} <= paths
    public = spec["paths"]["/api/v1/public/objections"]["post"]
    assert public.get("security") == [] and "429" in public["responses"]

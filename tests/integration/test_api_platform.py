"""The credit information platform over HTTP: sign-in, subjects, records (single
and bulk), lists and measures, agencies and reports, the public 双公示 search
and the service metadata."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from creditcase.core import ids
from creditcase.core.accounts import User, issue_token
from creditcase.core.audit import AuditEvent
from creditcase.core.cases import WorkflowService
from creditcase.core.lists import ListEntry
from creditcase.core.records import CreditRecord
from creditcase.core.reports import Agency, CreditReport
from creditcase.core.runtime import Runtime
from creditcase.web import create_app

SUPPLIER = ids.make_uscc("91410481MA40K1Y37")
AGENCY_USCC = ids.make_uscc("91410100MA44XY7R1")
PERSON = ids.make_id_number("41048119850312003")
REPRESENTATIVE = ids.make_id_number("41048119700101001")
PROBLEM = "application/problem+json"


def make_app(settings, host, **config: Any) -> Flask:
    return create_app({"TESTING": True, **config},
                      runtime=Runtime(settings, host, WorkflowService(host), settings.mongodb_uri))


@pytest.fixture
def app(settings, host, city) -> Flask:
    return make_app(settings, host)


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

    def delete(self, path: str, body: Any = None, user: str | None = "office", **kwargs: Any):
        return self.client.delete(path, json=body, headers=self.headers(user), **kwargs)


@pytest.fixture
def api(app: Flask) -> Api:
    return Api(app.test_client())


def problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = json.loads(response.get_data(as_text=True))
    assert body["status"] == status and {"type", "title", "detail", "instance"} <= set(body)
    return body


def penalty(doc_no: str = "舞市监罚〔2026〕15号", code: str = SUPPLIER,
            name: str = "舞钢市恒信建材有限公司", **changes: Any) -> dict[str, Any]:
    record = {"subject_code": code, "subject_name": name, "kind": "penalty",
              "severity": "general", "title": "销售不合格建材", "doc_no": doc_no,
              "decision_date": "2026-03-02", "authority": "舞钢市市场监督管理局",
              "fields": {"CF_WSH": doc_no, "CF_CFLB": "罚款", "CF_NR_FK": 0.2,
                         "CF_FRDB": "李某", "CF_FR_ZJHM": REPRESENTATIVE}}
    record.update(changes)
    return record


# -- sign-in -------------------------------------------------------------------------------------

def test_password_sign_in_issues_a_working_token(api):
    response = api.client.post("/api/v1/auth/token",
                               json={"username": "handler", "password": "handler-pass-1"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["token"].startswith("cc_") and body["token_type"] == "Bearer"
    assert body["roles"] == ["handler"] and body["department"] == "410481-T1"
    assert "password" not in body
    me = api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.get_json() == {"username": "handler", "department": "410481-T1", "roles": ["handler"]}


def test_failed_sign_ins_are_401_then_rate_limited_per_username(api):
    for password in ("wrong", "wrong", "wrong", "wrong", "wrong"):
        response = api.client.post("/api/v1/auth/token",
                                   json={"username": "handler", "password": password})
        problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    locked = api.client.post("/api/v1/auth/token",
                             json={"username": "handler", "password": "handler-pass-1"})
    body = problem(locked, 429)
    assert int(locked.headers["Retry-After"]) > 0
    assert body["title_zh"] == "请求过于频繁" and "登录失败次数过多" in body["detail"]
    # another user from the same address is not locked out, and successes do not count
    for _ in range(6):
        ok = api.client.post("/api/v1/auth/token",
                             json={"username": "reviewer", "password": "reviewer-pass-1"})
        assert ok.status_code == 201
    problem(api.client.post("/api/v1/auth/token", json={"username": "nobody", "password": "x"}), 401)
    problem(api.client.post("/api/v1/auth/token", json={"username": "reviewer"}), 422)


# -- subjects ------------------------------------------------------------------------------------

def test_register_update_and_read_a_subject(api):
    response = api.post("/api/v1/subjects", {"code": SUPPLIER.lower(), "name": "舞钢市恒信建材有限公司"},
                        user="handler")
    assert response.status_code == 201
    assert response.get_json()["code"] == SUPPLIER and response.get_json()["kind"] == "LEGAL"
    response = api.post("/api/v1/subjects", {"code": SUPPLIER, "name": "舞钢市恒信建材股份有限公司",
                                             "address": "舞钢市垭口街道"}, user="handler")
    assert response.status_code == 200
    read = api.get(f"/api/v1/subjects/{SUPPLIER}").get_json()
    assert read["name"] == "舞钢市恒信建材股份有限公司" and read["address"] == "舞钢市垭口街道"

    person = api.post("/api/v1/subjects", {"code": PERSON, "name": "王某"}, user="handler")
    assert person.status_code == 201
    assert person.get_json()["code"] == ids.mask(PERSON) and PERSON not in person.get_data(as_text=True)
    problem(api.get(f"/api/v1/subjects/{ids.make_uscc('91410481MA40K2B78')}"), 404)


def test_invalid_subject_code_is_422_on_code_with_the_rule(api):
    body = problem(api.post("/api/v1/subjects", {"code": "91350100M000100Y44", "name": "x"},
                            user="handler"), 422)
    assert body["errors"]["code"][0].startswith("check_character:")
    body = problem(api.post("/api/v1/subjects", {"code": PERSON, "name": "x", "kind": "LEGAL"},
                            user="handler"), 422)
    assert "kind" in body["errors"]
    problem(api.post("/api/v1/subjects", {"code": SUPPLIER, "name": "x"}, user=None), 401)


# -- records -------------------------------------------------------------------------------------

def test_push_is_idempotent_and_corrections_are_revisions(api):
    created = api.post("/api/v1/records", penalty())
    assert created.status_code == 201
    body = created.get_json()
    assert body["outcome"] == "created"
    record = body["record"]
    assert record["publicity_state"] == "published" and record["revision"] == 1
    assert record["fields"]["CF_NR_FK"] == "0.2"
    assert record["fields"]["CF_FR_ZJHM"] == ids.mask_id_number(REPRESENTATIVE)
    assert REPRESENTATIVE not in created.get_data(as_text=True)

    again = api.post("/api/v1/records", penalty())
    assert again.status_code == 200 and again.get_json()["outcome"] == "unchanged"
    fixed = api.post("/api/v1/records", penalty(title="销售不合格建材（更正）"))
    assert fixed.status_code == 200 and fixed.get_json()["outcome"] == "updated"
    assert fixed.get_json()["record"]["revision"] == 2
    assert CreditRecord.objects.count() == 1
    assert AuditEvent.objects(action__startswith="record.").count() == 2

    read = api.get(f"/api/v1/records/{record['id']}")
    assert read.status_code == 200 and read.get_json()["title"] == "销售不合格建材（更正）"
    assert api.get(f"/api/v1/records/{record['id']}", user="office").status_code == 200
    problem(api.get(f"/api/v1/records/{record['id']}", user="other"), 404)
    problem(api.get("/api/v1/records/zzz"), 404)


def test_record_validation_roles_and_source_department(api):
    body = problem(api.post("/api/v1/records", penalty(decision_date="2026-02-30", kind="gossip")), 422)
    assert {"decision_date", "kind"} <= set(body["errors"])
    body = problem(api.post("/api/v1/records", penalty(code="91350100M000100Y44")), 422)
    assert body["errors"]["subject_code"][0].startswith("check_character:")
    body = problem(api.post("/api/v1/records", penalty(effective_from="2026-05-01",
                                                       effective_until="2026-04-01")), 422)
    assert "effective_until" in body["errors"]
    problem(api.post("/api/v1/records", penalty(), user="handler"), 403)
    problem(api.post("/api/v1/records", penalty(source_department="410481-T2")), 403)
    on_behalf = api.post("/api/v1/records", penalty(source_department="410481-T2"), user="office")
    assert on_behalf.status_code == 201
    assert on_behalf.get_json()["record"]["source_department"] == "410481-T2"


def test_bulk_stores_valid_items_and_reports_the_others_by_index(api):
    items = [penalty("罚〔2026〕1号"), penalty("罚〔2026〕2号", decision_date="yesterday"),
             penalty("罚〔2026〕3号", code="91350100M000100Y44"), "not an object",
             penalty("罚〔2026〕1号"), {**penalty("罚〔2026〕6号"), "extra": 1}]
    response = api.post("/api/v1/records/bulk", {"records": items})
    assert response.status_code == 200
    body = response.get_json()
    assert body["summary"] == {"created": 1, "updated": 0, "unchanged": 1, "failed": 4}
    outcomes = [(i["index"], i["outcome"]) for i in body["items"]]
    assert outcomes == [(0, "created"), (1, "failed"), (2, "failed"), (3, "failed"),
                        (4, "unchanged"), (5, "failed")]
    errors = {i["index"]: i["errors"] for i in body["items"] if i["outcome"] == "failed"}
    assert list(errors[1]) == ["decision_date"]
    assert errors[2]["subject_code"][0].startswith("check_character:")
    assert errors[3] == {"_schema": ["Invalid input type."]}
    assert errors[5] == {"extra": ["Unknown field."]}
    assert body["items"][1]["doc_no"] == "罚〔2026〕2号"
    assert CreditRecord.objects.count() == 1

    body = problem(api.post("/api/v1/records/bulk", {"records": [penalty()] * 1001}), 422)
    assert "records" in body["errors"]
    problem(api.post("/api/v1/records/bulk", {"records": []}), 422)
    problem(api.post("/api/v1/records/bulk", {"records": "many"}), 422)


# -- lists and measures --------------------------------------------------------------------------

def test_list_entries_types_and_measures(api):
    entry = {"list_type": "SXBZXR", "subject_code": SUPPLIER, "subject_name": "舞钢市恒信建材有限公司",
             "basis_doc_no": "(2026)豫0481执12号", "listed_on": "2026-01-05"}
    problem(api.post("/api/v1/lists/entries", entry, user="handler"), 403)
    added = api.post("/api/v1/lists/entries", entry, user="office")
    assert added.status_code == 201
    body = added.get_json()
    assert body["color"] == "black" and body["valid_until"] == "2028-01-05"
    problem(api.post("/api/v1/lists/entries", entry, user="office"), 409)
    body = problem(api.post("/api/v1/lists/entries", {**entry, "list_type": "NOPE",
                                                      "basis_doc_no": "x"}, user="provider"), 422)
    assert "list_type" in body["errors"]

    url = f"/api/v1/lists/entries/{body_id(added)}"
    problem(api.delete(url, {"reason": "履行完毕"}, user="provider"), 403)
    body = problem(api.delete(url, {}), 422)
    assert "reason" in body["errors"]
    removed = api.delete(url, {"reason": "已履行完毕，法院决定删除"})
    assert removed.status_code == 200 and removed.get_json()["removed_at"]
    assert ListEntry.objects.get(pk=body_id(added)).removal_reason == "已履行完毕，法院决定删除"
    problem(api.delete(url, {"reason": "again"}), 409)
    problem(api.delete("/api/v1/lists/entries/000000000000000000000000", {"reason": "x"}), 404)
    problem(api.delete("/api/v1/lists/entries/bad", {"reason": "x"}), 404)

    types = {t["code"]: t for t in api.get("/api/v1/lists/types").get_json()}
    assert types["SXBZXR"]["color"] == "black" and types["A_TAXPAYER"]["color"] == "red"
    measures = {m["code"]: m for m in api.get("/api/v1/measures?domain=procurement").get_json()}
    assert measures["ZFCG-JZ"]["binding"] == "MANDATORY" and measures["ZFCG-JZ"]["enforceable"]
    assert "ZTB-XZ" not in measures and "ZD-SC" in measures
    rewards = api.get("/api/v1/measures?kind=REWARD").get_json()
    assert rewards and {m["kind"] for m in rewards} == {"REWARD"}
    problem(api.get("/api/v1/measures", user=None), 401)


def body_id(response) -> str:
    return response.get_json()["id"]


# -- agencies and reports ------------------------------------------------------------------------

def test_agencies_and_reports(api):
    agency = {"name": "河南诚信评估有限公司", "uscc": AGENCY_USCC, "filing_no": "豫信备〔2025〕008号",
              "filing_authority": "河南省发展和改革委员会", "filing_valid_until": "2030-12-31"}
    problem(api.post("/api/v1/agencies", agency), 403)
    assert api.post("/api/v1/agencies", agency, user="office").status_code == 201
    problem(api.post("/api/v1/agencies", agency, user="office"), 409)
    body = problem(api.post("/api/v1/agencies", {**agency, "uscc": "91350100M000100Y44",
                                                 "filing_no": "x"}, user="office"), 422)
    assert body["errors"]["uscc"][0].startswith("check_character:")
    assert [a["name"] for a in api.get("/api/v1/agencies").get_json()] == ["河南诚信评估有限公司"]
    assert Agency.objects.count() == 1

    issued = (dt.date.today() - dt.timedelta(days=10)).isoformat()
    report = {"number": "HNCX-2026-0001", "subject_code": SUPPLIER,
              "subject_name": "舞钢市恒信建材有限公司", "agency_filing_no": "豫信备〔2025〕008号",
              "issue_date": issued, "rating": "AA", "sections": {"基本情况": "正常经营"},
              "risk_warnings": []}
    filed = api.post("/api/v1/reports", report)
    assert filed.status_code == 201
    assert filed.get_json()["validity"]["valid"] is True
    problem(api.post("/api/v1/reports", report), 409)
    body = problem(api.post("/api/v1/reports", {**report, "number": "N2",
                                                "agency_filing_no": "unknown"}), 422)
    assert "agency_filing_no" in body["errors"]
    body = problem(api.post("/api/v1/reports", {**report, "number": "N3", "rating": "AAAA",
                                                "sections": {"财务": 1.5}}), 422)
    assert {"rating", "sections"} <= set(body["errors"])
    problem(api.post("/api/v1/reports", report, user="handler"), 403)
    assert CreditReport.objects.count() == 1


# -- public search -------------------------------------------------------------------------------

def publish_samples(api: Api) -> None:
    for record in (
        penalty(),
        penalty("舞市监罚〔2026〕16号", code=PERSON, name="王某某", subject_kind="NATURAL",
                content=f"当事人王某某（身份证号{PERSON}）无证经营，合同编号 410481202600123456。",
                fields={"CF_XDR_ZJHM": PERSON, "CF_XDR_SHXYM": PERSON}),
        {**penalty("舞市监许〔2026〕3号", name="舞钢市(恒信)[分公司]"), "kind": "licence",
         "severity": None, "fields": {"XK_FR_ZJHM": REPRESENTATIVE}},
        {**penalty("舞法〔2026〕1号"), "kind": "judgment"},
    ):
        assert api.post("/api/v1/records", record).status_code == 201


def test_public_search_needs_no_login_and_masks_id_numbers(api):
    publish_samples(api)
    response = api.client.get("/api/v1/public/publicity?q=舞钢市")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert PERSON not in text and REPRESENTATIVE not in text
    results = response.get_json()
    assert {r["kind"] for r in results} == {"penalty", "licence"}
    assert json.loads(response.headers["X-Pagination"])["total"] == 2

    person = api.client.get(f"/api/v1/public/publicity?q={PERSON}").get_json()
    assert len(person) == 1
    assert person[0]["subject_code"] == ids.mask(PERSON)
    assert person[0]["fields"]["CF_XDR_ZJHM"] == ids.mask_id_number(PERSON)
    assert person[0]["fields"]["CF_XDR_SHXYM"] == ids.mask(PERSON)
    assert PERSON not in json.dumps(person, ensure_ascii=False)
    assert ids.mask_id_number(PERSON) in person[0]["content"]
    assert "410481202600123456" in person[0]["content"]  # not an ID number: left alone
    assert len(api.client.get("/api/v1/public/publicity?q=王某").get_json()) == 1

    licence = api.client.get("/api/v1/public/publicity", query_string={"q": "(恒信)["}).get_json()
    assert [r["kind"] for r in licence] == ["licence"]
    assert licence[0]["fields"]["XK_FR_ZJHM"] == ids.mask_id_number(REPRESENTATIVE)
    assert api.client.get("/api/v1/public/publicity", query_string={"q": ".*"}).get_json() == []
    assert api.client.get("/api/v1/public/publicity?kind=licence").get_json()[0]["kind"] == "licence"
    assert len(api.client.get("/api/v1/public/publicity").get_json()) == 3
    problem(api.client.get("/api/v1/public/publicity?kind=judgment"), 422)


def test_public_search_is_rate_limited(settings, host, city):
    app = make_app(dataclasses.replace(settings, public_rate_limit="3 per minute"), host)
    client = app.test_client()
    for _ in range(3):
        assert client.get("/api/v1/public/publicity?q=x").status_code == 200
    limited = client.get("/api/v1/public/publicity?q=x")
    problem(limited, 429)
    assert "Retry-After" in limited.headers
    other_client = client.get("/api/v1/public/publicity?q=x",
                              environ_overrides={"REMOTE_ADDR": "127.0.0.9"})
    assert other_client.status_code == 200


def test_behind_a_proxy_the_limit_keys_on_the_forwarded_client(settings, host, city):
    app = make_app(dataclasses.replace(settings, public_rate_limit="1 per minute"), host,
                   PROXY_FIX_X_FOR=1)
    client = app.test_client()

    def search(client_address: str) -> int:
        return client.get("/api/v1/public/publicity",
                          headers={"X-Forwarded-For": client_address}).status_code

    assert [search("127.0.0.21"), search("127.0.0.21"), search("127.0.0.22")] == [200, 429, 200]


# -- meta ----------------------------------------------------------------------------------------

def test_health_domains_and_plugins(api):
    health = api.client.get("/api/v1/meta/health")
    assert health.status_code == 200 and health.get_json()["database"] == "ok"
    problem(api.client.get("/api/v1/meta/domains"), 401)
    domains = {d["code"]: d for d in api.get("/api/v1/meta/domains").get_json()}
    assert domains["procurement"]["name_zh"] == "政府集中采购"
    assert domains["procurement"]["plugin"] == "procurement"
    assert "NATURAL" in domains["procurement"]["subject_kinds"]
    plugins = {p["name"]: p for p in api.get("/api/v1/meta/plugins").get_json()}
    assert plugins["procurement"]["domains"] == ["procurement"]
    assert "creditcase_register_domains" in plugins["procurement"]["hooks"]
    assert {"records", "lists", "reports"} <= set(plugins["core.channels"]["channels"])

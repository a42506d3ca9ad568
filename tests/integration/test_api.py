"""The case workflow over HTTP, the error shape and the OpenAPI document.

The app runs on the test database with the installed domain plugins; checks
are performed in-process with ``run_pending_checks``. Every error response is
asserted to be ``application/problem+json``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from creditcase.core import ids
from creditcase.core.accounts import User, issue_token
from creditcase.core.audit import AuditEvent
from creditcase.core.cases import Case, WorkflowService
from creditcase.core.evidence import EvidenceBundle
from creditcase.core.runtime import Runtime
from creditcase.testing import run_pending_checks
from creditcase.web import create_app

SUPPLIER = ids.make_uscc("91410481MA40K1Y37")
PERSON = ids.make_id_number("41048119850312003")
PROBLEM = "application/problem+json"


@pytest.fixture
def app(settings, host, city) -> Flask:
    runtime = Runtime(settings, host, WorkflowService(host), settings.mongodb_uri)
    return create_app({"TESTING": True}, runtime=runtime)


class Api:
    """A test client that signs requests as one of the ``city`` users."""

    def __init__(self, client: FlaskClient):
        self.client = client
        self._tokens: dict[str, str] = {}

    def headers(self, user: str | None) -> dict[str, str]:
        if user is None:
            return {}
        if user not in self._tokens:
            self._tokens[user] = issue_token(User.objects.get(username=user), label="test")
        return {"Authorization": f"Bearer {self._tokens[user]}"}

    def get(self, path: str, user: str | None = "handler", **kwargs: Any):
        return self.client.get(path, headers=self.headers(user), **kwargs)

    def post(self, path: str, body: Any = None, user: str | None = "handler", **kwargs: Any):
        return self.client.post(path, json=body, headers=self.headers(user), **kwargs)

    def delete(self, path: str, body: Any = None, user: str | None = "handler", **kwargs: Any):
        return self.client.delete(path, json=body, headers=self.headers(user), **kwargs)


@pytest.fixture
def api(app: Flask) -> Api:
    return Api(app.test_client())


def problem(response, status: int) -> dict[str, Any]:
    """Assert an RFC 9457 problem with ``status`` and return its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = json.loads(response.get_data(as_text=True))
    assert body["status"] == status
    assert {"type", "title", "detail", "instance"} <= set(body)
    assert body["instance"] == response.request.path
    return body


def application(**changes: Any) -> dict[str, Any]:
    """A procurement application whose bid deadline has passed, so a check run now is
    the evaluation-time check the procurement rules require."""
    now = dt.datetime.now(dt.UTC)
    data = {"project_code": "WGCG-2026-018", "project_name": "舞钢市第一中学教学设备采购",
            "procurement_method": "公开招标", "budget_amount": "1280000.00",
            "tender_notice_date": (now - dt.timedelta(days=20)).date().isoformat(),
            "bid_deadline": (now - dt.timedelta(hours=2)).isoformat(),
            "purchaser": "舞钢市第一中学"}
    data.update(changes)
    return data


def apply_body(code: str = SUPPLIER, name: str = "舞钢市恒信建材有限公司", **data: Any) -> dict:
    return {"domain": "procurement", "matter": "ZFCG-001 政府采购供应商资格审查",
            "subject": {"code": code, "name": name}, "data": application(**data)}


def blacklist(api: Api, code: str = SUPPLIER, list_type: str = "SXBZXR") -> dict[str, Any]:
    response = api.post("/api/v1/lists/entries", {
        "list_type": list_type, "subject_code": code, "subject_name": "舞钢市恒信建材有限公司",
        "basis_doc_no": f"(2026)豫0481执{list_type}12号",
        "listed_on": (dt.date.today() - dt.timedelta(days=30)).isoformat()}, user="office")
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def checked_case(api: Api, workflow, **body: Any) -> dict[str, Any]:
    response = api.post("/api/v1/cases", apply_body(**body))
    assert response.status_code == 201, response.get_json()
    assert run_pending_checks(workflow) == 1
    return api.get(f"/api/v1/cases/{response.get_json()['id']}").get_json()


# -- the whole flow ------------------------------------------------------------------------------

def test_blacklisted_supplier_through_the_whole_procurement_flow(api, workflow):
    entry = blacklist(api)
    applied = api.post("/api/v1/cases", apply_body())
    assert applied.status_code == 201
    case = applied.get_json()
    assert applied.headers["Location"] == f"/api/v1/cases/{case['id']}"
    assert case["state"] == "applied" and case["domain"] == "procurement"
    assert case["subject"] == {"code": SUPPLIER, "name": "舞钢市恒信建材有限公司", "kind": "LEGAL",
                               "kind_zh": "法人及非法人组织"}
    assert case["checks"] == [] and case["decision"] is None
    case_id = case["id"]

    assert run_pending_checks(workflow) == 1
    case = api.get(f"/api/v1/cases/{case_id}").get_json()
    assert case["state"] == "checked" and case["black_hits"] == 1
    [check] = case["checks"]
    assert check["current"] and check["complete"]
    assert {c["name"] for c in check["channels"]} == {"records", "lists", "reports"}
    [hit] = [h for h in check["hits"] if h["channel"] == "lists"]
    assert hit["code"] == "SXBZXR" and hit["color"] == "black" and hit["ref"] == entry["id"]
    measures = {m["code"]: m for m in check["measures"]}
    assert measures["ZFCG-JZ"]["binding"] == "MANDATORY"
    assert measures["ZFCG-JZ"]["kind"] == "PUNISH" and measures["ZFCG-JZ"]["legal_basis"]
    assert check["recommendation"]["outcome"] == "reject"
    assert check["receipt"]["result_hash"] == check["result_hash"]
    assert check["grade"]["grade"] in {"A", "B", "C", "D"}

    decision_url = f"/api/v1/cases/{case_id}/decision"
    not_applied = [{"measure": code, "applied": code != "ZFCG-JZ", "reason": "供应商已说明情况"}
                   for code in measures]
    body = problem(api.post(decision_url, {"outcome": "approved", "feedback": not_applied}), 422)
    assert any("ZFCG-JZ" in m and "override" in m for m in body["errors"]["feedback"])

    body = problem(api.post(decision_url, {"outcome": "rejected", "reasons": "失信被执行人"}), 422)
    assert "missing" in body["errors"]["feedback"][0]

    applied_all = [{"measure": code, "applied": True} for code in measures]
    response = api.post(decision_url, {"outcome": "rejected", "feedback": applied_all,
                                       "reasons": "供应商被列入失信被执行人名单，依法拒绝其参加政府采购活动",
                                       "expected_version": case["version"]})
    assert response.status_code == 200, response.get_json()
    case = response.get_json()
    assert case["state"] == "decided"
    assert case["decision"]["outcome"] == "rejected"
    assert case["decision"]["decided_by"] == "handler"
    assert {f["measure"]: f["applied"] for f in case["decision"]["feedback"]} == \
        dict.fromkeys(measures, True)
    assert case["decision"]["check_hash"] == check["result_hash"]

    problem(api.post(decision_url, {"outcome": "rejected", "feedback": applied_all,
                                    "reasons": "again"}), 409)

    archived = api.post(f"/api/v1/cases/{case_id}/archive")
    assert archived.status_code == 201
    ref = archived.get_json()
    assert ref["seq"] == 1 and ref["prev_hash"] == "0" * 64 and len(ref["hash"]) == 64
    problem(api.post(f"/api/v1/cases/{case_id}/archive"), 409)

    evidence = api.get(f"/api/v1/cases/{case_id}/evidence").get_json()
    assert evidence["verified"] is True
    assert evidence["hash"] == ref["hash"] == EvidenceBundle.objects.get(case_id=case_id).hash
    content = evidence["content"]
    assert content["decision"]["outcome"] == "rejected"
    assert content["checks"][0]["result_hash"] == check["result_hash"]
    assert content["case"]["subject_code"] == SUPPLIER
    assert [e["action"] for e in content["audit"]][-1] == "case.archived"

    case = api.get(f"/api/v1/cases/{case_id}").get_json()
    assert case["state"] == "archived" and case["evidence"] == {"seq": 1, "hash": ref["hash"]}
    actions = {e.action for e in AuditEvent.objects(object_id=case_id)}
    assert {"case.applied", "case.checked", "case.decided", "case.archived"} <= actions


def test_tampered_bundle_does_not_verify(api, workflow):
    case = checked_case(api, workflow)
    assert api.post(f"/api/v1/cases/{case['id']}/decision",
                    {"outcome": "approved", "feedback": []}).status_code == 200
    assert api.post(f"/api/v1/cases/{case['id']}/archive").status_code == 201
    bundle = EvidenceBundle.objects.get(case_id=case["id"])
    bundle.update(set__content=bundle.content.replace("approved", "rejected"))
    evidence = api.get(f"/api/v1/cases/{case['id']}/evidence").get_json()
    assert evidence["verified"] is False


def test_reviewer_override_lets_the_handler_leave_a_mandatory_measure_unapplied(api, workflow):
    blacklist(api)
    case = checked_case(api, workflow)
    codes = [m["code"] for m in case["checks"][0]["measures"]]
    url = f"/api/v1/cases/{case['id']}"

    problem(api.post(f"{url}/override", {"measures": ["ZFCG-JZ"], "reason": "x"}), 403)
    body = problem(api.post(f"{url}/override", {"measures": ["NOPE"], "reason": "法院已解除限制"},
                            user="reviewer"), 422)
    assert "measures" in body["errors"]
    response = api.post(f"{url}/override", {"measures": ["ZFCG-JZ"],
                                            "reason": "法院已出具解除限制决定书，名单尚未更新"},
                        user="reviewer")
    assert response.status_code == 200
    assert response.get_json()["overrides"][0]["reviewer"] == "reviewer"

    feedback = [{"measure": c, "applied": c != "ZFCG-JZ", "reason": "经审批不执行"} for c in codes]
    response = api.post(f"{url}/decision", {"outcome": "approved", "feedback": feedback})
    assert response.status_code == 200, response.get_json()
    decision = response.get_json()["decision"]
    assert decision["outcome"] == "approved" and decision["override"]["measures"] == ["ZFCG-JZ"]


def test_decide_before_the_check_is_409(api):
    case = api.post("/api/v1/cases", apply_body()).get_json()
    body = problem(api.post(f"/api/v1/cases/{case['id']}/decision",
                            {"outcome": "approved", "feedback": []}), 409)
    assert "逢办必查" in body["detail"]
    assert body["type"].endswith("conflict")


def test_stale_expected_version_is_409(api, workflow):
    case = checked_case(api, workflow)
    body = problem(api.post(f"/api/v1/cases/{case['id']}/decision",
                            {"outcome": "approved", "feedback": [],
                             "expected_version": case["version"] - 1}), 409)
    assert body["type"].endswith("concurrent-update")


def test_recheck_is_202_and_withdraw_needs_a_reason(api, workflow):
    case = checked_case(api, workflow)
    response = api.post(f"/api/v1/cases/{case['id']}/checks")
    assert response.status_code == 202 and response.get_json()["state"] == "checking"
    assert run_pending_checks(workflow) == 1
    case = api.get(f"/api/v1/cases/{case['id']}").get_json()
    assert len(case["checks"]) == 2 and [c["current"] for c in case["checks"]] == [False, True]

    body = problem(api.post(f"/api/v1/cases/{case['id']}/withdraw", {}), 422)
    assert "reason" in body["errors"]
    response = api.post(f"/api/v1/cases/{case['id']}/withdraw", {"reason": "申请人撤回"})
    assert response.status_code == 200 and response.get_json()["state"] == "withdrawn"
    problem(api.post(f"/api/v1/cases/{case['id']}/checks"), 409)


# -- scope, roles, authentication ----------------------------------------------------------------

def test_another_departments_case_is_404(api, workflow):
    case = checked_case(api, workflow)
    for response in (api.get(f"/api/v1/cases/{case['id']}", user="other"),
                     api.post(f"/api/v1/cases/{case['id']}/decision",
                              {"outcome": "approved", "feedback": []}, user="other"),
                     api.get(f"/api/v1/cases/{case['id']}/evidence", user="other")):
        problem(response, 404)
    assert api.get("/api/v1/cases", user="other").get_json() == []
    problem(api.get("/api/v1/cases/not-an-id"), 404)


def test_case_shows_the_full_id_number_only_to_the_owning_department(api, workflow):
    case = checked_case(api, workflow, code=PERSON, name="王某")
    assert case["subject"]["code"] == PERSON and case["subject"]["kind"] == "NATURAL"
    seen = api.get(f"/api/v1/cases/{case['id']}", user="office")
    assert seen.status_code == 200
    assert seen.get_json()["subject"]["code"] == ids.mask(PERSON) != PERSON
    assert PERSON not in seen.get_data(as_text=True)
    listed = api.get("/api/v1/cases", user="office").get_json()
    assert [c["subject"]["code"] for c in listed] == [ids.mask(PERSON)]

    url = f"/api/v1/cases/{case['id']}"
    assert api.post(f"{url}/decision", {"outcome": "approved", "feedback": []}).status_code == 200
    assert api.post(f"{url}/archive").status_code == 201
    assert PERSON in api.get(f"{url}/evidence").get_data(as_text=True)
    evidence = api.get(f"{url}/evidence", user="office")
    assert evidence.get_json()["verified"] is True
    assert PERSON not in evidence.get_data(as_text=True)
    assert evidence.get_json()["content"]["case"]["subject_code"] == ids.mask(PERSON)


def test_missing_or_bad_token_is_401_with_a_bearer_challenge(api):
    for headers in ({}, {"Authorization": "Bearer cc_not-a-token"}, {"Authorization": "Basic eDp5"}):
        response = api.client.post("/api/v1/cases", json=apply_body(), headers=headers)
        problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in api.client.get(
        "/api/v1/cases", headers={"Authorization": "Bearer cc_nope"}).headers["WWW-Authenticate"]
    assert Case.objects.count() == 0


def test_roles_are_checked(api):
    problem(api.post("/api/v1/cases", apply_body(), user="provider"), 403)
    problem(api.post("/api/v1/cases", apply_body(), user="office"), 403)
    problem(api.post("/api/v1/records/bulk", {"records": []}, user="handler"), 403)


# -- validation and errors -----------------------------------------------------------------------

@pytest.mark.parametrize("code,rule", [
    (SUPPLIER[:-1] + ("0" if SUPPLIER[-1] != "0" else "1"), "check_character"),
    ("91350100M000100Y4Z", "charset"),
    ("9135010", "length"),
    ("110105194902300027", "birth_date"),
])
def test_invalid_identity_code_names_subject_code_and_the_rule(api, code, rule):
    body = problem(api.post("/api/v1/cases", apply_body(code=code)), 422)
    assert list(body["errors"]) == ["subject.code"]
    assert body["errors"]["subject.code"][0].startswith(f"{rule}:")


def test_unknown_domain_is_422_on_domain(api):
    body = problem(api.post("/api/v1/cases", {**apply_body(), "domain": "astrology"}), 422)
    assert "domain" in body["errors"]
    assert body["type"].endswith("rule-violation")


def test_unknown_and_missing_fields_are_422_with_field_paths(api):
    request = apply_body()
    del request["matter"]
    request["colour"] = "red"
    request["subject"]["nickname"] = "x"
    body = problem(api.post("/api/v1/cases", request), 422)
    assert body["errors"]["matter"] == ["Missing data for required field."]
    assert body["errors"]["colour"] == ["Unknown field."]
    assert body["errors"]["subject.nickname"] == ["Unknown field."]

    body = problem(api.post("/api/v1/cases", apply_body(budget_amount="-5", surprise=1)), 422)
    assert {"data.budget_amount", "data.surprise"} <= set(body["errors"])

    body = problem(api.post("/api/v1/cases/x/decision", {"outcome": "maybe",
                                                          "feedback": [{"applied": "perhaps"}]}), 422)
    assert {"outcome", "feedback.0.measure", "feedback.0.applied"} <= set(body["errors"])


def test_malformed_json_is_400(api):
    for payload in ('{"domain": "procurement",', "not json at all", b"\xff\xfe{"):
        response = api.client.post("/api/v1/cases", data=payload, content_type="application/json",
                                   headers=api.headers("handler"))
        body = problem(response, 400)
        assert body["type"].endswith("malformed-json")


def test_routing_errors_are_problems_too(api):
    problem(api.get("/api/v1/no-such-thing"), 404)
    problem(api.client.get("/favicon-or-anything"), 404)
    response = api.client.put("/api/v1/cases", json={}, headers=api.headers("handler"))
    problem(response, 405)
    assert "POST" in response.headers["Allow"]


def test_a_crash_is_a_500_problem_without_internals(app, caplog):
    def crash():
        raise RuntimeError("secret internals")

    app.add_url_rule("/crash", "crash", crash)
    response = app.test_client().get("/crash")
    body = problem(response, 500)
    assert "secret internals" not in response.get_data(as_text=True)
    assert body["type"].endswith("internal")
    assert "secret internals" in caplog.text


# -- the queue -----------------------------------------------------------------------------------

def test_queue_filters_and_paginates(api, workflow):
    for i in range(3):
        assert api.post("/api/v1/cases", apply_body(project_code=f"P-{i}")).status_code == 201
    run_pending_checks(workflow)
    api.post("/api/v1/cases", apply_body(project_code="P-3"))

    response = api.get("/api/v1/cases?state=checked&page_size=2")
    assert response.status_code == 200
    assert len(response.get_json()) == 2
    meta = json.loads(response.headers["X-Pagination"])
    assert meta["total"] == 3 and meta["total_pages"] == 2
    assert len(api.get("/api/v1/cases?state=checked&page=2&page_size=2").get_json()) == 1
    assert [c["state"] for c in api.get("/api/v1/cases?state=applied").get_json()] == ["applied"]
    assert api.get("/api/v1/cases?domain=land").get_json() == []
    problem(api.get("/api/v1/cases?state=lost"), 422)
    assert len(api.get("/api/v1/cases", user="office").get_json()) == 4


# -- the OpenAPI document ------------------------------------------------------------------------

def test_openapi_document_lists_the_contract(api):
    response = api.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"] == "3.0.3" and spec["info"]["title"] == "creditcase"
    paths = spec["paths"]
    for path, method in [
        ("/api/v1/auth/token", "post"), ("/api/v1/subjects", "post"),
        ("/api/v1/subjects/{code}", "get"), ("/api/v1/records", "post"),
        ("/api/v1/records/bulk", "post"), ("/api/v1/records/{record_id}", "get"),
        ("/api/v1/lists/entries", "post"), ("/api/v1/lists/entries/{entry_id}", "delete"),
        ("/api/v1/lists/types", "get"), ("/api/v1/measures", "get"),
        ("/api/v1/agencies", "post"), ("/api/v1/reports", "post"),
        ("/api/v1/cases", "post"), ("/api/v1/cases", "get"), ("/api/v1/cases/{case_id}", "get"),
        ("/api/v1/cases/{case_id}/checks", "post"), ("/api/v1/cases/{case_id}/override", "post"),
        ("/api/v1/cases/{case_id}/decision", "post"), ("/api/v1/cases/{case_id}/withdraw", "post"),
        ("/api/v1/cases/{case_id}/archive", "post"), ("/api/v1/cases/{case_id}/evidence", "get"),
        ("/api/v1/public/publicity", "get"), ("/api/v1/meta/health", "get"),
        ("/api/v1/meta/domains", "get"), ("/api/v1/meta/plugins", "get"),
    ]:
        assert method in paths.get(path, {}), f"{method.upper()} {path} missing"
    decision = paths["/api/v1/cases/{case_id}/decision"]["post"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(decision["responses"])
    assert decision["security"] == [{"bearerAuth": []}]
    assert paths["/api/v1/public/publicity"]["get"]["security"] == []
    error = spec["components"]["responses"]["UNPROCESSABLE_ENTITY"]["content"]
    assert list(error) == [PROBLEM]
    problem_schema = spec["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "instance", "errors"} <= set(problem_schema)
    assert "valid items are stored even if others fail" in \
        paths["/api/v1/records/bulk"]["post"]["description"]


def test_landing_page_links_the_openapi_document(api):
    response = api.client.get("/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "/api/v1/openapi.json" in page and "逢办必查" in page and "政府集中采购" in page

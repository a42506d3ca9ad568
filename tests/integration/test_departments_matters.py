"""Departments enable domains, keep a catalogue of matters (事项), and the credit
office sees who uses what; red-list incentives put cases first in the queue.

Over the HTTP API, on a host with every installed plugin plus two domains of
this test (one whose checks query credit reports, one whose checks do not).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import marshmallow as ma
import pytest

from creditcase import hookimpl
from creditcase.core import accounts
from creditcase.core.audit import AuditEvent
from creditcase.core.cases import Case
from creditcase.core.domains import Domain
from creditcase.core.matters import Matter
from creditcase.core.reports import file_report, register_agency
from creditcase.testing import ApiClient, add_to_list, enable_domain, make_subject

TRIAL = "matter_trial"
LITE = "matter_trial_lite"
T1, T2, OFFICE = "410481-T1", "410481-T2", "410481-XYB"
PROBLEM = "application/problem+json"


class TrialApplication(ma.Schema):
    purpose = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))


class TrialDomain(Domain):
    code = TRIAL
    name_zh = "事项测试领域"
    name_en = "Matter trial"
    application_schema = TrialApplication


class LiteDomain(TrialDomain):
    code = LITE
    name_zh = "不查询信用报告的测试领域"
    name_en = "Trial without reports"
    required_channels = ("records", "lists")


class TrialPlugin:
    @hookimpl
    def creditcase_register_domains(self) -> list[Domain]:
        return [TrialDomain(), LiteDomain()]


@pytest.fixture
def api(make_api_client, plugin_host, city) -> ApiClient:
    accounts.create_user("deptadmin", roles=["dept_admin"], department=T1)
    accounts.create_user("otheradmin", roles=["dept_admin"], department=T2)
    accounts.create_user("root", roles=["admin"], department=OFFICE)
    for code in (TRIAL, LITE):
        enable_domain(T1, code)
    return make_api_client(plugin_host(TrialPlugin(), entrypoints=True))


def problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    return response.get_json()


def apply(api: ApiClient, subject=None, *, domain: str = TRIAL, matter: str = "试点事项",
          user: str = "handler"):
    subject = subject or make_subject()
    return api.post("/api/v1/cases", {"domain": domain, "matter": matter, "subject": subject.ref,
                                      "data": {"purpose": "申请"}}, user=user)


def add_matter(api: ApiClient, code: str, **fields: Any):
    body = {"code": code, "name": f"{code} 测试事项", "domain": TRIAL, **fields}
    return api.post(f"/api/v1/departments/{T1}/matters", body, user="deptadmin")


# -- enabled domains -----------------------------------------------------------------------------

def test_the_department_admin_sets_the_domains_and_applying_elsewhere_is_refused(api):
    url = f"/api/v1/departments/{T1}/domains"
    rows = {d["code"]: d for d in api.get(url).get_json()["domains"]}
    assert rows["procurement"]["enabled"] and rows[TRIAL]["enabled"] and rows[TRIAL]["installed"]
    assert rows[TRIAL]["name_zh"] == "事项测试领域"

    response = api.put(url, {"domains": ["procurement", TRIAL, "procurement"]}, user="deptadmin")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["enabled_domains"] == ["matter_trial", "procurement"]
    assert {d["code"] for d in body["domains"] if d["enabled"]} == {"procurement", TRIAL}
    event = AuditEvent.objects(action="department.domains_set").order_by("-at").first()
    assert event.actor == "deptadmin" and event.department == T1
    assert event.detail["domains"] == ["matter_trial", "procurement"]
    assert {"land", LITE} <= set(event.detail["disabled"]) and event.detail["enabled"] == []

    refused = problem(apply(api, domain=LITE), 422)
    assert "not enabled for department 410481-T1" in refused["errors"]["domain"][0]
    assert apply(api).status_code == 201


def test_unknown_domain_codes_are_refused_by_name(api):
    url = f"/api/v1/departments/{T1}/domains"
    body = problem(api.put(url, {"domains": [TRIAL, "nope", "fake_area"]}, user="deptadmin"), 422)
    messages = " ".join(body["errors"]["domains"])
    assert "'nope'" in messages and "'fake_area'" in messages and TRIAL not in messages
    assert TRIAL in accounts.get_department(T1).enabled_domains
    assert not AuditEvent.objects(action="department.domains_set", actor="deptadmin")


def test_only_the_departments_own_admin_or_an_admin_changes_its_domains(api):
    url = f"/api/v1/departments/{T1}/domains"
    problem(api.put(url, {"domains": [TRIAL]}, user="handler"), 403)
    body = problem(api.put(url, {"domains": [TRIAL]}, user="otheradmin"), 403)
    assert "410481-T1" in body["detail"]
    assert api.put(url, {"domains": [TRIAL]}, user="root").status_code == 200
    assert api.get(url, user="office").status_code == 200
    problem(api.get(url, user="other"), 403)
    problem(api.get("/api/v1/departments/410481-NONE/domains", user="office"), 404)
    problem(api.put(url, {"domains": [TRIAL]}, user=None), 401)


def test_the_credit_office_sees_which_departments_use_which_domains(api, city):
    enable_domain(T2, TRIAL)
    first = apply(api).get_json()
    assert apply(api).status_code == 201
    assert apply(api, user="other").status_code == 201
    assert api.run_checks() == 3
    assert api.post(f"/api/v1/cases/{first['id']}/decision",
                    {"outcome": "approved", "feedback": []}).status_code == 200
    assert add_matter(api, "SD-001", report_required=True).status_code == 201
    assert add_matter(api, "SD-002", active=False).status_code == 201

    problem(api.get("/api/v1/departments/domains-usage"), 403)
    response = api.get("/api/v1/departments/domains-usage", user="office")
    assert response.status_code == 200
    usage = response.get_json()
    departments = {d["code"]: d for d in usage["departments"]}
    assert set(departments) == {T1, T2, OFFICE}
    cell = {c["domain"]: c for c in departments[T1]["domains"]}
    assert cell[TRIAL] == {"domain": TRIAL, "enabled": True, "cases": 2, "open_cases": 1,
                           "matters": 2, "active_matters": 1, "report_required_matters": 1}
    assert cell[LITE]["enabled"] and cell[LITE]["cases"] == 0
    t2 = {c["domain"]: c for c in departments[T2]["domains"]}
    assert t2[TRIAL]["cases"] == 1 and t2[TRIAL]["open_cases"] == 1 and not t2[LITE]["enabled"]
    assert not any(c["enabled"] for c in departments[OFFICE]["domains"])
    assert departments[OFFICE]["is_credit_office"]
    domains = {d["code"]: d for d in usage["domains"]}
    assert domains[TRIAL] == {"code": TRIAL, "name_zh": "事项测试领域", "name_en": "Matter trial",
                              "installed": True, "departments": 2, "cases": 3}
    assert domains[LITE]["departments"] == 1
    assert domains["procurement"]["departments"] == 2  # the city enables every installed domain
    assert api.get("/api/v1/departments/domains-usage", user="root").status_code == 200


# -- the catalogue of matters --------------------------------------------------------------------

def test_matters_are_managed_by_the_department_admin_and_audited(api):
    created = add_matter(api, "ZFCG-001", name="政府采购供应商资格审查", report_required=True,
                         check_stage="REVIEW")
    assert created.status_code == 201, created.get_json()
    matter = created.get_json()
    assert created.headers["Location"] == f"/api/v1/departments/{T1}/matters/ZFCG-001"
    assert (matter["domain"], matter["report_required"], matter["check_stage"],
            matter["check_stage_zh"], matter["active"], matter["version"]) == \
        (TRIAL, True, "REVIEW", "审查", True, 0)
    problem(add_matter(api, "ZFCG-001"), 409)

    url = f"/api/v1/departments/{T1}/matters/ZFCG-001"
    changed = api.patch(url, {"name": "供应商资格审查", "check_stage": "DECIDE",
                              "expected_version": 0}, user="deptadmin")
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["name"], changed.get_json()["check_stage"],
            changed.get_json()["version"]) == ("供应商资格审查", "DECIDE", 1)
    problem(api.patch(url, {"name": "x", "expected_version": 0}, user="deptadmin"), 409)
    assert api.get(url).get_json()["name"] == "供应商资格审查"

    deleted = api.delete(url, user="deptadmin")
    assert deleted.status_code == 200 and deleted.get_json()["active"] is False
    listing = api.get(f"/api/v1/departments/{T1}/matters").get_json()
    assert [(m["code"], m["active"]) for m in listing] == [("ZFCG-001", False)]
    assert api.get(f"/api/v1/departments/{T1}/matters?active=true").get_json() == []
    actions = [e.action for e in AuditEvent.objects(object_type="Matter").order_by("at")]
    assert actions == ["matter.created", "matter.updated", "matter.updated"]
    first_change = AuditEvent.objects(action="matter.updated").order_by("at").first()
    assert first_change.detail["changed"]["check_stage"] == ["REVIEW", "DECIDE"]
    assert first_change.actor == "deptadmin" and first_change.department == T1


def test_a_matter_must_be_valid_for_the_department(api):
    body = problem(add_matter(api, "X-1", domain="nope"), 422)
    assert "nope" in body["errors"]["domain"][0]
    assert add_matter(api, "X-2", domain="land").status_code == 201  # enabled in T1
    accounts.set_enabled_domains(accounts.SYSTEM, T1, [TRIAL, LITE], available={TRIAL, LITE})
    body = problem(add_matter(api, "X-3", domain="land"), 422)
    assert "not enabled" in body["errors"]["domain"][0]
    body = problem(add_matter(api, "X-4", domain=LITE, report_required=True), 422)
    assert "reports channel" in body["errors"]["report_required"][0]
    assert add_matter(api, "X-4", domain=LITE).status_code == 201
    body = problem(add_matter(api, "X 5"), 422)
    assert "code" in body["errors"]
    body = problem(add_matter(api, "X-6", check_stage="LATER"), 422)
    assert "check_stage" in body["errors"]
    problem(api.post(f"/api/v1/departments/{T1}/matters",
                     {"code": "X-7", "name": "n", "domain": TRIAL}, user="handler"), 403)
    problem(api.post(f"/api/v1/departments/{T1}/matters",
                     {"code": "X-7", "name": "n", "domain": TRIAL}, user="otheradmin"), 403)
    problem(api.get(f"/api/v1/departments/{T1}/matters", user="other"), 403)
    assert api.get(f"/api/v1/departments/{T1}/matters", user="office").status_code == 200
    assert sorted(m.code for m in Matter.objects(department=T1)) == ["X-2", "X-4"]


def test_with_a_catalogue_an_application_names_an_active_matter_of_its_domain(api):
    assert apply(api, matter="任意填写的事项").status_code == 201  # no catalogue yet
    assert add_matter(api, "ZX-001", name="专项资金申报").status_code == 201
    assert add_matter(api, "ZX-002", name="已停用事项", active=False).status_code == 201
    assert add_matter(api, "QT-001", name="另一领域事项", domain=LITE).status_code == 201

    for matter, words in [("任意填写的事项", "not a matter in the catalogue"),
                          ("ZX-002", "no longer in use"),
                          ("QT-001", f"belongs to domain {LITE}")]:
        body = problem(apply(api, matter=matter), 422)
        assert words in body["errors"]["matter"][0], body
    response = apply(api, matter="ZX-001")
    assert response.status_code == 201
    case = Case.objects.get(pk=response.get_json()["id"])
    assert (case.matter, case.matter_name, case.report_required) == ("ZX-001", "专项资金申报", False)
    event = AuditEvent.objects(action="case.applied", object_id=str(case.pk)).first()
    assert event.detail["matter"] == "ZX-001"
    # other departments keep applying freely until they have a catalogue of their own
    enable_domain(T2, TRIAL)
    assert apply(api, matter="自由填写", user="other").status_code == 201


def test_a_matter_requiring_a_report_cannot_be_approved_without_a_valid_one(api, city):
    assert add_matter(api, "XYBG-001", name="需信用报告的事项", report_required=True).status_code == 201
    subject = make_subject()
    case = apply(api, subject, matter="XYBG-001").get_json()
    assert api.run_checks() == 1
    decision = {"outcome": "approved", "feedback": []}
    body = problem(api.post(f"/api/v1/cases/{case['id']}/decision", decision), 422)
    assert "requires a valid third-party credit report" in body["errors"]["outcome"][0]
    assert "XYBG-001" in body["errors"]["outcome"][0]
    rejected = {"outcome": "rejected", "feedback": [], "reasons": "未提供信用报告"}

    register_agency(city.credit_office, {
        "name": "河南中原信用评估有限公司", "uscc": make_subject().code, "filing_no": "豫信备2024-017",
        "filing_authority": "河南省发展和改革委员会",
        "filing_valid_until": dt.date.today() + dt.timedelta(days=365)})
    file_report(city.provider, {"number": "ZYXP-2026-00318", "subject_code": subject.code,
                                "subject_name": subject.name, "agency_filing_no": "豫信备2024-017",
                                "issue_date": dt.date.today() - dt.timedelta(days=40),
                                "rating": "AA"})
    assert api.post(f"/api/v1/cases/{case['id']}/checks").status_code == 202
    assert api.run_checks() == 1
    detail = api.get(f"/api/v1/cases/{case['id']}").get_json()
    assert detail["checks"][-1]["has_valid_report"] is True
    response = api.post(f"/api/v1/cases/{case['id']}/decision", decision)
    assert response.status_code == 200, response.get_json()

    other = apply(api, make_subject(), matter="XYBG-001").get_json()
    assert api.run_checks() == 1
    assert api.post(f"/api/v1/cases/{other['id']}/decision", rejected).status_code == 200


# -- incentives and the queue --------------------------------------------------------------------

def test_red_list_incentives_put_the_case_first_in_the_queue(api, city):
    plain, red = make_subject(), make_subject()
    add_to_list(city.credit_office, red, "A_TAXPAYER")
    first = apply(api, plain).get_json()
    second = apply(api, red).get_json()
    assert api.run_checks() == 2

    queue = api.get("/api/v1/cases?state=checked").get_json()
    assert [c["id"] for c in queue] == [second["id"], first["id"]]
    assert [c["priority"] for c in queue] == [1, 0]
    assert queue[0]["red_hits"] == 1
    meta = json.loads(api.get("/api/v1/cases?state=checked").headers["X-Pagination"])
    assert meta["total"] == 2

    check = api.get(f"/api/v1/cases/{second['id']}").get_json()["checks"][-1]
    rewards = {m["code"]: m for m in check["measures"] if m["kind"] == "REWARD"}
    assert rewards["SX-YXBL"]["effect"] == "incentive"
    for words in ("优先办理", "简化程序"):
        assert words in rewards["SX-YXBL"]["text_zh"]
    assert {m["kind"] for m in check["measures"]} == {"REWARD"}
    stored = Case.objects.get(pk=second["id"])
    assert api.workflow.latest_check(stored).result["incentives"] == sorted(rewards)
    assert not api.get(f"/api/v1/cases/{first['id']}").get_json()["checks"][-1]["measures"]

    missing = problem(api.post(f"/api/v1/cases/{second['id']}/decision",
                               {"outcome": "approved", "feedback": []}), 422)
    assert "SX-YXBL" in " ".join(missing["errors"]["feedback"])
    decided = api.post(f"/api/v1/cases/{second['id']}/decision", {
        "outcome": "approved",
        "feedback": [{"measure": code, "applied": True, "outcome_text": "按绿色通道优先受理、简化程序办理"}
                     for code in sorted(rewards)]})
    assert decided.status_code == 200, decided.get_json()
    assert {f["measure"] for f in decided.get_json()["decision"]["feedback"]} == set(rewards)
    # decided cases leave the open queue; the plain case is next
    assert [c["id"] for c in api.get("/api/v1/cases?state=checked").get_json()] == [first["id"]]

"""The authorisation matrix: every operation of the OpenAPI document, called by
every role (handler, reviewer, dept_admin, data_provider, credit_office, admin,
anonymous) on an object of the caller's own department and of another one.

What must hold, whatever the operation:

- no 5xx, and every error is ``application/problem+json``;
- an anonymous caller gets 401 from every operation not marked public;
- a caller bound to one department never reads or changes another department's
  case: operations on it answer 403 or 404, the case and its department are
  unchanged afterwards, and no response carries its application (the queue of
  the caller shows only the caller's cases);
- every request that changes stored state (the server's write counters move)
  leaves at least one audit event;
- public responses never show a natural person's full ID number;
- repeated failed sign-ins are refused with 429.

Operations added to the API later are covered by the same rules without
editing this file: path parameters are filled from the objects below by name
(unknown ones get an id that exists nowhere), and bodies for unknown
operations are empty objects.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask

from creditcase.core import accounts, ids
from creditcase.core.accounts import Principal, User, issue_token
from creditcase.core.audit import AuditEvent
from creditcase.core.cases import Case, WorkflowService
from creditcase.core.runtime import Runtime
from creditcase.testing import run_pending_checks
from creditcase.web import create_app

PROBLEM = "application/problem+json"
OWN, OTHER, OFFICE = "410481-T1", "410481-T2", "410481-XYB"
ROLES = ("anonymous", "handler", "reviewer", "dept_admin", "data_provider", "credit_office",
         "admin")
CITY_WIDE = {"credit_office", "admin"}
#: a natural person whose penalty is published by each department
PEOPLE = {OWN: ("王某某", ids.make_id_number("41048119850312003")),
          OTHER: ("李某某", ids.make_id_number("41048119790921004"))}
SUPPLIERS = {OWN: ids.make_uscc("91410481MA40K1Y37"), OTHER: ids.make_uscc("91410481MA3X5QK24")}
MARKER = "另一局专用项目MARKER"
WRITE_METHODS = {"post", "put", "patch", "delete"}
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def _application(project_name: str) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    return {"project_code": "WGCG-2026-018", "project_name": project_name,
            "procurement_method": "公开招标", "budget_amount": "1280000.00",
            "tender_notice_date": (now - dt.timedelta(days=20)).date().isoformat(),
            "bid_deadline": (now - dt.timedelta(hours=2)).isoformat(),
            "purchaser": "舞钢市第一中学"}


@dataclass
class World:
    app: Flask
    tokens: dict[str, str]
    cases: dict[str, str]
    records: dict[str, str]
    entries: dict[str, str] = field(default_factory=dict)

    def headers(self, role: str) -> dict[str, str]:
        return {} if role == "anonymous" else {"Authorization": f"Bearer {self.tokens[role]}"}


def _push_penalty(client, token: str, name: str, code: str, doc_no: str) -> str:
    response = client.post("/api/v1/records", headers={"Authorization": f"Bearer {token}"}, json={
        "subject_code": code, "subject_name": name, "kind": "penalty", "severity": "general",
        "title": "罚款", "doc_no": doc_no, "authority": "舞钢市市场监督管理局",
        "decision_date": (dt.date.today() - dt.timedelta(days=3)).isoformat()})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["record"]["id"]


@pytest.fixture
def world(settings, host, db) -> World:
    runtime = Runtime(settings, host, WorkflowService(host), settings.mongodb_uri)
    app = create_app({"TESTING": True}, runtime=runtime)
    domains = sorted(host.domains)
    accounts.create_department(OWN, "测试局", domains=domains)
    accounts.create_department(OTHER, "另一局", domains=domains)
    accounts.create_department(OFFICE, "市信用办", credit_office=True)
    tokens: dict[str, str] = {}
    for role in ROLES[1:]:
        department = OFFICE if role == "credit_office" else OWN
        user = accounts.create_user(role, roles=[role], department=department,
                                    password=f"{role}-pass-1")
        tokens[role] = issue_token(user, label="matrix")
    for username, role in (("other_handler", "handler"), ("other_provider", "data_provider")):
        user = accounts.create_user(username, roles=[role], department=OTHER)
        tokens[username] = issue_token(user, label="matrix")
    client = app.test_client()
    records = {OWN: _push_penalty(client, tokens["data_provider"], *PEOPLE[OWN], "舞市监罚〔2026〕1号"),
               OTHER: _push_penalty(client, tokens["other_provider"], *PEOPLE[OTHER],
                                    "舞另罚〔2026〕1号")}
    cases = {}
    for department, token, project in ((OWN, tokens["handler"], "本局项目"),
                                       (OTHER, tokens["other_handler"], MARKER)):
        response = client.post("/api/v1/cases", headers={"Authorization": f"Bearer {token}"},
                               json={"domain": "procurement",
                                     "matter": "ZFCG-001 政府采购供应商资格审查",
                                     "subject": {"code": SUPPLIERS[department],
                                                 "name": f"{department}供应商有限公司"},
                                     "data": _application(project)})
        assert response.status_code == 201, response.get_json()
        cases[department] = response.get_json()["id"]
    assert run_pending_checks(runtime.workflow) == 2
    return World(app, tokens, cases, records)


# -- building requests from the OpenAPI document ----------------------------------------------------

def operations(app: Flask) -> list[tuple[str, str, dict[str, Any]]]:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    return [(method, path, op) for path, ops in sorted(spec["paths"].items())
            for method, op in ops.items() if method in {"get", "post", "put", "patch", "delete"}]


def fill_path(world: World, path: str, target: str) -> str:
    case = Case.objects.get(pk=world.cases[target])
    values = {"case_id": world.cases[target], "record_id": world.records[target],
              "code": target if path.startswith("/api/v1/departments/") else case.subject_code,
              "number": "YY-NONE"}

    def value(match: re.Match[str]) -> str:
        return values.get(match.group(1), "0123456789abcdef01234567")

    return re.sub(r"\{([^}]+)\}", value, path)


def body_for(method: str, path: str, world: World, target: str) -> dict[str, Any] | None:
    """A body that passes validation for the operations the matrix knows best (so that
    the department check, not the schema, decides), ``{}`` for the others."""
    if method not in WRITE_METHODS:
        return None
    case = Case.objects.get(pk=world.cases[target])
    if path.endswith("/decision"):
        return {"outcome": "approved", "feedback": [], "expected_version": case.version}
    if path.endswith("/override"):
        return {"measures": ["ZFCG-JZ"], "reason": "审批"}
    if path.endswith("/withdraw"):
        return {"reason": "申请人撤回"}
    if path == "/api/v1/cases":
        return {"domain": "procurement", "matter": "ZFCG-001", "data": _application("矩阵项目"),
                "subject": {"code": SUPPLIERS[OWN], "name": "舞钢市恒信建材有限公司"}}
    if path == "/api/v1/auth/token":
        return {"username": f"nobody-{uuid.uuid4().hex[:8]}", "password": "wrong"}
    if path.endswith("/domains") and method == "put":
        return {"domains": ["procurement"]}
    return {}


def fingerprint(department: str, case_id: str) -> tuple:
    """What must not change when someone without access to ``department`` calls."""
    case = Case.objects.get(pk=case_id)
    dept = accounts.Department.objects.get(code=department)
    return (case.version, case.state, case.decision is not None, len(case.overrides),
            dept.version, tuple(dept.enabled_domains or ()))


def writes(db) -> int:
    counters = db.command("serverStatus")["opcounters"]
    return int(counters["insert"]) + int(counters["update"]) + int(counters["delete"])


# -- the matrix -------------------------------------------------------------------------------------

def test_every_operation_by_every_role_on_own_and_other_department(world: World, db) -> None:
    client = world.app.test_client()
    failures: list[str] = []
    calls = audited_changes = denied_other = 0
    before_other = fingerprint(OTHER, world.cases[OTHER])
    for method, path, op in operations(world.app):
        public = op.get("security") == []
        for role in ROLES:
            for target in (OWN, OTHER):
                url = fill_path(world, path, target)
                body = body_for(method, path, world, target)
                audits, written = AuditEvent.objects.count(), writes(db)
                response = client.open(url, method=method.upper(), headers=world.headers(role),
                                       json=body)
                calls += 1
                changed = writes(db) - written
                status = response.status_code
                where = f"{method.upper()} {path} as {role} on {'own' if target == OWN else 'other'}"
                text = response.get_data(as_text=True)
                if status >= 500:
                    failures.append(f"{where}: {status}")
                if status >= 400 and response.mimetype != PROBLEM:
                    failures.append(f"{where}: error {status} is {response.mimetype}")
                if role == "anonymous" and not public and status != 401:
                    failures.append(f"{where}: anonymous got {status}, not 401")
                if method in WRITE_METHODS and changed > 0 and 200 <= status < 300:
                    if AuditEvent.objects.count() == audits:
                        failures.append(f"{where}: {status} changed state without an audit event")
                    else:
                        audited_changes += 1
                if role in CITY_WIDE:
                    before_other = fingerprint(OTHER, world.cases[OTHER])
                    continue
                after_other = fingerprint(OTHER, world.cases[OTHER])
                if after_other != before_other:
                    failures.append(f"{where}: changed the other department's case "
                                    f"{before_other} -> {after_other}")
                    before_other = after_other
                if MARKER in _without_instance(text):
                    failures.append(f"{where}: {status} shows the other department's case")
                if target == OTHER and "{case_id}" in path and role != "anonymous":
                    if status in (403, 404):
                        denied_other += 1
                    else:
                        failures.append(f"{where}: {status}, expected 403 or 404")
    assert calls >= len(ROLES) * 2 * 20
    # the rules were exercised, not vacuously true
    assert audited_changes >= 10, audited_changes
    assert denied_other >= 4 * 7, denied_other
    print(f"matrix: {calls} calls, {audited_changes} audited changes, {denied_other} denied")
    assert not failures, f"{len(failures)} of {calls} calls broke the rules:\n" + \
        "\n".join(failures[:60])


def _without_instance(text: str) -> str:
    """The body without a problem's ``instance`` (it echoes the requested path)."""
    try:
        body = json.loads(text)
    except ValueError:
        return text
    if isinstance(body, dict):
        body.pop("instance", None)
    return json.dumps(body, ensure_ascii=False)


def test_case_queue_shows_only_the_callers_department(world: World) -> None:
    client = world.app.test_client()
    for role in ("handler", "reviewer", "dept_admin", "data_provider"):
        response = client.get("/api/v1/cases", headers=world.headers(role))
        assert response.status_code in (200, 403), response.get_json()
        if response.status_code == 200:
            assert {c["id"] for c in response.get_json()} <= {world.cases[OWN]}
            assert world.cases[OTHER] not in response.get_data(as_text=True)
    for role in CITY_WIDE:
        seen = {c["id"] for c in client.get("/api/v1/cases", headers=world.headers(role)).get_json()}
        assert seen == set(world.cases.values())


def test_other_departments_case_is_404_for_every_verb(world: World) -> None:
    client = world.app.test_client()
    other = world.cases[OTHER]
    for role in ("handler", "reviewer"):
        headers = world.headers(role)
        assert client.get(f"/api/v1/cases/{other}", headers=headers).status_code == 404
        assert client.get(f"/api/v1/cases/{other}/evidence", headers=headers).status_code == 404
        for suffix, body in (("checks", None), ("withdraw", {"reason": "x"}), ("archive", None),
                             ("decision", {"outcome": "approved", "feedback": []})):
            response = client.post(f"/api/v1/cases/{other}/{suffix}", headers=headers, json=body)
            assert response.status_code in (403, 404), (role, suffix, response.get_json())
    # the same calls on the caller's own case get past the department check
    response = client.post(f"/api/v1/cases/{world.cases[OWN]}/checks",
                           headers=world.headers("handler"))
    assert response.status_code == 202


# -- public surfaces and ID numbers ----------------------------------------------------------------

def _full_id_numbers(text: str) -> list[str]:
    found = []
    for candidate in ID_NUMBER.findall(text):
        try:
            found.append(ids.validate_id_number(candidate))
        except ids.IdentityCodeError:
            continue
    return found


def test_public_endpoints_never_show_a_full_id_number(world: World) -> None:
    client = world.app.test_client()
    spec = client.get("/api/v1/openapi.json").get_json()
    public_gets = [path for path, ops in spec["paths"].items()
                   if ops.get("get", {}).get("security") == [] and "{" not in path]
    assert "/api/v1/public/publicity" in public_gets
    queries = [{}, {"q": "某某"}, {"q": "王"}, {"kind": "penalty"}]
    queries += [{"q": number} for _, number in PEOPLE.values()]
    seen_records = 0
    for path in public_gets:
        for query in queries:
            response = client.get(path, query_string=query)
            assert response.status_code < 500, (path, query)
            text = response.get_data(as_text=True)
            assert _full_id_numbers(text) == [], (path, query, text[:500])
            if path == "/api/v1/public/publicity" and response.status_code == 200:
                seen_records += len(response.get_json())
    # the searches did find the people, masked
    assert seen_records >= 4
    by_number = client.get("/api/v1/public/publicity",
                           query_string={"q": PEOPLE[OTHER][1]}).get_json()
    assert [r["subject_code"] for r in by_number] == [ids.mask_id_number(PEOPLE[OTHER][1])]


def test_public_search_masks_an_id_number_that_passes_the_uscc_checksum(world: World) -> None:
    number = "41048120040716000X"  # a valid ID number that is also a valid USCC
    client = world.app.test_client()
    _push_penalty(client, world.tokens["data_provider"], "赵某某", number, "舞市监罚〔2026〕9号")
    text = client.get("/api/v1/public/publicity", query_string={"q": "赵某某"}).get_data(as_text=True)
    assert _full_id_numbers(text) == []


# -- sign-in -------------------------------------------------------------------------------------

def test_repeated_failed_logins_are_rate_limited(world: World) -> None:
    client = world.app.test_client()
    statuses = [client.post("/api/v1/auth/token",
                            json={"username": "handler", "password": "wrong"}).status_code
                for _ in range(8)]
    assert statuses[0] == 401
    assert 429 in statuses and statuses[-1] == 429, statuses
    limited = client.post("/api/v1/auth/token", json={"username": "handler", "password": "wrong"})
    assert limited.mimetype == PROBLEM and limited.get_json()["status"] == 429
    # even the right password is refused while the limit holds
    assert client.post("/api/v1/auth/token", json={"username": "handler",
                                                   "password": "handler-pass-1"}).status_code == 429
    # another user from the same address is not locked out by someone else's failures
    assert client.post("/api/v1/auth/token", json={"username": "reviewer",
                                                   "password": "reviewer-pass-1"}).status_code == 201


def test_principal_roles_match_the_users(world: World) -> None:
    for role in ROLES[1:]:
        user = User.objects.get(username=role)
        assert Principal.of(user).roles == frozenset({role})


def test_signing_in_leaves_an_audit_event(world: World) -> None:
    client = world.app.test_client()
    before = AuditEvent.objects.count()
    response = client.post("/api/v1/auth/token",
                           json={"username": "reviewer", "password": "reviewer-pass-1"})
    assert response.status_code == 201
    assert AuditEvent.objects.count() == before + 1

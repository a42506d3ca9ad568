"""The pages over HTTP with Flask's test client (no browser): sign-in limits and
session invalidation, roles and department scope, the stale warning, forms
built from every domain's schema, the language choice, and the translation
catalogue being complete and compiled."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from creditcase.core import ids
from creditcase.core.accounts import User
from creditcase.core.cases import STATES, WorkflowService
from creditcase.core.records import KINDS_OF_RECORD, PUBLICITY_STATES, SEVERITIES
from creditcase.core.records import STATES as RECORD_STATES
from creditcase.core.runtime import Runtime
from creditcase.core.subjects import KINDS
from creditcase.testing import run_pending_checks
from creditcase.web import create_app
from creditcase.web.ui import i18n, schema_forms, supervision
from tests.e2e.seed import procurement

WEB = Path(__file__).resolve().parents[2] / "creditcase" / "web"
SUPPLIER = ids.make_uscc("91410481MA40K1Y37")


@pytest.fixture
def app(settings, host, city) -> Flask:
    runtime = Runtime(settings, host, WorkflowService(host), settings.mongodb_uri)
    return create_app({"TESTING": True, "SECRET_KEY": "pages-secret"}, runtime=runtime)


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client: FlaskClient, username: str, password: str | None = None):
    token = _token(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "csrf_token": token,
                                       "password": password or f"{username}-pass-1"})


def test_sign_in_lands_by_role_and_sign_out_needs_the_token(app):
    client = app.test_client()
    assert sign_in(client, "handler").headers["Location"] == "/cases"
    page = client.get("/cases").get_data(as_text=True)
    assert "本部门办件" in page and "测试局" in page  # the department's name in the header
    assert client.post("/logout").status_code == 400  # no CSRF token: still signed in
    assert client.get("/cases").status_code == 200
    assert client.post("/logout", data={"csrf_token": _token(page)}).status_code == 302
    assert client.get("/cases").headers["Location"].startswith("/login?next=/cases")
    office = app.test_client()
    assert sign_in(office, "office").headers["Location"] == "/supervision"
    assert sign_in(app.test_client(), "provider").headers["Location"] == "/data/records"


def test_failed_sign_ins_are_limited_per_username_and_address(app):
    client = app.test_client()
    for _attempt in range(5):
        response = sign_in(client, "handler", "wrong-password")
        assert response.status_code == 200
        assert "用户名或密码错误" in response.get_data(as_text=True)
    response = sign_in(client, "handler", "wrong-password")
    assert response.status_code == 429
    assert "操作过于频繁" in response.get_data(as_text=True)
    # another username from the same address is not blocked
    assert sign_in(client, "reviewer").status_code == 302


def test_changing_the_password_or_deactivating_the_user_ends_the_session(app):
    client = app.test_client()
    sign_in(client, "handler")
    assert client.get("/cases").status_code == 200
    user = User.objects.get(username="handler")
    user.set_password("a-new-password-1")
    user.save()
    assert client.get("/cases").status_code == 302
    sign_in(client, "handler", "a-new-password-1")
    assert client.get("/cases").status_code == 200
    User.objects(username="handler").update(set__active=False)
    assert client.get("/cases").status_code == 302


def test_roles_and_department_scope_apply_to_every_page(app, workflow, city):
    case = workflow.apply(city.handler, domain="procurement", matter="供应商资格审查",
                          subject={"code": SUPPLIER, "name": "舞钢市测试供应商有限公司"},
                          data=procurement("WGCG-HTTP-1", "测试项目"))
    run_pending_checks(workflow)
    own = app.test_client()
    sign_in(own, "handler")
    assert own.get(f"/cases/{case.pk}").status_code == 200
    assert own.get("/supervision").status_code == 403
    other = app.test_client()
    sign_in(other, "other")
    response = other.get(f"/cases/{case.pk}")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "舞钢市测试供应商有限公司" not in other.get("/cases").get_data(as_text=True)
    provider = app.test_client()
    sign_in(provider, "provider")
    assert provider.get("/cases").status_code == 403
    assert provider.get("/cases/new").status_code == 403
    office = app.test_client()
    sign_in(office, "office")
    assert "舞钢市测试供应商有限公司" in office.get("/cases").get_data(as_text=True)
    page = office.get(f"/cases/{case.pk}").get_data(as_text=True)
    assert "作出决定" not in page or 'id="decision-form"' not in page  # reads, cannot decide
    assert office.get("/cases/new").status_code == 403
    reviewer = app.test_client()
    sign_in(reviewer, "reviewer")
    assert reviewer.get("/supervision").status_code == 200


def test_the_case_page_warns_when_the_check_went_stale(app, workflow, city):
    case = workflow.apply(city.handler, domain="procurement", matter="供应商资格审查",
                          subject={"code": SUPPLIER, "name": "舞钢市测试供应商有限公司"},
                          data=procurement("WGCG-HTTP-2", "测试项目"))
    run_pending_checks(workflow)
    workflow.subject_changed(SUPPLIER, "新的行政处罚记录入库", serious=False)
    client = app.test_client()
    sign_in(client, "handler")
    page = client.get(f"/cases/{case.pk}").get_data(as_text=True)
    assert "信用信息在核查后发生变化：新的行政处罚记录入库" in page
    assert 'id="decision-form"' not in page
    assert 'http-equiv="refresh"' in page


def test_every_domain_gets_a_form_from_its_schema(app, host):
    client = app.test_client()
    sign_in(client, "handler")
    for code, domain in host.domains.items():
        page = client.get(f"/cases/new/{code}").get_data(as_text=True)
        for spec in schema_forms.field_specs(domain.application_schema()):
            assert f'id="{spec.input_id}"' in page, (code, spec.name)
            assert f'for="{spec.input_id}"' in page, (code, spec.name)
            assert spec.label
            if spec.kind == "select":
                assert all(f'value="{choice}"' in page for choice in spec.choices)


def test_form_values_are_converted_for_the_schema():
    specs = [schema_forms.FieldSpec("n", "人数", "integer", True),
             schema_forms.FieldSpec("ok", "已缴纳", "checkbox", True),
             schema_forms.FieldSpec("on", "日期", "date", True),
             schema_forms.FieldSpec("note", "备注", "text", False),
             schema_forms.FieldSpec("items", "条件", "lines", False)]
    form = MultiDict({"data.n": " 3 ", "data.on": "2026-11-02", "data.note": "  ",
                      "data.items": "甲\n\n乙 "})
    assert schema_forms.read_form(specs, form) == {"n": 3, "ok": False, "on": "2026-11-02",
                                                   "items": ["甲", "乙"]}
    form = MultiDict({"data.n": "三", "data.ok": "on"})
    assert schema_forms.read_form(specs, form) == {"n": "三", "ok": True}


def test_the_language_follows_the_switch_then_the_browser(app):
    client = app.test_client()
    assert 'lang="zh-CN"' in client.get("/login").get_data(as_text=True)
    english = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert 'lang="en"' in english.get_data(as_text=True)
    assert "Sign in" in english.get_data(as_text=True)
    response = client.get("/lang/zh?next=/login")
    assert response.headers["Location"] == "/login"
    chinese = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert 'lang="zh-CN"' in chinese.get_data(as_text=True)
    assert client.get("/lang/en?next=https://evil.example/").headers["Location"] == "/"


def test_the_api_is_not_asked_for_a_csrf_token(app):
    response = app.test_client().post("/api/v1/auth/token",
                                      json={"username": "handler", "password": "handler-pass-1"})
    assert response.status_code == 201


def test_quarters_are_parsed_and_bounded_in_beijing_time():
    period = supervision.parse_period("2026Q4")
    assert (period.start, period.end) == (dt.date(2026, 10, 1), dt.date(2027, 1, 1))
    assert period.bounds == (dt.datetime(2026, 9, 30, 16, tzinfo=dt.UTC),
                             dt.datetime(2026, 12, 31, 16, tzinfo=dt.UTC))
    assert supervision.parse_period("all").bounds is None
    assert supervision.parse_period("2026Q5").code == supervision.quarter_of(
        dt.datetime.now(supervision.BEIJING).date())


def test_every_core_code_has_a_label():
    assert set(i18n.CASE_STATES) == set(STATES)
    assert set(i18n.RECORD_KINDS) == set(KINDS_OF_RECORD)
    assert set(i18n.SEVERITIES) == set(SEVERITIES)
    assert set(i18n.RECORD_STATES) == set(RECORD_STATES)
    assert set(i18n.PUBLICITY_STATES) == set(PUBLICITY_STATES)
    assert set(i18n.SUBJECT_KINDS) == set(KINDS)


def test_the_english_catalogue_translates_every_message_and_is_compiled():
    mapping = [("**/ui/**.py", "python"), ("**/templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = {message[2] for message in extract_from_dir(str(WEB), mapping, keywords=keywords)
             if isinstance(message[2], str)}
    po_path = WEB / "translations" / "en" / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as handle:
        catalogue = read_po(handle)
    translated = {m.id: m.string for m in catalogue if m.id}
    missing = sorted(found - {k for k, v in translated.items() if v})
    assert not missing, f"messages without an English translation: {missing[:10]}"
    with po_path.with_suffix(".mo").open("rb") as handle:
        compiled = {m.id: m.string for m in read_mo(handle) if m.id}
    assert compiled == translated, "messages.mo is out of date: compile messages.po"
    for message_id, text in translated.items():
        assert re.findall(r"%\(\w+\)s", message_id) == re.findall(r"%\(\w+\)s", text), message_id


def test_the_session_cookie_is_short_lived_and_not_sent_cross_site(app):
    client = app.test_client()
    response = sign_in(client, "handler")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    expires = re.search(r"Expires=([^;]+)", cookie).group(1)
    lifetime = dt.datetime.strptime(expires, "%a, %d %b %Y %H:%M:%S GMT").replace(
        tzinfo=dt.UTC) - dt.datetime.now(dt.UTC)
    assert dt.timedelta(hours=7) < lifetime <= dt.timedelta(hours=8)


def test_queue_filters_combine(app, workflow, city):
    from creditcase.core.accounts import SYSTEM
    from creditcase.core.lists import add_entry

    listed = ids.make_uscc("91410481MA40K2Y37")
    add_entry(SYSTEM, list_type="SXBZXR", subject_code=listed, subject_name="舞钢市甲物资有限公司",
              basis_doc_no="（2026）豫0481执1号", listed_on=dt.date.today() - dt.timedelta(days=9))
    for code, name, project in ((listed, "舞钢市甲物资有限公司", "WGCG-Q-1"),
                                (SUPPLIER, "舞钢市乙物资有限公司", "WGCG-Q-2")):
        workflow.apply(city.handler, domain="procurement", matter="供应商资格审查",
                       subject={"code": code, "name": name}, data=procurement(project, "测试项目"))
    run_pending_checks(workflow)
    client = app.test_client()
    sign_in(client, "handler")

    def names(query: str) -> list[str]:
        page = client.get(f"/cases?{query}").get_data(as_text=True)
        return re.findall(r"舞钢市[甲乙]物资有限公司", page)

    assert names("hits=any&q=甲") == ["舞钢市甲物资有限公司"]
    assert names("hits=any&q=乙") == []
    assert names("hits=none") == ["舞钢市乙物资有限公司"]
    assert names("hits=black&q=物资") == ["舞钢市甲物资有限公司"]
    assert names("sort=hits")[0] == "舞钢市甲物资有限公司"
    assert names("due=overdue") == []
    assert names("due=10") == []
    assert len(names("due=")) == 2

"""The demo city (``creditcase demo``): a complete, valid city on a real database,
with cases in every domain the demo knows.

Password hashing is made cheap here (argon2 with minimal cost): the demo creates
two dozen users per load and the test verifies every password, which at
production cost would dominate the run.
"""

from __future__ import annotations

import datetime as dt

import pytest

from creditcase.core import accounts, ids
from creditcase.core.accounts import ROLES, Department, User, user_for_token
from creditcase.core.cases import STATES, Case, WorkflowService
from creditcase.core.checks import CreditCheck
from creditcase.core.evidence import EvidenceBundle, verify_chain
from creditcase.core.lists import ListEntry
from creditcase.core.outbox import CHECKS_EXCHANGE, EVENTS_EXCHANGE, OutboxEntry
from creditcase.core.records import CreditRecord
from creditcase.core.reports import Agency, CreditReport, report_validity
from creditcase.core.runtime import Runtime
from creditcase.core.subjects import LEGAL, NATURAL, Subject
from creditcase.demo import (
    APPLICATION_FACTORIES,
    DEPARTMENTS,
    MIN_SUBJECTS,
    DemoAlreadyLoaded,
    DemoSummary,
    load_demo,
)
from creditcase.plugins.state_assets.counterparty import was_queried

SUBJECTS = 60


@pytest.fixture
def runtime(db, host, settings, monkeypatch) -> Runtime:
    return Runtime(settings, host, WorkflowService(host), settings.mongodb_uri)


def _assert_every_domain_served(runtime: Runtime, summary: DemoSummary) -> None:
    """Every domain the demo knows has cases, an approval among them, and data that fits
    the domain's own rules; installed domains the demo does not know (a third party's)
    get none."""
    host = runtime.host
    known = set(APPLICATION_FACTORIES)
    assert set(summary.domain_cases) == known
    cases = list(Case.objects)
    assert {c.domain for c in cases} == known
    assert sum(sum(states.values()) for states in summary.domain_cases.values()) == len(cases)
    for case in cases:
        domain = host.domain(case.domain)
        domain.application_schema().load(dict(case.data))  # still valid under the schema
        assert case.subject_kind in domain.subject_kinds
        assert domain.subject_errors(case.subject_kind, case.subject_code) == {}
        department = Department.objects.get(code=case.department)
        assert case.domain in department.enabled_domains
    decided = [c for c in cases if c.state in ("decided", "archived")]
    for code in known:
        assert any(c.domain == code and c.decision.outcome != "rejected" for c in decided), code

    # staffing concerns public institutions (USCC 12…), personnel natural persons
    staffing = [c for c in cases if c.domain == "staffing"]
    assert staffing and all(c.subject_code.startswith("12410481") and c.subject_kind == LEGAL
                            for c in staffing)
    assert all(c.subject_kind == NATURAL for c in cases if c.domain == "personnel")

    # state assets: the transferor is another registered subject, checked as the counterparty
    for case in (c for c in cases if c.domain == "state_assets"):
        transferor = case.data["transferor_code"]
        assert transferor != case.subject_code
        assert Subject.objects.get(code=transferor).name == case.data["transferor_name"]
        assert case.related_subjects == [transferor]
        if case.latest_check_id:
            check = CreditCheck.objects.get(pk=case.latest_check_id)
            assert was_queried(check.result["notes"], transferor)

    # where a valid third-party report is required: approvals hold one, and an applicant
    # without one is refused
    for code in sorted(c for c in known if host.domain(c).requires_report):
        outcomes = {(c.decision.outcome != "rejected",
                     CreditCheck.objects.get(pk=c.decision.check_id).has_valid_report)
                    for c in decided if c.domain == code}
        assert (True, True) in outcomes and (False, False) in outcomes, (code, outcomes)
        assert (True, False) not in outcomes, code


def _fingerprint() -> dict[str, list]:
    """What a seed determines (tokens, ids and timestamps aside)."""
    return {
        "subjects": sorted((s.code, s.name, s.kind) for s in Subject.objects),
        "records": sorted((r.source_department, r.doc_no, r.subject_code, r.kind, r.severity or "")
                          for r in CreditRecord.objects),
        "lists": sorted((e.list_type, e.basis_doc_no, e.subject_code) for e in ListEntry.objects),
        "reports": sorted((r.number, r.subject_code, r.rating, r.issue_date.isoformat())
                          for r in CreditReport.objects),
        "cases": sorted((c.domain, c.department, c.subject_code, c.state, c.matter) for c in Case.objects),
        "users": sorted((u.username, u.department, *u.roles) for u in User.objects),
    }


def test_demo_loads_a_complete_valid_city_once_and_reloads_on_reset(runtime):
    summary = load_demo(runtime, subjects=SUBJECTS)

    # departments: the policy's, each with the installed domains it handles
    assert summary.departments == len(DEPARTMENTS) == Department.objects.count()
    installed = set(runtime.host.domains)
    for spec in DEPARTMENTS:
        department = Department.objects.get(code=spec.code)
        assert set(department.enabled_domains) == set(spec.domains) & installed
        assert ids.validate(department.uscc) == ("uscc", department.uscc)
        assert department.uscc.startswith("11410481")
    assert [d.code for d in Department.objects(is_credit_office=True)] == ["410481-XYB"]
    # no department names a domain that does not exist, and every domain the demo knows is
    # handled by a department
    for spec in DEPARTMENTS:
        assert set(spec.domains) <= installed, (spec.code, set(spec.domains) - installed)
    assert set(APPLICATION_FACTORIES) <= installed
    assert {d for dept in Department.objects for d in dept.enabled_domains} == set(APPLICATION_FACTORIES)

    # users: every role, every password works, one token each
    assert {role for _, _, roles, _ in summary.users for role in roles.split(",")} == set(ROLES)
    assert len(summary.users) == User.objects.count() == len(summary.tokens)
    for username, password, roles, department in summary.users:
        user = User.objects.get(username=username)
        assert user.check_password(password), username
        assert not user.check_password(password + "x")
        assert user.department == department and ",".join(user.roles) == roles
        assert len(user.tokens) == 1
        assert user_for_token(summary.tokens[username]).username == username
    case_departments = {code for _, _, roles, code in summary.users if "handler" in roles.split(",")}
    assert case_departments == {d.code for d in DEPARTMENTS if not d.credit_office}

    # subjects: the requested number, every code valid, about a fifth natural persons
    subjects = list(Subject.objects)
    assert summary.subjects == len(subjects) == SUBJECTS
    for subject in subjects:
        kind, code = ids.validate(subject.code)
        assert code == subject.code
        assert (kind == "id_number") == (subject.kind == NATURAL)
        if kind == "id_number":
            assert subject.code.startswith("410481")
            assert dt.date(1950, 1, 1) <= ids.id_number_birth_date(subject.code) <= dt.date(2000, 12, 31)
    prefixes = {s.code[:2] for s in subjects if s.kind != NATURAL}
    assert {"91", "92", "12"} <= prefixes and prefixes & {"51", "52"}
    assert 0.15 <= sum(s.kind == NATURAL for s in subjects) / SUBJECTS <= 0.25

    # records: 双公示 fields, dates in the calendar's period, kinds beyond licence and penalty
    records = list(CreditRecord.objects)
    assert summary.records == len(records)
    kinds = {r.kind for r in records}
    assert {"licence", "penalty", "dishonest_debtor", "major_tax_violation", "award",
            "contract_performance"} <= kinds
    assert {r.severity for r in records if r.kind == "penalty"} == {"minor", "general", "serious"}
    for record in records:
        assert dt.date(2025, 1, 1) <= record.decision_date <= dt.date(2026, 11, 20)
        if record.kind == "licence":
            assert record.fields["XK_WSH"] == record.doc_no
            assert record.fields["XK_XDR_MC"] == record.subject_name
        if record.kind == "penalty":
            assert record.fields["CF_WSH"] == record.doc_no
            if "CF_NR_FK" in record.fields:
                assert float(record.fields["CF_NR_FK"]) > 0
        if record.kind in ("licence", "penalty"):
            assert record.publication_due is not None

    # lists: black-listed suppliers and A-grade taxpayers among them
    entries = list(ListEntry.objects)
    assert summary.list_entries == len(entries)
    types = {e.list_type for e in entries}
    assert {"SXBZXR", "ZDSSWF", "ZFCG_YZWF", "SCJG_YZWF", "TQNMGGZ", "A_TAXPAYER", "AEO"} <= types
    today = dt.date.today()
    barred_suppliers = {e.subject_code for e in entries
                        if e.list_type in ("SXBZXR", "ZDSSWF", "ZFCG_YZWF") and e.in_force(today)
                        and ids.detect_kind(e.subject_code) == "uscc"}
    assert len(barred_suppliers) >= 3
    assert sum(e.list_type == "A_TAXPAYER" and e.in_force(today) for e in entries) >= 3

    # agencies and reports: filed and suspended, some reports valid, some older than a year
    assert {a.status for a in Agency.objects} == {"filed", "suspended"}
    reports = list(CreditReport.objects)
    assert summary.reports == len(reports)
    validity = [report_validity(r, today) for r in reports]
    assert any(v.valid for v in validity)
    assert any("older than" in " ".join(v.reasons) for v in validity)
    assert any("suspended" in " ".join(v.reasons) for v in validity)
    for report in reports:
        assert set(report.sections) == {"基本情况", "经营业务", "主要财务数据与指标", "银行信用记录",
                                        "合同履约", "公共信用监管信息", "司法信用信息"}

    # cases: every state, real checks and evidence, the two procurement stories
    assert set(summary.cases) == set(STATES)
    assert all(summary.cases[state] > 0 for state in STATES), summary.cases
    assert sum(summary.cases.values()) == Case.objects.count()
    for case in Case.objects(state__in=("checked", "stale", "decided", "archived")):
        assert CreditCheck.objects(case_id=str(case.pk)).count() >= 1
    for case in Case.objects(state__in=("decided", "archived")):
        check = CreditCheck.objects.get(pk=case.decision.check_id)
        assert {f.measure for f in case.decision.feedback} == {m["code"] for m in check.measures}
    count, problems = verify_chain()
    assert problems == []
    assert count == summary.cases["archived"] == EvidenceBundle.objects.count()
    procurement = list(Case.objects(domain="procurement", state__in=("decided", "archived")))
    rejected_listed = [c for c in procurement if c.decision.outcome == "rejected" and c.black_hits
                       and any(f.measure == "ZFCG-JZ" and f.applied for f in c.decision.feedback)]
    assert rejected_listed
    overridden = [c for c in procurement if c.decision.override is not None]
    assert overridden
    override = overridden[0].decision.override
    assert override.reviewer != overridden[0].decision.decided_by
    assert any(not f.applied and f.reason for f in overridden[0].decision.feedback)
    assert any(c.review_flags for c in Case.objects(state="archived"))
    assert all(c.stale_reason for c in Case.objects(state="stale"))
    _assert_every_domain_served(runtime, summary)

    # the load's events count as delivered; the open cases' check requests wait for the worker
    assert OutboxEntry.objects(exchange=EVENTS_EXCHANGE, sent_at=None).count() == 0
    waiting = {OutboxEntry.objects.get(event_id=c.check_request_id).sent_at is None
               for c in Case.objects(state__in=("applied", "checking", "stale"))}
    assert waiting == {True}
    assert OutboxEntry.objects(exchange=CHECKS_EXCHANGE, sent_at=None).count() >= \
        sum(summary.cases[s] for s in ("applied", "checking", "stale"))

    text = summary.login_text()
    assert "http://127.0.0.1:5000" in text and "/api/v1/cases" in text and "Bearer cc_" in text
    for code, states in summary.domain_cases.items():
        assert f"{runtime.host.domain(code).name_zh} {code} {sum(states.values())}" in text
    for username, password, _, department in summary.users:
        assert username in text and password in text and department in text

    # loaded once: a second load refuses; reset wipes and loads the same city again
    first = _fingerprint()
    with pytest.raises(DemoAlreadyLoaded):
        load_demo(runtime, subjects=SUBJECTS)
    assert _fingerprint() == first
    again = load_demo(runtime, subjects=SUBJECTS, reset=True)
    assert _fingerprint() == first
    assert again.users == summary.users and again.cases == summary.cases
    assert user_for_token(summary.tokens[summary.users[0][0]]) is None
    assert user_for_token(again.tokens[summary.users[0][0]]) is not None
    assert verify_chain() == (again.cases["archived"], [])


def test_the_smallest_demo_city_still_serves_every_domain(runtime):
    summary = load_demo(runtime, subjects=MIN_SUBJECTS)
    assert summary.subjects == MIN_SUBJECTS
    assert all(summary.cases[state] > 0 for state in STATES), summary.cases
    _assert_every_domain_served(runtime, summary)
    assert verify_chain() == (summary.cases["archived"], [])


def test_demo_refuses_a_database_holding_other_data(runtime):
    accounts.create_department("410481-T1", "测试局")
    with pytest.raises(DemoAlreadyLoaded, match="1 departments"):
        load_demo(runtime, subjects=40)
    assert Subject.objects.count() == 0

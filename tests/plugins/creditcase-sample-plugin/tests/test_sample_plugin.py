"""Tests of the sample plugin, written as its author would: with the
``creditcase.testing`` fixtures, the plugin modules registered on a host of
their own, and the stand-in provincial service on a local port."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from creditcase.core.cases import Case, WorkflowService
from creditcase.core.checks import SubjectRef
from creditcase.core.errors import Conflict, RuleViolation
from creditcase.core.records import push_record
from creditcase.testing import enable_domain, make_subject, run_pending_checks

try:
    from creditcase_sample_plugin import channel, permit
    from creditcase_sample_plugin.channel import (
        TIMEOUT_ENV,
        TOKEN_ENV,
        URL_ENV,
        ProvincialCreditChannel,
    )
    from creditcase_sample_plugin.stub_service import ProvincialServiceStub
except ModuleNotFoundError as exc:
    pytest.fail(f"{exc}: install the plugin first: pip install ./tests/plugins/creditcase-sample-plugin",
                pytrace=False)

# here rather than in a conftest.py, so that this file also runs inside creditcase's own suite
pytest_plugins = ["creditcase.testing"]


@pytest.fixture
def service(monkeypatch):
    with ProvincialServiceStub() as stub:
        monkeypatch.setenv(URL_ENV, stub.url)
        monkeypatch.setenv(TIMEOUT_ENV, "2")
        yield stub


@pytest.fixture
def wf(plugin_host, city) -> WorkflowService:
    enable_domain(city.department, permit.DOMAIN_CODE)
    return WorkflowService(plugin_host(permit, channel))


def application(**changes: Any) -> dict[str, Any]:
    start = dt.date.today() + dt.timedelta(days=10)
    data = {"site_address": "舞钢市垭口街道建设路与湖滨大道交叉口东北角",
            "facility_type": "单立柱广告牌", "area_m2": "48.5",
            "display_from": start.isoformat(),
            "display_until": (start + dt.timedelta(days=730)).isoformat(),
            "safety_report_no": "豫检〔2026〕第0371号"}
    data.update(changes)
    return data


def checked(wf: WorkflowService, city, subject, **changes: Any) -> Case:
    case = wf.apply(city.handler, domain=permit.DOMAIN_CODE, matter="HGGG-001 户外广告设施设置许可",
                    subject=subject.ref, data=application(**changes))
    assert run_pending_checks(wf) == 1
    return Case.objects.get(pk=case.pk)


def test_the_display_period_is_at_most_three_years(wf, city, service):
    start = dt.date.today()
    with pytest.raises(RuleViolation) as err:
        wf.apply(city.handler, domain=permit.DOMAIN_CODE, matter="HGGG-001",
                 subject=make_subject().ref,
                 data=application(display_from=start.isoformat(),
                                  display_until=(start + dt.timedelta(days=4 * 365)).isoformat()))
    assert "data.display_until" in err.value.errors


def test_a_clean_applicant_is_approved_after_the_provincial_query(wf, city, service):
    subject = make_subject()
    case = checked(wf, city, subject)
    check = wf.latest_check(case)
    assert check.complete
    assert {c["name"]: c["available"] for c in check.result["channels"]} == {
        "records": True, "lists": True, "sample_province": True}
    assert service.requests[-1]["body"]["subject_code"] == subject.code
    assert check.result["recommendation"]["outcome"] == "approve"
    decided = wf.decide(city.handler, str(case.pk), outcome="approved", feedback=[])
    assert decided.decision.rule_versions["domain"] == "sample_permit/sample-1.0"


def test_adverse_information_allows_a_conditional_approval_only(wf, city, service):
    subject = make_subject()
    push_record(city.provider, {
        "subject_code": subject.code, "subject_name": subject.name, "kind": "penalty",
        "severity": "general", "title": "擅自设置户外广告", "content": "罚款人民币伍仟元",
        "doc_no": "舞城管罚〔2026〕41号", "decision_date": dt.date.today() - dt.timedelta(days=60),
        "authority": "舞钢市城市管理局"})
    case = checked(wf, city, subject)
    check = wf.latest_check(case)
    assert check.result["recommendation"]["outcome"] == "approve_with_conditions"
    assert permit.CONDITION in check.result["recommendation"]["reasons"]
    assert permit.SHORTEN_NOTE in check.result["notes"]
    with pytest.raises(RuleViolation) as err:
        wf.decide(city.handler, str(case.pk), outcome="approved", feedback=[])
    assert "approve with conditions or reject" in err.value.errors["outcome"][0]
    decided = wf.decide(city.handler, str(case.pk), outcome="approved_with_conditions",
                        conditions=[permit.CONDITION], feedback=[])
    assert decided.decision.outcome == "approved_with_conditions"


def test_no_decision_while_the_provincial_platform_is_down(wf, city, service):
    service.mode = "error"
    case = checked(wf, city, make_subject())
    check = wf.latest_check(case)
    assert not check.complete
    province = next(c for c in check.result["channels"] if c["name"] == "sample_province")
    assert province["available"] is False and "HTTP 503" in province["error"]
    assert check.result["recommendation"]["outcome"] == "review"
    with pytest.raises(Conflict, match="channel unavailable"):
        wf.decide(city.handler, str(case.pk), outcome="approved", feedback=[])


@pytest.mark.parametrize("mode,reason", [
    ("error", "HTTP 503"), ("garbage", "not JSON"), ("malformed", "unexpected answer"),
    ("slow", "timed out")])
def test_every_failure_is_reported_as_unavailable(service, mode, reason):
    service.mode, service.delay = mode, 2.0
    answer = ProvincialCreditChannel(timeout=0.3).query(
        SubjectRef(make_subject().code, "某公司", "LEGAL"), dt.date.today())
    assert answer.available is False and answer.hits == []
    assert "channel unavailable" in answer.error and reason in answer.error


def test_unconfigured_or_unreachable_service_is_unavailable(monkeypatch):
    subject = SubjectRef(make_subject().code, "某公司", "LEGAL")
    monkeypatch.delenv(URL_ENV, raising=False)
    answer = ProvincialCreditChannel().query(subject, dt.date.today())
    assert not answer.available and URL_ENV in answer.error
    with ProvincialServiceStub() as stub:
        url = stub.url
    answer = ProvincialCreditChannel(url=url, timeout=1).query(subject, dt.date.today())
    assert not answer.available and "cannot reach" in answer.error


def test_hits_and_token_are_passed_through(monkeypatch):
    subject = make_subject()
    with ProvincialServiceStub(token="s3cret") as stub:
        stub.hits[subject.code] = [stub.black_list_hit("SXBZXR")]
        monkeypatch.setenv(URL_ENV, stub.url)
        anonymous = ProvincialCreditChannel().query(
            SubjectRef(subject.code, subject.name, subject.kind), dt.date.today())
        assert not anonymous.available and "HTTP 401" in anonymous.error
        monkeypatch.setenv(TOKEN_ENV, "s3cret")
        answer = ProvincialCreditChannel().query(
            SubjectRef(subject.code, subject.name, subject.kind), dt.date.today())
    assert answer.available
    [hit] = answer.hits
    assert (hit.channel, hit.code, hit.adverse, hit.color) == ("sample_province", "SXBZXR", True,
                                                               "black")
    assert stub.requests[-1]["authorization"] == "Bearer s3cret"

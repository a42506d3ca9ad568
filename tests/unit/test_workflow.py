"""The workflow guards of design §4, on a test domain so that only core rules apply."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import marshmallow as ma
import pytest

from creditcase import hookimpl
from creditcase.core import accounts, audit, ids, lists, outbox
from creditcase.core.cases import Case, WorkflowService
from creditcase.core.checks import CreditCheck
from creditcase.core.domains import Domain
from creditcase.core.errors import ConcurrentUpdate, Conflict, NotFound, PermissionDenied, RuleViolation
from creditcase.core.evidence import EvidenceBundle, verify_chain
from creditcase.core.plugins import PluginHost
from creditcase.core.records import push_record
from creditcase.testing import run_pending_checks

SUPPLIER = ids.make_uscc("91410481MA40K1Y37")
PERSON = ids.make_id_number("41048119850312003")


class SampleApplication(ma.Schema):
    amount = ma.fields.Decimal(required=True, validate=ma.validate.Range(min=1))
    purpose = ma.fields.String(required=True)


class SampleDomain(Domain):
    code = "testing"
    name_zh = "测试领域"
    name_en = "Testing"
    application_schema = SampleApplication
    max_check_age = dt.timedelta(days=7)


class Plugin:
    vetoes: list[str] = []

    @hookimpl
    def creditcase_register_domains(self):
        return [SampleDomain()]

    @hookimpl
    def creditcase_before_decision(self, case, check, decision):
        return list(self.vetoes)


@pytest.fixture(scope="module")
def host():
    return PluginHost.create(load_entrypoints=False, extra=[Plugin()])


@pytest.fixture
def wf(host, db):
    Plugin.vetoes = []
    return WorkflowService(host)


def apply(wf, city, code=SUPPLIER, **data):
    return wf.apply(city.handler, domain="testing", matter="TEST-001",
                    subject={"code": code, "name": "舞钢市测试有限公司"},
                    data={"amount": "1000", "purpose": "测试", **data})


def blacklist(city, code=SUPPLIER, list_type="SXBZXR"):
    return lists.add_entry(city.credit_office, list_type=list_type, subject_code=code,
                           subject_name="舞钢市测试有限公司", basis_doc_no=f"(2026)豫0481执{list_type}号",
                           listed_on=dt.date(2026, 1, 5))


def checked_case(wf, city):
    case = apply(wf, city)
    assert run_pending_checks(wf) == 1
    return Case.objects.get(pk=case.pk)


def test_apply_writes_case_audit_event_and_check_request_together(wf, city):
    case = apply(wf, city)
    assert case.state == "applied" and case.version == 0
    entries = OutboxKinds.of(case)
    assert entries == {"case.applied", "check.request"}
    assert [e.action for e in audit.trail("Case", str(case.pk))] == ["case.applied"]
    assert case.due_date is not None


class OutboxKinds:
    @staticmethod
    def of(case):
        return {e.routing_key for e in outbox.OutboxEntry.objects(body__data__case_id=str(case.pk))}


@pytest.mark.parametrize("subject,field,rule", [
    ({"code": "91350100M000100Y4Z", "name": "x"}, "subject.code", "charset"),
    ({"code": "91350100M000100Y44", "name": "x"}, "subject.code", "check_character"),
    ({"code": "9135010", "name": "x"}, "subject.code", "length"),
])
def test_apply_refuses_invalid_identity_codes(wf, city, subject, field, rule):
    with pytest.raises(RuleViolation) as err:
        wf.apply(city.handler, domain="testing", matter="m", subject=subject,
                 data={"amount": "1", "purpose": "p"})
    assert err.value.errors[field][0].startswith(rule)
    assert Case.objects.count() == 0


def test_apply_refuses_unknown_domain_and_domain_not_enabled(wf, city):
    with pytest.raises(RuleViolation) as err:
        wf.apply(city.handler, domain="nope", matter="m", subject={"code": SUPPLIER, "name": "x"},
                 data={})
    assert "domain" in err.value.errors
    accounts.Department.objects(code=city.department).update(set__enabled_domains=[])
    with pytest.raises(RuleViolation) as err:
        apply(wf, city)
    assert "not enabled" in err.value.errors["domain"][0]


def test_apply_validates_application_data_under_the_domain_schema(wf, city):
    with pytest.raises(RuleViolation) as err:
        wf.apply(city.handler, domain="testing", matter="m",
                 subject={"code": SUPPLIER, "name": "x"}, data={"amount": "0", "extra": 1})
    assert set(err.value.errors) == {"data.amount", "data.purpose", "data.extra"}


def test_only_handlers_apply(wf, city):
    with pytest.raises(PermissionDenied):
        wf.apply(city.provider, domain="testing", matter="m",
                 subject={"code": SUPPLIER, "name": "x"}, data={"amount": "1", "purpose": "p"})


def test_check_is_an_immutable_snapshot_with_a_receipt(wf, city):
    blacklist(city)
    case = checked_case(wf, city)
    assert case.state == "checked" and case.black_hits == 1
    check = CreditCheck.objects.get(pk=case.latest_check_id)
    from creditcase.core.canonical import digest

    assert digest(check.result) == check.result_hash == check.receipt["result_hash"]
    assert [c["name"] for c in check.receipt["channels"]] == ["records", "lists", "reports"]
    assert all(c["data_as_of"] for c in check.receipt["channels"])
    assert check.receipt["requested_by"] == "handler"
    codes = {m["code"]: m for m in check.measures}
    # ZD-SC applies to every domain; ZFCG-JZ is procurement-only and must not appear here
    assert set(codes) == {"ZD-SC"}
    assert codes["ZD-SC"]["legal_basis"] and codes["ZD-SC"]["basis_list_version"]
    assert check.result["grade"]["grade"] in "ABCD"


def test_measure_without_legal_basis_is_never_enforced(wf, city):
    lists.Measure.objects(code="ZD-SC").update(set__legal_basis="")
    blacklist(city)
    case = checked_case(wf, city)
    check = CreditCheck.objects.get(pk=case.latest_check_id)
    assert check.measures == []
    assert check.result["skipped_measures"] == [
        {"code": "ZD-SC", "reason": "no legal basis: not enforceable"}]


def test_decision_needs_a_check(wf, city):
    case = apply(wf, city)
    with pytest.raises(Conflict, match="no credit check"):
        wf.decide(city.handler, str(case.pk), outcome="approved", feedback=[])


def test_decision_needs_feedback_for_every_measure(wf, city):
    blacklist(city)
    case = checked_case(wf, city)
    with pytest.raises(RuleViolation) as err:
        wf.decide(city.handler, str(case.pk), outcome="approved", feedback=[])
    assert "missing: ZD-SC" in err.value.errors["feedback"][0]
    with pytest.raises(RuleViolation) as err:
        wf.decide(city.handler, str(case.pk), outcome="approved",
                  feedback=[{"measure": "ZD-SC", "applied": False}])
    assert "feedback.0.reason" in err.value.errors
    with pytest.raises(RuleViolation) as err:
        wf.decide(city.handler, str(case.pk), outcome="approved",
                  feedback=[{"measure": "ZD-SC", "applied": True},
                            {"measure": "NOPE", "applied": True}])
    assert "feedback.1.measure" in err.value.errors
    decided = wf.decide(city.handler, str(case.pk), outcome="approved",
                        feedback=[{"measure": "ZD-SC", "applied": True, "outcome_text": "重点审查"}])
    assert decided.state == "decided" and decided.decision.feedback[0].applied


def test_mandatory_measure_needs_reviewer_override(wf, city):
    lists.Measure.objects(code="ZD-SC").update(set__binding="MANDATORY", set__effect="reject")
    blacklist(city)
    case = checked_case(wf, city)
    fb = [{"measure": "ZD-SC", "applied": False, "reason": "法院已解除限制"}]
    with pytest.raises(RuleViolation, match="workflow rules") as err:
        wf.decide(city.handler, str(case.pk), outcome="approved", feedback=fb)
    assert "override" in err.value.errors["feedback"][0]
    # applying a reject measure while approving contradicts itself
    with pytest.raises(RuleViolation) as err:
        wf.decide(city.handler, str(case.pk), outcome="approved",
                  feedback=[{"measure": "ZD-SC", "applied": True}])
    assert "must be rejected" in err.value.errors["outcome"][0]
    with pytest.raises(PermissionDenied):
        wf.approve_override(city.handler, str(case.pk), measures=["ZD-SC"], reason="x")
    with pytest.raises(RuleViolation) as err:
        wf.approve_override(city.reviewer, str(case.pk), measures=["ZD-SC"], reason=" ")
    assert "reason" in err.value.errors
    wf.approve_override(city.reviewer, str(case.pk), measures=["ZD-SC"], reason="执行异议已成立")
    with pytest.raises(RuleViolation, match="workflow rules") as err:
        wf.decide(city.reviewer, str(case.pk), outcome="approved", feedback=fb)
    assert "cannot also decide" in err.value.errors["feedback"][0]
    decided = wf.decide(city.handler, str(case.pk), outcome="approved", feedback=fb)
    assert decided.decision.override.reviewer == "reviewer"
    actions = [e.action for e in audit.trail("Case", str(case.pk))]
    assert actions == ["case.applied", "case.checked", "case.override_approved", "case.decided"]


def test_stale_check_blocks_decision_until_rechecked(wf, city):
    case = checked_case(wf, city)
    assert wf.subject_changed(SUPPLIER, "record.created: 行政处罚", serious=False) == {
        "stale": 1, "flagged": 0}
    with pytest.raises(Conflict, match="stale"):
        wf.decide(city.handler, str(case.pk), outcome="approved", feedback=[])
    assert run_pending_checks(wf) == 1
    case = Case.objects.get(pk=case.pk)
    assert case.state == "checked" and case.stale_reason is None
    wf.decide(city.handler, str(case.pk), outcome="approved", feedback=[])


def test_superseded_check_request_is_ignored(wf, city):
    case = apply(wf, city)
    first = case.check_request_id
    wf.request_check(city.handler, str(case.pk))
    assert wf.perform_check(str(case.pk), first, "handler") is None
    assert run_pending_checks(wf) == 1
    assert CreditCheck.objects.count() == 1


def test_check_older_than_domain_max_age_is_refused(wf, city):
    case = checked_case(wf, city)
    CreditCheck._get_collection().update_many(
        {}, {"$set": {"checked_at": dt.datetime.now(dt.UTC) - dt.timedelta(days=8)}})
    with pytest.raises(Conflict, match="older than 7 days"):
        wf.decide(city.handler, str(case.pk), outcome="approved", feedback=[])


def test_unavailable_channel_blocks_the_decision(wf, city, host, monkeypatch):
    def down(subject, on):
        raise TimeoutError("provincial platform timed out")

    monkeypatch.setattr(host.channels["reports"], "query", down)
    case = checked_case(wf, city)
    check = CreditCheck.objects.get(pk=case.latest_check_id)
    assert check.result["recommendation"]["outcome"] == "review"
    with pytest.raises(Conflict, match="channel unavailable"):
        wf.decide(city.handler, str(case.pk), outcome="approved", feedback=[])


def test_domain_plugin_may_veto(wf, city):
    case = checked_case(wf, city)
    Plugin.vetoes = ["测试领域: 预算未批复"]
    with pytest.raises(RuleViolation) as err:
        wf.decide(city.handler, str(case.pk), outcome="approved", feedback=[])
    assert err.value.errors["outcome"] == ["测试领域: 预算未批复"]
    assert Case.objects.get(pk=case.pk).state == "checked"


def test_outcome_rules(wf, city):
    case = checked_case(wf, city)
    with pytest.raises(RuleViolation) as err:
        wf.decide(city.handler, str(case.pk), outcome="approved_with_conditions", feedback=[])
    assert "conditions" in err.value.errors
    with pytest.raises(RuleViolation) as err:
        wf.decide(city.handler, str(case.pk), outcome="rejected", feedback=[])
    assert "reasons" in err.value.errors
    with pytest.raises(RuleViolation):
        wf.decide(city.handler, str(case.pk), outcome="maybe", feedback=[])


def test_deciding_twice_and_concurrently(wf, city):
    case = checked_case(wf, city)
    with pytest.raises(ConcurrentUpdate):
        wf.decide(city.handler, str(case.pk), outcome="approved", feedback=[],
                  expected_version=case.version - 1)

    def decide(_):
        try:
            wf.decide(city.handler, str(case.pk), outcome="approved", feedback=[])
            return "ok"
        except Conflict:
            return "conflict"

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(decide, range(4)))
    assert results.count("ok") == 1 and results.count("conflict") == 3
    assert audit.AuditEvent.objects(action="case.decided").count() == 1
    assert outbox.OutboxEntry.objects(routing_key="case.decided").count() == 1


def test_department_scoping(wf, city):
    case = apply(wf, city)
    with pytest.raises(NotFound):
        wf.get(city.other_handler, str(case.pk))
    assert wf.get(city.credit_office, str(case.pk)).pk == case.pk
    assert list(wf.queue(city.other_handler)) == []
    with pytest.raises(NotFound):
        wf.get(city.handler, "not-an-id")


def test_archive_chains_evidence_and_verify_names_tampered_bundle(wf, city):
    blacklist(city)
    bundles = []
    for _ in range(3):
        case = checked_case(wf, city)
        wf.decide(city.handler, str(case.pk), outcome="rejected", reasons="被列入失信被执行人名单",
                  feedback=[{"measure": "ZD-SC", "applied": True}])
        bundles.append(wf.archive(city.handler, str(case.pk)))
    assert [b.seq for b in bundles] == [1, 2, 3]
    assert bundles[1].prev_hash == bundles[0].hash
    content = bundles[2].document
    assert content["decision"]["feedback"][0]["measure"] == "ZD-SC"
    assert content["checks"][0]["receipt"]["result_hash"] == content["checks"][0]["result_hash"]
    assert [a["action"] for a in content["audit"]][-1] == "case.archived"
    assert verify_chain() == (3, [])
    with pytest.raises(Conflict):
        wf.archive(city.handler, str(case.pk))
    raw = EvidenceBundle._get_collection()
    doc = raw.find_one({"seq": 2})
    raw.update_one({"seq": 2}, {"$set": {"content": doc["content"].replace("rejected", "approved")}})
    count, problems = verify_chain()
    assert count == 3 and [(p.seq, p.problem) for p in problems] == [
        (2, "content does not match its hash")]
    raw.delete_one({"seq": 3})  # cutting off the end is seen through the chain head
    assert [p.seq for p in verify_chain()[1]] == [2, 3]


def test_concurrent_archives_keep_one_chain(wf, city):
    cases = []
    for _ in range(4):
        case = checked_case(wf, city)
        wf.decide(city.handler, str(case.pk), outcome="approved", feedback=[])
        cases.append(str(case.pk))
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda c: wf.archive(city.handler, c), cases))
    assert verify_chain() == (4, [])


def test_decided_case_is_flagged_for_review_on_a_serious_change(wf, city):
    case = checked_case(wf, city)
    wf.decide(city.handler, str(case.pk), outcome="approved", feedback=[])
    push_record(city.provider, {
        "subject_code": SUPPLIER, "subject_name": "舞钢市测试有限公司", "kind": "penalty",
        "severity": "serious", "title": "无证经营", "doc_no": "舞市监罚〔2026〕9号",
        "decision_date": dt.date(2026, 11, 2)})
    assert wf.subject_changed(SUPPLIER, "serious penalty", serious=True) == {"stale": 0, "flagged": 1}
    case = Case.objects.get(pk=case.pk)
    assert case.state == "decided" and case.review_flags[0].reason == "serious penalty"


def test_withdraw(wf, city):
    case = apply(wf, city)
    with pytest.raises(RuleViolation):
        wf.withdraw(city.handler, str(case.pk), "")
    assert wf.withdraw(city.handler, str(case.pk), "申请人撤回").state == "withdrawn"
    assert run_pending_checks(wf) == 0


def test_subject_kind_must_be_accepted_by_the_domain(wf, city):
    with pytest.raises(RuleViolation) as err:
        apply(wf, city, code=PERSON)
    assert err.value.errors["subject.kind"] == ["testing accepts LEGAL, INDIVIDUAL_BUSINESS"]
    with pytest.raises(RuleViolation) as err:
        wf.apply(city.handler, domain="testing", matter="m",
                 subject={"code": SUPPLIER, "name": "x", "kind": "NATURAL"},
                 data={"amount": "1", "purpose": "p"})
    assert "kind" in err.value.errors

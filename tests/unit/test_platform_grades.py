"""Credit grades: scheme versions stored with their effective date, the scheme in
force used by checks, and stored grades kept current (recomputed on change,
or lazily when the stored one is older than the subject's newest change)."""

from __future__ import annotations

import datetime as dt

import marshmallow as ma
import pytest

from creditcase import hookimpl
from creditcase.core import grades, ids, lists
from creditcase.core.cases import WorkflowService
from creditcase.core.checks import CreditCheck
from creditcase.core.db import local_today
from creditcase.core.domains import Domain
from creditcase.core.errors import Conflict, PermissionDenied, RuleViolation
from creditcase.core.plugins import PluginHost
from creditcase.core.records import push_record
from creditcase.testing import run_pending_checks

SUBJECT = ids.make_uscc("91410481MA40K1Y37")


class Application(ma.Schema):
    purpose = ma.fields.String(required=True)


class Sample(Domain):
    code = "testing"
    name_zh = "测试领域"
    name_en = "Testing"
    application_schema = Application


class Plugin:
    @hookimpl
    def creditcase_register_domains(self):
        return [Sample()]


@pytest.fixture(scope="module")
def host():
    return PluginHost.create(load_entrypoints=False, extra=[Plugin()])


def scheme(**changes) -> dict:
    data = {"id": "WG-2027-1", "name_zh": "舞钢市公共信用综合评价（2027版）",
            "effective_from": local_today(), "base_score": 1000, "max_score": 1000,
            "deductions": {"RECORD:penalty:": 100, "LIST:black": 400},
            "bonuses": {"LIST:red": 50},
            "grades": [{"grade": "A", "min": 900, "label_zh": "优秀"},
                       {"grade": "B", "min": 700, "label_zh": "良好"},
                       {"grade": "C", "min": 500, "label_zh": "一般"},
                       {"grade": "D", "min": 0, "label_zh": "差"}]}
    data.update(changes)
    return data


def penalty(city, doc_no: str) -> None:
    push_record(city.provider, {
        "subject_code": SUBJECT, "subject_name": "舞钢市恒信建材有限公司", "kind": "penalty",
        "severity": "general", "title": "销售不合格建材", "doc_no": doc_no,
        "decision_date": dt.date(2026, 9, 1)})


def test_the_shipped_scheme_is_stored_and_in_force(db):
    assert [s.scheme_id for s in grades.schemes()] == ["WG-2026-1"]
    assert grades.current_scheme()["id"] == "WG-2026-1"
    assert grades.compute(["RECORD:penalty:serious", "LIST:red"]).as_dict() == {
        "scheme": "WG-2026-1", "score": 95, "grade": "A", "label_zh": "优秀", "label_en": "excellent"}


def test_new_scheme_versions_are_validated_and_take_effect_on_their_date(city, host):
    with pytest.raises(RuleViolation) as bad:
        grades.add_scheme(city.credit_office, scheme(
            effective_from=dt.date(2020, 1, 1), max_score=10, deductions={"BAD": 1, "LIST:black": -4},
            grades=[{"grade": "A", "min": 1, "label_zh": "优"}, {"grade": "B", "min": 5,
                                                                 "label_zh": "良"}]))
    assert set(bad.value.errors) == {"effective_from", "max_score", "deductions.BAD",
                                     "deductions.LIST:black", "grades.1.min"}
    with pytest.raises(PermissionDenied):
        grades.add_scheme(city.provider, scheme())

    later = grades.add_scheme(city.credit_office, scheme(
        id="WG-2027-2", effective_from=local_today() + dt.timedelta(days=30)))
    assert grades.current_scheme()["id"] == "WG-2026-1"
    assert grades.current_scheme(later.effective_from)["id"] == "WG-2027-2"
    grades.add_scheme(city.credit_office, scheme())
    with pytest.raises(Conflict):
        grades.add_scheme(city.credit_office, scheme())
    assert grades.current_scheme()["id"] == "WG-2027-1"
    assert grades.compute(["RECORD:penalty:general"]).as_dict()["score"] == 900

    # checks grade with the scheme in force
    penalty(city, "舞市监罚〔2026〕1号")
    workflow = WorkflowService(host)
    case = workflow.apply(city.handler, domain="testing", matter="T-1",
                          subject={"code": SUBJECT, "name": "舞钢市恒信建材有限公司"},
                          data={"purpose": "测试"})
    run_pending_checks(workflow)
    grade = CreditCheck.objects.get(case_id=str(case.pk)).result["grade"]
    assert (grade["scheme"], grade["score"], grade["grade"]) == ("WG-2027-1", 900, "A")


def test_stored_grades_follow_changes_eagerly_or_lazily(city):
    lists.add_entry(city.credit_office, list_type="A_TAXPAYER", subject_code=SUBJECT,
                    subject_name="舞钢市恒信建材有限公司", basis_doc_no="A级2026-9",
                    listed_on=dt.date(2026, 4, 1))
    stored = grades.stored(SUBJECT)
    assert (stored.score, stored.inputs, stored.scheme) == (110, ["LIST:red"], "WG-2026-1")

    penalty(city, "舞市监罚〔2026〕2号")  # a single push regrades at once
    stored = grades.stored(SUBJECT)
    assert (stored.score, stored.inputs) == (105, ["LIST:red", "RECORD:penalty:general"])
    assert grades.grade_for(SUBJECT).version == stored.version  # up to date: not recomputed

    # a bulk import does not regrade per record; reading the grade catches up
    from creditcase.core.records import store_batch

    store_batch(city.provider, [{
        "subject_code": SUBJECT, "subject_name": "舞钢市恒信建材有限公司", "kind": "penalty",
        "severity": "general", "title": "未按规定标注", "doc_no": "舞市监罚〔2026〕3号",
        "decision_date": dt.date(2026, 9, 2)}])
    assert grades.stored(SUBJECT).score == 105
    current = grades.grade_for(SUBJECT)
    assert current.score == 100 and current.version > stored.version

    grades.add_scheme(city.credit_office, scheme())
    regraded = grades.grade_for(SUBJECT)
    assert (regraded.scheme, regraded.score) == ("WG-2027-1", 850)
    assert grades.recompute_many([SUBJECT, SUBJECT]) == 1

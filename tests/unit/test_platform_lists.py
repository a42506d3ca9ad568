"""Lists and measures: the measure catalogue managed by the credit office (a
measure without a legal basis is never enforced), list types with their period
rules, entry expiry and early removal."""

from __future__ import annotations

import datetime as dt

import pytest

from creditcase.core import accounts, grades, ids, lists
from creditcase.core.accounts import Principal
from creditcase.core.audit import AuditEvent
from creditcase.core.checks import Hit, match_measures
from creditcase.core.domains import Domain
from creditcase.core.errors import ConcurrentUpdate, Conflict, PermissionDenied, RuleViolation
from creditcase.core.lists import ListEntry, ListType, Measure
from creditcase.core.outbox import OutboxEntry

SUPPLIER = ids.make_uscc("91410481MA40K1Y37")
OTHER = ids.make_uscc("91410481MA40K2Y3X")
TODAY = dt.date(2026, 11, 26)


class Sample(Domain):
    code = "procurement"
    name_zh = "测试"
    name_en = "Test"


def hit(code: str) -> Hit:
    return Hit(channel="lists", code=code, title=code, source="test", ref=f"ref-{code}",
               adverse=True, color="black")


def measure_values(**changes) -> dict:
    values = {"code": "TEST-XZ", "kind": "PUNISH", "binding": "MANDATORY", "effect": "reject",
              "text_zh": "测试措施", "legal_basis": "", "domains": ["procurement"],
              "triggers": ["SXBZXR"]}
    values.update(changes)
    return values


def raised(codes: list[str]) -> tuple[set[str], set[str]]:
    measures, skipped = match_measures(Sample(), [hit(c) for c in codes])
    return {m.code for m in measures}, {s["code"] for s in skipped}


def entry(principal: Principal, list_type: str = "SXBZXR", code: str = SUPPLIER, *,
          basis: str = "(2024)豫0481执1号", listed_on: dt.date = dt.date(2024, 1, 5),
          **extra) -> ListEntry:
    return lists.add_entry(principal, list_type=list_type, subject_code=code,
                           subject_name="舞钢市测试有限公司", basis_doc_no=basis, listed_on=listed_on,
                           **extra)


def events(key: str) -> list[dict]:
    return [e.body["data"] for e in OutboxEntry.objects(routing_key=key).order_by("created_at")]


# -- measures ------------------------------------------------------------------------------------

def test_a_measure_without_legal_basis_is_stored_as_a_draft_and_never_enforced(city):
    draft = lists.create_measure(city.credit_office, measure_values())
    assert draft.status == "draft" and not draft.enforceable
    assert raised(["SXBZXR"])[1] >= {"TEST-XZ"}
    assert "TEST-XZ" not in raised(["SXBZXR"])[0]

    enforced = lists.update_measure(city.credit_office, "TEST-XZ", {
        "legal_basis": "中华人民共和国政府采购法第二十二条",
        "basis_list_version": "全国失信惩戒措施基础清单（2024年版）"}, expected_version=0)
    assert enforced.status == "enforceable" and enforced.version == 1
    assert "TEST-XZ" in raised(["SXBZXR"])[0]

    # clearing the basis makes it a draft again
    lists.update_measure(city.credit_office, "TEST-XZ", {"legal_basis": "  "}, expected_version=1)
    assert "TEST-XZ" in raised(["SXBZXR"])[1]

    actions = [a.action for a in AuditEvent.objects(object_type="Measure").order_by("at")]
    assert actions == ["measure.created", "measure.updated", "measure.updated"]


def test_measure_updates_are_version_guarded_and_deactivation_stops_enforcement(city):
    values = measure_values(legal_basis="国发〔2016〕33号（十三）",
                            basis_list_version="全国失信惩戒措施基础清单（2024年版）")
    lists.create_measure(city.credit_office, values)
    assert "TEST-XZ" in raised(["SXBZXR"])[0]
    with pytest.raises(Conflict):
        lists.create_measure(city.credit_office, values)
    with pytest.raises(ConcurrentUpdate) as stale:
        lists.update_measure(city.credit_office, "TEST-XZ", {"binding": "DISCRETIONARY"},
                             expected_version=7)
    assert "expected_version" in stale.value.errors

    with pytest.raises(RuleViolation):
        lists.deactivate_measure(city.credit_office, "TEST-XZ", " ")
    off = lists.deactivate_measure(city.credit_office, "TEST-XZ", "上位清单删除该措施")
    assert off.status == "inactive" and off.deactivated_reason == "上位清单删除该措施"
    measures, skipped = raised(["SXBZXR"])
    assert "TEST-XZ" not in measures | skipped
    with pytest.raises(Conflict):
        lists.deactivate_measure(city.credit_office, "TEST-XZ", "again")
    again = lists.update_measure(city.credit_office, "TEST-XZ", {"active": True},
                                 expected_version=off.version)
    assert again.status == "enforceable" and again.deactivated_reason is None


def test_invalid_measures_are_refused_with_every_invalid_field_at_once(city):
    with pytest.raises(RuleViolation) as bad:
        lists.create_measure(city.credit_office, measure_values(
            code="bad code", triggers=["NOPE", "RECORD:penalty:huge", "RECORD:x:",
                                       "COUNTERPARTY:SXBZXR", "RECORD:penalty:"],
            domains=["procurement", "nowhere", "Bad"], legal_basis="某法", effect="incentive",
            colour="red"), known_domains=["procurement"])
    assert set(bad.value.errors) == {"code", "triggers.0", "triggers.1", "triggers.2",
                                     "domains.1", "domains.2", "basis_list_version", "effect",
                                     "colour"}
    assert bad.value.errors["triggers.1"] == ["unknown severity 'huge' (minor, general, serious "
                                              "or empty)"]
    with pytest.raises(RuleViolation) as bad:
        lists.create_measure(city.credit_office, measure_values(
            kind="REWARD", triggers=[], domains=[], text_zh=" "))
    assert set(bad.value.errors) == {"effect", "triggers", "domains", "text_zh"}
    with pytest.raises(PermissionDenied):
        lists.create_measure(city.provider, measure_values())
    assert Measure.objects(code="TEST-XZ").count() == 0


# -- list types ----------------------------------------------------------------------------------

def test_list_type_changes_keep_history_and_survive_catalogue_reloads(city):
    lt = ListType.objects.get(code="ZFCG_YZWF")
    assert lt.early_removal is False and lt.version == 0
    changed = lists.update_list_type(city.credit_office, "ZFCG_YZWF",
                                     {"period_months": 12, "extension_months": [24]},
                                     expected_version=0, reason="财政部新规")
    assert changed.version == 1 and changed.max_period_months == 36
    assert changed.history[0].snapshot["period_months"] == 36
    with pytest.raises(ConcurrentUpdate):
        lists.update_list_type(city.credit_office, "ZFCG_YZWF", {"period_months": 6},
                               expected_version=0)
    with pytest.raises(RuleViolation) as bad:
        lists.update_list_type(city.credit_office, "ZFCG_YZWF", {"color": "red"},
                               expected_version=1)
    assert "color" in bad.value.errors
    lists.ensure_catalogue()
    assert ListType.objects.get(code="ZFCG_YZWF").period_months == 12
    assert ListType.objects.get(code="SXBZXR").extension_months == [12, 36]


def test_an_entry_may_not_outlast_its_list_period_plus_the_longest_extension(city):
    with pytest.raises(RuleViolation) as bad:
        entry(city.credit_office, valid_until=dt.date(2029, 1, 6))
    assert "2029-01-05" in bad.value.errors["valid_until"][0]
    assert entry(city.credit_office, valid_until=dt.date(2029, 1, 5)).valid_until \
        == dt.date(2029, 1, 5)


# -- expiry and early removal --------------------------------------------------------------------

def test_entries_expire_by_their_period_with_an_event(city):
    old = entry(city.credit_office)  # 2024-01-05 + 24 months = 2026-01-05
    current = entry(city.credit_office, "ZDSSWF", basis="税稽罚〔2026〕1号",
                    listed_on=dt.date(2026, 3, 1))
    # grading counts entries in force today: the old one ended before the sweep runs
    assert grades.stored(SUPPLIER).inputs == ["LIST:black"]

    assert lists.expire_entries(dt.date(2026, 1, 5)) == []  # the last day is still in force
    expired = lists.expire_entries(TODAY)
    assert [e.pk for e in expired] == [old.pk]
    old.reload()
    assert old.removed_at and old.removal_reason == "expired" and old.expired
    assert current.reload().removed_at is None
    [removed] = events("list.entry.removed")
    assert removed == {**removed, "entry_id": str(old.pk), "subject_code": SUPPLIER,
                       "reason": "expired", "expired": True, "removed": True}
    assert lists.expire_entries(TODAY) == []
    assert grades.stored(SUPPLIER).inputs == ["LIST:black"]
    with pytest.raises(Conflict, match="expired"):
        lists.remove_entry(city.credit_office, str(old.pk), "again")


def test_early_removal_by_the_issuer_or_the_credit_office_keeps_the_reason(city):
    accounts.create_user("court", roles=["data_provider"], department="410481-T2")
    court = Principal("court", "410481-T2", frozenset({"data_provider"}))
    listed = entry(court, listed_on=dt.date(2026, 6, 1))
    assert listed.source_department == "410481-T2"
    with pytest.raises(PermissionDenied):
        lists.remove_entry(city.provider, str(listed.pk), "履行完毕")
    with pytest.raises(RuleViolation):
        lists.remove_entry(court, str(listed.pk), "  ")
    removed = lists.remove_entry(court, str(listed.pk), "已全部履行，法院决定删除")
    assert removed.removal_reason == "已全部履行，法院决定删除" and removed.removed_by == "court"
    assert not removed.expired
    assert events("list.entry.removed")[0]["reason"] == "已全部履行，法院决定删除"

    # a list type without early removal: still the issuer's or the credit office's call
    barred = entry(court, "ZFCG_YZWF", basis="财库罚〔2026〕2号", listed_on=dt.date(2026, 6, 1))
    assert lists.remove_entry(city.credit_office, str(barred.pk), "认定文书被撤销").removed_at


def test_repair_style_removal_respects_early_removal_of_the_list_type(city):
    class Record:  # what remove_founded_on reads of a record
        pk = "0" * 24
        subject_code = SUPPLIER
        doc_no = "舞市监罚〔2026〕9号"

    allows = entry(city.credit_office, "SCJG_YZWF", basis=Record.doc_no,
                   listed_on=dt.date(2026, 6, 1))
    refuses = entry(city.credit_office, "ZFCG_YZWF", basis=Record.doc_no,
                    listed_on=dt.date(2026, 6, 1))
    unrelated = entry(city.credit_office, "TQNMGGZ", OTHER, basis=Record.doc_no,
                      listed_on=dt.date(2026, 6, 1))
    uow = lists.UnitOfWork()
    removed, kept = lists.remove_founded_on(uow, city.credit_office, Record(), lists.REPAIR_REASON)
    uow.commit()
    assert [e.pk for e in removed] == [allows.pk] and [e.pk for e in kept] == [refuses.pk]
    assert allows.reload().removal_reason == "信用修复"
    assert refuses.reload().removed_at is None and unrelated.reload().removed_at is None

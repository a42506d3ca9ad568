"""The four built-in domain plugins (procurement, land, housing, tax), loaded from
their entry points and driven through the workflow service end to end."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from creditcase.core import ids, lists
from creditcase.core.cases import Case, Decision
from creditcase.core.checks import CreditCheck
from creditcase.core.errors import RuleViolation
from creditcase.core.lists import Measure
from creditcase.core.records import push_record
from creditcase.core.reports import Agency, file_report
from creditcase.plugins import housing, land, tax
from creditcase.plugins.procurement import rules as procurement_rules
from creditcase.testing import run_pending_checks

BEIJING = dt.timezone(dt.timedelta(hours=8))
COMPANY = ids.make_uscc("91410481MA40C1A06")
LISTED = ids.make_uscc("91410481MA40C2B05")
PENALISED = ids.make_uscc("91410481MA40C3D00")
SHOP = ids.make_uscc("92410481MA40C4E0X")
TRADER = ids.make_uscc("91410481MA40C6G08")
FACTORY = ids.make_uscc("91410481MA40C7H07")
BUILDER = ids.make_uscc("91410481MA40C8J02")
EXPORTER = ids.make_uscc("91410481MA40C9K01")
PERSON = ids.make_id_number("41048119850312003")
OTHER_PERSON = ids.make_id_number("41048119900704002")
THIRD_PERSON = ids.make_id_number("41048119781120005")
NAMES = {COMPANY: "舞钢市恒信建材有限公司", LISTED: "舞钢市长兴商贸有限公司",
         PENALISED: "舞钢市通达物流有限公司", SHOP: "舞钢市李记五金店",
         TRADER: "舞钢市宏达贸易有限公司", FACTORY: "舞钢市华冶机械有限公司",
         BUILDER: "舞钢市鸿基置业有限公司", EXPORTER: "舞钢市钢联进出口有限公司",
         PERSON: "张建国", OTHER_PERSON: "王秀兰", THIRD_PERSON: "李桂芳"}


def today() -> dt.date:
    return dt.datetime.now(BEIJING).date()


def procurement_data(**changes: Any) -> dict[str, Any]:
    now = dt.datetime.now(BEIJING).replace(microsecond=0)
    data = {"project_code": "WGCG-2026-0153", "project_name": "舞钢市第一高级中学实验室设备采购",
            "procurement_method": "公开招标", "budget_amount": "1280000.00",
            "tender_notice_date": (today() - dt.timedelta(days=21)).isoformat(),
            "bid_deadline": (now - dt.timedelta(hours=2)).isoformat(),
            "purchaser": "舞钢市教育体育局", "agency": "河南中诚招标代理有限公司"}
    data.update(changes)
    return data


def land_data(**changes: Any) -> dict[str, Any]:
    data = {"parcel_no": "WG2026-07", "location": "舞钢市垭口街道建设路北侧", "area_m2": "12500.50",
            "land_use": "住宅", "term_years": 70, "transfer_method": "挂牌",
            "starting_price": "18750000", "bid_deposit_paid": True}
    data.update(changes)
    return data


def housing_data(**changes: Any) -> dict[str, Any]:
    data = {"application_type": "公租房", "household_size": 3, "monthly_income_per_capita": "980.00",
            "residence_district": "垭口街道", "current_housing_m2_per_capita": "8.5"}
    data.update(changes)
    return data


def tax_data(**changes: Any) -> dict[str, Any]:
    data = {"incentive_type": "出口退税", "tax_year": today().year - 1,
            "amount_claimed": "356000.00", "export_refund_plan_no": "豫税退计〔2026〕041号"}
    data.update(changes)
    return data


def _without(data: dict[str, Any], field: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != field}


DATA = {"procurement": procurement_data, "land": land_data, "housing": housing_data,
        "tax": tax_data}


def apply(workflow, city, domain: str, code: str, data: dict[str, Any] | None = None) -> Case:
    return workflow.apply(city.handler, domain=domain, matter=f"{domain}-matter",
                          subject={"code": code, "name": NAMES[code]},
                          data=data if data is not None else DATA[domain]())


def checked(workflow, city, domain: str, code: str,
            data: dict[str, Any] | None = None) -> tuple[Case, CreditCheck]:
    case = apply(workflow, city, domain, code, data)
    assert run_pending_checks(workflow) == 1
    case = Case.objects.get(pk=case.pk)
    assert case.state == "checked"
    return case, workflow.latest_check(case)


def checked_all(workflow, city, applications: list[tuple[str, str, dict[str, Any] | None]],
                ) -> list[tuple[Case, CreditCheck]]:
    """Apply several cases and run their checks in one go (fewer fixture set-ups)."""
    cases = [apply(workflow, city, domain, code, data) for domain, code, data in applications]
    assert run_pending_checks(workflow) == len(cases)
    out = []
    for case in cases:
        case = Case.objects.get(pk=case.pk)
        assert case.state == "checked"
        out.append((case, workflow.latest_check(case)))
    return out


def listed(city, code: str, list_type: str, doc_no: str | None = None) -> None:
    lists.add_entry(city.credit_office, list_type=list_type, subject_code=code,
                    subject_name=NAMES[code], basis_doc_no=doc_no or f"(2026)豫0481{list_type}1号",
                    listed_on=today() - dt.timedelta(days=30))


def penalty(city, code: str, decided: dt.date, doc_no: str = "舞市监罚〔2026〕17号") -> None:
    push_record(city.provider, {
        "subject_code": code, "subject_name": NAMES[code], "kind": "penalty", "severity": "serious",
        "title": "销售不合格产品", "content": "罚款人民币伍拾万元", "doc_no": doc_no,
        "decision_date": decided, "authority": "舞钢市市场监督管理局"})


def measures(check: CreditCheck) -> dict[str, dict[str, Any]]:
    return {m["code"]: m for m in check.measures}


def feedback(*items: tuple[str, bool, str]) -> list[dict[str, Any]]:
    return [{"measure": code, "applied": applied, "reason": reason, "outcome_text": ""}
            for code, applied, reason in items]


# -- registration --------------------------------------------------------------------------------

@pytest.mark.parametrize("code,name_zh,clause", [
    ("procurement", "政府集中采购", "三（五）1"),
    ("land", "土地使用权出让", "三（五）2"),
    ("housing", "保障性住房分配与低保", "三（五）12"),
    ("tax", "落实税收优惠政策", "三（五）8"),
])
def test_each_domain_is_its_own_entry_point_plugin(host, code, name_zh, clause):
    domain = host.domain(code)
    assert host.domain_owner(code) == code
    described = domain.describe()
    assert described["name_zh"] == name_zh and described["name_en"]
    assert described["policy_basis"].startswith(f"舞信用办〔2020〕1号 {clause}")
    assert described["rule_version"] == "2026.1"


# -- every domain: a clean subject end to end ----------------------------------------------------

CLEAN = [  # domain, subject, application, channels the check must have queried
    ("procurement", COMPANY, procurement_data(budget_amount=960000), ["records", "lists", "reports"]),
    ("procurement", PERSON, None, ["records", "lists", "reports"]),
    ("land", SHOP, None, ["records", "lists", "reports"]),
    ("housing", OTHER_PERSON, None, ["records", "lists"]),
    ("housing", THIRD_PERSON,
     _without(housing_data(application_type="低保"), "current_housing_m2_per_capita"),
     ["records", "lists"]),
    ("tax", TRADER, None, ["records", "lists"]),
]


def test_clean_subjects_are_checked_approved_and_archived_in_every_domain(workflow, city):
    results = checked_all(workflow, city, [(d, c, data) for d, c, data, _ in CLEAN])
    for (domain, _, _, channels), (case, check) in zip(CLEAN, results, strict=True):
        assert [c["name"] for c in check.receipt["channels"]] == channels, domain
        assert check.result["recommendation"] == {"outcome": "approve", "reasons": []}, domain
        assert check.measures == [] and check.result["notes"] == [], domain
        decided = workflow.decide(city.handler, str(case.pk), outcome="approved", feedback=[],
                                  reasons="信用记录良好")
        assert decided.decision.rule_versions["domain"] == f"{domain}/2026.1"
        bundle = workflow.archive(city.handler, str(case.pk))
        case = Case.objects.get(pk=case.pk)
        assert case.state == "archived" and case.evidence_hash == bundle.hash, domain
    stored = {case.subject_code: case.data for case, _ in results}
    assert stored[COMPANY]["budget_amount"] == "960000"
    assert stored[COMPANY]["bid_deadline"].endswith("+08:00")
    assert stored[OTHER_PERSON]["monthly_income_per_capita"] == "980.00"
    assert stored[OTHER_PERSON]["household_size"] == 3
    assert "current_housing_m2_per_capita" not in stored[THIRD_PERSON]


def test_procurement_check_carries_the_suppliers_valid_credit_report(workflow, city):
    Agency(name="河南中原信用评估有限公司", uscc=ids.make_uscc("91410100MA40C5F09"),
           filing_no="豫信备2024-017", filing_authority="河南省发展和改革委员会",
           filing_valid_until=today() + dt.timedelta(days=365)).save()
    file_report(city.provider, {"number": "ZYXP-2026-00318", "subject_code": COMPANY,
                                "subject_name": NAMES[COMPANY], "agency_filing_no": "豫信备2024-017",
                                "issue_date": today() - dt.timedelta(days=40), "rating": "AA"})
    case, check = checked(workflow, city, "procurement", COMPANY)
    assert check.has_valid_report
    assert check.result["reports"][0]["number"] == "ZYXP-2026-00318"
    workflow.decide(city.handler, str(case.pk), outcome="approved", feedback=[])


# -- procurement ---------------------------------------------------------------------------------

def test_procurement_listed_suppliers_raise_the_mandatory_rejection(workflow, city):
    # the rejection is statutory: relaxing the catalogue does not relax it in procurement
    Measure.objects(code="ZFCG-JZ").update(set__binding="DISCRETIONARY")
    suppliers = {"SXBZXR": LISTED, "ZDSSWF": TRADER, "ZFCG_YZWF": FACTORY}
    for list_type, code in suppliers.items():
        listed(city, code, list_type)
    results = checked_all(workflow, city, [("procurement", code, None) for code in suppliers.values()])
    for list_type, (_, check) in zip(suppliers, results, strict=True):
        raised = measures(check)["ZFCG-JZ"]
        assert (raised["kind"], raised["binding"], raised["effect"]) == \
            ("PUNISH", "MANDATORY", "reject"), list_type
        assert check.result["recommendation"]["outcome"] == "reject", list_type


def test_procurement_listed_supplier_cannot_be_approved_but_can_be_rejected(workflow, city):
    listed(city, LISTED, "SXBZXR")
    case, check = checked(workflow, city, "procurement", LISTED)
    assert set(measures(check)) == {"ZFCG-JZ", "ZD-SC"}
    with pytest.raises(RuleViolation) as err:
        workflow.decide(city.handler, str(case.pk), outcome="approved",
                        feedback=feedback(("ZFCG-JZ", True, ""), ("ZD-SC", True, "")))
    assert "must be rejected" in err.value.errors["outcome"][0]
    decided = workflow.decide(city.handler, str(case.pk), outcome="rejected",
                              reasons="供应商被列入失信被执行人名单，拒绝其参加本次政府采购活动",
                              feedback=feedback(("ZFCG-JZ", True, ""), ("ZD-SC", True, "")))
    assert decided.decision.outcome == "rejected" and decided.decision.override is None
    workflow.archive(city.handler, str(case.pk))


def test_procurement_unapplied_rejection_needs_a_reviewers_override(workflow, city):
    listed(city, LISTED, "ZFCG_YZWF")
    case, _ = checked(workflow, city, "procurement", LISTED)
    fb = feedback(("ZFCG-JZ", False, "财政部已于本月撤销该记录，名单数据尚未同步"), ("ZD-SC", True, ""))
    with pytest.raises(RuleViolation) as err:
        workflow.decide(city.handler, str(case.pk), outcome="approved", feedback=fb)
    assert any("override" in message for message in err.value.errors["feedback"])
    workflow.approve_override(city.reviewer, str(case.pk), measures=["ZFCG-JZ"],
                              reason="经核实，财政部撤销处罚决定书已送达，名单待更新")
    with pytest.raises(RuleViolation) as err:
        workflow.decide(city.reviewer, str(case.pk), outcome="approved", feedback=fb)
    assert any("cannot also decide" in message for message in err.value.errors["feedback"])
    decided = workflow.decide(city.handler, str(case.pk), outcome="approved", feedback=fb)
    assert decided.decision.override.reviewer == city.reviewer.username
    assert decided.decision.override.measures == ["ZFCG-JZ"]


def test_procurement_decision_rests_on_a_check_inside_the_query_window(workflow, city):
    now = dt.datetime.now(BEIJING)
    early = procurement_data(tender_notice_date=(today() + dt.timedelta(days=1)).isoformat(),
                             bid_deadline=(now + dt.timedelta(days=21)).isoformat())
    open_bids = procurement_data(bid_deadline=(now + dt.timedelta(hours=3)).isoformat())
    (before_notice, _), (before_deadline, _) = checked_all(
        workflow, city, [("procurement", COMPANY, early), ("procurement", PERSON, open_bids)])
    for outcome in ("approved", "rejected"):
        with pytest.raises(RuleViolation) as err:
            workflow.decide(city.handler, str(before_notice.pk), outcome=outcome, feedback=[],
                            reasons="评审结论")
        assert "早于采购公告发布日期" in err.value.errors["outcome"][0]
    with pytest.raises(RuleViolation) as err:
        workflow.decide(city.handler, str(before_deadline.pk), outcome="approved", feedback=[])
    assert "以评审时查询结果为准" in err.value.errors["outcome"][0]
    assert Case.objects.get(pk=before_deadline.pk).state == "checked"


@pytest.mark.parametrize("checked_at,problem", [
    (dt.datetime(2026, 3, 1, 15, 59, tzinfo=dt.UTC), "早于采购公告发布日期"),  # 03-01 23:59 Beijing
    (dt.datetime(2026, 3, 1, 16, 0, tzinfo=dt.UTC), "以评审时查询结果为准"),   # notice day 00:00
    (dt.datetime(2026, 3, 23, 1, 29, tzinfo=dt.UTC), "以评审时查询结果为准"),  # 09:29 Beijing
    (dt.datetime(2026, 3, 23, 1, 30, tzinfo=dt.UTC), None),                   # at the deadline
    (dt.datetime(2026, 3, 23, 6, 0), None),                                   # naive UTC from the DB
])
def test_procurement_query_window_bounds(checked_at, problem):
    deadline = dt.datetime(2026, 3, 23, 9, 30, tzinfo=BEIJING)
    found = procurement_rules.query_window_problems(checked_at, dt.date(2026, 3, 2), deadline)
    if problem is None:
        assert found == []
    else:
        assert len(found) == 1 and problem in found[0]


def test_procurement_serious_penalty_within_three_years_before_the_bid(workflow, city):
    deadline = dt.datetime.now(BEIJING) - dt.timedelta(hours=2)
    since = procurement_rules.lookback_start(deadline)
    penalty(city, PENALISED, since, doc_no="舞市监罚〔2023〕40号")
    penalty(city, BUILDER, since - dt.timedelta(days=1), doc_no="舞住建罚〔2023〕9号")
    data = procurement_data(bid_deadline=deadline.isoformat())
    (within, check), (older, older_check) = checked_all(
        workflow, city, [("procurement", PENALISED, data), ("procurement", BUILDER, data)])
    notes = check.result["notes"]
    assert len(notes) == 1 and notes[0].startswith(procurement_rules.ART22_NOTE)
    recommendation = check.result["recommendation"]
    assert recommendation["outcome"] == "reject"
    assert "实施条例第十九条" in recommendation["reasons"][-1]
    with pytest.raises(RuleViolation) as err:
        workflow.decide(city.handler, str(within.pk), outcome="approved", feedback=[])
    assert "重大违法记录" in err.value.errors["outcome"][0]
    workflow.decide(city.handler, str(within.pk), outcome="approved", feedback=[],
                    reasons="该处罚为小额罚款，经核实不属于实施条例第十九条所称重大违法记录")
    # a day older than the three years: an adverse record to review, no Art. 22(5) finding
    assert older_check.result["notes"] == []
    assert older_check.result["recommendation"]["outcome"] == "review"
    workflow.decide(city.handler, str(older.pk), outcome="approved", feedback=[])


# -- land ----------------------------------------------------------------------------------------

def test_land_adverse_bidders_get_a_discretionary_review_never_an_automatic_rejection(workflow, city):
    Measure.objects(code="TD-ZDSC").update(set__binding="MANDATORY")  # pinned DISCRETIONARY in land
    listed(city, LISTED, "SXBZXR")
    penalty(city, PENALISED, today() - dt.timedelta(days=60))
    (case, check), (_, penalised) = checked_all(
        workflow, city, [("land", LISTED, None), ("land", PENALISED, None)])
    raised = measures(check)
    assert set(raised) == {"TD-ZDSC", "ZD-SC"}
    assert raised["TD-ZDSC"]["binding"] == "DISCRETIONARY"
    recommendation = check.result["recommendation"]
    assert recommendation["outcome"] == "review"
    assert recommendation["reasons"][-1] == land.REFERENCE_NOTE
    assert any("失信被执行人名单" in reason for reason in recommendation["reasons"])
    decided = workflow.decide(city.handler, str(case.pk), outcome="approved_with_conditions",
                              conditions=["竞得后须提交开发资金证明"], reasons="重点审查后确认竞买资格",
                              feedback=feedback(("TD-ZDSC", True, ""),
                                                ("ZD-SC", False, "已由TD-ZDSC重点审查覆盖")))
    assert decided.decision.override is None
    assert measures(penalised)["TD-ZDSC"]["effect"] == "review"
    assert penalised.result["recommendation"]["outcome"] == "review"
    assert any(r.startswith("严重失信信息") for r in penalised.result["recommendation"]["reasons"])


def test_land_qualification_needs_the_bid_deposit(workflow, city):
    case, _ = checked(workflow, city, "land", COMPANY, land_data(bid_deposit_paid=False))
    with pytest.raises(RuleViolation) as err:
        workflow.decide(city.handler, str(case.pk), outcome="approved", feedback=[])
    assert "竞买保证金未缴纳" in err.value.errors["outcome"][0]
    workflow.decide(city.handler, str(case.pk), outcome="rejected", feedback=[],
                    reasons="未按期缴纳竞买保证金")


# -- housing -------------------------------------------------------------------------------------

def test_housing_accepts_natural_persons_only_and_reviews_their_record(workflow, city):
    for code in (COMPANY, SHOP):
        with pytest.raises(RuleViolation) as err:
            apply(workflow, city, "housing", code)
        assert "NATURAL" in err.value.errors["subject.kind"][0]
    assert Case.objects.count() == 0
    penalty(city, OTHER_PERSON, today() - dt.timedelta(days=90), doc_no="舞民罚〔2026〕3号")
    case, check = checked(workflow, city, "housing", OTHER_PERSON)
    review = measures(check)["GGZY-SC"]
    assert (review["binding"], review["effect"]) == ("MANDATORY", "review")
    assert check.result["recommendation"]["outcome"] == "review"
    with pytest.raises(RuleViolation) as err:
        workflow.decide(city.handler, str(case.pk), outcome="approved",
                        feedback=feedback(("GGZY-SC", False, "家庭困难")))
    assert any("MANDATORY" in message for message in err.value.errors["feedback"])
    with pytest.raises(RuleViolation) as err:
        workflow.decide(city.handler, str(case.pk), outcome="approved",
                        feedback=feedback(("GGZY-SC", True, "")))
    assert "信用记录审查意见" in err.value.errors["outcome"][0]
    fb = feedback(("GGZY-SC", True, ""))
    fb[0]["outcome_text"] = "已从严审核：处罚系违规搭建，已整改完毕，不影响保障资格"
    decided = workflow.decide(city.handler, str(case.pk), outcome="approved", feedback=fb)
    assert decided.decision.feedback[0].outcome_text.startswith("已从严审核")


def _housing_guard(channels: list[dict[str, Any]], outcome: str = "approved") -> list[str]:
    check = CreditCheck(result={"channels": channels, "hits": []})
    decision = Decision(outcome=outcome, reasons="", feedback=[], decided_by="handler",
                        decided_at=dt.datetime.now(dt.UTC), check_id="c1", check_hash="h")
    case = Case(domain="housing", data=housing_data())
    return housing.HousingDomain().before_decision(case, check, decision)


def test_housing_approval_needs_the_personal_record_channels_to_have_answered():
    both = [{"name": "records", "available": True}, {"name": "lists", "available": True}]
    assert _housing_guard(both) == []
    missing = _housing_guard([{"name": "lists", "available": True}])
    assert len(missing) == 1 and "未包括 records" in missing[0]
    down = _housing_guard([{"name": "records", "available": False}, both[1]])
    assert len(down) == 1 and "records 渠道未能答复" in down[0]
    assert _housing_guard([], outcome="rejected") == []


# -- tax -----------------------------------------------------------------------------------------

def test_tax_a_grade_taxpayers_are_rewarded_and_put_first(workflow, city):
    applications = [  # subject, application, the note its check must carry
        (EXPORTER, tax_data(), tax.EXPORT_PRIORITY_NOTE),
        (FACTORY, _without(tax_data(incentive_type="高新技术企业"), "export_refund_plan_no"),
         tax.GREEN_CHANNEL_NOTE),
    ]
    for code, _, _ in applications:
        listed(city, code, "A_TAXPAYER", f"税总A级〔2026〕{code[-4:]}号")
    results = checked_all(workflow, city, [("tax", code, data) for code, data, _ in applications])
    for (code, _, note), (case, check) in zip(applications, results, strict=True):
        reward = measures(check)["A-LSTD"]
        assert (reward["kind"], reward["effect"]) == ("REWARD", "incentive"), code
        assert case.priority == 1 and case.red_hits == 1, code
        assert check.result["notes"] == [note], code
        recommendation = check.result["recommendation"]
        assert recommendation["outcome"] == "approve", code
        assert any("优先办理出口退税" in reason for reason in recommendation["reasons"]), code
    decided = workflow.decide(city.handler, str(results[0][0].pk), outcome="approved",
                              feedback=feedback(("A-LSTD", True, ""), ("SX-JCPC", True, ""),
                                                ("SX-YXBL", True, "")))
    assert [f.measure for f in decided.decision.feedback if f.applied] == [
        "A-LSTD", "SX-JCPC", "SX-YXBL"]


def test_tax_major_violators_get_strict_review_and_no_incentive(workflow, city):
    listed(city, LISTED, "ZDSSWF")
    listed(city, TRADER, "ZDSSWF", "税稽罚〔2026〕8号")
    listed(city, TRADER, "A_TAXPAYER", "税总A级〔2026〕77号")
    (violator, check), (_, mixed) = checked_all(
        workflow, city, [("tax", LISTED, None), ("tax", TRADER, None)])
    strict = measures(check)["SSYH-XZ"]
    assert (strict["binding"], strict["effect"]) == ("DISCRETIONARY", "restrict")
    assert check.result["recommendation"]["outcome"] == "review"
    assert check.result["notes"] == [] and violator.priority == 0
    assert {"A-LSTD", "SSYH-XZ"} <= set(measures(mixed))
    assert mixed.result["notes"] == [tax.WITHHELD_NOTE]
    assert mixed.result["recommendation"]["outcome"] == "review"
    assert mixed.result["recommendation"]["reasons"][-1] == tax.WITHHELD_NOTE


# -- application data ----------------------------------------------------------------------------

INVALID = [  # domain, subject, application, the one field the error names
    ("procurement", COMPANY, procurement_data(budget_amount="-5"), "budget_amount"),
    ("procurement", COMPANY, procurement_data(budget_amount="100.001"), "budget_amount"),
    ("procurement", COMPANY, procurement_data(procurement_method="网上竞价"), "procurement_method"),
    ("procurement", COMPANY, procurement_data(bid_deadline="2020-01-01T09:00:00+08:00"),
     "bid_deadline"),
    ("procurement", COMPANY, procurement_data(project_name="   "), "project_name"),
    ("procurement", COMPANY, _without(procurement_data(), "tender_notice_date"), "tender_notice_date"),
    ("procurement", COMPANY, procurement_data(winning_bid="1"), "winning_bid"),
    ("land", COMPANY, land_data(land_use="商服", term_years=50), "term_years"),
    ("land", COMPANY, land_data(transfer_method="协议"), "transfer_method"),
    ("land", COMPANY, land_data(area_m2="0"), "area_m2"),
    ("housing", PERSON, housing_data(household_size=0), "household_size"),
    ("housing", PERSON, housing_data(household_size=2.5), "household_size"),
    ("housing", PERSON, _without(housing_data(), "current_housing_m2_per_capita"),
     "current_housing_m2_per_capita"),
    ("tax", COMPANY, _without(tax_data(), "export_refund_plan_no"), "export_refund_plan_no"),
    ("tax", COMPANY, tax_data(incentive_type="节能减排"), "export_refund_plan_no"),
    ("tax", COMPANY, tax_data(tax_year=today().year + 1), "tax_year"),
    ("tax", COMPANY, tax_data(amount_claimed="0"), "amount_claimed"),
]


def test_invalid_application_data_is_refused_by_field(workflow, city):
    for domain, code, data, field in INVALID:
        with pytest.raises(RuleViolation) as err:
            apply(workflow, city, domain, code, data)
        assert list(err.value.errors) == [f"data.{field}"], (domain, field, err.value.errors)
    assert Case.objects.count() == 0

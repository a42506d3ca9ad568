"""The twelve further domain plugins of 舞信用办〔2020〕1号 三（五）(construction,
state assets, food and drug, subsidies, finance, awards, qualification,
staffing, internet, social organisations, personnel, other), loaded from their
entry points and driven through the workflow service end to end."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from typing import Any

import pytest

from creditcase.core import ids, lists
from creditcase.core.cases import Case, Decision
from creditcase.core.checks import CreditCheck
from creditcase.core.domains import LEGAL
from creditcase.core.errors import RuleViolation
from creditcase.core.lists import Measure
from creditcase.core.records import push_record
from creditcase.core.reports import Agency, file_report
from creditcase.plugins import construction, finance, other, personnel, qualification, state_assets
from creditcase.plugins.awards import PERIOD_NOTE
from creditcase.plugins.state_assets import counterparty
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
TRANSFEROR = ids.make_uscc("91410481MA40D1A01")
UNIT = ids.make_uscc("12410481416092148")
ORGAN = ids.make_uscc("11410481MA40D2B00")
PERSON = ids.make_id_number("41048119850312003")
OTHER_PERSON = ids.make_id_number("41048119900704002")
THIRD_PERSON = ids.make_id_number("41048119781120005")
NAMES = {COMPANY: "舞钢市恒信建材有限公司", LISTED: "舞钢市长兴商贸有限公司",
         PENALISED: "舞钢市通达物流有限公司", SHOP: "舞钢市李记五金店",
         TRADER: "舞钢市宏达贸易有限公司", FACTORY: "舞钢市华冶医药有限公司",
         BUILDER: "舞钢市鸿基建筑工程有限公司", EXPORTER: "舞钢市钢联投资有限公司",
         TRANSFEROR: "舞钢市国有资产经营有限公司", UNIT: "舞钢市教学研究室",
         ORGAN: "舞钢市机关事务管理局", PERSON: "张建国", OTHER_PERSON: "王秀兰",
         THIRD_PERSON: "李桂芳"}
FILING_NO = "豫信备2024-017"


def today() -> dt.date:
    return dt.datetime.now(BEIJING).date()


def _with(data: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    return {**data, **changes}


def _without(data: dict[str, Any], field: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != field}


def construction_data(**changes: Any) -> dict[str, Any]:
    return _with({"project_code": "WGJS-2026-018", "project_name": "舞钢市滨湖大道改造工程",
                  "bid_section": "施工一标段", "tenderer": "舞钢市城市建设投资有限公司",
                  "tender_type": "施工", "stage": "资格预审", "ceiling_price": "23680000.00",
                  "qualification_certificate_no": "D241048123"}, changes)


def state_assets_data(**changes: Any) -> dict[str, Any]:
    return _with({"project_no": "HNCQ-GQ-2026-0031", "transaction_type": "企业产权转让",
                  "target_name": "舞钢市钢城物业服务有限公司100%股权",
                  "transferor_name": NAMES[TRANSFEROR], "transferor_code": TRANSFEROR,
                  "listing_price": "8650000.00", "equity_ratio_percent": "100"}, changes)


def food_drug_data(**changes: Any) -> dict[str, Any]:
    return _with({"project_code": "PDS-YPCG-2026-07", "project_name": "公立医疗机构常用药品集中带量采购",
                  "category": "药品", "purchaser": "舞钢市人民医院", "licence_no": "豫20160012",
                  "product_count": 12, "budget_amount": "2480000.00"}, changes)


def subsidies_data(**changes: Any) -> dict[str, Any]:
    return _with({"fund_name": "舞钢市工业企业技术改造专项资金", "fund_year": today().year,
                  "project_name": "年产5万吨特种钢板生产线智能化改造", "support_method": "以奖代补",
                  "amount_requested": "500000.00", "total_investment": "12000000.00",
                  "competent_department": "舞钢市工业和信息化局"}, changes)


def finance_data(**changes: Any) -> dict[str, Any]:
    return _with({"matter_type": "设立融资担保公司", "institution_name": "舞钢市中小企业融资担保有限公司",
                  "investor_role": "主发起人", "registered_capital": "100000000.00",
                  "investment_amount": "40000000.00", "shareholding_percent": "40"}, changes)


def awards_data(**changes: Any) -> dict[str, Any]:
    return _with({"assessment_kind": "评优评先", "subject_matter": "荣誉称号",
                  "title": "舞钢市守合同重信用企业", "organiser": "舞钢市市场监督管理局",
                  "assessment_year": today().year,
                  "period_start": (today() - dt.timedelta(days=730)).isoformat()}, changes)


def qualification_data(**changes: Any) -> dict[str, Any]:
    return _with({"qualification_name": "二级建造师执业资格", "holder_type": "个人资格",
                  "application_type": "首次申请", "issuing_authority": "舞钢市住房和城乡建设局"},
                 changes)


def staffing_data(**changes: Any) -> dict[str, Any]:
    return _with({"matter_type": "编制增加", "institution_category": "公益一类",
                  "supervising_department": "舞钢市教育体育局", "current_quota": 86,
                  "requested_quota": 92, "duties": "承担全市中小学教研和教师培训工作，新增学前教育教研任务"},
                 changes)


def internet_data(**changes: Any) -> dict[str, Any]:
    return _with({"matter_type": "行业准入", "service_type": "网络餐饮服务", "platform_name": "钢城外卖",
                  "domain_name": " WWW.GangChengWaiMai.CN. ", "icp_filing_no": "豫ICP备20260123号-1"},
                 changes)


def social_org_data(**changes: Any) -> dict[str, Any]:
    return _with({"organisation_name": "舞钢市摄影家协会", "organisation_type": "社会团体",
                  "sponsor_type": "主要发起人", "stage": "筹备申请",
                  "business_supervisor": "舞钢市文学艺术界联合会", "funds": "50000.00",
                  "individual_members": 62, "unit_members": 0}, changes)


def personnel_data(**changes: Any) -> dict[str, Any]:
    return _with({"matter_type": "公务员招录", "employer": "舞钢市人力资源和社会保障局",
                  "position_name": "一级科员", "position_code": "41048101",
                  "exam_ticket_no": "2026410481001203", "announcement_no": "豫人社公告〔2026〕3号"}, changes)


def other_data(**changes: Any) -> dict[str, Any]:
    return _with({"sector": "安全生产", "matter_name": "危险化学品经营许可证核发",
                  "matter_code": "000120016000", "legal_basis": "危险化学品安全管理条例第三十三条",
                  "credit_use": "参考依据"}, changes)


DATA = {"construction": construction_data, "state_assets": state_assets_data,
        "food_drug": food_drug_data, "subsidies": subsidies_data, "finance": finance_data,
        "awards": awards_data, "qualification": qualification_data, "staffing": staffing_data,
        "internet": internet_data, "social_org": social_org_data, "personnel": personnel_data,
        "other": other_data}


def apply(workflow, city, domain: str, code: str, data: dict[str, Any] | None = None) -> Case:
    return workflow.apply(city.handler, domain=domain, matter=f"{domain}-matter",
                          subject={"code": code, "name": NAMES[code]},
                          data=data if data is not None else DATA[domain]())


def checked_all(workflow, city, applications: list[tuple[str, str, dict[str, Any] | None]],
                ) -> list[tuple[Case, CreditCheck]]:
    """Apply several cases and run their checks in one go."""
    cases = [apply(workflow, city, domain, code, data) for domain, code, data in applications]
    assert run_pending_checks(workflow) == len(cases)
    out = []
    for case in cases:
        case = Case.objects.get(pk=case.pk)
        assert case.state == "checked"
        out.append((case, workflow.latest_check(case)))
    return out


def checked(workflow, city, domain: str, code: str,
            data: dict[str, Any] | None = None) -> tuple[Case, CreditCheck]:
    return checked_all(workflow, city, [(domain, code, data)])[0]


def recheck(workflow, city, case: Case) -> tuple[Case, CreditCheck]:
    workflow.request_check(city.handler, str(case.pk))
    assert run_pending_checks(workflow) == 1
    case = Case.objects.get(pk=case.pk)
    return case, workflow.latest_check(case)


def listed(city, code: str, list_type: str, doc_no: str | None = None) -> None:
    lists.add_entry(city.credit_office, list_type=list_type, subject_code=code,
                    subject_name=NAMES[code], basis_doc_no=doc_no or f"(2026)豫0481{list_type}{code[-4:]}号",
                    listed_on=today() - dt.timedelta(days=30))


def penalty(city, code: str, decided: dt.date, doc_no: str = "舞市监罚〔2026〕17号") -> None:
    push_record(city.provider, {
        "subject_code": code, "subject_name": NAMES[code], "kind": "penalty", "severity": "serious",
        "title": "销售不合格产品", "content": "罚款人民币伍拾万元", "doc_no": doc_no,
        "decision_date": decided, "authority": "舞钢市市场监督管理局"})


def filed_agency() -> None:
    Agency(name="河南中原信用评估有限公司", uscc=ids.make_uscc("91410100MA40C5F09"),
           filing_no=FILING_NO, filing_authority="河南省发展和改革委员会",
           filing_valid_until=today() + dt.timedelta(days=365)).save()


def report(city, code: str, rating: str = "AA", number: str | None = None, **extra: Any) -> None:
    file_report(city.provider, {"number": number or f"ZYXP-2026-{code[-6:]}", "subject_code": code,
                                "subject_name": NAMES[code], "agency_filing_no": FILING_NO,
                                "issue_date": today() - dt.timedelta(days=40), "rating": rating,
                                **extra})


def measures(check: CreditCheck) -> dict[str, dict[str, Any]]:
    return {m["code"]: m for m in check.measures}


def feedback(*items: tuple[str, bool, str]) -> list[dict[str, Any]]:
    return [{"measure": code, "applied": applied, "reason": reason, "outcome_text": ""}
            for code, applied, reason in items]


def refusal(workflow, city, case: Case, **decision: Any) -> list[str]:
    """The outcome vetoes of a refused decision."""
    decision.setdefault("feedback", [])
    with pytest.raises(RuleViolation) as err:
        workflow.decide(city.handler, str(case.pk), **decision)
    return err.value.errors.get("outcome", []) + err.value.errors.get("feedback", [])


# -- registration and catalogue ------------------------------------------------------------------

NEW_DOMAINS = [  # code, name_zh, clause, subject kinds, channels
    ("construction", "工程建设招投标", "三（五）3", ["LEGAL"], ["records", "lists", "reports"]),
    ("state_assets", "国有资产产权交易", "三（五）4", ["LEGAL", "INDIVIDUAL_BUSINESS", "NATURAL"],
     ["records", "lists", "reports"]),
    ("food_drug", "食品药品招标采购", "三（五）5", ["LEGAL", "INDIVIDUAL_BUSINESS"],
     ["records", "lists", "reports"]),
    ("subsidies", "财政专项资金补助", "三（五）6", ["LEGAL", "INDIVIDUAL_BUSINESS", "NATURAL"],
     ["records", "lists", "reports"]),
    ("finance", "金融监督管理", "三（五）7", ["LEGAL"], ["records", "lists", "reports"]),
    ("awards", "评优评级与周期性审验", "三（五）9", ["LEGAL", "INDIVIDUAL_BUSINESS"],
     ["records", "lists", "reports"]),
    ("qualification", "社会法人、个人资质审核或认定", "三（五）10",
     ["LEGAL", "INDIVIDUAL_BUSINESS", "NATURAL"], ["records", "lists", "reports"]),
    ("staffing", "事业机构编制管理", "三（五）11", ["LEGAL"], ["records", "lists", "reports"]),
    ("internet", "互联网应用及服务", "三（五）13", ["LEGAL", "INDIVIDUAL_BUSINESS"],
     ["records", "lists", "reports"]),
    ("social_org", "社会组织登记", "三（五）14", ["LEGAL", "NATURAL"], ["records", "lists", "reports"]),
    ("personnel", "公务员、事业单位人员招录、聘用、管理", "三（五）15", ["NATURAL"], ["records", "lists"]),
    ("other", "其他行政管理事项", "三（五）16", ["LEGAL", "INDIVIDUAL_BUSINESS", "NATURAL"],
     ["records", "lists", "reports"]),
]


@pytest.mark.parametrize("code,name_zh,clause,kinds,channels", NEW_DOMAINS)
def test_each_new_domain_is_its_own_entry_point_plugin(host, code, name_zh, clause, kinds, channels):
    assert host.domain_owner(code) == code
    described = host.domain(code).describe()
    assert described["name_zh"] == name_zh and described["name_en"]
    basis = described["policy_basis"]
    assert basis == f"舞信用办〔2020〕1号 {clause}" or basis.startswith(f"舞信用办〔2020〕1号 {clause}；")
    assert described["subject_kinds"] == kinds and described["required_channels"] == channels
    assert described["rule_version"] == "2026.1" and described["max_check_age_days"] > 0
    schema = host.domain(code).application_schema()
    assert 5 <= len(schema.fields) <= 8
    assert all(f.metadata.get("description") for f in schema.fields.values()), code


def test_every_shipped_measure_is_enforceable_and_targets_installed_domains(host):
    shipped = json.loads(resources.files("creditcase.core").joinpath("data", "measures.json")
                         .read_text("utf-8"))
    list_types = {t["code"] for t in json.loads(resources.files("creditcase.core")
                                                .joinpath("data", "list_types.json")
                                                .read_text("utf-8"))["list_types"]}
    for item in shipped["measures"]:
        assert item["legal_basis"].strip() and item["binding"] in lists.BINDINGS, item["code"]
        assert item["effect"] in lists.EFFECTS and item["kind"] in lists.MEASURE_KINDS, item["code"]
        assert set(item["domains"]) <= set(host.domains) | {"*"}, item["code"]
        for trigger in item["triggers"]:
            bare = trigger.removeprefix(counterparty.CODE_PREFIX)
            assert bare in list_types or bare.startswith("RECORD:"), (item["code"], trigger)


# -- every new domain: a clean subject end to end ------------------------------------------------

CLEAN = [  # domain, subject, application, whether it needs a report
    ("construction", BUILDER, construction_data(stage="评标"), False),
    ("state_assets", TRADER, None, False),
    ("food_drug", FACTORY, None, True),
    ("subsidies", SHOP, None, False),
    ("finance", EXPORTER, None, True),
    ("awards", COMPANY, None, False),
    ("qualification", OTHER_PERSON, None, False),
    ("staffing", UNIT, None, False),
    ("internet", COMPANY, internet_data(matter_type="业务评价", licence_no="豫B2-20190123"), True),
    ("social_org", THIRD_PERSON, None, False),
    ("personnel", PERSON, None, False),
    ("other", SHOP, None, False),
]


def test_clean_subjects_are_checked_approved_and_archived_in_every_new_domain(workflow, city):
    filed_agency()
    for code in {code for _, code, _, needs_report in CLEAN if needs_report}:
        report(city, code)
    results = checked_all(workflow, city, [(d, c, data) for d, c, data, _ in CLEAN])
    for (domain, _, _, needs_report), (case, check) in zip(CLEAN, results, strict=True):
        expected = list(city_domain_channels(domain))
        assert [c["name"] for c in check.receipt["channels"]] == expected, domain
        assert check.result["recommendation"] == {"outcome": "approve", "reasons": []}, domain
        assert check.measures == [] and check.complete, domain
        if needs_report:
            assert check.has_valid_report, domain
        decided = workflow.decide(city.handler, str(case.pk), outcome="approved", feedback=[],
                                  reasons="信用记录良好")
        assert decided.decision.rule_versions["domain"] == f"{domain}/2026.1"
        bundle = workflow.archive(city.handler, str(case.pk))
        case = Case.objects.get(pk=case.pk)
        assert case.state == "archived" and case.evidence_hash == bundle.hash, domain
    notes = {case.domain: check.result["notes"] for case, check in results}
    assert notes["construction"] == [
        f"{construction.GRADE_NOTE}（评标）：公共信用综合评价 A级（优秀，100 分，评价方案 WG-2026-1）"]
    assert notes["internet"][0].startswith("业务评价信用参考：公共信用综合评价 A级")
    assert notes["state_assets"] == [counterparty.queried_note(TRANSFEROR, NAMES[TRANSFEROR], 0)]
    assert all(notes[d] == [] for d in DATA if d not in ("construction", "internet", "state_assets"))
    stored = {case.domain: case.data for case, _ in results}
    assert stored["internet"]["domain_name"] == "www.gangchengwaimai.cn"
    assert stored["state_assets"]["equity_ratio_percent"] == "100"
    assert stored["finance"]["registered_capital"] == "100000000.00"


def city_domain_channels(domain: str) -> tuple[str, ...]:
    base = next(channels for code, *_, channels in NEW_DOMAINS if code == domain)
    return (*base, counterparty.CHANNEL) if domain == "state_assets" else tuple(base)


# -- construction --------------------------------------------------------------------------------

def test_construction_dishonest_bidder_raises_the_mandatory_bidding_bar(workflow, city):
    Measure.objects(code="ZTB-XZ").update(set__binding="DISCRETIONARY")  # pinned MANDATORY here
    listed(city, LISTED, "SXBZXR")
    case, check = checked(workflow, city, "construction", LISTED)
    bar = measures(check)["ZTB-XZ"]
    assert (bar["kind"], bar["binding"], bar["effect"]) == ("PUNISH", "MANDATORY", "reject")
    assert set(measures(check)) == {"ZTB-XZ", "ZD-SC"}
    assert check.result["recommendation"]["outcome"] == "reject"
    fb = feedback(("ZTB-XZ", True, ""), ("ZD-SC", True, ""))
    assert any("must be rejected" in r for r in refusal(workflow, city, case, outcome="approved",
                                                        feedback=fb))
    fb_unapplied = feedback(("ZTB-XZ", False, "已履行完毕，待法院删除"), ("ZD-SC", True, ""))
    assert any("override" in r for r in refusal(workflow, city, case, outcome="approved",
                                                 feedback=fb_unapplied))
    workflow.decide(city.handler, str(case.pk), outcome="rejected", feedback=fb,
                    reasons="投标人为失信被执行人，资格预审不予通过")


def test_construction_wage_arrears_restricts_the_bidder(workflow, city):
    listed(city, BUILDER, "TQNMGGZ")
    case, check = checked(workflow, city, "construction", BUILDER)
    restriction = measures(check)["TQ-XZ"]
    assert (restriction["binding"], restriction["effect"]) == ("DISCRETIONARY", "restrict")
    recommendation = check.result["recommendation"]
    assert recommendation["outcome"] == "review"
    assert recommendation["reasons"][-1].startswith("拖欠农民工工资失信联合惩戒对象")
    fb = feedback(("TQ-XZ", True, ""), ("ZD-SC", True, ""))
    assert any("限制类措施" in r for r in refusal(workflow, city, case, outcome="approved", feedback=fb))
    decided = workflow.decide(city.handler, str(case.pk), outcome="approved_with_conditions",
                              conditions=["评标信用分扣减5分"], feedback=fb)
    assert decided.decision.outcome == "approved_with_conditions"


# -- state assets --------------------------------------------------------------------------------

def test_state_assets_black_listed_counterparty_raises_a_hit_and_a_measure(workflow, city):
    Measure.objects(code="GYCQ-XZ").update(set__binding="DISCRETIONARY")  # pinned MANDATORY here
    listed(city, TRANSFEROR, "SXBZXR")
    listed(city, LISTED, "SXBZXR")
    (case, check), (barred, barred_check) = checked_all(
        workflow, city, [("state_assets", TRADER, None), ("state_assets", LISTED, None)])
    # the transferee is clean: its grade is untouched, the counterparty's entry is a hit
    hits = check.result["hits"]
    assert [(h["channel"], h["code"], h["color"]) for h in hits] == \
        [("counterparty", "COUNTERPARTY:SXBZXR", "black")]
    assert hits[0]["detail"]["party_code"] == TRANSFEROR and NAMES[TRANSFEROR] in hits[0]["title"]
    assert check.result["grade"]["grade"] == "A"
    review = measures(check)["GYCQ-DFSC"]
    assert list(measures(check)) == ["GYCQ-DFSC"]
    assert (review["binding"], review["effect"]) == ("DISCRETIONARY", "review")
    assert review["legal_basis"].startswith("舞信用办〔2020〕1号 三（五）4")
    assert review["source_hits"] == [hits[0]["ref"]]
    receipt = {c["name"]: c for c in check.receipt["channels"]}
    assert receipt["counterparty"]["available"] is True
    recommendation = check.result["recommendation"]
    assert recommendation["outcome"] == "review"
    assert recommendation["reasons"][-1] == state_assets.REFERENCE_NOTE
    decided = workflow.decide(city.handler, str(case.pk), outcome="approved",
                              feedback=feedback(("GYCQ-DFSC", True, "")),
                              reasons="已核实交易标的未被查封，转让经国资监管机构批准")
    assert [f.measure for f in decided.decision.feedback] == ["GYCQ-DFSC"]
    # a dishonest transferee is barred (MANDATORY); its counterparty's entry is reviewed as well
    assert set(measures(barred_check)) == {"GYCQ-XZ", "ZD-SC", "GYCQ-DFSC"}
    assert measures(barred_check)["GYCQ-XZ"]["binding"] == "MANDATORY"
    assert barred_check.result["recommendation"]["outcome"] == "reject"
    assert barred.black_hits == 2


def test_state_assets_counterparty_records_count_and_the_parties_must_differ(workflow, city):
    penalty(city, TRANSFEROR, today() - dt.timedelta(days=100), doc_no="舞国资罚〔2026〕2号")
    same = state_assets_data(transferor_code=TRADER, transferor_name=NAMES[TRADER])
    (_, check), (self_deal, _) = checked_all(
        workflow, city, [("state_assets", PERSON, None), ("state_assets", TRADER, same)])
    assert [h["code"] for h in check.result["hits"]] == ["COUNTERPARTY:RECORD:penalty:serious"]
    assert list(measures(check)) == ["GYCQ-DFSC"]
    assert any("同一主体" in r for r in refusal(workflow, city, self_deal, outcome="approved"))
    workflow.decide(city.handler, str(self_deal.pk), outcome="rejected", feedback=[],
                    reasons="转让方与受让方为同一主体")


def _state_assets_guard(notes: list[str]) -> list[str]:
    check = CreditCheck(result={"channels": [], "hits": [], "notes": notes, "reports": []})
    decision = Decision(outcome="approved", reasons="", feedback=[], decided_by="handler",
                        decided_at=dt.datetime.now(dt.UTC), check_id="c1", check_hash="h")
    case = Case(domain="state_assets", subject_code=TRADER, data=state_assets_data())
    return state_assets.StateAssetsDomain().before_decision(case, check, decision)


def test_state_assets_approval_needs_a_check_of_the_named_counterparty():
    assert _state_assets_guard([counterparty.queried_note(TRANSFEROR, NAMES[TRANSFEROR], 0)]) == []
    other_party = counterparty.queried_note(COMPANY, NAMES[COMPANY], 0)
    for notes in ([], [other_party]):
        found = _state_assets_guard(notes)
        assert len(found) == 1 and "未包括交易对方" in found[0]


def test_state_assets_case_goes_stale_when_the_counterparty_changes(workflow, city):
    case, _ = checked(workflow, city, "state_assets", TRADER)
    assert case.related_subjects == [TRANSFEROR]
    assert workflow.subject_changed(TRANSFEROR, "record.created", serious=False)["stale"] == 1
    assert Case.objects.get(pk=case.pk).state == "stale"


# -- food and drug, finance: a valid report is required ------------------------------------------

@pytest.mark.parametrize("domain,code", [("food_drug", FACTORY), ("finance", EXPORTER),
                                         ("internet", COMPANY)])
def test_approval_needs_a_valid_credit_report(workflow, city, domain, code):
    case, check = checked(workflow, city, domain, code)
    assert not check.has_valid_report
    assert check.result["recommendation"] == {"outcome": "reject",
                                              "reasons": ["no valid third-party credit report"]}
    assert any("valid third-party credit report" in r
               for r in refusal(workflow, city, case, outcome="approved"))
    filed_agency()
    report(city, code, number=f"ZYXP-2026-{domain}")
    case, check = recheck(workflow, city, case)
    assert check.has_valid_report and check.result["reports"][0]["number"] == f"ZYXP-2026-{domain}"
    assert check.result["recommendation"]["outcome"] == "approve"
    decided = workflow.decide(city.handler, str(case.pk), outcome="approved", feedback=[])
    assert decided.decision.check_id == str(check.pk)


def test_food_drug_low_rating_is_reviewed_never_a_bar_and_debtors_are_barred(workflow, city):
    filed_agency()
    report(city, FACTORY, rating="CCC", risk_warnings=["近一年存在多起买卖合同纠纷诉讼"])
    report(city, LISTED)
    listed(city, LISTED, "SXBZXR")
    (case, check), (_, barred) = checked_all(
        workflow, city, [("food_drug", FACTORY, None), ("food_drug", LISTED, None)])
    recommendation = check.result["recommendation"]
    assert recommendation["outcome"] == "review"
    assert any("评级 CCC" in r for r in recommendation["reasons"])
    assert any("风险提示：近一年存在多起买卖合同纠纷诉讼" in r for r in recommendation["reasons"])
    assert any("评级为 CCC" in r for r in refusal(workflow, city, case, outcome="approved"))
    workflow.decide(city.handler, str(case.pk), outcome="approved", feedback=[],
                    reasons="经核实诉讼已调解结案，生产经营和供货能力正常")
    # the black-list entry voided the report issued before it; the debtor is barred anyway
    assert not barred.has_valid_report
    bar = measures(barred)["YPCG-XZ"]
    assert (bar["binding"], bar["effect"]) == ("MANDATORY", "reject")
    assert barred.result["recommendation"]["outcome"] == "reject"


def test_finance_serious_penalty_within_three_years_and_the_bar(workflow, city):
    filed_agency()
    penalty(city, PENALISED, today() - dt.timedelta(days=700), doc_no="舞金罚〔2024〕5号")
    report(city, PENALISED, rating="BB")  # issued after the penalty: still valid
    penalty(city, BUILDER, today() - dt.timedelta(days=1100), doc_no="舞金罚〔2023〕2号")
    report(city, BUILDER)
    listed(city, LISTED, "SXBZXR")
    (case, check), (older, older_check), (_, barred) = checked_all(
        workflow, city, [("finance", PENALISED, None), ("finance", BUILDER, None),
                         ("finance", LISTED, None)])
    assert check.has_valid_report
    notes = check.result["notes"]
    assert len(notes) == 1 and notes[0].startswith(finance.THREE_YEAR_NOTE)
    assert "国务院令第683号" in notes[0]
    recommendation = check.result["recommendation"]
    assert recommendation["outcome"] == "review"
    assert any(r.startswith(finance.THREE_YEAR_NOTE) for r in recommendation["reasons"])
    assert any("低于投资级" in r for r in recommendation["reasons"])
    assert any("最近3年" in r for r in refusal(workflow, city, case, outcome="approved"))
    workflow.decide(city.handler, str(case.pk), outcome="approved", feedback=[],
                    reasons="处罚所涉问题已整改，出资为自有资金，经审慎审查准予作为主发起人")
    # more than three years ago: an adverse record to review, no finding, no reasons needed
    assert older_check.result["notes"] == []
    assert older_check.result["recommendation"]["outcome"] == "review"
    workflow.decide(city.handler, str(older.pk), outcome="approved", feedback=[])
    bar = measures(barred)["JR-XZ"]
    assert (bar["binding"], bar["effect"]) == ("MANDATORY", "reject")
    assert barred.result["recommendation"]["outcome"] == "reject"


# -- subsidies and awards: the mandatory exclusions ----------------------------------------------

@pytest.mark.parametrize("domain,measure,list_types", [
    ("subsidies", "CZZJ-XZ", ("SXBZXR", "ZDSSWF")),
    ("awards", "PYXX-XZ", ("SXBZXR", "ZDSSWF", "SCJG_YZWF")),
])
def test_listed_applicants_raise_the_mandatory_exclusion(workflow, city, domain, measure, list_types):
    Measure.objects(code=measure).update(set__binding="DISCRETIONARY")  # pinned MANDATORY
    applicants = dict(zip(list_types, (LISTED, TRADER, FACTORY), strict=False))
    for list_type, code in applicants.items():
        listed(city, code, list_type)
    results = checked_all(workflow, city, [(domain, code, None) for code in applicants.values()])
    for list_type, (_, check) in zip(applicants, results, strict=True):
        raised = measures(check)[measure]
        assert (raised["binding"], raised["effect"]) == ("MANDATORY", "reject"), list_type
        assert check.result["recommendation"]["outcome"] == "reject", list_type
    case, check = results[0]
    fb = feedback(*[(code, True, "") for code in measures(check)])
    assert any("must be rejected" in r for r in refusal(workflow, city, case, outcome="approved",
                                                        feedback=fb))
    workflow.decide(city.handler, str(case.pk), outcome="rejected", feedback=fb,
                    reasons="申请人为失信被执行人")


def test_subsidies_wage_arrears_allow_only_conditional_support(workflow, city):
    listed(city, SHOP, "TQNMGGZ")
    case, check = checked(workflow, city, "subsidies", SHOP)
    assert set(measures(check)) == {"TQ-XZ", "ZD-SC"}
    fb = feedback(("TQ-XZ", True, ""), ("ZD-SC", True, ""))
    assert any("限制类措施" in r for r in refusal(workflow, city, case, outcome="approved", feedback=fb))
    workflow.decide(city.handler, str(case.pk), outcome="approved_with_conditions", feedback=fb,
                    conditions=["拖欠工资清偿完毕后拨付补助资金"])


def test_awards_serious_penalty_in_the_assessment_period_recommends_rejection(workflow, city):
    start = today() - dt.timedelta(days=365)
    penalty(city, PENALISED, start, doc_no="舞市监罚〔2025〕88号")
    penalty(city, BUILDER, start - dt.timedelta(days=1), doc_no="舞市监罚〔2025〕87号")
    data = awards_data(period_start=start.isoformat())
    (case, check), (_, older) = checked_all(
        workflow, city, [("awards", PENALISED, data), ("awards", BUILDER, data)])
    notes = check.result["notes"]
    assert len(notes) == 1 and notes[0].startswith(PERIOD_NOTE)
    assert check.result["recommendation"]["outcome"] == "reject"
    assert any("考察期内有严重失信记录" in r for r in refusal(workflow, city, case, outcome="approved"))
    workflow.decide(city.handler, str(case.pk), outcome="rejected", feedback=[],
                    reasons="考察期内受到严重行政处罚")
    assert older.result["notes"] == []
    assert older.result["recommendation"]["outcome"] == "review"


# -- qualification -------------------------------------------------------------------------------

def test_qualification_for_persons_and_organisations_with_restriction(workflow, city):
    company = qualification_data(qualification_name="建筑业企业资质", holder_type="单位资质",
                                 application_type="升级", level="二级",
                                 current_certificate_no="D341048123")
    listed(city, BUILDER, "SCJG_YZWF")
    (mismatch, _), (restricted, check) = checked_all(
        workflow, city, [("qualification", COMPANY, None), ("qualification", BUILDER, company)])
    assert any("不能授予该类主体" in r for r in refusal(workflow, city, mismatch, outcome="approved"))
    restriction = measures(check)["ZZRD-XZ"]
    assert (restriction["binding"], restriction["effect"]) == ("DISCRETIONARY", "restrict")
    assert check.result["recommendation"]["reasons"][-1] == qualification.REFERENCE_NOTE
    fb = feedback(("ZZRD-XZ", True, ""), ("ZD-SC", True, ""))
    assert any("不得无条件授予资质" in r
               for r in refusal(workflow, city, restricted, outcome="approved", feedback=fb))
    decided = workflow.decide(city.handler, str(restricted.pk), outcome="approved_with_conditions",
                              conditions=["维持三级资质，一年后方可再次申请升级"], feedback=fb)
    assert decided.decision.conditions == ["维持三级资质，一年后方可再次申请升级"]


# -- staffing ------------------------------------------------------------------------------------

def test_staffing_accepts_public_institutions_only(workflow, city, host):
    domain = host.domain("staffing")
    assert domain.subject_errors(LEGAL, UNIT) == {}
    assert "工商（市场监管）：企业" in domain.subject_errors(LEGAL, COMPANY)["subject.code"][0]
    assert "机构编制：机关" in domain.subject_errors(LEGAL, ORGAN)["subject.code"][0]
    for code in (SHOP, PERSON):
        with pytest.raises(RuleViolation) as err:
            apply(workflow, city, "staffing", code)
        assert "staffing accepts LEGAL" in err.value.errors["subject.kind"][0]
    for code in (COMPANY, ORGAN):
        with pytest.raises(RuleViolation) as err:
            apply(workflow, city, "staffing", code)
        assert "须为事业单位" in err.value.errors["subject.code"][0]
    _, check = checked(workflow, city, "staffing", UNIT)
    assert check.result["recommendation"]["outcome"] != "reject"


# -- internet ------------------------------------------------------------------------------------

def test_internet_restriction_forbids_unconditional_access(workflow, city):
    filed_agency()
    report(city, TRADER)
    listed(city, TRADER, "SCJG_YZWF")
    case, check = checked(workflow, city, "internet", TRADER)
    # the black-list entry came after the report: the report is void, so a new one is needed
    assert not check.has_valid_report
    report(city, TRADER, number="ZYXP-2026-AFTER", issue_date=today() - dt.timedelta(days=5))
    case, check = recheck(workflow, city, case)
    restriction = measures(check)["HLW-XZ"]
    assert (restriction["binding"], restriction["effect"]) == ("DISCRETIONARY", "restrict")
    fb = feedback(("HLW-XZ", True, ""), ("ZD-SC", True, ""))
    assert any("不得无条件准入" in r for r in refusal(workflow, city, case, outcome="approved", feedback=fb))
    workflow.decide(city.handler, str(case.pk), outcome="approved_with_conditions", feedback=fb,
                    conditions=["纳入重点监管，每季度报送经营情况"])


# -- social organisations ------------------------------------------------------------------------

def test_social_org_sponsor_kind_and_the_founding_bar(workflow, city):
    unit_sponsor = social_org_data(sponsor_type="主要发起单位", organisation_type="民办非企业单位",
                                   stage="成立登记", funds="100000", individual_members=None,
                                   unit_members=None)
    unit_sponsor = {k: v for k, v in unit_sponsor.items() if v is not None}
    listed(city, LISTED, "SXBZXR")
    results = checked_all(workflow, city, [("social_org", COMPANY, None),  # a company as 主要发起人
                                           ("social_org", COMPANY, unit_sponsor),
                                           ("social_org", LISTED, unit_sponsor)])
    (mismatch, _), (fitting, _), (barred, check) = results
    assert any("与主体类别" in r for r in refusal(workflow, city, mismatch, outcome="approved"))
    workflow.decide(city.handler, str(fitting.pk), outcome="approved", feedback=[])
    bar = measures(check)["SHZZ-XZ"]
    assert (bar["binding"], bar["effect"]) == ("MANDATORY", "reject")
    assert check.result["recommendation"]["outcome"] == "reject"
    fb = feedback(("SHZZ-XZ", False, "已履行"), ("ZD-SC", True, ""))
    assert any("MANDATORY" in r for r in refusal(workflow, city, barred, outcome="approved", feedback=fb))


# -- personnel -----------------------------------------------------------------------------------

def test_personnel_natural_persons_only_and_credit_is_a_discretionary_reference(workflow, city):
    for code in (COMPANY, SHOP):
        with pytest.raises(RuleViolation) as err:
            apply(workflow, city, "personnel", code)
        assert "personnel accepts NATURAL" in err.value.errors["subject.kind"][0]
    Measure.objects(code="GWY-XZ").update(set__binding="MANDATORY")  # discretionary in personnel
    for code in (PERSON, OTHER_PERSON):
        listed(city, code, "SXBZXR")
    appraisal = personnel_data(matter_type="考核", exam_ticket_no=None)
    appraisal = {k: v for k, v in appraisal.items() if v is not None}
    (recruit, check), (appraised, _) = checked_all(
        workflow, city, [("personnel", PERSON, None), ("personnel", OTHER_PERSON, appraisal)])
    assert {m["binding"] for m in check.measures} == {"DISCRETIONARY"}
    assert set(measures(check)) == {"GWY-XZ", "ZD-SC"}
    recommendation = check.result["recommendation"]
    assert recommendation["outcome"] == "review"
    assert recommendation["reasons"][-1] == personnel.REFERENCE_NOTE
    fb = feedback(("GWY-XZ", True, ""), ("ZD-SC", True, ""))
    assert any("不予录用" in r for r in refusal(workflow, city, recruit, outcome="approved", feedback=fb))
    workflow.decide(city.handler, str(recruit.pk), outcome="rejected", feedback=fb,
                    reasons="考生为失信被执行人，按规定不予录用")
    assert any("如何考虑" in r for r in refusal(workflow, city, appraised, outcome="approved",
                                              feedback=fb))
    fb[0]["outcome_text"] = "失信情况作为年度考核参考，考核等次不得评为优秀"
    decided = workflow.decide(city.handler, str(appraised.pk), outcome="approved", feedback=fb)
    assert decided.decision.override is None


# -- other ---------------------------------------------------------------------------------------

def test_other_matters_where_credit_is_a_necessary_condition(workflow, city):
    penalty(city, PENALISED, today() - dt.timedelta(days=20), doc_no="舞应急罚〔2026〕4号")
    necessary = other_data(credit_use="必要条件")
    (case, check), (_, reference) = checked_all(
        workflow, city, [("other", PENALISED, necessary), ("other", PENALISED, None)])
    notes = check.result["notes"]
    assert len(notes) == 1 and notes[0].startswith(other.NECESSARY_NOTE)
    assert "安全生产：危险化学品经营许可证核发" in notes[0]
    assert check.result["recommendation"]["outcome"] == "reject"
    assert any("必要条件" in r for r in refusal(workflow, city, case, outcome="approved"))
    assert reference.result["notes"] == []
    assert reference.result["recommendation"]["outcome"] == "review"


# -- application data ----------------------------------------------------------------------------

INVALID = [  # domain, subject, application, the one field the error names
    ("construction", COMPANY, construction_data(stage="开标"), "stage"),
    ("construction", COMPANY, construction_data(ceiling_price="0"), "ceiling_price"),
    ("state_assets", COMPANY, state_assets_data(transferor_code=PERSON), "transferor_code"),
    ("state_assets", COMPANY, state_assets_data(transferor_code=TRANSFEROR[:-1] + "4"),
     "transferor_code"),
    ("state_assets", COMPANY, _without(state_assets_data(), "equity_ratio_percent"),
     "equity_ratio_percent"),
    ("state_assets", COMPANY, state_assets_data(transaction_type="企业资产转让"), "equity_ratio_percent"),
    ("state_assets", COMPANY, state_assets_data(equity_ratio_percent="100.5"), "equity_ratio_percent"),
    ("food_drug", COMPANY, food_drug_data(category="食品", licence_no="豫20160012"), "licence_no"),
    ("food_drug", COMPANY, food_drug_data(product_count=0), "product_count"),
    ("subsidies", COMPANY, subsidies_data(amount_requested="13000000"), "amount_requested"),
    ("subsidies", COMPANY, subsidies_data(fund_year=1999), "fund_year"),
    ("finance", COMPANY, finance_data(registered_capital="15000000", investment_amount="6000000"),
     "registered_capital"),
    ("finance", COMPANY, finance_data(investment_amount="120000000"), "investment_amount"),
    ("finance", COMPANY, finance_data(shareholding_percent="0"), "shareholding_percent"),
    ("awards", COMPANY, awards_data(assessment_kind="周期性审验"), "certificate_no"),
    ("awards", COMPANY, awards_data(period_start=(today() + dt.timedelta(days=1)).isoformat()),
     "period_start"),
    ("qualification", PERSON, qualification_data(application_type="延续"), "current_certificate_no"),
    ("qualification", PERSON, qualification_data(current_certificate_no="X1"),
     "current_certificate_no"),
    ("staffing", UNIT, staffing_data(requested_quota=80), "requested_quota"),
    ("staffing", UNIT, staffing_data(current_quota=-1), "current_quota"),
    ("internet", COMPANY, internet_data(domain_name="https://gangcheng.cn/app"), "domain_name"),
    ("internet", COMPANY, internet_data(icp_filing_no="ICP20260123"), "icp_filing_no"),
    ("internet", COMPANY, internet_data(matter_type="业务评价"), "licence_no"),
    ("social_org", PERSON, social_org_data(individual_members=40), "individual_members"),
    ("social_org", PERSON, social_org_data(funds="20000"), "funds"),
    ("social_org", PERSON, social_org_data(organisation_type="基金会", individual_members=None,
                                           unit_members=None, funds="3000000"), "stage"),
    ("personnel", PERSON, _without(personnel_data(), "exam_ticket_no"), "exam_ticket_no"),
    ("personnel", PERSON, personnel_data(matter_type="选调"), "matter_type"),
    ("other", COMPANY, other_data(sector="文化旅游"), "sector"),
    ("other", COMPANY, _without(other_data(), "sector"), "sector"),
    ("other", COMPANY, other_data(matter_code="事项-01"), "matter_code"),
]


def test_invalid_application_data_is_refused_by_field(workflow, city):
    for domain, code, data, field in INVALID:
        data = {k: v for k, v in data.items() if v is not None}
        with pytest.raises(RuleViolation) as err:
            apply(workflow, city, domain, code, data)
        assert list(err.value.errors) == [f"data.{field}"], (domain, field, err.value.errors)
    assert Case.objects.count() == 0

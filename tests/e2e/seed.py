"""A small city for the browser tests, built through the core services.

Four departments (财政局 with procurement, 住建局 with the other installed
domains, 市场监管局 that pushes records, and the credit office), a user per
role, subjects of every kind with 双公示 licences and penalties (some
published on time, some late), red and black list entries, filed agencies
with valid and void reports, procurement cases in every state (checked,
decided, archived, one waiting for its check), an objection and a repair
draft. Everything goes through core, so guards, audit events, checks and
evidence bundles are real.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from creditcase.core import accounts, ids, objections, repairs
from creditcase.core.accounts import Principal
from creditcase.core.calendar import current_calendar
from creditcase.core.cases import Case, WorkflowService
from creditcase.core.lists import add_entry
from creditcase.core.records import load_record, push_record
from creditcase.core.reports import file_report, register_agency

BEIJING = dt.timezone(dt.timedelta(hours=8))

CZJ, ZJJ, SCJGJ, XYB = "410481-CZJ", "410481-ZJJ", "410481-SCJGJ", "410481-XYB"

#: username -> (roles, department, display name)
USERS: dict[str, tuple[list[str], str, str]] = {
    "czj-handler": (["handler"], CZJ, "许俊峰（财政局经办人）"),
    "czj-reviewer": (["reviewer"], CZJ, "李建国（财政局分管领导）"),
    "zjj-handler": (["handler"], ZJJ, "王晓燕（住建局经办人）"),
    "scjgj-provider": (["data_provider"], SCJGJ, "市场监管局数据报送"),
    "xyb-office": (["credit_office"], XYB, "赵敏（市信用办）"),
}

NATURAL_PERSON_ID = ids.make_id_number("41048119850312003")
#: applicants for affordable housing (natural persons)
TENANTS = {"李娜": ids.make_id_number("41048119900715004"),
           "王强": ids.make_id_number("41048119781102005")}


def password(username: str) -> str:
    return f"{username}-Pass-2026"


@dataclass
class Seed:
    principals: dict[str, Principal] = field(default_factory=dict)
    subjects: dict[str, str] = field(default_factory=dict)  # name -> code
    cases: dict[str, str] = field(default_factory=dict)  # label -> case id
    records: dict[str, str] = field(default_factory=dict)  # label -> record id


def uscc(body: str) -> str:
    """A valid USCC from its first 16 characters: the GB 11714 check character of the
    embedded organisation code, then the GB 32100 one."""
    organisation = body[8:16]
    total = sum((int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10) * w
                for ch, w in zip(organisation, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    r = 11 - total % 11
    return ids.make_uscc(body + ("X" if r == 10 else "0" if r == 11 else str(r)))


def today() -> dt.date:
    return dt.datetime.now(BEIJING).date()


def procurement(project: str, name: str) -> dict[str, str]:
    deadline = dt.datetime.now(BEIJING).replace(hour=9, minute=30, second=0, microsecond=0) \
        - dt.timedelta(days=1)
    return {"project_code": project, "project_name": name, "procurement_method": "公开招标",
            "budget_amount": "480000.00",
            "tender_notice_date": (deadline.date() - dt.timedelta(days=25)).isoformat(),
            "bid_deadline": deadline.strftime("%Y-%m-%dT%H:%M"), "purchaser": "舞钢市教育局"}


def decide_applying_every_measure(workflow: WorkflowService, who: Principal, case_id: str) -> Case:
    """Decide with every measure applied; rejected when an applied measure requires it."""
    case = workflow.get(who, case_id)
    check = workflow.latest_check(case)
    measures = check.measures if check else []
    feedback = [{"measure": m["code"], "applied": True,
                 "outcome_text": "已按措施要求办理"} for m in measures]
    rejecting = any(m["effect"] == "reject" for m in measures)
    return workflow.decide(who, case_id, outcome="rejected" if rejecting else "approved",
                           feedback=feedback,
                           reasons="供应商存在失信信息，依法不予准予。" if rejecting else "")


def seed_city(workflow: WorkflowService, run_checks: Any) -> Seed:
    seed = Seed()
    domains = sorted(workflow.host.domains)
    accounts.create_department(CZJ, "舞钢市财政局", name_en="Wugang Finance Bureau",
                               domains=["procurement"])
    accounts.create_department(ZJJ, "舞钢市住房和城乡建设局", name_en="Wugang Housing Bureau",
                               domains=[d for d in domains if d != "procurement"])
    accounts.create_department(SCJGJ, "舞钢市市场监督管理局", name_en="Wugang Market Supervision")
    accounts.create_department(XYB, "舞钢市社会信用体系建设领导小组办公室",
                               name_en="Wugang Credit Office", credit_office=True)
    for username, (roles, department, display) in USERS.items():
        user = accounts.create_user(username, roles=roles, department=department,
                                    password=password(username), display_name=display)
        seed.principals[username] = Principal.of(user)
    office, provider = seed.principals["xyb-office"], seed.principals["scjgj-provider"]

    names: dict[str, tuple[str, str]] = {
        "恒信": ("舞钢市恒信建设工程有限公司", uscc("91410481MA40HX01")),
        "顺达": ("舞钢市顺达物流有限公司", uscc("91410481MA40HD02")),
        "绿源": ("舞钢市绿源农业科技有限公司", uscc("91410481MA40LY03")),
        "博远": ("舞钢市博远信息技术有限公司", uscc("91410481MA40BY04")),
        "旭日": ("舞钢市旭日商贸有限公司", uscc("91410481MA40XR05")),
        "王记": ("舞钢市老街王记餐馆", uscc("92410481MA40WJ06")),
        "宏达": ("舞钢市宏达机械制造有限公司", uscc("91410481MA40HD11")),
        "张伟": ("张伟", NATURAL_PERSON_ID),
        **{name: (name, code) for name, code in TENANTS.items()},
    }
    seed.subjects = dict(names.values())
    calendar = current_calendar()
    on = today()
    recent = calendar.add_working_days(on, -3)
    late = calendar.add_working_days(on, -15)
    older = calendar.add_working_days(on, -60)

    def record(label: str, subject: str, kind: str, title: str, doc_no: str, day: dt.date,
               severity: str | None = None, *, department: str = SCJGJ, **extra: Any) -> None:
        name, code = names[subject]
        authority = {SCJGJ: "舞钢市市场监督管理局", ZJJ: "舞钢市住房和城乡建设局"}[department]
        values = load_record({"subject_code": code, "subject_name": name, "kind": kind,
                              "severity": severity, "title": title, "doc_no": doc_no,
                              "decision_date": day.isoformat(), "authority": authority,
                              "content": extra.pop("content", title), **extra})
        pusher = provider if department == SCJGJ else office
        stored, _ = push_record(pusher, values, source_department=department)
        seed.records[label] = str(stored.pk)

    record("恒信-penalty", "恒信", "penalty", "未按规定公示年度报告", "舞市监罚〔2026〕31号", late,
           "general", content="罚款人民币 5000 元")
    record("恒信-site", "恒信", "penalty", "施工现场扬尘防治措施不到位", "舞建罚〔2026〕12号", late,
           "general", department=ZJJ, content="罚款人民币 10000 元")
    record("旭日-licence", "旭日", "licence", "燃气经营许可", "舞建许〔2026〕41号", recent,
           department=ZJJ, publish=False, effective_until=(on + dt.timedelta(days=900)).isoformat())
    record("旭日-overdue", "旭日", "licence", "建筑业企业资质", "舞建许〔2026〕29号", late,
           department=ZJJ, publish=False, effective_until=(on + dt.timedelta(days=900)).isoformat())
    record("恒信-licence", "恒信", "licence", "建筑工程施工许可", "舞建许〔2026〕112号", recent,
           effective_until=(on + dt.timedelta(days=700)).isoformat())
    record("王记-penalty", "王记", "penalty", "超范围经营", "舞市监罚〔2026〕58号", recent,
           "general", content="警告，罚款人民币 2000 元")
    record("张伟-licence", "张伟", "licence", "食品经营许可", "舞市监许〔2026〕7号", older,
           content=f"经营者张伟（身份证号 {NATURAL_PERSON_ID}）食品经营许可",
           fields={"XK_XDR_ZJHM": NATURAL_PERSON_ID})
    record("张伟-penalty", "张伟", "penalty", "无证经营小餐饮", "舞市监罚〔2026〕77号", recent,
           "general", content="罚款人民币 3000 元")
    record("顺达-penalty", "顺达", "penalty", "超限运输", "舞市监罚〔2026〕90号", older, "serious",
           content="罚款人民币 30000 元")

    add_entry(office, list_type="SXBZXR", subject_code=names["顺达"][1], subject_name=names["顺达"][0],
              basis_doc_no="（2026）豫0481执29号", listed_on=on - dt.timedelta(days=60),
              source_department=XYB)
    add_entry(office, list_type="SXBZXR", subject_code=names["宏达"][1], subject_name=names["宏达"][0],
              basis_doc_no="（2026）豫0481执57号", listed_on=on - dt.timedelta(days=20),
              source_department=XYB)
    add_entry(office, list_type="A_TAXPAYER", subject_code=names["绿源"][1],
              subject_name=names["绿源"][0], basis_doc_no="舞税信〔2026〕A-015号",
              listed_on=on - dt.timedelta(days=100), source_department=XYB)

    register_agency(office, {"name": "河南诚信评估有限公司", "uscc": uscc("91410100MA44CX01"),
                             "filing_no": "豫信备〔2025〕008号", "filing_authority": "河南省发展和改革委员会",
                             "filing_valid_until": on + dt.timedelta(days=500), "status": "filed"})
    register_agency(office, {"name": "中原信用管理咨询有限公司", "uscc": uscc("91410100MA44EY02"),
                             "filing_no": "豫信备〔2024〕031号", "filing_authority": "河南省发展和改革委员会",
                             "filing_valid_until": on + dt.timedelta(days=200), "status": "suspended"})
    file_report(office, {"number": "HNCX-2026-0451", "subject_code": names["博远"][1],
                         "subject_name": names["博远"][0], "agency_filing_no": "豫信备〔2025〕008号",
                         "issue_date": on - dt.timedelta(days=90), "rating": "AA",
                         "sections": {"基本情况": "依法存续"}, "risk_warnings": []})
    file_report(office, {"number": "ZYXY-2025-0112", "subject_code": names["旭日"][1],
                         "subject_name": names["旭日"][0], "agency_filing_no": "豫信备〔2024〕031号",
                         "issue_date": on - dt.timedelta(days=420), "rating": "BBB",
                         "sections": {}, "risk_warnings": ["应收账款集中度偏高"]})

    handler = seed.principals["czj-handler"]
    for label, subject, project in [("顺达", "顺达", "舞钢市第一中学教学设备采购"),
                                    ("恒信", "恒信", "城区道路照明改造工程材料采购"),
                                    ("绿源", "绿源", "机关食堂农产品定点采购"),
                                    ("博远", "博远", "政务外网安全设备采购"),
                                    ("张伟", "张伟", "办公家具维修服务采购"),
                                    ("旭日", "旭日", "办公用品协议供货"),
                                    ("宏达", "宏达", "应急物资储备库货架采购")]:
        name, code = names[subject]
        case = workflow.apply(handler, domain="procurement", matter="政府采购供应商资格审查",
                              subject={"code": code, "name": name},
                              data=procurement(f"WGCG-2026-{len(seed.cases) + 101}", project))
        seed.cases[label] = str(case.pk)
    run_checks()
    for label in ("绿源", "博远", "恒信"):
        decide_applying_every_measure(workflow, handler, seed.cases[label])
    for label in ("绿源", "博远"):
        workflow.archive(handler, seed.cases[label])
    # a mandatory measure left unapplied: the reviewer approves, the handler decides
    reviewer = seed.principals["czj-reviewer"]
    override_case = workflow.get(handler, seed.cases["宏达"])
    check = workflow.latest_check(override_case)
    workflow.approve_override(reviewer, seed.cases["宏达"], measures=["ZFCG-JZ"],
                              reason="法院已出具结案通知书，失信信息待依法屏蔽；经局务会研究同意。")
    workflow.decide(handler, seed.cases["宏达"], outcome="approved", reasons="应急采购，经集体研究。",
                    feedback=[{"measure": m["code"], "applied": m["code"] != "ZFCG-JZ",
                               "reason": "经审核人批准：案件已执行完毕，失信信息待屏蔽"
                               if m["code"] == "ZFCG-JZ" else ""} for m in check.measures])
    housing = seed.principals["zjj-handler"]
    if "housing" in workflow.host.domains:
        for label, income in (("李娜", "980.00"), ("王强", "1260.00"), ("张伟", "1530.00")):
            name, code = names[label]
            case = workflow.apply(housing, domain="housing", matter="公共租赁住房申请",
                                  subject={"code": code, "name": name},
                                  data={"application_type": "公租房", "household_size": 3,
                                        "monthly_income_per_capita": income,
                                        "residence_district": "垭口街道",
                                        "current_housing_m2_per_capita": "9.50"})
            seed.cases[f"housing-{label}"] = str(case.pk)
        run_checks()
        for label in ("李娜", "王强"):
            decide_applying_every_measure(workflow, housing, seed.cases[f"housing-{label}"])
        workflow.archive(housing, seed.cases["housing-李娜"])
    # one application still waiting for its check
    name, code = names["王记"]
    case = workflow.apply(handler, domain="procurement", matter="政府采购供应商资格审查",
                          subject={"code": code, "name": name},
                          data=procurement("WGCG-2026-199", "职工食堂餐饮服务采购"))
    seed.cases["王记"] = str(case.pk)

    objection = objections.file_objection(None, {
        "name": names["恒信"][0], "code": names["恒信"][1], "contact": "0375-8123456",
        "grounds": "该处罚已于 2026 年依法履行完毕，且年度报告已补报，申请更正处罚信息。",
        "requested": "correct", "record_id": seed.records["恒信-penalty"]})
    objections.accept(office, str(objection.pk))
    repairs.draft(office, {"subject_code": names["王记"][1], "applicant_name": "王建军",
                           "applicant_contact": "13937512345",
                           "obligations_evidence": "罚款已于 2026 年缴纳，附缴款凭证。",
                           "record_id": seed.records["王记-penalty"]})
    return seed


__all__ = ["NATURAL_PERSON_ID", "USERS", "Seed", "decide_applying_every_measure", "password",
           "procurement", "seed_city"]

"""The demo city: 舞钢市 (Wugang, Henan; division code 410481), loaded by ``creditcase demo``.

:func:`load_demo` fills an empty database with a city that looks like one in use:
the departments of the policy (舞信用办〔2020〕1号) with the domains each handles,
a user for every role with a readable password and one bearer token, subjects with
valid codes (enterprises, among them the city's state-funded enterprises, individual
businesses, social organisations, public institutions (事业单位, USCC ``12…``) and
natural persons), 双公示 licences and penalties with the national XK_*/CF_* fields,
court, tax, award and contract records, red and black list entries, filed and
suspended credit agencies with their reports, and cases in every workflow state.

Every installed domain the demo knows (:data:`APPLICATION_FACTORIES`: the sixteen key
areas of the policy) is enabled by a department that handles it in a real city and
gets cases of its own, with application data valid under the domain's schema: the
state enterprises are the transferors of the state-assets transactions, the public
institutions apply for staffing, and the applicants of the domains that require a
third-party credit report (food and drug tenders, financial approvals, internet
services) mostly hold a valid one. Each domain's first case goes to an applicant in
good standing and ends decided, so every domain shows an approval; in the domains
requiring a report an applicant whose report has lapsed is refused as well. Domains of
third-party plugins get no cases: the demo cannot know what their applications hold.

Everything goes through the core services (``upsert_subject``, ``push_record``,
``add_entry``, ``file_report`` and the :class:`~creditcase.core.cases.WorkflowService`),
so guards, audit events, check receipts and evidence bundles are real. Checks are
performed in-process with ``WorkflowService.perform_check``; the cases left in
``applied``, ``checking`` and ``stale`` keep their check requests queued, so the
worker picks them up once ``creditcase serve`` runs. The record, list, report and
case events of the load are history, not news: they are stored as already
delivered, so starting the relay does not replay them into the stale marker (which
would mark the demo's open cases stale and flag its decided ones for review).

The data is deterministic for a given seed (``random.Random(seed)``) and day:
decision dates lie in 2025-01-02..2026-11-20, the period the official working-day
calendar covers; credit report issue dates and procurement bid deadlines are
counted back from the day of loading, because their validity is judged against
the real date when a check runs. Tokens are random and printed once.

The demo loads only into an empty database. ``reset=True`` first deletes every
document of every collection of the configured database: use it on a demo
database only, never on one holding real data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import random
import time
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from creditcase.core import db as core_db
from creditcase.core.accounts import (
    SYSTEM,
    Department,
    Principal,
    User,
    create_department,
    create_user,
    issue_token,
)
from creditcase.core.calendar import current_calendar
from creditcase.core.cases import STATES, Case
from creditcase.core.checks import CreditCheck
from creditcase.core.db import BEIJING
from creditcase.core.errors import RuleViolation
from creditcase.core.ids import USCC_CHARSET, make_id_number, make_uscc
from creditcase.core.lists import ListEntry, ListType, add_entry, add_months, ensure_catalogue
from creditcase.core.outbox import EVENTS_EXCHANGE, OutboxEntry
from creditcase.core.records import ADVERSE_KINDS, CreditRecord, push_record
from creditcase.core.reports import Agency, CreditReport, file_report, report_validity
from creditcase.core.runtime import Runtime
from creditcase.core.subjects import INDIVIDUAL_BUSINESS, LEGAL, NATURAL, Subject, upsert_subject

__all__ = ["DIVISION", "DemoAlreadyLoaded", "DemoSummary", "load_demo"]

log = logging.getLogger(__name__)

#: 舞钢市's administrative division code (GB/T 2260)
DIVISION = "410481"
#: decision dates of the demo's records lie in this period (covered by the official calendar)
FIRST_DAY = dt.date(2025, 1, 2)
LAST_DAY = dt.date(2026, 11, 20)
MIN_SUBJECTS = 30
COURT = "舞钢市人民法院"

STATE_LABELS = {"applied": "已受理", "checking": "核查中", "checked": "已核查",
                "stale": "待重新核查", "decided": "已决定", "archived": "已归档",
                "withdrawn": "已撤回"}
ROLE_LABELS = {"handler": "经办人", "reviewer": "审核人", "dept_admin": "部门管理员",
               "data_provider": "数据报送", "credit_office": "信用办", "admin": "系统管理员"}


class DemoAlreadyLoaded(RuntimeError):
    """The database is not empty: the demo was loaded before, or it holds other data."""


@dataclass
class DemoSummary:
    """What :func:`load_demo` created, and how to log in."""

    departments: int
    #: (username, password, roles joined with ",", department code)
    users: list[tuple[str, str, str, str]]
    #: username -> bearer token (one per user; shown only here)
    tokens: dict[str, str]
    subjects: int
    records: int
    list_entries: int
    reports: int
    #: case state -> number of cases
    cases: dict[str, int]
    base_url: str = "http://127.0.0.1:5000"
    department_names: dict[str, str] = field(default_factory=dict)
    #: domain code -> case state -> number of cases (states without cases left out)
    domain_cases: dict[str, dict[str, int]] = field(default_factory=dict)
    #: domain code -> Chinese name
    domain_names: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def login_text(self) -> str:
        """How to log in, in Chinese and English, with one curl example."""
        lines = [
            f"舞钢市演示数据已载入 / Wugang demo city loaded (division {DIVISION}, "
            f"{self.seconds:.1f} s)",
            f"  部门 departments {self.departments} · 主体 subjects {self.subjects} · "
            f"信用记录 credit records {self.records} · 红黑名单 list entries {self.list_entries} · "
            f"信用报告 credit reports {self.reports}",
            "  案件 cases: " + " · ".join(f"{STATE_LABELS.get(s, s)} {s} {self.cases.get(s, 0)}"
                                        for s in STATES),
            "  各领域案件 cases by domain:",
        ]
        for code, states in sorted(self.domain_cases.items()):
            label = f"{self.domain_names.get(code, '')} {code}".strip()
            lines.append("    " + _pad(f"{label} {sum(states.values())}", 52) + " · ".join(
                f"{STATE_LABELS.get(s, s)} {states[s]}" for s in STATES if s in states))
        lines += [
            "",
            f"登录地址 Log in at: {self.base_url}",
            "  " + _pad("用户名 username", 22) + _pad("密码 password", 32) + _pad("角色 role", 26)
            + "部门 department",
        ]
        for username, password, roles, department in self.users:
            role_text = ",".join(f"{r} {ROLE_LABELS.get(r, '')}".strip() for r in roles.split(","))
            name = self.department_names.get(department, "")
            lines.append("  " + _pad(username, 22) + _pad(password, 32) + _pad(role_text, 26)
                         + f"{department} {name}".rstrip())
        lines.append("")
        lines.append("每个用户各有一个 API 令牌 / every user has one bearer token for the API, e.g. "
                     "(信用办 sees every department):")
        example = next((u for u, _, roles, _ in self.users if "credit_office" in roles.split(",")),
                       next(iter(self.tokens), ""))
        token = self.tokens.get(example, "<token>")
        lines.append(f'  curl -H "Authorization: Bearer {token}" {self.base_url}/api/v1/cases')
        return "\n".join(lines)


def _pad(text: str, width: int) -> str:
    """Left-align ``text`` in ``width`` terminal columns (CJK characters take two)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(1, width - used)


# -- the city ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class DepartmentSpec:
    suffix: str
    name_zh: str
    name_en: str
    #: domain codes the department handles; only installed ones are enabled
    domains: tuple[str, ...] = ()
    credit_office: bool = False

    @property
    def code(self) -> str:
        return f"{DIVISION}-{self.suffix}"

    @property
    def prefix(self) -> str:
        return self.suffix.lower()


DEPARTMENTS: tuple[DepartmentSpec, ...] = (
    # the 财政局 also performs the duties of the state-assets authority (国资), as in most
    # county-level cities
    DepartmentSpec("CZJ", "舞钢市财政局", "Wugang Finance Bureau",
                   ("procurement", "subsidies", "state_assets")),
    DepartmentSpec("ZRZYJ", "舞钢市自然资源局", "Wugang Natural Resources Bureau", ("land",)),
    DepartmentSpec("ZJJ", "舞钢市住房和城乡建设局", "Wugang Housing and Urban-Rural Development Bureau",
                   ("housing", "construction", "qualification")),
    DepartmentSpec("MZJ", "舞钢市民政局", "Wugang Civil Affairs Bureau", ("housing", "social_org")),
    DepartmentSpec("SWJ", "国家税务总局舞钢市税务局", "Wugang Taxation Bureau, STA", ("tax",)),
    DepartmentSpec("SCJGJ", "舞钢市市场监督管理局", "Wugang Market Supervision Administration",
                   ("qualification", "food_drug", "awards")),
    DepartmentSpec("FGW", "舞钢市发展和改革委员会", "Wugang Development and Reform Commission",
                   ("other", "awards")),
    DepartmentSpec("JRB", "舞钢市人民政府金融工作办公室", "Wugang Financial Affairs Office",
                   ("finance",)),
    DepartmentSpec("RSJ", "舞钢市人力资源和社会保障局", "Wugang Human Resources and Social Security Bureau",
                   ("personnel",)),
    DepartmentSpec("BB", "中共舞钢市委机构编制委员会办公室",
                   "Wugang Commission Office for Public Sector Reform", ("staffing",)),
    DepartmentSpec("WXB", "中共舞钢市委网络安全和信息化委员会办公室",
                   "Wugang Cyberspace Affairs Office", ("internet",)),
    DepartmentSpec("XYB", "舞钢市社会信用体系建设领导小组办公室", "Wugang Social Credit Office",
                   credit_office=True),
)
CREDIT_OFFICE = next(d for d in DEPARTMENTS if d.credit_office)
CASE_DEPARTMENTS = tuple(d for d in DEPARTMENTS if not d.credit_office)
DATA_PROVIDER = "xyb-exchange"
OFFICE_USER = "xyb-office"

TOWNS = ("垭口街道", "寺坡街道", "院岭街道", "朱兰街道", "矿建街道", "八台镇", "尹集镇", "枣林镇",
         "武功乡", "杨庄乡", "庙街乡", "铁山乡")
ROADS = ("建设路", "湖滨大道", "钢城路", "龙山路", "朝阳路", "工业路", "人民路", "文化路", "钢都大道",
         "银山路", "滨湖路", "创业路")
VILLAGES = ("王庄", "李湾", "张庄", "刘沟", "田岗", "马庄", "杨湾", "范庄", "郭庄", "余庄", "冢张",
            "石门郭", "罗庄", "后营", "柏庄")
SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许沈曾彭吕苏卢蒋蔡"
            "贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹金陆郝孔白崔康毛邱秦史顾侯邵孟段雷尹")
MALE_NAMES = ("伟", "强", "磊", "军", "勇", "杰", "涛", "明", "超", "刚", "建国", "建华", "国强",
              "志刚", "海涛", "春生", "晓东", "文杰", "俊峰", "新民", "振华", "永强", "德胜", "保国",
              "卫东", "宏伟", "浩然", "一鸣", "思远", "子豪", "家乐", "红军", "建伟", "庆林")
FEMALE_NAMES = ("芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀英", "桂兰", "玉梅", "海燕", "红霞",
                "丽娟", "雪梅", "淑芬", "金凤", "爱玲", "欣怡", "雨桐", "梓涵", "晓燕", "春花", "美玲")
TRADE_NAMES = ("鑫源", "恒泰", "宏达", "钢城", "龙泉", "中兴", "华鑫", "瑞丰", "金石", "永盛", "兴业",
               "昌隆", "盛世", "天润", "嘉禾", "博远", "汇通", "润泽", "众诚", "信达", "安泰", "富源",
               "鼎盛", "聚力", "祥和", "正阳", "远航", "铁山", "石漫滩", "灯台架", "九头崖", "二郎山",
               "龙凤湖", "豫舞", "钢都", "冠华", "泰和", "长青", "新宇", "德润", "弘毅", "卓越", "众邦",
               "宏图", "金鼎", "华安", "联合", "顺达", "利民", "广源", "银山", "舞鑫", "凯达", "东方")
#: (name suffix, industry, main business)
ENTERPRISE_KINDS = (
    ("建筑工程有限公司", "construction", "房屋建筑工程、市政公用工程施工"),
    ("市政工程有限公司", "construction", "市政道路、给排水及管网工程施工"),
    ("园林绿化工程有限公司", "construction", "园林绿化工程设计与施工"),
    ("劳务有限公司", "construction", "建筑劳务分包"),
    ("房地产开发有限公司", "realty", "房地产开发经营"),
    ("商贸有限公司", "trade", "日用百货、五金交电、办公用品批发零售"),
    ("钢铁贸易有限公司", "trade", "钢材、特钢制品销售"),
    ("建材有限公司", "trade", "商品混凝土、建筑材料生产销售"),
    ("办公设备有限公司", "trade", "办公设备、教学仪器销售及维修"),
    ("特钢制品有限公司", "manufacturing", "宽厚钢板深加工及特钢制品制造"),
    ("耐磨材料有限公司", "manufacturing", "耐磨材料及铸件生产销售"),
    ("机械制造有限公司", "manufacturing", "矿山机械及配件制造"),
    ("食品有限公司", "food", "食品生产加工、预包装食品销售"),
    ("餐饮管理有限公司", "food", "餐饮服务、单位食堂承包经营"),
    ("医药连锁有限公司", "pharma", "药品、医疗器械零售"),
    ("农业科技有限公司", "agri", "农作物种植、农产品初加工及销售"),
    ("物业服务有限公司", "service", "物业管理、保洁服务"),
    ("环保科技有限公司", "service", "环保设备销售、污水处理技术服务"),
    ("印务有限公司", "service", "包装装潢印刷品印刷"),
    ("运输有限公司", "transport", "普通货物道路运输"),
    ("信息技术有限公司", "tech", "软件开发、信息系统集成服务"),
    ("电子科技有限公司", "tech", "电子产品销售、安防监控工程"),
)
#: industry -> main business, for the credit reports
BUSINESS = {industry: business for _, industry, business in reversed(ENTERPRISE_KINDS)}
#: (name prefix, region code for the USCC, address prefix, weight)
ENTERPRISE_PLACES = (
    ("舞钢市", DIVISION, "河南省舞钢市", 65),
    ("平顶山", "410402", "河南省平顶山市新华区", 20),
    ("河南", "410105", "河南省郑州市金水区", 15),
)
#: (shop name, industry) of individual businesses
SHOPS = (("烩面馆", "food"), ("副食店", "food"), ("便民超市", "food"), ("快餐店", "food"),
         ("粮油店", "food"), ("五金建材店", "trade"), ("农资经营部", "trade"), ("家电维修部", "service"),
         ("汽车修理部", "service"), ("理发店", "service"), ("水果店", "food"), ("装饰材料店", "trade"))
ASSOCIATIONS = ("建筑业协会", "餐饮行业协会", "个体劳动者协会", "钢铁行业商会", "物业管理协会",
                "老年人体育协会", "书法家协会", "道路运输协会", "食品行业协会", "家政服务协会")
NON_PROFITS = ("幼儿园", "职业培训学校", "养老服务中心", "社会工作服务中心", "康复中心")
#: romanised 字号 (pinyin), for the demo's internet domain names
TRADE_PINYIN = {
    "鑫源": "xinyuan", "恒泰": "hengtai", "宏达": "hongda", "钢城": "gangcheng", "龙泉": "longquan",
    "中兴": "zhongxing", "华鑫": "huaxin", "瑞丰": "ruifeng", "金石": "jinshi", "永盛": "yongsheng",
    "兴业": "xingye", "昌隆": "changlong", "盛世": "shengshi", "天润": "tianrun", "嘉禾": "jiahe",
    "博远": "boyuan", "汇通": "huitong", "润泽": "runze", "众诚": "zhongcheng", "信达": "xinda",
    "安泰": "antai", "富源": "fuyuan", "鼎盛": "dingsheng", "聚力": "juli", "祥和": "xianghe",
    "正阳": "zhengyang", "远航": "yuanhang", "铁山": "tieshan", "石漫滩": "shimantan",
    "灯台架": "dengtaijia", "九头崖": "jiutouya", "二郎山": "erlangshan", "龙凤湖": "longfenghu",
    "豫舞": "yuwu", "钢都": "gangdu", "冠华": "guanhua", "泰和": "taihe", "长青": "changqing",
    "新宇": "xinyu", "德润": "derun", "弘毅": "hongyi", "卓越": "zhuoyue", "众邦": "zhongbang",
    "宏图": "hongtu", "金鼎": "jinding", "华安": "huaan", "联合": "lianhe", "顺达": "shunda",
    "利民": "limin", "广源": "guangyuan", "银山": "yinshan", "舞鑫": "wuxin", "凯达": "kaida",
    "东方": "dongfang",
}
#: the first private enterprises: a few of the trades the domains need in good standing, so
#: that every domain can show an approval, and two whose credit report has lapsed, so that
#: the domains requiring a valid report can show a refusal (name suffixes of ENTERPRISE_KINDS)
EXEMPLARY = "exemplary"
LAPSED = "lapsed"
STANDING_KINDS = ((EXEMPLARY, "建筑工程有限公司"), (EXEMPLARY, "食品有限公司"),
                  (EXEMPLARY, "医药连锁有限公司"), (EXEMPLARY, "信息技术有限公司"),
                  (EXEMPLARY, "特钢制品有限公司"), (EXEMPLARY, "物业服务有限公司"),
                  (LAPSED, "食品有限公司"), (LAPSED, "信息技术有限公司"))
#: industry of the public institutions (事业单位, USCC 12…); they apply for staffing only
INSTITUTION = "institution"
#: industries of the organisations that are not enterprises
NON_ENTERPRISES = ("social", INSTITUTION)


@dataclass(frozen=True)
class InstitutionSpec:
    """A public institution (事业单位) of the city and its staffing facts."""

    name: str
    supervisor: str  # 主管部门
    category: str  # 事业单位分类
    quota: tuple[int, int]  # current staff quota range
    duties: str
    increase_for: str  # why it would ask for more staff


INSTITUTIONS: tuple[InstitutionSpec, ...] = (
    InstitutionSpec("舞钢市人民医院", "舞钢市卫生健康委员会", "公益二类", (420, 560),
                    "承担全市急危重症救治、基本医疗服务和突发公共卫生事件医疗救治任务",
                    "新设重症医学科和胸痛中心"),
    InstitutionSpec("舞钢市第一高级中学", "舞钢市教育体育局", "公益一类", (180, 240),
                    "实施普通高中学历教育，承担全市高中阶段教育教学任务", "扩大招生规模、新增教学班12个"),
    InstitutionSpec("舞钢市疾病预防控制中心", "舞钢市卫生健康委员会", "公益一类", (45, 70),
                    "承担全市传染病防控、免疫规划、慢性病防治和卫生检验检测工作", "新建生物安全二级实验室"),
    InstitutionSpec("舞钢市教学研究室", "舞钢市教育体育局", "公益一类", (20, 40),
                    "承担全市中小学教研和教师培训工作", "新增学前教育和职业教育教研任务"),
    InstitutionSpec("舞钢市公共资源交易中心", "舞钢市政务服务和大数据管理局", "公益一类", (15, 30),
                    "为全市工程建设、政府采购、土地出让和产权交易提供场所、信息和见证服务",
                    "全流程电子化交易和远程异地评标业务上线"),
    InstitutionSpec("舞钢市机关事务服务中心", "舞钢市人民政府办公室", "公益一类", (30, 50),
                    "承担市直机关办公用房、公务用车和后勤保障服务", "集中统一管理市直机关公务用车"),
    InstitutionSpec("舞钢市融媒体中心", "中共舞钢市委宣传部", "公益二类", (60, 90),
                    "承担全市新闻宣传、广播电视播出和新媒体平台运营工作", "新增县级融媒体客户端运营任务"),
    InstitutionSpec("舞钢市社会保险中心", "舞钢市人力资源和社会保障局", "承担行政职能", (25, 40),
                    "承担全市社会保险登记、缴费核定和待遇支付经办工作", "承接城乡居民养老保险经办下沉业务"),
    InstitutionSpec("舞钢市石漫滩水库管理中心", "舞钢市水利局", "公益一类", (35, 55),
                    "承担石漫滩水库工程运行管理、防汛调度和水质保护工作", "新增水库库区水源地保护任务"),
)


@dataclass(frozen=True)
class Transfer:
    """A state-owned property-rights transaction a state enterprise may list."""

    kind: str  # 交易类型
    target: str  # 交易标的; ``{n}`` is filled with a count
    price: tuple[int, int]  # listing price range, 万元
    ratio: tuple[int, int] | None  # equity ratio range (%), None for an asset transfer


@dataclass(frozen=True)
class StateEnterpriseSpec:
    """One of the city's state-funded enterprises (国家出资企业)."""

    name: str
    latin: str
    industry: str
    capital: int  # 万元
    founded: int
    transfers: tuple[Transfer, ...]


STATE_ENTERPRISES: tuple[StateEnterpriseSpec, ...] = (
    StateEnterpriseSpec("舞钢市国有资产经营有限公司", "wggzjy", "service", 50000, 2003, (
        Transfer("企业产权转让", "舞钢市钢城物业服务有限公司100%股权", (600, 1200), (100, 100)),
        Transfer("企业资产转让", "湖滨大道原市直机关招待所房产及土地使用权", (800, 2600), None),
        Transfer("企业产权转让", "舞钢市银山宾馆有限公司70%股权", (900, 1800), (70, 70)))),
    StateEnterpriseSpec("舞钢市城市建设投资有限公司", "wgctjt", "construction", 100000, 2009, (
        Transfer("企业产权转让", "舞钢市城建商品混凝土有限公司51%股权", (1500, 3000), (51, 51)),
        Transfer("企业增资", "舞钢市城市建设投资有限公司增资扩股（引进战略投资者）", (20000, 50000),
                 (10, 30)),
        Transfer("企业资产转让", "闲置沥青混凝土搅拌站设备一套", (120, 380), None))),
    StateEnterpriseSpec("舞钢市产业集聚区投资开发有限公司", "wgcyjjq", "realty", 30000, 2012, (
        Transfer("企业资产转让", "产业集聚区标准化厂房3号楼及附属设施", (1800, 4200), None),
        Transfer("企业增资", "舞钢市产业集聚区投资开发有限公司增资项目", (5000, 15000), (15, 35)))),
    StateEnterpriseSpec("舞钢市公共交通有限公司", "wggongjiao", "transport", 3000, 2006, (
        Transfer("企业资产转让", "报废更新公交车辆{n}台", (30, 120), None),
        Transfer("企业资产转让", "原东站停车场附属建筑物及场地设施", (200, 600), None))),
    StateEnterpriseSpec("舞钢市水务投资有限公司", "wgshuiwu", "service", 20000, 2010, (
        Transfer("企业增资", "舞钢市水务投资有限公司增资扩股项目", (6000, 12000), (20, 40)),
        Transfer("企业产权转让", "舞钢市净水材料有限公司35%股权", (300, 800), (35, 35)))),
    StateEnterpriseSpec("舞钢市农业投资发展有限公司", "wgnongtou", "agri", 10000, 2015, (
        Transfer("企业资产转让", "尹集镇冷链仓储中心设备及附属设施", (150, 500), None),
        Transfer("企业产权转让", "舞钢市绿源种业有限公司60%股权", (400, 900), (60, 60)))),
)


@dataclass(eq=False)
class DemoSubject:
    code: str
    name: str
    kind: str
    industry: str
    legal_representative: str
    address: str
    founded: int
    capital: int  # 万元
    black: list[str] = field(default_factory=list)
    red: list[str] = field(default_factory=list)
    adverse: int = 0
    serious: bool = False
    reports: list[CreditReport] = field(default_factory=list)
    #: 字号 and its pinyin (enterprises), for the names and domain names of their applications
    trade: str = ""
    latin: str = ""
    state_enterprise: StateEnterpriseSpec | None = None
    institution: InstitutionSpec | None = None
    #: EXEMPLARY (no adverse record or list entry, a fresh credit report), LAPSED (only a
    #: report older than a year) or empty (left to chance)
    standing: str = ""

    @property
    def organisation(self) -> bool:
        return self.kind != NATURAL

    @property
    def category(self) -> str:
        """行政相对人类别 of the 双公示 fields."""
        return {LEGAL: "法人及非法人组织", NATURAL: "自然人", INDIVIDUAL_BUSINESS: "个体工商户"}[self.kind]

    @property
    def special(self) -> bool:
        return bool(self.black or self.red or self.adverse)


# -- records: licence and penalty templates ------------------------------------------------------

@dataclass(frozen=True)
class LicenceTemplate:
    dept: str
    pattern: str
    title: str
    document: str  # 行政许可决定文书名称
    category: str  # 许可类别
    certificate: str
    cert_pattern: str
    content: str
    valid_days: int | None  # None: 长期
    kinds: tuple[str, ...]
    industries: tuple[str, ...] | None
    chance: float


LICENCES: tuple[LicenceTemplate, ...] = (
    LicenceTemplate("SCJGJ", "舞市监食许〔{year}〕{n}号", "食品经营许可", "食品经营许可决定书", "普通",
                    "食品经营许可证", "JY1410481{n:06d}{c}",
                    "经营项目：预包装食品（含冷藏冷冻食品）销售；散装食品（不含冷藏冷冻食品）销售；热食类食品制售",
                    1826, (LEGAL, INDIVIDUAL_BUSINESS), ("food",), 0.8),
    LicenceTemplate("SCJGJ", "舞市监药许〔{year}〕{n}号", "药品经营许可（零售）", "药品经营许可决定书",
                    "普通", "药品经营许可证", "豫CB375{n:04d}",
                    "经营方式：药品零售（连锁）；经营范围：中成药、化学药制剂、抗生素制剂、生化药品",
                    1826, (LEGAL,), ("pharma",), 0.9),
    LicenceTemplate("SCJGJ", "（舞）登记企变字〔{year}〕第{n}号", "企业变更登记", "准予变更登记通知书",
                    "登记", "营业执照", "", "准予变更登记：{change}", None, (LEGAL,), None, 0.25),
    LicenceTemplate("ZJJ", "舞建施许〔{year}〕{n}号", "建筑工程施工许可", "建筑工程施工许可决定书", "普通",
                    "建筑工程施工许可证", "410481{year}{md}{n:02d}01",
                    "工程名称：{project}；建筑面积{area}平方米；合同价款{price}万元", 365,
                    (LEGAL,), ("realty", "manufacturing"), 0.6),
    LicenceTemplate("ZJJ", "舞建市政许〔{year}〕{n}号", "城市道路挖掘许可", "城市道路挖掘许可决定书", "普通",
                    "", "", "因{purpose}需要，准予挖掘{road}（长{length}米），期限30日", 30,
                    (LEGAL,), ("construction",), 0.5),
    LicenceTemplate("ZRZYJ", "舞自然资规许〔{year}〕{n}号", "建设工程规划许可", "建设工程规划许可决定书",
                    "普通", "建设工程规划许可证", "建字第410481{year}{n:05d}号",
                    "建设项目：{project}；建设规模{area}平方米", 730, (LEGAL,),
                    ("realty", "manufacturing"), 0.5),
    LicenceTemplate("ZRZYJ", "舞自然资乡许〔{year}〕{n}号", "乡村建设规划许可（农村村民住宅）",
                    "乡村建设规划许可决定书", "普通", "乡村建设规划许可证", "乡字第410481{year}{n:05d}号",
                    "准予在{town}{village}村建设农村村民住宅，占地面积{house}平方米", 730,
                    (NATURAL,), None, 0.25),
    LicenceTemplate("SWJ", "舞税通〔{year}〕{n}号",
                    "增值税专用发票（增值税税控系统）最高开票限额审批", "准予税务行政许可决定书", "普通",
                    "", "", "核定增值税专用发票最高开票限额为{limit}元", None, (LEGAL,),
                    ("trade", "manufacturing", "construction"), 0.3),
    LicenceTemplate("FGW", "舞发改审批〔{year}〕{n}号", "企业投资项目核准", "企业投资项目核准决定书", "核准",
                    "", "", "核准{project}，总投资{invest}万元", 730, (LEGAL,), ("manufacturing",), 0.4),
    LicenceTemplate("MZJ", "舞民社登〔{year}〕{n}号", "社会组织变更登记", "准予变更登记决定书", "登记",
                    "社会组织登记证书", "", "准予变更登记：{social_change}", None, (LEGAL,),
                    ("social",), 0.5),
)


@dataclass(frozen=True)
class PenaltyTemplate:
    dept: str
    pattern: str
    severity: str
    kinds: tuple[str, ...]
    industries: tuple[str, ...] | None
    offence: str  # 违法行为类型
    facts: str
    basis: str
    categories: str  # 处罚类别
    content: str
    fine: tuple[int, int] | None  # yuan
    confiscate: tuple[int, int] | None = None
    revoke: str = ""
    weight: int = 10
    key: str = ""


PENALTIES: tuple[PenaltyTemplate, ...] = (
    PenaltyTemplate("SCJGJ", "舞市监罚〔{year}〕{n}号", "minor", (LEGAL, INDIVIDUAL_BUSINESS),
                    ("food", "trade", "pharma"), "不按规定明码标价",
                    "{date}，执法人员检查发现当事人经营场所内{count}种商品未按规定标示价格。",
                    "《明码标价和禁止价格欺诈规定》第二十一条；《中华人民共和国价格法》第四十二条",
                    "警告,罚款", "警告，并处罚款{fine}元", (500, 3000), weight=14),
    PenaltyTemplate("SCJGJ", "舞市监罚〔{year}〕{n}号", "minor", (LEGAL, INDIVIDUAL_BUSINESS),
                    ("food", "trade"), "使用未经检定的计量器具",
                    "{date}，执法人员检查发现当事人用于贸易结算的电子计价秤未经检定即投入使用。",
                    "《中华人民共和国计量法实施细则》第四十三条", "罚款",
                    "责令停止使用，并处罚款{fine}元", (500, 1000), weight=8),
    PenaltyTemplate("SCJGJ", "舞市监罚〔{year}〕{n}号", "general", (LEGAL, INDIVIDUAL_BUSINESS),
                    ("food",), "经营超过保质期的食品",
                    "{date}，执法人员检查发现当事人货架陈列销售的{item}已超过保质期，货值金额{value}元。",
                    "《中华人民共和国食品安全法》第一百二十四条第一款第五项",
                    "没收违法所得,罚款", "没收违法所得{confiscated}元，并处罚款{fine}元",
                    (50000, 80000), (100, 900), weight=10),
    PenaltyTemplate("SCJGJ", "舞市监罚〔{year}〕{n}号", "general", (LEGAL,),
                    ("trade", "manufacturing", "tech"), "销售不合格产品",
                    "经监督抽查，当事人销售的{product}经检验不合格，货值金额{value}元。",
                    "《中华人民共和国产品质量法》第四十九条", "没收非法财物,罚款",
                    "责令停止销售，没收违法销售的产品，并处罚款{fine}元", (5000, 50000), weight=8),
    PenaltyTemplate("SCJGJ", "舞市监罚〔{year}〕{n}号", "general", (LEGAL,), None, "虚假宣传",
                    "当事人在其微信公众号发布的推广文章中对商品的性能、功能作虚假的商业宣传。",
                    "《中华人民共和国反不正当竞争法》第八条第一款、第二十条第一款", "罚款",
                    "责令停止违法行为，处罚款{fine}元", (100000, 200000), weight=5),
    PenaltyTemplate("SCJGJ", "舞市监罚〔{year}〕{n}号", "serious", (LEGAL,), ("food",),
                    "未取得食品生产许可从事食品生产活动",
                    "当事人未取得食品生产许可，在{town}租赁厂房生产{item}并对外销售，货值金额{value}元。",
                    "《中华人民共和国食品安全法》第一百二十二条第一款", "没收违法所得,没收非法财物,罚款",
                    "没收违法所得{confiscated}元及违法生产的食品，并处罚款{fine}元",
                    (60000, 100000), (3000, 20000), weight=3, key="scjg-serious"),
    PenaltyTemplate("ZJJ", "舞建罚〔{year}〕{n}号", "general", (LEGAL,), ("construction",),
                    "施工现场扬尘污染防治措施不落实",
                    "{date}，执法人员检查发现当事人承建的{project}施工现场裸土未覆盖、出入车辆未冲洗。",
                    "《中华人民共和国大气污染防治法》第一百一十五条第一款", "罚款",
                    "责令改正，处罚款{fine}元", (10000, 50000), weight=10),
    PenaltyTemplate("ZJJ", "舞建罚〔{year}〕{n}号", "general", (LEGAL,), ("realty", "manufacturing"),
                    "未取得施工许可证擅自施工",
                    "当事人作为建设单位，{project}未取得施工许可证即擅自开工建设。",
                    "《建筑工程施工许可管理办法》第十二条；《建设工程质量管理条例》第五十七条", "罚款",
                    "责令停止施工，限期改正，处工程合同价款百分之一的罚款{fine}元", (30000, 150000),
                    weight=6),
    PenaltyTemplate("ZJJ", "舞建罚〔{year}〕{n}号", "serious", (LEGAL,), ("construction",),
                    "未按照工程建设强制性标准进行施工",
                    "经质量监督抽查，当事人承建的{project}主体结构钢筋保护层厚度不符合强制性标准。",
                    "《建设工程质量管理条例》第六十四条", "罚款,责令停产停业",
                    "责令改正，处工程合同价款百分之二的罚款{fine}元，并责令停业整顿三十日",
                    (200000, 400000), weight=3),
    PenaltyTemplate("ZJJ", "舞建罚〔{year}〕{n}号", "general", (LEGAL,), ("service",),
                    "物业服务企业擅自改变物业管理用房用途",
                    "当事人未经业主大会同意，将{town}某小区物业管理用房出租用于经营。",
                    "《物业管理条例》第六十三条", "罚款", "责令限期改正，处罚款{fine}元", (10000, 30000),
                    weight=4),
    PenaltyTemplate("ZRZYJ", "舞自然资罚〔{year}〕{n}号", "general", (NATURAL,), None, "未经批准非法占用土地",
                    "当事人未经批准，擅自占用{town}{village}村集体土地{area}平方米建设住房。",
                    "《中华人民共和国土地管理法》第七十八条第一款", "罚款",
                    "责令退还非法占用的土地，限期拆除在非法占用的土地上新建的房屋，并处罚款{fine}元",
                    (5000, 30000), weight=10),
    PenaltyTemplate("ZRZYJ", "舞自然资罚〔{year}〕{n}号", "serious", (LEGAL,), ("manufacturing", "agri",
                                                                              "trade"),
                    "未经批准非法占用土地",
                    "当事人未经批准，擅自占用{town}{village}村集体土地{area}平方米建设厂房及堆场。",
                    "《中华人民共和国土地管理法》第七十七条第一款；《中华人民共和国土地管理法实施条例》第五十七条",
                    "没收非法财物,罚款",
                    "责令退还非法占用的土地，没收在非法占用的土地上新建的建筑物和其他设施，并处罚款{fine}元",
                    (100000, 500000), weight=3),
    PenaltyTemplate("ZRZYJ", "舞自然资罚〔{year}〕{n}号", "serious", (LEGAL,), ("construction", "trade"),
                    "未取得采矿许可证擅自开采矿产资源",
                    "当事人未取得采矿许可证，在{town}{village}村擅自开采建筑用砂石{tons}吨。",
                    "《中华人民共和国矿产资源法》第三十九条", "没收违法所得,罚款",
                    "责令停止开采，没收采出的矿产品和违法所得{confiscated}元，并处罚款{fine}元",
                    (50000, 200000), (20000, 80000), weight=2),
    PenaltyTemplate("SWJ", "舞税简罚〔{year}〕{n}号", "minor", (LEGAL, INDIVIDUAL_BUSINESS, NATURAL), None,
                    "未按照规定期限办理纳税申报和报送纳税资料",
                    "当事人未按照规定期限办理{period}的纳税申报。",
                    "《中华人民共和国税收征收管理法》第六十二条", "罚款", "处罚款{fine}元", (200, 2000),
                    weight=14),
    PenaltyTemplate("SWJ", "舞税罚〔{year}〕{n}号", "general", (LEGAL, INDIVIDUAL_BUSINESS), None,
                    "未按规定开具发票",
                    "当事人在{period}发生经营业务收取款项，未按规定开具发票，涉及金额{value}元。",
                    "《中华人民共和国发票管理办法》第三十五条", "没收违法所得,罚款",
                    "责令改正，没收违法所得{confiscated}元，并处罚款{fine}元", (2000, 10000), (200, 2000),
                    weight=8),
    PenaltyTemplate("SWJ", "舞税稽罚〔{year}〕{n}号", "serious", (LEGAL,), None, "偷税",
                    "当事人{period}通过在账簿上少列收入的手段，少缴增值税及附加税费{tax}元，"
                    "占应纳税额的{share}%。",
                    "《中华人民共和国税收征收管理法》第六十三条第一款", "罚款",
                    "追缴少缴的税款{tax}元及滞纳金，并处少缴税款百分之五十的罚款{fine}元",
                    None, weight=0, key="tax-evasion"),
    PenaltyTemplate("CZJ", "舞财罚〔{year}〕{n}号", "serious", (LEGAL,), None, "提供虚假材料谋取中标、成交",
                    "当事人参加{project}时，在投标文件中提供虚假的业绩合同，谋取中标。",
                    "《中华人民共和国政府采购法》第七十七条第一款第一项", "罚款,其他",
                    "处采购金额千分之五的罚款{fine}元，列入不良行为记录名单，一年内禁止参加政府采购活动",
                    (5000, 30000), weight=0, key="procurement-fraud"),
    PenaltyTemplate("CZJ", "舞财罚〔{year}〕{n}号", "general", (LEGAL,), ("trade", "tech", "construction"),
                    "中标后无正当理由拒不与采购人签订政府采购合同",
                    "当事人在{project}中被确定为中标供应商后，无正当理由拒不与采购人签订合同。",
                    "《中华人民共和国政府采购法实施条例》第七十二条第一款第二项", "罚款",
                    "处采购金额千分之五的罚款{fine}元", (2000, 20000), weight=4),
    PenaltyTemplate("MZJ", "舞民罚〔{year}〕{n}号", "minor", (LEGAL,), ("social",),
                    "未按照规定接受年度检查", "当事人未按规定参加{period}年度检查。",
                    "《社会团体登记管理条例》第三十条第一款第四项", "警告", "给予警告", None, weight=10),
    PenaltyTemplate("MZJ", "舞民罚〔{year}〕{n}号", "general", (LEGAL,), ("social",),
                    "超出章程规定的宗旨和业务范围进行活动",
                    "当事人超出章程规定的业务范围，以本单位名义对外开展收费培训活动。",
                    "《民办非企业单位登记管理暂行条例》第二十五条第一款第二项", "警告",
                    "给予警告，责令改正", None, weight=6),
)
PENALTY_PERIOD_MONTHS = {"minor": 3, "general": 12, "serious": 36}

ITEMS = ("袋装饼干", "乳饮料", "速冻水饺", "散装月饼", "调味酱", "方便面", "卤制熟肉")
PRODUCTS = ("电线电缆", "钢筋", "防火门", "LED灯具", "塑料管材", "安全帽")
PROCUREMENT_PROJECTS = (
    ("舞钢市第一高级中学智慧教室设备采购项目", "舞钢市第一高级中学"),
    ("舞钢市人民医院医用耗材年度采购项目", "舞钢市人民医院"),
    ("舞钢市城区道路照明设施维修改造工程", "舞钢市城市管理局"),
    ("舞钢市政务服务中心办公家具采购项目", "舞钢市政务服务和大数据管理局"),
    ("舞钢市农村饮水安全巩固提升工程管材采购项目", "舞钢市水利局"),
    ("舞钢市公安局执法记录仪及存储设备采购项目", "舞钢市公安局"),
    ("舞钢市中小学校食堂食材配送服务项目", "舞钢市教育体育局"),
    ("舞钢市城区环卫作业车辆采购项目", "舞钢市城市管理局"),
    ("舞钢市疾病预防控制中心检测试剂采购项目", "舞钢市疾病预防控制中心"),
    ("舞钢市老旧小区改造工程监理服务项目", "舞钢市住房和城乡建设局"),
    ("舞钢市机关事务服务中心物业管理服务项目", "舞钢市机关事务服务中心"),
    ("舞钢市数字城管平台运维服务项目", "舞钢市城市管理局"),
    ("舞钢市防汛应急物资储备采购项目", "舞钢市应急管理局"),
    ("舞钢市石漫滩水库周边森林防火物资采购项目", "舞钢市林业局"),
)
PROCUREMENT_AGENCIES = ("舞钢市公共资源交易中心", "河南中正招标代理有限公司",
                        "平顶山市宏信工程管理咨询有限公司")
LAND_LOCATIONS = ("舞钢市垭口街道钢城路与湖滨大道交叉口东南侧", "舞钢市院岭街道龙山路北侧",
                  "舞钢市产业集聚区纬二路南侧、经三路东侧", "舞钢市朱兰街道朝阳路西段南侧",
                  "舞钢市寺坡街道建设路东段北侧", "舞钢市矿建街道工业路与创业路交叉口西北角",
                  "舞钢市尹集镇滨湖路东侧")
#: land use -> (area range m2, unit price range yuan/m2, weight)
LAND_USES = {"工业": ((10000, 60000), (192, 240), 40), "住宅": ((8000, 40000), (1100, 1600), 25),
             "商服": ((2000, 15000), (900, 1400), 20), "仓储": ((5000, 20000), (200, 260), 10),
             "综合": ((5000, 20000), (700, 1000), 5)}
#: statutory maximum grant terms (城镇国有土地使用权出让和转让暂行条例第十二条)
LAND_TERMS = {"住宅": 70, "工业": 50, "仓储": 50, "商服": 40, "综合": 50}
WITHDRAWAL_REASONS = (
    "申请人书面申请撤回，拟补充完善申请材料后重新提交",
    "申请人情况发生变化，主动申请撤回本次申请",
    "项目计划调整，申请人书面撤回申请",
)
DISCRETIONARY_NOT_APPLIED = (
    "相关违法行为已整改完毕并履行处罚决定，与本事项无直接关联，经集体研究不予适用",
    "该记录所涉行为情节轻微且已纠正，结合现场核查情况，本事项不予适用",
)


# -- application factories per domain ------------------------------------------------------------

ApplicationFactory = Callable[["_Builder", DemoSubject, str], tuple[str, dict[str, Any]]]


def _procurement_application(b: _Builder, subject: DemoSubject, department: str
                             ) -> tuple[str, dict[str, Any]]:
    """A supplier in a project whose bids closed a few days ago (evaluation time is now)."""
    rng = b.rng
    project, purchaser = rng.choice(PROCUREMENT_PROJECTS)
    deadline_day = b.today - dt.timedelta(days=rng.randint(1, 5))
    deadline = dt.datetime.combine(deadline_day, dt.time(9, 30), BEIJING)
    notice = deadline_day - dt.timedelta(days=rng.randint(20, 30))
    method = rng.choices(("公开招标", "竞争性磋商", "询价", "竞争性谈判", "单一来源", "邀请招标"),
                         (40, 25, 15, 10, 5, 5))[0]
    code = b.number("WGCG-{year}-{n:03d}", b.today.year)
    return "政府采购供应商资格审查", {
        "project_code": code, "project_name": project, "procurement_method": method,
        "budget_amount": f"{rng.randint(5, 480) * 10000}.00",
        "tender_notice_date": notice.isoformat(), "bid_deadline": deadline.isoformat(),
        "purchaser": purchaser, "agency": rng.choice(PROCUREMENT_AGENCIES)}


def _land_application(b: _Builder, subject: DemoSubject, department: str
                      ) -> tuple[str, dict[str, Any]]:
    rng = b.rng
    uses = list(LAND_USES)
    use = rng.choices(uses, [LAND_USES[u][2] for u in uses])[0]
    (area_lo, area_hi), (price_lo, price_hi), _ = LAND_USES[use]
    area = rng.randint(area_lo, area_hi)
    return "国有建设用地使用权出让竞买资格审查", {
        "parcel_no": b.number("WG{year}-{n:02d}", b.today.year),
        "location": rng.choice(LAND_LOCATIONS), "area_m2": f"{area}.{rng.randint(0, 99):02d}",
        "land_use": use, "term_years": LAND_TERMS[use],
        "transfer_method": rng.choices(("挂牌", "拍卖", "招标"), (70, 20, 10))[0],
        "starting_price": f"{area * rng.randint(price_lo, price_hi)}.00", "bid_deposit_paid": True}


def _housing_application(b: _Builder, subject: DemoSubject, department: str
                         ) -> tuple[str, dict[str, Any]]:
    rng = b.rng
    if department.endswith("-MZJ"):
        kind, matter = "低保", "最低生活保障资格审核确认"
        income = rng.randint(150, 520)
    else:
        kind = rng.choice(("公租房", "廉租房"))
        matter = "公共租赁住房配租资格审核" if kind == "公租房" else "廉租住房保障资格审核"
        income = rng.randint(800, 1800) if kind == "公租房" else rng.randint(400, 900)
    data: dict[str, Any] = {"application_type": kind, "household_size": rng.randint(1, 5),
                            "monthly_income_per_capita": f"{income}.00",
                            "residence_district": f"舞钢市{rng.choice(TOWNS)}"}
    if kind != "低保" or rng.random() < 0.5:
        data["current_housing_m2_per_capita"] = f"{rng.randint(4, 14)}.{rng.randint(0, 9)}0"
    return matter, data


def _tax_application(b: _Builder, subject: DemoSubject, department: str
                     ) -> tuple[str, dict[str, Any]]:
    rng = b.rng
    exporter = subject.industry in ("manufacturing", "trade") and subject.kind == LEGAL
    weights = (30 if exporter else 0, 35, 10, 15, 10)
    kind = rng.choices(("出口退税", "小微企业减免", "高新技术企业", "研发费用加计扣除", "节能减排"),
                       weights)[0]
    data: dict[str, Any] = {"incentive_type": kind, "tax_year": b.today.year - 1,
                            "amount_claimed": f"{rng.randint(20, 1500) * 1000}.00"}
    if kind == "出口退税":
        data["export_refund_plan_no"] = b.number("豫税退计〔{year}〕{n}号", b.today.year)
    return f"税收优惠审核（{kind}）", data


#: industries whose enterprises apply in the domains that require a third-party report
REPORT_INDUSTRIES = ("food", "pharma", "tech")


#: industry -> the word a domain name adds after the romanised trade name
INDUSTRY_PINYIN = {"tech": "keji", "trade": "shangmao", "food": "shipin", "pharma": "yiyao",
                   "service": "fuwu", "transport": "wuliu"}


def _short_name(subject: DemoSubject) -> str:
    """What stands for an organisation in names: its 字号, or 舞钢 for a state enterprise."""
    if subject.state_enterprise is not None:
        return "舞钢"
    return subject.trade or subject.name.removeprefix("舞钢市").removeprefix("平顶山")[:2]


def _age(subject: DemoSubject) -> int:
    """A person's age in the demo's last year (persons keep their birth year in ``founded``)."""
    return LAST_DAY.year - subject.founded


def _yuan(amount: int | Decimal) -> str:
    """An amount in yuan with two decimals, as the schemas' Decimal fields take it."""
    return f"{Decimal(amount):.2f}"


def _percent(value: Decimal) -> str:
    """A percentage with at most four decimals and no trailing zeros."""
    text = f"{value.quantize(Decimal('0.0001')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


#: (project, tenderer, 国民经济行业 code of the project in the national project code)
CONSTRUCTION_PROJECTS = (
    ("舞钢市滨湖大道改造工程", "舞钢市城市建设投资有限公司", "48"),
    ("舞钢市老旧小区改造（二期）工程", "舞钢市住房和城乡建设局", "47"),
    ("舞钢市第二实验小学教学综合楼建设项目", "舞钢市教育体育局", "47"),
    ("舞钢市污水处理厂提标改造工程", "舞钢市水务投资有限公司", "48"),
    ("舞钢市人民医院门急诊综合楼建设项目", "舞钢市人民医院", "47"),
    ("舞钢市产业集聚区标准化厂房（三期）项目", "舞钢市产业集聚区投资开发有限公司", "47"),
    ("舞钢市石漫滩水库环湖道路提升工程", "舞钢市交通运输局", "48"),
    ("舞钢市城乡供水一体化工程", "舞钢市水利局", "48"),
    ("舞钢市垭口街道安置小区建设项目", "舞钢市垭口街道办事处", "47"),
)


def _construction_application(b: _Builder, subject: DemoSubject, department: str
                              ) -> tuple[str, dict[str, Any]]:
    """A builder in one bid section of a government-invested project."""
    rng = b.rng
    project, tenderer, trade = rng.choice([p for p in CONSTRUCTION_PROJECTS if p[1] != subject.name])
    tender_type = rng.choices(("施工", "工程总承包"), (75, 25))[0]
    section = (rng.choice(("施工一标段", "施工二标段", "施工三标段")) if tender_type == "施工"
               else "工程总承包（EPC）标段")
    stage = rng.choices(("资格预审", "评标", "定价"), (40, 45, 15))[0]
    return f"政府投资工程建设项目投标人信用审查（{stage}）", {
        "project_code": f"{b.today.year - rng.randint(0, 1)}-{DIVISION}-{trade}-01-"
                        f"{rng.randint(1000, 99999):06d}",
        "project_name": project, "bid_section": section, "tenderer": tenderer,
        "tender_type": tender_type, "stage": stage,
        "ceiling_price": _yuan(rng.randint(120, 6800) * 10000),
        "qualification_certificate_no": f"D{rng.choice('23')}41048{rng.randint(1000, 9999)}"}


def _state_assets_application(b: _Builder, subject: DemoSubject, department: str
                              ) -> tuple[str, dict[str, Any]]:
    """A transferee in a transaction listed by one of the city's state enterprises (the
    counterparty); persons and businesses buy assets only."""
    rng = b.rng
    offers = [(seller, transfer) for seller in b.subjects
              if seller.state_enterprise is not None and seller is not subject
              for transfer in seller.state_enterprise.transfers
              if subject.kind == LEGAL or transfer.ratio is None]
    seller, transfer = rng.choice(offers)
    short = {"企业产权转让": "GQ", "企业增资": "ZZ", "企业资产转让": "ZC"}[transfer.kind]
    data: dict[str, Any] = {
        "project_no": b.number(f"ZYCQ-{short}-{{year}}-{{n:04d}}", b.today.year),
        "transaction_type": transfer.kind,
        "target_name": transfer.target.format(n=rng.randint(6, 20)),
        "transferor_name": seller.name, "transferor_code": seller.code,
        "listing_price": _yuan(rng.randint(*transfer.price) * 10000)}
    if transfer.ratio is not None:
        data["equity_ratio_percent"] = str(rng.randint(*transfer.ratio))
    matter = {"企业产权转让": "企业国有产权转让意向受让方资格审查", "企业增资": "企业增资意向投资方资格审查",
              "企业资产转让": "企业资产转让意向受让方资格审查"}[transfer.kind]
    return matter, data


#: (project, purchaser, category) of the drug and medical-supply tenders
DRUG_TENDERS = (
    ("公立医疗机构常用药品集中带量采购（舞钢市采购联盟）", "舞钢市医疗保障局", "药品"),
    ("舞钢市乡镇卫生院基本药物配送项目", "舞钢市卫生健康委员会", "药品"),
    ("舞钢市人民医院医用耗材年度采购项目", "舞钢市人民医院", "医用耗材"),
    ("舞钢市疾病预防控制中心检测试剂及耗材采购项目", "舞钢市疾病预防控制中心", "医用耗材"),
    ("舞钢市中医院医疗器械采购项目", "舞钢市中医院", "医疗器械"),
)
FOOD_TENDERS = (
    ("舞钢市中小学校食堂大宗食材集中采购项目", "舞钢市教育体育局"),
    ("舞钢市人民医院职工食堂食材配送服务项目", "舞钢市人民医院"),
    ("舞钢市机关食堂米面油集中采购项目", "舞钢市机关事务服务中心"),
    ("舞钢市敬老院食材配送服务项目", "舞钢市民政局"),
)
#: category -> (product count range, budget range in 万元)
TENDER_SIZES = {"药品": ((5, 120), (100, 1500)), "医用耗材": ((20, 400), (50, 600)),
                "医疗器械": ((3, 60), (50, 800)), "食品": ((30, 260), (30, 300))}


def _food_drug_application(b: _Builder, subject: DemoSubject, department: str
                           ) -> tuple[str, dict[str, Any]]:
    """A bidder in a drug, medical-supply or canteen food tender, with its licence."""
    rng, year = b.rng, b.today.year
    if subject.industry == "pharma":
        project, purchaser, category = rng.choice(DRUG_TENDERS)
        licence = (f"豫AA375{rng.randint(0, 9999):04d}" if category == "药品"
                   else f"豫平市监械经营许{year - rng.randint(1, 5)}{rng.randint(1, 9999):04d}号")
        code = b.number("WGYP-{year}-{n:03d}", year)
    else:
        (project, purchaser), category = rng.choice(FOOD_TENDERS), "食品"
        sequence = rng.randint(1, 99999)
        licence = (f"SC10{rng.randint(1, 9)}{DIVISION}{sequence % 10000:04d}{sequence % 7}"
                   if subject.name.endswith("食品有限公司")
                   else f"JY1{DIVISION}{sequence:06d}{sequence % 9}")
        code = b.number("WGSP-{year}-{n:03d}", year)
    (count_lo, count_hi), (budget_lo, budget_hi) = TENDER_SIZES[category]
    return "食品药品招标采购投标人资格审查", {
        "project_code": code, "project_name": project, "category": category,
        "purchaser": purchaser, "licence_no": licence,
        "product_count": rng.randint(count_lo, count_hi),
        "budget_amount": _yuan(rng.randint(budget_lo, budget_hi) * 10000)}


@dataclass(frozen=True)
class SubsidyFund:
    """A special fund, who applies to it and what it supports."""

    name: str
    method: str  # 支持方式
    department: str  # 项目主管部门
    kinds: tuple[str, ...]
    industries: tuple[str, ...] | None
    projects: tuple[str, ...]
    investment: tuple[int, int]  # total investment range, 万元
    share: tuple[int, int]  # subsidy as % of the investment


SUBSIDY_FUNDS: tuple[SubsidyFund, ...] = (
    SubsidyFund("舞钢市工业企业技术改造专项资金", "以奖代补", "舞钢市工业和信息化局", (LEGAL,),
                ("manufacturing",),
                ("年产{n}万吨特种钢板深加工生产线智能化改造", "耐磨材料铸造生产线节能技术改造",
                 "数字化车间和智能工厂建设"), (800, 6000), (5, 15)),
    SubsidyFund("舞钢市科技创新专项资金", "无偿资助", "舞钢市科学技术局", (LEGAL,), ("tech",),
                ("特钢表面缺陷智能检测系统研发", "工业互联网标识解析二级节点应用",
                 "智慧社区综合管理平台研发"), (200, 1500), (10, 30)),
    SubsidyFund("舞钢市现代农业发展专项资金", "先建后补", "舞钢市农业农村局", (LEGAL,), ("agri",),
                ("{village}村{n}亩高标准农田配套设施建设", "农产品产地冷藏保鲜设施建设",
                 "食用菌标准化生产基地建设"), (100, 800), (20, 40)),
    SubsidyFund("舞钢市中小企业发展专项资金", "贷款贴息", "舞钢市工业和信息化局", (LEGAL,), None,
                ("流动资金贷款贴息", "技术改造项目贷款贴息"), (300, 3000), (2, 5)),
    SubsidyFund("舞钢市促进消费和商贸流通专项资金", "以奖代补", "舞钢市商务局",
                (LEGAL, INDIVIDUAL_BUSINESS), ("trade", "food", "service"),
                ("县域商业体系建设（乡镇商贸中心改造）", "农村物流配送网点建设", "便民生活圈示范网点建设"),
                (100, 1200), (10, 30)),
    SubsidyFund("舞钢市粮食生产规模经营补贴资金", "无偿资助", "舞钢市农业农村局", (NATURAL,), None,
                ("{village}村流转土地{n}亩小麦玉米规模种植",), (20, 120), (5, 15)),
    SubsidyFund("舞钢市创业担保贷款贴息资金", "贷款贴息", "舞钢市人力资源和社会保障局",
                (NATURAL, INDIVIDUAL_BUSINESS), None,
                ("返乡创业特色餐饮项目创业担保贷款贴息", "返乡创业农资电商服务项目创业担保贷款贴息",
                 "返乡创业家庭农场项目创业担保贷款贴息"), (10, 50), (3, 8)),
)


def _subsidies_application(b: _Builder, subject: DemoSubject, department: str
                           ) -> tuple[str, dict[str, Any]]:
    """A request for support from a special fund open to the applicant's kind and trade."""
    rng = b.rng
    funds = [f for f in SUBSIDY_FUNDS if subject.kind in f.kinds
             and (f.industries is None or subject.industry in f.industries)]
    fund = rng.choice(funds)
    total = rng.randint(*fund.investment) * 10000
    amount = max(100, total * rng.randint(*fund.share) // 100 // 100 * 100)
    template = rng.choice(fund.projects)
    project = template.format(n=rng.randint(5, 60) * 10 if "{n}亩" in template else rng.randint(2, 20),
                              village=rng.choice(VILLAGES))
    return f"{fund.name}申报审核", {
        "fund_name": fund.name, "fund_year": b.today.year, "project_name": project,
        "support_method": fund.method, "amount_requested": _yuan(amount),
        "total_investment": _yuan(total), "competent_department": fund.department}


FINANCE_BANKS = ("河南舞钢农村商业银行股份有限公司", "舞钢中原村镇银行股份有限公司")


def _finance_application(b: _Builder, subject: DemoSubject, department: str
                         ) -> tuple[str, dict[str, Any]]:
    """An enterprise founding a microcredit or guarantee company, or buying into a bank."""
    rng = b.rng
    matter_type = rng.choices(("设立小额贷款公司", "设立融资担保公司", "投资入股金融机构"), (35, 30, 35))[0]
    trade = _short_name(subject)
    if matter_type == "投资入股金融机构":
        institution = rng.choice(FINANCE_BANKS)
        capital = Decimal(rng.choice((30000, 50000, 80000)) * 10000)
        share = Decimal(rng.randint(50, 500)) / 100  # 0.5% to 5%
        premium = Decimal(rng.randint(110, 180)) / 100  # shares bought above par
        amount = (capital * share / 100 * premium).quantize(Decimal("1"))
        role = "股东"
    else:
        kind = "小额贷款" if matter_type == "设立小额贷款公司" else "融资担保"
        institution = f"舞钢市{trade}{kind}有限公司"
        capital = Decimal(rng.choice((5000, 10000, 20000) if kind == "小额贷款"
                                     else (5000, 10000, 30000)) * 10000)
        role = rng.choices(("主发起人", "发起人"), (60, 40))[0]
        share = Decimal(rng.randint(34, 51) if role == "主发起人" else rng.randint(5, 20))
        amount = capital * share / 100
    return f"{matter_type}审核（出资人资格审查）", {
        "matter_type": matter_type, "institution_name": institution, "investor_role": role,
        "registered_capital": _yuan(capital), "investment_amount": _yuan(amount),
        "shareholding_percent": _percent(share)}


#: department suffix -> (评定类型, 评定内容, title, kinds, industries or None)
AWARDS: dict[str, tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...] | None], ...]] = {
    "SCJGJ": (
        ("评优评先", "信誉", "舞钢市“守合同重信用”企业", (LEGAL,), None),
        ("周期性审验", "信誉", "舞钢市“守合同重信用”企业", (LEGAL,), None),
        ("评优评先", "质量", "舞钢市市长质量奖", (LEGAL,), ("manufacturing", "construction", "tech")),
        ("评优评先", "商标", "舞钢市知名品牌", (LEGAL,), ("manufacturing", "food", "agri")),
        ("等级评定", "其他", "餐饮服务食品安全量化分级A级", (LEGAL, INDIVIDUAL_BUSINESS), ("food",)),
        ("评优评先", "信誉", "舞钢市诚信经营示范个体工商户", (INDIVIDUAL_BUSINESS,), None),
    ),
    "FGW": (
        ("评优评先", "荣誉称号", "舞钢市诚信建设示范企业", (LEGAL,), None),
        ("周期性审验", "荣誉称号", "舞钢市诚信建设示范企业", (LEGAL,), None),
        ("评优评先", "荣誉称号", "舞钢市优秀民营企业", (LEGAL,), None),
    ),
}


def _awards_application(b: _Builder, subject: DemoSubject, department: str
                        ) -> tuple[str, dict[str, Any]]:
    """An application for an honour the department grants, or its re-examination."""
    rng, year = b.rng, b.today.year
    dept = department.removeprefix(f"{DIVISION}-")
    kind, matter, title, _, _ = rng.choice(
        [a for a in AWARDS[dept] if subject.kind in a[3] and (a[4] is None or subject.industry in a[4])])
    data: dict[str, Any] = {"assessment_kind": kind, "subject_matter": matter, "title": title,
                            "organiser": b.departments[department].name_zh,
                            "assessment_year": year - 1}
    if kind == "周期性审验":
        granted = year - rng.randint(2, 3)
        data["period_start"] = dt.date(granted, 1, 1).isoformat()
        data["certificate_no"] = (f"舞诚信示范〔{granted}〕{rng.randint(3, 60)}号" if dept == "FGW"
                                  else f"WGSHT-{granted}-{rng.randint(1, 120):03d}")
        return f"{title}周期性审验", data
    data["period_start"] = dt.date(year - 2, 1, 1).isoformat()
    return f"{title}评定", data


#: (department suffix, holder) -> (qualification, levels, industries or None for persons)
QUALIFICATIONS: dict[tuple[str, str], tuple[tuple[str, tuple[str, ...], tuple[str, ...] | None], ...]] = {
    ("ZJJ", "单位资质"): (
        ("建筑业企业资质（建筑工程施工总承包）", ("三级", "二级"), ("construction",)),
        ("建筑业企业资质（市政公用工程施工总承包）", ("三级", "二级"), ("construction",)),
        ("建筑业企业资质（施工劳务）", (), ("construction",)),
        ("房地产开发企业资质", ("二级",), ("realty",)),
    ),
    ("ZJJ", "个人资格"): (
        ("二级建造师执业资格（建筑工程）", (), None),
        ("二级建造师执业资格（市政公用工程）", (), None),
        ("建筑施工企业安全生产管理人员考核（B类）", (), None),
        ("建筑施工特种作业人员资格（建筑电工）", (), None),
    ),
    ("SCJGJ", "单位资质"): (
        ("检验检测机构资质认定（CMA）", (), ("tech", "service", "manufacturing")),
        ("特种设备生产单位许可（压力管道元件制造）", ("B级",), ("manufacturing",)),
        ("特种设备安装改造修理许可（电梯）", ("A2级", "B级"), ("tech", "construction", "service")),
        ("计量器具型式批准", (), ("manufacturing", "tech")),
    ),
    ("SCJGJ", "个人资格"): (
        ("特种设备作业人员资格（叉车司机 N1）", (), None),
        ("特种设备作业人员资格（工业锅炉司炉 G1）", (), None),
        ("特种设备作业人员资格（电梯修理 T）", (), None),
    ),
}


def _qualification_application(b: _Builder, subject: DemoSubject, department: str
                               ) -> tuple[str, dict[str, Any]]:
    """An organisation's qualification or a person's professional one, as the subject is."""
    rng, year = b.rng, b.today.year
    dept = department.removeprefix(f"{DIVISION}-")
    holder = "个人资格" if subject.kind == NATURAL else "单位资质"
    options = [q for q in QUALIFICATIONS[(dept, holder)]
               if q[2] is None or subject.industry in q[2]] or list(QUALIFICATIONS[(dept, holder)])
    name, levels, _ = rng.choice(options)
    kinds = ["首次申请", "延续"] + (["升级"] if len(levels) > 1 else []) + \
        (["增项"] if holder == "单位资质" else [])
    application_type = rng.choice(kinds)
    data: dict[str, Any] = {"qualification_name": name, "holder_type": holder,
                            "application_type": application_type,
                            "issuing_authority": b.departments[department].name_zh}
    if levels:
        data["level"] = levels[-1] if application_type == "升级" else rng.choice(levels)
    if application_type != "首次申请":
        issued = year - rng.randint(1, 5)
        if dept == "ZJJ" and holder == "单位资质":
            data["current_certificate_no"] = f"D{rng.choice('23')}41048{rng.randint(1000, 9999)}"
        elif dept == "ZJJ":
            data["current_certificate_no"] = f"豫241{issued % 100:02d}{rng.randint(1, 999999):06d}"
        elif holder == "单位资质":
            data["current_certificate_no"] = (f"TS{rng.randint(2, 7)}{rng.randint(410000, 419999)}"
                                              f"-{issued + 4}")
        else:
            data["current_certificate_no"] = f"豫特作{issued}{rng.randint(1, 999999):06d}"
    return f"{name}{application_type}", data


def _staffing_application(b: _Builder, subject: DemoSubject, department: str
                          ) -> tuple[str, dict[str, Any]]:
    """A public institution's staffing matter before the 编办."""
    rng = b.rng
    spec = subject.institution or rng.choice(INSTITUTIONS)
    current = rng.randint(*spec.quota)
    matter_type = rng.choices(("编制核定", "编制增加", "编制减少", "机构调整"), (20, 45, 15, 20))[0]
    if matter_type == "编制增加":
        requested = current + rng.randint(2, max(3, current // 10))
        duties = f"{spec.duties}；因{spec.increase_for}，申请增加编制{requested - current}名"
    elif matter_type == "编制减少":
        requested = current - rng.randint(1, max(2, current // 20))
        duties = f"{spec.duties}；部分职责划转，申请核减编制{current - requested}名"
    elif matter_type == "机构调整":
        requested = current
        duties = f"{spec.duties}；因{spec.increase_for}，申请调整内设机构，编制总数不变"
    else:
        requested = current + rng.randint(-2, 2)
        duties = f"{spec.duties}；按事业单位分类改革要求重新核定编制"
    return f"事业单位{matter_type}", {
        "matter_type": matter_type, "institution_category": spec.category,
        "supervising_department": spec.supervisor, "current_quota": current,
        "requested_quota": requested, "duties": duties}


#: industry -> (service type, platform name suffix, licence for an evaluation)
INTERNET_SERVICES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "tech": (("互联网信息服务", "资讯网", "豫B2-{year}{n:04d}"),
             ("网络文化经营", "互动娱乐平台", "豫网文〔{year}〕{n:04d}-{m:03d}号"),
             ("其他互联网服务", "云服务平台", "豫B2-{year}{n:04d}")),
    "trade": (("网络交易平台", "优选商城", "豫B2-{year}{n:04d}"),),
    "food": (("网络餐饮服务", "外卖", "JY1{division}{n:06d}{m:01d}"),),
    "pharma": (("互联网药品信息服务", "健康药房", "（豫）-经营性-{year}-{n:04d}"),),
    "service": (("其他互联网服务", "生活服务网", "豫B2-{year}{n:04d}"),),
    "transport": (("其他互联网服务", "同城货运", "豫B2-{year}{n:04d}"),
                  ("网络交易平台", "物流信息平台", "豫B2-{year}{n:04d}")),
}


def _internet_application(b: _Builder, subject: DemoSubject, department: str
                          ) -> tuple[str, dict[str, Any]]:
    """An internet service's industry access or its periodic business evaluation."""
    rng = b.rng
    service, suffix, licence = rng.choice(INTERNET_SERVICES.get(subject.industry,
                                                                INTERNET_SERVICES["service"]))
    tld = rng.choice(("com", "cn", "com.cn"))
    host = (subject.latin or f"wg{subject.code[-6:].lower()}") + INDUSTRY_PINYIN.get(subject.industry, "")
    filed = b.today.year - rng.randint(1, 6)
    matter_type = rng.choices(("行业准入", "业务评价"), (55, 45))[0]
    data: dict[str, Any] = {"matter_type": matter_type, "service_type": service,
                            "platform_name": f"{_short_name(subject)}{suffix}",
                            "domain_name": f"{host}.{tld}"}
    if matter_type == "业务评价" or rng.random() < 0.6:
        data["icp_filing_no"] = f"豫ICP备{filed}{rng.randint(1, 999999):06d}号-{rng.randint(1, 3)}"
    if matter_type == "业务评价":
        data["licence_no"] = licence.format(year=filed, n=rng.randint(1, 9999),
                                            m=rng.randint(1, 9), division=DIVISION)
    return f"互联网{service}{matter_type}", data


SOCIETY_NAMES = ("摄影家协会", "太极拳协会", "电子商务协会", "民宿协会", "垂钓协会", "茶文化研究会",
                 "养蜂协会", "青年创业者协会", "新能源汽车行业协会", "志愿服务联合会")
#: society -> its business supervisor (业务主管单位); the ones directly registered have none
SOCIETY_SUPERVISORS = {"摄影家协会": "舞钢市文学艺术界联合会", "太极拳协会": "舞钢市教育体育局",
                       "垂钓协会": "舞钢市教育体育局", "茶文化研究会": "舞钢市文化广电和旅游局",
                       "志愿服务联合会": "共青团舞钢市委员会"}
NON_PROFIT_NAMES = ("职业技能培训学校", "社区养老服务中心", "儿童康复中心", "社会工作服务中心")


def _social_org_application(b: _Builder, subject: DemoSubject, department: str
                            ) -> tuple[str, dict[str, Any]]:
    """A sponsor founding a society, a private non-enterprise unit or a foundation."""
    rng = b.rng
    person = subject.kind == NATURAL
    kind = rng.choices(("社会团体", "民办非企业单位", "基金会"), (55, 35, 10) if person else (45, 30, 25))[0]
    data: dict[str, Any] = {"organisation_type": kind,
                            "sponsor_type": "主要发起人" if person else "主要发起单位"}
    if kind == "社会团体":
        label = rng.choice([n for n in SOCIETY_NAMES if f"舞钢市{n}" not in b.names] or SOCIETY_NAMES)
        name = b.unique_name(lambda a: f"舞钢市{label}" if a == 0 else
                             f"舞钢市{rng.choice(TRADE_NAMES)}{label}")
        data["stage"] = rng.choice(("筹备申请", "成立登记"))
        data["funds"] = _yuan(rng.randint(3, 20) * 10000)
        mix = rng.choice(("persons", "units", "mixed"))
        persons = rng.randint(50, 260) if mix == "persons" else 0 if mix == "units" else rng.randint(20, 120)
        units = 0 if mix == "persons" else rng.randint(30, 80) if mix == "units" \
            else max(50 - persons, rng.randint(5, 40))
        data.update(individual_members=persons, unit_members=units)
        if label in SOCIETY_SUPERVISORS:
            data["business_supervisor"] = SOCIETY_SUPERVISORS[label]
    elif kind == "基金会":
        base = f"{subject.name}助学" if person else f"{_short_name(subject)}慈善"
        name = b.unique_name(lambda a: f"舞钢市{base}基金会" if a == 0 else
                             f"舞钢市{base}{rng.choice(('公益', '教育', '乡村振兴'))}基金会")
        data.update(stage="成立登记", funds=_yuan(rng.randint(200, 500) * 10000))
    else:
        label = rng.choice(NON_PROFIT_NAMES)
        name = b.unique_name(lambda a: f"舞钢市{rng.choice(TOWNS)}{label}")
        data.update(stage="成立登记", funds=_yuan(rng.randint(3, 50) * 10000))
        if "培训" in label:
            data["business_supervisor"] = "舞钢市人力资源和社会保障局"
        elif "养老" in label:
            data["business_supervisor"] = "舞钢市民政局"
    data["organisation_name"] = name
    return f"{kind}{data['stage']}", data


#: matter -> (employer, position) pairs
PERSONNEL_POSTS = {
    "公务员招录": (("舞钢市市场监督管理局", "基层市场监管所一级科员"), ("舞钢市财政局", "一级科员"),
              ("舞钢市八台镇人民政府", "乡镇机关一级科员"), ("舞钢市司法局", "基层司法所一级科员"),
              ("舞钢市人民法院", "法官助理")),
    "事业单位公开招聘": (("舞钢市人民医院", "专业技术岗（临床医师）"),
                 ("舞钢市第一高级中学", "专业技术岗（高中数学教师）"),
                 ("舞钢市疾病预防控制中心", "专业技术岗（检验技师）"),
                 ("舞钢市融媒体中心", "专业技术岗（新闻编辑）"),
                 ("舞钢市社会保险中心", "管理岗（综合业务）")),
    "聘用": (("舞钢市人民医院", "专业技术岗（护理）"), ("舞钢市教学研究室", "专业技术岗（教研员）"),
           ("舞钢市石漫滩水库管理中心", "专业技术岗（水利工程）")),
    "考核": (("舞钢市自然资源局", "一级主任科员"), ("舞钢市第一高级中学", "专业技术十级（一级教师）"),
           ("舞钢市住房和城乡建设局", "二级主任科员")),
    "任用": (("舞钢市民政局", "副局长（副科级）"), ("舞钢市尹集镇人民政府", "副镇长（副科级）"),
           ("舞钢市公共资源交易中心", "副主任（副科级）")),
}


def _personnel_application(b: _Builder, subject: DemoSubject, department: str
                           ) -> tuple[str, dict[str, Any]]:
    """A person in a recruitment, engagement, appraisal or appointment."""
    rng, year = b.rng, b.today.year
    # examinations take candidates up to 35, engagements up to 45; appraisal and appointment
    # concern staff in post
    age = _age(subject)
    weights = {"公务员招录": 30 if age <= 35 else 0, "事业单位公开招聘": 30 if age <= 35 else 0,
               "聘用": 15 if age <= 45 else 0, "考核": 15, "任用": 10 if age >= 28 else 0}
    matter_type = rng.choices(tuple(weights), tuple(weights.values()))[0]
    employer, position = rng.choice(PERSONNEL_POSTS[matter_type])
    data: dict[str, Any] = {"matter_type": matter_type, "employer": employer, "position_name": position}
    if matter_type in ("公务员招录", "事业单位公开招聘"):
        data["position_code"] = f"{DIVISION}{rng.randint(1, 99):02d}{rng.randint(1, 9)}"
        data["exam_ticket_no"] = f"{year}{DIVISION}{rng.randint(1, 999999):06d}"
        data["announcement_no"] = (f"豫人社公告〔{year}〕{rng.randint(2, 9)}号" if matter_type == "公务员招录"
                                   else f"舞人社〔{year}〕{rng.randint(10, 60)}号")
    elif matter_type == "聘用":
        data["announcement_no"] = f"舞人社聘〔{year}〕{rng.randint(3, 40)}号"
    elif matter_type == "任用":
        data["announcement_no"] = f"舞组干〔{year}〕{rng.randint(5, 80)}号"
    return f"{matter_type}人员信用审查", data


@dataclass(frozen=True)
class OtherMatter:
    """A matter of a key sector that no specific domain covers."""

    sector: str
    name: str
    code: str
    basis: str
    use: str
    kinds: tuple[str, ...]
    industries: tuple[str, ...] | None


OTHER_MATTERS: tuple[OtherMatter, ...] = (
    OtherMatter("安全生产", "危险化学品经营许可证核发", "000120016000",
                "《危险化学品安全管理条例》第三十三条", "参考依据", (LEGAL,), ("trade",)),
    OtherMatter("安全生产", "公众聚集场所投入使用、营业前消防安全检查", "000114008000",
                "《中华人民共和国消防法》第十五条", "参考依据", (LEGAL, INDIVIDUAL_BUSINESS),
                ("service", "food", "trade")),
    OtherMatter("环境保护", "排污许可证核发", "000132011000", "《排污许可管理条例》第六条", "重要参考依据",
                (LEGAL,), ("manufacturing", "service", "food")),
    OtherMatter("产品质量", "重要工业产品生产许可证核发", "000132018000",
                "《中华人民共和国工业产品生产许可证管理条例》第九条", "必要条件", (LEGAL,),
                ("manufacturing",)),
    OtherMatter("电子商务", "电子商务示范企业认定", "", "《中华人民共和国电子商务法》第六十四条", "参考依据",
                (LEGAL,), ("tech", "trade")),
    OtherMatter("医疗卫生", "医疗机构执业登记", "000117002000", "《医疗机构管理条例》第十五条",
                "重要参考依据", (LEGAL,), ("pharma",)),
    OtherMatter("教育科研", "民办职业培训学校办学许可", "000122006000",
                "《中华人民共和国民办教育促进法》第十二条", "重要参考依据", (LEGAL,), ("tech", "service")),
    OtherMatter("食品药品安全", "食品小经营店登记", "",
                "《河南省食品小作坊、小经营店和食品摊贩管理条例》第十九条", "必要条件",
                (INDIVIDUAL_BUSINESS,), ("food",)),
    OtherMatter("工程建设", "政府投资项目初步设计审批", "000105017000",
                "《政府投资条例》第十一条", "参考依据", (LEGAL,), ("realty", "construction")),
    OtherMatter("市场中介", "网上中介服务超市中介机构入驻审核", "",
                "《河南省网上中介服务超市管理办法》", "参考依据", (LEGAL,), None),
    OtherMatter("融资担保", "融资担保公司经营许可证变更审核", "", "《融资担保公司监督管理条例》第十条",
                "必要条件", (LEGAL,), ("service",)),
)


def _other_matters(subject: DemoSubject) -> list[OtherMatter]:
    """The matters of the applicant's own trade, or else those open to any trade."""
    mine = [m for m in OTHER_MATTERS if subject.kind in m.kinds]
    return [m for m in mine if m.industries is not None and subject.industry in m.industries] \
        or [m for m in mine if m.industries is None]


def _other_application(b: _Builder, subject: DemoSubject, department: str
                       ) -> tuple[str, dict[str, Any]]:
    """A matter of the key sector the applicant works in."""
    rng = b.rng
    matter = rng.choice(_other_matters(subject))
    data: dict[str, Any] = {"sector": matter.sector, "matter_name": matter.name,
                            "legal_basis": matter.basis, "credit_use": matter.use}
    if matter.code:
        data["matter_code"] = matter.code
    if rng.random() < 0.5:
        data["description"] = f"{subject.name}申请办理{matter.name}，申请材料齐全，已签署信用承诺书"
    return matter.name, data


#: domain code -> how to fill an application valid under that domain's schema
APPLICATION_FACTORIES: dict[str, ApplicationFactory] = {
    "procurement": _procurement_application,
    "land": _land_application,
    "housing": _housing_application,
    "tax": _tax_application,
    "construction": _construction_application,
    "state_assets": _state_assets_application,
    "food_drug": _food_drug_application,
    "subsidies": _subsidies_application,
    "finance": _finance_application,
    "awards": _awards_application,
    "qualification": _qualification_application,
    "staffing": _staffing_application,
    "internet": _internet_application,
    "social_org": _social_org_application,
    "personnel": _personnel_application,
    "other": _other_application,
}

#: who usually applies in a domain (among the kinds the domain accepts); default: legal
#: persons and individual businesses
APPLICANT_KINDS: dict[str, tuple[str, ...]] = {
    "land": (LEGAL,), "housing": (NATURAL,), "construction": (LEGAL,), "state_assets": (LEGAL, NATURAL),
    "subsidies": (LEGAL, INDIVIDUAL_BUSINESS, NATURAL), "finance": (LEGAL,),
    "qualification": (LEGAL, NATURAL), "staffing": (LEGAL,), "internet": (LEGAL,),
    "social_org": (NATURAL, LEGAL), "personnel": (NATURAL,),
}


def _ordinary_applicant(subject: DemoSubject) -> bool:
    """A person, or an enterprise or business (not a social organisation or public institution)."""
    return subject.kind == NATURAL or subject.industry not in NON_ENTERPRISES


#: which of the subjects of those kinds apply in a domain; default :func:`_ordinary_applicant`
APPLICANT_FITS: dict[str, Callable[[DemoSubject], bool]] = {
    # labour-only subcontractors (劳务) do not bid for whole works
    "construction": lambda s: s.industry == "construction" and not s.name.endswith("劳务有限公司"),
    "state_assets": lambda s: s.state_enterprise is None and _ordinary_applicant(s),
    "food_drug": lambda s: s.industry in ("food", "pharma"),
    "finance": lambda s: s.industry not in NON_ENTERPRISES and s.capital >= 1000,
    "qualification": lambda s: (_age(s) <= 60 if s.kind == NATURAL else s.industry in (
        "construction", "realty", "manufacturing", "tech", "service")),
    "staffing": lambda s: s.industry == INSTITUTION,
    "personnel": lambda s: _age(s) <= 59,
    "other": lambda s: _ordinary_applicant(s) and bool(_other_matters(s)),
    "internet": lambda s: s.industry in INTERNET_SERVICES,
}


def _awards_departments(subject: DemoSubject) -> tuple[str, ...]:
    """Individual businesses are honoured by the 市场监管局 only."""
    return ("SCJGJ",) if subject.kind == INDIVIDUAL_BUSINESS else ("SCJGJ", "FGW")


def _qualification_departments(subject: DemoSubject) -> tuple[str, ...]:
    """Builders and developers go to the 住建局, the other organisations to the 市场监管局."""
    if subject.kind == NATURAL:
        return ("ZJJ", "SCJGJ")
    return ("ZJJ",) if subject.industry in ("construction", "realty") else ("SCJGJ",)


#: domain -> the department suffixes that handle a given applicant, where several enable it
DEPARTMENT_HINTS: dict[str, Callable[[DemoSubject], tuple[str, ...]]] = {
    "awards": _awards_departments,
    "qualification": _qualification_departments,
}

#: conditions of an approval with conditions, by domain (the restriction the check calls for)
CONDITIONS: dict[str, tuple[str, ...]] = {
    "construction": ("评标时按评标办法扣减投标人信用分", "中标后纳入合同履约和农民工工资支付重点监管"),
    "state_assets": ("交易价款一次性付清后办理产权交割", "签署信用承诺书，承诺受让资金来源合法"),
    "food_drug": ("中标后纳入履约重点监管，提高质量抽检频次", "签署信用承诺书，承诺所报材料真实有效"),
    "subsidies": ("补助资金按项目验收结果分期拨付", "资金使用纳入重点监管，发现违规依法追回"),
    "finance": ("开业前补充提交出资能力和资金来源证明", "纳入地方金融监管重点监测，按季度报送经营情况"),
    "awards": ("评定结果公示期内接受社会监督，有异议的依法复核", "签署信用承诺书，承诺所报材料真实有效"),
    "qualification": ("资质有效期内纳入重点监管，增加监督检查频次", "暂不受理升级和增项申请"),
    "staffing": ("编制调整后一年内报送编制使用情况", "纳入机构编制监督检查重点"),
    "internet": ("上线运营后纳入重点监管，按季度报送运营和投诉处理情况", "签署信用承诺书，承诺依法合规经营"),
    "social_org": ("登记后首年开展专项检查", "签署信用承诺书，承诺发起人信息真实有效"),
    "personnel": ("签署个人诚信承诺书，承诺所报材料真实有效", "试用期（任职期）内重点考察其依法履行义务情况"),
}
DEFAULT_CONDITIONS = ("签署信用承诺书，承诺所报材料真实有效",
                      "履约（保障）期间纳入重点监管，发现失信行为依法处理")

#: (domain, measure) -> the matters in which applying the restriction means the applicant is
#: not taken on (公务员、事业单位人员招录和聘用中限制招录即不予录用、聘用)
REJECTING_RESTRICTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("personnel", "GWY-XZ"): ("公务员招录", "事业单位公开招聘", "聘用"),
}

#: states of the cases after the first one of each domain, cycled over the domains
#: (13 is prime, so the domains share out every state)
CASE_PATTERN = ("archived", "decided", "checked", "archived", "applied", "stale", "archived",
                "withdrawn", "decided", "checking", "archived", "checked", "decided")


# -- loading -------------------------------------------------------------------------------------

def load_demo(runtime: Runtime, *, subjects: int = 200, seed: int = 410481,
              reset: bool = False) -> DemoSummary:
    """Load the demo city into the runtime's database and say how to log in.

    Raises :class:`DemoAlreadyLoaded` when the database holds any department, user,
    subject or case, unless ``reset`` is true: then every document of every
    collection is deleted first (a demo database only) and the catalogues reloaded.
    """
    if subjects < MIN_SUBJECTS:
        raise ValueError(f"the demo needs at least {MIN_SUBJECTS} subjects, not {subjects}")
    started = time.perf_counter()
    if reset:
        _wipe()
    else:
        _refuse_if_not_empty()
    summary = _Builder(runtime, random.Random(seed), seed).run(subjects)
    summary.seconds = time.perf_counter() - started
    log.info("demo city loaded in %.1f s", summary.seconds)
    return summary


def _refuse_if_not_empty() -> None:
    if Department.objects(code=CREDIT_OFFICE.code).first() is not None:
        raise DemoAlreadyLoaded("演示数据已载入 (the demo city is already loaded)")
    held = {name: model.objects.count() for name, model in
            (("departments", Department), ("users", User), ("subjects", Subject), ("cases", Case))}
    held = {name: n for name, n in held.items() if n}
    if held:
        found = ", ".join(f"{n} {name}" for name, n in held.items())
        raise DemoAlreadyLoaded(f"数据库非空，演示数据只载入空库 (the database already holds {found}; "
                                "the demo loads into an empty database only)")


def _wipe() -> None:
    """Delete every document of every collection (indexes are kept), then reload the
    shipped catalogues. Only for a demo database."""
    database = core_db.database()
    for name in database.list_collection_names():
        if not name.startswith("system."):
            database[name].delete_many({})
    ensure_catalogue()


def _org_code_check(body8: str) -> str:
    """GB 11714 check character of an 8-character organisation-code body."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum((int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10) * w
                for ch, w in zip(body8, weights, strict=True))
    r = 11 - total % 11
    return "X" if r == 10 else "0" if r == 11 else str(r)


def _wan(yuan: int) -> str:
    """Yuan as a 万元 string without floats: 2000 -> "0.2"."""
    whole, rest = divmod(yuan, 10000)
    return f"{whole}.{rest:04d}".rstrip("0").rstrip(".")


def _password(seed: int, username: str) -> str:
    digits = int(hashlib.sha256(f"{seed}:{username}".encode()).hexdigest(), 16) % 10000
    return f"Demo-{username}-{digits:04d}"


@dataclass
class _RecordPlan:
    """A credit record to push; numbered in date order before anything is stored."""

    subject: DemoSubject
    kind: str
    severity: str | None
    dept: str
    actor: str
    day: dt.date
    pattern: str
    title: str
    content: str
    fields: dict[str, str]
    doc_field: str | None = None
    cert_pattern: str = ""
    effective_until: dt.date | None = None
    authority: str = ""
    doc_no: str = ""

    @property
    def adverse(self) -> bool:
        return self.kind in ADVERSE_KINDS

    def in_force(self, day: dt.date) -> bool:
        return self.day <= day and (self.effective_until is None or self.effective_until >= day)


@dataclass
class _ListPlan:
    """A list entry to add; its basis is the record's document number, or numbered on its own."""

    subject: DemoSubject
    list_type: str
    dept: str
    actor: str
    day: dt.date
    pattern: str = ""
    record: _RecordPlan | None = None
    basis: str = ""


class _Builder:
    """One load: holds the random generator, counters and what was made so far."""

    def __init__(self, runtime: Runtime, rng: random.Random, seed: int):
        self.runtime = runtime
        self.workflow = runtime.workflow
        self.rng = rng
        self.seed = seed
        self.today = dt.datetime.now(BEIJING).date()
        self.last_day = min(LAST_DAY, self.today)
        self.calendar = current_calendar()
        self.counters: dict[tuple[str, int], int] = {}
        self.departments: dict[str, Department] = {}
        self.principals: dict[str, Principal] = {}
        self.subjects: list[DemoSubject] = []
        self.by_code: dict[str, DemoSubject] = {}
        #: codes of the subjects holding a valid credit report when the cases are made
        self.valid_reports: set[str] = set()
        self.codes: set[str] = set()
        self.names: set[str] = set()
        self.agencies: list[Agency] = []
        self.records: list[_RecordPlan] = []
        self.entries: list[_ListPlan] = []
        self.list_names = {t.code: t.name_zh for t in ListType.objects.only("code", "name_zh")}

    # -- helpers -------------------------------------------------------------------------------
    def number(self, pattern: str, year: int) -> str:
        """The next number of a numbering scheme in a year, e.g. 舞财罚〔2026〕12号."""
        key = (pattern, year)
        n = self.counters.get(key, self.rng.randint(2, 30))
        self.counters[key] = n + self.rng.randint(1, 3)
        return pattern.format(year=year, n=n, c=n * 7 % 10)

    def working_day(self, first: dt.date, last: dt.date) -> dt.date:
        day = first + dt.timedelta(days=self.rng.randint(0, (last - first).days))
        while not self.calendar.is_working_day(day):
            day -= dt.timedelta(days=1)
            if day < first:
                day = first
                while not self.calendar.is_working_day(day):
                    day += dt.timedelta(days=1)
        return day

    def person_name(self, male: bool | None = None) -> str:
        male = self.rng.random() < 0.6 if male is None else male
        return self.rng.choice(SURNAMES) + self.rng.choice(MALE_NAMES if male else FEMALE_NAMES)

    def uscc(self, authority_type: str, region: str, style: str = "new") -> str:
        while True:
            if style == "new":
                body8 = "MA4" + "".join(self.rng.choice(USCC_CHARSET) for _ in range(5))
            elif style == "social":
                body8 = "MJ" + "".join(self.rng.choice("0123456789") for _ in range(6))
            elif style == "institution":
                body8 = "4" + "".join(self.rng.choice("0123456789") for _ in range(7))
            else:
                body8 = self.rng.choice("0157") + "".join(self.rng.choice("0123456789")
                                                          for _ in range(7))
            code = make_uscc(f"{authority_type}{region}{body8}{_org_code_check(body8)}")
            if code not in self.codes:
                self.codes.add(code)
                return code

    def unique_name(self, make: Callable[[int], str]) -> str:
        """A name no other demo organisation has; ``make(attempt)`` proposes one."""
        for attempt in range(1000):
            name = make(attempt)
            if name not in self.names:
                self.names.add(name)
                return name
        raise RuntimeError("ran out of distinct demo names")

    def trade_name(self, attempt: int) -> str:
        """A 字号; two joined once single ones keep colliding."""
        first = self.rng.choice(TRADE_NAMES)
        return first if attempt < 20 else first + self.rng.choice(TRADE_NAMES)

    @staticmethod
    def latin(trade: str) -> str:
        """The pinyin of a 字号 made by :meth:`trade_name` (one or two names joined)."""
        for cut in range(len(trade), 0, -1):
            first, rest = trade[:cut], trade[cut:]
            if first in TRADE_PINYIN and (not rest or rest in TRADE_PINYIN):
                return TRADE_PINYIN[first] + (TRADE_PINYIN[rest] if rest else "")
        raise KeyError(f"no pinyin for the trade name {trade!r}")

    def principal(self, username: str) -> Principal:
        return self.principals[username]

    def handler(self, suffix: str) -> str:
        return f"{suffix.lower()}-handler"

    # -- the load ------------------------------------------------------------------------------
    def run(self, n_subjects: int) -> DemoSummary:
        users, tokens = self.make_departments_and_users()
        self.make_subjects(n_subjects)
        self.make_agencies()
        self.plan_history()
        # reports first: a major credit event pushed after a report's issue date voids it
        self.make_reports()
        self.push_history()
        self.make_cases()
        self.mark_history_delivered()
        host = self.runtime.settings.host
        base_url = (f"http://{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:"
                    f"{self.runtime.settings.port}")
        return DemoSummary(
            departments=len(self.departments), users=users, tokens=tokens,
            subjects=Subject.objects.count(), records=CreditRecord.objects.count(),
            list_entries=ListEntry.objects.count(), reports=CreditReport.objects.count(),
            cases={state: Case.objects(state=state).count() for state in STATES},
            base_url=base_url,
            department_names={code: d.name_zh for code, d in self.departments.items()},
            domain_cases=self.domain_cases(),
            domain_names={code: d.name_zh for code, d in self.runtime.host.domains.items()})

    @staticmethod
    def domain_cases() -> dict[str, dict[str, int]]:
        """Domain code -> case state -> number of cases."""
        counts: dict[str, dict[str, int]] = {}
        for case in Case.objects.only("domain", "state"):
            states = counts.setdefault(case.domain, {})
            states[case.state] = states.get(case.state, 0) + 1
        return counts

    def make_departments_and_users(self) -> tuple[list[tuple[str, str, str, str]], dict[str, str]]:
        installed = self.runtime.host.domains
        for spec in DEPARTMENTS:
            uscc = self.uscc("11", DIVISION, style="old")
            self.departments[spec.code] = create_department(
                spec.code, spec.name_zh, name_en=spec.name_en, uscc=uscc,
                domains=[d for d in spec.domains if d in installed],
                credit_office=spec.credit_office)
        wanted: list[tuple[str, list[str], str, str]] = []
        for spec in CASE_DEPARTMENTS:
            for role, label in (("handler", "经办人"), ("reviewer", "分管领导"),
                                ("dept_admin", "系统管理员")):
                username = f"{spec.prefix}-{'admin' if role == 'dept_admin' else role}"
                wanted.append((username, [role], spec.code,
                               f"{self.person_name()}（{spec.name_zh}{label}）"))
        office = CREDIT_OFFICE
        wanted += [
            (OFFICE_USER, ["credit_office"], office.code, f"{self.person_name()}（信用办）"),
            (DATA_PROVIDER, ["data_provider"], office.code, "公共信用信息共享平台数据交换接口"),
            ("admin", ["admin"], office.code, "系统管理员"),
        ]

        def make(item: tuple[str, list[str], str, str]) -> tuple[User, str]:
            username, roles, department, display = item
            password = _password(self.seed, username)
            return create_user(username, roles=roles, department=department, password=password,
                               display_name=display), password

        # argon2 hashing dominates here; it releases the GIL, so hash a few at a time
        with ThreadPoolExecutor(max_workers=4) as pool:
            made = list(pool.map(make, wanted))
        users, tokens = [], {}
        for user, password in made:
            self.principals[user.username] = Principal.of(user)
            tokens[user.username] = issue_token(user, label="demo")
            users.append((user.username, password, ",".join(user.roles), user.department))
        return users, tokens

    def make_subjects(self, n: int) -> None:
        rng = self.rng
        persons = round(n * 0.2)
        individual = round(n * 0.1)
        social = max(2, min(round(n * 0.05), 2 * len(ASSOCIATIONS)))
        institutions = max(3, min(round(n * 0.03), len(INSTITUTIONS)))
        state = max(3, min(round(n * 0.025), len(STATE_ENTERPRISES)))
        enterprises = n - persons - individual - social - institutions - state
        for spec in STATE_ENTERPRISES[:state]:
            self.names.add(spec.name)
            self.add_subject(DemoSubject(
                self.uscc("91", DIVISION, "old"), spec.name, LEGAL, spec.industry, self.person_name(),
                f"河南省舞钢市垭口街道{rng.choice(ROADS)}{rng.randint(1, 99)}号", spec.founded,
                spec.capital, latin=spec.latin, state_enterprise=spec))
        kinds = {kind[0]: kind for kind in ENTERPRISE_KINDS}
        for i in range(enterprises):
            standing = STANDING_KINDS[i][0] if i < len(STANDING_KINDS) else ""
            suffix, industry, _business = (kinds[STANDING_KINDS[i][1]] if standing
                                           else rng.choice(ENTERPRISE_KINDS))
            place = rng.choices(ENTERPRISE_PLACES, [p[3] for p in ENTERPRISE_PLACES])[0]
            trade: list[str] = []

            def enterprise_name(attempt: int, place: tuple = place, suffix: str = suffix,
                                trade: list[str] = trade) -> str:
                trade[:] = [self.trade_name(attempt)]
                return place[0] + trade[0] + suffix

            name = self.unique_name(enterprise_name)
            latin = {"舞钢市": "wg", "平顶山": "pds", "河南": "hn"}[place[0]] + self.latin(trade[0])
            address = (f"{place[2]}{rng.choice(ROADS)}{rng.randint(1, 299)}号" if place[1] != DIVISION
                       else f"河南省舞钢市{rng.choice(TOWNS)}{rng.choice(ROADS)}{rng.randint(1, 299)}号")
            self.add_subject(DemoSubject(
                self.uscc("91", place[1], rng.choice(("new", "new", "old"))), name, LEGAL, industry,
                self.person_name(), address, rng.randint(1998, 2023),
                rng.choice((1000, 2000, 5000) if standing
                           else (50, 100, 200, 300, 500, 800, 1000, 2000, 5000)),
                trade=trade[0], latin=latin, standing=standing))
        for spec in rng.sample(INSTITUTIONS, institutions):
            self.names.add(spec.name)
            self.add_subject(DemoSubject(
                self.uscc("12", DIVISION, "institution"), spec.name, LEGAL, INSTITUTION,
                self.person_name(), f"河南省舞钢市{rng.choice(TOWNS)}{rng.choice(ROADS)}"
                                    f"{rng.randint(1, 199)}号",
                rng.randint(1958, 2005), rng.choice((50, 100, 300, 800, 2000)), institution=spec))
        for _ in range(individual):
            draw: dict[str, Any] = {}

            def shop_name(attempt: int, draw: dict[str, Any] = draw) -> str:
                draw.update(shop=rng.choice(SHOPS), town=rng.choice(TOWNS), owner=self.person_name())
                owner = draw["owner"] if attempt >= 20 else draw["owner"][0]
                return f"舞钢市{draw['town']}{owner}记{draw['shop'][0]}"

            name = self.unique_name(shop_name)
            (_, industry), town, owner = draw["shop"], draw["town"], draw["owner"]
            self.add_subject(DemoSubject(
                self.uscc("92", DIVISION), name, INDIVIDUAL_BUSINESS, industry, owner,
                f"河南省舞钢市{town}{rng.choice(ROADS)}{rng.randint(1, 199)}号", rng.randint(2008, 2024),
                rng.choice((3, 5, 10, 20))))
        for i in range(social):
            if i % 2 == 0:
                name = self.unique_name(lambda a: f"舞钢市{rng.choice(ASSOCIATIONS)}")
                code = self.uscc("51", DIVISION, "social")
            else:
                name = self.unique_name(
                    lambda a: f"舞钢市{self.trade_name(a)}{rng.choice(NON_PROFITS)}")
                code = self.uscc("52", DIVISION, "social")
            self.add_subject(DemoSubject(
                code, name, LEGAL, "social", self.person_name(),
                f"河南省舞钢市{rng.choice(TOWNS)}{rng.choice(ROADS)}{rng.randint(1, 199)}号",
                rng.randint(2005, 2022), rng.choice((3, 10, 30))))
        for _ in range(persons):
            male = rng.random() < 0.55
            while True:
                birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 18262))
                sequence = rng.randint(0, 499) * 2 + (1 if male else 0)
                code = make_id_number(f"{DIVISION}{birth:%Y%m%d}{sequence:03d}")
                if code not in self.codes:
                    self.codes.add(code)
                    break
            town = rng.choice(TOWNS)
            self.add_subject(DemoSubject(
                code, self.person_name(male), NATURAL, "person", "",
                f"河南省舞钢市{town}{rng.choice(VILLAGES)}村{rng.randint(1, 120)}号", birth.year, 0))

    def add_subject(self, subject: DemoSubject) -> None:
        upsert_subject(SYSTEM, subject.code, subject.name, subject.kind,
                       legal_representative=subject.legal_representative, address=subject.address)
        self.subjects.append(subject)
        self.by_code[subject.code] = subject

    def make_agencies(self) -> None:
        rows = (
            ("河南中原诚信评估有限公司", "410105", "豫信评备字〔2023〕第012号", dt.date(2027, 12, 31),
             "filed"),
            ("平顶山鹰城信用管理有限公司", "410402", "豫信评备字〔2024〕第031号", dt.date(2028, 6, 30),
             "filed"),
            ("河南豫信联合征信有限公司", "410105", "豫信评备字〔2024〕第046号", dt.date(2028, 3, 31),
             "filed"),
            ("郑州华信联合信用评价有限公司", "410105", "豫信评备字〔2022〕第007号", dt.date(2026, 12, 31),
             "suspended"),
        )
        for name, region, filing_no, until, status in rows:
            self.agencies.append(Agency(
                name=name, uscc=self.uscc("91", region), filing_no=filing_no,
                filing_authority="中国人民银行河南省分行", filing_valid_until=until,
                status=status).save())

    # -- records and lists ---------------------------------------------------------------------
    def pick(self, pool: list[DemoSubject], count: int, taken: set[str]) -> list[DemoSubject]:
        candidates = [s for s in pool if s.code not in taken]
        chosen = self.rng.sample(candidates, min(count, len(candidates)))
        taken.update(s.code for s in chosen)
        return chosen

    def plan_history(self) -> None:
        """Plan the records and list entries of 2025-2026, numbered per scheme in date order."""
        rng, n = self.rng, len(self.subjects)
        orgs = [s for s in self.subjects if s.kind == LEGAL and s.industry not in NON_ENTERPRISES]
        persons = [s for s in self.subjects if s.kind == NATURAL]
        # the enterprises of a set standing are never listed
        taken: set[str] = {s.code for s in self.subjects if s.standing}
        plans, entries = self.records, self.entries
        templates = {t.key: t for t in PENALTIES if t.key}
        for subject in self.pick(orgs, 2 + n // 100, taken) + self.pick(persons, 1 + n // 100, taken):
            plan = self.dishonest_debtor_plan(subject)
            plans.append(plan)
            entries.append(_ListPlan(subject, "SXBZXR", "XYB", DATA_PROVIDER, plan.day, record=plan))
        for subject in self.pick(orgs, 1 + n // 150, taken):
            penalty, notice = self.tax_violation_plans(subject, templates["tax-evasion"])
            plans += [penalty, notice]
            entries.append(_ListPlan(subject, "ZDSSWF", "SWJ", self.handler("SWJ"), notice.day,
                                     record=notice))
        for subject in self.pick(orgs, 1 + n // 150, taken):
            plan = self.penalty_plan(subject, templates["procurement-fraud"])
            plans.append(plan)
            entries.append(_ListPlan(subject, "ZFCG_YZWF", "CZJ", self.handler("CZJ"), plan.day,
                                     record=plan))
        food = [s for s in orgs if s.industry == "food"] or orgs
        for subject in self.pick(food, 1, taken):
            plan = self.penalty_plan(subject, templates["scjg-serious"],
                                     day=self.working_day(FIRST_DAY, dt.date(2026, 9, 30)))
            plans.append(plan)
            entries.append(_ListPlan(subject, "SCJG_YZWF", "SCJGJ", self.handler("SCJGJ"),
                                     self.calendar.add_working_days(plan.day, 12),
                                     "舞市监严信〔{year}〕{n}号"))
        builders = [s for s in orgs if s.industry == "construction"] or orgs
        for subject in self.pick(builders, 1, taken):
            entries.append(_ListPlan(subject, "TQNMGGZ", "XYB", DATA_PROVIDER,
                                     self.working_day(dt.date(2025, 6, 1), self.last_day),
                                     "舞人社欠薪认〔{year}〕{n}号"))
        # red lists: A-grade taxpayers (published each April) and AEO enterprises
        enterprises = [s for s in orgs if s.code[:2] == "91"]
        red: list[DemoSubject] = []
        for subject in self.pick(enterprises, max(3, round(len(enterprises) * 0.08)), taken):
            red.append(subject)
            entries.append(_ListPlan(subject, "A_TAXPAYER", "SWJ", self.handler("SWJ"),
                                     self.working_day(dt.date(2026, 4, 10), dt.date(2026, 4, 30)),
                                     "豫税信评〔{year}〕{n}号"))
        makers = [s for s in enterprises if s.industry in ("manufacturing", "trade")] or enterprises
        for subject in self.pick(makers, 1 + n // 150, taken):
            red.append(subject)
            entries.append(_ListPlan(subject, "AEO", "XYB", DATA_PROVIDER,
                                     self.working_day(dt.date(2025, 3, 1), self.last_day),
                                     "AEOCN4104{n:06d}"))
        # ordinary licences and penalties (none for the red-listed), awards, contracts;
        # the public institutions' licences come from departments the demo does not have
        for subject in self.subjects:
            if subject.industry == INSTITUTION:
                continue
            for template in LICENCES:
                if subject.kind in template.kinds and (template.industries is None
                                                       or subject.industry in template.industries) \
                        and rng.random() < template.chance:
                    plans.append(self.licence_plan(subject, template))
            chance = {LEGAL: 0.3, INDIVIDUAL_BUSINESS: 0.3, NATURAL: 0.15}[subject.kind]
            if rng.random() < chance and subject not in red and subject.standing != EXEMPLARY:
                eligible = [t for t in PENALTIES if t.weight and subject.kind in t.kinds
                            and (t.industries is None or subject.industry in t.industries)]
                if eligible:
                    template = rng.choices(eligible, [t.weight for t in eligible])[0]
                    plans.append(self.penalty_plan(subject, template))
        clean = [s for s in orgs if s.code not in taken]
        for subject in red[:2] + self.pick(clean, max(2, n // 40), set(taken)):
            plans.append(self.award_plan(subject))
        suppliers = [s for s in orgs if s.industry in ("trade", "tech", "construction", "service")]
        for subject in self.pick(suppliers, max(2, n // 30), set(taken)):
            plans.append(self.contract_plan(subject))
        plans.sort(key=lambda p: (p.day, p.subject.code, p.kind))
        for plan in plans:
            self.assign_number(plan)
        entries.sort(key=lambda e: (e.day, e.subject.code, e.list_type))
        for entry in entries:
            entry.day = min(entry.day, self.last_day)
            entry.basis = entry.record.doc_no if entry.record else self.number(entry.pattern,
                                                                               entry.day.year)

    def assign_number(self, plan: _RecordPlan) -> None:
        plan.doc_no = self.number(plan.pattern, plan.day.year)
        if plan.doc_field:
            plan.fields[plan.doc_field] = plan.doc_no
        if plan.cert_pattern:
            plan.fields["XK_XKBH"] = self.number(
                plan.cert_pattern.replace("{md}", f"{plan.day:%m%d}"), plan.day.year)

    def push_history(self) -> None:
        """Push the planned records and list entries in date order (a record before the
        list entry it founds)."""
        timeline: list[tuple[dt.date, int, int, _RecordPlan | _ListPlan]] = [
            (p.day, 0, i, p) for i, p in enumerate(self.records)]
        timeline += [(e.day, 1, i, e) for i, e in enumerate(self.entries)]
        for _, _, _, item in sorted(timeline, key=lambda t: t[:3]):
            if isinstance(item, _RecordPlan):
                self.push(item)
            else:
                self.add_list_entry(item)

    def push(self, plan: _RecordPlan) -> CreditRecord:
        spec = self.departments[f"{DIVISION}-{plan.dept}"]
        values = {"subject_code": plan.subject.code, "subject_name": plan.subject.name,
                  "subject_kind": plan.subject.kind, "kind": plan.kind, "severity": plan.severity,
                  "title": plan.title, "content": plan.content, "doc_no": plan.doc_no,
                  "decision_date": plan.day, "effective_from": plan.day,
                  "effective_until": plan.effective_until,
                  "authority": plan.authority or spec.name_zh, "fields": plan.fields}
        record, _ = push_record(self.principal(plan.actor), values, source_department=spec.code)
        if plan.adverse and plan.in_force(self.today):
            plan.subject.adverse += 1
            plan.subject.serious = plan.subject.serious or plan.severity == "serious"
        return record

    def add_list_entry(self, plan: _ListPlan) -> ListEntry:
        entry = add_entry(self.principal(plan.actor), list_type=plan.list_type,
                          subject_code=plan.subject.code, subject_name=plan.subject.name,
                          basis_doc_no=plan.basis, listed_on=plan.day,
                          source_department=f"{DIVISION}-{plan.dept}")
        (plan.subject.red if entry.color == "red" else plan.subject.black).append(plan.list_type)
        return entry

    def party_fields(self, prefix: str, subject: DemoSubject) -> dict[str, str]:
        fields = {f"{prefix}_XDR_MC": subject.name, f"{prefix}_XDR_LB": subject.category}
        if subject.organisation:
            fields[f"{prefix}_XDR_SHXYM"] = subject.code
            fields[f"{prefix}_FRDB"] = subject.legal_representative
        else:
            fields[f"{prefix}_XDR_ZJLX"] = "身份证"
            fields[f"{prefix}_XDR_ZJHM"] = subject.code
        return fields

    def text_values(self, subject: DemoSubject, day: dt.date) -> dict[str, Any]:
        rng = self.rng
        short = subject.name.removeprefix("舞钢市").removeprefix("平顶山").removeprefix("河南")[:6]
        return {
            "name": subject.name, "date": f"{day.year}年{day.month}月{day.day}日",
            "town": rng.choice(TOWNS), "village": rng.choice(VILLAGES), "road": rng.choice(ROADS),
            "count": rng.randint(3, 12), "item": rng.choice(ITEMS), "product": rng.choice(PRODUCTS),
            "value": rng.randint(8, 95) * 100, "area": rng.randint(60, 2400),
            "tons": rng.randint(300, 5000), "house": rng.randint(90, 160),
            "project": rng.choice((f"{short}综合楼工程", f"{short}厂房扩建项目",
                                   f"{rng.choice(TOWNS)}安置小区{rng.randint(1, 6)}号楼工程",
                                   rng.choice(PROCUREMENT_PROJECTS)[0])),
            "price": rng.randint(300, 9000), "purpose": rng.choice(("燃气管道接入", "供水管网改造",
                                                                    "通信线路敷设")),
            "length": rng.randint(20, 260), "limit": rng.choice(("十万", "一百万")),
            "invest": rng.randint(2000, 30000),
            "period": f"{day.year - 1 if day.month < 4 else day.year}年度",
            "change": rng.choice(("法定代表人变更", f"注册资本变更为{subject.capital * 2}万元",
                                  "住所变更", "经营范围增加技术服务")),
            "social_change": rng.choice(("法定代表人变更", "住所变更", "业务主管单位变更")),
        }

    def licence_plan(self, subject: DemoSubject, t: LicenceTemplate) -> _RecordPlan:
        day = self.working_day(FIRST_DAY, self.last_day)
        until = day + dt.timedelta(days=t.valid_days) if t.valid_days else None
        spec = self.departments[f"{DIVISION}-{t.dept}"]
        content = t.content.format(**self.text_values(subject, day))
        fields = {**self.party_fields("XK", subject), "XK_XKWS": t.document, "XK_XKLB": t.category,
                  "XK_XKZS": t.certificate, "XK_NR": content, "XK_JDRQ": day.isoformat(),
                  "XK_YXQZ": day.isoformat(),
                  "XK_YXQZI": until.isoformat() if until else "2099-12-31",
                  "XK_XKJG": spec.name_zh, "XK_XKJGDM": spec.uscc, "XK_ZT": "1",
                  "XK_LYDW": spec.name_zh, "XK_LYDWDM": spec.uscc, "BZ": ""}
        if t.certificate == "营业执照":
            fields["XK_XKBH"] = subject.code
        return _RecordPlan(subject, "licence", None, t.dept, self.handler(t.dept), day, t.pattern,
                           t.title, content, fields, doc_field="XK_WSH", cert_pattern=t.cert_pattern,
                           effective_until=until)

    def penalty_plan(self, subject: DemoSubject, t: PenaltyTemplate,
                     day: dt.date | None = None) -> _RecordPlan:
        rng = self.rng
        day = day or self.working_day(FIRST_DAY, self.last_day)
        values = self.text_values(subject, day)
        fine = rng.randint(t.fine[0] // 100, t.fine[1] // 100) * 100 if t.fine else 0
        confiscated = (rng.randint(t.confiscate[0] // 100, t.confiscate[1] // 100) * 100
                       if t.confiscate else 0)
        if t.key == "tax-evasion":
            tax = rng.randint(1200, 3800) * 1000
            fine = tax // 2
            values.update(tax=tax, share=rng.randint(12, 35))
        values.update(fine=fine, confiscated=confiscated)
        content = t.content.format(**values)
        until = add_months(day, PENALTY_PERIOD_MONTHS[t.severity])
        spec = self.departments[f"{DIVISION}-{t.dept}"]
        fields = {**self.party_fields("CF", subject), "CF_WFXW": t.offence,
                  "CF_SY": t.facts.format(**values), "CF_YJ": t.basis, "CF_CFLB": t.categories,
                  "CF_NR": content, "CF_JDRQ": day.isoformat(), "CF_YXQ": until.isoformat(),
                  "CF_GSJZQ": until.isoformat(), "CF_CFJG": spec.name_zh, "CF_CFJGDM": spec.uscc,
                  "CF_SJLY": spec.name_zh, "CF_SJLYDM": spec.uscc, "BZ": ""}
        if fine:
            fields["CF_NR_FK"] = _wan(fine)
        if confiscated:
            fields["CF_NR_WFFF"] = _wan(confiscated)
        return _RecordPlan(subject, "penalty", t.severity, t.dept, self.handler(t.dept), day,
                           t.pattern, t.offence, content, fields, doc_field="CF_WSH",
                           effective_until=until)

    def dishonest_debtor_plan(self, subject: DemoSubject) -> _RecordPlan:
        day = self.working_day(dt.date(2025, 3, 1), self.last_day)
        amount = self.rng.randint(30, 900) * 1000
        content = (f"被执行人{subject.name}有履行能力而拒不履行生效法律文书确定的义务，执行标的{amount}元，"
                   "依法纳入失信被执行人名单。")
        return _RecordPlan(subject, "dishonest_debtor", "serious", "XYB", DATA_PROVIDER, day,
                           "（{year}）豫0481执{n}号", "失信被执行人", content, {},
                           effective_until=add_months(day, 24), authority=COURT)

    def tax_violation_plans(self, subject: DemoSubject, t: PenaltyTemplate
                            ) -> tuple[_RecordPlan, _RecordPlan]:
        """A serious tax evasion penalty and, 15 working days on, its publication as a major
        tax violator."""
        day = self.working_day(dt.date(2025, 2, 1), dt.date(2026, 9, 30))
        penalty = self.penalty_plan(subject, t, day)
        published = min(self.calendar.add_working_days(day, 15), self.last_day)
        notice = _RecordPlan(subject, "major_tax_violation", "serious", "SWJ", self.handler("SWJ"),
                             published, "舞税稽公〔{year}〕{n}号", "重大税收违法失信主体",
                             penalty.fields["CF_SY"].rstrip("。")
                             + "，达到重大税收违法失信主体标准，依法向社会公布。",
                             {}, effective_until=add_months(published, 36))
        return penalty, notice

    def award_plan(self, subject: DemoSubject) -> _RecordPlan:
        day = self.working_day(dt.date(2025, 2, 10), dt.date(2026, 3, 31))
        title = self.rng.choice(("舞钢市诚信建设示范企业", "舞钢市纳税信用先进企业",
                                 "舞钢市守合同重信用企业"))
        return _RecordPlan(subject, "award", None, "FGW", self.handler("FGW"), day,
                           "舞发改信用〔{year}〕{n}号", title,
                           f"授予{subject.name}“{title}”称号（{day.year - 1}年度）。", {},
                           effective_until=add_months(day, 24))

    def contract_plan(self, subject: DemoSubject) -> _RecordPlan:
        day = self.working_day(FIRST_DAY, self.last_day)
        project = self.rng.choice(PROCUREMENT_PROJECTS)[0]
        return _RecordPlan(subject, "contract_performance", None, "CZJ", self.handler("CZJ"), day,
                           "舞财采验〔{year}〕{n}号", "政府采购合同履约验收合格",
                           f"{subject.name}承担的{project}合同已按约履行，经采购人组织验收合格。", {},
                           effective_until=add_months(day, 36))

    # -- credit reports ------------------------------------------------------------------------
    def make_reports(self) -> None:
        """Reports for the enterprises of a set standing (:data:`STANDING_KINDS`), the listed
        ones, those of the industries that apply in the domains requiring a report (food and
        drug tenders, internet services) and about 40% of the others, from the filed agencies
        and a few from the suspended one; about 70% issued within the year."""
        rng = self.rng
        filed = [a for a in self.agencies if a.status == "filed"]
        suspended = [a for a in self.agencies if a.status != "filed"]
        orgs = [s for s in self.subjects if s.kind == LEGAL and s.industry not in NON_ENTERPRISES]
        listed = {e.subject.code: e for e in self.entries}
        for i, subject in enumerate(s for s in orgs if s.standing):
            # a fresh report for the exemplary, one older than a year for the lapsed
            days = rng.randint(10, 300) if subject.standing == EXEMPLARY else rng.randint(380, 700)
            subject.reports.append(file_report(self.principal(DATA_PROVIDER), self.report_values(
                subject, filed[i % len(filed)], self.today - dt.timedelta(days=days))))
        orgs = [s for s in orgs if not s.standing]
        wanted = [s for s in orgs if s.code not in listed and s.industry in REPORT_INDUSTRIES]
        others = [s for s in orgs if s.code not in listed and s.industry not in REPORT_INDUSTRIES]
        chosen = [s for s in orgs if s.code in listed] + wanted + \
            rng.sample(others, k=min(len(others), round(len(orgs) * 0.4)))
        for i, subject in enumerate(chosen):
            agency = suspended[0] if suspended and i % 9 == 4 else filed[i % len(filed)]
            entry = listed.get(subject.code)
            if entry is not None and rng.random() < 0.6 and (self.today - entry.day).days > 20:
                # issued after the listing, so the report knows of it and stays valid
                issued = entry.day + dt.timedelta(days=rng.randint(5, min(300, (self.today
                                                                                 - entry.day).days)))
            elif rng.random() < 0.7:
                issued = self.today - dt.timedelta(days=rng.randint(10, 330))
            else:
                issued = self.today - dt.timedelta(days=rng.randint(380, 700))
            subject.reports.append(file_report(self.principal(DATA_PROVIDER),
                                               self.report_values(subject, agency, issued)))

    def report_values(self, subject: DemoSubject, agency: Agency, issued: dt.date) -> dict[str, Any]:
        """A report saying what was known of the subject on its issue date."""
        rng = self.rng
        adverse = [p for p in self.records if p.subject is subject and p.adverse and p.in_force(issued)]
        serious = any(p.severity == "serious" for p in adverse)
        lists = [e for e in self.entries if e.subject is subject and e.day <= issued]
        black = [e.list_type for e in lists if e.list_type not in ("A_TAXPAYER", "AEO")]
        red = [e.list_type for e in lists if e.list_type in ("A_TAXPAYER", "AEO")]
        if black:
            rating = rng.choice(("B+", "B", "CCC+", "CCC"))
        elif serious:
            rating = rng.choice(("BBB-", "BB+", "BB"))
        elif red:
            rating = rng.choice(("AAA", "AA+", "AA"))
        elif adverse:
            rating = rng.choice(("A-", "BBB+", "BBB"))
        else:
            rating = rng.choice(("AA-", "A+", "A", "A", "A-"))
        revenue = subject.capital * rng.randint(2, 9)
        assets = subject.capital * rng.randint(2, 6)
        ratio = rng.randint(72, 93) if black else rng.randint(28, 78)
        year = issued.year - 1
        warnings = []
        if black:
            names = "、".join(self.list_names.get(code, code) for code in black)
            warnings.append(f"被列入{names}，存在较高信用风险")
        if serious:
            warnings.append("公示期内有严重行政处罚记录")
        if ratio > 70:
            warnings.append(f"资产负债率{ratio}%，偿债压力较大")
        if not warnings and rng.random() < 0.3:
            warnings.append("应收账款占比较高，回款周期偏长")
        prefix = {"河南中原诚信评估有限公司": "ZYCX", "平顶山鹰城信用管理有限公司": "YCXY",
                  "河南豫信联合征信有限公司": "YXLH"}.get(agency.name, "HXLH")
        return {
            "number": self.number(f"{prefix}-{{year}}-{{n:05d}}", issued.year),
            "subject_code": subject.code, "subject_name": subject.name,
            "agency_filing_no": agency.filing_no, "issue_date": issued, "rating": rating,
            "sections": {
                "基本情况": f"{subject.name}成立于{subject.founded}年，注册资本{subject.capital}万元，"
                        f"法定代表人{subject.legal_representative}，住所{subject.address}。",
                "经营业务": f"主营{BUSINESS.get(subject.industry, '综合经营')}，"
                        f"{year}年营业收入约{revenue}万元，客户主要分布在平顶山及周边地区。",
                "主要财务数据与指标": f"{year}年末资产总额{assets}万元，资产负债率{ratio}%，"
                             f"营业收入{revenue}万元，净利润{max(1, revenue // rng.randint(12, 30))}万元。",
                "银行信用记录": "存在1笔关注类贷款，已逾期未结清。" if black
                          else "在2家金融机构有授信记录，未发现不良信贷记录。",
                "合同履约": "近三年主要合同履约正常，未发现重大合同纠纷。" if rating[0] == "A"
                        else "近三年存在个别合同逾期履行情形。",
                "公共信用监管信息": "经查询“信用舞钢”“信用中国”，" + (
                    f"公示期内有行政处罚等不良记录{len(adverse)}条。" if adverse
                    else "未发现行政处罚等不良记录。") + (
                    f"列入{self.list_names.get(red[0], red[0])}。" if red else ""),
                "司法信用信息": "被列入失信被执行人名单。" if "SXBZXR" in black
                          else "未发现失信被执行人记录及重大涉诉信息。",
            },
            "risk_warnings": warnings,
        }

    # -- cases ---------------------------------------------------------------------------------
    def make_cases(self) -> None:
        installed = self.runtime.host.domains
        domains = sorted(code for code in installed if code in APPLICATION_FACTORIES
                         and any(code in d.enabled_domains for d in self.departments.values()))
        if not domains:
            log.warning("no installed domain has a demo application factory: no cases loaded")
            return
        unknown = sorted(set(installed) - set(APPLICATION_FACTORIES))
        if unknown:
            log.info("the demo cannot fill applications for domain(s) %s: no demo cases there",
                     ", ".join(unknown))
        agencies = {a.filing_no: a for a in Agency.objects}
        self.valid_reports = {r.subject_code for r in CreditReport.objects
                              if report_validity(r, self.today, agencies.get(r.agency_filing_no)).valid}
        used: set[str] = set()
        # each domain first gets a case an applicant in good standing carries through to a
        # decision, so that every domain shows an approval; where a valid report is required,
        # one without a report is decided too, so that the rule shows. Then the states are
        # shared out over the domains.
        plan: list[tuple[str, str, str]] = []  # (domain, state to end in, applicant's standing)
        for i, domain in enumerate(domains):
            plan.append((domain, "archived" if i % 2 == 0 else "decided", EXEMPLARY))
            if self.runtime.host.domain(domain).requires_report:
                plan.append((domain, "decided" if i % 2 == 0 else "archived", LAPSED))
        total = max(len(plan) + len(domains), round(len(self.subjects) * 0.4))
        plan += [(domains[i % len(domains)], CASE_PATTERN[i % len(CASE_PATTERN)], "")
                 for i in range(max(len(CASE_PATTERN), total - len(plan)))]
        checked_now: list[tuple[Case, str]] = []  # (case, the state it is to end in)
        later: list[tuple[str, str]] = []
        specials: list[tuple[Case, str]] = []
        if "procurement" in domains:
            # suppliers on a list whose measure rejects them from procurement (财库〔2016〕125号)
            barred = [s for s in self.subjects if s.organisation
                      and set(s.black) & {"SXBZXR", "ZDSSWF", "ZFCG_YZWF"}]
            debtors = [s for s in barred if "SXBZXR" in s.black]
            for subject, role in ((next(iter(debtors), None), "override"),
                                  (next((s for s in barred if s not in debtors[:1]), None), "reject")):
                if subject is not None:
                    used.add(subject.code)
                    specials.append((self.apply("procurement", subject), role))
        for domain, state, standing in plan:
            if state in ("applied", "checking"):
                later.append((domain, state))
                continue
            subject = self.applicant(domain, state, used, standing=standing)
            checked_now.append((self.apply(domain, subject), state))
        for case, _ in specials:
            self.check_now(case)
        for case, _ in checked_now:
            self.check_now(case)
        for case, role in specials:
            if role == "override":
                self.decide_with_override(case)
            else:
                self.decide(case)
                self.workflow.archive(self.principal(self.handler(self.dept_of(case))), str(case.pk))
        flag_candidate: Case | None = None
        for case, state in checked_now:
            handler = self.principal(case.handler)
            if state == "withdrawn":
                self.workflow.withdraw(handler, str(case.pk), self.rng.choice(WITHDRAWAL_REASONS))
            elif state in ("decided", "archived"):
                decided = self.decide(case)
                if state == "archived":
                    self.workflow.archive(handler, str(case.pk))
                    if decided.decision.outcome == "approved" and flag_candidate is None \
                            and self.by_code[decided.subject_code].kind == LEGAL \
                            and self.by_code[decided.subject_code].industry not in NON_ENTERPRISES:
                        flag_candidate = decided
        for case, state in checked_now:
            if state == "stale":
                self.make_stale(case)
        if flag_candidate is not None:
            self.flag_after_serious_record(flag_candidate)
        for domain, state in later:
            case = self.apply(domain, self.applicant(domain, state, used))
            if state == "checking":
                self.workflow.request_check(self.principal(case.handler), str(case.pk))

    def dept_of(self, case: Case) -> str:
        return case.department.removeprefix(f"{DIVISION}-")

    def applicant(self, domain: str, state: str, used: set[str], *, standing: str = "") -> DemoSubject:
        """A subject the domain accepts (its kinds and its own subject rules), preferably a
        usual applicant (:data:`APPLICANT_KINDS`, :data:`APPLICANT_FITS`) no other demo case
        has. About half of the cases to be decided get one with list entries or adverse
        records; in a domain requiring a credit report about four in five applicants hold a
        valid one. ``standing`` EXEMPLARY asks for one without adverse information (and with
        a valid report where one is required), LAPSED for one without a valid report."""
        plugin = self.runtime.host.domain(domain)
        kinds = plugin.subject_kinds
        preferred_kinds = [k for k in APPLICANT_KINDS.get(domain, (LEGAL, INDIVIDUAL_BUSINESS))
                           if k in kinds]
        fits = APPLICANT_FITS.get(domain, _ordinary_applicant)
        accepted = [s for s in self.subjects if s.kind in kinds
                    and not plugin.subject_errors(s.kind, s.code)]
        pool = [s for s in accepted if s.kind in preferred_kinds and fits(s)] or accepted
        if not pool:
            raise RuntimeError(f"no demo subject can apply in domain {domain}")
        if plugin.requires_report:
            with_report = {EXEMPLARY: True, LAPSED: False}.get(standing, self.rng.random() < 0.8)
            pool = [s for s in pool if (s.code in self.valid_reports) == with_report] or pool
        fresh = [s for s in pool if s.code not in used] or pool
        if standing == EXEMPLARY:
            want_special = False
        else:
            want_special = state in ("decided", "archived", "checked") and self.rng.random() < 0.5
        preferred = [s for s in fresh if s.special == want_special] or fresh
        subject = self.rng.choice(preferred)
        used.add(subject.code)
        return subject

    def apply(self, domain: str, subject: DemoSubject) -> Case:
        departments = [code for code, d in self.departments.items() if domain in d.enabled_domains]
        hint = DEPARTMENT_HINTS.get(domain)
        if hint is not None:
            suffixes = hint(subject)
            departments = [c for c in departments
                           if c.removeprefix(f"{DIVISION}-") in suffixes] or departments
        department = self.rng.choice(departments)
        matter, data = APPLICATION_FACTORIES[domain](self, subject, department)
        handler = self.principal(self.handler(department.removeprefix(f"{DIVISION}-")))
        try:
            return self.workflow.apply(handler, domain=domain, matter=matter, data=data,
                                       subject={"code": subject.code, "name": subject.name,
                                                "kind": subject.kind})
        except RuleViolation as exc:
            raise RuntimeError(f"the demo's {domain} application no longer fits the domain's "
                               f"schema: {exc.errors}") from exc

    def check_now(self, case: Case) -> CreditCheck:
        """Perform the case's queued check in-process, as the worker would."""
        check = self.workflow.perform_check(str(case.pk), case.check_request_id, case.handler)
        if check is None:
            raise RuntimeError(f"the check of demo case {case.pk} did not run")
        OutboxEntry.objects(event_id=case.check_request_id).update(set__sent_at=core_db.utcnow())
        return check

    def decide(self, case: Case, *, override: str = "") -> Case:
        case = Case.objects.get(pk=case.pk)
        check = self.workflow.latest_check(case)
        domain = self.runtime.host.domain(case.domain)
        recommendation = check.result.get("recommendation") or {}
        black = [h for h in check.result.get("hits", []) if h.get("color") == "black"]
        feedback, applied_reject, applied_punish, rewards = [], [], [], []
        for m in check.measures:
            if override and m["binding"] == "MANDATORY" and m["kind"] == "PUNISH":
                feedback.append({"measure": m["code"], "applied": False, "reason": override})
            elif m["kind"] == "PUNISH" and m["binding"] == "DISCRETIONARY" and not black \
                    and m["effect"] != "reject" and self.rng.random() < 0.2:
                feedback.append({"measure": m["code"], "applied": False,
                                 "reason": self.rng.choice(DISCRETIONARY_NOT_APPLIED)})
            else:
                feedback.append({"measure": m["code"], "applied": True,
                                 "outcome_text": self.outcome_text(m)})
                if m["kind"] == "REWARD":
                    rewards.append(m)
                elif m["effect"] == "reject":
                    applied_reject.append(m)
                else:
                    applied_punish.append(m)
        reasons = list(recommendation.get("reasons") or [])
        conditions: list[str] = []
        matter_type = (case.data or {}).get("matter_type")
        barring = [m for m in applied_punish
                   if matter_type in REJECTING_RESTRICTIONS.get((case.domain, m["code"]), ())]
        adverse = any(h.get("adverse") for h in check.result.get("hits", []))
        if applied_reject:
            outcome = "rejected"
            reasons = [f"{m['code']}：{m['text_zh']}（{m['legal_basis']}）" for m in applied_reject]
        elif barring:
            outcome = "rejected"
            reasons = [f"{m['code']}：{m['text_zh']}（{m['legal_basis']}）；{matter_type}中执行该措施即不予"
                       "录用（聘用）" for m in barring]
        elif recommendation.get("outcome") == "reject" and not override:
            outcome = "rejected"
            if domain.requires_report and not check.has_valid_report:
                # the engine's reason is English; the decision speaks to the applicant
                reasons = [f"申请人未能提供有效的第三方信用报告（须由备案信用服务机构出具、在有效期内且未因"
                           f"重大失信事件失效），不符合{domain.name_zh}事项的审查要求"] + \
                    [r for r in reasons if not r.isascii()]
        elif black and case.domain == "housing" and not override:
            outcome = "rejected"
            reasons = ["经重点审查，申请人被列入" + "、".join(h["title"] for h in black)
                       + "，不符合保障条件"]
        elif override or applied_punish or recommendation.get("outcome") in (
                "review", "approve_with_conditions"):
            outcome = "approved_with_conditions"
            conditions = list(CONDITIONS.get(case.domain, DEFAULT_CONDITIONS))
            found = ("申请人存在不良信用信息" if adverse or applied_punish
                     else "信用报告提示信用风险")
            reasons = ([override] if override else []) + \
                [f"经信用核查，{found}，已按规定重点审查，结论附卷"] + reasons[:3]
        else:
            outcome = "approved"
            reasons = ["经信用核查，未发现不良信用记录，符合条件"]
            if rewards:
                reasons.append("申请人在守信激励名单内，按绿色通道优先办理")
        if outcome != "rejected" and domain.requires_report:
            report = next((r for r in check.result.get("reports", []) if r.get("valid")), None)
            if report is not None:
                reasons.append(f"已查验{report.get('agency_name') or '备案信用服务机构'}出具的信用报告"
                               f"{report['number']}（评级{report['rating']}，有效期至"
                               f"{report['valid_until']}）")
        if outcome == "rejected" and not reasons:
            reasons = [f"经信用核查，申请人不符合{domain.name_zh}事项的信用条件"]
        decider = self.principal(case.handler)
        return self.workflow.decide(decider, str(case.pk), outcome=outcome, feedback=feedback,
                                    conditions=conditions, reasons="；".join(reasons))

    @staticmethod
    def outcome_text(measure: dict[str, Any]) -> str:
        text = measure["text_zh"]
        return {
            "reject": f"已执行：{text}",
            "restrict": f"已执行：{text}，本申请不予优先办理",
            "review": f"已执行：{text}，已形成信用记录审查意见并附卷",
            "incentive": f"已执行：{text}，按绿色通道优先受理、优先办理",
        }.get(measure["effect"], f"已执行：{text}")

    def decide_with_override(self, case: Case) -> Case:
        """A reviewer approves leaving the mandatory rejection unapplied; the handler decides."""
        check = self.workflow.latest_check(Case.objects.get(pk=case.pk))
        mandatory = [m["code"] for m in check.measures
                     if m["binding"] == "MANDATORY" and m["kind"] == "PUNISH"]
        if not mandatory:
            return self.decide(case)
        basis = next((h.get("detail", {}).get("basis_doc_no") for h in check.result.get("hits", [])
                      if h.get("code") == "SXBZXR"), "")
        reason = (f"供应商所涉{basis or '执行'}案件已执行完毕，{COURT}已出具结案通知书，失信信息待依法屏蔽；"
                  "本项目为应急保障采购，经局务会集体研究同意不执行该措施")
        dept = self.dept_of(case)
        self.workflow.approve_override(self.principal(f"{dept.lower()}-reviewer"), str(case.pk),
                                       measures=mandatory, reason=reason)
        return self.decide(case, override=reason)

    def make_stale(self, case: Case) -> None:
        """New credit information arrives after the check: the case goes stale."""
        subject = self.by_code[case.subject_code]
        eligible = [t for t in PENALTIES if t.weight and t.severity != "serious"
                    and subject.kind in t.kinds
                    and (t.industries is None or subject.industry in t.industries)]
        if subject.industry == INSTITUTION:
            # a public institution files tax returns, but neither advertises nor trades
            eligible = [t for t in eligible if t.dept == "SWJ" and t.severity == "minor"]
        template = self.rng.choice(eligible)
        plan = self.penalty_plan(subject, template, day=self.working_day(
            self.last_day - dt.timedelta(days=10), self.last_day))
        self.assign_number(plan)
        self.push(plan)
        spec = self.departments[f"{DIVISION}-{plan.dept}"]
        self.workflow.mark_stale(str(case.pk), f"核查后收到新的信用信息：{spec.name_zh}{plan.title}"
                                               f"（{plan.doc_no}，{plan.day.isoformat()}），需重新核查")

    def flag_after_serious_record(self, case: Case) -> None:
        """A serious penalty after the decision: the case is flagged for review, and the
        subject's earlier credit reports are voided by the major credit event."""
        subject = self.by_code[case.subject_code]
        template = next(t for t in PENALTIES if t.key == "tax-evasion")
        plan = self.penalty_plan(subject, template, day=self.last_day
                                 if self.calendar.is_working_day(self.last_day)
                                 else self.working_day(self.last_day - dt.timedelta(days=7),
                                                       self.last_day))
        self.assign_number(plan)
        self.push(plan)
        self.workflow.flag_for_review(str(case.pk), f"决定作出后主体新增严重失信信息：{plan.title}"
                                                    f"（{plan.doc_no}），请复核")

    def mark_history_delivered(self) -> None:
        """The load's events are history: store them as delivered (see the module docstring).
        Check requests of the cases left open stay queued for the worker."""
        OutboxEntry.objects(exchange=EVENTS_EXCHANGE, sent_at=None).update(
            set__sent_at=core_db.utcnow())

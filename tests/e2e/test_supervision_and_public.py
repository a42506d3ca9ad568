"""The credit office's dashboard and exports, the credit data pages, and the
public site (publicity search, a subject's public page, an objection) in a
real browser."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from creditcase.core import ids
from creditcase.core.cases import Case
from creditcase.core.objections import Objection
from creditcase.core.records import CreditRecord, load_record, push_record
from tests.e2e import seed as city
from tests.e2e.conftest import unlabelled

pytestmark = pytest.mark.browser


def test_credit_office_dashboard_draws_its_charts_and_exports_the_quarterly_report(live, pages):
    page = pages()
    live.sign_in(page, "xyb-office")
    assert page.url.endswith("/supervision")
    charts = page.locator("figure.chart")
    assert charts.count() == 4
    for figure in charts.all():
        svg = figure.locator("svg[role=img]")
        assert svg.count() == 1, figure.inner_text()
        title_id = svg.get_attribute("aria-labelledby").split()[0]
        title = figure.locator(f"#{title_id}").text_content()
        assert title and title == figure.locator("h3").inner_text()
        assert figure.locator("details.chart-data table tbody tr").count() >= 1
    assert page.locator("#chart-cases rect").count() >= 2
    assert page.locator("#chart-checks rect").count() >= 1
    assert page.locator("#chart-publicity rect").count() >= 1
    assert page.locator("#kpi-handled").inner_text() == str(Case.objects(decision__ne=None).count())
    assert page.locator("#stats-table tbody tr").count() >= 1
    page.locator("#chart-cases details summary").click()
    assert page.locator("#chart-cases details table").is_visible()
    assert page.locator("#feedback-report tbody tr").count() >= 1
    live.shoot(page, "20-supervision-dashboard")
    assert unlabelled(page) == []

    page.get_by_role("link", name="查看完整报表").click()
    quarter = re.search(r"quarter=(\d{4}Q[1-4])", page.url).group(1)
    live.shoot(page, "21-measure-feedback-report")
    csv = page.request.get(live.url(f"/supervision/feedback.csv?quarter={quarter}"))
    assert csv.status == 200 and csv.headers["content-type"].startswith("text/csv")
    text = csv.body().decode("utf-8")
    assert text.startswith("\ufeff季度,名单发布机关,措施代码")
    assert quarter in text and "SX-YXBL" in text
    xlsx = page.request.get(live.url(f"/supervision/feedback.xlsx?quarter={quarter}"))
    assert xlsx.status == 200
    book = load_workbook(io.BytesIO(xlsx.body()))
    assert book.sheetnames == ["措施反馈汇总", "未执行明细"]
    rows = list(book["措施反馈汇总"].iter_rows(values_only=True))
    assert rows[0][:3] == ("季度", "名单发布机关", "措施代码")
    assert any(row[2] == "SX-YXBL" and row[6] >= 1 for row in rows[1:])

    phone = pages(width=375, height=812)
    live.sign_in(phone, "xyb-office")
    overflow = phone.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"dashboard scrolls sideways by {overflow}px"
    live.shoot(phone, "22-supervision-dashboard-phone")


def test_credit_data_pages_search_records_follow_history_and_work_the_queues(live, pages):
    provider = live.seed.principals["scjgj-provider"]
    name, code = "舞钢市恒信建设工程有限公司", city.uscc("91410481MA40HX01")
    record = CreditRecord.objects.get(pk=live.seed.records["恒信-licence"])
    push_record(provider, load_record({
        "subject_code": code, "subject_name": name, "kind": "licence",
        "title": "建筑工程施工许可（变更）", "doc_no": record.doc_no,
        "decision_date": record.decision_date.isoformat(), "authority": record.authority,
        "content": "施工许可变更：项目负责人变更"}))

    page = pages()
    live.sign_in(page, "xyb-office")
    page.goto(live.url("/data/records"))
    page.get_by_label("主体名称、代码或文书号").fill("恒信")
    page.get_by_role("button", name="查找").click()
    assert page.locator("table tbody tr").count() == CreditRecord.objects(subject_code=code).count()
    live.shoot(page, "30-credit-records")
    assert unlabelled(page) == []
    page.get_by_role("link", name=re.compile("行政许可")).click()
    assert "建筑工程施工许可（变更）" in page.locator("h1").inner_text()
    history = page.locator("table tbody tr")
    assert history.count() == 1 and "建筑工程施工许可" in history.first.inner_text()
    live.shoot(page, "31-credit-record-history")

    page.goto(live.url("/data/lists?color=black"))
    assert "舞钢市顺达物流有限公司" in page.locator("table").first.inner_text()
    live.shoot(page, "32-list-entries")
    page.goto(live.url("/data/measures"))
    assert "ZFCG-JZ" in page.content()
    live.shoot(page, "33-measures")
    page.goto(live.url("/data/agencies"))
    assert "河南诚信评估有限公司" in page.content()
    live.shoot(page, "34-agencies")
    page.goto(live.url("/data/reports?validity=invalid"))
    assert "ZYXY-2025-0112" in page.content() and "HNCX-2026-0451" not in page.content()
    page.goto(live.url("/data/reports?validity=valid"))
    assert "HNCX-2026-0451" in page.content() and "ZYXY-2025-0112" not in page.content()
    live.shoot(page, "35-credit-reports")

    page.goto(live.url("/data/objections"))
    row = page.locator("table tbody tr").first
    assert "已受理" in row.inner_text() and re.search(r"剩余\d+个工作日|今日到期", row.inner_text())
    live.shoot(page, "36-objections-queue")
    row.get_by_role("link").click()
    page.get_by_role("button", name="开始平台核查").click()
    assert "已完成：开始平台核查" in page.locator(".flash").inner_text()
    assert "平台核查中" in page.locator("main").inner_text()
    live.shoot(page, "37-objection")
    assert unlabelled(page) == []
    assert Objection.objects.get().state == "PLATFORM_CHECK"

    page.goto(live.url("/data/repairs"))
    assert "草稿" in page.locator("table").inner_text()
    live.shoot(page, "38-repairs-queue")

    handler = pages()
    live.sign_in(handler, "czj-handler")
    handler.goto(live.url("/data/objections"))
    assert handler.locator("table tbody tr").count() == 0  # not its department's records


def test_public_search_and_subject_page_mask_id_numbers_and_take_an_objection(live, pages):
    person = city.NATURAL_PERSON_ID
    masked = ids.mask(person)
    page = pages()
    page.goto(live.url("/"))
    page.get_by_role("link", name="双公示查询（无需登录）").click()
    page.get_by_label(re.compile("主体名称")).fill(person)
    page.get_by_role("button", name="查询").click()
    results = page.locator("table tbody tr")
    assert results.count() == 2
    table = page.locator("table").inner_text()
    assert person not in table and masked in table
    live.shoot(page, "40-public-publicity-search")

    results.first.get_by_role("link").click()
    assert re.search(r"/public/subjects/[0-9a-f]{24}$", page.url)
    assert page.locator("#public-code").inner_text() == masked
    assert person not in page.content()
    assert "食品经营许可" in page.content() and "无证经营小餐饮" in page.content()
    live.shoot(page, "41-public-subject")

    page.get_by_role("link", name="提出异议").first.click()
    page.get_by_label("申请人姓名或单位名称").fill("张伟")
    mistyped = person[:-1] + ("1" if person[-1] != "1" else "2")
    page.get_by_label("该主体的统一社会信用代码或身份证号码").fill(mistyped)
    page.get_by_label("联系电话或电子邮箱").fill("13937500000")
    page.get_by_label("异议理由").fill("处罚决定中的经营地址有误，且罚款已于当日缴清。")
    page.get_by_role("button", name="提交异议").click()
    assert page.locator("#form-errors").is_visible()
    assert "校验码不对" in page.locator("#code-error").inner_text()
    live.shoot(page, "42-public-objection-errors")
    assert unlabelled(page) == []
    page.get_by_label("该主体的统一社会信用代码或身份证号码").fill(person)
    page.get_by_role("button", name="提交异议").click()
    number = page.locator("#objection-number").inner_text()
    assert re.fullmatch(r"YY\d{8}[0-9A-F]{8}", number)
    live.shoot(page, "43-public-objection-filed")

    page.get_by_role("link", name="查询处理进度").click()
    page.get_by_label("主体的统一社会信用代码或身份证号码").fill(person)
    page.get_by_role("button", name="查询").click()
    assert "已提交" in page.locator("main").inner_text()
    live.shoot(page, "44-public-objection-track")

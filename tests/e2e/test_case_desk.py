"""The case desk in a real browser: sign in, apply, see the check, decide with
feedback on every measure (and the reviewer's override), archive, verify the
evidence; CSRF, the English switch, the keyboard and a phone-width screen."""

from __future__ import annotations

import re

import pytest

from creditcase.core.accounts import Principal, User
from creditcase.core.cases import Case
from tests.e2e import seed as city
from tests.e2e.conftest import Live, procurement_application, unlabelled

pytestmark = pytest.mark.browser


def _apply_in_form(live: Live, page, *, code: str, name: str, project: str) -> str:
    """Fill the procurement form and submit it; returns the new case's id."""
    page.goto(live.url("/cases/new/procurement"))
    page.get_by_label("统一社会信用代码或公民身份号码").fill(code)
    page.get_by_label("主体名称或姓名").fill(name)
    page.get_by_label("办理事项").fill("政府采购供应商资格审查")
    values = procurement_application(project)
    page.get_by_label("采购项目编号").fill(values["project_code"])
    page.get_by_label("采购项目名称").fill(values["project_name"])
    page.get_by_label("采购方式").select_option(values["procurement_method"])
    page.get_by_label("预算金额（元）").fill(values["budget_amount"])
    page.get_by_label("采购公告发布日期").fill(values["tender_notice_date"])
    page.get_by_label("投标（响应）截止时间").fill(values["bid_deadline"])
    page.get_by_label("采购人").fill(values["purchaser"])
    page.get_by_role("button", name="受理并发起信用核查").click()
    page.wait_for_url(re.compile(r"/cases/[0-9a-f]{24}$"))
    return page.url.rsplit("/", 1)[1]


def test_handler_applies_sees_the_check_decides_with_feedback_archives_and_verifies(live, pages):
    supplier = "舞钢市恒通建材有限公司"
    code = live.listed_supplier(supplier)
    page = pages()

    page.goto(live.url("/"))
    live.shoot(page, "01-home")
    page.goto(live.url("/login"))
    live.shoot(page, "02-login")
    live.sign_in(page, "czj-handler")
    assert page.url.endswith("/cases")
    assert page.locator("#case-queue tbody tr").count() > 0
    live.shoot(page, "03-case-queue")
    page.goto(live.url("/cases?hits=black&sort=due"))
    assert page.locator("#case-queue tbody tr").count() > 0
    for row in page.locator("#case-queue tbody tr").all():
        assert row.locator(".hit-black").count() == 1

    # the form is built from the domain's schema; the schema's errors land on the fields
    page.goto(live.url("/cases/new"))
    live.shoot(page, "04-choose-domain")
    page.get_by_role("link", name="政府集中采购").click()
    page.get_by_label("统一社会信用代码或公民身份号码").fill("91410481MA40K1Y3X")
    page.get_by_label("主体名称或姓名").fill(supplier)
    page.get_by_label("办理事项").fill("政府采购供应商资格审查")
    page.get_by_label("预算金额（元）").fill("-5")
    page.get_by_role("button", name="受理并发起信用核查").click()
    assert page.locator("#form-errors").is_visible()
    assert page.locator("#subject-code-error").is_visible()
    assert page.get_by_label("统一社会信用代码或公民身份号码").get_attribute("aria-invalid") == "true"
    assert "金额须大于 0 元" in page.locator("#data-budget_amount-error").inner_text()
    assert unlabelled(page) == []
    assert page.locator("#data-project_code-error").inner_text().strip()
    live.shoot(page, "05-new-application-errors")

    case_id = _apply_in_form(live, page, code=code, name=supplier, project="WGCG-2026-E2E01")
    assert "信用核查正在进行" in page.content()
    assert page.locator('meta[http-equiv="refresh"]').count() == 1
    assert live.run_checks() >= 1
    page.reload()

    # the check: every hit with its source and data-as-of, measures with basis and binding
    hits = page.locator("#hits tbody tr")
    assert hits.count() >= 1
    assert "失信被执行人名单" in page.locator("#hits").inner_text()
    assert "最高人民法院" in page.locator("#hits").inner_text()
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", hits.first.inner_text())
    check = page.locator("#check")
    assert "ZFCG-JZ" in check.inner_text() and "强制" in check.inner_text()
    assert "政府采购法第二十二条" in check.inner_text()
    assert page.locator("#recommendation").inner_text() == "建议不予准予"
    assert page.locator(".grade").count() == 1
    live.shoot(page, "06-case-checked")

    # deciding without feedback: core refuses, each measure shows its error
    page.get_by_role("button", name="作出决定").click()
    assert page.locator("#decision-errors").is_visible()
    assert "请选择“已执行”或“不执行”" in page.locator("#fb-ZFCG-JZ-error").inner_text()
    assert "请选择决定结果" in page.locator("#outcome-error").inner_text()
    live.shoot(page, "07-decision-errors")
    assert unlabelled(page) == []

    form = page.locator("#decision-form")
    measures = form.locator("fieldset.measure").count()
    assert measures >= 2
    for fieldset in form.locator("fieldset.measure").all():
        fieldset.get_by_label("已执行").check()
    form.get_by_label("不予准予").check()
    form.get_by_label("决定理由").fill("供应商被列入失信被执行人名单，依法拒绝其参加本次政府采购活动。")
    form.get_by_role("button", name="作出决定").click()
    page.wait_for_url(re.compile(rf"/cases/{case_id}#decision$"))
    assert "不予准予" in page.locator("#decision-result").inner_text()
    assert page.locator("#feedback-table tbody tr").count() == measures
    live.shoot(page, "08-case-decided")

    page.get_by_role("button", name="归档").click()
    page.wait_for_url(re.compile(rf"/cases/{case_id}/evidence$"))
    bundle_hash = page.locator("#bundle-hash").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", bundle_hash)
    assert re.fullmatch(r"[0-9a-f]{64}", page.locator("#bundle-prev").inner_text().strip())
    page.get_by_role("button", name="重新计算并校验").click()
    verification = page.locator("#verification")
    assert "本证据包校验通过" in verification.inner_text()
    assert "证据链校验通过" in verification.inner_text()
    live.shoot(page, "09-evidence-verified")
    case = Case.objects.get(pk=case_id)
    assert case.state == "archived" and case.evidence_hash == bundle_hash


def test_reviewer_approves_an_override_then_the_handler_decides(live, pages):
    supplier = "舞钢市鑫源物资贸易有限公司"
    code = live.listed_supplier(supplier)
    handler = Principal.of(User.objects.get(username="czj-handler"))
    case = live.workflow.apply(handler, domain="procurement", matter="政府采购供应商资格审查",
                               subject={"code": code, "name": supplier},
                               data=procurement_application("WGCG-2026-E2E02"))
    live.run_checks()

    reviewer_page = pages()
    live.sign_in(reviewer_page, "czj-reviewer")
    reviewer_page.goto(live.url(f"/cases/{case.pk}"))
    override = reviewer_page.locator("#override-form")
    override.get_by_role("button", name="批准不执行").click()
    assert "请至少选择一项强制措施" in reviewer_page.locator("#override").inner_text()
    assert "批准不执行须说明理由" in reviewer_page.locator("#override").inner_text()
    override = reviewer_page.locator("#override-form")
    override.get_by_label(re.compile("ZFCG-JZ")).check()
    override.get_by_label("批准理由").fill("该案件已执行完毕，法院出具结案通知书，失信信息待屏蔽；经局务会研究同意。")
    live.shoot(reviewer_page, "10-override-form")
    override.get_by_role("button", name="批准不执行").click()
    assert "批准不执行：ZFCG-JZ" in reviewer_page.locator("#override").inner_text()
    assert "不能同时作出决定" in reviewer_page.locator("#decision").inner_text()

    handler_page = pages()
    live.sign_in(handler_page, "czj-handler")
    handler_page.goto(live.url(f"/cases/{case.pk}"))
    form = handler_page.locator("#decision-form")
    mandatory = form.locator("#fb-ZFCG-JZ")
    assert "审核人已批准不执行" in mandatory.inner_text()
    mandatory.get_by_label("不执行", exact=True).check()
    for fieldset in form.locator("fieldset.measure").all():
        if fieldset.get_attribute("id") != "fb-ZFCG-JZ":
            fieldset.get_by_label("已执行").check()
    form.get_by_label("准予", exact=True).check()
    form.get_by_role("button", name="作出决定").click()
    # not applied without a reason: the field says so
    assert "不执行须说明理由" in handler_page.locator("#fb-ZFCG-JZ-reason-error").inner_text()
    assert handler_page.locator("#fb-ZFCG-JZ-reason").get_attribute("aria-invalid") == "true"
    form = handler_page.locator("#decision-form")
    form.locator("#fb-ZFCG-JZ-reason").fill("经审核人批准：案件已执行完毕，失信信息待屏蔽。")
    form.get_by_role("button", name="作出决定").click()
    handler_page.wait_for_url(re.compile(r"#decision$"))
    result = handler_page.locator("#decision-result").inner_text()
    assert "准予" in result and "czj-reviewer" in result
    decided = Case.objects.get(pk=case.pk)
    assert decided.decision.override is not None
    assert {f.measure: f.applied for f in decided.decision.feedback}["ZFCG-JZ"] is False


def test_a_forged_post_without_the_csrf_token_is_rejected(live, pages):
    page = pages()
    live.sign_in(page, "czj-handler")
    case = Case.objects(department="410481-CZJ", state="decided").first()
    assert case is not None
    response = page.request.post(live.url(f"/cases/{case.pk}/archive"),
                                 form={"anything": "1"}, max_redirects=0)
    assert response.status == 400
    assert "CSRF" in response.text()
    assert Case.objects.get(pk=case.pk).state == "decided"
    # the bearer-token API is not asked for a CSRF token
    response = page.request.post(live.url("/api/v1/auth/token"),
                                 data={"username": "czj-handler",
                                       "password": city.password("czj-handler")})
    assert response.status == 201


def test_the_english_switch_translates_the_pages_and_is_remembered(live, pages):
    page = pages()
    page.goto(live.url("/login"))
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Sign in").is_visible()
    live.sign_in(page, "czj-handler")
    assert page.get_by_role("heading", name="Your department's cases").is_visible()
    assert page.get_by_role("link", name="Case desk").is_visible()
    live.shoot(page, "11-case-queue-english")
    page.get_by_role("link", name="中文").click()
    assert page.get_by_role("heading", name="本部门办件").is_visible()


def test_case_page_fits_a_phone_and_works_with_the_keyboard(live, pages):
    page = pages(width=375, height=812)
    live.sign_in(page, "czj-handler")
    case = Case.objects(department="410481-CZJ", state="checked", black_hits__gt=0).first() \
        or Case.objects(department="410481-CZJ", state="checked").first()
    assert case is not None
    page.goto(live.url(f"/cases/{case.pk}"))
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"horizontal scroll of {overflow}px"
    live.shoot(page, "12-case-page-phone")

    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.className")
    assert "skip-link" in focused
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")

    archived = Case.objects(department="410481-CZJ", state="archived").first()
    page.goto(live.url(f"/cases/{archived.pk}/evidence"))
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"evidence page scrolls sideways by {overflow}px"
    page.goto(live.url("/cases"))
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"queue scrolls sideways by {overflow}px"
    live.shoot(page, "13-case-queue-phone")
    assert unlabelled(page) == []

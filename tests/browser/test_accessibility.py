"""GB/T 37668-2019 (WCAG 2.1 level AA): axe-core finds no violation of the WCAG 2.1 A/AA rules on the pages
people use, also after a failed submit; the reader mode for older users (适老化) persists across pages."""

import datetime
import re
import uuid

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.roles import Role
from applications.editor import STEPS
from evaluation.models import Assignment
from reports.models import ReportingYear
from tests.browser.a11y import assert_accessible
from tests.factories import (
    annual_summary,
    application_in,
    application_in_expert_review,
    application_in_publicity,
    awarded_centre,
    complete_application,
    expert_with_profile,
    graded_assessment,
    panel_with_experts,
    sign_in,
    user_with_role,
)

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _own_cache_keys(settings):
    """Keys of this test's own in the shared Redis database (the objection rate limit counts per address)."""
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"cqmic-test-{uuid.uuid4().hex}"}
    }


def visit(page, url):
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_public_pages_and_the_objection_form(page, portal):
    staff = user_with_role(Role.COMMISSION_STAFF, full_name="张伟")
    _application, announcement = application_in_publicity(staff=staff, centre_name="重庆市无障碍创新中心")
    centre = awarded_centre(name="重庆市已授牌创新中心")

    visit(page, portal + "/")
    assert_accessible(page, "the home page")

    visit(page, portal + reverse("announcements:list"))
    assert_accessible(page, "/announcements/")

    visit(page, portal + reverse("announcements:detail", args=[announcement.pk]))
    expect(page.get_by_role("button", name="提交异议")).to_be_visible()
    assert_accessible(page, "an open announcement with its objection form")

    # A failed submit: the errors are summarised at the top with links to the fields (the radio buttons'
    # link to the first one), and each field names its error (aria-describedby).
    page.get_by_label("身份证号码").fill("500102199003071230")
    page.get_by_role("button", name="提交异议").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    assert_accessible(page, "the objection form after a failed submit")
    for link in summary.get_by_role("link").all():
        target = link.get_attribute("href")
        assert target and target.startswith("#") and len(target) > 1, target
        expect(page.locator(target)).to_have_count(1)
    expect(summary.get_by_role("link", name=re.compile("^异议人"))).to_have_attribute("href", "#id_kind_0")
    expect(page.get_by_role("group", name=re.compile("^异议人"))).to_have_attribute(
        "aria-describedby", "id_kind_error"
    )
    statement = page.get_by_label("异议内容和理由")
    expect(statement).to_have_attribute("aria-invalid", "true")
    described = statement.get_attribute("aria-describedby").split()
    assert any(page.locator(f"#{i}").inner_text().strip() for i in described)
    # The summary took the focus when the page loaded; its links move the focus to the field.
    expect(summary).to_be_focused()
    summary.get_by_role("link", name=re.compile("异议内容和理由")).click()
    expect(statement).to_be_focused()

    visit(page, portal + reverse("centres:directory"))
    assert_accessible(page, "/centres/")
    visit(page, portal + reverse("centres:detail", args=[centre.pk]))
    assert_accessible(page, "a centre page")

    visit(page, portal + reverse("accounts:login"))
    assert_accessible(page, "the sign-in page")
    page.get_by_label("用户名").fill("nobody")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("请输入一个正确的")
    assert_accessible(page, "the sign-in page after a failed sign-in")


def test_the_english_pages_name_their_language(page, portal):
    visit(page, portal + "/")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert_accessible(page, "the English home page")
    # The switch names each language in its own language.
    expect(page.get_by_role("button", name="简体中文")).to_have_attribute("lang", "zh-hans")
    visit(page, portal + reverse("accounts:login"))
    assert_accessible(page, "the English sign-in page")


def test_every_step_of_the_plan_editor_and_the_submit_page(page, portal):
    lead = user_with_role(Role.LEAD_UNIT, full_name="李明")
    application = complete_application(lead_user=lead, centre_name="重庆市编辑器创新中心")
    fresh = application_in("draft", lead_user=lead)  # also a second one in the list

    sign_in(page, portal, lead)
    expect(page.get_by_role("heading", level=1)).to_have_text("我的申报")
    assert_accessible(page, "the lead unit's home")
    visit(page, portal + reverse("applications:detail", args=[fresh.pk]))
    assert_accessible(page, "an application page of the lead unit")
    for step in STEPS:
        visit(page, portal + reverse("applications:edit", args=[application.pk, step.slug]))
        expect(page.get_by_role("heading", level=1)).to_have_text(str(step.title))
        assert_accessible(page, f"the plan editor's step {step.slug}")

    # A failed submit of the figures step.
    visit(page, portal + reverse("applications:edit", args=[application.pk, "figures"]))
    page.get_by_label("职工总数").fill("-5")
    page.get_by_label("资本投入（万元）").fill("12345678901234")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page, "the figures step after a failed submit")
    employees = page.get_by_label("职工总数")
    expect(employees).to_have_attribute("aria-invalid", "true")
    assert "id_figures-employees_error" in employees.get_attribute("aria-describedby").split()
    page.locator("#error-summary").get_by_role("link", name=re.compile("职工总数")).click()
    expect(employees).to_be_focused()

    # A failed submit of a step with rows (a formset): the summary names the row and links to the field.
    visit(page, portal + reverse("applications:edit", args=[application.pk, "outcomes"]))
    page.get_by_label("完成年度").first.fill("")
    page.get_by_label("指标").first.fill("")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page, "the outcomes step after a failed submit")
    page.locator("#error-summary").get_by_role("link", name=re.compile("^第 1 项 · 指标")).click()
    expect(page.get_by_label("指标").first).to_be_focused()

    visit(page, portal + reverse("applications:submit", args=[application.pk]))
    assert_accessible(page, "the submit page")
    page.get_by_role("button", name="提交建设方案").click()
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page, "the submit page after a failed submit")


def test_the_expert_declaration_and_score_sheet(page, portal):
    staff = user_with_role(Role.COMMISSION_STAFF)
    expert = expert_with_profile(full_name="王专家")
    application = application_in_expert_review(staff=staff, centre_name="重庆市评分创新中心")
    others = [expert_with_profile() for _ in range(4)]
    _panel, assignments = panel_with_experts(application, staff, experts=[expert, *others])
    assignment = assignments[0]

    sign_in(page, portal, expert)
    expect(page.get_by_role("heading", level=1)).to_have_text("我的评审任务")
    assert_accessible(page, "the expert's assignments")
    page.get_by_role("link", name="回避声明").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("回避声明")
    assert_accessible(page, "the declaration page")
    page.get_by_role("button", name="提交回避声明").click()
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page, "the declaration page after a failed submit")
    for label in Assignment.CONFLICT_QUESTIONS.values():
        page.get_by_role("group", name=re.compile(re.escape(str(label)))).get_by_label("否").check()
    page.get_by_label(re.compile("本人承诺以上声明真实")).check()
    page.get_by_role("button", name="提交回避声明").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("专家评分")
    assert_accessible(page, "the score sheet")

    page.get_by_label("建设基础与条件（满分20）").fill("99")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page, "the score sheet after a failed save")

    page.get_by_label("建设基础与条件（满分20）").fill("18")
    for label, points in (
        ("技术方向与目标（满分25）", "22"),
        ("运营模式与机制（满分20）", "17"),
        ("预期成果与效益（满分20）", "16"),
        ("牵头单位能力（满分15）", "12"),
    ):
        page.get_by_label(label).fill(points)
    page.get_by_label(re.compile("提交时确认")).check()
    page.get_by_role("button", name="提交评分").click()
    expect(page.get_by_text("已提交，已锁定")).to_be_visible()
    assert_accessible(page, "the submitted (locked) score sheet")
    assert Assignment.objects.get(pk=assignment.pk).state == Assignment.State.SUBMITTED


def test_the_staff_workbench_application_preliminary_review_and_dashboard(page, portal):
    staff = user_with_role(Role.COMMISSION_STAFF, full_name="张伟")
    application_in("preliminary", staff=staff, centre_name="重庆市初审创新中心")
    application_in("expert_review", staff=staff, centre_name="重庆市论证创新中心")
    application_in("returned", staff=staff, centre_name="重庆市退回创新中心")
    application_in("submitted", staff=staff, centre_name="重庆市已提交创新中心")
    centre = awarded_centre(name="重庆市看板创新中心")
    year = ReportingYear.objects.create(year=2025, due_date=datetime.date(2026, 3, 31), opened_by=staff)
    annual_summary(centre, year, state="accepted")
    graded_assessment(centre, 1, total=86, grade="good", confirmed_by=staff)

    sign_in(page, portal, staff)
    expect(page.get_by_role("heading", level=1)).to_have_text("评审工作台")
    assert_accessible(page, "the staff workbench")
    page.get_by_role("link", name="重庆市初审创新中心").click()
    expect(page.locator("#status")).to_have_text("材料初审")
    assert_accessible(page, "the staff application page")
    page.get_by_role("link", name="进入材料初审").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("材料初审")
    page.locator("details").first.locator("summary").click()
    assert_accessible(page, "the preliminary review page")
    page.get_by_role("button", name="初审通过，进入专家论证").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page, "the preliminary review after a refused pass")

    visit(page, portal + reverse("reports:dashboard"))
    expect(page.get_by_role("heading", level=1)).to_have_text("工作看板")
    assert_accessible(page, "the dashboard")
    # Each chart is an image named by its caption, and its text alternative is the table right below it,
    # captioned alike, with the numbers.
    for caption in ("各阶段申报数量", "考核评估等级分布", "各领域创新中心数量"):
        expect(page.get_by_role("img", name=caption)).to_be_visible()
    expect(page.get_by_role("table", name="各阶段申报数量")).to_contain_text("材料初审")
    expect(page.get_by_role("table", name="考核评估等级分布")).to_contain_text("良好")
    expect(page.get_by_role("table", name="各领域创新中心数量")).to_contain_text(centre.field.name)


READER = re.compile(r"\breader-mode\b")


def reader_switch(page):
    return page.locator("header").get_by_role("button", name="大字号/高对比")


def test_the_reader_mode_is_remembered_across_pages(page, portal):
    centre = awarded_centre(name="重庆市适老化创新中心")
    visit(page, portal + "/")
    switch = reader_switch(page)
    expect(switch).to_have_attribute("aria-pressed", "false")
    size_before = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    switch.press("Enter")  # a keyboard user turns it on
    expect(page.locator("html")).to_have_class(READER)
    expect(switch).to_have_attribute("aria-pressed", "true")
    size_after = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert size_after >= size_before * 1.25, (size_before, size_after)
    assert_accessible(page, "the home page in reader mode")

    # Another page, then another: still on, with the switch saying so.
    page.get_by_role("link", name="创新中心名录").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("制造业创新中心名录")
    expect(page.locator("html")).to_have_class(READER)
    assert_accessible(page, "/centres/ in reader mode")
    visit(page, portal + reverse("centres:detail", args=[centre.pk]))
    expect(page.locator("html")).to_have_class(READER)
    expect(reader_switch(page)).to_have_attribute("aria-pressed", "true")
    visit(page, portal + reverse("accounts:login"))
    page.get_by_label("用户名").fill("nobody")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator("html")).to_have_class(READER)
    assert_accessible(page, "the sign-in page after a failed sign-in, in reader mode")

    # The server renders the class itself from the cookie, so a page never flashes in small print first.
    assert 'class="reader-mode"' in page.request.get(portal + "/").text()
    # Should the cookie be lost, localStorage brings the choice (and the cookie) back.
    page.context.clear_cookies()
    visit(page, portal + "/")
    expect(page.locator("html")).to_have_class(READER)
    assert any(c["name"] == "portal_reader" and c["value"] == "1" for c in page.context.cookies())

    # Off again, and it stays off.
    reader_switch(page).click()
    expect(page.locator("html")).not_to_have_class(READER)
    visit(page, portal + reverse("centres:directory"))
    expect(page.locator("html")).not_to_have_class(READER)
    expect(reader_switch(page)).to_have_attribute("aria-pressed", "false")
    assert 'class="reader-mode"' not in page.request.get(portal + "/").text()


def test_the_other_pages_staff_and_lead_units_use(page, portal):
    """Beyond the pages the issue names: the rest of the staff's and the lead unit's everyday pages."""
    staff = user_with_role(Role.COMMISSION_STAFF, full_name="张伟")
    lead = user_with_role(Role.LEAD_UNIT, full_name="李明")
    in_review = application_in_expert_review(staff=staff, centre_name="重庆市专家组创新中心")
    panel_with_experts(in_review, staff)
    application_in_publicity(staff=staff, centre_name="重庆市公示中创新中心")
    centre = awarded_centre(lead_user=lead, name="重庆市年报创新中心")
    year = ReportingYear.objects.create(year=2025, due_date=datetime.date(2026, 3, 31), opened_by=staff)
    submitted = annual_summary(centre, year, state="submitted")
    earlier = ReportingYear.objects.create(year=2024, due_date=datetime.date(2025, 3, 31), opened_by=staff)
    draft = annual_summary(centre, earlier, state="draft")

    sign_in(page, portal, staff)
    expect(page.get_by_role("heading", level=1)).to_have_text("评审工作台")
    for name, url in (
        ("the expert panel page", reverse("evaluation:panel", args=[in_review.pk])),
        ("the announcements (公示管理)", reverse("evaluation:announcements")),
        ("the leadership meeting page", reverse("evaluation:leadership")),
        ("the staff's centres", reverse("reports:centres")),
        ("a centre's private page", reverse("reports:centre", args=[centre.pk])),
        ("the reporting years", reverse("reports:years")),
        ("a reporting year", reverse("reports:year", args=[2025])),
        ("the assessments", reverse("reports:assessments")),
        ("an annual summary to review", reverse("reports:summary_review", args=[submitted.pk])),
        ("the notifications", reverse("accounts:notifications")),
        ("the password change", reverse("accounts:password_change")),
    ):
        visit(page, portal + url)
        assert_accessible(page, name)
    page.get_by_role("button", name="退出").click()

    sign_in(page, portal, lead)
    expect(page.get_by_role("heading", level=1)).to_have_text("我的申报")
    for name, url in (
        ("the lead unit's centres", reverse("reports:my_centres")),
        ("the lead unit's summaries", reverse("reports:my_summaries")),
        ("the annual summary form", reverse("reports:summary_edit", args=[draft.pk])),
    ):
        visit(page, portal + url)
        assert_accessible(page, name)

"""Staff open a three-year assessment (考核评估) from the centre page, form the panel and assign five
experts; one expert scores in the browser; staff score the panel, see the grade, confirm it, and the
centre page shows it."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import Role
from centres.models import Centre, CentreEvent
from evaluation.models import Assignment
from reports.models import Assessment
from tests.factories import (
    TEST_PASSWORD,
    awarded_centre,
    declare_no_conflict,
    expert_with_profile,
    submit_sheet,
    user_with_role,
)

pytestmark = pytest.mark.browser

# The browser expert's sheet (criterion label → points): 22 + 17 + 15 + 8 + 7 + 6 = 75.
BROWSER_SHEET = {
    "建设目标完成（满分30）": "22",
    "共性技术与成果（满分22）": "17",
    "创新投入（满分20）": "15",
    "协同创新（满分10）": "8",
    "成果转化与市场化（满分10）": "7",
    "可持续发展（满分8）": "6",
}
# The other four experts' totals, submitted with the services.
OTHER_TOTALS = [70, 80, 85, 90]


def sign_in(page, portal, user):
    page.goto(portal + "/accounts/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()


def sign_out(page):
    page.get_by_role("button", name="退出").click()


def test_staff_run_an_assessment_from_the_centre_page_to_a_confirmed_grade(page, portal):
    staff = user_with_role(Role.COMMISSION_STAFF, full_name="张伟")
    lead = user_with_role(Role.LEAD_UNIT, full_name="李明")
    centre = awarded_centre(lead_user=lead, award_date=datetime.date(2023, 5, 20), name="重庆市丁创新中心")
    # Five experts of the pool, each employed by an organisation of their own (no conflict with the centre).
    browser_expert = expert_with_profile(full_name="王专家")
    others = [expert_with_profile(full_name=f"考核专家{n}") for n in range(1, 5)]

    # Staff open the next cycle from the centre page.
    sign_in(page, portal, staff)
    expect(page.get_by_role("heading", level=1)).to_have_text("评审工作台")
    page.goto(portal + reverse("reports:centre", args=[centre.pk]))
    expect(page.get_by_role("heading", level=1)).to_have_text("重庆市丁创新中心")
    expect(page.locator("main")).to_contain_text("尚未考核。")
    page.get_by_role("button", name="启动下一轮考核评估").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("重庆市丁创新中心 · 第1轮考核")
    assessment = Assessment.objects.get(centre=centre)
    assert (assessment.cycle, assessment.due_on) == (1, timezone.localdate())

    # The panel, with a deadline two weeks ahead.
    deadline = timezone.localtime() + datetime.timedelta(days=14)
    page.get_by_label("评分截止时间").fill(deadline.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="组建考核专家组").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("考核评估")
    expect(page.locator("main")).to_contain_text("尚未分配专家。")

    # Assign the five experts.
    for expert in [browser_expert, *others]:
        page.get_by_label(re.compile(f"^{expert.full_name} ·")).check()
    page.get_by_role("button", name="分配所选专家").click()
    expect(page.locator(".messages")).to_contain_text("已分配5位专家")
    # Nobody has scored yet: the panel cannot be scored, and the page says why.
    expect(page.locator(".alert-warning")).to_contain_text("以下专家尚未提交评分")
    expect(page.get_by_role("button", name="结束评分并汇总考核得分")).to_have_count(0)
    assessment = Assessment.objects.select_related("panel").get(pk=assessment.pk)
    assignments = {a.expert_id: a for a in assessment.panel.assignments.select_related("expert", "panel")}
    assert set(assignments) == {e.pk for e in [browser_expert, *others]}

    # Every expert declares no conflict (services); four submit their sheets with the services.
    for assignment in assignments.values():
        declare_no_conflict(assignment)
    for expert, total in zip(others, OTHER_TOTALS, strict=True):
        submit_sheet(
            Assignment.objects.select_related("panel", "expert").get(pk=assignments[expert.pk].pk),
            total=total,
        )
    sign_out(page)

    # The fifth expert scores in the browser on the assignment page.
    sign_in(page, portal, browser_expert)
    expect(page.get_by_role("heading", level=1)).to_have_text("我的评审任务")
    expect(page.locator("main")).to_contain_text("考核评估")
    page.get_by_role("link", name="评分", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("专家评分")
    for label, points in BROWSER_SHEET.items():
        page.get_by_label(label).fill(points)
    page.get_by_label("总体意见").fill("建设目标基本完成，成果转化仍需加强。")
    page.get_by_label(re.compile("提交时确认")).check()
    page.get_by_role("button", name="提交评分").click()
    expect(page.locator(".messages")).to_contain_text("评分已提交")
    sheet = Assignment.objects.select_related("sheet").get(pk=assignments[browser_expert.pk].pk).sheet
    assert sheet.total == Decimal(75)
    sign_out(page)

    # Staff: the aggregate, then score and see the grade.
    sign_in(page, portal, staff)
    page.goto(portal + reverse("reports:assessment", args=[assessment.pk]))
    # (70 + 75 + 80 + 85 + 90) / 5 = 400 / 5 = 80.00 (the policy in force takes the plain mean)
    expect(page.locator("#used-score")).to_have_text("80")  # a whole number without ".00"
    expect(page.locator("main")).to_contain_text("王专家：75")
    page.get_by_role("button", name="结束评分并汇总考核得分").click()
    expect(page.locator(".messages")).to_contain_text("已汇总考核评分")
    # 80.00 is exactly the 良好 edge (良好 ≥ 80).
    expect(page.locator("#grade")).to_have_text("良好")
    expect(page.locator("main")).to_contain_text("考核得分：80.00")
    assert Assessment.objects.get(pk=assessment.pk).confirmed_at is None

    page.get_by_role("button", name="确认考核结果").click()
    expect(page.locator(".messages")).to_contain_text("考核结果已确认")
    expect(page.get_by_role("button", name="确认考核结果")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("已确认")

    # The centre page shows the result and the history.
    page.get_by_role("link", name="重庆市丁创新中心", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("重庆市丁创新中心")
    expect(page.locator("main")).to_contain_text("重庆市丁创新中心 · 第1轮考核")
    expect(page.locator("main")).to_contain_text("良好（80.00）")
    expect(page.locator("main")).to_contain_text("第1轮考核评估良好（80.00分），继续给予支持")
    expect(page.locator("#centre-status")).to_have_text("正常")

    stored = Assessment.objects.get(pk=assessment.pk)
    assert (stored.total, stored.grade, stored.confirmed_by) == (
        Decimal("80.00"),
        Assessment.Grade.GOOD,
        staff,
    )
    centre.refresh_from_db()
    assert centre.status == Centre.Status.ACTIVE and centre.excluded_until is None
    assert CentreEvent.objects.filter(centre=centre, action="assessment").count() == 1

"""An expert declares no conflict, scores in two sittings and submits; staff see the aggregate and close
the panel, and the application moves on to 现场考核."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from applications.models import Application, Status
from evaluation.models import Assignment, Panel
from tests.factories import (
    TEST_PASSWORD,
    application_in_expert_review,
    expert_with_profile,
    panel_with_experts,
    submit_sheet,
    user_with_role,
)

pytestmark = pytest.mark.browser


def sign_in(page, portal, user):
    page.goto(portal + "/accounts/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()


def sign_out(page):
    page.get_by_role("button", name="退出").click()


def test_an_expert_scores_in_two_sittings_and_staff_close_the_panel(page, portal):
    staff = user_with_role(Role.COMMISSION_STAFF, full_name="张伟")
    expert = expert_with_profile(full_name="王专家")
    others = [expert_with_profile(full_name=f"其他专家{n}") for n in range(1, 5)]
    application = application_in_expert_review(staff=staff, centre_name="重庆市丙创新中心")
    panel, assignments = panel_with_experts(application, staff, experts=[expert, *others])
    # The four other experts already submitted: totals 80, 85, 90, 95.
    for assignment, total in zip(assignments[1:], [80, 85, 90, 95], strict=True):
        submit_sheet(assignment, total=total)
    mine = assignments[0]

    sign_in(page, portal, expert)
    expect(page.get_by_role("heading", level=1)).to_have_text("我的评审任务")
    expect(page.locator("main")).to_contain_text("重庆市丙创新中心")
    page.get_by_role("link", name="回避声明").click()

    # The declaration: every question answered 否, then the promise.
    expect(page.get_by_role("heading", level=1)).to_have_text("回避声明")
    for label in Assignment.CONFLICT_QUESTIONS.values():
        page.get_by_role("group", name=re.compile(re.escape(str(label)))).get_by_label("否").check()
    page.get_by_label(re.compile("本人承诺以上声明真实")).check()
    page.get_by_role("button", name="提交回避声明").click()
    expect(page.locator(".messages")).to_contain_text("回避声明已提交")
    expect(page.get_by_role("heading", level=1)).to_contain_text("专家评分")

    # First sitting: two criteria and a comment, saved as a draft.
    page.get_by_label("建设基础与条件（满分20）").fill("18")
    page.get_by_label("技术方向与目标（满分25）").fill("22")
    page.get_by_label("建设基础与条件评语").fill("中试线基础扎实。")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator(".messages")).to_contain_text("评分草稿已保存")

    # Leave, come back: the draft is there.
    page.get_by_role("link", name="我的评审任务").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("我的评审任务")
    expect(page.locator("main")).to_contain_text("评分中")
    page.get_by_role("link", name="评分", exact=True).click()
    expect(page.get_by_label("建设基础与条件（满分20）")).to_have_value("18.0")
    expect(page.get_by_label("技术方向与目标（满分25）")).to_have_value("22.0")
    expect(page.get_by_label("建设基础与条件评语")).to_have_value("中试线基础扎实。")
    expect(page.get_by_label("运营模式与机制（满分20）")).to_have_value("")

    # Second sitting: the rest, the confirmation, submit. 18 + 22 + 17 + 16 + 12 = 85.
    page.get_by_label("运营模式与机制（满分20）").fill("17")
    page.get_by_label("预期成果与效益（满分20）").fill("16")
    page.get_by_label("牵头单位能力（满分15）").fill("12")
    page.get_by_label("总体意见").fill("同意通过专家论证。")
    page.get_by_label(re.compile("提交时确认")).check()
    page.get_by_role("button", name="提交评分").click()
    expect(page.locator(".messages")).to_contain_text("评分已提交")
    expect(page.get_by_text("已提交，已锁定")).to_be_visible()
    expect(page.get_by_role("spinbutton")).to_have_count(0)
    expect(page.get_by_role("button", name="提交评分")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("85.0")
    stored = Assignment.objects.select_related("sheet").get(pk=mine.pk)
    assert stored.state == Assignment.State.SUBMITTED
    assert stored.sheet.total == Decimal(85)
    sign_out(page)

    # Staff: the panel page shows the aggregate; close the panel through the move page.
    sign_in(page, portal, staff)
    expect(page.get_by_role("heading", level=1)).to_have_text("评审工作台")
    page.get_by_role("link", name="重庆市丙创新中心").click()
    page.get_by_role("link", name="专家论证", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("专家论证")
    expect(page.locator("main")).to_contain_text("采用得分")
    # (85 + 80 + 85 + 90 + 95) / 5 = 435 / 5 = 87.00 (the policy in force takes the plain mean)
    expect(page.locator("#used-score")).to_have_text("87")  # a whole number without ".00"
    expect(page.locator("main")).to_contain_text("王专家：85")
    page.get_by_role("link", name="结束专家论证，进入现场考核").click()
    page.get_by_label(re.compile("我已核对")).check()
    page.get_by_role("button", name="结束专家论证").click()
    expect(page.locator("#status")).to_have_text("现场考核")
    assert Application.objects.get(pk=application.pk).status == Status.SITE_INSPECTION
    closed = Panel.objects.get(pk=panel.pk)
    assert closed.closed_at is not None
    assert closed.result["used"] == "87.00"

"""Staff pass one application's preliminary review and return another; the lead unit amends and resubmits."""

import re

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from applications import services
from applications.models import Application, Status
from evaluation.models import PreliminaryCheck
from tests.factories import TEST_PASSWORD, complete_application, user_with_role

pytestmark = pytest.mark.browser


def sign_in(page, portal, user):
    page.goto(portal + "/accounts/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()


def sign_out(page):
    page.get_by_role("button", name="退出").click()


def test_staff_pass_one_and_return_another_then_the_lead_unit_resubmits(page, portal):
    lead = user_with_role(Role.LEAD_UNIT, full_name="李明")
    staff = user_with_role(Role.COMMISSION_STAFF, full_name="张伟")
    good = complete_application(lead_user=lead, centre_name="重庆市甲创新中心")
    weak = complete_application(lead_user=lead, centre_name="重庆市乙创新中心")
    services.submit(good, lead)
    services.submit(weak, lead)

    sign_in(page, portal, staff)
    expect(page.get_by_role("heading", level=1)).to_have_text("评审工作台")

    # Pass the preliminary review of the first one.
    page.get_by_role("link", name="重庆市甲创新中心").click()
    page.get_by_role("link", name="受理并开始初审").click()
    page.get_by_label(re.compile("我已核对")).check()
    page.get_by_role("button", name="受理并开始初审").click()
    expect(page.locator("#status")).to_have_text("材料初审")
    page.get_by_role("link", name="进入材料初审").click()
    pass_form = page.locator("form", has=page.get_by_role("button", name="初审通过，进入专家论证"))
    # Tick all but one item: refused, with the reason, and the ticks are kept.
    boxes = pass_form.get_by_role("checkbox", name=re.compile("^(?!我已核对)"))
    for box in boxes.all()[:-1]:
        box.check()
    pass_form.get_by_label(re.compile("我已核对")).check()
    pass_form.get_by_role("button", name="初审通过，进入专家论证").click()
    expect(page.locator(".messages")).to_contain_text("初审核对表还有未核对的项目")
    assert Application.objects.get(pk=good.pk).status == Status.PRELIMINARY
    for box in page.get_by_role("checkbox", name=re.compile("^(?!我已核对)")).all():
        box.check()
    page.get_by_label(re.compile("我已核对")).check()
    page.get_by_role("button", name="初审通过").click()
    expect(page.locator("#status")).to_have_text("专家论证")
    assert len(PreliminaryCheck.objects.get(application=good).ticked) == len(PreliminaryCheck.Item.values)

    # Return the second one with a comment on the figures.
    page.get_by_role("link", name="评审工作台").first.click()
    page.get_by_role("link", name="重庆市乙创新中心").click()
    page.get_by_role("link", name="受理并开始初审").click()
    page.get_by_label(re.compile("我已核对")).check()
    page.get_by_role("button", name="受理并开始初审").click()
    page.get_by_role("link", name="进入材料初审").click()
    page.get_by_label("总体意见").fill("请补充审计报告中的研发经费明细。")
    page.get_by_label("“投入与人员”部分的修改意见").fill("研发经费支出与审计报告不一致，请核对。")
    page.get_by_label(re.compile("确认退回")).check()
    page.get_by_role("button", name="退回修改").click()
    expect(page.locator("#status")).to_have_text("退回修改")
    sign_out(page)

    # The lead unit sees the comments beside the right step, amends, resubmits.
    sign_in(page, portal, lead)
    page.get_by_role("link", name="重庆市乙创新中心").click()
    expect(page.locator("main")).to_contain_text("请补充审计报告中的研发经费明细。")
    page.get_by_role("link", name="修改", exact=True).first.click()
    page.get_by_role("link", name="投入与人员").click()
    expect(page.get_by_role("note")).to_contain_text("研发经费支出与审计报告不一致，请核对。")
    page.get_by_label("年度研发经费支出（万元）").fill("700")
    page.get_by_role("button", name="保存并继续").click()
    page.get_by_role("link", name="核对并提交").click()
    page.get_by_label(re.compile("我单位承诺")).check()
    page.get_by_role("button", name="提交建设方案").click()
    expect(page.locator("#status")).to_have_text("已提交")
    expect(page.locator("main")).to_contain_text("第2次提交")
    sign_out(page)

    # Staff see what changed between the two versions.
    sign_in(page, portal, staff)
    page.get_by_role("link", name="重庆市乙创新中心").click()
    page.get_by_role("link", name=re.compile("比较各版本差异")).click()
    expect(page.locator("main")).to_contain_text("年度研发经费支出")
    expect(page.locator("main")).to_contain_text("700.00")

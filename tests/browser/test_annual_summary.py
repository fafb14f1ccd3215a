"""A lead unit files its annual summary (年度工作总结) in the browser; staff accept it."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import Role
from reports import summaries
from reports.models import AnnualSummary
from tests.factories import PDF_BYTES, TEST_PASSWORD, awarded_centre, user_with_role

pytestmark = pytest.mark.browser

FIGURES = {
    "技术转让和成果转化收入": "120.5",
    "企业孵化收入": "30",
    "委托研发收入": "200",
    "检测检验收入": "45.5",
    "行业公共服务收入": "4",
    "总成本支出": "800",
    "研发经费支出": "200",
    "职工总数": "120",
    "研发人员数": "30",
    "引进人才": "6",
    "承担国家级项目": "2",
    "承担市级项目": "5",
    "发明专利申请": "18",
    "发明专利授权": "7",
    "主导制定标准": "1",
    "参与制定标准": "3",
    "转移转化技术": "4",
    "孵化企业": "2",
    "成员单位数": "23",
    "创新平台数": "4",
}


def sign_in(page, portal, user):
    page.goto(portal + "/accounts/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()


def sign_out(page):
    page.get_by_role("button", name="退出").click()


def test_lead_unit_files_its_annual_summary_and_staff_accept_it(page, portal, tmp_path):
    lead = user_with_role(Role.LEAD_UNIT, full_name="李明")
    staff = user_with_role(Role.COMMISSION_STAFF, full_name="张伟")
    centre = awarded_centre(
        lead_user=lead, name="重庆市轻量化材料创新中心", award_date=datetime.date(2023, 6, 1)
    )
    today = timezone.localdate()
    year = today.year - 1
    summaries.open_year(staff, year, today + datetime.timedelta(days=30))
    audit = tmp_path / "审计报告.pdf"
    audit.write_bytes(PDF_BYTES)

    # The lead unit opens its summary from its list, fills the figures and saves a draft.
    sign_in(page, portal, lead)
    page.goto(portal + reverse("reports:my_summaries"))
    expect(page.get_by_role("heading", level=1)).to_have_text("我的年度总结")
    expect(page.locator("main")).to_contain_text("重庆市轻量化材料创新中心")
    page.get_by_role("link", name=re.compile("^填写")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"填写{year}年度工作总结")
    for label, value in FIGURES.items():
        page.get_by_label(label).fill(value)
    page.get_by_label("上传附件").set_input_files(str(audit))
    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator(".messages")).to_contain_text("草稿已保存")
    expect(page.locator('[data-figure="revenue_total"]')).to_have_text("400.00 万元")
    expect(page.locator('[data-figure="rd_expense_ratio"]')).to_have_text("25.0%")
    expect(page.locator('[data-figure="rd_staff_ratio"]')).to_have_text("25.0%")
    expect(page.locator("#attachments")).to_contain_text("审计报告.pdf")
    expect(page.get_by_label("发明专利授权")).to_have_value("7")

    # Submitting without the narrative is refused, the draft is kept; with it, the summary goes to staff.
    page.get_by_label(re.compile("我单位承诺")).check()
    page.get_by_role("button", name="报送", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("以下内容尚未填写，暂不能报送")
    page.get_by_label("年度工作总结", exact=True).fill("建成中试线一条，完成共性技术攻关三项。")
    page.get_by_label("存在的问题").fill("高端人才仍然不足。")
    page.get_by_label("下一年度工作计划").fill("扩大成员单位，推进成果转化。")
    page.get_by_label(re.compile("我单位承诺")).check()
    page.get_by_role("button", name="报送", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("年度工作总结已报送")
    expect(page.locator("[data-state]")).to_have_text("已报送")
    sign_out(page)

    # Staff find it on the year's page and accept it.
    sign_in(page, portal, staff)
    page.goto(portal + reverse("reports:years"))
    page.get_by_role("link", name=f"{year}年度").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{year}年度工作总结报送情况")
    page.get_by_role("link", name=re.compile("^审核")).click()
    expect(page.locator("main")).to_contain_text("建成中试线一条")
    page.get_by_label("受理", exact=True).check()
    page.get_by_label(re.compile("我已审阅")).check()
    page.get_by_role("button", name="提交审核结论").click()
    expect(page.locator(".messages")).to_contain_text("已受理该年度总结")
    summary = AnnualSummary.objects.get(centre=centre)
    assert summary.state == AnnualSummary.State.ACCEPTED
    assert summary.reviewed_by_id == staff.pk
    sign_out(page)

    # The lead unit sees 已受理.
    sign_in(page, portal, lead)
    page.goto(portal + reverse("reports:my_summaries"))
    expect(page.locator(f'tr[data-summary="{summary.pk}"] [data-state]')).to_have_text("已受理")


def test_the_chosen_attachment_survives_a_failed_submit(page, portal, tmp_path):
    """25.1: two cross-field errors bring every value back and keep the chosen PDF; the corrected
    submission stores it without choosing it again."""
    lead = user_with_role(Role.LEAD_UNIT, full_name="李明")
    staff = user_with_role(Role.COMMISSION_STAFF, full_name="张伟")
    centre = awarded_centre(
        lead_user=lead, name="重庆市集成电路创新中心", award_date=datetime.date(2023, 6, 1)
    )
    today = timezone.localdate()
    summaries.open_year(staff, today.year - 1, today + datetime.timedelta(days=30))
    audit = tmp_path / "审计报告.pdf"
    audit.write_bytes(PDF_BYTES)

    sign_in(page, portal, lead)
    summary = AnnualSummary.objects.get(centre=centre)
    page.goto(portal + reverse("reports:summary_edit", args=[summary.pk]))
    for label, value in FIGURES.items():
        page.get_by_label(label).fill(value)
    page.get_by_label("研发人员数").fill("500")
    page.get_by_label("研发经费支出").fill("900")
    page.get_by_label("年度工作总结", exact=True).fill("建成中试线一条。")
    page.get_by_label("下一年度工作计划").fill("推进成果转化。")
    page.get_by_label("上传附件").set_input_files(str(audit))
    page.get_by_label(re.compile("我单位承诺")).check()
    page.get_by_role("button", name="报送", exact=True).click()

    expect(page.locator("#error-summary")).to_contain_text("研发人员数不能超过职工总数")
    expect(page.locator("#stashed-files")).to_contain_text("审计报告.pdf")
    expect(page.locator("#attachments")).not_to_contain_text("尚未上传附件")
    expect(page.get_by_label("发明专利授权")).to_have_value("7")

    page.get_by_label("研发人员数").fill("30")
    page.get_by_label("研发经费支出").fill("200")
    page.get_by_label(re.compile("我单位承诺")).check()
    page.get_by_role("button", name="报送", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("年度工作总结已报送")
    expect(page.locator("main")).to_contain_text("审计报告.pdf")
    assert summary.attachments.get().original_name == "审计报告.pdf"

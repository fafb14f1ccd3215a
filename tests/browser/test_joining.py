"""Issue 17, joining the programme, as people do it in the browser: an organisation registers, confirms the
e-mail from the link in the sent mail, writes a draft whose submission is refused until its district
verifies it, and then submits; an expert applies, is verified by staff and is assigned to a panel."""

import re
from datetime import timedelta

import pytest
from captcha.models import CaptchaStore
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import District, User
from accounts.roles import Role
from applications.demo import fill_complete
from applications.models import Application
from evaluation import panels
from tests.browser.a11y import assert_accessible
from tests.factories import (
    PDF_BYTES,
    TEST_PASSWORD,
    application_in_expert_review,
    make_credit_code,
    user_with_role,
)
from tests.factories import valid_id_number as id_number

pytestmark = pytest.mark.browser
PASSWORD = "Liangjiang-2026-ok"


def solve_captcha(page):
    key = page.locator("input[name=captcha_0]").input_value()
    page.locator("input[name=captcha_1]").fill(CaptchaStore.objects.get(hashkey=key).response)


def sign_in(page, portal, username, password):
    page.goto(portal + "/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def sign_out(page):
    page.get_by_role("button", name="退出").click()


def test_register_confirm_draft_refused_verified_then_submitted(page, portal, tmp_path):
    district = District.objects.get(code="500112")
    district_staff = user_with_role(Role.DISTRICT_STAFF, district=district)
    licence = tmp_path / "营业执照.pdf"
    licence.write_bytes(PDF_BYTES)

    page.goto(portal + "/")
    page.get_by_role("link", name="单位注册").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("单位注册")
    page.get_by_label("单位名称").fill("重庆浏览器注册测试有限公司")
    page.get_by_label("统一社会信用代码").fill(make_credit_code(77_000_001))
    page.get_by_label("所在区县").select_option(str(district.pk))
    page.get_by_label("地址").fill("重庆市渝北区浏览器路1号")
    page.get_by_label("法定代表人").fill("周法人")
    page.get_by_label("营业执照").set_input_files(str(licence))
    page.locator("#id_contact_name").fill("吴联系")
    page.get_by_label("联系人手机").fill("13800138111")
    page.get_by_label("联系邮箱").fill("browser-reg@example.cn")
    page.get_by_label("用户名").fill("browser_reg")
    page.get_by_label("您的姓名").fill("吴联系")
    page.get_by_label("您的手机号码").fill("13800138111")
    page.locator("#id_password1").fill(PASSWORD)
    page.get_by_label("再次输入密码").fill(PASSWORD)
    solve_captcha(page)
    assert_accessible(page, "registration form")
    page.get_by_role("button", name="提交注册").click()
    expect(page.locator("main")).to_contain_text("确认邮件已发送到 browser-reg@example.cn")

    # The link from the mail that was sent.
    link = re.search(r"https?://\S+/accounts/register/confirm/\S+/", mail.outbox[-1].body).group(0)
    page.goto(portal + re.sub(r"^https?://[^/]+", "", link))
    page.get_by_role("button", name="确认邮箱").click()
    expect(page.locator("main")).to_contain_text("邮箱已确认")

    sign_in(page, portal, "browser_reg", PASSWORD)
    expect(page).to_have_url(re.compile(r"/applications/lead/$"))
    expect(page.locator("main")).to_contain_text("待审核")
    page.get_by_role("button", name="新建建设方案").click()
    expect(page).to_have_url(re.compile(r"/applications/\d+/edit/"))
    person = User.objects.get(username="browser_reg")
    draft = Application.objects.get(lead_unit=person.organisation)
    fill_complete(draft, person)  # the eight steps are the plan editor's own browser test
    Application.objects.filter(pk=draft.pk).update(centre_name="重庆市浏览器测试制造业创新中心")
    page.goto(f"{portal}/applications/{draft.pk}/submit/")
    page.get_by_label(re.compile("我单位承诺")).check()
    page.get_by_role("button", name="提交建设方案").click()
    expect(page.locator("main")).to_contain_text("审核通过后才能提交申报")
    assert Application.objects.get(pk=draft.pk).status == "draft"
    sign_out(page)

    sign_in(page, portal, district_staff.username, TEST_PASSWORD)
    page.get_by_role("link", name="单位注册审核").click()
    page.get_by_role("link", name="重庆浏览器注册测试有限公司").click()
    expect(page.get_by_role("link", name="营业执照.pdf")).to_be_visible()
    assert_accessible(page, "verification page")
    page.get_by_role("button", name="审核通过").click()
    expect(page.locator("main")).to_contain_text("没有待审核的单位")
    sign_out(page)

    sign_in(page, portal, "browser_reg", PASSWORD)
    page.goto(f"{portal}/applications/{draft.pk}/submit/")
    page.get_by_label(re.compile("我单位承诺")).check()
    page.get_by_role("button", name="提交建设方案").click()
    expect(page.locator("main")).to_contain_text("已提交")
    assert Application.objects.get(pk=draft.pk).status == "submitted"


def test_expert_applies_is_verified_and_assigned_to_a_panel(page, portal, tmp_path):
    staff = user_with_role(Role.COMMISSION_STAFF)
    application = application_in_expert_review(staff=staff)
    panels.create_panel(application, staff, deadline=timezone.now() + timedelta(days=7))
    cv = tmp_path / "简历.pdf"
    cv.write_bytes(PDF_BYTES)

    page.goto(portal + "/accounts/login/")
    page.get_by_role("link", name="申请加入专家库").click()
    page.locator("#id_full_name").fill("蒋浏览")
    page.get_by_label("身份证号码").fill(id_number("50010219750505123"))
    page.get_by_label("希望使用的用户名").fill("browser_expert")
    page.get_by_label("工作单位统一社会信用代码").fill(make_credit_code(77_000_002))
    page.locator("#id_employer_name").fill("重庆浏览器研究院")
    page.get_by_label("职称/职务").fill("研究员")
    page.get_by_label("智能装备").check()
    page.get_by_label("手机号码").fill("13700137111")
    page.get_by_label("电子邮箱").fill("browser-expert@example.cn")
    page.get_by_label("个人简历").set_input_files(str(cv))
    page.get_by_label("职称证书").set_input_files(str(cv))
    page.get_by_label(re.compile("本人承诺")).check()
    solve_captcha(page)
    assert_accessible(page, "expert pool application")
    page.get_by_role("button", name="提交入库申请").click()
    expect(page.locator("main")).to_contain_text("入库申请已提交")

    sign_in(page, portal, staff.username, TEST_PASSWORD)
    page.get_by_role("link", name="专家库").click()
    page.get_by_role("link", name="蒋浏览").click()
    page.get_by_role("button", name="审核通过，入库").click()
    expect(page.locator("main")).to_contain_text("蒋浏览已入库")
    assert "/accounts/activate/" in mail.outbox[-1].body

    expert = User.objects.get(username="browser_expert")
    page.goto(f"{portal}/review/applications/{application.pk}/panel/")
    page.get_by_label(re.compile("蒋浏览")).check()
    page.get_by_role("button", name="分配所选专家").click()
    expect(page.locator("main")).to_contain_text("蒋浏览")
    assert application.panels.get().assignments.filter(expert=expert).exists()

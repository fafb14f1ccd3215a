"""Date fields show what was saved: each is read back in the browser after saving, and saving again keeps
the stored date (a value the browser cannot read, such as 2026/12/04, shows as an empty field, and the
next save would send it empty)."""

import re
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import Role
from evaluation.models import Approval, SiteInspection
from tests.factories import (
    TEST_PASSWORD,
    application_approved,
    application_in,
    user_with_role,
)

pytestmark = pytest.mark.browser


def sign_in(page, portal, user):
    page.goto(portal + "/accounts/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_each_date_field_shows_the_saved_date_and_saving_again_keeps_it(page, portal):
    staff = user_with_role(Role.COMMISSION_STAFF, full_name="张伟")
    inspected = application_in("site_inspection", staff=staff)
    proposed = application_in("leadership", staff=staff)
    approved = application_approved(staff=staff)
    sign_in(page, portal, staff)

    # 考核日期: arranged with the inspection, shown on the record form, kept by saving the record again.
    page.goto(portal + reverse("evaluation:inspection", args=[inspected.pk]))
    page.get_by_label("考核组长").select_option(str(staff.pk))
    page.get_by_label("考核日期").fill("2026-12-01")
    page.get_by_role("button", name="安排现场考核").click()
    expect(page.locator(".messages")).to_contain_text("已安排现场考核")
    expect(page.get_by_label("考核日期")).to_have_value("2026-12-01")
    page.get_by_label("考核组成员").fill("张伟（组长）、李专家")
    page.get_by_role("button", name="保存考核记录").click()
    expect(page.locator(".messages")).to_contain_text("现场考核记录已保存")
    expect(page.get_by_label("考核日期")).to_have_value("2026-12-01")
    assert SiteInspection.objects.get(application=inspected).visit_date == date(2026, 12, 1)

    # 会议日期: today is filled in; a form refused for a missing file keeps the date that was typed.
    page.goto(portal + reverse("evaluation:leadership"))
    expect(page.get_by_label("会议日期")).to_have_value(timezone.localdate().isoformat())
    page.get_by_label("会议日期").fill("2026-12-02")
    page.locator(f"select[name=decision_{proposed.pk}]").select_option("approve")
    page.get_by_label(re.compile("确认按上表记录审定结果")).check()
    page.get_by_role("button", name="记录审定结果").click()
    expect(page.locator(".invalid-feedback, .alert-danger").first).to_be_visible()
    expect(page.get_by_label("会议日期")).to_have_value("2026-12-02")

    # 批复日期: recorded, shown on the correction form, kept when only the number is corrected.
    page.goto(portal + reverse("evaluation:approval", args=[approved.pk]))
    page.get_by_label("批复文号").fill("渝经信发〔2026〕90号")
    page.get_by_label("批复日期").fill("2026-11-20")
    page.get_by_role("button", name="登记批复").click()
    expect(page.locator(".messages")).to_contain_text("批复已登记")
    expect(page.get_by_label("批复日期")).to_have_value("2026-11-20")
    page.get_by_label("批复文号").fill("渝经信发〔2026〕91号")
    page.get_by_role("button", name="更正批复").click()
    expect(page.locator(".messages")).to_contain_text("批复已登记")
    expect(page.get_by_label("批复日期")).to_have_value("2026-11-20")
    stored = Approval.objects.get(application=approved)
    assert (stored.document_number, stored.document_date) == ("渝经信发〔2026〕91号", date(2026, 11, 20))

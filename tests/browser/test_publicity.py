"""A visitor objects during 公示; staff dismiss the objection; the period ends and the beat's sweep approves;
staff record the approval and award the plaque; the visitor finds the centre in the public directory."""

import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import Role
from accounts.security import mask_id_number
from applications.models import Application, Status
from centres.models import Centre
from evaluation import publicity
from evaluation.models import Announcement, Objection
from tests.factories import (
    PDF_BYTES,
    TEST_PASSWORD,
    application_in_publicity,
    user_with_role,
    valid_id_number,
)

pytestmark = pytest.mark.browser

CENTRE = "重庆市浏览器测试创新中心"


@pytest.fixture(autouse=True)
def _own_cache_keys(settings):
    """The tests' Redis database is shared with other people's runs on this machine: keys of this test's
    own keep their objections out of the live server's rate limit (5 per hour from 127.0.0.1)."""
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"cqmic-test-{uuid.uuid4().hex}"}
    }


def sign_in(page, portal, user):
    page.goto(portal + "/accounts/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_an_objection_is_dismissed_the_period_ends_and_the_centre_is_awarded(browser, page, portal):
    staff = user_with_role(Role.COMMISSION_STAFF, full_name="张伟")
    application, announcement = application_in_publicity(staff=staff, centre_name=CENTRE)
    Announcement.objects.filter(pk=announcement.pk).update(starts_at=timezone.now() - timedelta(hours=1))
    id_number = valid_id_number("50010319850612403")

    visitor_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    visitor_context.set_default_timeout(15_000)
    visitor = visitor_context.new_page()
    try:
        # The visitor finds the open announcement and objects as a person, under their real name.
        visitor.goto(portal + "/")
        visitor.get_by_role("link", name="公示公告").first.click()
        current = visitor.locator("section", has=visitor.get_by_role("heading", name="正在公示"))
        current.get_by_role("link", name=announcement.title).click()
        expect(visitor.get_by_role("heading", level=1)).to_have_text(announcement.title)
        expect(visitor.locator("main")).to_contain_text(CENTRE)
        visitor.get_by_label("对哪一项提出异议").select_option(label=f"{CENTRE}（{application.lead_unit}）")
        visitor.get_by_label("个人", exact=True).check()
        visitor.get_by_label("姓名或单位名称").fill("王异议")
        visitor.get_by_label("身份证号码").fill(id_number)
        visitor.get_by_label("联系电话").fill("13800001234")
        # The evidence a person must give (DOMAIN.md), chosen in the file picker.
        visitor.get_by_label(re.compile("证据材料")).set_input_files(
            {"name": "证据.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}
        )
        visitor.get_by_label("异议内容和理由").fill("该中心申报的研发人员数量与实际不符。")
        visitor.get_by_role("button", name="提交异议").click()
        expect(visitor.locator("#reference")).to_have_text(re.compile(r"^YY\d{8}-[0-9A-F]{6}$"))
        reference = visitor.locator("#reference").inner_text()
        [objection] = Objection.objects.all()
        assert (objection.reference, objection.name, objection.id_number) == (reference, "王异议", id_number)

        # Staff find it under 公示管理 and dismiss it with a resolution.
        sign_in(page, portal, staff)
        page.get_by_role("navigation", name="主导航").get_by_role("link", name="公示管理").click()
        row = page.get_by_role("row", name=re.compile(re.escape(announcement.title)))
        expect(row).to_contain_text("1件待处理")
        row.get_by_role("link", name="1", exact=True).click()
        # Personal data: the password is asked for again first.
        expect(page.get_by_role("heading", level=1)).to_have_text("确认身份")
        page.get_by_label("请再次输入登录密码").fill(TEST_PASSWORD)
        page.get_by_role("button", name="确认").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("异议处理")
        card = page.locator("section", has_text=reference)
        expect(card).to_contain_text("王异议")
        expect(card).to_contain_text(mask_id_number(id_number))
        card.get_by_label("不成立").check()
        card.get_by_label("处理意见").fill("经核查，研发人员数量与社保记录一致，异议不成立。")
        card.get_by_role("button", name="提交处理结果").click()
        expect(page.locator("main")).to_contain_text(f"异议{reference}已处理")
        assert Objection.objects.get(pk=objection.pk).state == Objection.State.DISMISSED

        # The five working days pass; the sweep (beat's job) approves the application.
        now = timezone.now()
        Announcement.objects.filter(pk=announcement.pk).update(
            starts_at=now - timedelta(days=10), ends_at=now - timedelta(minutes=1)
        )
        assert publicity.close_expired() == {"closed": 1, "approved": 1, "waiting": 0}

        # Staff open the application and record the approval, then award the plaque.
        page.get_by_role("link", name="评审工作台").first.click()
        page.get_by_role("link", name=CENTRE).click()
        expect(page.locator("#status")).to_have_text("批复")
        page.get_by_role("link", name="批复与授牌").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("批复与授牌")
        page.get_by_label("批复文号").fill("渝经信发〔2026〕88号")
        page.get_by_label("批复日期").fill("2026-11-20")
        page.get_by_role("button", name="登记批复").click()
        expect(page.locator(".messages")).to_contain_text("批复已登记")
        page.get_by_label("牌匾编号").fill("CQZZCX-2026-088")
        page.get_by_label("授牌日期").fill("2026-11-26")
        page.get_by_label(re.compile("确认授牌")).check()
        page.get_by_role("button", name="授牌", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(CENTRE)
        expect(page.locator("main")).to_contain_text("CQZZCX-2026-088")
        centre = Centre.objects.get(application=application)
        assert (centre.kind, centre.approval_number) == (Centre.Kind.RECOGNISED, "渝经信发〔2026〕88号")
        assert Application.objects.get(pk=application.pk).status == Status.AWARDED

        # The visitor finds the centre in the public directory.
        visitor.goto(portal + "/")
        visitor.get_by_role("link", name="创新中心名录").first.click()
        listed = visitor.get_by_role("row", name=re.compile(CENTRE))
        expect(listed).to_contain_text("CQZZCX-2026-088")
        expect(listed).to_contain_text("市级制造业创新中心")
        listed.get_by_role("link", name=CENTRE).click()
        expect(visitor.locator("main")).to_contain_text("渝经信发〔2026〕88号")
    finally:
        visitor_context.close()

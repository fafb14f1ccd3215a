import re

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from tests.factories import TEST_PASSWORD, user_with_role

pytestmark = pytest.mark.browser


def test_lead_unit_signs_in_through_the_real_page(page, portal):
    user = user_with_role(Role.LEAD_UNIT, full_name="李明")
    page.goto(portal + "/")
    page.get_by_role("link", name="登录", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))

    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("请输入一个正确的")
    expect(page.get_by_label("用户名")).to_have_value(user.username)

    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/applications/lead/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("我的申报")
    expect(page.locator("main")).to_contain_text(user.organisation.name)

    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("link", name="登录", exact=True).first).to_be_visible()


def test_the_language_switch_turns_the_page_english_and_back(page, portal):
    page.goto(portal + "/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("link", name="Sign in", exact=True).first).to_be_visible()
    page.get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")


def test_after_failures_the_sign_in_asks_for_the_picture_first(page, portal, settings):
    """Issue 16 (lockout abuse): the graphic CAPTCHA a person meets after failures on the account, read and
    typed in the real page (axe-checked), then the right password signs in."""
    from captcha.models import CaptchaStore

    from tests.browser.a11y import assert_accessible

    user = user_with_role(Role.LEAD_UNIT)
    page.goto(portal + "/accounts/login/")
    for _n in range(settings.LOGIN_CAPTCHA_AFTER_FAILURES):
        page.get_by_label("用户名").fill(user.username)
        page.get_by_label("密码").fill("not-the-password")
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("alert")).to_contain_text("请输入一个正确的")
    picture = page.get_by_role("img", name="图形验证码图片")
    expect(picture).to_be_visible()
    # The picture was drawn (waiting for it to load: visible comes before loaded).
    assert (
        picture.evaluate(
            "img => img.complete ? img.naturalWidth"
            " : new Promise(done => img.onload = () => done(img.naturalWidth))"
        )
        > 0
    )
    assert_accessible(page, "sign-in asking for the CAPTCHA")
    key = page.locator("input[name=captcha_0]").input_value()
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.locator("input[name=captcha_1]").fill(CaptchaStore.objects.get(hashkey=key).response)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/applications/lead/$"))

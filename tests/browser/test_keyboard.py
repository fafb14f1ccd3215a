"""Keyboard only (WCAG 2.1.1, 2.4.3, 2.4.7): the public objection form and an expert's declaration and score
sheet are filled and submitted with Tab, Shift+Tab, Enter, Space, the arrow keys and typing, never a click;
the focused element shows a focus outline at every step."""

import re
import uuid
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from evaluation.models import Assignment, Objection
from tests.factories import (
    PDF_BYTES,
    TEST_PASSWORD,
    application_in_expert_review,
    application_in_publicity,
    expert_with_profile,
    panel_with_experts,
    user_with_role,
    valid_id_number,
)

pytestmark = pytest.mark.browser

FOCUSED = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return {
        tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute('name') || '',
        text: (el.innerText || el.value || '').trim().slice(0, 40),
        outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth),
        width: box.width, height: box.height,
        inView: box.bottom > 0 && box.top < window.innerHeight,
    };
}"""

IN_VIEW = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return false;
    const box = el.getBoundingClientRect();
    return box.bottom > 0 && box.top < window.innerHeight;
}"""


@pytest.fixture(autouse=True)
def _own_cache_keys(settings):
    """Keys of this test's own in the shared Redis database (the objection rate limit counts per address)."""
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"cqmic-test-{uuid.uuid4().hex}"}
    }


def assert_focus_visible(page):
    """The focused element is on screen and drawn with a focus outline (portal.css: 3px, two colours)."""
    # The browser scrolls the focused element into view, smoothly (Bootstrap's scroll-behavior): wait for it.
    page.wait_for_function(IN_VIEW, timeout=5_000)
    focused = page.evaluate(FOCUSED)
    assert focused is not None, "nothing has the focus"
    assert focused["width"] > 0 and focused["height"] > 0 and focused["inView"], focused
    if focused["tag"] == "main":  # the skip link's target: focused to move on from, not to act on
        return focused
    assert focused["outlineStyle"] != "none" and focused["outlineWidth"] >= 2, focused
    return focused


def press(page, key):
    page.keyboard.press(key)
    return assert_focus_visible(page)


def tab_to(page, locator, backwards=False, limit=80):
    """Tab (or Shift+Tab) until ``locator`` has the focus, checking the focus is visible on each stop."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        press(page, key)
        if locator.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{locator} not reached with {limit} presses of {key}")


def type_into(page, locator, text):
    tab_to(page, locator)
    page.keyboard.type(text)


def test_the_objection_form_by_keyboard_alone(page, portal):
    staff = user_with_role(Role.COMMISSION_STAFF)
    application, announcement = application_in_publicity(staff=staff, centre_name="重庆市键盘测试创新中心")
    id_number = valid_id_number("50010319850612403")

    page.goto(portal + f"/announcements/{announcement.pk}/")
    # The first Tab reaches the skip link, shown when focused; Enter moves on to the main content.
    skip = page.get_by_role("link", name="跳到主要内容")
    tab_to(page, skip, limit=1)
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    # Which entry: the arrow key picks the first (and only) one.
    entry = page.get_by_label("对哪一项提出异议")
    tab_to(page, entry)
    page.keyboard.press("ArrowDown")
    expect(entry).to_have_value(str(announcement.entries.get().pk))
    # 个人 is the first radio button of its group: Tab lands on it, Space checks it.
    person = page.get_by_label("个人", exact=True)
    tab_to(page, person)
    press(page, "Space")
    expect(person).to_be_checked()
    type_into(page, page.get_by_label("姓名或单位名称"), "王异议")
    type_into(page, page.get_by_label("身份证号码"), id_number)
    type_into(page, page.get_by_label("联系电话"), "13800001234")
    # The evidence a person must give (DOMAIN.md), chosen in the file picker.
    page.get_by_label(re.compile("证据材料")).set_input_files(
        {"name": "证据.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}
    )
    # Submit without the statement: refused, the summary takes the focus and links to the field.
    submit = page.get_by_role("button", name="提交异议")
    tab_to(page, submit)
    page.keyboard.press("Enter")
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    assert_focus_visible(page)
    link = summary.get_by_role("link", name=re.compile("异议内容和理由"))
    tab_to(page, link)
    page.keyboard.press("Enter")
    statement = page.get_by_label("异议内容和理由")
    expect(statement).to_be_focused()
    assert_focus_visible(page)
    page.keyboard.type("该中心申报的研发人员数量与实际不符。")
    # What was typed before the failed submit is still there.
    expect(page.get_by_label("姓名或单位名称")).to_have_value("王异议")
    expect(person).to_be_checked()
    tab_to(page, submit)
    page.keyboard.press("Enter")

    expect(page.locator("#reference")).to_have_text(re.compile(r"^YY\d{8}-[0-9A-F]{6}$"))
    [objection] = Objection.objects.all()
    assert (objection.name, objection.id_number, objection.phone) == ("王异议", id_number, "13800001234")
    assert objection.entry.application_id == application.pk


def test_an_expert_declares_and_saves_a_draft_score_sheet_by_keyboard_alone(page, portal):
    staff = user_with_role(Role.COMMISSION_STAFF)
    expert = expert_with_profile(full_name="王专家")
    others = [expert_with_profile() for _ in range(4)]
    application = application_in_expert_review(staff=staff, centre_name="重庆市键盘评分创新中心")
    _panel, assignments = panel_with_experts(application, staff, experts=[expert, *others])
    mine = assignments[0]

    # Sign in: the user name field has the focus when the page opens.
    page.goto(portal + "/accounts/login/")
    expect(page.get_by_label("用户名")).to_be_focused()
    page.keyboard.type(expert.username)
    type_into(page, page.get_by_label("密码"), TEST_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("我的评审任务")

    tab_to(page, page.get_by_role("link", name="回避声明"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("回避声明")

    # Each question is a group of radio buttons (否 first): Tab into the group, Space answers 否.
    for label in Assignment.CONFLICT_QUESTIONS.values():
        group = page.get_by_role("group", name=re.compile(re.escape(str(label))))
        no = group.get_by_label("否")
        tab_to(page, no)
        press(page, "Space")
        expect(no).to_be_checked()
    promise = page.get_by_label(re.compile("本人承诺以上声明真实"))
    tab_to(page, promise)
    press(page, "Space")
    expect(promise).to_be_checked()
    tab_to(page, page.get_by_role("button", name="提交回避声明"))
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text("回避声明已提交")
    expect(page.get_by_role("heading", level=1)).to_contain_text("专家评分")

    # Scores and a comment; a mistyped score is corrected by going back with Shift+Tab.
    first = page.get_by_label("建设基础与条件（满分20）")
    type_into(page, first, "81")
    type_into(page, page.get_by_label("建设基础与条件评语"), "中试线基础扎实。")
    tab_to(page, first, backwards=True)
    page.keyboard.press("Control+A")
    page.keyboard.type("18")
    type_into(page, page.get_by_label("技术方向与目标（满分25）"), "22")
    type_into(page, page.get_by_label("总体意见"), "基础扎实，方向明确。")
    # 保存草稿 comes before 提交评分; Space presses a button as well as Enter does.
    tab_to(page, page.get_by_role("button", name="保存草稿"))
    page.keyboard.press("Space")
    expect(page.locator(".messages")).to_contain_text("评分草稿已保存")

    expect(page.get_by_label("建设基础与条件（满分20）")).to_have_value("18.0")
    expect(page.get_by_label("技术方向与目标（满分25）")).to_have_value("22.0")
    stored = Assignment.objects.select_related("sheet").get(pk=mine.pk)
    assert stored.state == Assignment.State.DECLARED
    points = {s.criterion.name: s.points for s in stored.sheet.scores.select_related("criterion")}
    assert points["建设基础与条件"] == Decimal("18.0")
    assert points["技术方向与目标"] == Decimal("22.0")
    assert stored.sheet.opinion == "基础扎实，方向明确。"
    assert stored.sheet.submitted_at is None

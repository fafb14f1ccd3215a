"""Every page of every role, as the demo shows them: crawled from each role's home (tests/browser/crawl.py),
in Chinese and English, at 1366 px and 375 px and in reader mode, with zero axe-core violations and no page
wider than a phone's screen.

With ``PORTAL_SCREENSHOTS=1`` the crawl also writes each role's home page, desktop and phone, to
docs/screenshots/ (the README shows them); without it nothing in the checkout changes.
"""

import io
import os
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.browser import crawl

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "docs" / "screenshots"
DEMO_PASSWORD = "Demo#2026cq"
ROLES = [
    # (name of the screenshot, demo account or None for the public)
    ("public", None),
    ("lead-unit", "lead_demo"),
    ("district", "district_demo"),
    ("commission-staff", "staff_demo"),
    ("expert", "expert_demo"),
    ("system-admin", "sysadmin_demo"),
    ("security-admin", "secadmin_demo"),
    ("audit-admin", "auditadmin_demo"),
]


def signer(base, username):
    def sign_in(page):
        page.goto(base + "/accounts/login/")
        page.locator("input[name=username]").fill(username)
        page.locator("input[name=password]").fill(DEMO_PASSWORD)
        page.locator("form button[type=submit]").last.click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)

    return sign_in if username else None


def screenshot(browser, base, name, path, sign_in):
    for width, height in ((1366, 900), (375, 812)):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        page = context.new_page()
        if sign_in:
            sign_in(page)
        page.goto(base + path)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{'desktop' if width > 400 else 'phone'}.png"))
        context.close()


def test_every_page_of_every_role_in_both_languages_at_both_widths_and_in_reader_mode(browser, portal):
    call_command("seed_demo", stdout=io.StringIO())
    started = time.monotonic()
    seen, problems, visited = set(), [], {}
    shots = os.environ.get("PORTAL_SCREENSHOTS") == "1"
    for name, username in ROLES:
        sign_in = signer(portal, username)
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        context.add_cookies([{"name": "portal_language", "value": crawl.COMBINATIONS[0][0], "url": portal}])
        page = context.new_page()
        if sign_in:
            sign_in(page)
        home = page.url.removeprefix(portal) if sign_in else "/"
        found = []
        paths = crawl.discover(page, portal, home, seen, problems_found=found)
        context.close()
        assert paths, f"{name}: nothing reached from {home}"
        visited[name] = paths
        more, _seconds = crawl.check(browser, portal, paths, sign_in, skip_first=True)
        problems.extend(f"{name}: {p}" for p in found + more)
        if shots:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            screenshot(browser, portal, name, paths[0], sign_in)
    took = time.monotonic() - started
    pages = sum(len(p) for p in visited.values())
    print(f"crawl: {pages} pages x {len(crawl.COMBINATIONS)} combinations in {took:.0f} s: {visited}")
    assert pages >= 40, visited  # the crawl reaches the portal, not only the home pages
    assert not problems, "\n".join(problems)

"""The accessibility crawl: from a role's home, every page of the portal that role reaches by links.

``discover`` walks the links (same host, GET, no downloads, no query strings but the page's own, no sign-out
or language switch), one page per *kind* of address (numbers stand for any number, so the twentieth
application's page is not visited after the first one's). ``check`` opens each page in one browser context
per combination of language, width and reader mode and returns what is wrong with it: axe-core's
violations, and at phone width a page wider than the screen.
"""

import re
import time
from urllib.parse import urldefrag, urlsplit

from tests.browser.a11y import axe_violations, format_violations

SKIP = re.compile(
    r"/accounts/logout|/i18n/|/attachments/|/files/|/download|/print/|\.pdf$|\.xlsx$|/pdf/|/export/\d+/file"
    # downloads, machine-readable data, and Swagger UI's page (third-party markup: see the closing note)
    r"|/static/|/media/|/healthz|/admin/|\.csv$|\.json$|/api/schema/|/api/docs/"
)
COMBINATIONS = [
    # (language, width, reader mode, axe rules: None for all of a11y.py's)
    ("zh-hans", 1366, False, None),
    ("en", 1366, False, None),
    ("zh-hans", 375, True, None),
    ("zh-hans", 375, False, "layout"),
    ("en", 375, False, "layout"),
]
# At phone width the page is the same document as at desktop width: what changes is its layout, so there the
# rules that depend on layout run (the whole set would double the crawl's time on two cores), and the width
# check; the reader-mode pass at phone width runs them all (colour contrast included). The first combination
# is checked while the links are discovered (``discover(..., check=True)``), so no page is opened twice.
LAYOUT_RULES = [
    "scrollable-region-focusable",
    "link-in-text-block",
    "region",
    "meta-viewport",
    "css-orientation-lock",
    "landmark-unique",
]


def pattern(path: str) -> str:
    return re.sub(r"\d+", "N", path)


def discover(page, base: str, start: str, seen_patterns: set, limit: int = 40, problems_found=None):
    """Paths reachable from ``start`` by links, one per pattern not in ``seen_patterns`` (updated). With a
    list as ``problems_found``, each page is checked as the first combination on the way."""
    host = urlsplit(base).netloc
    queue, found = [start], []
    while queue and len(found) < limit:
        path = queue.pop(0)
        if pattern(path) in seen_patterns:
            continue
        response = page.goto(base + path)
        if (
            response is None
            or response.status != 200
            or "text/html" not in response.headers.get("content-type", "")
        ):
            seen_patterns.add(pattern(path))
            continue
        seen_patterns.add(pattern(path))
        found.append(path)
        if problems_found is not None:
            language, width, _reader, rules = COMBINATIONS[0]
            problems_found.extend(f"[{language} {width}px] " + p for p in problems(page, width, rules))
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            href = urldefrag(href)[0]
            parts = urlsplit(href)
            if parts.netloc != host or parts.query or SKIP.search(parts.path):
                continue
            if pattern(parts.path) not in seen_patterns and parts.path not in queue:
                queue.append(parts.path)
    return found


def problems(page, width: int, rules=None) -> list[str]:
    found = []
    violations = axe_violations(page, rules=LAYOUT_RULES if rules == "layout" else None)
    if violations:
        found.append(format_violations(violations, page.url))
    if width < 768:
        wide = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if wide > 0:
            offenders = page.evaluate(
                """() => [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                    .slice(0, 5)
                    .map(e => e.tagName + '.' + e.className + ' ' + e.textContent.trim().slice(0, 40))"""
            )
            found.append(f"{page.url}: {wide}px wider than the {width}px screen: {offenders}")
    return found


def check(browser, base: str, paths: list[str], sign_in=None, skip_first=False) -> tuple[list[str], float]:
    """Open each path in each combination (but the first with ``skip_first``); return the problems and the
    seconds it took."""
    started = time.monotonic()
    found = []
    for language, width, reader, rules in COMBINATIONS[1 if skip_first else 0 :]:
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
        cookies = [{"name": "portal_language", "value": language, "url": base}]
        if reader:
            cookies.append({"name": "portal_reader", "value": "1", "url": base})
        context.add_cookies(cookies)
        page = context.new_page()
        if sign_in:
            sign_in(page)
        for path in paths:
            page.goto(base + path)
            label = f"[{language} {width}px{' reader' if reader else ''}] "
            found.extend(label + p for p in problems(page, width, rules))
        context.close()
    return found, time.monotonic() - started

"""axe-core (from the npm registry, fetched by scripts/test.sh into var/axe/), run in the page by Playwright.

``assert_accessible(page)`` fails on any violation of the WCAG 2.0/2.1 level A and AA rules, listing each
rule with its impact, help text and the selectors of the offending elements. A few of axe's "best practice"
rules run as well, those checking what GB/T 37668-2019 asks in so many words: landmarks, headings in order,
one <h1>, a working skip link, header cells of tables. Without ``var/axe/axe.min.js``
the calling test is skipped with the reason, except in CI (``CI`` set), where a missing axe-core fails.
"""

import os
from functools import cache
from pathlib import Path

import pytest

AXE_PATH = Path(
    os.environ.get("AXE_PATH", Path(__file__).resolve().parent.parent.parent / "var" / "axe" / "axe.min.js")
)
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
STRUCTURE_RULES = [
    "heading-order",
    "page-has-heading-one",
    "empty-heading",
    "landmark-one-main",
    "landmark-unique",
    "landmark-no-duplicate-banner",
    "landmark-no-duplicate-contentinfo",
    "landmark-no-duplicate-main",
    "landmark-banner-is-top-level",
    "landmark-contentinfo-is-top-level",
    "landmark-main-is-top-level",
    "region",
    "skip-link",
    "empty-table-header",
    "scope-attr-valid",
    "tabindex",
]


@cache
def _axe_source() -> str:
    return AXE_PATH.read_text(encoding="utf-8")


def _require_axe() -> None:
    if AXE_PATH.is_file():
        return
    message = f"axe-core not found at {AXE_PATH}: run scripts/test.sh (it fetches axe-core with npm pack)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _inject(page) -> None:
    if page.evaluate("typeof window.axe !== 'undefined'"):
        return
    # The page's Content-Security-Policy refuses inline <script> elements (page.add_script_tag adds one) and
    # eval(); the source evaluated as an expression through the DevTools protocol is subject to neither.
    page.evaluate(_axe_source() + "\n;0")


def axe_violations(page, context: str | dict | None = None, rules: list[str] | None = None) -> list[dict]:
    """The WCAG 2.1 A/AA violations (and those of ``STRUCTURE_RULES``) axe-core finds in the page as it is
    now, optionally within ``context`` (a selector or an axe context object), or those of ``rules`` only."""
    _require_axe()
    _inject(page)
    return page.evaluate(
        """async ([context, tags, extra, only]) => {
            const results = await axe.run(context || document, only ? {
                runOnly: {type: 'rule', values: only}, resultTypes: ['violations'],
            } : {
                runOnly: {type: 'tag', values: tags},
                rules: Object.fromEntries(extra.map(id => [id, {enabled: true}])),
                resultTypes: ['violations'],
            });
            return results.violations.map(v => ({
                id: v.id,
                impact: v.impact,
                help: v.help,
                helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary, html: n.html})),
            }));
        }""",
        [context, WCAG_TAGS, STRUCTURE_RULES, rules],
    )


def format_violations(violations: list[dict], where: str = "") -> str:
    lines = [f"{len(violations)} axe-core WCAG 2.1 A/AA violation(s){' on ' + where if where else ''}:"]
    for v in violations:
        lines.append(f"- {v['id']} [{v['impact']}]: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"]:
            target = " ".join(" >> ".join(t) if isinstance(t, list) else t for t in node["target"])
            lines.append(f"    at {target}")
            lines.append(f"       {node['html'][:200]}")
            for detail in (node["summary"] or "").splitlines():
                if detail.strip():
                    lines.append(f"       {detail.strip()}")
    return "\n".join(lines)


def assert_accessible(page, where: str = "") -> None:
    """Fail the test on any WCAG 2.1 A/AA violation axe-core finds in ``page``."""
    violations = axe_violations(page)
    assert not violations, format_violations(violations, where or page.url)

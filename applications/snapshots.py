"""Frozen copies of a submitted plan, and what changed between two of them."""

from decimal import Decimal

from applications.models import Application

SCALAR_FIELDS = Application.PLAN_FIELDS


def _plain(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def snapshot(application: Application) -> dict:
    """Everything the applicant wrote, as plain strings (uses the prefetched related rows)."""
    return {
        "fields": {name: _plain(getattr(application, name)) for name in SCALAR_FIELDS},
        "outcomes": [f"{o.indicator}｜{o.target}｜{o.year}" for o in application.outcomes.all()],
        "committee": [
            f"{m.name}｜{m.title}｜{m.employer}{'｜主任委员' if m.is_chair else ''}"
            for m in application.committee.all()
        ],
        "members": [
            f"{m.name}｜{m.credit_code}｜{m.get_kind_display()}｜{m.get_relation_display()}｜"
            f"{m.get_contribution_display()} {m.amount}万元｜{m.platforms}"
            for m in application.members.all()
        ],
        "attachments": [
            f"{a.get_kind_display()}：{a.original_name}（{a.sha256[:12]}）"
            for a in application.attachments.all()
        ],
    }


LIST_LABELS = {
    "outcomes": "预期成果指标",
    "committee": "专家委员会",
    "members": "共建单位",
    "attachments": "附件",
}


def diff(old: dict, new: dict) -> list[dict]:
    """Changed items between two snapshots: [{"label", "old", "new"}] in form order."""
    changes = []
    opts = Application._meta
    for name in SCALAR_FIELDS:
        before, after = old["fields"].get(name, ""), new["fields"].get(name, "")
        if before != after:
            changes.append({"label": str(opts.get_field(name).verbose_name), "old": before, "new": after})
    for key, label in LIST_LABELS.items():
        before, after = old.get(key, []), new.get(key, [])
        if before != after:
            removed = [item for item in before if item not in after]
            added = [item for item in after if item not in before]
            changes.append({"label": label, "old": "\n".join(removed), "new": "\n".join(added)})
    return changes

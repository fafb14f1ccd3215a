"""The audit log in words: each action code's name (both languages) and each object by its name, with a link
where the person reading the log may follow it.

The codes are written by every app (``accounts.audit.record``). Names of the codes that accounts writes are
here; the higher apps register theirs (and the models their objects are) when they start (their AppConfig's
``ready``), so this lower app imports none of them.
"""

from django.apps import apps
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

ACTION_NAMES = {
    "sign_in": _("登录"),
    "sign_out": _("退出登录"),
    "user.create": _("新建账号"),
    "user.change": _("修改账号"),
    "roles.change": _("调整角色"),
    "two_factor.setup": _("设置双因素认证"),
    "two_factor.verify": _("双因素认证"),
    "two_factor.reset": _("重置双因素认证"),
    "reauth": _("再次验证密码"),
    "lockout.reset": _("解除登录锁定"),
    "export": _("导出Excel"),
    "policy.create": _("发布政策版本"),
    "objection.identity_viewed": _("查看异议人身份"),
    "objection.file_downloaded": _("下载异议材料"),
}

# model label -> (URL name taking the pk, permission checked against the object)
TARGETS = {
    "accounts.User": ("admin:accounts_user_change", "accounts.change_user"),
}


def register_actions(prefix: str, labels: dict) -> None:
    """Name the codes ``prefix.key`` (a higher app's history actions, for instance)."""
    for key, label in labels.items():
        ACTION_NAMES.setdefault(f"{prefix}.{key}", label)


def register_target(label: str, url_name: str | None, permission: str | None) -> None:
    TARGETS[label] = (url_name, permission)


def action_name(code: str) -> str:
    return str(ACTION_NAMES[code]) if code in ACTION_NAMES else code


def action_choices() -> list[tuple[str, str]]:
    """The actions to filter by, by name (in the active language)."""
    return sorted(((code, str(name)) for code, name in ACTION_NAMES.items()), key=lambda c: c[1])


def _split(target: str):
    label, _sep, pk = target.partition(":")
    if not pk.isdigit():
        return None, None
    try:
        apps.get_model(label)
    except (LookupError, ValueError):
        return None, None
    return label, int(pk)


def describe(events, user) -> list[dict]:
    """Each event with ``action_name``, ``target_name`` and ``target_url`` (None where ``user`` may not
    follow it). The objects are read in one query per model."""
    wanted: dict[str, set] = {}
    for event in events:
        label, pk = _split(event.target)
        if label:
            wanted.setdefault(label, set()).add(pk)
    found = {label: apps.get_model(label)._default_manager.in_bulk(pks) for label, pks in wanted.items()}
    rows = []
    for event in events:
        label, pk = _split(event.target)
        obj = found.get(label, {}).get(pk) if label else None
        name, url = event.target or "", None
        if obj is not None:
            # By its name (and a link) only for a reader who may see the object itself: the audit
            # administrator reads what was done to which record, not the business data behind it.
            registered = label in TARGETS
            url_name, permission = TARGETS.get(label, (None, None))
            if registered and (permission is None or user.has_perm(permission, obj)):
                name = str(obj)
                if url_name:
                    try:
                        url = reverse(url_name, args=[pk])
                    except NoReverseMatch:
                        url = None
            else:
                name = _("%(model)s（编号%(pk)s）") % {
                    "model": apps.get_model(label)._meta.verbose_name,
                    "pk": pk,
                }
        elif label:
            name = _("%(model)s（已删除，编号%(pk)s）") % {
                "model": apps.get_model(label)._meta.verbose_name,
                "pk": pk,
            }
        rows.append(
            {"event": event, "action_name": action_name(event.action), "target_name": name, "target_url": url}
        )
    return rows

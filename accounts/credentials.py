"""Who may touch another person's credentials, and the one-time links that replace typed passwords (三员).

No administrator ever knows another person's password: an account created or reset by an administrator
gets a signed, expiring, one-time link by e-mail (Django's token generator: it is void once the password
changes or the person signs in, and after ``PASSWORD_RESET_TIMEOUT``); the owner sets the password there.
Only a superuser may do this (or change the e-mail, the active flag or the second factor) for an
administrator's account; the system administrator does it for business accounts only.
"""

import logging

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from accounts import audit
from accounts.roles import Role

log = logging.getLogger(__name__)

ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})


def is_administrator_account(user) -> bool:
    """An account of the back office: a superuser, staff (admin site) or one of the three administrators."""
    return bool(user.is_superuser or user.is_staff or ADMIN_ROLES & set(user.role_codes))


def may_manage_credentials(actor, target) -> bool:
    """Whether ``actor`` may send ``target`` a password link or change its e-mail, active flag or second
    factor: a superuser always, anyone else (with the page's own permission) only for business accounts."""
    return bool(actor.is_authenticated and (actor.is_superuser or not is_administrator_account(target)))


def require_credentials_permission(actor, target) -> None:
    if not may_manage_credentials(actor, target):
        raise PermissionDenied(_("只有超级管理员可以管理管理员账号的密码、邮箱、双因素认证和启用状态。"))


def password_link(user, purpose: str) -> str:
    name = "accounts:activate" if purpose == "activate" else "accounts:password_reset_confirm"
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse(
        name, kwargs={"uidb64": uid, "token": default_token_generator.make_token(user)}
    )


def send_password_link(user, *, actor, request=None, purpose: str = "activate") -> bool:
    """E-mail ``user`` a one-time link to set their password (``activate`` for a new account, ``reset``
    otherwise); audited as who sent it to whom from where. False (and a log line) if it could not be sent."""
    require_credentials_permission(actor, user)
    audit.record(
        "password.link_sent",
        request=request,
        actor=actor,
        target=audit.target_of(user),
        detail=f"{purpose}: {user.get_username()}",
        success=bool(user.email),
    )
    if not user.email:
        return False
    with translation.override(user.language or settings.LANGUAGE_CODE):
        context = {
            "user": user,
            "link": password_link(user, purpose),
            "purpose": purpose,
            "hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        }
        subject = " ".join(render_to_string("accounts/email/password_link_subject.txt", context).split())
        body = render_to_string("accounts/email/password_link.txt", context)
    try:
        send_mail(subject, body, None, [user.email])
    except Exception:  # a mail server that does not answer: the administrator is told and may send again
        log.exception("password link for user %s not sent", user.pk)
        return False
    return True


def email_changed(user, old_email: str, *, actor, request=None) -> None:
    """Someone else changed ``user``'s e-mail (where password links go): audited, and the old address is
    told so that the owner can object if it was not asked for."""
    audit.record(
        "user.email_change",
        request=request,
        actor=actor,
        target=audit.target_of(user),
        detail=f"{user.get_username()}: {old_email or '—'} → {user.email or '—'}",
    )
    if not old_email:
        return
    with translation.override(user.language or settings.LANGUAGE_CODE):
        context = {"user": user, "old_email": old_email, "new_email": user.email}
        subject = " ".join(render_to_string("accounts/email/email_changed_subject.txt", context).split())
        body = render_to_string("accounts/email/email_changed.txt", context)
    try:
        send_mail(subject, body, None, [old_email])
    except Exception:
        log.exception("e-mail change notice for user %s not sent", user.pk)

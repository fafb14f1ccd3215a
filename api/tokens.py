"""Issuing, checking and revoking API tokens.

A token reads ``cqmic_<prefix>_<secret>``. Only the SHA-256 of the whole token is stored; the prefix finds
the row, and the hashes are compared in constant time (``hmac.compare_digest``), also when no row has the
prefix, so a caller learns nothing from the time an answer takes. Every step is audited.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import audit
from api.models import ApiToken, Scope, SystemAccount
from applications.services import ActionRefused

TOKEN_START = "cqmic"
_NO_ROW = hashlib.sha256(b"no token has this prefix").hexdigest()


class TokenRefused(Exception):
    """The presented token is unknown, revoked or expired (``reason``); the API answers 401."""

    def __init__(self, reason: str, token: ApiToken | None = None):
        super().__init__(reason)
        self.reason = reason
        self.token = token


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def check(scopes, expires_at=None):
    """The scopes (sorted) and the expiry a new token gets, or ActionRefused saying what is wrong."""
    now = timezone.now()
    scopes = sorted(set(scopes or ()))
    unknown = [s for s in scopes if s not in Scope.values]
    if not scopes or unknown:
        raise ActionRefused(_("请至少选择一项有效的权限范围。"))
    expires_at = expires_at or now + timedelta(days=settings.API_TOKEN_DEFAULT_DAYS)
    if expires_at <= now:
        raise ActionRefused(_("有效期须晚于当前时间。"))
    if expires_at > now + timedelta(days=settings.API_TOKEN_MAX_DAYS):
        raise ActionRefused(
            _("有效期最长%(days)s天，到期后请重新签发。") % {"days": settings.API_TOKEN_MAX_DAYS}
        )
    return scopes, expires_at


def issue(
    account: SystemAccount, *, scopes, by, expires_at=None, label: str = "", ip=None
) -> tuple[ApiToken, str]:
    """A new token for ``account``; returns the row and the token itself, which is never shown again."""
    scopes, expires_at = check(scopes, expires_at)
    prefix = secrets.token_hex(6)
    raw = f"{TOKEN_START}_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            account=account,
            label=label,
            prefix=prefix,
            key_hash=_digest(raw),
            scopes=scopes,
            expires_at=expires_at,
            created_by=by,
        )
        audit.record(
            "api.token_issued",
            actor=by,
            ip=ip,
            target=audit.target_of(token),
            detail=f"{account.name}: {', '.join(scopes)}; {expires_at.isoformat()}",
        )
    return token, raw


def revoke(token: ApiToken, *, by, ip=None) -> ApiToken:
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is not None:
            raise ActionRefused(
                _("该令牌已于%(when)s吊销。") % {"when": timezone.localtime(token.revoked_at)}
            )
        token.revoked_at = timezone.now()
        token.revoked_by = by
        token.save(update_fields=["revoked_at", "revoked_by"])
        audit.record(
            "api.token_revoked", actor=by, ip=ip, target=audit.target_of(token), detail=token.account.name
        )
    return token


def authenticate(raw: str) -> ApiToken:
    """The active token ``raw`` names, or TokenRefused("invalid" / "revoked" / "expired")."""
    parts = raw.split("_", 2)
    prefix = parts[1] if len(parts) == 3 and parts[0] == TOKEN_START else ""
    token = (
        ApiToken.objects.select_related("account").filter(prefix=prefix).first()
        if prefix and len(prefix) <= 16
        else None
    )
    matches = hmac.compare_digest(token.key_hash if token else _NO_ROW, _digest(raw))
    if token is None or not matches:
        raise TokenRefused("invalid")
    now = timezone.now()
    state = token.state(now)
    if state != "active":
        raise TokenRefused(state, token)
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)  # at most once a minute
    return token

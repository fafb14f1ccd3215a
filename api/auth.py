"""How the API knows its caller: a Bearer token (api.tokens), the scopes each endpoint needs, the limits."""

import logging

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_ratelimit.core import get_usage
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.throttling import BaseThrottle

from accounts.http import client_ip
from api import tokens

log = logging.getLogger(__name__)

REFUSALS = {
    "invalid": gettext_lazy("API令牌无效。"),
    "revoked": gettext_lazy("API令牌已吊销。"),
    "expired": gettext_lazy("API令牌已过期，请联系系统管理员重新签发。"),
}


class ApiCaller:
    """``request.user`` of a call made with a token: the system account, never a person."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    pk = None

    def __init__(self, token):
        self.token = token
        self.account = token.account

    def get_username(self) -> str:
        return f"api:{self.account.name}"

    def has_role(self, role) -> bool:
        return False

    def __str__(self):
        return self.get_username()


class ApiTokenAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        keyword, _sep, raw = header.partition(" ")
        request._request.api_token_presented = True
        if keyword != self.keyword or not raw.strip():
            raise exceptions.AuthenticationFailed(_("请以“Authorization: Bearer <令牌>”的形式提供API令牌。"))
        try:
            token = tokens.authenticate(raw.strip())
        except tokens.TokenRefused as refused:
            request._request.api_token_refused = refused
            raise exceptions.AuthenticationFailed(str(REFUSALS[refused.reason])) from None
        return ApiCaller(token), token

    def authenticate_header(self, request):
        return self.keyword  # so refusals are 401 with WWW-Authenticate, not 403


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": _("系统管理员签发的API令牌")}


class HasScope(BasePermission):
    """Public endpoints (``required_scope = None``) are open to all; others need a token with the scope."""

    def has_permission(self, request, view):
        scope = getattr(view, "required_scope", None)
        if scope is None:
            return True
        if request.auth is None:
            raise exceptions.NotAuthenticated(_("此接口需要API令牌。"))
        if scope not in request.auth.scopes:
            self.message = _("该令牌没有“%(scope)s”权限范围。") % {"scope": scope}
            return False
        return True


def _key(group, request):
    token = getattr(request, "auth", None)
    return f"token:{token.pk}" if token is not None else f"ip:{client_ip(request) or 'unknown'}"


class ApiRateLimit(BaseThrottle):
    """django-ratelimit's counter per token (API_TOKEN_RATE) or per anonymous address (API_ANONYMOUS_RATE).
    A cache that is down lets the call through (logged), as the other limits of the portal do."""

    def allow_request(self, request, view):
        rate = settings.API_TOKEN_RATE if request.auth is not None else settings.API_ANONYMOUS_RATE
        try:
            usage = get_usage(
                request._request, group="api", key=lambda g, r: _key(g, request), rate=rate, increment=True
            )
        except Exception as error:
            log.warning("API rate limit unavailable: %s", error)
            return True
        self.usage = usage
        return not (usage and usage["should_limit"])

    def wait(self):
        usage = getattr(self, "usage", None)
        return usage["time_left"] if usage else None

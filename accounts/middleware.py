from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers


class ChineseFirstLocaleMiddleware:
    """Chinese unless the person chose English with the switch in the header.

    Django's LocaleMiddleware would follow the browser's Accept-Language; a Chongqing government portal
    shows Chinese to everyone first, so only the language cookie set by ``set_language`` counts here.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.available = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if code not in self.available:
            code = settings.LANGUAGE_CODE
        translation.activate(code)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response


class SecurityPolicyMiddleware:
    """Before anything else a signed-in person must: change an expired password; sign in with the second
    factor when their role requires it. Also makes the request known to the audit log's signal handlers."""

    # Until the second factor is passed only these are reachable (not the password change: a phished
    # password alone must not be enough to change it and lock the owner out).
    EXEMPT = (
        "/accounts/logout/",
        "/accounts/2fa/",
        "/static/",
        "/healthz",
        "/i18n/",
    )
    # An expired password may still be changed (once the second factor is passed).
    EXPIRED_PASSWORD_EXEMPT = ("/accounts/password/change/",)

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from accounts.audit import current_request

        token = current_request.set(request)
        try:
            return self.check(request) or self.get_response(request)
        finally:
            current_request.reset(token)

    def check(self, request):
        from django.contrib import messages
        from django.shortcuts import redirect
        from django.utils.translation import gettext as _

        from accounts.security import needs_two_factor, password_expired

        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path.startswith(self.EXEMPT):
            return None
        if needs_two_factor(user) and not user.is_verified():
            return redirect(f"/accounts/2fa/?next={request.get_full_path()}")
        if password_expired(user) and not request.path.startswith(self.EXPIRED_PASSWORD_EXEMPT):
            messages.warning(request, _("您的密码已超过有效期，请先修改密码。"))
            return redirect("accounts:password_change")
        return None


class PrivateResponseMiddleware:
    """Every response to a signed-in person is ``Cache-Control: private, no-store``: no browser or proxy
    keeps a copy of a private page (the back button after sign-out, a shared office computer). Responses
    to anonymous visitors keep whatever the view set, so the public pages stay cacheable."""

    VALUE = "private, no-store"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        before = self.signed_in(request)  # signing out clears the user, signing in sets it: either counts
        response = self.get_response(request)
        if before or self.signed_in(request):
            response["Cache-Control"] = self.VALUE
            response.headers.pop("Expires", None)
        return response

    @staticmethod
    def signed_in(request) -> bool:
        user = getattr(request, "user", None)
        return user is not None and user.is_authenticated


class IdleTimeoutMiddleware:
    """Renew a signed-in session's expiry when it is used, but write it at most once a minute."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        import time

        from django.conf import settings

        session = getattr(request, "session", None)
        if session is not None and request.user.is_authenticated:
            now = int(time.time())
            if now - session.get("_seen", 0) >= settings.SESSION_RENEW_SECONDS:
                session["_seen"] = now  # marks the session modified: saved with a fresh expiry
        return self.get_response(request)


class NulInQueryMiddleware:
    """A query parameter holding a NUL character is refused with 400: PostgreSQL cannot take it, and not
    every reader of the query is a form field that refuses it (the admin's search box passes it on)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any("\x00" in key or "\x00" in value for key, values in request.GET.lists() for value in values):
            from django.http import HttpResponseBadRequest

            return HttpResponseBadRequest("NUL character in the query string", content_type="text/plain")
        return self.get_response(request)

"""Caching of public pages that change rarely (the announcement list, the centre directory).

Only anonymous GET requests without pending messages are served from the cache, keyed by the path, the
query, the language, the reader mode and the version of the "public" scope of ``config.fragments``, which
every change of the data behind them bumps (the scope lists the models). The pages carry no CSRF token (the
language switch is a GET form), so one cached copy serves everyone. A short timeout bounds the lag of
time-derived text (an announcement that closes while cached).
"""

import logging
from functools import wraps
from hashlib import sha256

from django.core.cache import cache
from django.http import HttpResponse
from django.utils import translation

from config import fragments

SCOPE = "public"
TIMEOUT = 60


log = logging.getLogger(__name__)


def invalidate() -> None:
    """Serve the public pages afresh from now (or from the commit of the current transaction)."""
    fragments.bump(SCOPE)


def cached_public_page(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "GET" or request.user.is_authenticated or "messages" in request.COOKIES:
            return view(request, *args, **kwargs)
        try:
            (version,) = fragments.versions((SCOPE,))
            reader = request.COOKIES.get("portal_reader", "0")  # the large-text mode is part of the page
            raw = f"{request.path}?{request.GET.urlencode()}|{translation.get_language()}|{reader}|{version}"
            key = "public-page:" + sha256(raw.encode()).hexdigest()
            cached = cache.get(key)
        except Exception as error:  # Redis unreachable: serve the page uncached
            log.warning("public page cache unavailable: %s", error)
            return view(request, *args, **kwargs)
        if cached is not None:
            response = HttpResponse(cached["content"], content_type=cached["content_type"])
            response["X-Cache"] = "hit"
            return response
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and not response.is_rendered:
            response.render()  # a template or API response: its content is what is cached
        if response.status_code == 200 and not response.cookies and not getattr(response, "streaming", False):
            try:
                cache.set(
                    key, {"content": response.content, "content_type": response["Content-Type"]}, TIMEOUT
                )
            except Exception as error:
                log.warning("public page not cached: %s", error)
            response["X-Cache"] = "miss"
        return response

    return wrapper

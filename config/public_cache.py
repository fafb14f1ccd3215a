"""Caching of public pages that change rarely (the announcement list, the centre directory).

Only anonymous GET requests without pending messages are served from the cache, keyed by the path, the
query, the language and a version that every change of the data behind them bumps (``invalidate``). The
pages carry no CSRF token (the language switch is a GET form), so one cached copy serves everyone. A short
timeout bounds the lag of time-derived text (an announcement that closes while cached).
"""

from functools import wraps
from hashlib import sha256

from django.core.cache import cache
from django.http import HttpResponse
from django.utils import translation

VERSION_KEY = "public-pages-version"
TIMEOUT = 60


def invalidate(*args, **kwargs) -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 1, None)


def cached_public_page(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "GET" or request.user.is_authenticated or "messages" in request.COOKIES:
            return view(request, *args, **kwargs)
        version = cache.get_or_set(VERSION_KEY, 1, None)
        raw = f"{request.path}?{request.GET.urlencode()}|{translation.get_language()}|{version}"
        key = "public-page:" + sha256(raw.encode()).hexdigest()
        cached = cache.get(key)
        if cached is not None:
            response = HttpResponse(cached["content"], content_type=cached["content_type"])
            response["X-Cache"] = "hit"
            return response
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.cookies and not getattr(response, "streaming", False):
            response.render() if hasattr(response, "render") else None
            cache.set(key, {"content": response.content, "content_type": response["Content-Type"]}, TIMEOUT)
            response["X-Cache"] = "miss"
        return response

    return wrapper

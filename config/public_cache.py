"""Caching of public pages that change rarely (the announcement list, the centre directory).

Only anonymous GET requests without pending messages are served from the cache, keyed by the path, the
query, the language and a version that every change of the data behind them bumps (``invalidate``). The
pages carry no CSRF token (the language switch is a GET form), so one cached copy serves everyone. A short
timeout bounds the lag of time-derived text (an announcement that closes while cached).
"""

import logging
import threading
import time
from functools import wraps
from hashlib import sha256

from django.core.cache import cache
from django.http import HttpResponse
from django.utils import translation

VERSION_KEY = "public-pages-version"
TIMEOUT = 60


log = logging.getLogger(__name__)


_read = threading.local()  # whether this thread has read the version since it last bumped it


def invalidate(*args, **kwargs) -> None:
    """Bump the version (a signal receiver too). Inside a transaction once, when it commits, and at once as
    well if this thread has read the version meanwhile (it could serve its own uncommitted rows)."""
    from django.db import transaction

    from config.after_commit import gather

    if not transaction.get_connection().in_atomic_block:
        _bump()
        return
    if getattr(_read, "yes", False):
        _read.yes = False
        _bump()
    gather("public-pages", VERSION_KEY, lambda _keys: _bump())


def _bump() -> None:
    """With the cache down nothing is cached either, so failing here is harmless."""
    try:
        try:
            cache.incr(VERSION_KEY)
        except ValueError:
            # Lost: restart from the clock, never from a number an older cached page may still carry.
            cache.set(VERSION_KEY, time.time_ns() // 1000, None)
    except Exception as error:  # Redis unreachable: never let it break the step that changed the data
        log.warning("public page cache not invalidated: %s", error)


def cached_public_page(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "GET" or request.user.is_authenticated or "messages" in request.COOKIES:
            return view(request, *args, **kwargs)
        try:
            _read.yes = True
            version = cache.get_or_set(VERSION_KEY, time.time_ns() // 1000, None)
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

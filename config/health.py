"""``GET /healthz``: the state of the database, Redis and the Celery workers, for load balancers and people.

200 while the database answers (the portal can serve pages), 503 when it does not. Everyone gets the overall
status; which component is down only the load balancer's addresses (``HEALTHZ_DETAIL_ADDRESSES``) or a
request with the token (``X-Health-Token: HEALTHZ_TOKEN``) are told.
"""

import hmac
import ipaddress

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from accounts.http import client_ip
from config.celery import app as celery_app

OK, DOWN, DISABLED = "ok", "down", "disabled"


def database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any failure to reach the database means "down"
        return DOWN
    return OK


def redis_state() -> str:
    if not settings.REDIS_URL:
        return DISABLED
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
    except redis.RedisError:
        return DOWN
    return OK


def worker_state(redis_ok: bool) -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return DISABLED  # tasks run in the web process
    if not redis_ok:
        return DOWN  # the broker is unreachable, so no worker can be asked
    try:
        replies = celery_app.control.ping(timeout=1.0)
    except Exception:
        return DOWN
    return OK if replies else DOWN


def may_see_details(request) -> bool:
    token = settings.HEALTHZ_TOKEN
    offered = request.headers.get("X-Health-Token", "")
    if token and offered and hmac.compare_digest(offered.encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(client_ip(request) or "")
    except ValueError:
        return False
    for allowed in settings.HEALTHZ_DETAIL_ADDRESSES:
        try:
            if address in ipaddress.ip_network(allowed, strict=False):
                return True
        except ValueError:
            continue  # a mistyped entry allows nothing
    return False


@never_cache
def healthz(request):
    database = database_state()
    redis_ok = redis_state()
    checks = {"database": database, "redis": redis_ok, "worker": worker_state(redis_ok == OK)}
    overall = OK if all(state in (OK, DISABLED) for state in checks.values()) else "degraded"
    if database != OK:
        overall = DOWN
    body = {"status": overall, **checks} if may_see_details(request) else {"status": overall}
    return JsonResponse(body, status=200 if database == OK else 503)

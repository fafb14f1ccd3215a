"""``GET /healthz``: the state of the database, Redis and the Celery workers, for load balancers and people.

200 while the database answers (the portal can serve pages), 503 when it does not.
"""

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

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


@never_cache
def healthz(request):
    database = database_state()
    redis_ok = redis_state()
    checks = {"database": database, "redis": redis_ok, "worker": worker_state(redis_ok == OK)}
    overall = OK if all(state in (OK, DISABLED) for state in checks.values()) else "degraded"
    if database != OK:
        overall = DOWN
    return JsonResponse({"status": overall, **checks}, status=200 if database == OK else 503)

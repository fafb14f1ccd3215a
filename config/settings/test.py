"""pytest: real PostgreSQL and Redis (a Redis database of its own), fast hashing, mail kept in memory."""

from config.settings.base import *  # noqa: F403
from config.settings.base import BASE_DIR, SMS_TEMPLATES, env

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-for-any-deployment-0123456789"
FIELD_ENCRYPTION_KEYS = ["dGVzdC1vbmx5LWZpZWxkLWtleS1mb3ItcHl0ZXN0ISE="]  # fixed: tests compare stored rows
FIELD_HASH_KEY = "test-only-hash-key"
REDIS_URL = env("TEST_REDIS_URL", default="redis://127.0.0.1:6379/15")
CACHES = {
    "default": {
        "BACKEND": "config.cache.PortalRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "cqmic-test",
    }
}
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
# Most tests run tasks in-process; tests marked "worker" switch this off and start a real worker.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = env("TEST_EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
EMAIL_FILE_PATH = env("TEST_EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "test-mail"))
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Static files come from the finders (as in development); nothing is collected for tests.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Most tests sign in with force_login; the two-factor tests switch the requirement on themselves.
TWO_FACTOR_ROLES: list = []
AXES_ENABLED = True
# The test client's address plays the load balancer for /healthz (tests of the public answer override it).
HEALTHZ_DETAIL_ADDRESSES = env.list("HEALTHZ_DETAIL_ADDRESSES", default=["127.0.0.1"])
SESSION_RENEW_SECONDS = 0  # save on every request, so query counts do not depend on the clock
# SMS kept in memory (accounts.sms.outbox); the Tencent adapter's tests point it at a local server.
SMS_BACKEND = "accounts.sms.MemoryBackend"
SMS_FILE_PATH = "/tmp/cqmic-test-sms"
SMS_TEMPLATE_CODES = {kind: str(100001 + n) for n, kind in enumerate(SMS_TEMPLATES)}
for _kind, _template in SMS_TEMPLATES.items():
    _template["code"] = SMS_TEMPLATE_CODES[_kind]

"""Production: behind a TLS-terminating load balancer, any number of gunicorn processes.

``SECRET_KEY``, ``ALLOWED_HOSTS`` and the keys of the personal data (``FIELD_ENCRYPTION_KEYS``,
``FIELD_HASH_KEY``) must come from the environment; ``manage.py check --deploy`` is clean.
"""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import (
    LOCAL_FIELD_KEYS,
    NOTIFICATION_CHANNELS,
    SMS_BACKEND,
    SMS_SIGN_NAME,
    SMS_TENCENT_APP_ID,
    SMS_TENCENT_SECRET_ID,
    SMS_TENCENT_SECRET_KEY,
    env,
)

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS")
FIELD_HASH_KEY = env("FIELD_HASH_KEY")
if set(LOCAL_FIELD_KEYS) & {*FIELD_ENCRYPTION_KEYS, FIELD_HASH_KEY}:
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEYS / FIELD_HASH_KEY: the development keys are not for production."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

# X-Forwarded-Proto is believed only from a load balancer we were told about (TRUSTED_PROXY_COUNT > 0);
# otherwise anyone could claim https.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT > 0 else None  # noqa: F405
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"

# SMS goes out only through a real provider: with a development backend the channel is not offered at all
# (nobody can choose it), and the provider's key, application and signature must be set.
if SMS_BACKEND in {"accounts.sms.ConsoleBackend", "accounts.sms.FileBackend", "accounts.sms.MemoryBackend"}:
    NOTIFICATION_CHANNELS = {name: path for name, path in NOTIFICATION_CHANNELS.items() if name != "sms"}
elif SMS_BACKEND == "accounts.sms.TencentBackend" and not all(
    [SMS_TENCENT_SECRET_ID, SMS_TENCENT_SECRET_KEY, SMS_TENCENT_APP_ID, SMS_SIGN_NAME]
):
    raise ImproperlyConfigured(
        "SMS_BACKEND is Tencent Cloud: set SMS_TENCENT_SECRET_ID, SMS_TENCENT_SECRET_KEY, SMS_TENCENT_APP_ID "
        "and SMS_SIGN_NAME."
    )

"""Settings shared by every mode; every value that differs between machines comes from the environment.

Modes: ``config.settings.local`` (the demo / development default of ``manage.py``),
``config.settings.test`` (pytest) and ``config.settings.production`` (gunicorn, ``check --deploy`` clean).
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="insecure-local-only-key-change-me-in-every-deployment")
# ID numbers and personal phones are encrypted at rest (accounts.crypto): Fernet keys, the first encrypts,
# all decrypt (rotation); the keyed hash that finds rows by ID number has a key of its own. The defaults
# are for development only; production requires both from the environment.
LOCAL_FIELD_KEYS = ("bG9jYWwtb25seS1maWVsZC1rZXktbm90LXNlY3JldCE=", "insecure-local-only-hash-key")
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[LOCAL_FIELD_KEYS[0]])
FIELD_HASH_KEY = env("FIELD_HASH_KEY", default=LOCAL_FIELD_KEYS[1])
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# How many reverse proxies (load balancers) stand in front of gunicorn and append to X-Forwarded-For.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # its widget templates, for FORM_RENDERER below
    # third party
    "rules.apps.AutodiscoverRulesConfig",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "django_celery_beat",
    "django_fsm",  # for manage.py graph_transitions
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # the portal; imports flow one way, left to right
    "accounts",
    "applications",
    "centres",
    "evaluation",
    "reports",
]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses sign-in while an account or an address is locked
    "rules.permissions.ObjectPermissionBackend",
    "accounts.backends.PortalModelBackend",  # ModelBackend reading the roles with the user
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "home"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.IdleTimeoutMiddleware",
    "accounts.middleware.PrivateResponseMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

# Widgets render through the project's templates, so templates/django/forms/widgets/ can word them (an empty
# choice reads 请选择 rather than "---------").
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.portal",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/cqmic")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and Celery broker ---------------------------------------------------------------------
# REDIS_URL empty means "no Redis": the local-memory cache and in-process (eager) tasks are used instead.
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.PortalRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="cqmic"),
            "TIMEOUT": 300,
            # A Redis that does not answer must not hold pages up: sessions, fragments and counts fall back
            # to the database or to rendering (accounts.sessions, config.fragments).
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery: the one configuration block ----------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL or "cache+memory://")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 60 * 60 * 24
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_TASK_TIME_LIMIT = 5 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 4 * 60
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60}
# Beat keeps its schedule in the database (django-celery-beat): it survives restarts and is the same
# whichever machine runs the single beat process. Periodic tasks are declared here by later issues.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "retry-unsent-notifications": {"task": "accounts.tasks.retry_unsent_notifications", "schedule": 120.0},
    "purge-audit-log": {"task": "accounts.tasks.purge_audit_log", "schedule": 24 * 3600.0},
    "remind-experts": {"task": "evaluation.tasks.remind_experts", "schedule": 3600.0},
    "open-due-assessments": {"task": "reports.tasks.open_due_assessments", "schedule": 6 * 3600.0},
    "remind-annual-summaries": {"task": "reports.tasks.remind_annual_summaries", "schedule": 6 * 3600.0},
    "run-backup": {
        "task": "accounts.tasks.run_backup",
        "schedule": crontab(
            hour=env.int("BACKUP_HOUR", default=2), minute=env.int("BACKUP_MINUTE", default=30)
        ),
    },
    "close-expired-publicity": {
        "task": "evaluation.tasks.close_expired_publicity",
        "schedule": env.float("PUBLICITY_SWEEP_SECONDS", default=300.0),
    },
}

# Backups (accounts.backups): daily at BACKUP_HOUR:BACKUP_MINUTE (Asia/Shanghai) under BACKUP_ROOT, keeping
# the newest of each of the last BACKUP_KEEP_DAILY days and the first of each of the last BACKUP_KEEP_MONTHLY
# months.
BACKUP_ROOT = env.path("BACKUP_ROOT", default=BASE_DIR / "var" / "backups")
BACKUP_KEEP_DAILY = env.int("BACKUP_KEEP_DAILY", default=7)
BACKUP_KEEP_MONTHLY = env.int("BACKUP_KEEP_MONTHLY", default=12)

# --- Passwords, sessions --------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.security.CharacterClassValidator", "OPTIONS": {"classes": 3}},
]

# --- Sign-in security (MLPS 2.0 level 3) ----------------------------------------------------------------
# Lockout (django-axes): 5 failures lock the account, and separately the address, for 30 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "accounts.http.axes_client_ip"  # the same client address as everywhere else
AXES_VERBOSE = False
# Passwords expire; the person is sent to change it before anything else.
PASSWORD_MAX_AGE_DAYS = env.int("PASSWORD_MAX_AGE_DAYS", default=90)
# Two-factor sign-in (TOTP, django-otp) for these roles; off only where the environment says so (the demo).
TWO_FACTOR_ROLES = env.list(
    "TWO_FACTOR_ROLES",
    default=["commission_staff", "expert", "system_admin", "security_admin", "audit_admin"],
)
OTP_TOTP_ISSUER = "重庆市制造业创新中心管理平台"
# Re-enter the password before sensitive actions (changing roles, personal data) within this many minutes.
REAUTH_MINUTES = env.int("REAUTH_MINUTES", default=10)
# Public objections (evaluation.publicity): accepted ones per address and per ID number in the last hour;
# refused forms (errors) per address and hour have their own, higher limit.
OBJECTIONS_PER_HOUR = env.int("OBJECTIONS_PER_HOUR", default=5)
OBJECTION_FAILURES_PER_HOUR = env.int("OBJECTION_FAILURES_PER_HOUR", default=20)
# The audit log is kept at least this long; the cleanup never deletes younger records (a database trigger
# refuses it as well).
AUDIT_RETENTION_DAYS = max(180, env.int("AUDIT_RETENTION_DAYS", default=365))

# --- Content security policy (django-csp): no inline or foreign scripts --------------------------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],  # style attributes (progress bars); never scripts
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Sessions are read from Redis and written through to PostgreSQL (they survive a cache flush).
SESSION_ENGINE = "accounts.sessions"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=30 * 60)
# The age above is an idle timeout: accounts.middleware.IdleTimeoutMiddleware renews the session at most
# once a minute (instead of writing it on every request), so it ends 30 minutes (±1) after the last click.
SESSION_RENEW_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- Language and time ----------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "portal_language"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files --------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files live outside the web root and are never served as static files: views check who may
# read them. Several machines need one shared location (a network disk) or S3-compatible storage.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
MEDIA_URL = "/media/"  # not routed: files go through permission-checking views
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
_S3_BUCKET = env("S3_BUCKET", default="")
STORAGES = {
    "default": (
        {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": _S3_BUCKET,
                "endpoint_url": env("S3_ENDPOINT_URL", default=None),
                "access_key": env("S3_ACCESS_KEY", default=None),
                "secret_key": env("S3_SECRET_KEY", default=None),
                "default_acl": "private",
                "querystring_auth": True,
            },
        }
        if _S3_BUCKET
        else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    ),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- E-mail ---------------------------------------------------------------------------------------------
# EMAIL_URL examples: smtp+tls://user:password@smtp.example.gov.cn:587, consolemail://, filemail:///path
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="重庆市制造业创新中心管理平台 <noreply@cqmic.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 10

# --- Forms ----------------------------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Portal ---------------------------------------------------------------------------------------------
PORTAL_NAME = _("重庆市制造业创新中心管理平台")
PORTAL_BASE_URL = env("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}

"""Settings shared by every mode; every value that differs between machines comes from the environment.

Modes: ``config.settings.local`` (the demo / development default of ``manage.py``),
``config.settings.test`` (pytest) and ``config.settings.production`` (gunicorn, ``check --deploy`` clean).
"""

from pathlib import Path
from urllib.parse import unquote, urlsplit

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
# /healthz tells everyone the overall status only; which component is down (database, Redis, worker) only to
# the load balancer's addresses (addresses or networks, e.g. 10.0.0.0/24) or to a request carrying the token
# (header "X-Health-Token"; empty: no token accepted).
HEALTHZ_DETAIL_ADDRESSES = env.list("HEALTHZ_DETAIL_ADDRESSES", default=[])
HEALTHZ_TOKEN = env("HEALTHZ_TOKEN", default="")

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
    "pgtrigger",
    "django_fsm",  # for manage.py graph_transitions
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "captcha",  # django-simple-captcha: the graphic CAPTCHA of the sign-in form (offline, Pillow)
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served by WhiteNoise like the rest (no CDN)
    # the portal; imports flow one way, left to right
    "accounts",
    "applications",
    "centres",
    "evaluation",
    "reports",
    "api",
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
    "accounts.middleware.NulInQueryMiddleware",
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
    "purge-unconfirmed-registrations": {
        "task": "applications.tasks.purge_unconfirmed_registrations",
        "schedule": 6 * 3600.0,
    },
    "remind-experts": {"task": "evaluation.tasks.remind_experts", "schedule": 3600.0},
    "remind-inspection-leaders": {"task": "evaluation.tasks.remind_inspection_leaders", "schedule": 3600.0},
    "overdue-panels": {"task": "evaluation.tasks.tell_staff_of_overdue_panels", "schedule": 3600.0},
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
    {"NAME": "accounts.security.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.security.CharacterClassValidator", "OPTIONS": {"classes": 3}},
]

# --- Sign-in security (MLPS 2.0 level 3) ----------------------------------------------------------------
# Lockout (django-axes, accounts.lockout): 5 failures lock an account for the address they came from, for
# 30 minutes; from any address an account is locked only after many more failures (so nobody can lock a
# colleague out by typing wrong passwords), and so is an address trying many accounts. After the first
# failures on an account the sign-in form asks for a graphic CAPTCHA (django-simple-captcha).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_ACCOUNT_FAILURE_LIMIT = env.int("AXES_ACCOUNT_FAILURE_LIMIT", default=50)
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=50)
LOGIN_CAPTCHA_AFTER_FAILURES = env.int("LOGIN_CAPTCHA_AFTER_FAILURES", default=2)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "accounts.lockout.PortalAxesHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "accounts.http.axes_client_ip"  # the same client address as everywhere else
AXES_VERBOSE = False
# Password links (activation of a new account, reset) are one-time and expire after this many seconds.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=24 * 3600)
# 找回密码 is throttled: reset requests per client address, reset e-mails per account (and per e-mail typed).
PASSWORD_RESET_RATE_ADDRESS = env("PASSWORD_RESET_RATE_ADDRESS", default="10/h")
PASSWORD_RESET_RATE_ACCOUNT = env("PASSWORD_RESET_RATE_ACCOUNT", default="3/h")
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
# Registration (applications.registration, evaluation.pool): the e-mail is confirmed within this many days
# (an unconfirmed registration is deleted by beat after it), and the forms are limited per client address.
REGISTRATION_CONFIRM_DAYS = env.int("REGISTRATION_CONFIRM_DAYS", default=7)
REGISTRATION_RATE_ADDRESS = env("REGISTRATION_RATE_ADDRESS", default="20/h")
# The audit log is kept at least this long; the cleanup never deletes younger records (a database trigger
# refuses it as well).
AUDIT_RETENTION_DAYS = max(180, env.int("AUDIT_RETENTION_DAYS", default=365))

# The CAPTCHA: 4 characters, drawn with the font the package ships, valid 5 minutes, no audio.
CAPTCHA_LENGTH = 4
CAPTCHA_TIMEOUT = 5
CAPTCHA_IMAGE_SIZE = (120, 44)
CAPTCHA_FONT_SIZE = 30

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
# A form sent after its page expired (the CSRF token no longer matches): the portal's own page saying what
# to do, in the person's language.
CSRF_FAILURE_VIEW = "accounts.views.csrf_failure"
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
# EMAIL_URL examples: smtp+tls://user:password@smtp.example.gov.cn:587, consolemail://, filemail:///var/mail
# The path of a filemail:// URL is the folder as written: filemail:///var/mail is the absolute /var/mail
# (django-environ drops the leading slash), filemail://var/mail is var/mail under the checkout.
_EMAIL_URL = env("EMAIL_URL", default="consolemail://")
vars().update(env.email_url_config(_EMAIL_URL))
if _EMAIL_URL.startswith("filemail:"):
    _mail_url = urlsplit(_EMAIL_URL)
    EMAIL_FILE_PATH = str(BASE_DIR / unquote(_mail_url.netloc + _mail_url.path))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="重庆市制造业创新中心管理平台 <noreply@cqmic.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 10

# --- Notification channels and SMS ----------------------------------------------------------------------
# Every notification is an in-portal entry; these channels deliver it too, each to the people who chose it
# in their profile (accounts.channels). Remove "sms" to run without SMS.
NOTIFICATION_CHANNELS = {
    "email": "accounts.channels.EmailChannel",
    "sms": "accounts.channels.SMSChannel",
}
# accounts.sms.TencentBackend (Tencent Cloud SMS), ConsoleBackend, FileBackend (SMS_FILE_PATH, outside the
# checkout) or MemoryBackend (tests).
SMS_BACKEND = env("SMS_BACKEND", default="accounts.sms.ConsoleBackend")
SMS_FILE_PATH = env("SMS_FILE_PATH", default="/tmp/cqmic-sms")
SMS_DAILY_LIMIT = env.int("SMS_DAILY_LIMIT", default=10)  # messages per person per calendar day
SMS_SIGN_NAME = env("SMS_SIGN_NAME", default="重庆市经济信息委")  # the provider-approved signature
SMS_ENDPOINT_URL = env("SMS_ENDPOINT_URL", default="")  # empty: the provider's public endpoint
SMS_TIMEOUT = env.int("SMS_TIMEOUT", default=10)
SMS_TENCENT_SECRET_ID = env("SMS_TENCENT_SECRET_ID", default="")
SMS_TENCENT_SECRET_KEY = env("SMS_TENCENT_SECRET_KEY", default="")
SMS_TENCENT_APP_ID = env("SMS_TENCENT_APP_ID", default="")
SMS_TENCENT_REGION = env("SMS_TENCENT_REGION", default="ap-guangzhou")
# Providers send only pre-approved templates: each kind of notification that goes by SMS names its template
# code (approved per account, so from the environment: "expert_assigned=1234567,..."), the parameters in
# the template's order (paths into the notification's context) and the template's text ({1}, {2} ...).
# A kind without a code is not sent by SMS.
SMS_TEMPLATE_CODES = env.dict("SMS_TEMPLATE_CODES", default={})
SMS_TEMPLATES = {
    kind: {"code": SMS_TEMPLATE_CODES.get(kind, ""), "params": params, "text": text}
    for kind, params, text in [
        (
            "application_returned",
            ["application.centre_name"],
            "您单位的建设方案“{1}”已被退回修改，请登录平台查看修改意见。",
        ),
        (
            "application_rejected",
            ["application.centre_name"],
            "您单位的建设方案“{1}”不予认定，请登录平台查看理由。",
        ),
        ("application_awarded", ["centre.name"], "“{1}”已获认定授牌，请登录平台查看。"),
        (
            "expert_assigned",
            ["application.centre_name", "panel.deadline"],
            "您有新的评审任务“{1}”，请于{2}前登录平台完成评分。",
        ),
        (
            "expert_reminder",
            ["application.centre_name", "panel.deadline"],
            "评审任务“{1}”将于{2}截止，请尽快登录平台完成评分。",
        ),
        (
            "summary_reminder",
            ["centre.name", "year", "due_date"],
            "“{1}”{2}年度工作总结将于{3}截止，请登录平台填报。",
        ),
        ("summary_returned", ["centre.name", "year"], "“{1}”{2}年度工作总结被退回修改，请登录平台查看。"),
    ]
}

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

# --- The API (api/): Django REST framework, OpenAPI 3 by drf-spectacular ---------------------------------
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # Only API tokens: a signed-in person's session does not act through the API.
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.auth.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.auth.ApiRateLimit"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "api.schema.PortalAutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "重庆市制造业创新中心管理平台 API",
    "DESCRIPTION": (
        "公开数据（公示公告、创新中心名录）无需登录；其他系统使用系统管理员签发的 API 令牌（Bearer）。只读。"
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"OutcomeEnum": "applications.models.Outcome"},
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.document_bounds"],
}
# Calls per token and per anonymous address (django-ratelimit windows), and how long a new token lives.
API_TOKEN_RATE = env("API_TOKEN_RATE", default="1000/h")
API_ANONYMOUS_RATE = env("API_ANONYMOUS_RATE", default="600/m")
API_TOKEN_DEFAULT_DAYS = env.int("API_TOKEN_DEFAULT_DAYS", default=90)
API_TOKEN_MAX_DAYS = env.int("API_TOKEN_MAX_DAYS", default=366)

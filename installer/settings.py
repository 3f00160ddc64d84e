"""Installer settings: one module, driven by the environment (see docs/configuration.md)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
import dj_email_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "dev-only-insecure-key-never-use-in-production-0123456789abcdef"
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY in the environment (or DEBUG=1 for local development)."
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
CSRF_FAILURE_VIEW = "installer.api.exceptions.csrf_failure"
# Base URL used for links sent to people (clientUrl, webform links).
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "installer.apps.InstallerConfig",
    "rest_framework",
    "django_filters",
    "taggit",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "django_rq",  # TASKS_BACKEND=django_tasks_rq.RQBackend: RQ workers on Redis (docs/deploying.md)
    "accounts",
    "orders",
    "dispatch",
    "webforms",
    "backoffice",
    "webhooks",
    "partners",
    "notifications",
    "portal",
    "monitoring",
    "scorecards",
    "pricing",
    "invoicing",
    "axes",  # last, as django-axes asks: it records every admin login attempt
]

MIDDLEWARE = [
    "installer.middleware.RequestIdMiddleware",
    "monitoring.middleware.MetricsMiddleware",  # /metrics: every request, its time and queries
    "installer.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "partners.middleware.PageLanguageMiddleware",  # the language of the pages people read
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: answers a locked-out login attempt
]

ROOT_URLCONF = "installer.urls"
WSGI_APPLICATION = "installer.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# A request's longest run: gunicorn's worker timeout (gunicorn.conf.py reads the same variable).
# An Idempotency-Key still "in progress" after it belonged to a request that was cut off, and
# the next request with that key acts in its place.
REQUEST_TIMEOUT_SECONDS = env_int("GUNICORN_TIMEOUT", 30)

# --- Database ---------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
_db = dj_database_url.parse(DATABASE_URL)
if _db["ENGINE"] == "django.db.backends.postgresql":
    if env_bool("DB_POOL", True):
        # psycopg 3's connection pool (Django >= 5.1). Persistent connections must stay off.
        _db["CONN_MAX_AGE"] = 0
        _db.setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DB_POOL_MIN_SIZE", 2),
            "max_size": env_int("DB_POOL_MAX_SIZE", 20),
            "timeout": env_int("DB_POOL_TIMEOUT", 10),
        }
        # DB_POOL_CHECK=1: the pool tests a connection on checkout (one empty round trip), so no
        # request meets a connection broken by a database restart (see docs/operations.md).
        _db["CONN_HEALTH_CHECKS"] = env_bool("DB_POOL_CHECK", False)
    else:
        _db["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60)
        _db["CONN_HEALTH_CHECKS"] = True
    # Parallel query off for the app's sessions (DB_PARALLEL_WORKERS, PostgreSQL's
    # max_parallel_workers_per_gather): an API request is short; a big COUNT that takes every
    # core for its parallel workers stalls every other request (p99), for more CPU in total.
    _parallel = f"-c max_parallel_workers_per_gather={env_int('DB_PARALLEL_WORKERS', 0)}"
    _options = _db.setdefault("OPTIONS", {})
    _options["options"] = f"{_options['options']} {_parallel}" if _options.get("options") else _parallel
    # Prepared statements for the fast paths' fixed statements only (installer.raw_rows
    # .prepared_cursor): Django's own cursors bind on the client and are never prepared.
    # DB_PREPARED_STATEMENTS=0 behind a pooler that cannot keep them (PgBouncer in transaction
    # mode before 1.21).
    if env_bool("DB_PREPARED_STATEMENTS", True):
        _options["prepare_threshold"] = 0
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    _db.setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DATABASES = {"default": _db}

# Optional read replica: reads of safe requests go there until the request writes (see
# installer/db_router.py); everything else uses the primary. Same pool settings as the primary.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    _replica = dj_database_url.parse(DATABASE_REPLICA_URL)
    for _key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "OPTIONS"):
        if _key in _db:
            _replica[_key] = _db[_key]
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica
DATABASE_ROUTERS = ["installer.db_router.PrimaryReplicaRouter"]

# --- Cache (throttling counters): shared by every web node ---------------------------------------
# Redis when REDIS_URL / CACHE_URL is set (redis://host:6379/0), the database cache otherwise
# (its table is created by `migrate`, see installer/apps.py).
CACHE_URL = os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL") or ""
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "installer"),
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
elif CACHE_URL.startswith("locmem://"):  # one process only: development and tests
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif CACHE_URL:
    raise ImproperlyConfigured(f"CACHE_URL must be redis://, rediss://, unix:// or locmem://, not {CACHE_URL!r}.")
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "installer_cache",
            "OPTIONS": {"MAX_ENTRIES": env_int("CACHE_MAX_ENTRIES", 100000)},
        }
    }

# Count of big lists (>= LIST_COUNT_CACHE_MIN rows) kept this many seconds in the cache; 0: always count.
LIST_COUNT_CACHE_SECONDS = env_int("LIST_COUNT_CACHE_SECONDS", 30)
LIST_COUNT_CACHE_MIN = env_int("LIST_COUNT_CACHE_MIN", 10_000)
# ... and so is a smaller count that took at least this many milliseconds (few matches in a
# large index range: a narrow tag within a large status).
LIST_COUNT_CACHE_SLOW_MS = env_int("LIST_COUNT_CACHE_SLOW_MS", 10)

# Throttling: per API token (installer.throttling.TokenRateThrottle). "off" turns it off.
API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "1200/min")
# Invalid API tokens (unknown, expired, revoked, malformed) per client address: past this, 429.
API_INVALID_TOKEN_RATE_LIMIT = os.environ.get("API_INVALID_TOKEN_RATE_LIMIT", "100/min")
# Proxies in front of the app that append to X-Forwarded-For (client_ip() for per-client limits).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background tasks (Django's Tasks API, the django-tasks backport) -------------------------
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
# RQ (TASKS_BACKEND=django_tasks_rq.RQBackend): the queue lives in Redis at RQ_REDIS_URL (else
# REDIS_URL); `manage.py rqworker --with-scheduler` runs it (run_after needs the scheduler).
# The worker class runs tasks in its own process (no fork per task, as db_worker) and sends
# installer.tasks.worker_started when it starts (installer/rq_worker.py).
RQ_QUEUES = {
    "default": {
        "URL": os.environ.get("RQ_REDIS_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
        "DEFAULT_TIMEOUT": env_int("RQ_JOB_TIMEOUT", 300),
    }
}
RQ = {"WORKER_CLASS": "installer.rq_worker.Worker", "JOB_CLASS": "django_tasks_rq.Job"}
RQ_SHOW_ADMIN_LINK = False

# Offer expiry's safety sweep (dispatch.tasks.sweep): expires open offers past their deadline
# whose own task was lost (a broker's queue), every this many seconds.
OFFER_SWEEP_INTERVAL_SECONDS = env_int("OFFER_SWEEP_INTERVAL_SECONDS", 300)

# --- Metrics (/metrics for Prometheus; docs/operations.md) ------------------------------------
# Scrapes need `Authorization: Bearer <METRICS_TOKEN>` or an address in METRICS_ALLOWED_IPS
# (addresses or CIDR networks, comma-separated; X-Forwarded-For counts only behind
# TRUSTED_PROXY_COUNT proxies). Neither set: /metrics answers 403 to everyone.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS")

# --- Webhooks (docs/webhooks.md) ---------------------------------------------------------------
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 5)
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 60)
WEBHOOK_RETRY_MAX_DELAY_SECONDS = env_int("WEBHOOK_RETRY_MAX_DELAY_SECONDS", 6 * 3600)
WEBHOOK_RETRY_WINDOW_SECONDS = env_int("WEBHOOK_RETRY_WINDOW_SECONDS", 24 * 3600)
WEBHOOK_DISABLE_AFTER_SECONDS = env_int("WEBHOOK_DISABLE_AFTER_SECONDS", 3 * 24 * 3600)
WEBHOOK_ROTATION_WINDOW_SECONDS = env_int("WEBHOOK_ROTATION_WINDOW_SECONDS", 24 * 3600)
WEBHOOK_LEASE_SECONDS = env_int("WEBHOOK_LEASE_SECONDS", 60)
WEBHOOK_SWEEP_INTERVAL_SECONDS = env_int("WEBHOOK_SWEEP_INTERVAL_SECONDS", 60)
WEBHOOK_SWEEP_GRACE_SECONDS = env_int("WEBHOOK_SWEEP_GRACE_SECONDS", 120)
WEBHOOK_ORDERING_HOLD_SECONDS = env_int("WEBHOOK_ORDERING_HOLD_SECONDS", 600)
# Deliver to loopback, private, link-local and reserved addresses too (webhooks/egress.py): off
# in production, where an endpoint URL is a tenant's input; on with DEBUG, for a local receiver.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", DEBUG)

# --- Auth, i18n ---------------------------------------------------------------------------------
# Admin logins: django-axes counts failures per (username, client address) in the database and
# locks that pair out after LOGIN_FAILURE_LIMIT failures for LOGIN_LOCKOUT_MINUTES; a success
# resets the count. Its backend must come first.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no version banner on every command
AXES_CLIENT_IP_CALLABLE = "accounts.client_address.login_client_ip"  # TRUSTED_PROXY_COUNT applies
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LANGUAGE_CODE = "en-us"
# The languages of the pages people read: the partner workspace (/partner/) and the customer's
# pages (webforms /f/, the portal /t/). Only they switch language (partners.middleware); the
# API and the admin answer in English.
LANGUAGES = [("en", "English"), ("nb", "Norsk bokmål")]
LOCALE_PATHS = [BASE_DIR / "locale"]

# --- Email (notifications, invitations, password resets: docs/configuration.md) ---------------
# One setting, EMAIL_URL (dj-email-url): smtp://user:password@host:587/?tls=True (or
# submissions:// for TLS on 465), console:, file:///path/to/folder, memory:, dummy:. Unset:
# with DEBUG, mail is written as files to MAIL_DIR (`.mail/` in the checkout) for a developer
# to read; without DEBUG, SMTP on localhost:25.
MAIL_DIR = Path(os.environ.get("MAIL_DIR", str(BASE_DIR / ".mail")))
_email_url = os.environ.get("EMAIL_URL") or (f"file://{MAIL_DIR}" if DEBUG else "smtp://localhost:25")
# anymail://<esp> sends through an email provider's API with django-anymail (mailgun, postmark,
# sendgrid, amazon_ses, brevo, ...): its settings come from the ANYMAIL_* variables, e.g.
# ANYMAIL_MAILGUN_API_KEY -> ANYMAIL["MAILGUN_API_KEY"].
_anymail_esp = _email_url.removeprefix("anymail://") if _email_url.startswith("anymail://") else None
_email = dj_email_url.parse("dummy:" if _anymail_esp else _email_url)
EMAIL_BACKEND = f"anymail.backends.{_anymail_esp}.EmailBackend" if _anymail_esp else _email["EMAIL_BACKEND"]
ANYMAIL = {key.removeprefix("ANYMAIL_"): value for key, value in os.environ.items() if key.startswith("ANYMAIL_")}
# dj-email-url drops the leading "/" of file:///abs/path: read the path from the URL itself.
EMAIL_FILE_PATH = urlsplit(_email_url).path or str(MAIL_DIR) if _email_url.startswith("file:") else str(MAIL_DIR)
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = bool(_email["EMAIL_USE_TLS"])
EMAIL_USE_SSL = bool(_email["EMAIL_USE_SSL"])
EMAIL_TIMEOUT = _email["EMAIL_TIMEOUT"] or 10
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Installer <no-reply@localhost>")

# --- Notifications (docs/notifications.md) ---------------------------------------------------
# SMS: a dotted path to a backend (notifications/sms.py). Console with DEBUG; without DEBUG
# none until a provider is configured (an SMS message then fails with that reason).
SMS_BACKEND = os.environ.get(
    "SMS_BACKEND",
    "notifications.sms.ConsoleSmsBackend" if DEBUG else "notifications.sms.DisabledSmsBackend",
)
SMS_FROM = os.environ.get("SMS_FROM", "")
SMS_TIMEOUT_SECONDS = env_int("SMS_TIMEOUT_SECONDS", 10)
SMS_TWILIO_ACCOUNT_SID = os.environ.get("SMS_TWILIO_ACCOUNT_SID", "")
SMS_TWILIO_AUTH_TOKEN = os.environ.get("SMS_TWILIO_AUTH_TOKEN", "")
SMS_TWILIO_BASE_URL = os.environ.get("SMS_TWILIO_BASE_URL", "https://api.twilio.com")
NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", 5)
NOTIFY_RETRY_BASE_SECONDS = env_int("NOTIFY_RETRY_BASE_SECONDS", 60)
NOTIFY_LEASE_SECONDS = env_int("NOTIFY_LEASE_SECONDS", 120)
NOTIFY_SWEEP_INTERVAL_SECONDS = env_int("NOTIFY_SWEEP_INTERVAL_SECONDS", 60)
NOTIFY_SWEEP_GRACE_SECONDS = env_int("NOTIFY_SWEEP_GRACE_SECONDS", 120)
NOTIFICATIONS_MESSAGE_ID_DOMAIN = os.environ.get("NOTIFICATIONS_MESSAGE_ID_DOMAIN", "installer.local")
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static and media files ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "/media/"
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env_bool("STATIC_MANIFEST", True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Uploaded files (orders/files.py; docs/files.md) ----------------------------------------------
# Local disk (MEDIA_ROOT, never served as static media) by default; S3-compatible object storage
# through django-storages with STORAGE_BACKEND=s3. Keys are generated: <organization id>/<file id>.
STORAGE_BACKEND = os.environ.get("STORAGE_BACKEND", "local").strip().lower() or "local"
S3_PRESIGNED_EXPIRY = env_int("S3_PRESIGNED_EXPIRY", 300)
if STORAGE_BACKEND == "s3":
    _bucket = os.environ.get("AWS_STORAGE_BUCKET_NAME") or os.environ.get("S3_BUCKET")
    if not _bucket:
        raise ImproperlyConfigured("STORAGE_BACKEND=s3 needs AWS_STORAGE_BUCKET_NAME (or S3_BUCKET).")
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _bucket,
            "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
            "access_key": os.environ.get("AWS_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("AWS_SECRET_ACCESS_KEY") or None,
            "region_name": os.environ.get("S3_REGION") or os.environ.get("AWS_S3_REGION_NAME") or None,
            "addressing_style": os.environ.get("S3_ADDRESSING_STYLE") or None,
            "signature_version": "s3v4",
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": S3_PRESIGNED_EXPIRY,
            "file_overwrite": False,
        },
    }
elif STORAGE_BACKEND != "local":
    raise ImproperlyConfigured("STORAGE_BACKEND must be 'local' or 's3'.")
# Downloads from S3 redirect to a pre-signed URL unless the app should stream them itself.
FILES_PRESIGNED_REDIRECT = STORAGE_BACKEND == "s3" and not env_bool("S3_PROXY_DOWNLOADS", False)
FILE_MAX_SIZE = env_int("FILE_MAX_SIZE", 25 * 1024 * 1024)
# Empty = every type orders/files.py knows (images, PDF, office documents, plain text, CSV).
FILE_ALLOWED_TYPES = env_list("FILE_ALLOWED_TYPES")
# Uploads larger than this go to a temporary file on disk, never into memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 256 * 1024)
FILE_UPLOAD_TEMP_DIR = os.environ.get("FILE_UPLOAD_TEMP_DIR") or None
FILE_UPLOAD_PERMISSIONS = 0o600

# --- API ----------------------------------------------------------------------------------------
REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.api.permissions.OrganizationRolePermission"],
    "DEFAULT_RENDERER_CLASSES": ["installer.api.renderers.ORJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "installer.api.parsers.StrictJSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "EXCEPTION_HANDLER": "installer.api.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "installer.api.schema.ApiAutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": ["installer.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Installer API",
    "DESCRIPTION": "Installation orders: create, dispatch, book, track. Compatible with the Installer.com v1 API.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # The bearerAuth security scheme comes from accounts.api.authentication.BearerTokenScheme.
}

# Public webforms: submissions per client (REMOTE_ADDR) per minute, counted in the default cache.
WEBFORM_RATE_LIMIT = env_int("WEBFORM_RATE_LIMIT", 5)
# The customer's portal (docs/customers.md): actions per client address per minute (page forms
# and client API writes), client API reads per client address per minute, and the slots offered.
PORTAL_RATE_LIMIT = env_int("PORTAL_RATE_LIMIT", 10)
PORTAL_READ_RATE_LIMIT = env_int("PORTAL_READ_RATE_LIMIT", 120)
PORTAL_SLOT_MINUTES = env_int("PORTAL_SLOT_MINUTES", 120)
PORTAL_SLOT_DAYS = env_int("PORTAL_SLOT_DAYS", 14)

# How often (seconds) an API token's last_used_at is written at most.
TOKEN_LAST_USED_RESOLUTION = env_int("TOKEN_LAST_USED_RESOLUTION", 60)

# --- Security (production) ----------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY") else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Load balancers probe the health endpoints over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Logs: JSON lines with the request id (installer/logging.py) unless DEBUG; LOG_FORMAT=text|json.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "installer.logging.RequestContextFilter"}},
    "formatters": {
        "json": {"()": "installer.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "text",
            "filters": ["request_context"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

"""Django settings for CerCollettiva.

Every value comes from an environment variable with a working development default
(SQLite, debug on). `.env.example` lists them all.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean strictly: only true/false/1/0/yes/no are accepted."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false).")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


_DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105 (refused in production below)

DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", _DEV_SECRET_KEY)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")
# A refused form gets the site's styled, translated page, not Django's bare English one.
CSRF_FAILURE_VIEW = "cer.core.error_views.csrf_failure"

if not DEBUG:
    # Production must say what it wants: no default key, explicit hosts.
    if SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to a random value of 32+ chars.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must list the served host names.")
    if not os.environ.get("FIELD_ENCRYPTION_KEYS", "").strip():
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must hold at least one Fernet key (see docs/security.md)."
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "cer.core",
    "cer.access",
    "cer.accounts",
    "cer.eid",
    "cer.communities",
    "cer.constitution",
    "cer.grants",
    "cer.compliance",
    "cer.members",
    "cer.plants",
    "cer.metering",
    "cer.incentives",
    "cer.imports",
    "cer.audit",
    "cer.privacy",
    "cer.documents",
    "cer.notifications",
    "cer.communications",
    "cer.signing",
    "cer.api",
    "cer.settlement",
    "cer.distribution",
    "cer.billing",
    "cer.collections",
    "cer.treasury",
    "cer.reports",
    "cer.dashboards",
    "cer.alerts",
    "cer.demo",
    "django_celery_beat",
    "rules",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]

AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]

MIDDLEWARE = [
    # First: forwarded headers are honoured from trusted proxies only, before anything reads them.
    "cer.core.middleware.TrustedProxyMiddleware",
    # Times every request for /metrics (it sees the view name once the URL is resolved).
    "cer.core.metrics.RequestLatencyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "cer.core.middleware.ApiLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "cer.accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "cer.core.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "cer.notifications.context_processors.unread",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'cercollettiva.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded database serves the web app, settlement jobs and the ingestion worker
    # at once. WAL lets readers run beside the one writer; IMMEDIATE takes the write lock
    # when a transaction begins, so a second writer waits (up to the busy timeout, in
    # seconds) instead of failing with "database is locked" when its read turns into a write.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Argon2 first: new and changed passwords use it; older hashes are upgraded at login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "it"
LANGUAGES = [("it", "Italiano"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Rome"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Two caches. "default" holds what every worker process must share (throttling and
# lockout counters): a database table by default (made by a migration), Redis when
# CACHE_URL says redis://... (needs the `redis` package). "local" is each process's own
# memory, for figures that are versioned and also kept in a shared table (dashboards).
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES: dict[str, dict[str, object]] = {
    "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "cer"}
}
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CACHE_URL,
    }
else:
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "cer_cache",
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    }

# Referenti, community administrators and platform staff must log in with a second
# factor (staff always; turning this off is for a single-user test install only).
SECOND_FACTOR_REQUIRED_FOR_MANAGERS = env_bool("SECOND_FACTOR_REQUIRED_FOR_MANAGERS", True)
# django-otp: a TOTP code may be one 30-second step early or late (clock drift).
OTP_TOTP_ISSUER = "CerCollettiva"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
# TLS ends at a proxy in front of gunicorn. Its addresses (IPs or CIDRs, comma-separated)
# are the only ones whose X-Forwarded-For and X-Forwarded-Proto count:
# cer.core.middleware.TrustedProxyMiddleware drops those headers from anyone else before
# Django reads SECURE_PROXY_SSL_HEADER.
TRUSTED_PROXIES = env_list("DJANGO_TRUSTED_PROXIES", "")
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"DJANGO_TRUSTED_PROXIES: {_proxy!r} is not an IP address or network."
        ) from None
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
# Health checks and Prometheus reach gunicorn directly over HTTP: no redirect to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
# Joining the browsers' HSTS preload list is a decision for the operator, not a default.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# LOG_FORMAT=json writes one JSON object per line (cer/core/logging_json.py) for a log
# collector; the default is plain text.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text").strip().lower()
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: use text or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "cer.core.logging_json.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            **({"formatter": "json"} if LOG_FORMAT == "json" else {}),
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Error reporting to Sentry when SENTRY_DSN is set and sentry-sdk is installed (not a
# dependency: `pip install sentry-sdk`); set but not installed, a system check warns.
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    from cer.core.sentry import init_sentry

    init_sentry(
        SENTRY_DSN,
        environment=os.environ.get("SENTRY_ENVIRONMENT", "development" if DEBUG else "production"),
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0")),
    )

# Health and metrics (docs/deploy.md). HEALTH_EXPECT names the processes this deployment
# runs, whose heartbeats /healthz requires: ingest, scheduler, settlement (and broker to
# check the broker without an ingestion worker). The embedded default runs the scheduler.
HEALTH_EXPECT = os.environ.get("HEALTH_EXPECT", "scheduler")
# Who may read /metrics and the details of /healthz (IPs or networks, comma-separated).
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", "127.0.0.1,::1")
for _entry in METRICS_ALLOWED_IPS:
    try:
        ipaddress.ip_network(_entry, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"METRICS_ALLOWED_IPS: {_entry!r} is not an IP address or network."
        ) from None

# Uploads: limited in size, stored outside the code and the web root with random names.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024))
UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", 20 * 1024 * 1024))
# What an uploaded DOCX or ODT may expand to once decompressed, all its entries together.
UPLOAD_MAX_DECOMPRESSED_BYTES = int(
    os.environ.get("UPLOAD_MAX_DECOMPRESSED_BYTES", 100 * 1024 * 1024)
)
# Uploaded documents hold personal data: readable by the service's user only.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
# Fernet keys for `manage.py backup` (comma-separated: the first encrypts, all decrypt).
# When set, backups are written encrypted; keep the keys apart from the backups.
BACKUP_ENCRYPTION_KEY = os.environ.get("BACKUP_ENCRYPTION_KEY", "")

# Email: a real SMTP backend; development prints messages to the console.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "CerCollettiva <noreply@localhost>")
# The site's address as its users reach it: links in e-mails sent without a request at hand.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
# Local hour (Europe/Rome) at which the daily digest of notifications leaves.
NOTIFICATIONS_DIGEST_HOUR = int(os.environ.get("NOTIFICATIONS_DIGEST_HOUR", "8"))
# Days a file a member uploaded in answer to a communication is kept (at least 30).
COMMUNICATION_REPLY_FILE_RETENTION_DAYS = int(
    os.environ.get("COMMUNICATION_REPLY_FILE_RETENTION_DAYS", "365")
)
# SMS (docs/notifications.md): the provider ("skebby", or empty: SMS fail with that
# reason), its REST base URL, the account and the sender name shown on the phone.
SMS_PROVIDER = os.environ.get("SMS_PROVIDER", "")
SMS_API_URL = os.environ.get("SMS_API_URL", "https://api.skebby.it/API/v1.0/REST/")
SMS_USERNAME = os.environ.get("SMS_USERNAME", "")
SMS_PASSWORD = os.environ.get("SMS_PASSWORD", "")
SMS_SENDER = os.environ.get("SMS_SENDER", "CerColl")
# Web push: the VAPID private key (PEM, made on first use with mode 0600) and the contact
# the push services may write to (RFC 8292).
WEBPUSH_VAPID_PRIVATE_KEY_FILE = Path(
    os.environ.get("WEBPUSH_VAPID_PRIVATE_KEY_FILE", BASE_DIR / "var" / "vapid_private.pem")
)
WEBPUSH_CONTACT = os.environ.get("WEBPUSH_CONTACT", "mailto:admin@localhost")
# Plain-http push endpoints on 127.0.0.1 (a local test endpoint); never in production.
WEBPUSH_LOCAL_HTTP = env_bool("WEBPUSH_LOCAL_HTTP", DEBUG)

# MQTT broker and the account the platform uses to manage device accounts on it.
MQTT_HOST = os.environ.get("MQTT_HOST", "127.0.0.1")
MQTT_PORT = int(os.environ.get("MQTT_PORT", "1883"))
MQTT_ADMIN_USER = os.environ.get("MQTT_ADMIN_USER", "cer-admin")
MQTT_ADMIN_PASSWORD = os.environ.get("MQTT_ADMIN_PASSWORD", "")
# The ingestion worker's own account (subscribe to cer/#), and the CA of a TLS listener.
MQTT_INGEST_USER = os.environ.get("MQTT_INGEST_USER", "cer-ingest")
MQTT_INGEST_PASSWORD = os.environ.get("MQTT_INGEST_PASSWORD", "")
MQTT_CA_FILE = os.environ.get("MQTT_CA_FILE", "")
# Ingestion workers share the stream as one MQTT 5 shared-subscription group
# ($share/<group>/cer/#); each keeps its session this long [s] after a disconnect.
MQTT_SHARE_GROUP = os.environ.get("MQTT_SHARE_GROUP", "cer-ingest")
MQTT_SESSION_EXPIRY_S = int(os.environ.get("MQTT_SESSION_EXPIRY_S", str(7 * 24 * 3600)))
# Where installers point their devices: the broker's address as seen from the field.
MQTT_PUBLIC_HOST = os.environ.get("MQTT_PUBLIC_HOST", "") or MQTT_HOST
MQTT_PUBLIC_PORT = int(
    os.environ.get("MQTT_PUBLIC_PORT", "") or (8883 if MQTT_CA_FILE else MQTT_PORT)
)
# Days a rejected metering message is kept before `apply_retention` deletes it (at least 30).
REJECTED_MESSAGE_RETENTION_DAYS = int(os.environ.get("REJECTED_MESSAGE_RETENTION_DAYS", "365"))
# Days a counter value in quarantine (or discarded) is kept before `apply_retention` deletes it.
COUNTER_QUARANTINE_RETENTION_DAYS = int(os.environ.get("COUNTER_QUARANTINE_RETENTION_DAYS", "365"))
# Days the file a background task made (an export, a bundle of statements) is kept after
# the task ended, before `apply_retention` deletes it; the record of the task stays.
TASK_RESULT_RETENTION_DAYS = int(os.environ.get("TASK_RESULT_RETENTION_DAYS", "7"))
# Days the digest of an accepted status message is kept (redeliveries come within days).
INGESTED_MESSAGE_RETENTION_DAYS = int(os.environ.get("INGESTED_MESSAGE_RETENTION_DAYS", "30"))
# Readings posted over HTTP (cer.metering.limits): requests per minute per client address
# and per device username; wrong secrets per username and per address before a lockout
# of METERING_HTTP_LOCKOUT_SECONDS, during which no secret is hashed.
METERING_HTTP_REQUESTS_PER_ADDRESS = int(
    os.environ.get("METERING_HTTP_REQUESTS_PER_ADDRESS", "120")
)
METERING_HTTP_REQUESTS_PER_DEVICE = int(os.environ.get("METERING_HTTP_REQUESTS_PER_DEVICE", "30"))
METERING_HTTP_FAILED_SECRETS_PER_DEVICE = int(
    os.environ.get("METERING_HTTP_FAILED_SECRETS_PER_DEVICE", "10")
)
METERING_HTTP_FAILED_SECRETS_PER_ADDRESS = int(
    os.environ.get("METERING_HTTP_FAILED_SECRETS_PER_ADDRESS", "30")
)
METERING_HTTP_LOCKOUT_SECONDS = int(os.environ.get("METERING_HTTP_LOCKOUT_SECONDS", "900"))
# Readings from devices: instants more than this many days before their arrival, or
# before the device was registered, are rejected (a clock never set); one message may
# reach over at most this many hours (cer.metering.ingest.TimeBounds).
METERING_MAX_SAMPLE_AGE_DAYS = int(os.environ.get("METERING_MAX_SAMPLE_AGE_DAYS", "400"))
METERING_MAX_HOURS_PER_MESSAGE = int(os.environ.get("METERING_MAX_HOURS_PER_MESSAGE", "48"))

# REST API: session for the web app, JWT for integrations; one error shape.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "cer.api.authentication.PersonalTokenAuthentication",
        "cer.api.authentication.ApiJWTAuthentication",
        "cer.api.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "EXCEPTION_HANDLER": "cer.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "COERCE_DECIMAL_TO_STRING": True,
    # Throttles key on REMOTE_ADDR, which TrustedProxyMiddleware has already resolved;
    # never on a client-supplied X-Forwarded-For.
    "NUM_PROXIES": 0,
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_ANON", "60/min"),
        "user": os.environ.get("API_THROTTLE_USER", "1200/min"),
        "login": os.environ.get("API_THROTTLE_LOGIN", "10/min"),
    },
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": dt.timedelta(minutes=int(os.environ.get("JWT_ACCESS_MINUTES", "15"))),
    "REFRESH_TOKEN_LIFETIME": dt.timedelta(days=int(os.environ.get("JWT_REFRESH_DAYS", "7"))),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CerCollettiva API",
    "DESCRIPTION": "Members, plants, readings and settlement of Italian energy communities.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "DEFAULT_GENERATOR_CLASS": "cer.api.schema.ApiSchemaGenerator",
}

# Settlement jobs run in a thread of the web process by default (one machine); in
# production set this to false and run `manage.py run_settlement_jobs` as a worker.
SETTLEMENT_JOBS_IN_PROCESS = env_bool("SETTLEMENT_JOBS_IN_PROCESS", True)

# Background tasks on Celery with Redis (docs/tasks.md). TASKS_ON_CELERY sends settlement
# months and the other tasks to the workers (`make run` and production turn it on);
# without it the embedded fallbacks run them (a thread, `run_periodic`). Tests keep it
# off, or turn on CELERY_TASK_ALWAYS_EAGER to run a task inline.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
TASKS_ON_CELERY = env_bool("TASKS_ON_CELERY", False)
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_RESULT_EXPIRES = dt.timedelta(days=1)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# A task is acknowledged when it ends, not when it starts, and one lost with its worker
# goes back to the queue: with one message fetched at a time, a killed worker holds
# back one task, which another worker runs (the job row's claim keeps it to one run).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT_S", "1800"))
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 60
# Redis hands an unacknowledged message to another worker after this many seconds: longer
# than the hard time limit, so a task still running is never delivered twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(
        os.environ.get("CELERY_VISIBILITY_TIMEOUT_S", str(CELERY_TASK_TIME_LIMIT + 300))
    ),
    "unacked_restore_interval": int(os.environ.get("CELERY_RESTORE_INTERVAL_S", "10")),
    "unacked_restore_throttle": int(os.environ.get("CELERY_RESTORE_THROTTLE", "10")),
}
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "celery")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# A running settlement job holds a lease its worker renews; a job whose lease ran out
# belongs to a dead worker, and the redelivered task (or the recovery job) takes it over.
SETTLEMENT_JOB_LEASE_S = int(os.environ.get("SETTLEMENT_JOB_LEASE_S", "60"))

# Key for personal identifiers and device secrets encrypted at rest (Fernet keys,
# comma-separated: the first encrypts, all decrypt, so keys can be rotated).
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", "")

# Tests only: a test that rolls back by re-saving the database's initial rows one by one
# (serialized_rollback) skips the 7,900 municipalities; tests/conftest.py loads them
# back in bulk after every transactional test instead.
TEST_NON_SERIALIZED_APPS = ["cer.core"]

# Digital signatures (docs/signatures.md). Verification: the folder of trusted CA
# certificates (PEM or DER), and whether revocation data may be fetched from the network
# (off: only what the signed file embeds is used).
SIGNATURE_TRUST_ANCHORS_DIR = os.environ.get(
    "SIGNATURE_TRUST_ANCHORS_DIR", str(BASE_DIR / "var" / "trust-anchors")
)
SIGNATURE_ALLOW_FETCHING = os.environ.get("SIGNATURE_ALLOW_FETCHING", "") == "1"
# Signing by the platform (PAdES seal): key and certificate files (PEM or DER) with an
# optional chain, or a PKCS#12 file whose passphrase is in the named environment variable;
# a timestamp from the TSA when its URL is set. Unset: the platform does not sign.
PLATFORM_SIGNING_KEY_FILE = os.environ.get("PLATFORM_SIGNING_KEY_FILE", "")
PLATFORM_SIGNING_CERT_FILE = os.environ.get("PLATFORM_SIGNING_CERT_FILE", "")
PLATFORM_SIGNING_CHAIN_FILES = [
    f for f in os.environ.get("PLATFORM_SIGNING_CHAIN_FILES", "").split(os.pathsep) if f
]
PLATFORM_SIGNING_KEY_PASSPHRASE_ENV = "PLATFORM_SIGNING_KEY_PASSPHRASE"  # noqa: S105 — a name
PLATFORM_SIGNING_PKCS12_FILE = os.environ.get("PLATFORM_SIGNING_PKCS12_FILE", "")
PLATFORM_TSA_URL = os.environ.get("PLATFORM_TSA_URL", "")

# pagoPA debt positions (GPD) for communities run by a public body: docs/collections.md.
PAGOPA_GPD_URL = os.environ.get("PAGOPA_GPD_URL", "https://api.uat.platform.pagopa.it/gpd/api/v1")
PAGOPA_GPD_SUBSCRIPTION_KEY = os.environ.get("PAGOPA_GPD_SUBSCRIPTION_KEY", "")
PAGOPA_SEGREGATION_CODE = os.environ.get("PAGOPA_SEGREGATION_CODE", "01")
# Login with SPID (SAML2) and CIE (OpenID Connect), off by default (docs/spid-cie.md).
# SPID: the service provider's entity ID (its public URL), key and certificate files (PEM),
# the IdP metadata files (path-separated), the level asked (1, 2 or 3) and the contact data
# the SPID metadata must carry.
SPID_ENABLED = env_bool("SPID_ENABLED", False)
SPID_ENTITY_ID = os.environ.get("SPID_ENTITY_ID", "")
SPID_KEY_FILE = os.environ.get("SPID_KEY_FILE", "")
SPID_CERT_FILE = os.environ.get("SPID_CERT_FILE", "")
SPID_IDP_METADATA_FILES = [
    f for f in os.environ.get("SPID_IDP_METADATA_FILES", "").split(os.pathsep) if f
]
SPID_LEVEL = int(os.environ.get("SPID_LEVEL", "2"))
SPID_ORGANIZATION_NAME = os.environ.get("SPID_ORGANIZATION_NAME", "")
SPID_ORGANIZATION_URL = os.environ.get("SPID_ORGANIZATION_URL", "")
SPID_CONTACT_EMAIL = os.environ.get("SPID_CONTACT_EMAIL", "")
SPID_CONTACT_PHONE = os.environ.get("SPID_CONTACT_PHONE", "")
SPID_CONTACT_VAT_NUMBER = os.environ.get("SPID_CONTACT_VAT_NUMBER", "")
SPID_CONTACT_FISCAL_CODE = os.environ.get("SPID_CONTACT_FISCAL_CODE", "")
# CIE: the provider's issuer (its discovery document is read from
# <issuer>/.well-known/openid-configuration), our client ID, our private key (PEM, signs
# the client assertion at the token endpoint) and the level asked.
CIE_ENABLED = env_bool("CIE_ENABLED", False)
CIE_ISSUER = os.environ.get("CIE_ISSUER", "")
CIE_CLIENT_ID = os.environ.get("CIE_CLIENT_ID", "")
CIE_CLIENT_KEY_FILE = os.environ.get("CIE_CLIENT_KEY_FILE", "")
CIE_LEVEL = int(os.environ.get("CIE_LEVEL", "2"))

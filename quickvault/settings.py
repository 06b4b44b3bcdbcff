"""Settings for QuickVault AI-OCR, read from the environment.

With none of DATABASE_URL, REDIS_URL, OPENAI_API_KEY or OPENAI_BASE_URL set, the service runs on its
embedded default: SQLite in WAL mode, the local-memory cache, eager Celery tasks and the built-in
``rules`` extractor.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "").strip()
    return [item.strip() for item in value.split(",") if item.strip()] if value else default


DEBUG = env_bool("DEBUG", False)
# A fixed development key keeps `make run` zero-configuration; production sets SECRET_KEY.
SECRET_KEY = env_str("SECRET_KEY") or "insecure-development-key-set-SECRET_KEY-in-production"
# Encrypts API key secrets at rest; defaults to one derived from SECRET_KEY.
API_KEY_ENCRYPTION_KEY = env_str("API_KEY_ENCRYPTION_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_prometheus",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "prompts",
    "ocr",
    "analytics",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "ocr.middleware.ApiErrorMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

# /metrics answers to this bearer token, or to clients connecting from these networks (CIDR).
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS", ["127.0.0.1/32", "::1/128"])

ROOT_URLCONF = "quickvault.urls"
WSGI_APPLICATION = "quickvault.wsgi.application"
ASGI_APPLICATION = "quickvault.asgi.application"

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


def database_config() -> dict:
    url = env_str("DATABASE_URL")
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH") or str(BASE_DIR / "db.sqlite3"),
            "OPTIONS": {
                # WAL lets readers run beside the writer; IMMEDIATE transactions and a busy
                # timeout make concurrent writers queue instead of failing as "locked".
                "init_command": (
                    "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=20000;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            "TEST": {"NAME": env_str("SQLITE_TEST_PATH") or None},
        }
    config = dj_database_url.parse(url)
    if config["ENGINE"] == "django.db.backends.postgresql":
        # A pool per worker process (Django's own pooling needs CONN_MAX_AGE 0). An API request
        # holds a connection only while it runs a query: its database work runs on one thread
        # per worker that hands the connection back after each call (quickvault/asgi.py), and
        # the request log writes many requests' rows at once (ocr.request_log), so a few
        # connections serve a hundred requests in flight. Keep
        # WORKERS x DB_POOL_MAX_SIZE (plus the Celery workers) under max_connections.
        config["CONN_MAX_AGE"] = 0
        config.setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DB_POOL_MIN_SIZE", 4),
            "max_size": env_int("DB_POOL_MAX_SIZE", 20),
            "timeout": env_float("DB_POOL_TIMEOUT", 10.0),
        }
    return config


DATABASES = {"default": database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "quickvault.cache.AsyncRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "qv"),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                # A Redis outage degrades to cache misses instead of failing requests.
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
                # Past max_connections a blocking pool waits (up to a second) for a free
                # connection; the default pool would fail the call, which the nonce check
                # would then have to treat as Redis being down.
                "CONNECTION_POOL_CLASS": "redis.BlockingConnectionPool",
                "CONNECTION_POOL_KWARGS": {
                    "max_connections": env_int("REDIS_MAX_CONNECTIONS", 100),
                    "timeout": 1,
                },
            },
        }
    }
    DJANGO_REDIS_IGNORE_EXCEPTIONS = True
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {
        "default": {
            "BACKEND": "quickvault.cache.InlineLocMemCache",
            "LOCATION": "quickvault",
            "OPTIONS": {"MAX_ENTRIES": 10000},
        }
    }

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "purge-request-log": {"task": "ocr.tasks.purge_request_log", "schedule": 6 * 3600},
}

RATELIMIT_USE_CACHE = "default"
# The limiter must not fail closed while Redis is unreachable.
RATELIMIT_FAIL_OPEN = True
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Static files are served from the app folders (WHITENOISE_USE_FINDERS): collectstatic is optional;
# WhiteNoise warns about a STATIC_ROOT that does not exist, so one is set only once it is there.
STATIC_ROOT = env_str("STATIC_ROOT") or (
    BASE_DIR / "staticfiles" if (BASE_DIR / "staticfiles").is_dir() else None
)
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the app folders so `make run` needs no collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# The analyze API enforces the spec's 256 KiB limit itself; this keeps Django's own guard above it.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "ocr.auth.BearerTokenAuthentication",
        "ocr.auth.SignatureAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "ocr.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "QuickVault AI-OCR API",
    "DESCRIPTION": "Turns the OCR text of identity and business documents into validated fields.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The schema and the docs page are public; the API's authenticators are async-only.
    "SERVE_AUTHENTICATION": [],
}

# The service's own knobs. Read through django.conf.settings inside functions.
QV_SIGNATURE_WINDOW_SECONDS = 300
QV_TOKEN_TTL_SECONDS = 900
# Active keys are read from the cache; saving or deleting a key clears its entry. Short, because
# without REDIS_URL each worker has a cache of its own that another worker's revocation can't
# clear: this is how long such a worker may still accept a revoked key.
QV_API_KEY_CACHE_SECONDS = 10
QV_DEFAULT_RATE_LIMIT = env_int("QV_DEFAULT_RATE_LIMIT", 60)
QV_MAX_BODY_BYTES = 256 * 1024
QV_MAX_LINES = 200
QV_MAX_LINE_CHARS = 2000
QV_MAX_TOTAL_CHARS = 20000
QV_MAX_BATCH_ITEMS = 20
QV_STORE_RAW_TEXT = env_bool("QV_STORE_RAW_TEXT", False)
# The request log holds personal data; rows older than this are deleted.
QV_LOG_RETENTION_DAYS = env_int("QV_LOG_RETENTION_DAYS", 90)
QV_RESULT_CACHE_SECONDS = env_int("QV_RESULT_CACHE_SECONDS", 600)

OPENAI_API_KEY = env_str("OPENAI_API_KEY")
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL")
OPENAI_MODEL = env_str("OPENAI_MODEL", "gpt-4o-mini")
OPENAI_TIMEOUT_SECONDS = env_float("OPENAI_TIMEOUT_SECONDS", 30.0)
OPENAI_MAX_ATTEMPTS = env_int("OPENAI_MAX_ATTEMPTS", 3)
OPENAI_REQUEST_BUDGET_SECONDS = env_float("OPENAI_REQUEST_BUDGET_SECONDS", 60.0)
OPENAI_MAX_CONNECTIONS = env_int("OPENAI_MAX_CONNECTIONS", 200)
# The model path (ocr/providers/openai.py). "auto" uses the model when OPENAI_API_KEY or
# OPENAI_BASE_URL is set and the built-in extractor otherwise; "rules" or "openai" force one.
QV_PROVIDER = env_str("QV_PROVIDER", "auto")
OPENAI_RETRY_INITIAL_SECONDS = env_float("OPENAI_RETRY_INITIAL_SECONDS", 0.5)
OPENAI_RETRY_MAX_SECONDS = env_float("OPENAI_RETRY_MAX_SECONDS", 8.0)
# Retry-After above this is not waited for: the request falls back instead.
OPENAI_RETRY_AFTER_MAX_SECONDS = env_float("OPENAI_RETRY_AFTER_MAX_SECONDS", 20.0)
OPENAI_JSON_MODE = env_bool("OPENAI_JSON_MODE", True)
# Items of one type merged into one model call by batch analyze.
OPENAI_BATCH_MAX_ITEMS = env_int("OPENAI_BATCH_MAX_ITEMS", 10)
OPENAI_BATCH_MAX_TOKENS = env_int("OPENAI_BATCH_MAX_TOKENS", 12000)
OPENAI_CIRCUIT_MIN_FAILURES = env_int("OPENAI_CIRCUIT_MIN_FAILURES", 5)
OPENAI_CIRCUIT_FAILURE_RATIO = env_float("OPENAI_CIRCUIT_FAILURE_RATIO", 0.5)
OPENAI_CIRCUIT_WINDOW_SECONDS = env_int("OPENAI_CIRCUIT_WINDOW_SECONDS", 30)
OPENAI_CIRCUIT_OPEN_SECONDS = env_float("OPENAI_CIRCUIT_OPEN_SECONDS", 30.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # A line per model call otherwise.
        "httpx": {"level": "WARNING"},
        "openai": {"level": "WARNING"},
    },
}

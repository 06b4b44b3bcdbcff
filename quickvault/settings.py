"""Settings for QuickVault AI-OCR, read from the environment.

With none of DATABASE_URL, REDIS_URL, OPENAI_API_KEY or OPENAI_BASE_URL set, the service runs on its
embedded default: SQLite in WAL mode, the local-memory cache, eager Celery tasks and the built-in
``rules`` extractor.
"""

import os
import tempfile
from datetime import timedelta
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


def env_proxy_ssl_header(name: str) -> tuple[str, str] | None:
    """`1` (or true/yes/on): X-Forwarded-Proto; a header name: that header; unset: None."""
    value = env_str(name)
    if not value or value.lower() in {"0", "false", "no", "off"}:
        return None
    header = "X-Forwarded-Proto" if value.lower() in {"1", "true", "yes", "on"} else value
    return "HTTP_" + header.upper().replace("-", "_"), "https"


DEBUG = env_bool("DEBUG", False)
# Only ever with DEBUG on (`make run` sets it). With DEBUG off and no SECRET_KEY the key stays
# empty: commands that need none (migrate, collectstatic) still run, anything that signs fails,
# and a server refuses to start in one line (quickvault.startup). The text is kept as it was so
# the API keys a development database holds stay readable.
DEVELOPMENT_SECRET_KEY = "insecure-development-key-set-SECRET_KEY-in-production"
SECRET_KEY = env_str("SECRET_KEY") or (DEVELOPMENT_SECRET_KEY if DEBUG else "")
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])
# Bearer tokens are signed with a key derived from TOKEN_SIGNING_KEY (else SECRET_KEY); tokens
# signed under the fallbacks (else SECRET_KEY_FALLBACKS) are still accepted: see ocr.auth.
TOKEN_SIGNING_KEY = env_str("TOKEN_SIGNING_KEY")
TOKEN_SIGNING_KEY_FALLBACKS = env_list("TOKEN_SIGNING_KEY_FALLBACKS", [])
# Fernet keys for API key secrets at rest, newest first: the first encrypts, all decrypt
# (`manage.py reencrypt_api_keys` moves every secret to the first). Unset, a key derived from
# SECRET_KEY encrypts, and rotating SECRET_KEY would lock every API key out: set it in
# production. See ocr.key_secrets.secret_cipher.
API_KEY_ENCRYPTION_KEY = env_list("API_KEY_ENCRYPTION_KEY", [])
# Encrypts the raw OCR text the request log keeps (QV_STORE_RAW_TEXT): comma-separated Fernet
# keys, the first encrypting, all decrypting (rotation). Only DEBUG derives one from SECRET_KEY.
RAW_TEXT_ENCRYPTION_KEY = env_list("RAW_TEXT_ENCRYPTION_KEY", [])
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# HTTPS only in production (DEBUG off); `make run` serves plain HTTP on 127.0.0.1 with DEBUG on.
# Probes and scrapes reach the health check and the metrics over plain HTTP inside a cluster.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
# Only behind a proxy that sets the header itself (and strips it from clients): anyone else
# could claim HTTPS with it.
SECURE_PROXY_SSL_HEADER = env_proxy_ssl_header("SECURE_PROXY_SSL_HEADER")

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
    "axes",
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
    # Last, as its documentation asks: answers a locked-out login with 429.
    "axes.middleware.AxesMiddleware",
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
                # timeout make concurrent writers queue instead of failing as "locked". Pages
                # are read through a memory map: a write from another worker empties each
                # connection's page cache, and reading the pages again by read() calls cost
                # 7-13% of an analysis's writes once the log held tens of thousands of rows
                # (bench/sqlite_writes.py).
                "init_command": (
                    "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=20000;"
                    "PRAGMA mmap_size=268435456;"
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
        # per worker that hands the connection back after each call
        # (quickvault/runtime/handler.py), and the request log writes many requests' rows at
        # once (ocr.request_log), so a few
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

# The API's fast path (quickvault/runtime/README.md): its ASGI handler, middleware chain and cache
# backends. Off, the service runs on Django's and django-redis's stock code.
QV_FAST_API_PATH = env_bool("QV_FAST_API_PATH", True)

REDIS_URL = env_str("REDIS_URL")
# A Redis call's total time; a hung Redis costs a request at most this once, then it is skipped
# for QV_REDIS_SKIP_SECONDS (quickvault/redis_guard.py).
QV_REDIS_TIMEOUT_SECONDS = env_float("QV_REDIS_TIMEOUT_SECONDS", 0.5)
QV_REDIS_SKIP_SECONDS = env_float("QV_REDIS_SKIP_SECONDS", 5.0)


def cache_config(redis_url: str, *, fast_path: bool) -> dict:
    """The default cache: Redis at `redis_url`, else the in-process cache; the fast path's
    backends (quickvault/runtime) or the stock ones."""
    if not redis_url:
        return {
            "BACKEND": (
                "quickvault.runtime.cache.InlineLocMemCache"
                if fast_path
                else "django.core.cache.backends.locmem.LocMemCache"
            ),
            "LOCATION": "quickvault",
            "OPTIONS": {"MAX_ENTRIES": 10000},
        }
    return {
        "BACKEND": (
            "quickvault.redis_guard.GuardedAsyncRedisCache"
            if fast_path
            else "quickvault.redis_guard.GuardedRedisCache"
        ),
        "LOCATION": redis_url,
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "qv"),
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            # A Redis outage degrades to cache misses instead of failing requests.
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": QV_REDIS_TIMEOUT_SECONDS,
            "SOCKET_TIMEOUT": QV_REDIS_TIMEOUT_SECONDS,
            # Past max_connections a blocking pool waits (briefly) for a free connection; the
            # default pool would fail the call, which the nonce check would then have to treat
            # as Redis being down.
            "CONNECTION_POOL_CLASS": "redis.BlockingConnectionPool",
            "CONNECTION_POOL_KWARGS": {
                "max_connections": env_int("REDIS_MAX_CONNECTIONS", 100),
                "timeout": 2 * QV_REDIS_TIMEOUT_SECONDS,
            },
        },
    }


CACHES = {"default": cache_config(REDIS_URL, fast_path=QV_FAST_API_PATH)}
if REDIS_URL:
    DJANGO_REDIS_IGNORE_EXCEPTIONS = True
    # An outage is logged once by quickvault/redis_guard.py, not once per call.
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = False
# The rate limiter's per-minute counters must be shared by every worker: in Redis where there is
# one, else in a table of the database with one-statement increments (quickvault.counters).
CACHES["ratelimit"] = (
    dict(CACHES["default"])
    if REDIS_URL
    else {"BACKEND": "quickvault.counters.DatabaseCounterCache", "LOCATION": "ocr_ratecounter"}
)

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# As Celery's documentation advises for work that must not be lost: a task is acknowledged once
# it has run, so a worker killed mid-run leaves it to run again (every task is idempotent), and
# one whose worker process died is re-queued, not dropped. One task reserved at a time.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task that runs past the soft limit is told to stop (SoftTimeLimitExceeded), past the hard
# one it is killed. Both stay below the broker's visibility timeout: a task still running when
# that passes would be handed to a second worker as well.
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 540)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
}
CELERY_BEAT_SCHEDULE = {
    "purge-request-log": {"task": "ocr.tasks.purge_request_log", "schedule": 6 * 3600},
    "purge-used-nonces": {"task": "ocr.tasks.purge_used_nonces", "schedule": 10 * 60},
    # Each type's default re-evaluated on its gate test set (prompts.releases).
    "evaluate-gated-defaults": {
        "task": "ocr.tasks.evaluate_gated_defaults",
        "schedule": env_int("QV_GATE_EVALUATION_HOURS", 24) * 3600,
    },
}
# Beat's state lives outside the checkout.
CELERY_BEAT_SCHEDULE_FILENAME = env_str("CELERY_BEAT_SCHEDULE_FILENAME") or str(
    Path(tempfile.gettempdir()) / "quickvault-celerybeat-schedule"
)

RATELIMIT_USE_CACHE = "ratelimit"
# The limiter must not fail closed while Redis is unreachable.
RATELIMIT_FAIL_OPEN = True
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Staff login is throttled (django-axes): after AXES_FAILURE_LIMIT failures of one user name from
# one address, that pair is locked out for AXES_COOLOFF_TIME, with a 429. The attempts are kept
# in the database, so every worker shares them, with or without Redis. Only the peer address
# counts: a proxy's forwarded header is not trusted for it.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

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
    "DEFAULT_PARSER_CLASSES": ["ocr.parsers.BoundedJSONParser"],
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
    "SWAGGER_UI_FAVICON_HREF": f"/{STATIC_URL}favicon.svg",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The schema and the docs page are public; the API's authenticators are async-only.
    "SERVE_AUTHENTICATION": [],
}

# The service's own knobs. Read through django.conf.settings inside functions.
QV_SIGNATURE_WINDOW_SECONDS = 300
# Tokens are issued for this long, and one that claims a longer life is refused, whatever it says.
QV_TOKEN_TTL_SECONDS = env_int("QV_TOKEN_TTL_SECONDS", 900)
# Where the nonces of signed requests are remembered, shared by every worker: "cache" (Redis)
# or "database" (ocr.models.UsedNonce). With Redis unreachable the check fails closed (503 with
# Retry-After) unless QV_NONCE_FAIL_OPEN is on; then the timestamp window alone bounds replays.
QV_NONCE_STORE = env_str("QV_NONCE_STORE") or ("cache" if REDIS_URL else "database")
QV_NONCE_FAIL_OPEN = env_bool("QV_NONCE_FAIL_OPEN", False)
QV_NONCE_RETRY_AFTER_SECONDS = 5
# Where idempotency records (ocr.models.IdempotencyRecord) and daily quota counts (the rate
# limiter's counter table) live without Redis: "database", shared by every worker; with Redis,
# "cache". An in-process cache would let each worker count and answer on its own.
QV_IDEMPOTENCY_STORE = env_str("QV_IDEMPOTENCY_STORE") or ("cache" if REDIS_URL else "database")
QV_QUOTA_STORE = env_str("QV_QUOTA_STORE") or ("cache" if REDIS_URL else "database")
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
# Request bodies (and model answers) nested deeper than this are refused before decoding.
QV_MAX_JSON_DEPTH = 32
QV_STORE_RAW_TEXT = env_bool("QV_STORE_RAW_TEXT", False)
# The request log holds personal data; rows older than this are deleted.
QV_LOG_RETENTION_DAYS = env_int("QV_LOG_RETENTION_DAYS", 90)
QV_RESULT_CACHE_SECONDS = env_int("QV_RESULT_CACHE_SECONDS", 600)
# A request-log row the database refuses is written again once, this much later, in the
# background; at most this many wait (each lost one is logged with its tokens and cost).
QV_LOG_RETRY_SECONDS = env_float("QV_LOG_RETRY_SECONDS", 5.0)
QV_LOG_RETRY_MAX_ROWS = env_int("QV_LOG_RETRY_MAX_ROWS", 10000)

OPENAI_API_KEY = env_str("OPENAI_API_KEY")
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL")
OPENAI_MODEL = env_str("OPENAI_MODEL", "gpt-4o-mini")
OPENAI_TIMEOUT_SECONDS = env_float("OPENAI_TIMEOUT_SECONDS", 30.0)
OPENAI_MAX_ATTEMPTS = env_int("OPENAI_MAX_ATTEMPTS", 3)
OPENAI_REQUEST_BUDGET_SECONDS = env_float("OPENAI_REQUEST_BUDGET_SECONDS", 60.0)
# Model calls a worker holds open at once; past it, analyses queue for a connection. Each one in
# flight also holds its client's socket: a worker raises its open-file limit to match
# (quickvault/runtime/limits.py).
OPENAI_MAX_CONNECTIONS = env_int("OPENAI_MAX_CONNECTIONS", 1000)
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
        "httpx2": {"level": "WARNING"},
        "openai": {"level": "WARNING"},
    },
}

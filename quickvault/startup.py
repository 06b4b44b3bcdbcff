"""What a server checks before it takes requests, and how a failed start reads: one line.

``manage.py`` and the gunicorn configuration of ``make serve`` (``quickvault/gunicorn.conf.py``)
call these; a missing SECRET_KEY or a database that cannot be reached then stops the process with
one line that names the cause, not a traceback or a pool's retries.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SECRET_KEY_MISSING = (
    "SECRET_KEY is not set and DEBUG is off: set SECRET_KEY to 50 or more random characters "
    "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), or DEBUG=1 for development."
)
ENCRYPTION_KEY_MISSING = (
    "API_KEY_ENCRYPTION_KEY is not set: API key secrets are encrypted under a key derived from "
    "SECRET_KEY, and rotating SECRET_KEY would lock every API key out (see the README)."
)
# Long enough for a remote database, short enough that a wrong address fails the start promptly.
CONNECT_TIMEOUT_SECONDS = 5


DEVELOPMENT_KEY_IN_PRODUCTION = (
    "SECRET_KEY is the development key, which is public, and DEBUG is off: set SECRET_KEY to 50 or "
    "more random characters."
)
SHORT_SECRET_KEY = "SECRET_KEY is shorter than 50 characters: make a longer, random one."
SECRET_KEY_MIN_LENGTH = 50


def secret_key_problem() -> str | None:
    try:
        key = settings.SECRET_KEY
    except ImproperlyConfigured:  # Django refuses an empty key when it is read
        return SECRET_KEY_MISSING
    if not settings.DEBUG and key == getattr(settings, "DEVELOPMENT_SECRET_KEY", None):
        return DEVELOPMENT_KEY_IN_PRODUCTION
    return None


def database_location(config: dict) -> str:
    """HOST:PORT/NAME of a database configuration (never its password)."""
    if "sqlite" in config["ENGINE"]:
        return str(config["NAME"])
    return f"{config.get('HOST') or 'localhost'}:{config.get('PORT') or 5432}/{config['NAME']}"


def database_problem() -> str | None:
    """Why the default database cannot be reached, in one line; None where it can.

    PostgreSQL is probed with a connection of its own, outside the pool: the pool retries for
    its whole timeout, logging each attempt, and then names no cause."""
    config = settings.DATABASES["default"]
    try:
        if "sqlite" in config["ENGINE"]:
            probe_sqlite(Path(config["NAME"]))
        elif "postgresql" in config["ENGINE"]:
            probe_postgresql(config)
        else:
            return None
    except Exception as error:  # whatever the driver raises, the start fails with its words
        # libpq's first line ends with the cause ("... failed: Connection refused").
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        reason = first_line.rsplit("failed: ", 1)[-1].strip()
        return f"Cannot connect to the database at {database_location(config)}: {reason}"
    return None


def probe_sqlite(path: Path) -> None:
    if not path.parent.is_dir():
        raise FileNotFoundError(f"the folder {path.parent} does not exist")
    sqlite3.connect(path, timeout=CONNECT_TIMEOUT_SECONDS).close()


def probe_postgresql(config: dict) -> None:
    import psycopg

    params = {
        "dbname": config["NAME"],
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
    }
    for name in ("sslmode", "sslrootcert", "sslcert", "sslkey", "options"):
        if name in config.get("OPTIONS", {}):
            params[name] = config["OPTIONS"][name]
    psycopg.connect(**{name: value for name, value in params.items() if value is not None}).close()


def serving_problems() -> list[str]:
    """What stops this process from serving: a missing SECRET_KEY, an unreachable database."""
    return [problem for problem in (secret_key_problem(), database_problem()) if problem]


def serving_warnings() -> list[str]:
    if settings.DEBUG:
        return []
    warnings = []
    if len(settings.SECRET_KEY) < SECRET_KEY_MIN_LENGTH:
        warnings.append(SHORT_SECRET_KEY)
    if not settings.API_KEY_ENCRYPTION_KEY:
        warnings.append(ENCRYPTION_KEY_MISSING)
    return warnings


def exit_unless_ready() -> None:
    """Exit with status 1 and one line a problem where this process cannot serve; print the
    warnings of a production set-up otherwise."""
    problems = serving_problems()
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr, flush=True)
    if problems:
        sys.exit(1)
    for warning in serving_warnings():
        print(f"warning: {warning}", file=sys.stderr, flush=True)


def describe_failure(error: Exception) -> str:
    """One line for a command that failed on its configuration or its database."""
    if isinstance(error, ImproperlyConfigured) and "SECRET_KEY" in str(error):
        return SECRET_KEY_MISSING
    if isinstance(error, ImproperlyConfigured):
        return str(error).strip().splitlines()[0]
    return database_problem() or f"Database error: {str(error).strip().splitlines()[0]}"

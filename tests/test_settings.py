"""Settings from the environment: safe in production, relaxed for development, and a start that
fails in one line that names its cause."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import TEST_ENVIRONMENT
from tests.servers import ROOT, free_port, manage

UNREACHABLE_DATABASE = "postgres://nobody@127.0.0.1:9/none"


def clean_env(**overrides: str) -> dict[str, str]:
    """The environment with none of the service's settings the tests set for themselves."""
    dropped = {*TEST_ENVIRONMENT, "DEBUG", "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL"}
    env = {name: value for name, value in os.environ.items() if name not in dropped}
    return env | overrides


def test_check_deploy_passes_with_a_key_the_hosts_and_a_database(tmp_path):
    database = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path / 'db.sqlite3'}"
    env = clean_env(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="ocr.example.com",
        DATABASE_URL=database,
    )

    completed = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert completed.returncode == 0, completed.stderr


def test_check_deploy_flags_a_production_without_https_settings(tmp_path):
    env = clean_env(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="ocr.example.com",
        SECURE_SSL_REDIRECT="0",
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
    )

    completed = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert completed.returncode != 0
    assert "security.W008" in completed.stderr


def test_development_runs_with_no_environment_but_debug(tmp_path):
    script = (
        "import django; django.setup(); from django.conf import settings;"
        "print(bool(settings.SECRET_KEY), settings.SECURE_SSL_REDIRECT,"
        " settings.SECURE_HSTS_SECONDS)"
    )
    env = clean_env(DEBUG="1", SQLITE_PATH=str(tmp_path / "db.sqlite3"))
    env["DJANGO_SETTINGS_MODULE"] = "quickvault.settings"

    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert completed.stdout.split() == ["True", "False", "0"]


def test_a_command_that_needs_the_key_refuses_without_it_in_one_line(tmp_path):
    env = clean_env(SQLITE_PATH=str(tmp_path / "db.sqlite3"))
    assert manage("migrate", env=env).returncode == 0

    completed = manage("create_api_key", "app", env=env)

    assert completed.returncode == 1
    assert completed.stderr.strip().splitlines() == [completed.stderr.strip().splitlines()[0]]
    assert completed.stderr.startswith("error: SECRET_KEY is not set")


def test_an_unreachable_database_fails_the_start_in_one_line_naming_it():
    env = clean_env(DEBUG="1", DATABASE_URL=UNREACHABLE_DATABASE)

    completed = manage("migrate", env=env)

    assert completed.returncode == 1
    assert completed.stderr.strip() == (
        "error: Cannot connect to the database at 127.0.0.1:9/none: Connection refused"
    )


def test_make_worker_refuses_to_start_without_a_broker():
    completed = subprocess.run(
        ["make", "--no-print-directory", "worker"],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert completed.returncode != 0
    assert "REDIS_URL is not set: tasks run in-process" in completed.stderr


def test_the_production_server_says_where_it_listens(tmp_path):
    port = free_port()
    env = clean_env(
        SECRET_KEY=secrets.token_urlsafe(50),
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
        PYTHONUNBUFFERED="1",
    )
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "quickvault.asgi:application",
        *("-k", "uvicorn.workers.UvicornWorker", "--config", "quickvault/gunicorn.conf.py"),
        *("--workers", "1", "--bind", f"127.0.0.1:{port}"),
    ]
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        first_line = server.stdout.readline()
        while first_line.startswith("warning:"):
            first_line = server.stdout.readline()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()

    assert first_line.strip() == f"Listening on http://127.0.0.1:{port}"


def test_beat_keeps_its_schedule_outside_the_checkout():
    from quickvault.celery import app

    schedule = Path(app.conf.beat_schedule_filename).resolve()

    assert not schedule.is_relative_to(ROOT)


def test_the_public_development_key_is_refused_with_debug_off(tmp_path):
    env = clean_env(
        SECRET_KEY="insecure-development-key-set-SECRET_KEY-in-production",
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
    )

    completed = manage("runserver", "127.0.0.1:1", "--noreload", env=env)

    assert completed.returncode == 1
    assert completed.stderr.strip().startswith("error: SECRET_KEY is the development key")

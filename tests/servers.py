"""`make serve` started for a test: the real server, its workers and its database."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_SECONDS = 180
STOP_TIMEOUT_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """``manage.py`` with `args`, run in `env` from the project's root; the finished process,
    whatever its exit status, with its output as text."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def managed(*args: str, env: dict[str, str], timeout: float = 120) -> str:
    """``manage`` of a command that must succeed; the last line it printed ("" for none)."""
    done = manage(*args, env=env, timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def create_key(env: dict[str, str], name: str, *options: str) -> tuple[str, str]:
    """A key made by ``manage.py create_api_key`` with `options`: (key id, secret)."""
    key = json.loads(managed("create_api_key", name, *options, "--json", env=env))
    return key["keyId"], key["secret"]


def server_env(scratch: Path, *, drop: set[str]) -> dict[str, str]:
    """This process's environment without `drop`, on a SQLite file in `scratch` and the
    built-in extractor."""
    env = {name: value for name, value in os.environ.items() if name not in drop}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env | {"SQLITE_PATH": str(scratch / "db.sqlite3"), "QV_PROVIDER": "rules"}


@contextlib.contextmanager
def serving(env: dict[str, str], *, log_path: Path, workers: int = 2) -> Iterator[int]:
    """Run `make serve` with `workers` on a free port of 127.0.0.1 until the block ends; yield
    the port once the server answers its health check."""
    port = free_port()
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [
                "make",
                "--no-print-directory",
                "serve",
                "HOST=127.0.0.1",
                f"PORT={port}",
                f"WORKERS={workers}",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT_SECONDS
            while not healthy(port):
                assert server.poll() is None, log_path.read_text()[-2000:]
                assert time.monotonic() < deadline, "make serve did not start"
                time.sleep(0.2)
            yield port
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()

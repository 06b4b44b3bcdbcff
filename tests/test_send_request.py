"""scripts/send_request.py says what went wrong in one line."""

import os
import subprocess
import sys

from tests.servers import ROOT, free_port

SCRIPT = ROOT / "scripts" / "send_request.py"


def run(*args: str) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if not name.startswith("QV_")}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60, env=env
    )


def one_error_line(completed: subprocess.CompletedProcess) -> str:
    assert completed.returncode == 2
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    return lines[0]


def test_a_missing_file_is_one_line():
    completed = run("--key-id", "qv_x", "--secret", "s", "no-such-file.json")

    assert one_error_line(completed).startswith("error: cannot read no-such-file.json")


def test_a_stopped_server_is_one_line():
    url = f"http://127.0.0.1:{free_port()}"
    completed = run("--key-id", "qv_x", "--secret", "s", "--url", url, "--path", "/api/v1/health")

    line = one_error_line(completed)
    assert line.startswith(f"error: cannot reach {url}")
    assert "is the server running?" in line


def test_a_bad_key_file_is_one_line(tmp_path):
    key_file = tmp_path / "key.json"
    key_file.write_text("{not json")

    completed = run("--key-file", str(key_file), "--path", "/api/v1/health")

    assert one_error_line(completed).startswith(f"error: the key file {key_file} is not")

"""A new worker loads what its first analyses need before it serves (``ocr.warm_up``)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from ocr.warm_up import warm_up
from tests.servers import ROOT


def test_warm_up_runs_every_step_without_the_database(caplog):
    # Not marked django_db: pytest-django fails any query, and the warm-up would log it.
    with caplog.at_level(logging.INFO, logger="ocr.warm_up"):
        warm_up()
    assert [record.levelno for record in caplog.records] == [logging.INFO]
    assert caplog.records[0].getMessage().startswith("Worker warmed up in ")


def test_a_failed_warm_up_is_logged_and_not_raised(monkeypatch, caplog):
    def unreadable(*args, **kwargs):
        raise OSError("the generator's vocabulary cannot be read")

    monkeypatch.setattr("ocr.casegen.generate_cases", unreadable)
    with caplog.at_level(logging.INFO, logger="ocr.warm_up"):
        warm_up()
    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert "first requests will be slower" in record.getMessage()
    assert "vocabulary cannot be read" in record.exc_text


def test_importing_the_application_warms_the_process_up(tmp_path):
    env = {name: value for name, value in os.environ.items() if name != "DJANGO_SETTINGS_MODULE"}
    env |= {"SQLITE_PATH": str(tmp_path / "db.sqlite3"), "DEBUG": "1", "LOG_LEVEL": "INFO"}
    done = subprocess.run(
        [sys.executable, "-c", "import quickvault.asgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ocr.warm_up Worker warmed up in " in done.stderr

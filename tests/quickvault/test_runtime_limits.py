"""A worker raises its soft open-file limit to what its model connections need (limits.py).

Each case runs in a process of its own, whose limits it sets first, so the test run's own limits
stay as they are.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import json, resource, sys
soft, hard, needed = (int(arg) for arg in sys.argv[1:])
current_hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard if hard > 0 else current_hard))
from quickvault.runtime.limits import raise_open_file_limit
limit = raise_open_file_limit(needed=needed)
print(json.dumps({"soft": limit.soft, "hard": limit.hard, "enough": limit.enough}))
"""
KEEP_HARD = 0


def limits_after(*, soft: int, hard: int, needed: int) -> tuple[dict, str]:
    """The limits a process that starts with (`soft`, `hard`) has after raising them to
    `needed`; KEEP_HARD keeps the hard limit it has. Also what it logged."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "quickvault.settings"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(soft), str(hard), str(needed)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def test_a_low_soft_limit_is_raised_to_what_is_needed():
    limits, logged = limits_after(soft=64, hard=KEEP_HARD, needed=128)

    assert limits["soft"] == 128
    assert limits["enough"] is True
    assert logged == ""


def test_the_soft_limit_stops_at_the_hard_limit_with_a_warning():
    limits, logged = limits_after(soft=64, hard=96, needed=128)

    assert (limits["soft"], limits["hard"]) == (96, 96)
    assert limits["enough"] is False
    assert "OPENAI_MAX_CONNECTIONS" in logged


@pytest.mark.parametrize("soft", [128, 200])
def test_a_limit_that_is_enough_is_left_as_it_is(soft):
    limits, _ = limits_after(soft=soft, hard=KEEP_HARD, needed=128)

    assert limits["soft"] == soft
    assert limits["enough"] is True

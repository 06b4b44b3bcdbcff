"""Turns of the event loop one analysis takes, against the three waits it cannot do without.

    .venv/bin/python bench/loop_turns.py [-n 200]

A request moves on only when the event loop comes round to it. Each await that gives the loop
up (a task started for a ``gather``, a ``sleep(0)``, a hop to the database thread, the model's
answer) makes it wait its turn: with a hundred analyses in flight on a worker, a turn is the
time the loop takes through every request that is ready, several milliseconds at times. So
the turns an analysis takes are a floor under its overhead that no faster CPU removes, and,
unlike a time, they do not depend on what else the machine is doing.

The script serves signed analyze requests, one at a time, through the ASGI application in this
process (the handler the server runs), on a scratch SQLite file, with the fake model
(``tests/fakes/openai_server.py``, in a thread with its own loop) answering at once. It counts
the turns of this process's event loop (asyncio's own loop, whose turns can be counted; the
server runs uvloop, which takes the same turns) per analysis, after a warm-up, and prints them
as a ratio to the three waits an analysis had through the database thread: the nonce claim,
the log write, and the model's answer. 1.0 would be a request that gives the loop up only at
those. On SQLite the two writes now run on the event loop when its write lock is free
(``quickvault.runtime.loop_writes``) and take no turn at all; the ratio keeps three waits as its
base so that its figures compare with those before.
"""

from __future__ import annotations

import argparse
import asyncio
import asyncio.base_events
import io
import json
import os
import secrets
import sys
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.analyze_concurrency import ANALYZE, load_documents  # noqa: E402
from ocr.casegen import SAMPLE_SET  # noqa: E402
from ocr.evaluation import load_cases  # noqa: E402

WARM_UP_REQUESTS = 50
# The nonce claim, the model's answer and the log write.
NECESSARY_WAITS = 3


class TurnCounter:
    """Counts the turns (``_run_once``) of the main thread's asyncio event loop (the fake
    model's loop runs in a thread of its own)."""

    def __init__(self) -> None:
        self.turns = 0
        run_once = asyncio.base_events.BaseEventLoop._run_once
        main_thread = threading.main_thread()

        def counting_run_once(loop: asyncio.base_events.BaseEventLoop) -> None:
            if threading.current_thread() is main_thread:
                self.turns += 1
            run_once(loop)

        asyncio.base_events.BaseEventLoop._run_once = counting_run_once  # type: ignore[method-assign]


def configure(scratch: Path, model_url: str) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "quickvault.settings",
            "SQLITE_PATH": str(scratch / "turns.sqlite3"),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "SECURE_SSL_REDIRECT": "0",
            "QV_PROVIDER": "openai",
            "OPENAI_BASE_URL": model_url,
            "OPENAI_API_KEY": "bench-not-a-real-key",
        }
    )
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)


def create_key() -> tuple[str, str]:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed", stdout=io.StringIO())
    out = io.StringIO()
    call_command("create_api_key", "turns", "--rate-limit", "0", "--json", stdout=out)
    key = json.loads(out.getvalue().strip().splitlines()[-1])
    return key["keyId"], key["secret"]


async def analyze(application, *, key: tuple[str, str], document: dict[str, Any]) -> None:
    """One signed analyze request through the ASGI application; exits unless the model
    answered it."""
    from tests.quickvault.asgi_requests import asgi_send
    from tests.signing import signature_headers

    body = json.dumps(
        {
            "documentType": document["documentType"],
            # A line of its own: no cache answers it.
            "rawTexts": [*document["rawTexts"], f"REF {uuid.uuid4().hex}"],
            "options": {"useCache": False},
        },
        ensure_ascii=False,
    ).encode()
    headers = signature_headers(
        key_id=key[0], secret=key[1], method="POST", path=ANALYZE, body=body
    )
    answer = await asgi_send(application, ANALYZE, body, headers)
    if answer.status != 200 or answer.json().get("provider") != "openai":
        raise SystemExit(f"not answered by the model: {answer.status} {answer.content[:300]!r}")


async def measure(*, requests: int, key: tuple[str, str], counter: TurnCounter) -> float:
    from quickvault.asgi import application

    documents = load_documents()
    for index in range(WARM_UP_REQUESTS):
        await analyze(application, key=key, document=documents[index % len(documents)])
    before = counter.turns
    for index in range(requests):
        await analyze(application, key=key, document=documents[index % len(documents)])
    return (counter.turns - before) / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--requests", type=int, default=200, help="analyses counted")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qv-turns-") as scratch:
        from tests.fakes.openai_server import FakeOpenAI

        with FakeOpenAI(mode="echo") as model:
            configure(Path(scratch), model.base_url)
            import django

            django.setup()
            model.add_cases(load_cases(SAMPLE_SET))
            key = create_key()
            counter = TurnCounter()
            turns = asyncio.run(measure(requests=args.requests, key=key, counter=counter))
    print(f"analyses        {args.requests}, one at a time, after {WARM_UP_REQUESTS} to warm up")
    print(f"loop turns      {turns:.2f} per analysis")
    print(f"necessary waits {NECESSARY_WAITS} (the nonce claim, the model's answer, the log write)")
    print(f"ratio           {turns / NECESSARY_WAITS:.2f} (turns / necessary waits)")


if __name__ == "__main__":
    main()

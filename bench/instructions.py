"""Instructions the service runs per analysis, against the built-in extractor's on the same
documents: its CPU as a count that does not change with the machine's speed.

    .venv/bin/python bench/instructions.py [-n 40]

Needs valgrind (Debian: ``apt-get install valgrind``). It generates documents of its own
(``ocr.casegen`` with real OCR layouts: every one with numbers of its own, as phones send them,
so no cache keyed by a value hides a cost), starts the fake model of
tests/fakes/openai_server.py answering at once, and runs itself again as a child under
valgrind's callgrind, with the counting off. The child migrates a scratch SQLite database and
serves signed analyze requests through the ASGI application (the handler the server runs) to
warm up. Then, counted, it serves N more, one at a time (the request's whole path: body,
signature, nonce, pipeline, model call, log row, answer; the database thread too), and, counted
apart, runs the built-in extractor alone on the same N documents. It prints both per document
and their ratio.

The times of ``analyze_concurrency.py`` swing with the machine: the same code has taken from one
to three times the CPU per answer within an hour. These counts do not: three runs of the same
code gave analyses within 0.3% of each other and the extractor within 2%, so a change of a few
per cent shows here when the timed benchmarks cannot see it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.analyze_concurrency import (  # noqa: E402
    PYTHON,
    free_port,
    port_open,
    start,
    stop,
    wait_until,
)

WARM_UP_REQUESTS = 30
CASES_SEED = 7
# How long the child may take to get ready under valgrind (it runs 20 to 50 times slower).
CHILD_TIMEOUT_SECONDS = 1200


# -- the child, under valgrind --


async def serve_and_extract(
    *, documents: list[dict[str, Any]], key: tuple[str, str], signals: Path
) -> None:
    """Warm up, then at each signal of the parent serve the measured analyses, then run the
    extractor alone on them, saying when each is done."""
    from bench.loop_turns import analyze
    from ocr.pipeline import run_rules
    from ocr.providers.base import Document
    from prompts.document_types import shipped_document_types
    from quickvault.asgi import application

    warm_up, measured = documents[:WARM_UP_REQUESTS], documents[WARM_UP_REQUESTS:]
    for document in warm_up:
        await analyze(application, key=key, document=document)
    fields = shipped_document_types()
    extractions = [
        Document(
            document_type=d["documentType"],
            fields=tuple(fields[d["documentType"]]),
            lines=tuple(d["rawTexts"]),
        )
        for d in measured
    ]

    async def analyze_all() -> None:
        for document in measured:
            await analyze(application, key=key, document=document)

    async def extract_all() -> None:
        for extraction in extractions:
            run_rules(extraction)

    for window, work in (("analyze", analyze_all), ("extract", extract_all)):
        # Each window starts from the same state of the garbage collector, uncounted.
        gc.collect()
        (signals / f"{window}-ready").touch()
        await _signal(signals / window)
        await work()
        (signals / f"{window}-done").touch()
    await _signal(signals / "exit")


async def _signal(path: Path) -> None:
    while not path.exists():
        await asyncio.sleep(0.1)


def child(args: argparse.Namespace) -> None:
    from bench.loop_turns import configure, create_key

    configure(Path(args.scratch), args.model_url)
    import django

    django.setup()
    documents = [
        {"documentType": case["documentType"], "rawTexts": case["rawTexts"]}
        for case in map(json.loads, Path(args.cases).read_text(encoding="utf-8").splitlines())
    ]
    key = create_key()
    asyncio.run(serve_and_extract(documents=documents, key=key, signals=Path(args.signals)))


# -- the parent --


def callgrind_total(path: Path) -> int:
    """The instruction count of one callgrind dump."""
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise SystemExit(f"no total in {path}")


def control(*arguments: str) -> None:
    subprocess.run(["callgrind_control", *arguments], check=True, capture_output=True)


def measure(*, requests: int, scratch: Path) -> tuple[int, int]:
    """Instructions of `requests` analyses and of the extractor alone on their documents."""
    from ocr.casegen import generate_cases

    # The six types in turn, laid out as real OCR engines lay them out.
    cases = generate_cases(WARM_UP_REQUESTS + requests, seed=CASES_SEED, real=True)
    cases_file = scratch / "cases.jsonl"
    cases_file.write_text(
        "".join(json.dumps(case, ensure_ascii=False) + "\n" for case in cases), encoding="utf-8"
    )
    signals = scratch / "signals"
    signals.mkdir()
    (scratch / "db").mkdir()
    fake_port = free_port()
    fake_log, child_log = scratch / "fake-openai.log", scratch / "counted.log"
    fake = counted = None
    try:
        fake = start(
            [
                str(PYTHON),
                *("-m", "tests.fakes.openai_server", "--mode", "echo"),
                *("--port", str(fake_port), "--cases", str(cases_file)),
            ],
            env=dict(os.environ),
            log=fake_log,
        )
        wait_until(lambda: port_open(fake_port), process=fake, log=fake_log, what="The fake model")
        counted = start(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={scratch / 'callgrind.out'}",
                str(PYTHON),
                __file__,
                "--child",
                *("--cases", str(cases_file), "--signals", str(signals)),
                *("--scratch", str(scratch / "db")),
                *("--model-url", f"http://127.0.0.1:{fake_port}/v1"),
            ],
            # A fixed hash seed: the order of sets and of dicts built from them decides paths.
            env={**os.environ, "PYTHONHASHSEED": "0"},
            log=child_log,
        )

        def reach(signal: str, where: str) -> None:
            wait_until(
                (signals / signal).exists,
                process=counted,
                log=child_log,
                what=f"The counted process ({where})",
                timeout=CHILD_TIMEOUT_SECONDS,
            )

        for window in ("analyze", "extract"):
            reach(f"{window}-ready", f"before the {window} window")
            control("--instr=on", str(counted.pid))
            # What ran between the windows (the child getting ready) does not count.
            control("--zero", str(counted.pid))
            (signals / window).touch()
            reach(f"{window}-done", f"in the {window} window")
            control("--dump", str(counted.pid))
        (signals / "exit").touch()
        counted.wait(timeout=60)
    finally:
        stop(counted)
        stop(fake)
    return (
        callgrind_total(scratch / "callgrind.out.1"),
        callgrind_total(scratch / "callgrind.out.2"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--requests", type=int, default=40, help="analyses counted")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cases", help=argparse.SUPPRESS)
    parser.add_argument("--signals", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", help=argparse.SUPPRESS)
    parser.add_argument("--model-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.requests < 1:
        parser.error("-n must be 1 or more")
    missing = [tool for tool in ("valgrind", "callgrind_control") if not shutil.which(tool)]
    if missing:
        raise SystemExit(f"needs {' and '.join(missing)} (Debian: apt-get install valgrind)")
    with tempfile.TemporaryDirectory(prefix="qv-instructions-") as scratch:
        analyses, extractions = measure(requests=args.requests, scratch=Path(scratch))
    per_analysis = analyses / args.requests
    per_extraction = extractions / args.requests
    print(f"documents       {args.requests}, each with numbers of its own, one at a time")
    print(f"analysis        {per_analysis / 1e6:.2f} M instructions (the request's whole path)")
    print(f"extractor alone {per_extraction / 1e6:.2f} M instructions (the built-in extractor)")
    print(f"ratio           {per_analysis / per_extraction:.2f} (analysis / extractor alone)")


if __name__ == "__main__":
    main()

"""What an analysis's two writes cost on the embedded default, with SQLite's pages read through
a memory map (the settings' ``mmap_size``) and without.

    .venv/bin/python bench/sqlite_writes.py [--rows 20000] [--analyses 1000] [--rounds 4]

On a scratch SQLite file, migrated and holding ``--rows`` log rows, two threads take turns, as
the two workers of ``make serve`` do: each writes an analysis's nonce and then its log row with
the rollups, through the code the server runs on its event loop
(``quickvault.runtime.loop_writes``). A write by one connection empties the other's page cache,
so each transaction reads its pages again: from the file by read() calls, or from the memory
map. The variants alternate over ``--rounds`` rounds, so a change of the machine's speed falls
on both; it prints the time per analysis of each and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NONCE_LIFETIME_SECONDS = 600
FILL_BATCH = 500


def configure(scratch: Path) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "quickvault.settings",
            "SQLITE_PATH": str(scratch / "writes.sqlite3"),
            "SECRET_KEY": secrets.token_urlsafe(50),
        }
    )
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)


def log_row(index: int):
    """A served analysis's log row, as the analyze API writes it on the default settings (no
    RAW_TEXT_ENCRYPTION_KEY: no OCR text kept)."""
    from ocr.models import OcrRequest, RequestStatus

    document_types = ("id_card", "passport", "bank_card", "business_license", "driver_license")
    fields = {f"field{n}": f"value {index} {n}" for n in range(8)}
    return OcrRequest(
        document_type=document_types[index % len(document_types)],
        template_version="v1",
        provider="openai",
        model="bench-model",
        status=RequestStatus.SUCCESS,
        confidence=0.9,
        field_confidence=dict.fromkeys(fields, 0.9),
        fields=fields,
        validation={"valid": True},
        warnings=[],
        processing_time_ms=1000 + index % 50,
        prompt_tokens=500,
        completion_tokens=100,
    )


def fill(rows: int) -> None:
    from ocr.request_log import write_rows

    for start in range(0, rows, FILL_BATCH):
        write_rows([log_row(index) for index in range(start, min(rows, start + FILL_BATCH))])


def write_analysis(index: int) -> None:
    """The nonce, then the log row and rollups: each in its own transaction on this thread's
    connection, from this thread's event loop, as a worker writes them. Exits if one was not
    written there."""
    import functools

    from django.db import router

    from ocr.models import OcrRequest, UsedNonce
    from ocr.request_log import write_on_loop
    from quickvault.runtime.loop_writes import compiling_connection, write_soon

    alias = router.db_for_write(OcrRequest)
    claim = functools.partial(
        UsedNonce.claim_with,
        connection=compiling_connection(alias),
        key_id="bench",
        nonce=uuid.uuid4().hex,
        lifetime_seconds=NONCE_LIFETIME_SECONDS,
    )

    async def both() -> bool:
        return bool(await write_soon(alias, claim, tries=1)) and await write_on_loop(
            [log_row(index)], tries=1
        )

    if not _loops.loop.run_until_complete(both()):
        raise SystemExit("a write was not taken on the calling thread's connection")


class _Loops(threading.local):
    """An event loop per thread, as each worker has its own."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()


_loops = _Loops()


def run_variant(*, init_command: str, analyses: int, first: int) -> float:
    """Seconds per analysis, two threads taking turns, each with a new connection set by
    `init_command`."""
    from django.db import connections, router

    from ocr.models import OcrRequest

    connections.settings[router.db_for_write(OcrRequest)]["OPTIONS"]["init_command"] = init_command
    workers = [ThreadPoolExecutor(max_workers=1) for _ in range(2)]
    try:
        started = time.perf_counter()
        for index in range(analyses):
            workers[index % 2].submit(write_analysis, first + index).result()
        return (time.perf_counter() - started) / analyses
    finally:
        for worker in workers:
            worker.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000, help="log rows before measuring")
    parser.add_argument("--analyses", type=int, default=1000, help="analyses per round")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of both variants")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qv-writes-") as scratch:
        configure(Path(scratch))
        import django
        from django.conf import settings
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        fill(args.rows)
        configured = settings.DATABASES["default"]["OPTIONS"]["init_command"]
        if "mmap_size" not in configured:
            raise SystemExit("the settings read no pages through a memory map")
        variants = {
            "memory map (settings)": configured,
            "read() calls": configured + "PRAGMA mmap_size=0;",
        }
        seconds: dict[str, list[float]] = {name: [] for name in variants}
        first = args.rows
        for _ in range(args.rounds):
            for name, init_command in variants.items():
                seconds[name].append(
                    run_variant(init_command=init_command, analyses=args.analyses, first=first)
                )
                first += args.analyses
    mapped, read = (sum(values) / len(values) for values in seconds.values())
    print(f"log rows        {args.rows} before, {args.analyses} analyses a round, two threads")
    for name, values in seconds.items():
        each = ", ".join(f"{value * 1000:.3f}" for value in values)
        print(f"{name:<22}  {sum(values) / len(values) * 1000:.3f} ms an analysis ({each})")
    print(f"ratio           {mapped / read:.3f} (memory map / read() calls)")


if __name__ == "__main__":
    main()

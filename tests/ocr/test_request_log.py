"""The request log: a row per analysis, written before the answer, masked, never "locked"."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import sqlite3
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from cryptography.fernet import Fernet

from ocr import request_log
from ocr.models import ApiKey, OcrRequest, RequestStatus
from quickvault.runtime.loop_writes import SQLITE_ENGINE
from tests.metrics import loop_write_count
from tests.servers import create_key, managed, server_env, serving
from tests.signing import SignedClient, signature_headers
from tests.sqlite_files import write_lock_held

ANALYZE = "/api/v1/ocr/analyze"
FEEDBACK = "/api/v1/ocr/feedback"
LOCK_HELD_SECONDS = 2
ID_CARD = {
    "documentType": "idCard",
    "rawTexts": [
        "姓名 张三",
        "性别 男 民族 汉",
        "出生 1949年12月31日",
        "住址 北京市朝阳区建国路88号",
        "公民身份号码 11010519491231002X",
    ],
}


@pytest.mark.django_db
def test_an_analysis_leaves_its_row_when_it_answers(signed_client: SignedClient):
    body = signed_client.post_json(ANALYZE, ID_CARD).json()

    row = OcrRequest.objects.get(request_id=body["requestId"])
    assert row.status == RequestStatus.SUCCESS
    assert row.document_type == "idCard"
    assert row.fields["name"] == "张三"


@pytest.mark.django_db
def test_sensitive_values_are_masked_in_the_row(signed_client: SignedClient):
    body = signed_client.post_json(ANALYZE, ID_CARD).json()

    row = OcrRequest.objects.get(request_id=body["requestId"])
    assert body["fields"]["idNumber"] == "11010519491231002X"
    assert row.fields["idNumber"] == "110*************2X"


@pytest.mark.django_db
def test_feedback_right_after_an_analysis_finds_its_row(signed_client: SignedClient):
    request_id = signed_client.post_json(ANALYZE, ID_CARD).json()["requestId"]

    response = signed_client.post_json(FEEDBACK, {"requestId": request_id, "corrections": {}})

    assert response.status_code == 204


@pytest.mark.django_db
def test_a_failure_is_logged_with_its_error_code(api_key):
    key, _ = api_key

    async_to_sync(request_log.record_failure)(
        api_key=key, document_type="idCard", error_code="upstream_error"
    )

    row = OcrRequest.objects.get()
    assert (row.status, row.error_code, row.document_type) == ("error", "upstream_error", "idCard")


def failure_row(api_key, number: int) -> OcrRequest:
    return request_log.failure_row(
        api_key=api_key, document_type="idCard", error_code=f"code_{number}"
    )


@pytest.mark.django_db
def test_rows_written_at_once_are_committed_together(api_key, monkeypatch):
    key, _ = api_key
    batches: list[int] = []
    insert_rows = request_log.insert_rows

    def counting_insert_rows(rows, **options):
        batches.append(len(rows))
        return insert_rows(rows, **options)

    monkeypatch.setattr(request_log, "insert_rows", counting_insert_rows)

    async def write_all() -> None:
        await asyncio.gather(*(request_log.write_row(failure_row(key, n)) for n in range(20)))

    async_to_sync(write_all)()

    assert OcrRequest.objects.count() == 20
    assert sum(batches) == 20
    assert len(batches) < 20


@pytest.mark.django_db
def test_a_writer_that_stops_waiting_leaves_its_batch_written(api_key):
    key, _ = api_key

    async def write_three_and_stop_the_first() -> list:
        writers = [
            asyncio.ensure_future(request_log.write_row(failure_row(key, n))) for n in range(3)
        ]
        await asyncio.sleep(0)  # every row is queued, and the batch about to be written
        writers[0].cancel()  # as when its client hangs up
        return await asyncio.gather(*writers, return_exceptions=True)

    outcomes = async_to_sync(write_three_and_stop_the_first)()

    assert isinstance(outcomes[0], asyncio.CancelledError)
    assert outcomes[1:] == [None, None]
    assert OcrRequest.objects.count() == 3


# --- the log in a SQLite file, written on the event loop ---------------------------------------


class LogToFile:
    """Routes the log's writes (its rows and rollups) to the database LogToFile.alias."""

    alias = ""

    def db_for_write(self, model, **hints):
        return self.alias if model._meta.db_table.startswith("ocr_") else None


@pytest.fixture(scope="module")
def migrated_sqlite_file(tmp_path_factory):
    """A SQLite file migrated by ``manage.py migrate``, in WAL mode, as the embedded default
    keeps it; tests take copies of it."""
    scratch = tmp_path_factory.mktemp("migrated")
    env = server_env(scratch, drop={"DATABASE_URL", "REDIS_URL"})
    managed("migrate", "--noinput", env=env)
    return scratch / "db.sqlite3"


@pytest.fixture
def log_file(db, migrated_sqlite_file, tmp_path, settings):
    """A copy of a migrated SQLite file to which the log's writes are routed; yields its path.
    The tests' own database is in memory or PostgreSQL, where the loop's writes do not
    apply."""
    from django.db import connections

    path = tmp_path / "log.sqlite3"
    shutil.copyfile(migrated_sqlite_file, path)
    alias = f"log-{tmp_path.name}"
    connections.settings[alias] = {
        **connections.settings["default"],
        "ENGINE": SQLITE_ENGINE,
        "NAME": str(path),
        "OPTIONS": {},
    }
    LogToFile.alias = alias
    settings.DATABASE_ROUTERS = [f"{__name__}.LogToFile"]
    yield path
    del connections.settings[alias]


def rows_in(path) -> list[str]:
    with contextlib.closing(sqlite3.connect(path)) as file:
        return [code for (code,) in file.execute("SELECT error_code FROM ocr_ocrrequest")]


def test_a_row_that_finds_the_lock_held_is_written_on_the_loop_once_it_is_free(log_file):
    refusals, committed = loop_write_count("busy"), loop_write_count("committed")

    async def write_while_locked() -> None:
        with write_lock_held(log_file) as other:
            writer = asyncio.ensure_future(request_log.write_row(failure_row(None, 1)))
            await asyncio.sleep(0)  # the request's try is refused; the row waits for the writer
            other.execute("COMMIT")
            await writer

    async_to_sync(write_while_locked)()

    assert rows_in(log_file) == ["code_1"]
    # Written by the loop's connection: the database thread's would not be counted here.
    assert loop_write_count("busy") == refusals + 1
    assert loop_write_count("committed") == committed + 1


def test_a_request_that_stops_waiting_for_the_lock_leaves_its_row_written(log_file):
    async def write_while_locked_and_stop() -> None:
        with write_lock_held(log_file) as other:
            writer = asyncio.ensure_future(request_log.write_row(failure_row(None, 1)))
            await asyncio.sleep(0)
            writer.cancel()  # as when its client hangs up
            other.execute("COMMIT")
            await asyncio.gather(writer, return_exceptions=True)
            # The writer task's turn.
            await asyncio.sleep(0)

    async_to_sync(write_while_locked_and_stop)()

    assert rows_in(log_file) == ["code_1"]


@pytest.mark.django_db
def test_a_bad_row_fails_alone(api_key):
    key, _ = api_key
    good = failure_row(key, 1)
    # The same request id twice: the second one breaks the unique constraint.
    duplicate = failure_row(key, 2)
    duplicate.request_id = good.request_id
    other = failure_row(key, 3)

    outcomes = request_log.insert_rows([good, duplicate, other])

    assert outcomes[0] is None and outcomes[2] is None
    assert outcomes[1] is not None
    assert OcrRequest.objects.count() == 2


def every_field_set(key: ApiKey, number: int) -> OcrRequest:
    """A log row with a value of its own in every column the log writes."""
    return OcrRequest(
        request_id=uuid.uuid4(),
        api_key=key,
        document_type="passport",
        template_version="v3",
        experiment_variant="b",
        provider="openai",
        model="gpt-test",
        status=RequestStatus.SUCCESS,
        error_code="",
        confidence=0.875,
        field_confidence={"passportNumber": 0.9},
        fields={"name": f"张三 {number}", "passportNumber": "E12*****78"},
        validation={"passportNumber": {"valid": True}},
        warnings=["mrz_mismatch"],
        processing_time_ms=1234 + number,
        cached=True,
        prompt_tokens=321,
        completion_tokens=54,
        cost=Decimal("0.001234"),
        prompt_tokens_unmerged=400,
        batch_id=uuid.uuid4(),
        raw_text="P<CHNZHANG<<SAN\nline two",
        created_at=datetime(2026, 11, 30, 8, 15, 30, 123456, tzinfo=UTC),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 3, request_log.KEPT_STATEMENT_ROWS + 1])
def test_every_value_of_inserted_rows_reads_back_as_written(api_key, settings, count):
    # With a key, so that the raw text is stored too (encrypted).
    settings.RAW_TEXT_ENCRYPTION_KEY = [Fernet.generate_key().decode()]
    key, _ = api_key
    rows = [every_field_set(key, number) for number in range(count)]

    statements = request_log.insert_statements(rows)
    outcomes = request_log.insert_rows(rows, statements=statements)

    assert [row for chunk, _, _ in statements for row in chunk] == rows
    assert outcomes == [None] * count
    columns = [field.attname for field in OcrRequest._meta.concrete_fields if field.attname != "id"]
    for row in rows:
        stored = OcrRequest.objects.get(request_id=row.request_id)
        assert {c: getattr(stored, c) for c in columns} == {c: getattr(row, c) for c in columns}


# --- a real server on SQLite ----------------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_server(tmp_path_factory):
    """`make serve` with two workers on a SQLite file and the built-in extractor; yields its
    port, a key (id, secret) and the database path, and stops it afterwards."""
    scratch = tmp_path_factory.mktemp("sqlite-server")
    env = server_env(
        scratch, drop={"DATABASE_URL", "REDIS_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL"}
    )
    with serving(env, log_path=scratch / "serve.log") as port:
        key = create_key(env, "concurrency", "--rate-limit", "0")
        yield port, key, scratch / "db.sqlite3", scratch / "serve.log"


def post(port: int, key: tuple[str, str], path: str, data: dict) -> tuple[int, bytes]:
    body = json.dumps(data, ensure_ascii=False).encode()
    headers = signature_headers(key_id=key[0], secret=key[1], method="POST", path=path, body=body)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=body,
        headers={**headers, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def analyze_then_feedback(port: int, key: tuple[str, str], number: int) -> tuple[int, int]:
    """One analysis (text of its own, no cache), then feedback on it on a new connection,
    which may reach the other worker."""
    item = {
        "documentType": "idCard",
        "rawTexts": [*ID_CARD["rawTexts"], f"REF {number}"],
        "options": {"useCache": False},
    }
    status, body = post(port, key, ANALYZE, item)
    if status != 200:
        return status, 0
    request_id = json.loads(body)["requestId"]
    feedback, _ = post(port, key, FEEDBACK, {"requestId": request_id, "corrections": {}})
    return status, feedback


def test_concurrent_analyses_on_sqlite_all_answer_and_are_logged(sqlite_server):
    port, key, database, log = sqlite_server
    with sqlite3.connect(database) as db:
        before = db.execute("SELECT COUNT(*) FROM ocr_ocrrequest").fetchone()[0]

    with ThreadPoolExecutor(max_workers=24) as pool:
        results = list(pool.map(lambda n: analyze_then_feedback(port, key, n), range(72)))

    assert [status for status, _ in results] == [200] * 72
    with sqlite3.connect(database) as db:
        after = db.execute("SELECT COUNT(*) FROM ocr_ocrrequest").fetchone()[0]
    assert after - before == 72
    assert "database is locked" not in log.read_text(errors="replace")


def test_feedback_finds_the_row_whichever_worker_it_reaches(sqlite_server):
    port, key, _, _ = sqlite_server

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda n: analyze_then_feedback(port, key, 1000 + n), range(36)))

    assert [feedback for _, feedback in results] == [204] * 36


def requests_total(port: int) -> float:
    """ocr_requests_total summed over its labels, as one scrape of /metrics reports it."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("ocr_requests_total{")
    )


def test_every_scrape_counts_the_analyses_of_every_worker(sqlite_server):
    port, key, _, _ = sqlite_server
    before = requests_total(port)

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda n: analyze_then_feedback(port, key, 2000 + n), range(40)))

    assert [status for status, _ in results] == [200] * 40
    # Each scrape reaches one worker or the other; each must report both workers' analyses.
    assert {requests_total(port) - before for _ in range(8)} == {40.0}


def loop_writes(port: int) -> dict[str, float]:
    """quickvault_sqlite_loop_writes_total by outcome, as one scrape of /metrics reports it for
    every worker."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    prefix = 'quickvault_sqlite_loop_writes_total{outcome="'
    counts = {"committed": 0.0, "busy": 0.0, "failed": 0.0}
    for line in text.splitlines():
        if line.startswith(prefix):
            labels, value = line.rsplit(" ", 1)
            counts[labels[len(prefix) : -len('"}')]] = float(value)
    return counts


def analysis_of_its_own(number: int) -> dict:
    return {
        "documentType": "idCard",
        "rawTexts": [*ID_CARD["rawTexts"], f"REF {number}"],
        "options": {"useCache": False},
    }


def test_the_writes_of_analyses_one_at_a_time_run_on_the_event_loop(sqlite_server):
    port, key, _, _ = sqlite_server
    before = loop_writes(port)

    statuses = [post(port, key, ANALYZE, analysis_of_its_own(3000 + n))[0] for n in range(10)]

    after = loop_writes(port)
    assert statuses == [200] * 10
    # Each analysis claims its nonce and writes its log row; nobody else holds the lock.
    assert after["committed"] - before["committed"] == 20
    assert (after["busy"], after["failed"]) == (before["busy"], before["failed"])


def test_an_analysis_that_finds_the_database_locked_waits_for_it_and_is_logged(sqlite_server):
    port, key, database, _ = sqlite_server
    before = loop_writes(port)
    with contextlib.closing(sqlite3.connect(database, isolation_level=None)) as db:
        rows_before = db.execute("SELECT COUNT(*) FROM ocr_ocrrequest").fetchone()[0]
        db.execute("BEGIN IMMEDIATE")
        with ThreadPoolExecutor(max_workers=1) as pool:
            answer = pool.submit(post, port, key, ANALYZE, analysis_of_its_own(4000))
            # Long enough for the request to reach the locked database.
            time.sleep(LOCK_HELD_SECONDS)
            db.execute("COMMIT")
            status, _ = answer.result()
        rows_after = db.execute("SELECT COUNT(*) FROM ocr_ocrrequest").fetchone()[0]

    assert status == 200
    assert rows_after - rows_before == 1
    assert loop_writes(port)["busy"] > before["busy"]

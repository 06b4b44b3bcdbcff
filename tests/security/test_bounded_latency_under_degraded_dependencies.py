"""Finding 6: a hung Redis, a model that keeps answering 429 and a slow batch stay within budget.

Work is counted (connections reaching Redis, calls reaching the model), never timed.
"""

from __future__ import annotations

import logging
import socket
import threading

import pytest
from asgiref.sync import async_to_sync

from quickvault import circuit
from quickvault import settings as project_settings
from quickvault.redis_guard import redis_breaker
from tests.documents import ID_CARD, ID_FIELDS
from tests.fakes.openai_server import answer, hang, rate_limited, sleep

pytestmark = pytest.mark.django_db

ANALYZE = "/api/v1/ocr/analyze"
BATCH = "/api/v1/ocr/batch-analyze"
HEALTH = "/api/v1/health"
OTHER_ID_CARD = {
    "documentType": "idCard",
    "rawTexts": [
        "姓名 李四",
        "性别 男 民族 汉",
        "出生 1990年1月1日",
        "公民身份号码 110105199001010011",
    ],
}


class HungRedis:
    """A TCP server that accepts connections, reads what is sent and never answers."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.bytes_received = 0
        self.open: list[socket.socket] = []
        self.stopped = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        self.listener.settimeout(0.1)
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self.open.append(conn)
            threading.Thread(target=self.swallow, args=(conn,), daemon=True).start()

    def swallow(self, conn: socket.socket) -> None:
        try:
            while chunk := conn.recv(65536):
                self.bytes_received += len(chunk)
        except OSError:
            return

    def stop(self) -> None:
        self.stopped.set()
        self.listener.close()
        for conn in self.open:
            conn.close()


@pytest.fixture
def hung_redis(settings):
    server = HungRedis()
    redis_breaker.reset()
    settings.CACHES = {
        "default": project_settings.cache_config(
            f"redis://127.0.0.1:{server.port}/0", fast_path=True
        )
    }
    yield server
    server.stop()
    redis_breaker.reset()


def test_a_hung_redis_is_tried_once_then_skipped_and_the_outage_logged_once(
    hung_redis, client, caplog
):
    caplog.set_level(logging.WARNING, logger="quickvault.redis_guard")

    answers = [client.get(HEALTH) for _ in range(5)]

    assert [response.status_code for response in answers] == [200] * 5
    assert {response.json()["checks"]["cache"] for response in answers} == {"error"}
    # The first call waited for its timeout; every later one skipped Redis.
    assert hung_redis.connections == 1
    outage_logs = [r for r in caplog.records if "Redis is unreachable" in r.getMessage()]
    assert len(outage_logs) == 1


def test_redis_is_tried_again_once_the_skip_window_has_passed(hung_redis, client, settings):
    settings.QV_REDIS_SKIP_SECONDS = 0

    client.get(HEALTH)
    client.get(HEALTH)

    assert hung_redis.connections >= 2


@pytest.fixture
def fake(fake_openai):
    fake_openai.add_cases([{**ID_CARD, "id": "id-card", "expected": ID_FIELDS}])
    return fake_openai


def test_a_model_that_keeps_answering_429_opens_the_breaker(fake, signed_client, settings):
    fake.script(*[rate_limited("0")] * 50)

    answers = [signed_client.post_json(ANALYZE, ID_CARD) for _ in range(6)]

    assert all(response.status_code == 200 for response in answers)
    assert all(response.json()["provider"] == "rules" for response in answers)
    # The breaker opened after its minimum of failures; later requests made no call at all.
    assert fake.calls == settings.OPENAI_CIRCUIT_MIN_FAILURES


def test_a_retry_after_beyond_the_budget_falls_back_without_waiting(fake, signed_client, settings):
    settings.OPENAI_RETRY_AFTER_MAX_SECONDS = 60
    fake.script(rate_limited("30"), rate_limited("30"))

    response = signed_client.post_json(ANALYZE, ID_CARD)

    assert response.status_code == 200
    assert response.json()["provider"] == "rules"
    assert fake.calls == 1


def test_a_batch_shares_one_deadline_across_its_merged_and_follow_up_calls(
    fake, signed_client, settings
):
    settings.OPENAI_TIMEOUT_SECONDS = 2.2  # per attempt; the budget is 2.5
    # The merged call answers for the first card only, late in the budget; the follow-up call
    # for the second card hangs. It may use only what is left of the batch's one budget.
    fake.script(sleep(1.6, answer([ID_FIELDS, None])), hang(), hang(), hang())

    response = signed_client.post_json(BATCH, {"items": [ID_CARD, OTHER_ID_CARD]})

    assert response.status_code == 200
    first, second = response.json()["results"]
    assert first["provider"] == "openai"
    assert second["provider"] == "rules"
    # The merged call and one follow-up attempt: no fresh budget, no retries past the deadline.
    assert fake.calls == 2


def test_a_model_failure_is_recorded_without_error_while_redis_is_down(hung_redis):
    breaker = circuit.openai_breaker()

    async_to_sync(circuit.record_failure)(breaker)

    assert async_to_sync(circuit.allow)(breaker) == circuit.CircuitState.CLOSED

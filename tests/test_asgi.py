"""The ASGI application `make serve` runs, on the fast path (quickvault.runtime.handler: API
requests take the middlewares without a thread) and on Django's stock path (QV_FAST_API_PATH off):
both must serve the API alike."""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from django.conf import settings
from django.core import signals
from django.core.handlers.asgi import ASGIHandler
from django.db import DatabaseError, connection
from prometheus_client import REGISTRY
from whitenoise.middleware import WhiteNoiseMiddleware

from ocr.models import OcrRequest, RequestStatus
from quickvault.runtime import asgi_application
from quickvault.runtime.handler import (
    FREEZE_AFTER_REQUESTS,
    QuickVaultASGIHandler,
    freeze_long_lived_objects,
    release_connections,
)
from tests.documents import ID_CARD, ID_FIELDS
from tests.quickvault.asgi_requests import (
    ANALYZE,
    asgi_post,
    asgi_post_together,
    signed_analyze,
    signed_analyze_headers,
)

T = TypeVar("T")

# The request signals check the database connections.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def fast_app() -> QuickVaultASGIHandler:
    return QuickVaultASGIHandler()


@pytest.fixture(scope="module")
def stock_app() -> ASGIHandler:
    from django.core.asgi import get_asgi_application

    return get_asgi_application()


@pytest.fixture(params=["fast", "stock"])
def app(request) -> ASGIHandler:
    """The handler of either path, whichever QV_FAST_API_PATH this run has."""
    return request.getfixturevalue(f"{request.param}_app")


def oversized() -> bytes:
    return b" " * (settings.QV_MAX_BODY_BYTES + 1)


def test_oversized_api_body_gets_the_413_envelope_and_the_security_headers(app):
    response = asgi_post(app, ANALYZE, oversized())

    assert response.status == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("handler", "static_file_middleware_calls"),
    [("fast_app", []), ("stock_app", [ANALYZE])],
    ids=["fast-path-skips-it", "stock-path-takes-it"],
)
def test_only_the_fast_path_skips_the_static_file_middleware_for_the_api(
    monkeypatch, request, handler, static_file_middleware_calls
):
    calls = []
    original = WhiteNoiseMiddleware.__call__

    def spy(self, request):
        calls.append(request.path)
        return original(self, request)

    monkeypatch.setattr(WhiteNoiseMiddleware, "__call__", spy)

    asgi_post(request.getfixturevalue(handler), ANALYZE, oversized())

    assert calls == static_file_middleware_calls


def test_api_requests_are_counted_in_the_metrics(app):
    def count() -> float:
        name = "django_http_requests_total_by_method_total"
        return REGISTRY.get_sample_value(name, {"method": "POST"}) or 0.0

    before = count()

    response = asgi_post(app, ANALYZE, b"{}")

    assert response.status == 401
    assert count() == before + 1


def test_a_signed_analyze_is_answered_through_the_asgi_application(app, api_key):
    response = signed_analyze(app, api_key, ID_CARD)

    assert response.status == 200, response.content
    body = response.json()
    assert body["provider"] == "rules"
    assert body["fields"] == ID_FIELDS


def test_a_signed_analyze_through_the_asgi_application_is_logged(app, api_key):
    key, _ = api_key

    response = signed_analyze(app, api_key, ID_CARD)

    row = OcrRequest.objects.get(request_id=response.json()["requestId"])
    assert row.api_key_id == key.pk
    assert row.status == RequestStatus.SUCCESS
    assert row.document_type == "idCard"


def test_a_served_analysis_leaves_its_view_request_and_answer_to_reference_counting(
    fast_app, api_key
):
    # In reference cycles they would wait for the garbage collector's full passes, which
    # stall the event loop for every request in flight.
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        response = signed_analyze(fast_app, api_key, ID_CARD)
        gc.collect()
        left_to_collector = {type(found).__name__ for found in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()

    assert response.status == 200
    assert not {"AnalyzeApi", "AsyncRequest", "Response", "ASGIRequest"} & left_to_collector


def test_an_api_request_sends_the_request_signals_once_each(app, api_key):
    sent: list[str] = []

    def started(**kwargs: Any) -> None:
        sent.append("started")

    def finished(**kwargs: Any) -> None:
        sent.append("finished")

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        response = signed_analyze(app, api_key, ID_CARD)
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)

    assert response.status == 200
    assert sent == ["started", "finished"]


def test_a_page_outside_the_api_takes_the_whole_chain(app):
    response = asgi_post(app, "/admin/login/", b"")

    # The CSRF middleware turned the cookieless form away with its HTML page.
    assert response.status == 403
    assert "text/html" in response.headers["content-type"]


def test_the_switch_picks_the_handler(settings):
    settings.QV_FAST_API_PATH = True
    assert type(asgi_application()) is QuickVaultASGIHandler

    settings.QV_FAST_API_PATH = False
    assert type(asgi_application()) is ASGIHandler


WARM_UPS: list[bool] = []


def note_warm_up() -> None:
    from django.conf import settings

    WARM_UPS.append(settings.QV_FAST_API_PATH)


def test_the_warm_up_runs_on_either_path(settings):
    WARM_UPS.clear()
    for fast in (True, False):
        settings.QV_FAST_API_PATH = fast
        asgi_application(warm_up=f"{__name__}.note_warm_up")

    assert WARM_UPS == [True, False]


def test_the_application_served_is_the_one_the_switch_picks():
    from quickvault.asgi import application

    expected = QuickVaultASGIHandler if settings.QV_FAST_API_PATH else ASGIHandler
    assert type(application.app) is expected


# release_connections() tidies the connections of the thread that runs the API's database work.
# The test's own connection is inside the test's transaction, which it leaves alone: these run
# on a thread of their own, with a connection of its own.


def on_a_new_thread(work: Callable[[], T]) -> T:
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as error:  # handed back to the test
            failure.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]


POOLED = bool(settings.DATABASES["default"].get("OPTIONS", {}).get("pool"))
unpooled_only = pytest.mark.skipif(
    POOLED, reason="a pooled connection always goes back to its pool"
)


@unpooled_only
def test_release_connections_keeps_a_healthy_connection_open():
    def work() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        raw = connection.connection
        release_connections()
        return raw is not None and connection.connection is raw

    assert on_a_new_thread(work) is True


@unpooled_only
def test_release_connections_keeps_a_usable_connection_after_an_error_and_forgets_the_error():
    def work() -> tuple[bool, bool]:
        with pytest.raises(DatabaseError), connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table_here")
        assert connection.errors_occurred is True
        raw = connection.connection
        release_connections()
        return connection.connection is raw, connection.errors_occurred

    assert on_a_new_thread(work) == (True, False)


@pytest.mark.skipif(not POOLED, reason="needs a pooled database (PostgreSQL)")
def test_release_connections_hands_a_pooled_connection_back():
    def work() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        release_connections()
        return connection.connection is None

    assert on_a_new_thread(work) is True


def test_an_analysis_the_model_answered_leaves_none_of_its_objects_to_the_collector(
    fast_app, api_key, fake_openai
):
    # Warm: what the first call makes once (the client, its pools) is not the request's.
    assert signed_analyze(fast_app, api_key, ID_CARD).json()["provider"] == "openai"
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        response = signed_analyze(fast_app, api_key, {**ID_CARD, "options": {"useCache": False}})
        gc.collect()
        left_to_collector = {type(found).__module__ for found in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()

    assert response.json()["provider"] == "openai"
    # The test's own event loop, closed after the call, leaves its sockets; nothing else may.
    request_objects = {"ocr", "rest_framework", "tenacity", "django", "openai", "prompts"}
    assert not {module.split(".")[0] for module in left_to_collector} & request_objects


def test_an_analysis_waiting_for_the_model_lets_the_next_one_be_served(
    fast_app, api_key, fake_openai
):
    fake_openai.latency = 0.3
    body = json.dumps({**ID_CARD, "options": {"useCache": False}}).encode()

    responses = asgi_post_together(
        fast_app, ANALYZE, [(body, signed_analyze_headers(api_key, body)) for _ in range(2)]
    )

    assert [response.json()["provider"] for response in responses] == ["openai", "openai"]
    assert fake_openai.max_in_flight == 2


# CPython's defaults: collections of the young, middle and full generations.
PYTHON_GC_THRESHOLDS = (700, 10, 10)


def test_a_warm_worker_makes_full_collections_rarer_than_python_does():
    before = gc.get_threshold()
    gc.set_threshold(*PYTHON_GC_THRESHOLDS)
    try:
        freeze_long_lived_objects()

        assert gc.get_threshold()[2] > PYTHON_GC_THRESHOLDS[2]
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_the_freeze_of_a_warm_worker_makes_no_collection_under_its_requests(api_key):
    app = QuickVaultASGIHandler()
    app.api_requests = FREEZE_AFTER_REQUESTS - 1
    frozen_before = gc.get_freeze_count()
    thresholds = gc.get_threshold()
    started: list[int] = []

    def record(phase: str, info: dict) -> None:
        if phase == "start":
            started.append(info["generation"])

    # Automatic collections off: any collection seen is one the handler asked for.
    gc.disable()
    gc.callbacks.append(record)
    try:
        response = signed_analyze(app, api_key, ID_CARD)
        frozen = gc.get_freeze_count() - frozen_before
    finally:
        gc.callbacks.remove(record)
        gc.enable()
        gc.unfreeze()
        gc.set_threshold(*thresholds)

    assert response.status == 200
    assert frozen > 0
    assert started == []

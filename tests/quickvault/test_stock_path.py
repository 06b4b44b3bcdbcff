"""QV_FAST_API_PATH off: Django's ASGI handler and middleware chain, Django's and django-redis's
cache backends, and the API served by them as by the fast path.

To run the API's tests themselves on the stock path:

    QV_FAST_API_PATH=0 .venv/bin/python -m pytest tests/test_asgi.py tests/test_cache.py \
        tests/quickvault tests/ocr/test_api_requests.py tests/ocr/test_auth.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.handlers.asgi import ASGIHandler

from ocr.models import OcrRequest, RequestStatus
from tests.documents import ID_CARD, ID_FIELDS
from tests.quickvault.asgi_requests import (
    ANALYZE,
    asgi_post,
    signed_analyze,
    signed_analyze_headers,
)

ROOT = Path(__file__).resolve().parents[2]
STOCK_LOCMEM = "django.core.cache.backends.locmem.LocMemCache"
PRINT_BACKEND = (
    "from quickvault import settings; print(settings.CACHES['default']['BACKEND'], end='')"
)


def configured_backend(*, fast: bool, redis_url: str | None) -> str:
    """The default cache's BACKEND as quickvault/settings.py gives it for this environment."""
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "QV_FAST_API_PATH"}}
    env["QV_FAST_API_PATH"] = "1" if fast else "0"
    if redis_url:
        env["REDIS_URL"] = redis_url
    done = subprocess.run(
        [sys.executable, "-c", PRINT_BACKEND],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@pytest.mark.parametrize(
    ("fast", "redis_url", "backend"),
    [
        (True, None, "quickvault.runtime.cache.InlineLocMemCache"),
        (False, None, STOCK_LOCMEM),
        (True, "redis://127.0.0.1:6379/0", "quickvault.redis_guard.GuardedAsyncRedisCache"),
        (False, "redis://127.0.0.1:6379/0", "quickvault.redis_guard.GuardedRedisCache"),
    ],
    ids=["fast-locmem", "stock-locmem", "fast-redis", "stock-redis"],
)
def test_the_switch_picks_the_cache_backend(fast, redis_url, backend):
    assert configured_backend(fast=fast, redis_url=redis_url) == backend


@pytest.fixture
def stock_app() -> ASGIHandler:
    from django.core.asgi import get_asgi_application

    return get_asgi_application()


@pytest.fixture
def stock_cache(settings):
    """Django's own local-memory cache as the default cache, as QV_FAST_API_PATH=0 sets it."""
    settings.CACHES = {"default": {"BACKEND": STOCK_LOCMEM, "LOCATION": "quickvault-stock"}}
    assert type(caches["default"]) is LocMemCache
    yield
    cache.clear()


@pytest.mark.django_db
def test_the_stock_path_answers_a_signed_analyze_and_logs_it(stock_app, stock_cache, api_key):
    assert type(stock_app) is ASGIHandler

    response = signed_analyze(stock_app, api_key, ID_CARD)

    assert response.status == 200, response.content
    body = response.json()
    assert body["fields"] == ID_FIELDS
    assert body["provider"] == "rules"
    row = OcrRequest.objects.get(request_id=body["requestId"])
    assert row.status == RequestStatus.SUCCESS
    assert row.api_key_id == api_key[0].pk


@pytest.mark.django_db
def test_the_stock_path_refuses_a_replayed_signed_analyze(stock_app, stock_cache, api_key):
    body = json.dumps(ID_CARD, ensure_ascii=False).encode()
    headers = signed_analyze_headers(api_key, body)

    first = asgi_post(stock_app, ANALYZE, body, headers)
    replayed = asgi_post(stock_app, ANALYZE, body, headers)

    assert first.status == 200, first.content
    assert replayed.status == 401
    assert replayed.json()["error"]["code"] == "unauthorized"


@pytest.mark.django_db
def test_the_stock_path_answers_a_bad_signed_analyze_with_the_error_envelope(
    stock_app, stock_cache, api_key
):
    response = signed_analyze(stock_app, api_key, {"documentType": "idCard", "rawTexts": "x"})

    assert response.status == 400, response.content
    assert response.json()["error"]["code"] == "invalid_request"

"""Finding 5: text that expands under NFKC is bounded, and a batch lets other requests run."""

from __future__ import annotations

import asyncio
import itertools
import json

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings

from ocr import pipeline
from quickvault.asgi import application
from tests.documents import ID_CARD
from tests.security.asgi_harness import exchange, http_scope
from tests.signing import signature_headers

pytestmark = pytest.mark.django_db

ANALYZE = "/api/v1/ocr/analyze"
BATCH = "/api/v1/ocr/batch-analyze"
# One character, eighteen once normalised (ARABIC LIGATURE SALLALLAHOU ALAYHE WASALLAM).
EXPANDING = "\ufdfa"


def expanding_item() -> dict:
    """An item at the limits as sent (10 lines of 2,000): 360,000 characters normalised."""
    return {"documentType": "idCard", "rawTexts": [EXPANDING * 2000] * 10}


def test_a_line_that_expands_past_the_limit_under_nfkc_is_refused(signed_client):
    response = signed_client.post_json(
        ANALYZE, {"documentType": "idCard", "rawTexts": ["姓名 " + EXPANDING * 200]}
    )

    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "payload_too_large"
    assert error["details"]["rawTexts"]["normalization"] == "NFKC"


def test_text_that_expands_past_the_total_under_nfkc_is_refused(signed_client):
    lines = [EXPANDING * 100] * 12  # 1,800 characters a line, 21,600 in all, once normalised

    response = signed_client.post_json(ANALYZE, {"documentType": "idCard", "rawTexts": lines})

    assert response.status_code == 413
    assert response.json()["error"]["details"]["rawTexts"]["maxTotalChars"] == 20000


def test_the_attack_batch_is_refused_item_by_item_without_extraction(signed_client, monkeypatch):
    extracted = []
    real_run_rules = pipeline.run_rules
    monkeypatch.setattr(
        pipeline, "run_rules", lambda document: extracted.append(1) or real_run_rules(document)
    )
    body = {"items": [expanding_item()] * 4}  # 240 KB, as the attack sent
    assert len(json.dumps(body, ensure_ascii=False).encode()) < settings.QV_MAX_BODY_BYTES

    response = signed_client.post_json(BATCH, body)

    assert response.status_code == 200
    codes = [result["error"]["code"] for result in response.json()["results"]]
    assert codes == ["payload_too_large"] * 4
    assert extracted == []


def test_a_batch_lets_the_event_loop_run_between_its_documents(api_key, monkeypatch):
    key, secret = api_key
    extracted = 0
    real_run_rules = pipeline.run_rules

    def counting_run_rules(document):
        nonlocal extracted
        extracted += 1
        return real_run_rules(document)

    monkeypatch.setattr(pipeline, "run_rules", counting_run_rules)
    items = 20
    body = json.dumps({"items": [ID_CARD] * items}, ensure_ascii=False).encode()
    headers = signature_headers(
        key_id=key.key_id, secret=secret, method="POST", path=BATCH, body=body
    )
    headers |= {"content-type": "application/json", "content-length": str(len(body))}
    seen_at_ticks: list[int] = []

    async def run():
        done = asyncio.Event()

        async def request():
            try:
                return await exchange(application, http_scope(BATCH, headers), iter([body]))
            finally:
                done.set()

        async def ticker():
            while not done.is_set():
                seen_at_ticks.append(extracted)
                await asyncio.sleep(0)

        result, _ = await asyncio.gather(request(), ticker())
        return result

    result = async_to_sync(run)()

    assert result.status == 200
    assert extracted == items
    # Another task ran between any two documents' extraction: never more than one at a stretch.
    steps = [later - earlier for earlier, later in itertools.pairwise(seen_at_ticks)]
    assert max(steps) <= 1

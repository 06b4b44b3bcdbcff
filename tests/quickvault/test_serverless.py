"""The Lambda entry point, invoked with the events API Gateway's HTTP API (payload 2.0) sends."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from ocr.models import OcrRequest, RequestStatus
from quickvault.serverless import handler, purge_request_log_handler
from tests.documents import ID_CARD, ID_FIELDS
from tests.signing import signature_headers

ANALYZE = "/api/v1/ocr/analyze"

# The application's database work runs on a thread of its own, which sees committed rows only.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


class LambdaContext:
    function_name = "quickvault"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"


def http_api_event(
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    base64_body: bool = False,
) -> dict:
    """An API Gateway HTTP API event, payload format 2.0, on the $default stage."""
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "host": "testserver",
            "x-forwarded-proto": "https",
            "x-forwarded-port": "443",
            "user-agent": "QuickVault-iOS/1.0",
            **{name.lower(): value for name, value in (headers or {}).items()},
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api-id",
            "domainName": "testserver",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "QuickVault-iOS/1.0",
            },
            "requestId": "id",
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": 1_700_000_000_000,
        },
        "isBase64Encoded": base64_body,
    }
    if body:
        event["headers"]["content-length"] = str(len(body))
        event["body"] = base64.b64encode(body).decode() if base64_body else body.decode()
    return event


def answer_body(response: dict) -> dict:
    body = response["body"]
    return json.loads(base64.b64decode(body) if response["isBase64Encoded"] else body)


def signed_analyze_event(api_key, *, base64_body: bool) -> dict:
    key, secret = api_key
    body = json.dumps(ID_CARD, ensure_ascii=False).encode()
    headers = signature_headers(
        key_id=key.key_id, secret=secret, method="POST", path=ANALYZE, body=body
    )
    headers["Content-Type"] = "application/json"
    return http_api_event("POST", ANALYZE, headers=headers, body=body, base64_body=base64_body)


def test_health_answers_through_the_lambda_handler():
    response = handler(http_api_event("GET", "/api/v1/health"), LambdaContext())

    assert response["statusCode"] == 200
    assert response["headers"]["content-type"].startswith("application/json")
    assert answer_body(response)["checks"]["database"] == "ok"


def test_the_handler_answers_where_the_thread_has_no_event_loop_set():
    asyncio.set_event_loop(None)

    response = handler(http_api_event("GET", "/api/v1/health"), LambdaContext())

    assert response["statusCode"] == 200


@pytest.mark.parametrize("base64_body", [False, True], ids=["plain body", "base64 body"])
def test_a_signed_analyze_request_is_answered_through_the_lambda_handler(api_key, base64_body):
    response = handler(signed_analyze_event(api_key, base64_body=base64_body), LambdaContext())

    assert response["statusCode"] == 200
    answer = answer_body(response)
    assert answer["documentType"] == "idCard"
    assert answer["fields"] == ID_FIELDS


def test_a_tampered_body_is_refused_with_the_401_envelope(api_key):
    event = signed_analyze_event(api_key, base64_body=False)
    event["body"] = event["body"].replace("张三", "李四")

    response = handler(event, LambdaContext())

    assert response["statusCode"] == 401
    assert answer_body(response)["error"]["code"] == "unauthorized"


def test_the_scheduled_purge_deletes_log_rows_past_the_retention(settings):
    settings.QV_LOG_RETENTION_DAYS = 30
    old = OcrRequest.objects.create(
        status=RequestStatus.SUCCESS, created_at=timezone.now() - timedelta(days=31)
    )
    recent = OcrRequest.objects.create(status=RequestStatus.SUCCESS)
    scheduled_event = {
        "version": "0",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "time": "2026-12-01T06:00:00Z",
        "detail": {},
    }

    answer = purge_request_log_handler(scheduled_event, LambdaContext())

    assert answer == {"output": "Deleted 1 request log rows."}
    assert list(OcrRequest.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not OcrRequest.objects.filter(pk=old.pk).exists()

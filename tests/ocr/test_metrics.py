"""The business metrics Prometheus reads, and who may read them."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from prometheus_client import REGISTRY

from ocr import metrics
from quickvault import circuit
from tests.documents import ID_CARD

ANALYZE = "/api/v1/ocr/analyze"


def sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.django_db
def test_an_analysis_counts_by_type_status_and_provider(signed_client):
    labels = {"document_type": "idCard", "status": "success", "provider": "rules"}
    before = sample("ocr_requests_total", labels)

    response = signed_client.post_json(ANALYZE, ID_CARD)

    assert response.status_code == 200
    assert sample("ocr_requests_total", labels) == before + 1


@pytest.mark.django_db
def test_an_analysis_is_timed_and_its_confidence_observed(signed_client):
    latency = {"document_type": "idCard", "provider": "rules"}
    before = sample("ocr_latency_seconds_count", latency)
    confidence_before = sample("ocr_confidence_count", {"document_type": "idCard"})

    signed_client.post_json(ANALYZE, ID_CARD)

    assert sample("ocr_latency_seconds_count", latency) == before + 1
    assert sample("ocr_confidence_count", {"document_type": "idCard"}) == confidence_before + 1


@pytest.mark.django_db
def test_a_repeated_analysis_counts_a_cache_hit(signed_client):
    hits = sample("ocr_cache_requests_total", {"result": "hit"})
    signed_client.post_json(ANALYZE, ID_CARD)

    signed_client.post_json(ANALYZE, ID_CARD)

    assert sample("ocr_cache_requests_total", {"result": "hit"}) == hits + 1


def test_a_failure_counts_by_its_error_code():
    labels = {"document_type": "passport", "error_code": "upstream_timeout"}
    before = sample("ocr_errors_total", labels)

    metrics.observe_failure(document_type="passport", error_code="upstream_timeout")

    assert sample("ocr_errors_total", labels) == before + 1


def test_the_latest_evaluation_replaces_the_one_before():
    metrics.set_evaluation_gauge("idCard", 0.91)
    metrics.set_evaluation_gauge("idCard", 0.87)

    assert sample("ocr_evaluation_field_accuracy", {"document_type": "idCard"}) == 0.87


@pytest.mark.django_db
def test_loopback_reads_the_business_metrics(client, signed_client):
    signed_client.post_json(ANALYZE, ID_CARD)

    response = client.get("/metrics")

    assert response.status_code == 200
    assert 'ocr_requests_total{document_type="idCard",provider="rules",status="success"}' in (
        response.content.decode()
    )


@pytest.mark.django_db
def test_another_network_gets_no_metrics(client):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 404
    assert b"ocr_" not in response.content


@pytest.mark.django_db
def test_a_forwarded_for_header_does_not_pass_for_loopback(client):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="127.0.0.1")

    assert response.status_code == 404


@pytest.mark.django_db
def test_the_metrics_token_opens_them_from_anywhere(client, settings):
    settings.METRICS_TOKEN = "s3cret-token-for-scrapes"

    response = client.get(
        "/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-token-for-scrapes"
    )

    assert response.status_code == 200


@pytest.mark.django_db
def test_a_wrong_token_gets_no_metrics(client, settings):
    settings.METRICS_TOKEN = "s3cret-token-for-scrapes"

    response = client.get(
        "/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-token-for-scrape"
    )

    assert response.status_code == 404


@pytest.mark.django_db
def test_an_allowed_network_reads_the_metrics(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]

    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404


@pytest.mark.django_db
def test_the_circuit_breaker_shows_open_once_tripped(client):
    assert 'ocr_circuit_open{breaker="openai"} 0.0' in client.get("/metrics").content.decode()

    async_to_sync(circuit.trip)(circuit.openai_breaker())

    assert 'ocr_circuit_open{breaker="openai"} 1.0' in client.get("/metrics").content.decode()

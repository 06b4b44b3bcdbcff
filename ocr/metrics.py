"""The service's business metrics for Prometheus, and the protected ``/metrics`` address.

Interface
---------
``observe_success(analysis)`` / ``observe_failure(document_type=, error_code=)``
    Count one live analysis. ``ocr.request_log`` calls them where it writes the live log row, so
    whatever is kept out of the log (evaluation runs) is kept out of the metrics too.
``set_evaluation_gauge(document_type, value)``
    Publish the field accuracy (0 to 1) of the latest periodic evaluation of a document type.
``metrics_view(request)``
    The exposition, for ``Authorization: Bearer <METRICS_TOKEN>`` or a client whose address is in
    ``METRICS_ALLOWED_NETWORKS`` (loopback by default); 404 for anyone else.

With several server processes each one counts on its own: with ``PROMETHEUS_MULTIPROC_DIR`` set
(``make serve`` and the image set it) prometheus_client keeps the values in files there and a
scrape of any worker sums every worker's, so a counter never seems to go back.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from quickvault import circuit

if TYPE_CHECKING:
    from ocr.analysis import Analysis

logger = logging.getLogger(__name__)

# Seconds: a cached answer takes a few milliseconds, a model call one to ten seconds.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0)
CONFIDENCE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)
# The provider label of a request that failed before any provider answered.
NO_PROVIDER = "none"

REQUESTS = Counter(
    "ocr_requests",
    "Live analyses, by document type, outcome and provider.",
    ["document_type", "status", "provider"],
)
ERRORS = Counter(
    "ocr_errors", "Live analyses that failed, by error code.", ["document_type", "error_code"]
)
LATENCY = Histogram(
    "ocr_latency_seconds",
    "Time to answer a served analysis.",
    ["document_type", "provider"],
    buckets=LATENCY_BUCKETS,
)
CONFIDENCE = Histogram(
    "ocr_confidence",
    "Document confidence of served analyses.",
    ["document_type"],
    buckets=CONFIDENCE_BUCKETS,
)
CACHE_REQUESTS = Counter(
    "ocr_cache_requests", "Served analyses, answered from the result cache or not.", ["result"]
)
MODEL_TOKENS = Counter(
    "ocr_model_tokens",
    "Model tokens spent, by model and kind (prompt, completion).",
    ["model", "kind"],
)
MODEL_LATENCY = Histogram(
    "ocr_model_latency_seconds",
    "Time the model took to answer a live analysis (its merged call's, where merged).",
    ["model"],
    buckets=LATENCY_BUCKETS,
)
MODEL_COST = Counter("ocr_model_cost", "Model cost in the price list's currency.", ["model"])
EVALUATION = Gauge(
    "ocr_evaluation_field_accuracy",
    "Field accuracy of the latest periodic evaluation of each document type.",
    ["document_type"],
    # Whichever process published last holds the figure.
    multiprocess_mode="mostrecent",
)


def observe_success(analysis: Analysis) -> None:
    """Count a served live analysis."""
    document_type = analysis.document_type
    provider = analysis.provider or NO_PROVIDER
    REQUESTS.labels(document_type, "success", provider).inc()
    LATENCY.labels(document_type, provider).observe(analysis.processing_time_ms / 1000)
    CONFIDENCE.labels(document_type).observe(analysis.confidence)
    CACHE_REQUESTS.labels("hit" if analysis.cached else "miss").inc()
    if analysis.model and not analysis.cached:
        usage = analysis.usage
        MODEL_TOKENS.labels(analysis.model, "prompt").inc(usage.prompt_tokens)
        MODEL_TOKENS.labels(analysis.model, "completion").inc(usage.completion_tokens)
        MODEL_COST.labels(analysis.model).inc(float(analysis.cost))
        if usage.seconds:
            MODEL_LATENCY.labels(analysis.model).observe(usage.seconds)


def observe_failure(*, document_type: str | None, error_code: str) -> None:
    """Count a live analysis that failed with `error_code`."""
    document_type = document_type or ""
    REQUESTS.labels(document_type, "error", NO_PROVIDER).inc()
    ERRORS.labels(document_type, error_code).inc()


def set_evaluation_gauge(document_type: str, value: float) -> None:
    """Publish the field accuracy (0 to 1) of the latest periodic evaluation of
    `document_type`; it stays until the next one replaces it."""
    EVALUATION.labels(document_type).set(value)


class CircuitCollector(Collector):
    """The model endpoint's circuit breaker as every worker sees it, read at scrape time:
    ``ocr_circuit_open`` is 1 while it refuses calls (open or half-open), and
    ``ocr_circuit_state`` is 1 for the current state."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        breaker = circuit.openai_breaker()
        try:
            found = cache.get_many([breaker.key("open"), breaker.key("half_open")])
        except Exception:
            # The cache is down: say nothing rather than claim the breaker is closed.
            logger.warning("The circuit breaker's state could not be read for /metrics")
            return
        if breaker.key("open") in found:
            current = circuit.CircuitState.OPEN
        elif breaker.key("half_open") in found:
            current = circuit.CircuitState.HALF_OPEN
        else:
            current = circuit.CircuitState.CLOSED
        is_open = GaugeMetricFamily(
            "ocr_circuit_open", "1 while the breaker refuses model calls.", labels=["breaker"]
        )
        is_open.add_metric([breaker.name], float(current != circuit.CircuitState.CLOSED))
        yield is_open
        state = GaugeMetricFamily(
            "ocr_circuit_state", "1 for the breaker's current state.", labels=["breaker", "state"]
        )
        for choice in circuit.CircuitState:
            state.add_metric([breaker.name, choice.value], float(choice == current))
        yield state


def registry() -> CollectorRegistry:
    """What a scrape reports: every worker's values where they share a directory, else this
    process's; and the circuit breaker."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        collected = CollectorRegistry()
        multiprocess.MultiProcessCollector(collected)
    else:
        collected = CollectorRegistry()
        collected.register(_Everything())
    collected.register(CircuitCollector())
    return collected


class _Everything(Collector):
    # The default registry, by reference, beside the breaker in a registry of the scrape's own.
    def collect(self):
        return REGISTRY.collect()


def _networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for text in settings.METRICS_ALLOWED_NETWORKS:
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            logger.warning("METRICS_ALLOWED_NETWORKS holds %r, which is no network", text)
    return networks


def may_scrape(request: HttpRequest) -> bool:
    """Whether the client may read the metrics: the bearer token (compared in constant time)
    or an address in the allowed networks. Only the connection's own address counts, never a
    header a client can write."""
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if (
        token
        and header.startswith("Bearer ")
        and hmac.compare_digest(header.removeprefix("Bearer ").encode(), token.encode())
    ):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in _networks())


def metrics_view(request: HttpRequest) -> HttpResponse:
    """The Prometheus exposition; 404, as for an address that does not exist, unless
    ``may_scrape``."""
    if not may_scrape(request):
        return HttpResponseNotFound("Not found.", content_type="text/plain")
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)

"""What a new worker loads before it takes requests.

A worker's first requests loaded what every later one reuses: the cache backends (Django imports
one on its first use, and the Redis client with it), the region table of the resident id check
(python-stdnum reads it from disk), the CA bundle of the model's client, the patterns the
extractor and the checks compile on first use. Served cold, they held the event loop for
100-350 ms while the requests that came in meanwhile queued, and with a model of steady latency
those requests came back bunched, round after round (bench/README.md, "A worker warms up before
it serves"). ``warm_up`` loads them once, when the ASGI application is built.
"""

from __future__ import annotations

import json
import logging
import time
from decimal import Decimal

from django.conf import settings
from django.core.cache import caches

from ocr import minimise
from ocr.analysis import model_analysis
from ocr.model_output import coerce_fields, parse_object
from ocr.pipeline import run_rules
from ocr.providers import Document, ProviderResult
from ocr.providers.openai import default_template, endpoint_configured
from ocr.providers.openai.client import ssl_context
from prompts.configuration import TypeConfig
from prompts.document_types import shipped_document_types

logger = logging.getLogger(__name__)

# Two generated documents of each type: their layouts differ, so do the paths they take.
DOCUMENTS_PER_TYPE = 2
# Fixed, so that every worker warms the same paths.
SEED = 11


def warm_up() -> None:
    """Load the cache backends; run the steps of an analysis that need neither the database nor
    the model on generated documents of every shipped type; load the model client's TLS
    settings where a model is configured. Log how long it took. A failure is logged, never
    raised: a cold worker still serves."""
    started = time.perf_counter()
    try:
        for alias in settings.CACHES:
            caches[alias]  # the lookup imports and builds the backend
        _analyse_generated_documents()
        if endpoint_configured():
            ssl_context()
    except Exception:
        logger.exception("Warming up the worker failed; its first requests will be slower")
        return
    logger.info("Worker warmed up in %.0f ms", (time.perf_counter() - started) * 1000)


def _analyse_generated_documents() -> None:
    # Imported here: only the warm-up needs the generator, never a request.
    from ocr.casegen import DOC_TYPES, generate_cases

    fields = shipped_document_types()
    for case in generate_cases(DOCUMENTS_PER_TYPE * len(DOC_TYPES), seed=SEED, real=True):
        key = case["documentType"]
        type_config = TypeConfig(key=key, name=key, fields=tuple(fields[key]), template=None)
        lines = tuple(case["rawTexts"])
        rules_result = run_rules(
            Document(document_type=key, fields=type_config.fields, lines=lines)
        )
        redaction = minimise.redact(lines, rules_result, type_config.fields)
        default_template(key).render(
            lines=list(redaction.lines), fields=list(type_config.fields), document_type=key
        )
        # The built-in extractor's values stand in for the model's answer, as JSON text.
        answer = parse_object(json.dumps(rules_result.values if rules_result else {}))
        keys = [spec.key for spec in type_config.fields]
        model_analysis(
            type_config=type_config,
            template=None,
            lines=lines,
            model_result=ProviderResult(values=coerce_fields(answer, keys=keys), provider="openai"),
            rules_result=rules_result,
            cost=Decimal(0),
        )

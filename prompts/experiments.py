"""A/B experiments between prompt template versions: which template serves a request.

Staff run experiments from the admin (prompts.models.Experiment). The pipeline reads a snapshot
of the running ones, with their variants and templates, from the cache (refreshed every
QV_TEMPLATE_CACHE_SECONDS, and at once when an experiment, a variant or a template is saved or
deleted: see prompts/signals.py), so starting or stopping one needs no deploy and an ordinary
request costs no query.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from django.conf import settings
from django.core.cache import cache
from django.db.models import Prefetch

from prompts import config_cache
from prompts.models import Experiment, ExperimentVariant
from quickvault.cache import aget_or_load


def _running_from_db() -> dict[str, Experiment]:
    variants = ExperimentVariant.objects.select_related("template__document_type").order_by("id")
    experiments = (
        Experiment.objects.running()
        .select_related("document_type")
        .prefetch_related(Prefetch("variants", queryset=variants))
    )
    # An experiment with no weighted variant (edited by hand after it started) serves nothing
    # rather than failing its type's requests.
    return {
        experiment.document_type.key: experiment
        for experiment in experiments
        if any(variant.weight > 0 for variant in experiment.variants.all())
    }


def load_running_experiments() -> dict[str, Experiment]:
    """{document type key: its running experiment, variants and templates prefetched} (cached)."""
    running = cache.get(Experiment.CACHE_KEY)
    if running is None:
        running = _running_from_db()
        cache.set(Experiment.CACHE_KEY, running, settings.QV_TEMPLATE_CACHE_SECONDS)
    return running


async def aload_running_experiments() -> dict[str, Experiment]:
    return await config_cache.aget(
        Experiment.CACHE_KEY,
        lambda: aget_or_load(Experiment.CACHE_KEY, load_running_experiments),
    )


def clear_experiment_cache() -> None:
    cache.delete(Experiment.CACHE_KEY)


def assignment_unit(*, key_id: str, lines: Sequence[str]) -> str:
    """The unit an experiment assigns to a variant: the API key id and the SHA-256 of the OCR
    text (the lines joined by newlines, as the prompt holds them).

    The same request from the same app always lands on the same variant, so it is served by the
    same template and the result cache (keyed on the template) answers it consistently; the
    text's hash keeps the text itself out of the unit.
    """
    text_hash = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    return f"{key_id}:{text_hash}"

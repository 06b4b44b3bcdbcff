"""The configuration a request is served with: one immutable snapshot of what staff edit.

Everything an analysis reads from staff-edited data (the active document types and their fields,
each type's default template, the running experiments with their variants and templates, the
model routes and the prices) is loaded together by ``load_configuration`` into one frozen
``Configuration``, and read only through it.

Each worker process keeps its latest snapshot, stamped with the configuration's *generation*: a
token in the shared cache that every save or delete of configuration replaces (one signal
receiver, ``prompts.signals``). ``get_configuration`` (and ``aget_configuration`` on the event
loop) reads the generation, one cache round trip, and answers with the kept snapshot where the
generations match, else loads a new one. A staff edit therefore takes effect on the next request
of every worker that shares the cache. Where the cache is not shared between processes (no
REDIS_URL) or cannot be reached, and after a change made without a save (a queryset update), a
snapshot is loaded again once it is MAX_AGE_SECONDS old.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Prefetch

from prompts.document_types import FieldSpec
from prompts.models import (
    DocumentType,
    Experiment,
    ExperimentVariant,
    ModelPrice,
    ModelRoute,
    PromptTemplate,
)
from quickvault.runtime.turns import off_turn

GENERATION_KEY = "config:generation"
# How stale a snapshot may be where no generation can tell (see the module docstring).
MAX_AGE_SECONDS = 10.0
COST_QUANTUM = Decimal("0.000001")


@dataclass(frozen=True)
class TypeConfig:
    """An active document type: its fields in order and the template that serves it by default."""

    key: str
    name: str
    fields: tuple[FieldSpec, ...]
    template: PromptTemplate | None
    # Checked numbers reach the model as placeholders (ocr.minimise).
    minimise_for_model: bool = True


@dataclass(frozen=True)
class Route:
    """One active model route (see ``prompts.models.ModelRoute``)."""

    id: int
    document_type: str | None
    max_ocr_chars: int | None
    max_ocr_lines: int | None
    model: str
    priority: int

    def matches(self, *, document_type: str, chars: int, lines: int) -> bool:
        """Whether this route serves a document of this type with this much OCR text."""
        if self.document_type is not None and self.document_type != document_type:
            return False
        if self.max_ocr_chars is not None and chars > self.max_ocr_chars:
            return False
        return self.max_ocr_lines is None or lines <= self.max_ocr_lines


@dataclass(frozen=True)
class Price:
    """USD per million prompt and completion tokens of one model."""

    input_per_million: Decimal
    output_per_million: Decimal


@dataclass(frozen=True)
class Configuration:
    """Staff-edited configuration as one immutable value; see the module docstring."""

    generation: str | None
    loaded_at: float
    document_types: Mapping[str, TypeConfig]
    # {document type key: its running experiment, variants and templates prefetched}
    experiments: Mapping[str, Experiment]
    # Best first: highest priority, then a route of one type before a route of any type.
    routes: tuple[Route, ...]
    prices: Mapping[str, Price]

    def document_type(self, key: str) -> TypeConfig | None:
        """Return the active document type `key`, or None."""
        return self.document_types.get(key)

    def running_experiment(self, key: str) -> Experiment | None:
        """Return the running experiment of document type `key`, or None."""
        return self.experiments.get(key)

    def choose_model(
        self, *, document_type: str, lines: Sequence[str], template: PromptTemplate | None
    ) -> str:
        """Return the model for one document: the template's own where it names one, else the
        first matching route's (blank meaning the default), else the default (OPENAI_MODEL)."""
        default_model = settings.OPENAI_MODEL
        if template is not None and template.model.strip():
            return template.model.strip()
        chars = sum(len(line) for line in lines)
        for route in self.routes:
            if route.matches(document_type=document_type, chars=chars, lines=len(lines)):
                return route.model or default_model
        return default_model

    def price(self, model: str) -> Price | None:
        """Return the price of `model`, or of the longest priced name it is a dated variant of
        (gpt-4o-mini prices gpt-4o-mini-2024-07-18)."""
        if model in self.prices:
            return self.prices[model]
        variants = [name for name in self.prices if model.startswith(name + "-")]
        return self.prices[max(variants, key=len)] if variants else None

    def cost(self, *, model: str | None, prompt_tokens: int, completion_tokens: int) -> Decimal:
        """Return USD for the tokens of `model`, rounded to the log's six decimal places; 0 where
        staff set no price for it."""
        price = self.price(model) if model else None
        if price is None:
            return Decimal(0)
        total = (
            Decimal(prompt_tokens) * price.input_per_million
            + Decimal(completion_tokens) * price.output_per_million
        ) / Decimal(1_000_000)
        return total.quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)


def load_configuration(*, generation: str | None) -> Configuration:
    """Read the whole configuration from the database, stamped with `generation`."""
    return Configuration(
        generation=generation,
        loaded_at=time.monotonic(),
        document_types=_document_types(),
        experiments=_running_experiments(),
        routes=_routes(),
        prices={
            price.model: Price(price.input_per_million, price.output_per_million)
            for price in ModelPrice.objects.all()
        },
    )


def _document_types() -> dict[str, TypeConfig]:
    defaults = {
        template.document_type_id: template
        for template in PromptTemplate.objects.defaults().select_related("document_type")
    }
    return {
        doc_type.key: TypeConfig(
            key=doc_type.key,
            name=doc_type.name,
            fields=tuple(doc_type.field_specs()),
            template=defaults.get(doc_type.pk),
            minimise_for_model=doc_type.minimise_for_model,
        )
        for doc_type in DocumentType.objects.active().prefetch_related("fields")
    }


def _running_experiments() -> dict[str, Experiment]:
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


def _routes() -> tuple[Route, ...]:
    routes = [
        Route(
            id=route.pk,
            document_type=route.document_type.key if route.document_type_id else None,
            max_ocr_chars=route.max_ocr_chars,
            max_ocr_lines=route.max_ocr_lines,
            model=route.model.strip(),
            priority=route.priority,
        )
        for route in ModelRoute.objects.active().select_related("document_type")
    ]
    return tuple(sorted(routes, key=lambda r: (-r.priority, r.document_type is None, r.id)))


_latest: Configuration | None = None


def _kept(generation: str | None) -> Configuration | None:
    """The kept snapshot, where it is of `generation` and young enough."""
    snapshot = _latest
    if snapshot is None or snapshot.generation != generation:
        return None
    if time.monotonic() - snapshot.loaded_at >= MAX_AGE_SECONDS:
        return None
    return snapshot


def _keep_or_load(generation: str | None) -> Configuration:
    global _latest
    snapshot = _kept(generation)
    if snapshot is None:
        snapshot = _latest = load_configuration(generation=generation)
    return snapshot


def get_configuration() -> Configuration:
    """Return the current configuration (see the module docstring)."""
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
        generation = cache.get(GENERATION_KEY)
    return _keep_or_load(generation)


async def aget_configuration() -> Configuration:
    """Return the current configuration from the event loop: a thread only to load one."""
    generation = await cache.aget(GENERATION_KEY)
    if generation is None:
        await cache.aadd(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
        generation = await cache.aget(GENERATION_KEY)
    snapshot = _kept(generation)
    if snapshot is None:
        snapshot = await off_turn(_keep_or_load)(generation)
    return snapshot


def new_generation() -> None:
    """Make every worker load the configuration again on its next request.

    Once now, for the saving transaction itself, and once more after it commits: a worker that
    read the new generation before the commit may have loaded the old rows under it.
    """
    _start_generation()
    transaction.on_commit(_start_generation)


def _start_generation() -> None:
    global _latest
    _latest = None
    cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)

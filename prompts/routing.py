"""Model routing and prices: which model serves a document, and what a call cost.

Staff edit ModelRoute and ModelPrice rows in the admin; the service reads a snapshot of them from
the cache (refreshed every QV_MODEL_ROUTING_CACHE_SECONDS, and at once when a row is saved or
deleted: see prompts/signals.py), so a change needs no deploy and costs no query per request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache

from prompts import config_cache
from prompts.models import ModelPrice, ModelRoute
from quickvault.cache import aget_or_load

if TYPE_CHECKING:
    from prompts.models import PromptTemplate


@dataclass(frozen=True)
class Route:
    """A cacheable copy of one active ModelRoute."""

    id: int
    document_type: str | None
    max_ocr_chars: int | None
    max_ocr_lines: int | None
    model: str
    priority: int

    def matches(self, *, document_type: str, chars: int, lines: int) -> bool:
        if self.document_type is not None and self.document_type != document_type:
            return False
        if self.max_ocr_chars is not None and chars > self.max_ocr_chars:
            return False
        return self.max_ocr_lines is None or lines <= self.max_ocr_lines


def _routes_from_db() -> list[Route]:
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
    # Highest priority first; at equal priority a route of one type before a route of any type.
    return sorted(routes, key=lambda r: (-r.priority, r.document_type is None, r.id))


def _prices_from_db() -> dict[str, tuple[Decimal, Decimal]]:
    return {
        price.model: (price.input_per_million, price.output_per_million)
        for price in ModelPrice.objects.all()
    }


def load_routes() -> list[Route]:
    """The active routes, best first (cached)."""
    routes = cache.get(ModelRoute.CACHE_KEY)
    if routes is None:
        routes = _routes_from_db()
        cache.set(ModelRoute.CACHE_KEY, routes, settings.QV_MODEL_ROUTING_CACHE_SECONDS)
    return routes


async def aload_routes() -> list[Route]:
    return await config_cache.aget(
        ModelRoute.CACHE_KEY, lambda: aget_or_load(ModelRoute.CACHE_KEY, load_routes)
    )


def load_prices() -> dict[str, tuple[Decimal, Decimal]]:
    """{model: (USD per 1M prompt tokens, USD per 1M completion tokens)} (cached)."""
    prices = cache.get(ModelPrice.CACHE_KEY)
    if prices is None:
        prices = _prices_from_db()
        cache.set(ModelPrice.CACHE_KEY, prices, settings.QV_MODEL_ROUTING_CACHE_SECONDS)
    return prices


async def aload_prices() -> dict[str, tuple[Decimal, Decimal]]:
    return await config_cache.aget(
        ModelPrice.CACHE_KEY, lambda: aget_or_load(ModelPrice.CACHE_KEY, load_prices)
    )


def clear_routing_cache() -> None:
    cache.delete_many([ModelRoute.CACHE_KEY, ModelPrice.CACHE_KEY])


def pick_model(
    *,
    routes: Sequence[Route],
    document_type: str,
    lines: Sequence[str],
    template: PromptTemplate | None = None,
    default_model: str,
) -> str:
    """The model for one document: the template's own model where it names one, else the first
    matching route's (blank meaning the default), else the default model."""
    if template is not None and template.model.strip():
        return template.model.strip()
    chars = sum(len(line) for line in lines)
    for route in routes:
        if route.matches(document_type=document_type, chars=chars, lines=len(lines)):
            return route.model or default_model
    return default_model


async def choose_model(
    *, document_type: str, lines: Sequence[str], template: PromptTemplate | None = None
) -> str:
    """The model for one document under the routing staff set (see ``pick_model``)."""
    return pick_model(
        routes=await aload_routes(),
        document_type=document_type,
        lines=lines,
        template=template,
        default_model=settings.OPENAI_MODEL,
    )


def price_of(
    model: str, prices: dict[str, tuple[Decimal, Decimal]]
) -> tuple[Decimal, Decimal] | None:
    """The price of ``model``, or of the longest priced name it is a dated variant of."""
    if model in prices:
        return prices[model]
    variants = [name for name in prices if model.startswith(name + "-")]
    return prices[max(variants, key=len)] if variants else None


def cost_of(
    *,
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
    prices: dict[str, tuple[Decimal, Decimal]],
) -> Decimal:
    """USD for the tokens of ``model``; 0 where staff set no price for it."""
    price = price_of(model, prices)
    if price is None:
        return Decimal(0)
    return ModelPrice(model=model, input_per_million=price[0], output_per_million=price[1]).cost(
        prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
    )


async def call_cost(*, model: str, prompt_tokens: int, completion_tokens: int) -> Decimal:
    """USD for one call's tokens at the price staff set (0 where there is none)."""
    return cost_of(
        model=model,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        prices=await aload_prices(),
    )

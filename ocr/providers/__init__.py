"""Extraction providers: the named implementations of ``Provider`` and how to get one.

``PROVIDERS`` maps each name to its class; ``get_provider(name)`` returns a new instance.
The types providers answer with live in ``ocr.providers.base`` and are re-exported here.
"""

from __future__ import annotations

from ocr.providers.base import (
    Document,
    MissingItemError,
    Provider,
    ProviderError,
    ProviderResult,
    Usage,
)
from ocr.providers.openai import OpenAIProvider
from ocr.providers.rules import RulesProvider

PROVIDERS: dict[str, type[Provider]] = {
    RulesProvider.name: RulesProvider,
    OpenAIProvider.name: OpenAIProvider,
}


def get_provider(name: str) -> Provider:
    """A new instance of the provider called ``name``; raises a permanent ProviderError for a
    name that is not in ``PROVIDERS``."""
    try:
        provider_class = PROVIDERS[name]
    except KeyError:
        raise ProviderError(f"Unknown provider {name!r}", permanent=True) from None
    return provider_class()


__all__ = [
    "PROVIDERS",
    "Document",
    "MissingItemError",
    "Provider",
    "ProviderError",
    "ProviderResult",
    "Usage",
    "get_provider",
]

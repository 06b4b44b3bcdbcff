"""Extraction providers: a registry of named implementations of `Provider`."""

from __future__ import annotations

from ocr.providers.base import Document, Provider, ProviderError, ProviderResult

_registry: dict[str, type[Provider]] = {}


def register(provider_class: type[Provider]) -> type[Provider]:
    _registry[provider_class.name] = provider_class
    return provider_class


def get_provider(name: str) -> Provider:
    load_builtin_providers()
    try:
        return _registry[name]()
    except KeyError:
        raise ProviderError(f"Unknown provider {name!r}", permanent=True) from None


def provider_names() -> list[str]:
    load_builtin_providers()
    return sorted(_registry)


def load_builtin_providers() -> None:
    from ocr.providers import openai, rules  # noqa: F401


__all__ = [
    "Document",
    "Provider",
    "ProviderError",
    "ProviderResult",
    "get_provider",
    "provider_names",
    "register",
]

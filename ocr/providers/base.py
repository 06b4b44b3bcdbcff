"""The interface every extraction provider implements, and the types it answers with.

A provider reads one document (or several of one type) and answers with untrusted values: the
pipeline normalises, grounds, validates and scores them. Providers know nothing of prices or
routes: the pipeline chooses the model (``model``) and prices the ``Usage`` a result reports.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from prompts.document_types import FieldSpec

if TYPE_CHECKING:
    from prompts.models import PromptTemplate


@dataclass(frozen=True)
class Document:
    """One document to extract: its type, field specs and OCR lines as the phone sent them."""

    document_type: str
    fields: tuple[FieldSpec, ...]
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Usage:
    """Tokens a model call spent on one document (its share, where the call was merged)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    # What the prompt would have cost in a call of its own: above prompt_tokens when merged.
    prompt_tokens_unmerged: int = 0
    # How long the model call that answered took (the merged call's, where it was merged).
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if not self.prompt_tokens_unmerged and self.prompt_tokens:
            object.__setattr__(self, "prompt_tokens_unmerged", self.prompt_tokens)


@dataclass(frozen=True)
class ProviderResult:
    """A provider's answer for one document. Values are untrusted until the pipeline checks them."""

    values: dict[str, str | None]
    provider: str
    model: str | None = None
    # The provider's own belief per field, where it has one (the rules extractor does).
    confidence: dict[str, float] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    usage: Usage = Usage()
    # Shared by the documents of one merged model call.
    batch_id: uuid.UUID | None = None


class ProviderError(Exception):
    """A provider could not answer. ``permanent`` errors are not worth retrying; ``timeout``
    says the model did not answer in time; ``usage`` is what the failed call still cost
    (replies that came back unusable), on ``model``."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        timeout: bool = False,
        model: str | None = None,
        usage: Usage = Usage(),
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.timeout = timeout
        self.model = model
        self.usage = usage


class MissingItemError(ProviderError):
    """A merged call answered, but not for this document: worth a call of its own."""


class Provider(ABC):
    name: ClassVar[str]

    @abstractmethod
    async def extract(
        self, *, document: Document, template: PromptTemplate | None, model: str
    ) -> ProviderResult:
        """Return the fields of one document, read by `model`. Raise ProviderError."""

    async def extract_many(
        self, *, documents: list[Document], template: PromptTemplate | None, model: str
    ) -> list[ProviderResult | ProviderError]:
        """Return each document's result, or the error that kept it from one, in order."""
        results: list[ProviderResult | ProviderError] = []
        for document in documents:
            try:
                results.append(
                    await self.extract(document=document, template=template, model=model)
                )
            except ProviderError as error:
                results.append(error)
        return results

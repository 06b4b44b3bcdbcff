"""The interface every extraction provider implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from prompts.document_types import FieldSpec

if TYPE_CHECKING:
    from prompts.models import PromptTemplate


@dataclass(frozen=True)
class Document:
    """One document to extract: its type, field specs and OCR lines as the phone sent them."""

    document_type: str
    fields: tuple[FieldSpec, ...]
    lines: tuple[str, ...]


@dataclass
class ProviderResult:
    """A provider's answer for one document. Values are untrusted until the pipeline checks them."""

    values: dict[str, str | None]
    provider: str
    model: str | None = None
    # The provider's own belief per field, where it has one (the rules extractor does).
    confidence: dict[str, float] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: Decimal = Decimal(0)


class ProviderError(Exception):
    """A provider could not answer. `permanent` errors are not worth retrying."""

    def __init__(self, message: str, *, permanent: bool = False, timeout: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.timeout = timeout


class Provider(ABC):
    name: str = ""

    @abstractmethod
    async def extract(
        self, *, document: Document, template: PromptTemplate | None
    ) -> ProviderResult:
        """Extract the fields of one document."""

    async def extract_many(
        self, *, documents: list[Document], template: PromptTemplate | None
    ) -> list[ProviderResult | ProviderError]:
        """Extract several documents of one type; each item fails on its own."""
        results: list[ProviderResult | ProviderError] = []
        for document in documents:
            try:
                results.append(await self.extract(document=document, template=template))
            except ProviderError as error:
                results.append(error)
        return results

    def is_available(self) -> bool:
        return True

"""Provider "rules": the built-in extractor, which reads fields from OCR lines by rule."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocr import rules
from ocr.providers.base import Document, Provider, ProviderResult

if TYPE_CHECKING:
    from prompts.models import PromptTemplate


class RulesProvider(Provider):
    """No model and no template: ``template`` and ``model`` are accepted and ignored."""

    name = "rules"

    async def extract(
        self, *, document: Document, template: PromptTemplate | None, model: str
    ) -> ProviderResult:
        return self.extract_sync(document=document)

    def extract_sync(self, *, document: Document) -> ProviderResult:
        """The fields rules find in ``document``, with a confidence and source per field
        found; it costs no tokens and cannot fail."""
        candidates = rules.extract(
            document_type=document.document_type,
            lines=list(document.lines),
            fields=list(document.fields),
        )
        return ProviderResult(
            values={key: c.value if c else None for key, c in candidates.items()},
            provider=self.name,
            confidence={key: c.confidence for key, c in candidates.items() if c},
            sources={key: c.source for key, c in candidates.items() if c},
        )

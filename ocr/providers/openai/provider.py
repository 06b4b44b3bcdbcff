"""``OpenAIProvider``: extraction by any OpenAI-compatible Chat Completions endpoint.

The caller names the model; the provider renders the template's prompt (the shipped prompts
where there is no template), asks the model (``calls.complete``) and shapes the untrusted answer
into field strings (``ocr.model_output``). Several documents of one type are read in merged calls
(``batching``). Prices are not known here: results and errors report ``Usage`` for the caller to
price.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.conf import settings

from ocr.model_output import coerce_fields, parse_object
from ocr.providers.base import Document, Provider, ProviderError, ProviderResult, Usage
from ocr.providers.openai.batching import extract_merged
from ocr.providers.openai.calls import complete
from quickvault.concurrency import together

if TYPE_CHECKING:
    from prompts.models import PromptTemplate


def default_template(document_type: str) -> PromptTemplate:
    """An unsaved template with the shipped prompts, for a type that has no template."""
    from prompts.models import DocumentType, PromptTemplate
    from prompts.seed import SYSTEM_PROMPT, USER_PROMPT

    return PromptTemplate(
        document_type=DocumentType(key=document_type, name=document_type),
        name=document_type,
        version="0.0.0",
        system_prompt=SYSTEM_PROMPT,
        user_prompt=USER_PROMPT,
    )


def _document_type_of(documents: Sequence[Document]) -> str:
    """The one type of ``documents``; a merged call cannot serve several."""
    types = {document.document_type for document in documents}
    if len(types) != 1:
        raise ValueError(f"extract_many needs documents of one type, not {sorted(types)}")
    return documents[0].document_type


class OpenAIProvider(Provider):
    """Provider "openai": the configured endpoint (``client.endpoint_configured``)."""

    name = "openai"

    async def extract(
        self, *, document: Document, template: PromptTemplate | None, model: str
    ) -> ProviderResult:
        """Read one document with ``model``. Raises ModelCallError (a ProviderError); the
        result's ``model`` is the default one where the endpoint lacked ``model``."""
        template = template or default_template(document.document_type)
        messages = template.render(
            lines=list(document.lines),
            fields=list(document.fields),
            document_type=document.document_type,
        )
        completion = await complete(
            messages=messages,
            model=model,
            max_tokens=template.max_tokens,
            temperature=template.temperature,
            json_mode=template.json_mode,
            parse=parse_object,
        )
        return ProviderResult(
            values=coerce_fields(completion.parsed, keys=[spec.key for spec in document.fields]),
            provider=self.name,
            model=completion.model,
            usage=Usage(
                prompt_tokens=completion.prompt_tokens,
                completion_tokens=completion.completion_tokens,
            ),
        )

    async def extract_many(
        self, *, documents: list[Document], template: PromptTemplate | None, model: str
    ) -> list[ProviderResult | ProviderError]:
        """Read documents of one type with ``model``, in merged calls of up to
        OPENAI_BATCH_MAX_ITEMS run together; a lone document gets a call of its own.

        Returns each document's result or error, in order (see ``batching.extract_merged``).
        Raises ValueError for documents of several types.
        """
        if not documents:
            return []
        document_type = _document_type_of(documents)
        template = template or default_template(document_type)
        size = max(1, settings.OPENAI_BATCH_MAX_ITEMS)
        chunks = [documents[i : i + size] for i in range(0, len(documents), size)]
        answers = await together(
            [self._extract_chunk(chunk, template=template, model=model) for chunk in chunks]
        )
        return [result for answer in answers for result in answer]

    async def _extract_chunk(
        self, documents: list[Document], *, template: PromptTemplate, model: str
    ) -> list[ProviderResult | ProviderError]:
        if len(documents) > 1:
            return await extract_merged(
                documents=documents, template=template, model=model, provider=self.name
            )
        try:
            return [await self.extract(document=documents[0], template=template, model=model)]
        except ProviderError as error:
            return [error]

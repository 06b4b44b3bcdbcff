"""Merged calls: several documents of one type read by one model call, its tokens shared out.

A merged call shares the instructions once and asks for ``{"items": [...]}``, one object per
document in prompt order. Its tokens are shared among its documents so that each result (or
error) reports what that document cost:

- the prompt: each document's own OCR text plus an equal part of the shared instructions;
- the answer: by the length of each document's object;
- what each prompt would have cost in a call of its own (``prompt_tokens_unmerged``): its
  rendered single-document prompt at this call's tokens per character.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings

from ocr.model_output import ModelOutputError, coerce_fields, parse_items
from ocr.providers.base import (
    Document,
    MissingItemError,
    ProviderError,
    ProviderResult,
    Usage,
)
from ocr.providers.openai.calls import Completion, ModelCallError, complete

if TYPE_CHECKING:
    from prompts.models import PromptTemplate

# The answer weight of a document the merged answer left out: a little, not nothing.
MISSING_ANSWER_CHARS = 1


def split_total(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` split in proportion to ``weights``, in whole numbers that add up to it (largest
    remainders first); equal parts where every weight is 0."""
    if not weights:
        return []
    whole = sum(weights)
    if not whole:
        weights, whole = [1.0] * len(weights), float(len(weights))
    exact = [total * w / whole for w in weights]
    parts = [int(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: exact[i] - parts[i], reverse=True)
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


def message_chars(messages: list[dict[str, str]]) -> int:
    """Characters of the chat messages' contents."""
    return sum(len(m["content"]) for m in messages)


def share_usage(
    *,
    prompt_tokens: int,
    completion_tokens: int,
    merged_chars: int,
    own_chars: Sequence[int],
    answer_chars: Sequence[int],
    alone_chars: Sequence[int],
) -> list[Usage]:
    """Each document's share of a merged call's tokens (see the module docstring).

    ``merged_chars`` is the merged prompt's length; per document, ``own_chars`` is its OCR text
    in that prompt, ``answer_chars`` its object in the answer and ``alone_chars`` the length of
    the prompt of a call of its own.
    """
    count = len(own_chars)
    instructions = max(0, merged_chars - sum(own_chars))
    prompt_shares = split_total(prompt_tokens, [own + instructions / count for own in own_chars])
    completion_shares = split_total(completion_tokens, list(answer_chars))
    per_char = prompt_tokens / merged_chars if merged_chars else 0.0
    return [
        Usage(
            prompt_tokens=prompt,
            completion_tokens=answer,
            prompt_tokens_unmerged=round(alone * per_char),
        )
        for prompt, answer, alone in zip(prompt_shares, completion_shares, alone_chars, strict=True)
    ]


def shared_failure(error: ModelCallError, *, count: int) -> list[ProviderError]:
    """A failed merged call's error for each of its ``count`` documents, each carrying an equal
    share of the tokens the call still cost."""
    prompts = split_total(error.usage.prompt_tokens, [1.0] * count)
    answers = split_total(error.usage.completion_tokens, [1.0] * count)
    return [
        ModelCallError(
            str(error),
            permanent=error.permanent,
            timeout=error.timeout,
            model=error.model,
            usage=Usage(prompt_tokens=prompt, completion_tokens=answer),
        )
        for prompt, answer in zip(prompts, answers, strict=True)
    ]


def _items_parser(count: int) -> Callable[[str], list[dict[str, Any] | None]]:
    """The ``parse`` of a merged call: its ``count`` items, failing when it holds none."""

    def parse(text: str) -> list[dict[str, Any] | None]:
        items = parse_items(text, count=count)
        if not any(items):
            raise ModelOutputError("The answer holds no item.")
        return items

    return parse


def _results(
    *,
    documents: Sequence[Document],
    template: PromptTemplate,
    completion: Completion,
    merged_chars: int,
    provider: str,
) -> list[ProviderResult | ProviderError]:
    fields = list(documents[0].fields)
    keys = [spec.key for spec in fields]
    items: list[dict[str, Any] | None] = completion.parsed
    usages = share_usage(
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        merged_chars=merged_chars,
        own_chars=[sum(len(line) + 1 for line in d.lines) for d in documents],
        answer_chars=[
            len(json.dumps(item, ensure_ascii=False)) if item else MISSING_ANSWER_CHARS
            for item in items
        ],
        alone_chars=[
            message_chars(
                template.render(lines=list(d.lines), fields=fields, document_type=d.document_type)
            )
            for d in documents
        ],
    )
    batch_id = uuid.uuid4()
    results: list[ProviderResult | ProviderError] = []
    for index, (item, usage) in enumerate(zip(items, usages, strict=True)):
        if item is None:
            results.append(
                MissingItemError(
                    f"the merged answer has no object for item {index + 1}",
                    model=completion.model,
                    usage=usage,
                )
            )
            continue
        results.append(
            ProviderResult(
                values=coerce_fields(item, keys=keys),
                provider=provider,
                model=completion.model,
                usage=usage,
                batch_id=batch_id,
            )
        )
    return results


async def extract_merged(
    *,
    documents: Sequence[Document],
    template: PromptTemplate,
    model: str,
    provider: str,
) -> list[ProviderResult | ProviderError]:
    """Read two or more documents of one type with one call to ``model``.

    Returns, in order, each document's result (``provider`` names it, ``batch_id`` is shared)
    or error: a call that fails gives a ModelCallError to each document, with its share of what
    the call still cost; a document the answer leaves out gets a MissingItemError of its own,
    with its share of the call's tokens.
    """
    count = len(documents)
    messages = template.render_batch(
        documents=[list(d.lines) for d in documents],
        fields=list(documents[0].fields),
        document_type=documents[0].document_type,
    )
    try:
        completion = await complete(
            messages=messages,
            model=model,
            max_tokens=min(template.max_tokens * count, settings.OPENAI_BATCH_MAX_TOKENS),
            temperature=template.temperature,
            json_mode=template.json_mode,
            parse=_items_parser(count),
        )
    except ModelCallError as error:
        return list(shared_failure(error, count=count))
    return _results(
        documents=documents,
        template=template,
        completion=completion,
        merged_chars=message_chars(messages),
        provider=provider,
    )

"""The chat messages a prompt template renders: placeholders filled with one document's OCR
lines, or with several documents' merged into one call."""

from __future__ import annotations

import json
import re

from prompts.document_types import FieldSpec

CANONICAL_FORMATS = {
    "text": (
        "as printed; no line breaks, no spaces inside Chinese text; Latin words keep single spaces"
    ),
    "date": "YYYY-MM-DD",
    "yearMonth": "YYYY-MM (a card's 08/29 is 2029-08)",
    "validUntil": "YYYY-MM-DD, or long-term where the document says 长期",
    "gender": "male or female",
    "country": "three-letter code as in a machine readable zone (CHN, UTO)",
    "code": "upper case, no spaces, no middle dots",
    "digits": "digits only, no spaces",
    "debit or credit": "debit or credit",
}

PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")

# The marker line before each document of a merged (batch) prompt.
BATCH_MARKER = "--- document {index} of {count} ---"
# Appended to the template's system prompt when several documents share one call.
BATCH_INSTRUCTIONS = """

This request holds {{count}} separate documents of this type. Each starts with a marker line
"--- document N of {{count}} ---" followed by its own OCR lines.
- Answer with ONE JSON object {"items": [...]} and nothing else. The list has exactly {{count}}
  objects, one per document, in the order the documents appear.
- Every object follows the rules above on its own: exactly the field keys {{field_keys}}, each
  value taken from that document's lines only, or null."""


def render_messages(
    *,
    system_prompt: str,
    user_prompt: str,
    lines: list[str],
    fields: list[FieldSpec],
    document_type: str,
) -> list[dict[str, str]]:
    """Return the chat messages for one document: the OCR lines verbatim, one per line."""
    context = _context(fields=fields, document_type=document_type, ocr_text="\n".join(lines))
    return [
        {"role": "system", "content": fill_placeholders(system_prompt, context)},
        {"role": "user", "content": fill_placeholders(user_prompt, context)},
    ]


def render_batch_messages(
    *,
    system_prompt: str,
    user_prompt: str,
    documents: list[list[str]],
    fields: list[FieldSpec],
    document_type: str,
) -> list[dict[str, str]]:
    """Return the chat messages for several documents of one type merged into one call.

    The system prompt and the field list and formats come once (the instructions the documents
    share), then ``{{ocr_text}}`` holds every document's OCR lines verbatim under a marker line
    ``--- document N of M ---``, and BATCH_INSTRUCTIONS ask for ``{"items": [...]}``, one object
    per document in that order. Staff write one template per type; the batch form needs nothing
    more from them.
    """
    count = len(documents)
    sections = [
        BATCH_MARKER.format(index=index, count=count) + "\n" + "\n".join(lines)
        for index, lines in enumerate(documents, start=1)
    ]
    context = _context(fields=fields, document_type=document_type, ocr_text="\n\n".join(sections))
    context["count"] = str(count)
    system = fill_placeholders(system_prompt, context) + fill_placeholders(
        BATCH_INSTRUCTIONS, context
    )
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": fill_placeholders(user_prompt, context)},
    ]


def _context(*, fields: list[FieldSpec], document_type: str, ocr_text: str) -> dict[str, str]:
    return {
        "ocr_text": ocr_text,
        "fields": render_field_list(fields),
        "formats": render_formats(fields),
        "document_type": document_type,
        "field_keys": json.dumps([f.key for f in fields]),
    }


def fill_placeholders(text: str, context: dict[str, str]) -> str:
    # Unknown placeholders stay as written so a typo is visible in the rendered prompt.
    return PLACEHOLDER.sub(lambda m: context.get(m.group(1), m.group(0)), text)


def render_field_list(fields: list[FieldSpec]) -> str:
    return "\n".join(
        f"- {f.key} ({f.label}): {f.format}{', required' if f.required else ''}" for f in fields
    )


def render_formats(fields: list[FieldSpec]) -> str:
    used = dict.fromkeys(f.format for f in fields)
    return "\n".join(f"- {name}: {CANONICAL_FORMATS.get(name, name)}" for name in used)

"""The API's input fields whose OpenAPI schema says more than DRF can infer: what the API checks
beyond the field's type (lines with text, no NUL, per-item batch errors, the document type keys),
so that the schema and the API agree."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ocr.parsers import UNSTORABLE
from prompts.document_types import DocumentTypeKey


class StrictCharField(serializers.CharField):
    """A string field that refuses numbers and booleans instead of converting them."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def unbind(field: serializers.Field) -> None:
    """Break the reference cycles of a serializer that has been used: DRF binds each field to
    its parent (``field.parent``), a list field's child to the list, and a serializer keeps its
    bound fields (``fields``). Unbound, reference counting frees it with its request, where
    otherwise only the garbage collector's full passes would, stalling every request in flight.
    The serializer is not to be used afterwards."""
    for child in _bound_children(field):
        unbind(child)
    vars(field).pop("parent", None)
    vars(field).pop("fields", None)


def _bound_children(field: serializers.Field) -> Iterator[serializers.Field]:
    bound = vars(field).get("fields")
    if bound is not None:
        yield from bound.values()
    child = vars(field).get("child")
    if child is not None:
        yield child


# Strings the API takes hold no NUL character (400 otherwise: no database stores one in text).
NO_NUL = r"^[^\u0000]*$"


@extend_schema_field(
    {
        "type": "string",
        "nullable": True,
        "maxLength": 64,
        # "" or null: left out, the service decides the type from the text.
        "enum": [*DocumentTypeKey.values, "", None],
        "description": "The document type: one of the shipped types listed here, or of any type "
        "staff have added since (GET /api/v1/document-types lists the active ones). Left out, "
        "empty or null: the service decides from the text.",
    }
)
class DocumentTypeKeyField(StrictCharField):
    """A document type key. The schema lists the shipped keys; the service accepts any active
    type, staff-added ones too, and answers 400 for others."""


@extend_schema_field(
    {
        "type": "array",
        "minItems": 1,
        "items": {"type": "string", "pattern": NO_NUL},
        # At least one line holds text: not every line blank.
        "not": {"items": {"pattern": r"^\s*$"}},
        "description": "The OCR lines in reading order; at least one of them must hold text "
        "(400 otherwise).",
    }
)
class RawTextsField(serializers.ListField):
    """The OCR lines: a non-empty list of strings, at least one of them not blank. Each line is
    taken as sent: blank lines too, and no whitespace trimmed."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_empty", False)
        super().__init__(child=StrictCharField(allow_blank=True, trim_whitespace=False), **kwargs)

    def to_internal_value(self, data: Any) -> list[str]:
        # DRF validates a list one item at a time through the child field, some ten calls a
        # line. Lines that all pass the child's checks (a string, none of the characters
        # UNSTORABLE finds: NUL, lone surrogates) are taken here at once; the others go
        # through DRF, for its errors by line.
        if (
            type(data) is list
            and data
            and all(type(line) is str for line in data)
            and not UNSTORABLE.search("".join(data))
        ):
            return list(data)
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "type": "array",
        "minItems": 1,
        "maxItems": 20,
        "items": {
            "anyOf": [{"$ref": "#/components/schemas/AnalyzeInputRequest"}, {}],
            "description": "An analyze request. Each item is checked on its own: one that is "
            "not a valid analyze request gets its error in its place in results, and the "
            "others are analysed.",
        },
    }
)
class BatchItemsField(serializers.ListField):
    """The batch's analyze requests, each validated on its own (``parse_analyze_item``)."""


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string", "nullable": True, "pattern": NO_NUL},
        "description": "Corrected values by field key; a key that is not a field of the "
        "request's document type is a 400.",
    }
)
class CorrectionsField(serializers.DictField):
    """Corrected values by field key (the keys are checked against the type's fields)."""

"""Reading request bodies: JSON with its nesting bounded before it is decoded, and text made
storable.

``json_depth`` measures how deeply a JSON text nests without decoding it, in time linear in its
length and with no recursion, so a body of ``[[[[...`` is refused (400) instead of exhausting the
decoder's recursion (a 500). ``BoundedJSONParser`` is DRF's JSON parser with that check first and
lone surrogates (``"\\ud800"``, which no UTF-8 text can hold) replaced. ``storable`` makes any
decoded value safe for every database the service runs on: no NUL (PostgreSQL refuses it in text
and JSON) and no lone surrogate.
"""

from __future__ import annotations

import codecs
import json
import re
import unicodedata
from itertools import accumulate
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# A JSON string literal (escapes included): brackets inside one do not nest.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_BRACKETS = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
# A \uD800-\uDFFF escape: where none is in the text, no decoded string holds a surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in `text`, read as JSON (0 for a scalar)."""
    brackets = _BRACKETS.sub("", _STRING.sub("", text))
    if not brackets:
        return 0
    return max(0, max(accumulate(map(_STEP.__getitem__, brackets))))


def storable(value: Any) -> Any:
    """`value` with every string (keys too) freed of NUL and lone surrogates, each replaced by
    U+FFFD; lists, tuples and dicts are walked (their depth is bounded where they come from)."""
    if isinstance(value, str):
        return _UNSTORABLE.sub(REPLACEMENT, value) if _UNSTORABLE.search(value) else value
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(storable(item) for item in value)
    return value


def _without_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return re.sub("[\ud800-\udfff]", REPLACEMENT, value)
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_surrogates(item) for item in value]
    return value


def loads_bounded(text: str, *, max_depth: int) -> Any:
    """json.loads for untrusted text: ValueError where it nests deeper than `max_depth`."""
    if json_depth(text) > max_depth:
        raise ValueError(f"JSON nested deeper than {max_depth} levels")
    return json.loads(text)


class BoundedJSONParser(JSONParser):
    """DRF's JSONParser, refusing (400 ``invalid_request``) JSON nested deeper than
    QV_MAX_JSON_DEPTH before it is decoded. NaN and Infinity are refused as DRF refuses them."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(stream.read(), encoding)
        except (UnicodeDecodeError, LookupError) as error:
            raise ParseError(f"The body is not {encoding} text.") from error
        # Here, not at the top: DRF imports this parser while ocr.errors imports DRF.
        from ocr.errors import invalid_request

        limit = settings.QV_MAX_JSON_DEPTH
        if json_depth(text) > limit:
            raise invalid_request(
                f"The body nests JSON deeper than {limit} levels.",
                {"body": [f"Nested deeper than {limit} levels."]},
            )
        try:
            data = json.loads(text, parse_constant=_refuse_constant)
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from error
        return _without_surrogates(data) if _SURROGATE_ESCAPE.search(text) else data


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def check_normalised_size(lines: list[str], *, name: str) -> None:
    """413 where the lines pass the limits as sent but not once normalised (NFKC), the form
    every later step reads: one character may expand to 18 ("\ufdfa"), and the work of an
    analysis grows with the normalised text, so the limits hold for it too. Normalising is one
    pass in C over at most QV_MAX_TOTAL_CHARS characters."""
    from ocr.errors import payload_too_large  # see BoundedJSONParser.parse

    normalised = [len(unicodedata.normalize("NFKC", line)) for line in lines]
    if any(length > settings.QV_MAX_LINE_CHARS for length in normalised):
        raise payload_too_large(
            f"A line is over {settings.QV_MAX_LINE_CHARS} characters once normalised (NFKC).",
            {name: {"maxLineChars": settings.QV_MAX_LINE_CHARS, "normalization": "NFKC"}},
        )
    if sum(normalised) > settings.QV_MAX_TOTAL_CHARS:
        raise payload_too_large(
            f"More than {settings.QV_MAX_TOTAL_CHARS} characters in all once normalised (NFKC).",
            {name: {"maxTotalChars": settings.QV_MAX_TOTAL_CHARS, "normalization": "NFKC"}},
        )

"""Reading request bodies: JSON with its nesting bounded before it is decoded, and text made
storable.

``nests_deeper_than`` tells whether a JSON text nests deeper than a limit without decoding it,
in C and with no recursion, so a body of ``[[[[...`` is refused (400) instead of exhausting the
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
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# A JSON string literal (escapes included): brackets inside one do not nest.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
# As bytes (every byte of a non-ASCII character is >= 0x80): all but the brackets are deleted,
# and the brackets made parentheses, in one C pass.
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_AS_PARENS = bytes.maketrans(b"[{]}", b"(())")
# A \uD800-\uDFFF escape: where none is in the text, no decoded string holds a surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
# What no database of the service stores in text: NUL, and lone surrogates.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def nests_deeper_than(text: str, limit: int) -> bool:
    """Whether `text`, read as JSON, nests arrays and objects more than `limit` deep.

    Without decoding or recursion, and in C: strings are cut out, every bracket becomes ( or ),
    and then each pass deletes the innermost pairs, "()". A text of depth d is empty after d
    passes, so at most `limit` passes over it are made (none for a text with no more brackets
    than `limit`, which is nearly every request), and a run of more than `limit` openers ends
    them at once. Unbalanced brackets, which no valid JSON has, count as too deep.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    outside_strings = _STRING.sub("", text).encode("utf-8", "surrogatepass")
    brackets = outside_strings.translate(_AS_PARENS, _NOT_BRACKETS)
    # More than `limit` openers in a row nest too deep whatever follows: one fast search.
    too_deep = b"(" * (limit + 1)
    for _ in range(limit):
        if not brackets:
            return False
        if too_deep in brackets:
            return True
        brackets = brackets.replace(b"()", b"")
    return bool(brackets)


def storable(value: Any) -> Any:
    """`value` with every string (keys too) freed of NUL and lone surrogates, each replaced by
    U+FFFD; lists, tuples and dicts are walked (their depth is bounded where they come from)."""
    if isinstance(value, str):
        return UNSTORABLE.sub(REPLACEMENT, value) if UNSTORABLE.search(value) else value
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
    if nests_deeper_than(text, max_depth):
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
        if nests_deeper_than(text, limit):
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

    max_line_chars, max_total_chars = settings.QV_MAX_LINE_CHARS, settings.QV_MAX_TOTAL_CHARS
    total = 0
    for line in lines:
        # The quick check (no copy) passes nearly every line; only the others are normalised,
        # and the loop stops at the first line that takes the text over a limit.
        if unicodedata.is_normalized("NFKC", line):
            length = len(line)
        else:
            length = len(unicodedata.normalize("NFKC", line))
        if length > max_line_chars:
            raise payload_too_large(
                f"A line is over {max_line_chars} characters once normalised (NFKC).",
                {name: {"maxLineChars": max_line_chars, "normalization": "NFKC"}},
            )
        total += length
        if total > max_total_chars:
            break
    if total > max_total_chars:
        raise payload_too_large(
            f"More than {max_total_chars} characters in all once normalised (NFKC).",
            {name: {"maxTotalChars": max_total_chars, "normalization": "NFKC"}},
        )


def check_size_limits(data: Any, *, prefix: str = "") -> None:
    """413 for more lines, longer lines or more text than the contract allows."""
    from ocr.errors import payload_too_large  # see BoundedJSONParser.parse

    raw_texts = data.get("rawTexts") if isinstance(data, dict) else None
    if not isinstance(raw_texts, list):
        return
    name = f"{prefix}rawTexts"
    max_lines = settings.QV_MAX_LINES
    max_line_chars, max_total_chars = settings.QV_MAX_LINE_CHARS, settings.QV_MAX_TOTAL_CHARS
    if len(raw_texts) > max_lines:
        raise payload_too_large(f"More than {max_lines} lines.", {name: {"maxLines": max_lines}})
    lines = [line for line in raw_texts if isinstance(line, str)]
    if any(len(line) > max_line_chars for line in lines):
        raise payload_too_large(
            f"A line is over {max_line_chars} characters.",
            {name: {"maxLineChars": max_line_chars}},
        )
    if sum(len(line) for line in lines) > max_total_chars:
        raise payload_too_large(
            f"More than {max_total_chars} characters in all.",
            {name: {"maxTotalChars": max_total_chars}},
        )
    check_normalised_size(lines, name=name)

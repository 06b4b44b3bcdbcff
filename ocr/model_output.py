"""Reading a language model's answer: untrusted text in, plain dicts of strings out.

A model asked for "one JSON object and nothing else" still sometimes wraps it in a code fence,
puts a sentence before or after it, leaves a trailing comma, or stops half way (the token limit).
``parse_object`` finds the first JSON object in such text; ``parse_items`` does the same for the
``{"items": [...]}`` answer of a merged (batch) call. Both raise ``ModelOutputError`` when the text
holds no usable object, with ``truncated`` set when the answer looks cut off (worth a retry with
more room). ``coerce_fields`` then keeps only the document's field keys, each a string or None.

Nothing here trusts the model: values are only shaped, never believed. Normalisation, validation
and grounding in the OCR text come after.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from ocr.parsers import nests_deeper_than, storable

# A fenced block: ```json ... ``` (the language tag is optional; the closing fence may be missing
# when the answer was cut off).
_FENCE = re.compile(r"```[ \t]*(?:json|JSON|javascript)?[ \t]*\n?(.*?)(?:```|\Z)", re.S)
# Commas the model left before a closing bracket: {"a": "1",} is read as {"a": "1"}.
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
# Values that mean "not present" however the model spells them.
_NULL_WORDS = frozenset(
    {"", "null", "none", "n/a", "na", "nil", "unknown", "not found", "not present", "无", "空", "-"}
)
# Longest string value accepted for one field; anything longer is not a field value.
MAX_VALUE_CHARS = 500
# Deepest nesting read from an answer: the shipped shapes nest 3 deep; a deeper answer is not
# one of them, and decoding it could exhaust the decoder's recursion.
MAX_ANSWER_DEPTH = 32


class ModelOutputError(ValueError):
    """The answer holds no usable JSON object. ``truncated``: it looks cut off."""

    def __init__(self, message: str, *, truncated: bool = False) -> None:
        super().__init__(message)
        self.truncated = truncated


def _candidate_texts(text: str) -> list[str]:
    """The text itself, then the inside of each code fence: where a JSON object may sit."""
    fenced = [m.group(1) for m in _FENCE.finditer(text)]
    return [*fenced, text] if fenced else [text]


def _looks_truncated(text: str) -> bool:
    """True when an object was opened and never closed (outside strings), or a string is open."""
    depth = 0
    in_string = False
    escaped = False
    opened = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
            opened = True
        elif char in "}]":
            depth -= 1
    return opened and (depth > 0 or in_string)


def _decode_objects(text: str) -> Iterable[Any]:
    """Every JSON value that starts at a '{' or '[' of ``text`` and decodes, in order."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"[{\[]", text):
        start = match.start()
        for candidate in (text[start:], _TRAILING_COMMA.sub(r"\1", text[start:])):
            try:
                value, _ = decoder.raw_decode(candidate)
            except (json.JSONDecodeError, RecursionError):
                continue
            yield value
            break


def _values(text: str) -> Iterable[Any]:
    """Every JSON object or array found in the answer: fenced blocks first, then the text.
    Raises ModelOutputError for an answer nested deeper than MAX_ANSWER_DEPTH."""
    if nests_deeper_than(text, MAX_ANSWER_DEPTH):
        raise ModelOutputError(f"The answer nests deeper than {MAX_ANSWER_DEPTH} levels.")
    for candidate in _candidate_texts(text):
        for value in _decode_objects(candidate):
            if isinstance(value, dict | list):
                yield value


def parse_object(text: str | None) -> dict[str, Any]:
    """The first JSON object in a model's answer, wherever it sits in the text.

    A list holding exactly one object is unwrapped. Raises ModelOutputError when there is no
    object; ``truncated`` then says whether the text looks cut off.
    """
    if not text or not text.strip():
        raise ModelOutputError("The answer is empty.")
    for value in _values(text):
        if isinstance(value, dict):
            return value
        objects = [v for v in value if isinstance(v, dict)]
        if len(objects) == 1:
            return objects[0]
    raise ModelOutputError("The answer holds no JSON object.", truncated=_looks_truncated(text))


def _items_of(value: Any, *, count: int) -> list[Any] | None:
    if isinstance(value, list):
        return value if any(isinstance(v, dict) for v in value) else None
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("items"), list):
        return value["items"]
    # Some models name the list differently ({"documents": [...]}); take the only list.
    lists = [v for v in value.values() if isinstance(v, list)]
    if len(lists) == 1:
        return lists[0]
    return [value] if count == 1 and "items" not in value else None


def parse_items(text: str | None, *, count: int) -> list[dict[str, Any] | None]:
    """The per-document objects of a merged answer ``{"items": [...]}``, in prompt order.

    Always returns ``count`` entries; an entry is None where the answer has no object for that
    document (missing, or not an object). A bare list of objects is accepted as the items. Raises
    ModelOutputError when the answer holds no items at all.
    """
    if not text or not text.strip():
        raise ModelOutputError("The answer is empty.")
    for value in _values(text):
        items = _items_of(value, count=count)
        if items is not None:
            out: list[dict[str, Any] | None] = [
                item if isinstance(item, dict) else None for item in items[:count]
            ]
            return out + [None] * (count - len(out))
    raise ModelOutputError("The answer has no items list.", truncated=_looks_truncated(text))


def _key_form(key: str) -> str:
    return re.sub(r"[\s_\-]", "", key).lower()


def _scalar(value: Any) -> str | None:
    """A field value as a string, or None for null-like, empty or non-scalar values."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        return None
    # NUL and lone surrogates can be neither stored nor sent back as UTF-8.
    text = unicodedata.normalize("NFC", storable(text)).strip()
    if text.lower() in _NULL_WORDS or len(text) > MAX_VALUE_CHARS:
        return None
    return text


def coerce_fields(obj: dict[str, Any], *, keys: Sequence[str]) -> dict[str, str | None]:
    """Keep only the document's field keys, each a string or None.

    Keys are matched exactly first, then ignoring case, underscores and dashes (``id_number``
    for ``idNumber``). An object that holds none of the keys but wraps one object (``{"fields":
    {...}}``) is unwrapped. Unknown keys are dropped; numbers become strings; lists, objects and
    booleans become None.
    """
    wanted = {_key_form(key): key for key in keys}
    if not any(_key_form(k) in wanted for k in obj):
        nested = [v for v in obj.values() if isinstance(v, dict)]
        if len(nested) == 1:
            obj = nested[0]
    out: dict[str, str | None] = dict.fromkeys(keys)
    for raw_key, value in obj.items():
        if not isinstance(raw_key, str):
            continue
        key = raw_key if raw_key in out else wanted.get(_key_form(raw_key))
        if key is None:
            continue
        # An exact key wins over a loose match of the same field.
        if raw_key != key and out[key] is not None:
            continue
        out[key] = _scalar(value)
    return out

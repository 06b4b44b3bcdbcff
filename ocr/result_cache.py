"""The result cache: answers kept for QV_RESULT_CACHE_SECONDS, encrypted by their own text.

An answer holds a document's numbers in full (the client asked for them), and the cache may be
a shared Redis that others can read. Each entry is therefore a Fernet token under a key derived
from the document's OCR text and SECRET_KEY: only a request with the same text (which holds the
same numbers already) can read it, and a reader of Redis sees a hash and ciphertext. The token
also authenticates the entry, so nothing written to Redis by someone else is unpickled.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import pickle
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.cache import cache

if TYPE_CHECKING:
    from ocr.analysis import Analysis


def _cipher(lines: tuple[str, ...]) -> Fernet:
    material = "\n".join(lines).encode()
    key = hmac.new(f"result-cache:{settings.SECRET_KEY}".encode(), material, hashlib.sha256)
    return Fernet(base64.urlsafe_b64encode(key.digest()))


def seal(analysis: Analysis, *, lines: tuple[str, ...]) -> bytes:
    """The cache entry of `analysis`, readable only with `lines`."""
    return _cipher(lines).encrypt(pickle.dumps(analysis))


def unseal(entry: object, *, lines: tuple[str, ...]) -> Analysis | None:
    """The analysis in `entry`, or None where it is not one sealed with `lines`."""
    if not isinstance(entry, bytes):
        return None
    try:
        return pickle.loads(_cipher(lines).decrypt(entry))  # the token authenticated it
    except InvalidToken:
        return None


async def aget(key: str, *, lines: tuple[str, ...]) -> Analysis | None:
    """The cached analysis of the document `lines` under `key`, or None."""
    return unseal(await cache.aget(key), lines=lines)


async def aset(key: str, analysis: Analysis, *, lines: tuple[str, ...], timeout: int) -> None:
    """Cache `analysis` of the document `lines` under `key` for `timeout` seconds."""
    await cache.aset(key, seal(analysis, lines=lines), timeout)

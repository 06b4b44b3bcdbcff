"""Encryption at rest of personal data the database keeps (the raw OCR text of the request log).

The key is a setting of its own, ``RAW_TEXT_ENCRYPTION_KEY``: a list of Fernet keys, the first
encrypting and all of them decrypting (``MultiFernet``), so a key is rotated by putting a new one
first. With no key set, a key derived from ``SECRET_KEY`` serves in ``DEBUG`` only; otherwise the
field stores nothing (it is logged): personal data is not kept where it cannot be kept encrypted.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

logger = logging.getLogger(__name__)

# Every Fernet token starts with the version byte 0x80, base64-encoded as "gAAAAA".
TOKEN_PREFIX = "gAAAAA"
# Shown in place of a value none of the configured keys decrypts (a key removed too early).
UNREADABLE = "[encrypted with a key that is no longer configured]"


class MissingKey(Exception):
    """No key is configured and none may be derived (DEBUG is off)."""


def raw_text_keys() -> tuple[str, ...]:
    """The configured keys, newest first; in DEBUG with none configured, one derived from
    SECRET_KEY. Raise MissingKey where there is none."""
    keys = tuple(settings.RAW_TEXT_ENCRYPTION_KEY or ())
    if keys:
        return keys
    if settings.DEBUG:
        digest = hashlib.sha256(f"raw-text:{settings.SECRET_KEY}".encode()).digest()
        return (base64.urlsafe_b64encode(digest).decode(),)
    raise MissingKey("Set RAW_TEXT_ENCRYPTION_KEY to keep raw OCR text.")


def raw_text_cipher() -> MultiFernet:
    """The cipher of the raw OCR text. Raise MissingKey where no key is configured."""
    return _cipher(raw_text_keys())


@functools.lru_cache(maxsize=4)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def encrypt(text: str) -> str:
    """Return `text` encrypted under the newest key ("" stays ""). Raise MissingKey."""
    if not text:
        return ""
    return raw_text_cipher().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    """Return the text of `token`, or UNREADABLE where no configured key opens it."""
    if not token:
        return ""
    try:
        return raw_text_cipher().decrypt(token.encode()).decode()
    except (InvalidToken, MissingKey):
        return UNREADABLE


class EncryptedTextField(models.TextField):
    """A text column that holds a Fernet token of its value; Python code sees plain text.

    Where no key is configured (and DEBUG is off) the value is not stored at all: an empty
    string goes to the database and the omission is logged.
    """

    def from_db_value(self, value, expression, connection) -> str | None:
        return None if value is None else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        try:
            return encrypt(value)
        except MissingKey:
            _warn_missing_key()
            return ""


@functools.cache
def _warn_missing_key() -> None:
    # Once per process: the setting is missing for every row alike.
    logger.error("RAW_TEXT_ENCRYPTION_KEY is not set: the raw OCR text is not stored.")

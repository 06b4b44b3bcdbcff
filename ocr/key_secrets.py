"""The encryption of API keys' secrets at rest (``ApiKey.encrypted_secret``).

``API_KEY_ENCRYPTION_KEY`` holds Fernet keys (MultiFernet: the first encrypts, all decrypt, so
keys rotate); ``manage.py reencrypt_api_keys`` moves every secret to the first one.
"""

from __future__ import annotations

import base64
import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

# Fernet keys are 32 bytes, url-safe base64: 44 characters.
FERNET_KEY_LENGTH = 44


def secret_cipher() -> MultiFernet:
    """The cipher of API key secrets: API_KEY_ENCRYPTION_KEY's keys, the first encrypting, then
    (to decrypt only) the keys derived from SECRET_KEY and SECRET_KEY_FALLBACKS, which encrypted
    secrets before API_KEY_ENCRYPTION_KEY existed. With API_KEY_ENCRYPTION_KEY unset, the key
    derived from SECRET_KEY encrypts."""
    derived = [
        f"api-key-secrets:{key}" for key in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    ]
    return _cipher(tuple(settings.API_KEY_ENCRYPTION_KEY) + tuple(derived))


@functools.lru_cache(maxsize=4)
def _cipher(materials: tuple[str, ...]) -> MultiFernet:
    # Before API_KEY_ENCRYPTION_KEY took Fernet keys, whatever it held was hashed into one, a
    # Fernet key too: that form of each configured key decrypts as well, after all the others.
    hashed = [_hashed_fernet(m) for m in materials if _fernet(m) is not None]
    ciphers = [_fernet(m) or _hashed_fernet(m) for m in dict.fromkeys(materials)] + hashed
    return MultiFernet(ciphers)


def _fernet(material: str) -> Fernet | None:
    """`material` as a Fernet key, or None where it is not one."""
    if len(material) != FERNET_KEY_LENGTH:
        return None
    try:
        return Fernet(material)
    except ValueError:
        return None


def _hashed_fernet(material: str) -> Fernet:
    """The Fernet key the SHA-256 of any text makes (SECRET_KEY, or what API_KEY_ENCRYPTION_KEY
    held before it took Fernet keys)."""
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(material.encode()).digest()))


@functools.lru_cache(maxsize=1024)
def decrypt_secret(cipher: MultiFernet, token: str) -> bytes | None:
    """The plain secret of `token`, or None where no key of `cipher` opens it."""
    # Every signed request needs its key's secret; decrypting it each time is a measurable share
    # of a request's CPU, and the process holds the plain secret while it checks anyway.
    try:
        return cipher.decrypt(token.encode())
    except InvalidToken:
        return None

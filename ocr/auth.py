"""Request signing (HMAC-SHA256 of timestamp, nonce, method, path, body hash) and Bearer tokens.

A failed check is a 401 ``unauthorized`` that names it in ``details.reason``
(``ocr.errors.AuthFailure``), so an app developer can tell a skewed clock from a wrong secret.
Nonces are remembered where every worker sees them: Redis, or without it the database
(``ocr.models.UsedNonce``); a nonce store that cannot be reached fails the request closed (503).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import re
import time
import uuid
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection, router
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import authentication

from ocr.errors import AuthFailure, Unauthorized, service_unavailable
from ocr.models import ApiKey, ApiKeyStatus, IdempotencyRecord, RateCounter, UsedNonce
from quickvault.runtime.loop_writes import compiling_connection, write_soon
from quickvault.runtime.turns import off_turn, waiting

logger = logging.getLogger(__name__)

NONCE_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
TIMESTAMP_PATTERN = re.compile(r"\d{1,12}")
# The contract's signature: lower-case hex of the 32 bytes of HMAC-SHA256.
SIGNATURE_PATTERN = re.compile(r"[0-9a-f]{64}")
KEY_ID_MAX_LENGTH = 64
TOKEN_AUDIENCE = "quickvault-api"
# What the token key is derived for (HKDF's info): no other use of the same secret shares it.
TOKEN_KEY_PURPOSE = b"quickvault/api-bearer-tokens/v1"
# A token may say it was issued this far in the future (clocks of several servers differ).
TOKEN_CLOCK_LEEWAY_SECONDS = 60
# Without Redis, expired nonces are also deleted by the workers themselves, a batch at a time
# this often, so the table stays small where no beat runs (the embedded default).
NONCE_PURGE_INTERVAL_SECONDS = 600
NONCE_PURGE_BATCH = 5000


class ApiClient:
    """The authenticated principal of an API request: the key that signed it."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, api_key: ApiKey) -> None:
        self.api_key = api_key

    def __str__(self) -> str:
        return self.api_key.key_id


def raw_path(request: HttpRequest) -> str:
    """The path and query string exactly as the client sent them."""
    scope = getattr(request, "scope", None)
    if scope and scope.get("raw_path"):
        path = scope["raw_path"].decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        return f"{path}?{query}" if query else path
    uri = request.META.get("RAW_URI") or request.META.get("REQUEST_URI")
    return uri or request.get_full_path()


def string_to_sign(*, timestamp: str, nonce: str, method: str, path: str, body: bytes) -> str:
    return "\n".join([timestamp, nonce, method.upper(), path, hashlib.sha256(body).hexdigest()])


def sign(*, secret: bytes, timestamp: str, nonce: str, method: str, path: str, body: bytes) -> str:
    message = string_to_sign(timestamp=timestamp, nonce=nonce, method=method, path=path, body=body)
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


async def find_active_key(key_id: str) -> ApiKey | None:
    """Return the active key with this id, or None: from the cache, else (in a thread) from the
    database, which fills the cache."""
    api_key = await cache.aget(ApiKey.cache_key(key_id))
    if api_key is None:
        api_key = await off_turn(active_key_from_db)(key_id)
        if api_key is not None:
            await cache.aset(ApiKey.cache_key(key_id), api_key, settings.QV_API_KEY_CACHE_SECONDS)
    return api_key


async def require_active_key(key_id: str) -> ApiKey:
    """The active key with this id; else 401 ``unknown_key`` or ``key_revoked``."""
    api_key = await find_active_key(key_id)
    if api_key is not None:
        return api_key
    # Only a failed request pays for telling the two apart.
    async with waiting():
        exists = await ApiKey.objects.filter(key_id=key_id).aexists()
    raise Unauthorized(
        AuthFailure.KEY_REVOKED if exists else AuthFailure.UNKNOWN_KEY, key_id=key_id
    )


def active_key_from_db(key_id: str) -> ApiKey | None:
    """The same rows as ``ApiKey.objects.active().filter(key_id=key_id)``, by a query written
    once per process: building that SQL took the ORM about four times as long as running it."""
    return next(iter(ApiKey.objects.raw(active_key_sql(), [key_id, ApiKeyStatus.ACTIVE])), None)


@functools.cache
def active_key_sql() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in ApiKey._meta.concrete_fields)
    key_id, status = (quote(ApiKey._meta.get_field(name).column) for name in ("key_id", "status"))
    table = quote(ApiKey._meta.db_table)
    return f"SELECT {columns} FROM {table} WHERE {key_id} = %s AND {status} = %s"


def touched_cache_key(api_key: ApiKey) -> str:
    return f"apikey:touched:{api_key.pk}"


def record_use(api_key: ApiKey) -> None:
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now())


async def touch_last_used(api_key: ApiKey) -> None:
    # At most once a minute per key, so the log of use does not become a write per request.
    if await cache.aadd(touched_cache_key(api_key), 1, timeout=60):
        await off_turn(record_use)(api_key)


@dataclass(frozen=True)
class SignedHeaders:
    key_id: str
    timestamp: str
    nonce: str
    signature: str


def signed_headers(request) -> SignedHeaders | None:
    """The signature headers, checked for shape and for the time window; None where the request
    carries none of them (another scheme may apply). Raises 401."""
    meta = request.META
    headers = SignedHeaders(
        key_id=meta.get("HTTP_X_API_KEY", "")[:KEY_ID_MAX_LENGTH],
        timestamp=meta.get("HTTP_X_TIMESTAMP", ""),
        nonce=meta.get("HTTP_X_NONCE", ""),
        signature=meta.get("HTTP_X_SIGNATURE", ""),
    )
    if not (headers.key_id or headers.timestamp or headers.nonce or headers.signature):
        return None
    if not (headers.key_id and headers.timestamp and headers.signature):
        raise Unauthorized(AuthFailure.MISSING_HEADER, key_id=headers.key_id)
    if not NONCE_PATTERN.fullmatch(headers.nonce):
        raise Unauthorized(AuthFailure.MISSING_HEADER, key_id=headers.key_id)
    if not (
        TIMESTAMP_PATTERN.fullmatch(headers.timestamp)
        and abs(time.time() - int(headers.timestamp)) <= settings.QV_SIGNATURE_WINDOW_SECONDS
    ):
        raise Unauthorized(AuthFailure.TIMESTAMP_OUT_OF_WINDOW, key_id=headers.key_id)
    return headers


def check_signature(request, *, api_key: ApiKey, headers: SignedHeaders) -> ApiKey:
    """The key, where its secret signed this request; raises 401 ``signature_mismatch``."""
    secret = api_key.signing_secret()
    if secret is None:
        # Encrypted under a key this server no longer has (see API_KEY_ENCRYPTION_KEY).
        logger.error("The secret of API key %s cannot be decrypted", api_key.key_id)
    if secret is None or not SIGNATURE_PATTERN.fullmatch(headers.signature):
        raise Unauthorized(AuthFailure.SIGNATURE_MISMATCH, key_id=headers.key_id)
    expected = sign(
        secret=secret,
        timestamp=headers.timestamp,
        nonce=headers.nonce,
        method=request.method,
        path=raw_path(request._request),
        body=request._request.body,
    )
    if not hmac.compare_digest(expected, headers.signature):
        raise Unauthorized(AuthFailure.SIGNATURE_MISMATCH, key_id=headers.key_id)
    return api_key


class SignatureAuthentication(authentication.BaseAuthentication):
    """Authenticates a request signed with an API key's secret (see the API contract), on the
    event loop: the API's views are async (``ocr.apis.AsyncApiView``) and await
    ``aauthenticate``."""

    async def aauthenticate(self, request) -> tuple[ApiClient, None] | None:
        headers = signed_headers(request)
        if headers is None:
            return None
        api_key = check_signature(
            request, api_key=await require_active_key(headers.key_id), headers=headers
        )
        # Recorded only after the signature holds, so nobody can burn another key's nonces.
        if not await remember_nonce(key_id=headers.key_id, nonce=headers.nonce):
            raise Unauthorized(AuthFailure.NONCE_REUSED, key_id=headers.key_id)
        await touch_last_used(api_key)
        return ApiClient(api_key), None

    def authenticate_header(self, request) -> str:
        return 'HMAC-SHA256 realm="api"'


def nonce_cache_key(*, key_id: str, nonce: str) -> str:
    return f"nonce:{key_id}:{nonce}"


def nonce_store_unavailable():
    retry_after = settings.QV_NONCE_RETRY_AFTER_SECONDS
    return service_unavailable(
        "The replay guard cannot be reached; retry shortly.", retry_after=retry_after
    )


async def remember_nonce(*, key_id: str, nonce: str) -> bool:
    """Remember the nonce for twice the window, where every worker sees it; False when it was
    already used. Raises 503 where the store cannot be reached (QV_NONCE_FAIL_OPEN: accepts)."""
    lifetime = 2 * settings.QV_SIGNATURE_WINDOW_SECONDS
    if settings.QV_NONCE_STORE == "database":
        try:
            return await claim_nonce(key_id=key_id, nonce=nonce, lifetime_seconds=lifetime)
        except DatabaseError:
            logger.warning("Nonce table unreachable; refusing signed requests", exc_info=True)
            raise nonce_store_unavailable() from None
    added = await cache.aadd(nonce_cache_key(key_id=key_id, nonce=nonce), 1, timeout=lifetime)
    if added is not None:
        return bool(added)
    if settings.QV_NONCE_FAIL_OPEN:
        logger.warning("Nonce cache unreachable; accepting without replay check (fail open)")
        return True
    logger.warning("Nonce cache unreachable; refusing signed requests (fail closed)")
    raise nonce_store_unavailable()


_next_nonce_purge = 0.0


async def claim_nonce(*, key_id: str, nonce: str, lifetime_seconds: int) -> bool:
    """UsedNonce.claim: on the event loop where SQLite's write lock is free within a few turns
    (``quickvault.runtime.loop_writes``), else on the database thread. Now and then, on that
    thread, a batch of expired nonces, counters and idempotency records is deleted too."""
    global _next_nonce_purge
    alias = router.db_for_write(UsedNonce)
    fresh = await write_soon(
        alias,
        functools.partial(
            UsedNonce.claim_with,
            connection=compiling_connection(alias),
            key_id=key_id,
            nonce=nonce,
            lifetime_seconds=lifetime_seconds,
        ),
    )
    if fresh is None:
        fresh = await off_turn(UsedNonce.claim)(
            key_id=key_id, nonce=nonce, lifetime_seconds=lifetime_seconds
        )
    if time.monotonic() >= _next_nonce_purge:
        _next_nonce_purge = time.monotonic() + NONCE_PURGE_INTERVAL_SECONDS
        await off_turn(purge_expired_rows)()
    return fresh


def purge_expired_rows() -> None:
    """Delete a batch of expired nonces, rate counters and idempotency records."""
    UsedNonce.objects.delete_expired(batch_size=NONCE_PURGE_BATCH, max_batches=1)
    RateCounter.objects.delete_expired(batch_size=NONCE_PURGE_BATCH, max_batches=1)
    IdempotencyRecord.objects.delete_expired(batch_size=NONCE_PURGE_BATCH, max_batches=1)


def issue_token(api_key: ApiKey) -> tuple[str, int]:
    ttl = settings.QV_TOKEN_TTL_SECONDS
    now = int(time.time())
    claims = {
        "sub": api_key.key_id,
        "aud": TOKEN_AUDIENCE,
        "iat": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, token_signing_keys()[0], algorithm="HS256"), ttl


def token_signing_keys() -> list[bytes]:
    """The keys tokens are signed with, the first signing and all verifying: derived from
    TOKEN_SIGNING_KEY and its fallbacks, else from SECRET_KEY and SECRET_KEY_FALLBACKS."""
    if settings.TOKEN_SIGNING_KEY:
        materials = [settings.TOKEN_SIGNING_KEY, *settings.TOKEN_SIGNING_KEY_FALLBACKS]
    else:
        materials = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return [derived_token_key(material) for material in materials]


@functools.lru_cache(maxsize=8)
def derived_token_key(material: str) -> bytes:
    """A key for Bearer tokens alone (HKDF-SHA256), so a token never exposes what else the
    secret signs (sessions, the encryption of API key secrets)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=TOKEN_KEY_PURPOSE)
    return hkdf.derive(material.encode())


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """Authenticates `Authorization: Bearer <jwt>` issued by POST /api/v1/auth/token, on the
    event loop (see SignatureAuthentication)."""

    async def aauthenticate(self, request) -> tuple[ApiClient, None] | None:
        key_id = token_subject(request)
        if key_id is None:
            return None
        api_key = await require_active_key(key_id)
        await touch_last_used(api_key)
        return ApiClient(api_key), None

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


def token_subject(request) -> str | None:
    """The key id a valid Bearer token names; None where the request carries no Authorization
    header. Raises 401 ``token_invalid`` or ``token_expired``."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(AuthFailure.TOKEN_INVALID)
    claims = verified_claims(token.strip())
    key_id = str(claims["sub"])[:KEY_ID_MAX_LENGTH]
    lifetime = claims["exp"] - claims["iat"]
    # The server decides how long a token lives, whatever a token says of itself.
    if (
        lifetime > settings.QV_TOKEN_TTL_SECONDS
        or claims["iat"] > time.time() + TOKEN_CLOCK_LEEWAY_SECONDS
    ):
        raise Unauthorized(AuthFailure.TOKEN_INVALID, key_id=key_id)
    return key_id


def verified_claims(token: str) -> dict:
    """The claims of a token signed with one of the token keys; raises 401."""
    for key in token_signing_keys():
        try:
            return jwt.decode(
                token,
                key,
                algorithms=["HS256"],
                audience=TOKEN_AUDIENCE,
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.ExpiredSignatureError:
            # PyJWT checks the signature first: this key signed it, and its time is up.
            raise Unauthorized(AuthFailure.TOKEN_EXPIRED) from None
        except jwt.PyJWTError:
            raise Unauthorized(AuthFailure.TOKEN_INVALID) from None
    raise Unauthorized(AuthFailure.TOKEN_INVALID)

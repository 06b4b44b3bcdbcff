"""Request signing (HMAC-SHA256 of timestamp, nonce, method, path, body hash) and Bearer tokens.

Every failure is the same 401: the answer never says which check failed.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import logging
import re
import time
import uuid
from dataclasses import dataclass

import jwt
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import authentication, exceptions

from ocr.models import ApiKey, ApiKeyStatus

logger = logging.getLogger(__name__)

NONCE_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
TIMESTAMP_PATTERN = re.compile(r"\d{1,12}")
TOKEN_AUDIENCE = "quickvault-api"


class ApiClient:
    """The authenticated principal of an API request: the key that signed it."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, api_key: ApiKey) -> None:
        self.api_key = api_key

    def __str__(self) -> str:
        return self.api_key.key_id


def unauthorized() -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed("unauthorized")


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
        api_key = await sync_to_async(active_key_from_db)(key_id)
        if api_key is not None:
            await cache.aset(ApiKey.cache_key(key_id), api_key, settings.QV_API_KEY_CACHE_SECONDS)
    return api_key


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
        await sync_to_async(record_use)(api_key)


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
        key_id=meta.get("HTTP_X_API_KEY", ""),
        timestamp=meta.get("HTTP_X_TIMESTAMP", ""),
        nonce=meta.get("HTTP_X_NONCE", ""),
        signature=meta.get("HTTP_X_SIGNATURE", ""),
    )
    if not (headers.key_id or headers.timestamp or headers.nonce or headers.signature):
        return None
    if not (
        headers.key_id and headers.signature and TIMESTAMP_PATTERN.fullmatch(headers.timestamp)
    ):
        raise unauthorized()
    if not NONCE_PATTERN.fullmatch(headers.nonce):
        raise unauthorized()
    if abs(time.time() - int(headers.timestamp)) > settings.QV_SIGNATURE_WINDOW_SECONDS:
        raise unauthorized()
    return headers


def check_signature(request, *, api_key: ApiKey | None, headers: SignedHeaders) -> ApiKey:
    """The key, where its secret signed this request; raises 401."""
    secret = api_key.signing_secret() if api_key else None
    if secret is None:
        raise unauthorized()
    expected = sign(
        secret=secret,
        timestamp=headers.timestamp,
        nonce=headers.nonce,
        method=request.method,
        path=raw_path(request._request),
        body=request._request.body,
    )
    if not hmac.compare_digest(
        expected.encode(), headers.signature.lower().encode("utf-8", "replace")
    ):
        raise unauthorized()
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
            request, api_key=await find_active_key(headers.key_id[:64]), headers=headers
        )
        # Recorded only after the signature holds, so nobody can burn another key's nonces; in
        # one round trip to the cache, and marking a replayed request's key as used is harmless.
        fresh, _ = await asyncio.gather(
            remember_nonce(key_id=headers.key_id, nonce=headers.nonce),
            touch_last_used(api_key),
        )
        if not fresh:
            raise unauthorized()
        return ApiClient(api_key), None

    def authenticate_header(self, request) -> str:
        return 'HMAC-SHA256 realm="api"'


def nonce_cache_key(*, key_id: str, nonce: str) -> str:
    return f"nonce:{key_id}:{nonce}"


def nonce_accepted(added: bool | None) -> bool:
    """Whether a nonce whose cache.add answered `added` may be used: False when it was already
    used. None means the cache is unreachable (Redis down): the timestamp window still bounds
    replays."""
    if added is None:
        logger.warning("Nonce cache unavailable; accepting request without replay check")
        return True
    return bool(added)


async def remember_nonce(*, key_id: str, nonce: str) -> bool:
    """Store the nonce for twice the window; False when it was already used."""
    window = settings.QV_SIGNATURE_WINDOW_SECONDS
    key = nonce_cache_key(key_id=key_id, nonce=nonce)
    return nonce_accepted(await cache.aadd(key, 1, timeout=2 * window))


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
    return jwt.encode(claims, token_signing_key(), algorithm="HS256"), ttl


def token_signing_key() -> str:
    return hashlib.sha256(f"api-tokens:{settings.SECRET_KEY}".encode()).hexdigest()


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """Authenticates `Authorization: Bearer <jwt>` issued by POST /api/v1/auth/token, on the
    event loop (see SignatureAuthentication)."""

    async def aauthenticate(self, request) -> tuple[ApiClient, None] | None:
        key_id = token_subject(request)
        if key_id is None:
            return None
        api_key = await find_active_key(key_id)
        if api_key is None:
            raise unauthorized()
        await touch_last_used(api_key)
        return ApiClient(api_key), None

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


def token_subject(request) -> str | None:
    """The key id a valid Bearer token names; None where the request carries no Authorization
    header. Raises 401."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized()
    try:
        claims = jwt.decode(
            token.strip(),
            token_signing_key(),
            algorithms=["HS256"],
            audience=TOKEN_AUDIENCE,
            options={"require": ["exp", "iat", "sub"]},
        )
    except jwt.PyJWTError:
        raise unauthorized() from None
    return str(claims["sub"])[:64]

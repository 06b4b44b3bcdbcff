"""Request signing (HMAC-SHA256 of timestamp, nonce, method, path, body hash) and Bearer tokens.

Every failure is the same 401: the answer never says which check failed.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import re
import time
import uuid

import jwt
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


def find_active_key(key_id: str) -> ApiKey | None:
    """The active key with this id, or None: the same rows as
    ``ApiKey.objects.active().filter(key_id=key_id)``, by a query written once per process.
    It runs on every signed request, where building that SQL took the ORM about four times as
    long as running it."""
    return next(iter(ApiKey.objects.raw(active_key_sql(), [key_id, ApiKeyStatus.ACTIVE])), None)


@functools.cache
def active_key_sql() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in ApiKey._meta.concrete_fields)
    key_id, status = (quote(ApiKey._meta.get_field(name).column) for name in ("key_id", "status"))
    table = quote(ApiKey._meta.db_table)
    return f"SELECT {columns} FROM {table} WHERE {key_id} = %s AND {status} = %s"


def release_db_connection() -> None:
    """Hand this thread's database connection back to the pool (PostgreSQL with a pool only).

    Django returns a pooled connection when the request finishes; an analysis authenticates first
    and then waits seconds on the model, so holding it until then would take one pooled
    connection per request in flight and queue every request beyond the pool's size. Inside a
    transaction (tests, atomic blocks) the connection stays.
    """
    if not connection.settings_dict.get("OPTIONS", {}).get("pool"):
        return
    if connection.connection is not None and not connection.in_atomic_block:
        connection.close()


def touch_last_used(api_key: ApiKey) -> None:
    # At most once a minute per key, so the log of use does not become a write per request.
    if cache.add(f"apikey:touched:{api_key.pk}", 1, timeout=60):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now())


class SignatureAuthentication(authentication.BaseAuthentication):
    """Authenticates a request signed with an API key's secret (see the API contract)."""

    def authenticate(self, request) -> tuple[ApiClient, None] | None:
        meta = request.META
        key_id = meta.get("HTTP_X_API_KEY", "")
        timestamp = meta.get("HTTP_X_TIMESTAMP", "")
        nonce = meta.get("HTTP_X_NONCE", "")
        signature = meta.get("HTTP_X_SIGNATURE", "")
        if not (key_id or timestamp or nonce or signature):
            return None
        if not (key_id and signature and TIMESTAMP_PATTERN.fullmatch(timestamp)):
            raise unauthorized()
        if not NONCE_PATTERN.fullmatch(nonce):
            raise unauthorized()
        window = settings.QV_SIGNATURE_WINDOW_SECONDS
        if abs(time.time() - int(timestamp)) > window:
            raise unauthorized()
        try:
            api_key = self.verified_key(
                request, key_id=key_id, timestamp=timestamp, nonce=nonce, signature=signature
            )
        finally:
            release_db_connection()
        return ApiClient(api_key), None

    def verified_key(
        self, request, *, key_id: str, timestamp: str, nonce: str, signature: str
    ) -> ApiKey:
        """The active key whose secret signed this request, its nonce now spent; raises 401."""
        window = settings.QV_SIGNATURE_WINDOW_SECONDS
        api_key = find_active_key(key_id[:64])
        secret = api_key.signing_secret() if api_key else None
        if secret is None:
            raise unauthorized()
        expected = sign(
            secret=secret,
            timestamp=timestamp,
            nonce=nonce,
            method=request.method,
            path=raw_path(request._request),
            body=request._request.body,
        )
        if not hmac.compare_digest(expected.encode(), signature.lower().encode("utf-8", "replace")):
            raise unauthorized()
        # Recorded only after the signature holds, so nobody can burn another key's nonces.
        if not remember_nonce(key_id=key_id, nonce=nonce, window=window):
            raise unauthorized()
        touch_last_used(api_key)
        return api_key

    def authenticate_header(self, request) -> str:
        return 'HMAC-SHA256 realm="api"'


def remember_nonce(*, key_id: str, nonce: str, window: int) -> bool:
    """Store the nonce for the window; False when it was already used."""
    added = cache.add(f"nonce:{key_id}:{nonce}", 1, timeout=2 * window)
    if added is None:
        # The cache is unreachable (Redis down): the timestamp window still bounds replays.
        logger.warning("Nonce cache unavailable; accepting request without replay check")
        return True
    return bool(added)


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
    """Authenticates `Authorization: Bearer <jwt>` issued by POST /api/v1/auth/token."""

    def authenticate(self, request) -> tuple[ApiClient, None] | None:
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
        try:
            api_key = find_active_key(str(claims["sub"]))
            if api_key is None:
                raise unauthorized()
            touch_last_used(api_key)
        finally:
            release_db_connection()
        return ApiClient(api_key), None

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'

"""A client that signs requests the way the mobile app does, written from the API contract."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from django.test import Client


def signature_headers(
    *,
    key_id: str,
    secret: str,
    method: str,
    path: str,
    body: bytes,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    timestamp_text = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_urlsafe(24)
    message = "\n".join(
        [timestamp_text, nonce, method.upper(), path, hashlib.sha256(body).hexdigest()]
    )
    signature = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return {
        "X-Api-Key": key_id,
        "X-Timestamp": timestamp_text,
        "X-Nonce": nonce,
        "X-Signature": signature,
    }


class SignedClient:
    """Django's test client, signing every request with one key."""

    def __init__(self, *, key_id: str, secret: str) -> None:
        self.key_id = key_id
        self.secret = secret
        self.client = Client()

    def headers(
        self, method: str, path: str, body: bytes = b"", **overrides: Any
    ) -> dict[str, str]:
        return signature_headers(
            key_id=self.key_id, secret=self.secret, method=method, path=path, body=body, **overrides
        )

    def post_json(self, path: str, data: Any, **overrides: Any):
        body = json.dumps(data, ensure_ascii=False).encode()
        return self.post_raw(path, body, **overrides)

    def post_raw(
        self, path: str, body: bytes, content_type: str = "application/json", **overrides: Any
    ):
        headers = self.headers("POST", path, body, **overrides)
        return self.client.post(path, data=body, content_type=content_type, headers=headers)

    def get(self, path: str, **overrides: Any):
        return self.client.get(path, headers=self.headers("GET", path, b"", **overrides))

"""Secrets: no start without a key, tokens no one else can mint, API key secrets that survive a
rotation of SECRET_KEY."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import subprocess
import time

import jwt
import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from ocr.auth import TOKEN_AUDIENCE, token_signing_keys
from ocr.models import ApiKey
from tests.documents import ID_CARD
from tests.servers import ROOT, free_port
from tests.signing import SignedClient

ANALYZE = "/api/v1/ocr/analyze"
THREE_YEARS = 3 * 365 * 24 * 3600


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}
    }
    return env | overrides


def test_the_server_refuses_to_start_without_secret_key_in_one_line():
    gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
    command = [
        str(gunicorn),
        "quickvault.asgi:application",
        "-k",
        "uvicorn.workers.UvicornWorker",
        "--config",
        "quickvault/gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{free_port()}",
    ]

    completed = subprocess.run(
        command, cwd=ROOT, env=production_env(), capture_output=True, text=True, timeout=60
    )

    assert completed.returncode != 0
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, completed.stderr
    assert "SECRET_KEY is not set" in lines[0]


def bearer(client, token: str):
    return client.post(
        ANALYZE,
        data=ID_CARD,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def token(*, key: bytes | str, key_id: str, lifetime: int) -> str:
    now = int(time.time())
    claims = {"sub": key_id, "aud": TOKEN_AUDIENCE, "iat": now, "exp": now + lifetime}
    return jwt.encode(claims, key, algorithm="HS256")


@pytest.mark.django_db
def test_a_token_that_claims_a_life_of_years_is_refused(api_key, client):
    key, _ = api_key
    forged = token(key=token_signing_keys()[0], key_id=key.key_id, lifetime=THREE_YEARS)

    response = bearer(client, forged)

    assert response.status_code == 401
    assert response.json()["error"]["details"] == {"reason": "token_invalid"}


@pytest.mark.django_db
def test_a_token_keyed_with_a_plain_hash_of_secret_key_is_refused(api_key, client, settings):
    key, _ = api_key
    plain = hashlib.sha256(f"api-tokens:{settings.SECRET_KEY}".encode()).hexdigest()

    response = bearer(client, token(key=plain, key_id=key.key_id, lifetime=600))

    assert response.json()["error"]["details"] == {"reason": "token_invalid"}


@pytest.mark.django_db
def test_an_expired_token_says_so(api_key, client):
    key, _ = api_key
    expired = token(key=token_signing_keys()[0], key_id=key.key_id, lifetime=-10)

    assert bearer(client, expired).json()["error"]["details"] == {"reason": "token_expired"}


@pytest.mark.django_db
def test_tokens_of_the_previous_signing_key_hold_while_it_is_a_fallback(
    signed_client: SignedClient, client, settings
):
    settings.TOKEN_SIGNING_KEY = "old-token-key-" + "o" * 40
    issued = signed_client.post_raw("/api/v1/auth/token", b"", content_type="")
    old_token = issued.json()["accessToken"]

    settings.TOKEN_SIGNING_KEY = "new-token-key-" + "n" * 40
    settings.TOKEN_SIGNING_KEY_FALLBACKS = ["old-token-key-" + "o" * 40]
    during_rotation = bearer(client, old_token)
    settings.TOKEN_SIGNING_KEY_FALLBACKS = []
    after_rotation = bearer(client, old_token)

    assert during_rotation.status_code == 200
    assert after_rotation.status_code == 401


@pytest.mark.django_db
def test_rotating_secret_key_leaves_api_keys_working_under_an_encryption_key(settings):
    settings.API_KEY_ENCRYPTION_KEY = [Fernet.generate_key().decode()]
    key, secret = ApiKey.issue(name="app", rate_limit=0)

    settings.SECRET_KEY = "a-completely-new-secret-key-" + "z" * 30
    response = SignedClient(key_id=key.key_id, secret=secret).post_json(ANALYZE, ID_CARD)

    assert response.status_code == 200


@pytest.mark.django_db
def test_reencrypt_moves_old_secrets_to_the_new_key_so_the_old_one_can_go(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.API_KEY_ENCRYPTION_KEY = [old]
    key, secret = ApiKey.issue(name="app", rate_limit=0)
    settings.API_KEY_ENCRYPTION_KEY = [new, old]

    call_command("reencrypt_api_keys", stdout=io.StringIO())
    settings.API_KEY_ENCRYPTION_KEY = [new]
    settings.SECRET_KEY = "another-secret-key-" + "y" * 40

    key.refresh_from_db()
    assert key.signing_secret() == secret.encode()


@pytest.mark.django_db
def test_keys_made_before_the_encryption_key_was_set_stay_readable(settings):
    key, secret = ApiKey.issue(name="made under SECRET_KEY", rate_limit=0)

    settings.API_KEY_ENCRYPTION_KEY = [Fernet.generate_key().decode()]
    response = SignedClient(key_id=key.key_id, secret=secret).post_json(ANALYZE, ID_CARD)

    assert response.status_code == 200


@pytest.mark.django_db
def test_secrets_encrypted_under_the_earlier_form_of_the_encryption_key_stay_readable(settings):
    earlier = Fernet.generate_key().decode()
    settings.API_KEY_ENCRYPTION_KEY = [earlier]
    hashed = Fernet(base64.urlsafe_b64encode(hashlib.sha256(earlier.encode()).digest()))
    key, secret = ApiKey.issue(name="older", rate_limit=0)
    ApiKey.objects.filter(pk=key.pk).update(
        encrypted_secret=hashed.encrypt(secret.encode()).decode()
    )

    key.refresh_from_db()

    assert key.signing_secret() == secret.encode()

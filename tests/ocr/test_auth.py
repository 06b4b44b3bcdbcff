import json
import pickle
import time

import pytest
from django.core.cache import cache

from ocr.models import ApiKey
from tests.signing import SignedClient, signature_headers

ANALYZE = "/api/v1/ocr/analyze"
BODY = {"documentType": "bankCard", "rawTexts": ["中国银行", "6216 6132 8071 0374 854"]}


def assert_unauthorized(response, reason: str) -> None:
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.json()["error"]["details"] == {"reason": reason}


@pytest.mark.django_db
def test_signed_request_is_accepted(signed_client: SignedClient):
    response = signed_client.post_json(ANALYZE, BODY)

    assert response.status_code == 200


@pytest.mark.django_db
def test_missing_headers_are_unauthorized(client):
    response = client.post(ANALYZE, data=BODY, content_type="application/json")

    assert_unauthorized(response, "missing_header")


@pytest.mark.django_db
@pytest.mark.parametrize("missing", ["X-Api-Key", "X-Timestamp", "X-Nonce", "X-Signature"])
def test_each_missing_header_is_unauthorized(signed_client: SignedClient, missing: str):
    body = json.dumps(BODY).encode()
    headers = signed_client.headers("POST", ANALYZE, body)
    del headers[missing]

    response = signed_client.client.post(
        ANALYZE, data=body, content_type="application/json", headers=headers
    )

    assert_unauthorized(response, "missing_header")


@pytest.mark.django_db
def test_wrong_secret_is_unauthorized(api_key):
    key, _ = api_key
    impostor = SignedClient(key_id=key.key_id, secret="not-the-secret")

    assert_unauthorized(impostor.post_json(ANALYZE, BODY), "signature_mismatch")


@pytest.mark.django_db
def test_tampered_body_is_unauthorized(signed_client: SignedClient):
    body = json.dumps(BODY).encode()
    headers = signed_client.headers("POST", ANALYZE, body)
    tampered = body.replace(b"bankCard", b"idCard")

    response = signed_client.client.post(
        ANALYZE, data=tampered, content_type="application/json", headers=headers
    )

    assert_unauthorized(response, "signature_mismatch")


@pytest.mark.django_db
def test_signature_over_another_path_is_unauthorized(signed_client: SignedClient):
    body = json.dumps(BODY).encode()
    headers = signed_client.headers("POST", "/api/v1/ocr/batch-analyze", body)

    response = signed_client.client.post(
        ANALYZE, data=body, content_type="application/json", headers=headers
    )

    assert_unauthorized(response, "signature_mismatch")


@pytest.mark.django_db
def test_query_string_is_part_of_the_signature(signed_client: SignedClient):
    headers = signed_client.headers("GET", "/api/v1/document-types?x=1")

    response = signed_client.client.get("/api/v1/document-types?x=2", headers=headers)

    assert_unauthorized(response, "signature_mismatch")


@pytest.mark.django_db
def test_signed_query_string_is_accepted(signed_client: SignedClient):
    headers = signed_client.headers("GET", "/api/v1/document-types?lang=zh")

    response = signed_client.client.get("/api/v1/document-types?lang=zh", headers=headers)

    assert response.status_code == 200


@pytest.mark.django_db
def test_stale_timestamp_is_unauthorized(signed_client: SignedClient):
    response = signed_client.post_json(ANALYZE, BODY, timestamp=int(time.time()) - 301)

    assert_unauthorized(response, "timestamp_out_of_window")


@pytest.mark.django_db
def test_future_timestamp_is_unauthorized(signed_client: SignedClient):
    # A minute past the window: a stamp just past it falls inside while the request is sent.
    response = signed_client.post_json(ANALYZE, BODY, timestamp=int(time.time()) + 360)

    assert_unauthorized(response, "timestamp_out_of_window")


@pytest.mark.django_db
def test_timestamp_inside_the_window_is_accepted(signed_client: SignedClient):
    response = signed_client.post_json(ANALYZE, BODY, timestamp=int(time.time()) - 250)

    assert response.status_code == 200


@pytest.mark.django_db
def test_replayed_nonce_is_unauthorized(signed_client: SignedClient):
    nonce = "replayed-nonce-0123456789"
    first = signed_client.post_json(ANALYZE, BODY, nonce=nonce)

    second = signed_client.post_json(ANALYZE, BODY, nonce=nonce)

    assert first.status_code == 200
    assert_unauthorized(second, "nonce_reused")


@pytest.mark.django_db
@pytest.mark.parametrize("nonce", ["short", "has space in it 12345", "x" * 65])
def test_malformed_nonce_is_unauthorized(signed_client: SignedClient, nonce: str):
    assert_unauthorized(signed_client.post_json(ANALYZE, BODY, nonce=nonce), "missing_header")


@pytest.mark.django_db
def test_unknown_key_is_unauthorized(client):
    body = json.dumps(BODY).encode()
    headers = signature_headers(
        key_id="qv_unknown", secret="whatever", method="POST", path=ANALYZE, body=body
    )

    response = client.post(ANALYZE, data=body, content_type="application/json", headers=headers)

    assert_unauthorized(response, "unknown_key")


@pytest.mark.django_db
def test_revoked_key_is_unauthorized(api_key, signed_client: SignedClient):
    key, _ = api_key
    key.revoke()

    assert_unauthorized(signed_client.post_json(ANALYZE, BODY), "key_revoked")


@pytest.mark.django_db
def test_key_revoked_after_use_is_unauthorized_on_the_next_request(
    api_key, signed_client: SignedClient
):
    assert signed_client.post_json(ANALYZE, BODY).status_code == 200
    api_key[0].revoke()

    assert_unauthorized(signed_client.post_json(ANALYZE, BODY), "key_revoked")


@pytest.mark.django_db
def test_key_deleted_after_use_is_unauthorized_on_the_next_request(
    api_key, signed_client: SignedClient
):
    assert signed_client.post_json(ANALYZE, BODY).status_code == 200
    ApiKey.objects.filter(pk=api_key[0].pk).delete()

    assert_unauthorized(signed_client.post_json(ANALYZE, BODY), "unknown_key")


@pytest.mark.django_db
def test_cached_key_does_not_hold_the_secret_in_clear(api_key, signed_client: SignedClient):
    key, secret = api_key
    signed_client.post_json(ANALYZE, BODY)

    cached = cache.get(ApiKey.cache_key(key.key_id))

    assert cached.pk == key.pk
    assert secret not in pickle.dumps(cached).decode("latin-1")


@pytest.mark.django_db
def test_non_ascii_signature_is_unauthorized_not_an_error(signed_client: SignedClient):
    body = json.dumps(BODY).encode()
    headers = signed_client.headers("POST", ANALYZE, body)
    headers["X-Signature"] = "é" * 64

    response = signed_client.client.post(
        ANALYZE, data=body, content_type="application/json", headers=headers
    )

    assert_unauthorized(response, "signature_mismatch")


@pytest.mark.django_db
def test_token_is_issued_for_a_signed_empty_post(signed_client: SignedClient):
    response = signed_client.post_raw("/api/v1/auth/token", b"", content_type="")

    assert response.status_code == 200
    body = response.json()
    assert body["tokenType"] == "Bearer"
    assert body["expiresIn"] == 900
    assert body["accessToken"].count(".") == 2


@pytest.mark.django_db
def test_bearer_token_stands_in_for_the_signature(signed_client: SignedClient, client):
    token = signed_client.post_raw("/api/v1/auth/token", b"", content_type="").json()["accessToken"]

    response = client.post(
        ANALYZE,
        data=BODY,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 200
    assert response.json()["fields"]["bankName"] == "中国银行"


@pytest.mark.django_db
def test_bearer_token_of_a_revoked_key_is_unauthorized(api_key, signed_client, client):
    token = signed_client.post_raw("/api/v1/auth/token", b"", content_type="").json()["accessToken"]
    api_key[0].revoke()

    response = client.post(
        ANALYZE,
        data=BODY,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert_unauthorized(response, "key_revoked")


@pytest.mark.django_db
def test_forged_bearer_token_is_unauthorized(client):
    response = client.post(
        ANALYZE,
        data=BODY,
        content_type="application/json",
        headers={"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"},
    )

    assert_unauthorized(response, "token_invalid")


@pytest.mark.django_db
def test_token_endpoint_refuses_a_bearer_token(signed_client: SignedClient, client):
    token = signed_client.post_raw("/api/v1/auth/token", b"", content_type="").json()["accessToken"]

    response = client.post("/api/v1/auth/token", headers={"Authorization": f"Bearer {token}"})

    assert_unauthorized(response, "missing_header")


@pytest.mark.django_db
def test_secret_is_not_stored_in_clear(api_key):
    key, secret = api_key

    assert secret not in key.encrypted_secret
    assert key.signing_secret() == secret.encode()


@pytest.mark.django_db
def test_upper_case_hex_signature_is_a_signature_mismatch(signed_client: SignedClient):
    body = json.dumps(BODY).encode()
    headers = signed_client.headers("POST", ANALYZE, body)
    headers["X-Signature"] = headers["X-Signature"].upper()

    response = signed_client.client.post(
        ANALYZE, data=body, content_type="application/json", headers=headers
    )

    assert_unauthorized(response, "signature_mismatch")


@pytest.mark.django_db
def test_log_names_the_reason_and_key_id_but_not_the_secret_or_signature(
    api_key, signed_client: SignedClient, caplog
):
    key, secret = api_key
    body = json.dumps(BODY).encode()
    headers = signed_client.headers("POST", ANALYZE, body, timestamp=int(time.time()) - 400)

    with caplog.at_level("INFO"):
        signed_client.client.post(
            ANALYZE, data=body, content_type="application/json", headers=headers
        )

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "timestamp_out_of_window" in logged
    assert key.key_id in logged
    assert secret not in logged
    assert headers["X-Signature"] not in logged


@pytest.mark.django_db
def test_401_tells_the_client_which_scheme_to_use(client):
    response = client.post(ANALYZE, data=BODY, content_type="application/json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"]

"""The addresses a new user and the operators open."""

import json
import os
import subprocess
import sys

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command

from quickvault import circuit


@pytest.mark.django_db
def test_health_is_ok_on_the_embedded_default(client):
    body = client.get("/api/v1/health").json()

    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"] == "ok"
    assert body["version"]


def test_health_is_down_with_503_when_the_database_is_unreachable():
    # A separate process, so the test database of this one stays untouched.
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/api/v1/health');"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "quickvault.settings",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/none",
        "DB_POOL_TIMEOUT": "1",
    }
    env.pop("REDIS_URL", None)

    completed = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )

    answer = json.loads(completed.stdout.strip().splitlines()[-1])
    assert answer["status"] == 503
    assert answer["body"]["status"] == "down"
    assert answer["body"]["checks"]["database"] == "error"


@pytest.mark.django_db
def test_openapi_schema_documents_the_analyze_operation(client):
    response = client.get("/api/schema", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert "/api/v1/ocr/analyze" in response.content.decode()


@pytest.mark.django_db
def test_docs_load_their_assets_from_the_project(client):
    page = client.get("/docs").content.decode()

    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()


@pytest.mark.django_db
def test_admin_asks_staff_to_log_in(client):
    response = client.get("/admin/", follow=True)

    assert response.status_code == 200
    assert b"Log in" in response.content


@pytest.mark.django_db
def test_metrics_are_exposed_for_prometheus(client):
    client.get("/api/v1/health")

    body = client.get("/metrics").content.decode()

    assert "django_http_requests_total_by_method_total" in body


@pytest.mark.django_db
def test_health_reports_the_model_ok_while_its_circuit_is_closed(client, fake_openai):
    assert client.get("/api/v1/health").json()["checks"]["model"] == "ok"


@pytest.mark.django_db
def test_health_is_degraded_while_the_model_circuit_is_open(client, fake_openai):
    async_to_sync(circuit.trip)(circuit.openai_breaker())

    body = client.get("/api/v1/health").json()

    assert body["status"] == "degraded"
    assert body["checks"]["model"] == "circuit_open"


@pytest.mark.django_db
def test_openapi_schema_is_valid_and_names_both_auth_schemes(tmp_path):
    path = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))

    schema = path.read_text()
    assert "signature:" in schema
    assert "scheme: bearer" in schema


@pytest.mark.django_db
def test_the_front_page_links_to_the_docs_admin_dashboard_and_health(client):
    response = client.get("/")

    assert response.status_code == 200
    page = response.content.decode()
    for address in (
        'href="/docs"',
        'href="/admin/"',
        'href="/dashboard/"',
        'href="/api/v1/health"',
    ):
        assert address in page


@pytest.mark.django_db
def test_the_admins_view_site_link_leads_to_a_page(admin_client):
    admin_page = admin_client.get("/admin/").content.decode()
    assert 'href="/"' in admin_page

    assert admin_client.get("/").status_code == 200


@pytest.mark.django_db
def test_the_favicon_is_served_from_the_project(client):
    response = client.get("/favicon.ico", follow=True)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert response.redirect_chain[-1][0].startswith("/static/")

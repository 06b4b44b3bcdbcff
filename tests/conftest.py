import os

import pytest
from django.core.cache import cache

from ocr.models import ApiKey
from quickvault.redis_guard import redis_breaker
from tests.signing import SignedClient

# The tests run with DEBUG off, as production does, with a key of their own (production refuses
# to start without one) and over plain HTTP. Set in the environment too, for the servers and
# commands the tests start.
TEST_ENVIRONMENT = {
    "SECRET_KEY": "tests-only-secret-key-" + "k" * 40,
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
}


def pytest_configure(config) -> None:
    from django.conf import settings

    for name, value in TEST_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    settings.SECRET_KEY = os.environ["SECRET_KEY"]
    settings.SECURE_SSL_REDIRECT = os.environ["SECURE_SSL_REDIRECT"] == "1"
    settings.SESSION_COOKIE_SECURE = os.environ["SESSION_COOKIE_SECURE"] == "1"
    settings.CSRF_COOKIE_SECURE = os.environ["CSRF_COOKIE_SECURE"] == "1"


@pytest.fixture(autouse=True, scope="session")
def eager_tasks():
    # Tests run tasks in-process even where REDIS_URL makes Redis the broker.
    from quickvault.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True


@pytest.fixture(autouse=True)
def clean_cache():
    # A failure in one test would otherwise have this process skip Redis in the next ones.
    redis_breaker.reset()
    cache.clear()
    yield
    cache.clear()
    redis_breaker.reset()


@pytest.fixture
def api_key(db) -> tuple[ApiKey, str]:
    return ApiKey.issue(name="test app", rate_limit=0)


@pytest.fixture
def signed_client(api_key) -> SignedClient:
    key, secret = api_key
    return SignedClient(key_id=key.key_id, secret=secret)


@pytest.fixture(scope="session")
def fake_openai_server():
    """One local OpenAI-compatible server for the whole run (see tests/fakes/openai_server.py)."""
    from tests.fakes.openai_server import FakeOpenAI

    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def fake_openai(fake_openai_server, settings):
    """The fake model server, reset to echo mode, with the service pointed at it through the
    real SDK. Time budgets are small so a timeout or a hang costs a test about a second."""
    fake_openai_server.configure()
    settings.QV_PROVIDER = "auto"
    settings.OPENAI_BASE_URL = fake_openai_server.base_url
    settings.OPENAI_API_KEY = "sk-test-not-a-real-key"
    settings.OPENAI_MODEL = "gpt-4o-mini"
    settings.OPENAI_TIMEOUT_SECONDS = 1.0
    settings.OPENAI_REQUEST_BUDGET_SECONDS = 2.5
    settings.OPENAI_MAX_ATTEMPTS = 3
    settings.OPENAI_RETRY_INITIAL_SECONDS = 0.01
    settings.OPENAI_RETRY_MAX_SECONDS = 0.05
    settings.OPENAI_RETRY_AFTER_MAX_SECONDS = 2.0
    yield fake_openai_server
    fake_openai_server.configure()

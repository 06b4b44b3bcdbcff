import pytest
from django.core.cache import cache

from ocr.models import ApiKey
from tests.signing import SignedClient


@pytest.fixture(autouse=True, scope="session")
def eager_tasks():
    # Tests run tasks in-process even where REDIS_URL makes Redis the broker.
    from quickvault.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True


@pytest.fixture(autouse=True)
def clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_key(db) -> tuple[ApiKey, str]:
    return ApiKey.issue(name="test app", rate_limit=0)


@pytest.fixture
def signed_client(api_key) -> SignedClient:
    key, secret = api_key
    return SignedClient(key_id=key.key_id, secret=secret)

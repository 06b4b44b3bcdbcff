"""Finding 10 (exposure): staff login is throttled, and a Redis outage is one log record, not a
traceback per cache call."""

import asyncio
import logging
import time

import pytest
from django.contrib.auth.models import User

from quickvault.cache import AsyncRedisCache
from quickvault.logging import OncePerOutage

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "a-long-right-password-1"
# Nothing listens on port 1: every call fails at once, as in an outage.
NO_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def staff_user(db) -> User:
    return User.objects.create_superuser("boss", password=PASSWORD)


def fail_logins(client, username: str, times: int) -> list[int]:
    return [
        client.post(LOGIN, {"username": username, "password": "wrong"}).status_code
        for _ in range(times)
    ]


def test_admin_login_locks_a_user_name_out_after_five_failures(staff_user, client):
    # The fifth failure is answered with the lockout already.
    assert fail_logins(client, "boss", 5) == [200, 200, 200, 200, 429]

    response = client.post(LOGIN, {"username": "boss", "password": PASSWORD})

    assert response.status_code == 429
    assert "too many login attempts" in response.content.decode().lower()


def test_the_lockout_holds_for_a_new_session_from_the_same_address(staff_user, client):
    fail_logins(client, "boss", 5)
    client.cookies.clear()

    response = client.post(LOGIN, {"username": "boss", "password": PASSWORD})

    assert response.status_code == 429


def test_another_user_name_from_the_same_address_still_logs_in(staff_user, client):
    User.objects.create_superuser("other", password=PASSWORD)
    fail_logins(client, "boss", 5)

    response = client.post(LOGIN, {"username": "other", "password": PASSWORD})

    assert response.status_code == 302


def test_four_failures_do_not_lock_the_right_password_out(staff_user, client):
    fail_logins(client, "boss", 4)

    response = client.post(LOGIN, {"username": "boss", "password": PASSWORD})

    assert response.status_code == 302


@pytest.fixture
def unreachable_redis(settings) -> AsyncRedisCache:
    # As with REDIS_URL set: errors ignored (a miss) and logged.
    settings.DJANGO_REDIS_IGNORE_EXCEPTIONS = True
    settings.DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    for found in logging.getLogger("django_redis.cache").filters:
        if isinstance(found, OncePerOutage):
            found.reset()
    return AsyncRedisCache(
        NO_REDIS,
        {
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            }
        },
    )


def test_a_redis_outage_logs_once_not_per_call(unreachable_redis, caplog):
    async def calls() -> None:
        for _ in range(20):
            assert await unreachable_redis.aget("some-key") is None

    with caplog.at_level(logging.INFO):
        for _ in range(20):
            assert unreachable_redis.get("some-key") is None
        asyncio.run(calls())

    records = [r for r in caplog.records if r.name == "django_redis.cache"]
    assert len(records) == 1
    assert records[0].levelname == "WARNING"
    assert "Redis is unreachable" in records[0].getMessage()
    assert records[0].exc_info is None


def test_a_new_outage_after_a_quiet_spell_is_logged_again():
    logger = logging.getLogger("tests.outage")
    once = OncePerOutage(quiet_seconds=0.05)
    seen = []
    handler = logging.Handler()
    handler.emit = seen.append
    logger.addHandler(handler)
    logger.addFilter(once)
    try:
        for _ in range(3):
            logger.error("Exception ignored")

        time.sleep(0.1)
        logger.error("Exception ignored")
        logger.error("Something else")
    finally:
        logger.removeHandler(handler)
        logger.removeFilter(once)

    messages = [record.getMessage() for record in seen]
    assert len(messages) == 3
    assert "2 errors of the previous outage were not logged" in messages[1]
    assert messages[2] == "Something else"

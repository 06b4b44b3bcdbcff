"""Finding 10 (exposure): staff login is throttled per user name and address."""

import pytest
from django.contrib.auth.models import User

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "a-long-right-password-1"


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

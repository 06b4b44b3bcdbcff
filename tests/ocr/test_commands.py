import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from ocr.models import ApiKey


@pytest.mark.django_db
def test_create_api_key_prints_id_and_secret_as_json():
    out = io.StringIO()

    call_command("create_api_key", "iOS app", "--rate-limit", "120", "--json", stdout=out)

    printed = json.loads(out.getvalue())
    key = ApiKey.objects.get(key_id=printed["keyId"])
    assert key.name == "iOS app"
    assert key.rate_limit == 120
    assert key.signing_secret() == printed["secret"].encode()


@pytest.mark.django_db
def test_create_api_key_defaults_to_60_a_minute():
    call_command("create_api_key", "web", "--json", stdout=io.StringIO())

    assert ApiKey.objects.get(name="web").rate_limit == 60


@pytest.mark.django_db
def test_create_api_key_accepts_zero_for_no_limit():
    call_command("create_api_key", "batch", "--rate-limit", "0", "--json", stdout=io.StringIO())

    assert ApiKey.objects.get(name="batch").rate_limit == 0


def printed_password(output: str) -> str:
    line = next(line for line in output.splitlines() if line.startswith("Staff user"))
    return line.split("password ")[1].split("'")[1]


@pytest.mark.django_db
def test_bootstrap_demo_gives_the_staff_user_a_random_password_and_prints_it(settings, tmp_path):
    settings.BASE_DIR = tmp_path
    out = io.StringIO()

    call_command("bootstrap_demo", stdout=out)

    password = printed_password(out.getvalue())
    user = get_user_model().objects.get(username="admin")
    assert password != "admin"
    assert len(password) >= 12
    assert user.check_password(password)
    assert user.is_staff


@pytest.mark.django_db
def test_bootstrap_demo_replaces_the_old_admin_admin_login(settings, tmp_path):
    settings.BASE_DIR = tmp_path
    get_user_model().objects.create_superuser(username="admin", email="", password="admin")

    call_command("bootstrap_demo", stdout=io.StringIO())

    assert not get_user_model().objects.get(username="admin").check_password("admin")


@pytest.mark.django_db
def test_bootstrap_demo_prints_the_same_login_on_the_next_run(settings, tmp_path):
    settings.BASE_DIR = tmp_path
    first, second = io.StringIO(), io.StringIO()

    call_command("bootstrap_demo", stdout=first)
    call_command("bootstrap_demo", stdout=second)

    assert printed_password(first.getvalue()) == printed_password(second.getvalue())
    assert (tmp_path / ".demo-login.json").stat().st_mode & 0o077 == 0

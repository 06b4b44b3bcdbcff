import io
import json

import pytest
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

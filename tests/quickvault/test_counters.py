"""The database counters behind the rate limiter without Redis."""

import io

import pytest
from django.core.management import call_command

from ocr.models import RateCounter
from quickvault.counters import DatabaseCounterCache

pytestmark = pytest.mark.django_db


@pytest.fixture
def counters() -> DatabaseCounterCache:
    return DatabaseCounterCache("ocr_ratecounter", {})


def test_add_sets_a_counter_once(counters):
    assert counters.add("k", 1, 60) is True
    assert counters.add("k", 1, 60) is False
    assert counters.get("k") == 1


def test_incr_adds_to_a_live_counter_and_refuses_a_missing_one(counters):
    counters.add("k", 1, 60)

    assert counters.incr("k") == 2
    assert counters.incr("k", 3) == 5
    with pytest.raises(ValueError):
        counters.incr("missing")


def test_an_expired_counter_is_gone_and_starts_again(counters):
    counters.add("k", 7, -1)

    assert counters.get("k") is None
    assert counters.add("k", 1, 60) is True
    assert counters.get("k") == 1


def test_add_to_makes_a_counter_then_adds_to_it(counters):
    assert counters.add_to("k", 2, 60) == 2
    assert counters.add_to("k", 3, 60) == 5
    assert counters.get("k") == 5


def test_add_to_starts_an_expired_counter_again(counters):
    counters.add("k", 7, -1)

    assert counters.add_to("k", 1, 60) == 1
    assert counters.get("k") == 1


def test_purge_nonces_deletes_past_counters_only(counters):
    counters.add("past", 1, -1)
    counters.add("live", 1, 60)

    call_command("purge_nonces", stdout=io.StringIO())

    assert list(RateCounter.objects.values_list("cache_key", flat=True)) == [
        counters.make_key("live")
    ]

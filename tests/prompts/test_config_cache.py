"""Each worker's copy of the configuration, valid while its generation is current
(prompts/config_cache.py), and the saves that start a new generation (prompts/signals.py).

A "request" here is a coroutine run on a loop of its own (asyncio.run runs it in a copy of the
test's context), holding the generation it is given, as ocr.apis holds the one it read. The
worker's copy is module-level and outlives a test: every test reads under keys of its own.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import cache
from django.db import transaction

from prompts import config_cache
from prompts.models import (
    DocumentType,
    Experiment,
    ExperimentVariant,
    FieldDefinition,
    ModelPrice,
    ModelRoute,
    PromptTemplate,
)
from tests.documents import ID_CARD
from tests.signing import SignedClient

ANALYZE = "/api/v1/ocr/analyze"


class CountingLoad:
    """A `load` for config_cache.aget that counts its calls; each returns a new value."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> dict[str, int]:
        self.calls += 1
        return {"call": self.calls}


def unique_key() -> str:
    return f"test-config:{uuid.uuid4().hex}"


def read_in_request(generation: str | None, key: str, load: CountingLoad) -> Any:
    """config_cache.aget in a request that holds `generation`."""

    async def request() -> Any:
        config_cache.use_generation(generation)
        return await config_cache.aget(key, load)

    return asyncio.run(request())


def current_generation() -> str | None:
    return asyncio.run(config_cache.read_generation())


@pytest.fixture(autouse=True)
def no_generation_held() -> Iterator[None]:
    # Requests through Django's test client run under async_to_sync, which hands the context
    # they leave back to this thread: hold none after the test, whatever it did.
    yield
    config_cache.use_generation(None)


# -- The worker's copy -----------------------------------------------------------------------------


def test_within_a_generation_a_second_read_does_not_load_again():
    key, load = unique_key(), CountingLoad()

    first = read_in_request("generation-1", key, load)
    second = read_in_request("generation-1", key, load)

    assert load.calls == 1
    assert second == first == {"call": 1}


def test_an_entry_of_another_generation_is_loaded_again():
    key, load = unique_key(), CountingLoad()
    read_in_request("generation-1", key, load)

    value = read_in_request("generation-2", key, load)

    assert load.calls == 2
    assert value == {"call": 2}


def test_without_a_generation_every_read_loads():
    key, load = unique_key(), CountingLoad()

    read_in_request(None, key, load)
    value = read_in_request(None, key, load)

    assert load.calls == 2
    assert value == {"call": 2}


def test_entries_of_different_keys_are_apart():
    first_key, second_key = unique_key(), unique_key()
    first_load, second_load = CountingLoad(), CountingLoad()

    read_in_request("generation-1", first_key, first_load)
    read_in_request("generation-1", second_key, second_load)

    assert (first_load.calls, second_load.calls) == (1, 1)


def test_a_generation_is_held_by_its_request_only():
    key, load = unique_key(), CountingLoad()
    read_in_request("generation-1", key, load)

    async def outside_any_request() -> Any:
        return await config_cache.aget(key, load)

    asyncio.run(outside_any_request())

    assert load.calls == 2


# -- The generation --------------------------------------------------------------------------------


def test_the_generation_stays_the_same_between_reads():
    assert current_generation() == current_generation()
    assert current_generation() is not None


def test_a_cleared_cache_gets_a_new_generation():
    before = current_generation()

    cache.clear()

    assert current_generation() not in (None, before)


@pytest.mark.django_db
def test_new_generation_changes_the_generation_every_worker_reads():
    before = current_generation()

    config_cache.new_generation()

    assert current_generation() != before


def create_model_price() -> None:
    ModelPrice.objects.create(
        model="test-model", input_per_million=Decimal("1"), output_per_million=Decimal("2")
    )


def update_model_price() -> None:
    price = ModelPrice.objects.first()
    price.input_per_million += 1
    price.save()


def create_model_route() -> None:
    ModelRoute.objects.create(name="test route", model="test-model")


def id_card() -> DocumentType:
    return DocumentType.objects.get(key="idCard")


def default_id_card_template() -> PromptTemplate:
    return PromptTemplate.objects.defaults().for_type("idCard").get()


def save_document_type() -> None:
    document_type = id_card()
    document_type.description = "edited"
    document_type.save()


def create_field() -> None:
    FieldDefinition.objects.create(document_type=id_card(), key="testField", label="Test")


def save_template() -> None:
    template = default_id_card_template()
    template.notes = "edited"
    template.save()


def create_template() -> None:
    default_id_card_template().new_version(version="9.9.9")


def create_experiment() -> None:
    Experiment.objects.create(document_type=id_card(), name="test experiment")


def delete_model_price() -> None:
    ModelPrice.objects.first().delete()


def delete_model_route() -> None:
    ModelRoute.objects.first().delete()


def delete_field() -> None:
    FieldDefinition.objects.filter(document_type=id_card()).first().delete()


CONFIGURATION_CHANGES: list[Callable[[], None]] = [
    create_model_price,
    update_model_price,
    create_model_route,
    save_document_type,
    create_field,
    save_template,
    create_template,
    create_experiment,
    delete_model_price,
    delete_model_route,
    delete_field,
]


@pytest.mark.django_db
@pytest.mark.parametrize("change", CONFIGURATION_CHANGES, ids=lambda change: change.__name__)
def test_a_configuration_change_starts_a_new_generation(change: Callable[[], None]):
    before = current_generation()

    change()

    assert current_generation() not in (None, before)


@pytest.mark.django_db
def test_creating_an_experiment_variant_starts_a_new_generation():
    experiment = Experiment.objects.create(document_type=id_card(), name="test experiment")
    before = current_generation()

    ExperimentVariant.objects.create(
        experiment=experiment, name="control", template=default_id_card_template()
    )

    assert current_generation() not in (None, before)


@pytest.mark.django_db
def test_saving_an_api_key_keeps_the_generation(api_key):
    key, _ = api_key
    before = current_generation()

    key.name = "renamed"
    key.save()

    assert current_generation() == before


@pytest.mark.django_db
def test_after_a_price_is_saved_the_next_request_loads_again():
    key, load = unique_key(), CountingLoad()
    read_in_request(current_generation(), key, load)
    read_in_request(current_generation(), key, load)
    assert load.calls == 1

    update_model_price()
    value = read_in_request(current_generation(), key, load)

    assert load.calls == 2
    assert value == {"call": 2}


@pytest.mark.django_db
def test_after_a_template_is_saved_the_next_request_loads_again():
    key, load = unique_key(), CountingLoad()
    read_in_request(current_generation(), key, load)

    save_template()
    read_in_request(current_generation(), key, load)

    assert load.calls == 2


# -- End to end, through the API -------------------------------------------------------------------


def analyze(client: SignedClient) -> dict[str, Any]:
    response = client.post_json(ANALYZE, {**ID_CARD, "options": {"useCache": False}})
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.django_db
def test_a_new_default_template_serves_the_next_request(signed_client: SignedClient):
    current = default_id_card_template()
    assert analyze(signed_client)["template"]["id"] == current.pk

    draft = current.new_version(version="1.1.0")
    draft.make_default()

    assert analyze(signed_client)["template"] == {
        "id": draft.pk,
        "name": draft.name,
        "version": "1.1.0",
    }


@pytest.mark.django_db
def test_an_edited_default_template_serves_the_next_request(signed_client: SignedClient):
    current = default_id_card_template()
    assert analyze(signed_client)["template"]["version"] == current.version

    current.version = "7.0.0"
    current.save()

    assert analyze(signed_client)["template"] == {
        "id": current.pk,
        "name": current.name,
        "version": "7.0.0",
    }


@pytest.mark.django_db
def test_the_worker_copy_serves_requests_of_one_generation(signed_client: SignedClient):
    # A change that sends no signal (a queryset update) is not seen while the generation holds:
    # the second request was served from the worker's copy, not from the database.
    current = default_id_card_template()
    analyze(signed_client)
    # The shared cache would hide it too: empty it, keeping the generation.
    generation = current_generation()
    cache.clear()
    cache.set(config_cache.GENERATION_KEY, generation, timeout=None)

    PromptTemplate.objects.filter(pk=current.pk).update(version="8.0.0")

    assert analyze(signed_client)["template"]["version"] == current.version


@pytest.mark.django_db
def test_a_request_through_the_test_client_leaves_no_generation_held(
    signed_client: SignedClient,
):
    analyze(signed_client)
    key, load = unique_key(), CountingLoad()

    async def outside_any_request() -> Any:
        return await config_cache.aget(key, load)

    async_to_sync(outside_any_request)()
    async_to_sync(outside_any_request)()

    assert load.calls == 2


# Serialized like the browser tests: a flush without it leaves them rows they then insert again.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_save_starts_another_generation_once_its_transaction_commits():
    # A worker that read the generation between the save and the commit read the old rows.
    with transaction.atomic():
        create_model_price()
        before_commit = current_generation()

    assert current_generation() not in (None, before_commit)

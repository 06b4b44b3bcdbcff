"""The configuration snapshot each worker keeps while its generation is current
(prompts/configuration.py), and the saves that start a new generation (prompts/signals.py)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import cache
from django.db import transaction

from prompts import configuration
from prompts.configuration import aget_configuration, get_configuration
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


def current_generation() -> str | None:
    return get_configuration().generation


@pytest.mark.django_db
def test_the_snapshot_holds_every_active_type_with_its_fields_and_default_template():
    snapshot = get_configuration()

    id_card = snapshot.document_type("idCard")
    assert list(snapshot.document_types) == list(
        DocumentType.objects.active().values_list("key", flat=True)
    )
    assert [spec.key for spec in id_card.fields] == list(
        FieldDefinition.objects.filter(document_type__key="idCard").values_list("key", flat=True)
    )
    assert id_card.template == PromptTemplate.objects.defaults().for_type("idCard").get()


@pytest.mark.django_db
def test_an_inactive_type_is_not_in_the_snapshot():
    DocumentType.objects.filter(key="bankCard").update(is_active=False)
    configuration.new_generation()

    assert get_configuration().document_type("bankCard") is None


@pytest.mark.django_db
def test_within_a_generation_the_snapshot_is_read_without_a_query(django_assert_num_queries):
    first = get_configuration()

    with django_assert_num_queries(0):
        second = get_configuration()

    assert second is first


@pytest.mark.django_db
def test_sync_and_async_readers_share_one_snapshot():
    first = get_configuration()

    assert async_to_sync(aget_configuration)() is first


@pytest.mark.django_db
def test_a_cleared_cache_gets_a_new_generation_and_snapshot():
    before = get_configuration()

    cache.clear()

    after = get_configuration()
    assert after.generation not in (None, before.generation)
    assert after is not before


@pytest.mark.django_db
def test_new_generation_changes_the_generation_every_worker_reads():
    before = current_generation()

    configuration.new_generation()

    assert current_generation() != before


def create_model_price() -> None:
    ModelPrice.objects.create(
        model="test-model", input_per_million=Decimal("1"), output_per_million=Decimal("2")
    )


def update_model_price() -> None:
    price = ModelPrice.objects.order_by("-updated_at", "-pk").first()
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
def test_after_a_price_is_saved_the_next_read_has_it():
    create_model_price()
    get_configuration()

    update_model_price()

    assert get_configuration().prices["test-model"].input_per_million == Decimal("2")


@pytest.mark.django_db
def test_after_a_template_is_saved_the_next_read_has_it():
    get_configuration()

    save_template()

    assert get_configuration().document_type("idCard").template.notes == "edited"


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
def test_a_renamed_default_template_serves_the_next_request_under_its_new_name(
    signed_client: SignedClient,
):
    current = default_id_card_template()
    assert analyze(signed_client)["template"]["name"] == current.name

    current.name = "ID card, reworded"
    current.save()

    assert analyze(signed_client)["template"] == {
        "id": current.pk,
        "name": "ID card, reworded",
        "version": current.version,
    }


@pytest.mark.django_db
def test_the_worker_copy_serves_requests_of_one_generation(signed_client: SignedClient):
    # A change that sends no signal (a queryset update) is not seen while the generation holds:
    # the second request was served from the worker's copy, not from the database.
    current = default_id_card_template()
    analyze(signed_client)
    PromptTemplate.objects.filter(pk=current.pk).update(version="8.0.0")

    assert analyze(signed_client)["template"]["version"] == current.version


# Serialized like the browser tests: a flush without it leaves them rows they then insert again.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_save_starts_another_generation_once_its_transaction_commits():
    # A worker that read the generation between the save and the commit read the old rows.
    with transaction.atomic():
        create_model_price()
        before_commit = current_generation()

    assert current_generation() not in (None, before_commit)

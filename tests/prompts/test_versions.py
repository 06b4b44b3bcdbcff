"""A version that has served is immutable; drafts are not."""

import pytest
from django.core.exceptions import ValidationError

from ocr.models import OcrRequest, RequestStatus
from prompts.models import (
    DocumentType,
    Experiment,
    ExperimentVariant,
    PromptTemplate,
    TemplateStatus,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def default() -> PromptTemplate:
    return PromptTemplate.objects.defaults().for_type("idCard").get()


@pytest.fixture
def draft(default) -> PromptTemplate:
    return default.new_version(version="1.0.1")


def running_experiment_with(default, draft) -> Experiment:
    experiment = Experiment.objects.create(
        document_type=DocumentType.objects.get(key="idCard"), name="ab"
    )
    ExperimentVariant.objects.create(experiment=experiment, name="control", template=default)
    ExperimentVariant.objects.create(experiment=experiment, name="candidate", template=draft)
    experiment.start()
    return experiment


def test_the_live_default_cannot_be_edited(default):
    default.system_prompt = "Something else."

    with pytest.raises(ValidationError, match="cannot change"):
        default.save()

    default.refresh_from_db()
    assert default.system_prompt != "Something else."


def test_a_draft_can_be_edited(draft):
    draft.user_prompt = "Read {{ocr_text}}."

    draft.save()

    draft.refresh_from_db()
    assert draft.user_prompt == "Read {{ocr_text}}."


def test_a_version_a_logged_request_names_cannot_be_edited(draft):
    OcrRequest.objects.create(document_type="idCard", template=draft, status=RequestStatus.SUCCESS)
    draft.temperature = 0.7

    with pytest.raises(ValidationError, match="cannot change"):
        draft.save()


def test_a_running_experiments_draft_cannot_be_edited(default, draft):
    running_experiment_with(default, draft)
    draft.model = "another-model"

    with pytest.raises(ValidationError, match="cannot change"):
        draft.save()


def test_the_live_default_cannot_be_set_to_draft(default):
    default.status = TemplateStatus.DRAFT

    with pytest.raises(ValidationError, match="stays active"):
        default.save()


def test_a_running_experiments_template_cannot_be_archived_by_a_save(default, draft):
    running_experiment_with(default, draft)
    draft.status = TemplateStatus.ARCHIVED

    with pytest.raises(ValidationError, match="running experiment cannot be archived"):
        draft.save()


def test_the_live_default_cannot_be_deleted(default):
    with pytest.raises(ValidationError, match="cannot be deleted"):
        default.delete()

    assert PromptTemplate.objects.filter(pk=default.pk).exists()


def test_a_queryset_delete_refuses_served_versions(default, draft):
    with pytest.raises(ValidationError, match="cannot be deleted"):
        PromptTemplate.objects.filter(pk__in=[default.pk, draft.pk]).delete()

    assert PromptTemplate.objects.filter(pk__in=[default.pk, draft.pk]).count() == 2


def test_a_draft_that_never_served_can_be_deleted(draft):
    draft.delete()

    assert not PromptTemplate.objects.filter(pk=draft.pk).exists()


def test_a_template_is_found_by_type_at_version_or_by_id(default):
    assert PromptTemplate.objects.named(f"idCard@{default.version}") == default
    assert PromptTemplate.objects.named(str(default.pk)) == default


def test_an_unknown_template_name_is_reported(default):
    with pytest.raises(PromptTemplate.DoesNotExist, match=r"idCard@9\.9\.9"):
        PromptTemplate.objects.named("idCard@9.9.9")

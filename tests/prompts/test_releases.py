"""Releases pass the type's gate: a measured version no worse than the default beyond the
tolerance; staff allowed to override may release a refused one with a reason."""

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from prompts.models import DocumentType, EvaluationRun, PromptTemplate, Release, TestSet
from prompts.releases import ReleaseRefused, release, rollback

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def model_configured(settings):
    settings.QV_PROVIDER = "openai"


@pytest.fixture
def default() -> PromptTemplate:
    return PromptTemplate.objects.defaults().for_type("idCard").get()


@pytest.fixture
def gate(default) -> TestSet:
    test_set = TestSet.objects.create(name="gate")
    DocumentType.objects.filter(key="idCard").update(gate_test_set=test_set, gate_tolerance=0.02)
    finished_run(default, test_set, accuracy=0.95, invented=0.01)
    return test_set


@pytest.fixture
def draft(default) -> PromptTemplate:
    return default.new_version(version="1.0.1")


def finished_run(template, test_set, *, accuracy: float, invented: float) -> EvaluationRun:
    return EvaluationRun.objects.create(
        template=template,
        test_set=test_set,
        status="finished",
        field_accuracy=accuracy,
        invented_rate=invented,
        finished_at=timezone.now(),
    )


def staff(*permissions: str) -> User:
    user = User.objects.create_user("engineer", password="pw", is_staff=True)
    for codename in permissions:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return User.objects.get(pk=user.pk)  # fresh permission cache


def test_a_version_worse_beyond_the_tolerance_is_refused_naming_both_figures(gate, draft):
    finished_run(draft, gate, accuracy=0.90, invented=0.01)

    with pytest.raises(ReleaseRefused) as refused:
        release(draft)

    message = refused.value.messages[0]
    assert "idCard@1.0.1: field accuracy 0.9000" in message
    assert "the default idCard@1.0.0: field accuracy 0.9500" in message
    assert PromptTemplate.objects.defaults().for_type("idCard").get().version == "1.0.0"


def test_a_version_within_the_tolerance_is_released(gate, draft):
    finished_run(draft, gate, accuracy=0.94, invented=0.02)

    done = release(draft)

    assert PromptTemplate.objects.defaults().for_type("idCard").get() == draft
    assert done.candidate_figures["fieldAccuracy"] == 0.94
    assert done.baseline_figures["fieldAccuracy"] == 0.95


def test_more_invented_values_beyond_the_tolerance_are_refused(gate, draft):
    finished_run(draft, gate, accuracy=0.99, invented=0.10)

    with pytest.raises(ReleaseRefused, match=r"invented values 0\.1000"):
        release(draft)


def test_the_latest_run_of_the_version_is_the_one_that_counts(gate, draft):
    finished_run(draft, gate, accuracy=0.99, invented=0.0)
    finished_run(draft, gate, accuracy=0.50, invented=0.0)

    with pytest.raises(ReleaseRefused, match=r"field accuracy 0\.5000"):
        release(draft)


def test_an_override_needs_the_permission(gate, draft):
    finished_run(draft, gate, accuracy=0.5, invented=0.0)

    with pytest.raises(ReleaseRefused, match="may not override"):
        release(draft, user=staff("release_template"), override_reason="Urgent")


def test_an_override_with_the_permission_and_a_reason_is_recorded(gate, draft):
    finished_run(draft, gate, accuracy=0.5, invented=0.0)
    user = staff("release_template", "override_release_gate")

    done = release(draft, user=user, override_reason="  Legal asked for it  ")

    assert (done.override_reason, done.released_by) == ("Legal asked for it", user)


def test_a_blank_override_reason_is_no_override(gate, draft):
    finished_run(draft, gate, accuracy=0.5, invented=0.0)

    with pytest.raises(ReleaseRefused):
        release(draft, override_reason="   ")


def test_an_archived_version_is_not_released(draft):
    draft.archive()

    with pytest.raises(ValidationError, match="archived"):
        release(draft)


def test_rollback_returns_to_the_replaced_version_and_is_recorded(default, draft):
    release(draft)

    done = rollback(DocumentType.objects.get(key="idCard"))

    assert PromptTemplate.objects.defaults().for_type("idCard").get() == default
    assert (done.from_version, done.to_version, done.kind) == ("1.0.1", "1.0.0", "rollback")


def test_the_admin_shows_the_refusal_with_both_figures_and_keeps_the_draft(
    admin_client, gate, draft
):
    finished_run(draft, gate, accuracy=0.5, invented=0.0)
    url = reverse("admin:prompts_prompttemplate_activate", args=[draft.pk])

    confirmation = admin_client.get(url).content.decode()
    response = admin_client.post(url, follow=True)

    assert "field accuracy 0.5000" in confirmation and "field accuracy 0.9500" in confirmation
    assert 'name="override_reason"' in confirmation  # the superuser may override
    assert "Refused, worse than the default" in response.content.decode()
    draft.refresh_from_db()
    assert (draft.status, draft.is_default) == ("draft", False)
    assert not Release.objects.exists()


def test_staff_without_the_release_permission_cannot_activate(client, draft):
    client.force_login(staff("view_prompttemplate", "change_prompttemplate"))

    response = client.post(reverse("admin:prompts_prompttemplate_activate", args=[draft.pk]))

    assert response.status_code == 403


def test_a_default_that_measures_worse_than_before_shows_on_its_type(admin_client, gate, default):
    finished_run(default, gate, accuracy=0.80, invented=0.01)
    id_card = DocumentType.objects.get(key="idCard")

    page = admin_client.get(
        reverse("admin:prompts_documenttype_change", args=[id_card.pk])
    ).content.decode()

    assert "measured worse on the gate set than before" in page
    assert "field accuracy 0.8000" in page and "field accuracy 0.9500" in page


def test_the_default_itself_is_not_released_again(default):
    with pytest.raises(ValidationError, match="already the default"):
        release(default)

    assert not Release.objects.exists()

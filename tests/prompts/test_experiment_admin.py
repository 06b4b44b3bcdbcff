"""Staff run experiments from the admin: set up, start, stop, read the results, promote."""

import pytest
from django.urls import reverse
from django.utils import timezone

from ocr import request_log
from ocr.models import OcrRequest, RequestStatus
from prompts.models import (
    DocumentType,
    Experiment,
    ExperimentStatus,
    ExperimentVariant,
    PromptTemplate,
)
from tests.analytics.logged import logged

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:prompts_experiment_changelist")


@pytest.fixture
def control() -> PromptTemplate:
    return PromptTemplate.objects.defaults().for_type("idCard").get()


@pytest.fixture
def candidate(control) -> PromptTemplate:
    return control.new_version(version="1.1.0")


@pytest.fixture
def experiment(control, candidate) -> Experiment:
    experiment = Experiment.objects.create(
        document_type=DocumentType.objects.get(key="idCard"), name="shorter prompt"
    )
    ExperimentVariant.objects.create(experiment=experiment, name="control", template=control)
    ExperimentVariant.objects.create(experiment=experiment, name="candidate", template=candidate)
    return experiment


def change_url(experiment: Experiment) -> str:
    return reverse("admin:prompts_experiment_change", args=[experiment.pk])


def add_form(*variants: tuple[str, PromptTemplate, int]) -> dict[str, str]:
    data = {
        "name": "new prompt",
        "document_type": str(DocumentType.objects.get(key="idCard").pk),
        "description": "",
        "variants-TOTAL_FORMS": str(len(variants)),
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "1000",
    }
    for index, (name, template, weight) in enumerate(variants):
        data[f"variants-{index}-name"] = name
        data[f"variants-{index}-template"] = str(template.pk)
        data[f"variants-{index}-weight"] = str(weight)
    return data


def run_action(admin_client, action: str, experiment: Experiment):
    return admin_client.post(
        CHANGELIST, {"action": action, "_selected_action": [experiment.pk]}, follow=True
    )


def test_staff_set_up_an_experiment_with_its_variants(admin_client, admin_user, control, candidate):
    response = admin_client.post(
        reverse("admin:prompts_experiment_add"),
        add_form(("control", control, 90), ("candidate", candidate, 10)),
    )

    assert response.status_code == 302
    experiment = Experiment.objects.get(name="new prompt")
    assert experiment.created_by == admin_user
    assert {(v.name, v.template_id, v.weight) for v in experiment.variants.all()} == {
        ("control", control.pk, 90),
        ("candidate", candidate.pk, 10),
    }


def test_variant_template_of_another_type_is_refused(admin_client, control):
    card = PromptTemplate.objects.defaults().for_type("bankCard").get()

    response = admin_client.post(
        reverse("admin:prompts_experiment_add"), add_form(("control", control, 1), ("c", card, 1))
    )

    assert response.status_code == 200
    assert not Experiment.objects.filter(name="new prompt").exists()


def test_changelist_finds_an_experiment_by_variant_name(admin_client, experiment):
    response = admin_client.get(CHANGELIST + "?q=candidate")

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [experiment]


def test_start_action_starts_the_experiment(admin_client, experiment):
    run_action(admin_client, "start", experiment)

    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.RUNNING


def test_start_action_reports_why_an_experiment_cannot_start(admin_client, experiment):
    experiment.variants.filter(name="candidate").delete()

    response = run_action(admin_client, "start", experiment)

    assert "An experiment needs at least two variants." in response.content.decode()
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.DRAFT


def test_stop_action_stops_the_experiment(admin_client, experiment):
    experiment.start()

    run_action(admin_client, "stop", experiment)

    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.STOPPED


def test_start_button_on_the_change_page(admin_client, experiment):
    response = admin_client.post(reverse("admin:prompts_experiment_start", args=[experiment.pk]))

    assert response.status_code == 302
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.RUNNING


def test_change_page_shows_results_per_variant(admin_client, experiment):
    experiment.start()
    logged(
        document_type="idCard",
        status=RequestStatus.SUCCESS,
        confidence=0.9,
        experiment=experiment,
        experiment_variant="candidate",
    )

    response = admin_client.get(change_url(experiment))

    rows = {row["variant"]: row for row in response.context["variant_results"]}
    assert (rows["control"]["count"], rows["candidate"]["count"]) == (0, 1)
    assert 'id="experiment-results"' in response.content.decode()


def test_promote_button_makes_the_default_and_stops(admin_client, experiment, candidate):
    experiment.start()
    variant = experiment.variants.get(name="candidate")

    response = admin_client.post(
        reverse("admin:prompts_experiment_promote", args=[experiment.pk, variant.pk])
    )

    assert response.status_code == 302
    assert PromptTemplate.objects.defaults().for_type("idCard").get() == candidate
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.STOPPED


def test_promote_asks_for_a_confirmation_naming_the_version(admin_client, experiment, control):
    experiment.start()
    variant = experiment.variants.get(name="candidate")

    response = admin_client.get(
        reverse("admin:prompts_experiment_promote", args=[experiment.pk, variant.pk])
    )

    assert response.status_code == 200
    assert "Yes, promote idCard@1.1.0" in response.content.decode()
    assert PromptTemplate.objects.defaults().for_type("idCard").get() == control


def test_a_stopped_experiment_shows_no_promote_button(admin_client, experiment):
    experiment.start()
    experiment.stop()

    response = admin_client.get(change_url(experiment))

    assert "Promote candidate" not in response.content.decode()


def test_running_experiments_variants_cannot_be_edited(admin_client, experiment):
    experiment.start()

    response = admin_client.get(change_url(experiment))

    formset = response.context["inline_admin_formsets"][0]
    assert formset.has_change_permission is False
    assert formset.has_add_permission is False


def test_request_log_filters_by_experiment(admin_client, experiment):
    experiment.start()
    served = OcrRequest.objects.create(
        document_type="idCard",
        status=RequestStatus.SUCCESS,
        experiment=experiment,
        experiment_variant="control",
    )
    OcrRequest.objects.create(document_type="idCard", status=RequestStatus.SUCCESS)

    response = admin_client.get(
        reverse("admin:ocr_ocrrequest_changelist") + f"?experiment__id__exact={experiment.pk}"
    )

    assert list(response.context["cl"].result_list) == [served]


def served_split(experiment, *, control: int, candidate: int) -> None:
    """Log `control` and `candidate` answers of the experiment's variants through the live
    writer, which keeps the rollups the page reads."""
    request_log.write_rows(
        [
            OcrRequest(
                document_type="idCard",
                status=RequestStatus.SUCCESS,
                created_at=timezone.now(),
                experiment=experiment,
                experiment_variant=name,
            )
            for name, count in (("control", control), ("candidate", candidate))
            for _ in range(count)
        ]
    )


def test_the_observed_split_and_a_sample_ratio_mismatch_are_shown(admin_client, experiment):
    experiment.start()
    served_split(experiment, control=216, candidate=104)

    page = admin_client.get(change_url(experiment)).content.decode()

    assert "control 216 (68% against 50% by weight); candidate 104 (32% against 50%" in page
    assert "Sample ratio mismatch" in page


def test_a_split_that_follows_the_weights_shows_no_warning(admin_client, experiment):
    experiment.start()
    served_split(experiment, control=52, candidate=48)

    page = admin_client.get(change_url(experiment)).content.decode()

    assert "control 52 (52% against 50% by weight)" in page
    assert "Sample ratio mismatch" not in page

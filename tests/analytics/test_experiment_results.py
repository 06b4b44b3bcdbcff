"""The dashboard's Experiments section: the variants of each experiment side by side."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from analytics.services import experiment_comparison, variant_results
from ocr.models import Feedback, OcrRequest, RequestStatus
from prompts.models import (
    DocumentType,
    Experiment,
    ExperimentStatus,
    ExperimentVariant,
    PromptTemplate,
)

pytestmark = pytest.mark.django_db


def new_experiment(name: str = "shorter prompt") -> Experiment:
    control = PromptTemplate.objects.defaults().for_type("idCard").get()
    experiment = Experiment.objects.create(
        document_type=DocumentType.objects.get(key="idCard"), name=name
    )
    ExperimentVariant.objects.create(
        experiment=experiment, name="control", template=control, weight=3
    )
    candidate = control.new_version(version=f"1.1.{experiment.pk}")
    ExperimentVariant.objects.create(
        experiment=experiment, name="candidate", template=candidate, weight=1
    )
    return experiment


def served(experiment: Experiment, variant: str, **values) -> OcrRequest:
    return OcrRequest.objects.create(
        document_type="idCard",
        provider="openai",
        status=RequestStatus.SUCCESS,
        experiment=experiment,
        experiment_variant=variant,
        **values,
    )


@pytest.fixture
def experiment() -> Experiment:
    experiment = new_experiment()
    experiment.start()
    first = served(
        experiment,
        "control",
        confidence=0.9,
        processing_time_ms=800,
        prompt_tokens=1000,
        completion_tokens=100,
        cost=Decimal("0.000300"),
    )
    served(
        experiment,
        "control",
        confidence=0.7,
        processing_time_ms=600,
        prompt_tokens=1000,
        completion_tokens=100,
        cost=Decimal("0.000300"),
    )
    second = served(
        experiment,
        "candidate",
        confidence=0.95,
        processing_time_ms=500,
        prompt_tokens=700,
        completion_tokens=90,
        cost=Decimal("0.000200"),
    )
    Feedback.objects.create(request=first, corrected_fields=["gender", "name"], field_count=9)
    Feedback.objects.create(request=second, corrected_fields=[], field_count=9)
    OcrRequest.objects.create(
        document_type="idCard",
        status=RequestStatus.ERROR,
        error_code="upstream_error",
        experiment=experiment,
        experiment_variant="candidate",
    )
    return experiment


def rows_of(experiment: Experiment) -> dict[str, dict]:
    return {row["variant"]: row for row in variant_results(experiments=[experiment])[experiment.pk]}


def test_variants_count_their_successful_requests(experiment):
    rows = rows_of(experiment)

    assert rows["control"]["count"] == 2
    assert rows["candidate"]["count"] == 1


def test_variants_compare_mean_confidence_and_time(experiment):
    rows = rows_of(experiment)

    assert rows["control"]["mean_confidence"] == pytest.approx(0.8)
    assert rows["candidate"]["mean_confidence"] == pytest.approx(0.95)
    assert rows["control"]["mean_time_ms"] == pytest.approx(700)
    assert rows["candidate"]["mean_time_ms"] == pytest.approx(500)


def test_variants_compare_field_accuracy_from_feedback(experiment):
    rows = rows_of(experiment)

    assert (rows["control"]["feedback"], rows["control"]["accuracy"]) == (1, pytest.approx(7 / 9))
    assert (rows["candidate"]["feedback"], rows["candidate"]["accuracy"]) == (1, 1.0)


def test_variants_compare_tokens_and_cost(experiment):
    control = rows_of(experiment)["control"]

    assert (control["prompt_tokens"], control["completion_tokens"]) == (2000, 200)
    assert control["cost"] == Decimal("0.000600")
    assert control["mean_cost"] == Decimal("0.000300")


def test_variants_show_their_share_of_the_traffic(experiment):
    rows = rows_of(experiment)

    assert rows["control"]["share"] == 0.75
    assert rows["candidate"]["share"] == 0.25


def test_variant_without_requests_has_no_figures():
    experiment = new_experiment()

    candidate = rows_of(experiment)["candidate"]

    assert candidate["count"] == 0
    assert candidate["mean_confidence"] is None
    assert candidate["accuracy"] is None


def test_dashboard_lists_running_and_recently_stopped_experiments(admin_client, experiment):
    stopped = new_experiment("last month's")
    Experiment.objects.filter(pk=stopped.pk).update(
        status=ExperimentStatus.STOPPED, stopped_at=timezone.now() - timedelta(days=30)
    )
    new_experiment("not started")

    listed = admin_client.get("/dashboard/?period=7d").context["experiments"]

    assert [entry["experiment"].name for entry in listed] == ["shorter prompt"]


def test_dashboard_shows_each_variants_figures(admin_client, experiment):
    content = admin_client.get("/dashboard/").content.decode()

    table = content.split('id="qv-experiments"')[1].split("</table>")[0]
    control, candidate = table.split("<td>control</td>")[1].split("<td>candidate</td>")
    assert "<td>0.778</td>" in control  # field accuracy, 7 of 9
    assert "<td>0.950</td>" in candidate  # mean confidence


def test_comparison_keeps_the_variants_order(experiment):
    [entry] = experiment_comparison(since=timezone.now() - timedelta(days=1))

    assert [row["variant"] for row in entry["variants"]] == ["control", "candidate"]

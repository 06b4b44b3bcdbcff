"""The variants of each experiment side by side, on the dashboard and the experiment's page, each
compared with the control."""

import math
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.services import ControlReason, experiment_comparison, variant_results
from ocr.models import Feedback, OcrRequest, RequestStatus
from prompts.models import (
    DocumentType,
    Experiment,
    ExperimentStatus,
    ExperimentVariant,
    PromptTemplate,
)
from tests.analytics.logged import logged

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
    return logged(
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
    logged(
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


def give_feedback(experiment: Experiment, variant: str, *, fields: int, corrected: int) -> None:
    """Feedback on documents of 10 fields each served by ``variant``: ``fields`` fields in all,
    ``corrected`` of them corrected, spread over the documents."""
    documents = fields // 10
    for index in range(documents):
        wrong = corrected // documents + (index < corrected % documents)
        Feedback.objects.create(
            request=served(experiment, variant, confidence=0.9),
            corrected_fields=[f"field{n}" for n in range(wrong)],
            field_count=10,
        )


def test_the_variant_named_control_is_the_control(experiment):
    rows = rows_of(experiment)

    assert rows["control"]["is_control"] is True
    assert rows["control"]["control_reason"] == ControlReason.NAMED
    assert rows["candidate"]["is_control"] is False


def test_without_a_named_control_the_default_templates_variant_is_the_control():
    default = PromptTemplate.objects.defaults().for_type("idCard").get()
    experiment = Experiment.objects.create(document_type=default.document_type, name="unnamed")
    ExperimentVariant.objects.create(
        experiment=experiment, name="shorter", template=default.new_version(version="1.1.0")
    )
    ExperimentVariant.objects.create(experiment=experiment, name="current", template=default)

    rows = rows_of(experiment)

    assert rows["current"]["is_control"] is True
    assert rows["current"]["control_reason"] == ControlReason.DEFAULT_TEMPLATE


def test_without_a_named_control_or_the_default_the_first_variant_is_the_control():
    default = PromptTemplate.objects.defaults().for_type("idCard").get()
    experiment = Experiment.objects.create(document_type=default.document_type, name="two new")
    for name, version in [("terse", "1.1.0"), ("verbose", "1.2.0")]:
        ExperimentVariant.objects.create(
            experiment=experiment, name=name, template=default.new_version(version=version)
        )

    rows = rows_of(experiment)

    assert rows["terse"]["control_reason"] == ControlReason.FIRST_VARIANT
    assert rows["verbose"]["is_control"] is False


def test_little_feedback_says_not_enough_yet(experiment):
    candidate = rows_of(experiment)["candidate"]  # 9 fields of feedback on each side

    assert candidate["verdict"] == "not enough feedback yet"
    assert candidate["difference_text"] == ""


def test_significantly_more_accurate_variant_is_better(experiment):
    give_feedback(experiment, "control", fields=1000, corrected=150)
    give_feedback(experiment, "candidate", fields=1000, corrected=115)

    candidate = rows_of(experiment)["candidate"]

    # 857 of 1009 fields right against 894 of 1009 (the fixture adds 9 fields a side).
    control_rate, candidate_rate = 857 / 1009, 894 / 1009
    pooled = (857 + 894) / 2018
    z = (candidate_rate - control_rate) / math.sqrt(pooled * (1 - pooled) * 2 / 1009)
    assert math.erfc(z / math.sqrt(2)) == pytest.approx(0.0151, abs=5e-5)
    assert candidate["verdict"] == "better (p=0.0151)"


def test_difference_is_shown_in_points_with_its_interval(experiment):
    give_feedback(experiment, "control", fields=1000, corrected=150)
    give_feedback(experiment, "candidate", fields=1000, corrected=115)

    candidate = rows_of(experiment)["candidate"]

    control_rate, candidate_rate = 857 / 1009, 894 / 1009
    margin = 1.959964 * math.sqrt(
        (control_rate * (1 - control_rate) + candidate_rate * (1 - candidate_rate)) / 1009
    )
    difference = candidate_rate - control_rate
    assert [round(x * 100, 1) for x in (difference, difference - margin, difference + margin)] == [
        3.7,
        0.7,
        6.6,
    ]
    assert candidate["difference_text"] == "+3.7 pts [+0.7, +6.6]"


def test_no_significant_difference_says_how_much_more_feedback_is_needed():
    experiment = new_experiment()
    experiment.start()
    give_feedback(experiment, "control", fields=100, corrected=15)
    give_feedback(experiment, "candidate", fields=100, corrected=12)

    candidate = rows_of(experiment)["candidate"]

    # 85% against 88%: z = 0.621, p = 0.535; 80% power needs 2036 fields a side (Fleiss),
    # 3872 more in all, about 3,900.
    assert candidate["verdict"] == (
        "no significant difference yet (p=0.535) — about 3,900 more feedback fields needed"
    )


def test_change_page_shows_the_verdict_and_the_control(admin_client, experiment):
    give_feedback(experiment, "control", fields=1000, corrected=150)
    give_feedback(experiment, "candidate", fields=1000, corrected=115)

    content = admin_client.get(
        reverse("admin:prompts_experiment_change", args=[experiment.pk])
    ).content.decode()

    results = content.split('id="experiment-results"')[1]
    control, candidate = results.split("<td>control</td>")[1].split("<td>candidate</td>")
    assert "<td>control: named “control”</td>" in control
    assert "+3.7 pts [+0.7, +6.6]</td><td>better (p=0.0151)</td>" in candidate


def test_dashboard_shows_the_verdict_of_each_variant(admin_client, experiment):
    give_feedback(experiment, "control", fields=1000, corrected=150)
    give_feedback(experiment, "candidate", fields=1000, corrected=115)

    content = admin_client.get("/dashboard/").content.decode()

    table = content.split('id="qv-experiments"')[1].split("</table>")[0]
    candidate = table.split("<td>candidate</td>")[1]
    assert "+3.7 pts [+0.7, +6.6]</td><td>better (p=0.0151)</td>" in candidate

"""A/B experiments between template versions: assignment, starting, stopping and promoting."""

from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import RestrictedError

from prompts.configuration import get_configuration
from prompts.models import (
    DocumentType,
    Experiment,
    ExperimentStatus,
    ExperimentVariant,
    PromptTemplate,
    TemplateStatus,
)
from prompts.releases import promote

pytestmark = pytest.mark.django_db

LINES = ["姓名 张三", "公民身份号码 11010519491231002X"]


@pytest.fixture
def control() -> PromptTemplate:
    return PromptTemplate.objects.defaults().for_type("idCard").get()


@pytest.fixture
def candidate(control) -> PromptTemplate:
    return control.new_version(version="1.1.0")


def experiment_of(
    *variants: tuple[str, PromptTemplate, int], key: str = "idCard", name: str = "shorter prompt"
) -> Experiment:
    experiment = Experiment.objects.create(
        document_type=DocumentType.objects.get(key=key), name=name
    )
    for variant_name, template, weight in variants:
        ExperimentVariant.objects.create(
            experiment=experiment, name=variant_name, template=template, weight=weight
        )
    return experiment


@pytest.fixture
def experiment(control, candidate) -> Experiment:
    return experiment_of(("control", control, 1), ("candidate", candidate, 1))


def start_messages(experiment: Experiment) -> list[str]:
    with pytest.raises(ValidationError) as raised:
        experiment.start()
    return raised.value.messages


def test_same_unit_always_gets_the_same_variant(experiment):
    unit = Experiment.assignment_unit(key_id="qv_app", lines=LINES)
    fresh = Experiment.objects.get(pk=experiment.pk)

    chosen = {experiment.choose_variant(unit=unit).name for _ in range(20)}

    assert chosen == {fresh.choose_variant(unit=unit).name}


def test_assignment_follows_the_weights_over_many_units(control, candidate):
    experiment = experiment_of(("control", control, 3), ("candidate", candidate, 1))
    units = [Experiment.assignment_unit(key_id="qv_app", lines=[f"姓名 {n}"]) for n in range(4000)]

    counts = Counter(experiment.choose_variant(unit=unit).name for unit in units)

    assert counts["control"] / 4000 == pytest.approx(0.75, abs=0.04)
    assert counts["candidate"] / 4000 == pytest.approx(0.25, abs=0.04)


def test_assignment_unit_depends_on_the_key_and_the_text():
    unit = Experiment.assignment_unit(key_id="qv_a", lines=LINES)

    assert unit == Experiment.assignment_unit(key_id="qv_a", lines=list(LINES))
    assert unit != Experiment.assignment_unit(key_id="qv_b", lines=LINES)
    assert unit != Experiment.assignment_unit(key_id="qv_a", lines=LINES[:1])


def test_assignment_unit_does_not_hold_the_text():
    unit = Experiment.assignment_unit(key_id="qv_a", lines=LINES)

    assert "张三" not in unit


def test_start_runs_the_experiment(experiment):
    experiment.start()

    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.RUNNING
    assert experiment.started_at is not None


def test_start_needs_two_variants(control):
    experiment = experiment_of(("control", control, 1))

    assert start_messages(experiment) == ["An experiment needs at least two variants."]


def test_start_needs_positive_weights(control, candidate):
    experiment = experiment_of(("control", control, 1), ("candidate", candidate, 0))

    assert start_messages(experiment) == ["Variant 'candidate' needs a weight of at least 1."]


def test_start_refuses_a_template_of_another_type(control):
    card = PromptTemplate.objects.defaults().for_type("bankCard").get()
    experiment = experiment_of(("control", control, 1), ("card", card, 1))

    assert start_messages(experiment) == [
        "Variant 'card' uses a template of another document type."
    ]


def test_start_refuses_an_archived_template(control, candidate):
    candidate.archive()
    experiment = experiment_of(("control", control, 1), ("candidate", candidate, 1))

    assert start_messages(experiment) == ["Variant 'candidate' uses an archived template."]


def test_start_refuses_while_another_experiment_runs_for_the_type(experiment, control, candidate):
    experiment.start()
    second = experiment_of(("a", control, 1), ("b", candidate, 1), name="second")

    assert start_messages(second) == [
        "Experiment 'shorter prompt' is already running for this document type."
    ]


def test_a_stopped_experiment_does_not_start_again(experiment):
    experiment.start()
    experiment.stop()

    assert start_messages(experiment) == ["Only a draft experiment can start; this one is stopped."]


def test_failed_start_leaves_a_draft(control):
    experiment = experiment_of(("control", control, 1))
    start_messages(experiment)

    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.DRAFT
    assert experiment.started_at is None


def test_database_allows_one_running_experiment_per_type(experiment, control, candidate):
    experiment.start()
    second = experiment_of(("a", control, 1), ("b", candidate, 1), name="second")

    with pytest.raises(IntegrityError):
        Experiment.objects.filter(pk=second.pk).update(status=ExperimentStatus.RUNNING)


def test_experiments_of_different_types_run_together(experiment):
    card = PromptTemplate.objects.defaults().for_type("bankCard").get()
    cards = experiment_of(
        ("control", card, 1), ("candidate", card.new_version(version="1.1.0"), 1), key="bankCard"
    )
    experiment.start()

    cards.start()

    assert Experiment.objects.running().count() == 2


def test_stop_ends_a_running_experiment(experiment):
    experiment.start()

    assert experiment.stop() is True

    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.STOPPED
    assert experiment.outcome == "Stopped; no variant was promoted."


def test_promote_refuses_a_stopped_experiment(experiment, control):
    experiment.start()
    experiment.stop()

    with pytest.raises(ValidationError, match="Only a running experiment"):
        promote(experiment, experiment.variants.get(name="candidate"))

    assert PromptTemplate.objects.defaults().for_type("idCard").get() == control
    assert experiment.stopped_at is not None


def test_stop_leaves_a_draft_alone(experiment):
    assert experiment.stop() is False
    assert experiment.status == ExperimentStatus.DRAFT


def test_promote_makes_the_variants_template_the_default(experiment, candidate):
    experiment.start()

    promote(experiment, experiment.variants.get(name="candidate"))

    assert PromptTemplate.objects.defaults().for_type("idCard").get() == candidate
    candidate.refresh_from_db()
    assert candidate.status == TemplateStatus.ACTIVE


def test_promote_stops_the_experiment(experiment):
    experiment.start()

    promote(experiment, experiment.variants.get(name="candidate"))

    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.STOPPED
    assert experiment.outcome == "Promoted candidate (idCard@1.1.0)."


def test_promote_refuses_a_variant_of_another_experiment(experiment, control, candidate):
    experiment.start()
    other = experiment_of(("a", control, 1), ("b", candidate, 1), name="other")

    with pytest.raises(ValidationError):
        promote(experiment, other.variants.get(name="b"))

    assert PromptTemplate.objects.defaults().for_type("idCard").get() == control


def test_promote_refuses_a_draft(experiment, control):
    with pytest.raises(ValidationError):
        promote(experiment, experiment.variants.get(name="candidate"))

    assert PromptTemplate.objects.defaults().for_type("idCard").get() == control


def test_variant_template_must_be_of_the_experiments_type(experiment):
    card = PromptTemplate.objects.defaults().for_type("bankCard").get()
    variant = ExperimentVariant(experiment=experiment, name="card", template=card, weight=1)

    with pytest.raises(ValidationError) as raised:
        variant.full_clean()

    assert "template" in raised.value.message_dict


def test_template_of_a_running_experiment_cannot_be_archived(experiment, candidate):
    experiment.start()

    assert candidate.archive() is False

    candidate.refresh_from_db()
    assert candidate.status == TemplateStatus.DRAFT


def test_running_snapshot_holds_a_started_experiment(experiment):
    assert dict(get_configuration().experiments) == {}

    experiment.start()

    assert get_configuration().experiments["idCard"].pk == experiment.pk


def test_running_snapshot_drops_a_stopped_experiment(experiment):
    experiment.start()
    get_configuration()

    experiment.stop()

    assert dict(get_configuration().experiments) == {}


def test_running_snapshot_follows_a_renamed_template(experiment, candidate):
    experiment.start()
    get_configuration()
    candidate.name = "Renamed"

    candidate.save()

    variants = get_configuration().experiments["idCard"].variants.all()
    assert {v.template.name for v in variants if v.name == "candidate"} == {"Renamed"}


def test_a_running_experiments_template_cannot_be_edited(experiment, candidate):
    experiment.start()
    candidate.system_prompt = "Edited."

    with pytest.raises(ValidationError, match="has served requests and cannot change"):
        candidate.save()


def test_template_an_experiment_used_cannot_be_deleted(experiment, candidate):
    with pytest.raises(RestrictedError):
        candidate.delete()


def test_deleting_a_document_type_takes_its_experiments_along(experiment):
    DocumentType.objects.get(key="idCard").delete()

    assert not Experiment.objects.exists()

"""A/B experiments through the signed API: the template that serves, the answer, the log."""

import json

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command

from ocr import pipeline
from ocr.exceptions import UpstreamError
from ocr.models import OcrRequest
from prompts.configuration import get_configuration
from prompts.models import DocumentType, Experiment, ExperimentVariant, PromptTemplate
from tests.documents import ID_CARD, ID_FIELDS
from tests.signing import SignedClient

pytestmark = pytest.mark.django_db

ANALYZE = "/api/v1/ocr/analyze"
BATCH = "/api/v1/ocr/batch-analyze"
CANDIDATE_MARKER = "Candidate prompt under test."


def card_numbered(number: int) -> dict:
    """The ID card with its address changed: another text, so another assignment unit."""
    lines = list(ID_CARD["rawTexts"])
    lines[3] = f"住址 北京市朝阳区建国路{number}号"
    return {**ID_CARD, "rawTexts": lines}


@pytest.fixture
def control() -> PromptTemplate:
    return PromptTemplate.objects.defaults().for_type("idCard").get()


@pytest.fixture
def candidate(control) -> PromptTemplate:
    template = control.new_version(version="1.1.0")
    template.system_prompt = f"{CANDIDATE_MARKER}\n{template.system_prompt}"
    template.save()
    return template


@pytest.fixture
def experiment(control, candidate) -> Experiment:
    experiment = Experiment.objects.create(
        document_type=DocumentType.objects.get(key="idCard"), name="shorter prompt"
    )
    ExperimentVariant.objects.create(experiment=experiment, name="control", template=control)
    ExperimentVariant.objects.create(experiment=experiment, name="candidate", template=candidate)
    experiment.start()
    return experiment


def expected_variant(experiment: Experiment, api_key, body: dict) -> ExperimentVariant:
    key, _ = api_key
    unit = Experiment.assignment_unit(key_id=key.key_id, lines=body["rawTexts"])
    return Experiment.objects.get(pk=experiment.pk).choose_variant(unit=unit)


def analyze(client: SignedClient, body: dict) -> dict:
    response = client.post_json(ANALYZE, body)
    assert response.status_code == 200, response.content
    return response.json()


def test_answer_names_the_experiment_and_its_variant(experiment, api_key, signed_client):
    variant = expected_variant(experiment, api_key, ID_CARD)

    body = analyze(signed_client, ID_CARD)

    assert body["experiment"] == {
        "id": experiment.pk,
        "name": "shorter prompt",
        "variant": variant.name,
    }


def test_answer_names_the_variants_template(experiment, api_key, signed_client):
    variant = expected_variant(experiment, api_key, ID_CARD)

    body = analyze(signed_client, ID_CARD)

    assert body["template"] == {
        "id": variant.template.pk,
        "name": variant.template.name,
        "version": variant.template.version,
    }


def test_requests_reach_both_variants_each_with_its_template(
    experiment, control, candidate, signed_client
):
    templates = {"control": control.pk, "candidate": candidate.pk}

    answers = [analyze(signed_client, card_numbered(n)) for n in range(30)]

    assert {a["experiment"]["variant"] for a in answers} == {"control", "candidate"}
    assert all(a["template"]["id"] == templates[a["experiment"]["variant"]] for a in answers)


def test_log_row_records_the_experiment_and_variant(experiment, api_key, signed_client):
    variant = expected_variant(experiment, api_key, ID_CARD)

    request_id = analyze(signed_client, ID_CARD)["requestId"]

    logged = OcrRequest.objects.get(request_id=request_id)
    assert logged.experiment_id == experiment.pk
    assert logged.experiment_variant == variant.name
    assert logged.template_id == variant.template.pk


def test_repeated_request_gets_the_same_variant_from_the_cache(experiment, signed_client):
    first = analyze(signed_client, ID_CARD)

    second = analyze(signed_client, ID_CARD)

    assert second["cached"] is True
    assert second["experiment"] == first["experiment"]
    assert second["template"] == first["template"]


def test_without_an_experiment_the_answer_has_none(control, signed_client):
    body = analyze(signed_client, ID_CARD)

    assert body["experiment"] is None
    assert body["template"]["id"] == control.pk
    assert OcrRequest.objects.get(request_id=body["requestId"]).experiment is None


def test_other_types_are_not_in_the_experiment(experiment, signed_client):
    card = {"documentType": "bankCard", "rawTexts": ["中国银行", "6216 6132 8071 0374 854"]}

    assert analyze(signed_client, card)["experiment"] is None


def test_stopped_experiment_serves_no_more(experiment, control, signed_client):
    experiment.stop()

    body = analyze(signed_client, ID_CARD)

    assert body["experiment"] is None
    assert body["template"]["id"] == control.pk


def test_cached_answer_of_a_stopped_experiment_drops_it(experiment, control, signed_client):
    # Both the control variant and the default serve with the same template, so they share a
    # cache entry: the answer must still say whether an experiment chose it.
    answers = [analyze(signed_client, card_numbered(n)) for n in range(30)]
    served_by_control = next(a for a in answers if a["experiment"]["variant"] == "control")
    experiment.stop()
    number = answers.index(served_by_control)

    body = analyze(signed_client, card_numbered(number))

    assert body["cached"] is True
    assert body["experiment"] is None


def test_batch_items_carry_their_own_variant(experiment, control, candidate, signed_client):
    templates = {"control": control.pk, "candidate": candidate.pk}
    items = [card_numbered(n) for n in range(12)]

    results = signed_client.post_json(BATCH, {"items": items}).json()["results"]

    assert all(r["template"]["id"] == templates[r["experiment"]["variant"]] for r in results)
    singles = [analyze(signed_client, item)["experiment"] for item in items]
    assert [r["experiment"] for r in results] == singles


def test_model_gets_the_candidates_prompt(experiment, api_key, signed_client, fake_openai):
    body = next(
        card_numbered(n)
        for n in range(100)
        if expected_variant(experiment, api_key, card_numbered(n)).name == "candidate"
    )
    fake_openai.add_cases([{**body, "id": "candidate", "expected": ID_FIELDS}])

    answer = analyze(signed_client, body)

    assert answer["experiment"]["variant"] == "candidate"
    assert answer["provider"] == "openai"
    assert CANDIDATE_MARKER in fake_openai.requests[-1].messages[0]["content"]


def test_model_gets_the_controls_prompt(experiment, api_key, signed_client, fake_openai):
    body = next(
        card_numbered(n)
        for n in range(100)
        if expected_variant(experiment, api_key, card_numbered(n)).name == "control"
    )

    answer = analyze(signed_client, body)

    assert answer["experiment"]["variant"] == "control"
    assert CANDIDATE_MARKER not in fake_openai.requests[-1].messages[0]["content"]


def cards_of_variant(experiment, api_key, name: str, count: int) -> list[dict]:
    """The first ``count`` numbered cards that ``api_key`` sends to variant ``name``."""
    cards = (card_numbered(n) for n in range(1000))
    chosen = (c for c in cards if expected_variant(experiment, api_key, c).name == name)
    return [next(chosen) for _ in range(count)]


def test_batch_merges_the_items_of_one_variant(experiment, api_key, signed_client, fake_openai):
    # Three of each, well under OPENAI_BATCH_MAX_ITEMS, so each variant fits one merged call.
    items = [
        *cards_of_variant(experiment, api_key, "control", 3),
        *cards_of_variant(experiment, api_key, "candidate", 3),
    ]

    results = signed_client.post_json(BATCH, {"items": items}).json()["results"]

    assert [r["experiment"]["variant"] for r in results] == ["control"] * 3 + ["candidate"] * 3
    with_marker = [CANDIDATE_MARKER in r.messages[0]["content"] for r in fake_openai.requests]
    assert sorted(with_marker) == [False, True]


@pytest.fixture
def cases_file(tmp_path):
    path = tmp_path / "cases.jsonl"
    case = {"id": "id-1", **ID_CARD, "expected": ID_FIELDS}
    path.write_text(json.dumps(case, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def system_prompts_sent(fake_openai) -> list[str]:
    return [r.messages[0]["content"] for r in fake_openai.requests]


def test_evaluate_with_a_template_bypasses_the_experiment(
    experiment, control, cases_file, fake_openai
):
    fake_openai.add_cases([{"id": "id-1", **ID_CARD, "expected": ID_FIELDS}])
    evaluated = control.new_version(version="2.0.0")
    evaluated.system_prompt = f"Evaluated version.\n{evaluated.system_prompt}"
    evaluated.save()

    call_command("evaluate", str(cases_file), "--template", str(evaluated.pk))

    sent = system_prompts_sent(fake_openai)
    assert sent and all(p.startswith("Evaluated version.") for p in sent)
    assert not OcrRequest.objects.exists()  # evaluations stay out of the live log


def test_evaluate_without_a_template_measures_what_serves(experiment, cases_file, fake_openai):
    fake_openai.add_cases([{"id": "id-1", **ID_CARD, "expected": ID_FIELDS}])
    # An evaluation has no API key: its unit is the text alone.
    unit = Experiment.assignment_unit(key_id="", lines=ID_CARD["rawTexts"])
    chosen = Experiment.objects.get(pk=experiment.pk).choose_variant(unit=unit)

    call_command("evaluate", str(cases_file))

    sent = system_prompts_sent(fake_openai)
    assert sent and all((CANDIDATE_MARKER in p) == (chosen.name == "candidate") for p in sent)
    assert not OcrRequest.objects.exists()


def test_a_failed_analysis_is_logged_with_its_variant(experiment, api_key, control):
    key, _ = api_key
    job = pipeline.Job(
        item=pipeline.AnalyzeInput(raw_texts=tuple(ID_CARD["rawTexts"]), document_type="idCard"),
        type_config=get_configuration().document_type("idCard"),
        template=control,
        experiment={"id": experiment.pk, "name": experiment.name, "variant": "candidate"},
        cache_key="unused",
        started=0.0,
        outcome=UpstreamError("The model failed."),
    )

    async_to_sync(pipeline.settle)(api_key=key, job=job)

    row = OcrRequest.objects.get()
    assert (row.status, row.experiment_id, row.experiment_variant) == (
        "error",
        experiment.pk,
        "candidate",
    )

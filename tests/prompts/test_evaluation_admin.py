"""Staff keep test sets, start evaluation runs, watch them and compare them in the admin."""

import json

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ocr.casegen import SAMPLE_SET
from ocr.evaluation import load_cases
from ocr.models import Feedback, OcrRequest
from prompts.models import EvaluationRun, PromptTemplate, TestSet

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(fake_openai) -> list[dict]:
    chosen = [c for c in load_cases(SAMPLE_SET) if c["documentType"] == "bankCard"][:3]
    fake_openai.add_cases(chosen)
    return chosen


@pytest.fixture
def test_set(cases) -> TestSet:
    test_set = TestSet.objects.create(name="cards")
    test_set.import_jsonl(
        "".join(json.dumps(c) + "\n" for c in cases), known_types={"bankCard", "idCard"}
    )
    return test_set


@pytest.fixture
def default() -> PromptTemplate:
    return PromptTemplate.objects.defaults().for_type("bankCard").get()


def test_a_run_started_in_the_admin_is_stored_with_its_results(
    admin_client, admin_user, test_set, default, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:prompts_evaluationrun_start"),
            {"template": default.pk, "test_set": test_set.pk},
        )

    run = EvaluationRun.objects.get()
    assert response.url == reverse("admin:prompts_evaluationrun_change", args=[run.pk])
    assert (run.status, run.done_cases, run.field_accuracy) == ("finished", 3, 1.0)
    assert run.started_by == admin_user
    assert not OcrRequest.objects.exists()
    page = admin_client.get(response.url).content.decode()
    assert "Finished: 3 of 3 case(s) done" in page


def test_a_run_under_way_reloads_its_page_to_show_progress(admin_client, test_set, default):
    run = EvaluationRun.objects.create(template=default, test_set=test_set, total_cases=3)

    page = admin_client.get(
        reverse("admin:prompts_evaluationrun_change", args=[run.pk])
    ).content.decode()

    assert 'http-equiv="refresh"' in page
    assert "Queued: 0 of 3 case(s) done" in page


def test_a_test_set_without_a_case_of_the_type_is_refused(admin_client, test_set):
    id_card = PromptTemplate.objects.defaults().for_type("idCard").get()

    response = admin_client.post(
        reverse("admin:prompts_evaluationrun_start"),
        {"template": id_card.pk, "test_set": test_set.pk},
    )

    assert "has no case of type idCard" in response.content.decode()
    assert not EvaluationRun.objects.exists()


def test_a_test_set_is_imported_and_exported_as_json_lines(admin_client, cases):
    test_set = TestSet.objects.create(name="upload")
    body = "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases)

    admin_client.post(
        reverse("admin:prompts_testset_import", args=[test_set.pk]),
        {"file": SimpleUploadedFile("cases.jsonl", body.encode())},
    )
    exported = admin_client.get(reverse("admin:prompts_testset_export", args=[test_set.pk]))

    assert test_set.cases.count() == 3
    assert [json.loads(line) for line in exported.content.decode().splitlines()] == cases


def test_a_bad_upload_is_reported_per_line_and_keeps_the_cases(admin_client, test_set):
    response = admin_client.post(
        reverse("admin:prompts_testset_import", args=[test_set.pk]),
        {"file": SimpleUploadedFile("bad.jsonl", b'{"id": 1}\n')},
        follow=True,
    )

    assert "Line 1: missing documentType, rawTexts." in response.content.decode()
    assert test_set.cases.count() == 3


def test_comparing_two_runs_highlights_a_regression(admin_client, test_set, default):
    def run(correct: bool, accuracy: float) -> EvaluationRun:
        return EvaluationRun.objects.create(
            template=default,
            test_set=test_set,
            status="finished",
            by_field={"bankCard": {"byField": {"cardNumber": accuracy}}},
            case_results=[
                {"id": "c1", "correct": correct, "wrongFields": [] if correct else ["cardNumber"]}
            ],
        )

    before, after = run(True, 1.0), run(False, 0.5)

    page = admin_client.get(
        reverse("admin:prompts_evaluationrun_compare", args=[before.pk, after.pk])
    ).content.decode()

    assert '<tr class="regression"><td>bankCard</td><td>cardNumber</td>' in page
    assert "(regression)" in page


def test_cases_come_from_logged_requests_with_feedback_and_kept_raw_text(
    admin_client, test_set, settings
):
    # The kept text is stored encrypted, under a key of its own.
    settings.RAW_TEXT_ENCRYPTION_KEY = [Fernet.generate_key().decode()]
    kept = OcrRequest.objects.create(
        document_type="bankCard",
        status="success",
        fields={"cardNumber": "622***********854", "bankName": "ICBC", "cardType": "debit"},
        raw_text="line one\nline two",
    )
    Feedback.objects.create(
        request=kept, corrections={"bankName": "Bank of China"}, corrected_fields=["bankName"]
    )
    not_kept = OcrRequest.objects.create(document_type="bankCard", status="success", raw_text="")
    Feedback.objects.create(request=not_kept, corrections={}, corrected_fields=[])
    OcrRequest.objects.create(document_type="bankCard", status="success", raw_text="no feedback")

    admin_client.post(
        reverse("admin:prompts_testset_from_feedback", args=[test_set.pk]),
        {"document_type": "bankCard", "limit": "10"},
    )

    case = test_set.cases.get(case_id=str(kept.request_id))
    assert case.raw_texts == ["line one", "line two"]
    assert case.expected == {"bankName": "Bank of China", "cardType": "debit"}
    assert test_set.cases.count() == 4


def test_a_case_edited_in_the_admin_needs_a_known_type(test_set):
    case = test_set.cases.first()
    case.document_type = "nope"

    with pytest.raises(ValidationError, match="unknown document type"):
        case.full_clean()

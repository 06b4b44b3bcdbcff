"""The release path on the command line, end to end against the local OpenAI-compatible server:
a test set gates a type, versions are evaluated on it, and activation goes through the gate."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from prometheus_client import REGISTRY

from ocr.casegen import SAMPLE_SET
from ocr.evaluation import load_cases
from ocr.models import OcrRequest
from prompts.models import EvaluationRun, PromptTemplate, Release, TemplateStatus
from tests.fakes.openai_server import malformed

pytestmark = pytest.mark.django_db


@pytest.fixture
def gate_file(tmp_path, fake_openai) -> Path:
    cases = [c for c in load_cases(SAMPLE_SET) if c["documentType"] == "bankCard"][:4]
    fake_openai.configure(known_models={"gpt-4o-mini"})
    fake_openai.add_cases(cases)
    path = tmp_path / "gate.jsonl"
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases))
    return path


@pytest.fixture
def gated(gate_file) -> PromptTemplate:
    """bankCard gated by the set, its default evaluated on it; returns the default."""
    quiet = {"stdout": io.StringIO(), "stderr": io.StringIO()}
    call_command("testsets", "import", "gate", str(gate_file), "--gate-for", "bankCard", **quiet)
    default = PromptTemplate.objects.defaults().for_type("bankCard").get()
    evaluate(default.label)
    return default


def evaluate(label: str, report: Path | None = None) -> str:
    out = io.StringIO()
    extra = ["--json", str(report)] if report else []
    call_command(
        "evaluate",
        "--template",
        label,
        "--testset",
        "gate",
        "--save",
        *extra,
        stdout=out,
        stderr=io.StringIO(),
    )
    return out.getvalue()


def broken_version(default: PromptTemplate) -> PromptTemplate:
    draft = default.new_version(version="1.0.1")
    draft.user_prompt = "Answer in prose."
    draft.save()
    return draft


def evaluate_failing(fake_openai, label: str, report: Path | None = None) -> None:
    """Evaluate with every model call answered by text that is not JSON (no usable answer)."""
    fake_openai.script(*[malformed()] * EVERY_CALL)
    evaluate(label, report)
    fake_openai.reset()


# More than the calls of four cases with every retry.
EVERY_CALL = 40


def test_evaluate_on_a_test_set_stores_the_run_and_writes_the_report(gated, tmp_path):
    report = tmp_path / "report.json"

    evaluate(gated.label, report)

    data = json.loads(report.read_text())
    assert data["fieldAccuracy"] == 1.0
    assert data["modelFailures"] == 0
    assert {"documentAccuracy", "byDocumentType", "cases"} <= set(data)
    run = EvaluationRun.objects.get(pk=data["run"])
    assert (run.status, run.done_cases, run.total_cases) == ("finished", 4, 4)
    assert run.prompt_tokens > 0


def test_a_version_whose_model_fails_on_every_case_is_refused_and_stays_a_draft(
    gated, fake_openai, tmp_path
):
    broken = broken_version(gated)
    report = tmp_path / "broken.json"
    evaluate_failing(fake_openai, broken.label, report)
    measured = json.loads(report.read_text())
    assert measured["modelFailures"] == 4
    assert measured["fieldAccuracy"] < 1.0  # only the fields expected empty are right

    with pytest.raises(CommandError) as refused:
        call_command("activate_template", broken.label, stdout=io.StringIO())

    message = str(refused.value)
    assert f"bankCard@1.0.1: field accuracy {measured['fieldAccuracy']:.4f}" in message
    assert f"the default {gated.label}: field accuracy 1.0000" in message
    broken.refresh_from_db()
    assert broken.status == TemplateStatus.DRAFT
    assert PromptTemplate.objects.defaults().for_type("bankCard").get() == gated


def test_an_override_reason_releases_a_refused_version_and_is_kept(gated, fake_openai):
    broken = broken_version(gated)
    evaluate_failing(fake_openai, broken.label)

    call_command(
        "activate_template",
        broken.label,
        "--override-reason",
        "Hotfix agreed",
        stdout=io.StringIO(),
    )

    assert PromptTemplate.objects.defaults().for_type("bankCard").get() == broken
    release = Release.objects.get(to_template=broken)
    assert release.override_reason == "Hotfix agreed"
    assert release.from_version == gated.version
    assert release.candidate_figures["fieldAccuracy"] < 1.0


def test_evaluations_add_no_row_to_the_live_request_log(gated, fake_openai):
    evaluate_failing(fake_openai, broken_version(gated).label)

    assert not OcrRequest.objects.exists()


def test_a_version_without_a_run_on_the_gate_set_is_refused(gated):
    draft = gated.new_version(version="1.0.2")

    with pytest.raises(CommandError, match="no finished evaluation run"):
        call_command("activate_template", draft.label, stdout=io.StringIO())


def test_a_version_as_good_as_the_default_is_released(gated):
    draft = gated.new_version(version="1.0.2")
    evaluate(draft.label)

    call_command("activate_template", draft.label, stdout=io.StringIO())

    assert PromptTemplate.objects.defaults().for_type("bankCard").get() == draft


def test_without_a_model_the_gate_says_it_cannot_measure_and_is_skipped(gated, settings):
    settings.QV_PROVIDER = "rules"
    draft = gated.new_version(version="1.0.2")
    out = io.StringIO()

    call_command("activate_template", draft.label, stdout=out)

    assert "cannot measure templates" in out.getvalue()
    assert PromptTemplate.objects.defaults().for_type("bankCard").get() == draft


def test_testsets_export_writes_the_imported_cases(gated, gate_file, tmp_path):
    exported = tmp_path / "out.jsonl"

    call_command("testsets", "export", "gate", str(exported), stdout=io.StringIO())

    read = [json.loads(line) for line in exported.read_text().splitlines()]
    assert read == [json.loads(line) for line in gate_file.read_text().splitlines()]


def test_testsets_import_lists_every_bad_line(tmp_path, db):
    path = tmp_path / "bad.jsonl"
    path.write_text('not json\n{"id": "a", "documentType": "nope", "rawTexts": ["x"]}\n')

    with pytest.raises(CommandError) as failed:
        call_command("testsets", "import", "bad", str(path), stdout=io.StringIO())

    assert "Line 1: not JSON" in str(failed.value)
    assert "Line 2: unknown document type 'nope'" in str(failed.value)


def test_the_periodic_task_re_evaluates_each_gated_default(
    gated, django_capture_on_commit_callbacks
):
    from ocr.tasks import evaluate_gated_defaults

    with django_capture_on_commit_callbacks(execute=True):
        assert evaluate_gated_defaults() == 1

    runs = EvaluationRun.objects.filter(template=gated).order_by("id")
    assert [run.status for run in runs] == ["finished", "finished"]


def test_an_evaluation_of_the_default_on_its_gate_set_is_published_as_a_metric(gated):
    run = EvaluationRun.objects.filter(template=gated).latest("pk")

    published = REGISTRY.get_sample_value(
        "ocr_evaluation_field_accuracy", {"document_type": "bankCard"}
    )

    assert run.field_accuracy is not None
    assert published == pytest.approx(run.field_accuracy)

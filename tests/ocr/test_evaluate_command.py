import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from ocr.casegen import SAMPLE_SET
from ocr.evaluation import load_cases
from prompts.models import ModelPrice, PromptTemplate


def write_cases(tmp_path: Path, types: set[str]) -> Path:
    chosen = [c for c in load_cases(SAMPLE_SET) if c["documentType"] in types][:6]
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in chosen))
    return path


@pytest.mark.django_db
def test_evaluate_writes_a_report_with_accuracy_per_type(tmp_path):
    cases = write_cases(tmp_path, {"bankCard", "idCard"})
    report = tmp_path / "report.json"
    out = io.StringIO()

    call_command("evaluate", str(cases), "--json", str(report), stdout=out, stderr=io.StringIO())

    data = json.loads(report.read_text())
    assert set(data) >= {"fieldAccuracy", "documentAccuracy", "byDocumentType", "cases"}
    assert data["fieldAccuracy"] == 1.0
    assert len(data["cases"]) == 6
    assert "field accuracy" in out.getvalue()


@pytest.mark.django_db
def test_evaluate_with_a_template_runs_only_its_type(tmp_path):
    cases = write_cases(tmp_path, {"bankCard", "idCard"})
    template = PromptTemplate.objects.defaults().for_type("bankCard").get()
    draft = template.new_version(version="1.0.9")
    report = tmp_path / "report.json"

    call_command(
        "evaluate",
        str(cases),
        "--template",
        str(draft.pk),
        "--json",
        str(report),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )

    assert set(json.loads(report.read_text())["byDocumentType"]) == {"bankCard"}


@pytest.mark.django_db
def test_evaluate_refuses_an_unknown_template(tmp_path):
    cases = write_cases(tmp_path, {"bankCard"})

    with pytest.raises(CommandError, match="No prompt template"):
        call_command("evaluate", str(cases), "--template", "999999", stdout=io.StringIO())


@pytest.mark.django_db
def test_evaluate_reports_a_file_that_is_not_json_lines(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text("not json\n")

    with pytest.raises(CommandError, match=r"bad\.jsonl:1"):
        call_command("evaluate", str(path), stdout=io.StringIO())


@pytest.mark.django_db
def test_evaluate_reports_provider_model_tokens_and_cost(tmp_path, fake_openai):
    cases = write_cases(tmp_path, {"idCard"})
    fake_openai.add_cases(load_cases(cases))
    ModelPrice.objects.update_or_create(
        model="gpt-4o-mini",
        defaults={"input_per_million": Decimal("1"), "output_per_million": Decimal("2")},
    )
    report = tmp_path / "report.json"
    out = io.StringIO()

    call_command("evaluate", str(cases), "--json", str(report), stdout=out, stderr=io.StringIO())

    data = json.loads(report.read_text())
    assert data["providers"] == {"openai": 6}
    assert data["models"] == {"gpt-4o-mini": 6}
    assert data["tokens"]["prompt"] > 0
    assert data["tokens"]["total"] == data["tokens"]["prompt"] + data["tokens"]["completion"]
    assert data["cost"] > 0
    assert "gpt-4o-mini (6)" in out.getvalue()

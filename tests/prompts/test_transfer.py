import io
import json

import pytest
from django.core.management import CommandError, call_command

from prompts.models import DocumentType, PromptTemplate, TestSet


@pytest.mark.django_db
def test_export_then_import_restores_edited_templates(tmp_path):
    template = PromptTemplate.objects.defaults().for_type("passport").get()
    draft = template.new_version(version="2.0.0")
    draft.system_prompt = "Read the MRZ first."
    draft.save()
    export = tmp_path / "prompts.json"
    call_command("export_prompts", output=str(export))
    draft.delete()

    call_command("import_prompts", input=str(export))

    restored = PromptTemplate.objects.for_type("passport").get(version="2.0.0")
    assert restored.system_prompt == "Read the MRZ first."
    assert restored.is_default is False


@pytest.mark.django_db
def test_import_makes_the_exported_default_the_default(tmp_path):
    data = {
        "format": 1,
        "templates": [
            {
                "documentType": "bankCard",
                "isDefault": True,
                "name": "bankCard",
                "version": "3.0.0",
                "status": "active",
                "system_prompt": "s",
                "user_prompt": "{{ocr_text}}",
            }
        ],
    }
    path = tmp_path / "in.json"
    path.write_text(json.dumps(data))

    call_command("import_prompts", input=str(path))

    assert PromptTemplate.objects.defaults().for_type("bankCard").get().version == "3.0.0"


@pytest.mark.django_db
def test_import_of_a_file_that_is_not_an_export_fails_clearly(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"hello": 1}')

    with pytest.raises(CommandError, match="Not a prompt export"):
        call_command("import_prompts", input=str(path))


def entry(**changes) -> dict:
    return {
        "documentType": "bankCard",
        "name": "bankCard",
        "version": "3.0.0",
        "status": "draft",
        "system_prompt": "s",
        "user_prompt": "{{ocr_text}}",
        **changes,
    }


def run_import(tmp_path, *entries, dry_run: bool = False) -> str:
    path = tmp_path / "in.json"
    path.write_text(json.dumps({"format": 1, "templates": list(entries)}))
    out = io.StringIO()
    call_command("import_prompts", input=str(path), dry_run=dry_run, stdout=out)
    return out.getvalue()


def import_errors(tmp_path, *entries) -> str:
    with pytest.raises(CommandError) as failed:
        run_import(tmp_path, *entries)
    return str(failed.value)


@pytest.mark.django_db
def test_import_never_overwrites_a_version_with_different_content(tmp_path):
    default = PromptTemplate.objects.defaults().for_type("bankCard").get()
    changed = entry(version=default.version, system_prompt="Overwritten?")

    with pytest.raises(CommandError, match="Nothing was imported"):
        run_import(tmp_path, changed)

    default.refresh_from_db()
    assert default.system_prompt != "Overwritten?"


@pytest.mark.django_db
def test_import_of_a_version_with_the_same_content_leaves_it_unchanged(tmp_path):
    run_import(tmp_path, entry())

    out = run_import(tmp_path, entry())

    assert "bankCard@3.0.0" in out and "unchanged" in out
    assert PromptTemplate.objects.for_type("bankCard").filter(version="3.0.0").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (entry(system_prompt=""), "system_prompt is missing or empty"),
        ({k: v for k, v in entry().items() if k != "user_prompt"}, "user_prompt is missing"),
        ({k: v for k, v in entry().items() if k != "version"}, "The version is missing"),
        ("a string", "An entry is a JSON object"),
        (entry(status="live"), "Unknown status 'live'"),
        (entry(documentType="nope"), "Unknown document type 'nope'"),
        (entry(max_tokens="many"), "max_tokens must be a positive whole number"),
    ],
)
def test_a_bad_entry_is_reported_and_nothing_is_imported(tmp_path, bad, message):
    good = entry(version="4.0.0")
    path = tmp_path / "in.json"
    path.write_text(json.dumps({"format": 1, "templates": [good, bad]}))
    out = io.StringIO()

    with pytest.raises(CommandError, match="errors 1"):
        call_command("import_prompts", input=str(path), stdout=out)

    assert message in out.getvalue()
    assert not PromptTemplate.objects.filter(version="4.0.0").exists()


@pytest.mark.django_db
def test_a_dry_run_shows_what_would_change_and_changes_nothing(tmp_path):
    out = run_import(tmp_path, entry(), dry_run=True)

    assert "bankCard@3.0.0" in out and "created" in out and "dry run" in out
    assert not PromptTemplate.objects.filter(version="3.0.0").exists()


@pytest.mark.django_db
def test_is_default_goes_through_the_gate(tmp_path, settings):
    settings.QV_PROVIDER = "openai"
    gate = TestSet.objects.create(name="gate")
    DocumentType.objects.filter(key="bankCard").update(gate_test_set=gate)

    message = import_errors(tmp_path, entry(isDefault=True))

    assert "errors 1" in message
    assert PromptTemplate.objects.defaults().for_type("bankCard").get().version != "3.0.0"


@pytest.mark.django_db
def test_imported_prompts_get_lf_line_endings(tmp_path):
    run_import(tmp_path, entry(system_prompt="one\r\ntwo"))

    assert PromptTemplate.objects.get(version="3.0.0").system_prompt == "one\ntwo"

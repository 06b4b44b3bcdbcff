import json

import pytest
from django.core.management import CommandError, call_command

from prompts.models import PromptTemplate


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

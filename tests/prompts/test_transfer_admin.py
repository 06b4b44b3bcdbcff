"""Staff export and import templates in the admin, previewing an import first."""

import json

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from prompts.models import PromptTemplate

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:prompts_prompttemplate_import")


def upload(entries: list) -> SimpleUploadedFile:
    return SimpleUploadedFile(
        "prompts.json", json.dumps({"format": 1, "templates": entries}).encode()
    )


def new_entry(**changes) -> dict:
    return {
        "documentType": "idCard",
        "version": "5.0.0",
        "system_prompt": "s",
        "user_prompt": "{{ocr_text}}",
        **changes,
    }


def test_the_export_downloads_every_version(admin_client):
    data = json.loads(admin_client.get(reverse("admin:prompts_prompttemplate_export")).content)

    assert data["format"] == 1
    assert len(data["templates"]) == PromptTemplate.objects.count()


def test_a_dry_run_previews_the_import_and_changes_nothing(admin_client):
    page = admin_client.post(
        IMPORT, {"file": upload([new_entry()]), "dry_run": "on"}
    ).content.decode()

    assert "Dry run: this would change" in page
    assert "<td>idCard@5.0.0</td><td>created</td>" in page
    assert not PromptTemplate.objects.filter(version="5.0.0").exists()


def test_the_import_creates_new_versions(admin_client):
    admin_client.post(IMPORT, {"file": upload([new_entry()])})

    assert PromptTemplate.objects.for_type("idCard").get(version="5.0.0").status == "draft"


def test_errors_are_listed_per_entry_and_nothing_is_imported(admin_client):
    page = admin_client.post(
        IMPORT, {"file": upload([new_entry(), new_entry(version="6.0.0", status="gone"), 7])}
    ).content.decode()

    assert "Nothing imported: fix the errors below" in page
    assert "Unknown status &#x27;gone&#x27;" in page
    assert "An entry is a JSON object." in page
    assert not PromptTemplate.objects.filter(version="5.0.0").exists()


def test_a_file_that_is_not_json_is_refused_clearly(admin_client):
    response = admin_client.post(
        IMPORT, {"file": SimpleUploadedFile("x.json", b"not json")}, follow=True
    )

    assert "Cannot import this file: not a JSON export." in response.content.decode()


def test_an_import_by_staff_who_may_not_release_cannot_change_the_default(client):
    engineer = User.objects.create_user("engineer", password="pw", is_staff=True)
    engineer.groups.add(Group.objects.get(name="Prompt engineers"))
    client.force_login(engineer)

    page = client.post(IMPORT, {"file": upload([new_entry(isDefault=True)])}).content.decode()

    assert "You may not release template versions." in page
    assert PromptTemplate.objects.defaults().for_type("idCard").get().version != "5.0.0"
    assert not PromptTemplate.objects.filter(version="5.0.0").exists()

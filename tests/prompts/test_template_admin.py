"""Staff edit drafts, copy versions, compare them, activate and roll back from the admin."""

import pytest
from django.urls import reverse

from prompts.models import DocumentType, PromptTemplate, Release, TemplateStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def default() -> PromptTemplate:
    return PromptTemplate.objects.defaults().for_type("idCard").get()


@pytest.fixture
def draft(default) -> PromptTemplate:
    return default.new_version(version="1.0.1")


def change_url(template: PromptTemplate) -> str:
    return reverse("admin:prompts_prompttemplate_change", args=[template.pk])


def form_data(template: PromptTemplate, **changes) -> dict:
    data = {
        "document_type": str(template.document_type_id),
        "name": template.name,
        "version": template.version,
        "notes": template.notes,
        "system_prompt": template.system_prompt,
        "user_prompt": template.user_prompt,
        "model": template.model,
        "temperature": str(template.temperature),
        "max_tokens": str(template.max_tokens),
        "json_mode": "on" if template.json_mode else "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != "" or k not in {"json_mode"}}


def test_saving_a_draft_keeps_the_prompt_as_typed_with_lf_line_endings(admin_client, draft):
    typed = "  First line.\r\nSecond line.\r\n\r\n{{ocr_text}}\r\n"

    response = admin_client.post(change_url(draft), form_data(draft, user_prompt=typed))

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.user_prompt == "  First line.\nSecond line.\n\n{{ocr_text}}\n"


def test_saving_an_unchanged_draft_changes_no_prompt(admin_client, draft):
    before = (draft.system_prompt, draft.user_prompt)

    admin_client.post(change_url(draft), form_data(draft))

    draft.refresh_from_db()
    assert (draft.system_prompt, draft.user_prompt) == before


def test_the_live_default_is_read_only_in_the_admin(admin_client, default):
    original = default.system_prompt

    admin_client.post(change_url(default), form_data(default, system_prompt="Edited in place."))

    default.refresh_from_db()
    assert default.system_prompt == original
    page = admin_client.get(change_url(default)).content.decode()
    assert 'name="system_prompt"' not in page
    assert "it can no longer change" in page


def test_the_status_cannot_be_changed_on_the_form(admin_client, draft):
    admin_client.post(change_url(draft), form_data(draft, status=TemplateStatus.ARCHIVED))

    draft.refresh_from_db()
    assert draft.status == TemplateStatus.DRAFT
    assert 'name="status"' not in admin_client.get(change_url(draft)).content.decode()


def test_the_live_default_cannot_be_deleted_from_the_admin(admin_client, default):
    response = admin_client.post(
        reverse("admin:prompts_prompttemplate_delete", args=[default.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert PromptTemplate.objects.filter(pk=default.pk).exists()


def test_the_bulk_delete_action_leaves_the_live_default(admin_client, default, draft):
    admin_client.post(
        reverse("admin:prompts_prompttemplate_changelist"),
        {"action": "delete_selected", "_selected_action": [default.pk], "post": "yes"},
    )

    assert PromptTemplate.objects.filter(pk=default.pk).exists()


def test_save_as_new_version_creates_the_next_draft(admin_client, default):
    response = admin_client.post(
        reverse("admin:prompts_prompttemplate_new_version", args=[default.pk])
    )

    created = PromptTemplate.objects.for_type("idCard").get(version="1.0.1")
    assert response.url == change_url(created)
    assert created.status == TemplateStatus.DRAFT
    assert created.system_prompt == default.system_prompt


def test_the_diff_shows_both_versions_side_by_side(admin_client, default, draft):
    draft.system_prompt = "A shorter system prompt."
    draft.save()

    page = admin_client.get(
        reverse("admin:prompts_prompttemplate_diff", args=[draft.pk])
    ).content.decode()

    assert "System prompt (changed)" in page
    assert "User prompt (same)" in page
    assert "Rendered prompt for a sample document" in page
    assert "A&nbsp;shorter&nbsp;system&nbsp;prompt." in page  # HtmlDiff keeps the spaces
    assert f"idCard@{default.version}" in page


def test_the_diff_is_linked_from_the_history(admin_client, draft):
    page = admin_client.get(
        reverse("admin:prompts_prompttemplate_history", args=[draft.pk])
    ).content.decode()

    assert reverse("admin:prompts_prompttemplate_diff", args=[draft.pk]) in page


def test_activation_asks_for_a_confirmation_naming_the_version(admin_client, default, draft):
    page = admin_client.get(
        reverse("admin:prompts_prompttemplate_activate", args=[draft.pk])
    ).content.decode()

    assert "Yes, activate idCard@1.0.1" in page
    assert f"replacing idCard@{default.version}" in page
    assert PromptTemplate.objects.defaults().for_type("idCard").get() == default


def test_activation_records_a_release(admin_client, admin_user, default, draft):
    admin_client.post(reverse("admin:prompts_prompttemplate_activate", args=[draft.pk]))

    assert PromptTemplate.objects.defaults().for_type("idCard").get() == draft
    release = Release.objects.get()
    assert (release.from_version, release.to_version) == (default.version, "1.0.1")
    assert release.released_by == admin_user


def test_roll_back_returns_to_the_previous_version(admin_client, default, draft):
    admin_client.post(reverse("admin:prompts_prompttemplate_activate", args=[draft.pk]))
    id_card = DocumentType.objects.get(key="idCard")
    url = reverse("admin:prompts_documenttype_rollback", args=[id_card.pk])

    assert f"Yes, roll back to {default.version}" in admin_client.get(url).content.decode()
    admin_client.post(url)

    assert PromptTemplate.objects.defaults().for_type("idCard").get() == default
    assert Release.objects.first().kind == "rollback"

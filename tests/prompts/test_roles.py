"""The roles the migrations create: prompt engineers work on drafts, managers read."""

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from prompts.models import PromptTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft() -> PromptTemplate:
    return PromptTemplate.objects.defaults().for_type("idCard").get().new_version(version="1.0.1")


def member(client, group: str):
    user = User.objects.create_user(group.lower().replace(" ", "-"), password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return client


def test_a_prompt_engineer_may_edit_a_draft_start_an_evaluation_but_not_release(client, draft):
    engineer = member(client, "Prompt engineers")
    user = User.objects.get(username="prompt-engineers")

    assert user.has_perms(
        ["prompts.change_prompttemplate", "prompts.add_testset", "prompts.run_evaluation"]
    )
    assert engineer.get(reverse("admin:prompts_evaluationrun_start")).status_code == 200
    activate = reverse("admin:prompts_prompttemplate_activate", args=[draft.pk])
    assert engineer.post(activate).status_code == 403
    assert not PromptTemplate.objects.get(pk=draft.pk).is_default


def test_a_manager_reads_but_changes_nothing(client, draft):
    manager = member(client, "Managers")
    change = reverse("admin:prompts_prompttemplate_change", args=[draft.pk])

    assert manager.get(change).status_code == 200
    response = manager.post(change, {"name": "renamed"})

    assert response.status_code == 403
    assert PromptTemplate.objects.get(pk=draft.pk).name != "renamed"

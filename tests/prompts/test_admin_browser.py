import pytest

from prompts.models import PromptTemplate
from tests.browser import click_through, log_in, open_page


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_staff_activate_a_new_template_version_from_the_admin(live_server, admin_user):
    current = PromptTemplate.objects.defaults().for_type("passport").get()
    draft = current.new_version(version="1.1.0")

    for page in open_page():
        log_in(page, base_url=live_server.url, username="admin", password="password")
        page.goto(
            f"{live_server.url}/admin/prompts/prompttemplate/?document_type__id__exact="
            f"{current.document_type_id}"
        )
        page.check(f"input[name=_selected_action][value='{draft.pk}']")
        page.select_option("select[name=action]", "make_default")
        click_through(page, "button[name=index]")
        click_through(page, "text=Yes, activate passport@1.1.0")
        message = page.inner_text("ul.messagelist")

    assert "The default of passport is now passport@1.1.0." in message
    assert PromptTemplate.objects.defaults().for_type("passport").get() == draft

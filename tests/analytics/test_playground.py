"""The playground runs one document through a version and the default, logging nothing."""

import pytest
from django.urls import reverse

from ocr.casegen import SAMPLE_SET
from ocr.evaluation import load_cases
from ocr.models import OcrRequest
from prompts.models import PromptTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture
def card(fake_openai) -> dict:
    case = next(c for c in load_cases(SAMPLE_SET) if c["documentType"] == "bankCard")
    fake_openai.add_cases([case])
    return case


def test_a_pasted_document_is_read_by_the_version_and_the_default_side_by_side(admin_client, card):
    default = PromptTemplate.objects.defaults().for_type("bankCard").get()
    draft = default.new_version(version="1.0.1")

    page = admin_client.post(
        reverse("admin:prompts_prompttemplate_playground", args=[draft.pk]),
        {"lines": "\r\n".join(card["rawTexts"])},
    ).content.decode()

    number = card["expected"]["cardNumber"]
    assert page.count(f"<td>{number}</td>") == 2  # both sides read it
    assert "The prompt 1.0.1 sends" in page
    assert card["rawTexts"][0] in page
    assert not OcrRequest.objects.exists()


def test_a_playground_run_needs_lines(admin_client):
    default = PromptTemplate.objects.defaults().for_type("bankCard").get()

    page = admin_client.post(
        reverse("admin:prompts_prompttemplate_playground", args=[default.pk]), {"lines": ""}
    ).content.decode()

    assert "Paste OCR lines, or choose a case or a logged request." in page

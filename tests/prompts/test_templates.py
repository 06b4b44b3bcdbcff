import pytest
from django.db import IntegrityError

from prompts.admin import next_version
from prompts.document_types import FieldSpec
from prompts.models import DocumentType, PromptTemplate, TemplateStatus

SHIPPED = {"idCard", "passport", "driverLicense", "bankCard", "businessLicense", "vehicleLicense"}


@pytest.mark.django_db
def test_every_shipped_type_is_seeded_with_its_fields():
    counts = {t.key: t.fields.count() for t in DocumentType.objects.all()}

    assert counts == {
        "idCard": 9,
        "passport": 8,
        "driverLicense": 10,
        "bankCard": 5,
        "businessLicense": 7,
        "vehicleLicense": 10,
    }


@pytest.mark.django_db
def test_every_shipped_type_has_one_active_default_template():
    defaults = PromptTemplate.objects.defaults()

    assert {t.document_type.key for t in defaults} == SHIPPED
    assert {t.status for t in defaults} == {TemplateStatus.ACTIVE}


@pytest.mark.django_db
def test_database_refuses_a_second_default_for_a_type():
    current = PromptTemplate.objects.defaults().for_type("idCard").get()
    second = current.new_version(version="9.0.0")
    second.is_default, second.status = True, TemplateStatus.ACTIVE

    with pytest.raises(IntegrityError):
        second.save()


@pytest.mark.django_db
def test_make_default_moves_the_default_to_the_new_version():
    current = PromptTemplate.objects.defaults().for_type("idCard").get()
    draft = current.new_version(version="1.1.0")

    draft.make_default()

    assert PromptTemplate.objects.defaults().for_type("idCard").get() == draft
    current.refresh_from_db()
    assert current.is_default is False
    assert draft.status == TemplateStatus.ACTIVE


@pytest.mark.django_db
def test_default_template_cannot_be_archived():
    current = PromptTemplate.objects.defaults().for_type("idCard").get()

    assert current.archive() is False
    current.refresh_from_db()
    assert current.status == TemplateStatus.ACTIVE


@pytest.mark.django_db
def test_render_puts_the_ocr_lines_in_verbatim_one_per_line():
    template = PromptTemplate.objects.defaults().for_type("bankCard").get()
    lines = ["中国银行", "6216 6132 8071 0374 854", "  有效期 03/30  "]

    messages = template.render(lines=lines, fields=[FieldSpec("cardNumber", "卡号", "digits")])

    assert messages[0]["role"] == "system"
    assert "\n".join(lines) in messages[1]["content"]
    assert "- cardNumber (卡号): digits" in messages[1]["content"]


@pytest.mark.django_db
def test_next_version_skips_versions_already_taken():
    template = PromptTemplate.objects.defaults().for_type("idCard").get()
    template.new_version(version="1.0.1")

    assert next_version(template) == "1.0.2"

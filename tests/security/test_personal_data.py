"""Finding 9: personal data. Raw OCR text is encrypted at rest, shown only to an explicitly
granted permission and each view recorded; corrections are masked in the admin; the result
cache holds no number in the clear."""

import pickle
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import Permission, User
from django.core.cache import cache
from django.db import connection
from django.urls import reverse

from ocr import pipeline
from ocr.models import Feedback, OcrRequest, RawTextView, RequestStatus
from prompts.configuration import get_configuration
from tests.documents import ID_CARD, ID_FIELDS

ID_NUMBER = ID_FIELDS["idNumber"]
ANALYZE = "/api/v1/ocr/analyze"


@pytest.fixture
def raw_text_kept(settings):
    settings.QV_STORE_RAW_TEXT = True
    settings.RAW_TEXT_ENCRYPTION_KEY = [Fernet.generate_key().decode()]


def staff(*permissions: str) -> User:
    user = User.objects.create_user("clerk", password="x", is_staff=True)
    for codename in permissions:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return User.objects.get(pk=user.pk)


def logged_row(signed_client) -> OcrRequest:
    response = signed_client.post_json(ANALYZE, ID_CARD)
    assert response.status_code == 200, response.content
    return OcrRequest.objects.get(request_id=response.json()["requestId"])


def stored_raw_text(row: OcrRequest) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT raw_text FROM ocr_ocrrequest WHERE id = %s", [row.pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_kept_raw_text_is_encrypted_in_the_database(raw_text_kept, signed_client):
    row = logged_row(signed_client)

    assert ID_NUMBER not in stored_raw_text(row)
    assert row.raw_text == "\n".join(ID_CARD["rawTexts"])


@pytest.mark.django_db
def test_raw_text_is_not_stored_without_a_key_outside_debug(settings, signed_client):
    settings.QV_STORE_RAW_TEXT = True
    settings.RAW_TEXT_ENCRYPTION_KEY = []
    settings.DEBUG = False

    row = logged_row(signed_client)

    assert stored_raw_text(row) == ""


@pytest.mark.django_db
def test_raw_text_is_decrypted_with_an_older_key_after_rotation(settings, signed_client):
    old = Fernet.generate_key().decode()
    settings.QV_STORE_RAW_TEXT = True
    settings.RAW_TEXT_ENCRYPTION_KEY = [old]
    row = logged_row(signed_client)

    settings.RAW_TEXT_ENCRYPTION_KEY = [Fernet.generate_key().decode(), old]

    assert OcrRequest.objects.get(pk=row.pk).raw_text.endswith(ID_NUMBER)


@pytest.mark.django_db
def test_staff_with_view_rights_alone_do_not_see_raw_text(raw_text_kept, signed_client, client):
    row = logged_row(signed_client)
    client.force_login(staff("view_ocrrequest"))

    url = reverse("admin:ocr_ocrrequest_change", args=[row.pk])
    response = client.get(url, {"show_raw_text": "1"})

    assert response.status_code == 200
    assert ID_NUMBER not in response.content.decode()
    assert not RawTextView.objects.exists()


@pytest.mark.django_db
def test_each_view_of_raw_text_is_recorded_and_listed(raw_text_kept, signed_client, client):
    row = logged_row(signed_client)
    client.force_login(staff("view_ocrrequest", "view_raw_text"))
    url = reverse("admin:ocr_ocrrequest_change", args=[row.pk])

    before = client.get(url).content.decode()
    shown = client.get(url, {"show_raw_text": "1"}).content.decode()
    client.get(url, {"show_raw_text": "1"})

    assert ID_NUMBER not in before
    assert ID_NUMBER in shown
    assert list(RawTextView.objects.values_list("username", "request")) == [("clerk", row.pk)] * 2
    page = client.get(url).content.decode()
    assert page.count("<td>clerk</td>") == 2


@pytest.mark.django_db
def test_existing_plain_raw_text_is_encrypted_by_the_migration(settings, api_key):
    from importlib import import_module

    from django.apps import apps

    settings.RAW_TEXT_ENCRYPTION_KEY = [Fernet.generate_key().decode()]
    row = OcrRequest.objects.create(document_type="idCard", status=RequestStatus.SUCCESS)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ocr_ocrrequest SET raw_text = %s WHERE id = %s", [ID_NUMBER, row.pk])
    migration = import_module("ocr.migrations.0007_encrypted_raw_text")

    # The function reads only the editor's connection.
    migration.encrypt_existing(apps, SimpleNamespace(connection=connection))

    assert ID_NUMBER not in stored_raw_text(row)
    assert OcrRequest.objects.get(pk=row.pk).raw_text == ID_NUMBER


@pytest.fixture
def unmasked_feedback(db) -> Feedback:
    row = OcrRequest.objects.create(document_type="idCard", status=RequestStatus.SUCCESS)
    # As a row written before the API masked corrections, or by a path that does not.
    return Feedback.objects.create(
        request=row, corrections={"idNumber": ID_NUMBER, "name": "李四"}, corrected_fields=[]
    )


def test_feedback_admin_list_masks_sensitive_corrections(admin_client, unmasked_feedback):
    page = admin_client.get(reverse("admin:ocr_feedback_changelist")).content.decode()

    assert ID_NUMBER not in page
    assert "110*************2X" in page
    assert "李四" in page


def test_feedback_admin_page_masks_sensitive_corrections(admin_client, unmasked_feedback):
    url = reverse("admin:ocr_feedback_change", args=[unmasked_feedback.pk])
    page = admin_client.get(url).content.decode()

    assert ID_NUMBER not in page
    assert "110*************2X" in page


def test_request_page_masks_sensitive_corrections(admin_client, unmasked_feedback):
    url = reverse("admin:ocr_ocrrequest_change", args=[unmasked_feedback.request.pk])
    page = admin_client.get(url).content.decode()

    assert ID_NUMBER not in page


@pytest.mark.django_db
def test_feedback_api_stores_sensitive_corrections_masked(signed_client):
    analysed = signed_client.post_json(ANALYZE, ID_CARD).json()

    response = signed_client.post_json(
        "/api/v1/ocr/feedback",
        {"requestId": analysed["requestId"], "corrections": {"idNumber": ID_NUMBER}},
    )

    assert response.status_code == 204
    assert Feedback.objects.get().corrections == {"idNumber": "110*************2X"}


@pytest.mark.django_db
def test_result_cache_holds_no_number_in_the_clear(signed_client):
    signed_client.post_json(ANALYZE, ID_CARD)
    configuration = get_configuration()
    key = pipeline.result_cache_key(
        document_type="idCard",
        lines=tuple(ID_CARD["rawTexts"]),
        template=configuration.document_type("idCard").template,
        configuration=configuration,
    )

    entry = cache.get(key)

    assert entry is not None
    assert ID_NUMBER.encode() not in pickle.dumps(entry)
    again = signed_client.post_json(ANALYZE, ID_CARD).json()
    assert again["cached"] is True
    assert again["fields"]["idNumber"] == ID_NUMBER

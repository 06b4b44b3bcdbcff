"""Every staff page of the admin opens, with data in it."""

import pytest
from django.contrib import admin
from django.urls import reverse

from ocr.models import ApiKey, Feedback, OcrRequest, RawTextView, RequestStatus
from prompts.models import EvaluationRun, Experiment, PromptTemplate, TestCase, TestSet
from prompts.releases import release

ADMIN_MODELS = sorted(
    (model._meta.app_label, model._meta.model_name)
    for model in admin.site._registry
    if model._meta.app_label in {"ocr", "prompts"}
)


@pytest.fixture
def logged_request(db, api_key):
    logged = OcrRequest.objects.create(
        api_key=api_key[0],
        document_type="bankCard",
        status=RequestStatus.SUCCESS,
        fields={"cardNumber": "621***********854"},
        confidence=0.9,
    )
    Feedback.objects.create(request=logged, corrected_fields=[], field_count=5)
    RawTextView.objects.create(request=logged, username="auditor")
    default = PromptTemplate.objects.defaults().for_type("bankCard").get()
    experiment = Experiment.objects.create(document_type=default.document_type, name="shorter")
    experiment.variants.create(name="control", template=default, weight=1)
    experiment.variants.create(
        name="candidate", template=default.new_version(version="1.1.0"), weight=1
    )
    experiment.start()
    id_card = PromptTemplate.objects.defaults().for_type("idCard").get()
    release(id_card.new_version(version="1.0.1"))  # the release history
    test_set = TestSet.objects.create(name="gate")
    TestCase.objects.create(
        test_set=test_set, case_id="c1", document_type="bankCard", raw_texts=["6222"]
    )
    EvaluationRun.objects.create(template=default, test_set=test_set)
    return logged


@pytest.mark.django_db
@pytest.mark.parametrize(("app_label", "model_name"), ADMIN_MODELS)
def test_changelist_opens(admin_client, logged_request, app_label, model_name):
    response = admin_client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))

    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(("app_label", "model_name"), ADMIN_MODELS)
def test_change_page_opens(admin_client, logged_request, app_label, model_name):
    model = next(m for m in admin.site._registry if m._meta.model_name == model_name)
    obj = model.objects.first()
    if obj is None:
        pytest.fail(f"no {model_name} to open; the seed or the fixture should make one")

    response = admin_client.get(reverse(f"admin:{app_label}_{model_name}_change", args=[obj.pk]))

    assert response.status_code == 200


@pytest.mark.django_db
def test_adding_a_key_in_the_admin_shows_its_secret_once(admin_client):
    response = admin_client.post(
        reverse("admin:ocr_apikey_add"),
        {
            "name": "Android app",
            "rate_limit": "30",
            "daily_request_quota": "0",
            "daily_token_quota": "0",
            "allowed_document_types": "[]",
        },
        follow=True,
    )

    key = ApiKey.objects.get(name="Android app")
    shown = [str(m) for m in response.context["messages"]]
    assert any(key.key_id in m and "copy it now" in m for m in shown)
    secret = next(m for m in shown if key.key_id in m).split("secret ")[1].split(" ")[0]
    assert key.signing_secret() == secret.encode()
    assert secret not in key.encrypted_secret


@pytest.mark.django_db
def test_daily_quotas_are_set_when_a_key_is_added_in_the_admin(admin_client):
    admin_client.post(
        reverse("admin:ocr_apikey_add"),
        {
            "name": "Budget app",
            "rate_limit": "30",
            "daily_request_quota": "1000",
            "daily_token_quota": "250000",
            "allowed_document_types": "[]",
        },
    )

    key = ApiKey.objects.get(name="Budget app")
    assert (key.daily_request_quota, key.daily_token_quota) == (1000, 250000)


@pytest.mark.django_db
def test_revoke_action_revokes_the_selected_keys(admin_client, api_key):
    key, _ = api_key

    admin_client.post(
        reverse("admin:ocr_apikey_changelist"),
        {"action": "revoke", "_selected_action": [key.pk]},
    )

    key.refresh_from_db()
    assert not key.is_active
    assert key.revoked_at is not None

"""Model routing, prices and the merged (batch) prompt, as staff configure them."""

from decimal import Decimal

import pytest
from django.urls import reverse

from prompts.configuration import get_configuration
from prompts.document_types import shipped_document_types
from prompts.models import DocumentType, ModelPrice, ModelRoute, PromptTemplate
from prompts.rendering import BATCH_MARKER

pytestmark = pytest.mark.django_db

SHORT_CARD = ["中国银行", "6216 6132 8071 0374 854"]


def route_for(document_type: str, lines: list[str], template=None) -> str:
    return get_configuration().choose_model(
        document_type=document_type, lines=lines, template=template
    )


def call_cost(*, model: str, prompt_tokens: int, completion_tokens: int) -> Decimal:
    return get_configuration().cost(
        model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
    )


@pytest.fixture
def no_routes():
    ModelRoute.objects.all().delete()


def test_shipped_routing_sends_documents_to_the_default_model(settings):
    settings.OPENAI_MODEL = "the-default"

    assert route_for("idCard", ["姓名 张三"]) == "the-default"


def test_shipped_routing_sends_short_bank_cards_to_a_cheaper_model():
    assert route_for("bankCard", SHORT_CARD) == "gpt-4.1-nano"


def test_shipped_prices_cover_the_routed_models():
    assert ModelPrice.objects.filter(model__in=["gpt-4o-mini", "gpt-4.1-nano"]).count() == 2


def test_no_matching_route_means_the_default_model(no_routes, settings):
    settings.OPENAI_MODEL = "the-default"

    assert route_for("passport", ["P<UTO"]) == "the-default"


def test_route_of_the_documents_type_wins(no_routes):
    ModelRoute.objects.create(name="any", model="general")
    ModelRoute.objects.create(
        name="cards", model="card-model", document_type=DocumentType.objects.get(key="bankCard")
    )

    assert route_for("bankCard", SHORT_CARD) == "card-model"
    assert route_for("idCard", ["姓名 张三"]) == "general"


def test_document_over_the_character_limit_falls_through(no_routes):
    ModelRoute.objects.create(name="short", model="cheap", max_ocr_chars=20, priority=10)
    ModelRoute.objects.create(name="any", model="strong")

    assert route_for("idCard", ["姓名 张三"]) == "cheap"
    assert route_for("idCard", ["住址 " + "北" * 30]) == "strong"


def test_document_over_the_line_limit_falls_through(no_routes):
    ModelRoute.objects.create(name="few lines", model="cheap", max_ocr_lines=2, priority=10)
    ModelRoute.objects.create(name="any", model="strong")

    assert route_for("idCard", ["a", "b"]) == "cheap"
    assert route_for("idCard", ["a", "b", "c"]) == "strong"


def test_higher_priority_is_tried_first(no_routes):
    ModelRoute.objects.create(name="low", model="low", priority=1)
    ModelRoute.objects.create(name="high", model="high", priority=5)

    assert route_for("idCard", ["a"]) == "high"


def test_inactive_routes_are_ignored(no_routes, settings):
    settings.OPENAI_MODEL = "the-default"
    ModelRoute.objects.create(name="off", model="off", is_active=False)

    assert route_for("idCard", ["a"]) == "the-default"


def test_a_template_that_names_a_model_overrides_the_routing():
    template = PromptTemplate.objects.for_type("bankCard").defaults().get()
    template.model = "template-model"

    assert route_for("bankCard", SHORT_CARD, template) == "template-model"


def test_a_staff_change_takes_effect_at_once(no_routes):
    route = ModelRoute.objects.create(name="any", model="before")
    assert route_for("idCard", ["a"]) == "before"

    route.model = "after"
    route.save()

    assert route_for("idCard", ["a"]) == "after"


def test_cost_uses_the_price_staff_set():
    ModelPrice.objects.create(
        model="priced", input_per_million=Decimal("2"), output_per_million=Decimal("8")
    )

    cost = call_cost(model="priced", prompt_tokens=1000, completion_tokens=500)

    assert cost == Decimal("0.006")


def test_dated_model_variant_uses_its_base_price():
    ModelPrice.objects.create(
        model="priced", input_per_million=Decimal("1"), output_per_million=Decimal("1")
    )

    cost = call_cost(model="priced-2024-07-18", prompt_tokens=10**6, completion_tokens=0)

    assert cost == Decimal("1")


def test_unpriced_model_costs_nothing():
    cost = call_cost(model="unpriced", prompt_tokens=10**6, completion_tokens=10**6)

    assert cost == Decimal(0)


def test_price_change_takes_effect_at_once():
    price = ModelPrice.objects.create(
        model="priced", input_per_million=Decimal("1"), output_per_million=Decimal("0")
    )
    call_cost(model="priced", prompt_tokens=10**6, completion_tokens=0)

    price.input_per_million = Decimal("3")
    price.save()

    cost = call_cost(model="priced", prompt_tokens=10**6, completion_tokens=0)
    assert cost == Decimal("3")


def test_batch_prompt_holds_every_document_verbatim_under_its_marker():
    template = PromptTemplate.objects.for_type("idCard").defaults().get()
    fields = shipped_document_types()["idCard"]
    documents = [["姓名 张三", "性别 女"], ["姓名 李四", "性别 男"]]

    system, user = template.render_batch(documents=documents, fields=fields)

    for index, lines in enumerate(documents, start=1):
        marker = BATCH_MARKER.format(index=index, count=2)
        assert marker + "\n" + "\n".join(lines) in user["content"]
    assert '{"items": [...]}' in system["content"]


def test_batch_prompt_shares_the_instructions_once():
    template = PromptTemplate.objects.for_type("idCard").defaults().get()
    fields = shipped_document_types()["idCard"]

    _, user = template.render_batch(documents=[["a"], ["b"], ["c"]], fields=fields)

    assert user["content"].count("- idNumber (公民身份号码)") == 1


def test_route_and_price_admin_pages_list_them(admin_client):
    routes = admin_client.get(reverse("admin:prompts_modelroute_changelist") + "?q=bank")
    prices = admin_client.get(reverse("admin:prompts_modelprice_changelist"))

    assert routes.status_code == 200
    assert "Short bank cards" in routes.content.decode()
    assert prices.status_code == 200
    assert "gpt-4o-mini" in prices.content.decode()

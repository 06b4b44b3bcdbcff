"""The model provider against a real local OpenAI-compatible server, through the real SDK."""

import asyncio
import time

import pytest
from asgiref.sync import async_to_sync
from django.test import override_settings

from ocr.casegen import SAMPLE_SET
from ocr.evaluation import load_cases
from ocr.providers import PROVIDERS, Document, ProviderError, get_provider
from ocr.providers.openai import MissingItemError, ModelCallError, OpenAIProvider, get_client
from ocr.providers.rules import RulesProvider
from prompts.document_types import shipped_document_types
from prompts.models import PromptTemplate
from quickvault import circuit
from tests.fakes.openai_server import (
    FakeOpenAI,
    answer,
    cutoff,
    error,
    fenced,
    hang,
    malformed,
    prose,
    rate_limited,
    sleep,
)

pytestmark = pytest.mark.django_db

TYPES = shipped_document_types()
CASES = load_cases(SAMPLE_SET)
ID_CASES = [case for case in CASES if case["documentType"] == "idCard"]
CASE = ID_CASES[0]
# The endpoint's default model (OPENAI_MODEL in the fake_openai fixture), which callers name.
MODEL = "gpt-4o-mini"


@pytest.fixture
def fake(fake_openai):
    fake_openai.add_cases(CASES)
    return fake_openai


def document(case: dict) -> Document:
    return Document(
        document_type=case["documentType"],
        fields=tuple(TYPES[case["documentType"]]),
        lines=tuple(case["rawTexts"]),
    )


def template(document_type: str = "idCard") -> PromptTemplate:
    return PromptTemplate.objects.for_type(document_type).defaults().get()


def extract(case: dict = CASE, *, model: str = MODEL):
    provider = OpenAIProvider()
    return async_to_sync(provider.extract)(
        document=document(case), template=template(case["documentType"]), model=model
    )


def extract_many(cases: list[dict], *, model: str = MODEL):
    provider = OpenAIProvider()
    return async_to_sync(provider.extract_many)(
        documents=[document(case) for case in cases],
        template=template(cases[0]["documentType"]),
        model=model,
    )


def test_providers_are_found_by_name():
    assert {"rules": RulesProvider, "openai": OpenAIProvider} == PROVIDERS
    assert isinstance(get_provider("openai"), OpenAIProvider)
    assert isinstance(get_provider("rules"), RulesProvider)


def test_unknown_provider_name_is_a_permanent_error():
    with pytest.raises(ProviderError) as caught:
        get_provider("gpt")

    assert caught.value.permanent
    assert "gpt" in str(caught.value)


def test_answer_is_read_through_the_sdk(fake):
    result = extract()

    assert result.values == CASE["expected"]
    assert result.provider == "openai"
    assert result.model == "gpt-4o-mini"
    assert fake.calls == 1


def test_prompt_holds_the_ocr_lines_verbatim_and_asks_for_json(fake):
    extract()

    request = fake.requests[0]
    user = request.messages[-1]["content"]
    assert "\n".join(CASE["rawTexts"]) in user
    assert request.response_format == {"type": "json_object"}


def test_fenced_answer_is_read(fake):
    fake.script(fenced())

    assert extract().values == CASE["expected"]
    assert fake.calls == 1


def test_answer_wrapped_in_prose_is_read(fake):
    fake.script(prose())

    assert extract().values == CASE["expected"]
    assert fake.calls == 1


def test_malformed_answer_is_retried(fake):
    fake.script(malformed())

    assert extract().values == CASE["expected"]
    assert fake.calls == 2


def test_cut_off_answer_is_retried_with_more_room(fake):
    fake.script(cutoff())

    assert extract().values == CASE["expected"]
    assert fake.calls == 2
    assert fake.requests[1].max_tokens > fake.requests[0].max_tokens


def test_server_error_is_retried(fake):
    fake.script(error(500))

    assert extract().values == CASE["expected"]
    assert fake.calls == 2


def test_rate_limit_waits_for_retry_after(fake):
    fake.script(rate_limited("1"))
    started = time.monotonic()

    assert extract().values == CASE["expected"]
    assert time.monotonic() - started >= 0.95
    assert fake.calls == 2


def test_sdk_retries_are_off_so_three_failures_are_three_calls(fake):
    fake.script(error(500), error(500), error(500), error(500))

    with pytest.raises(ModelCallError) as caught:
        extract()

    assert fake.calls == 3
    assert not caught.value.timeout


def test_bad_request_is_not_retried(fake):
    fake.script(error(400))

    with pytest.raises(ModelCallError) as caught:
        extract()

    assert caught.value.permanent
    assert fake.calls == 1


def test_slow_answer_times_out(fake, settings):
    settings.OPENAI_TIMEOUT_SECONDS = 0.3
    fake.script(sleep(1), sleep(1), sleep(1))

    with pytest.raises(ModelCallError) as caught:
        extract()

    assert caught.value.timeout


def test_hang_ends_within_the_request_budget(fake, settings):
    settings.OPENAI_TIMEOUT_SECONDS = 1.0
    settings.OPENAI_REQUEST_BUDGET_SECONDS = 1.5
    fake.script(hang(), hang(), hang())
    started = time.monotonic()

    with pytest.raises(ModelCallError) as caught:
        extract()

    assert caught.value.timeout
    assert time.monotonic() - started < 2.2
    # The second attempt gets only what is left of the budget; there is no time for a third.
    assert fake.calls <= 2


def test_unreachable_endpoint_fails_without_a_timeout(fake, settings):
    settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"

    with pytest.raises(ModelCallError) as caught:
        extract()

    assert not caught.value.timeout
    assert fake.calls == 0


def test_open_circuit_fails_fast_without_a_call(fake):
    async_to_sync(circuit.trip)(circuit.openai_breaker())

    with pytest.raises(ModelCallError) as caught:
        extract()

    assert caught.value.permanent
    assert fake.calls == 0


def test_repeated_outage_opens_the_circuit(fake, settings):
    settings.OPENAI_CIRCUIT_MIN_FAILURES = 3
    fake.script(*[error(503)] * 3)
    with pytest.raises(ModelCallError):
        extract()

    with pytest.raises(ModelCallError):
        extract()

    assert fake.calls == 3


def test_endpoint_without_json_mode_is_asked_without_it():
    with FakeOpenAI(json_mode_supported=False) as server:
        server.add_cases([CASE])
        with override_settings(OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY="sk-test"):
            assert extract().values == CASE["expected"]
            extract()

        assert server.requests[0].response_format is not None
        assert server.requests[-1].response_format is None
        assert server.calls == 3


def test_the_model_the_caller_names_is_asked(fake):
    result = extract(model="gpt-4o")

    assert [request.model for request in fake.requests] == ["gpt-4o"]
    assert result.model == "gpt-4o"


def test_a_template_naming_a_model_does_not_override_the_callers(fake):
    chosen = template()
    chosen.model = "gpt-4.1"

    result = async_to_sync(OpenAIProvider().extract)(
        document=document(CASE), template=chosen, model="gpt-4o"
    )

    assert fake.requests[0].model == "gpt-4o"
    assert result.model == "gpt-4o"


def test_a_blank_model_is_a_permanent_error_without_a_call(fake):
    with pytest.raises(ModelCallError) as caught:
        extract(model=" ")

    assert caught.value.permanent
    assert fake.calls == 0


def test_model_the_endpoint_lacks_falls_back_to_the_default(settings):
    with FakeOpenAI(known_models={"gpt-4o-mini"}) as server:
        server.add_cases([CASE])
        settings.OPENAI_BASE_URL = server.base_url
        settings.OPENAI_MODEL = "gpt-4o-mini"

        result = extract(model="a-model-it-does-not-serve")

        asked = [request.model for request in server.requests]

    assert asked == ["a-model-it-does-not-serve", "gpt-4o-mini"]
    assert result.model == "gpt-4o-mini"
    assert result.values == CASE["expected"]


def test_tokens_come_from_the_endpoints_usage(fake):
    result = extract()

    assert result.usage.prompt_tokens == fake.prompt_tokens > 0
    assert result.usage.completion_tokens == fake.completion_tokens > 0
    # A call of its own: the prompt cost what it would have cost alone.
    assert result.usage.prompt_tokens_unmerged == result.usage.prompt_tokens
    assert result.batch_id is None


def test_tokens_of_every_attempt_are_counted(fake):
    fake.script(cutoff())

    result = extract()

    assert result.usage.prompt_tokens == fake.prompt_tokens == 2 * fake.requests[0].prompt_tokens
    assert result.usage.completion_tokens == fake.completion_tokens


def test_a_failed_call_carries_the_tokens_its_unusable_replies_cost(fake):
    fake.script(malformed(), malformed(), malformed())

    with pytest.raises(ModelCallError) as caught:
        extract()

    assert fake.calls == 3
    assert caught.value.model == MODEL
    assert caught.value.usage.prompt_tokens == fake.prompt_tokens > 0
    assert caught.value.usage.completion_tokens == fake.completion_tokens > 0
    assert not caught.value.permanent


def test_one_client_is_shared_within_an_event_loop(fake):
    async def clients():
        return await get_client(), await get_client()

    first, second = async_to_sync(clients)()

    assert first is second
    assert first.max_retries == 0


def test_a_loops_client_is_closed_when_the_loop_shuts_down(fake):
    async def answered_client():
        client = await get_client()
        body = {"model": MODEL, "messages": [{"role": "user", "content": "姓名 张三"}]}
        await client.post("/chat/completions", body=body, cast_to=bytes)
        return client

    # As asyncio.run and async_to_sync end a loop (without making it the thread's current loop).
    loop = asyncio.new_event_loop()
    try:
        client = loop.run_until_complete(answered_client())
        open_before_shutdown = not client.is_closed()
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()

    assert open_before_shutdown
    assert client.is_closed()


def test_connection_pool_is_sized_from_settings(fake, settings):
    settings.OPENAI_MAX_CONNECTIONS = 2
    fake.latency = 0.2
    provider = OpenAIProvider()
    chosen = template()

    async def six_at_once():
        await asyncio.gather(
            *(
                provider.extract(document=document(case), template=chosen, model=MODEL)
                for case in ID_CASES[:6]
            )
        )

    async_to_sync(six_at_once)()

    assert fake.calls == 6
    assert fake.max_in_flight == 2


def test_connections_spread_over_several_pools_stay_within_the_setting(fake, settings):
    settings.OPENAI_MAX_CONNECTIONS = 20
    fake.latency = 0.2
    provider = OpenAIProvider()
    chosen = template()
    cases = [ID_CASES[i % len(ID_CASES)] for i in range(30)]

    async def thirty_at_once():
        await asyncio.gather(
            *(
                provider.extract(document=document(case), template=chosen, model=MODEL)
                for case in cases
            )
        )

    async_to_sync(thirty_at_once)()

    assert fake.calls == 30
    assert fake.max_in_flight == 20


def test_documents_of_one_type_share_one_call(fake):
    results = extract_many(ID_CASES[:5])

    assert fake.calls == 1
    assert [r.values for r in results] == [case["expected"] for case in ID_CASES[:5]]
    assert len({r.batch_id for r in results}) == 1
    assert results[0].batch_id is not None
    assert {r.model for r in results} == {MODEL}
    assert fake.requests[0].model == MODEL


def test_merged_call_shares_its_prompt_tokens_and_saves_on_them(fake):
    results = extract_many(ID_CASES[:5])

    assert sum(r.usage.prompt_tokens for r in results) == fake.prompt_tokens
    assert sum(r.usage.completion_tokens for r in results) == fake.completion_tokens
    assert all(r.usage.prompt_tokens_unmerged > r.usage.prompt_tokens for r in results)


def test_merged_prompt_asks_for_items_and_holds_each_document(fake):
    extract_many(ID_CASES[:3])

    request = fake.requests[0]
    prompt = "\n".join(m["content"] for m in request.messages)
    assert '{"items": [...]}' in prompt
    for case in ID_CASES[:3]:
        assert "\n".join(case["rawTexts"]) in prompt


def test_large_batches_are_split_into_calls_of_the_configured_size(fake, settings):
    settings.OPENAI_BATCH_MAX_ITEMS = 4

    results = extract_many(ID_CASES[:10])

    assert fake.calls == 3
    assert [r.values for r in results] == [case["expected"] for case in ID_CASES[:10]]


def test_document_left_out_of_a_merged_answer_fails_on_its_own(fake):
    fake.script(answer([ID_CASES[0]["expected"], None, ID_CASES[2]["expected"]]))

    results = extract_many(ID_CASES[:3])

    assert results[0].values == ID_CASES[0]["expected"]
    assert isinstance(results[1], MissingItemError)
    assert results[2].values == ID_CASES[2]["expected"]
    # The left-out document still carries its share of the call, so nothing spent goes unbilled.
    assert results[1].model == MODEL
    assert sum(r.usage.prompt_tokens for r in results) == fake.prompt_tokens
    assert results[1].usage.prompt_tokens > 0


def test_merged_call_that_fails_fails_each_document(fake):
    fake.script(error(400))

    results = extract_many(ID_CASES[:3])

    assert all(isinstance(r, ModelCallError) for r in results)
    assert all(r.permanent for r in results)


def test_merged_call_that_fails_shares_what_it_still_cost(fake):
    fake.script(malformed(), malformed(), malformed())

    results = extract_many(ID_CASES[:3])

    assert all(isinstance(r, ModelCallError) for r in results)
    assert fake.calls == 3
    assert sum(r.usage.prompt_tokens for r in results) == fake.prompt_tokens > 0
    assert sum(r.usage.completion_tokens for r in results) == fake.completion_tokens > 0
    assert {r.model for r in results} == {MODEL}


def test_documents_of_several_types_cannot_share_a_call(fake):
    other = next(case for case in CASES if case["documentType"] != "idCard")

    with pytest.raises(ValueError, match="one type"):
        async_to_sync(OpenAIProvider().extract_many)(
            documents=[document(CASE), document(other)], template=None, model=MODEL
        )

    assert fake.calls == 0


def test_without_a_template_the_shipped_prompts_are_used(fake):
    result = async_to_sync(OpenAIProvider().extract)(
        document=document(CASE), template=None, model=MODEL
    )

    system, user = fake.requests[0].messages
    assert result.values == CASE["expected"]
    assert system["content"].startswith("You read the OCR text of one idCard document")
    assert "\n".join(CASE["rawTexts"]) in user["content"]


def test_a_lone_document_of_a_batch_gets_a_call_of_its_own(fake):
    [result] = extract_many([CASE])

    assert result.values == CASE["expected"]
    assert result.batch_id is None
    prompt = "\n".join(m["content"] for m in fake.requests[0].messages)
    assert '{"items": [...]}' not in prompt


def test_retry_after_longer_than_the_cap_is_not_waited_for(fake, settings):
    settings.OPENAI_RETRY_AFTER_MAX_SECONDS = 1.0
    fake.script(rate_limited("30"))
    started = time.monotonic()

    with pytest.raises(ModelCallError):
        extract()

    assert time.monotonic() - started < 1.0
    assert fake.calls == 1

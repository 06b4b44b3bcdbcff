"""Data minimisation toward the model: the numbers the built-in extractor checks reach the
model (a third party) as placeholders, and are put back into its answer."""

import re

import pytest
from asgiref.sync import async_to_sync

from ocr import minimise, pipeline
from ocr.casegen import SAMPLE_SET, generate_cases
from ocr.evaluation import load_cases, score_cases
from ocr.providers.base import ProviderResult
from ocr.validators import validate_value
from prompts.configuration import get_configuration, new_generation
from prompts.document_types import shipped_document_types
from prompts.models import DocumentType
from tests.documents import ID_CARD, ID_FIELDS
from tests.fakes.openai_server import FaultMix

SAMPLE_CASES = load_cases(SAMPLE_SET)
# Held out from the sample set: another seed.
HELD_OUT_SEED = 7321
HELD_OUT_CASES = 300
BATCH = 10
# Digit runs as OCR prints them: single spaces or hyphens between groups.
DIGIT_RUN = re.compile(r"\d(?:[ -]?[\dXx])+")


def valid_numbers_in(text: str) -> list[str]:
    """Every valid resident ID (18 characters anywhere in a run of digits) and every card
    number (a run of 13-19 digits from an issuer, 3 to 6, passing Luhn) printed in `text`."""
    found = []
    for run in DIGIT_RUN.findall(text):
        digits = re.sub(r"[ -]", "", run).upper()
        for start in range(len(digits) - 17):
            piece = digits[start : start + 18]
            if validate_value(validator="cn_resident_id", value=piece).valid:
                found.append(piece)
        card = 13 <= len(digits) <= 19 and digits.isdigit() and digits[0] in "3456"
        if card and validate_value(validator="luhn", value=digits).valid:
            found.append(digits)
    return found


def prompts_of(fake) -> list[str]:
    return ["\n".join(str(m.get("content", "")) for m in r.messages) for r in fake.requests]


def analyse_all(cases: list[dict]) -> dict[str, dict]:
    configuration = get_configuration()
    fields: dict[str, dict] = {}
    for start in range(0, len(cases), BATCH):
        chunk = cases[start : start + BATCH]
        outcomes = async_to_sync(pipeline.analyze_batch)(
            api_key=None,
            items=[
                pipeline.AnalyzeInput(
                    raw_texts=tuple(c["rawTexts"]), document_type=c["documentType"], use_cache=False
                )
                for c in chunk
            ],
            configuration=configuration,
        )
        for case, outcome in zip(chunk, outcomes, strict=True):
            fields[case["id"]] = getattr(outcome, "fields", {})
    return fields


def set_minimisation(on: bool) -> None:
    DocumentType.objects.update(minimise_for_model=on)
    new_generation()


def test_the_checked_numbers_of_the_sample_set_are_valid_so_the_scan_can_find_them():
    # Guards the next test: it proves nothing unless the cases hold numbers the scan finds.
    found = sum(bool(valid_numbers_in("\n".join(c["rawTexts"]))) for c in SAMPLE_CASES)

    assert found >= 40


@pytest.mark.django_db
def test_no_prompt_holds_a_valid_resident_id_or_card_number(fake_openai):
    fake_openai.add_cases(SAMPLE_CASES)

    analyse_all(SAMPLE_CASES)

    prompts = prompts_of(fake_openai)
    assert prompts
    leaked = [number for prompt in prompts for number in valid_numbers_in(prompt)]
    assert leaked == []
    assert any("[[ID_1]]" in prompt for prompt in prompts)
    assert any("[[CARD_1]]" in prompt for prompt in prompts)


@pytest.mark.django_db
def test_the_answer_has_the_numbers_the_model_never_saw(fake_openai, signed_client):
    fake_openai.add_cases([{**ID_CARD, "id": "id-card", "expected": ID_FIELDS}])

    response = signed_client.post_json("/api/v1/ocr/analyze", ID_CARD)

    assert response.json()["fields"]["idNumber"] == ID_FIELDS["idNumber"]
    assert response.json()["provider"] == "openai"
    assert ID_FIELDS["idNumber"] not in prompts_of(fake_openai)[0]


@pytest.mark.django_db
def test_a_type_with_minimisation_off_sends_its_numbers(fake_openai, signed_client):
    fake_openai.add_cases([{**ID_CARD, "id": "id-card", "expected": ID_FIELDS}])
    DocumentType.objects.filter(key="idCard").update(minimise_for_model=False)
    new_generation()

    signed_client.post_json("/api/v1/ocr/analyze", ID_CARD)

    assert ID_FIELDS["idNumber"] in prompts_of(fake_openai)[0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "mode",
    [
        "echo",
        # The content faults of an imperfect model (wrong digits, unnormalised and invented
        # values, wrapped answers), without transient ones that only cost time.
        "imperfect",
    ],
)
def test_accuracy_with_minimisation_stays_within_0_002_on_held_out_cases(fake_openai, mode):
    cases = generate_cases(HELD_OUT_CASES, seed=HELD_OUT_SEED)
    fake_openai.configure(
        mode=mode, seed=5, faults=FaultMix(cutoff_first=0, error_first=0, rate_limited_first=0)
    )
    fake_openai.add_cases(cases)

    set_minimisation(False)
    got_plain = analyse_all(cases)
    plain = score_cases(cases, lambda case: got_plain[case["id"]])
    sent_before = prompts_of(fake_openai)
    fake_openai.reset()
    set_minimisation(True)
    got_minimised = analyse_all(cases)
    minimised = score_cases(cases, lambda case: got_minimised[case["id"]])

    assert any(valid_numbers_in(prompt) for prompt in sent_before)
    assert not any(valid_numbers_in(prompt) for prompt in prompts_of(fake_openai))
    assert abs(minimised["fieldAccuracy"] - plain["fieldAccuracy"]) <= 0.002
    assert plain["fieldAccuracy"] > 0.9


def test_restore_puts_each_placeholder_back_and_leaves_lookalikes():
    redaction = minimise.Redaction(
        lines=("公民身份号码 [[ID_1]]",), originals={"[[ID_1]]": "1101 0519 4912 3100 2X"}
    )

    restored = minimise.restore(
        {"idNumber": "[[ID_1]]", "note": "ID_1", "other": "VALID_1", "name": None, "x": "[[ID_2]]"},
        redaction,
    )

    assert restored == {
        "idNumber": "1101 0519 4912 3100 2X",
        "note": "1101 0519 4912 3100 2X",
        "other": "VALID_1",
        "name": None,
        "x": "[[ID_2]]",
    }


def test_redact_replaces_a_number_printed_with_spaces_and_the_zone_of_a_passport():
    specs = shipped_document_types()["passport"]
    mrz = [
        "P<CHNZHANG<<SAN<<<<<<<<<<<<<<<<<<<<<<<<<<<<<",
        "E123456786CHN9001017M3001012<<<<<<<<<<<<<<06",
    ]
    rules = ProviderResult(values={"passportNumber": "E12345678"}, provider="rules")

    redaction = minimise.redact(["护照号 Passport No. E 1234 5678", *mrz], rules, specs)

    assert redaction.lines == ("护照号 Passport No. [[PASSPORT_1]]", "[[MRZ_1]]", "[[MRZ_2]]")
    assert redaction.originals["[[PASSPORT_1]]"] == "E 1234 5678"

"""The case generator and the sample set the repository ships, which it must reproduce."""

import io
import json
import re
from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from ocr.casegen import (
    DOC_TYPES,
    SAMPLE_PER_TYPE,
    SAMPLE_SEED,
    SAMPLE_SET,
    generate_cases,
    render_cases,
)
from ocr.evaluation import load_cases
from ocr.mrz import find_mrz
from ocr.validators import validate_document
from prompts.document_types import shipped_document_types

TYPES = shipped_document_types()
CASE_KEYS = ["id", "documentType", "rawTexts", "expected"]


@pytest.fixture(scope="module")
def sample_cases() -> list[dict]:
    return load_cases(SAMPLE_SET)


def test_the_documented_command_remakes_the_shipped_sample_set_byte_for_byte(tmp_path):
    output = tmp_path / "sample.jsonl"

    call_command(
        "generate_cases",
        "--per-type",
        str(SAMPLE_PER_TYPE),
        "--seed",
        str(SAMPLE_SEED),
        "--output",
        str(output),
        stderr=io.StringIO(),
    )

    assert output.read_bytes() == SAMPLE_SET.read_bytes()


def test_the_command_defaults_are_the_sample_set_and_go_to_standard_output():
    out = io.StringIO()

    call_command("generate_cases", stdout=out)

    assert out.getvalue() == SAMPLE_SET.read_text(encoding="utf-8")


def test_the_sample_set_has_the_same_number_of_each_document_type(sample_cases):
    counts = Counter(case["documentType"] for case in sample_cases)

    assert counts == dict.fromkeys(TYPES, SAMPLE_PER_TYPE)
    assert len({case["id"] for case in sample_cases}) == len(sample_cases)


def test_each_sample_case_is_in_the_test_set_format(sample_cases):
    for case in sample_cases:
        assert list(case) == CASE_KEYS
        assert case["rawTexts"] and all(isinstance(line, str) for line in case["rawTexts"])
        # Every field of the type is listed; null where the text does not hold it.
        assert list(case["expected"]) == [spec.key for spec in TYPES[case["documentType"]]]


def test_every_expected_value_passes_the_service_validators(sample_cases):
    failures = []
    for case in sample_cases:
        checks, _ = validate_document(
            document_type=case["documentType"],
            fields=case["expected"],
            specs=TYPES[case["documentType"]],
        )
        failures += [(case["id"], key) for key, check in checks.items() if not check.valid]

    assert failures == []


def test_the_same_seed_gives_the_same_cases_and_another_seed_others():
    first = generate_cases(12, seed=3)

    assert generate_cases(12, seed=3) == first
    assert generate_cases(12, seed=4) != first
    assert [case["documentType"] for case in first] == DOC_TYPES * 2


def test_render_cases_writes_one_line_per_case_with_text_as_is():
    cases = generate_cases(6, seed=3)

    text = render_cases(cases)

    assert text.endswith("\n")
    assert [json.loads(line) for line in text.splitlines()] == cases
    assert "\\u" not in text  # Chinese text is written as UTF-8, not escaped


def test_the_command_refuses_a_count_below_one():
    with pytest.raises(CommandError, match="--per-type must be 1 or more"):
        call_command("generate_cases", "--per-type", "0", stdout=io.StringIO())


def test_the_command_refuses_a_folder_that_does_not_exist(tmp_path):
    missing = tmp_path / "missing" / "cases.jsonl"

    with pytest.raises(CommandError, match="No directory"):
        call_command("generate_cases", "--output", str(missing), stdout=io.StringIO())

    assert not missing.exists()


def test_real_ocr_cases_are_the_same_for_the_same_seed_and_differ_from_the_plain_ones():
    plain = generate_cases(60, seed=5)
    real = generate_cases(60, seed=5, real=True)

    assert real == generate_cases(60, seed=5, real=True)
    assert [c["rawTexts"] for c in real] != [c["rawTexts"] for c in plain]


def test_real_ocr_cases_hold_the_layouts_real_engines_produce():
    lines = [line for case in generate_cases(300, seed=3, real=True) for line in case["rawTexts"]]

    assert "住" in lines and "类" in lines
    assert any(line.startswith("称") for line in lines)
    assert "公民身份号" in lines
    assert any(re.fullmatch(r"\d{4}(-\d{4}){3}(-\d{3,4})?", line) for line in lines)
    assert "THRU" in lines
    assert any(re.search(r"\d{4}\.\d{4}\s*[-—]\s*\d{4},\d{4}", line) for line in lines)
    assert any(re.fullmatch(r"[a-z0-9<]{44}", line) for line in lines)


def test_real_ocr_passports_include_identity_card_zones_that_hold_the_expected_values():
    cases = [c for c in generate_cases(600, seed=99, real=True) if c["documentType"] == "passport"]
    cards = [c for c in cases if any(re.match(r"(?i)i<[a-z]{3}", t) for t in c["rawTexts"])]

    assert cards
    for case in cards:
        mrz = find_mrz(case["rawTexts"])
        assert mrz is not None and mrz.format in {"TD1", "TD2"}
        assert mrz.passport_number == case["expected"]["passportNumber"]
        assert mrz.birth_date == case["expected"]["birthDate"]


def test_real_ocr_cases_hold_label_rows_with_their_values_run_together():
    lines = [line for case in generate_cases(600, seed=3, real=True) for line in case["rawTexts"]]

    assert any(re.fullmatch(r"性别民族[男女]\S+", line) for line in lines)
    assert any(re.fullmatch(r"性别 ?国籍 [男女] ?中国", line) for line in lines)


def test_real_ocr_cards_with_every_label_lost_still_print_every_expected_value():
    cases = generate_cases(600, seed=3, real=True)
    lost = [
        c
        for c in cases
        if c["documentType"] in ("idCard", "driverLicense")
        and not any(re.search(r"姓\s*名|性\s*别|住\s*址", line) for line in c["rawTexts"])
        and c["expected"].get("name")
    ]

    assert any(c["documentType"] == "idCard" for c in lost)
    assert any(c["documentType"] == "driverLicense" for c in lost)
    for case in lost:
        text = "".join(case["rawTexts"]).replace(" ", "")
        assert case["expected"]["name"] in text
        assert case["expected"]["address"] in text


def test_real_ocr_cases_hold_addresses_wrapped_just_after_a_house_number():
    cases = generate_cases(600, seed=3, real=True)
    joined = [
        (case["expected"]["address"], "\n".join(case["rawTexts"]))
        for case in cases
        if case["expected"].get("address")
    ]
    wrapped = [
        address
        for address, text in joined
        if (
            m := re.search(
                r"(?:住址|住所|经营场所) (\S+\d号)(?:   |\n)(\d*号?楼\S*|\d+单元\S*)", text
            )
        )
        and m[1] + m[2] == address
    ]

    assert wrapped


def test_real_ocr_vehicle_and_business_licences_lose_every_label_now_and_then():
    cases = generate_cases(600, seed=3, real=True)
    codes = {"vehicleLicense": "vin", "businessLicense": "creditCode"}
    lost = [
        c
        for c in cases
        if c["documentType"] in codes
        and c["rawTexts"][1] == c["expected"][codes[c["documentType"]]]
    ]

    assert {c["documentType"] for c in lost} == set(codes)
    for case in lost:
        assert not any(re.search(r"所有人|法定代表人|执行事务合伙人", t) for t in case["rawTexts"])
        text = "".join(case["rawTexts"])
        assert (case["expected"].get("owner") or case["expected"]["companyName"]) in text

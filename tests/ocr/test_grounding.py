"""Grounding: a canonical value counts only where the OCR text holds it in some printed form."""

import pytest

from ocr.casegen import SAMPLE_SET
from ocr.evaluation import load_cases
from ocr.grounding import index_text, is_grounded
from prompts.document_types import shipped_document_types

TYPES = shipped_document_types()

MRZ = [
    "P<CHNSONG<<JING<<<<<<<<<<<<<<<<<<<<<<<<<<<<<",
    "EC32825563CHN5310201F2611262<<<<<<<<<<<<<<06",
]


def grounded(value: str, fmt: str, lines: list[str]) -> bool:
    return is_grounded(value=value, format=fmt, text=index_text(lines))


def test_every_expected_value_of_the_sample_set_is_grounded():
    missing = []
    for case in load_cases(SAMPLE_SET):
        text = index_text(case["rawTexts"])
        for spec in TYPES[case["documentType"]]:
            value = case["expected"][spec.key]
            if not is_grounded(value=value, format=spec.format, text=text):
                missing.append((case["id"], spec.key))

    assert missing == []


def test_none_is_grounded():
    assert is_grounded(value=None, format="text", text=index_text(["姓名 张三"]))


def test_text_with_spaces_inside_chinese_is_grounded():
    assert grounded("张三", "text", ["姓 名 张 三"])


def test_text_wrapped_onto_the_next_line_is_grounded():
    lines = ["住址 河北省石家庄市长安区新华路", "20号6号楼1单元535室"]

    assert grounded("河北省石家庄市长安区新华路20号6号楼1单元535室", "text", lines)


def test_text_wrapped_around_a_label_line_is_grounded():
    lines = ["住址 北京市朝阳区文三路88号", "Address", "21号楼1单元767室"]

    assert grounded("北京市朝阳区文三路88号21号楼1单元767室", "text", lines)


def test_invented_name_is_not_grounded():
    assert not grounded("王建国", "text", ["姓名 张三", "性别 男 民族 汉"])


def test_short_name_is_not_assembled_from_stray_characters():
    lines = ["姓名 李建", "住址 中国北京"]

    assert not grounded("李建国", "text", lines)


@pytest.mark.parametrize(
    "printed",
    ["出生 1990年1月5日", "出生1990 年 1 月 5 日", "1990.01.05", "05 JAN 1990", "19900105"],
)
def test_date_in_any_printed_form_is_grounded(printed):
    assert grounded("1990-01-05", "date", [printed])


def test_date_not_printed_is_not_grounded():
    assert not grounded("1990-01-06", "date", ["出生 1990年1月5日"])


def test_date_wrapped_onto_the_next_line_is_grounded():
    assert grounded("1990-01-05", "date", ["出生 1990年1月", "5日"])
    assert grounded("2029-08", "yearMonth", ["VALID THRU 08/", "29"])


def test_date_is_not_put_together_from_lines_apart():
    assert not grounded("1990-01-05", "date", ["出生 1990年1月", "住址", "5日"])
    assert not grounded("1990-01-05", "date", ["19900", "住址", "105"])


def test_date_only_in_the_mrz_is_grounded():
    assert grounded("1953-10-20", "date", MRZ)


def test_long_term_needs_changqi_in_the_text():
    assert grounded("long-term", "validUntil", ["有效期限 2015.03.01-长期"])
    assert not grounded("long-term", "validUntil", ["有效期限 2015.03.01-2035.03.01"])


def test_valid_until_date_is_grounded():
    assert grounded("2035-03-01", "validUntil", ["有效期限 2015.03.01-2035.03.01"])


def test_gender_from_chinese_is_grounded():
    assert grounded("female", "gender", ["性别 女 民族 汉"])
    assert not grounded("male", "gender", ["性别 女 民族 汉"])


def test_gender_from_the_mrz_is_grounded():
    assert grounded("female", "gender", MRZ)


def test_country_from_a_printed_name_is_grounded():
    assert grounded("JPN", "country", ["Nationality", "JAPAN"])


def test_country_code_printed_as_a_word_is_grounded():
    assert grounded("CHN", "country", ["P  CHN  EC3282556"])


def test_country_not_printed_is_not_grounded():
    assert not grounded("USA", "country", ["P  CHN  EC3282556", *MRZ])


def test_code_with_ocr_look_alikes_is_grounded():
    assert grounded("LFM8CBYRXMR074503", "code", ["车辆识别代号 LFM8CBYRXMRO745O3"])


def test_code_with_a_changed_digit_is_not_grounded():
    assert not grounded("LFM8CBYRXMR074504", "code", ["车辆识别代号 LFM8CBYRXMR074503"])


def test_code_fold_keeps_letters_that_codes_hold():
    # D stands for 0 when a reader repairs a number, but both sides of grounding are folded:
    # a D in the model's value must be printed as a D.
    assert not grounded("LFM8CBYRXMR0745D3", "code", ["车辆识别代号 LFM8CBYRXMR074503"])


def test_plate_with_a_middle_dot_is_grounded():
    assert grounded("京A12345", "code", ["号牌号码 京A·12345"])


def test_card_number_printed_in_groups_is_grounded():
    assert grounded("6216613280710374854", "digits", ["6216 6132 8071 0374 854"])


def test_card_number_with_a_wrong_digit_is_not_grounded():
    assert not grounded("6216613280710374855", "digits", ["6216 6132 8071 0374 854"])


def test_year_month_from_a_card_expiry_is_grounded():
    assert grounded("2029-08", "yearMonth", ["有效期 VALID THRU", "08/29"])
    assert not grounded("2030-08", "yearMonth", ["有效期 VALID THRU", "08/29"])


def test_card_type_needs_its_word_in_the_text():
    assert grounded("debit", "debit or credit", ["中国银行", "借记卡"])
    assert not grounded("credit", "debit or credit", ["中国银行", "借记卡"])
    assert not grounded("debit", "debit or credit", ["中国银行", "6216 6132 8071 0374 854"])

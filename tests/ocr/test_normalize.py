"""Canonical forms of values, as read from OCR and from a language model's answers."""

import pytest

from ocr.normalize import (
    century_year,
    nfkc,
    normalize_card_type,
    normalize_code,
    normalize_country,
    normalize_date,
    normalize_digits,
    normalize_gender,
    normalize_text,
    normalize_valid_until,
    normalize_value,
    normalize_year_month,
    without_spaces,
)

# Tab, no-break, ideographic and em spaces, and a line separator: white space phones' OCR sends.
ODD_SPACES = "\t\u00a0\u3000\u2003\u2028"


def test_nfkc_makes_each_run_of_any_white_space_one_space_and_strips_the_ends():
    assert nfkc(f"{ODD_SPACES}ＡＢ{ODD_SPACES}１２ 3{ODD_SPACES}") == "AB 12 3"


def test_without_spaces_takes_out_every_kind_of_white_space():
    assert without_spaces(f"G1{ODD_SPACES}234 5\n678") == "G12345678"


def test_text_removes_spaces_and_line_breaks_inside_chinese():
    assert normalize_text("河北省石家庄市 长安区\n新华路 20号") == "河北省石家庄市长安区新华路20号"


def test_text_keeps_single_spaces_between_latin_words():
    assert normalize_text("ANNA   MARIA") == "ANNA MARIA"


def test_text_turns_full_width_into_half_width():
    assert normalize_text("有限责任公司（自然人独资）") == "有限责任公司(自然人独资)"


def test_text_strips_stray_marks_at_the_ends():
    assert normalize_text("| 张三 丨") == "张三"
    assert normalize_text("一 张三") == "张三"
    assert normalize_text("'北京市朝阳区—") == "北京市朝阳区"


def test_text_keeps_a_leading_yi_that_belongs_to_the_word():
    assert normalize_text("一汽大众汽车有限公司") == "一汽大众汽车有限公司"


def test_text_of_only_marks_is_none():
    assert normalize_text(" | — ") is None


@pytest.mark.parametrize(
    "raw",
    [
        "1990年1月1日",
        "1990 年 1 月 1 日",
        "1990.01.01",
        "1990/1/1",
        "1990-01-01",
        "19900101",
        "01 JAN 1990",
        "JAN 01 1990",
        "Jan 1, 1990",
        "１９９０－０１－０１",
    ],
)
def test_date_printed_forms(raw):
    assert normalize_date(raw) == "1990-01-01"


def test_date_reads_o_as_zero_between_digits():
    assert normalize_date("2O15-03-O5") == "2015-03-05"


def test_date_rejects_impossible_day():
    assert normalize_date("2001-02-30") is None


def test_date_finds_the_date_after_a_place():
    assert normalize_date("北京/BEIJING 27 NOV 2016") == "2016-11-27"


def test_date_mrz_needs_a_kind():
    assert normalize_date("540316") is None
    assert normalize_date("540316", kind="birth") == "1954-03-16"


def test_century_birth_dates_lie_in_the_past():
    import datetime as dt

    today = dt.date(2025, 6, 1)
    assert century_year(30, kind="birth", today=today) == 1930
    assert century_year(5, kind="birth", today=today) == 2005


def test_century_expiry_dates_may_lie_ahead():
    import datetime as dt

    assert century_year(33, kind="expiry", today=dt.date(2025, 6, 1)) == 2033


@pytest.mark.parametrize("raw", ["08/29", "2029/08", "08/2029", "2029-08", "2029年8月"])
def test_year_month_forms(raw):
    assert normalize_year_month(raw) == "2029-08"


def test_year_month_rejects_month_13():
    assert normalize_year_month("13/29") is None


def test_valid_until_long_term():
    assert normalize_valid_until("长期") == "long-term"
    assert normalize_valid_until("long-term") == "long-term"


def test_valid_until_date():
    assert normalize_valid_until("2030.05.17") == "2030-05-17"


@pytest.mark.parametrize("raw", ["男", "男性", "M", "MALE", "male", "男/M"])
def test_gender_male(raw):
    assert normalize_gender(raw) == "male"


@pytest.mark.parametrize("raw", ["女", "女性", "F", "FEMALE", "女/F"])
def test_gender_female(raw):
    assert normalize_gender(raw) == "female"


def test_gender_contradiction_is_none():
    assert normalize_gender("男/F") is None


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("中国", "CHN"),
        ("CHINA", "CHN"),
        ("PEOPLE'S REPUBLIC OF CHINA", "CHN"),
        ("JAPAN", "JPN"),
        ("UTOPIA", "UTO"),
        ("GREAT BRITAIN AND NORTHERN IRELAND", "GBR"),
        ("usa", "USA"),
        ("中国/CHINESE", "CHN"),
    ],
)
def test_country_codes_and_names(raw, code):
    assert normalize_country(raw) == code


def test_country_unknown_name_is_none():
    assert normalize_country("ATLANTIS KINGDOM") is None


def test_code_drops_spaces_and_middle_dots():
    assert normalize_code("京A·03NA7") == "京A03NA7"
    assert normalize_code("lsv 7rtc12") == "LSV7RTC12"


def test_digits_drop_group_spaces():
    assert normalize_digits("6216 6132 8071 0374 854") == "6216613280710374854"


def test_digits_read_look_alikes_of_one_and_zero():
    assert normalize_digits("6216 6l32 8O71 o374 85|") == "6216613280710374851"


def test_digits_of_words_is_none():
    assert normalize_digits("none") is None


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("借记卡", "debit"),
        ("储蓄卡", "debit"),
        ("DEBIT", "debit"),
        ("信用卡", "credit"),
        ("贷记卡", "credit"),
        ("准贷记卡", "credit"),
        ("CREDIT CARD", "credit"),
    ],
)
def test_card_type(raw, kind):
    assert normalize_card_type(raw) == kind


def test_dispatcher_uses_the_format():
    assert normalize_value(format="debit or credit", raw="借记卡") == "debit"
    assert normalize_value(format="yearMonth", raw="08/29") == "2029-08"


def test_dispatcher_treats_unknown_format_as_text():
    assert normalize_value(format="somethingNew", raw=" 张 三 ") == "张三"

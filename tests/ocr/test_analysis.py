"""The rules-only answer as the API gives it: repairs marked, warnings, the type the text shows."""

import pytest

from tests.ocr.answers import rules_answer

pytestmark = pytest.mark.django_db


ID_LINES = [
    "姓名 张三",
    "性别 女 民族 汉",
    "出生 1949年12月31日",
    "住址 北京市朝阳区建国路88号",
]


def test_an_id_number_printed_as_is_is_not_marked_repaired():
    body = rules_answer("idCard", [*ID_LINES, "公民身份号码 11010519491231002X"])

    assert body["validation"]["idNumber"] == {"valid": True, "errors": []}
    assert body["fieldConfidence"]["idNumber"] >= 0.9


def test_an_id_number_read_with_a_look_alike_is_marked_repaired_and_kept_below_0_9():
    body = rules_answer("idCard", [*ID_LINES, "公民身份号码 11O1O519491231002X"])

    assert body["fields"]["idNumber"] == "11010519491231002X"
    assert body["validation"]["idNumber"]["repaired"] is True
    assert body["validation"]["idNumber"]["valid"] is True
    assert body["fieldConfidence"]["idNumber"] < 0.9


def test_a_vin_whose_check_fails_is_returned_as_printed_invalid_and_unlikely():
    body = rules_answer(
        "vehicleLicense",
        ["号牌号码 京A12345", "所有人 张三", "车辆识别代号 LSVAU2180N2123456"],
    )

    assert body["fields"]["vin"] == "LSVAU2180N2123456"
    assert body["validation"]["vin"]["valid"] is False
    assert "repaired" not in body["validation"]["vin"]
    assert body["fieldConfidence"]["vin"] < 0.5


def test_a_credit_code_whose_check_fails_is_returned_as_printed_invalid_and_unlikely():
    body = rules_answer(
        "businessLicense",
        ["统一社会信用代码 91110108600037341N", "名称 北京示例科技有限公司"],
    )

    assert body["fields"]["creditCode"] == "91110108600037341N"
    assert body["validation"]["creditCode"]["valid"] is False
    assert body["fieldConfidence"]["creditCode"] < 0.5


def test_a_credit_code_with_a_letter_outside_its_alphabet_is_repaired_and_marked():
    body = rules_answer(
        "businessLicense",
        ["统一社会信用代码 9135O1OOMOOO1OOY43", "名称 北京示例科技有限公司"],
    )

    assert body["fields"]["creditCode"] == "91350100M000100Y43"
    assert body["validation"]["creditCode"] == {"valid": True, "errors": [], "repaired": True}
    assert 0.5 < body["fieldConfidence"]["creditCode"] < 0.9


PASSPORT_LINES = [
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
]
ID_BACK = [
    "中华人民共和国",
    "居民身份证",
    "签发机关 北京市公安局朝阳分局",
    "有效期限 2015.03.01-2035.03.01",
]


def test_id_card_text_sent_as_a_passport_names_the_type_it_looks_like():
    body = rules_answer("passport", [*ID_LINES, "公民身份号码 11010519491231002X"])

    assert body["likelyDocumentType"] == "idCard"
    assert any("looks like the document type idCard" in w for w in body["warnings"])


def test_text_of_the_type_sent_names_no_other_type():
    body = rules_answer("idCard", [*ID_LINES, "公民身份号码 11010519491231002X"])

    assert body["likelyDocumentType"] is None


def test_an_expired_passport_is_warned_about():
    body = rules_answer("passport", PASSPORT_LINES)

    assert body["fields"]["expiryDate"] == "2012-04-15"
    assert "The document has expired (expiryDate 2012-04-15)." in body["warnings"]


def test_a_document_valid_until_a_later_date_has_no_expiry_warning():
    body = rules_answer("idCard", ID_BACK)

    assert not any("expired" in w for w in body["warnings"])


def test_the_back_of_an_id_card_alone_is_scored_on_the_fields_that_side_holds():
    body = rules_answer("idCard", ID_BACK)

    assert body["fields"]["issuingAuthority"] == "北京市公安局朝阳分局"
    assert body["fields"]["validUntil"] == "2035-03-01"
    assert body["confidence"] > 0.5
    assert any("Only the back of the identity card" in w for w in body["warnings"])


def test_the_api_answer_carries_the_likely_document_type(signed_client):
    response = signed_client.post_json(
        "/api/v1/ocr/analyze",
        {"documentType": "passport", "rawTexts": [*ID_LINES, "公民身份号码 11010519491231002X"]},
    )

    assert response.status_code == 200
    assert response.json()["likelyDocumentType"] == "idCard"


def test_a_latin_line_read_as_the_cardholder_by_its_shape_is_not_given_with_confidence():
    body = rules_answer("bankCard", ["中国银行", "6216 6132 8071 0374 854", "ZHANG SAN"])

    assert body["fields"]["cardholderName"] == "ZHANG SAN"
    assert body["fieldConfidence"]["cardholderName"] < 0.9


TD1_CARD = [
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
]


def test_an_identity_card_sent_as_a_passport_is_read_from_its_td1_zone():
    body = rules_answer("passport", TD1_CARD)

    assert body["fields"] == {
        "passportNumber": "D23145890",
        "surname": "ERIKSSON",
        "givenNames": "ANNA MARIA",
        "nationality": "UTO",
        "birthDate": "1974-08-12",
        "gender": "female",
        "expiryDate": "2012-04-15",
        "issuingCountry": "UTO",
    }
    assert body["validation"]["passportNumber"] == {"valid": True, "errors": []}
    assert body["fieldConfidence"]["passportNumber"] >= 0.9


def test_a_zone_of_another_format_than_td3_is_named_in_a_warning():
    body = rules_answer("passport", TD1_CARD)

    assert any("format TD1" in warning for warning in body["warnings"])


def test_a_td1_document_number_whose_check_fails_is_returned_as_printed_invalid_and_unlikely():
    lines = [TD1_CARD[0].replace("D231458907", "D2314589O7"), *TD1_CARD[1:]]
    body = rules_answer("passport", lines)

    assert body["fields"]["passportNumber"] == "D2314589O"
    assert body["validation"]["passportNumber"]["valid"] is False
    assert "repaired" not in body["validation"]["passportNumber"]
    assert body["fieldConfidence"]["passportNumber"] < 0.5


def test_a_td1_date_read_with_a_look_alike_is_marked_repaired_and_kept_below_0_9():
    lines = [TD1_CARD[0], TD1_CARD[1].replace("7408122", "74O8122"), TD1_CARD[2]]
    body = rules_answer("passport", lines)

    assert body["fields"]["birthDate"] == "1974-08-12"
    assert body["validation"]["birthDate"]["repaired"] is True
    assert body["fieldConfidence"]["birthDate"] < 0.9


def test_td1_values_printed_as_is_are_not_marked_repaired():
    body = rules_answer("passport", TD1_CARD)

    assert not any(check.get("repaired") for check in body["validation"].values())

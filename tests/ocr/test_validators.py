"""Validators of single values and the cross-checks of a document."""

from ocr.masking import mask_sensitive
from ocr.mrz import find_mrz
from ocr.validators import Check, validate_document, validate_value, vin_check_digit
from prompts.document_types import FieldSpec, shipped_document_types

ID_SPECS = shipped_document_types()["idCard"]
PASSPORT_SPECS = shipped_document_types()["passport"]
MRZ = [
    "P<JPNSUZUKI<<TARO<<<<<<<<<<<<<<<<<<<<<<<<<<<",
    "SSBZ4RWTY0JPN5403167M2701035<<<<<<<<<<<<<<08",
]


def test_resident_id_valid():
    assert validate_value(validator="cn_resident_id", value="11010519491231002X").valid


def test_resident_id_bad_check_digit():
    check = validate_value(validator="cn_resident_id", value="110105194912310021")
    assert not check.valid
    assert "check digit does not match" in check.errors


def test_resident_id_impossible_birth_date():
    check = validate_value(validator="cn_resident_id", value="110105199902300010")
    assert not check.valid
    assert any("birth date" in e for e in check.errors)


def test_resident_id_unknown_region_is_a_warning():
    body = "99999919900101001"
    from stdnum.cn import ric

    number = body + ric.calc_check_digit(body + "0")
    check = validate_value(validator="cn_resident_id", value=number)
    assert check.valid
    assert check.warnings


def test_credit_code_valid():
    assert validate_value(validator="cn_unified_credit_code", value="91110000600037341L").valid


def test_credit_code_bad_check_character():
    check = validate_value(validator="cn_unified_credit_code", value="91110000600037341M")
    assert not check.valid


def test_luhn_valid_and_invalid():
    assert validate_value(validator="luhn", value="6216613280710374854").valid
    assert not validate_value(validator="luhn", value="6216613280710374855").valid


def test_resident_id_whose_region_has_no_county_is_a_warning_not_an_error():
    # python-stdnum's table lists 127101 without a county and raises KeyError looking it up.
    body = "12710119640718888"
    from stdnum.cn import ric

    check = validate_value(
        validator="cn_resident_id", value=body + ric.calc_check_digit(body + "0")
    )

    assert check.valid
    assert check.warnings == ["region code is unknown or retired"]


def test_vin_check_digit_iso_3779():
    assert vin_check_digit("1M8GDM9AXKP042788") == "X"
    assert validate_value(validator="vin_check_digit", value="LFM8CBYRXMR074503").valid


def test_vin_with_letter_o_is_invalid():
    assert not validate_value(validator="vin_check_digit", value="LFM8CBYRXMRO74503").valid


def test_unknown_validator_passes():
    assert validate_value(validator="no_such_thing", value="x").valid


def test_check_as_dict_omits_empty_warnings():
    assert Check(True).as_dict() == {"valid": True, "errors": []}
    assert Check(True, warnings=["w"]).as_dict() == {"valid": True, "errors": [], "warnings": ["w"]}


def test_id_card_cross_check_agrees():
    fields = {"idNumber": "11010519491231002X", "birthDate": "1949-12-31", "gender": "female"}
    checks, _ = validate_document(document_type="idCard", fields=fields, specs=ID_SPECS)
    assert all(c.valid for c in checks.values())
    assert set(checks) == {"idNumber", "birthDate", "gender"}


def test_id_card_cross_check_birth_date_disagrees():
    fields = {"idNumber": "11010519491231002X", "birthDate": "1949-12-30", "gender": "female"}
    checks, _ = validate_document(document_type="idCard", fields=fields, specs=ID_SPECS)
    assert not checks["birthDate"].valid
    assert not checks["idNumber"].valid
    assert checks["gender"].valid


def test_id_card_cross_check_gender_disagrees():
    fields = {"idNumber": "11010519491231002X", "gender": "male"}
    checks, _ = validate_document(document_type="idCard", fields=fields, specs=ID_SPECS)
    assert not checks["gender"].valid


def test_null_fields_get_no_check():
    checks, _ = validate_document(document_type="idCard", fields={"name": "张三"}, specs=ID_SPECS)
    assert checks == {}


def test_passport_agrees_with_its_mrz():
    mrz = find_mrz(MRZ)
    fields = {"passportNumber": "SSBZ4RWTY", "surname": "SUZUKI", "birthDate": "1954-03-16"}
    checks, warnings = validate_document(
        document_type="passport", fields=fields, specs=PASSPORT_SPECS, mrz=mrz
    )
    assert all(c.valid for c in checks.values())
    assert warnings == []


def test_passport_visual_zone_disagreeing_with_mrz():
    mrz = find_mrz(MRZ)
    fields = {"passportNumber": "SSBZ4RWTY", "surname": "SATO"}
    checks, _ = validate_document(
        document_type="passport", fields=fields, specs=PASSPORT_SPECS, mrz=mrz
    )
    assert not checks["surname"].valid
    assert "does not match the MRZ" in checks["surname"].errors


def test_passport_failing_check_digit():
    mrz = find_mrz([MRZ[0], MRZ[1].replace("5403167", "5403168")])
    fields = {"passportNumber": "SSBZ4RWTY", "birthDate": "1954-03-16"}
    checks, _ = validate_document(
        document_type="passport", fields=fields, specs=PASSPORT_SPECS, mrz=mrz
    )
    assert not checks["birthDate"].valid


def test_fields_of_new_types_without_validators_pass():
    specs = [FieldSpec(key="memberNo", label="会员号", format="code")]
    checks, _ = validate_document(document_type="member", fields={"memberNo": "A1"}, specs=specs)
    assert checks == {}


def test_mask_sensitive():
    assert mask_sensitive("11010519491231002X") == "110*************2X"
    assert mask_sensitive("12345") == "*****"
    assert mask_sensitive(None) is None


def test_shipped_types_have_six_types_with_labels():
    types = shipped_document_types()
    assert set(types) == {
        "idCard",
        "passport",
        "driverLicense",
        "bankCard",
        "businessLicense",
        "vehicleLicense",
    }
    assert types["idCard"][5].validator == "cn_resident_id"
    assert types["idCard"][5].sensitive

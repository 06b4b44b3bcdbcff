"""The rules extractor: layouts of phone OCR, accuracy on generated and sample cases."""

import pytest

from ocr.casegen import SAMPLE_SET, generate_cases
from ocr.evaluation import detection_accuracy, load_cases, rules_extract_fn, score_cases
from ocr.rules import Candidate, detect_document_type, extract
from ocr.rules.values import read_credit_code, read_vin
from ocr.validators import is_vin_alphabet
from prompts.document_types import FieldSpec, shipped_document_types

TYPES = shipped_document_types()


def values(document_type: str, lines: list[str]) -> dict[str, str | None]:
    found = extract(document_type=document_type, lines=lines, fields=TYPES[document_type])
    return {k: (c.value if c else None) for k, c in found.items()}


# --- identity card -------------------------------------------------------------------------


def test_every_field_key_is_present():
    found = extract(document_type="idCard", lines=["姓名 张三"], fields=TYPES["idCard"])
    assert set(found) == {f.key for f in TYPES["idCard"]}
    assert isinstance(found["name"], Candidate)
    assert found["address"] is None


def test_id_card_labels_and_values_on_one_line():
    got = values(
        "idCard",
        [
            "姓名 马怡磊",
            "性别 男 民族 汉",
            "出生 2001年 6月 5日",
            "住址 山东省青岛市市南区学院路53号",
            "公民身份号码 370202200106057413",
        ],
    )
    assert got["name"] == "马怡磊"
    assert (got["gender"], got["ethnicity"]) == ("male", "汉")
    assert got["birthDate"] == "2001-06-05"
    assert got["address"] == "山东省青岛市市南区学院路53号"
    assert got["idNumber"] == "370202200106057413"
    assert got["validUntil"] is None


def test_id_card_values_on_the_next_line_and_letter_spaced_labels():
    got = values(
        "idCard",
        ["姓 名", "汤英静", "性 别", "男", "民 族", "土家", "公民身份号码", "130102199403297194"],
    )
    assert (got["name"], got["gender"], got["ethnicity"]) == ("汤英静", "male", "土家")
    assert got["idNumber"] == "130102199403297194"


def test_id_card_value_glued_to_its_label():
    got = values("idCard", ["姓名梁兰桂", "性别女民族汉", "住址北京市朝阳区珞喻路200号"])
    assert (got["name"], got["gender"], got["ethnicity"]) == ("梁兰桂", "female", "汉")
    assert got["address"] == "北京市朝阳区珞喻路200号"


def test_id_card_wrapped_address():
    got = values(
        "idCard", ["住 址 河北省石家庄市长安区新华路", "20号6号楼1单元535室", "公民身份号码"]
    )
    assert got["address"] == "河北省石家庄市长安区新华路20号6号楼1单元535室"


def test_id_card_address_end_printed_before_its_label():
    got = values(
        "idCard", ["道71号", "住 址  上海市徐汇区滨海大", "公民身份号码 310104197206119396"]
    )
    assert got["address"] == "上海市徐汇区滨海大道71号"


def test_id_card_value_before_its_label():
    got = values("idCard", ["2004年10月25日", "出生", "住址 湖北省武汉市武昌区和平街244号"])
    assert got["birthDate"] == "2004-10-25"


def test_id_card_labels_in_a_row_over_values_in_a_row():
    got = values("idCard", ["性别 民族", "女 回"])
    assert (got["gender"], got["ethnicity"]) == ("female", "回")


def test_id_number_o_read_for_zero_is_repaired():
    got = values("idCard", ["公民身份号码  1301O2198501283664"])
    assert got["idNumber"] == "130102198501283664"


def test_id_number_in_spaced_groups_and_full_width():
    assert (
        values("idCard", ["公民身份号码 410105 20000229 0727"])["idNumber"] == "410105200002290727"
    )
    full = "".join(chr(ord(c) + 0xFEE0) for c in "11010519491231002X")
    assert values("idCard", [f"公民身份号码 {full}"])["idNumber"] == "11010519491231002X"


def test_id_number_found_without_its_label_when_the_check_digit_holds():
    got = values("idCard", ["姓名 张三", "11010519491231002X"])
    assert got["idNumber"] == "11010519491231002X"


def test_value_on_its_label_line_is_believed_more_than_one_lines_away():
    same_line = extract(document_type="idCard", lines=["姓名 张三"], fields=TYPES["idCard"])
    next_line = extract(
        document_type="idCard", lines=["姓名", "民族 汉", "张三"], fields=TYPES["idCard"]
    )
    assert same_line["name"].value == next_line["name"].value == "张三"
    assert same_line["name"].confidence > next_line["name"].confidence


def test_id_number_belief_follows_its_check_digit():
    passing = extract(
        document_type="idCard", lines=["公民身份号码 370202200106057413"], fields=TYPES["idCard"]
    )["idNumber"]
    failing = extract(
        document_type="idCard", lines=["公民身份号码 370202200106057414"], fields=TYPES["idCard"]
    )["idNumber"]
    assert failing.value == "370202200106057414"
    assert passing.confidence >= 0.97
    assert failing.confidence < 0.6


def test_id_card_back_side_validity():
    got = values(
        "idCard", ["居民身份证", "签发机关 天津市公安局和平分局", "有效期限 2020.04.04 - 长期"]
    )
    assert got["issuingAuthority"] == "天津市公安局和平分局"
    assert (got["validFrom"], got["validUntil"]) == ("2020-04-04", "long-term")
    assert got["name"] is None


def test_noise_lines_are_not_values():
    got = values("idCard", ["姓名", "丨", "国徽", "钱伟", "性别", "一", "女"])
    assert (got["name"], got["gender"]) == ("钱伟", "female")


def test_title_lines_are_not_values():
    assert values("idCard", ["姓名", "居民身份证"])["name"] is None


# --- driver's licence ----------------------------------------------------------------------


def test_driver_license_bilingual_labels():
    got = values(
        "driverLicense",
        [
            "证号 210102199503263370",
            "姓名 Name 高杰燕",
            "性别 男 Sex 国籍 中国 Nationality",
            "住址 辽宁省沈阳市和平区东风路180号",
            "Address",
            "出生日期 1995-03-26",
            "Date of Birth",
            "准驾车型 C1",
            "Class",
            "有效期限 2015-03-15 至 2021-03-15",
        ],
    )
    assert got["licenseNumber"] == "210102199503263370"
    assert (got["name"], got["gender"], got["nationality"]) == ("高杰燕", "male", "中国")
    assert got["address"] == "辽宁省沈阳市和平区东风路180号"
    assert got["vehicleClass"] == "C1"
    assert (got["validFrom"], got["validUntil"]) == ("2015-03-15", "2021-03-15")


def test_driver_license_separate_start_and_end_dates():
    got = values("driverLicense", ["有效起始日期 2012-11-21", "有效期限 2022-11-21"])
    assert (got["validFrom"], got["validUntil"]) == ("2012-11-21", "2022-11-21")


def test_driver_license_english_label_before_a_full_width_value():
    got = values("driverLicense", ["出生日期 １９６９－０２－１６", "Ｄａｔｅ ｏｆ Ｂｉｒｔｈ"])
    assert got["birthDate"] == "1969-02-16"


# --- vehicle licence -----------------------------------------------------------------------


def test_vehicle_license_two_pairs_on_one_line():
    got = values(
        "vehicleLicense",
        ["号牌号码 闽DSK3Z8 车辆类型 小型轿车", "注册日期 2012-03-19 发证日期 2015-01-05"],
    )
    assert (got["plateNumber"], got["vehicleType"]) == ("闽DSK3Z8", "小型轿车")
    assert (got["registerDate"], got["issueDate"]) == ("2012-03-19", "2015-01-05")


def test_vehicle_license_two_labels_then_two_values():
    got = values("vehicleLicense", ["号牌号码", "车辆类型", "冀A·D20772", "小型轿车"])
    assert (got["plateNumber"], got["vehicleType"]) == ("冀AD20772", "小型轿车")


def test_a_vin_whose_check_fails_with_no_impossible_character_comes_back_as_printed():
    # Reading its 6 as G would make the check digit hold: an invented VIN.
    assert read_vin("LSVAU2180N2123456") == ("LSVAU2180N2123456", False)


def test_a_vin_is_never_changed_to_a_letter_no_vin_holds():
    vin, check_holds = read_vin("WDB1240821A045679")

    assert (vin, check_holds) == ("WDB1240821A045679", False)
    assert is_vin_alphabet(vin)


def test_a_letter_in_a_vins_check_digit_position_is_read_as_its_digit():
    # The check digit of LFV2A21K5B3043101 is 5 (position 9); S cannot stand there.
    assert read_vin("LFV2A21KSB3043101") == ("LFV2A21K5B3043101", True)


def test_a_credit_code_whose_check_fails_with_no_impossible_character_comes_back_as_printed():
    # Reading 6 as G and 0 as D would make the check character hold.
    assert read_credit_code("91110108600037341N") == ("91110108600037341N", False)


def test_a_credit_code_letter_outside_its_alphabet_is_read_as_its_digit():
    assert read_credit_code("91350100M000100Y43") == ("91350100M000100Y43", True)
    assert read_credit_code("9135O1OOMOOO1OOY43") == ("91350100M000100Y43", True)


def test_vehicle_license_vin_with_letter_o():
    assert (
        values("vehicleLicense", ["车辆识别代号 L6TOX2941NP875424"])["vin"] == "L6T0X2941NP875424"
    )


def test_vehicle_license_values_before_their_labels_in_a_row():
    got = values(
        "vehicleLicense",
        ["TUK768741", "发动机号码", "2016-10-17", "注册日期", "发证日期", "2016-10-18"],
    )
    assert got["engineNumber"] == "TUK768741"
    assert (got["registerDate"], got["issueDate"]) == ("2016-10-17", "2016-10-18")


# --- business licence ----------------------------------------------------------------------


def test_business_license_scope_does_not_leak_into_fields():
    got = values(
        "businessLicense",
        [
            "统一社会信用代码 91310104QA51HMCX5E",
            "名称 上海东方启明建筑工程有限公司",
            "经营范围 技术开发、技术咨询、技术服务;软件开发;销售电子",
            "法定代表人  潘文娥",
            "产品。(依法须经批准的项目，经相关部门批准后方可开展经营",
            "活动)",
            "注册资本",
            "100万元",
        ],
    )
    assert got["legalRepresentative"] == "潘文娥"
    assert got["registeredCapital"] == "100万元"
    assert got["address"] is None
    assert got["companyType"] is None


def test_business_license_address_wraps_past_the_business_term():
    got = values(
        "businessLicense",
        [
            "住所",
            "营业期限 2015年11月07日至2035年11月07日",
            "河南省郑州市金水区东风",
            "路３４７号２６层",
            "登记机关",
            "2020年3月25日",
        ],
    )
    assert got["address"] == "河南省郑州市金水区东风路347号26层"
    assert got["establishedDate"] is None


def test_credit_code_lowercase_l_in_region_digits():
    got = values("businessLicense", ["统一社会信用代码92420l06RCKYEWTW87"])
    assert got["creditCode"] == "92420106RCKYEWTW87"


def test_company_type_is_not_taken_for_the_name():
    got = values(
        "businessLicense",
        ["上海华信智联网络科技有限公司", "名称", "|", "有限责任公司(自然人投资或控股)", "类 型"],
    )
    assert got["companyName"] == "上海华信智联网络科技有限公司"
    assert got["companyType"] == "有限责任公司(自然人投资或控股)"


# --- bank card -----------------------------------------------------------------------------


def test_bank_card_fields():
    got = values(
        "bankCard",
        [
            "CCB",
            "中国建设银行",
            "信用卡 CREDIT CARD",
            "4367 4245 4160 3289",
            "有效期 VALID THRU",
            "10/30",
            "ZHANG JUAN",
        ],
    )
    assert got == {
        "cardNumber": "4367424541603289",
        "bankName": "中国建设银行",
        "cardType": "credit",
        "expiryDate": "2030-10",
        "cardholderName": "ZHANG JUAN",
    }


def test_bank_name_from_the_english_name():
    assert values("bankCard", ["BANK OF CHINA", "6216616633108104126"])["bankName"] == "中国银行"


def test_bank_card_without_expiry_or_holder():
    got = values("bankCard", ["平安银行", "借记卡", "6221 5500 0773 7764"])
    assert (got["expiryDate"], got["cardholderName"]) == (None, None)
    assert got["cardType"] == "debit"


def test_bank_card_number_split_over_two_lines():
    assert (
        values("bankCard", ["招商银行", "6225 8875", "9498 0563"])["cardNumber"]
        == "6225887594980563"
    )


def test_postal_savings_bank_is_not_a_card_type():
    assert values("bankCard", ["中国邮政储蓄银行", "6210982543006511760"])["cardType"] is None


# --- passport ------------------------------------------------------------------------------

CHINESE_PASSPORT = [
    "护照 PASSPORT",
    "类型/Type 国家码/Country Code 护照号/Passport No.",
    "P  CHN  EC3282556",
    "姓/Surname",
    "宋／ＳＯＮＧ",
    "名／Ｇｉｖｅｎ ｎａｍｅｓ",
    "春然/JING",
    "性别/Sex 出生地点/Place of birth",
    "女/F 上海/SHANGHAI",
    "出生日期/Date of birth",
    "20 OCT 1953",
    "签发地点/Place of issue 签发日期/Date of issue",
    "北京/BEIJING 27 NOV 2016",
    "有效期至/Date of expiry",
    "26 NOV 2026",
]
MRZ = [
    "P<CHNSONG< <JING<<<<<<<<<<<<<<<<<<<<<<<<<<<<<",
    "EC32825563CHN5310201F2611262HBNDKFN<FBAMML32",
]


def test_passport_from_the_mrz():
    found = extract(
        document_type="passport", lines=CHINESE_PASSPORT + MRZ, fields=TYPES["passport"]
    )
    assert found["passportNumber"].source == "mrz"
    assert found["passportNumber"].confidence >= 0.95
    assert found["nationality"].value == "CHN"


def test_passport_from_the_visual_zone_without_mrz():
    got = values("passport", CHINESE_PASSPORT)
    assert got["passportNumber"] == "EC3282556"
    assert (got["surname"], got["givenNames"]) == ("SONG", "JING")
    assert got["gender"] == "female"
    assert (got["birthDate"], got["expiryDate"]) == ("1953-10-20", "2026-11-26")
    assert got["issuingCountry"] == "CHN"
    assert got["nationality"] is None


def test_passport_issue_date_is_not_the_expiry():
    lines = [line for line in CHINESE_PASSPORT if "expiry" not in line and "2026" not in line]
    assert values("passport", lines)["expiryDate"] is None


# --- other types and fields ----------------------------------------------------------------


def test_unknown_type_uses_field_labels():
    specs = [
        FieldSpec(key="memberName", label="会员姓名 / Member", format="text"),
        FieldSpec(key="joined", label="入会日期", format="date"),
        FieldSpec(key="level", label="等级", format="text"),
    ]
    found = extract(
        document_type="memberCard",
        lines=["会 员 姓 名 王五", "入会日期", "2020年1月2日"],
        fields=specs,
    )
    assert found["memberName"].value == "王五"
    assert found["joined"].value == "2020-01-02"
    assert found["level"] is None


def test_field_added_to_a_shipped_type_uses_its_label():
    specs = [*TYPES["idCard"], FieldSpec(key="remark", label="备注", format="text")]
    found = extract(document_type="idCard", lines=["姓名 张三", "备注 临时证件"], fields=specs)
    assert found["remark"].value == "临时证件"


# --- detection -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["姓名 张三", "公民身份号码 11010519491231002X"], "idCard"),
        (["中华人民共和国机动车驾驶证", "准驾车型 C1"], "driverLicense"),
        (["号牌号码 京A12345", "车辆识别代号 LFM8CBYRXMR074503"], "vehicleLicense"),
        (["营业执照", "统一社会信用代码 91110000600037341L"], "businessLicense"),
        (["PASSPORT", "Surname", "SMITH"], "passport"),
        (["中国银行", "6216616633108104126"], "bankCard"),
    ],
)
def test_detects_each_type(lines, expected):
    assert detect_document_type(lines=lines)[0] == expected


def test_detection_of_unrelated_text_is_none():
    assert detect_document_type(lines=["hello", "world"]) == (None, 0.0)


# --- accuracy ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated_cases():
    return generate_cases(300, seed=20240601)


def test_generated_cases_field_accuracy(generated_cases):
    report = score_cases(generated_cases, rules_extract_fn)
    assert report["fieldAccuracy"] >= 0.97
    assert report["inventedRate"] <= 0.01


def test_generated_cases_detection(generated_cases):
    assert detection_accuracy(generated_cases)["accuracy"] >= 0.98


def test_generated_cases_cover_every_type(generated_cases):
    assert {c["documentType"] for c in generated_cases} == set(TYPES)


@pytest.fixture(scope="module")
def sample_cases():
    return load_cases(SAMPLE_SET)


def test_sample_set_field_accuracy(sample_cases):
    report = score_cases(sample_cases, rules_extract_fn)
    assert report["fieldAccuracy"] >= 0.99
    assert report["inventedRate"] <= 0.01


def test_sample_set_detection(sample_cases):
    assert detection_accuracy(sample_cases)["accuracy"] >= 0.98


# --- labels OCR split ------------------------------------------------------------------------

LICENCE_HEAD = ["营业执照", "统一社会信用代码 91350100M000100Y43"]


def test_business_licence_address_label_split_over_two_lines():
    got = values("businessLicense", [*LICENCE_HEAD, "住", "所 福建省福州市鼓楼区五四路100号"])
    assert got["address"] == "福建省福州市鼓楼区五四路100号"


def test_business_licence_address_label_halves_alone_then_the_value():
    got = values("businessLicense", [*LICENCE_HEAD, "住", "所", "福建省福州市鼓楼区五四路100号"])
    assert got["address"] == "福建省福州市鼓楼区五四路100号"


def test_company_name_read_without_the_first_half_of_its_label():
    got = values("businessLicense", [*LICENCE_HEAD, "称 福州示例科技有限公司"])
    assert got["companyName"] == "福州示例科技有限公司"


def test_company_type_under_the_first_half_of_its_label_alone():
    got = values(
        "businessLicense",
        [*LICENCE_HEAD, "名 称 福州示例科技有限公司", "类", "有限责任公司(自然人独资)"],
    )
    assert got["companyType"] == "有限责任公司(自然人独资)"


def test_id_number_on_the_line_after_a_truncated_label_is_not_an_address():
    got = values(
        "idCard",
        ["姓名 张三", "住址 北京市朝阳区建国路88号", "公民身份号", "11010519491231002X"],
    )
    assert got["address"] == "北京市朝阳区建国路88号"
    assert got["idNumber"] == "11010519491231002X"


# --- bank cards in real OCR noise --------------------------------------------------------------


def test_card_number_with_hyphens_between_its_groups():
    got = values("bankCard", ["中国银行", "6216-6132-8071-0374-854"])
    assert got["cardNumber"] == "6216613280710374854"


def test_expiry_split_over_valid_thru_and_a_bare_mmyy():
    got = values("bankCard", ["中国银行", "6216 6132 8071 0374 854", "VALID", "THRU", "1229"])
    assert got["expiryDate"] == "2029-12"


def test_expiry_mmyy_without_slash_after_its_label():
    got = values("bankCard", ["中国银行", "6216 6132 8071 0374 854", "VALID THRU 0330"])
    assert got["expiryDate"] == "2030-03"


def test_expiry_with_letter_o_for_zero():
    got = values("bankCard", ["中国银行", "6216 6132 8071 0374 854", "VALID THRU O3/3O"])
    assert got["expiryDate"] == "2030-03"


def test_two_bank_names_on_one_line_give_the_one_the_card_number_names():
    got = values("bankCard", ["招商银行 中国银行", "6216 6132 8071 0374 854"])
    assert got["bankName"] == "中国银行"


def test_a_bank_name_split_over_two_lines_is_joined():
    got = values("bankCard", ["中国工商", "银行", "6222 0212 3456 7890 128"])
    assert got["bankName"] == "中国工商银行"


def test_a_garbled_bank_name_is_read_from_the_card_numbers_issuer_prefix():
    got = values("bankCard", ["中困银彳亍", "6216 6132 8071 0374 854"])
    assert got["bankName"] == "中国银行"


def test_no_bank_is_named_for_a_prefix_the_table_does_not_hold():
    got = values("bankCard", ["9999000000000000004"])
    assert got["bankName"] is None


def test_a_banks_code_and_product_name_is_not_the_cardholder():
    got = values("bankCard", ["中国银行", "BOC GREAT WALL", "6216 6132 8071 0374 854", "ZHANG SAN"])
    assert got["cardholderName"] == "ZHANG SAN"


def test_validity_range_with_a_comma_for_a_dot_and_a_dropped_dot():
    got = values("idCard", ["签发机关 北京市公安局朝阳分局", "有效期限 2015.0301-2035,0301"])
    assert (got["validFrom"], got["validUntil"]) == ("2015-03-01", "2035-03-01")


def test_id_card_whose_labels_ocr_lost_is_read_in_printed_order():
    got = values(
        "idCard",
        ["张三", "女 汉", "1949年12月31日", "北京市朝阳区建国", "路88号", "11010519491231002X"],
    )
    assert got == {
        "name": "张三",
        "gender": "female",
        "ethnicity": "汉",
        "birthDate": "1949-12-31",
        "address": "北京市朝阳区建国路88号",
        "idNumber": "11010519491231002X",
        "issuingAuthority": None,
        "validFrom": None,
        "validUntil": None,
    }


def test_values_in_printed_order_are_not_read_without_an_id_number_to_anchor_them():
    got = values("idCard", ["张三", "女 汉", "1949年12月31日"])
    assert got["name"] is None and got["birthDate"] is None


def test_values_read_by_printed_order_are_not_believed_highly():
    found = extract(
        document_type="idCard",
        lines=["张三", "女 汉", "1949年12月31日", "北京市朝阳区建国路88号", "11010519491231002X"],
        fields=TYPES["idCard"],
    )
    assert found["name"].confidence < 0.9


def test_a_company_name_printed_before_its_label_on_the_same_line():
    got = values("businessLicense", [*LICENCE_HEAD, "西安瑞丰华信物流有限公司名称"])
    assert got["companyName"] == "西安瑞丰华信物流有限公司"


def test_a_label_glued_after_the_number_before_it_is_still_a_label():
    got = values("driverLicense", ["证号320102197501149335姓名杨洋", "准驾车型 C1"])
    assert got["name"] == "杨洋"
    assert got["licenseNumber"] == "320102197501149335"


def test_a_resident_id_after_another_number_on_its_line():
    got = values("idCard", ["住址 江苏省南京市玄武区科技园南路310号2单元1 32010219500904177X"])
    assert got["idNumber"] == "32010219500904177X"


def test_driving_licence_whose_labels_ocr_lost_is_read_in_printed_order():
    got = values(
        "driverLicense",
        [
            "中华人民共和国机动车驾驶证",
            "证号 11010519491231002X",
            "张三",
            "女 中国",
            "北京市朝阳区建国路88号",
            "1949-12-31",
            "2010-05-06",
            "C1",
            "2016-05-06 至 2026-05-06",
        ],
    )
    assert got == {
        "licenseNumber": "11010519491231002X",
        "name": "张三",
        "gender": "female",
        "nationality": "中国",
        "address": "北京市朝阳区建国路88号",
        "birthDate": "1949-12-31",
        "firstIssueDate": "2010-05-06",
        "vehicleClass": "C1",
        "validFrom": "2016-05-06",
        "validUntil": "2026-05-06",
    }


def test_a_field_two_labelled_lines_give_two_values_is_not_believed():
    found = extract(
        document_type="idCard",
        lines=["姓名 李四", "姓名 张三", "性别 女 民族 汉"],
        fields=TYPES["idCard"],
    )
    assert found["name"].confidence <= 0.5
    assert found["gender"].confidence >= 0.85


# --- a whole card read as one string, values before their labels --------------------------


def test_a_card_in_one_string_gives_a_name_printed_before_its_label():
    line = (
        "中华人民共和国 居民身份证 签发机关 西安市公安局雁塔分局 有效期限2023.05.24—2043.05.24 "
        "罗桂超 姓名 性 别 女 民族 土家 出生 1985年 12月 14日"
    )
    got = values("idCard", [line])

    assert got["name"] == "罗桂超"
    assert (got["validFrom"], got["validUntil"]) == ("2023-05-24", "2043-05-24")


def test_a_card_in_one_string_keeps_the_id_number_before_its_label_out_of_the_address():
    line = (
        "姓名 赵勇 性别 女 民族 朝鲜 出生 1986年3月18日 住址福建省厦门市思明区滨江大道42号 "
        "350203 19860318 2146 公民身份号码"
    )
    got = values("idCard", [line])

    assert got["address"] == "福建省厦门市思明区滨江大道42号"
    assert got["idNumber"] == "350203198603182146"


def test_a_card_in_one_string_gives_an_authority_printed_before_its_label():
    line = (
        "中华人民共和国 居民身份证 :: 深圳市公安局南山分局签发机关 有效期限2015.01.13-长期 "
        "姓名 郭丽刚"
    )
    got = values("idCard", [line])

    assert got["issuingAuthority"] == "深圳市公安局南山分局"
    assert got["name"] == "郭丽刚"


def test_a_value_across_a_wide_gap_is_not_taken_for_the_label_after_it():
    lines = [
        "签发地点/Place of issue 签发日期/Date of issue",
        "北京/BEIJING 20 AUG 2017   有效期至/Date of expiry",
        "19 AUG 2027",
    ]
    assert values("passport", lines)["expiryDate"] == "2027-08-19"


# --- passport lines merged by OCR ------------------------------------------------------------


def test_a_passport_type_line_merged_with_its_row_of_labels_is_read():
    lines = [
        "护照 PASSPORT",
        "类型/Type 国家码/Country Code 护照号/Passport No.   P  CHN  EC3316185",
        "姓/Surname",
        "邓/DENG",
    ]
    got = values("passport", lines)

    assert (got["passportNumber"], got["issuingCountry"]) == ("EC3316185", "CHN")


def test_a_passport_type_line_merged_with_the_label_after_it_is_read():
    lines = ["P  CHN  EA1991362   姓/Surname", "赵/ZHAO", "名/Given names", "洋/YANG"]
    got = values("passport", lines)

    assert (got["passportNumber"], got["issuingCountry"]) == ("EA1991362", "CHN")
    assert got["surname"] == "ZHAO"


def test_a_passport_date_merged_with_the_zone_is_read_from_the_zone():
    lines = [
        "Date of issue",
        "15 APR 2002",
        "Date of expiry",
        "15 APR 2012   P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
    ]
    got = values("passport", lines)

    assert got["expiryDate"] == "2012-04-15"
    assert got["surname"] == "ERIKSSON"


def test_a_card_in_one_string_does_not_cut_a_validity_period_for_the_label_after_it():
    line = "签发机关 杭州市公安局西湖分局 有 效 期 限 2011.10.03 - 长期 姓名 性 别 男 民族 回"
    got = values("idCard", [line])

    assert (got["validFrom"], got["validUntil"]) == ("2011-10-03", "long-term")
    assert got["name"] is None


def test_a_label_in_a_column_merged_after_the_business_scope_is_read():
    lines = [
        "名称：南京启明汇通文化传媒有限公司",
        "经营范围 技术开发、技术咨询、技术服务；软件开发；   法定代表人：林平",
        "销售电子产品、计算机软硬件。",
    ]
    assert values("businessLicense", lines)["legalRepresentative"] == "林平"


def test_the_business_scope_still_swallows_the_labels_of_its_own_text():
    lines = ["经营范围 企业管理咨询；住所租赁服务", "住所 北京市朝阳区建国路88号"]
    assert values("businessLicense", lines)["address"] == "北京市朝阳区建国路88号"


def test_an_address_whose_end_ocr_merged_into_its_line_beyond_a_gap_is_whole():
    lines = [
        "姓名 张三",
        "住址 福建省厦门市思明   区幸福村393号",
        "公民身份号码 11010519491231002X",
    ]
    assert values("idCard", lines)["address"] == "福建省厦门市思明区幸福村393号"


def test_an_address_on_the_line_after_its_label_takes_its_end_beyond_a_gap():
    lines = [
        "住址",
        "北京市朝阳区科技园南路247号21   号楼4单元882室",
        "公民身份号码 11010519491231002X",
    ]
    assert values("idCard", lines)["address"] == "北京市朝阳区科技园南路247号21号楼4单元882室"


def test_an_address_that_is_complete_does_not_take_the_other_column():
    lines = ["住址 北京市朝阳区建国路88号   北京市公安局朝阳分局", "姓名 张三"]
    assert values("idCard", lines)["address"] == "北京市朝阳区建国路88号"


# --- a row of labels followed by its values in the same order --------------------------------


def test_a_row_of_glued_labels_takes_its_values_in_order():
    got = values("idCard", ["姓名 张三", "性别民族 男 汉"])
    assert (got["gender"], got["ethnicity"]) == ("male", "汉")


def test_values_run_together_after_a_row_of_labels_are_cut_where_each_fits_its_label():
    got = values("idCard", ["姓名 张三", "性别 民族 女汉"])
    assert (got["gender"], got["ethnicity"]) == ("female", "汉")


def test_a_row_of_labels_and_its_values_glued_into_one_word():
    got = values("driverLicense", ["证号 11010519491231002X", "性别国籍女中国"])
    assert (got["gender"], got["nationality"]) == ("female", "中国")


def test_a_row_of_labels_inside_a_card_read_as_one_string_takes_its_values():
    line = "姓名 赵刚华 性别 民族 男 汉 出生 1951年7月1日 公民身份号码 11010519491231002X"
    got = values("idCard", [line])
    assert (got["gender"], got["ethnicity"], got["birthDate"]) == ("male", "汉", "1951-07-01")


def test_a_stray_mark_between_a_rows_values_is_left_out():
    got = values("idCard", ["姓名 赵敏 性别民族 男汉 国徽 出生1987年12月14日"])
    assert (got["gender"], got["ethnicity"]) == ("male", "汉")


def test_values_run_together_on_the_line_under_a_row_of_labels_are_cut_in_order():
    got = values("idCard", ["姓名：曹浩", "性别民族", "男回", "出生1964年10月9日"])
    assert (got["gender"], got["ethnicity"]) == ("male", "回")


def test_one_fields_label_in_two_languages_is_not_a_row_of_labels():
    got = values("driverLicense", ["证号 11010519491231002X", "姓名 Name 司马娜芳"])
    assert got["name"] == "司马娜芳"


def test_a_value_under_labels_that_end_a_line_of_pairs_is_not_cut_between_them():
    lines = [
        "证号 11010519491231002X",
        "性别男Sex国籍中国Nationality住址",
        "北京市朝阳区",
        "幸福村218号",
    ]
    got = values("driverLicense", lines)
    assert got["address"] == "北京市朝阳区幸福村218号"
    assert got["nationality"] == "中国"


def test_a_value_under_two_columns_of_labels_is_not_cut_between_them():
    lines = [*LICENCE_HEAD, "厦门宏图远景建筑工程有限公司", "名 称   类型", "有限合伙企业"]
    got = values("businessLicense", lines)
    assert got["companyType"] == "有限合伙企业"
    assert got["companyName"] == "厦门宏图远景建筑工程有限公司"


# --- every label lost: values read by their shape ------------------------------------------


def test_an_identity_card_whose_labels_were_lost_with_its_number_read_first():
    lines = ["11010519491231002X", "张三", "女 汉", "1949年12月31日", "北京市朝阳区建国路88号"]
    got = values("idCard", lines)
    assert (got["name"], got["gender"], got["ethnicity"]) == ("张三", "female", "汉")
    assert (got["birthDate"], got["address"]) == ("1949-12-31", "北京市朝阳区建国路88号")


def test_an_identity_card_whose_lost_labels_values_are_partly_shuffled():
    lines = [
        "女",
        "张三",
        "1949年12月31日",
        "汉",
        "北京市朝阳区建国",
        "路88号",
        "11010519491231002X",
    ]
    got = values("idCard", lines)
    assert (got["name"], got["gender"], got["ethnicity"]) == ("张三", "female", "汉")
    assert got["address"] == "北京市朝阳区建国路88号"


def test_a_driving_licence_whose_labels_were_lost_with_its_values_partly_shuffled():
    lines = [
        "中华人民共和国机动车驾驶证",
        "11010519491231002X",
        "张三",
        "北京市朝阳区建国路88号",
        "女 中国",
        "1949-12-31",
        "C1",
        "2010-05-06",
        "2016-05-06 至 2026-05-06",
    ]
    got = values("driverLicense", lines)
    assert (got["name"], got["gender"], got["nationality"]) == ("张三", "female", "中国")
    assert (got["address"], got["birthDate"]) == ("北京市朝阳区建国路88号", "1949-12-31")
    assert (got["firstIssueDate"], got["vehicleClass"]) == ("2010-05-06", "C1")
    assert (got["validFrom"], got["validUntil"]) == ("2016-05-06", "2026-05-06")


def test_a_driving_licence_whose_name_was_read_before_its_number():
    lines = ["张三", "11010519491231002X", "女", "中国", "北京市朝阳区建国路88号", "1949-12-31"]
    got = values("driverLicense", lines)
    assert (got["name"], got["gender"], got["nationality"]) == ("张三", "female", "中国")
    assert got["licenseNumber"] == "11010519491231002X"


def test_a_number_label_left_alone_is_not_read_as_the_name():
    lines = ["中华人民共和国机动车驾驶证", "11010519491231002X", "证号", "何艳军", "女", "中国"]
    assert values("driverLicense", lines)["name"] == "何艳军"


def test_a_name_beside_the_sex_on_one_line_is_read_apart_from_it():
    lines = ["证号", "11010519491231002X", "张涛娜 女 中国", "北京市朝阳区建国路88号"]
    got = values("driverLicense", lines)
    assert (got["name"], got["gender"], got["nationality"]) == ("张涛娜", "female", "中国")


def test_a_driving_licences_three_lone_dates_are_read_in_time_order():
    lines = [
        "11010519491231002X",
        "张三",
        "女 中国",
        "2026-05-06",
        "1949-12-31",
        "2010-05-06",
        "2016-05-06",
    ]
    got = values("driverLicense", lines)
    assert got["birthDate"] == "1949-12-31"
    assert (got["firstIssueDate"], got["validFrom"]) == ("2010-05-06", "2016-05-06")
    assert got["validUntil"] == "2026-05-06"


def test_two_texts_with_a_names_shape_leave_the_name_empty():
    lines = ["11010519491231002X", "张三", "李四", "女 汉", "北京市朝阳区建国路88号"]
    got = values("idCard", lines)
    assert got["name"] is None
    assert got["gender"] == "female"


def test_a_date_the_id_number_does_not_hold_is_not_a_driving_licences_birth_date():
    lines = ["11010519491231002X", "张三", "女 中国", "1950-01-02"]
    got = values("driverLicense", lines)
    assert got["birthDate"] is None
    assert got["firstIssueDate"] is None


def test_values_whose_labels_were_lost_fill_the_fields_labelled_lines_leave_empty():
    lines = [
        "中华人民共和国机动车驾驶证",
        "证号:210102198110272810",
        "冯艳",
        "男中国",
        "住址辽宁省沈阳市和平区",
        "人民路8号",
        "出生日期:1981-10-27",
        "2006-05-17",
        "C1",
        "2006-05-17 至 2016-05-17",
    ]
    got = values("driverLicense", lines)
    assert (got["name"], got["gender"], got["nationality"]) == ("冯艳", "male", "中国")
    assert got["address"] == "辽宁省沈阳市和平区人民路8号"
    assert (got["firstIssueDate"], got["vehicleClass"]) == ("2006-05-17", "C1")


def test_a_short_value_inside_a_labelled_value_is_still_read_as_its_own():
    lines = [
        "签发机关武汉市公安局武昌分局",
        "马杰勇",
        "女",
        "汉",
        "1981年5月1日",
        "湖北省武汉市武昌区学府路376号",
        "420106198105016040",
    ]
    got = values("idCard", lines)
    assert (got["name"], got["ethnicity"]) == ("马杰勇", "汉")


def test_values_read_by_shape_are_not_believed_highly():
    lines = ["11010519491231002X", "张三", "女 汉", "1949年12月31日"]
    found = extract(document_type="idCard", lines=lines, fields=TYPES["idCard"])
    assert found["name"].confidence < 0.9
    assert found["name"].source == "position"


# --- an address wrapped where its head already looks complete ------------------------------


def test_an_address_wrapped_after_its_house_number_beyond_a_gap_takes_its_building():
    lines = ["姓名 张三", "住址 北京市朝阳区光华路8号   楼2单元301室"]
    assert values("idCard", lines)["address"] == "北京市朝阳区光华路8号楼2单元301室"


def test_a_vehicle_owners_address_wrapped_after_its_house_number_is_joined():
    lines = ["号牌号码 京A12345", "住址 北京市朝阳区光华路8号", "19号楼2单元301室"]
    assert values("vehicleLicense", lines)["address"] == "北京市朝阳区光华路8号19号楼2单元301室"


def test_a_business_address_wrapped_after_its_house_number_beyond_a_gap_is_joined():
    lines = [*LICENCE_HEAD, "住所 北京市朝阳区光华路8号   2单元301室"]
    assert values("businessLicense", lines)["address"] == "北京市朝阳区光华路8号2单元301室"


def test_a_complete_address_does_not_take_a_place_name_beyond_a_gap():
    lines = ["姓名 张三", "住址 北京市朝阳区光华路8号   幸福小区"]
    assert values("idCard", lines)["address"] == "北京市朝阳区光华路8号"


def test_a_label_repeating_its_field_in_english_starts_no_row_of_labels():
    lines = ["证号 11010519491231002X", "性别男Sex国籍中国Nationality住址北京市朝阳区黄河大街394号"]
    got = values("driverLicense", lines)
    assert (got["nationality"], got["address"]) == ("中国", "北京市朝阳区黄河大街394号")


def test_a_row_ending_with_a_stop_label_does_not_cut_the_text_after_it():
    lines = [*LICENCE_HEAD, "郭浩娜", "法定代表人经营范围货物进出口、技术进出口；国内贸易代理；"]
    assert values("businessLicense", lines)["legalRepresentative"] == "郭浩娜"


def test_a_name_is_not_cut_off_the_start_of_an_address_under_a_row_of_labels():
    lines = ["号牌号码粤F8DKCV", "郭浩丽", "所有人住址", "广东省深圳市南山区科技园南", "路1号"]
    got = values("vehicleLicense", lines)
    assert got["address"] == "广东省深圳市南山区科技园南路1号"
    assert got["owner"] == "郭浩丽"


def test_a_vehicle_licence_whose_labels_were_lost_is_read_by_the_shape_of_its_values():
    lines = [
        "中华人民共和国机动车行驶证",
        "LSVZX1SKX4E002335",
        "京GYQK4F",
        "小型轿车",
        "何强明",
        "北京市朝阳区解放大道59号",
        "租赁",
        "大众汽车牌SVW7147LBD",
        "WJC776342",
        "2023-07-08",
        "2024-01-14",
    ]
    got = values("vehicleLicense", lines)
    assert (got["vin"], got["plateNumber"]) == ("LSVZX1SKX4E002335", "京GYQK4F")
    assert (got["vehicleType"], got["owner"]) == ("小型轿车", "何强明")
    assert (got["address"], got["useCharacter"]) == ("北京市朝阳区解放大道59号", "租赁")
    assert (got["model"], got["engineNumber"]) == ("大众汽车牌SVW7147LBD", "WJC776342")
    assert (got["registerDate"], got["issueDate"]) == ("2023-07-08", "2024-01-14")


def test_a_vehicle_licences_dates_printed_against_time_order_are_left_empty():
    lines = ["LSVZX1SKX4E002335", "京GYQK4F", "何强明", "2024-01-14", "2023-07-08"]
    got = values("vehicleLicense", lines)
    assert (got["registerDate"], got["issueDate"]) == (None, None)
    assert got["owner"] == "何强明"


def test_a_business_licence_whose_labels_were_lost_is_read_by_the_shape_of_its_values():
    lines = [
        "营业执照",
        "91350100M000100Y43",
        "郑州恒达远景教育咨询有限公司",
        "有限责任公司(法人独资)",
        "唐博强",
        "3000万元",
        "2003年01月11日",
        "2003年01月11日至长期",
        "河南省郑州市金水区人民路355号",
        "技术开发、技术咨询、技术服务；软件开发；",
    ]
    got = values("businessLicense", lines)
    assert (got["companyName"], got["companyType"]) == (
        "郑州恒达远景教育咨询有限公司",
        "有限责任公司(法人独资)",
    )
    assert (got["legalRepresentative"], got["registeredCapital"]) == ("唐博强", "3000万元")
    assert (got["establishedDate"], got["address"]) == (
        "2003-01-11",
        "河南省郑州市金水区人民路355号",
    )


def test_a_business_licences_lone_date_is_not_read_without_the_term_that_starts_on_it():
    lines = ["营业执照", "91350100M000100Y43", "郑州恒达远景教育咨询有限公司", "2003年01月11日"]
    got = values("businessLicense", lines)
    assert got["establishedDate"] is None
    assert got["companyName"] == "郑州恒达远景教育咨询有限公司"


def test_a_text_of_more_lines_than_a_card_prints_is_not_read_by_shape():
    lines = ["11010519491231002X", "张三", "女 汉", *["北京市朝阳区建国路88号"] * 200]
    got = values("idCard", lines)
    assert (got["name"], got["gender"]) == (None, None)


def test_a_row_of_labels_before_a_long_run_of_words_is_not_split():
    got = values("idCard", ["性别 民族 " + "男 汉 " * 2000])
    assert (got["gender"], got["ethnicity"]) == (None, None)

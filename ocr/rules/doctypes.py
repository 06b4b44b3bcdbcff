"""Label rules of the label-and-value documents (identity card, driver's and vehicle licences,
business licence), and the generic rules built from FieldSpec labels for any other type or field.

Labels are written as printed on the documents (Chinese, with the English of bilingual cards);
stop labels name printed items that are not fields, so that their values (a business scope
paragraph, a business term, a registration authority) do not end up in a field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from ocr.normalize import nfkc, normalize_country, normalize_value
from ocr.rules import values as v
from ocr.rules.rule import FieldRule, PatternRule, Reader, Reading
from prompts.document_types import DocumentTypeKey, FieldSpec


def one(key: str, func: Callable[[str], str | None]) -> Reader:
    """Reader filling ``key`` from a text-to-value function."""

    def read(raw: str) -> Reading | None:
        value = func(raw)
        return None if value is None else {key: (value, None)}

    return read


def checked(key: str, func: Callable[[str], tuple[str, bool] | None]) -> Reader:
    """Reader filling ``key`` from a function that also says whether the check digit holds."""

    def read(raw: str) -> Reading | None:
        found = func(raw)
        return None if found is None else {key: found}

    return read


def validity(from_key: str, until_key: str) -> Reader:
    """Reader of a validity period: both ends, or the end alone."""

    def read(raw: str) -> Reading | None:
        found = v.read_date_range(raw)
        if found is None:
            return None
        start, end = found
        reading: Reading = {until_key: (end, None)} if end else {}
        if start:
            reading[from_key] = (start, None)
        return reading or None

    return read


def accept(pattern: str | None = None) -> Reader:
    """Stop-label reader: takes any text (or text matching ``pattern``) and fills nothing."""
    regex = re.compile(pattern) if pattern is not None else None

    def read(raw: str) -> Reading | None:
        if regex is not None and not regex.search(nfkc(raw)):
            return None
        return {}

    return read


_GENDER_RE = re.compile(r"(男|女)性?(?:/(?:M|F|MALE|FEMALE))?|(M|F|MALE|FEMALE)")
_CJK_WORD_RE = re.compile(rf"[{v.CJK}]{{2,10}}")
_LONG_CODE_RE = re.compile(r"[0-9A-Z]{10,20}")
_ADDRESS_END_RE = re.compile(r"[号室层楼栋幢座户]$")
_COMPLETE_ADDRESS_END_RE = re.compile(r"[号室层楼栋幢座户组]$")
_BRACKETED_RE = re.compile(r"[(（][^)）]*[)）]")
_LABEL_HALVES_RE = re.compile(r"\s*/\s*")
_RANGE_END_RE = re.compile(r"[(（]\s*(起|止|from|to|start|end)\s*[)）]", re.IGNORECASE)


def read_gender(raw: str) -> str | None:
    """男/女 (男性, 男/M) or M/F/MALE/FEMALE standing alone."""
    text = nfkc(raw).upper().replace(" ", "")
    m = _GENDER_RE.fullmatch(text)
    if not m:
        return None
    return normalize_value(format="gender", raw=m.group())


_ORGANISATION_END = re.compile(
    r"(公司|厂|店|中心|社|部|所|行|院|馆|局|会|队|处|站|场|集团|企业|委员会)$"
)


def read_owner(raw: str) -> str | None:
    """The owner of a vehicle: a person, or an organisation (a text that starts like an address
    must end like an organisation's name)."""
    name = v.read_person_name(raw)
    if name:
        return name
    company = v.read_company_name(raw)
    if company and v.is_address_head(company) and not _ORGANISATION_END.search(company):
        return None
    return company


def read_nationality_text(raw: str) -> str | None:
    """A nationality printed as a word (中国, CHINA)."""
    text = v.normalize_text(raw)
    if text and (_CJK_WORD_RE.fullmatch(text) or normalize_country(text) is not None):
        return text
    return None


def read_license_number(raw: str) -> Reading | None:
    """A driving licence number: a resident id number, else a long code (foreigners' licences)."""
    found = v.read_resident_id(raw)
    if found is not None:
        return {"licenseNumber": found}
    text = v.compact_upper(raw)
    if _LONG_CODE_RE.fullmatch(text) and sum(c.isdigit() for c in text) >= 8:
        return {"licenseNumber": (text, None)}
    return None


def _ends_like_address(text: str) -> bool:
    return v.is_address_tail(text) and bool(_ADDRESS_END_RE.search(text))


def address_rule(labels: tuple[str, ...], key: str = "address") -> FieldRule:
    """A wrapping address: continuation lines after it, or a tail printed just before its label."""
    return FieldRule(
        keys=(key,),
        labels=labels,
        read=one(key, v.read_address),
        continues=v.is_address_tail,
        before_tail=_ends_like_address,
        prefer=v.is_address_head,
        complete=lambda t: bool(_COMPLETE_ADDRESS_END_RE.search(t)),
        extends=v.is_building_tail,
    )


ID_CARD = (
    FieldRule(("name",), ("姓名",), one("name", v.read_person_name)),
    FieldRule(("gender",), ("性别",), one("gender", read_gender)),
    FieldRule(
        ("ethnicity",), ("民族",), one("ethnicity", lambda t: v.read_short_cjk(t, max_len=6))
    ),
    FieldRule(("birthDate",), ("出生", "出生日期"), one("birthDate", v.read_date)),
    address_rule(("住址",)),
    FieldRule(
        ("idNumber",),
        # The last two: the label as OCR often cuts it short.
        (
            "公民身份号码",
            "公民身份证号码",
            "身份证号码",
            "身份证号",
            "身份号码",
            "公民身份号",
            "身份号",
        ),
        checked("idNumber", v.read_resident_id),
    ),
    FieldRule(
        ("issuingAuthority",), ("签发机关", "发证机关"), one("issuingAuthority", v.read_authority)
    ),
    FieldRule(
        ("validFrom", "validUntil"), ("有效期限", "有效期"), validity("validFrom", "validUntil")
    ),
)
ID_CARD_PATTERNS = (PatternRule(("idNumber",), checked("idNumber", v.read_resident_id)),)

DRIVER_LICENSE = (
    FieldRule(
        ("licenseNumber",),
        ("证号", "驾驶证号", "License No.", "Licence No."),
        read_license_number,
    ),
    FieldRule(("name",), ("姓名", "Name"), one("name", v.read_person_name)),
    FieldRule(("gender",), ("性别", "Sex"), one("gender", read_gender)),
    FieldRule(("nationality",), ("国籍", "Nationality"), one("nationality", read_nationality_text)),
    address_rule(("住址", "Address")),
    FieldRule(("birthDate",), ("出生日期", "Date of Birth"), one("birthDate", v.read_date)),
    FieldRule(
        ("firstIssueDate",),
        ("初次领证日期", "Date of First Issue"),
        one("firstIssueDate", v.read_date),
    ),
    FieldRule(("vehicleClass",), ("准驾车型", "Class"), one("vehicleClass", v.read_vehicle_class)),
    FieldRule(
        ("validFrom",), ("有效起始日期", "起始日期", "Valid From"), one("validFrom", v.read_date)
    ),
    FieldRule(
        ("validFrom", "validUntil"),
        ("有效期限", "Valid Period", "Valid For"),
        validity("validFrom", "validUntil"),
    ),
)
DRIVER_LICENSE_PATTERNS = (
    PatternRule(("licenseNumber",), checked("licenseNumber", v.read_resident_id)),
)

VEHICLE_LICENSE = (
    FieldRule(("plateNumber",), ("号牌号码", "Plate No."), one("plateNumber", v.read_plate)),
    FieldRule(
        ("vehicleType",), ("车辆类型", "Vehicle Type"), one("vehicleType", v.read_vehicle_type)
    ),
    FieldRule(("owner",), ("所有人", "Owner"), one("owner", read_owner)),
    address_rule(("住址", "Address")),
    FieldRule(
        ("useCharacter",),
        ("使用性质", "Use Character"),
        one("useCharacter", lambda t: v.read_short_cjk(t, max_len=10)),
    ),
    FieldRule(("model",), ("品牌型号", "Model"), one("model", v.read_model)),
    FieldRule(
        ("vin",),
        ("车辆识别代号", "车辆识别代码", "车架号", "Vehicle Identification Number", "VIN"),
        checked("vin", v.read_vin),
    ),
    FieldRule(
        ("engineNumber",),
        ("发动机号码", "发动机号", "Engine No."),
        one("engineNumber", v.read_engine_number),
    ),
    FieldRule(("registerDate",), ("注册日期", "Register Date"), one("registerDate", v.read_date)),
    FieldRule(("issueDate",), ("发证日期", "Issue Date"), one("issueDate", v.read_date)),
)
VEHICLE_LICENSE_PATTERNS = (
    PatternRule(("vin",), checked("vin", v.read_vin)),
    PatternRule(
        ("plateNumber",), lambda t: {"plateNumber": (p, True)} if (p := v.read_plate(t)) else None
    ),
)

BUSINESS_LICENSE = (
    FieldRule(
        ("creditCode",),
        ("统一社会信用代码", "社会信用代码"),
        checked("creditCode", v.read_credit_code),
    ),
    FieldRule(("companyName",), ("名称", "企业名称"), one("companyName", v.read_company_name)),
    FieldRule(("companyType",), ("类型", "主体类型"), one("companyType", v.read_company_type)),
    FieldRule(
        ("legalRepresentative",),
        ("法定代表人", "负责人", "经营者", "执行事务合伙人", "投资人"),
        one("legalRepresentative", v.read_person_name),
    ),
    FieldRule(
        ("registeredCapital",),
        ("注册资本", "出资额", "注册资金"),
        one("registeredCapital", v.read_capital),
    ),
    FieldRule(("establishedDate",), ("成立日期", "注册日期"), one("establishedDate", v.read_date)),
    address_rule(("住所", "经营场所", "主要经营场所", "营业场所")),
    # Not fields: their values must not leak into the fields above.
    FieldRule(
        (),
        ("经营范围",),
        accept(),
        continues=v.looks_like_scope_continuation,
        swallow_line=True,
    ),
    FieldRule((), ("营业期限", "合伙期限", "经营期限"), accept(r"\d{4}|长期")),
    FieldRule((), ("登记机关",), accept(r"\d{4}\s*年|局$"), max_after=2, max_before=0),
    FieldRule(
        (), ("国家企业信用信息公示系统网址", "国家企业信用信息公示系统"), accept(r"http|www|gsxt")
    ),
)
BUSINESS_LICENSE_PATTERNS = (
    PatternRule(("creditCode",), checked("creditCode", v.read_credit_code)),
)

TYPE_RULES: dict[str, tuple[tuple[FieldRule, ...], tuple[PatternRule, ...]]] = {
    DocumentTypeKey.ID_CARD: (ID_CARD, ID_CARD_PATTERNS),
    DocumentTypeKey.DRIVER_LICENSE: (DRIVER_LICENSE, DRIVER_LICENSE_PATTERNS),
    DocumentTypeKey.VEHICLE_LICENSE: (VEHICLE_LICENSE, VEHICLE_LICENSE_PATTERNS),
    DocumentTypeKey.BUSINESS_LICENSE: (BUSINESS_LICENSE, BUSINESS_LICENSE_PATTERNS),
}


def label_variants(label: str) -> tuple[str, ...]:
    """Printed forms of a FieldSpec label: "有效期限(起)" is printed 有效期限; "姓 / Surname" is
    printed as either half or both."""
    base = _BRACKETED_RE.sub("", label).strip()
    halves = [h.strip() for h in _LABEL_HALVES_RE.split(base) if h.strip()]
    variants = [base, *halves] if len(halves) > 1 else [base]
    return tuple(dict.fromkeys(variants))


def _range_end(label: str) -> str | None:
    m = _RANGE_END_RE.search(label)
    if not m:
        return None
    return "start" if m[1].lower() in ("起", "from", "start") else "end"


def generic_rule(spec: FieldSpec) -> FieldRule:
    """A rule for a field known only by its FieldSpec: its label, read in its format."""
    end = _range_end(spec.label)

    def read(raw: str) -> Reading | None:
        text = raw
        if end is not None and spec.format in ("date", "validUntil"):
            found = v.read_date_range(raw)
            if found is None:
                return None
            value = found[0] if end == "start" else found[1]
            return {spec.key: (value, None)} if value else None
        if spec.format == "text":
            value = v.read_any_text(text)
        elif spec.format == "code":
            value = v.read_code(text)
        else:
            value = normalize_value(format=spec.format, raw=text)
        return None if value is None else {spec.key: (value, None)}

    return FieldRule((spec.key,), label_variants(spec.label), read)


def rules_for(
    document_type: str, specs: Sequence[FieldSpec]
) -> tuple[list[FieldRule], list[PatternRule]]:
    """The rules for a document type: the built-in ones for the fields they know, generic ones
    (from FieldSpec labels) for every other field, and the built-in pattern rules."""
    known, patterns = TYPE_RULES.get(document_type, ((), ()))
    wanted = {s.key for s in specs}
    rules = [r for r in known if not r.keys or set(r.keys) & wanted]
    covered = {k for r in rules for k in r.keys}
    rules += [generic_rule(s) for s in specs if s.key not in covered]
    return rules, [p for p in patterns if set(p.keys) <= wanted]

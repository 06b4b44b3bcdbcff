"""Vehicle and business licences whose labels OCR lost, read by the shape of their values.

Like ``ocr.rules.positional`` for identity cards and driving licences: where a code whose check
holds anchors the document (a VIN, a unified social credit code), each field the label engine
left empty takes the one text outside labels with its shape, and stays empty where several texts
have it. Dates are told apart by what they mean where their printed order agrees: a vehicle is
registered before (or when) its licence is issued; a company is established on the first day of
its business term.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ocr.rules import values as v
from ocr.rules.doctypes import BUSINESS_LICENSE, VEHICLE_LICENSE
from ocr.rules.positional import ShapeReader, period, single_date
from ocr.rules.rule import Candidate

# The uses a vehicle licence prints (GA 802).
USE_CHARACTERS = frozenset(
    (
        "非营运",
        "营运",
        "出租客运",
        "预约出租客运",
        "公路客运",
        "旅游客运",
        "公交客运",
        "租赁",
        "货运",
        "教练",
        "警用",
        "消防",
        "救护",
        "工程救险",
        "营转非",
        "出租转非",
        "危化品运输",
        "幼儿校车",
        "小学生校车",
        "中小学生校车",
        "初中生校车",
        "其他校车",
    )
)
_ORGANISATION_END_RE = re.compile(r"(公司|厂|店|中心|社|集团|企业|商行|事务所|工作室)$")
# A registration authority (登记机关 北京市朝阳区市场监督管理局) is not the company.
_AUTHORITY_RE = re.compile(r"管理局|监督|工商")
_COMPANY_TYPE_START_RE = re.compile(
    r"^(有限责任公司|股份有限公司|个人独资企业|(有限|普通)?合伙企业|个体工商户|全民所有制|"
    r"集体所有制|外商投资|农民专业合作社|其他有限责任公司)"
)


def _use_character(raw: str) -> str | None:
    text = v.normalize_text(raw) or ""
    return text if text in USE_CHARACTERS else None


def _organisation(raw: str) -> str | None:
    name = v.read_company_name(raw)
    if name and _ORGANISATION_END_RE.search(name) and not _AUTHORITY_RE.search(name):
        return name
    return None


def _owner(raw: str) -> str | None:
    """A person's name, or an organisation's (a vehicle's owner)."""
    return v.read_person_name(raw) or _organisation(raw)


def _company_type(raw: str) -> str | None:
    text = v.normalize_text(raw) or ""
    return v.read_company_type(text) if _COMPANY_TYPE_START_RE.match(text) else None


def _two_dates(reader: ShapeReader) -> tuple[str, str] | None:
    """The register and issue dates of a vehicle licence: two texts of one date each, or one
    text of both, where the earlier is printed first (the order the card prints them in and
    the order of time agree); None otherwise."""
    singles = [(i, d) for i in reader.free() if (d := single_date(reader.texts[i].text))]
    pairs = [(i, p) for i in reader.free() if (p := period(reader.texts[i].text))]
    if len(singles) == 2 and not pairs:
        found = [i for i, _ in singles], (singles[0][1], singles[1][1])
    elif len(pairs) == 1 and not singles:
        found = [pairs[0][0]], pairs[0][1]
    else:
        return None
    lines, (first, second) = found
    if first > second:
        return None
    for i in lines:
        reader.texts[i].taken = True
    return first, second


def vehicle_license_by_shape(
    lines: Sequence[str], found: dict[str, Candidate | None]
) -> dict[str, Candidate]:
    """A vehicle licence's fields the label engine left empty, read by shape from the texts
    outside labels; {} where no VIN whose check digit holds anchors them."""
    reader = ShapeReader(lines, VEHICLE_LICENSE, found, read_anchor=v.read_vin)
    if reader.anchor is None:
        return {}
    reader.put("vin", reader.anchor)
    reader.take("plateNumber", v.read_plate)
    reader.take("vehicleType", v.read_vehicle_type)
    reader.take("useCharacter", _use_character)
    reader.take("model", lambda t: v.read_model(t) if "牌" in t else None)
    reader.take("engineNumber", v.read_engine_number)
    reader.address()
    reader.take("owner", _owner)
    if reader.wants("registerDate") and reader.wants("issueDate"):
        dates = _two_dates(reader)
        if dates is not None:
            reader.put("registerDate", dates[0])
            reader.put("issueDate", dates[1])
    return reader.out


def business_license_by_shape(
    lines: Sequence[str], found: dict[str, Candidate | None]
) -> dict[str, Candidate]:
    """A business licence's fields the label engine left empty, read by shape from the texts
    outside labels; {} where no credit code whose check character holds anchors them."""
    reader = ShapeReader(lines, BUSINESS_LICENSE, found, read_anchor=v.read_credit_code)
    if reader.anchor is None:
        return {}
    reader.put("creditCode", reader.anchor)
    reader.take("companyType", _company_type)
    reader.take("companyName", _organisation)
    reader.take("registeredCapital", v.read_capital)
    reader.address()
    reader.take("legalRepresentative", v.read_person_name)
    term = reader.only(period)
    if term is not None:
        start = (period(reader.texts[term[0]].text) or ("", ""))[0]
        reader.take("establishedDate", lambda t: d if (d := single_date(t)) == start else None)
    return reader.out

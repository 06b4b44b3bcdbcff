"""Which document a set of OCR lines comes from, by the words each kind of document prints."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ocr.mrz import find_mrz
from ocr.normalize import without_spaces
from ocr.rules import values as v
from ocr.rules.lines import clean_line
from prompts.document_types import DocumentTypeKey

# Added to the score of a passport where the text holds a machine readable zone, and to a bank
# card's where a line is a number that passes Luhn.
MRZ_WEIGHT = 8
CARD_NUMBER_WEIGHT = 4
# Below this score the text names no document type.
MIN_SCORE = 4
# A detection's confidence: NAMED_CONFIDENCE for naming a type at all, and LEAD_CONFIDENCE times
# its lead over the runner-up (as a share of its score), never above MAX_CONFIDENCE.
NAMED_CONFIDENCE = 0.5
LEAD_CONFIDENCE = 0.5
MAX_CONFIDENCE = 0.99

# (pattern on the upper-cased text with white space removed, weight) per document type.
KEYWORDS: dict[DocumentTypeKey, tuple[tuple[str, float], ...]] = {
    DocumentTypeKey.ID_CARD: (
        (r"公民身份号码|公民身份证号", 6),
        (r"居民身份证", 6),
        (r"民族", 3),
        (r"出生(?!日期|地)", 1.5),
        (r"签发机关(?!/)", 2),
        (r"公安局", 2),
        (r"住址", 0.5),
        (r"\d{4}\.\d{1,2}\.\d{1,2}[-—~至]+(\d{4}|长期)", 2),
    ),
    DocumentTypeKey.DRIVER_LICENSE: (
        (r"驾驶证|DRIVINGLICEN[CS]E|DRIVER'?SLICEN[CS]E", 6),
        (r"准驾车型", 5),
        (r"初次领证", 5),
        (r"DATEOFFIRSTISSUE", 3),
        (r"证号", 1.5),
        (r"有效起始日期", 2),
    ),
    DocumentTypeKey.VEHICLE_LICENSE: (
        (r"行驶证|VEHICLELICENSE", 6),
        (r"号牌号码|PLATENO", 5),
        (r"车辆识别代[号码]", 5),
        (r"发动机号", 4),
        (r"品牌型号", 4),
        (r"使用性质", 4),
        (r"车辆类型", 3),
        (r"所有人", 2),
    ),
    DocumentTypeKey.BUSINESS_LICENSE: (
        (r"营业执照", 6),
        (r"统一社会信用代码", 6),
        (r"法定代表人|执行事务合伙人", 4),
        (r"注册资本|出资额", 4),
        (r"经营范围", 4),
        (r"成立日期", 3),
        (r"营业期限", 3),
        (r"登记机关", 2),
        (r"GSXT", 2),
    ),
    DocumentTypeKey.PASSPORT: (
        (r"PASSPORT", 6),
        (r"护照", 6),
        (r"SURNAME", 3),
        (r"GIVENNAMES?", 3),
        (r"DATEOFEXPIRY", 2),
        (r"PLACEOFBIRTH", 2),
    ),
    DocumentTypeKey.BANK_CARD: (
        (r"银行(?!股份)", 3),
        (r"UNIONPAY|银联", 4),
        (r"(?<![A-Z])BANK", 2),
        (r"VALIDTHRU|GOODTHRU|MONTH/YEAR", 3),
        (r"借记卡|储蓄卡|信用卡|贷记卡|DEBIT|CREDIT", 3),
    ),
}


_COMPILED_KEYWORDS = {
    doc: tuple((re.compile(pattern), weight) for pattern, weight in words)
    for doc, words in KEYWORDS.items()
}


def _scores(lines: Sequence[str]) -> dict[DocumentTypeKey, float]:
    cleaned = [clean_line(line) for line in lines]
    text = without_spaces("\n".join(cleaned)).upper()
    scores = {
        doc: sum(weight for pattern, weight in words if pattern.search(text))
        for doc, words in _COMPILED_KEYWORDS.items()
    }
    if find_mrz(lines) is not None:
        scores[DocumentTypeKey.PASSPORT] += MRZ_WEIGHT
    if any((found := v.read_card_number(line)) and found[1] for line in cleaned):
        scores[DocumentTypeKey.BANK_CARD] += CARD_NUMBER_WEIGHT
    return scores


def detect_document_type(*, lines: Sequence[str]) -> tuple[str | None, float]:
    """(document type key, confidence 0..1), or (None, 0.0) when the text names no known type."""
    scores = _scores(lines)
    ranked = sorted(scores.items(), key=lambda e: -e[1])
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < MIN_SCORE:
        return None, 0.0
    confidence = NAMED_CONFIDENCE + LEAD_CONFIDENCE * (top - second) / top
    return best.value, round(min(MAX_CONFIDENCE, confidence), 3)

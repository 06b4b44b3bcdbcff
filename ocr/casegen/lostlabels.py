"""Real-engine layouts of label-and-value cards that the generator's own layouts do not show:
a row of labels followed by its values run together, every label lost (the values in printed
order but the number first, or partly shuffled), and an address wrapped just after a house
number. Each transformation has the signature of ``ocr.casegen.realocr``'s and keeps the
expected values as they are.
"""

from __future__ import annotations

import datetime as dt
import random
import re

Lines = list[str]

# The share of cards that keep their labels where they could lose them all.
KEEP_LABELS = 0.5

# "性别 男 民族 汉" (letter-spaced labels too).
_GENDER_ETHNICITY_RE = re.compile(r"^性\s*别\s*[:：]?\s*([男女])\s*民\s*族\s*[:：]?\s*(\S+)$")
# "性别 男 Sex 国籍 中国 Nationality" on a bilingual driving licence, or its Chinese half.
_GENDER_NATIONALITY_RE = re.compile(
    r"^性\s*别\s*[:：]?\s*([男女])\s*(?:Sex\s*)?国\s*籍\s*[:：]?\s*(\S+?)\s*(?:Nationality)?$"
)
# The labels of an identity card's back, kept as printed when the front's are lost.
_BACK_RE = re.compile(r"签\s*发\s*机\s*关|有\s*效\s*期\s*限|^中华人民共和国$|^居民身份证$")
# An address that goes on after a house number: 幸福村342号19号楼5单元2106室.
_HOUSE_NUMBER_RE = re.compile(r"\d+号(?=\d+号楼|楼|\d+单元|\d+栋|\d+幢)")
_ADDRESS_LABELS = ("住址", "住所", "经营场所")
_DIGIT_RE = re.compile(r"\d")
# A business licence's term and scope, kept (without their labels) when the labels are lost.
_TERM_RE = re.compile(r"^\s*营\s*业\s*期\s*限")
_SCOPE_RE = re.compile(r"；|依法须经")
_SCOPE_LABEL_RE = re.compile(r"^\s*经\s*营\s*范\s*围\s*")


def _row_forms(labels: tuple[str, str], first: str, second: str) -> list[str]:
    a, b = labels
    return [
        f"{a} {b} {first} {second}",
        f"{a}{b} {first} {second}",
        f"{a}{b}{first}{second}",
        f"{a} {b} {first}{second}",
    ]


def label_row_values(r: random.Random, doc: str, lines: Lines, expected: dict) -> Lines | None:
    """Two labels read as a row inside one string, their values after them in the same order,
    run together or not (性别 民族 女 汉, 性别民族 男 汉, 性别民族女汉)."""
    patterns = {
        "idCard": (_GENDER_ETHNICITY_RE, ("性别", "民族")),
        "driverLicense": (_GENDER_NATIONALITY_RE, ("性别", "国籍")),
    }
    if doc not in patterns:
        return None
    regex, labels = patterns[doc]
    for i, line in enumerate(lines):
        m = regex.match(line.strip())
        if m:
            row = r.choice(_row_forms(labels, m[1], m[2]))
            return [*lines[:i], row, *lines[i + 1 :]]
    return None


def wrap_after_house_number(
    r: random.Random, doc: str, lines: Lines, expected: dict
) -> Lines | None:
    """An address wrapped just after a house number, so that its head already reads complete
    (…342号 / 19号楼5单元2106室): on the next line, or beyond a gap on the same line."""
    address = expected.get("address")
    if not address or not _HOUSE_NUMBER_RE.search(address):
        return None
    for i, line in enumerate(lines):
        compact = line.replace(" ", "")
        label = next((x for x in _ADDRESS_LABELS if compact.startswith(x)), None)
        if label is None or not compact.endswith(address):
            continue
        cuts = [m.end() for m in _HOUSE_NUMBER_RE.finditer(address)]
        cut = r.choice(cuts)
        head, tail = f"{label} {address[:cut]}", address[cut:]
        wrapped = [head, tail] if r.random() < 0.5 else [f"{head}   {tail}"]
        return [*lines[:i], *wrapped, *lines[i + 1 :]]
    return None


def _id_birth(iso: str, r: random.Random) -> str:
    day = dt.date.fromisoformat(iso)
    return r.choice(
        [f"{day.year}年{day.month}月{day.day}日", f"{day.year} 年 {day.month} 月 {day.day} 日"]
    )


def _address_lines(r: random.Random, address: str) -> Lines:
    """The address on one line, or wrapped where the end holds a number (a name never does)."""
    cuts = [i for i in range(6, len(address) - 2) if any(c.isdigit() for c in address[i:])]
    if r.random() < 0.5 or not cuts:
        return [address]
    cut = r.choice(cuts)
    return [address[:cut], address[cut:]]


def _shuffle_some(r: random.Random, values: list[Lines]) -> list[Lines]:
    """The values (each one or more lines kept together) with two neighbours swapped, or the
    last moved first, or as printed."""
    out = list(values)
    roll = r.random()
    if roll < 0.4:
        i = r.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    elif roll < 0.7:
        out = [out[-1], *out[:-1]]
    return out


def _id_card_values(r: random.Random, lines: Lines, expected: dict) -> Lines | None:
    keys = ("name", "gender", "ethnicity", "birthDate", "address", "idNumber")
    if not all(expected.get(k) for k in keys):
        return None
    gender = "男" if expected["gender"] == "male" else "女"
    beside = r.random() < 0.6
    values = [
        [expected["name"]],
        [f"{gender} {expected['ethnicity']}"] if beside else [gender, expected["ethnicity"]],
        [_id_birth(expected["birthDate"], r)],
        _address_lines(r, expected["address"]),
        [expected["idNumber"]],
    ]
    back = [line for line in lines if _BACK_RE.search(line)]
    # The back's values must stay with their labels (their own lines are not kept).
    authority = expected.get("issuingAuthority")
    if authority and not any(authority in line.replace(" ", "") for line in back):
        return None
    if expected.get("validFrom") and not any(_DIGIT_RE.search(line) for line in back):
        return None
    return back + [line for group in _shuffle_some(r, values) for line in group]


def _driver_values(r: random.Random, expected: dict) -> Lines | None:
    keys = ("licenseNumber", "name", "gender", "nationality", "address", "birthDate")
    if not all(expected.get(k) for k in keys) or not expected.get("validFrom"):
        return None
    gender = "男" if expected["gender"] == "male" else "女"
    nationality = expected["nationality"]
    until = "长期" if expected["validUntil"] == "long-term" else expected["validUntil"]
    values = [
        [expected["name"]],
        [f"{gender} {nationality}"] if r.random() < 0.6 else [gender, nationality],
        _address_lines(r, expected["address"]),
        [expected["birthDate"]],
        [expected["firstIssueDate"]],
        [expected["vehicleClass"]],
        [f"{expected['validFrom']} 至 {until}"],
    ]
    return [
        "中华人民共和国机动车驾驶证",
        expected["licenseNumber"],
        *[line for group in _shuffle_some(r, values) for line in group],
    ]


def _vehicle_values(r: random.Random, expected: dict) -> Lines | None:
    keys = ("plateNumber", "vehicleType", "owner", "address", "useCharacter", "model", "vin")
    if not all(expected.get(k) for k in (*keys, "engineNumber", "registerDate", "issueDate")):
        return None
    values = [
        [expected["plateNumber"]],
        [expected["vehicleType"]],
        [expected["owner"]],
        _address_lines(r, expected["address"]),
        [expected["useCharacter"]],
        [expected["model"]],
        [expected["engineNumber"]],
        [expected["registerDate"]],
        [expected["issueDate"]],
    ]
    return [
        "中华人民共和国机动车行驶证",
        expected["vin"],
        *[line for group in _shuffle_some(r, values) for line in group],
    ]


def _chinese_date(iso: str) -> str:
    day = dt.date.fromisoformat(iso)
    return f"{day.year}年{day.month:02d}月{day.day:02d}日"


def _business_values(r: random.Random, lines: Lines, expected: dict) -> Lines | None:
    keys = ("creditCode", "companyName", "companyType", "legalRepresentative", "address")
    term = [line for line in lines if _TERM_RE.search(line)]
    if not all(expected.get(k) for k in keys) or len(term) != 1:
        return None
    scope = [_SCOPE_LABEL_RE.sub("", line) for line in lines if _SCOPE_RE.search(line)]
    capital = [[expected["registeredCapital"]]] if expected.get("registeredCapital") else []
    values = [
        [expected["companyName"]],
        [expected["companyType"]],
        [expected["legalRepresentative"]],
        *capital,
        [_chinese_date(expected["establishedDate"])],
        [_TERM_RE.sub("", term[0]).strip(" :：")],
        _address_lines(r, expected["address"]),
    ]
    shuffled = [line for group in _shuffle_some(r, values) for line in group]
    return ["营业执照", expected["creditCode"], *shuffled, *scope]


def lose_every_label(r: random.Random, doc: str, lines: Lines, expected: dict) -> Lines | None:
    """Every label of an identity card's front, a driving, vehicle or business licence lost:
    the values in printed order, but the number (or code) first, or partly shuffled. Half the
    cards that could lose them keep them (the layout stays one of many)."""
    if r.random() < KEEP_LABELS:
        return None
    if doc == "idCard":
        return _id_card_values(r, lines, expected)
    if doc == "driverLicense":
        return _driver_values(r, expected)
    if doc == "vehicleLicense":
        return _vehicle_values(r, expected)
    if doc == "businessLicense":
        return _business_values(r, lines, expected)
    return None

"""Bank cards: few labels, so the values are recognised by their shape.

The card number is a 13-19 digit line that passes Luhn (digit groups may be split over lines or
joined by hyphens); the bank is the printed Chinese name ending in 银行 (the one the card number's
issuer prefix names where a line holds two; a name split over two lines joined), else the English
name or abbreviation looked up in a table, else the bank the card number's issuer prefix (BIN,
``ocr/data/bank_bins.json``) names; the card type comes from 借记卡/储蓄卡/DEBIT or
信用卡/贷记卡/CREDIT; the expiry is an MM/YY (MMYY alone after its label, look-alikes read);
the cardholder is a name line in capitals (or a Chinese name after 持卡人).
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections.abc import Sequence
from pathlib import Path

from ocr.lookalikes import ONE_LOOKALIKES, ZERO_LOOKALIKES, digit_fixer
from ocr.normalize import normalize_card_type, normalize_year_month
from ocr.rules import values as v
from ocr.rules.lines import clean_line, is_noise
from ocr.rules.rule import Candidate

# Beliefs (0..1) in each value, by how it was found.
# A printed Chinese name ending in 银行; one the card number's issuer prefix names too; one the
# prefix contradicts (either may be wrong).
PRINTED_BANK_NAME = 0.92
PRINTED_BANK_NAME_AND_BIN = 0.97
PRINTED_BANK_NAME_NOT_BIN = 0.7
# A bank named by the card number's issuer prefix alone (the printed name unreadable).
BANK_BY_BIN = 0.8
# A bank's English name as printed, and an abbreviation (which other words may spell too).
ENGLISH_BANK_NAME = 0.85
BANK_ABBREVIATION = 0.7
# An English key of this many letters or fewer is an abbreviation (ICBC, BOCOM).
MAX_ABBREVIATION_LENGTH = 5
# A card number passing Luhn on a line of its own, and one put together from lines in a row.
CARD_NUMBER_ON_ONE_LINE = 0.97
CARD_NUMBER_OVER_LINES = 0.9
# How many lines in a row a card number's digit groups may be split over.
MAX_CARD_NUMBER_LINES = 3
# A number failing Luhn is offered (where none passes) only this long, and with little belief.
MIN_FAILING_CARD_NUMBER_LENGTH = 15
FAILING_CARD_NUMBER = 0.4
# An MM/YY next to an expiry label (VALID THRU, 有效期), and one standing alone.
LABELLED_EXPIRY = 0.92
UNLABELLED_EXPIRY = 0.75
# A card type printed as a word (借记卡, CREDIT).
PRINTED_CARD_TYPE = 0.95
# A holder's name after its label, a line in Latin capitals, and a Chinese name by its position.
LABELLED_HOLDER = 0.9
LATIN_HOLDER = 0.85
CHINESE_HOLDER = 0.6

# Chinese name, then English names and abbreviations as printed on cards.
BANKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("中国工商银行", ("INDUSTRIAL AND COMMERCIAL BANK OF CHINA", "ICBC")),
    ("中国农业银行", ("AGRICULTURAL BANK OF CHINA", "ABC")),
    ("中国建设银行", ("CHINA CONSTRUCTION BANK", "CCB")),
    ("中国邮政储蓄银行", ("POSTAL SAVINGS BANK OF CHINA", "PSBC")),
    ("中国银行", ("BANK OF CHINA", "BOC")),
    ("交通银行", ("BANK OF COMMUNICATIONS", "BOCOM")),
    ("招商银行", ("CHINA MERCHANTS BANK", "CMB")),
    ("中信银行", ("CHINA CITIC BANK", "CITIC BANK", "CITIC")),
    ("中国光大银行", ("CHINA EVERBRIGHT BANK", "EVERBRIGHT BANK", "CEB")),
    ("华夏银行", ("HUA XIA BANK", "HUAXIA BANK", "HXB")),
    ("中国民生银行", ("CHINA MINSHENG BANK", "MINSHENG BANK", "CMBC")),
    ("广发银行", ("CHINA GUANGFA BANK", "GUANGFA BANK", "CGB")),
    ("平安银行", ("PING AN BANK", "PINGAN BANK")),
    ("兴业银行", ("INDUSTRIAL BANK", "CIB")),
    ("上海浦东发展银行", ("SHANGHAI PUDONG DEVELOPMENT BANK", "SPD BANK", "SPDB")),
    ("浙商银行", ("CHINA ZHESHANG BANK", "CZB")),
    ("渤海银行", ("CHINA BOHAI BANK", "CBHB")),
    ("恒丰银行", ("HENGFENG BANK", "EVERGROWING BANK")),
    ("北京银行", ("BANK OF BEIJING",)),
    ("上海银行", ("BANK OF SHANGHAI",)),
    ("江苏银行", ("BANK OF JIANGSU",)),
    ("宁波银行", ("BANK OF NINGBO",)),
    ("南京银行", ("BANK OF NANJING",)),
    ("杭州银行", ("BANK OF HANGZHOU",)),
)
_CARD_WORDS = {
    "BANK",
    "UNIONPAY",
    "UNION",
    "PAY",
    "DEBIT",
    "CREDIT",
    "CARD",
    "VALID",
    "THRU",
    "GOOD",
    "FROM",
    "MONTH",
    "YEAR",
    "VISA",
    "MASTERCARD",
    "PLATINUM",
    "GOLD",
    "CLASSIC",
    "WORLD",
    "ELECTRON",
    "EXPRESS",
    "AMERICAN",
    "JCB",
    "QUICKPASS",
    "ELITE",
    "SIGNATURE",
    "INFINITE",
    "CHINA",
    "EXPIRES",
    "EXPIRY",
    "DATE",
    "MEMBER",
    "SINCE",
    "CARDHOLDER",
    "NAME",
    "PREPAID",
    "BUSINESS",
    "CORPORATE",
    "TITANIUM",
    "DIAMOND",
    "STANDARD",
    "YOUNG",
    "STUDENT",
    "ATM",
}
_COMMON_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏"
    "吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万"
    "钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝"
    "包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾"
    "尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬"
    "师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚"
    "鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋"
    "相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银"
    "亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
)
_COMPOUND_SURNAMES = (
    "欧阳",
    "上官",
    "司马",
    "诸葛",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "令狐",
)


_NOT_LATIN_RE = re.compile(r"[^A-Z ]")
# The shortest run ending in 银行: two names on one line are two names.
_CHINESE_BANK_RE = re.compile(rf"([{v.CJK}]{{2,14}}?银行)")


def _latin_key(text: str) -> str:
    return _NOT_LATIN_RE.sub("", text.upper()).strip()


BANK_BINS_PATH = Path(__file__).resolve().parents[1] / "data" / "bank_bins.json"
# Short Chinese names printed on cards, by the full name the BIN table uses.
_SHORT_NAMES = {
    "浦发银行": "上海浦东发展银行",
    "工商银行": "中国工商银行",
    "农业银行": "中国农业银行",
    "建设银行": "中国建设银行",
    "邮政储蓄银行": "中国邮政储蓄银行",
    "邮储银行": "中国邮政储蓄银行",
    "民生银行": "中国民生银行",
    "光大银行": "中国光大银行",
}


@functools.cache
def _bins() -> dict[str, str]:
    """{issuer prefix: bank's Chinese name} from the shipped table."""
    banks = json.loads(BANK_BINS_PATH.read_text(encoding="utf-8"))["banks"]
    return {prefix: bank for bank, prefixes in banks.items() for prefix in prefixes}


def bank_by_number(number: str | None) -> str | None:
    """The bank the card number's issuer prefix names, or None where the table has no entry."""
    if not number:
        return None
    bins = _bins()
    for length in (8, 7, 6):
        if number[:length] in bins:
            return bins[number[:length]]
    return None


def _printed_banks(lines: Sequence[str]) -> list[str]:
    """The Chinese bank names printed in the lines, in order (a name split over two lines
    joined where no line holds one)."""
    names = [
        m[1]
        for line in lines
        for m in _CHINESE_BANK_RE.finditer(line.replace(" ", ""))
        if "银联" not in m[1]
    ]
    if names:
        return names
    joined = (a.replace(" ", "") + b.replace(" ", "") for a, b in itertools.pairwise(lines))
    return [m[1] for text in joined for m in _CHINESE_BANK_RE.finditer(text)][:1]


def _english_bank(lines: Sequence[str]) -> Candidate | None:
    for line in lines:
        key = " ".join(_latin_key(line).split())
        for chinese, aliases in BANKS:
            if key in aliases:
                if len(key) > MAX_ABBREVIATION_LENGTH:
                    return Candidate(chinese, ENGLISH_BANK_NAME, "pattern")
                return Candidate(chinese, BANK_ABBREVIATION, "pattern")
    return None


def _bank_name(lines: Sequence[str], number: str | None) -> Candidate | None:
    by_bin = bank_by_number(number)
    printed = _printed_banks(lines)
    for name in printed:
        if by_bin is not None and _SHORT_NAMES.get(name, name) == by_bin:
            return Candidate(name, PRINTED_BANK_NAME_AND_BIN, "pattern")
    if printed:
        belief = PRINTED_BANK_NAME if by_bin is None else PRINTED_BANK_NAME_NOT_BIN
        return Candidate(printed[0], belief, "pattern")
    english = _english_bank(lines)
    if english is not None:
        return english
    return None if by_bin is None else Candidate(by_bin, BANK_BY_BIN, "pattern")


_DIGIT_RUN = re.compile(r"(?<![\dA-Z])\d[\d \-]{11,30}\d(?![\dA-Z])")


def _card_number(lines: Sequence[str]) -> Candidate | None:
    invalid: Candidate | None = None
    for i in range(len(lines)):
        for span in range(1, MAX_CARD_NUMBER_LINES + 1):
            chunk = " ".join(lines[i : i + span])
            # The whole line (look-alike letters allowed), else a run of digit groups in it.
            readings = [v.read_card_number(chunk)]
            readings += [v.read_card_number(m.group()) for m in _DIGIT_RUN.finditer(chunk)]
            for found in readings:
                if found is None:
                    continue
                number, ok = found
                if ok:
                    belief = CARD_NUMBER_ON_ONE_LINE if span == 1 else CARD_NUMBER_OVER_LINES
                    return Candidate(number, belief, "pattern")
                long_enough = len(number) >= MIN_FAILING_CARD_NUMBER_LENGTH
                if span == 1 and invalid is None and long_enough:
                    invalid = Candidate(number, FAILING_CARD_NUMBER, "pattern")
    return invalid


_EXPIRY_LABEL = re.compile(r"有效期|VALID|THRU|GOOD|EXP|MONTH\s*/\s*YEAR|到期")
_EXPIRY = re.compile(r"(?<![\d/])(0[1-9]|1[0-2])\s*/\s*(\d{4}|\d{2})(?![\d/])")
# MMYY without its slash, alone after an expiry label (VALID THRU 1229).
_BARE_EXPIRY = re.compile(r"(0[1-9]|1[0-2])(\d{2})")
_LABEL_EDGES = " :：/-"
# O read as 0 and l, I, | as 1 next to the digits of a date.
_fix_expiry_digits = digit_fixer(ones=ONE_LOOKALIKES, zeros=ZERO_LOOKALIKES)


def _expiry_values(line: str, *, labelled: bool) -> list[str]:
    """The year-months printed in one line (a bare MMYY only where it is labelled)."""
    found = [normalize_year_month(m.group()) for m in _EXPIRY.finditer(line)]
    rest = _EXPIRY_LABEL.sub("", line).strip(_LABEL_EDGES)
    if labelled and not found and _BARE_EXPIRY.fullmatch(rest):
        found.append(normalize_year_month(f"{rest[:2]}/{rest[2:]}"))
    return [value for value in found if value]


def _expiry(lines: Sequence[str]) -> Candidate | None:
    # (labelled as the expiry, value): a labelled date first, then the latest.
    found: list[tuple[bool, str]] = []
    fixed = [_fix_expiry_digits(line).upper() for line in lines]
    for i, line in enumerate(fixed):
        labelled = bool(_EXPIRY_LABEL.search(line)) or (
            i > 0 and bool(_EXPIRY_LABEL.search(fixed[i - 1]))
        )
        for value in _expiry_values(line, labelled=labelled):
            found.append((labelled and "FROM" not in line, value))
    if not found:
        return None
    labelled, value = max(found, key=lambda e: (e[0], e[1]))
    if labelled:
        return Candidate(value, LABELLED_EXPIRY, "label")
    return Candidate(value, UNLABELLED_EXPIRY, "pattern")


_CARD_TYPE_RE = re.compile(
    r"准贷记卡|贷记卡|信用卡|借记卡|储蓄卡|借记|(?<![A-Z])(DEBIT|CREDIT)(?![A-Z])"
)
_LATIN_HOLDER_RE = re.compile(r"[A-Z][A-Z'\-.]*(?: [A-Z][A-Z'\-.]*){1,3}")
_WORD_SEPARATOR_RE = re.compile(r"[ .]")
_CHINESE_HOLDER_RE = re.compile(rf"[{v.CJK}]{{2,4}}")
_NOT_A_HOLDER_RE = re.compile(r"银行|卡|银联|储蓄|信用|借记|贷记|有效|期|中国")
_HOLDER_LABEL_RE = re.compile(r"^(持卡人|CARDHOLDER|CARD HOLDER|NAME)\s*[:：]?\s*(.*)$")
_TWO_SPACES_RE = re.compile(r"\s{2,}")


def _card_type(lines: Sequence[str]) -> Candidate | None:
    for line in lines:
        m = _CARD_TYPE_RE.search(line.upper())
        if m:
            value = normalize_card_type(m.group())
            if value:
                return Candidate(value, PRINTED_CARD_TYPE, "pattern")
    return None


_BANK_ABBREVIATIONS = {
    alias for _, aliases in BANKS for alias in aliases if len(alias) <= MAX_ABBREVIATION_LENGTH
}


def _is_latin_holder(line: str) -> bool:
    if not _LATIN_HOLDER_RE.fullmatch(line):
        return False
    words = set(_WORD_SEPARATOR_RE.split(line))
    if words & _CARD_WORDS or words & _BANK_ABBREVIATIONS:
        # A bank's code and a card's product name (BOC GREAT WALL) are not a holder's name.
        return False
    key = _latin_key(line)
    return not any(key in aliases for _, aliases in BANKS)


def _is_chinese_holder(line: str) -> bool:
    text = line.replace(" ", "")
    if not _CHINESE_HOLDER_RE.fullmatch(text):
        return False
    if _NOT_A_HOLDER_RE.search(text):
        return False
    return text[0] in _COMMON_SURNAMES or text.startswith(_COMPOUND_SURNAMES)


def _cardholder(lines: Sequence[str]) -> Candidate | None:
    for i, line in enumerate(lines):
        m = _HOLDER_LABEL_RE.match(line.upper())
        if m:
            rest = line[len(line) - len(m[2]) :].strip() if m[2] else ""
            if not rest and i + 1 < len(lines):
                rest = lines[i + 1]
            name = v.read_person_name(rest)
            if name:
                return Candidate(name, LABELLED_HOLDER, "label")
    for line in lines:
        if _is_latin_holder(line):
            return Candidate(line, LATIN_HOLDER, "pattern")
    for line in lines:
        if _is_chinese_holder(line):
            return Candidate(line.replace(" ", ""), CHINESE_HOLDER, "position")
    return None


def extract_bank_card(lines: Sequence[str]) -> dict[str, Candidate | None]:
    """cardNumber, bankName, cardType, expiryDate and cardholderName found in the lines."""
    # Wide gaps separate what OCR merged from two places on the card ("01/29   MA JIE").
    cleaned = [part for line in lines for part in _TWO_SPACES_RE.split(clean_line(line))]
    cleaned = [line for line in cleaned if not is_noise(line)]
    number = _card_number(cleaned)
    return {
        "cardNumber": number,
        "bankName": _bank_name(cleaned, number.value if number else None),
        "cardType": _card_type(cleaned),
        "expiryDate": _expiry(cleaned),
        "cardholderName": _cardholder(cleaned),
    }

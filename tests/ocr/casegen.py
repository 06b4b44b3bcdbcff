"""Synthetic OCR cases for all six document types, in phone-OCR layouts the sample set lacks.

``generate_cases(n, seed=...)`` makes new documents (random names, addresses and dates; resident
ids with a correct GB 11643 check digit, credit codes with a correct check character, Luhn card
numbers, VINs and MRZs with correct check digits) and renders each in a randomly chosen layout:
labels split from their values, values before their labels, letter-spaced and bilingual labels,
several pairs on one line, two columns read out of order, wrapped addresses (continuations before
the label too), full-width lines, spaced digit groups, O/0 and l/1 swaps in ids, noise lines,
split or spaced MRZs with a filler too many, and optional fields left out (expected null).
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata

from stdnum import luhn
from stdnum.cn import ric, uscc

from ocr.mrz import check_digit
from ocr.validators import vin_check_digit

SURNAMES = [
    ("王", "WANG"),
    ("李", "LI"),
    ("张", "ZHANG"),
    ("刘", "LIU"),
    ("陈", "CHEN"),
    ("杨", "YANG"),
    ("黄", "HUANG"),
    ("赵", "ZHAO"),
    ("周", "ZHOU"),
    ("吴", "WU"),
    ("徐", "XU"),
    ("孙", "SUN"),
    ("马", "MA"),
    ("朱", "ZHU"),
    ("胡", "HU"),
    ("郭", "GUO"),
    ("何", "HE"),
    ("林", "LIN"),
    ("罗", "LUO"),
    ("郑", "ZHENG"),
    ("梁", "LIANG"),
    ("谢", "XIE"),
    ("宋", "SONG"),
    ("唐", "TANG"),
    ("韩", "HAN"),
    ("冯", "FENG"),
    ("邓", "DENG"),
    ("曹", "CAO"),
    ("彭", "PENG"),
    ("欧阳", "OUYANG"),
    ("司马", "SIMA"),
]
GIVEN = [
    ("伟", "WEI"),
    ("芳", "FANG"),
    ("娜", "NA"),
    ("敏", "MIN"),
    ("静", "JING"),
    ("丽", "LI"),
    ("强", "QIANG"),
    ("磊", "LEI"),
    ("军", "JUN"),
    ("洋", "YANG"),
    ("勇", "YONG"),
    ("艳", "YAN"),
    ("杰", "JIE"),
    ("涛", "TAO"),
    ("明", "MING"),
    ("超", "CHAO"),
    ("秀", "XIU"),
    ("霞", "XIA"),
    ("平", "PING"),
    ("刚", "GANG"),
    ("桂", "GUI"),
    ("英", "YING"),
    ("华", "HUA"),
    ("建", "JIAN"),
    ("文", "WEN"),
    ("浩", "HAO"),
    ("宇", "YU"),
    ("欣", "XIN"),
    ("晨", "CHEN"),
    ("博", "BO"),
]
REGIONS = [
    ("110105", "北京市", "朝阳区", "北京市公安局朝阳分局"),
    ("310104", "上海市", "徐汇区", "上海市公安局徐汇分局"),
    ("440305", "广东省深圳市", "南山区", "深圳市公安局南山分局"),
    ("330106", "浙江省杭州市", "西湖区", "杭州市公安局西湖分局"),
    ("510107", "四川省成都市", "武侯区", "成都市公安局武侯分局"),
    ("420106", "湖北省武汉市", "武昌区", "武汉市公安局武昌分局"),
    ("370202", "山东省青岛市", "市南区", "青岛市公安局市南分局"),
    ("210102", "辽宁省沈阳市", "和平区", "沈阳市公安局和平分局"),
    ("120101", "天津市", "和平区", "天津市公安局和平分局"),
    ("350203", "福建省厦门市", "思明区", "厦门市公安局思明分局"),
    ("320102", "江苏省南京市", "玄武区", "南京市公安局玄武分局"),
    ("610113", "陕西省西安市", "雁塔区", "西安市公安局雁塔分局"),
    ("410105", "河南省郑州市", "金水区", "郑州市公安局金水分局"),
    ("130102", "河北省石家庄市", "长安区", "石家庄市公安局长安分局"),
]
PLATE_PREFIX = {
    "110105": "京",
    "310104": "沪",
    "440305": "粤",
    "330106": "浙",
    "510107": "川",
    "420106": "鄂",
    "370202": "鲁",
    "210102": "辽",
    "120101": "津",
    "350203": "闽",
    "320102": "苏",
    "610113": "陕",
    "410105": "豫",
    "130102": "冀",
}
STREETS = [
    "人民路",
    "解放大道",
    "中山路",
    "建设街",
    "和平里",
    "长江路",
    "黄河大街",
    "友谊路",
    "新华路",
    "光明巷",
    "科技园南路",
    "学府路",
    "滨江大道",
    "朝阳北街",
    "幸福村",
]
ETHNICITIES = ["汉", "汉", "汉", "汉", "回", "满", "壮", "蒙古", "维吾尔", "土家", "苗", "朝鲜"]
COMPANY_WORDS = [
    "华信",
    "鼎盛",
    "恒达",
    "远景",
    "启明",
    "星河",
    "博远",
    "汇通",
    "金桥",
    "云帆",
    "瑞丰",
    "宏图",
    "东方",
    "智联",
    "新锐",
]
COMPANY_KINDS = [
    "科技",
    "信息技术",
    "贸易",
    "餐饮管理",
    "建筑工程",
    "文化传媒",
    "网络科技",
    "物流",
    "医药",
    "教育咨询",
]
COMPANY_TYPES = [
    "有限责任公司(自然人独资)",
    "有限责任公司(自然人投资或控股)",
    "股份有限公司(非上市、自然人投资或控股)",
    "有限责任公司(法人独资)",
    "个人独资企业",
    "有限合伙企业",
]
CAPITALS = [
    "100万元",
    "500万元人民币",
    "1000万元整",
    "壹佰万元整",
    "伍佰万元整",
    "50万元",
    "3000万元",
    "200万元",
]
SCOPES = [
    [
        "技术开发、技术咨询、技术服务；软件开发；",
        "销售电子产品、计算机软硬件。(依法须经批准的项目，",
        "经相关部门批准后方可开展经营活动)",
    ],
    ["餐饮服务；食品销售；", "(依法须经批准的项目，经相关部门批准后方可开展经营活动)"],
    ["货物进出口、技术进出口；国内贸易代理；", "供应链管理服务。"],
]
VEHICLE_TYPES = ["小型轿车", "小型普通客车", "轻型普通货车", "小型越野客车", "中型普通客车"]
USE_CHARACTERS = ["非营运", "营运", "预约出租客运", "租赁", "货运"]
MODELS = [
    ("大众汽车牌SVW7147LBD", "LSV"),
    ("丰田牌TV7250HEV", "LFM"),
    ("日产牌DFL7160VAL2", "LGB"),
    ("别克牌SGM7151DAAA", "LSG"),
    ("吉利牌MR7153A01", "L6T"),
    ("本田牌HG7154AAC5", "LHG"),
    ("比亚迪牌BYD7005BEV", "LGX"),
]
BANKS = [
    ("中国工商银行", "INDUSTRIAL AND COMMERCIAL BANK OF CHINA", "622202"),
    ("中国农业银行", "AGRICULTURAL BANK OF CHINA", "622848"),
    ("中国银行", "BANK OF CHINA", "621661"),
    ("中国建设银行", "CHINA CONSTRUCTION BANK", "621700"),
    ("交通银行", "BANK OF COMMUNICATIONS", "622262"),
    ("招商银行", "CHINA MERCHANTS BANK", "622588"),
    ("中国邮政储蓄银行", "POSTAL SAVINGS BANK OF CHINA", "621098"),
    ("兴业银行", "INDUSTRIAL BANK", "622909"),
    ("浦发银行", None, "622521"),
    ("中国民生银行", "CHINA MINSHENG BANK", "622622"),
]
COUNTRIES = [
    ("JAPAN", "JPN", ["SATO", "SUZUKI", "TANAKA"], ["HANAKO", "TARO", "YUKI"]),
    (
        "UNITED STATES OF AMERICA",
        "USA",
        ["SMITH", "MILLER", "JOHNSON"],
        ["NOAH", "EMMA", "OLIVER JAMES"],
    ),
    ("UTOPIA", "UTO", ["ERIKSSON", "NILSSON"], ["ANNA MARIA", "ERIK"]),
    ("CANADA", "CAN", ["TREMBLAY", "ROY"], ["LIAM", "OLIVIA"]),
    ("FRANCE", "FRA", ["MARTIN", "BERNARD"], ["LOUIS", "CHLOE"]),
]
NOISE = ["|", "一", "丨", "—", "'", "::", "：：", "。", "·", "l1", "I", "国徽"]
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DOC_TYPES = ["idCard", "passport", "driverLicense", "bankCard", "businessLicense", "vehicleLicense"]


def full_width(text: str) -> str:
    """The full-width form of ASCII letters, digits and punctuation (as some OCR returns)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


class Gen:
    """One seeded generator of documents and layouts."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    # --- values -------------------------------------------------------------------------------
    def person(self) -> tuple[str, str, str]:
        """(Chinese name, pinyin surname, pinyin given names)."""
        sur, sur_py = self.r.choice(SURNAMES)
        given = [self.r.choice(GIVEN) for _ in range(self.r.choice([1, 2, 2]))]
        return sur + "".join(g for g, _ in given), sur_py, "".join(p for _, p in given)

    def date(self, start: int, end: int, *, max_day: int = 31) -> dt.date:
        first = dt.date(start, 1, 1).toordinal()
        day = dt.date.fromordinal(self.r.randint(first, dt.date(end, 12, 28).toordinal()))
        return day.replace(day=min(day.day, max_day))

    def region(self) -> tuple[str, str, str, str]:
        return self.r.choice(REGIONS)

    def address(self, region: tuple[str, str, str, str]) -> str:
        tail = f"{self.r.randint(1, 399)}号"
        if self.r.random() < 0.6:
            building, unit = self.r.randint(1, 28), self.r.randint(1, 5)
            tail += f"{building}号楼{unit}单元{self.r.randint(101, 2699)}室"
        return region[1] + region[2] + self.r.choice(STREETS) + tail

    def resident_id(self, region: str, birth: dt.date, male: bool) -> str:
        seq = self.r.randint(0, 99) * 10 + self.r.choice(
            [1, 3, 5, 7, 9] if male else [0, 2, 4, 6, 8]
        )
        body = f"{region}{birth:%Y%m%d}{seq:03d}"
        return body + ric.calc_check_digit(body + "0")

    def credit_code(self, region: str) -> str:
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        body = self.r.choice("9") + self.r.choice("123") + region
        body += "".join(self.r.choice(alphabet) for _ in range(9))
        return body + uscc.calc_check_digit(body)

    def card_number(self, prefix: str) -> str:
        length = self.r.choice([16, 19])
        body = prefix + "".join(
            self.r.choice("0123456789") for _ in range(length - len(prefix) - 1)
        )
        return body + luhn.calc_check_digit(body)

    def vin(self, wmi: str) -> str:
        chars = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
        vds = "".join(self.r.choice(chars) for _ in range(5))
        vis = self.r.choice("ABCDEFGHJKLMNPRSTVWXY123456789") + self.r.choice(
            chars[:-10] + "0123456789"
        )
        vis += "".join(self.r.choice("0123456789") for _ in range(6))
        vin = wmi + vds + "0" + vis
        return vin[:8] + vin_check_digit(vin) + vin[9:]

    def plate(self, region: str) -> str:
        letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
        tail_len = self.r.choice([5, 5, 5, 6])
        tail = "".join(self.r.choice(letters + "0123456789" * 2) for _ in range(tail_len))
        return PLATE_PREFIX[region] + self.r.choice("ABCDEFGH") + tail

    # --- layout helpers -----------------------------------------------------------------------
    def spaced(self, label: str) -> str:
        """A Chinese label, sometimes letter-spaced."""
        if self.r.random() < 0.3 and len(label) <= 4:
            return " ".join(label)
        return label

    def sep(self) -> str:
        return self.r.choice(["", " ", " ", "  ", "："])

    def pair(self, label: str, value: str) -> list[str]:
        """A label and its value: one line, two lines, or value first (rarely)."""
        roll = self.r.random()
        label = self.spaced(label)
        if roll < 0.6:
            return [f"{label}{self.sep()}{value}"]
        if roll < 0.9:
            return [label, value]
        return [value, label]

    def wrap(self, label: str, value: str) -> list[str]:
        """A wrapped value: label with the head, continuation after (or just before the label)."""
        label = self.spaced(label)
        if self.r.random() < 0.35:
            return self.pair(label, value)
        cut = self.r.randint(max(4, len(value) // 3), max(5, len(value) - 3))
        head, tail = value[:cut], value[cut:]
        roll = self.r.random()
        if roll < 0.45:
            return [f"{label}{self.sep()}{head}", tail]
        if roll < 0.75:
            return [label, head, tail]
        return [tail, f"{label} {head}"]

    def noisy(self, lines: list[str], *, rate: float = 0.15, fw: float = 0.08) -> list[str]:
        """Insert stray marks, turn some lines full-width, and now and then read two lines as
        one (two columns merged) or two neighbouring lines in the wrong order."""
        lines = list(lines)
        if len(lines) > 4 and self.r.random() < 0.15:
            i = self.r.randrange(1, len(lines) - 1)
            lines[i : i + 2] = [lines[i] + "   " + lines[i + 1]]
        if len(lines) > 4 and self.r.random() < 0.15:
            i = self.r.randrange(1, len(lines) - 1)
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
        out = []
        for line in lines:
            if self.r.random() < rate:
                out.append(self.r.choice(NOISE))
            out.append(full_width(line) if self.r.random() < fw else line)
        if self.r.random() < rate:
            out.append(self.r.choice(NOISE))
        return out

    def ocr_digits(self, code: str) -> str:
        """A code as OCR may read it: digit groups spaced, an O for a 0 or an l for a 1."""
        roll = self.r.random()
        if roll < 0.2 and "0" in code[:17]:
            i = self.r.choice([i for i, c in enumerate(code[:17]) if c == "0"])
            code = code[:i] + "O" + code[i + 1 :]
        elif roll < 0.35 and "1" in code[:17]:
            i = self.r.choice([i for i, c in enumerate(code[:17]) if c == "1"])
            code = code[:i] + "l" + code[i + 1 :]
        elif roll < 0.5:
            code = f"{code[:6]} {code[6:14]} {code[14:]}"
        return code

    # --- documents ----------------------------------------------------------------------------
    def id_card(self) -> tuple[list[str], dict]:
        name, _, _ = self.person()
        region = self.region()
        male = self.r.random() < 0.5
        birth = self.date(1950, 2005)
        idn = self.resident_id(region[0], birth, male)
        address = self.address(region)
        ethnicity = self.r.choice(ETHNICITIES)
        start = self.date(max(birth.year + 16, 2005), 2023, max_day=28)
        long_term = self.r.random() < 0.2
        end = "长期" if long_term else f"{start.year + self.r.choice([10, 20])}{start:.%m.%d}"
        birth_text = self.r.choice(
            [
                f"{birth.year}年{birth.month}月{birth.day}日",
                f"{birth.year} 年 {birth.month} 月 {birth.day} 日",
                f"{birth.year}年 {birth.month}月 {birth.day}日",
            ]
        )
        front: list[str] = []
        front += self.pair("姓名", name)
        roll = self.r.random()
        if roll < 0.45:
            front.append(
                f"{self.spaced('性别')} {'男' if male else '女'} {self.spaced('民族')} {ethnicity}"
            )
        elif roll < 0.6:
            # Labels in a row over their values in a row.
            front += ["性别 民族", f"{'男' if male else '女'} {ethnicity}"]
        else:
            front += self.pair("性别", "男" if male else "女") + self.pair("民族", ethnicity)
        front += self.pair("出生", birth_text)
        front += self.wrap("住址", address)
        front += self.pair("公民身份号码", self.ocr_digits(idn))
        back = ["中华人民共和国", "居民身份证"]
        back += self.pair("签发机关", region[3])
        back += self.pair("有效期限", f"{start:%Y.%m.%d}{self.r.choice(['-', ' - ', '—'])}{end}")
        side = self.r.random()
        expected = {
            "name": name,
            "gender": "male" if male else "female",
            "ethnicity": ethnicity,
            "birthDate": birth.isoformat(),
            "address": address,
            "idNumber": idn,
            "issuingAuthority": region[3],
            "validFrom": start.isoformat(),
            "validUntil": "long-term"
            if long_term
            else dt.date(int(end[:4]), start.month, start.day).isoformat(),
        }
        if side < 0.4:
            lines = front
            for key in ("issuingAuthority", "validFrom", "validUntil"):
                expected[key] = None
        elif side < 0.55:
            lines = back
            for key in ("name", "gender", "ethnicity", "birthDate", "address", "idNumber"):
                expected[key] = None
        else:
            lines = back + front if self.r.random() < 0.5 else front + back
        return self.noisy(lines), expected

    def driver_license(self) -> tuple[list[str], dict]:
        name, _, _ = self.person()
        region = self.region()
        male = self.r.random() < 0.5
        birth = self.date(1950, 2004)
        idn = self.resident_id(region[0], birth, male)
        address = self.address(region)
        first = self.date(min(birth.year + 18, 2023), 2023, max_day=28)
        start = first if self.r.random() < 0.5 else dt.date(first.year + 6, first.month, first.day)
        long_term = self.r.random() < 0.15
        end = (
            "long-term"
            if long_term
            else dt.date(start.year + 10, start.month, start.day).isoformat()
        )
        vclass = self.r.choice(["C1", "C1", "C2", "B2", "A1", "A2", "C1E", "B1"])
        english = self.r.random() < 0.8

        def en(text: str) -> list[str]:
            return [text] if english else []

        lines = ["中华人民共和国机动车驾驶证"]
        if english:
            lines.append("Driving License of the People's Republic of China")
        lines += self.pair("证号", self.ocr_digits(idn))
        name_line = self.r.choice([f"姓名 Name {name}", f"姓名 {name} Name", f"姓名 {name}"])
        lines.append(name_line if english else f"姓名 {name}")
        g = "男" if male else "女"
        if self.r.random() < 0.5 and english:
            lines.append(f"性别 {g} Sex 国籍 中国 Nationality")
        else:
            lines += [
                f"性别 Sex {g}" if english else f"性别 {g}",
                "国籍 Nationality 中国" if english else "国籍 中国",
            ]
        lines += self.wrap("住址", address) + en("Address")
        lines += self.pair("出生日期", birth.isoformat()) + en("Date of Birth")
        lines += self.pair("初次领证日期", first.isoformat()) + en("Date of First Issue")
        lines += self.pair("准驾车型", vclass) + en("Class")
        end_text = "长期" if long_term else end
        if self.r.random() < 0.5:
            lines.append(f"有效期限 {start.isoformat()} 至 {end_text}")
            lines += en("Valid Period")
        else:
            lines += self.pair("有效起始日期", start.isoformat())
            lines += self.pair("有效期限", end_text)
        expected = {
            "licenseNumber": idn,
            "name": name,
            "gender": "male" if male else "female",
            "nationality": "中国",
            "address": address,
            "birthDate": birth.isoformat(),
            "firstIssueDate": first.isoformat(),
            "vehicleClass": vclass,
            "validFrom": start.isoformat(),
            "validUntil": end,
        }
        return self.noisy(lines), expected

    def vehicle_license(self) -> tuple[list[str], dict]:
        owner, _, _ = self.person()
        region = self.region()
        plate = self.plate(region[0])
        model, wmi = self.r.choice(MODELS)
        vin = self.vin(wmi)
        engine = "".join(self.r.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3)) + str(
            self.r.randint(100000, 999999)
        )
        vtype = self.r.choice(VEHICLE_TYPES)
        use = self.r.choice(USE_CHARACTERS)
        address = self.address(region)
        reg = self.date(2008, 2023)
        issue = reg if self.r.random() < 0.6 else self.date(reg.year, 2024)
        shown_plate = plate[:2] + "·" + plate[2:] if self.r.random() < 0.3 else plate
        lines = ["中华人民共和国机动车行驶证", "Vehicle License of the People's Republic of China"]
        roll = self.r.random()
        if roll < 0.35:
            lines.append(f"号牌号码 {shown_plate} 车辆类型 {vtype}")
        elif roll < 0.6:
            lines += ["号牌号码", "车辆类型", shown_plate, vtype]
        else:
            lines += self.pair("号牌号码", shown_plate) + self.pair("车辆类型", vtype)
        if self.r.random() < 0.5:
            lines.append("Plate No.  Vehicle Type")
        lines += self.pair("所有人", owner)
        lines += self.wrap("住址", address)
        if self.r.random() < 0.5:
            lines.append(f"使用性质 {use} 品牌型号 {model}")
        else:
            lines += self.pair("使用性质", use) + self.pair("品牌型号", model)
        vin_text = vin if self.r.random() < 0.8 else vin.replace("0", "O", 1)
        lines += self.pair("车辆识别代号", vin_text)
        lines += self.pair("发动机号码", engine)
        roll = self.r.random()
        if roll < 0.4:
            lines.append(f"注册日期 {reg.isoformat()} 发证日期 {issue.isoformat()}")
        elif roll < 0.55:
            lines += ["注册日期 发证日期", f"{reg.isoformat()} {issue.isoformat()}"]
        else:
            lines += self.pair("注册日期", reg.isoformat()) + self.pair(
                "发证日期", issue.isoformat()
            )
        expected = {
            "plateNumber": plate,
            "vehicleType": vtype,
            "owner": owner,
            "address": address,
            "useCharacter": use,
            "model": model,
            "vin": vin,
            "engineNumber": engine,
            "registerDate": reg.isoformat(),
            "issueDate": issue.isoformat(),
        }
        return self.noisy(lines), expected

    def business_license(self) -> tuple[list[str], dict]:
        region = self.region()
        city = region[1].replace("省", "省|").split("|")[-1].replace("市", "")
        company = (
            city
            + self.r.choice(COMPANY_WORDS)
            + self.r.choice(COMPANY_WORDS)
            + self.r.choice(COMPANY_KINDS)
            + "有限公司"
        )
        code = self.credit_code(region[0])
        rep, _, _ = self.person()
        ctype = self.r.choice(COMPANY_TYPES)
        capital = self.r.choice(CAPITALS)
        founded = self.date(1998, 2023)
        address = (
            region[1]
            + region[2]
            + self.r.choice(STREETS)
            + f"{self.r.randint(1, 399)}号"
            + (f"{self.r.randint(1, 30)}层" if self.r.random() < 0.5 else "")
        )
        date_text = self.r.choice(
            [
                f"{founded.year}年{founded.month:02d}月{founded.day:02d}日",
                f"{founded.year}年{founded.month}月{founded.day}日",
            ]
        )
        lines = ["营业执照", self.r.choice(["(副本)", "(副 本)", "(1-1)"])]
        lines += self.pair("统一社会信用代码", code)
        lines += self.pair("名称", company)
        lines += self.pair("类型", ctype)
        rep_label = "执行事务合伙人" if "合伙" in ctype else "法定代表人"
        rep_lines = self.pair(rep_label, rep)
        scope = ["经营范围 " + self.r.choice(SCOPES)[0], *self.r.choice(SCOPES)[1:]]
        if self.r.random() < 0.3:
            lines += scope[:1] + rep_lines + scope[1:]
        else:
            lines += rep_lines + scope
        has_capital = "合伙" not in ctype
        if has_capital:
            lines += self.pair("注册资本", capital)
        lines += self.pair("成立日期", date_text)
        end = (
            "长期"
            if self.r.random() < 0.4
            else f"{founded.year + 20}年{founded.month:02d}月{founded.day:02d}日"
        )
        term = f"营业期限 {founded.year}年{founded.month:02d}月{founded.day:02d}日至{end}"
        addr_lines = self.wrap(self.r.choice(["住所", "住所", "经营场所"]), address)
        if (
            self.r.random() < 0.2
            and len(addr_lines) >= 2
            and not addr_lines[0].startswith(("住", "经"))
        ):
            lines += [*addr_lines, term]
        else:
            lines += [term, *addr_lines]
        lines += [
            "登记机关",
            f"{self.r.randint(2019, 2024)}年{self.r.randint(1, 12)}月{self.r.randint(1, 28)}日",
            "国家企业信用信息公示系统网址:",
            "http://www.gsxt.gov.cn",
        ]
        expected = {
            "creditCode": code,
            "companyName": company,
            "companyType": ctype,
            "legalRepresentative": rep,
            "registeredCapital": capital if has_capital else None,
            "establishedDate": founded.isoformat(),
            "address": address,
        }
        return self.noisy(lines, rate=0.12), expected

    def bank_card(self) -> tuple[list[str], dict]:
        chinese, english, prefix = self.r.choice(BANKS)
        credit = self.r.random() < 0.35
        number = self.card_number(prefix)
        lines: list[str] = []
        names = [chinese] + ([english] if english and self.r.random() < 0.7 else [])
        self.r.shuffle(names)
        lines += names
        lines.append(self.r.choice(["银联", "UnionPay", "银联 UnionPay"]))
        has_type = self.r.random() < 0.85
        if has_type:
            lines.append(
                self.r.choice(["信用卡", "CREDIT CARD", "信用卡 CREDIT CARD", "贷记卡"])
                if credit
                else self.r.choice(["借记卡", "储蓄卡", "DEBIT", "借记卡 DEBIT CARD"])
            )
        groups = self.r.random()
        if groups < 0.5 and len(number) == 16:
            shown = " ".join(number[i : i + 4] for i in range(0, 16, 4))
        elif groups < 0.5:
            shown = " ".join(number[i : i + 4] for i in range(0, 19, 4))
        elif groups < 0.75:
            shown = number[:6] + " " + number[6:]
        else:
            shown = number
        lines.append(shown)
        has_expiry = credit or self.r.random() < 0.6
        expiry = dt.date(self.r.randint(2025, 2033), self.r.randint(1, 12), 1)
        if has_expiry:
            mmyy = f"{expiry:%m}/{expiry:%y}"
            style = self.r.random()
            if style < 0.3:
                lines.append(f"VALID THRU {mmyy}")
            elif style < 0.6:
                lines += [
                    self.r.choice(["有效期 VALID THRU", "MONTH/YEAR", "GOOD THRU", "有效期"]),
                    mmyy,
                ]
            else:
                lines.append(f"有效期 {mmyy}")
        _, sur_py, given_py = self.person()
        has_holder = credit and self.r.random() < 0.8
        chinese_holder = has_holder and self.r.random() < 0.2
        holder = f"{sur_py} {given_py}"
        if chinese_holder:
            holder = self.person()[0]
            lines.append(f"持卡人 {holder}")
        elif has_holder:
            lines.append(holder)
        expected = {
            "cardNumber": number,
            "bankName": chinese,
            "cardType": ("credit" if credit else "debit") if has_type else None,
            "expiryDate": f"{expiry:%Y-%m}" if has_expiry else None,
            "cardholderName": holder if has_holder else None,
        }
        return self.noisy(lines), expected

    def passport(self) -> tuple[list[str], dict]:
        chinese = self.r.random() < 0.6
        if chinese:
            name, surname, given = self.person()
            country_name, code = "PEOPLE'S REPUBLIC OF CHINA", "CHN"
            number = self.r.choice(["E", "EA", "EB", "EC", "EE", "G"])
            number += "".join(self.r.choice("0123456789") for _ in range(9 - len(number)))
        else:
            country_name, code, surnames, givens = self.r.choice(COUNTRIES)
            surname, given = self.r.choice(surnames), self.r.choice(givens)
            name = ""
            number = "".join(self.r.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(9))
        male = self.r.random() < 0.5
        birth = self.date(1950, 2010)
        issue = self.date(2016, 2024)
        expiry = dt.date(issue.year + 10, issue.month, min(issue.day, 28)) - dt.timedelta(days=1)
        sex = "M" if male else "F"

        def viz_date(d: dt.date) -> str:
            return f"{d.day:02d} {MONTHS[d.month - 1]} {d.year}"

        personal = (
            "".join(self.r.choice("ABCDEFGHJKLMN<") for _ in range(14)) if chinese else "<" * 14
        )
        name_field = (surname.replace(" ", "<") + "<<" + given.replace(" ", "<"))[:39]
        line1 = f"P<{code}{name_field}".ljust(44, "<")
        pn_cd = check_digit(number)
        pd_cd = "0" if set(personal) == {"<"} else check_digit(personal)
        body = f"{number}{pn_cd}{code}{birth:%y%m%d}{check_digit(f'{birth:%y%m%d}')}{sex}"
        body += f"{expiry:%y%m%d}{check_digit(f'{expiry:%y%m%d}')}{personal}{pd_cd}"
        line2 = body + check_digit(body[0:10] + body[13:20] + body[21:43])
        lines = [
            country_name if not chinese else "中华人民共和国",
            "PASSPORT" if not chinese else "护照 PASSPORT",
        ]
        if chinese:
            lines += ["类型/Type 国家码/Country Code 护照号/Passport No.", f"P  {code}  {number}"]
            sur_cn = name[:2] if len(surname) > 5 and surname in ("OUYANG", "SIMA") else name[0]
            given_cn = name[len(sur_cn) :]
            lines += ["姓/Surname", f"{sur_cn}/{surname}", "名/Given names", f"{given_cn}/{given}"]
            lines += [
                "性别/Sex 出生地点/Place of birth",
                f"{'男' if male else '女'}/{sex} "
                + self.r.choice(["北京/BEIJING", "上海/SHANGHAI"]),
            ]
            has_nat = self.r.random() < 0.3
            if has_nat:
                lines += ["国籍/Nationality", "中国/CHINESE"]
            lines += [
                "出生日期/Date of birth",
                viz_date(birth),
                "签发地点/Place of issue 签发日期/Date of issue",
                f"北京/BEIJING {viz_date(issue)}",
                "有效期至/Date of expiry",
                viz_date(expiry),
                "签发机关/Authority",
                "中华人民共和国国家移民管理局",
            ]
        else:
            has_nat = True
            lines += [
                "Type/Type Code/Code Passport No./No.",
                f"P {code} {number}",
                "Surname",
                surname,
                "Given names",
                given,
                "Nationality",
                country_name,
                "Date of birth",
                viz_date(birth),
                "Sex",
                sex,
                "Date of issue",
                viz_date(issue),
                "Date of expiry",
                viz_date(expiry),
            ]
        mrz_style = self.r.random()
        has_mrz = mrz_style > 0.12
        if has_mrz:
            l1, l2 = line1, line2
            mrz_lines = None
            if mrz_style < 0.3:
                cut = self.r.randint(10, 40)
                l2 = l2[:cut] + " " + l2[cut:]
            elif mrz_style < 0.45:
                l1 = l1 + "<"
            elif mrz_style < 0.55:
                mrz_lines = [l1, l2[:22], l2[22:]]
            elif mrz_style < 0.62:
                l1 = l1.replace("<<<<", "<<«<", 1)
            elif mrz_style < 0.7 and "0" in l2[13:19]:
                i = 13 + l2[13:19].index("0")
                l2 = l2[:i] + "O" + l2[i + 1 :]
            elif mrz_style < 0.75 and "<<<<" in l2:
                l2 = l2.replace("<<<<", "<K<<", 1)
            lines += mrz_lines or [l1, l2]
        expected = {
            "passportNumber": number,
            "surname": surname,
            "givenNames": given,
            "nationality": code if (has_mrz or has_nat) else None,
            "birthDate": birth.isoformat(),
            "gender": "male" if male else "female",
            "expiryDate": expiry.isoformat(),
            "issuingCountry": code,
        }
        return self.noisy(lines, rate=0.1), expected


def generate_cases(n: int, *, seed: int = 7) -> list[dict]:
    """``n`` cases, the six types in turn, each a dict like a line of dev.jsonl."""
    gen = Gen(seed)
    makers = {
        "idCard": gen.id_card,
        "passport": gen.passport,
        "driverLicense": gen.driver_license,
        "bankCard": gen.bank_card,
        "businessLicense": gen.business_license,
        "vehicleLicense": gen.vehicle_license,
    }
    cases = []
    for i in range(n):
        doc = DOC_TYPES[i % len(DOC_TYPES)]
        lines, expected = makers[doc]()
        lines = [unicodedata.normalize("NFC", line) for line in lines]
        cases.append(
            {
                "id": f"gen-{doc}-{i:03d}",
                "documentType": doc,
                "rawTexts": lines,
                "expected": expected,
            }
        )
    return cases

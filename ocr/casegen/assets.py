"""Documents about what a person or company holds: the vehicle licence, the business licence
and the bank card."""

from __future__ import annotations

import datetime as dt

from ocr.casegen.layout import Document, Layout
from ocr.casegen.vocabulary import (
    BANKS,
    CAPITALS,
    COMPANY_KINDS,
    COMPANY_TYPES,
    COMPANY_WORDS,
    MODELS,
    SCOPES,
    STREETS,
    USE_CHARACTERS,
    VEHICLE_TYPES,
)


class AssetDocuments(Layout):
    """Makes vehicle licences, business licences and bank cards."""

    def vehicle_license(self) -> Document:
        owner = self.person().chinese
        region = self.region()
        plate = self.plate(region.code)
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
        return Document(lines=self.noisy(lines), expected=expected)

    def business_license(self) -> Document:
        region = self.region()
        city = region.province.replace("省", "省|").split("|")[-1].replace("市", "")
        company = (
            city
            + self.r.choice(COMPANY_WORDS)
            + self.r.choice(COMPANY_WORDS)
            + self.r.choice(COMPANY_KINDS)
            + "有限公司"
        )
        code = self.credit_code(region.code)
        rep = self.person().chinese
        ctype = self.r.choice(COMPANY_TYPES)
        capital = self.r.choice(CAPITALS)
        founded = self.date(1998, 2023)
        address = (
            region.province
            + region.district
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
        return Document(lines=self.noisy(lines, rate=0.12), expected=expected)

    def bank_card(self) -> Document:
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
        romanised = self.person()
        has_holder = credit and self.r.random() < 0.8
        chinese_holder = has_holder and self.r.random() < 0.2
        holder = f"{romanised.surname} {romanised.given}"
        if chinese_holder:
            holder = self.person().chinese
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
        return Document(lines=self.noisy(lines), expected=expected)

"""Documents that identify a person: the resident identity card, the driving licence and the
passport (Chinese or foreign, with a machine-readable zone that is sometimes split, spaced or
misread)."""

from __future__ import annotations

import datetime as dt

from ocr.casegen.layout import Document, Layout
from ocr.casegen.vocabulary import COUNTRIES, ETHNICITIES, MONTHS
from ocr.mrz import check_digit


class IdentityDocuments(Layout):
    """Makes identity cards, driving licences and passports."""

    def id_card(self) -> Document:
        name = self.person().chinese
        region = self.region()
        male = self.r.random() < 0.5
        birth = self.date(1950, 2005)
        idn = self.resident_id(region.code, birth, male)
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
        back += self.pair("签发机关", region.authority)
        back += self.pair("有效期限", f"{start:%Y.%m.%d}{self.r.choice(['-', ' - ', '—'])}{end}")
        side = self.r.random()
        expected = {
            "name": name,
            "gender": "male" if male else "female",
            "ethnicity": ethnicity,
            "birthDate": birth.isoformat(),
            "address": address,
            "idNumber": idn,
            "issuingAuthority": region.authority,
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
        return Document(lines=self.noisy(lines), expected=expected)

    def driver_license(self) -> Document:
        name = self.person().chinese
        region = self.region()
        male = self.r.random() < 0.5
        birth = self.date(1950, 2004)
        idn = self.resident_id(region.code, birth, male)
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
        return Document(lines=self.noisy(lines), expected=expected)

    def passport(self) -> Document:
        chinese = self.r.random() < 0.6
        if chinese:
            person = self.person()
            name, surname, given = person.chinese, person.surname, person.given
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
        return Document(lines=self.noisy(lines, rate=0.1), expected=expected)

"""Sample analyze requests shared by the API tests, and what the service must extract from them."""

ID_CARD = {
    "documentType": "idCard",
    "rawTexts": [
        "姓名 张三",
        "性别 女 民族 汉",
        "出生 1949年12月31日",
        "住址 北京市朝阳区建国路88号",
        "公民身份号码 11010519491231002X",
    ],
}
ID_FIELDS = {
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

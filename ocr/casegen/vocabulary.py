"""The words, places, banks and countries the generated documents are made of."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    """A county-level region: its six-digit code, province (and city), district, and the police
    office that issues identity cards there."""

    code: str
    province: str
    district: str
    authority: str


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
REGIONS: list[Region] = [
    Region("110105", "北京市", "朝阳区", "北京市公安局朝阳分局"),
    Region("310104", "上海市", "徐汇区", "上海市公安局徐汇分局"),
    Region("440305", "广东省深圳市", "南山区", "深圳市公安局南山分局"),
    Region("330106", "浙江省杭州市", "西湖区", "杭州市公安局西湖分局"),
    Region("510107", "四川省成都市", "武侯区", "成都市公安局武侯分局"),
    Region("420106", "湖北省武汉市", "武昌区", "武汉市公安局武昌分局"),
    Region("370202", "山东省青岛市", "市南区", "青岛市公安局市南分局"),
    Region("210102", "辽宁省沈阳市", "和平区", "沈阳市公安局和平分局"),
    Region("120101", "天津市", "和平区", "天津市公安局和平分局"),
    Region("350203", "福建省厦门市", "思明区", "厦门市公安局思明分局"),
    Region("320102", "江苏省南京市", "玄武区", "南京市公安局玄武分局"),
    Region("610113", "陕西省西安市", "雁塔区", "西安市公安局雁塔分局"),
    Region("410105", "河南省郑州市", "金水区", "郑州市公安局金水分局"),
    Region("130102", "河北省石家庄市", "长安区", "石家庄市公安局长安分局"),
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

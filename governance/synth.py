"""Seeded generator of realistic multi-channel Chinese customer data with known ground truth.

``generate_workspace`` invents ``n_customers`` true people and renders them into five
channel exports, each with the header names, encodings and dirty values that real exports
from Chinese consumer-brand channels have:

==========  ==============================  ============  =====================================
source      file                            encoding      notes
==========  ==============================  ============  =====================================
wechat_mp   微信小程序会员导出_20261101.csv   utf-8-sig     openid/unionid/appid, gender 0/1/2
douyin      抖音小店订单导出_20261101.csv     utf-8         masked mobiles, full address strings
tmall       天猫旗舰店订单报表_20261101.xlsx  xlsx          numeric mobile cells, datetime cells
pos         门店POS会员消费明细_20261101.csv  gb18030       title line + blank line before header
crm         CRM会员主数据_20261101.csv        utf-8         English headers, ID numbers, e-mails
==========  ==============================  ============  =====================================

Ground truth is ``Workspace.truth``: one ``(source, row_number, customer_id)`` per data row.

Every Douyin, Tmall and POS row is also a purchase: order number, product and category, quantity,
an amount in mixed formats (478.00, ¥478.00, ￥1,197.60, 478.00元), time, and a status mix with
refunds and cancellations (POS: store, date, amount, points, member level). A person's orders are
their rows across those channels. These values come from random streams of their own (seeded by
the order), so they never move the person fields or the ground truth.

Hard cases and their approximate rates (per customer, or per row of the channel that has them):

* Cross-channel: each customer is in 1-4 channels (74 % in one, 17.5 % two, 6 % three,
  2.5 % four, so ~26 % in 2+); within-channel re-registrations ~4 % of rows per channel
  (new account/card/Customer ID, alternative mobile, name variant, different address format).
* Namesakes: realistic surname frequencies (~1 % compound surnames 欧阳/司马/诸葛/上官/慕容...)
  and popular given names, so ~30 % of customers share their exact name with another customer
  (3000 customers: ~10 each of 李静/王芳/李娜/王伟/张伟); additionally ~1 % of customers (>= 1
  pair) are forced into pairs of the most common names (张伟, 王芳, 李娜 ...).
* Households: ~3 % of customers (1.5 % pairs, always >= 1 pair) share one mobile and one home
  address with a spouse of the opposite gender -- different people, same phone.
* Changed numbers: ~7 % of customers have a second mobile used in ~40 % of their rows.
* Name dirt (~5-8 % of named rows): homophone typos (伟->玮), spaces (张 伟, 张　伟), traditional
  characters, annotations ((VIP), （老客户）), placeholders, nickname typed as name; salutations
  (张先生/王女士) in ~6 % of Douyin and ~10 % of POS rows; pinyin names in ~8 % of CRM rows
  ("Zhang Wei", "Wei Zhang", "ZHANG WEI").
* Mobile dirt (~5-10 % of rows carrying a full number): +86/0086/86 prefixes, separators
  (138-0013-8000, 138 0013 8000), full-width digits, dummy numbers (13800138000,
  11111111111 ...; POS cashiers use them most), adjacent-digit transpositions, placeholders.
  Masked mobiles (138****1234) on ~60 % of Douyin and ~24 % of Tmall rows; Douyin privacy
  numbers (17012345678-1234) ~4 %; Tmall stores ~44 % of mobiles as numeric cells.
* Placeholders 无/暂无/未知/N/A/-/null/测试 and empty cells in name, mobile, e-mail, ID fields.
* Dates: per-channel formats; WeChat unix timestamps (~5 %); POS birthdays 1990/1/2, 19900102,
  1990年1月2日, 1990-01-02, month-day only, 1900-01-01 defaults, Excel serials (~3 %); CRM
  birthdays with Excel serials, 1900-01-00 and 0000-00-00 artefacts (~2 % each or less).
* Addresses: 54 real districts with GB/T 2260 adcodes (ambiguous names on purpose: 鼓楼区 in
  南京/福州, 和平区 in 天津/沈阳, 大连中山区 vs 中山市); full, abbreviated (广东深圳南山区...),
  space-separated (Tmall), 北京市北京市 duplications, ~5 % office addresses in other districts.
* CRM ID numbers (present on ~65 % of CRM rows): valid 18-digit with the home district as
  region code; ~2-3 % 15-digit legacy, lower-case x on ~40 % of X-ending numbers, ~1.5 % wrong
  check digit, ~1 % Excel artefacts (1.10105E+17, last three digits zeroed). E-mails with
  realistic domains (numeric qq.com, 163, 126, gmail, foxmail ...) and ~3 % typos (qq.con,
  gmial.com).
* Minors: ~1 % of customers (>= 1) born 2013-2019.
* Unresolvable rows by design: WeChat nickname-only followers (~35 % of WeChat rows: no name,
  no mobile; ~30 % of them also lack a unionid) and privacy-masked Douyin/Tmall orders (~3 %:
  王**, 138****5678, address truncated to the district).

``write_benchmark_csv`` streams a large CRM-like CSV (~20 % duplicates, ~5 % dirty values).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from bisect import bisect
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from itertools import accumulate
from pathlib import Path
from random import Random
from typing import Any, Callable, Sequence

import openpyxl

from governance.store.schema import CHANNELS  # re-exported: the generator writes files for these channels

__all__ = [
    "CHANNELS",
    "ChannelFile",
    "Workspace",
    "generate_workspace",
    "write_workspace",
    "write_benchmark_csv",
    "make_id_card",
]



@dataclass(frozen=True)
class ChannelFile:
    """One exported file of one channel."""

    source: str
    channel: str
    file_name: str
    encoding: str
    data: bytes


@dataclass
class Workspace:
    """Generated files plus ground truth (row -> customer) and the true customers."""

    files: list[ChannelFile]
    truth: list[tuple[str, int, str]]
    customers: list[dict]


# ---------------------------------------------------------------------------
# Reference data
# ---------------------------------------------------------------------------

_EXPORT_STAMP = "20261101"
_EXPORT_DAY = date(2026, 11, 1)
_CST = timezone(timedelta(hours=8))

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@dataclass(frozen=True)
class _District:
    adcode: str
    province: str
    city: str
    district: str
    postcode: str
    weight: int
    roads: tuple[str, ...]

    @property
    def is_muni(self) -> bool:
        return self.province == self.city

    @property
    def prov_short(self) -> str:
        return re.sub(r"(省|市|壮族自治区)$", "", self.province)

    @property
    def city_short(self) -> str:
        return self.city.removesuffix("市")


# adcode province city district postcode weight roads (real GB/T 2260 codes and road names)
_DISTRICT_TABLE = """
110101 北京市 北京市 东城区 100010 3 东直门内大街/王府井大街/朝阳门北大街
110102 北京市 北京市 西城区 100032 3 西直门内大街/金融大街/德胜门外大街
110105 北京市 北京市 朝阳区 100020 6 建国路/朝阳北路/望京街/酒仙桥路
110106 北京市 北京市 丰台区 100071 3 丰台北路/方庄路/马家堡西路
110108 北京市 北京市 海淀区 100080 5 中关村大街/学院路/知春路/海淀大街
310101 上海市 上海市 黄浦区 200001 3 南京东路/淮海中路/西藏中路
310104 上海市 上海市 徐汇区 200030 4 漕溪北路/肇嘉浜路/虹桥路
310105 上海市 上海市 长宁区 200050 3 延安西路/天山路/仙霞路
310112 上海市 上海市 闵行区 201100 4 沪闵路/都市路/七莘路
310115 上海市 上海市 浦东新区 200120 7 世纪大道/张杨路/陆家嘴环路/川沙路
120101 天津市 天津市 和平区 300041 2 南京路/滨江道/成都道
120103 天津市 天津市 河西区 300202 2 友谊路/解放南路/围堤道
500103 重庆市 重庆市 渝中区 400010 2 民族路/中山三路/解放西路
500112 重庆市 重庆市 渝北区 401120 3 金开大道/龙山大道/新南路
440104 广东省 广州市 越秀区 510030 3 北京路/中山五路/东风中路
440106 广东省 广州市 天河区 510630 5 天河路/体育西路/华夏路/中山大道
440304 广东省 深圳市 福田区 518048 4 福华路/深南中路/益田路/福中路
440305 广东省 深圳市 南山区 518052 5 深南大道/南海大道/科技南十二路/后海大道
440306 广东省 深圳市 宝安区 518101 4 宝安大道/创业一路/宝民一路
440307 广东省 深圳市 龙岗区 518172 3 龙岗大道/龙翔大道/布吉路
440604 广东省 佛山市 禅城区 528000 2 季华路/汾江中路/祖庙路
330102 浙江省 杭州市 上城区 310002 2 解放路/清泰街/钱江路
330106 浙江省 杭州市 西湖区 310013 4 文三路/天目山路/教工路/古墩路
330108 浙江省 杭州市 滨江区 310051 3 江南大道/滨盛路/网商路
330203 浙江省 宁波市 海曙区 315000 2 中山西路/药行街/解放南路
320102 江苏省 南京市 玄武区 210018 2 中山路/北京东路/珠江路
320106 江苏省 南京市 鼓楼区 210008 3 中山北路/广州路/湖南路
320505 江苏省 苏州市 虎丘区 215011 2 长江路/狮山路/金山路
320506 江苏省 苏州市 吴中区 215128 2 东吴北路/宝带西路/越溪路
320508 江苏省 苏州市 姑苏区 215000 2 人民路/干将西路/观前街
350102 福建省 福州市 鼓楼区 350001 2 五四路/东街/杨桥东路
350203 福建省 厦门市 思明区 361001 2 中山路/湖滨南路/厦禾路
510104 四川省 成都市 锦江区 610021 3 春熙路/红星路三段/东大街
510107 四川省 成都市 武侯区 610041 4 人民南路四段/武侯祠大街/科华北路
510108 四川省 成都市 成华区 610051 2 建设路/府青路/二环路东二段
420102 湖北省 武汉市 江岸区 430014 2 解放大道/沿江大道/中山大道
420106 湖北省 武汉市 武昌区 430061 3 中南路/中北路/武珞路
420111 湖北省 武汉市 洪山区 430070 3 珞喻路/雄楚大道/鲁磨路
430104 湖南省 长沙市 岳麓区 410006 2 麓山南路/桐梓坡路/岳麓大道
430105 湖南省 长沙市 开福区 410008 2 芙蓉中路一段/湘江中路/中山路
610104 陕西省 西安市 莲湖区 710003 2 西大街/劳动路/莲湖路
610113 陕西省 西安市 雁塔区 710061 3 小寨东路/长安中路/科技路
370102 山东省 济南市 历下区 250011 2 泉城路/经十路/解放路
370202 山东省 青岛市 市南区 266001 2 香港中路/中山路/东海西路
370212 山东省 青岛市 崂山区 266100 2 海尔路/株洲路/崂山路
410105 河南省 郑州市 金水区 450008 2 花园路/金水路/经三路
210102 辽宁省 沈阳市 和平区 110001 2 中华路/太原街/南京北街
210202 辽宁省 大连市 中山区 116001 1 人民路/中山路/解放路
340104 安徽省 合肥市 蜀山区 230031 2 长江西路/黄山路/潜山路
530102 云南省 昆明市 五华区 650031 1 人民中路/东风西路/西昌路
130102 河北省 石家庄市 长安区 050011 1 中山东路/建设北大街/平安北大街
450103 广西壮族自治区 南宁市 青秀区 530022 1 民族大道/东葛路/竹溪大道
360102 江西省 南昌市 东湖区 330006 1 八一大道/中山路/北京西路
230103 黑龙江省 哈尔滨市 南岗区 150001 1 西大直街/红军街/学府路
"""

_DISTRICTS: tuple[_District, ...] = tuple(
    _District(a, p, c, d, z, int(w), tuple(r.split("/")))
    for a, p, c, d, z, w, r in (line.split() for line in _DISTRICT_TABLE.strip().splitlines())
)

_AREA_CODES = {
    "北京市": "010", "上海市": "021", "天津市": "022", "重庆市": "023", "广州市": "020",
    "深圳市": "0755", "佛山市": "0757", "杭州市": "0571", "宁波市": "0574", "南京市": "025",
    "苏州市": "0512", "福州市": "0591", "厦门市": "0592", "成都市": "028", "武汉市": "027",
    "长沙市": "0731", "西安市": "029", "济南市": "0531", "青岛市": "0532", "郑州市": "0371",
    "沈阳市": "024", "大连市": "0411", "合肥市": "0551", "昆明市": "0871", "石家庄市": "0311",
    "南宁市": "0771", "南昌市": "0791", "哈尔滨市": "0451",
}

# WeChat profiles of users with an English UI carry pinyin region names.
_REGION_EN = {
    "北京": "Beijing", "上海": "Shanghai", "天津": "Tianjin", "重庆": "Chongqing",
    "广东": "Guangdong", "浙江": "Zhejiang", "江苏": "Jiangsu", "福建": "Fujian",
    "四川": "Sichuan", "湖北": "Hubei", "湖南": "Hunan", "陕西": "Shaanxi", "山东": "Shandong",
    "河南": "Henan", "辽宁": "Liaoning", "安徽": "Anhui", "云南": "Yunnan", "河北": "Hebei",
    "广西": "Guangxi", "江西": "Jiangxi", "黑龙江": "Heilongjiang", "广州": "Guangzhou",
    "深圳": "Shenzhen", "佛山": "Foshan", "杭州": "Hangzhou", "宁波": "Ningbo",
    "南京": "Nanjing", "苏州": "Suzhou", "福州": "Fuzhou", "厦门": "Xiamen", "成都": "Chengdu",
    "武汉": "Wuhan", "长沙": "Changsha", "西安": "Xi'an", "济南": "Jinan", "青岛": "Qingdao",
    "郑州": "Zhengzhou", "沈阳": "Shenyang", "大连": "Dalian", "合肥": "Hefei",
    "昆明": "Kunming", "石家庄": "Shijiazhuang", "南宁": "Nanning", "南昌": "Nanchang",
    "哈尔滨": "Harbin",
}

_COMMUNITIES = (
    "阳光花园", "万科城", "碧桂园", "保利花园", "中海锦苑", "绿地世纪城", "华润城", "金地格林小镇",
    "龙湖春江郦城", "融创壹号院", "翠苑小区", "幸福里", "锦绣家园", "世纪花园", "东方明珠苑",
    "香榭里", "星河湾", "招商雍景湾", "恒大名都", "新城国际", "和平里小区", "朝阳新村",
)
_OFFICES = ("国际大厦", "科技大厦", "金融中心", "创新中心", "商务大厦", "财富广场", "时代广场")
_MALLS = ("万达广场", "万象城", "大悦城", "龙湖天街", "印象城", "来福士", "银泰城", "吾悦广场", "凯德广场")

_PRODUCTS = (
    ("【官方正品】玻尿酸补水面膜10片装", 89.0), ("氨基酸温和洁面乳120g", 69.0),
    ("小金瓶防晒霜SPF50+ PA++++ 50ml", 159.0), ("焕颜修护精华液30ml", 299.0),
    ("草本控油洗发水500ml", 59.9), ("烟酰胺亮肤身体乳250ml", 79.0),
    ("【直播专享】保湿水乳套装", 239.0), ("每日坚果礼盒750g", 128.0),
    ("低糖燕麦脆片400g*2袋", 49.9), ("冻干咖啡粉30颗", 99.0), ("纯棉四件套1.8m床", 399.0),
    ("轻薄羽绒服女款", 499.0),
)
# The category of each product (order files carry it beside the title).
_CATEGORIES = {
    "【官方正品】玻尿酸补水面膜10片装": "美妆护肤", "氨基酸温和洁面乳120g": "美妆护肤",
    "小金瓶防晒霜SPF50+ PA++++ 50ml": "美妆护肤", "焕颜修护精华液30ml": "美妆护肤", "【直播专享】保湿水乳套装": "美妆护肤",
    "草本控油洗发水500ml": "个护清洁", "烟酰胺亮肤身体乳250ml": "个护清洁", "每日坚果礼盒750g": "食品饮料",
    "低糖燕麦脆片400g*2袋": "食品饮料", "冻干咖啡粉30颗": "食品饮料", "纯棉四件套1.8m床": "家居家纺", "轻薄羽绒服女款": "服饰",
}
_POS_LEVELS = (("普卡", 55), ("银卡", 25), ("金卡", 15), ("钻石卡", 5))


def _amount_cell(side: Random, amount: float) -> str:
    """An amount as exports write it: 478.00, ¥478.00, ￥1,197.60 or 478.00元. `side` is a random
    stream of its own, so the formats never move the draws of the person fields."""
    r = side.random()
    if r < 0.6:
        return f"{amount:.2f}"
    if r < 0.8:
        return f"¥{amount:,.2f}"
    if r < 0.9:
        return f"￥{amount:,.2f}"
    return f"{amount:.2f}元"

_PLACEHOLDERS = ("无", "暂无", "未知", "N/A", "-", "null", "测试", "")
_DUMMY_MOBILES = ("13800138000", "11111111111", "13888888888", "12345678901", "18888888888", "13000000000")
_URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
_FULLWIDTH = str.maketrans(
    "0123456789+-()ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "０１２３４５６７８９＋－（）ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ"
    "ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ",
)

# Surname frequencies (per 10 000, rounded from national statistics).
_SURNAME_TABLE = (
    "王712 李719 张635 刘538 陈453 杨308 黄223 赵229 吴205 周188 徐145 孙138 马129 朱126 "
    "胡116 郭115 何106 林101 高100 罗86 郑78 梁72 谢68 宋64 唐62 许58 韩57 冯56 邓55 曹52 "
    "彭51 曾50 肖49 田47 董46 袁44 潘43 于42 蒋41 蔡40 余39 杜38 叶37 程36 苏35 魏34 吕33 "
    "丁32 任31 沈30 姚29 卢28 姜27 崔26 钟25 谭24 陆23 汪22 范21 金20 石19 廖18 贾17 夏16 "
    "韦15 付14 方13 白12 邹11 孟10 熊10 秦10 邱10 江10 尹9 薛9 闫9 段9 雷9 侯8 龙8 史8 陶8 "
    "黎8 贺8 顾8 毛8 郝7 龚7 邵7 万7 钱7 严7 武7 戴7 莫6 孔6 向6 汤6"
)
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "慕容", "司徒", "东方", "皇甫")
_COMPOUND_RATE = 0.01

_MALE_POPULAR = (
    "伟30 强12 磊14 军10 勇10 杰12 涛10 明8 超8 斌6 辉6 鹏6 刚6 洋10 平6 华6 飞6 鑫6 波6 宇6 "
    "浩6 俊杰4 子轩5 浩然5 宇轩4 志强5 建华4 建国4 海涛3 文博3 晓东3 家豪3 一鸣3 博文3 天佑2 "
    "梓豪3 宇航3 建军4 国强3 志明3"
)
_FEMALE_POPULAR = (
    "芳25 娜20 敏16 静18 丽14 艳10 娟10 霞8 秀英10 桂英6 丹6 玲8 婷8 雪6 慧5 颖6 倩6 琳5 "
    "欣怡5 梓涵5 子涵5 诗涵4 雨涵4 思雨3 佳怡4 晓燕4 海燕3 丽娟4 秀兰4 玉兰3 淑珍2 美玲3 "
    "雨桐3 一诺3 秀珍3 红梅4 丽华3"
)
# Composed two-character given names: (first-position chars, second-position chars).
_MALE_CHARS = ("子浩宇俊泽博文志建国家明晓海天嘉思睿一振永德立昊晨铭", "轩然杰豪航峰亮成凯毅翔瑞恒哲宏旭诚安军涛鹏辉斌磊明宇文博华强伟东")
_FEMALE_CHARS = ("雨欣梓诗佳思婉雅梦晓美丽秀玉慧静子一可紫若心依", "涵萱怡琪彤瑶婷琳颖悦蕾璐洁燕丹霞萍红芳娜敏倩妍茜桐淑雯馨然兰珍英华静月")

# The twenty most frequent full names in China, used to force namesake pairs.
_TOP_NAMES = (
    ("张", "伟", "M"), ("王", "伟", "M"), ("王", "芳", "F"), ("李", "伟", "M"), ("李", "娜", "F"),
    ("张", "敏", "F"), ("李", "静", "F"), ("王", "静", "F"), ("刘", "伟", "M"), ("王", "秀英", "F"),
    ("张", "丽", "F"), ("李", "秀英", "F"), ("王", "丽", "F"), ("张", "静", "F"), ("张", "秀英", "F"),
    ("李", "强", "M"), ("王", "敏", "F"), ("李", "敏", "F"), ("王", "磊", "M"), ("刘", "洋", "M"),
)

# Pinyin of every character used in true names (surnames read in their surname reading).
_PINYIN_DATA = (
    "丁:ding 万:wan 上:shang 东:dong 严:yan 于:yu 付:fu 任:ren 何:he 余:yu 侯:hou 冯:feng 刘:liu 卢:lu "
    "史:shi 叶:ye 司:si 向:xiang 吕:lv 吴:wu 周:zhou 唐:tang 夏:xia 姚:yao 姜:jiang 孔:kong 孙:sun 孟:meng "
    "宋:song 官:guan 容:rong 尹:yin 崔:cui 廖:liao 张:zhang 彭:peng 徐:xu 徒:tu 慕:mu 戴:dai 方:fang "
    "曹:cao 曾:zeng 朱:zhu 李:li 杜:du 杨:yang 林:lin 梁:liang 欧:ou 武:wu 段:duan 毛:mao 江:jiang 汤:tang "
    "汪:wang 沈:shen 潘:pan 熊:xiong 王:wang 甫:fu 田:tian 白:bai 皇:huang 石:shi 秦:qin 程:cheng 罗:luo "
    "肖:xiao 胡:hu 苏:su 范:fan 莫:mo 葛:ge 董:dong 蒋:jiang 蔡:cai 薛:xue 袁:yuan 许:xu 诸:zhu 谢:xie "
    "谭:tan 贺:he 贾:jia 赵:zhao 邓:deng 邱:qiu 邵:shao 邹:zou 郑:zheng 郝:hao 郭:guo 金:jin 钟:zhong "
    "钱:qian 闫:yan 阳:yang 陆:lu 陈:chen 陶:tao 雷:lei 韦:wei 韩:han 顾:gu 马:ma 高:gao 魏:wei 黄:huang "
    "黎:li 龙:long 龚:gong 一:yi 丹:dan 丽:li 亮:liang 伟:wei 佑:you 佳:jia 俊:jun 倩:qian 兰:lan 军:jun "
    "凯:kai 刚:gang 勇:yong 华:hua 博:bo 哲:zhe 嘉:jia 国:guo 天:tian 妍:yan 娜:na 娟:juan 婉:wan 婷:ting "
    "子:zi 宇:yu 安:an 宏:hong 家:jia 峰:feng 平:ping 建:jian 强:qiang 彤:tong 德:de 志:zhi 思:si 怡:yi "
    "恒:heng 悦:yue 慧:hui 成:cheng 振:zhen 敏:min 文:wen 斌:bin 旭:xu 昊:hao 明:ming 晓:xiao 晨:chen "
    "杰:jie 桂:gui 桐:tong 梅:mei 梓:zi 梦:meng 欣:xin 毅:yi 永:yong 波:bo 泽:ze 洁:jie 洋:yang 浩:hao "
    "海:hai 涛:tao 涵:han 淑:shu 然:ran 燕:yan 玉:yu 玲:ling 珍:zhen 琪:qi 琳:lin 瑞:rui 瑶:yao 璐:lu "
    "睿:rui 磊:lei 秀:xiu 立:li 红:hong 美:mei 翔:xiang 航:hang 艳:yan 芳:fang 英:ying 茜:qian 萍:ping "
    "萱:xuan 蕾:lei 诗:shi 诚:cheng 诺:nuo 豪:hao 超:chao 轩:xuan 辉:hui 鑫:xin 铭:ming 雅:ya 雨:yu 雪:xue "
    "霞:xia 静:jing 颖:ying 飞:fei 鸣:ming 鹏:peng 依:yi 可:ke 心:xin 月:yue 紫:zi 若:ruo 雯:wen 馨:xin "
)
_PINYIN: dict[str, str] = dict(item.split(":") for item in _PINYIN_DATA.split())

_TRADITIONAL = dict(
    zip(
        "张刘陈杨黄赵吴孙马罗郑谢许韩冯邓蒋苏吕钟谭陆贾韦邹闫龙顾贺龚钱严汤卢叶万欧马诸东"
        "伟军涛杰辉鹏刚华飞强轩国晓鸣丽静艳兰颖诗梦悦红洁瑶铭凯诚泽诺东",
        "張劉陳楊黃趙吳孫馬羅鄭謝許韓馮鄧蔣蘇呂鍾譚陸賈韋鄒閆龍顧賀龔錢嚴湯盧葉萬歐馬諸東"
        "偉軍濤傑輝鵬剛華飛強軒國曉鳴麗靜艷蘭穎詩夢悅紅潔瑤銘凱誠澤諾東",
    )
)

# Homophones / look-alikes that people and cashiers actually mistype.
_HOMOPHONES = {
    "伟": "玮炜", "静": "婧敬", "丽": "莉俐", "敏": "民闽", "娜": "纳", "芳": "方芬", "军": "君",
    "涛": "滔", "杰": "洁", "磊": "垒", "强": "蔷", "刚": "钢", "明": "铭", "华": "桦", "辉": "晖",
    "鹏": "朋", "鑫": "欣", "婷": "亭", "琳": "霖林", "颖": "莹", "倩": "茜", "慧": "惠", "玲": "铃",
    "雪": "学", "燕": "艳", "洋": "阳扬", "勇": "永", "超": "潮", "波": "博", "斌": "彬", "峰": "锋",
    "霞": "侠", "萍": "苹", "晓": "小", "欣": "馨", "怡": "仪", "涵": "晗", "轩": "萱", "宇": "羽",
    "浩": "皓", "俊": "骏", "泽": "则", "文": "雯", "子": "紫", "佳": "嘉", "梦": "孟", "思": "斯",
    "雨": "语", "诗": "师", "嘉": "佳", "一": "依", "睿": "瑞", "红": "虹", "凯": "楷", "亮": "靓",
    "瑶": "遥", "洁": "杰", "艳": "燕", "秀": "绣", "英": "瑛", "珍": "贞", "兰": "岚", "梅": "眉",
    "翔": "祥", "瑞": "睿", "宏": "鸿", "旭": "煦", "晨": "辰", "诚": "成", "振": "震", "德": "得",
    "立": "力", "昊": "浩", "毅": "义", "恒": "衡", "航": "杭", "豪": "浩", "哲": "喆", "铭": "明",
    "博": "搏", "彤": "桐", "琪": "棋", "妍": "艳", "蕾": "雷", "璐": "露", "悦": "月", "萱": "宣",
    "雅": "亚", "婉": "宛", "美": "媚", "玉": "钰", "桐": "彤", "淑": "书", "张": "章", "王": "汪",
    "李": "黎", "刘": "柳", "陈": "程", "杨": "阳", "吴": "伍", "徐": "许", "许": "徐", "林": "凌",
    "黄": "王",
}

_NICK_PHRASES = (
    "A阳光", "快乐每一天", "静待花开", "追梦人", "淡然", "木子", "夏天的风", "岁月静好", "平安是福",
    "知足常乐", "简单", "随缘", "开心果", "小确幸", "向日葵", "浅笑安然", "一路向北", "海阔天空",
    "心若向阳", "Lily", "Amy", "Tony", "Kevin", "Coco", "小仙女", "吃货一枚", "奶茶续命",
    "A-建材王总", "A 保险 陈经理", "宝妈", "二宝妈咪", "风轻云淡", "晴天", "土豆", "大白",
)
_EMOJIS = ("🍀", "🌸", "☀️", "🌈", "🐟", "🍓", "🌙", "⭐", "💕", "🐱", "🌻", "🎈", "🍬", "🦋")

# Real operator number blocks (移动/联通/电信/广电), weighted towards the old large blocks.
_MOBILE_PREFIXES = (
    "134:3 135:5 136:5 137:5 138:6 139:6 147:1 150:3 151:3 152:3 157:2 158:3 159:3 172:1 178:2 "
    "182:3 183:2 184:1 187:3 188:3 195:1 197:1 198:2 130:3 131:3 132:3 145:1 155:2 156:3 166:2 "
    "175:2 176:2 185:3 186:4 196:1 133:3 149:1 153:2 173:2 177:2 180:3 181:3 189:4 190:1 191:2 "
    "193:1 199:2 192:1"
)

_EMAIL_DOMAINS = (
    "qq.com:40 163.com:18 126.com:8 gmail.com:5 foxmail.com:5 sina.com:4 hotmail.com:3 "
    "outlook.com:3 139.com:3 icloud.com:3 yeah.net:2 sohu.com:1 aliyun.com:1"
)
_EMAIL_TYPOS = {
    "qq.com": ("qq.con", "qq.comm", "qq.cn", "qq,com"), "163.com": ("163.cm", "163.con", "136.com"),
    "126.com": ("126.cm", "126.con"), "gmail.com": ("gmial.com", "gmail.con", "gamil.com"),
    "hotmail.com": ("hotmial.com", "hotmail.co"), "foxmail.com": ("foxmial.com",),
    "sina.com": ("sina.cn.com",), "outlook.com": ("outlok.com",),
}

_DUP_RATE = 0.04
_CHANNEL_KEYS = ("wechat_mp", "douyin", "tmall", "pos", "crm")
_CHANNEL_WEIGHTS = (32, 20, 20, 13, 15)
_CHANNEL_COUNT_WEIGHTS = (740, 175, 60, 25)  # P(1..4 channels)

_SOURCES = {
    "wechat_mp": ("wechat_mp_member", f"微信小程序会员导出_{_EXPORT_STAMP}.csv", "utf-8-sig"),
    "douyin": ("douyin_orders", f"抖音小店订单导出_{_EXPORT_STAMP}.csv", "utf-8"),
    "tmall": ("tmall_orders", f"天猫旗舰店订单报表_{_EXPORT_STAMP}.xlsx", "xlsx"),
    "pos": ("pos_sales", f"门店POS会员消费明细_{_EXPORT_STAMP}.csv", "gb18030"),
    "crm": ("crm_members", f"CRM会员主数据_{_EXPORT_STAMP}.csv", "utf-8"),
}

WECHAT_HEADER = ["openid", "unionid", "appid", "昵称", "姓名", "手机号", "性别", "生日", "国家", "省份", "城市", "注册时间", "最近访问时间"]
DOUYIN_HEADER = ["订单号", "抖音号", "用户昵称", "收货人", "收货手机", "收货地址", "商品名称", "商品类目", "商品数量", "订单金额", "下单时间", "订单状态"]
TMALL_HEADER = ["订单编号", "买家会员名", "买家支付宝账号", "收货人姓名", "收货地址", "联系电话", "联系手机", "宝贝标题", "商品类目", "宝贝总数量", "买家实际支付金额", "订单状态", "订单创建时间", "订单付款时间"]
POS_HEADER = ["会员卡号", "姓名", "手机", "性别", "生日", "门店", "消费日期", "消费金额", "积分", "会员等级", "收银员"]
CRM_HEADER = ["Customer ID", "Name", "Mobile", "Email", "ID Number", "Gender", "Birthday", "Province", "City", "District", "Address", "Postcode", "Register Time", "Update Time", "Marketing Opt-in"]
POS_TITLE = "门店会员消费明细"


class _Weighted:
    """Weighted choice with precomputed cumulative weights."""

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        self.items = list(items)
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1]

    @classmethod
    def parse(cls, spec: str) -> _Weighted:
        """Parse ``"a:3 b:1"`` or ``"王712"`` style specs (weight = trailing digits)."""
        pairs = [re.fullmatch(r"(.+?):?(\d+)", tok).groups() for tok in spec.split()]  # type: ignore[union-attr]
        return cls([p for p, _ in pairs], [int(w) for _, w in pairs])

    def pick(self, rng: Random) -> Any:
        return self.items[bisect(self.cum, rng.random() * self.total)]

    def expand(self, size: int) -> list[Any]:
        """A list of ``size`` items in proportion to weight, for O(1) uniform indexing."""
        return [self.items[bisect(self.cum, (i + 0.5) * self.total / size)] for i in range(size)]


_SURNAMES = _Weighted.parse(_SURNAME_TABLE)
_MALE_GIVEN = _Weighted.parse(_MALE_POPULAR)
_FEMALE_GIVEN = _Weighted.parse(_FEMALE_POPULAR)
_PREFIXES = _Weighted.parse(_MOBILE_PREFIXES)
_DOMAINS = _Weighted.parse(_EMAIL_DOMAINS)
_DISTRICT_PICK = _Weighted(_DISTRICTS, [d.weight for d in _DISTRICTS])


# ---------------------------------------------------------------------------
# ID cards
# ---------------------------------------------------------------------------


def _id_check(body17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(body17, _ID_WEIGHTS)) % 11]


def make_id_card(region_code: str, birth: date, seq: int) -> str:
    """Return a valid 18-character GB 11643 resident ID number (MOD 11-2 check character).

    ``seq`` is the 3-digit order code; by convention odd = male, even = female.
    """
    if len(region_code) != 6 or not region_code.isdigit():
        raise ValueError(f"region_code must be 6 digits, got {region_code!r}")
    if not 0 <= seq <= 999:
        raise ValueError(f"seq must be in 0..999, got {seq}")
    body = f"{region_code}{birth.year:04d}{birth.month:02d}{birth.day:02d}{seq:03d}"
    return body + _id_check(body)


# ---------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------


@dataclass
class _Person:
    cid: str
    surname: str
    given: str
    gender: str  # "M" / "F"
    birth: date
    dist: _District
    road: str
    road_no: int
    community: str
    building: int
    unit: int
    room: int
    mobile: str
    id_seq: int
    id_card: str
    alt_mobile: str = ""
    email: str = ""
    nick: str = ""
    household: str = ""
    channels: list[str] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)  # stable per-channel account ids

    @property
    def name(self) -> str:
        return self.surname + self.given

    def pinyin(self) -> tuple[str, str]:
        """Capitalised (surname, given) pinyin, e.g. ("Ouyang", "Xiaoming")."""
        sur = "".join(_PINYIN[c] for c in self.surname).capitalize()
        giv = "".join(_PINYIN[c] for c in self.given).capitalize()
        return sur, giv

    def street(self, style: int = 0) -> str:
        """Street part of the home address in one of several notations."""
        if not self.community:
            return f"{self.road}{self.road_no}号"
        b, u, r, c = self.building, self.unit, self.room, self.community
        if style == 1:
            return f"{self.road}{self.road_no}号{c}{b}-{u}-{r}"
        if style == 2:
            return f"{c}{b}号楼{u}单元{r}"
        if style == 3:
            return f"{self.road}{self.road_no}号 {c} {b}幢{r}室"
        return f"{self.road}{self.road_no}号{c}{b}栋{u}单元{r}室"

    def canonical_address(self) -> str:
        d = self.dist
        city = "" if d.is_muni else d.city
        return f"{d.province}{city}{d.district}{self.street()}"


def _rand_str(rng: Random, alphabet: str, n: int) -> str:
    return "".join([alphabet[rng.randrange(len(alphabet))] for _ in range(n)])


def _new_mobile(rng: Random, used: set[str]) -> str:
    while True:
        m = f"{_PREFIXES.pick(rng)}{rng.randrange(10**8):08d}"
        if m not in used and m not in _DUMMY_MOBILES:
            used.add(m)
            return m


def _given_name(rng: Random, gender: str) -> str:
    if rng.random() < 0.45:
        return (_MALE_GIVEN if gender == "M" else _FEMALE_GIVEN).pick(rng)
    firsts, seconds = _MALE_CHARS if gender == "M" else _FEMALE_CHARS
    if rng.random() < 0.2:
        return rng.choice(seconds)
    first, second = rng.choice(firsts), rng.choice(seconds)
    while second == first:
        second = rng.choice(seconds)
    return first + second


def _surname(rng: Random) -> str:
    if rng.random() < _COMPOUND_RATE:
        return rng.choice(_COMPOUND_SURNAMES)
    return _SURNAMES.pick(rng)


def _birth(rng: Random, minor: bool) -> date:
    if minor:
        start = date(rng.randint(2013, 2019), 1, 1)
    else:
        age = min(75, max(18, int(rng.triangular(18, 72, 31))))
        start = date(2026 - age - 1, 11, 2)
    return start + timedelta(days=rng.randrange(365))


def _nick(rng: Random, surname: str, given: str) -> str:
    r = rng.random()
    if r < 0.25:
        return rng.choice(_NICK_PHRASES)
    if r < 0.45:
        e, p = rng.choice(_EMOJIS), rng.choice(_NICK_PHRASES)
        return e + p if rng.random() < 0.5 else p + e
    if r < 0.62:
        g = given[-1]
        return rng.choice((g + g, "小" + g, "阿" + g, surname + given, surname + "姐", surname + "哥", g + g + rng.choice(_EMOJIS)))
    if r < 0.8:
        py = "".join(_PINYIN.get(c, "x") for c in surname + given)
        return rng.choice((f"{py}{rng.randrange(100)}", f"{py}_{rng.randrange(1970, 2010)}", py.capitalize(), f"{py[:1]}{py[-3:]}{rng.randrange(1000)}"))
    if r < 0.9:
        return "".join(rng.choice(_EMOJIS) for _ in range(rng.randint(1, 3)))
    return rng.choice(("ゞ", "A", "。", "～", "…")) + rng.choice(_NICK_PHRASES)


def _email(rng: Random, p: _Person) -> str:
    domain = _DOMAINS.pick(rng)
    sur, giv = (s.lower() for s in p.pinyin())
    if domain == "qq.com" or (domain == "foxmail.com" and rng.random() < 0.5):
        return f"{rng.randrange(10000, 3_999_999_999)}@{domain}"
    r = rng.random()
    if r < 0.35:
        local = f"{sur}{giv}{p.birth.year if rng.random() < 0.5 else rng.randrange(1, 100)}"
    elif r < 0.55:
        local = f"{giv}.{sur}"
    elif r < 0.75:
        initials = sur[0] + "".join(_PINYIN[c][0] for c in p.given)
        local = f"{initials}{rng.randrange(100, 10000)}"
    else:
        local = f"{sur}{giv}_{p.birth.month:02d}{p.birth.day:02d}"
    return f"{local}@{domain}"


def _make_people(rng: Random, n: int) -> list[_Person]:
    genders = ["M" if rng.random() < 0.47 else "F" for _ in range(n)]
    n_house = max(1, round(n * 0.015)) if n >= 2 else 0
    n_names = max(1, round(n * 0.005)) if n >= 4 else 0
    n_minor = max(1, round(n * 0.01)) if n >= 1 else 0
    special = rng.sample(range(n), min(n, 2 * n_house + 2 * n_names + n_minor))
    houses = [tuple(sorted(special[2 * i: 2 * i + 2])) for i in range(n_house)]
    rest = special[2 * n_house:]
    forced_names: dict[int, tuple[str, str]] = {}
    for i in range(n_names):
        sur, giv, g = rng.choice(_TOP_NAMES)
        for idx in rest[2 * i: 2 * i + 2]:
            forced_names[idx] = (sur, giv)
            genders[idx] = g
    minors = set(rest[2 * n_names:])
    spouse_of: dict[int, int] = {}
    for a, b in houses:
        spouse_of[b] = a
        genders[b] = "F" if genders[a] == "M" else "M"

    used_mobiles: set[str] = set()
    used_ids: set[str] = set()
    people: list[_Person] = []
    for i in range(n):
        g = genders[i]
        sur, giv = forced_names.get(i) or (_surname(rng), _given_name(rng, g))
        head = people[spouse_of[i]] if i in spouse_of else None
        if head is not None:
            birth = min(date(2000, 12, 31), head.birth + timedelta(days=rng.randint(-5 * 365, 5 * 365)))
            dist, road, road_no = head.dist, head.road, head.road_no
            community, building, unit, room = head.community, head.building, head.unit, head.room
            mobile = head.mobile
        else:
            birth = _birth(rng, i in minors)
            dist = _DISTRICT_PICK.pick(rng)
            road, road_no = rng.choice(dist.roads), rng.randint(1, 999)
            community = rng.choice(_COMMUNITIES) if rng.random() < 0.8 else ""
            building, unit = rng.randint(1, 30), rng.randint(1, 4)
            room = rng.randint(1, 33) * 100 + rng.randint(1, 6)
            mobile = _new_mobile(rng, used_mobiles)
        while True:
            seq = rng.randrange(500) * 2 + (1 if g == "M" else 0)
            id_card = make_id_card(dist.adcode, birth, seq)
            if id_card not in used_ids:
                used_ids.add(id_card)
                break
        p = _Person(
            cid=f"C{i + 1:06d}", surname=sur, given=giv, gender=g, birth=birth, dist=dist,
            road=road, road_no=road_no, community=community, building=building, unit=unit,
            room=room, mobile=mobile, id_seq=seq, id_card=id_card,
        )
        if head is not None:
            p.household = head.household = f"H{head.cid[1:]}"
        elif rng.random() < 0.07:
            p.alt_mobile = _new_mobile(rng, used_mobiles)
        if rng.random() < 0.6:
            p.email = _email(rng, p)
        p.nick = _nick(rng, sur, giv)
        people.append(p)
    return people


def _assign_channels(rng: Random, people: list[_Person]) -> None:
    counts = _Weighted([1, 2, 3, 4], _CHANNEL_COUNT_WEIGHTS)
    for p in people:
        k = counts.pick(rng)
        keys, weights = list(_CHANNEL_KEYS), list(_CHANNEL_WEIGHTS)
        chosen = []
        for _ in range(k):
            w = _Weighted(keys, weights)
            c = w.pick(rng)
            idx = keys.index(c)
            keys.pop(idx)
            weights.pop(idx)
            chosen.append(c)
        p.channels = [c for c in _CHANNEL_KEYS if c in chosen]


# ---------------------------------------------------------------------------
# Dirty-value helpers
# ---------------------------------------------------------------------------

_NAME_DIRT = _Weighted(
    ["typo", "space", "trad", "annot", "placeholder", "fullwidth", "nick"], [30, 20, 12, 10, 12, 8, 8]
)
_MOBILE_DIRT = _Weighted(
    ["prefix", "sep", "fullwidth", "dummy", "typo", "placeholder", "space"], [25, 25, 8, 12, 12, 12, 6]
)
_POS_MOBILE_DIRT = _Weighted(
    ["prefix", "sep", "fullwidth", "dummy", "typo", "placeholder", "space"], [5, 15, 5, 45, 15, 10, 5]
)


def _typo_name(rng: Random, name: str) -> str:
    spots = [i for i, c in enumerate(name) if c in _HOMOPHONES]
    if not spots:
        return name + name[-1:]  # stutter: 张伟伟
    i = rng.choice(spots)
    return name[:i] + rng.choice(_HOMOPHONES[name[i]]) + name[i + 1:]


def _dirty_name(rng: Random, p: _Person, rate: float, salute: float = 0.0) -> str:
    """The person's name as typed into a channel, with realistic noise."""
    if salute and rng.random() < salute:
        return p.surname + ("先生" if p.gender == "M" else "女士")
    name = p.name
    if rng.random() >= rate:
        return name
    kind = _NAME_DIRT.pick(rng)
    if kind == "typo":
        return _typo_name(rng, name)
    if kind == "space":
        cut = len(p.surname)
        return rng.choice((name[:cut] + " " + name[cut:], " ".join(name), name + " ", " " + name))
    if kind == "trad":
        return "".join(_TRADITIONAL.get(c, c) for c in name)
    if kind == "annot":
        return name + rng.choice(("(VIP)", "（老客户）", "-会员", "（本人）", "*"))
    if kind == "placeholder":
        return rng.choice(_PLACEHOLDERS)
    if kind == "fullwidth":
        cut = len(p.surname)
        return rng.choice(("\u3000" + name, name[:cut] + "\u3000" + name[cut:], name + "\u3000"))
    return p.nick


def _masked_mobile(m: str) -> str:
    return f"{m[:3]}****{m[-4:]}"


def _dirty_mobile(rng: Random, m: str, rate: float, table: _Weighted = _MOBILE_DIRT) -> str:
    """A mobile number as stored by a channel: mostly clean, sometimes formatted or wrong."""
    if rng.random() >= rate:
        return m
    kind = table.pick(rng)
    if kind == "prefix":
        return rng.choice(("+86", "+86 ", "0086", "86", "+86-")) + m
    if kind == "sep":
        return rng.choice((f"{m[:3]}-{m[3:7]}-{m[7:]}", f"{m[:3]} {m[3:7]} {m[7:]}", f"{m[:3]}-{m[3:]}"))
    if kind == "fullwidth":
        return m.translate(_FULLWIDTH)
    if kind == "dummy":
        return rng.choice(_DUMMY_MOBILES)
    if kind == "typo":
        i = rng.randrange(3, 10)
        if m[i] == m[i + 1]:
            return m[:i] + str((int(m[i]) + 1) % 10) + m[i + 1:]
        return m[:i] + m[i + 1] + m[i] + m[i + 2:]
    if kind == "placeholder":
        return rng.choice(_PLACEHOLDERS)
    return rng.choice((m + " ", " " + m, m + "\t"))


def _row_mobile(rng: Random, p: _Person, dup: bool) -> str:
    if p.alt_mobile and rng.random() < (0.7 if dup else 0.4):
        return p.alt_mobile
    return p.mobile


def _address(rng: Random, p: _Person, style: str) -> str:
    """Home address string in one notation (full, full_dup, abbrev, no_prov, taobao, street)."""
    d = p.dist
    street = p.street(rng.choice((0, 0, 0, 1, 2, 3)))
    if style == "full":
        return f"{d.province}{'' if d.is_muni else d.city}{d.district}{street}"
    if style == "full_dup":
        return f"{d.province}{d.city}{d.district}{street}"
    if style == "abbrev":
        return f"{d.prov_short}{'' if d.is_muni else d.city_short}{d.district}{street}"
    if style == "no_prov":
        return f"{d.city}{d.district}{street}"
    if style == "taobao":
        prov = d.prov_short if d.is_muni else d.province
        return f"{prov} {d.city} {d.district} {street}"
    return street


def _office_address(rng: Random) -> tuple[_District, str]:
    d = _DISTRICT_PICK.pick(rng)
    return d, f"{rng.choice(d.roads)}{rng.randint(1, 999)}号{rng.choice(_OFFICES)}{rng.randint(2, 40)}楼"


def _dt_between(rng: Random, start: datetime, end: datetime) -> datetime:
    return start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))


def _excel_serial(d: date) -> int:
    return (d - date(1899, 12, 30)).days


def _fmt_birthday(rng: Random, d: date, kinds: _Weighted) -> str:
    kind = kinds.pick(rng)
    if kind == "iso":
        return f"{d:%Y-%m-%d}"
    if kind == "slash":
        return f"{d.year}/{d.month}/{d.day}"
    if kind == "compact":
        return f"{d:%Y%m%d}"
    if kind == "cn":
        return f"{d.year}年{d.month}月{d.day}日"
    if kind == "md":
        return rng.choice((f"{d:%m-%d}", f"{d.month}月{d.day}日"))
    if kind == "serial":
        return str(_excel_serial(d))
    if kind == "dot":
        return f"{d:%Y.%m.%d}"
    if kind == "default":
        return "1900-01-01"
    if kind == "zero":
        return rng.choice(("1900-01-00", "0000-00-00"))
    return ""


_T_REG0, _T_END = datetime(2019, 6, 1), datetime(2026, 10, 31, 23, 59, 59)
_T_ORDER0 = datetime(2025, 1, 1)


# ---------------------------------------------------------------------------
# Channel renderers: each returns [(customer_id, row_values), ...] in person order
# ---------------------------------------------------------------------------

Rows = list[tuple[str, list[Any]]]


def _with_dups(rng: Random, people: list[_Person], render: Callable[[_Person, bool], list[Any]]) -> Rows:
    """One row per person plus, at ``_DUP_RATE``, a re-registration variant."""
    out: Rows = []
    for p in people:
        out.append((p.cid, render(p, False)))
        if rng.random() < _DUP_RATE:
            out.append((p.cid, render(p, True)))
    return out


def _wechat_rows(rng: Random, people: list[_Person]) -> Rows:
    appid = "wx" + _rand_str(rng, "0123456789abcdef", 16)
    # Real openids/unionids share a short per-app / per-platform prefix.
    open_prefix, union_prefix = "o" + _rand_str(rng, _URLSAFE, 5), "o" + _rand_str(rng, _URLSAFE, 5)
    reg_fmt = _Weighted(["iso", "slash", "ts"], [85, 10, 5])

    def fmt(dt: datetime, kind: str) -> str:
        if kind == "iso":
            return f"{dt:%Y-%m-%d %H:%M:%S}"
        if kind == "slash":
            return f"{dt.year}/{dt.month}/{dt.day} {dt:%H:%M}"
        return str(int(dt.replace(tzinfo=_CST).timestamp()))

    def render(p: _Person, dup: bool) -> list[Any]:
        new_account = "wx_open" not in p.ids or (dup and rng.random() < 0.6)
        if new_account:
            open_id = open_prefix + _rand_str(rng, _URLSAFE, 22)
            union_id = union_prefix + _rand_str(rng, _URLSAFE, 22) if rng.random() < 0.7 else ""
            nick = p.nick if not dup else _nick(rng, p.surname, p.given)
            if "wx_open" not in p.ids:
                p.ids.update(wx_open=open_id, wx_union=union_id)
        else:
            open_id, union_id, nick = p.ids["wx_open"], p.ids["wx_union"], p.nick
        follower = not dup and rng.random() < 0.35
        if rng.random() < 0.22:
            nick = "微信用户"  # default nickname since WeChat's 2022 profile API change
        name = "" if follower or rng.random() < 0.3 else _dirty_name(rng, p, 0.06)
        mobile = "" if follower else _dirty_mobile(rng, _row_mobile(rng, p, dup), 0.06)
        gender = "0" if rng.random() < 0.45 else ("1" if p.gender == "M" else "2")
        birthday = f"{p.birth:%Y-%m-%d}" if not follower and rng.random() < 0.35 else ""
        d = p.dist if rng.random() > 0.05 else _DISTRICT_PICK.pick(rng)
        r = rng.random()
        if r < 0.4:
            country = prov = city = ""
        else:
            country, prov = "中国", d.prov_short
            city = d.district.removesuffix("新区").removesuffix("区") if d.is_muni else d.city_short
            if r > 0.85 and not d.is_muni:
                country, prov, city = "China", _REGION_EN[prov], _REGION_EN[city]
        kind = reg_fmt.pick(rng)
        reg = _dt_between(rng, _T_REG0, _T_END - timedelta(days=7))
        last = _dt_between(rng, reg, _T_END)
        return [open_id, union_id, appid, nick, name, mobile, gender, birthday, country, prov, city, fmt(reg, kind), fmt(last, kind)]

    return _with_dups(rng, people, render)


def _douyin_rows(rng: Random, people: list[_Person]) -> Rows:
    addr_styles = _Weighted(["full", "abbrev", "full_dup", "no_prov"], [70, 12, 8, 10])
    statuses = _Weighted(["已完成", "已发货", "待发货", "已关闭", "售后中", "已退款", "已取消"], [64, 12, 8, 4, 2, 6, 4])

    def render(p: _Person, dup: bool) -> list[Any]:
        if "dy" not in p.ids or (dup and rng.random() < 0.35):
            if rng.random() < 0.45:
                dy = str(rng.randrange(10**8, 10**11))
            else:
                py = "".join(_PINYIN[c] for c in p.name)
                dy = rng.choice((f"{py}{rng.randrange(1000)}", f"dy{_rand_str(rng, _ALNUM, 8)}", f"{py[:6]}_{rng.randrange(100)}"))
            nick = f"用户{rng.randrange(10**9, 10**10)}" if rng.random() < 0.15 else (p.nick if "dy" not in p.ids else _nick(rng, p.surname, p.given))
            if "dy" not in p.ids:
                p.ids.update(dy=dy, dy_nick=nick)
        else:
            dy, nick = p.ids["dy"], p.ids["dy_nick"]
        m = _row_mobile(rng, p, dup)
        product, price = rng.choice(_PRODUCTS)
        qty = rng.choice((1, 1, 1, 1, 2, 2, 3))
        amount = f"{price * qty * rng.choice((1, 1, 0.9, 0.85, 0.8)):.2f}"
        order_time = _dt_between(rng, _T_ORDER0, _T_END)
        order_id = "69" + f"{rng.randrange(10**17):017d}"
        if rng.random() < 0.03:  # privacy-masked old order: unresolvable by design
            d = p.dist
            receiver, mobile = p.surname + "**", _masked_mobile(m)
            address = f"{d.province}{'' if d.is_muni else d.city}{d.district}****"
        else:
            receiver = _dirty_name(rng, p, 0.06, salute=0.06)
            r = rng.random()
            if r < 0.58:
                mobile = _masked_mobile(m)
            elif r < 0.62:
                mobile = f"{rng.choice(('170', '171'))}{rng.randrange(10**8):08d}-{rng.randrange(10000):04d}"
            else:
                mobile = _dirty_mobile(rng, m, 0.05)
            if rng.random() < 0.05:
                d, street = _office_address(rng)
                address = f"{d.province}{'' if d.is_muni else d.city}{d.district}{street}"
            else:
                address = _address(rng, p, addr_styles.pick(rng))
        amount = _amount_cell(Random(order_id), float(amount))
        return [order_id, dy, nick, receiver, mobile, address, product, _CATEGORIES[product], qty, amount,
                f"{order_time:%Y/%m/%d %H:%M:%S}", statuses.pick(rng)]

    return _with_dups(rng, people, render)


def _tmall_rows(rng: Random, people: list[_Person]) -> Rows:
    # 退款成功 takes part of 交易成功's share, next to it: 交易关闭 is drawn exactly as before
    statuses = _Weighted(["交易成功", "退款成功", "卖家已发货，等待买家确认", "买家已付款，等待卖家发货", "交易关闭"], [69, 6, 10, 7, 8])
    def buyer_nick(p: _Person) -> str:
        r = rng.random()
        if r < 0.4:
            return f"tb{rng.randrange(10**8, 10**11)}"
        if r < 0.55:
            return f"t_{rng.randrange(1_300_000_000_000, 1_600_000_000_000)}_0{rng.randrange(100):02d}"
        if r < 0.8:
            py = "".join(_PINYIN[c] for c in p.name)
            return rng.choice((f"{py}{rng.randrange(1970, 2005)}", f"{py[:4]}_{_rand_str(rng, _ALNUM, 3)}"))
        return rng.choice((p.nick, f"{p.name}{rng.randrange(100)}", f"{p.surname}小{p.given[-1]}"))

    def render(p: _Person, dup: bool) -> list[Any]:
        if "tb" not in p.ids:
            p.ids["tb"] = buyer_nick(p)
        nick = buyer_nick(p) if dup and rng.random() < 0.5 else p.ids["tb"]
        if rng.random() < 0.1:  # newer exports mask the buyer nick
            nick = f"{nick[0]}**{nick[-1]}"
        m = _row_mobile(rng, p, dup)
        r = rng.random()
        alipay = _masked_mobile(m) if r < 0.7 or not p.email else (re.sub(r"^(.{2}).*@", r"\1***@", p.email) if r < 0.9 else "")
        d = p.dist
        landline = f"{_AREA_CODES[d.city]}-{rng.randrange(2 * 10**7, 9 * 10**7)}" if rng.random() < 0.05 else ""
        masked_row = rng.random() < 0.03
        mobile: str | int  # an int is written as a numeric cell
        if masked_row:  # unresolvable by design
            receiver, mobile = p.surname + "*", _masked_mobile(m)
            address = f"{d.prov_short if d.is_muni else d.province} {d.city} {d.district} ****"
        else:
            receiver = _dirty_name(rng, p, 0.06, salute=0.02)
            address = _address(rng, p, "taobao")
            if rng.random() < 0.4:
                address += f"({d.postcode})"
            r = rng.random()
            if r < 0.22:
                mobile = _masked_mobile(m)
            elif r < 0.67:
                mobile = int(m)  # numeric cell: float coercion loses nothing yet, formats do
            elif r < 0.68:
                mobile = "'" + m
            else:
                mobile = _dirty_mobile(rng, m, 0.06)
        product, price = rng.choice(_PRODUCTS)
        qty = rng.choice((1, 1, 1, 2, 3))
        status = statuses.pick(rng)
        created = _dt_between(rng, _T_ORDER0, _T_END)
        paid: Any = "" if status == "交易关闭" and rng.random() < 0.7 else created + timedelta(seconds=rng.randint(5, 1800))
        created_cell: Any = created if rng.random() < 0.9 else f"{created:%Y-%m-%d %H:%M:%S}"
        order_id = str(rng.randrange(10**18, 4 * 10**18))
        side = Random(order_id)
        paid_amount: Any = round(price * qty, 2) if side.random() < 0.8 else _amount_cell(side, price * qty)
        return [order_id, nick, alipay, receiver, address, landline, mobile, product, _CATEGORIES[product], qty, paid_amount,
                status, created_cell, paid]

    return _with_dups(rng, people, render)


def _pos_rows(rng: Random, people: list[_Person]) -> Rows:
    birth_fmt = _Weighted(
        ["slash", "compact", "cn", "iso", "md", "default", "serial", "empty"], [21, 17, 10, 10, 6, 3, 3, 30]
    )
    day_fmt = _Weighted(["slash", "iso", "compact"], [60, 25, 15])
    levels = _Weighted([lv for lv, _ in _POS_LEVELS], [w for _, w in _POS_LEVELS])
    malls = {c: (_MALLS[i % len(_MALLS)], _MALLS[(i * 4 + 3) % len(_MALLS)]) for i, c in enumerate(sorted({d.city for d in _DISTRICTS}))}
    cities = sorted(malls)

    def render(p: _Person, dup: bool) -> list[Any]:
        if "pos" not in p.ids or (dup and rng.random() < 0.8):
            card = rng.choice((f"8800{rng.randrange(10**8):08d}", f"VIP{rng.randrange(10**7):07d}"))
            p.ids.setdefault("pos", card)
        else:
            card = p.ids["pos"]
        city = p.dist.city if rng.random() < 0.9 else rng.choice(cities)
        store = f"{city.removesuffix('市')}{rng.choice(malls[city])}店"
        r = rng.random()
        name = "" if r < 0.05 else _dirty_name(rng, p, 0.07, salute=0.1)
        mobile = _dirty_mobile(rng, _row_mobile(rng, p, dup), 0.1, _POS_MOBILE_DIRT)
        r = rng.random()
        gender = "" if r < 0.07 else "未知" if r < 0.1 else ("男" if p.gender == "M" else "女")
        birthday = _fmt_birthday(rng, p.birth, birth_fmt)
        day = _dt_between(rng, _T_ORDER0, _T_END).date()
        kind = day_fmt.pick(rng)
        day_s = f"{day.year}/{day.month}/{day.day}" if kind == "slash" else f"{day:%Y-%m-%d}" if kind == "iso" else f"{day:%Y%m%d}"
        amount = rng.choice((99, 129, 199, 299, 399, 599, 899)) * rng.choice((1, 1, 2)) * rng.choice((1, 0.95, 0.88))
        side = Random(f"{p.cid}:{card}:{day_s}")
        level = levels.pick(Random(f"{p.cid}:{card}"))  # one card, one tier
        return [card, name, mobile, gender, birthday, store, day_s, _amount_cell(side, amount), int(amount), level,
                f"S{rng.randint(1, 40):03d}"]

    return _with_dups(rng, people, render)


def _crm_rows(rng: Random, people: list[_Person]) -> Rows:
    birth_fmt = _Weighted(["iso", "slash", "serial", "zero", "empty"], [80, 8, 3, 1.5, 7.5])
    gender_fmt = _Weighted(["MF", "Long", "blank"], [75, 20, 5])
    optin = _Weighted(["Y", "N", "是", "否", "", "1", "0"], [35, 30, 10, 10, 10, 3, 2])
    used_ids: set[int] = set()

    def crm_id() -> str:
        while True:
            k = rng.randrange(10**7, 10**8)
            if k not in used_ids:
                used_ids.add(k)
                return f"CRM{k}"

    def id_number(p: _Person) -> str:
        r = rng.random()
        if r < 0.35:
            return "" if rng.random() < 0.9 else rng.choice(_PLACEHOLDERS)
        idc = p.id_card
        r = rng.random()
        if r < 0.025 and p.birth.year < 2000:  # 15-digit legacy card
            return f"{p.dist.adcode}{p.birth:%y%m%d}{p.id_seq:03d}"
        if r < 0.04:  # wrong check character
            return idc[:17] + rng.choice([c for c in _ID_CHECK if c != idc[17]])
        if r < 0.045:  # CSV opened and saved in Excel
            return f"{idc[0]}.{idc[1:6]}E+17"
        if r < 0.05:
            return idc[:15] + "000"
        if idc.endswith("X") and rng.random() < 0.4:
            return idc[:17] + "x"
        return idc

    def email(p: _Person) -> str:
        if not p.email or rng.random() < 0.1:
            return "" if rng.random() < 0.95 else rng.choice(_PLACEHOLDERS)
        e = p.email
        r = rng.random()
        if r < 0.03:
            local, dom = e.split("@")
            return f"{local}@{rng.choice(_EMAIL_TYPOS.get(dom, (dom.replace('.', '', 1),)))}"
        if r < 0.05:
            return e.upper() if rng.random() < 0.5 else e[0].upper() + e[1:]
        if r < 0.06:
            return e + " "
        return e

    def name(p: _Person) -> str:
        r = rng.random()
        if r < 0.08:
            sur, giv = p.pinyin()
            if r < 0.05:
                return f"{sur} {giv}"
            if r < 0.075:
                return f"{giv} {sur}"
            return f"{sur} {giv}".upper() if rng.random() < 0.7 else f"{sur} {giv}".translate(_FULLWIDTH)
        return _dirty_name(rng, p, 0.06)

    def render(p: _Person, dup: bool) -> list[Any]:
        d = p.dist
        g = gender_fmt.pick(rng)
        gender = {"MF": p.gender, "Long": "Male" if p.gender == "M" else "Female", "blank": ""}[g]
        r = rng.random()
        if r < 0.05:
            prov = city = dist = ""
        elif r < 0.15:
            prov, city, dist = d.prov_short, d.city_short, d.district
        else:
            prov, city, dist = d.province, d.city, d.district
        r = rng.random()
        if r < 0.6:
            address = p.street(rng.choice((0, 0, 1, 2, 3)))
        elif r < 0.85:
            address = p.canonical_address()
        elif r < 0.9:
            address = _address(rng, p, "abbrev")
        else:
            address = ""
        r = rng.random()
        postcode = "" if r < 0.25 else (d.postcode + ".0" if r < 0.27 else d.postcode)
        reg = _dt_between(rng, datetime(2018, 1, 1), _T_END - timedelta(days=3))
        upd = reg + timedelta(seconds=rng.randrange(min(600 * 86400, int((_T_END - reg).total_seconds()))))
        mobile = _dirty_mobile(rng, _row_mobile(rng, p, dup), 0.08)
        if mobile.isdigit() and rng.random() < 0.005:
            mobile = f"{int(mobile):.5E}"  # Excel scientific notation, e.g. 1.38001E+10
        return [
            crm_id(), name(p), mobile, email(p), id_number(p), gender,
            _fmt_birthday(rng, p.birth, birth_fmt), prov, city, dist, address, postcode,
            f"{reg:%Y-%m-%d %H:%M:%S}", f"{upd:%Y-%m-%d %H:%M:%S}", optin.pick(rng),
        ]

    return _with_dups(rng, people, render)


# ---------------------------------------------------------------------------
# Serialisation
# ---------------------------------------------------------------------------


def _csv_bytes(header: list[str], rows: list[list[Any]], encoding: str, *, crlf: bool = False, preamble: Sequence[Sequence[str]] = ()) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n" if crlf else "\n")
    w.writerows(preamble)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode(encoding)


_FIXED_ZIP_TIME = (2026, 11, 1, 9, 0, 0)
_FIXED_W3CDTF = "2026-11-01T01:00:00Z"


def _xlsx_bytes(header: list[str], rows: list[list[Any]], sheet: str) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(header)
    mobile_col = header.index("联系手机") + 1
    for i, row in enumerate(rows, start=2):
        ws.append(row)
        cell = ws.cell(row=i, column=mobile_col)
        if isinstance(cell.value, int):
            cell.number_format = "0"
    wb.properties.creator = "Taobao Seller Center"
    raw = io.BytesIO()
    wb.save(raw)
    # openpyxl stamps "now" into docProps/core.xml and the zip entries; pin both so that the
    # same seed yields byte-identical files.
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + _FIXED_W3CDTF.encode(), data)
            dst.writestr(zipfile.ZipInfo(info.filename, _FIXED_ZIP_TIME), data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _customer_record(p: _Person) -> dict:
    sur, giv = p.pinyin()
    return {
        "customer_id": p.cid,
        "name": p.name,
        "name_pinyin": f"{sur} {giv}",
        "gender": p.gender,
        "birth_date": p.birth.isoformat(),
        "id_card": p.id_card,
        "mobile": p.mobile,
        "alt_mobile": p.alt_mobile,
        "email": p.email,
        "province": p.dist.province,
        "city": p.dist.city,
        "district": p.dist.district,
        "adcode": p.dist.adcode,
        "address": p.canonical_address(),
        "postcode": p.dist.postcode,
        "household_id": p.household,
        "sources": [_SOURCES[c][0] for c in p.channels],
    }


def generate_workspace(n_customers: int = 3000, seed: int = 20261129) -> Workspace:
    """Generate the five demo channel files for ``n_customers`` true people, with ground truth."""
    if n_customers < 1:
        raise ValueError("n_customers must be >= 1")
    rng = Random(seed)
    people = _make_people(rng, n_customers)
    _assign_channels(rng, people)

    renderers = {
        "wechat_mp": _wechat_rows, "douyin": _douyin_rows, "tmall": _tmall_rows,
        "pos": _pos_rows, "crm": _crm_rows,
    }
    headers = {
        "wechat_mp": WECHAT_HEADER, "douyin": DOUYIN_HEADER, "tmall": TMALL_HEADER,
        "pos": POS_HEADER, "crm": CRM_HEADER,
    }
    files: list[ChannelFile] = []
    truth: list[tuple[str, int, str]] = []
    for key in _CHANNEL_KEYS:
        # A separate stream per channel keeps channels independent of each other's draws.
        crng = Random(f"{seed}:{key}")
        members = [p for p in people if key in p.channels]
        rows = renderers[key](crng, members)
        crng.shuffle(rows)
        source, file_name, encoding = _SOURCES[key]
        values = [r for _, r in rows]
        if key == "tmall":
            data = _xlsx_bytes(headers[key], values, "订单报表")
        elif key == "pos":
            data = _csv_bytes(headers[key], values, encoding, crlf=True, preamble=[[POS_TITLE], []])
        else:
            data = _csv_bytes(headers[key], values, encoding)
        files.append(ChannelFile(source, key, file_name, encoding, data))
        truth.extend((source, i, cid) for i, (cid, _) in enumerate(rows, start=1))
    return Workspace(files=files, truth=truth, customers=[_customer_record(p) for p in people])


def write_workspace(ws: Workspace, directory: Path) -> list[Path]:
    """Write every channel file plus ``truth.csv``; return the channel file paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in ws.files:
        path = directory / f.file_name
        path.write_bytes(f.data)
        paths.append(path)
    with open(directory / "truth.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["source", "row_number", "customer_id"])
        w.writerows(ws.truth)
    return paths


# ---------------------------------------------------------------------------
# Benchmark CSV
# ---------------------------------------------------------------------------

BENCHMARK_HEADER = [
    "customer_id", "name", "mobile", "email", "id_card", "gender", "birth_date",
    "province", "city", "district", "address", "registered_at", "member_level",
]


def write_benchmark_csv(path: Path, rows: int, seed: int = 7) -> None:
    """Stream ``rows`` CRM-like rows (plus header) to a UTF-8 CSV in constant memory."""
    rng = Random(seed)
    rnd = rng.random
    pool = 4096
    surnames = [(s, _PINYIN[s]) for s in _SURNAMES.expand(pool)]
    for i in range(0, pool, 100):  # ~1 % compound surnames
        s = _COMPOUND_SURNAMES[i % len(_COMPOUND_SURNAMES)]
        surnames[i] = (s, "".join(_PINYIN[c] for c in s))
    givens = []
    for g in ("M", "F"):
        names = [_given_name(rng, g) for _ in range(pool)]
        givens.append([(n, "".join(_PINYIN[c] for c in n)) for n in names])
    dists = []
    for d in _DISTRICT_PICK.expand(pool):
        rsum = sum(int(c) * w for c, w in zip(d.adcode, _ID_WEIGHTS))
        dists.append((d.adcode, d.province, d.city, d.district, rsum, d.roads))
    births = []
    for _ in range(8192):
        b = _birth(rng, rnd() < 0.01)
        b8 = f"{b:%Y%m%d}"
        births.append((b.isoformat(), b8, sum(int(c) * w for c, w in zip(b8, _ID_WEIGHTS[6:14]))))
    seq_s = [f"{s:03d}" for s in range(1000)]
    seq_sum = [sum(int(c) * w for c, w in zip(x, _ID_WEIGHTS[14:])) for x in seq_s]
    prefixes = _PREFIXES.expand(pool)
    domains = _DOMAINS.expand(256)
    start = date(2018, 1, 1)
    reg_days = [(start + timedelta(days=i)).isoformat() for i in range((date(2026, 10, 31) - start).days + 1)]
    levels = _Weighted(["普通会员", "银卡会员", "金卡会员", "铂金会员", "黑钻会员"], [55, 25, 12, 6, 2]).expand(100)
    suffixes = [
        "" if rng.random() < 0.2 else f"{rng.choice(_COMMUNITIES)}{rng.randint(1, 30)}栋{rng.randint(1, 33)}0{rng.randint(1, 6)}室"
        for _ in range(pool)
    ]
    road_nos = [f"{k}号" for k in range(1, 1000)]
    clock = [f" {h:02d}:{m:02d}:{sec:02d}" for h in range(24) for m in range(60) for sec in range(60)]
    n_b, n_r = len(births), len(reg_days)

    # Hot loop: index pools with int(random() * n), which is several times cheaper than randrange.
    ring_size = 20_000
    ring: list[list[str]] = []
    out_buf: list[list[str]] = []
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(BENCHMARK_HEADER)
        for i in range(rows):
            cid = f"C{i + 1:09d}"
            if ring and rnd() < 0.2:
                row = ring[int(rnd() * len(ring))].copy()
                row[0] = cid
                row[11] = reg_days[int(rnd() * n_r)] + clock[int(rnd() * 86400)]
                _bench_variant(rng, row)
            else:
                male = rnd() < 0.47
                s, spy = surnames[int(rnd() * pool)]
                g, gpy = givens[0 if male else 1][int(rnd() * pool)]
                adcode, prov, city, dist, rsum, roads = dists[int(rnd() * pool)]
                b_iso, b8, bsum = births[int(rnd() * n_b)]
                seq = int(rnd() * 500) * 2 + male
                r = rnd()
                if r < 0.3:
                    email = f"{int(rnd() * 3_999_990_000) + 10000}@qq.com"
                elif r < 0.6:
                    email = f"{spy}{gpy}{int(rnd() * 100)}@{domains[int(rnd() * 256)]}"
                else:
                    email = ""
                row = [
                    cid, s + g, f"{prefixes[int(rnd() * pool)]}{int(rnd() * 100_000_000):08d}", email,
                    f"{adcode}{b8}{seq_s[seq]}{_ID_CHECK[(rsum + bsum + seq_sum[seq]) % 11]}",
                    "M" if male else "F", b_iso, prov, city, dist,
                    roads[int(rnd() * len(roads))] + road_nos[int(rnd() * 999)] + suffixes[int(rnd() * pool)],
                    reg_days[int(rnd() * n_r)] + clock[int(rnd() * 86400)],
                    levels[int(rnd() * 100)],
                ]
                if rnd() < 0.05:
                    _bench_dirty(rng, row)
                if len(ring) < ring_size:
                    ring.append(row)
                else:
                    ring[int(rnd() * ring_size)] = row
            out_buf.append(row)
            if len(out_buf) >= 10_000:
                w.writerows(out_buf)
                out_buf.clear()
        w.writerows(out_buf)


def _bench_dirty(rng: Random, row: list[str]) -> None:
    """Make one field of a benchmark row dirty (in place)."""
    k = rng.randrange(8)
    if k == 0:
        row[2] = _dirty_mobile(rng, row[2], 1.0)
    elif k == 1:
        row[rng.choice((1, 2, 3, 4))] = rng.choice(_PLACEHOLDERS)
    elif k == 2 and row[3]:
        local, dom = row[3].split("@")
        row[3] = f"{local}@{rng.choice(_EMAIL_TYPOS.get(dom, (dom,)))}"
    elif k == 3:
        b = date.fromisoformat(row[6])
        row[6] = rng.choice((f"{b.year}/{b.month}/{b.day}", f"{b:%Y%m%d}", str(_excel_serial(b)), "1900-01-01"))
    elif k == 4:
        row[4] = row[4][:17] + "x" if row[4].endswith("X") else row[4][:6] + row[4][8:17]
    elif k == 5:
        row[1] = row[1][0] + " " + row[1][1:]
    elif k == 6:
        row[5] = rng.choice(("男", "女", "Male", "Female", "", "未知"))
    else:
        row[7] = rng.choice(("", row[7].removesuffix("省").removesuffix("市")))


def _bench_variant(rng: Random, row: list[str]) -> None:
    """Small re-registration differences for a duplicated benchmark row (in place)."""
    k = rng.randrange(6)
    if k == 0:
        row[2] = f"{row[2][:3]}-{row[2][3:7]}-{row[2][7:]}" if row[2].isdigit() else row[2]
    elif k == 1:
        row[1] = _typo_name(rng, row[1])
    elif k == 2:
        row[3] = row[3].upper()
    elif k == 3:
        row[10] = row[10].split("号", 1)[0] + "号"
    elif k == 4:
        row[2] = f"{_PREFIXES.pick(rng)}{rng.randrange(10**8):08d}"
    else:
        row[1] = "".join(_TRADITIONAL.get(c, c) for c in row[1])

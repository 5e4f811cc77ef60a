"""Field mapping: suggest a standard field for each source column, save the steward's
confirmed mapping per source (versioned and audited), and publish the contract that
later stages read: the `mapped_records` view.

Suggestions check content, not only shape: a sample value counts for a field when the field's
normalizer would accept it (a resident ID passes GB 11643 with a real birth date and a known
region; a province, city or district is a known division). A header that names an order, ticket
or transaction number takes no field at all. Identity documents other than the resident ID (护照号,
SSN, soc_sec_id; a 证件号 / national ID column whose values are no resident IDs) map to `other_id`.

A region column (所在地区: 广东省 深圳市, 广东省深圳市南山区) maps to `address`: a mapping is one column
to one field, no field of the schema holds "province and city", and the address normalizer parses
such a value into the province, city, district and adcode that standardization derives
(`addr_province` … `addr_adcode`) and that matching (the district) and the ID-region check use. A
column of single divisions maps to that level (`province`, `city` or `district`), whatever its
header says; one where a good part of the values are regions maps to `address`. The golden
record's `province`, `city` and `district` take a mapped column first and fall back to the units
parsed from the address. When the file
also has a street address, that column wins `address` and the region column stays unmapped (kept
in `extras`).
"""
from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from governance.access import audit
from governance.access.events import Event
from governance.events.events import STATUS_WORDS
from governance.standardize import names_data, normalizers
from governance.store.errors import MappingError
from governance.store.schema import BY_NAME, EVENT_BY_NAME, EVENT_FIELD_NAMES, FIELD_NAMES
from governance.store.storage import quote_literal, scalar
from governance.store.util import utcnow

# Header synonyms per standard field, in Chinese, English and common abbreviations.
# Compared after `normalize_header` (NFKC, lower case, no spaces or punctuation).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "客户名称", "客户姓名", "会员姓名", "收货人", "收货人姓名", "收件人", "联系人",
             "顾客姓名", "用户姓名", "真实姓名", "会员名称", "会员名", "name", "fullname", "customername", "realname", "consignee", "xm"),
    "family_name": ("姓", "姓氏", "lastname", "familyname", "surname", "lname"),
    "given_name": ("名", "firstname", "givenname", "forename", "fname", "givennames", "forenames"),
    "mobile": ("手机号", "手机", "手机号码", "移动电话", "联系电话", "联系手机", "收货手机", "收货人手机", "电话",
               "联系方式", "会员手机", "mobile", "mobilephone", "mobileno", "phone", "phonenumber", "tel", "cellphone",
               "cell", "sjh", "mobilenumber"),
    "landline": ("固定电话", "座机", "固话", "办公电话", "家庭电话", "landline", "telephone", "fixedphone", "homephone"),
    "email": ("邮箱", "电子邮箱", "电子邮件", "邮件", "email", "mail", "emailaddress", "e-mail"),
    "id_card": ("身份证", "身份证号", "身份证号码", "idcard", "sfz", "sfzh", "residentid", "identitycard"),
    "gender": ("性别", "gender", "sex", "xb"),
    "birth_date": ("生日", "出生日期", "出生年月", "出生年月日", "birthday", "birthdate", "dob", "dateofbirth"),
    "province": ("省", "省份", "所在省", "所在省份", "province", "state"),
    "city": ("市", "城市", "所在城市", "所在市", "地市", "city", "suburb", "locality", "town"),
    "district": ("区", "区县", "县区", "区/县", "所在区", "district", "county"),
    "address": ("地址", "详细地址", "收货地址", "联系地址", "家庭住址", "住址", "通讯地址", "address", "addr",
                "streetaddress", "shippingaddress", "address1", "addressline1", "addr1", "street"),
    "postcode": ("邮编", "邮政编码", "postcode", "zip", "zipcode", "postalcode"),
    "wechat_open_id": ("openid", "微信openid", "wxopenid", "open_id", "小程序openid", "公众号openid"),
    "wechat_app_id": ("appid", "微信appid", "wxappid", "小程序appid", "app_id"),
    "wechat_union_id": ("unionid", "微信unionid", "union_id", "wxunionid"),
    "douyin_id": ("抖音号", "抖音id", "抖音uid", "抖音用户id", "douyinid", "dyid", "douyin", "抖音openid"),
    "ecommerce_buyer_id": ("买家会员名", "买家id", "买家昵称", "旺旺", "旺旺号", "淘宝id", "京东id", "京东账号", "buyerid",
                           "buyernick", "buyer", "买家账号", "下单账号", "下单人账号"),
    "member_card": ("会员卡号", "会员卡", "会员号", "会员编号", "会员id", "卡号", "客户编号", "客户id", "customerid",
                    "memberid", "membercard", "memberno", "cardno", "crmid",
                    # the source's own id of the customer: a WeCom external contact, a lead platform's user
                    "外部联系人id", "externaluserid", "externalcontactid", "用户id", "用户编号", "userid"),
    "nickname": ("昵称", "用户昵称", "微信昵称", "抖音昵称", "nickname", "nick"),
    "store": ("门店", "门店名称", "店铺", "店铺名称", "所属门店", "注册门店", "store", "storename", "shop", "shopname"),
    "registered_at": ("注册时间", "注册日期", "入会时间", "入会日期", "开卡时间", "开卡日期", "发卡时间", "发卡日期",
                      "成为会员时间", "成为客户时间", "关注时间", "添加时间", "创建时间", "创建日期", "留资时间", "registertime", "registeredat",
                      "registrationdate", "signupdate", "createdat", "createtime", "createddate", "joindate",
                      "subscribetime"),
    "updated_at": ("更新时间", "最后更新时间", "最后更新", "更新日期", "修改时间", "修改日期", "最近更新", "updatetime", "updatedat", "lastupdate",
                   "modifiedat", "lastmodified"),
    "marketing_consent": ("营销同意", "是否同意营销", "同意营销", "营销授权", "订阅", "是否订阅", "marketingconsent",
                          "marketingoptin", "optin", "consent", "subscribed", "接受营销", "营销许可", "允许营销", "是否允许营销", "acceptsmarketing",
                          "acceptsemailmarketing", "emailmarketingconsent", "emailoptin"),
    "other_id": ("其他证件号", "其他证件号码", "护照", "护照号", "护照号码", "港澳通行证", "港澳通行证号", "台胞证", "台胞证号",
                 "passport", "passportno", "passportnumber", "ssn", "socsecid", "socialsecurity", "socialsecurityno",
                 "socialsecuritynumber", "otherid", "otheridno"),
    "age_band": ("年龄段", "年龄区间", "年龄层", "年龄范围", "年龄组", "年龄分组", "ageband", "agerange", "agegroup",
                 "agebracket", "年龄", "客户年龄", "用户年龄", "age"),  # an age (35) is a band of one year
    # Event fields (schema.EVENT_FIELDS): what a row records happening, not who the person is.
    "order_id": ("订单号", "订单编号", "订单id", "子订单号", "子订单编号", "主订单号", "主订单编号", "交易号", "交易单号",
                 "交易流水号", "流水号", "小票号", "小票编号", "orderid", "orderno", "ordernumber", "transactionid",
                 "tradeid", "receiptno"),
    "event_time": ("下单时间", "下单日期", "支付时间", "付款时间", "消费日期", "消费时间", "交易时间", "交易日期", "购买时间",
                   "购买日期", "订单时间", "订单日期", "支付日期", "付款日期", "成交时间", "ordertime", "orderdate", "paytime", "paidat", "paymenttime",
                   "purchasedate", "purchasetime", "transactiontime", "transactiondate"),
    "amount": ("实付金额", "订单金额", "消费金额", "支付金额", "付款金额", "实付款", "实收金额", "交易金额", "成交金额", "金额",
               "实际支付金额", "买家实际支付金额", "amount", "totalamount", "payamount", "paidamount", "orderamount"),
    "quantity": ("数量", "件数", "商品数量", "购买数量", "总数量", "qty", "quantity"),
    "product_name": ("商品名称", "商品", "商品标题", "宝贝标题", "宝贝名称", "产品名称", "产品", "品名", "product",
                     "productname", "itemname", "goodsname"),
    "product_category": ("类目", "品类", "商品类目", "商品分类", "商品类别", "产品类别", "category", "productcategory"),
    "order_status": ("订单状态", "交易状态", "支付状态", "orderstatus", "tradestatus", "status"),
    "points": ("积分", "本次积分", "获得积分", "消费积分", "积分变动", "points", "point", "bonuspoints", "loyaltypoints"),
    "member_level": ("会员等级", "会员级别", "会员层级", "等级", "vip等级", "memberlevel", "membertier", "viplevel", "tier"),
}
# Synonyms too short or too common to be looked for inside a longer header (ssn is in business_no,
# age in message, status in marital_status, tier in frontier).
_WHOLE_HEADER_ONLY = frozenset({"ssn", "age", "status", "tier", "point"})

# Headers that name a field only loosely: (confidence, synonyms). The confidence is below a full
# synonym's, so a column that names the field outright wins it. A salutation (王先生, 李女士, 张总) is a
# name: the name normalizer splits the salutation off and keeps the surname. 证件号 / ID number /
# national ID may be a passport or a foreign number, and a region is an address only when it holds
# divisions: those headers count only when most sample values fit the field (see _GATES). A 证件号 /
# national ID column whose values are no resident IDs but other ID numbers is `other_id` (_GATE_FALLBACK).
LOOSE_SYNONYMS: dict[str, tuple[float, tuple[str, ...]]] = {
    # a remark name (备注名: 徐博-济南IFS店, 张姐) is the name a shop gave the contact: a name when no column names one outright
    "name": (0.75, ("称呼", "客户称呼", "尊称", "联系人称呼", "收货人称呼", "salutation", "备注名", "备注姓名", "客户备注名",
                    "备注名称", "remarkname")),
    "id_card": (0.9, ("证件号", "证件号码", "idno", "idnumber", "nationalid", "nationalidnumber")),
    "address": (0.7, ("地区", "所在地区", "省市区", "省市", "省市县", "所在区域", "区域", "地域", "region", "area",
                      "location")),
}
# What most sample values must fit for a loose header to count: a resident ID; a division or address.
_GATES: dict[str, str] = {"id_card": "id_card", "address": "location"}
_GATE_SHARE = 0.5

_PUNCT = re.compile(r"[\s_\-.:/\\()（）\[\]【】#*'\"]+")


def normalize_header(header: str) -> str:
    """A header as the synonyms are matched: NFKC, lower case, no punctuation, in simplified
    characters (手機號碼 is 手机号码; 帐号 is 账号)."""
    return _PUNCT.sub("", normalizers.to_simplified(unicodedata.normalize("NFKC", header or "").lower())).replace("帐", "账")


# Loose headers naming an identity document: gated out of id_card, they take other_id when most
# sample values are other ID numbers (passports, permits, foreign national IDs). ID number / idno
# may be any record's id, so they do not.
_GATE_FALLBACK: dict[str, str] = {normalize_header(h): "other_id" for h in ("证件号", "证件号码", "nationalid",
                                                                            "nationalidnumber")}


# A header offering alternatives for one column (Phone or Mobile, State/Region, 省、市、区): _alternatives.
_ALTERNATIVES = re.compile(r"\s*(?:/|\||、|\bor\b|或)\s*", re.I)
_BRACKETED = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")

# When a record was created or changed: in an order or ticket file, the row's time, not the person's
_GENERIC_TIMES = frozenset(normalize_header(h) for h in (
    *SYNONYMS["updated_at"], "创建时间", "创建日期", "createdat", "createtime", "createddate"))

# normalized synonym -> (field, confidence of an exact match, loose)
_SYNONYM_INDEX: dict[str, tuple[str, float, bool]] = {
    **{normalize_header(s): (f, 0.95, False) for f, syns in SYNONYMS.items() for s in syns},
    **{normalize_header(s): (f, conf, True) for f, (conf, syns) in LOOSE_SYNONYMS.items() for s in syns}}

# Order, ticket and transaction numbers identify an event, never a person: a header naming one takes
# no person field, whatever its values look like (an 18-digit order number has a resident ID's
# shape); only `order_id`, when its header names it.
_EVENT_NUMBER = re.compile(
    r"(订单|工单|交易|流水|运单|快递|物流|发票|退款|售后|支付|小票|票据|单据|order|ticket|transaction|txn|invoice|tracking|"
    r"waybill|shipment|payment|receipt|refund)单?(号码|编号|号|id|no|number|num|nr|ref|code)|单号")
# A partial match to a person's text field is refused when the rest of the header is a number word:
# street_number is no street address, 收货人编号 no name, 城市编码 no city.
_NUMBER_WORD = re.compile(r"^(号码|编号|编码|代码|号|id|no|nr|num|number|code)+$")
_TEXT_FIELDS = frozenset({"name", "family_name", "given_name", "nickname", "address", "city", "province", "district",
                          "product_name", "product_category", "member_level"})
# ... and a partial match to an identity document is refused when the rest names another attribute of
# the document: passport_expiry is no passport number, 身份证有效期 no resident ID.
_DOCUMENT_ATTRIBUTE = re.compile(r"日期|时间|有效期|期限|签发|到期|类型|状态|国籍|国家|地点|date|time|expir|valid|issu|type|status|"
                                 r"country|nation|place")
_ID_FIELDS = frozenset({"id_card", "other_id"})
# A header naming someone other than the customer (an agent, a salesperson, a referrer, an
# influencer, a company) or an attribute of a number (号码归属地) takes no person field, by header or
# content: 坐席姓名, 达人昵称, Company Name, 推荐人手机, Contact Owner. 企业微信 is a product's name.
_OTHER_PARTY = re.compile(r"坐席|客服|(?<!会)员工|店员|导购|销售员|销售顾问|销售人员|业务员|负责人|跟进人|推荐人|介绍人|邀请人|添加人|创建人|"
                          r"经办人|操作人|操作员|录入人|审核人|处理人|达人|主播|博主|商家|卖家|公司|经销商|代理商|收银员|技师|顾问|"
                          r"专员|经理|紧急联系人|归属地|agent|staff|employee|seller|merchant|vendor|contactowner|recordowner|accountowner|"
                          r"accountname|accountmanager|referr|inviter|creator|createdby|operator|assign|salesperson|salesrep|"
                          r"company|employer|organi[sz]ation|influencer|kol|cashier|consultant|advisor|manager|emergency")
_ABOUT_CUSTOMER = frozenset({*BY_NAME, "member_level", "points"})  # 商家备注等级 is the merchant's grade, no tier
# ... and money beside a partial match is no person field either: 店铺优惠折扣(元) is no shop, 会员卡余额 no card
# (English money words only as the whole rest: Feedback Name and Coffee Shop stay).
_MONEY = re.compile(r"金额|优惠|折扣|余额|价格|单价|费用|运费|^(amount|price|discount|balance|fees?|cost|total)+$")
# A person's time (registration, update) in a header about an order is the order's time; about
# another event (a ticket, a delivery), nobody's. So is a bare creation or update time in a file of
# orders or tickets (one of its columns names an order or ticket number).
_ORDER_WORD = re.compile(r"订单|下单|付款|支付|交易|成交|购买(?!者)|消费(?!者)|小票|order|payment|paid|purchase|transaction|receipt")
_OTHER_EVENT = re.compile(r"工单|物流|发货|退款|售后|快递|回访|跟进|ticket|shipping|shipment|refund|delivery|followup")
_PERSON_TIMES = frozenset({"registered_at", "updated_at"})
# Fields whose values have one shape: the header tells which (客户UnionID is no openid).
_SAME_SHAPE = (frozenset({"wechat_open_id", "wechat_union_id"}),)
_NARROW_LOCATION = ("province", "city", "district")
_LOCATION = (*_NARROW_LOCATION, "address")

# Content detectors: what one non-empty sample value fits. A field whose normalizer can judge a value
# (a resident ID, a division, a salutation) asks it; the others test the value's shape.
_MOBILE = re.compile(r"^(\+?86|0086)?1[3-9]\d{9}$")
_MASKED_MOBILE = re.compile(r"^1[3-9]\d\*{4}\d{4}$")
_ID_SHAPE = re.compile(r"^\d{15}$|^\d{17}[\dXx]$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_DATE = re.compile(r"^(19|20)\d{2}([-/.年])\d{1,2}([-/.月])\d{1,2}日?$|^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$")
_LANDLINE = re.compile(r"^(\+?86)?\(?0\d{2,3}\)?\d{7,8}$|^\+?86(10|2\d|[3-9]\d\d)\d{7,8}$")  # +86 755 8888 1234
_GENDER = {"男", "女", "男性", "女性", "m", "f", "male", "female", "先生", "女士", "未知", "保密", "mr", "mr.", "mrs", "mrs.",
           "ms", "ms.", "miss"}
_OPEN_ID = re.compile(r"^o[A-Za-z0-9_-]{27}$")
_APP_ID = re.compile(r"^wx[0-9a-f]{16}$")
_ADDRESS = re.compile(r"(省|市).*(区|县|镇|路|街|号)")
_HAN = re.compile(r"[\u3400-\u9fff]")
# What tells an age band from any range of numbers (opening hours 9-18, sizes 36-38) by content alone.
_AGE_MARK = re.compile(r"岁|后|後|年代|以上|以下|未满|不满|大于|小于|超过|[+<>≤≥]|year|yrs|old|under|over", re.I)
# An amount: a currency mark, thousands separators or two decimals (478.00, ¥1,197.60, 59.9元);
# a bare whole number (a quantity, points) is none.
_AMOUNT = re.compile(r"^(¥|rmb|cny)?\s*[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?\s*(元)?$", re.I)
_STATUS_KEYS = frozenset(re.sub(r"\s", "", unicodedata.normalize("NFKC", w).lower()) for w in STATUS_WORDS)


# A money column that is not what the customer paid for one order: a discount, freight, a refund, a
# unit price, a member's lifetime spend (累计消费, Total Spent) or a stored-value balance (储值余额).
_NOT_PAID = re.compile(r"优惠|折扣|运费|邮费|退款|单价|应付|总价|原价|累计|历史|余额|储值|discount|freight|shipping|refund|"
                       r"unitprice|listprice|lifetime|cumulative|balance|spent")


# A header naming a time or date (of whatever it names)
_TIME_WORD = re.compile(r"时间|日期|时刻|date|time")
_BIRTH_WORD = re.compile(r"出生|生日|生辰|birth|dob")

# A points column that holds a balance, not the points of one purchase.
_BALANCE = re.compile(r"余额|当前|可用|剩余|累计|总积分|balance|total|available")


def _is_amount(value: str) -> bool:
    m = _AMOUNT.match(value)
    if m is None:
        return False
    return bool(m.group(1) or m.group(3) or m.group(5) or (m.group(4) and len(m.group(4)) == 3))


def _clean_sample(value: str) -> str:
    """Without spaces, hyphens and a leading quote (Excel's mark of a number kept as text: '13812345678)."""
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", value)).lstrip("'`")


def _is_resident_id(clean: str) -> bool:
    """GB 11643 as standardization reads it: check digit (or a 15-digit number upgraded), a real
    birth date, and a region whose province is known."""
    if not _ID_SHAPE.match(clean):
        return False
    r = normalizers.normalize_id_card(clean)
    return r.status in normalizers.VALID and r.extra is not None and r.extra.get("province") is not None


def _location_levels(value: str) -> set[str]:
    """The location fields a value holds on its own: one division is its level ('广东' province,
    '深圳市' city, '南山区' district; '北京' both province and city); several divisions and nothing
    else ('广东省 深圳市', '深圳市南山区') only `address` holds, and its normalizer parses them."""
    s = value.strip()
    if not _HAN.search(s) or len(s) > 40:
        return set()
    levels = set()
    if normalizers.normalize_province(s).status == "valid":
        levels.add("province")
    if normalizers.normalize_city(s).status == "valid":
        levels.add("city")
    district = normalizers.normalize_district(s)
    if district.status == "valid" or district.reason == "AMBIGUOUS_DISTRICT":
        levels.add("district")
    if not levels:
        a = normalizers.normalize_address(s)
        if (a.status in normalizers.VALID and a.extra and a.extra.get("detail") is None
                and any(a.extra.get(k) for k in ("province", "city", "district"))):
            levels.add("address")
    return levels


_LATIN_NAME = re.compile(r"[A-Za-z]+(?:[\s.'-]+[A-Za-z]+)*")


def _name_marks(value: str) -> set[str]:
    """'salutation' for a surname with a salutation or title (王先生, 李女士, 张总, 欧阳经理, Mr Smith);
    'han_name' for a Han name of 2 to 4 characters with a known surname, or a salutation name;
    'latin_name' for letters alone (Zhang Wei, Amy); 'nickname_like' for what the name normalizer
    takes for a nickname (emoji, digits, symbols)."""
    s = value.strip()
    if len(s) > 12 or not s or s.isdigit():
        return set()
    r = normalizers.normalize_name(s)
    if r.status not in normalizers.VALID or not r.value:
        return set()
    if r.reason == "SUSPICIOUS_NAME":  # 小仙女🌸, Sunny846: a nickname
        return {"nickname_like"}
    if not r.extra:
        return set()
    family = r.extra.get("family_name")
    known = isinstance(family, str) and (family in names_data.SURNAMES or family in names_data.COMPOUND_SURNAMES)
    if r.extra.get("salutation") and (known or r.extra.get("script") == "latin"):
        return {"salutation", "han_name"}
    if r.extra.get("script") == "latin" and _LATIN_NAME.fullmatch(s):  # Zhang Wei, Amy: a Latin name may be anything
        return {"latin_name"}
    if r.extra.get("script") == "han" and known and 2 <= len(r.value) <= 4:
        return {"han_name"}
    return set()


def _fits(value: str) -> set[str]:
    """Every field (and mark: location, salutation, han_name) that one sample value fits."""
    clean, v = _clean_sample(value), value.strip()
    found = set()
    if _MOBILE.match(clean) or _MASKED_MOBILE.match(clean):
        found.add("mobile")
    if _is_resident_id(clean):
        found.add("id_card")
    if _EMAIL.match(v):
        found.add("email")
    if _DATE.match(v):
        found.add("birth_date")
    if _LANDLINE.match(clean):
        found.add("landline")
    if v.lower() in _GENDER:
        found.add("gender")
    if _OPEN_ID.match(v):
        found.add("wechat_open_id")
    if _APP_ID.match(v):
        found.add("wechat_app_id")
    if _AGE_MARK.search(v) and normalizers.normalize_age_band(v).status == "valid":
        found.add("age_band")
    nfkc = unicodedata.normalize("NFKC", v)
    if _is_amount(nfkc):
        found.add("amount")
    if re.sub(r"\s", "", nfkc.lower()) in _STATUS_KEYS:
        found.add("order_status")
    if normalizers.normalize_other_id(v).status == "valid":
        found.add("other_id")  # only a gated 证件号 header asks (_GATE_FALLBACK): no field by this shape alone
    levels = _location_levels(v)
    if len(value) >= 8 and _ADDRESS.search(value):
        levels.add("address")
    if levels:
        found |= levels | {"location"}
    return found | _name_marks(v)


# Fields found by content alone, in order of preference on a tie.
_CONTENT_FIELDS = ("mobile", "id_card", "email", "birth_date", "landline", "gender", "wechat_open_id", "wechat_app_id",
                   "province", "city", "district", "address", "age_band", "amount", "order_status")
_CONTENT_SHARE = 0.8  # share of sample values a detector must accept
_SALUTATION_SHARE = 0.3  # a name column by content: mostly names, and enough salutations to tell it from a shop list
_MIXED_SHARE = 0.3  # a column of divisions is `address` when this many are regions (a city column may mix in districts)
_AGREEMENT_BONUS = 0.04  # header and content agree: beats a column matched by header alone
_SAMPLE_MIN = 3  # fewer non-empty sample values tell nothing
_NAME_SHARE = 0.3  # a name column with fewer Han names of a known surname, or Latin names, holds display names


@dataclass(frozen=True)
class Suggestion:
    header: str
    field: str | None
    confidence: float
    method: str  # saved | synonym | partial | content | none


def _alternatives(header: str) -> tuple[str, float, str, bool, str] | None:
    """A header offering alternatives for one field (Phone or Mobile, State/Region, 省、市、区): every
    alternative a synonym of one field, or of divisions (the one narrow level named, else `address`);
    text in brackets aside (所在地区(省/市/区) is 所在地区). None otherwise (姓名/编号, Status / Tier)."""
    parts = [normalize_header(p) for p in _ALTERNATIVES.split(_BRACKETED.sub("", header))]
    if len(parts) < 2 or not all(p in _SYNONYM_INDEX for p in parts):
        return None
    found = {p: _SYNONYM_INDEX[p] for p in parts}
    fields = {f for f, _, _ in found.values()}
    if len(fields) > 1 and fields <= set(_LOCATION):
        narrow = fields - {"address"}
        fields = narrow if len(narrow) == 1 else {"address"}
    if len(fields) > 1:
        return None
    field = fields.pop()
    named = next((p for p, (f, _, _) in found.items() if f == field), None)  # none when 省、市、区 gave address
    conf = min(c for _, c, _ in found.values())
    return field, round(conf - 0.1, 2), "synonym", named is None or found[named][2], named or parts[0]


def _header_candidates(header: str) -> list[tuple[str, float, str, bool, str]]:
    """(field, confidence, method, loose, the synonym found) from the header name."""
    key = normalize_header(header)
    if not key:
        return []
    if key in _SYNONYM_INDEX:
        f, conf, loose = _SYNONYM_INDEX[key]
        return [(f, conf, "synonym", loose, key)]
    alternative = _alternatives(header)
    if alternative:
        return [alternative]
    partial = [(s, f, conf, loose) for s, (f, conf, loose) in _SYNONYM_INDEX.items() if len(s) >= 2 and s in key
               and s not in _WHOLE_HEADER_ONLY and not (f in _TEXT_FIELDS and _NUMBER_WORD.match(key.replace(s, "", 1)))
               and not (f in _ID_FIELDS and _DOCUMENT_ATTRIBUTE.search(key.replace(s, "", 1)))]
    if partial:
        s, f, conf, loose = max(partial, key=lambda p: len(p[0]))
        if f == "address":  # Default Address City, 收货地址邮编: the part of the address named after it
            after = [p for p in partial if p[1] in (*_NARROW_LOCATION, "postcode") and key.rfind(p[0]) >= key.find(s) + len(s)]
            if after:
                s, f, conf, loose = max(after, key=lambda p: len(p[0]))
        return [(f, min(conf - 0.15, 0.5 + 0.05 * len(s)), "partial", loose, s)]
    return []


def _share(fits: list[set[str]], mark: str) -> float:
    return sum(1 for f in fits if mark in f) / len(fits) if fits else 0.0


def _content_candidates(fits: list[set[str]]) -> list[tuple[str, float, str]]:
    """(field, confidence, 'content') for the fields most sample values fit, most confident first."""
    if len(fits) < _SAMPLE_MIN:
        return []
    found = []
    for name in _CONTENT_FIELDS:
        share = _share(fits, name)
        if share >= _CONTENT_SHARE:
            # an amount or a status is found in many columns (discounts, freight, delivery states):
            # by content alone it takes only what no header names
            top = 0.1 if name in EVENT_BY_NAME else 0.4
            found.append((name, round(0.5 + top * share, 2), "content"))
    phones = sum(1 for f in fits if f & {"mobile", "landline"}) / len(fits)
    if phones >= _CONTENT_SHARE and not any(f in ("mobile", "landline") for f, _, _ in found):
        kind = max(("mobile", "landline"), key=lambda k: _share(fits, k))  # 客户号码: mobiles and landlines
        found.append((kind, round(0.5 + 0.3 * _share(fits, kind), 2), "content"))
    located = _share(fits, "location")
    if (located >= _CONTENT_SHARE and _share(fits, "address") >= _MIXED_SHARE
            and not any(f in _LOCATION for f, _, _ in found)):
        found.append(("address", round(0.5 + 0.4 * located, 2), "content"))  # divisions and regions: address parses both
    names = _share(fits, "han_name")
    if names >= _CONTENT_SHARE and _share(fits, "salutation") >= _SALUTATION_SHARE:
        found.append(("name", round(0.5 + 0.4 * names, 2), "content"))
    return sorted(found, key=lambda c: -c[1])


def names_a_field(cell: str | None) -> bool:
    """Is this text a header the mapping knows (手机号, openid, 姓名…)?"""
    return normalize_header(cell or "") in _SYNONYM_INDEX


def reads_as_record(row: Sequence[str | None], below: Sequence[Sequence[str | None]]) -> bool:
    """Is `row`, the first filled row of a file and none of whose cells `names_a_field`, a
    customer's record rather than a header (an export without one)? At least two of its cells are
    values of the kind their column holds below (a city over cities, a name over names, an openid
    over openids), more than fit none: a header's cells are the columns' labels, not their values."""
    same = other = 0
    for i, raw in enumerate(row):
        cell = (raw or "").strip()
        if not cell:
            continue
        values = [str(r[i]).strip() for r in below if i < len(r) and r[i] is not None and str(r[i]).strip()][:50]
        if len(values) < _SAMPLE_MIN:
            continue
        fits = [_fits(v) for v in values]
        kinds = {k for k in (*_CONTENT_FIELDS, "han_name") if _share(fits, k) >= _CONTENT_SHARE}
        if kinds:
            same, other = (same + 1, other) if kinds & _fits(cell) else (same, other + 1)
    return same >= 2 and same > other


def _sample(values: list[str]) -> list[str]:
    """Up to 200 values that hold something: no empty cells and no placeholders (无, -, N/A)."""
    return [v for v in values if v and v.strip() and not normalizers.is_placeholder(v)][:200]


def suggest(headers: list[str], samples: list[list[str]], saved: dict[str, str | None] | None = None) -> list[Suggestion]:
    """One suggestion per header. A saved mapping wins; then header synonyms, then content.
    Each standard field goes to at most one column: the most confident one.

    Content can overrule a header: a loose header (证件号, 地区 …) counts only when most sample values
    fit its field (a 证件号 column of passports is `other_id`); a province, city or district header
    whose values are another level, or a region (广东省 深圳市), yields to the level the values hold (a
    region: `address`). A header whose values mostly fit another field and not its own yields to
    that field (a 联系电话 column of landlines is no mobile). Empty cells and placeholders are no sample.
    A header naming an order, ticket or transaction number gets `order_id` when its header names
    one, and never a person field; one naming another party (坐席姓名, Company Name) gets no person
    field; a creation time is an order's (订单创建时间, or 创建时间 in a file of orders), a ticket's
    (nobody's) or the customer's registration."""
    saved = saved or {}
    candidates: list[tuple[float, int, str, str]] = []
    # a column that is an order or ticket number (one qualifier at most: 子订单编号), not a customer's last order's
    numbers = [m.group(0) for h in map(normalize_header, headers) if (m := _EVENT_NUMBER.search(h))
               and len(h) - len(m.group(0)) <= 1]
    rows_are = "orders" if any(_ORDER_WORD.search(n) for n in numbers) else "events" if numbers else None
    for i, header in enumerate(headers):
        if header in saved:
            saved_field = saved[header]
            if saved_field:
                candidates.append((1.0, i, saved_field, "saved"))
            continue
        key = normalize_header(header)
        if _EVENT_NUMBER.search(key):
            # only a header that is an order number's name outright: 关联订单号 (a ticket's related order) is none
            candidates += [(conf, i, f, method) for f, conf, method, _, _ in _header_candidates(header)
                           if f == "order_id" and method == "synonym"]
            continue
        values = _sample(samples[i] if i < len(samples) else [])
        distinct = {v: _fits(v) for v in set(values)}
        fits = [distinct[v] for v in values]
        by_content = _content_candidates(fits)
        if _NOT_PAID.search(key):
            by_content = [c for c in by_content if c[0] != "amount"]
        if _TIME_WORD.search(key) and not _BIRTH_WORD.search(key):  # 创建日期 of dates is no birth date
            by_content = [c for c in by_content if c[0] != "birth_date"]
        other_party = bool(_OTHER_PARTY.search(key.replace("企业微信", "")))
        by_header = _header_candidates(header)
        named = {f for f, *_ in by_header}
        by_content = [c for c in by_content if not (other_party and c[0] in _ABOUT_CUSTOMER) and not any(
            c[0] in group and named & group - {c[0]} for group in _SAME_SHAPE)]
        content_fields = {f for f, _, _ in by_content}
        located = any(f in _LOCATION for f in content_fields)
        for f, conf, method, loose, synonym in by_header:
            rest = key.replace(synonym, "", 1)
            if (f == "amount" and _NOT_PAID.search(key)) or (f == "points" and _BALANCE.search(key)):
                continue
            if f in _ABOUT_CUSTOMER and ((other_party and f != "store") or (method == "partial" and _MONEY.search(rest))):
                continue
            if f in _PERSON_TIMES:
                if _ORDER_WORD.search(rest) or (synonym in _GENERIC_TIMES and rows_are == "orders"):
                    if f != "registered_at":
                        continue
                    f, conf = "event_time", conf - 0.05  # 订单创建时间; a column naming the order's time outright wins
                elif _OTHER_EVENT.search(rest) or (synonym in _GENERIC_TIMES and rows_are):
                    continue
            if loose and f == "name" and len(fits) >= _SAMPLE_MIN and _share(fits, "gender") >= _GATE_SHARE:
                continue  # Mr. / Ms. / 先生 alone: a sex, no name
            worded = [distinct[v] for v in values if len(v.strip()) > 1]  # 甲 or 王 alone tells nothing
            if f == "name" and len(fits) >= _SAMPLE_MIN and (_share(fits, "nickname_like") >= _GATE_SHARE or (
                    len(worded) >= _SAMPLE_MIN and _share(worded, "han_name") + _share(worded, "latin_name") < _NAME_SHARE)):
                # a WeCom 客户名称 of 小仙女🌸 and Sunny846, or of 柠檬 and 知足常乐: display names; a 昵称 column wins
                f, conf = "nickname", conf - 0.1
            if f == "ecommerce_buyer_id" and ("昵称" in key or "nick" in key):  # 买家昵称 beside a 买家ID column
                candidates.append((round(conf - 0.25, 2), i, "nickname", method))
            if loose and f in _GATES and len(fits) >= _SAMPLE_MIN and _share(fits, _GATES[f]) < _GATE_SHARE:
                f = _GATE_FALLBACK.get(synonym, "")
                if not f or _share(fits, f) < _GATE_SHARE:
                    continue
            if f in _NARROW_LOCATION and located and f not in content_fields:
                continue  # the values are another level, or a region: the content candidate names it
            if f in _CONTENT_FIELDS and f not in content_fields and _share(fits, f) < _GATE_SHARE and any(
                    g in _CONTENT_FIELDS and _share(fits, g) >= _GATE_SHARE for g in content_fields):
                continue  # 联系电话 full of landlines: the values name another field, and the content candidate takes it
            bonus = _AGREEMENT_BONUS if f in content_fields else 0.0
            candidates.append((round(conf + bonus, 2), i, f, method))
        candidates += [(conf, i, f, method) for f, conf, method in by_content]
    chosen: dict[int, tuple[str, float, str]] = {}
    taken: set[str] = set()
    for conf, i, f, method in sorted(candidates, key=lambda c: (-c[0], c[1])):
        if i in chosen or f in taken:
            continue
        chosen[i] = (f, conf, method)
        taken.add(f)
    return [Suggestion(h, *chosen[i]) if i in chosen else Suggestion(h, None, 0.0, "saved" if h in saved else "none")
            for i, h in enumerate(headers)]


def validate(mapping: dict[str, str | None]) -> dict[str, str | None]:
    """Check a header -> field mapping: known fields (person or event fields), each at most once."""
    used: dict[str, str] = {}
    for header, f in mapping.items():
        if f is None or f == "":
            continue
        if not isinstance(f, str):
            raise MappingError(f"Map column {header!r} to a field name or null, not {json.dumps(f, ensure_ascii=False)}.")
        if f not in BY_NAME and f not in EVENT_BY_NAME:
            raise MappingError(f"Unknown standard field {f!r} for column {header!r}.")
        if f in used:
            raise MappingError(f"The field {f!r} is mapped twice: from {used[f]!r} and {header!r}.")
        used[f] = header
    return {h: (f or None) for h, f in mapping.items()}


def current_version(cur: duckdb.DuckDBPyConnection, source: str) -> int:
    return scalar(cur, "SELECT max(version) FROM mapping_versions WHERE source = ?", [source]) or 0


def load(cur: duckdb.DuckDBPyConnection, source: str, version: int | None = None) -> dict[str, str | None]:
    """The saved mapping of a source (latest version unless given): header -> field or None."""
    version = version or current_version(cur, source)
    rows = cur.execute("SELECT header, field FROM mapping_entries WHERE source = ? AND version = ? ORDER BY header",
                       [source, version]).fetchall()
    return dict(rows)


def basis(cur: duckdb.DuckDBPyConnection, source: str) -> list[tuple[str, str | None, float | None, str]]:
    """The current mapping with what each entry rests on: (header, field, confidence, method), the
    least certain first. method: synonym, partial, content, saved (a suggestion), steward (set by hand),
    kept (from an earlier version) or none."""
    return cur.execute("SELECT header, field, confidence, coalesce(method, 'none') FROM mapping_entries "
                       "WHERE source = ? AND version = ? ORDER BY field IS NULL, coalesce(confidence, 2), header",
                       [source, current_version(cur, source)]).fetchall()


def save(cur: duckdb.DuckDBPyConnection, actor: str, source: str, mapping: dict[str, str | None],
         suggestions: list[Suggestion] | None = None, comment: str | None = None) -> int:
    """Store a new mapping version when it differs from the current one (inside the caller's
    transaction). Headers already known to the source but absent here are kept: an export whose
    column was renamed maps the new header to the same field, and each batch reads its own
    columns. Within any one batch's columns a field is still mapped at most once. Returns the version."""
    mapping = validate(mapping)
    previous = load(cur, source)
    merged = {**previous, **mapping}
    for (headers,) in cur.execute("SELECT list(header) FROM batch_columns JOIN batches USING (batch_id) "
                                  "WHERE source = ? GROUP BY batch_id", [source]).fetchall():
        validate({h: merged.get(h) for h in headers})
    version = current_version(cur, source)
    if version and merged == previous:
        return version
    version += 1
    by_header = {s.header: s for s in suggestions or []}
    cur.execute("INSERT INTO mapping_versions VALUES (?, ?, ?, ?, ?)", [source, version, actor, utcnow(), comment])
    for header, f in merged.items():
        s = by_header.get(header)
        suggested = s if s is not None and s.field == f else None
        cur.execute("INSERT INTO mapping_entries VALUES (?, ?, ?, ?, ?, ?)",
                    [source, version, header, f, suggested.confidence if suggested else None,
                     suggested.method if suggested else ("steward" if header in mapping else "kept")])
    changes = {h: {"from": previous.get(h), "to": f} for h, f in merged.items() if previous.get(h) != f}
    audit.record(cur, actor, Event.MAPPING_CHANGE, "source", source, {"version": version, "changes": changes})
    return version


def update(db, actor: str, source: str, mapping: dict[str, str | None], comment: str | None = None) -> int:
    """A steward's edit of a source's mapping: a new version, audited, and the view refreshed."""
    with db.transaction() as cur:
        if not cur.execute("SELECT 1 FROM sources WHERE source = ?", [source]).fetchone():
            raise MappingError(f"No source named {source!r}.")
        version = save(cur, actor, source, mapping, comment=comment)
        rebuild_mapped_view(cur)
    return version


def source_headers(cur: duckdb.DuckDBPyConnection, source: str) -> list[str]:
    """Every column header seen in the source's batches, in first-seen order."""
    rows = cur.execute(
        "SELECT header FROM batch_columns JOIN batches USING (batch_id) WHERE source = ? "
        "GROUP BY header ORDER BY min(batch_id), min(position)", [source]).fetchall()
    return [r[0] for r in rows]


def history(cur: duckdb.DuckDBPyConnection, source: str):
    return cur.execute(
        "SELECT v.version, v.created_by, v.created_at, v.comment, count(e.field) AS mapped_fields "
        "FROM mapping_versions v LEFT JOIN mapping_entries e USING (source, version) "
        "WHERE v.source = ? GROUP BY ALL ORDER BY v.version DESC", [source]).df()


# Migration 12 kept a store's mapped_records as this view and put one with the new fields over it
# (frozen SQL cannot rebuild a view from the batches); the next rebuild drops it.
PRE_0012_VIEW = "mapped_records_v11"
MAPPED_VIEWS = ("mapped_records", PRE_0012_VIEW)
_VIEW_FIELDS = (*FIELD_NAMES, *EVENT_FIELD_NAMES)


def rebuild_mapped_view(cur: duckdb.DuckDBPyConnection) -> None:
    """(Re)create `mapped_records`: every raw row of every batch under the standard field
    names of its source's current mapping (person fields, then event fields), plus unmapped
    columns in `extras`."""
    mappings: dict[str, dict[str, str | None]] = {}
    selects = []
    batches = cur.execute("SELECT batch_id, source, table_name FROM batches ORDER BY batch_id").fetchall()
    for batch_id, source, table in batches:
        mapping = mappings.setdefault(source, load(cur, source))
        columns = cur.execute("SELECT column_name, header FROM batch_columns WHERE batch_id = ? ORDER BY position",
                              [batch_id]).fetchall()
        by_field = {mapping[h]: c for c, h in columns if mapping.get(h)}
        extras = [(h, c) for c, h in columns if not mapping.get(h)]
        fields_sql = ", ".join(f"{by_field[f]} AS {f}" if f in by_field else f"NULL::VARCHAR AS {f}" for f in _VIEW_FIELDS)
        if extras:
            extras_sql = (f"map([{', '.join(quote_literal(h) for h, _ in extras)}], "
                          f"[{', '.join(c for _, c in extras)}])")
        else:
            extras_sql = "NULL::MAP(VARCHAR, VARCHAR)"
        selects.append(f"SELECT {batch_id}::BIGINT AS batch_id, {quote_literal(source)} AS source, _row AS row_number, "
                       f"{fields_sql}, {extras_sql} AS extras FROM {table}")
    if not selects:
        empty = ", ".join(f"NULL::VARCHAR AS {f}" for f in _VIEW_FIELDS)
        selects = [f"SELECT NULL::BIGINT AS batch_id, NULL::VARCHAR AS source, NULL::BIGINT AS row_number, {empty}, "
                   "NULL::MAP(VARCHAR, VARCHAR) AS extras WHERE false"]
    cur.execute("CREATE OR REPLACE VIEW mapped_records AS " + " UNION ALL ".join(selects))
    cur.execute(f"DROP VIEW IF EXISTS {PRE_0012_VIEW}")

"""The standard customer schema: the fields every source is mapped onto."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StandardField:
    name: str
    label_zh: str
    label_en: str
    type: str          # text | phone | email | id_card | code | date | timestamp | boolean | decimal | integer
    pii: bool          # personal information under PIPL: masked for analysts
    sensitive: bool    # sensitive personal information (PIPL Art. 28)
    definition: str

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en


_F = StandardField
FIELDS: tuple[StandardField, ...] = (
    _F("name", "姓名", "Name", "text", True, False, "Full name as the customer gave it (hanzi or pinyin)."),
    _F("family_name", "姓", "Family name", "text", True, False, "Surname, including compound surnames such as 欧阳."),
    _F("given_name", "名", "Given name", "text", True, False, "Given name without the surname."),
    _F("mobile", "手机号", "Mobile", "phone", True, False, "Mainland mobile number, 11 digits starting with 1."),
    _F("landline", "固定电话", "Landline", "phone", True, False, "Fixed-line number with area code."),
    _F("email", "电子邮箱", "Email", "email", True, False, "Email address."),
    _F("id_card", "身份证号", "Resident ID number", "id_card", True, True, "Resident identity card number (GB 11643), or a residence permit number."),
    _F("gender", "性别", "Gender", "code", True, False, "Gender, normalized later to GB/T 2261.1 codes 0/1/2/9."),
    _F("birth_date", "出生日期", "Birth date", "date", True, False, "Date of birth."),
    _F("province", "省份", "Province", "text", False, False, "Province-level division."),
    _F("city", "城市", "City", "text", False, False, "Prefecture-level city."),
    _F("district", "区县", "District", "text", False, False, "County-level district."),
    _F("address", "详细地址", "Address", "text", True, False, "Street address (may hold the full address)."),
    _F("postcode", "邮政编码", "Postcode", "code", False, False, "Six-digit postal code."),
    _F("wechat_open_id", "微信OpenID", "WeChat open_id", "code", True, False, "WeChat open_id; meaningful only with its app id."),
    _F("wechat_app_id", "微信AppID", "WeChat app id", "code", False, False, "App id of the mini-program or official account that issued the open_id."),
    _F("wechat_union_id", "微信UnionID", "WeChat union_id", "code", True, False, "WeChat union_id, shared across apps of one Open Platform account."),
    _F("douyin_id", "抖音ID", "Douyin id", "code", True, False, "Douyin user id or open id."),
    _F("ecommerce_buyer_id", "电商买家ID", "E-commerce buyer id", "code", True, False, "Buyer id or nick on Tmall, Taobao, JD and similar."),
    _F("member_card", "会员卡号", "Membership card", "code", True, False, "Membership card or CRM customer number."),
    _F("nickname", "昵称", "Nickname", "text", True, False, "Platform nickname; not a real name."),
    _F("store", "门店", "Store", "text", False, False, "Store or shop where the customer registered or bought."),
    _F("registered_at", "注册时间", "Registered at", "timestamp", False, False, "When the customer registered in the source."),
    _F("updated_at", "最后更新时间", "Last updated", "timestamp", False, False, "Last update of the record in the source."),
    _F("marketing_consent", "营销同意", "Marketing consent", "boolean", False, False, "Whether the customer agreed to marketing messages."),
    # Added by migration 12. New fields go last: golden_wide and std_records gain their columns at the end.
    _F("other_id", "其他证件号", "Other ID number", "code", True, True,
       "A personal identity document number other than a mainland resident ID: passport, social-security "
       "number (SSN), another country's national ID, Hong Kong/Macau/Taiwan travel permit."),
    _F("age_band", "年龄段", "Age band", "code", True, False,
       "An age range as the source gives it (25-30岁, 30岁以上, 90后); it implies a range of birth years."),
)

FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
BY_NAME: dict[str, StandardField] = {f.name: f for f in FIELDS}


def field(name: str) -> StandardField:
    return BY_NAME[name]


# Event fields: what a row records happening (an order, a receipt), not who the person is. They are
# no person attributes: never in FIELDS, golden records, masking or std_records. governance/events
# parses them into `std_events`.
EVENT_FIELDS: tuple[StandardField, ...] = (
    _F("order_id", "订单号", "Order number", "code", False, False,
       "Order, receipt or transaction number as the source gives it; identifies an event, never a person."),
    _F("event_time", "下单/消费时间", "Order or purchase time", "timestamp", False, False,
       "When the order was placed or paid, or the purchase made; a time without a zone is China time."),
    _F("amount", "金额", "Amount", "decimal", False, False,
       "Amount paid in yuan, DECIMAL(18,2) (¥1,197.60 is 1197.60); never a float."),
    _F("quantity", "数量", "Quantity", "integer", False, False, "Number of items in the order or receipt."),
    _F("product_name", "商品名称", "Product", "text", False, False, "Product or item title."),
    _F("product_category", "商品类目", "Product category", "text", False, False, "Product category (类目/品类)."),
    _F("order_status", "订单状态", "Order status", "code", False, False,
       "Order status, standardized to completed, refunded, cancelled, pending or other."),
    _F("points", "积分", "Points", "integer", False, False, "Loyalty points earned (or redeemed, negative)."),
    _F("member_level", "会员等级", "Member level", "text", False, False,
       "The source's own membership tier, such as 金卡 or 88VIP, as given."),
)
EVENT_FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in EVENT_FIELDS)
EVENT_BY_NAME: dict[str, StandardField] = {f.name: f for f in EVENT_FIELDS}


def pii_fields() -> list[str]:
    return [f.name for f in FIELDS if f.pii]

# Channel keys with their Chinese and English labels.
CHANNELS: dict[str, tuple[str, str]] = {
    "wechat_mp": ("微信小程序", "WeChat mini-program"),
    "wechat_oa": ("微信公众号", "WeChat official account"),
    "douyin": ("抖音小店", "Douyin shop"),
    "tmall": ("天猫旗舰店", "Tmall store"),
    "jd": ("京东自营", "JD store"),
    "pos": ("门店POS", "Store POS"),
    "crm": ("CRM会员系统", "CRM"),
    "member": ("会员中心", "Membership system"),
    "other": ("其他", "Other"),
}


def channel_label(channel: str, lang: str) -> str:
    zh, en = CHANNELS.get(channel, (channel, channel))
    return zh if lang == "zh" else en

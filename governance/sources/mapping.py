"""Field mapping: suggest a standard field for each source column, save the steward's
confirmed mapping per source (versioned and audited), and publish the contract that
later stages read: the `mapped_records` view.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from governance.access import audit
from governance.access.events import Event
from governance.store.errors import MappingError
from governance.store.schema import BY_NAME, FIELD_NAMES
from governance.store.storage import quote_literal, scalar
from governance.store.util import utcnow

# Header synonyms per standard field, in Chinese, English and common abbreviations.
# Compared after `normalize_header` (NFKC, lower case, no spaces or punctuation).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "客户名称", "客户姓名", "会员姓名", "收货人", "收货人姓名", "收件人", "联系人",
             "顾客姓名", "用户姓名", "真实姓名", "name", "fullname", "customername", "realname", "consignee", "xm"),
    "family_name": ("姓", "姓氏", "lastname", "familyname", "surname"),
    "given_name": ("名", "firstname", "givenname", "forename"),
    "mobile": ("手机号", "手机", "手机号码", "移动电话", "联系电话", "联系手机", "收货手机", "收货人手机", "电话",
               "联系方式", "会员手机", "mobile", "mobilephone", "mobileno", "phone", "phonenumber", "tel", "cellphone",
               "cell", "sjh", "mobilenumber"),
    "landline": ("固定电话", "座机", "固话", "办公电话", "家庭电话", "landline", "telephone", "fixedphone", "homephone"),
    "email": ("邮箱", "电子邮箱", "电子邮件", "邮件", "email", "mail", "emailaddress", "e-mail"),
    "id_card": ("身份证", "身份证号", "身份证号码", "证件号", "证件号码", "idcard", "idno", "idnumber", "sfz", "sfzh",
                "nationalid", "residentid", "identitycard"),
    "gender": ("性别", "gender", "sex", "xb"),
    "birth_date": ("生日", "出生日期", "出生年月", "出生年月日", "birthday", "birthdate", "dob", "dateofbirth"),
    "province": ("省", "省份", "所在省", "所在省份", "province", "state"),
    "city": ("市", "城市", "所在城市", "地市", "city"),
    "district": ("区", "区县", "县区", "区/县", "所在区", "district", "county"),
    "address": ("地址", "详细地址", "收货地址", "联系地址", "家庭住址", "住址", "通讯地址", "address", "addr",
                "streetaddress", "shippingaddress"),
    "postcode": ("邮编", "邮政编码", "postcode", "zip", "zipcode", "postalcode"),
    "wechat_open_id": ("openid", "微信openid", "wxopenid", "open_id", "小程序openid", "公众号openid"),
    "wechat_app_id": ("appid", "微信appid", "wxappid", "小程序appid", "app_id"),
    "wechat_union_id": ("unionid", "微信unionid", "union_id", "wxunionid"),
    "douyin_id": ("抖音号", "抖音id", "抖音uid", "抖音用户id", "douyinid", "dyid", "douyin", "抖音openid"),
    "ecommerce_buyer_id": ("买家会员名", "买家id", "买家昵称", "旺旺", "旺旺号", "淘宝id", "京东id", "京东账号", "buyerid",
                           "buyernick", "buyer", "买家账号"),
    "member_card": ("会员卡号", "会员卡", "会员号", "会员编号", "会员id", "卡号", "客户编号", "客户id", "customerid",
                    "memberid", "membercard", "memberno", "cardno", "crmid"),
    "nickname": ("昵称", "用户昵称", "微信昵称", "抖音昵称", "nickname", "nick"),
    "store": ("门店", "门店名称", "店铺", "店铺名称", "所属门店", "注册门店", "store", "storename", "shop", "shopname"),
    "registered_at": ("注册时间", "注册日期", "入会时间", "开卡时间", "创建时间", "registertime", "registeredat",
                      "registrationdate", "signupdate", "createdat", "createtime", "joindate"),
    "updated_at": ("更新时间", "最后更新时间", "修改时间", "最近更新", "updatetime", "updatedat", "lastupdate",
                   "modifiedat", "lastmodified"),
    "marketing_consent": ("营销同意", "是否同意营销", "同意营销", "营销授权", "订阅", "是否订阅", "marketingconsent",
                          "marketingoptin", "optin", "consent", "subscribed"),
}

_PUNCT = re.compile(r"[\s_\-.:/\\()（）\[\]【】#*'\"]+")


def normalize_header(header: str) -> str:
    return _PUNCT.sub("", unicodedata.normalize("NFKC", header or "").lower())


_SYNONYM_INDEX: dict[str, str] = {normalize_header(s): f for f, syns in SYNONYMS.items() for s in syns}

# Content detectors: a field and a test on one non-empty sample value.
_MOBILE = re.compile(r"^(\+?86|0086)?1[3-9]\d{9}$")
_MASKED_MOBILE = re.compile(r"^1[3-9]\d\*{4}\d{4}$")
_ID_CARD = re.compile(r"^[1-9]\d{5}(18|19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[\dXx]$|^[1-9]\d{14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_DATE = re.compile(r"^(19|20)\d{2}([-/.年])\d{1,2}([-/.月])\d{1,2}日?$|^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$")
_LANDLINE = re.compile(r"^(\+?86)?\(?0\d{2,3}\)?\d{7,8}$")
_GENDER = {"男", "女", "男性", "女性", "m", "f", "male", "female", "先生", "女士", "未知", "保密"}
_OPEN_ID = re.compile(r"^o[A-Za-z0-9_-]{27}$")
_APP_ID = re.compile(r"^wx[0-9a-f]{16}$")
_PROVINCE = re.compile(r"^(北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|"
                       r"海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门)(省|市|自治区|壮族自治区|"
                       r"回族自治区|维吾尔自治区|特别行政区)?$")
_ADDRESS = re.compile(r"(省|市).*(区|县|镇|路|街|号)")


def _clean_sample(value: str) -> str:
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", value))


_DETECTORS: list[tuple[str, Callable[[str], bool]]] = [
    ("mobile", lambda v: bool(_MOBILE.match(_clean_sample(v)) or _MASKED_MOBILE.match(_clean_sample(v)))),
    ("id_card", lambda v: bool(_ID_CARD.match(_clean_sample(v)))),
    ("email", lambda v: bool(_EMAIL.match(v.strip()))),
    ("birth_date", lambda v: bool(_DATE.match(v.strip()))),
    ("landline", lambda v: bool(_LANDLINE.match(_clean_sample(v)))),
    ("gender", lambda v: v.strip().lower() in _GENDER),
    ("wechat_open_id", lambda v: bool(_OPEN_ID.match(v.strip()))),
    ("wechat_app_id", lambda v: bool(_APP_ID.match(v.strip()))),
    ("province", lambda v: bool(_PROVINCE.match(v.strip()))),
    ("address", lambda v: len(v) >= 8 and bool(_ADDRESS.search(v))),
]
_CONTENT_SHARE = 0.8  # share of sample values a detector must accept
_AGREEMENT_BONUS = 0.04  # header and content agree: beats a column matched by header alone


@dataclass(frozen=True)
class Suggestion:
    header: str
    field: str | None
    confidence: float
    method: str  # saved | synonym | partial | content | none


def _header_candidates(header: str) -> list[tuple[str, float, str]]:
    key = normalize_header(header)
    if not key:
        return []
    if key in _SYNONYM_INDEX:
        return [(_SYNONYM_INDEX[key], 0.95, "synonym")]
    partial = [(f, len(s)) for s, f in _SYNONYM_INDEX.items() if len(s) >= 2 and s in key]
    if partial:
        best = max(partial, key=lambda p: p[1])
        return [(best[0], min(0.8, 0.5 + 0.05 * best[1]), "partial")]
    return []


def _content_candidates(values: list[str]) -> list[tuple[str, float, str]]:
    values = [v for v in values if v and v.strip()][:200]
    if len(values) < 3:
        return []
    found = []
    for name, test in _DETECTORS:
        share = sum(1 for v in values if test(v)) / len(values)
        if share >= _CONTENT_SHARE:
            found.append((name, round(0.5 + 0.4 * share, 2), "content"))
    return found


def suggest(headers: list[str], samples: list[list[str]], saved: dict[str, str | None] | None = None) -> list[Suggestion]:
    """One suggestion per header. A saved mapping wins; then header synonyms, then content.
    Each standard field goes to at most one column: the most confident one."""
    saved = saved or {}
    candidates: list[tuple[float, int, str, str]] = []
    for i, header in enumerate(headers):
        if header in saved:
            saved_field = saved[header]
            if saved_field:
                candidates.append((1.0, i, saved_field, "saved"))
            continue
        by_content = _content_candidates(samples[i] if i < len(samples) else [])
        content_fields = {f for f, _, _ in by_content}
        for f, conf, method in _header_candidates(header):
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
    """Check a header -> field mapping: known fields, each at most once."""
    used: dict[str, str] = {}
    for header, f in mapping.items():
        if f is None or f == "":
            continue
        if f not in BY_NAME:
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


def save(cur: duckdb.DuckDBPyConnection, actor: str, source: str, mapping: dict[str, str | None],
         suggestions: list[Suggestion] | None = None, comment: str | None = None) -> int:
    """Store a new mapping version when it differs from the current one (inside the caller's
    transaction). Headers already known to the source but absent here are kept. Returns the version."""
    mapping = validate(mapping)
    previous = load(cur, source)
    merged = {**previous, **mapping}
    validate(merged)
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


def rebuild_mapped_view(cur: duckdb.DuckDBPyConnection) -> None:
    """(Re)create `mapped_records`: every raw row of every batch under the standard field
    names of its source's current mapping, plus unmapped columns in `extras`."""
    mappings: dict[str, dict[str, str | None]] = {}
    selects = []
    batches = cur.execute("SELECT batch_id, source, table_name FROM batches ORDER BY batch_id").fetchall()
    for batch_id, source, table in batches:
        mapping = mappings.setdefault(source, load(cur, source))
        columns = cur.execute("SELECT column_name, header FROM batch_columns WHERE batch_id = ? ORDER BY position",
                              [batch_id]).fetchall()
        by_field = {mapping[h]: c for c, h in columns if mapping.get(h)}
        extras = [(h, c) for c, h in columns if not mapping.get(h)]
        fields_sql = ", ".join(f"{by_field[f]} AS {f}" if f in by_field else f"NULL::VARCHAR AS {f}" for f in FIELD_NAMES)
        if extras:
            extras_sql = (f"map([{', '.join(quote_literal(h) for h, _ in extras)}], "
                          f"[{', '.join(c for _, c in extras)}])")
        else:
            extras_sql = "NULL::MAP(VARCHAR, VARCHAR)"
        selects.append(f"SELECT {batch_id}::BIGINT AS batch_id, {quote_literal(source)} AS source, _row AS row_number, "
                       f"{fields_sql}, {extras_sql} AS extras FROM {table}")
    if not selects:
        empty = ", ".join(f"NULL::VARCHAR AS {f}" for f in FIELD_NAMES)
        selects = [f"SELECT NULL::BIGINT AS batch_id, NULL::VARCHAR AS source, NULL::BIGINT AS row_number, {empty}, "
                   "NULL::MAP(VARCHAR, VARCHAR) AS extras WHERE false"]
    cur.execute("CREATE OR REPLACE VIEW mapped_records AS " + " UNION ALL ".join(selects))

"""Masking of personal data for display and export: one helper for every page and export.

A policy gives each sensitivity class × role a method: `full` (shown as is), `partial`
(the conventions of governance-anchors §4.12: mobile 138****1234, resident ID
110105********002X, other ID numbers E*****678, names 张* / 欧阳** (compound-surname aware),
email z***@qq.com, address kept to the district, birth date to the year (an age band, coarser
still, as is), channel ids first 4 … last 4), `hash` (a keyed HMAC-SHA256 pseudonym) or `hidden`.
Without a policy the defaults apply: the partial conventions, and low-risk classes (gender) in full.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

import duckdb
import pandas as pd

from governance.access import audit
from governance.access.auth import ROLES
from governance.access.events import Event
from governance.store.errors import GovernanceError
from governance.store.schema import BY_NAME, EVENT_BY_NAME
from governance.store.storage import Database, quote_literal
from governance.store.util import utcnow

COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 令狐 长孙 宇文 司徒 司空 夏侯 轩辕 端木 万俟 单于 澹台 钟离 闾丘 南宫 西门 "
    "呼延 拓跋 第五 百里 东郭 独孤 赫连 申屠 太叔 公羊 濮阳 淳于 仲孙 鲜于 闻人 左丘 谷梁 宰父 乐正 壤驷 巫马 漆雕 公良 "
    "亓官 司寇 子车 颛孙 段干 梁丘 公西 羊舌".split())
_HAN = re.compile(r"[\u3400-\u9fff]")
_ADDRESS_DISTRICT = re.compile(r"^.{0,12}?((?<![小社园校])区|县|旗)")
_ADDRESS_CITY = re.compile(r"^.{0,12}?市(?!场)")


def mask_name(value: str) -> str:
    text = value.strip()
    if not text:
        return text
    if _HAN.match(text):
        keep = 2 if text[:2] in COMPOUND_SURNAMES and len(text) > 2 else 1
        return text[:keep] + "*" * max(1, len(text) - keep)
    parts = text.split()
    return " ".join(p[0] + "*" * max(1, len(p) - 1) for p in parts)


def mask_digits(value: str, keep_start: int, keep_end: int) -> str:
    text = value.strip()
    if len(text) <= keep_start + keep_end:
        return "*" * len(text)
    return text[:keep_start] + "*" * (len(text) - keep_start - keep_end) + text[len(text) - keep_end:]


def mask_email(value: str) -> str:
    local, at, domain = value.strip().partition("@")
    if not at:
        return mask_generic(value)
    return (local[:1] + "***" if local else "***") + "@" + domain


def mask_address(value: str) -> str:
    text = value.strip()
    match = _ADDRESS_DISTRICT.match(text) or _ADDRESS_CITY.match(text)
    kept = match.group(0) if match else text[:3]
    return kept + "*****"


def mask_generic(value: str) -> str:
    text = value.strip()
    return (text[:1] + "***") if text else text


def mask_keep(value: str, keep_start: int, keep_end: int) -> str:
    """Channel ids: the first and last characters around an ellipsis (oAbC…xY9z); short ids as stars."""
    text = value.strip()
    if len(text) <= max(8, keep_start + keep_end):
        return mask_digits(text, min(1, keep_start), min(1, keep_end))
    return f"{text[:keep_start]}…{text[len(text) - keep_end:] if keep_end else ''}"


def mask_id(value: str) -> str:
    return mask_keep(value, 4, 4)


# Partial forms with a fixed shape, by standard field.
_SHAPES: dict[str | None, Callable[[str], str]] = {
    "name": mask_name, "family_name": lambda v: mask_digits(v, 0, 0) if len(v) > 1 else v,
    "given_name": lambda v: "*" * len(v.strip()), "nickname": mask_generic, "email": mask_email,
    "address": mask_address, "gender": lambda v: "*",
    "birth_date": lambda v: v.strip()[:4] + "-**-**" if len(v.strip()) >= 4 else "****",
    "age_band": lambda v: v,  # already coarser than the birth year that partial keeps of a birth date
}

# ---- sensitivity classes and policies ------------------------------------------------------------

METHODS = ("full", "partial", "hash", "hidden")
HIDDEN = "***"
HASH_LENGTH = 16  # hex characters of the keyed hash shown (64 bits)
OTHER = "other"   # columns not mapped to a standard field

# Every PII field of the standard schema belongs to one class (a unit test keeps them in step).
CLASS_FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("name", "family_name", "given_name"),
    "nickname": ("nickname",),
    "mobile": ("mobile",),
    "landline": ("landline",),
    "email": ("email",),
    "id_card": ("id_card",),
    "other_id": ("other_id",),
    "gender": ("gender",),
    "birth_date": ("birth_date", "age_band"),
    "address": ("address",),
    "wechat_id": ("wechat_open_id", "wechat_union_id"),
    "platform_account": ("douyin_id", "ecommerce_buyer_id"),
    "member_card": ("member_card",),
    OTHER: (),
}
CLASSES = tuple(CLASS_FIELDS)
CLASS_OF: dict[str, str] = {f: cls for cls, fields in CLASS_FIELDS.items() for f in fields}
# Classes whose partial form keeps a prefix and a suffix (configurable); "stars" fill the middle
# with *, "ellipsis" shows first … last. The other classes have a fixed partial shape.
KEEP_STYLE = {"mobile": "stars", "landline": "stars", "id_card": "stars", "other_id": "stars",
              "wechat_id": "ellipsis", "platform_account": "ellipsis", "member_card": "ellipsis"}


@dataclass(frozen=True)
class Rule:
    method: str
    keep_start: int | None = None
    keep_end: int | None = None


# Low-risk classes, shown in full to every role by default: they identify no one on their own and are
# what segmentation needs (gender; province, city and district are not personal-data fields of the
# schema at all, and an age band is kept as is by the partial form of its class). A new store is
# seeded with these defaults (migrations 9 and 15); a store with data keeps its stored policy.
LOW_RISK_CLASSES = frozenset({"gender"})
# Defaults: the partial conventions for every other class and role. Admins get no wider default than
# stewards (they administer users and policies, which needs no customer data); admins and stewards
# hold `pii.unmasked` and may reveal a view with a stated reason, audited.
DEFAULT_RULES: dict[str, Rule] = {
    cls: Rule("full") if cls in LOW_RISK_CLASSES else
    Rule("partial", *{"mobile": (3, 4), "landline": (4, 4), "id_card": (6, 4), "other_id": (1, 3)}.get(cls, (4, 4)))
    if cls in KEEP_STYLE else Rule("partial") for cls in CLASSES
}


def _kept(cls: str, rule: Rule) -> tuple[int, int]:
    """The characters a partial `rule` of a KEEP_STYLE class keeps at the start and the end
    (the class default where the rule sets none)."""
    default = DEFAULT_RULES[cls]
    start = default.keep_start if rule.keep_start is None else rule.keep_start
    end = default.keep_end if rule.keep_end is None else rule.keep_end
    assert start is not None and end is not None, cls  # every KEEP_STYLE default sets both
    return start, end


@dataclass(frozen=True)
class Policy:
    """The rules of every class × role, and the HMAC key the `hash` method needs."""
    rules: dict[tuple[str, str], Rule]
    key: str | bytes | None = None

    def rule(self, sensitivity_class: str, role: str) -> Rule:
        return self.rules.get((sensitivity_class, role), DEFAULT_RULES[sensitivity_class])


DEFAULT_POLICY = Policy({})


def class_of(field: str | None) -> str | None:
    """The sensitivity class of a column's field; None for standard fields that are not PII (event
    fields such as an amount or an order status are none)."""
    if field in EVENT_BY_NAME:
        return None
    if field is None or field not in BY_NAME:
        return OTHER
    return CLASS_OF.get(field) if BY_NAME[field].pii else None


def pseudonym(value: str, key: str | bytes | None) -> str:
    """HMAC-SHA256 of a value under a secret key (hex). Unlike plain SHA-256 of a phone number,
    it cannot be reversed by enumerating the 11-digit space without the key."""
    if not key:
        raise GovernanceError("A keyed hash needs the HMAC key (hmac_key in the secrets).")
    key_bytes = key.encode("utf-8") if isinstance(key, str) else key
    return hmac.new(key_bytes, value.encode("utf-8"), hashlib.sha256).hexdigest()


def apply_rule(field: str | None, rule: Rule, value: str, key: str | bytes | None = None) -> str:
    """One value of `field` under `rule`."""
    if rule.method == "full":
        return value
    if rule.method == "hidden":
        return HIDDEN
    if rule.method == "hash":
        return pseudonym(value.strip(), key)[:HASH_LENGTH]
    cls = class_of(field)
    if cls in KEEP_STYLE:
        start, end = _kept(cls, rule)
        return mask_digits(value, start, end) if KEEP_STYLE[cls] == "stars" else mask_keep(value, start, end)
    return _SHAPES.get(field, mask_generic)(value)


AGGREGATE_SEPARATOR = " | "  # how golden records join the values of a multi-valued field


def mask_value(field: str | None, value: object, role: str | None = None, policy: Policy | None = None) -> object:
    """Masked display form of one value of a standard field; unknown columns are class `other`.
    Without a role, the default rules apply; with one, the role's rule in `policy` (or the defaults).
    A multi-valued golden value ("a | b") is masked part by part."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or not isinstance(value, str):
        return value
    if AGGREGATE_SEPARATOR in value:
        return AGGREGATE_SEPARATOR.join(str(mask_value(field, part, role, policy))
                                        for part in value.split(AGGREGATE_SEPARATOR))
    cls = class_of(field)
    if cls is None:
        return value
    if role is None:
        if policy is not None:
            raise ValueError("A masking policy needs the role it applies to.")
        rule = DEFAULT_RULES[cls]
    else:
        rule = (policy or DEFAULT_POLICY).rule(cls, role)
    return apply_rule(field, rule, value, policy.key if policy else None)


def mask_frame(frame: pd.DataFrame, fields_by_column: dict[str, str | None], keep: Collection[str] = frozenset(),
               role: str | None = None, policy: Policy | None = None) -> pd.DataFrame:
    """A copy of `frame` with every column masked by its field (unknown columns as `other`);
    columns in `keep` are left alone."""
    out = frame.copy()
    for column in out.columns:
        if column in keep:
            continue
        f = fields_by_column.get(column)
        if class_of(f) is None:
            continue
        out[column] = out[column].map(lambda v, f=f: mask_value(f, v, role, policy))
    return out


def mask_by_row(frame: pd.DataFrame, field_column: str, value_columns: Collection[str] = ("value",),
                skip: Collection[str] = frozenset(), role: str | None = None,
                policy: Policy | None = None) -> pd.DataFrame:
    """A copy of a long frame whose rows each name their field in `field_column` (field | value),
    with the `value_columns` masked row by row by that field; rows of a field in `skip` stay."""
    out = frame.copy()
    for column in value_columns:
        out[column] = [v if f in skip else mask_value(f, v, role, policy)
                       for f, v in zip(frame[field_column], frame[column])]
    return out


# ---- the same masks in SQL (exports mask in DuckDB) ----------------------------------------------

# What str.strip() and str.split() treat as whitespace (none lies above U+3000).
_WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())
_WHITESPACE_CLASS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in _WHITESPACE) + "]"
_NOT_A_MARK = "\ue000"  # stands in for a character a mask's lookaround rules out (same length)


def _sql_strip(x: str) -> str:
    # trim() with this character set is slow; most values have no whitespace at either end
    return (f"CASE WHEN regexp_matches({x}, '^{_WHITESPACE_CLASS}|{_WHITESPACE_CLASS}$') "
            f"THEN trim({x}, {quote_literal(_WHITESPACE)}) ELSE {x} END")


def _sql_digits(t: str, start: int, end: int) -> str:
    """mask_digits of an already stripped text."""
    return (f"CASE WHEN length({t}) <= {start + end} THEN repeat('*', length({t})) "
            f"ELSE left({t}, {start}) || repeat('*', length({t}) - {start + end}) || right({t}, {end}) END")


def _sql_generic(t: str) -> str:
    return f"CASE WHEN {t} = '' THEN {t} ELSE left({t}, 1) || '***' END"


def _sql_name(t: str) -> str:
    compounds = ", ".join(quote_literal(c) for c in sorted(COMPOUND_SURNAMES))
    keep = f"CASE WHEN left({t}, 2) IN ({compounds}) AND length({t}) > 2 THEN 2 ELSE 1 END"
    parts = (f"array_to_string(list_transform(regexp_split_to_array({t}, '{_WHITESPACE_CLASS}+'), "
             f"lambda p: left(p, 1) || repeat('*', greatest(1, length(p) - 1))), ' ')")
    return (f"CASE WHEN {t} = '' THEN {t} WHEN regexp_matches({t}, '^[\\x{{3400}}-\\x{{9fff}}]') "
            f"THEN left({t}, {keep}) || repeat('*', greatest(1, length({t}) - {keep})) ELSE {parts} END")


def _sql_address(t: str) -> str:
    # _ADDRESS_DISTRICT / _ADDRESS_CITY without lookarounds: the ruled-out 区 and 市 are first
    # replaced by a character of the same length that the pattern cannot end on.
    district = f"regexp_extract(regexp_replace({t}, '([小社园校])区', '\\1{_NOT_A_MARK}', 'g'), '^.{{0,12}}?[区县旗]')"
    city = f"regexp_extract(regexp_replace({t}, '市场', '{_NOT_A_MARK}场', 'g'), '^.{{0,12}}?市')"
    return (f"CASE WHEN {district} <> '' THEN left({t}, length({district})) "
            f"WHEN {city} <> '' THEN left({t}, length({city})) ELSE left({t}, 3) END || '*****'")


def _sql_shape(field: str | None, x: str) -> str:
    """_SHAPES (else mask_generic) of the raw text x."""
    t = _sql_strip(x)
    if field == "name":
        return _sql_name(t)
    if field == "family_name":
        return f"CASE WHEN length({x}) > 1 THEN repeat('*', length({t})) ELSE {x} END"
    if field == "given_name":
        return f"repeat('*', length({t}))"
    if field == "email":
        at = f"strpos({t}, '@')"
        return (f"CASE WHEN {at} = 0 THEN {_sql_generic(t)} "
                f"ELSE left({t}, least(1, {at} - 1)) || '***@' || substr({t}, {at} + 1) END")
    if field == "address":
        return _sql_address(t)
    if field == "gender":
        return "'*'"
    if field == "birth_date":
        return f"CASE WHEN length({t}) >= 4 THEN left({t}, 4) || '-**-**' ELSE '****' END"
    if field == "age_band":
        return x
    return _sql_generic(t)


# The HMAC-SHA256 of `pseudonym` in SQL: sha256(key ^ opad || sha256(key ^ ipad || value)), the two
# padded keys held in the cursor's session variables, never in the SQL text.
_HMAC_PADS = {"steward_hmac_inner": 0x36, "steward_hmac_outer": 0x5C}
_HMAC_BLOCK = 64


def set_sql_key(cur: duckdb.DuckDBPyConnection, key: str | bytes | None) -> None:
    """Give this cursor's SQL the key the `hash` method needs."""
    if not key:
        raise GovernanceError("A keyed hash needs the HMAC key (hmac_key in the secrets).")
    key_bytes = key.encode("utf-8") if isinstance(key, str) else key
    if len(key_bytes) > _HMAC_BLOCK:
        key_bytes = hashlib.sha256(key_bytes).digest()
    key_bytes = key_bytes.ljust(_HMAC_BLOCK, b"\0")
    for variable, pad in _HMAC_PADS.items():
        cur.execute(f"SET VARIABLE {variable} = ?", [bytes(b ^ pad for b in key_bytes)])


def _sql_pseudonym(t: str) -> str:
    inner, outer = (f"getvariable('{v}')" for v in _HMAC_PADS)
    return (f"CASE WHEN {t} IS NULL THEN NULL WHEN {outer} IS NULL THEN error('A keyed hash needs the HMAC key.') "
            f"ELSE left(sha256({outer} || unhex(sha256({inner} || encode({t})))), {HASH_LENGTH}) END")


def _sql_rule(field: str | None, rule: Rule, x: str) -> str:
    """apply_rule in SQL over the text expression x (`hash` needs `set_sql_key` on the cursor)."""
    if rule.method == "full":
        return x
    if rule.method == "hidden":
        return quote_literal(HIDDEN)
    if rule.method == "hash":
        return _sql_pseudonym(_sql_strip(x))
    cls = class_of(field)
    if cls not in KEEP_STYLE:
        return _sql_shape(field, x)
    start, end = _kept(cls, rule)
    t = _sql_strip(x)
    if KEEP_STYLE[cls] == "stars":
        return _sql_digits(t, start, end)
    short = _sql_digits(t, min(1, start), min(1, end))
    tail = f" || right({t}, {end})" if end else ""
    return f"CASE WHEN length({t}) <= {max(8, start + end)} THEN {short} ELSE left({t}, {start}) || '…'{tail} END"


def sql_mask_value(field: str | None, x: str, role: str | None = None, policy: Policy | None = None) -> str:
    """mask_value in SQL over the VARCHAR expression x (NULL stays NULL, multi-valued golden values
    part by part). A `hash` rule reads its key from the cursor's variables (`set_sql_key`)."""
    cls = class_of(field)
    if cls is None:
        return x
    rule = DEFAULT_RULES[cls] if role is None else (policy or DEFAULT_POLICY).rule(cls, role)
    one = _sql_rule(field, rule, "v")
    sep = quote_literal(AGGREGATE_SEPARATOR)
    return (f"CASE WHEN {x} IS NULL THEN NULL WHEN contains({x}, {sep}) THEN array_to_string(list_transform(string_split({x}, {sep}), "
            f"lambda v: {one}), {sep}) ELSE {_sql_rule(field, rule, x)} END")


# ---- the stored policy ----------------------------------------------------------------------------

def load_policy(cur: duckdb.DuckDBPyConnection, key: str | bytes | None = None) -> Policy:
    rows = cur.execute("SELECT sensitivity_class, role, method, keep_start, keep_end FROM masking_policies").fetchall()
    return Policy({(cls, role): Rule(method, ks, ke) for cls, role, method, ks, ke in rows if cls in DEFAULT_RULES},
                  key)


def policy_frame(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The stored policy, one row per class × role, with the standard fields of each class."""
    frame = cur.execute(
        "SELECT sensitivity_class, role, method, keep_start, keep_end, updated_by, updated_at "
        "FROM masking_policies").df()
    order = {cls: i for i, cls in enumerate(CLASSES)}
    roles = {r: i for i, r in enumerate(ROLES)}
    frame = frame.sort_values(["sensitivity_class", "role"], key=lambda s: s.map(
        order if s.name == "sensitivity_class" else roles)).reset_index(drop=True)
    frame.insert(1, "fields", frame["sensitivity_class"].map(lambda c: ", ".join(CLASS_FIELDS.get(c, ()))))
    return frame


def set_rule(db: Database, actor: str, sensitivity_class: str, role: str, method: str,
             keep_start: int | None = None, keep_end: int | None = None) -> bool:
    """Change one class × role rule (audited with before and after). False when nothing changed."""
    if sensitivity_class not in DEFAULT_RULES:
        raise GovernanceError(f"Unknown sensitivity class {sensitivity_class!r}.")
    if role not in ROLES:
        raise GovernanceError(f"Unknown role {role!r}.")
    if method not in METHODS:
        raise GovernanceError(f"Unknown masking method {method!r}; use one of {', '.join(METHODS)}.")
    if method != "partial" or sensitivity_class not in KEEP_STYLE:
        keep_start = keep_end = None
    else:
        default = DEFAULT_RULES[sensitivity_class]
        keep_start = default.keep_start if keep_start is None else keep_start
        keep_end = default.keep_end if keep_end is None else keep_end
        assert keep_start is not None and keep_end is not None  # every KEEP_STYLE default sets both
        if not (0 <= int(keep_start) <= 32 and 0 <= int(keep_end) <= 32):
            raise GovernanceError("Characters kept must be between 0 and 32.")
    after = Rule(method, None if keep_start is None else int(keep_start), None if keep_end is None else int(keep_end))
    with db.transaction() as cur:
        row = cur.execute("SELECT method, keep_start, keep_end FROM masking_policies "
                          "WHERE sensitivity_class = ? AND role = ?", [sensitivity_class, role]).fetchone()
        before = Rule(*row) if row else None
        if before == after:
            return False
        cur.execute("INSERT OR REPLACE INTO masking_policies VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [sensitivity_class, role, after.method, after.keep_start, after.keep_end, actor, utcnow()])
        audit.record(cur, actor, Event.MASKING_POLICY_CHANGE, "masking_policy", f"{sensitivity_class}:{role}",
                     {"before": vars(before) if before else None, "after": vars(after)})
    return True


# A made-up value per class, to preview a rule on the policy page.
EXAMPLES: dict[str, tuple[str | None, str]] = {
    "name": ("name", "欧阳娜娜"), "nickname": ("nickname", "小太阳"), "mobile": ("mobile", "13912345678"),
    "landline": ("landline", "075512345678"), "email": ("email", "zhangwei@qq.com"),
    "id_card": ("id_card", "11010519491231002X"), "other_id": ("other_id", "E12345678"), "gender": ("gender", "2"),
    "birth_date": ("birth_date", "1990-01-02"),
    "address": ("address", "北京市朝阳区建国路88号"), "wechat_id": ("wechat_open_id", "oAbC1234567890xY9z"),
    "platform_account": ("douyin_id", "dy_2099887766"), "member_card": ("member_card", "VIP0012345678"),
    OTHER: (None, "备注信息"),
}


def example(sensitivity_class: str, rule: Rule, key: str | bytes | None = None) -> str:
    field, value = EXAMPLES[sensitivity_class]
    return apply_rule(field, rule, value, key)

"""Deterministic match rules ("rules first"): links that are certain, each tagged with its rule,
and the never-link attributes that no cluster may mix.

Rules run in SQL over `std_records` on standardized values only: placeholder, dummy, masked and
invalid values have no standardized value, so they never link anything; a masked mobile's key
(138****5530) links only in its own rule, with the same full name and city. A group of records that
share a key is linked as a star around its smallest record id, which keeps the link count linear
in the group size.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb

from governance.access import audit
from governance.access.events import Event
from governance.standardize.engine import VALID_SQL
from governance.standardize.normalizers import SALUTATION_SEX
from governance.store.util import utcnow

# A record's id: batch and 1-based row in one BIGINT.
REC_ID = "(batch_id * 4294967296 + row_number)"


def rec_id(batch_id: int, row_number: int) -> int:
    return batch_id * 4294967296 + row_number


def split_rec_id(rid: int) -> tuple[int, int]:
    return rid // 4294967296, rid % 4294967296


@dataclass(frozen=True)
class MatchRule:
    rule_id: str
    label_en: str
    label_zh: str
    key_sql: str        # one SQL expression over std_records: records with the same non-null key link
    where_sql: str      # which records take part
    group_sql: str = ""  # a further condition on each group (SQL aggregates over rid, k, mobile, sex and dob)


# Pinyin in a fixed order, so that 张伟, Zhang Wei and Wei Zhang share one key.
_NAME_KEY = (f"CASE WHEN name_status IN {VALID_SQL} AND name_pinyin IS NOT NULL "
             "THEN least(name_pinyin, coalesce(name_pinyin_rev, name_pinyin)) END")
# Sex from a resident ID, a gender column (1 male, 2 female) or a salutation (王先生, Ms Smith).
SEX_SQL = ("coalesce(id_sex, CASE WHEN gender IN ('1', '2') THEN gender END, CASE lower(name_salutation) "
           + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in SALUTATION_SEX.items()) + " END)")
DOB_SQL = (f"coalesce(id_birth_date, TRY_CAST(CASE WHEN birth_date_status IN {VALID_SQL} THEN birth_date END AS DATE))")
# A mobile as platforms mask it (138****5530): a masked export's key, or a full number's first 3 and last 4 digits.
MASKED_KEY_SQL = (f"coalesce(mobile_masked_key, CASE WHEN mobile_status IN {VALID_SQL} "
                  "THEN substr(mobile, 1, 3) || '****' || substr(mobile, 8, 4) END)")
# A name that may be a nickname typed into the name field (微笑, 大白, 小仙女🍬): the model neither
# agrees nor disagrees on it; on a shared phone it still counts as a name (it may be a real one, 仉芳).
_NICKNAME_LIKE = "(name_reason = 'SUSPICIOUS_NAME' OR (name_reason = 'NAME_UNCOMMON_SURNAME' AND length(name) <= 2))"
PERSON_NAME_SQL = f"(name_status IN {VALID_SQL} AND NOT coalesce({_NICKNAME_LIKE}, false))"
SURNAME_ONLY_SQL = "coalesce(name_reason = 'NAME_SURNAME_ONLY', false)"  # 王先生, 张总: a surname alone
_FULL_NAME_KEY = f"CASE WHEN NOT {SURNAME_ONLY_SQL} THEN {_NAME_KEY} END"
# A full name written the same way (张伟, not 章伟 or 张威: a masked mobile is weak evidence)
_SAME_NAME_KEY = f"CASE WHEN name_status IN {VALID_SQL} AND NOT {SURNAME_ONLY_SQL} THEN lower(coalesce(name_simplified, name)) END"
UNNAMED_PER_PHONE = 4  # a phone with more records without a name than this is a shop's or a cashier's
_CITY = f"coalesce(addr_city, CASE WHEN city_status IN {VALID_SQL} THEN city END)"


def single_person_mobiles_sql() -> str:
    """One SELECT of the valid mobiles whose records all fit one person: at least one carries a full
    name, or a surname with its sex (张先生); none carries another name (household_mobiles_sql), sex,
    birth date, resident ID or account on one platform (a platform binds a phone to one account); a
    surname alone (王先生) only when its sex and that of every full name are known and agree; at most
    UNNAMED_PER_PHONE records without a name. A phone that WeChat authorized without a name links to
    the named records on it this way."""
    accounts = ("wechat_union_id", "wechat_app_id || '|' || wechat_open_id", "douyin_id", "ecommerce_buyer_id")
    return (f"SELECT mobile FROM (SELECT mobile, {_FULL_NAME_KEY} AS full_name, {SURNAME_ONLY_SQL} AS surname_only, "
            f"name_status IN {VALID_SQL} AS named, {SEX_SQL} AS sex, {DOB_SQL} AS dob, "
            f"CASE WHEN id_card_status IN {VALID_SQL} THEN id_card END AS id_card, "
            + ", ".join(f"{a} AS account_{i}" for i, a in enumerate(accounts)) + " FROM std_records "
            f"WHERE mobile_status IN {VALID_SQL}) GROUP BY mobile HAVING count(*) > 1 "
            "AND (count(full_name) > 0 OR count(*) FILTER (WHERE surname_only AND sex IS NOT NULL) > 0) "
            "AND count(DISTINCT sex) <= 1 AND count(DISTINCT dob) <= 1 AND count(DISTINCT id_card) <= 1 "
            + "".join(f"AND count(DISTINCT account_{i}) <= 1 " for i in range(len(accounts)))
            + "AND (NOT bool_or(surname_only) OR count(*) FILTER (WHERE named AND sex IS NULL) = 0) "
            f"AND count(*) FILTER (WHERE NOT named) <= {UNNAMED_PER_PHONE} "
            f"EXCEPT {household_mobiles_sql()}")


# Defaults, strongest first. E-commerce buyer ids and Douyin accounts are no rules: buyers order for
# other people (gifts, family), so an order's recipient is not always the account holder. Names compatible: same simplified hanzi, or the same pinyin in either order.
RULES: tuple[MatchRule, ...] = (
    MatchRule("same_id_card", "Same valid resident ID", "身份证号相同且有效", "id_card",
              f"id_card_status IN {VALID_SQL}"),
    MatchRule("same_union_id", "Same WeChat union_id", "微信 UnionID 相同", "wechat_union_id",
              f"wechat_union_id_status IN {VALID_SQL}"),
    MatchRule("same_open_id_in_app", "Same open_id within the same app id", "同一 AppID 下 OpenID 相同",
              "wechat_app_id || '|' || wechat_open_id",
              f"wechat_open_id_status IN {VALID_SQL} AND wechat_app_id IS NOT NULL"),
    MatchRule("same_card_in_source", "Same membership card in one source", "同一数据源内会员卡号相同",
              "source || '|' || member_card", f"member_card_status IN {VALID_SQL}"),
    MatchRule("mobile_and_name", "Same valid mobile and a compatible name", "手机号相同且姓名相符",
              "mobile || '|' || name_key", f"mobile_status IN {VALID_SQL} AND name_key IS NOT NULL"),
    MatchRule("mobile_one_person", "Same valid mobile, and all its records fit one person",
              "手机号相同且该号码的记录都指向同一人", "mobile",
              f"mobile_status IN {VALID_SQL} AND mobile IN (SELECT mobile FROM _single_person_mobiles)"),
    MatchRule("masked_mobile_name_city", "Masked mobile compatible, the same full name, same city",
              "脱敏手机号相符、全名相同且同城", f"{MASKED_KEY_SQL} || '|' || {_SAME_NAME_KEY} || '|' || {_CITY}",
              f"{MASKED_KEY_SQL} IS NOT NULL",
              # at most one full number and at least one masked record; no two sexes or birth dates
              group_sql="count(DISTINCT mobile) <= 1 AND count(mobile) < count(*) AND count(DISTINCT sex) <= 1 "
                        "AND count(DISTINCT dob) <= 1"),
    MatchRule("mobile_and_channel_id", "Same valid mobile and the same channel id", "手机号相同且渠道ID相同",
              "mobile || '|' || channel_key",
              f"mobile_status IN {VALID_SQL} AND channel_key IS NOT NULL"),
)

_CHANNEL_KEYS = ("member_card", "douyin_id", "ecommerce_buyer_id", "wechat_union_id")


def _records_sql() -> tuple[str, str]:
    """The records with a rid, a name key, a sex and a birth date; and (rid, mobile, mobile_status,
    channel_key) with one row per channel key of a record."""
    records = f"SELECT {REC_ID} AS rid, *, {_NAME_KEY} AS name_key, {SEX_SQL} AS sex, {DOB_SQL} AS dob FROM std_records"
    channel = " UNION ALL ".join(f"SELECT {REC_ID} AS rid, mobile, mobile_status, '{f}:' || {f} AS channel_key, "
                                 f"NULL AS sex, NULL AS dob FROM std_records WHERE {f} IS NOT NULL" for f in _CHANNEL_KEYS)
    return records, channel


NEVER_LINK = {"never_two_id_cards": ("Two different valid resident IDs never link", "两个不同的有效身份证号不合并"),
              "never_two_id_sexes": ("Different sexes from resident IDs never link", "身份证性别不同不合并")}


def rule_names(lang: str) -> dict[str, str]:
    """rule_id -> the rule's name in `lang` ("zh" or "en"), match and never-link rules alike."""
    names = {r.rule_id: (r.label_zh if lang == "zh" else r.label_en) for r in RULES}
    names.update({k: (zh if lang == "zh" else en) for k, (en, zh) in NEVER_LINK.items()})
    return names


def rule_settings(cur: duckdb.DuckDBPyConnection) -> dict[str, bool]:
    """Whether each match and never-link rule is on (all on unless a steward turned one off)."""
    stored = dict(cur.execute("SELECT rule_id, enabled FROM match_rule_settings").fetchall())
    return {rule_id: stored.get(rule_id, True) for rule_id in [r.rule_id for r in RULES] + list(NEVER_LINK)}


def set_rule_enabled(db, actor: str, rule_id: str, enabled: bool) -> None:
    if rule_id not in [r.rule_id for r in RULES] + list(NEVER_LINK):
        raise ValueError(rule_id)
    with db.transaction() as cur:
        cur.execute("INSERT OR REPLACE INTO match_rule_settings VALUES (?, ?, ?, ?)", [rule_id, enabled, actor, utcnow()])
        audit.record(cur, actor, Event.MATCH_RULE_ENABLE if enabled else Event.MATCH_RULE_DISABLE, "match_rule", rule_id)


def rule_links_sql(cur: duckdb.DuckDBPyConnection, rules: tuple[MatchRule, ...] | None = None) -> str:
    """One SELECT of (rec_l, rec_r, rule_id) for every deterministic link (stars around the smallest
    record id) of the enabled rules, or of `rules`."""
    if rules is None:
        enabled = rule_settings(cur)
        rules = tuple(r for r in RULES if enabled[r.rule_id])
    records, channel = _records_sql()
    parts: list[tuple[str, str, str]] = []  # (name, its CTE, its SELECT)
    for rule in rules:  # each group of records with one key: a star around its smallest record id
        source = channel if "channel_key" in rule.key_sql else records
        keyed = f"_keyed_{len(parts)}"
        group = f" AND {rule.group_sql}" if rule.group_sql else ""
        parts.append((keyed, f"{keyed} AS MATERIALIZED (SELECT rid, {rule.key_sql} AS k, CASE WHEN mobile_status IN "
                             f"{VALID_SQL} THEN mobile END AS mobile, sex, dob FROM ({source}) WHERE {rule.where_sql})",
                      f"SELECT g.root AS rec_l, s.rid AS rec_r, '{rule.rule_id}' AS rule_id FROM {keyed} s JOIN "
                      f"(SELECT k, min(rid) AS root FROM {keyed} WHERE k IS NOT NULL GROUP BY k HAVING count(*) > 1{group}) g "
                      f"USING (k) WHERE s.rid <> g.root"))
    if not parts:
        return "SELECT NULL::BIGINT AS rec_l, NULL::BIGINT AS rec_r, NULL::VARCHAR AS rule_id WHERE false"
    single = (f"_single_person_mobiles AS MATERIALIZED ({single_person_mobiles_sql()}), "
              if any(r.rule_id == "mobile_one_person" for r in rules) else "")
    return f"WITH {single}{', '.join(p[1] for p in parts)} {' UNION ALL '.join(p[2] for p in parts)}"


def rule_links(cur: duckdb.DuckDBPyConnection, rules: tuple[MatchRule, ...] | None = None) -> list[tuple[int, int, str]]:
    """(rec_l, rec_r, rule_id) for every deterministic link (stars around the smallest record id)."""
    return [tuple(r) for r in cur.sql(rule_links_sql(cur, rules)).fetchall()]


def never_link_sql(cur: duckdb.DuckDBPyConnection) -> str:
    """One SELECT of (rec_id, id_card, id_sex) for the never-link rules that are on: a cluster may
    hold at most one distinct value of each (NULL when the rule is off)."""
    enabled = rule_settings(cur)
    card = "id_card" if enabled["never_two_id_cards"] else "NULL::VARCHAR"
    sex = "id_sex" if enabled["never_two_id_sexes"] else "NULL::VARCHAR"
    return (f"SELECT {REC_ID} AS rec_id, {card} AS id_card, {sex} AS id_sex FROM std_records "
            f"WHERE id_card_status IN {VALID_SQL}")


def never_link_attributes(cur: duckdb.DuckDBPyConnection) -> dict[int, tuple[str | None, str | None]]:
    """Per record: (valid resident ID, ID-derived sex), for the never-link rules that are on. A
    cluster may hold at most one distinct value of each."""
    return {rid: (card, sex) for rid, card, sex in cur.execute(never_link_sql(cur)).fetchall()}


def household_mobiles_sql(among: str | None = None) -> str:
    """One SELECT of the valid mobiles that records with different names share (a family phone, a
    shop phone); only those in the SELECT `among` when given. A surname alone (张女士, 王**) is a
    different name only when no full name on the phone starts with it."""
    only = f"AND mobile IN ({among}) " if among else ""
    return (f"SELECT mobile FROM (SELECT mobile, {_NAME_KEY} AS name_key, name_pinyin, "
            f"{SURNAME_ONLY_SQL} AS surname_only FROM std_records WHERE mobile_status IN "
            f"{VALID_SQL} {only}) WHERE name_key IS NOT NULL GROUP BY mobile "
            "HAVING count(DISTINCT name_key) FILTER (WHERE NOT surname_only) > 1 "
            "OR count(DISTINCT name_key) FILTER (WHERE surname_only) > 1 "
            "OR NOT coalesce(starts_with(max(name_pinyin) FILTER (WHERE NOT surname_only), "
            "max(name_key) FILTER (WHERE surname_only)), true)")


def household_mobiles(cur: duckdb.DuckDBPyConnection) -> set[str]:
    """Valid mobiles that records with different names share (a family phone, a shop phone)."""
    return {r[0] for r in cur.execute(household_mobiles_sql()).fetchall()}

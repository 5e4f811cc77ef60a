"""Deterministic match rules ("rules first"): links that are certain, each tagged with its rule,
and the never-link attributes that no cluster may mix.

Rules run in SQL over `std_records` on standardized values only: placeholder, dummy, masked and
invalid values have no standardized value, so they never link anything; a masked mobile's key
(138****5530) links only in its own rule, with the same full name and no other city. An order
shipped to someone else links by its buyer account only, never by its receiver's contact. A group of
records that share a key is linked as a star around its smallest record id, which keeps the link
count linear in the group size.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import duckdb

from governance.access import audit
from governance.access.events import Event
from governance.standardize import names_data
from governance.standardize.engine import VALID_SQL
from governance.standardize.normalizers import SALUTATION_SEX
from governance.store.storage import quote_ident, relation
from governance.store.util import utcnow

# A record's id: batch and 1-based row in one BIGINT.
REC_ID = "(batch_id * 4294967296 + row_number)"


def rec_id(batch_id: int, row_number: int) -> int:
    return batch_id * 4294967296 + row_number


def split_rec_id(rid: int) -> tuple[int, int]:
    return rid // 4294967296, rid % 4294967296


def rec_id_in(table: str) -> str:
    """A filter on std_records: the record's id is in temp table `table(rid)`. The test on the batch
    lets DuckDB skip the row groups of the other batches: a day's new records are read from 1M in
    4 ms instead of 80."""
    return f"({REC_ID} IN (SELECT rid FROM {table}) AND batch_id IN (SELECT rid // 4294967296 FROM {table}))"


def rows_of(cur: duckdb.DuckDBPyConnection, table: str, rows: str) -> str:
    """A filter on std_records that reads only the records of temp table `table(rid)`, by their row
    ids, kept in temp table `rows(row_id)`. The records in play spread over every batch: found by their
    ids (two columns read), a wide read then filters its scan on the one row id column."""
    cur.execute(f"CREATE OR REPLACE TEMP TABLE {rows} AS SELECT rowid AS row_id FROM std_records "
                f"WHERE {REC_ID} IN (SELECT rid FROM {table})")
    return f"rowid IN (SELECT row_id FROM {rows})"


def at_most_one(expr: str) -> str:
    """An aggregate condition: the group holds at most one distinct non-null value of `expr`. The same
    as count(DISTINCT expr) <= 1, without the hash table a distinct count builds per group."""
    return f"min({expr}) IS NOT DISTINCT FROM max({expr})"


@dataclass(frozen=True)
class MatchRule:
    rule_id: str
    label_en: str
    label_zh: str
    key_sql: str        # one SQL expression over std_records: records with the same non-null key link
    where_sql: str      # which records take part
    group_sql: str = ""  # a further condition on each group (SQL aggregates over rid, k, mobile, sex, dob,
    #                      full_name, written_name, surname, shipping and city_key)
    spokes_sql: str = ""  # only the records meeting this link, to the smallest record that does not (if any)
    scope_sql: str = ""   # a std_records expression that every record of a group shares (default key_sql):
    #                       an incremental run recomputes the groups of the values its changed records hold
    whole_group: bool = False  # the group's claim is that all its records are one person: a never-link
    #                            rule refusing one of its links voids the claim (cluster.cluster)

    @property
    def scope(self) -> str:
        return self.scope_sql or self.key_sql


# A name that is its record's own nickname and not a plain name (岁月静好 in a lead form's 姓名, not 张伟)
_OWN_NICKNAME = "(name = nickname AND name_reason IS NOT NULL)"
# Pinyin in a fixed order, so that 张伟, Zhang Wei and Wei Zhang share one key.
_NAME_KEY = (f"CASE WHEN name_status IN {VALID_SQL} AND name_pinyin IS NOT NULL AND NOT coalesce({_OWN_NICKNAME}, false) "
             "THEN least(name_pinyin, coalesce(name_pinyin_rev, name_pinyin)) END")
# Sex from a resident ID, a gender column (1 male, 2 female) or a salutation (王先生, Ms Smith).
_SALUTATION_SEX_SQL = ("CASE lower(name_salutation) " + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in SALUTATION_SEX.items())
                       + " END")
SEX_SQL = f"coalesce(id_sex, CASE WHEN gender IN ('1', '2') THEN gender END, {_SALUTATION_SEX_SQL})"
# Familiar forms of address (老王, 王哥, 李姐): friends' and nicknames' more than a way to say a sex
_FAMILIAR = "('老', '哥', '姐', '叔', '阿姨')"
_SAID_SEX_SQL = (f"coalesce(id_sex, CASE WHEN gender IN ('1', '2') THEN gender END, "
                 f"CASE WHEN name_salutation NOT IN {_FAMILIAR} THEN {_SALUTATION_SEX_SQL} END)")
# The sex a Chinese given name's last character all but always means (王伟 a man, 李娜 a woman); a
# phone's salutation (王先生) is compatible only with the full names of that sex.
_GIVEN_FEMALE = "娜婷芳丽娟敏静燕艳霞玲萍红梅琳莉雪慧颖倩妍婉媛姗娇婧嫣璐瑶琪菲薇蕾茜萱怡欣雯露凤兰翠秀珍琴丹洁"
_GIVEN_MALE = "伟强军刚勇杰涛斌磊超亮辉鹏峰龙波飞宇浩健彬俊豪博毅鑫东海帅雄虎彪兵武"
NAME_SEX_SQL = (f"CASE WHEN contains('{_GIVEN_FEMALE}', right(name_given, 1)) THEN '2' "
                f"WHEN contains('{_GIVEN_MALE}', right(name_given, 1)) THEN '1' END")
DOB_SQL = (f"coalesce(id_birth_date, TRY_CAST(CASE WHEN birth_date_status IN {VALID_SQL} THEN birth_date END AS DATE))")
# A mobile that identifies its holder: valid, and not a platform's relay number (17122053405-1050,
# one order's privacy number: the same base number serves many buyers)
MOBILE_OK = f"(mobile_status IN {VALID_SQL} AND mobile_reason IS DISTINCT FROM 'VIRTUAL_OR_RELAY')"
# A mobile as platforms mask it (138****5530): a masked export's key, or a full number's first 3 and last 4 digits.
MASKED_KEY_SQL = (f"coalesce(mobile_masked_key, CASE WHEN {MOBILE_OK} "
                  "THEN substr(mobile, 1, 3) || '****' || substr(mobile, 8, 4) END)")
# A name that may be a nickname typed into the name field (微笑, 大白, 小仙女🍬): the model neither
# agrees nor disagrees on it; on a shared phone it still counts as a name (it may be a real one, 仉芳),
# unless it is its record's own nickname (_OWN_NICKNAME, which no name key holds).
_NICKNAME_LIKE = ("(name_reason = 'SUSPICIOUS_NAME' OR (name_reason = 'NAME_UNCOMMON_SURNAME' AND length(name) <= 2) "
                  f"OR {_OWN_NICKNAME})")
PERSON_NAME_SQL = f"(name_status IN {VALID_SQL} AND NOT coalesce({_NICKNAME_LIKE}, false))"
SURNAME_ONLY_SQL = "coalesce(name_reason = 'NAME_SURNAME_ONLY', false)"  # 王先生, 张总: a surname alone
_FULL_NAME_KEY = f"CASE WHEN NOT {SURNAME_ONLY_SQL} THEN {_NAME_KEY} END"
# The seven digits a masked key keeps (138****5530: 1385530), the number unchecked: cheap to compare
# before MASKED_KEY_SQL
_DIGITS7 = "(left(coalesce(mobile_masked_key, mobile), 3) || substr(coalesce(mobile_masked_key, mobile), 8, 4))"
# A full name written the same way (张伟, not 章伟 or 张威: a masked mobile is weak evidence)
_SAME_NAME_KEY = f"CASE WHEN name_status IN {VALID_SQL} AND NOT {SURNAME_ONLY_SQL} THEN lower(coalesce(name_simplified, name)) END"
_SURNAME = f"CASE WHEN {PERSON_NAME_SQL} THEN name_family END"  # 王 of 王伟 and of 王先生
UNNAMED_PER_PHONE = 4  # a phone with more records without a name than this is a shop's or a cashier's
# An openid is one person's within its app; an export without an app id column is one app's: its source.
_APP = "coalesce(wechat_app_id, 'source:' || source)"
_OPEN_ID_KEY = f"{_APP} || '|' || wechat_open_id"
# The nickname of a record without a name, when it is written as a Chinese full name (何凯, not 晴天🌸)
_NICKNAME_AS_NAME = (f"CASE WHEN NOT coalesce(name_status IN {VALID_SQL}, false) AND nickname_status IN {VALID_SQL} "
                     "AND regexp_full_match(nickname, '[\u4e00-\u9fff]{2,4}') THEN nickname END")
_CITY = f"coalesce(addr_city, CASE WHEN city_status IN {VALID_SQL} THEN city END)"


# Order rows shipped to someone else. An e-commerce row belongs to its buyer account, while its
# receiver's name, phone and address may be another person's (a gift, an order for family). The
# evidence comes from columns the source left unmapped (read from the raw batch by their header)
# and from the account's other rows: a note or message that speaks of a gift; a payment account
# (Alipay shows the payer's mobile masked, 138****5530) that the receiver's mobile does not fit,
# unless a record whose mobile fits it carries the receiver's name; a nick that spells another name
# than the receiver's; a receiver who holds another account of the source; a receiver name other than
# the one most of the account's orders go to. A receiver whose mobile fits the payment account is
# the payer, and the one most of the account's orders go to is its holder.
_NOTE_HEADER = "(留言|备注|附言|寄语|贺卡|remark|note|memo|message)"
_FOR_WHOM = ("(妈|爸|母亲|父亲|老公|老婆|爱人|对象|男朋友|女朋友|男友|女友|朋友|闺蜜|兄弟|家人|父母|孩子|儿子|女儿|宝宝|"
             "爷爷|奶奶|姥姥|姥爷|外婆|外公|公公|婆婆|岳母|岳父|丈母娘|哥|姐|弟|妹|老师|同事|领导|同学|亲戚|邻居|长辈)")
_FOR_WHOM_EN = "(mom|mum|mother|dad|father|wife|husband|friend|son|daughter|parents|family|boyfriend|girlfriend)"
# A note that speaks of a gift or of buying for someone else (给妈妈买的, 买给老公, 送爸妈, 代朋友下单,
# for my mom); not of using it for them (给宝宝用的: the parent receives it)
_GIFT_WORDS = (f"(礼物|礼品|送给|送人|送礼|赠送|买给|代买|送我?{_FOR_WHOM}|(给|替|帮|为|代)我?{_FOR_WHOM}{{1,2}}(买|下单|订|选|挑|的礼)|"
               f"\\bgifts?\\b|\\bfor my {_FOR_WHOM_EN}\\b)")
_PAYER_HEADER = "(支付宝|alipay|付款账号|支付账号|付款人|payer)"
_PAYER_MOBILE = "^(?:\\+?86)?(1[3-9][0-9])(?:[*＊]{2,}|[0-9]{4})([0-9]{4})$"


def _alternation(words) -> str:
    """A regex alternation of `words`, the longest first (xiang before xian)."""
    return "|".join(sorted(set(words), key=lambda w: (-len(w), w)))


_SURNAME_PINYIN = _alternation([*names_data.SURNAMES.values(), *names_data.SURNAME_READINGS.values(),
                                *names_data.COMPOUND_SURNAMES.values()])
# A buyer nick that spells a Chinese name in pinyin, then digits (zhangwei1988; li_na88 is none):
# group 1 the surname, group 2 the given name, of syllables that start with a consonant (liang88 is
# no li + ang: pinyin writes xi'an apart)
_NAME_NICK = (f"^({_SURNAME_PINYIN})((?:{_alternation(y for y in names_data.PINYIN_SYLLABLES if y[0] not in 'aeo')}){{1,2}})"
              "[_.-]?[0-9]{2,}$")


# A shop's account of the buyer: an e-commerce buyer id, else a Douyin account (Douyin shop orders).
_ORDER_ACCOUNT = (f"coalesce(CASE WHEN ecommerce_buyer_id_status IN {VALID_SQL} THEN 'buyer:' || ecommerce_buyer_id END, "
                  f"CASE WHEN douyin_id_status IN {VALID_SQL} THEN 'douyin:' || douyin_id END)")
_ACCOUNT = f"source || '|' || {_ORDER_ACCOUNT}"  # the account within its source, as `_shipping` names it
# An order row whose account the export masked (a JD pin as 150****8396_556) is an account of its own
# to tell whether it was shipped to someone else: its note or payment account alone can tell
_SHIP_ACCOUNT = (f"coalesce({_ORDER_ACCOUNT}, CASE WHEN 'masked' IN (ecommerce_buyer_id_status, douyin_id_status) "
                 f"THEN 'row:' || {REC_ID} END)")
_SHIP_ACCOUNT_KEY = f"source || '|' || {_SHIP_ACCOUNT}"


def _order_notes_sql(cur: duckdb.DuckDBPyConnection) -> tuple[str | None, bool]:
    """One SELECT of (batch_id, row_number, notes, payers): per raw row, the values of its columns
    whose header names a note or message, and of those whose header names a payment account. Read
    straight from the raw batches (a column's header is the same on every row of its batch). None
    when no batch has such a column; and whether any batch has a payment account."""
    columns: dict[tuple[int, str], tuple[list[str], list[str]]] = {}
    for batch_id, table, column, payer in cur.execute(
            "SELECT b.batch_id, b.table_name, c.column_name, regexp_matches(lower(c.header), ?) FROM batches b "
            "JOIN batch_columns c USING (batch_id) WHERE regexp_matches(lower(c.header), ?) "
            "OR regexp_matches(lower(c.header), ?) ORDER BY b.batch_id, c.position",
            [_PAYER_HEADER, _PAYER_HEADER, _NOTE_HEADER]).fetchall():
        columns.setdefault((batch_id, table), ([], []))[1 if payer else 0].append(quote_ident(column))
    selects = [f"SELECT {int(b)}::BIGINT AS batch_id, _row AS row_number, [{', '.join(notes)}]::VARCHAR[] AS notes, "
               f"[{', '.join(payers)}]::VARCHAR[] AS payers FROM {table}" for (b, table), (notes, payers) in columns.items()]
    return " UNION ALL ".join(selects) or None, any(payers for _notes, payers in columns.values())


def order_accounts_sql(where: str) -> str:
    """One SELECT of the accounts (source and account id, as shipping_contacts_sql gives them) of the
    order rows of std_records that meet `where`."""
    return f"SELECT {_SHIP_ACCOUNT_KEY} FROM std_records WHERE {_SHIP_ACCOUNT} IS NOT NULL AND {where}"


def receiver_accounts_sql(where: str) -> str:
    """One SELECT of the accounts with an order to a receiver (name and phone) of an order row of
    std_records that meets `where`: a new order that shows its receiver holds its account makes the
    other accounts' orders to them ones shipped to someone else."""
    receiver = f"(source, {_FULL_NAME_KEY}, {MASKED_KEY_SQL})"
    return (f"SELECT {_SHIP_ACCOUNT_KEY} FROM std_records WHERE {_SHIP_ACCOUNT} IS NOT NULL AND {receiver} IN "
            f"(SELECT {receiver} FROM std_records WHERE {_SHIP_ACCOUNT} IS NOT NULL AND {where})")


def shipping_contacts_sql(cur: duckdb.DuckDBPyConnection, accounts: str | None = None) -> str:
    """One SELECT of (rid, account): the order rows whose receiver is not the buyer account's holder,
    with their account (source and account id); only those of `accounts` (a SELECT of accounts) when
    given (receiver_accounts_sql names the accounts a batch can change)."""
    bare = "regexp_replace(coalesce(v, ''), '[ \\-]', '', 'g')"
    payer = (f"list_filter(list_transform(n.payers, lambda v: CASE WHEN regexp_full_match({bare}, '{_PAYER_MOBILE}') "
             f"THEN regexp_replace({bare}, '{_PAYER_MOBILE}', '\\1****\\2') END), lambda x: x IS NOT NULL)[1]")
    gift = f"coalesce(len(list_filter(n.notes, lambda v: regexp_matches(lower(coalesce(v, '')), '{_GIFT_WORDS}'))) > 0, false)"
    # the receiver's full name spelled in the buyer's nick (赵浩 and zhaohao964): the buyer's own order
    # (a whole word of letters: wangli is not in wanglin88)
    in_nick = ("coalesce(name_key IS NOT NULL AND length(name_pinyin) >= 5 AND (list_contains(words, name_pinyin) "
               "OR list_contains(words, name_pinyin_rev)), false)")
    # a nick that spells another given name than the receiver's full name (zhangwei1988 and 李娜): the
    # account's holder is not the receiver; the given name alone compared, a surname may read two ways (覃: qin, tan)
    # (not a doubled syllable: tiantian88, baobao520 are pet names)
    other_nick = ("coalesce(name_key IS NOT NULL AND nick.given <> '' AND nick.given <> nick.surname "
                  "AND NOT contains(name_pinyin, nick.given), false)")
    # with `accounts`, also the orders of other accounts to a phone their orders go to (`inscope` false,
    # found by the seven digits a masked key keeps: cheap to compare): those tell whether a receiver
    # holds another account
    inscope = f"{_SHIP_ACCOUNT_KEY} IN ({accounts})" if accounts else "true"
    # the nick's words and name parts worked out once per row (the pattern is long)
    rows = (f"SELECT batch_id, row_number, {REC_ID} AS rid, source, {_SHIP_ACCOUNT} AS buyer, "
            f"{_FULL_NAME_KEY} AS name_key, {MASKED_KEY_SQL} AS mk, name_pinyin, name_pinyin_rev, "
            f"string_split_regex(lower(ecommerce_buyer_id), '[^a-z]+') AS words, "
            f"regexp_extract(lower(ecommerce_buyer_id), '{_NAME_NICK}', ['surname', 'given']) AS nick, "
            f"{inscope} AS inscope FROM std_records WHERE {_SHIP_ACCOUNT} IS NOT NULL"
            + (f" AND ({inscope} OR {_DIGITS7} IN (SELECT digits7 FROM _in_phones))" if accounts else ""))
    orders = (f"SELECT batch_id, row_number, rid, source, buyer, name_key, mk, {in_nick} AS in_nick, "
              f"{other_nick} AS other_nick, inscope FROM ({rows})")
    scope = (f"_in_phones AS MATERIALIZED (SELECT DISTINCT {_DIGITS7} AS digits7 FROM std_records "
             f"WHERE {_SHIP_ACCOUNT} IS NOT NULL AND {inscope}), " if accounts else "")
    notes, with_payers = _order_notes_sql(cur)
    if notes is None:  # no note or payment account anywhere: only the account's own orders tell
        payer, gift, joined = "NULL::VARCHAR", "false", f"({orders}) o"
    else:
        joined = f"({orders}) o LEFT JOIN ({notes}) n USING (batch_id, row_number)"
    # records whose mobile fits a payment account, with their names
    # (found by the seven digits first: the keys then worked out on those records alone)
    payer_names = (f"SELECT DISTINCT mk, name_key FROM (SELECT {MASKED_KEY_SQL} AS mk, {_FULL_NAME_KEY} AS name_key "
                   f"FROM std_records WHERE rowid IN (SELECT row_id FROM _payer_rows)) "
                   f"WHERE name_key IS NOT NULL AND mk IN (SELECT payer FROM _o)" if with_payers
                   else "SELECT NULL::VARCHAR AS mk, NULL::VARCHAR AS name_key WHERE false")
    payer_rows = (f"_payer_rows AS MATERIALIZED (SELECT rowid AS row_id FROM std_records WHERE {_DIGITS7} IN "
                  "(SELECT left(payer, 3) || right(payer, 4) FROM _o)), " if with_payers else "")
    return (f"WITH {scope}_o AS MATERIALIZED (SELECT o.rid, o.source, o.buyer, o.name_key, o.mk, o.in_nick, o.other_nick, o.inscope, "
            f"{payer} AS payer, {gift} AS gift_note FROM {joined}), {payer_rows}_payer_names AS ({payer_names}), "
            # receivers shown to hold an account (not a masked one: it may be any account): its nick spells
            # them, or they are its payer
            "_holders AS (SELECT DISTINCT source, buyer, name_key, mk FROM _o WHERE name_key IS NOT NULL "
            "AND NOT starts_with(buyer, 'row:') "
            "AND (in_nick OR coalesce(payer = mk, false))), "
            # the name most of an account's named orders (two or more) go to
            "_names AS (SELECT source, buyer, name_key, count(*) AS n FROM _o WHERE name_key IS NOT NULL GROUP BY ALL), "
            "_usual AS (SELECT source, buyer, arg_max(name_key, n) AS usual FROM _names GROUP BY ALL "
            "HAVING max(n) >= 2 AND 2 * max(n) > sum(n)) "
            "SELECT rid, source || '|' || buyer AS account FROM _o LEFT JOIN _usual USING (source, buyer) "
            "WHERE inscope AND NOT coalesce(payer = mk, false) AND (gift_note "
            # the nick and another account tell less than where the account's orders mostly go
            "OR (NOT in_nick AND NOT coalesce(name_key = usual, false) AND (other_nick "
            # a receiver who holds another account of the source (孙丽娜 of sunlina1990, ordered for by tb5550001;
            # a masked account may be that one)
            "OR EXISTS (SELECT 1 FROM _holders h WHERE NOT starts_with(_o.buyer, 'row:') AND h.source = _o.source "
            "AND h.buyer <> _o.buyer "
            "AND h.name_key = _o.name_key AND h.mk = _o.mk))) "
            "OR (payer IS NOT NULL AND mk IS NOT NULL AND NOT in_nick AND NOT EXISTS (SELECT 1 FROM _payer_names p "
            "WHERE p.mk = _o.payer AND p.name_key = _o.name_key)) "
            "OR coalesce(name_key <> usual, false))")


# The birth years a record allows, widened by what it may be off by: a birth date (or resident ID)
# by a year each way; an age band by AGE_SLACK years each way, as people shade their age and an age
# is dated by its batch's upload, often years after it was written down (aged 27 and born in 1970
# are two people).
AGE_SLACK = 5
_BIRTH_FROM = f"coalesce(year({DOB_SQL}) - 1, age_birth_min - {AGE_SLACK})"
_BIRTH_TO = f"coalesce(year({DOB_SQL}) + 1, age_birth_max + {AGE_SLACK})"
BIRTH_YEARS_FIT = "coalesce(max(birth_from) <= min(birth_to), true)"  # of a group's records: one birth year fits all


def single_person_mobiles_sql(within: str | None = None) -> str:
    """One SELECT of the valid mobiles whose records all fit one person: at least one carries a full
    name, or a surname with its sex (张先生); none carries another name (household_mobiles_sql), sex,
    birth date, resident ID or account on one platform (a platform binds a phone to one account; WeChat
    gives one person an openid per app; sex comes from an ID, a gender column, a salutation or, where
    the same name on the phone says none, the given name, NAME_SEX_SQL); no surname alone without its
    sex (王总); at most UNNAMED_PER_PHONE records without a name. A phone that WeChat authorized without
    a name links to the named records on it this way. Order rows shipped to someone else (`_shipping`,
    a CTE of shipping_contacts_sql) take no part. Only the mobiles of the SELECT `within` when given."""
    accounts = ("wechat_union_id", _OPEN_ID_KEY, "douyin_id", "ecommerce_buyer_id")
    # the given name's sex only where the same name on the phone says none (陈欣 may be a man's name)
    return (f"(WITH _one AS MATERIALIZED (SELECT mobile FROM (SELECT * EXCLUDE (said, guess), coalesce(said, CASE WHEN full_name IS NULL OR "
            f"count(said) OVER (PARTITION BY mobile, full_name) = 0 THEN guess END) AS sex FROM ("
            f"SELECT mobile, {_FULL_NAME_KEY} AS full_name, {SURNAME_ONLY_SQL} AS surname_only, "
            f"CASE WHEN wechat_open_id IS NOT NULL THEN {_APP} END AS app, "
            f"name_status IN {VALID_SQL} AND NOT coalesce({_OWN_NICKNAME}, false) AS named, "
            f"{SEX_SQL} AS said, {NAME_SEX_SQL} AS guess, {DOB_SQL} AS dob, {_BIRTH_FROM} AS birth_from, "
            f"{_BIRTH_TO} AS birth_to, CASE WHEN id_card_status IN {VALID_SQL} THEN id_card END AS id_card, "
            + ", ".join(f"{a} AS account_{i}" for i, a in enumerate(accounts)) + " FROM std_records "
            # only mobiles on two or more records: the group conditions below are the costly part
            f"WHERE {MOBILE_OK} AND mobile IN (SELECT mobile FROM std_records WHERE {MOBILE_OK} GROUP BY mobile "
            f"HAVING count(*) > 1) AND {REC_ID} NOT IN (SELECT rid FROM _shipping)"
            + (f" AND mobile IN ({within})" if within else "") + ")) "
            "GROUP BY mobile HAVING count(*) > 1 "
            "AND (count(full_name) > 0 OR count(*) FILTER (WHERE surname_only AND sex IS NOT NULL) > 0) "
            f"AND {at_most_one('sex')} AND {at_most_one('dob')} AND {BIRTH_YEARS_FIT} AND {at_most_one('id_card')} "
            # one openid per app: a person's openids in two apps (a shop and a members' mini-program) differ
            + "".join("AND count(DISTINCT account_1) <= count(DISTINCT app) " if i == 1 else f"AND {at_most_one(f'account_{i}')} "
                      for i in range(len(accounts)))
            # a surname alone that does not say its sex (王总, 老王) may be anyone of the family
            + "AND count(*) FILTER (WHERE surname_only AND sex IS NULL) = 0 "
            f"AND count(*) FILTER (WHERE NOT named) <= {UNNAMED_PER_PHONE}) "
            # a household's phone among these alone (a second scan of every phone costs a third more at 1M)
            f"SELECT mobile FROM _one EXCEPT {household_mobiles_sql('SELECT mobile FROM _one')})")


# The masked keys that masked records hold, each once: the small side of a rule's join (a third
# faster at 1M than joining every record's key).
_MASKED_HELD = "(SELECT DISTINCT mobile_masked_key FROM std_records WHERE mobile_masked_key IS NOT NULL)"

# Nicknames few records hold. A stranger shares a masked mobile (3 + 4 digits: about 400,000 keys) and
# a nickname held by n records with a chance of about n / 400,000, whatever the store's size: at most
# 1 in 4,000 for these; 宝妈 or 大白, on thousands of accounts, would pair strangers in a large store.
NICKNAME_MAX_RECORDS = 100
# Counted over the whole store (main.std_records), also when a run links only the records in scope:
# for the nicknames among those (`FROM std_records`, which such a run points at its copy of them).
_RARE_NICKNAMES = (f"(SELECT n.nickname FROM main.std_records n WHERE n.nickname_status IN {VALID_SQL} "
                   "AND n.nickname IN (SELECT nickname FROM std_records) "
                   f"GROUP BY 1 HAVING count(*) <= {NICKNAME_MAX_RECORDS})")


def nickname_cap_crossed_sql(changed: str) -> str:
    """One SELECT of (rid): the records whose nickname the records of temp table `changed(rid)` (new
    or erased) moved across NICKNAME_MAX_RECORDS (more records hold it with them, at most that many
    without them): `masked_mobile_nickname` links them otherwise now. Only nicknames a masked
    record holds can matter (the rule's groups need one): 60 ms at 1M for a day's batch, not 240."""
    valid = f"nickname_status IN {VALID_SQL}"
    return (f"SELECT rid FROM (WITH _cand AS (SELECT nickname FROM std_records WHERE {rec_id_in(changed)} AND {valid} "
            f"INTERSECT SELECT nickname FROM std_records WHERE mobile_masked_key IS NOT NULL AND {valid}), "
            f"_crossed AS (SELECT nickname FROM std_records WHERE nickname IN (SELECT nickname FROM _cand) GROUP BY 1 "
            f"HAVING count(*) > {NICKNAME_MAX_RECORDS} AND count(*) FILTER (WHERE {REC_ID} NOT IN "
            f"(SELECT rid FROM {changed})) <= {NICKNAME_MAX_RECORDS}) "
            f"SELECT {REC_ID} AS rid FROM std_records WHERE nickname IN (SELECT nickname FROM _crossed))")


# Defaults, strongest first. Buyers order for other people (gifts, family), so an order's receiver is
# not always the account holder: an order shipped to someone else (`_shipping`) links by its account
# only, never by its receiver's mobile or name. A buyer account links no other orders by itself (one
# nick may be two people's). Names compatible: same simplified hanzi, or the same pinyin in either order.
RULES: tuple[MatchRule, ...] = (
    MatchRule("same_id_card", "Same valid resident ID", "身份证号相同且有效", "id_card",
              f"id_card_status IN {VALID_SQL}"),
    MatchRule("same_union_id", "Same WeChat union_id", "微信 UnionID 相同", "wechat_union_id",
              f"wechat_union_id_status IN {VALID_SQL}"),
    # an openid is one person's within its app: an export without an app id column (most mini-program
    # and official-account lists) is one app's, so its source stands for the app
    MatchRule("same_open_id_in_app", "Same open_id within the same app id (one source, when it has no app id)",
              "同一 AppID 下 OpenID 相同（无 AppID 时同一数据源）",
              _OPEN_ID_KEY,
              f"wechat_open_id_status IN {VALID_SQL}"),
    MatchRule("same_card_in_source", "Same membership card in one source", "同一数据源内会员卡号相同",
              "source || '|' || member_card", f"member_card_status IN {VALID_SQL}"),
    MatchRule("mobile_and_name", "Same valid mobile and a compatible name", "手机号相同且姓名相符",
              "mobile || '|' || name_key", f"{MOBILE_OK} AND name_key IS NOT NULL AND NOT shipping",
              scope_sql="mobile"),
    MatchRule("mobile_one_person", "Same valid mobile, and all its records fit one person",
              "手机号相同且该号码的记录都指向同一人", "mobile",
              f"{MOBILE_OK} AND mobile IN (SELECT mobile FROM _single_person_mobiles) AND NOT shipping",
              scope_sql="mobile", whole_group=True),
    # 何凯 as a WeChat nickname on the phone that 何凯 and 何辉涛 share: that name's records, household or not
    MatchRule("mobile_nickname_is_name", "Same valid mobile, and an unnamed record's nickname is a full name on it",
              "手机号相同且无姓名记录的昵称是该号码上的全名",
              f"mobile || '|' || coalesce(written_name, {_NICKNAME_AS_NAME})",
              f"{MOBILE_OK} AND NOT shipping AND (written_name IS NOT NULL OR {_NICKNAME_AS_NAME} IS NOT NULL) "
              # only the phones such a record is on (a small share of them)
              f"AND mobile IN (SELECT mobile FROM std_records WHERE {_NICKNAME_AS_NAME} IS NOT NULL)",
              group_sql=f"count(written_name) > 0 AND count(written_name) < count(*) AND {at_most_one('sex')} "
                        f"AND {at_most_one('dob')}",
              scope_sql="mobile"),
    MatchRule("masked_mobile_name_city", "Masked mobile compatible, the same full name, no two cities",
              "脱敏手机号相符、全名相同且城市不冲突", f"{MASKED_KEY_SQL} || '|' || {_SAME_NAME_KEY}",
              # only keys a masked record holds (a group needs one)
              f"{MASKED_KEY_SQL} IN {_MASKED_HELD} AND NOT shipping",
              # at most one full number and at least one masked record; no two cities, sexes or birth dates
              group_sql=f"{at_most_one('mobile')} AND count(mobile) < count(*) AND {at_most_one('city_key')} "
                        f"AND {at_most_one('sex')} AND {at_most_one('dob')}",
              scope_sql=MASKED_KEY_SQL),
    MatchRule("masked_mobile_surname_sex", "Masked mobile compatible, the same surname and known sex, "
              "no two cities or full names", "脱敏手机号相符、姓氏与性别相同且城市与全名不冲突",
              f"{MASKED_KEY_SQL} || '|' || name_family || '|' || coalesce(sex, {NAME_SEX_SQL})",  # 于女士 with 180****4280 and 于丽 (female)
              f"{MASKED_KEY_SQL} IN {_MASKED_HELD} AND {PERSON_NAME_SQL} AND NOT shipping",
              # at most one full number; no two cities (a POS card has none)
              group_sql=f"{at_most_one('mobile')} AND count(mobile) < count(*) AND {at_most_one('city_key')} "
                        # masked records alone (no full number): each must name the one city
                        "AND (count(mobile) > 0 OR count(city_key) = count(*)) "
                        f"AND {at_most_one('dob')} AND {at_most_one('written_name')}",
              scope_sql=MASKED_KEY_SQL),
    MatchRule("masked_mobile_nickname", "Masked mobile compatible, the same nickname, no two surnames or full names",
              "脱敏手机号相符、昵称相同且姓氏与全名不冲突",
              f"{MASKED_KEY_SQL} || '|' || nickname",  # 小太阳 with 138****5530 on Douyin and in the mini-program
              f"{MASKED_KEY_SQL} IN {_MASKED_HELD} AND nickname_status IN {VALID_SQL} AND NOT shipping "
              f"AND nickname IN {_RARE_NICKNAMES}",
              group_sql=f"{at_most_one('mobile')} AND count(mobile) < count(*) AND {at_most_one('sex')} "
                        f"AND {at_most_one('dob')} AND {at_most_one('surname')} AND {at_most_one('written_name')}",
              scope_sql=MASKED_KEY_SQL),  # a batch that moves a nickname across the cap: nickname_cap_crossed_sql
    MatchRule("mobile_and_channel_id", "Same valid mobile and the same channel id", "手机号相同且渠道ID相同",
              "mobile || '|' || channel_key",
              f"{MOBILE_OK} AND channel_key IS NOT NULL", scope_sql="mobile"),
    MatchRule("same_buyer_account", "An order shipped to someone else joins its buyer account's own orders "
              "(e-commerce or Douyin, one source), when they agree on one person",
              "寄给他人的订单归入同一买家账号（电商或抖音，同一数据源）本人收货的订单，且这些订单指向同一人",
              _ACCOUNT,
              f"{_ORDER_ACCOUNT} IS NOT NULL AND {_ACCOUNT} IN (SELECT account FROM _shipping)",
              # the orders not shipped to someone else: at most one full name, sex and birth date
              group_sql=f"{at_most_one('CASE WHEN NOT shipping THEN full_name END')} "
                        f"AND {at_most_one('CASE WHEN NOT shipping THEN sex END')} "
                        f"AND {at_most_one('CASE WHEN NOT shipping THEN dob END')}",
              spokes_sql="shipping", scope_sql=_ACCOUNT),
)

_CHANNEL_KEYS = ("member_card", "douyin_id", "ecommerce_buyer_id", "wechat_union_id")


def _records_sql(only: str = "true") -> tuple[str, str]:
    """The records (those meeting the condition `only` on rid) with a rid, a name key, a full name
    key, a sex, a birth date and whether the record is an order shipped to someone else
    (`_shipping`); and (rid, mobile, mobile_status, mobile_reason, channel_key) with one row per channel key of a record."""
    records = (f"SELECT {REC_ID} AS rid, *, {_NAME_KEY} AS name_key, {_FULL_NAME_KEY} AS full_name, {SEX_SQL} AS sex, "
               f"{DOB_SQL} AS dob, {_CITY} AS city_key, {_SAME_NAME_KEY} AS written_name, {_SURNAME} AS surname, "
               f"{REC_ID} IN (SELECT rid FROM _shipping) AS shipping FROM std_records "
               f"WHERE {only.format(rid=REC_ID)}")
    channel = " UNION ALL ".join(f"SELECT {REC_ID} AS rid, mobile, mobile_status, mobile_reason, '{f}:' || {f} AS channel_key, "
                                 f"NULL AS sex, NULL AS dob, NULL AS full_name, NULL AS city_key, NULL AS written_name, "
                                 f"NULL AS surname, false AS shipping "
                                 f"FROM std_records WHERE {f} IS NOT NULL AND {only.format(rid=REC_ID)}"
                                 for f in _CHANNEL_KEYS)
    return records, channel


NEVER_LINK = {"never_two_id_cards": ("Two different valid resident IDs never link", "两个不同的有效身份证号不合并"),
              "never_two_id_sexes": ("Different sexes from resident IDs never link", "身份证性别不同不合并"),
              "never_two_names_one_phone": ("Two people on one mobile (other names or sexes) never link",
                                            "同一手机号上姓名或性别不同的两人不合并"),
              "never_two_full_names": ("Two different full names never link (except an order's receiver when it "
                                       "was shipped to someone else)", "两个不同的全名不合并（送给他人的订单收货人除外）"),
              "never_birth_years_apart": ("An age years apart from a birth date or another age never links",
                                          "年龄与出生日期或其他年龄相差数年的记录不合并")}


WHOLE_GROUP_RULES = frozenset(r.rule_id for r in RULES if r.whole_group)


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


def rule_set(cur: duckdb.DuckDBPyConnection) -> str:
    """The match and never-link rules that are on, as a run records them: sorted ids, comma-separated,
    and a fingerprint of their definitions and of the SQL they share (the records' name keys, the
    one-person and household phones, the orders shipped to someone else), so that a release which
    changes any of it makes the next run a full one."""
    on = sorted(rule_id for rule_id, enabled in rule_settings(cur).items() if enabled)
    # shipping_contacts_sql needs a cursor and reads the batches' headers: its SQL text is its code's
    # strings and the module's strings it names (_PAYER_MOBILE, _GIFT_WORDS …)
    code = shipping_contacts_sql.__code__
    shipping = "".join([*(c for c in code.co_consts if isinstance(c, str)),
                        *(v for v in map(globals().get, code.co_names) if isinstance(v, str))])
    definitions = repr([(r.rule_id, r.key_sql, r.where_sql, r.group_sql, r.spokes_sql, r.scope, r.whole_group)
                        for r in RULES if r.rule_id in on]) + "".join((
        *_records_sql(), single_person_mobiles_sql(), household_mobiles_sql(), _names_apart(), _full_names_apart(True),
        _births_apart(), shipping))
    return ",".join(on) + "#" + hashlib.sha256(definitions.encode()).hexdigest()[:12]


def enabled_rules(cur: duckdb.DuckDBPyConnection) -> tuple[MatchRule, ...]:
    enabled = rule_settings(cur)
    return tuple(r for r in RULES if enabled[r.rule_id])


def rule_scope_sql(rules: tuple[MatchRule, ...], seeds: str) -> str:
    """One SELECT of (rid, rule_id): per rule, every record that shares the rule's scope value with a
    record of the temp table `seeds(rid)`. Those records hold every group of the rule that the
    seeds belong to, whole."""
    parts = [f"SELECT {REC_ID} AS rid, '{r.rule_id}' AS rule_id FROM std_records WHERE ({r.scope}) IN "
             f"(SELECT ({r.scope}) FROM std_records WHERE {rec_id_in(seeds)})" for r in rules]
    return " UNION ALL ".join(parts) or "SELECT NULL::BIGINT AS rid, NULL::VARCHAR AS rule_id WHERE false"


def rule_links_sql(cur: duckdb.DuckDBPyConnection, rules: tuple[MatchRule, ...] | None = None,
                   shipping_ready: bool = False, scope: str | None = None, table: str = "std_records") -> str:
    """One SELECT of (rec_l, rec_r, rule_id) for every deterministic link (stars around the smallest
    record id) of the enabled rules, or of `rules`. `shipping_ready`: the cursor already holds a temp
    table `_shipping` of shipping_contacts_sql. `scope`: a temp table of rule_scope_sql; each rule
    then links only the records it lists for that rule, read from `table` (a copy of those rows
    of std_records)."""
    if rules is None:
        rules = enabled_rules(cur)
    parts: list[tuple[str, str, str]] = []  # (name, its CTE, its SELECT)
    for rule in rules:  # each group of records with one key: a star around its smallest record id
        only = f"{{rid}} IN (SELECT rid FROM {scope} WHERE rule_id = '{rule.rule_id}')" if scope else "true"
        records, channel = _records_sql(only)
        source = channel if "channel_key" in rule.key_sql else records
        keyed = f"_keyed_{len(parts)}"
        group = f" AND {rule.group_sql}" if rule.group_sql else ""
        # the name keys, the shipping flag and the city only where a group condition reads them
        extra = ", ".join(c if c in rule.group_sql + rule.spokes_sql else f"NULL AS {c}"
                          for c in ("full_name", "shipping", "city_key", "written_name", "surname"))
        root = f"coalesce(min(rid) FILTER (WHERE NOT ({rule.spokes_sql})), min(rid))" if rule.spokes_sql else "min(rid)"
        spokes = f" AND ({rule.spokes_sql})" if rule.spokes_sql else ""
        parts.append((keyed, f"{keyed} AS MATERIALIZED (SELECT rid, {rule.key_sql} AS k, CASE WHEN {MOBILE_OK} "
                             f"THEN mobile END AS mobile, sex, dob, {extra} FROM ({source}) "
                             f"WHERE {rule.where_sql}), "
                             # the groups materialized: inlined, DuckDB may join them by a nested loop
                             f"{keyed}_groups AS MATERIALIZED (SELECT k, {root} AS root FROM {keyed} WHERE k IS NOT NULL "
                             f"GROUP BY k HAVING count(*) > 1{group})",
                      f"SELECT g.root AS rec_l, s.rid AS rec_r, '{rule.rule_id}' AS rule_id FROM {keyed} s JOIN "
                      f"{keyed}_groups g USING (k) WHERE s.rid <> g.root{spokes}"))
    if not parts:
        return "SELECT NULL::BIGINT AS rec_l, NULL::BIGINT AS rec_r, NULL::VARCHAR AS rule_id WHERE false"
    within = (f"SELECT mobile FROM std_records WHERE {REC_ID} IN "
              f"(SELECT rid FROM {scope} WHERE rule_id = 'mobile_one_person')" if scope else None)
    single = (f"_single_person_mobiles AS MATERIALIZED ({single_person_mobiles_sql(within)}), "
              if any(r.rule_id == "mobile_one_person" for r in rules) else "")
    shipping = "" if shipping_ready else f"_shipping AS MATERIALIZED ({shipping_contacts_sql(cur)}), "
    sql = f"WITH {shipping}{single}{', '.join(p[1] for p in parts)} {' UNION ALL '.join(p[2] for p in parts)}"
    return sql if table == "std_records" else sql.replace("FROM std_records", f"FROM {table}")


def rule_links(cur: duckdb.DuckDBPyConnection, rules: tuple[MatchRule, ...] | None = None) -> list[tuple[int, int, str]]:
    """(rec_l, rec_r, rule_id) for every deterministic link (stars around the smallest record id)."""
    return [tuple(r) for r in relation(cur, rule_links_sql(cur, rules)).fetchall()]


def never_link_sql(cur: duckdb.DuckDBPyConnection) -> str:
    """One SELECT of (rec_id, id_card, id_sex) for the never-link rules that are on: a cluster may
    hold at most one distinct value of each (NULL when the rule is off)."""
    enabled = rule_settings(cur)
    card = "id_card" if enabled["never_two_id_cards"] else "NULL::VARCHAR"
    sex = "id_sex" if enabled["never_two_id_sexes"] else "NULL::VARCHAR"
    return (f"SELECT {REC_ID} AS rec_id, {card} AS id_card, {sex} AS id_sex FROM std_records "
            f"WHERE id_card_status IN {VALID_SQL}")


# A name as people write their own on a form: a surname and a given name, no flag but a dressing
# taken off (王秀英15205211683), not the record's nickname, and not a nickname's shape that passes
# for a name (安静的橙子, 5 characters; 夏天的风; 阿雪, 阿 both a surname and the diminutive of 阿X nicknames)
_FORMAL_NAME = (f"name_status IN {VALID_SQL} AND coalesce(name_reason, 'NAME_DECORATED') = 'NAME_DECORATED' "
                "AND name IS DISTINCT FROM nickname AND name_family IS NOT NULL AND name_given IS NOT NULL "
                "AND NOT (regexp_matches(name, '[\u4e00-\u9fff]') AND (length(name) > 4 OR contains(name, '的') "
                "OR (length(name) = 2 AND starts_with(coalesce(name_simplified, name), '阿'))))")
# Two full names that the model's name comparison finds nothing alike in (its else level): not the
# same characters, pinyin (in either order) or initials, and not one mistyped character of a name of
# three or more; nor the same given name (王华翔 and 黄华翔). Pinyin 0.92 alike by Jaro-Winkler counts
# where one name is in letters, or one name in characters starts the other (于丹 and 于丹丹): two names
# in characters with one surname are that alike in pinyin (彭鑫 and 彭琳) while they say two people.
_NAMES_DISAGREE = ("a.hz <> b.hz AND a.py <> b.py AND a.py <> b.py_rev AND a.py_rev <> b.py AND a.ini <> b.ini "
                   "AND a.given <> b.given AND (jaro_winkler_similarity(a.py, b.py) < 0.92 OR (regexp_matches(a.hz, "
                   "'[\u4e00-\u9fff]') AND regexp_matches(b.hz, '[\u4e00-\u9fff]') AND NOT starts_with(a.hz, b.hz) "
                   "AND NOT starts_with(b.hz, a.hz))) AND NOT coalesce(a.fam = b.fam "
                   "AND length(a.hz) >= 3 AND (CASE WHEN length(a.hz) = length(b.hz) THEN hamming(a.hz, b.hz) END) = 1, false)")
# Two surnames alone (王先生, 李女士; not a familiar form, 老王 or 王哥, often a nickname), or one
# against a full name, that differ: other characters whose pinyin is not the start of the other's
# (伍 and 吴强 may be one name misheard), or two sexes
_SURNAMES_DISAGREE = ("(a.fam <> b.fam AND NOT starts_with(a.py, b.py) AND NOT starts_with(b.py, a.py) "
                      "AND NOT starts_with(a.py_rev, b.py) AND NOT starts_with(b.py_rev, a.py)) OR coalesce(a.sex <> b.sex, false)")


# What _NAMES_DISAGREE compares of a name
_NAME_PARTS = ("coalesce(name_simplified, name) AS hz, name_pinyin AS py, coalesce(name_pinyin_rev, name_pinyin) AS py_rev, "
               "name_initials AS ini, name_family AS fam, lower(name_given) AS given")
_NOT_APPROVED = "c.node NOT IN (SELECT unnest([rec_l, rec_r]) FROM _decided WHERE decision = 'approve')"


def _names_apart(only_mobiles: str = "true") -> str:
    """One SELECT of (rec_l, rec_r, reason): two records of one component of the link graph (temp
    table `_cc(node, comp)`) that carry one mobile and cannot be one person, two people of a household
    (梁飞俊 and 梁宁辉, 冯女士 and 顾林磊, or 陈美玲 and a record of a man without a name, on a family
    phone) whom a record between them (梁先生, a record without a name) would otherwise join: two
    different names, two surnames alone or a surname and a full name that differ, or two sexes where
    one has no name (a full name's sex is what the same name on the phone says, else its given
    name's, NAME_SEX_SQL). Not two records of one resident ID (王芳 and 王小芳), nor a record a steward
    approved a link of (temp table `_decided`): the steward read it. `only_mobiles`: a condition on
    std_records that spares reading the other records."""
    surname = (f"{SURNAME_ONLY_SQL} AND coalesce(name_salutation NOT IN {_FAMILIAR}, true) "
               "AND regexp_matches(name_family, '^[\u4e00-\u9fff]')")
    return (f"WITH _named AS MATERIALIZED (SELECT * FROM (SELECT c.node AS rid, c.comp, mobile, "
            f"CASE WHEN {_FORMAL_NAME} THEN 'full' WHEN {surname} THEN 'surname' END AS kind, "
            f"{_NAME_PARTS}, {_SAID_SEX_SQL} AS said_sex, {NAME_SEX_SQL} AS name_sex, "
            f"CASE WHEN id_card_status IN {VALID_SQL} THEN id_card END AS card "
            f"FROM std_records JOIN _cc c ON c.node = {REC_ID} WHERE ({only_mobiles}) AND {MOBILE_OK} "
            f"AND {_NOT_APPROVED}) WHERE kind IS NOT NULL OR said_sex IS NOT NULL), "
            # the sex a given name means only of a name in full (阿丹 may be anyone's nickname), where
            # the same name on the phone says none (陈欣 may be a man's name)
            "_sexed AS (SELECT *, coalesce(said_sex, CASE WHEN kind = 'full' THEN coalesce(CASE WHEN min(said_sex) OVER same "
            "= max(said_sex) OVER same THEN min(said_sex) OVER same END, name_sex) END) AS sex FROM _named "
            "WINDOW same AS (PARTITION BY comp, mobile, hz)) "
            f"SELECT a.rid AS rec_l, b.rid AS rec_r, 'names_one_phone' AS reason FROM _sexed a JOIN _sexed b "
            f"ON a.comp = b.comp AND a.mobile = b.mobile AND a.rid < b.rid AND NOT coalesce(a.card = b.card, false) "
            f"WHERE CASE WHEN a.kind IS NULL AND b.kind IS NULL THEN false "
            f"WHEN a.kind IS NULL OR b.kind IS NULL THEN coalesce(a.sex <> b.sex, false) "
            f"WHEN a.kind = 'surname' OR b.kind = 'surname' THEN {_SURNAMES_DISAGREE} ELSE {_NAMES_DISAGREE} END")


def _full_names_apart(but_one_phone: bool) -> str:
    """One SELECT of (rec_l, rec_r, reason): two records of one component of the link graph (temp
    table `_cc(node, comp)`) with two full names that disagree (_NAMES_DISAGREE), wherever they were
    written: a record without a name or with a surname alone (苏女士) between 曹斌凯 and 曹凯宇
    does not make them one person. Not an order taken for one shipped to someone else (`_shipping`):
    its name is that receiver's, while its account is the buyer's (an order taken for the buyer's own
    carries the buyer's name, as any record does). Not two records of one resident ID, nor a record
    a steward approved a link of (`_decided`). `but_one_phone`: leave two records of one mobile to
    _names_apart."""
    return (f"WITH _formal AS MATERIALIZED (SELECT c.node AS rid, c.comp, {_NAME_PARTS}, "
            f"CASE WHEN {MOBILE_OK} THEN mobile END AS mobile, CASE WHEN id_card_status IN {VALID_SQL} THEN id_card END AS card "
            f"FROM std_records JOIN _cc c ON c.node = {REC_ID} WHERE {_FORMAL_NAME} AND {REC_ID} NOT IN (SELECT rid FROM _shipping) AND {_NOT_APPROVED}), "
            "_two_named AS (SELECT comp FROM _formal GROUP BY comp HAVING min(hz) <> max(hz)) "
            "SELECT a.rid AS rec_l, b.rid AS rec_r, 'two_names' AS reason FROM _formal a JOIN _formal b "
            "ON a.comp = b.comp AND a.rid < b.rid WHERE a.comp IN (SELECT comp FROM _two_named) "
            "AND NOT coalesce(a.card = b.card, false) "
            + ("AND NOT coalesce(a.mobile = b.mobile, false) " if but_one_phone else "")
            + f"AND {_NAMES_DISAGREE}")


def _births_apart() -> str:
    """One SELECT of (rec_l, rec_r, reason): two records of one component of the link graph (temp
    table `_cc(node, comp)`), one of them known only by an age band, whose birth years do not meet
    (_BIRTH_FROM, _BIRTH_TO): an age of another generation than a birth date or another age. Two
    birth dates years apart may be one date mistyped (19560414 for 19650414; the model weighs those),
    and two records with resident IDs are never_two_id_cards' to tell apart. Not a record a steward
    approved a link of (`_decided`)."""
    return (f"WITH _born AS MATERIALIZED (SELECT c.node AS rid, c.comp, {_BIRTH_FROM} AS birth_from, {_BIRTH_TO} AS birth_to, "
            f"coalesce(id_card_status IN {VALID_SQL}, false) AS carded, {DOB_SQL} IS NULL AS banded "
            f"FROM std_records JOIN _cc c ON c.node = {REC_ID} WHERE coalesce({_BIRTH_FROM}, {_BIRTH_TO}) IS NOT NULL "
            f"AND {_NOT_APPROVED}), "
            f"_mixed AS (SELECT comp FROM _born GROUP BY comp HAVING NOT {BIRTH_YEARS_FIT}) "
            "SELECT a.rid AS rec_l, b.rid AS rec_r, 'birth_years' AS reason FROM _born a JOIN _born b "
            "ON a.comp = b.comp AND a.rid < b.rid WHERE a.comp IN (SELECT comp FROM _mixed) AND NOT (a.carded AND b.carded) "
            "AND (a.banded OR b.banded) "
            "AND (a.birth_to < b.birth_from OR b.birth_to < a.birth_from)")


def kept_apart_sql(cur: duckdb.DuckDBPyConnection, every_record: bool = False) -> str | None:
    """One SELECT of (rec_l, rec_r, reason): the pairs of records within a component of the link
    graph that the never-link rules switched on keep apart (_names_apart, _full_names_apart,
    _births_apart), or None.
    `every_record`: the graph spans the whole store (a full run); reading only the mobiles whose
    records differ in what two people on one phone are told apart by (name, salutation, gender, ID
    sex) is then the cheaper way."""
    on = rule_settings(cur)
    said = "coalesce(name, '') || '|' || coalesce(name_salutation, '') || '|' || coalesce(gender, '') || '|' || coalesce(id_sex, '')"
    parts = [f"({sql})" for rule_id, sql in (
        ("never_two_names_one_phone", _names_apart(f"mobile IN (SELECT mobile FROM std_records WHERE {MOBILE_OK} GROUP BY mobile "
                                                   f"HAVING min({said}) <> max({said}))" if every_record else "true")),
        ("never_two_full_names", _full_names_apart(but_one_phone=on["never_two_names_one_phone"])),
        ("never_birth_years_apart", _births_apart())) if on[rule_id]]
    return " UNION ALL ".join(parts) or None


def never_link_attributes(cur: duckdb.DuckDBPyConnection) -> dict[int, tuple[str | None, str | None]]:
    """Per record: (valid resident ID, ID-derived sex), for the never-link rules that are on. A
    cluster may hold at most one distinct value of each."""
    return {rid: (card, sex) for rid, card, sex in cur.execute(never_link_sql(cur)).fetchall()}


# A name's surname in its simplified characters (张 of 張軍天)
_SURNAME_HAN = ("CASE WHEN regexp_matches(name_family, '^[\u4e00-\u9fff]') "
                "THEN left(coalesce(name_simplified, name), length(name_family)) END")


def household_mobiles_sql(among: str | None = None) -> str:
    """One SELECT of the valid mobiles that records with different names share (a family phone, a
    shop phone); only those in the SELECT `among` when given. A surname alone (张女士) is a different
    name when the full name on the phone has another surname: other characters (张 and 章伟), or a
    pinyin that is not the full name's surname part, both ways round (hu is no surname of huangchen:
    chenhuang does not end with it; li is none of Lisa Wong)."""
    only = f"AND mobile IN ({among}) " if among else ""
    full, alone = "FILTER (WHERE NOT surname_only)", "FILTER (WHERE surname_only)"
    py, rev, sur = f"max(name_pinyin) {full}", f"max(coalesce(name_pinyin_rev, name_pinyin)) {full}", f"max(name_key) {alone}"
    return (f"SELECT mobile FROM (SELECT mobile, {_NAME_KEY} AS name_key, name_pinyin, name_pinyin_rev, "
            f"{_SURNAME_HAN} AS han, {SURNAME_ONLY_SQL} AS surname_only FROM std_records WHERE {MOBILE_OK} "
            f"{only}) WHERE name_key IS NOT NULL GROUP BY mobile "
            # two distinct name keys: a smallest and a largest that differ (no distinct count's hash table)
            f"HAVING min(name_key) {full} <> max(name_key) {full} OR min(name_key) {alone} <> max(name_key) {alone} "
            f"OR NOT coalesce(CASE WHEN max(han) {full} IS NOT NULL AND max(han) {alone} IS NOT NULL "
            f"THEN max(han) {full} = max(han) {alone} "
            f"ELSE {py} = {sur} || left({rev}, length({rev}) - length({sur})) AND ends_with({rev}, {sur}) END, true)")


def household_mobiles(cur: duckdb.DuckDBPyConnection) -> set[str]:
    """Valid mobiles that records with different names share (a family phone, a shop phone)."""
    return {r[0] for r in cur.execute(household_mobiles_sql()).fetchall()}

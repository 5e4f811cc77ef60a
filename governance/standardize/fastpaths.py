"""SQL fast paths: the commonest clean values of the high-volume fields, standardized in DuckDB.

A fast path claims only values whose Python normalizer result it reproduces exactly; every other
value, dirty or unusual, still goes to the Python normalizers. The tables and constants are read
from normalizers.py, and `tests/unit/test_fastpaths.py` checks claimed values against the normalizers,
so a change to a normalizer's logic that a fast path does not follow fails the tests.

The engine fills a temp table `std_new (raw VARCHAR)` with a field's uncached values, then
`claim()` writes the values it can standardize to `std_fast (raw, value, status, reason, extra)`
(the name path also leaves temp tables `name_*`, which go with the cursor).
"""
from __future__ import annotations

import functools
import re
from datetime import date

import duckdb
import pyarrow as pa

from governance.standardize import normalizers as N
from governance.store.storage import quote_literal, scalar


def _in(values) -> str:
    return "(" + ", ".join(quote_literal(v) for v in sorted(values)) + ")"


def _values(rows: list[tuple]) -> str:
    return "VALUES " + ", ".join("(" + ", ".join("NULL" if v is None else quote_literal(v) for v in row) + ")"
                                 for row in rows)


_ASCII_PLACEHOLDERS = _in({p for p in N.PLACEHOLDERS | N._CHANNEL_SENTINELS if p.isascii()})
_REPEATED_TAIL = "|".join(str(d) * 8 for d in range(10))


def _mobile() -> str:
    prefixes = _values([(p, carrier, kind) for p, (carrier, kind) in N._MOBILE_PREFIXES.items()])
    return f"""
        WITH p(prefix, carrier, kind) AS ({prefixes}),
        c AS (SELECT n.raw,
                     coalesce(p5.kind, p4.kind, p3.kind) AS kind,
                     CASE WHEN p5.kind IS NOT NULL THEN p5.carrier WHEN p4.kind IS NOT NULL THEN p4.carrier
                          ELSE p3.carrier END AS carrier
              FROM std_new n
              LEFT JOIN p p5 ON p5.prefix = substr(n.raw, 1, 5)
              LEFT JOIN p p4 ON p4.prefix = substr(n.raw, 1, 4)
              LEFT JOIN p p3 ON p3.prefix = substr(n.raw, 1, 3)
              WHERE regexp_full_match(n.raw, '1[3-9][0-9]{{9}}')
                AND n.raw NOT IN {_in(N._MOBILE_DUMMIES)}
                AND NOT regexp_matches(n.raw, '(?:{_REPEATED_TAIL})$|{"|".join(N._RUNS9)}'))
        SELECT raw, raw AS value, 'valid' AS status, CASE WHEN kind = 'mvno' THEN 'MOBILE_MVNO' END AS reason,
               json_object('carrier', carrier)::VARCHAR AS extra
        FROM c WHERE kind IN ('mno', 'mvno')"""


def _id_card(today: date) -> str:
    provinces = _values([(code, name) for code, name in N._PROVINCE_BY_CODE2.items()
                         if code not in ("81", "82", "83")])
    weighted = " + ".join(f"{w} * CAST(substr(s, {i + 1}, 1) AS INTEGER)" for i, w in enumerate(N._ID_WEIGHTS))
    runs = " OR ".join(f"starts_with(s, {quote_literal(r)})" for r in ("123456789", "012345678", "987654321"))
    same_body = "|".join(str(d) * 17 for d in range(10))
    t = f"DATE {quote_literal(today.isoformat())}"
    return f"""
        WITH p(code, name) AS ({provinces}),
        c AS (SELECT raw, upper(raw) AS s FROM std_new WHERE regexp_full_match(raw, '[0-9]{{17}}[0-9Xx]')),
        d AS (SELECT c.*, p.name AS province, CAST(try_strptime(substr(s, 7, 8), '%Y%m%d') AS DATE) AS birth
              FROM c JOIN p ON p.code = substr(s, 1, 2)
              WHERE NOT regexp_full_match(substr(s, 1, 17), '{same_body}') AND NOT ({runs})
                AND substr(s, 7, 8) NOT IN ('19000101', '00000000')
                AND substr('{N._ID_CHECK}', ({weighted}) % 11 + 1, 1) = substr(s, 18, 1)),
        a AS (SELECT d.*, year({t}) - year(birth) - CASE WHEN month({t}) < month(birth) OR
                     (month({t}) = month(birth) AND day({t}) < day(birth)) THEN 1 ELSE 0 END AS age
              FROM d WHERE birth IS NOT NULL AND birth <= {t} AND year(birth) >= 1800)
        SELECT raw, s AS value, 'valid' AS status, NULL AS reason,
               json_object('birth_date', strftime(birth, '%Y-%m-%d'),
                           'sex', CASE WHEN CAST(substr(s, 17, 1) AS INTEGER) % 2 = 1 THEN '1' ELSE '2' END,
                           'is_minor', age < 14, 'region_code', substr(s, 1, 6), 'province', province)::VARCHAR AS extra
        FROM a WHERE age <= 120"""


def _email() -> str:
    local = "split_part(raw, '@', 1)"
    domain = "lower(split_part(raw, '@', 2))"
    return f"""
        SELECT raw, {local} || '@' || {domain} AS value, 'valid' AS status, NULL AS reason, NULL AS extra
        FROM std_new
        WHERE regexp_full_match(raw, '[A-Za-z0-9]+(?:[._+-][A-Za-z0-9]+)*@[A-Za-z0-9.]+')
          AND {domain} IN {_in(N._EMAIL_PROVIDERS - N._EMAIL_TYPOS.keys())}
          AND length({local}) <= 64
          AND lower(raw) NOT IN {_in(N._EMAIL_PLACEHOLDER_ADDRESSES)}
          AND lower({local}) NOT IN {_in(N._EMAIL_PLACEHOLDER_LOCALS)}"""


def _timestamp(limit_text: str) -> str:
    return f"""
        SELECT raw, raw AS value, 'valid' AS status, NULL AS reason, NULL AS extra FROM std_new
        WHERE regexp_full_match(raw, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}} [0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}')
          AND raw >= '1971' AND raw <= {quote_literal(limit_text)}
          AND try_strptime(raw, '%Y-%m-%d %H:%M:%S') IS NOT NULL"""


def _date(today: date) -> str:
    return f"""
        SELECT raw, raw AS value, 'valid' AS status, NULL AS reason, NULL AS extra FROM std_new
        WHERE regexp_full_match(raw, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') AND raw <> '1970-01-01'
          AND CAST(try_strptime(raw, '%Y-%m-%d') AS DATE) BETWEEN DATE '1901-01-01' AND DATE {quote_literal(today.isoformat())}"""


# Channel identifiers: (shortest, longest) of the ids made of [A-Za-z0-9_-] that the platform accepts.
_CHANNEL_LENGTHS = {"wechat_open_id": (16, 64), "wechat_union_id": (16, 64), "douyin_id": (4, 128),
                    "ecommerce_buyer_id": (1, 128), "member_card": (1, 40)}


def _channel(field: str) -> str:
    if field == "wechat_app_id":
        where = "regexp_full_match(raw, 'wx[0-9a-f]{16}')"
    else:
        shortest, longest = _CHANNEL_LENGTHS[field]
        where = (f"regexp_full_match(raw, '[A-Za-z0-9_-]{{{shortest},{longest}}}') "
                 f"AND regexp_matches(raw, '[A-Za-z0-9]') AND lower(raw) NOT IN {_ASCII_PLACEHOLDERS}")
        if field == "member_card":  # '1e5' is a spreadsheet's scientific notation
            where += " AND NOT regexp_full_match(raw, '[0-9][eE][0-9]{1,2}')"
    return f"SELECT raw, raw AS value, 'valid' AS status, NULL AS reason, NULL AS extra FROM std_new WHERE {where}"


_HAN_CHARS = "\\x{4e00}-\\x{9fff}"
_HAN_OR_ALNUM = _HAN_CHARS + "0-9A-Za-z"
_HAN_ONLY = re.compile("[\u4e00-\u9fff]+")
# A regular expression of thousands of alternatives outgrows RE2's DFA budget and crawls; a few of
# at most this many each stay fast.
_ALTERNATIVES_PER_REGEX = 800


@functools.cache
def _address() -> str:
    """Addresses in which the parser finds no administrative unit: kept as written, ADDRESS_UNPARSED.

    The parser (normalizers._scan_address) accepts a full unit name anywhere, and a short one
    ('南京' for 南京市) only where scanning starts and not before a street word ('南京东路'). So a
    value is claimed when no full name occurs in it and any short name at its start is followed by
    a street word. Values the parser reads from another start (a leading '地址' or '中国' is cut
    off) or where two short names could start it are left to Python."""
    index = {k: cands for k, cands in N._ADMIN_INDEX.items() if _HAN_ONLY.fullmatch(k)}  # others cannot occur
    anywhere = sorted(k for k, cands in index.items() if any(not short for _l, _c, short, _o in cands))
    shorts = sorted(index.keys() - set(anywhere))
    nested = sorted({a for a in shorts for b in shorts if a != b and b.startswith(a)}) or ["\\x{0}"]
    full_names = " AND ".join(
        f"NOT regexp_matches(raw, '{'|'.join(anywhere[i:i + _ALTERNATIVES_PER_REGEX])}')"
        for i in range(0, len(anywhere), _ALTERNATIVES_PER_REGEX))
    street = N._STREETISH_RE.pattern.replace("\\d", "0-9")
    starts = "^(?:" + "|".join(shorts) + ")"
    return f"""
        SELECT raw, raw AS value, 'valid_with_warning' AS status, 'ADDRESS_UNPARSED' AS reason, NULL AS extra
        FROM std_new
        WHERE regexp_full_match(raw, '[{_HAN_OR_ALNUM}][{_HAN_OR_ALNUM}#-]*')
          AND lower(raw) NOT IN {_in(N.PLACEHOLDERS)}
          AND NOT regexp_matches(raw, '^(?:(?:收货|详细|家庭|联系|通讯|居住|户籍)?地址|中华人民共和国|中国|(?i:china))')
          AND NOT regexp_matches(raw, '^(?:{"|".join(nested)})')
          AND (NOT regexp_matches(raw, '{starts}') OR regexp_matches(raw, '{starts}(?:{street})'))
          AND {full_names}"""


_NAME_ENDINGS = "|".join(list(N._SALUTATIONS) + list(N._TITLES))


def _name(cur: duckdb.DuckDBPyConnection) -> str:
    """Han names of one to six characters (single spaces between them are dropped, as the name
    cleaner does) with no salutation, title or organization word.

    Their simplified form (OpenCC, phrase-aware) and the pinyin of their characters and surnames
    come from the Python helpers, once per distinct character; joining and splitting happen in SQL."""
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE name_new AS
        SELECT raw, name FROM (SELECT raw, replace(raw, ' ', '') AS name FROM std_new
                               WHERE regexp_full_match(raw, '[{_HAN_CHARS}]+(?: [{_HAN_CHARS}]+)*'))
        WHERE length(name) <= 6 AND name NOT IN {_in(N.PLACEHOLDERS | N._NAME_PLACEHOLDERS | set(N._BARE_ADDRESS))}
          AND NOT (length(name) = 2 AND starts_with(name, '老'))
          AND NOT regexp_matches(name, '(?:{_NAME_ENDINGS})$|{"|".join(N._ORG_WORDS)}')""")
    names = [r[0] for r in cur.execute("SELECT DISTINCT name FROM name_new").fetchall()]
    simplified = N.to_simplified_many(names)
    chars = sorted(set("".join(simplified)))
    families = [(f, *N.family_pinyin(f)) for f in chars + sorted(N._COMPOUNDS)]
    tables = {
        "simp": {"name": names, "simp": simplified},
        "chars": {"ch": chars, "py": [N._char_pinyin(c) for c in chars]},
        "families": dict(zip(("fam", "py", "init"), map(list, zip(*families)))),
    }
    for table, columns in tables.items():
        arrow = pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})  # noqa: F841 (read by DuckDB)
        cur.execute(f"CREATE OR REPLACE TEMP TABLE name_{table} AS SELECT * FROM arrow")
    surnames = _in(set(N._SURNAMES) | set(N._COMPOUNDS))
    # the given name's characters by position after the surname (at most five); one without pinyin
    # adds nothing, as in the Python normalizer
    joins = [f"LEFT JOIN name_chars c{k} ON c{k}.ch = substr(s.simp, s.fl + {k}, 1)" for k in range(1, 6)]
    py = [f"coalesce(c{k}.py, '')" for k in range(1, 6)]
    init = [f"coalesce(left(c{k}.py, 1), '')" for k in range(1, 6)]
    return f"""
        WITH s AS (SELECT n.raw, n.name, t.simp, length(t.simp) AS n,
                          CASE WHEN length(t.simp) >= 3 AND substr(t.simp, 1, 2) IN {_in(N._COMPOUNDS)} THEN 2 ELSE 1
                          END AS fl
                   FROM name_new n JOIN name_simp t USING (name)),
        j AS (SELECT s.*, f.py AS fpy, f.init AS finit, {" || ".join(py)} AS gpy, {" || ".join(init)} AS ginit
              FROM s JOIN name_families f ON f.fam = substr(s.simp, 1, s.fl) {" ".join(joins)}
              WHERE f.py <> '')
        SELECT raw, name AS value,
               CASE WHEN n = fl OR substr(simp, 1, fl) NOT IN {surnames} THEN 'valid_with_warning' ELSE 'valid' END AS status,
               CASE WHEN n = fl THEN CASE WHEN name IN {surnames} THEN 'NAME_SURNAME_ONLY' ELSE 'NAME_TOO_SHORT' END
                    WHEN substr(simp, 1, fl) NOT IN {surnames} THEN 'NAME_UNCOMMON_SURNAME'
               END AS reason,
               CASE WHEN n = fl
                    THEN json_object('simplified', simp, 'family_name', name, 'pinyin', fpy,
                                     'pinyin_initials', finit, 'pinyin_given_first', fpy)
                    ELSE json_object('simplified', simp, 'family_name', substr(name, 1, fl),
                                     'given_name', substr(name, fl + 1), 'pinyin', fpy || gpy,
                                     'pinyin_initials', finit || ginit, 'pinyin_given_first', gpy || fpy)
               END::VARCHAR AS extra
        FROM j"""


def select_sql(cur: duckdb.DuckDBPyConnection, field: str, today: date, timestamp_limit: str) -> str | None:
    """The fast path of a field as a SELECT over `std_new`, or None when the field has none."""
    if field == "name":
        return _name(cur)
    if field == "mobile":
        return _mobile()
    if field == "id_card":
        return _id_card(today)
    if field == "email":
        return _email()
    if field in ("registered_at", "updated_at"):
        return _timestamp(timestamp_limit)
    if field == "birth_date":
        return _date(today)
    if field == "address":
        return _address()
    if field == "wechat_app_id" or field in _CHANNEL_LENGTHS:
        return _channel(field)
    return None


def claim(cur: duckdb.DuckDBPyConnection, field: str) -> int:
    """Standardize what the fast path of `field` can from `std_new` into `std_fast`; return how many.
    The dates are those the Python normalizers use now (China time), so both agree."""
    _minute, today, limit_text, _limit = N._clock()
    sql = select_sql(cur, field, today, limit_text)
    if sql is None:
        cur.execute("CREATE OR REPLACE TEMP TABLE std_fast "
                    "(raw VARCHAR, value VARCHAR, status VARCHAR, reason VARCHAR, extra VARCHAR)")
        return 0
    cur.execute(f"CREATE OR REPLACE TEMP TABLE std_fast AS {sql}")
    return scalar(cur, "SELECT count(*) FROM std_fast")

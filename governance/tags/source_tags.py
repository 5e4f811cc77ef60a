"""Tags from the sources: a source's own tag columns (CRM 会员等级 金卡, Tmall 88VIP, a WeChat
official-account 标签 list such as `老客户,618活动`) mapped value by value onto standard tags.

This module alone writes `tag_source_mappings`. A mapping belongs to one source and one raw column
(its header); every change stores a new version of that column's mapping and the latest version is
active. An entry maps one source value to one tag's value; an empty value means "known, maps to
nothing" (the value is then no longer listed as unmapped). A column may feed several tags: each
value names its own tag.

A source's tag columns are the raw columns of its batches that
- have an entry in a tag mapping, or
- are mapped to the standard event field `member_level` (the source's own tier), or
- are mapped to no standard field and whose header names a tag, level, tier or group (标签, 等级, VIP …).
Cell values may be lists: they are split on , ， ; ； | 、 and each part trimmed. Parts are matched
case-insensitively (GOLD = gold).

Default dictionary: for the built-in `member_tier`, the values of a `member_level` column that have no
explicit entry are read by common tier words (金卡, 黄金, gold → gold; 白金, platinum → platinum; …).
A value that names no tier class (88VIP, V3) stays unmapped for the steward.

`values_sql` gives one row per OneID: each record's mapped value through the crosswalk, and when a
person's records disagree, the tag's conflict rule (`technical["source_mapping"]`) picks one:
"priority" (the rule's list of sources first, then the channel trust order survivorship uses) or
"recent" (the newest record: its updated_at, else its batch's upload time). The winning source is
kept as lineage. A record whose list gives one tag two values keeps the one listed later among the
tag's allowed values (the higher tier).
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import duckdb
import pandas as pd

from governance.access import audit, auth
from governance.access.events import Event
from governance.golden.survivorship import DEFAULT_PRIORITY
from governance.sources import mapping as field_mapping
from governance.store.storage import quote_ident, quote_literal, scalar
from governance.store.util import utcnow
from governance.tags import library
from governance.tags.definitions import RETIRED, TagDefinition, TagError

MEMBER_TIER = "member_tier"
MEMBER_LEVEL = "member_level"
LIST_SEPARATORS = "[,，;；|、]"
# Headers of unmapped columns that hold a source's own tags, levels or groups.
TAG_HEADER = re.compile(r"标签|等级|级别|会员类型|会员身份|人群|分组|分层|tags?\b|label|level|tier|vip|segment|group",
                        re.IGNORECASE)
# Tier classes, checked in this order (白金 and 黑金 hold 金; 白金卡 holds 金卡): regular expressions
# over the lower-case value. A value of no class stays unmapped.
TIER_WORDS: tuple[tuple[str, str], ...] = (
    ("diamond", "钻石|钻卡|黑金|黑钻|diamond"),
    ("platinum", "白金|铂金|platinum|platina"),
    ("gold", "金卡|黄金|金牌|金级|金会员|gold"),
    ("silver", "银卡|白银|银牌|银级|银会员|silver"),
    ("regular", "普卡|普通|大众|基础会员|标准会员|regular|normal|basic|standard|ordinary"),
)
_NO_CANDIDATES = ("SELECT NULL::VARCHAR AS oneid, NULL::VARCHAR AS value, NULL::VARCHAR AS source, "
                  "NULL::TIMESTAMP AS seen_at, NULL::BIGINT AS rank, NULL::BIGINT AS batch_id, "
                  "NULL::BIGINT AS row_number, NULL::INTEGER AS value_rank WHERE false")
# The active (latest) version of every (source, column) mapping.
ACTIVE = ("SELECT * FROM tag_source_mappings QUALIFY version = max(version) OVER (PARTITION BY source, column_name)")


def _key(value: str) -> str:
    """How a source value is matched: trimmed, lower case (the SQL twin is _key_sql)."""
    return value.strip().lower()


def _strip_sql(expr: str) -> str:
    """`expr` without leading and trailing white space (full-width too), as str.strip() does."""
    return f"regexp_replace({expr}, '^[\\s\\x{{3000}}]+|[\\s\\x{{3000}}]+$', '', 'g')"


def _key_sql(expr: str) -> str:
    return f"lower({_strip_sql(expr)})"


def _definition(cur: duckdb.DuckDBPyConnection, code: str) -> TagDefinition:
    return library.get(cur, code)


def _tier_sql(key: str, allowed: list[str]) -> str:
    """The default dictionary over a matching key: a tier code among `allowed`, or NULL."""
    branches = [f"WHEN regexp_matches({key}, {quote_literal(words)}) THEN {quote_literal(code)}"
                for code, words in TIER_WORDS if code in allowed]
    return f"CASE {' '.join(branches)} END" if branches else "NULL::VARCHAR"


def default_tier(value: str, allowed: list[str] | None = None) -> str | None:
    """The member tier the default dictionary reads in one value (None: no tier word)."""
    key = _key(value)
    for code, words in TIER_WORDS:
        if (allowed is None or code in allowed) and re.search(words, key):
            return code
    return None


def _member_tier_codes(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """The allowed values of member_tier, for the default dictionary ([] when there is no such tag)."""
    try:
        tag = _definition(cur, MEMBER_TIER)
    except TagError:
        return []
    return [] if tag.status == RETIRED else [a.code for a in tag.allowed_values]


# ---- columns ------------------------------------------------------------------------------------

def _sources(cur: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in cur.execute("SELECT source FROM sources ORDER BY source").fetchall()]


def _mapped_columns(cur: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], set[str]]:
    """(source, column) -> the tags its active mapping feeds."""
    out: dict[tuple[str, str], set[str]] = {}
    for source, column, tag in cur.execute(f"SELECT DISTINCT source, column_name, tag_code FROM ({ACTIVE})").fetchall():
        out.setdefault((source, column), set()).add(tag)
    return out


def _columns(cur: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], tuple[set[str], bool]]:
    """Every tag column of every source: (source, header) -> (the tags its mapping feeds, whether it
    is mapped to member_level)."""
    explicit = _mapped_columns(cur)
    out: dict[tuple[str, str], tuple[set[str], bool]] = {}
    for source in _sources(cur):
        fields = field_mapping.load(cur, source)
        for header in field_mapping.source_headers(cur, source):
            field = fields.get(header)
            tags = explicit.get((source, header), set())
            if tags or field == MEMBER_LEVEL or (field is None and TAG_HEADER.search(header)):
                out[(source, header)] = (tags, field == MEMBER_LEVEL)
    return out


def tag_columns(cur: duckdb.DuckDBPyConnection, source: str) -> list[str]:
    """The raw headers of a source that hold its own tags (see the module docstring), first seen first."""
    columns = _columns(cur)
    return [h for h in field_mapping.source_headers(cur, source) if (source, h) in columns]


def _raw_sql(cur: duckdb.DuckDBPyConnection, columns: dict[tuple[str, str], bool]) -> str | None:
    """One SELECT of (batch_id, row_number, source, column_name, raw, by_default) over the raw rows of
    the given columns ((source, header) -> whether the default dictionary reads it) that hold a
    value; None when no batch has such a column."""
    if not columns:
        return None
    wanted = sorted(columns)
    rows = cur.execute(
        "SELECT b.batch_id, b.source, b.table_name, c.column_name, c.header FROM batches b "
        "JOIN batch_columns c USING (batch_id) WHERE list_contains(?::VARCHAR[], b.source || chr(31) || c.header) "
        "ORDER BY b.batch_id, c.position", [[s + "\x1f" + h for s, h in wanted]]).fetchall()
    selects = [f"SELECT {int(b)}::BIGINT AS batch_id, _row AS row_number, {quote_literal(source)} AS source, "
               f"{quote_literal(header)} AS column_name, {quote_ident(column)}::VARCHAR AS raw, "
               f"{'true' if columns[(source, header)] else 'false'} AS by_default "
               f"FROM {table} WHERE {quote_ident(column)} IS NOT NULL"
               for b, source, table, column, header in rows]
    return " UNION ALL ".join(selects) or None


def _pieces_sql(rows: str, counted: bool = False) -> str:
    """Each distinct raw value of each column of `rows` (a relation of _raw_sql's rows), split into its
    parts: (source, column_name, by_default, raw, piece, k): the part trimmed and its matching key.
    Values are few beside the rows, so splitting and matching run once per value, not per row. With
    `counted`, also `records`: how many standardized records carry the raw value."""
    count = (", count(*) FILTER (WHERE EXISTS (SELECT 1 FROM std_records s WHERE s.batch_id = x.batch_id "
             "AND s.row_number = x.row_number)) AS records") if counted else ""
    distinct = (f"SELECT source, column_name, any_value(by_default) AS by_default, raw{count} FROM {rows} x "
                "GROUP BY source, column_name, raw")
    return (f"SELECT * EXCLUDE (p), {_strip_sql('p')} AS piece, lower({_strip_sql('p')}) AS k FROM ("
            f"SELECT *, unnest(list_distinct(regexp_split_to_array(raw, '{LIST_SEPARATORS}'))) AS p FROM ({distinct})) "
            f"WHERE {_strip_sql('p')} <> ''")


# ---- values per OneID ---------------------------------------------------------------------------

def _tag_inputs(cur: duckdb.DuckDBPyConnection, tag: TagDefinition) -> dict[tuple[str, str], bool]:
    """The columns that feed `tag`: (source, header) -> whether the default dictionary reads it."""
    tiers = tag.code == MEMBER_TIER
    return {key: tiers and member_level for key, (tags, member_level) in _columns(cur).items()
            if tag.code in tags or (tiers and member_level)}


def _candidates_sql(cur: duckdb.DuckDBPyConnection, tag: TagDefinition) -> str:
    """One SELECT of (oneid, value, source, seen_at, rank, batch_id, row_number, value_rank): every
    mapped value of every record of a OneID, with its source's priority rank (lower first) and the
    value's rank among the allowed values (higher first)."""
    raw = _raw_sql(cur, _tag_inputs(cur, tag))
    if raw is None:
        return _NO_CANDIDATES
    allowed = [a.code for a in tag.allowed_values]
    allowed_sql = "[" + ", ".join(quote_literal(c) for c in allowed) + "]::VARCHAR[]"
    spec = tag.technical.get("source_mapping") or {}
    first = [str(s) for s in spec.get("priority") or [] if isinstance(s, str)] \
        if isinstance(spec.get("priority"), list) else []
    first_sql = "[" + ", ".join(quote_literal(s) for s in first) + "]::VARCHAR[]"
    channels_sql = "[" + ", ".join(quote_literal(c) for c in DEFAULT_PRIORITY) + "]::VARCHAR[]"
    tier = _tier_sql("p.k", allowed) if tag.code == MEMBER_TIER else "NULL::VARCHAR"
    code = quote_literal(tag.code)
    # per distinct raw value: each part's value (explicit entry, else the default dictionary); a list
    # giving the tag two values keeps the later allowed value
    parts = (f"SELECT p.source, p.column_name, p.raw, CASE WHEN m.k IS NOT NULL THEN "
             f"(CASE WHEN m.tag_code = {code} THEN nullif(m.tag_value, '') END) "
             f"WHEN p.by_default THEN {tier} END AS value FROM ({_pieces_sql('_st_raw')}) p "
             f"LEFT JOIN (SELECT source, column_name, {_key_sql('source_value')} AS k, tag_code, tag_value "
             f"FROM ({ACTIVE})) m ON m.source = p.source AND m.column_name = p.column_name AND m.k = p.k")
    resolved = (f"SELECT source, column_name, raw, arg_max(value, value_rank) AS value, max(value_rank) AS value_rank "
                f"FROM (SELECT *, coalesce(list_position({allowed_sql}, value), 0)::INTEGER AS value_rank "
                f"FROM ({parts}) WHERE value IS NOT NULL) GROUP BY source, column_name, raw")
    return (f"WITH _st_raw AS ({raw}) "
            "SELECT c.oneid, r.value, x.source, coalesce(TRY_CAST(s.updated_at AS TIMESTAMP), b.uploaded_at) AS seen_at, "
            f"coalesce(list_position({first_sql}, x.source), {len(first)} + list_position({channels_sql}, b.channel), "
            "1000)::BIGINT AS rank, x.batch_id, x.row_number, r.value_rank "
            f"FROM _st_raw x JOIN ({resolved}) r "
            "ON r.source = x.source AND r.column_name = x.column_name AND r.raw = x.raw "
            "JOIN crosswalk c ON c.batch_id = x.batch_id AND c.row_number = x.row_number "
            "JOIN batches b ON b.batch_id = x.batch_id "
            "LEFT JOIN std_records s ON s.batch_id = x.batch_id AND s.row_number = x.row_number")


def values_sql(cur: duckdb.DuckDBPyConnection, tag: TagDefinition) -> str:
    """SQL text of one SELECT of (oneid, value, source, seen_at): one row per OneID that any source
    gives `tag` a value, the winner by the tag's conflict rule, with its source as lineage. Set-based:
    one GROUP BY oneid over a struct sort key (as survivorship does)."""
    spec = tag.technical.get("source_mapping") or {}
    seen = "-epoch_us(seen_at)"
    if spec.get("conflict", "priority") == "recent":
        order = f"'a': {seen}, 'b': rank"
    else:
        order = f"'a': rank, 'b': {seen}"
    key = (f"{{{order}, 'c': -batch_id, 'd': -row_number, 'e': -value_rank, 'value': value, 'source': source, "
           "'seen_at': seen_at}")
    return (f"SELECT oneid, w.value, w.source, w.seen_at FROM (SELECT oneid, min({key}) AS w "
            f"FROM ({_candidates_sql(cur, tag)}) GROUP BY oneid)")


def conflicts(cur: duckdb.DuckDBPyConnection, tag_code: str) -> int:
    """How many OneIDs get different values for the tag from different sources (each source's value:
    that of its newest record)."""
    tag = _definition(cur, tag_code)
    per_source = (f"SELECT oneid, source, arg_max(value, {{'t': seen_at, 'b': batch_id, 'r': row_number, "
                  f"'v': value_rank}}) AS value FROM ({_candidates_sql(cur, tag)}) GROUP BY oneid, source")
    return int(scalar(cur, f"SELECT count(*) FROM (SELECT oneid FROM ({per_source}) GROUP BY oneid "
                           "HAVING count(DISTINCT value) > 1)"))


# ---- unmapped values and the mappings -----------------------------------------------------------

def unmapped_values(cur: duckdb.DuckDBPyConnection, tag_code: str | None = None) -> pd.DataFrame:
    """Per source and tag column (only the columns feeding `tag_code` when given), each distinct value
    (lists split) that neither an explicit entry nor the default dictionary covers, with how many
    records carry it; most records first."""
    columns = _columns(cur)
    if tag_code is not None:
        _definition(cur, tag_code)  # an unknown tag is refused, not listed as nothing
        tiers = tag_code == MEMBER_TIER
        columns = {k: v for k, v in columns.items() if tag_code in v[0] or (tiers and v[1])}
    empty = pd.DataFrame({"source": pd.Series(dtype=str), "column": pd.Series(dtype=str),
                          "value": pd.Series(dtype=str), "records": pd.Series(dtype="int64")})
    raw = _raw_sql(cur, {k: member_level for k, (_tags, member_level) in columns.items()})
    if raw is None:
        return empty
    tier = _tier_sql("p.k", _member_tier_codes(cur))
    frame = cur.execute(
        f"WITH _st_raw AS ({raw}) SELECT source, column_name AS column, min(piece) AS value, sum(records)::BIGINT "
        f"AS records FROM (SELECT p.source, p.column_name, p.raw, p.k, min(p.piece) AS piece, any_value(p.records) "
        f"AS records FROM ({_pieces_sql('_st_raw', counted=True)}) p "
        f"WHERE NOT EXISTS (SELECT 1 FROM ({ACTIVE}) m WHERE m.source = p.source AND m.column_name = p.column_name "
        f"AND {_key_sql('m.source_value')} = p.k) AND NOT (p.by_default AND ({tier}) IS NOT NULL) "
        "GROUP BY ALL) GROUP BY source, column_name, k HAVING sum(records) > 0 "
        "ORDER BY source, column_name, records DESC, value").df()
    return frame if len(frame) else empty


def mappings(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The active entries: source, column, version, source_value, tag_code, tag_value (None: maps to
    nothing), created_by, created_at."""
    return cur.execute(
        f"SELECT source, column_name AS column, version, source_value, tag_code, tag_value, created_by, created_at "
        f"FROM ({ACTIVE}) ORDER BY source, column_name, tag_code, source_value").df()


def history(cur: duckdb.DuckDBPyConnection, source: str, column: str) -> pd.DataFrame:
    """Every version of one column's mapping, newest first."""
    return cur.execute(
        "SELECT version, source_value, tag_code, tag_value, created_by, created_at FROM tag_source_mappings "
        "WHERE source = ? AND column_name = ? ORDER BY version DESC, tag_code, source_value", [source, column]).df()


def current_version(cur: duckdb.DuckDBPyConnection, source: str, column: str) -> int:
    return int(scalar(cur, "SELECT coalesce(max(version), 0) FROM tag_source_mappings WHERE source = ? "
                           "AND column_name = ?", [source, column]))


# ---- saving a mapping ---------------------------------------------------------------------------

def _tag_value(tag: TagDefinition, value: Any) -> str | None:
    """A mapped value as stored for the tag's value type; None for an empty one. TagError when the
    tag does not take it."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dict | list):
        raise TagError(f"The value for the tag {tag.code!r} must be one value, not {type(value).__name__}.")
    if tag.value_type == "boolean":
        text = str(value).strip().lower()
        if isinstance(value, bool) or text in ("true", "false"):
            return "true" if value is True or text == "true" else "false"
        raise TagError(f"The tag {tag.code!r} takes true or false, not {value!r}.")
    text = str(value).strip()
    if tag.value_type == "enum":
        allowed = [a.code for a in tag.allowed_values]
        if allowed and text not in allowed:
            raise TagError(f"{text!r} is not an allowed value of the tag {tag.code!r}; allowed: {', '.join(allowed)}.")
        return text
    if tag.value_type == "number":
        try:
            if isinstance(value, bool):
                raise InvalidOperation
            number = Decimal(text)
        except InvalidOperation:
            raise TagError(f"The tag {tag.code!r} takes a number, not {value!r}.") from None
        if not number.is_finite():
            raise TagError(f"The tag {tag.code!r} takes a number, not {value!r}.")
        return str(number)
    if tag.value_type == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise TagError(f"The tag {tag.code!r} takes a date such as 2026-03-01, not {value!r}.") from None
    return text


def _mappable(cur: duckdb.DuckDBPyConnection, code: Any, cache: dict[str, TagDefinition]) -> TagDefinition:
    if not isinstance(code, str) or not code:
        raise TagError("Each mapped value names its tag: {\"tag\": CODE, \"value\": VALUE}, or give the tag.")
    if code not in cache:
        tag = _definition(cur, code)
        if "source_mapping" not in tag.technical:
            raise TagError(f"The tag {code!r} is not computed from source mappings; its technical definition "
                           "has no source_mapping.")
        if tag.status == RETIRED:
            raise TagError(f"The tag {code!r} is retired.")
        cache[code] = tag
    return cache[code]


def _entries(cur: duckdb.DuckDBPyConnection, values: Any, tag_code: str | None,
             column_tags: set[str]) -> dict[str, tuple[str, str, str | None]]:
    """The given values as matching key -> (source value, tag code, tag value), checked."""
    if not isinstance(values, dict) or not values:
        raise TagError("The values are a non-empty JSON object {SOURCE_VALUE: TAG_VALUE} or "
                       "{SOURCE_VALUE: {\"tag\": CODE, \"value\": VALUE}}.")
    cache: dict[str, TagDefinition] = {}
    out: dict[str, tuple[str, str, str | None]] = {}
    for source_value, target in values.items():
        if not isinstance(source_value, str) or not source_value.strip():
            raise TagError("A source value to map must not be empty.")
        if isinstance(target, dict):
            unknown = sorted(set(target) - {"tag", "value"})
            if unknown:
                raise TagError(f"Unknown key in the mapping of {source_value.strip()!r}: {', '.join(unknown)}.")
            code, value = target.get("tag", tag_code), target.get("value")
            if tag_code is not None and code != tag_code:
                raise TagError(f"The value {source_value.strip()!r} names the tag {code!r}, but the mapping is for "
                               f"{tag_code!r}.")
        else:
            code, value = tag_code, target
            if code is None and value is None and len(column_tags) == 1:
                code = next(iter(column_tags))  # known, maps to nothing: of the one tag the column feeds
        tag = _mappable(cur, code, cache)
        key = _key(source_value)
        if key in out:
            raise TagError(f"The source value {source_value.strip()!r} is given twice (values match ignoring case "
                           "and spaces).")
        out[key] = (source_value.strip(), tag.code, _tag_value(tag, value))
    return out


def set_mapping(db, actor: str, source: str, column: str, values: dict, tag_code: str | None = None) -> int:
    """Map a source column's values onto tags: `values` is {source_value: tag_value} for the tag
    `tag_code`, or {source_value: {"tag": code, "value": v}} (a column feeding several tags). The
    entries are merged over the column's active mapping (a value given again replaces its entry) and
    stored as a new version, audited. Returns the active version (unchanged when nothing changed)."""
    with db.transaction() as cur:
        auth.require_user(cur, actor, "tags.source_map")
        if not cur.execute("SELECT 1 FROM sources WHERE source = ?", [source]).fetchone():
            known = _sources(cur)
            if not known:
                raise TagError(f"No source named {source!r}; there are no sources yet.")
            raise TagError(f"No source named {source!r}; the sources are: {', '.join(known)}.")
        headers = field_mapping.source_headers(cur, source)
        if column not in headers:
            raise TagError(f"The source {source!r} has no column {column!r}; its columns are: {', '.join(headers)}.")
        if tag_code is not None:
            _mappable(cur, tag_code, {})
        version = current_version(cur, source, column)
        previous = {_key(sv): (sv, tag, value) for sv, tag, value in cur.execute(
            "SELECT source_value, tag_code, tag_value FROM tag_source_mappings WHERE source = ? AND column_name = ? "
            "AND version = ?", [source, column, version]).fetchall()}
        given = _entries(cur, values, tag_code, {tag for _sv, tag, _v in previous.values()})
        merged = {**previous, **given}
        if version and merged == previous:
            return version
        version += 1
        now = utcnow()
        cur.executemany("INSERT INTO tag_source_mappings VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [[source, column, version, tag, sv, value, actor, now]
                         for sv, tag, value in sorted(merged.values())])
        changes = {sv: {"tag": tag, "from": previous[k][2] if k in previous else None, "to": value}
                   for k, (sv, tag, value) in given.items() if previous.get(k) != (sv, tag, value)}
        audit.record(cur, actor, Event.TAG_SOURCE_MAPPING, "tag_source_mapping", f"{source}/{column}",
                     {"version": version, "tags": sorted({t for _sv, t, _v in merged.values()}), "changes": changes})
    return version

"""Events: the purchase and order columns of a batch (order number, time, amount, quantity, product,
category, status, points, member level), parsed in SQL into `std_events`, one row per source row
that holds any of them but points and the member level alone: a member list's tier and points
balance record no purchase (a receipt's points and tier ride along with its event).

This module alone writes `std_events`; the pipeline calls `build` right after a batch is
standardized, so a batch's events follow its mapping and its records (rows of erased people kept
aside are not in std_records, so they are no events either).

Parsing, all in DuckDB SQL:
- amount: ¥ / ￥ / RMB / CNY / 元, thousands separators and full-width digits are dropped; the rest
  must be a number, read as DECIMAL(18,2) (never a float);
- event_time: 2026-03-01 14:05:09, 2026/3/1 14:05, 2026.03.01, 2026年3月1日 14时05分, 20260301,
  ISO with T and an offset or Z, Unix seconds or milliseconds. A time without a zone is China
  time (Asia/Shanghai); one with a zone is converted to it. Stored as China time;
- quantity and points: whole numbers (件, 个, 分 and separators dropped);
- order_status: a code, completed, refunded, cancelled, pending or other (STATUS_WORDS, then
  keywords such as 退款 or 关闭).
A non-empty value that does not parse is NULL (order_status: `other`) and its field is listed in
the row's `unparsed`.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from decimal import Decimal

import duckdb

from governance.store.schema import EVENT_FIELD_NAMES
from governance.store.storage import scalar
from governance.store.util import utcnow

STATUS_CODES = ("completed", "refunded", "cancelled", "pending", "other")
# Whole status values (lower case, no spaces) as the channels write them.
STATUS_WORDS: dict[str, str] = {
    **dict.fromkeys(("已完成", "完成", "交易成功", "交易完成", "订单完成", "已签收", "已收货", "确认收货", "已支付",
                     "已付款", "支付成功", "付款成功", "成功", "paid", "completed", "complete", "success",
                     "succeeded", "done", "finished", "delivered", "trade_finished"), "completed"),
    **dict.fromkeys(("已退款", "退款成功", "退款完成", "全额退款", "已退货", "退货退款", "refunded", "refund",
                     "returned", "trade_closed_refund"), "refunded"),
    **dict.fromkeys(("已取消", "取消", "订单取消", "交易关闭", "订单关闭", "已关闭", "关闭", "已作废", "作废",
                     "cancelled", "canceled", "cancel", "closed", "void", "voided", "trade_closed"), "cancelled"),
    **dict.fromkeys(("待付款", "待支付", "未付款", "待发货", "已发货", "待收货", "配送中", "处理中", "等待买家付款",
                     "买家已付款，等待卖家发货", "卖家已发货，等待买家确认", "pending", "unpaid", "processing",
                     "shipped", "shipping", "awaiting_payment"), "pending"),
    **dict.fromkeys(("售后中", "退款中", "部分退款"), "other"),
}

# Fields that alone make no event: a member list's tier and points balance.
STATE_FIELDS = frozenset({"points", "member_level"})

_FULL = "０１２３４５６７８９．，：－／＋　"
_HALF = "0123456789.,:-/+ "
_EMPTY = ("", "-", "--", "—", "无", "暂无", "n/a", "na", "null", "none", "nan")


def _text(col: str) -> str:
    """A value trimmed, full-width digits and marks made half-width; NULL when empty or a placeholder."""
    return (f"CASE WHEN lower(trim(translate({col}, '{_FULL}', '{_HALF}'))) NOT IN "
            f"({', '.join(repr(e) for e in _EMPTY)}) THEN trim(translate({col}, '{_FULL}', '{_HALF}')) END")


def amount_sql(col: str) -> str:
    clean = f"regexp_replace({_text(col)}, '[¥￥,\\s]|rmb|cny|元', '', 'gi')"
    return _let(clean, "_am", "CASE WHEN regexp_full_match(_am, '[+-]?(\\d+(\\.\\d*)?|\\.\\d+)') "
                              "THEN TRY_CAST(_am AS DECIMAL(18,2)) END")


def whole_number_sql(col: str) -> str:
    clean = f"regexp_replace({_text(col)}, '[,\\s]|件|个|分|pcs|pc', '', 'gi')"
    return _let(clean, "_wn", "CASE WHEN regexp_full_match(_wn, '[+-]?\\d+(\\.0*)?') "
                              "THEN TRY_CAST(TRY_CAST(_wn AS DECIMAL(18,2)) AS INTEGER) END")


def _let(value: str, name: str, body: str) -> str:
    """`body` with `name` bound to `value`, computed once per row (DuckDB repeats a repeated expression)."""
    return f"list_transform([{value}], lambda {name}: {body})[1]"


_DATE_TIME = (r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ t]+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?(?:\.\d+)?)?"
              r" *(z|[+-]\d{2}:?\d{2})?$")
_COMPACT = r"^(\d{4})(\d{2})(\d{2})(?: *(\d{2}):?(\d{2}):?(\d{2})?)?$"


def time_sql(col: str) -> str:
    """China time (TIMESTAMP) from a value in a common format; NULL when it does not parse."""
    # 2026年3月1日 14时05分 -> 2026-3-1 14:05; 2026/3/1 and 2026.03.01 -> 2026-3-1
    cn = (f"regexp_replace(regexp_replace(regexp_replace(regexp_replace(lower({_text(col)}), '[年月]', '-', 'g'), "
          f"'日', ' ', 'g'), '[时点]', ':', 'g'), '[分秒]', '', 'g')")
    norm = f"trim(regexp_replace(regexp_replace({cn}, '^(\\d{{4}})[./](\\d{{1,2}})[./](\\d{{1,2}})', '\\1-\\2-\\3'), ':$', ''))"

    def stamp(p: str) -> str:
        def part(k: str, default: str) -> str:
            return f"lpad(coalesce(nullif({p}.{k}, ''), '{default}'), 2, '0')"
        return (f"TRY_CAST({p}.y || '-' || {part('mo', '1')} || '-' || {part('d', '1')} || ' ' || {part('h', '0')} "
                f"|| ':' || {part('mi', '0')} || ':' || {part('s', '0')} AS TIMESTAMP)")

    # minutes east of UTC of an explicit zone (_tp.z); China time is +480
    offset = ("CASE WHEN _tp.z = 'z' THEN 0 WHEN _tp.z <> '' THEN "
              "(CASE WHEN left(_tp.z, 1) = '-' THEN -1 ELSE 1 END) * "
              "(TRY_CAST(substr(replace(_tp.z, ':', ''), 2, 2) AS INTEGER) * 60 "
              "+ TRY_CAST(substr(replace(_tp.z, ':', ''), 4, 2) AS INTEGER)) END")
    epoch = ("CASE WHEN regexp_full_match(_tn, '1\\d{9}') THEN make_timestamp(TRY_CAST(_tn AS BIGINT) * 1000000) "
             "WHEN regexp_full_match(_tn, '1\\d{12}') THEN make_timestamp(TRY_CAST(_tn AS BIGINT) * 1000) END "
             "+ INTERVAL 8 HOUR")
    compact = _let(f"regexp_extract(_tn, '{_COMPACT}', ['y', 'mo', 'd', 'h', 'mi', 's'])", "_tc",
                   f"CASE WHEN _tc.y <> '' THEN {stamp('_tc')} ELSE {epoch} END")
    general = _let(f"regexp_extract(_tn, '{_DATE_TIME}', ['y', 'mo', 'd', 'h', 'mi', 's', 'z'])", "_tp",
                   f"CASE WHEN _tp.y <> '' THEN {stamp('_tp')} + to_minutes(CAST(480 - coalesce({offset}, 480) AS BIGINT)) "
                   f"ELSE {compact} END")
    # the commonest form, 2026-03-01 14:05:09, is a plain cast
    return _let(norm, "_tn", f"CASE WHEN regexp_full_match(_tn, '\\d{{4}}-\\d{{2}}-\\d{{2}} \\d{{2}}:\\d{{2}}:\\d{{2}}') "
                             f"THEN TRY_CAST(_tn AS TIMESTAMP) ELSE {general} END")


def _status_key(col: str) -> str:
    return f"lower(regexp_replace({_text(col)}, '\\s', '', 'g'))"


def known_status_sql(col: str) -> str:
    """The status code of a value: a whole word of STATUS_WORDS (temp table `event_status_words`),
    else by keyword; NULL when the value is empty or not recognized."""
    k = _status_key(col)
    return (f"coalesce((SELECT w.code FROM event_status_words w WHERE w.word = {k}), "
            f"CASE WHEN regexp_matches({k}, '退款|退货|refund|return') THEN 'refunded' "
            f"WHEN regexp_matches({k}, '取消|关闭|作废|cancel|closed|void') THEN 'cancelled' "
            f"WHEN regexp_matches({k}, '^待|等待|处理中|配送|发货|pending|unpaid|processing|ship') THEN 'pending' "
            f"WHEN regexp_matches({k}, '成功|完成|签收|收货|已付款|已支付|complete|success|paid|deliver') THEN 'completed' "
            f"END)")


def status_sql(col: str) -> str:
    """The status code of a value; `other` when it is not recognized, NULL when empty."""
    return f"CASE WHEN {_status_key(col)} IS NOT NULL THEN coalesce({known_status_sql(col)}, 'other') END"


def _status_words(cur: duckdb.DuckDBPyConnection) -> None:
    words = [re.sub(r"\s", "", unicodedata.normalize("NFKC", w).lower()) for w in STATUS_WORDS]
    cur.execute("CREATE OR REPLACE TEMP TABLE event_status_words AS SELECT unnest(?::VARCHAR[]) AS word, "
                "unnest(?::VARCHAR[]) AS code", [words, list(STATUS_WORDS.values())])


def _code_sql(col: str) -> str:
    """An order number or other code: trimmed, without Excel's leading quote."""
    return f"nullif(ltrim({_text(col)}, '''`'), '')"


# field -> SQL parsing the raw value `m.<field>`
def _parsed() -> dict[str, str]:
    return {"order_id": _code_sql("m.order_id"), "event_time": time_sql("m.event_time"),
            "amount": amount_sql("m.amount"), "quantity": whole_number_sql("m.quantity"),
            "product_name": _text("m.product_name"), "product_category": _text("m.product_category"),
            "order_status": status_sql("m.order_status"), "points": whole_number_sql("m.points"),
            "member_level": _text("m.member_level")}


def event_batches(cur: duckdb.DuckDBPyConnection, batch_ids: list[int]) -> list[int]:
    """The batches among `batch_ids` whose columns map to any event field (current mapping)."""
    rows = cur.execute(
        "SELECT DISTINCT b.batch_id FROM batches b JOIN batch_columns c USING (batch_id) "
        "JOIN mapping_entries e ON e.source = b.source AND e.header = c.header "
        "WHERE e.version = (SELECT max(v.version) FROM mapping_versions v WHERE v.source = b.source) "
        "AND list_contains(?::VARCHAR[], e.field) AND list_contains(?::BIGINT[], b.batch_id) ORDER BY 1",
        [list(EVENT_FIELD_NAMES), [int(b) for b in batch_ids]]).fetchall()
    return [r[0] for r in rows]


def build(cur: duckdb.DuckDBPyConnection, batch_ids: list[int]) -> int:
    """(Re)write the events of the given batches from `mapped_records`, for the rows that are in
    `std_records` and hold an event value other than points and the member level (STATE_FIELDS).
    Idempotent. Returns the events written."""
    ids = [int(b) for b in batch_ids]
    if not ids:
        return 0
    cur.execute("DELETE FROM std_events WHERE list_contains(?::BIGINT[], batch_id)", [ids])
    todo = event_batches(cur, ids)
    columns = {r[0] for r in cur.execute("SELECT column_name FROM information_schema.columns "
                                         "WHERE table_name = 'mapped_records'").fetchall()}
    if not todo or not set(EVENT_FIELD_NAMES) <= columns:
        return 0
    _status_words(cur)
    parsed = _parsed()
    present = " OR ".join(f"{_text('m.' + f)} IS NOT NULL" for f in EVENT_FIELD_NAMES if f not in STATE_FIELDS)
    values = ", ".join(f"{sql} AS {f}" for f, sql in parsed.items())
    raw = ", ".join(f"{_text('m.' + f)} IS NOT NULL AS {f}_given" for f in EVENT_FIELD_NAMES)
    failed = ", ".join(f"CASE WHEN {f}_given AND {f} IS NULL THEN '{f}' END"
                       for f in ("event_time", "amount", "quantity", "points"))
    failed += f", CASE WHEN order_status_given AND {known_status_sql('m_status')} IS NULL THEN 'order_status' END"
    before = scalar(cur, "SELECT count(*) FROM std_events")
    cur.execute(
        "INSERT INTO std_events BY NAME SELECT batch_id, row_number, source, "
        f"{', '.join(parsed)}, list_filter([{failed}], lambda x: x IS NOT NULL) AS unparsed FROM ("
        f"SELECT m.batch_id, m.row_number, m.source, {values}, {raw}, m.order_status AS m_status FROM mapped_records m "
        "SEMI JOIN std_records s ON s.batch_id = m.batch_id AND s.row_number = m.row_number "
        f"WHERE list_contains(?::BIGINT[], m.batch_id) AND ({present}))", [todo])
    mark_superseded(cur, ids)
    return int(scalar(cur, "SELECT count(*) FROM std_events")) - int(before)


def mark_superseded(cur: duckdb.DuckDBPyConnection, batch_ids: list[int]) -> int:
    """Set `superseded_at` on every event whose order a later batch of the same source exported
    again, and clear it where that later export is gone, for the sources of `batch_ids` (the batches
    just written or removed). Returns the rows whose mark changed."""
    sources = [r[0] for r in cur.execute(
        "SELECT DISTINCT source FROM batches WHERE list_contains(?::BIGINT[], batch_id)", [batch_ids]).fetchall()]
    if not sources:
        return 0
    before = scalar(cur, "SELECT count(*) FROM std_events WHERE superseded_at IS NOT NULL "
                         "AND list_contains(?::VARCHAR[], source)", [sources])
    latest = ("SELECT source, order_id, max(batch_id) AS latest FROM std_events "
              "WHERE order_id IS NOT NULL AND list_contains(?::VARCHAR[], source) GROUP BY ALL")
    cur.execute(f"UPDATE std_events e SET superseded_at = NULL FROM ({latest}) m WHERE e.source = m.source "
                "AND e.order_id = m.order_id AND e.batch_id = m.latest AND e.superseded_at IS NOT NULL", [sources])
    cur.execute(f"UPDATE std_events e SET superseded_at = ? FROM ({latest}) m "
                "WHERE e.source = m.source AND e.order_id = m.order_id AND e.batch_id < m.latest "
                "AND e.superseded_at IS NULL", [utcnow(), sources])
    after = scalar(cur, "SELECT count(*) FROM std_events WHERE superseded_at IS NOT NULL "
                        "AND list_contains(?::VARCHAR[], source)", [sources])
    return abs(int(after) - int(before))


# ---- one value at a time, with the same SQL as `build` (tests, previews) ----------------------

def _one(sql: str, value: str | None, status: bool = False):
    con = duckdb.connect()
    try:
        if status:
            _status_words(con)
        return con.execute(f"SELECT {sql} FROM (SELECT ?::VARCHAR AS v) m", [value]).fetchone()[0]  # type: ignore[index]
    finally:
        con.close()


def parse_amount(value: str | None) -> Decimal | None:
    return _one(amount_sql("m.v"), value)


def parse_time(value: str | None) -> datetime | None:
    """China time, naive."""
    return _one(time_sql("m.v"), value)


def parse_status(value: str | None) -> str | None:
    return _one(status_sql("m.v"), value, status=True)


def parse_whole_number(value: str | None) -> int | None:
    return _one(whole_number_sql("m.v"), value)

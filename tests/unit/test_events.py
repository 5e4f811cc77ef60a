"""Purchases and orders: event fields mapped by header and content, parsed in SQL into std_events,
and each event under its OneID in customer_events, where refunds and cancellations spend nothing."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from governance import pipeline
from governance.access import masking
from governance.events import events
from governance.privacy import erasure
from governance.sources import mapping
from governance.store.errors import MappingError
from governance.store.schema import EVENT_FIELD_NAMES, FIELD_NAMES
from helpers import load_generated

# 18-digit order numbers that are also valid resident IDs (GB 11643 check digit, real birth date)
ORDER_NUMBERS_LIKE_IDS = ["11010519491231002X", "440305199003071234", "110105194912310037"]
ORDERS_CSV = (
    "订单号,收货人,手机号,商品名称,类目,数量,实付金额,下单时间,订单状态,积分,会员等级\n"
    "DD001,张三,13800138000,保湿面膜,美妆护肤,2,\"¥1,197.60\",2026-03-01 14:05:09,已完成,120,金卡\n"
    "DD002,张三,13800138000,洁面乳,美妆护肤,1,478.00,2026/3/2 9:30,已退款,,金卡\n"
    "DD003,李四,13912345678,坚果礼盒,食品饮料,３件,￥８８．００,2026年3月3日 10时15分,交易关闭,,\n"
    "DD004,李四,13912345678,冻干咖啡,食品饮料,1,免费,明天,售后处理,,\n"
    ",王五,13712345678,,,,,,,,\n"
)


def _load(db, tmp_path, text: str = ORDERS_CSV, source: str = "shop"):
    path = tmp_path / f"{source}.csv"
    path.write_text(text, encoding="utf-8")
    return pipeline.load_file(db, "t", path, source=source, channel="tmall")


def _events(db, batch_id: int) -> list[tuple]:
    with db.cursor() as cur:
        return cur.execute("SELECT row_number, order_id, event_time, amount, quantity, product_name, product_category, "
                           "order_status, points, member_level, unparsed FROM std_events WHERE batch_id = ? "
                           "ORDER BY row_number", [batch_id]).fetchall()


# ---- parsing ------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, value", [
    ("478.00", Decimal("478.00")), ("¥1,197.60", Decimal("1197.60")), ("￥１，１９７．６０", Decimal("1197.60")),
    ("RMB 88", Decimal("88.00")), ("59.9元", Decimal("59.90")), ("-12.50", Decimal("-12.50")),
    ("免费", None), ("1e5", None), ("", None), ("-", None)])
def test_amounts_parse_to_decimals(raw, value):
    got = events.parse_amount(raw)
    assert got == value and (got is None or isinstance(got, Decimal))


@pytest.mark.parametrize("raw, value", [
    ("2026-03-01 14:05:09", datetime(2026, 3, 1, 14, 5, 9)), ("2026/3/1 14:05", datetime(2026, 3, 1, 14, 5)),
    ("2026.03.01", datetime(2026, 3, 1)), ("2026年3月1日 14时05分", datetime(2026, 3, 1, 14, 5)),
    ("20260301", datetime(2026, 3, 1)),
    ("2026-03-01T06:05:09Z", datetime(2026, 3, 1, 14, 5, 9)),  # UTC, in China time
    ("2026-03-01T01:05:09-05:00", datetime(2026, 3, 1, 14, 5, 9)),
    ("1772345109", datetime(2026, 3, 1, 14, 5, 9)),  # Unix seconds
    ("2026-13-01", None), ("明天", None), ("", None)])
def test_times_parse_to_china_time(raw, value):
    assert events.parse_time(raw) == value


@pytest.mark.parametrize("raw, code", [
    ("已完成", "completed"), ("交易成功", "completed"), ("paid", "completed"), ("已退款", "refunded"),
    ("退款成功", "refunded"), ("Refunded", "refunded"), ("已取消", "cancelled"), ("交易关闭", "cancelled"),
    ("卖家已发货，等待买家确认", "pending"), ("待付款", "pending"), ("售后中", "other"), ("xyz", "other"), ("", None)])
def test_statuses_parse_to_codes(raw, code):
    assert events.parse_status(raw) == code


# ---- mapping ------------------------------------------------------------------------------------

def test_event_headers_map_to_event_fields():
    headers = ["订单编号", "实付金额", "支付时间", "交易状态", "商品", "品类", "件数", "积分", "会员级别", "姓名"]
    got = mapping.suggest(headers, [[] for _ in headers])
    assert [s.field for s in got] == ["order_id", "amount", "event_time", "order_status", "product_name",
                                      "product_category", "quantity", "points", "member_level", "name"]


def test_event_fields_are_found_by_content():
    headers = ["col_a", "col_b", "col_c"]
    samples = [["478.00", "¥1,197.60", "59.90", "￥88.00"], ["已完成", "已退款", "交易成功", "paid"], ["1", "2", "3", "1"]]
    got = mapping.suggest(headers, samples)
    assert [s.field for s in got] == ["amount", "order_status", None]
    assert all(s.method == "content" for s in got[:2])
    # a discount or a freight column holds amounts that nobody paid
    for header in ("优惠金额", "累计消费"):  # a discount; a member's lifetime spend
        [s] = mapping.suggest([header], [["10.00", "5.00", "20.00"]])
        assert s.field is None


@pytest.mark.parametrize("header", ["订单号", "订单编号", "Order No", "交易流水号"])
def test_an_order_number_header_is_never_a_person_identifier(header):
    [s] = mapping.suggest([header], [ORDER_NUMBERS_LIKE_IDS])
    assert s.field == "order_id"
    for other in ("快递单号", "关联订单号"):  # a tracking number; a support ticket's related order
        [s] = mapping.suggest([other], [ORDER_NUMBERS_LIKE_IDS])
        assert s.field is None


def test_validate_accepts_event_fields_once():
    assert mapping.validate({"订单号": "order_id", "金额": "amount"}) == {"订单号": "order_id", "金额": "amount"}
    with pytest.raises(MappingError):
        mapping.validate({"实付金额": "amount", "订单金额": "amount"})
    assert not set(EVENT_FIELD_NAMES) & set(FIELD_NAMES)  # event fields are no person attributes
    # no personal information: an analyst sees an amount as it is, a column of no field stays masked
    assert masking.mask_value("amount", "478.00", "analyst", masking.DEFAULT_POLICY) == "478.00"
    assert masking.mask_value(None, "478.00", "analyst", masking.DEFAULT_POLICY) != "478.00"


# ---- std_events ---------------------------------------------------------------------------------

def test_standardizing_writes_parsed_events_and_is_idempotent(db, tmp_path):
    loaded = _load(db, tmp_path)
    batch = loaded.ingested.batch_id
    assert loaded.ingested.mapping["订单号"] == "order_id" and loaded.ingested.mapping["会员等级"] == "member_level"
    rows = _events(db, batch)
    assert rows == [
        (1, "DD001", datetime(2026, 3, 1, 14, 5, 9), Decimal("1197.60"), 2, "保湿面膜", "美妆护肤", "completed", 120, "金卡", []),
        (2, "DD002", datetime(2026, 3, 2, 9, 30), Decimal("478.00"), 1, "洁面乳", "美妆护肤", "refunded", None, "金卡", []),
        (3, "DD003", datetime(2026, 3, 3, 10, 15), Decimal("88.00"), 3, "坚果礼盒", "食品饮料", "cancelled", None, None, []),
        (4, "DD004", None, None, 1, "冻干咖啡", "食品饮料", "other", None, None, ["event_time", "amount", "order_status"]),
    ]  # row 5 holds no event value: no event
    with db.cursor() as cur:
        person_columns = {r[0] for r in cur.execute("SELECT column_name FROM information_schema.columns "
                                                    "WHERE table_name = 'std_records'").fetchall()}
    assert not person_columns & set(EVENT_FIELD_NAMES)
    pipeline.standardize(db, "t", [batch])
    pipeline.standardize(db, "t", [batch])
    assert _events(db, batch) == rows
    # the steward unmaps the event columns: the batch is re-standardized and its events go
    mapping.update(db, "t", "shop", {h: None for h, f in loaded.ingested.mapping.items() if f in EVENT_FIELD_NAMES})
    pipeline.standardize(db, "t")
    assert _events(db, batch) == []


def test_customer_events_follow_the_crosswalk_and_refunds_spend_nothing(db, tmp_path):
    batch = _load(db, tmp_path).ingested.batch_id
    with db.transaction() as cur:  # two people, as a resolve would place them
        cur.execute("INSERT INTO crosswalk SELECT ? * 4294967296 + r, ?, r, 'shop', "
                    "CASE WHEN r <= 2 THEN 'OID-A' ELSE 'OID-B' END, 'test', 1 FROM range(1, 6) t(r)", [batch, batch])
    with db.cursor() as cur:
        got = cur.execute("SELECT oneid, source, channel, row_number, type, order_id, amount, spend, order_status "
                          "FROM customer_events ORDER BY row_number").fetchall()
        totals = cur.execute("SELECT oneid, sum(spend) FROM customer_events GROUP BY 1 ORDER BY 1").fetchall()
    assert got == [("OID-A", "shop", "tmall", 1, "order", "DD001", Decimal("1197.60"), Decimal("1197.60"), "completed"),
                   ("OID-A", "shop", "tmall", 2, "order", "DD002", Decimal("478.00"), Decimal("0.00"), "refunded"),
                   ("OID-B", "shop", "tmall", 3, "order", "DD003", Decimal("88.00"), Decimal("0.00"), "cancelled"),
                   ("OID-B", "shop", "tmall", 4, "order", "DD004", None, None, "other")]
    assert totals == [("OID-A", Decimal("1197.60")), ("OID-B", Decimal("0.00"))]


def test_a_receipt_without_order_number_or_status_is_a_purchase(db, tmp_path):
    batch = _load(db, tmp_path, "会员卡号,手机,消费日期,消费金额,积分\nVIP001,13800138000,20260301,299.00,299\n",
                  source="pos").ingested.batch_id
    with db.transaction() as cur:
        cur.execute("INSERT INTO crosswalk VALUES (? * 4294967296 + 1, ?, 1, 'pos', 'OID-P', 'test', 1)", [batch, batch])
    with db.cursor() as cur:
        assert cur.execute("SELECT type, event_time, spend, points FROM customer_events").fetchall() == [
            ("purchase", datetime(2026, 3, 1), Decimal("299.00"), 299)]


def test_a_member_list_with_tiers_and_points_is_no_purchase(db, tmp_path):
    batch = _load(db, tmp_path, "会员卡号,手机,会员等级,积分,消费日期\nVIP001,13800138000,金卡,500,\n"
                                "VIP002,13912345678,银卡,80,2026-03-01\n", source="crm").ingested.batch_id
    assert [(r[0], r[8], r[9]) for r in _events(db, batch)] == [(2, 80, "银卡")]


def test_erasure_removes_a_persons_events(db, tmp_path):
    batch = _load(db, tmp_path).ingested.batch_id
    with db.transaction() as cur:
        counts = erasure.erase(cur, [(batch, 1), (batch, 2)])
    assert counts["std_events"] == 2
    assert [r[0] for r in _events(db, batch)] == [3, 4]


def test_the_generated_workspace_has_purchase_histories(db, tmp_path):
    load_generated(db, tmp_path / "d", 200, seed=11)
    with db.cursor() as cur:
        by_source = dict(cur.execute("SELECT source, count(*) FROM std_events GROUP BY 1").fetchall())
        statuses = {r[0] for r in cur.execute("SELECT DISTINCT order_status FROM std_events").fetchall()}
        unparsed = cur.execute("SELECT count(*) FROM std_events WHERE len(unparsed) > 0 AND source <> 'douyin_orders'").fetchone()[0]
        pos = cur.execute("SELECT count(*), count(event_time), count(amount), count(points), count(member_level) "
                          "FROM std_events WHERE source = 'pos_sales'").fetchone()
        spend = cur.execute("SELECT count(*) FILTER (order_status IN ('refunded', 'cancelled') AND spend = 0), "
                            "count(*) FILTER (order_status IN ('refunded', 'cancelled')), count(DISTINCT oneid), "
                            "count(DISTINCT channel) FROM customer_events").fetchone()
        records = dict(cur.execute("SELECT source, count(*) FROM std_records GROUP BY 1").fetchall())
    assert set(by_source) == {"douyin_orders", "tmall_orders", "pos_sales"}
    assert all(by_source[s] == records[s] for s in by_source)  # every order or receipt row is an event
    assert {"completed", "refunded", "cancelled", "pending"} <= statuses
    assert unparsed == 0 and pos[0] == pos[1] == pos[2] == pos[3] == pos[4]
    assert spend[0] == spend[1] > 0 and spend[2] > 100 and spend[3] == 3

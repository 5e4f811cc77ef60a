"""The fast audience count equals the straightforward SQL: correlated tag lookups, event aggregates grouped
over the customer_events view for every OneID, the consent_current view pivoted. Rules cover every test
kind (golden fields, tags, event tests a metric tag holds, other event tests, nested audiences, any/not),
and the lean consent pivot equals the view (expiry, withdrawal after a grant, records tied to an uploaded
row and records tied to a OneID)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from governance import pipeline
from governance.access import auth
from governance.audiences import library, members, rules
from governance.privacy import consent
from governance.store.util import utcnow
from governance.tags import compute, conditions
from governance.tags import library as tag_library
from helpers import build_template, store_copy

D = date(2026, 3, 31)
CRM = ("会员卡号,姓名,手机号,营销同意,出生日期,省份,UnionID\n"
       "M1,王建国,13957112233,是,2001-03-31,广东省,\n"
       "M2,刘晓梅,13671234598,否,1980-01-01,浙江省,\n"
       "M3,赵丽华,13812345670,,1995-07-15,广东省,o6_bmasdasdsad6_2sgVt7hMZOPfL\n"
       "M4,孙伟,13598765432,是,1970-05-05,江苏省,\n"
       "M5,周小明,13722223333,是,2015-08-08,广东省,\n"
       "M6,吴芳,13633334444,是,1999-09-09,广东省,\n"
       "M7,陈志强,,是,1985-02-02,广东省,\n")
SHOP_HEADER = "订单号,姓名,手机号,商品名称,类目,实付金额,下单时间,订单状态\n"
SHOP = [  # (order, name, mobile, product, category, amount, time, status)
    ("DD001", "王建国", "13957112233", "面膜", "美妆", "100.00", "2026-03-31 23:59:00", "已完成"),
    ("DD001", "王建国", "13957112233", "精华", "美妆", "20.00", "2026-03-31 23:59:00", "已完成"),
    ("DD002", "王建国", "13957112233", "洁面乳", "美妆", "478.00", "2026-03-30 10:00:00", "已退款"),
    ("DD003", "王建国", "13957112233", "坚果", "食品", "50.00", "2025-04-01 00:00:01", "已完成"),
    ("DD004", "王建国", "13957112233", "坚果", "食品", "70.00", "2025-03-31 10:00:00", "已完成"),
    ("DD005", "王建国", "13957112233", "咖啡", "食品", "30.00", "2026-04-20 10:00:00", "已完成"),  # after D
    ("DD010", "刘晓梅", "13671234598", "咖啡", "食品", "3000.00", "2026-03-20 10:00:00", "已完成"),
    ("DD020", "赵丽华", "13812345670", "外套", "服饰", "300.00", "2026-03-15 10:00:00", "已完成"),
    ("DD030", "孙伟", "13598765432", "茶叶", "食品", "80.00", "2025-12-31 10:00:00", "已完成"),
    ("DD031", "孙伟", "13598765432", "茶叶", "食品", "20.00", "2025-06-01 10:00:00", "已完成"),
    ("DD040", "周小明", "13722223333", "鞋", "服饰", "60.00", "2026-02-02 10:00:00", "已完成"),
]
POS = "会员卡号,姓名,手机,消费日期,消费金额,积分\nVIP001,吴芳,13633334444,2026-01-10,200.00,200\n"

SPEND_365 = {"event": "spend", "days": 365, "gte": 150}
RULES = [
    {"field": "province", "eq": "广东省"},
    {"all": [{"field": "age", "gte": 18}, {"field": "channels", "in": ["tmall"]}]},
    {"tag": "lifecycle_stage", "in": ["active", "new"]},
    {"not": {"tag": "lifecycle_stage", "eq": "churned"}},
    {"tag": "rfm_recency_days", "lte": 120},
    {"tag": "age_band", "is_null": True},
    SPEND_365,
    {"not": SPEND_365},
    {"event": "orders", "days": 365, "gte": 2},
    {"event": "last_order_days", "lte": 60},
    {"any": [{"event": "last_order_days", "is_null": True}, {"field": "province", "eq": "江苏省"}]},
    {"event": "spend", "days": 30, "gt": 0},
    {"event": "orders", "category": ["食品"], "gte": 1},
    {"event": "spend", "days": 365, "channel": ["pos"], "gt": 0},
    {"event": "first_order_days", "gte": 300},
    {"all": [{"tag": "lifecycle_stage", "in": ["active", "new", "dormant"]}, {"field": "province", "eq": "广东省"},
             {"event": "spend", "days": 365, "gte": 100}, {"event": "orders", "days": 90, "gte": 1},
             {"not": {"audience": "food"}}]},
    {"any": [{"audience": "food"}, {"event": "spend", "days": 365, "lt": 50}]},
]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """The seeded store, built once per module; each test gets its own copy."""
    folder = tmp_path_factory.mktemp("audiences_count_template")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "refresh_tags", lambda *args, **kwargs: None)  # tags as of D below
        return build_template(folder / "test.duckdb", lambda db: build(db, folder))


@pytest.fixture
def store(template, tmp_path):
    with store_copy(template, tmp_path / "test.duckdb") as db:
        yield db


def build(db, folder: Path) -> None:
    shop = SHOP_HEADER + "".join(",".join(r) + "\n" for r in SHOP)
    for name, text, channel in (("crm", CRM, "crm"), ("shop", shop, "tmall"), ("pos", POS, "pos")):
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
        pipeline.load_file(db, "t", folder / f"{name}.csv", source=name, channel=channel)
    auth.create_user(db, "t", "s1", "a long enough password", "steward")
    pipeline.resolve(db, "t", use_model=False)
    with db.transaction() as cur:
        tag_library.ensure_builtins(cur)
    compute.compute(db, "t", as_of=D, full=True)
    ids = oneids(db)
    consent.grant(db, "s1", ids["周小明"], consent.GUARDIAN, method="written", expires_at=utcnow() - timedelta(days=1))
    consent.grant(db, "s1", ids["赵丽华"], "analytics", method="written")
    consent.withdraw(db, "s1", ids["孙伟"], "marketing", method="verbal")  # after the imported grant
    consent.grant(db, "s1", ids["吴芳"], "marketing", expires_at=utcnow() - timedelta(days=1))
    consent.grant(db, "s1", ids["陈志强"], "analytics")
    with db.transaction() as cur:  # a record tied to a OneID only, and one to an uploaded row under an old OneID
        cur.execute("INSERT INTO consent_records VALUES (nextval('consent_seq'), ?, NULL, NULL, 'analytics', "
                    "'granted', NULL, ?, 'other', NULL, NULL, 't', NULL, ?)", [ids["王建国"], datetime(2026, 1, 1), utcnow()])
        row = cur.execute("SELECT batch_id, row_number FROM crosswalk WHERE oneid = ? ORDER BY rec_id LIMIT 1",
                          [ids["刘晓梅"]]).fetchone()
        cur.execute("INSERT INTO consent_records VALUES (nextval('consent_seq'), 'OID-OLD', ?, ?, 'analytics', "
                    "'granted', NULL, ?, 'other', NULL, NULL, 't', NULL, ?)", [*row, datetime(2026, 1, 2), utcnow()])
    library.save(db, "s1", "food", {"event": "orders", "category": ["食品"], "gte": 2}, "marketing")


def oneids(db) -> dict[str, str]:
    with db.cursor() as cur:
        return dict(cur.execute("SELECT name, oneid FROM golden_wide").fetchall())


def slow_reasons(cur, rule, purpose: str, channel: str, as_of: date) -> str:
    """The straightforward SQL: tag tests as correlated lookups, every aggregate grouped over the
    customer_events view for every OneID, the consent_current view pivoted."""
    compiled = rules.compile_rule(rule, as_of, lambda name: members.saved_rule(cur, name))
    source = "golden_wide g"
    if compiled.aggregates:
        source += f" LEFT JOIN ({conditions.aggregates_sql(compiled.aggregates, as_of)}) m ON m.oneid = g.oneid"
    pivot = (f"SELECT oneid, max(state) FILTER (WHERE purpose = '{purpose}') AS state, "
             f"bool_or(purpose = 'guardian' AND state = 'granted') AS guardian "
             f"FROM consent_current WHERE purpose IN ('{purpose}', 'guardian') GROUP BY oneid")
    reason = ("CASE WHEN k.state IS NULL THEN 'no_consent' WHEN k.state <> 'granted' THEN 'withdrawn' "
              "WHEN coalesce(g.is_minor, false) AND NOT coalesce(k.guardian, false) THEN 'minor' "
              f"WHEN NOT ({members.contact_sql(channel)}) THEN 'no_contact' END")
    return f"SELECT g.oneid, {reason} AS reason FROM {source} LEFT JOIN ({pivot}) k ON k.oneid = g.oneid WHERE {compiled.sql}"


def test_the_count_reads_the_tags_date_and_their_metric_values(store):
    with store.cursor() as cur:
        assert members.as_of_date(cur) == D  # not today: the tags' date
        assert set(members.metric_tags(cur, D).values()) == {"rfm_monetary_365", "rfm_frequency_365", "rfm_recency_days"}
        assert members.metric_tags(cur, date(2026, 3, 1)) == {}  # another date: the events are grouped
        fast = members.matched_sql(cur, {"all": [SPEND_365, {"event": "last_order_days", "lte": 60}]})
        assert "std_events" not in fast and "rfm_monetary_365" in fast and "tag_values v" not in fast
        assert "std_events" in members.matched_sql(cur, SPEND_365, as_of=date(2026, 3, 1))


@pytest.mark.parametrize("purpose,channel", [("marketing", "sms"), ("analytics", "csv"), ("marketing", "wechat")])
def test_fast_reasons_equal_the_straightforward_sql_for_every_test_kind(store, purpose, channel):
    with store.cursor() as cur:
        for as_of in (None, date(2026, 3, 1)):  # the tags' date (metric tags read), another date (events grouped)
            for rule in RULES:
                fast = set(cur.execute(members.reasons_sql(cur, rule, purpose, channel, as_of=as_of)).fetchall())
                slow = set(cur.execute(slow_reasons(cur, rule, purpose, channel, as_of or D)).fetchall())
                assert fast == slow, (rule, as_of)
                assert set(cur.execute(members.matched_sql(cur, rule, as_of)).fetchall()) == {(o,) for o, _ in slow}
    # the rules are not trivial: they match different people, and every reason occurs somewhere
    with store.cursor() as cur:
        matched = {frozenset(cur.execute(members.matched_sql(cur, r)).fetchall()) for r in RULES}
        reasons = {r for rule in RULES for _, r in cur.execute(members.reasons_sql(cur, rule, "marketing", "sms")).fetchall()}
    assert len(matched) >= 10 and reasons == {None, "no_consent", "withdrawn", "minor", "no_contact"}


def test_the_count_equals_the_straightforward_count(store):
    rule = RULES[-2]
    with store.cursor() as cur:
        slow = cur.execute(f"SELECT count(*) FILTER (WHERE reason IS NULL), count(*) FILTER (WHERE reason = 'withdrawn') "
                           f"FROM ({slow_reasons(cur, rule, 'marketing', 'sms', D)})").fetchone()
        found = members.count(cur, rule, "marketing", "sms")
    assert (found.members, found.excluded["withdrawn"]) == slow and found.members + sum(found.excluded.values()) > 0


def test_lean_consent_pivot_equals_the_view(store):
    ids = oneids(store)
    with store.cursor() as cur:
        for purpose in consent.PURPOSES:
            view = {o: (s, bool(g)) for o, s, g in cur.execute(
                f"SELECT oneid, max(state) FILTER (WHERE purpose = '{purpose}'), "
                f"bool_or(purpose = 'guardian' AND state = 'granted') FROM consent_current "
                f"WHERE purpose IN ('{purpose}', 'guardian') GROUP BY oneid").fetchall()}
            lean = {o: (s, bool(g)) for o, s, g in cur.execute(members.consent_sql(purpose)).fetchall()}
            assert lean == view, purpose
        marketing = {o: s for o, s, _ in cur.execute(members.consent_sql("marketing")).fetchall()}
        analytics = {o: s for o, s, _ in cur.execute(members.consent_sql("analytics")).fetchall()}
    assert marketing[ids["孙伟"]] == "withdrawn" and marketing[ids["吴芳"]] == "expired"  # withdrawn after; expired
    assert marketing[ids["王建国"]] == "granted" and marketing[ids["刘晓梅"]] == "withdrawn"
    assert ids["赵丽华"] not in marketing
    # tied to a OneID only; tied to an uploaded row, which belongs to its OneID now
    assert analytics[ids["王建国"]] == analytics[ids["刘晓梅"]] == "granted" and "OID-OLD" not in analytics

"""The SQL fast paths claim only values whose Python normalizer gives exactly the same result."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance import pipeline, synth
from governance.standardize import engine, fastpaths
from governance.standardize import normalizers as N
from helpers import load_generated

CHANNEL_FIELDS = ("wechat_open_id", "wechat_app_id", "wechat_union_id", "douyin_id", "ecommerce_buyer_id", "member_card")
FAST_FIELDS = ("mobile", "id_card", "email", "address", "registered_at", "updated_at", "birth_date",
               "name") + CHANNEL_FIELDS


def claimed(field: str, values: list[str]) -> dict[str, tuple]:
    """What the fast path of `field` makes of each value it claims: raw -> (value, status, reason, extra)."""
    con = duckdb.connect()
    new = pa.table({"raw": pa.array(sorted(set(values)), pa.string())})  # noqa: F841 (read by DuckDB)
    con.execute("CREATE TEMP TABLE std_new AS SELECT raw FROM new")
    fastpaths.claim(con, field)
    return {raw: (value, status, reason, json.loads(extra) if extra else None)
            for raw, value, status, reason, extra in con.execute("SELECT * FROM std_fast").fetchall()}


def python_results(field: str, values: list[str]) -> dict[str, tuple]:
    return {raw: (value, status, reason, json.loads(extra) if extra else None)
            for raw, (value, status, reason, extra) in zip(values, engine.normalize_values(field, values))}


def assert_agree(field: str, values: list[str]) -> int:
    """Every claimed value standardizes exactly as in Python; returns how many were claimed."""
    fast = claimed(field, values)
    expected = python_results(field, list(fast))
    wrong = {raw: (got, expected[raw]) for raw, got in fast.items() if got != expected[raw]}
    assert not wrong, f"{field}: {list(wrong.items())[:5]}"
    return len(fast)


def _id(region: str, birth: date, seq: int = 123) -> str:
    return synth.make_id_card(region, birth, seq)


def _years_ago(today: date, years: int, days: int = 0) -> date:
    try:
        d = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        d = today.replace(year=today.year - years, day=28)
    return d + timedelta(days=days)


TODAY = N._today_cst()


@pytest.fixture(autouse=True)
def same_day(monkeypatch):
    """The edge values below are built from TODAY at import, while the normalizers and fast paths read
    the clock when they run: both see TODAY, or a run across midnight in China would see two days."""
    limit = datetime.combine(TODAY, datetime.min.time()) + timedelta(days=1, hours=12)
    monkeypatch.setattr(N, "_clock", lambda: [0, TODAY, limit.strftime("%Y-%m-%d %H:%M:%S"), limit])


EDGES: dict[str, list[str]] = {
    "mobile": ["13912345678", "17001234567", "16512345678", "14512345678", "14712345678", "17491234567",
               "17400123456", "19212345678", "13800138000", "13888888888", "13312345678", "12345678901",
               "18611111111", "15987654321", "14012345678", "10012345678", "1391234567", "139123456789",
               "+8613912345678", "139-1234-5678", "１３９１２３４５６７８", "13912345678.0", "139****5678"],
    "id_card": [_id("110105", date(1949, 12, 31)), _id("110105", date(1990, 1, 1)).lower(),
                "11010519491231002X", "11010519491231002x", "110101199001011234", "110105194912310021",
                _id("810000", date(1990, 1, 1)), _id("830000", date(1990, 1, 1)), _id("710000", date(1990, 1, 1)),
                _id("910000", date(1990, 1, 1)), _id("990000", date(1990, 1, 1)), _id("000000", date(1990, 1, 1)),
                _id("110105", date(1900, 1, 1)), _id("110105", date(1799, 12, 31)), _id("110105", date(1800, 1, 1)),
                _id("110105", TODAY + timedelta(days=1)), _id("110105", TODAY),
                _id("110105", _years_ago(TODAY, 14)), _id("110105", _years_ago(TODAY, 14, 1)),
                _id("110105", _years_ago(TODAY, 14, -1)), _id("110105", _years_ago(TODAY, 120)),
                _id("110105", _years_ago(TODAY, 121)), _id("110105", _years_ago(TODAY, 120, 1)),
                _id("110105", date(2012, 2, 29)), _id("123456", date(1990, 1, 1)), "111111111111111111",
                "110105199002301234", "11010519900230123X", "110105900101123", " 11010519491231002X"],
    "email": ["zhang.wei@qq.com", "Zhang.Wei@QQ.COM", "zhang_wei+tag@163.com", "zw@qq.con", "zw@gmial.com",
              "test@qq.com", "123@qq.com", "none@163.com", "TEST@qq.com", "zw@example.com", "zw@company.cn",
              "a" * 64 + "@qq.com", "a" * 65 + "@qq.com", "zw..x@qq.com", ".zw@qq.com", "zw.@qq.com",
              "zw@qq.com.", "zw @qq.com", "zw@qq.com,zw2@qq.com", "张伟@qq.com", "zw@QQ.com", "zw@vip.qq.com",
              "zw@@qq.com", "z-w@foxmail.com"],
    "address": ["二环路东二段422号阳光花园8栋1302室", "长江西路931号", "中山北路63号", "无", "暂无", "NA", "#NA", "-",
                "B2-1201", "北京市朝阳区建国路88号", "建国路 88号", "建国路88号*", "ＡＢＣ大厦", "ABC大厦", "x",
                "地址:幸福里3号", "中国幸福里3号", "幸福里3号\u200b", "\u4e00" * 130 + "海淀",
                "南京东路926号", "南京1路3号", "南京鼓楼医院", "内蒙古路1号", "海南路5号", "地址幸福里3号",
                "China南京路1号", "和平里小区2栋", "朝阳区建国路88号", "建国路88号朝阳区", "上海市南京东路1号",
                "中华人民共和国幸福里", "详细地址南京东路1号"],
    "registered_at": ["2024-01-02 03:04:05", "1971-01-01 00:00:00", "1970-12-31 23:59:59", "2024-02-30 00:00:00",
                      "2024-01-02 24:00:00", "2024-01-02 23:60:00", "2024-01-02 23:59:60", "9999-12-31 23:59:59",
                      (TODAY + timedelta(days=3)).isoformat() + " 00:00:00", "2024-01-02T03:04:05",
                      "2024-1-2 03:04:05", "2024-01-02", "1700000000"],
    "birth_date": ["1990-01-02", "1970-01-01", "1900-12-31", "1901-01-01", "2023-02-29", "2024-02-29",
                   TODAY.isoformat(), (TODAY + timedelta(days=1)).isoformat(), "1990/01/02", "19900102",
                   "0000-00-00", "1990-13-01"],
    "member_card": ["M0001", "null", "NULL", "x", "---", "__", "1e5", "1E12", "0", "-1", "12345.0", "a" * 40,
                    "a" * 41, "VIP 001", "会员001", "M*01", "true", "undefined"],
    "wechat_open_id": ["oAbCdEfGhIjKlMnOpQrStUvWxYz1", "o" * 15, "-" * 20, "_" * 16, "oAbC dEfGhIjKlMnOp",
                       "o" * 64, "o" * 65, "oAbCdEfGhIjKl.MnOp"],
    "wechat_app_id": ["wx1234567890abcdef", "wx1234567890ABCDEF", "wx1234567890abcde", "wxwxwxwxwxwxwxwxwx"],
    "douyin_id": ["dy_1234", "abc", "null", "openid", "a:b:cd", "abc.def", "1" * 128, "1" * 129],
    "name": ["张伟", "张 伟", "张  伟", " 张伟", "张伟 ", "单雄信", "曾国藩", "解缙", "欧阳娜娜", "欧阳", "司马光", "長孫無忌",
             "歐陽娜娜", "諸葛亮", "單雄信", "乾隆", "藉口", "李", "龘", "兙", "王兙", "兙伟", "张伟先生", "王老师", "王总", "李女士",
             "微信用户", "微信 用户", "测试", "无", "未知", "阿里巴巴集团", "张三有限公司", "张伟伟伟伟伟", "张伟伟伟伟伟伟",
             "张·伟", "张伟1", "Zhang Wei", "张伟Wei", "ＺＨＡＮＧ", "張偉", "楊一諾", "小明", "先生", "会员"],
    "ecommerce_buyer_id": ["t_buyer_01", "tb 01", "淘宝用户123", "nil", "a" * 128, "a" * 129, "n/a"],
}
EDGES["updated_at"] = EDGES["registered_at"]
EDGES["wechat_union_id"] = EDGES["wechat_open_id"]


@pytest.mark.parametrize("field", FAST_FIELDS)
def test_edge_values_agree(field):
    assert assert_agree(field, EDGES[field]) >= 1


def test_fast_paths_reject_what_python_flags():
    """Spot checks that the traps above are left to Python (not merely agreed upon)."""
    mobile = claimed("mobile", EDGES["mobile"])
    assert "13912345678" in mobile and mobile["17001234567"][2] == "MOBILE_MVNO"
    assert not {"14512345678", "17491234567", "13800138000", "18611111111", "15987654321"} & mobile.keys()
    ids = claimed("id_card", EDGES["id_card"])
    assert "11010519491231002X" in ids and "11010519491231002x" in ids and "110101199001011234" not in ids
    assert ids[_id("110105", _years_ago(TODAY, 14, 1))][3]["is_minor"] is True
    assert ids[_id("110105", _years_ago(TODAY, 14))][3]["is_minor"] is False
    assert _id("110105", _years_ago(TODAY, 121)) not in ids and _id("810000", date(1990, 1, 1)) not in ids
    emails = claimed("email", EDGES["email"])
    assert emails["Zhang.Wei@QQ.COM"][0] == "Zhang.Wei@qq.com"
    assert not {"test@qq.com", "zw@qq.con", "zw@company.cn", "a" * 65 + "@qq.com"} & emails.keys()
    assert not {"null", "1e5", "---", "x"} & claimed("member_card", EDGES["member_card"]).keys()
    names = claimed("name", EDGES["name"])
    assert names["张 伟"][0] == "张伟" and names["单雄信"][3]["pinyin"] == "shanxiongxin"
    assert names["欧阳娜娜"][3]["family_name"] == "欧阳" and names["欧阳"][3]["family_name"] == "欧"
    assert names["歐陽娜娜"][3]["simplified"] == "欧阳娜娜" and names["李"][2] == "NAME_SURNAME_ONLY"
    assert names["單雄信"][3]["pinyin"] == "shanxiongxin" and names["王兙"][3]["pinyin"] == "wang"
    assert not {"张  伟", "张伟先生", "王老师", "微信 用户", "测试", "阿里巴巴集团", "张伟伟伟伟伟伟", "兙伟", "张·伟"} & names.keys()
    addresses = claimed("address", EDGES["address"])
    assert {"二环路东二段422号阳光花园8栋1302室", "长江西路931号", "南京东路926号", "和平里小区2栋"} <= addresses.keys()
    assert not {"北京市朝阳区建国路88号", "建国路88号朝阳区", "南京鼓楼医院", "内蒙古路1号", "中国幸福里3号",
                "无", "#NA", "建国路 88号"} & addresses.keys()


def test_generated_values_agree_and_most_are_claimed(tmp_path):
    csv = tmp_path / "bench.csv"
    synth.write_benchmark_csv(csv, 3000, seed=5)
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{csv}', all_varchar = true)")
    for column, field, share in (("mobile", "mobile", 0.8), ("id_card", "id_card", 0.9), ("email", "email", 0.9),
                                 ("registered_at", "registered_at", 0.95), ("birth_date", "birth_date", 0.5),
                                 ("customer_id", "member_card", 0.95), ("address", "address", 0.3), ("name", "name", 0.9)):
        values = [r[0] for r in con.execute(f"SELECT DISTINCT {column} FROM t WHERE {column} IS NOT NULL").fetchall()]
        assert assert_agree(field, values) >= share * len(values), field


def test_multichannel_workspace_standardizes_the_same_without_shortcuts(db, tmp_path, monkeypatch):
    """End to end: std_records are identical with and without the fast paths, and when the fields a
    batch lacks are not joined with the cache. Fast-path values are not cached."""
    load_generated(db, tmp_path, 400, seed=3, resolve=False)
    with db.cursor() as cur:
        with_fast = cur.execute("SELECT * FROM std_records ORDER BY batch_id, row_number").fetchall()
        plain = "regexp_full_match({0}, '1[3-9][0-9]{{9}}') AND {1} = 'valid' AND {2} IS NULL"
        plain_records = cur.execute("SELECT count(*) FROM std_records WHERE "
                                    + plain.format("mobile", "mobile_status", "mobile_reason")).fetchone()[0]
        plain_cached = cur.execute("SELECT count(*) FROM std_cache WHERE field = 'mobile' AND "
                                   + plain.format("raw", "status", "reason")).fetchone()[0]
        dirty_cached = cur.execute("SELECT count(*) FROM std_cache WHERE field = 'mobile'").fetchone()[0]
    assert with_fast and plain_records > 100 and plain_cached == 0 and dirty_cached > 0
    monkeypatch.setattr(fastpaths, "select_sql", lambda *a: None)
    with db.transaction() as cur:
        cur.execute("DELETE FROM std_cache")
        cur.execute("DELETE FROM std_batches")
    python_only = pipeline.standardize(db, "t")
    assert python_only.new_values > 0 and python_only.sql_values == 0
    with db.cursor() as cur:
        assert cur.execute("SELECT * FROM std_records ORDER BY batch_id, row_number").fetchall() == with_fast
        batches = [r[0] for r in cur.execute("SELECT batch_id FROM batches ORDER BY 1").fetchall()]
    # one batch at a time, each skips the fields its source lacks: the records are the same
    skipped = []
    monkeypatch.setattr(engine, "_present_fields", lambda cur, ids, real=engine._present_fields: (
        skipped.append(set(engine.FIELD_NAMES) - real(cur, ids)) or real(cur, ids)))
    for batch in batches:
        pipeline.standardize(db, "t", [batch])
    assert all(skipped) and len(skipped) == len(batches)
    with db.cursor() as cur:
        assert cur.execute("SELECT * FROM std_records ORDER BY batch_id, row_number").fetchall() == with_fast


SETTINGS = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
DIGITS = st.text("0123456789", min_size=1, max_size=20)


@SETTINGS
@given(st.lists(st.one_of(st.from_regex(r"\A1[0-9]{10}\Z"), DIGITS), min_size=1, max_size=40))
def test_property_mobile(values):
    assert_agree("mobile", values)


@SETTINGS
@given(st.lists(st.builds(lambda region, birth, seq, last: _id(region, birth, seq)[:17] + last,
                          st.sampled_from(["110105", "440304", "650102", "710000", "820000", "999999", "120000"]),
                          st.dates(date(1790, 1, 1), date(2030, 12, 31)), st.integers(0, 999),
                          st.sampled_from("0123456789Xx")), min_size=1, max_size=40))
def test_property_id_card(values):
    assert_agree("id_card", values + [v[:17] + synth._id_check(v[:17]) for v in values])


@SETTINGS
@given(st.lists(st.from_regex(r"\A[A-Za-z0-9._+\-]{1,12}@(qq|QQ|163|gmail|vip\.qq|qq\.con|x)\.(com|COM|net)\Z"),
                min_size=1, max_size=40))
def test_property_email(values):
    assert_agree("email", values)


@SETTINGS
@given(st.lists(st.datetimes().map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S")), min_size=1, max_size=40),
       st.lists(st.dates().map(lambda d: d.strftime("%Y-%m-%d")), min_size=1, max_size=40))
def test_property_dates(timestamps, dates):
    assert_agree("registered_at", timestamps)
    assert_agree("birth_date", dates)


@SETTINGS
@given(st.lists(st.text(alphabet=st.sampled_from("幸福里路号栋室东方中山海淀区市省京无#-1aA 南内蒙古地址国和平朝阳"), max_size=12), max_size=40))
def test_property_address(values):
    assert_agree("address", values)


NAME_CHARS = "张王李欧阳司马長孫諸葛乾隆藉口单曾解伟娜先生女士老师总公司微信用户测试无兙龘一 ·"


@SETTINGS
@given(st.lists(st.text(alphabet=st.sampled_from(NAME_CHARS), max_size=8), max_size=40))
def test_property_name(values):
    assert_agree("name", values)


@SETTINGS
@given(st.lists(st.text(alphabet=st.sampled_from("乾隆坤藉口歐陽諸葛著名髮發頭干幹后後里裡"), max_size=6), max_size=30))
def test_simplified_in_one_conversion_matches_each_value(values):
    assert N.to_simplified_many(values) == [N.to_simplified(v) for v in values]


@SETTINGS
@given(st.sampled_from(CHANNEL_FIELDS), st.lists(st.text("ab01_-xX. :eE*", min_size=1, max_size=70), max_size=40))
def test_property_channel_ids(field, values):
    assert_agree(field, values)

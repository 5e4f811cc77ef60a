"""Computed customer tags: the built-in templates against hand-computed cases, rule tags, incremental runs
equal to full ones, value history, and the values file."""
from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from governance import cli, pipeline
from governance.tags import compute, conditions, templates
from governance.tags.definitions import BUILTINS, CITY_TIERS, TagDefinition, TagError
from helpers import build_template, store_copy

D = date(2026, 3, 31)
D1 = date(2026, 3, 1)
SHOP_HEADER = "订单号,姓名,手机号,城市,出生日期,商品名称,类目,实付金额,下单时间,订单状态\n"
# (order, name, mobile, city, birth, product, category, amount, time, status)
SHOP = [
    ("DD001", "王建国", "13957112233", "深圳市", "2001-03-31", "面膜", "美妆", "100.00", "2026-03-31 23:59:00", "已完成"),
    ("DD001", "王建国", "13957112233", "深圳市", "2001-03-31", "精华", "美妆", "20.00", "2026-03-31 23:59:00", "已完成"),
    ("DD002", "王建国", "13957112233", "深圳市", "2001-03-31", "洁面乳", "美妆", "478.00", "2026-03-30 10:00:00", "已退款"),
    ("DD003", "王建国", "13957112233", "深圳市", "2001-03-31", "坚果", "食品", "50.00", "2025-04-01 00:00:01", "已完成"),
    ("DD004", "王建国", "13957112233", "深圳市", "2001-03-31", "坚果", "食品", "70.00", "2025-03-31 10:00:00", "已完成"),
    ("DD005", "王建国", "13957112233", "深圳市", "2001-03-31", "咖啡", "食品", "30.00", "2026-03-20 10:00:00", "待付款"),
    ("DD010", "刘晓梅", "13671234598", "北京市", "1980-01-01", "咖啡", "食品", "30.00", "2026-03-20 10:00:00", "已取消"),
    ("DD020", "赵丽华", "13812345670", "杭州市", "1995-07-15", "外套", "服饰", "300.00", "2026-03-15 10:00:00", "已完成"),
    ("DD030", "孙伟", "13598765432", "成都", "1970-05-05", "茶叶", "食品", "80.00", "2025-12-31 10:00:00", "已完成"),
    ("DD031", "孙伟", "13598765432", "成都", "1970-05-05", "茶叶", "食品", "20.00", "2025-06-01 10:00:00", "已完成"),
    ("DD040", "周杰民", "13722223333", "某某市", "1988-08-08", "鞋", "服饰", "60.00", "2025-10-02 10:00:00", "已完成"),
    ("DD050", "吴芳", "13633334444", "深圳", "1999-09-09", "包", "服饰", "40.00", "2025-10-03 10:00:00", "已完成"),
]
POS = "会员卡号,姓名,手机,消费日期,消费金额,积分\nVIP001,王建国,13957112233,2026-01-10,200.00,200\n"
CRM = "姓名,手机,城市\n陈志强,13788889999,广州市\n"
MOBILES = {"A": "13957112233", "B": "13671234598", "C": "13788889999", "D": "13812345670", "E": "13598765432",
           "F": "13722223333", "G": "13633334444"}


def _csv(rows) -> str:
    return SHOP_HEADER + "".join(",".join(r) + "\n" for r in rows)


def _store(db, tmp_path):
    for name, text, channel in (("shop", _csv(SHOP), "tmall"), ("pos", POS, "pos"), ("crm", CRM, "crm")):
        path = tmp_path / f"{name}.csv"
        path.write_text(text, encoding="utf-8")
        pipeline.load_file(db, "t", path, source=name, channel=channel)
    pipeline.resolve(db, "t", use_model=False)
    return db


def _oneids(db) -> dict[str, str]:
    with db.cursor() as cur:
        rows = cur.execute("SELECT oneid, mobile FROM golden_wide").fetchall()
    by_mobile = {m: o for o, m in rows}
    assert len(by_mobile) == len(rows) == len(MOBILES), rows  # one OneID per person
    return {k: by_mobile[m] for k, m in MOBILES.items()}


def _values(db, code: str) -> dict[str, tuple]:
    with db.cursor() as cur:
        return {o: (v, n) for o, v, n in cur.execute(
            "SELECT oneid, value, number FROM tag_values WHERE tag_code = ?", [code]).fetchall()}


def _all_values(db) -> set[tuple]:
    with db.cursor() as cur:
        return set(cur.execute("SELECT oneid, tag_code, value, number, tag_version, as_of FROM tag_values").fetchall())


COMPUTED = [t for t in BUILTINS if "source_mapping" not in t.technical]


@pytest.fixture
def store(template, tmp_path, monkeypatch):
    # these tests run every computation themselves, at dates of their own
    monkeypatch.setattr(pipeline, "refresh_tags", lambda *args, **kwargs: None)
    with store_copy(template, tmp_path / "test.duckdb") as db:
        yield db


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """The loaded and resolved store (no tags computed), built once per module; each test gets its own copy."""
    folder = tmp_path_factory.mktemp("tags_compute_template")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "refresh_tags", lambda *args, **kwargs: None)
        return build_template(folder / "test.duckdb", lambda db: _store(db, folder))


def test_templates_against_hand_computed_cases(store):
    ids = _oneids(store)
    result = compute.compute(store, "t", as_of=D, definitions=COMPUTED)
    assert result.mode == "full" and result.oneids == 7 and result.tags == len(COMPUTED)
    by = {code: {k: _values(store, code).get(o) for k, o in ids.items()} for code in
          ("rfm_recency_days", "rfm_frequency_365", "rfm_monetary_365", "lifecycle_stage", "age_band", "city_tier",
           "preferred_channel", "preferred_category", "rfm_segment")}
    # A: the order at 23:59 on D counts (recency 0); DD001's two lines are one order; the refund, the pending
    # order and the order exactly 365 days back are out, D - 364 is in; the POS receipt without number is one
    assert by["rfm_recency_days"]["A"] == ("0", Decimal("0"))
    assert by["rfm_frequency_365"]["A"] == ("3", Decimal("3"))
    assert by["rfm_monetary_365"]["A"] == ("370.00", Decimal("370.00"))
    # B: only a cancelled order; C: no events at all: prospects without RFM values
    for k in ("B", "C"):
        assert by["lifecycle_stage"][k] == ("prospect", None)
        assert all(by[c][k] is None for c in ("rfm_recency_days", "rfm_frequency_365", "rfm_monetary_365",
                                               "rfm_segment", "preferred_channel"))
    # lifecycle: D's first order 16 days ago (new beats active); E's last 90 days ago is no longer within
    # 90 days; G's 179 days ago is dormant, F's 180 days ago churned; A's first order is a year old
    assert {k: v[0] for k, v in by["lifecycle_stage"].items()} == {
        "A": "active", "B": "prospect", "C": "prospect", "D": "new", "E": "dormant", "F": "churned", "G": "dormant"}
    assert by["rfm_recency_days"]["E"][0] == "90" and by["rfm_recency_days"]["F"][0] == "180"
    # two channels of one OneID: POS 200.00 beats Tmall 120 + 50; the category of the receipt is unknown
    assert by["preferred_channel"]["A"] == ("pos", None)
    assert by["preferred_category"]["A"] == ("美妆", None)
    # age on the birthday (2001-03-31 -> 25 on D); a city with and without 市; an unknown city
    assert by["age_band"]["A"] == ("25_29", None) and by["age_band"]["B"] == ("40_49", None)
    assert by["age_band"]["C"] is None  # no birth date
    assert by["city_tier"]["A"] == ("tier1", None) and by["city_tier"]["G"] == ("tier1", None)
    assert by["city_tier"]["D"] == ("new_tier1", None) and by["city_tier"]["F"] is None
    # RFM: A is the most recent, frequent and valuable buyer, F the least recent and frequent with low spend
    assert by["rfm_segment"]["A"] == ("important_value", None)
    assert by["rfm_segment"]["F"] == ("general_retain", None)
    with store.cursor() as cur:
        runs = compute.last_runs(cur).set_index("tag_code")
    assert runs.loc["lifecycle_stage", "coverage"] == 1.0 and runs.loc["rfm_recency_days", "with_value"] == 5
    assert runs.loc["city_tier", "with_value"] == 6


def test_age_the_day_before_a_birthday():
    import duckdb
    con = duckdb.connect()
    for day, age in ((date(2026, 3, 30), 24), (date(2026, 3, 31), 25)):
        sql = conditions.age_sql("DATE '2001-03-31'", conditions.date_literal(day))
        assert con.execute(f"SELECT {sql}").fetchone()[0] == age


def test_rule_tags_conditions_and_metrics(store):
    ids = _oneids(store)
    big = TagDefinition("big_shenzhen_buyer", "深圳大客户", "Big Shenzhen buyer", "value", "boolean",
                        {"when": {"all": [{"field": "city", "in": ["深圳市", "深圳"]},
                                          {"event": "spend", "days": 365, "gte": 100}]}}, version=1)
    evil = TagDefinition("quoted", "引号", "Quoted", "basic", "boolean",
                         {"when": {"field": "city", "eq": "x' OR 1=1 --"}}, version=1)
    food = TagDefinition("food_spend", "食品消费", "Food spend", "value", "number",
                         {"metric": {"event": "spend", "days": 365, "category": ["食品"]}}, version=1)
    tier = TagDefinition("tiered", "分层", "Tiered", "value", "enum",
                         {"cases": [{"value": "vip", "when": {"tag": "rfm_segment", "eq": "important_value"}},
                                    {"value": "lapsed", "when": {"not": {"event": "last_order_days", "lt": 120}}}],
                          "else": None}, version=1)
    compute.compute(store, "t", as_of=D, definitions=[*COMPUTED, big, evil, food, tier])
    assert {k: _values(store, "big_shenzhen_buyer")[o][0] for k, o in ids.items()} == {
        "A": "true", "B": "false", "C": "false", "D": "false", "E": "false", "F": "false", "G": "false"}
    assert {v for v, _ in _values(store, "quoted").values()} == {"false"}
    assert _values(store, "food_spend")[ids["A"]] == ("50.00", Decimal("50.00"))
    assert _values(store, "food_spend")[ids["E"]] == ("100.00", Decimal("100.00"))
    assert ids["D"] not in _values(store, "food_spend")
    tiered = {k: _values(store, "tiered").get(o, (None,))[0] for k, o in ids.items()}
    assert tiered["A"] == "vip" and tiered["D"] is None and tiered["F"] == "lapsed"
    assert tiered["B"] == "lapsed"  # no orders: last_order_days is missing, so "< 120" is false and NOT is true
    with pytest.raises(TagError, match="Unknown field"):
        conditions.to_sql({"field": "mobile; DROP TABLE x", "eq": "1"}, D)
    with pytest.raises(TagError, match="number"):
        conditions.to_sql({"event": "spend", "gt": "1 OR 1=1"}, D)
    for huge in (1e308, "1e-300", 10 ** 15):  # would be written out in hundreds of digits
        with pytest.raises(TagError, match="at most 15 digits"):
            conditions.to_sql({"field": "age", "gte": huge}, D)
    assert "< 999999999999999," in conditions.to_sql({"field": "age", "lt": 10 ** 15 - 1}, D)[0]
    assert "> 0.5," in conditions.to_sql({"field": "age", "gt": 0.5}, D)[0]


def _new_batch(store, tmp_path) -> None:
    """D's order of 500.00, a new buyer H, and a refund that changes nothing."""
    more = [("DD022", "赵丽华", "13812345670", "杭州市", "1995-07-15", "裙子", "服饰", "500.00", "2026-03-28 10:00:00", "已完成"),
            ("DD060", "郑敏", "13544445555", "南京市", "1990-01-02", "茶叶", "食品", "90.00", "2026-03-30 10:00:00", "已完成"),
            ("DD061", "孙伟", "13598765432", "成都", "1970-05-05", "茶叶", "食品", "30.00", "2026-03-29 10:00:00", "已退款")]
    (tmp_path / "shop2.csv").write_text(_csv(more), encoding="utf-8")
    pipeline.load_file(store, "t", tmp_path / "shop2.csv", source="shop", channel="tmall")
    pipeline.resolve(store, "t", use_model=False)


def _last_runs(db) -> dict[str, dict]:
    with db.cursor() as cur:
        return {r.tag_code: r._asdict() for r in compute.last_runs(cur).itertuples()}


def test_incremental_equals_full_after_a_new_batch(store, tmp_path):
    compute.compute(store, "t", as_of=D, definitions=COMPUTED)
    _new_batch(store, tmp_path)
    result = compute.compute(store, "t", as_of=D, definitions=COMPUTED)
    with store.cursor() as cur:
        modes = dict(cur.execute("SELECT tag_code, mode FROM tag_runs WHERE run_id > (SELECT max(run_id) - ? "
                                 "FROM tag_runs)", [len(COMPUTED)]).fetchall())
        assert cur.execute("SELECT count(*) FROM tag_inputs").fetchone()[0] == 8
    assert set(modes.values()) == {"incremental"}  # rfm_segment too: the date's thresholds hold
    assert result.oneids == 8 and result.changed > 0
    incremental = _all_values(store)
    runs = _last_runs(store)
    compute.compute(store, "t", as_of=D, full=True, definitions=COMPUTED)
    assert _all_values(store) == incremental
    # the incrementally updated distributions and coverage equal the full run's counts
    full_runs = _last_runs(store)
    for code, run in runs.items():
        got, want = json.loads(run["distribution"]), json.loads(full_runs[code]["distribution"])
        assert got["counts"] == want["counts"] and got.get("edges") == want.get("edges"), code
        assert run["with_value"] == full_runs[code]["with_value"], code
    d = {o for o, m in [(o, m) for o, m in _mobile_map(store).items()] if m == "13812345670"}
    assert {_values(store, "rfm_monetary_365")[o][0] for o in d} == {"800.00"}


def _thresholds(db) -> dict:
    with db.cursor() as cur:
        return json.loads(cur.execute("SELECT distribution FROM tag_runs WHERE tag_code = 'rfm_segment' "
                                      "ORDER BY run_id DESC LIMIT 1").fetchone()[0])["thresholds"]


def test_rfm_thresholds_are_set_once_per_date(store, tmp_path):
    compute.compute(store, "t", as_of=D, definitions=COMPUTED)
    first = _thresholds(store)
    _new_batch(store, tmp_path)
    with store.cursor() as cur:  # the new events move the quantiles a fresh calibration would find
        compute._aggregate(cur, COMPUTED, {t.code: "full" for t in COMPUTED}, D)
        row = cur.execute(templates.thresholds_sql(templates.metrics_from_aggregates("golden_wide"))).fetchone()
    fresh = {k: [str(x) for x in v] for k, v in zip("rfm", row)}
    assert fresh != first
    compute.compute(store, "t", as_of=D, definitions=COMPUTED)
    assert _thresholds(store) == first and _last_runs(store)["rfm_segment"]["mode"] == "incremental"
    compute.compute(store, "t", as_of=D, full=True, definitions=COMPUTED)
    assert _thresholds(store) == first  # a full run of the same date scores with them too
    compute.compute(store, "t", as_of=D + timedelta(days=1), definitions=COMPUTED)
    later = _thresholds(store)
    assert later != first and _last_runs(store)["rfm_segment"]["mode"] == "full"  # a new date calibrates


def test_frequency_and_spend_are_zero_for_a_buyer_outside_the_window(store):
    ids = _oneids(store)
    later = date(2026, 10, 5)  # F's only order (2025-10-02) and G's (2025-10-03) are over 365 days back
    compute.compute(store, "t", as_of=later, definitions=COMPUTED)
    assert _values(store, "rfm_recency_days")[ids["F"]] == ("368", Decimal("368"))
    assert _values(store, "rfm_frequency_365")[ids["F"]] == ("0", Decimal("0"))
    assert _values(store, "rfm_monetary_365")[ids["F"]] == ("0.00", Decimal("0.00"))
    assert ids["B"] not in _values(store, "rfm_frequency_365")  # no completed order ever: no value
    covered = {code: set(_values(store, code)) for code in
               ("rfm_recency_days", "rfm_frequency_365", "rfm_monetary_365", "rfm_segment")}
    assert len({frozenset(v) for v in covered.values()}) == 1 and len(covered["rfm_segment"]) == 5


def test_city_tiers_of_ranked_known_and_unknown_cities():
    import duckdb

    from governance.tags import city_tiers
    cases = [("深圳市", None, "tier1"), ("深圳", None, "tier1"), ("合肥市", None, "new_tier1"), ("佛山市", None, "tier2"),
             ("汕尾市", None, "lower"), ("汕尾", None, "lower"), ("大理白族自治州", None, "lower"),
             ("市辖区", "北京市", "tier1"), (None, "广东省", None), ("某某市", None, None), ("中山区", None, None),
             ("台北市", None, None), ("  ", None, None)]
    con = duckdb.connect()
    for city, province, tier in cases:
        got = con.execute(f"SELECT ct.tier FROM (SELECT ?::VARCHAR AS city, ?::VARCHAR AS province) g "
                          f"LEFT JOIN {city_tiers.table_sql('ct')} ON ct.city = "
                          f"{city_tiers.match_sql('g.city', 'g.province')}", [city, province]).fetchone()[0]
        assert got == tier == city_tiers.tier_of(city, province), (city, province, got)
    assert {a.code for a in CITY_TIERS} == {"tier1", "new_tier1", "tier2", "lower"}
    assert set(city_tiers.TIER_OF.values()) == {"tier1", "new_tier1", "tier2", "lower"}


def test_incremental_writes_only_changed_rows_and_counts_from_the_previous_run(store, tmp_path):
    ids = _oneids(store)
    compute.compute(store, "t", as_of=D, definitions=COMPUTED)
    with store.cursor() as cur:
        before = dict(cur.execute("SELECT oneid, computed_at FROM tag_values WHERE tag_code = 'rfm_monetary_365'")
                      .fetchall())
        # a value removed outside a run (as an erasure does): the counts no longer add up and are recounted
        cur.execute("DELETE FROM tag_values WHERE tag_code = 'lifecycle_stage' AND oneid = ?", [ids["C"]])
    _new_batch(store, tmp_path)
    compute.compute(store, "t", as_of=D, definitions=COMPUTED)
    with store.cursor() as cur:
        after = dict(cur.execute("SELECT oneid, computed_at FROM tag_values WHERE tag_code = 'rfm_monetary_365'")
                     .fetchall())
        dists = {code: json.loads(d) for code, d in cur.execute(
            "SELECT tag_code, distribution FROM tag_runs QUALIFY row_number() OVER (PARTITION BY tag_code "
            "ORDER BY run_id DESC) = 1").fetchall()}
        recount = {t.code: compute.distribution_json(cur, t, None) for t in COMPUTED}
    assert after[ids["A"]] == before[ids["A"]] and after[ids["D"]] > before[ids["D"]]  # D's order changed it
    assert len(after) == len(before) + 1  # H, the new buyer
    assert dists["lifecycle_stage"]["counts"] == recount["lifecycle_stage"]["counts"]
    assert dists["lifecycle_stage"]["counts"]["prospect"] == 1  # C's deleted value is not counted
    for code in ("rfm_segment", "preferred_channel", "age_band"):
        assert dists[code]["counts"] == recount[code]["counts"], code
    assert dists["rfm_monetary_365"]["total"] == 6


def test_events_table_equals_the_customer_events_view(store):
    with store.cursor() as cur:
        got = cur.execute(f"SELECT oneid, channel, product_category, order_id, amount, event_date FROM "
                          f"({templates.events_sql(D)}) ORDER BY ALL").fetchall()
        want = cur.execute("SELECT oneid, channel, product_category, order_id, amount, event_date FROM customer_events "
                           "WHERE completed AND event_date <= ? ORDER BY ALL", [D]).fetchall()
        cur.execute("CREATE TEMP TABLE one AS SELECT oneid FROM golden_wide WHERE mobile = ?", [MOBILES["A"]])
        scoped = cur.execute(f"SELECT count(*), count(DISTINCT oneid) FROM ({templates.events_sql(D, 'one')})"
                             ).fetchone()
    assert got == want and len(want) == 10 and scoped == (5, 1)  # A: two lines of DD001, DD003, DD004, POS


def _mobile_map(db) -> dict[str, str]:
    with db.cursor() as cur:
        return dict(cur.execute("SELECT oneid, mobile FROM golden_wide").fetchall())


def test_history_shows_a_move_between_two_dates(store):
    ids = _oneids(store)
    compute.compute(store, "t", as_of=D1, definitions=COMPUTED)
    assert _values(store, "lifecycle_stage")[ids["E"]][0] == "active"  # 60 days before 1 March
    assert _values(store, "age_band")[ids["A"]][0] == "18_24"
    compute.compute(store, "t", as_of=D, definitions=COMPUTED)
    with store.cursor() as cur:
        hist = compute.history(cur, "lifecycle_stage", ids["E"])
        moved = compute.moved(cur, "lifecycle_stage", "active", "dormant", since=D1)
        numbers = cur.execute("SELECT count(*) FROM tag_history WHERE tag_code = 'rfm_monetary_365'").fetchone()[0]
        runs = cur.execute("SELECT psi FROM tag_runs WHERE tag_code = 'lifecycle_stage' ORDER BY run_id").fetchall()
    assert [(r.value, r.valid_from.date(), None if pd.isna(r.valid_to) else r.valid_to.date())
            for r in hist.itertuples()] == [
        ("active", D1, D), ("dormant", D, None)]
    assert ids["E"] in set(moved["oneid"]) and ids["A"] not in set(moved["oneid"])
    assert numbers == 0  # number tags keep no history
    assert runs[0][0] is None and runs[1][0] > 0  # drift against the previous run
    with pytest.raises(TagError, match="earlier date"):
        compute.compute(store, "t", as_of=D1, definitions=COMPUTED)


def test_values_file_equals_an_independent_sum(store, tmp_path, capsys, monkeypatch):
    monkeypatch.undo()  # the CLI computes through the pipeline
    path = str(store.path)
    store.close()
    assert cli.main(["--db", path, "tags", "compute", "--as-of", D.isoformat(), "--actor", "t"]) == 0
    out = tmp_path / "out" / "f.csv"
    assert cli.main(["--db", path, "tags", "values", "rfm_monetary_365", "--out", str(out), "--actor", "t"]) == 0
    with open(out, encoding="utf-8-sig") as fh:
        got = {r["oneid"]: Decimal(r["value"]) for r in csv.DictReader(fh)}
    with open(out, encoding="utf-8-sig") as fh:
        assert next(csv.reader(fh)) == ["oneid", "value", "computed_at"]
    # independent: paid orders and receipts dated D - 364 … D, per person (by mobile); 0 for a
    # customer whose orders are all older
    start = D - timedelta(days=364)
    expected: dict[str, Decimal] = {}
    for r in SHOP:
        if r[9] == "已完成":
            inside = start <= datetime.fromisoformat(r[8]).date() <= D
            expected[r[2]] = expected.get(r[2], Decimal(0)) + (Decimal(r[7]) if inside else 0)
    expected[MOBILES["A"]] += Decimal("200.00")  # the POS receipt
    mobiles = _mobile_map(store)
    assert {mobiles[o]: v for o, v in got.items()} == expected
    with store.cursor() as cur:
        manifest = cur.execute("SELECT dataset, role, row_count, filter FROM export_manifests").fetchall()
    assert manifest == [("tag_values", "analyst", len(got), '{"tags": ["rfm_monetary_365"]}')]


def test_drop_values_keeps_history(store):
    compute.compute(store, "t", as_of=D, definitions=COMPUTED)
    with store.transaction() as cur:
        compute.drop_values(cur, "lifecycle_stage")
        assert compute.values_frame(cur, "lifecycle_stage").empty
        hist = compute.history(cur, "lifecycle_stage")
    assert len(hist) == 7 and hist["valid_to"].notna().all()


def test_cli_compute_and_values(store, tmp_path, capsys, monkeypatch):
    monkeypatch.undo()  # the CLI computes through the pipeline
    path = str(store.path)
    store.close()
    assert cli.main(["--db", path, "tags", "compute", "--as-of", "2026-03-31", "--actor", "t"]) == 0
    assert "as of 2026-03-31 (full) for 7 OneIDs" in capsys.readouterr().out
    out = tmp_path / "v.csv"
    assert cli.main(["--db", path, "tags", "values", "lifecycle_stage", "--out", str(out), "--actor", "t"]) == 0
    assert "wrote 7 values of lifecycle_stage" in capsys.readouterr().out and out.exists()
    assert cli.main(["--db", path, "tags", "compute", "--as-of", "31/03/2026", "--actor", "t"]) == 2
    assert cli.main(["--db", path, "tags", "values", "no_such_tag", "--out", str(out), "--actor", "t"]) == 2
    assert "error:" in capsys.readouterr().err


def test_a_later_export_of_an_order_supersedes_the_earlier_one(store, tmp_path):
    """Paid in the first export, refunded in the next: the order is no spend, and counted once."""
    compute.compute(store, "t", as_of=D, definitions=COMPUTED)
    d = _oneids(store)["D"]
    assert _values(store, "rfm_monetary_365")[d][0] == "300.00"
    refunded = [r[:9] + ("已退款",) for r in SHOP if r[0] == "DD020"]
    path = tmp_path / "shop_again.csv"
    path.write_text(_csv(refunded), encoding="utf-8")
    pipeline.load_file(store, "t", path, source="shop", channel="tmall")
    pipeline.resolve(store, "t", use_model=False)
    with store.cursor() as cur:
        assert cur.execute("SELECT order_status, completed FROM customer_events WHERE order_id = 'DD020'"
                           ).fetchall() == [("refunded", False)]
        assert cur.execute("SELECT count(*) FROM std_events WHERE order_id = 'DD020' "
                           "AND superseded_at IS NOT NULL").fetchone()[0] == 1
    compute.compute(store, "t", as_of=D, definitions=COMPUTED)
    incremental = _all_values(store)
    assert d not in _values(store, "rfm_monetary_365")  # no completed order left
    assert _values(store, "lifecycle_stage")[d][0] == "prospect"
    compute.compute(store, "t", as_of=D, full=True, definitions=COMPUTED)
    assert _all_values(store) == incremental

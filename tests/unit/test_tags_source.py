"""Tags from the sources: a source's own tag columns mapped value by value onto standard tags (CRM 金卡
and POS GOLD both member_tier gold), lists split, unmapped values listed, conflicts between sources
resolved by priority or recency with the winning source as lineage, and mappings versioned."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from governance import pipeline
from governance.access import auth
from governance.store.errors import PermissionDenied
from governance.tags import library, source_tags
from governance.tags.definitions import AllowedValue, TagDefinition, TagError
from helpers import build_template, run_cli, store_copy


def _resident_id(prefix17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return prefix17 + "10X98765432"[sum(int(d) * w for d, w in zip(prefix17, weights, strict=True)) % 11]


IDS = {name: _resident_id(f"11010519{80 + i}0{i + 1}0{i + 1}00{i}")
       for i, name in enumerate(("张三", "李四", "王五", "赵六", "孙七", "周八"))}

CRM = ("会员卡号,姓名,手机号,身份证号,会员等级,更新时间\n"
       f"C001,张三,13800000001,{IDS['张三']},金卡,2020-01-01\n"
       f"C002,李四,13800000002,{IDS['李四']},金卡,2020-01-01\n"
       f"C003,王五,13800000003,{IDS['王五']},钻石会员,2020-01-01\n"
       f"C004,赵六,13800000004,{IDS['赵六']},V3,2020-01-01\n")
POS = ("姓名,手机号,身份证号,消费日期,消费金额,会员等级\n"
       f"张三,13800000001,{IDS['张三']},2026-03-01,199.00,GOLD\n"
       f"李四,13800000002,{IDS['李四']},2026-03-02,88.00,silver\n"
       f"孙七,13800000005,{IDS['孙七']},2026-03-03,66.00,Gold Member\n"
       f"赵六,13800000004,{IDS['赵六']},2026-03-04,10.00,V3\n")
TMALL = ("姓名,手机号,身份证号,会员等级\n"
         f"周八,13800000006,{IDS['周八']},88VIP\n")
WECHAT = ("姓名,手机号,身份证号,标签\n"
          f"张三,13800000001,{IDS['张三']},\"老客户,618活动\"\n"
          f"王五,13800000003,{IDS['王五']},618活动 ； 新关注\n")


def _load(db, tmp_path, name: str, text: str, channel: str) -> int:
    path = tmp_path / f"{name}.csv"
    path.write_text(text, encoding="utf-8")
    return pipeline.load_file(db, "t", path, source=name, channel=channel).ingested.batch_id


def build(db, folder: Path) -> None:
    """CRM, POS, Tmall and WeChat records of six people (linked by resident ID), the built-in tags
    and a boolean tag fed from the sources."""
    auth.create_user(db, "test", "steward1", "steward-pass-123", "steward")
    for name, text, channel in (("crm_members", CRM, "crm"), ("pos_sales", POS, "pos"), ("tmall_orders", TMALL, "tmall"),
                                ("wechat_fans", WECHAT, "wechat_oa")):
        _load(db, folder, name, text, channel)
    pipeline.resolve(db, "t", use_model=False)
    library.save(db, "steward1", TagDefinition(
        "returning_customer", "老客户", "Returning customer", "member", "boolean",
        {"source_mapping": {"conflict": "recent"}}, "来源标签中的老客户。"))


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """The seeded store, built once per module; each test gets its own copy."""
    folder = tmp_path_factory.mktemp("tags_source_template")
    return build_template(folder / "test.duckdb", lambda db: build(db, folder))


@pytest.fixture
def store(template, tmp_path):
    with store_copy(template, tmp_path / "test.duckdb") as db:
        yield db


def _tier(db, conflict: str = "priority", priority: tuple[str, ...] = ()) -> dict[str, tuple[str, str]]:
    """member_tier per person (by name): (value, source)."""
    with db.cursor() as cur:
        tag = library.get(cur, "member_tier")
        tag = replace(tag, technical={"source_mapping": {"conflict": conflict, "priority": list(priority)}})
        return _by_person(cur, source_tags.values_sql(cur, tag))


def _by_person(cur, sql: str) -> dict[str, tuple[str, str]]:
    rows = cur.execute(f"SELECT v.oneid, v.value, v.source, v.seen_at FROM ({sql}) v").fetchall()
    assert len({r[0] for r in rows}) == len(rows)  # one row per OneID
    names = dict(cur.execute("SELECT oneid, name FROM golden_records").fetchall())
    return {names[oneid]: (value, source) for oneid, value, source, _seen in rows}


def test_source_tag_columns_are_found_by_field_and_header(store):
    with store.cursor() as cur:
        assert source_tags.tag_columns(cur, "crm_members") == ["会员等级"]
        assert source_tags.tag_columns(cur, "wechat_fans") == ["标签"]  # mapped to no field, a tag header
        assert source_tags.tag_columns(cur, "pos_sales") == ["会员等级"]
        assert "会员卡号" not in source_tags.tag_columns(cur, "crm_members")  # a card number is no tag


def test_crm_and_pos_gold_both_become_member_tier_gold(store):
    # CRM 金卡 and POS GOLD / Gold Member by the default dictionary; 钻石会员 too; V3 and 88VIP name no tier
    tiers = _tier(store)
    assert tiers["张三"] == ("gold", "crm_members")
    assert tiers["孙七"] == ("gold", "pos_sales")
    assert tiers["王五"] == ("diamond", "crm_members")
    assert "赵六" not in tiers and "周八" not in tiers
    # an explicit mapping: Tmall 88VIP is the steward's call
    source_tags.set_mapping(store, "steward1", "tmall_orders", "会员等级", {"88VIP": "platinum"}, "member_tier")
    assert _tier(store)["周八"] == ("platinum", "tmall_orders")


@pytest.mark.parametrize("value, tier", [
    ("金卡", "gold"), ("黄金会员", "gold"), ("GOLD", "gold"), ("gold member", "gold"), ("银卡", "silver"),
    ("白银VIP", "silver"), ("Silver", "silver"), ("白金卡", "platinum"), ("铂金会员", "platinum"),
    ("PLATINUM", "platinum"), ("钻石卡", "diamond"), ("钻卡", "diamond"), ("黑金会员", "diamond"),
    ("Diamond", "diamond"), ("普卡", "regular"), ("普通会员", "regular"), ("大众会员", "regular"),
    ("Regular", "regular"), ("normal", "regular"), ("basic", "regular"),
    ("88VIP", None), ("V3", None), ("超级会员", None), ("", None)])
def test_the_default_dictionary_reads_tier_classes(value, tier):
    assert source_tags.default_tier(value) == tier
    con = duckdb.connect()  # the SQL that computes the tags reads the same
    codes = ["regular", "silver", "gold", "platinum", "diamond"]
    assert con.execute(f"SELECT {source_tags._tier_sql('k', codes)} FROM (SELECT lower(trim(?)) AS k)",
                       [value]).fetchone()[0] == tier
    con.close()


def test_disagreeing_sources_resolved_by_priority_or_recency_with_lineage(store):
    # 李四: CRM 金卡 (updated 2020) and POS silver (uploaded now)
    assert _tier(store)["李四"] == ("gold", "crm_members")  # survivorship's channel order: crm before pos
    assert _tier(store, "priority", ("pos_sales",))["李四"] == ("silver", "pos_sales")  # the tag's own order
    assert _tier(store, "recent")["李四"] == ("silver", "pos_sales")  # the newest record
    with store.cursor() as cur:
        assert source_tags.conflicts(cur, "member_tier") == 1  # 张三's sources agree
    # when CRM is the newer record, recency picks it
    with store.transaction() as cur:
        cur.execute("UPDATE std_records SET updated_at = '2099-01-01' WHERE source = 'crm_members'")
    assert _tier(store, "recent")["李四"] == ("gold", "crm_members")


def test_list_values_split_and_one_column_feeds_several_tags(store):
    version = source_tags.set_mapping(store, "steward1", "wechat_fans", "标签", {
        "老客户": {"tag": "returning_customer", "value": True},
        "618活动": {"tag": "returning_customer", "value": None},  # known, maps to nothing
        "新关注": {"tag": "member_tier", "value": "regular"}})
    assert version == 1
    with store.cursor() as cur:
        returning = _by_person(cur, source_tags.values_sql(cur, library.get(cur, "returning_customer")))
        assert returning == {"张三": ("true", "wechat_fans")}
        assert source_tags.unmapped_values(cur, "returning_customer").empty
    assert _tier(store)["王五"] == ("diamond", "crm_members")  # 新关注 → regular from WeChat loses to CRM
    assert _tier(store, "priority", ("wechat_fans",))["王五"] == ("regular", "wechat_fans")


def test_unmapped_values_are_listed_with_counts_until_mapped(store):
    with store.cursor() as cur:
        frame = source_tags.unmapped_values(cur, "member_tier")
    got = {(r.source, r.column, r.value): r.records for r in frame.itertuples()}
    assert got == {("crm_members", "会员等级", "V3"): 1, ("pos_sales", "会员等级", "V3"): 1,
                   ("tmall_orders", "会员等级", "88VIP"): 1}
    with store.cursor() as cur:
        everything = source_tags.unmapped_values(cur)
    wechat = {r.value: r.records for r in everything.itertuples() if r.source == "wechat_fans"}
    assert wechat == {"老客户": 1, "618活动": 2, "新关注": 1}  # lists split, parts trimmed
    source_tags.set_mapping(store, "steward1", "crm_members", "会员等级", {"v3": "silver"}, "member_tier")  # any case
    source_tags.set_mapping(store, "steward1", "tmall_orders", "会员等级", {"88VIP": None}, "member_tier")
    with store.cursor() as cur:
        left = source_tags.unmapped_values(cur, "member_tier")
    assert [(r.source, r.value) for r in left.itertuples()] == [("pos_sales", "V3")]
    assert "周八" not in _tier(store)  # 88VIP is known now but maps to nothing
    assert _tier(store)["赵六"] == ("silver", "crm_members")


def test_refusals_say_what_is_wrong_in_one_line(store):
    cases = [
        (("no_such_source", "会员等级", {"金卡": "gold"}, "member_tier"), "No source named 'no_such_source'"),
        (("crm_members", "等级名", {"金卡": "gold"}, "member_tier"), "has no column '等级名'"),
        (("crm_members", "会员等级", {"金卡": "golden"}, "member_tier"), "'golden' is not an allowed value"),
        (("crm_members", "会员等级", {"金卡": "gold"}, "no_such_tag"), "No tag 'no_such_tag'"),
        (("crm_members", "会员等级", {"金卡": "gold"}, "lifecycle_stage"), "not computed from source mappings"),
        (("crm_members", "会员等级", {"金卡": "gold"}, None), "names its tag"),
        (("crm_members", "会员等级", {"金卡": "gold", " 金卡 ": "silver"}, "member_tier"), "given twice"),
        (("wechat_fans", "标签", {"老客户": {"tag": "returning_customer", "value": "maybe"}}, None), "true or false"),
        (("crm_members", "会员等级", {}, "member_tier"), "non-empty JSON object"),
    ]
    for args, message in cases:
        with pytest.raises(TagError) as exc:
            source_tags.set_mapping(store, "steward1", *args)
        assert message in str(exc.value) and "\n" not in str(exc.value)
    auth.create_user(store, "test", "analyst1", "analyst-pass-123", "analyst")
    for actor, message in (("analyst1", "needs the permission 'tags.source_map'"), ("nobody", "not an active")):
        with pytest.raises(PermissionDenied, match=message):
            source_tags.set_mapping(store, actor, "crm_members", "会员等级", {"金卡": "gold"}, "member_tier")
    with store.cursor() as cur:
        assert source_tags.mappings(cur).empty


def test_every_change_is_a_new_audited_version_and_the_latest_is_active(store):
    assert source_tags.set_mapping(store, "steward1", "crm_members", "会员等级", {"V3": "silver"}, "member_tier") == 1
    assert source_tags.set_mapping(store, "steward1", "crm_members", "会员等级", {"V3": "gold", "金卡": "platinum"},
                                   "member_tier") == 2
    assert source_tags.set_mapping(store, "steward1", "crm_members", "会员等级", {"V3": "gold"}, "member_tier") == 2
    with store.cursor() as cur:
        history = source_tags.history(cur, "crm_members", "会员等级")
        active = source_tags.mappings(cur)
        audited = cur.execute("SELECT object_id, detail FROM audit_log WHERE action = 'tag.source_mapping' "
                              "ORDER BY id").fetchall()
    assert sorted(zip(history.version, history.source_value, history.tag_value)) == [
        (1, "V3", "silver"), (2, "V3", "gold"), (2, "金卡", "platinum")]
    assert sorted(zip(active.source_value, active.tag_value, active.version)) == [("V3", "gold", 2), ("金卡", "platinum", 2)]
    assert [json.loads(d)["version"] for _o, d in audited] == [1, 2] and audited[0][0] == "crm_members/会员等级"
    tiers = _tier(store)
    assert tiers["赵六"] == ("gold", "crm_members") and tiers["李四"] == ("platinum", "crm_members")
    assert tiers["张三"] == ("platinum", "crm_members")  # an explicit entry beats the default dictionary


def test_allowed_values_follow_the_tag(store):
    with store.cursor() as cur:
        tag = library.get(cur, "member_tier")
    narrowed = replace(tag, allowed_values=tuple(a for a in tag.allowed_values if a.code != "diamond")
                       + (AllowedValue("black", "黑卡", "black"),))
    with store.cursor() as cur:
        rows = cur.execute(f"SELECT value FROM ({source_tags.values_sql(cur, narrowed)})").fetchall()
    assert ("diamond",) not in rows  # the default dictionary gives only the tag's allowed values


def test_cli_maps_lists_and_refuses_in_one_line(store, tmp_path):
    db_path = tmp_path / "test.duckdb"
    store.close()
    values = tmp_path / "values.json"
    values.write_text(json.dumps({"tag": "member_tier", "values": {"88VIP": "platinum"}}, ensure_ascii=False),
                      encoding="utf-8")
    code, out, err = run_cli(db_path, "tags", "map-source", "tmall_orders", "会员等级", "--file", str(values),
                             "--actor", "steward1")
    assert code == 0 and "version 1" in out, err
    code, out, _ = run_cli(db_path, "tags", "mappings", "--json")
    assert [(m["source"], m["source_value"], m["tag_value"]) for m in json.loads(out)] == [
        ("tmall_orders", "88VIP", "platinum")]
    code, out, _ = run_cli(db_path, "tags", "unmapped", "--tag", "member_tier", "--json")
    assert code == 0 and {(u["source"], u["value"], u["records"]) for u in json.loads(out)} == {
        ("crm_members", "V3", 1), ("pos_sales", "V3", 1)}
    code, out, err = run_cli(db_path, "tags", "map-source", "tmall_orders", "等级", "--file", str(values),
                             "--actor", "steward1")
    assert code == 2 and err.count("\n") == 1 and "has no column '等级'" in err

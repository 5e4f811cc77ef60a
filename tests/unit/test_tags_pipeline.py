"""Tags in the pipeline: computed after every resolve and golden refresh, gone with an erased person,
retired with their values, exported through the export rules, and the scorecard recorded."""
from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import timedelta

import pytest

from governance import pipeline
from governance.access import auth
from governance.exports import datasets
from governance.privacy import dsr
from governance.store.errors import PermissionDenied
from governance.tags import compute, library
from governance.tags.definitions import TagDefinition, TagError

SHOP = ("订单号,姓名,手机号,城市,出生日期,实付金额,下单时间,订单状态\n"
        "DD1,王建国,13957112233,深圳市,1990-05-01,100.00,2026-11-20 10:00:00,已完成\n"
        "DD2,刘晓梅,13671234598,北京市,1985-01-01,300.00,2026-10-01 10:00:00,已完成\n"
        "DD3,刘晓梅,13671234598,北京市,1985-01-01,50.00,2026-11-01 10:00:00,已退款\n")
CRM = "姓名,手机,城市\n陈志强,13788889999,广州市\n"


@pytest.fixture
def store(db, tmp_path):
    for name, text, channel in (("shop", SHOP, "tmall"), ("crm", CRM, "crm")):
        path = tmp_path / f"{name}.csv"
        path.write_text(text, encoding="utf-8")
        pipeline.load_file(db, "t", path, source=name, channel=channel)
    for user, role in (("s1", "steward"), ("s2", "steward"), ("ana", "analyst")):
        auth.create_user(db, "t", user, "a long enough password", role)
    pipeline.resolve(db, "t", use_model=False)
    return db


def _oneid(db, mobile: str) -> str:
    with db.cursor() as cur:
        return cur.execute("SELECT oneid FROM golden_wide WHERE mobile = ?", [mobile]).fetchone()[0]


def _value(db, oneid: str, code: str):
    with db.cursor() as cur:
        row = cur.execute("SELECT value FROM tag_values WHERE oneid = ? AND tag_code = ?", [oneid, code]).fetchone()
    return row[0] if row else None


def test_resolve_computes_the_built_in_tags_and_records_the_scorecard(store):
    wang, liu, chen = (_oneid(store, m) for m in ("13957112233", "13671234598", "13788889999"))
    assert _value(store, chen, "lifecycle_stage") == "prospect"
    assert _value(store, liu, "rfm_monetary_365") == "300.00"  # the refund does not count
    assert _value(store, wang, "city_tier") == "tier1"
    with store.cursor() as cur:
        assert cur.execute("SELECT trigger, records, oneids FROM scorecard_history").fetchall() == [("resolve", 4, 3)]
        assert cur.execute("SELECT count(DISTINCT tag_code) FROM tag_runs").fetchone()[0] == 10


def test_an_override_refreshes_that_persons_tags(store):
    chen = _oneid(store, "13788889999")
    assert _value(store, chen, "city_tier") == "tier1"  # 广州市
    pipeline.set_override(store, "s1", chen, "city", "合肥市", "moved")
    assert _value(store, chen, "city_tier") == "new_tier1"
    pipeline.set_override(store, "s1", chen, "city", "深圳市", "moved again")
    assert _value(store, chen, "city_tier") == "tier1"


def test_an_erased_persons_tags_go_with_them(store):
    liu = _oneid(store, "13671234598")
    request_id = dsr.create(store, "s1", "deletion", "申请人本人", oneids=[liu])
    dsr.verify(store, "s1", request_id, "ID card checked at the counter")
    pipeline.delete_person(store, "s1", request_id)
    with store.cursor() as cur:
        for table in ("tag_values", "tag_history", "tag_inputs"):
            assert cur.execute(f"SELECT count(*) FROM {table} WHERE oneid = ?", [liu]).fetchone()[0] == 0, table
        assert cur.execute("SELECT count(*) FROM tag_values").fetchone()[0] > 0  # the others keep theirs


def _publish(db, tag: TagDefinition) -> None:
    library.save(db, "s1", tag, "new")
    library.submit(db, "s1", tag.code)
    library.approve(db, "s2", tag.code, "checked")
    pipeline.refresh_tags(db, "s1")


BIG = TagDefinition("big_spender", "大额消费", "Big spender", "value", "boolean",
                    {"when": {"event": "spend", "days": 365, "gte": 200}}, "近一年消费满 200 元")


def test_retiring_a_tag_removes_its_values_and_keeps_its_history(store):
    _publish(store, BIG)
    liu = _oneid(store, "13671234598")
    assert _value(store, liu, "big_spender") == "true"
    pipeline.retire_tag(store, "s2", "big_spender", "not used")
    assert _value(store, liu, "big_spender") is None
    with store.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM tag_history WHERE tag_code = 'big_spender'").fetchone()[0] > 0


def _export(db, tmp_path, role: str, tags: tuple[str, ...], labels: bool = False, masked: bool = True) -> list[dict]:
    out = tmp_path / f"values_{role}_{len(tags)}_{labels}_{masked}.csv"
    request = datasets.ExportRequest("tag_values", "s1", fields=("oneid", "tag_code", "value"),
                                     filter=datasets.ExportFilter(tags=tags), role=role, labels=labels, lang="zh",
                                     masked=masked, purpose=None if masked else "campaign check")
    datasets.run_export(db, request, out)
    with open(out, encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def test_tag_values_export_follows_the_export_rules(store, tmp_path):
    liu = _oneid(store, "13671234598")
    rows = _export(store, tmp_path, "analyst", ("lifecycle_stage",))
    assert {r["tag_code"] for r in rows} == {"lifecycle_stage"} and len(rows) == 3
    labelled = _export(store, tmp_path, "analyst", ("lifecycle_stage", "rfm_monetary_365"), labels=True)
    assert {"OneID": liu, "标签": "生命周期阶段", "值": "活跃"} in labelled
    with store.cursor() as cur:
        assert library.usage(cur, "lifecycle_stage")["exports"] == 2
        manifest = json.loads(cur.execute("SELECT filter FROM export_manifests ORDER BY id LIMIT 1").fetchone()[0])
    assert manifest == {"tags": ["lifecycle_stage"]}

    personal = replace(BIG, code="vip_guess", name_zh="疑似贵宾", name_en="VIP guess", sensitivity="personal",
                       technical={"when": {"event": "spend", "days": 365, "gte": 250}})
    _publish(store, personal)
    masked = {r["oneid"]: r["value"] for r in _export(store, tmp_path, "analyst", ("vip_guess",))}
    shown = {r["oneid"]: r["value"] for r in _export(store, tmp_path, "admin", ("vip_guess",), masked=False)}
    assert shown[liu] == "true" and masked[liu] == "***"  # personal: hidden when masked, never half shown

    secret = replace(BIG, code="health_note", name_zh="健康关注", name_en="Health note", sensitivity="sensitive",
                     technical={"when": {"event": "spend", "days": 365, "gte": 1}})
    _publish(store, secret)
    with pytest.raises(PermissionDenied, match="health_note"):
        _export(store, tmp_path, "admin", ("health_note",))
    everything = _export(store, tmp_path, "admin", ())
    assert "health_note" not in {r["tag_code"] for r in everything} and "vip_guess" in {r["tag_code"] for r in everything}


def test_a_future_date_is_refused_so_it_cannot_freeze_later_refreshes(store):
    with pytest.raises(TagError, match="as of today"):
        pipeline.refresh_tags(store, "t", as_of=compute.today() + timedelta(days=1))
    assert pipeline.refresh_tags(store, "t").as_of == compute.today()

"""Mapping suggestions, versioned mapping per source, and the mapped_records contract."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from governance.sources import ingest, mapping
from governance.store.errors import MappingError


@pytest.mark.parametrize("header,field", [
    ("手机号", "mobile"), ("联系电话", "mobile"), ("Mobile Phone", "mobile"), ("TEL", "mobile"), ("收货手机", "mobile"),
    ("姓名", "name"), ("客户名称", "name"), ("Name", "name"), ("收货人姓名", "name"),
    ("身份证号码", "id_card"), ("ID Number", "id_card"), ("E-mail", "email"), ("生日", "birth_date"),
    ("openid", "wechat_open_id"), ("UnionID", "wechat_union_id"), ("appid", "wechat_app_id"), ("抖音号", "douyin_id"),
    ("买家会员名", "ecommerce_buyer_id"), ("会员卡号", "member_card"), ("Customer ID", "member_card"),
    ("注册时间", "registered_at"), ("Update Time", "updated_at"), ("Marketing Opt-in", "marketing_consent"),
    ("收货地址", "address"), ("邮编", "postcode"), ("门店", "store"), ("昵称", "nickname"), ("性别", "gender"),
    ("会员手机号码", "mobile"),
])
def test_header_synonyms(header, field):
    [s] = mapping.suggest([header], [[]])
    assert s.field == field and s.confidence >= 0.5


@pytest.mark.parametrize("values,field", [
    (["13800138000", "+86 139-1234-5678", "155 1234 5678", "138****1234"], "mobile"),
    (["11010519491231002X", "440524188001010014", "610104620927690"], "id_card"),
    (["a@qq.com", "b.c@163.com", "x@gmail.com"], "email"),
    (["1990-01-02", "1990/1/2", "19900102", "1990年1月2日"], "birth_date"),
    (["男", "女", "男", "女"], "gender"),
    (["o" + "A" * 27, "o" + "b_-" * 9, "o" + "Z9" * 13 + "x"], "wechat_open_id"),
    (["wx1234567890abcdef", "wx1234567890abcdef", "wx1234567890abcdef"], "wechat_app_id"),
])
def test_content_detection(values, field):
    [s] = mapping.suggest(["col_x"], [values])
    assert (s.field, s.method) == (field, "content")
    assert 0.5 < s.confidence <= 0.9


def test_one_column_per_field_and_saved_mapping_wins():
    headers = ["手机", "联系电话", "备注"]
    samples = [["13800138000"] * 3, ["13912345678"] * 3, ["hello"] * 3]
    first = mapping.suggest(headers, samples)
    assert [s.field for s in first] == ["mobile", None, None]
    saved = {"手机": None, "联系电话": "mobile"}
    second = mapping.suggest(headers, samples, saved)
    assert [(s.field, s.method) for s in second] == [(None, "saved"), ("mobile", "saved"), (None, "none")]


def test_validate_rejects_unknown_and_repeated_fields():
    with pytest.raises(MappingError, match="Unknown standard field"):
        mapping.validate({"a": "phone_number"})
    with pytest.raises(MappingError, match="mapped twice"):
        mapping.validate({"a": "mobile", "b": "mobile"})


def csv_file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_mapping_saved_per_source_reused_versioned_and_audited(db, tmp_path):
    first = csv_file(tmp_path, "a.csv", "电话,客户,备注\n13800138000,张三,x\n13912345678,李四,y\n")
    r1 = ingest.ingest_file(db, first, actor="alice", source="crm", mapping={"电话": "mobile", "客户": "name"})
    assert r1.mapping_version == 1
    # the next upload of that source reuses the saved mapping, and a new column gets a suggestion
    second = csv_file(tmp_path, "b.csv", "电话,客户,备注,邮箱\n13512345678,王五,z,w@qq.com\n")
    r2 = ingest.ingest_file(db, second, actor="alice", source="crm")
    assert r2.mapping == {"电话": "mobile", "客户": "name", "备注": None, "邮箱": "email"}
    assert r2.mapping_version == 2
    v3 = mapping.update(db, "bob", "crm", {"备注": "store"})
    with db.cursor() as cur:
        assert mapping.load(cur, "crm") == {"电话": "mobile", "客户": "name", "备注": "store", "邮箱": "email"}
        assert mapping.load(cur, "crm", version=1) == {"电话": "mobile", "客户": "name", "备注": None}
        events = cur.execute("SELECT actor, detail FROM audit_log WHERE action = 'mapping.change' ORDER BY id").fetchall()
        hist = mapping.history(cur, "crm")
    assert v3 == 3 and list(hist["version"]) == [3, 2, 1]
    assert events[-1][0] == "bob" and '"备注": {"from": null, "to": "store"}' in events[-1][1]
    assert mapping.update(db, "bob", "crm", {"备注": "store"}) == 3  # no change, no new version


def test_mapped_records_view_is_the_contract(db, tmp_path):
    a = csv_file(tmp_path, "a.csv", "手机,姓名,会员等级\n13800138000,张三,金卡\n")
    b = csv_file(tmp_path, "b.csv", "Mobile,Name\n13912345678,Li Si\n")
    ingest.ingest_file(db, a, actor="t", source="pos")
    ingest.ingest_file(db, b, actor="t", source="crm")
    with db.cursor() as cur:
        rows = cur.execute("SELECT source, row_number, mobile, name, email, extras FROM mapped_records ORDER BY source").fetchall()
    assert rows == [("crm", 1, "13912345678", "Li Si", None, None),
                    ("pos", 1, "13800138000", "张三", None, {"会员等级": "金卡"})]
    mapping.update(db, "t", "pos", {"会员等级": "store"})
    with db.cursor() as cur:
        assert cur.execute("SELECT store, extras FROM mapped_records WHERE source = 'pos'").fetchone() == ("金卡", None)


def test_cursor_per_thread_under_concurrency(db, tmp_path):
    path = csv_file(tmp_path, "a.csv", "手机,姓名\n13800138000,张三\n")
    errors = []

    def work(i: int) -> None:
        try:
            if i % 2:
                ingest.ingest_file(db, path, actor="t", source=f"s{i}")
            for _ in range(20):
                with db.cursor() as cur:
                    cur.execute("SELECT count(*) FROM mapped_records").fetchone()
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM batches").fetchone()[0] == 4


def test_content_breaks_ties_between_similar_headers():
    """Tmall exports have 联系电话 (mostly landlines) and 联系手机 (mobiles)."""
    headers = ["联系电话", "联系手机", "下单时间"]
    samples = [["0311-46055700", "010-12345678", "0755 12345678"], ["15339833943", "13695385398", "189****2941"],
               ["2024-01-02 10:00:00"] * 3]
    assert [s.field for s in mapping.suggest(headers, samples)] == ["landline", "mobile", None]

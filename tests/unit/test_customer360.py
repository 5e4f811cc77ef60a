"""Customer 360: search by every key type with paging in SQL, the 360 parts, split and merge, the masked CSV."""
from __future__ import annotations

import io

import pandas as pd
import pytest

from governance import pipeline
from governance.golden import customer360 as c360
from governance.golden import survivorship
from governance.oneid import resolve
from governance.sources import ingest
from governance.store.errors import GovernanceError
from helpers import ID_NUMBER, MOBILE, load_generated


@pytest.fixture
def people(db, tmp_path):
    path = tmp_path / "crm.csv"
    path.write_text("会员卡号,姓名,手机号,邮箱,身份证号,微信UnionID\n"
                    "M001,张伟,13912345678,zw@qq.com,11010519491231002X,oUnion0000000001\n"
                    "M002,张伟,13812345679,zhangwei2@163.com,,\n"
                    "M003,Wei Zhang,13712345670,,,\n"
                    "M004,欧阳娜娜,13612345671,ny@qq.com,440524188001010014,\n", encoding="utf-8")
    ingest.ingest_file(db, path, actor="t", source="crm", channel="crm")
    path = tmp_path / "pos.csv"
    path.write_text("姓名,手机,邮箱\n张伟,+86 139-1234-5678,\n", encoding="utf-8")
    ingest.ingest_file(db, path, actor="t", source="pos", channel="pos")
    pipeline.standardize(db, "t")
    resolve.resolve(db, "t", use_model=False)
    survivorship.refresh_golden(db)
    return db


def oneid_of_card(cur, card: str) -> str:
    return cur.execute("SELECT c.oneid FROM crosswalk c JOIN std_records s USING (batch_id, row_number) "
                       "WHERE s.member_card = ?", [card]).fetchone()[0]


def test_search_by_every_key_type(people):
    with people.cursor() as cur:
        zw = oneid_of_card(cur, "M001")
        assert c360.search(cur, zw)[0]["oneid"].tolist() == [zw]                              # OneID (detected)
        assert c360.search(cur, "139 1234 5678")[0]["oneid"].tolist() == [zw]                 # mobile, normalized
        assert c360.search(cur, "ZW@qq.com", "email")[0]["oneid"].tolist() == [zw]            # email, any case
        assert c360.search(cur, "oUnion0000000001")[0]["oneid"].tolist() == [zw]              # channel id
        assert c360.search(cur, "M004", "channel_id")[0]["oneid"].tolist() == [oneid_of_card(cur, "M004")]
        hanzi, total = c360.search(cur, "张伟")
        pinyin, _ = c360.search(cur, "zhang wei")
        reversed_, _ = c360.search(cur, "Wei Zhang", "name")
        assert total == 3                                   # two 张伟 and a Wei Zhang
        assert set(hanzi["oneid"]) == set(pinyin["oneid"]) == set(reversed_["oneid"])
        assert oneid_of_card(cur, "M003") not in hanzi["oneid"].tolist()[:2]   # exact hanzi matches rank first
        assert c360.search(cur, "nobody@example.com")[1] == 0
        assert c360.detect_kind("OID0000000001") == "oneid" and c360.detect_kind("13912345678") == "mobile"


def test_search_pages_in_sql(people):
    with people.cursor() as cur:
        first, total = c360.search(cur, "张伟", limit=2, offset=0)
        second, total2 = c360.search(cur, "张伟", limit=2, offset=2)
    assert (len(first), len(second), total, total2) == (2, 1, 3, 3)
    assert not set(first["oneid"]) & set(second["oneid"])


def test_360_parts(people):
    with people.cursor() as cur:
        zw = oneid_of_card(cur, "M001")
        record = c360.golden_record(cur, zw)
        fields = c360.golden_fields(cur, zw).set_index("field")
        records = c360.source_records(cur, zw)
        accounts = c360.sub_accounts(cur, zw)
        events = c360.history(cur, zw)
        values = c360.competing_values(cur, zw, "mobile")
    assert record["record_count"] == 2 and list(record["channels"]) == ["crm", "pos"]
    assert fields.loc["name", "lineage"].startswith("crm 1:1 · source_priority")
    assert sorted(records["source"]) == ["crm", "pos"] and set(records["record"]) == {"1:1", "2:1"}
    assert {"wechat_union_id", "member_card"} <= set(accounts["account"])
    assert events["event"].tolist() == ["new"]
    assert values["value"].tolist() == ["13912345678", "13912345678"] and values["golden"].all()


def test_masked_csv_download(people):
    with people.cursor() as cur:
        zw = oneid_of_card(cur, "M001")
    data = c360.records_csv(people, "analyst", zw)
    assert data.startswith("\ufeff".encode("utf-8"))
    text = data.decode("utf-8-sig")
    assert not MOBILE.search(text) and not ID_NUMBER.search(text) and "zw@qq.com" not in text
    frame = pd.read_csv(io.StringIO(text), dtype=str)
    assert set(frame["oneid"]) == {zw} and len(frame) == 2
    assert "139****5678" in set(frame["mobile"])
    with people.cursor() as cur:
        assert cur.execute("SELECT actor, object_id FROM audit_log WHERE action = 'customer.download'").fetchall() == [
            ("analyst", zw)]


def test_split_and_merge_take_effect_at_once(db, tmp_path):
    load_generated(db, tmp_path / "d", 120, seed=4)
    survivorship.refresh_golden(db)
    with db.cursor() as cur:
        x, y = [r[0] for r in cur.execute("SELECT oneid FROM golden_records WHERE id_card IS NOT NULL "
                                          "ORDER BY oneid LIMIT 2").fetchall()]
    with pytest.raises(GovernanceError, match="constraint"):   # two different resident IDs never merge
        pipeline.merge_oneids(db, "steward", x, y)
    with db.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM review_decisions WHERE undone_at IS NULL").fetchone()[0] == 0
    with db.cursor() as cur:
        oneid, rec = cur.execute("SELECT oneid, max(rec_id) FROM crosswalk GROUP BY oneid HAVING count(*) > 1 "
                                 "ORDER BY oneid LIMIT 1").fetchone()
    with db.cursor() as cur:
        others = [r[0] for r in cur.execute("SELECT rec_id FROM crosswalk WHERE oneid = ? AND rec_id <> ?",
                                            [oneid, rec]).fetchall()]
    new = pipeline.split_record(db, "steward", oneid, int(rec), "different person")
    with db.cursor() as cur:
        after = {r[0] for r in cur.execute("SELECT oneid FROM crosswalk WHERE rec_id IN (SELECT unnest(?::BIGINT[]))",
                                           [others]).fetchall()}
        assert new not in after                                          # split out, visible at once
        assert cur.execute("SELECT count(*) FROM golden_records WHERE oneid = ?", [new]).fetchone()[0] == 1
        assert cur.execute("SELECT count(*) FROM review_decisions WHERE decision = 'reject'").fetchone()[0] >= 1
    with db.cursor() as cur:
        a, b = [r[0] for r in cur.execute("SELECT oneid FROM golden_records WHERE record_count = 1 "
                                          "AND id_card IS NULL ORDER BY oneid LIMIT 2").fetchall()]
    merged = pipeline.merge_oneids(db, "steward", a, b, "same customer, confirmed")
    with db.cursor() as cur:
        assert merged in (a, b)
        assert cur.execute("SELECT record_count FROM golden_records WHERE oneid = ?", [merged]).fetchone()[0] == 2
        assert not c360.decisions(cur, merged).empty
        assert "merge" in c360.history(cur, merged)["event"].tolist()

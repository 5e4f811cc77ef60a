"""The access package is for the person: a plain-language summary in Chinese (说明.txt, first in the
ZIP) and in English says what is held, from which channels, for which purposes with what consent,
how long it is kept and how to ask for correction or deletion, with no internal ids and no JSON."""
from __future__ import annotations

import io
import re
import zipfile

import pytest

from governance import pipeline
from governance.privacy import consent, dsr, retention
from governance.sources import ingest


@pytest.fixture
def person(db, tmp_path):
    """张伟 in a Tmall export and a WeChat mini-program export; marketing consent granted then
    withdrawn, analytics granted; a retention period on the Tmall source."""
    tmall = tmp_path / "tmall.csv"
    tmall.write_text("买家姓名,手机号,收货地址\n张伟,13687654321,上海市静安区南京西路1号\n李娜,13912345678,北京市\n",
                     encoding="utf-8")
    wechat = tmp_path / "wechat.csv"
    wechat.write_text("姓名,手机,邮箱\n张伟,+86 136 8765 4321,zhangwei@163.com\n", encoding="utf-8")
    ingest.ingest_file(db, tmall, actor="t", source="tmall_orders", channel="tmall")
    ingest.ingest_file(db, wechat, actor="t", source="wechat_members", channel="wechat_mp")
    pipeline.resolve(db, "t", use_model=False)
    with db.cursor() as cur:
        oneid = cur.execute("SELECT oneid FROM crosswalk c JOIN std_records s USING (batch_id, row_number) "
                            "WHERE s.mobile = '13687654321' GROUP BY oneid HAVING count(*) = 2").fetchone()[0]
    consent.grant(db, "steward", oneid, "marketing")
    consent.withdraw(db, "steward", oneid, "marketing")
    consent.grant(db, "steward", oneid, "analytics")
    retention.set_policy(db, "admin", "source", "tmall_orders", 730, "订单履约完成后两年")
    request_id = dsr.create(db, "steward", "access", "张伟", oneids=[oneid])
    dsr.verify(db, "steward", request_id, "身份证核验")
    return oneid, request_id


def test_the_package_opens_with_a_chinese_summary_for_the_person(db, person):
    oneid, request_id = person
    files = dsr.access_package(db, "steward", request_id)
    with zipfile.ZipFile(io.BytesIO(dsr.package_zip(files))) as zf:
        names = zf.namelist()
        text = zf.read("说明.txt").decode("utf-8-sig")
    assert names[:2] == ["说明.txt", "summary_en.txt"]
    assert "package.json" in names and "golden_records.csv" in names  # the machine-readable files stay
    # what is held, in full: it is the person's own data
    assert "手机号：13687654321" in text and "zhangwei@163.com" in text and "南京西路1号" in text
    assert "李娜" not in text and "13912345678" not in text  # nobody else's
    # channels in Chinese, consent states and dates, retention, and how to ask for changes
    assert "天猫旗舰店：1 条记录" in text and "微信小程序：1 条记录" in text
    assert re.search(r"营销：目前为“已撤回”（自 \d{4}-\d{2}-\d{2} 起）", text)
    assert re.search(r"记录：\d{4}-\d{2}-\d{2} 同意；\d{4}-\d{2}-\d{2} 已撤回", text)
    assert "分析：目前为“同意”" in text
    assert "保存 730 天" in text and "订单履约完成后两年" in text
    assert "更正" in text and "删除" in text and f"#{request_id}" in text
    # no internal ids, no JSON, no English codes
    with db.cursor() as cur:
        rec_ids = [str(r[0]) for r in cur.execute("SELECT rec_id FROM crosswalk WHERE oneid = ?", [oneid]).fetchall()]
    assert oneid not in text and not any(r in text for r in rec_ids)
    assert not re.search(r"[{}\[\]]|batch|rec_id|oneid|match_weight|wechat_mp|tmall\b|granted|withdrawn", text)


def test_the_english_summary_says_the_same(db, person):
    _, request_id = person
    text = dsr.access_package(db, "steward", request_id)["summary_en.txt"].decode("utf-8-sig")
    assert "Tmall store: 1 records" in text and "WeChat mini-program: 1 records" in text
    assert "Marketing: currently withdrawn" in text and "Analytics: currently granted" in text
    assert "kept 730 days" in text and "13687654321" in text


def test_a_person_without_consent_or_retention_is_told_so(db, tmp_path):
    f = tmp_path / "crm.csv"
    f.write_text("姓名,手机\n王芳,13512345678\n", encoding="utf-8")
    ingest.ingest_file(db, f, actor="t", channel="crm")
    pipeline.resolve(db, "t", use_model=False)
    with db.cursor() as cur:
        oneid = cur.execute("SELECT oneid FROM crosswalk").fetchone()[0]
    request_id = dsr.create(db, "steward", "access", "王芳", oneids=[oneid])
    dsr.verify(db, "steward", request_id, "checked")
    text = dsr.access_package(db, "steward", request_id)["说明.txt"].decode("utf-8-sig")
    assert "CRM会员系统：1 条记录" in text
    assert "没有您对任何处理目的表示同意或撤回同意的记录" in text and "尚未为您的信息所在的渠道设定具体的保存天数" in text

"""Audiences polish: the sample and breakdowns follow the WeChat app id as the count does; refusals name
channels and purposes by their labels in Chinese; a failed audience refresh leaves the tags computed
before it, and the audiences as they were."""
from __future__ import annotations

import logging

import duckdb
import pytest

from governance import pipeline
from governance.access import auth
from governance.audiences import activation, library, members
from governance.store.errors import INCIDENT_LOG, GovernanceError
from governance.ui.error_texts import translate

HEADER = "会员卡号,姓名,手机号,营销同意,出生日期,省份,openid,appid,UnionID\n"
APP_A, APP_B = "wx1234567890abcdef", "wxabcdef1234567890"
PEOPLE = {  # name: (card, mobile, marketing consent, birth, province, open_id, app_id, union_id)
    "张伟": ("M1", "13867541230", "是", "1990-01-01", "广东省", "", "", ""),                          # a mobile only
    "孙丽": ("M2", "", "是", "1988-08-08", "广东省", "oAbCdEfGhIjKlMnOpQrStUvWxYz1", APP_A, ""),       # app A's open_id
    "周芳": ("M3", "", "是", "1989-09-09", "浙江省", "oZyXwVuTsRqPoNmLkJiHgFeDcBa2", APP_B, ""),       # app B's open_id
    "郑敏": ("M4", "", "是", "1987-07-07", "广东省", "", "", "o6_bmasdasdsad6_2sgVt7hMZOPfL"),        # a union_id
}
EVERYONE = {"field": "record_count", "gte": 0}


@pytest.fixture
def store(db, tmp_path):
    rows = "".join(",".join((c[0], n, *c[1:])) + "\n" for n, c in PEOPLE.items())
    (tmp_path / "crm.csv").write_text(HEADER + rows, encoding="utf-8")
    pipeline.load_file(db, "t", tmp_path / "crm.csv", source="crm", channel="crm")
    auth.create_user(db, "t", "s1", "a long enough password", "steward")
    pipeline.resolve(db, "t", use_model=False)
    return db


def _oneids(db, *names: str) -> set[str]:
    with db.cursor() as cur:
        return {r[0] for r in cur.execute("SELECT oneid FROM golden_wide WHERE list_contains(?, name)",
                                          [list(names)]).fetchall()}


# ---- 1. the sample and the breakdowns honour the WeChat app id --------------------------------------

@pytest.mark.parametrize("app_id, reached, provinces", [
    (None, ("郑敏",), {"广东省": 1}),                          # without an app id: union_ids only
    (APP_A, ("孙丽", "郑敏"), {"广东省": 2}),
    (APP_B, ("周芳", "郑敏"), {"广东省": 1, "浙江省": 1}),
])
def test_sample_and_breakdown_reach_whom_the_count_reaches(store, app_id, reached, provinces):
    with store.cursor() as cur:
        found = members.count(cur, EVERYONE, "marketing", "wechat", app_id)
        sample = library.sample(cur, EVERYONE, "marketing", "wechat", "steward", 10, app_id=app_id)
        by_province = library.breakdown(cur, EVERYONE, "marketing", "wechat", "province", app_id=app_id)
        by_channel = library.breakdown(cur, EVERYONE, "marketing", "wechat", "channel", app_id=app_id)
    assert found.members == len(reached)
    assert set(sample["oneid"]) == _oneids(store, *reached)
    assert dict(by_province.values.tolist()) == provinces
    assert dict(by_channel.values.tolist()) == {"crm": len(reached)}
    # the same no-contact exclusion as the count: the others are left out for want of a contact
    assert found.excluded["no_contact"] == len(PEOPLE) - len(reached)


def test_an_app_id_changes_nothing_on_other_channels(store):
    with store.cursor() as cur:
        plain = library.breakdown(cur, EVERYONE, "marketing", "sms", "province")
        with_app = library.breakdown(cur, EVERYONE, "marketing", "sms", "province", app_id=APP_A)
        assert dict(plain.values.tolist()) == dict(with_app.values.tolist()) == {"广东省": 1}


# ---- 2. refusals name channels and purposes by their labels ------------------------------------------

def _refusal(role="steward", **request) -> GovernanceError:
    with pytest.raises(GovernanceError) as caught:
        activation.check_request(role, **request)
    return caught.value


@pytest.mark.parametrize("channel, label", [("wechat", "微信"), ("douyin_dmp", "巨量引擎（抖音）人群包"),
                                            ("tencent_ads", "腾讯广告人群包")])
def test_a_marketing_channel_refusal_reads_in_chinese_with_labels(channel, label):
    shown = translate(str(_refusal(channel=channel, purpose="analytics")), "zh")
    assert shown == f"“{label}”文件用于营销触达，用途须为“营销”，不能是“分析”。"


def test_an_identifier_refusal_names_the_channel_by_its_label(monkeypatch):
    monkeypatch.setattr(activation.auth, "can", lambda role, permission: permission != "pii.unmasked")
    for channel, label in (("sms", "短信"), ("databank", "阿里巴巴品牌数据银行"), ("csv", "CSV 文件（给代理商）")):
        shown = translate(str(_refusal(channel=channel, purpose="marketing", masked=False)), "zh")
        assert shown.startswith(f"“{label}”文件包含身份标识") and channel not in shown


def test_unknown_channel_and_hash_refusals_show_labels_and_format_names():
    shown = translate(str(_refusal(channel="fax", purpose="marketing")), "zh")
    assert "短信、微信、巨量引擎（抖音）人群包" in shown and "sms" not in shown and "douyin_dmp" not in shown
    assert translate(str(_refusal(channel="sms", purpose="marketing", hash="crc32")), "zh") == \
        "未知的哈希算法“crc32”；请选择 MD5 或 SHA-256。"
    # the English message (the CLI's) keeps the codes the user types
    assert str(_refusal(channel="wechat", purpose="analytics")) == (
        "A wechat file reaches people to market to them: it needs the purpose 'marketing', not 'analytics'.")


@pytest.mark.parametrize("channel", members.CHANNELS)
def test_the_page_checks_agree_with_the_library(channel, monkeypatch):
    """activation.needs_marketing / carries_identifiers (what the page warns about before a click) refuse
    exactly what check_request refuses."""
    for purpose in ("marketing", "analytics"):
        refused = activation.needs_marketing(channel) and purpose != "marketing"
        try:
            activation.check_request("steward", channel, purpose)
        except GovernanceError:
            assert refused
        else:
            assert not refused
    monkeypatch.setattr(activation.auth, "can", lambda role, permission: permission != "pii.unmasked")
    for masked in (True, False):
        try:
            activation.check_request("steward", channel, "marketing", masked=masked)
        except GovernanceError:
            assert activation.carries_identifiers(channel, masked)
        else:
            assert not activation.carries_identifiers(channel, masked)


# ---- 5. a failed audience refresh keeps the tags and the audiences as they were -----------------------

def _tag_runs(db) -> int:
    with db.cursor() as cur:
        return int(cur.execute("SELECT count(*) FROM tag_runs").fetchone()[0])


def _members(db) -> dict[str, set[str]]:
    with db.cursor() as cur:
        rows = cur.execute("SELECT name, oneid FROM audience_members").fetchall()
        history = cur.execute("SELECT count(*) FROM audience_member_history").fetchone()[0]
    out: dict[str, set[str]] = {"history": {str(history)}}
    for name, oneid in rows:
        out.setdefault(name, set()).add(oneid)
    return out


def test_a_failed_audience_refresh_keeps_the_fresh_tags(store, monkeypatch, caplog):
    library.save(store, "s1", "wechat_all", EVERYONE, "marketing", channel="wechat")
    library.save(store, "s1", "gd_sms", {"field": "province", "eq": "广东省"}, "marketing")
    before, runs = _members(store), _tag_runs(store)
    assert before["wechat_all"] == _oneids(store, "郑敏") and before["gd_sms"] == _oneids(store, "张伟")
    real = library.refresh

    def broken(cur, actor=None, names=None):
        cur.execute("DELETE FROM audience_members")  # half done: the rollback must undo it
        real(cur, actor, names)
        cur.execute("SELECT CAST('no number' AS INTEGER)")  # a DuckDB error
    monkeypatch.setattr(pipeline.audience_library, "refresh", broken)

    with caplog.at_level(logging.WARNING, logger="governance.pipeline"):
        result = pipeline.refresh_tags(store, "t", full=True)
    assert result.tags > 0 and _tag_runs(store) == runs + result.tags  # the tags landed
    with store.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM tag_values").fetchone()[0] > 0
    assert _members(store) == before  # the audiences keep their members and history
    lines = [r.getMessage() for r in caplog.records if r.name == "governance.pipeline"]
    assert len(lines) == 1 and "\n" not in lines[0] and "ConversionException" in lines[0]
    incident = lines[0].split("Incident ")[1].split(",")[0]
    log = (store.path.parent / INCIDENT_LOG).read_text(encoding="utf-8")
    assert f"--- incident {incident}" in log and "no number" in log

    # the next refresh that works brings the audiences up to date
    monkeypatch.setattr(pipeline.audience_library, "refresh", real)
    pipeline.refresh_tags(store, "t")
    assert _members(store)["wechat_all"] == before["wechat_all"]


def test_a_refresh_inside_a_callers_transaction_stays_one_unit(store, monkeypatch):
    """Inside a caller's transaction the tags commit with it: the audiences refresh in it too, and a
    failure there rolls the caller's whole step back (nothing half-done)."""
    library.save(store, "s1", "gd_sms", {"field": "province", "eq": "广东省"}, "marketing")
    runs = _tag_runs(store)

    def broken(cur, actor=None, names=None):
        raise duckdb.ConversionException("broken")
    monkeypatch.setattr(pipeline.audience_library, "refresh", broken)
    with pytest.raises(duckdb.ConversionException):
        with store.transaction():
            pipeline.refresh_tags(store, "t", full=True)
    assert _tag_runs(store) == runs

"""Audiences page polish: the sample follows the WeChat app id the count is for; a file the library would
refuse is explained before a click, with the channel and purpose as labels; a running export or push shows
a status; the hash names MD5 and SHA-256 read as they are in Chinese."""
from __future__ import annotations

import pytest
from test_one_language import offences, shown

from governance.audiences import library, members, push
from governance.i18n import t
from governance.jobs import runner as jobs
from helpers import app_test, crm_template, page_store, visible_text

HEADER = "会员卡号,姓名,手机号,营销同意,出生日期,省份,openid,appid,UnionID\n"
APP_A, APP_B = "wx1234567890abcdef", "wxabcdef1234567890"
PEOPLE = {  # name: (card, mobile, marketing consent, birth, province, open_id, app_id, union_id)
    "张伟": ("M1", "13867541230", "是", "1990-01-01", "广东省", "", "", ""),
    "孙丽": ("M2", "", "是", "1988-08-08", "广东省", "oAbCdEfGhIjKlMnOpQrStUvWxYz1", APP_A, ""),
    "周芳": ("M3", "", "是", "1989-09-09", "广东省", "oZyXwVuTsRqPoNmLkJiHgFeDcBa2", APP_B, ""),
    "郑敏": ("M4", "", "是", "1987-07-07", "广东省", "", "", "o6_bmasdasdsad6_2sgVt7hMZOPfL"),
}
GD = {"field": "province", "eq": "广东省"}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return crm_template(tmp_path_factory.mktemp("audiences_polish") / "template.duckdb", HEADER, PEOPLE)


@pytest.fixture
def store(template, tmp_path, monkeypatch):
    with page_store(template, tmp_path / "app.duckdb", monkeypatch) as db:
        yield db


def _run(target):
    at = target.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _open(db, username: str, lang: str = "en"):
    at = _run(app_test(db, username, lang=lang))
    return _run(at.switch_page("pages/audiences.py"))


@pytest.mark.parametrize("app_id, reached", [("", {"郑敏"}), (APP_A, {"孙丽", "郑敏"}), (APP_B, {"周芳", "郑敏"})])
def test_the_sample_follows_the_app_id_of_the_count(store, app_id, reached):
    at = _open(store, "steward")
    _run(at.selectbox(key="aud_channel").set_value("wechat"))
    _run(at.selectbox(key="aud_app_id").set_value(app_id))
    _run(at.text_input(key="aud_rule0_0_text").input("广东省"))
    _run(at.button(key="aud_sample_button").click())
    with store.cursor() as cur:
        found = members.count(cur, GD, "marketing", "wechat", app_id or None)
        expected = {r[0] for r in cur.execute("SELECT oneid FROM golden_wide WHERE list_contains(?, name)",
                                              [sorted(reached)]).fetchall()}
    sample = next(d.value for d in at.dataframe if "oneid" in d.value.columns)
    assert set(sample["oneid"]) == expected and found.members == len(reached)


@pytest.mark.parametrize("lang, words", [
    ("en", ("Files for SMS", "purpose Marketing, not Analytics")),
    ("zh", ("“短信”文件用于营销触达", "不能是“分析”")),
])
def test_a_refused_file_is_explained_with_labels_before_a_click(store, tmp_path, lang, words):
    library.save(store, "steward", "guangdong", GD, "marketing", reason="first")
    push.add_destination(store, "admin", "agency_box", "outbox", str(tmp_path / "outbox"))
    at = _open(store, "steward", lang)
    _run(at.selectbox(key="aud_act_purpose_guangdong").set_value("analytics"))
    (warning,) = [w.value for w in at.warning]
    assert all(w in warning for w in words) and "sms" not in warning and "analytics" not in warning
    assert at.button(key="aud_export_button").disabled and at.button(key="aud_push_button").disabled
    _run(at.selectbox(key="aud_act_channel_guangdong").set_value("csv"))  # an agency file may serve analytics
    assert not at.warning and not at.button(key="aud_export_button").disabled


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_running_export_and_push_show_their_status(store, tmp_path, lang):
    library.save(store, "steward", "guangdong", GD, "marketing", reason="first")
    push.add_destination(store, "admin", "agency_box", "outbox", str(tmp_path / "outbox"))
    at = _open(store, "steward", lang)
    assert not at.status
    _run(at.button(key="aud_export_button").click())
    assert [s.label for s in at.status] == [t("audiences.exporting", lang)]
    _run(at.button(key="aud_push_button").click())
    assert [s.label for s in at.status] == [t("audiences.exporting", lang), t("audiences.pushing", lang)]
    assert t("audiences.push_in_background", lang) in visible_text(at)
    jobs.runner(store).drain()
    _run(at)
    assert not at.status  # both done: the outcome shows instead
    assert (tmp_path / "outbox").exists()


def test_the_hash_names_read_as_they_are_in_chinese(store):
    library.save(store, "steward", "guangdong", GD, "marketing", reason="首版")
    at = _open(store, "steward", "zh")
    _run(at.selectbox(key="aud_act_channel_guangdong").set_value("douyin_dmp"))
    assert [str(o) for o in at.radio(key="aud_act_hash").options] == ["MD5", "SHA-256"]
    assert offences(shown(at), "zh", ["guangdong", "steward"]) == []

"""AppTest for the Audiences page: the live count and its five exclusions as the library counts them,
for every role; what an analyst may not do and sees masked; a steward saves an audience and a new
version (audited), exports and pushes it; the JSON editor refuses bad input in one line; both
languages read without missing texts."""
from __future__ import annotations

import json

import pytest

from governance.audiences import library, members, push
from governance.i18n import TEXTS, t
from governance.jobs import runner as jobs
from governance.privacy import consent
from helpers import MOBILE, app_test, crm_template, page_store, visible_text

HEADER = "会员卡号,姓名,手机号,营销同意,出生日期,省份,openid,appid,UnionID\n"
PEOPLE = {  # name: (card, mobile, marketing consent, birth date, province, open_id, app_id, union_id)
    "张伟": ("M1", "13867541230", "是", "1990-01-01", "广东省", "", "", ""),         # member
    "李娜": ("M2", "13912345678", "否", "1991-02-02", "广东省", "", "", ""),         # withdrawn
    "王芳": ("M3", "13512345678", "", "1985-03-03", "广东省", "", "", ""),           # no consent
    "赵小明": ("M4", "13611112222", "是", "2016-05-05", "广东省", "", "", ""),       # minor without a guardian
    "钱小红": ("M5", "13622223333", "是", "2015-06-06", "广东省", "", "", ""),       # minor, a guardian consented
    "孙丽": ("M6", "", "是", "1988-08-08", "广东省", "", "", "o6_bmasdasdsad6_2sgVt7hMZOPfL"),  # no mobile
    "周强": ("M7", "13733334444", "是", "1980-01-01", "浙江省", "", "", ""),         # another province
    "吴刚": ("M8", "13744445555", "是", "1982-02-02", "广东省", "", "", ""),         # member
}
GD = {"field": "province", "eq": "广东省"}
ZJ = {"field": "province", "eq": "浙江省"}
ROLES = ("admin", "steward", "analyst")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A resolved store with one user per role, built once; each test works on its own copy."""
    def guardian(db) -> None:
        with db.cursor() as cur:
            minor = cur.execute("SELECT oneid FROM golden_wide WHERE name = '钱小红'").fetchone()[0]
        consent.grant(db, "steward", minor, consent.GUARDIAN, method="written")

    return crm_template(tmp_path_factory.mktemp("audiences") / "template.duckdb", HEADER, PEOPLE, guardian)


@pytest.fixture
def store(template, tmp_path, monkeypatch):
    with page_store(template, tmp_path / "app.duckdb", monkeypatch) as db:
        yield db


def _open(db, username: str, lang: str = "en"):
    at = app_test(db, username, lang=lang).run()
    at.switch_page("pages/audiences.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _run(target):
    """Run the page again after an interaction (`target`: the AppTest or the element just changed)."""
    at = target.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _province(at, province: str = "广东省"):
    """The builder's first row: province equals `province`."""
    return _run(at.text_input(key="aud_rule0_0_text").input(province))


def _counted(db, rule, purpose="marketing", channel="sms") -> members.Count:
    with db.cursor() as cur:
        return members.count(cur, rule, purpose, channel)


def _shown_count(at) -> tuple[str, list[tuple[str, int]]]:
    metric = next(m for m in at.metric if m.label in (t("audiences.members", "en"), t("audiences.members", "zh")))
    frame = next(d.value for d in at.dataframe if "exclusion" in d.value.columns)
    return metric.value, list(zip(frame["exclusion"], frame["people"]))


def _buttons(at) -> set[str]:
    return {b.label for b in at.button}


@pytest.mark.parametrize("role", ROLES)
def test_the_count_and_its_exclusions_are_the_librarys(store, role):
    at = _province(_open(store, role))
    expected = _counted(store, GD)
    assert expected.members == 3 and sum(expected.excluded.values()) == 4  # the data has each kind of case
    value, rows = _shown_count(at)
    assert value == f"{expected.members:,}"
    assert rows == [(t(f"audiences.exclusion.{r}", "en"), expected.excluded[r]) for r in members.EXCLUSIONS]
    assert "nobody can remove them" in visible_text(at)
    # the count follows the purpose and the channel
    at.selectbox(key="aud_channel").set_value("csv")
    _run(at.selectbox(key="aud_purpose").set_value("analytics"))
    expected = _counted(store, GD, "analytics", "csv")
    value, rows = _shown_count(at)
    assert value == f"{expected.members:,}" and [n for _, n in rows] == [expected.excluded[r] for r in members.EXCLUSIONS]


@pytest.mark.parametrize("role", ROLES)
def test_what_each_role_may_do(store, role):
    library.save(store, "steward", "guangdong", GD, "marketing", reason="first")
    at = _province(_open(store, role))
    may_change = role != "analyst"
    assert len(at.tabs) == (3 if may_change else 2)  # build, saved (and activate and push)
    labels = _buttons(at)
    assert (t("audiences.snapshot", "en") in labels) == may_change
    assert (t("audiences.export_button", "en") in labels) == may_change
    assert (t("audiences.open_in_builder", "en") in labels) == may_change
    assert bool(at.get("form")) == may_change  # the save form
    assert t("audiences.push_button", "en") not in labels  # no destination configured yet
    table = next(d.value for d in at.dataframe if "audience" in d.value.columns)
    assert list(table["audience"]) == ["guangdong"] and list(table["members"]) == [3]


def test_an_analyst_sees_a_masked_sample(store):
    at = _province(_open(store, "analyst"))
    _run(at.button(key="aud_sample_button").click())
    sample = next(d.value for d in at.dataframe if "mobile" in d.value.columns)
    assert len(sample) == 3
    assert not [m for m in sample["mobile"].dropna() if MOBILE.search(str(m))]
    assert all("*" in str(m) for m in sample["mobile"].dropna()) and all("*" in str(n) for n in sample["name"])
    assert not set(sample["name"]) & set(PEOPLE)
    _run(at.button(key="aud_breakdown_button").click())
    assert len(at.get("plotly_chart")) == 3  # province, age band, channel
    # the sample is kept for the same rule, and dropped when the rule changes
    _province(at, "浙江省")
    assert not [d for d in at.dataframe if "mobile" in d.value.columns]


def test_a_steward_saves_an_audience_and_a_new_version(store):
    at = _province(_open(store, "steward"))
    at.text_input(key="aud_save_name").input("guangdong")
    at.text_input(key="aud_save_reason").input("campaign")
    _run(at.button(key=f"FormSubmitter:aud_save_form-{t('audiences.save', 'en')}").click())
    assert not at.error, [e.value for e in at.error]
    assert any("Saved: guangdong version 1." in s.value for s in at.success)
    with store.cursor() as cur:
        saved = library.get(cur, "guangdong")
        audits = cur.execute("SELECT actor, object_id, detail FROM audit_log WHERE action = 'audience.save'").fetchall()
    assert (saved.version, saved.rule, saved.purpose, saved.channel, saved.owner, saved.members) == (
        1, GD, "marketing", "sms", "steward", 3)
    assert [(a, o) for a, o, _ in audits] == [("steward", "guangdong")]

    # open it in the builder, widen the rule to an OR of two provinces, save version 2 with a reason
    _run(at.button(key="aud_open_guangdong").click())
    assert at.text_input(key="aud_save_name").value == "guangdong"
    at.radio(key="aud_rule1_join").set_value("any")
    _run(at.button(key="aud_rule1_rows_add").click())
    _run(at.text_input(key="aud_rule1_1_text").input("浙江省"))
    at.text_input(key="aud_save_reason").input("add Zhejiang")
    _run(at.button(key=f"FormSubmitter:aud_save_form-{t('audiences.save', 'en')}").click())
    assert not at.error, [e.value for e in at.error]
    with store.cursor() as cur:
        saved = library.get(cur, "guangdong")
        versions = library.versions(cur, "guangdong")
        audits = cur.execute("SELECT count(*) FROM audit_log WHERE action = 'audience.save'").fetchone()[0]
    assert saved.version == 2 and saved.rule == {"any": [GD, ZJ]} and saved.members == 4
    assert list(versions["reason"]) == ["add Zhejiang", "campaign"] and audits == 2
    versions_table = next(d.value for d in at.dataframe if "rule_words" in d.value.columns)
    assert list(versions_table["version"]) == [2, 1]
    assert "Rule: (Province equals 广东省) or (Province equals 浙江省)" in visible_text(at)  # the rule in words
    joins = next(d.value for d in at.dataframe if "joined" in d.value.columns)
    assert (joins["joined"].sum(), joins["left"].sum()) == (4, 0)  # 3 with version 1, 周强 with version 2

    # a snapshot is taken and audited
    _run(at.button(key="aud_snapshot_guangdong").click())
    with store.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM audit_log WHERE action = 'audience.snapshot'").fetchone()[0] == 1
        assert len(library.snapshots(cur, "guangdong")) == 1


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_bad_json_rule_gets_one_line_and_no_traceback(store, lang):
    at = _open(store, "steward", lang)
    _run(at.toggle(key="aud_json_mode").set_value(True))
    _run(at.text_area(key="aud_json_text").input('{"all": [{"field": "province", "eq": '))
    assert [e.value for e in at.error] == [t("audiences.bad_json", lang, line=1, column=38)]
    assert not [m for m in at.metric if m.label == t("audiences.members", lang)]  # nothing counted
    _run(at.text_area(key="aud_json_text").input('{"field": "shoe_size", "eq": 42}'))
    assert len(at.error) == 1 and "\n" not in at.error[0].value
    assert at.error[0].value.startswith(t("audiences.bad_rule", lang, message=""))
    # back to the builder is refused while the JSON is wrong
    _run(at.toggle(key="aud_json_mode").set_value(False))
    assert at.toggle(key="aud_json_mode").value is True
    assert [w.value for w in at.warning] == [t("audiences.json_fix_first", lang)]


def test_json_edits_show_in_the_builder_with_groups_and_audiences(store):
    library.save(store, "steward", "zhejiang", ZJ, "marketing", reason="first")
    at = _open(store, "steward")
    rule = {"any": [{"all": [GD, {"not": {"field": "gender", "eq": "2"}}]}, {"audience": "zhejiang"}]}
    _run(at.toggle(key="aud_json_mode").set_value(True))
    _run(at.text_area(key="aud_json_text").input(json.dumps(rule, ensure_ascii=False)))
    assert not at.error, [e.value for e in at.error]
    value, _ = _shown_count(at)
    assert value == f"{_counted(store, rule).members:,}"
    _run(at.toggle(key="aud_json_mode").set_value(False))  # the same rule, now in the builder
    assert at.selectbox(key="aud_rule1_0_kind").value == "group"
    assert at.selectbox(key="aud_rule1_1_kind").value == "audience"
    assert at.selectbox(key="aud_rule1_1_audience").value == "zhejiang"
    assert _shown_count(at)[0] == value
    # excluding the saved audience with NOT
    _run(at.checkbox(key="aud_rule1_1_not").check())
    assert _shown_count(at)[0] == f"{_counted(store, {'any': [rule['any'][0], {'not': {'audience': 'zhejiang'}}]}).members:,}"


def _page_progress(at) -> list[str]:
    return [str(p.proto.text) for p in at.main.get("progress")]


def _jobs(db) -> list[jobs.Job]:
    with db.cursor() as cur:
        return jobs.recent(cur)


def test_a_steward_exports_an_sms_file_and_pushes_to_an_outbox(store, tmp_path, downloads):
    library.save(store, "steward", "guangdong", GD, "marketing", reason="first")
    push.add_destination(store, "admin", "agency_box", "outbox", str(tmp_path / "outbox"))
    at = _open(store, "steward")
    _run(at.button(key="aud_export_button").click())
    assert not at.error, [e.value for e in at.error]
    # the file is written by a background job, not in the page's run
    (job,) = _jobs(store)
    assert (job.kind, job.status, job.started_by) == ("audience_export", "queued", "steward")
    assert _page_progress(at) == ["waiting to start"] and "aud_download" not in downloads
    assert at.button(key="aud_export_button").disabled  # one file at a time
    assert not list(push.spool_dir(store).iterdir())
    jobs.runner(store).drain()
    _run(at)
    assert not _page_progress(at)
    (job,) = _jobs(store)
    assert job.status == "done" and job.result["rows"] == 3
    name, data = downloads["aud_download"]
    assert name.endswith(".txt") and name == job.result["file"]
    assert sorted(data().decode().split()) == ["13622223333", "13744445555", "13867541230"]  # the 3 members
    assert f"The file is ready: {name} (3 rows)." in [s.value for s in at.success]
    assert not MOBILE.search(visible_text(at))  # the page itself shows no mobile
    assert "guangdong: SMS, 3 rows." in visible_text(at)  # the job panel's summary
    # another user (an admin too) is not offered the steward's file
    downloads.clear()
    admin = _open(store, "admin")
    assert "aud_download" not in downloads and not [s for s in admin.success if "file is ready" in s.value]

    _run(at.button(key="aud_push_button").click())
    assert [j.kind for j in _jobs(store)][0] == "audience_push" and not (tmp_path / "outbox").exists()
    assert at.button(key="aud_push_button").disabled
    jobs.runner(store).drain()
    _run(at)
    assert any("Pushed to agency_box: 3 rows" in s.value for s in at.success), [e.value for e in at.error]
    deliveries = next(d.value for d in at.dataframe if "attempt" in d.value.columns)
    assert list(deliveries["attempt"]) == [1] and list(deliveries["delivered"]) == [True]
    assert len(list((tmp_path / "outbox").glob("*.txt"))) == 1
    with store.cursor() as cur:
        actions = [r[0] for r in cur.execute("SELECT action FROM audit_log WHERE action LIKE 'audience.%' "
                                             "ORDER BY 1").fetchall()]
    assert actions == ["audience.export", "audience.export", "audience.push", "audience.save"]


def test_the_overlap_of_saved_audiences(store):
    library.save(store, "steward", "guangdong", GD, "marketing", reason="first")
    library.save(store, "steward", "both", {"any": [GD, ZJ]}, "marketing", reason="first")
    at = _open(store, "analyst")
    _run(at.multiselect(key="aud_overlap_pick").set_value(["guangdong", "both"]))
    _run(at.button(key="aud_overlap_button").click())
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["data"][0]["type"] == "heatmap"
    pairs = next(d.value for d in at.dataframe if "jaccard" in d.value.columns)
    assert pairs[["a", "b", "a_count", "b_count", "both"]].values.tolist() == [["guangdong", "both", 3, 4, 3]]
    assert pairs["jaccard"].tolist() == [0.75]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("role", ROLES)
def test_both_languages_render_without_missing_texts(store, role, lang):
    library.save(store, "steward", "guangdong", GD, "marketing", reason="first")
    at = _province(_open(store, role, lang))
    _run(at.button(key="aud_sample_button").click())
    assert [tab.label for tab in at.tabs][:2] == [t("audiences.tab.build", lang), t("audiences.tab.saved", lang)]
    shown = visible_text(at) + "\n".join(str(getattr(w, "label", "")) for w in at._tree)
    keys = [k for k in TEXTS if k.startswith(("audiences.", "tags.builder.")) and k in shown]
    assert keys == []  # a text missing from i18n would show as its key
    assert [tt.value for tt in at.title] == [t("page.audiences", lang)]


def test_a_description_is_shown_as_written_not_as_markdown(store):
    """What a steward types as a description reaches every role: an image from elsewhere, a link or
    emphasis in it stays text."""
    hostile = "![x](http://127.0.0.1:9/t.png) [点此](javascript:alert(1)) **粗体** # 标题"
    library.save(store, "steward", "guangdong", GD, "marketing", description=hostile)
    at = _open(store, "analyst")
    [shown] = [m.value for m in at.markdown if "粗体" in m.value]
    assert "![" not in shown and "](" not in shown and "**" not in shown
    assert shown.replace("\\", "").startswith(hostile)

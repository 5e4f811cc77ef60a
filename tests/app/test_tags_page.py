"""AppTest for the Tags page: what admin, steward and analyst see and may do, in Chinese and English;
the rule builder saves a draft, the author cannot approve it, another steward publishes it."""
from __future__ import annotations

from dataclasses import replace

import pytest

from governance.access import auth
from governance.tags import library
from governance.tags.definitions import AllowedValue, TagDefinition
from helpers import PASSWORDS, app_test, visible_text

HEALTH = TagDefinition("health_interest", "健康关注", "Health interest", "preference", "boolean",
                       {"when": {"field": "age", "gte": 60}}, "关注健康类商品的客户。", sensitivity="sensitive")
BIG_SPENDER = TagDefinition("big_spender", "高消费客户", "Big spender", "value", "boolean",
                            {"when": {"event": "spend", "days": 365, "gte": 5000}}, "近一年消费满五千元。")


def _publish(db, tag: TagDefinition, author: str = "steward", approver: str = "admin") -> None:
    library.save(db, author, tag, "首版")
    library.submit(db, author, tag.code)
    library.approve(db, approver, tag.code, "规则核对无误")


@pytest.fixture
def tags_db(app_db):
    auth.create_user(app_db, "test", "steward2", PASSWORDS["steward"], "steward")
    with app_db.transaction() as cur:
        library.ensure_builtins(cur)
    _publish(app_db, HEALTH)
    return app_db


def _open(db, username: str, lang: str = "en"):
    at = app_test(db, username, lang=lang).run()
    at.switch_page("pages/tags.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _pick(at, code: str):
    at.selectbox(key="tags_pick").set_value(code).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _buttons(at) -> set[str]:
    return {b.label for b in at.button}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_analyst_sees_published_tags_but_no_sensitive_tag_and_no_actions(tags_db, lang):
    at = _open(tags_db, "analyst", lang)
    assert [t.value for t in at.title] == [{"zh": "标签", "en": "Tags"}[lang]]
    names = set(at.dataframe[0].value["tag_name"])
    assert ("生命周期阶段" if lang == "zh" else "Lifecycle stage") in names
    assert not names & {"健康关注", "Health interest"}
    assert "health_interest" not in at.selectbox(key="tags_pick").options
    assert len(at.tabs) == 3  # library, values, health: no editing, mappings or categories
    _pick(at, "lifecycle_stage")
    shown = _buttons(at)
    assert not shown & {"批准发布", "Approve and publish", "驳回", "Reject", "下线", "Retire", "弃用", "Deprecate",
                        "保存为草稿", "Save as a draft"}
    assert not at.get("form")
    assert "健康关注" not in visible_text(at) and "Health interest" not in visible_text(at)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_steward_and_admin_see_the_sensitive_tag_and_the_editing_tabs(tags_db, lang):
    for username, tabs in (("steward", 5), ("admin", 6)):
        at = _open(tags_db, username, lang)
        names = set(at.dataframe[0].value["tag_name"])
        assert ("健康关注" if lang == "zh" else "Health interest") in names
        assert len(at.tabs) == tabs
        _pick(at, "health_interest")
        assert ("年龄大于等于 60" if lang == "zh" else "Age at least 60") in visible_text(at)
        assert {"弃用", "下线"} <= _buttons(at) if lang == "zh" else {"Deprecate", "Retire"} <= _buttons(at)


def _fill_spend_rule(at, amount: float, code: str, zh: str, en: str):
    """The builder: one test, spend in the last 365 days at least `amount`; then the names."""
    at.selectbox(key="tagform_new_type").set_value("boolean").run()
    at.selectbox(key="tagform_new_when_0_kind").set_value("event").run()
    at.selectbox(key="tagform_new_when_0_subject").set_value("spend").run()
    assert at.number_input(key="tagform_new_when_0_days").value == 365
    at.selectbox(key="tagform_new_when_0_op").set_value("gte").run()
    at.number_input(key="tagform_new_when_0_number").set_value(amount).run()
    at.text_input(key="tagform_new_code").input(code)
    at.text_input(key="tagform_new_name_zh").input(zh)
    at.text_input(key="tagform_new_name_en").input(en)
    at.selectbox(key="tagform_new_category").set_value("value")
    at.text_input(key="tagform_new_reason").input("新营销活动需要")
    return at


def test_the_builder_saves_a_draft_and_another_steward_publishes_it(tags_db):
    at = _open(tags_db, "steward", "zh")
    _fill_spend_rule(at, 3000, "vip_spender", "年消费三千以上", "Spend over 3000")
    assert "近 365 天消费金额大于等于 3000" in visible_text(at)  # the rule in words before it is saved
    at.button(key="FormSubmitter:tagform_new_form-保存为草稿").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    with tags_db.cursor() as cur:
        tag = library.get(cur, "vip_spender")
    assert (tag.version, tag.status, tag.created_by) == (1, "draft", "steward")
    assert tag.technical == {"when": {"event": "spend", "days": 365, "gte": 3000}}
    assert (tag.name_zh, tag.name_en, tag.category, tag.reason) == ("年消费三千以上", "Spend over 3000", "value",
                                                                     "新营销活动需要")
    assert any(s.value.startswith("已保存：年消费三千以上 版本 1（草稿）。") for s in at.success)
    assert at.text_input(key="tagform_new_code").value == ""  # the kept form empties after a save

    _pick(at, "vip_spender")
    at.button(key="tags_submit_vip_spender_1").click().run()
    with tags_db.cursor() as cur:
        assert library.get(cur, "vip_spender").status == "in_review"
    # the author is not offered approve or reject, and is told why
    assert not {"批准发布", "驳回"} & _buttons(at)
    assert any("需要另一位数据管家或管理员批准" in i.value for i in at.info)

    other = _pick(_open(tags_db, "steward2", "zh"), "vip_spender")
    other.button(key="tags_approve_vip_spender_1").click().run()  # no comment: refused, nothing changes
    assert [e.value for e in other.error] == ["批准或驳回都需要填写审核意见。"]
    with tags_db.cursor() as cur:
        assert library.get(cur, "vip_spender").status == "in_review"
    other.text_input(key="tags_review_comment_vip_spender_1").input("金额门槛合理")
    other.button(key="tags_approve_vip_spender_1").click().run()
    assert not other.exception
    with tags_db.cursor() as cur:
        tag = library.get(cur, "vip_spender")
        reviews = library.reviews(cur, "vip_spender")
    assert tag.status == "published"
    assert list(zip(reviews["action"], reviews["actor"])) == [("approve", "steward2"), ("submit", "steward")]
    assert reviews["comment"][0] == "金额门槛合理"
    assert "已批准并发布：年消费三千以上。" in [s.value for s in other.success]


def test_a_refused_save_keeps_the_input_and_says_why(tags_db):
    at = _open(tags_db, "steward", "en")
    _fill_spend_rule(at, 3000, "Bad Code", "坏编码", "Bad code")
    at.button(key="FormSubmitter:tagform_new_form-Save as a draft").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "lower snake case" in at.error[0].value
    assert at.text_input(key="tagform_new_code").value == "Bad Code"
    with tags_db.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM tag_definitions WHERE name_en = 'Bad code'").fetchone()[0] == 0


def test_a_new_version_shows_its_diff_and_retire_names_what_uses_a_tag(tags_db):
    _publish(tags_db, BIG_SPENDER)
    uses = TagDefinition("loyal_big_spender", "忠诚高消费", "Loyal big spender", "value", "boolean",
                         {"when": {"all": [{"tag": "big_spender", "eq": "true"}, {"field": "channel_count", "gte": 2}]}})
    _publish(tags_db, uses)
    library.save(tags_db, "steward", replace(BIG_SPENDER, technical={
        "when": {"event": "spend", "days": 365, "gte": 8000}}), "门槛提高")
    at = _pick(_open(tags_db, "admin", "en"), "big_spender")
    diff = next(d.value for d in at.dataframe if "changed_field" in d.value.columns)
    assert list(diff["changed_field"]) == ["technical definition"]
    assert "at least 5000" in diff["before"][0] and "at least 8000" in diff["after"][0]
    # the newest version is a draft: it is submitted, not retired; the published one is used by another tag
    assert "Submit for review" in _buttons(at)
    at = _pick(_open(tags_db, "admin", "en"), "loyal_big_spender")
    assert "Retire" in _buttons(at)
    at = _open(tags_db, "admin", "en")
    library.submit(tags_db, "steward", "big_spender")
    library.approve(tags_db, "admin", "big_spender", "同意")
    at = _pick(_open(tags_db, "admin", "en"), "big_spender")
    assert "Retire" not in _buttons(at)
    assert any("Cannot retire: still in use (tags: Loyal big spender)" in w.value for w in at.warning)


def test_admin_edits_a_category(tags_db):
    at = _open(tags_db, "admin", "zh")
    at.selectbox(key="tags_cat_pick").set_value("member").run()
    inputs = [w for w in at.text_input if w.value == "会员"]
    inputs[0].input("会员权益")
    at.button(key="FormSubmitter:tags_cat_member_form-保存分类").click().run()
    assert not at.exception
    with tags_db.cursor() as cur:
        names = {c.path: c.name_zh for c in library.categories(cur)}
    assert names["member"] == "会员权益"


def test_enumeration_cases_are_built_into_cases_and_allowed_values(tags_db):
    at = _open(tags_db, "steward", "en")
    at.selectbox(key="tagform_new_type").set_value("enum").run()
    at.text_input(key="tagform_new_case0_code").input("heavy")
    at.text_input(key="tagform_new_case0_zh").input("重度")
    at.text_input(key="tagform_new_case0_en").input("heavy")
    at.selectbox(key="tagform_new_case0_0_kind").set_value("event").run()
    at.selectbox(key="tagform_new_case0_0_subject").set_value("orders").run()
    at.selectbox(key="tagform_new_case0_0_op").set_value("gte").run()
    at.number_input(key="tagform_new_case0_0_number").set_value(10).run()
    at.checkbox(key="tagform_new_case0_0_not").check().run()
    at.text_input(key="tagform_new_else_code").input("light")
    at.text_input(key="tagform_new_else_zh").input("轻度")
    at.text_input(key="tagform_new_else_en").input("light")
    at.text_input(key="tagform_new_code").input("order_depth")
    at.text_input(key="tagform_new_name_zh").input("下单深度")
    at.text_input(key="tagform_new_name_en").input("Order depth")
    at.selectbox(key="tagform_new_category").set_value("behaviour")
    at.button(key="FormSubmitter:tagform_new_form-Save as a draft").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    with tags_db.cursor() as cur:
        tag = library.get(cur, "order_depth")
    assert tag.technical == {"cases": [{"value": "heavy", "when": {"not": {"event": "orders", "days": 365, "gte": 10}}}],
                             "else": "light"}
    assert tag.allowed_values == (AllowedValue("heavy", "重度", "heavy"), AllowedValue("light", "轻度", "light"))


def test_compute_now_runs_in_the_background_and_the_values_appear(tags_db, tmp_path):
    from governance.jobs import runner as jobs
    from helpers import load_generated

    load_generated(tags_db, tmp_path / "d", 80, seed=4)
    from governance.golden import survivorship
    survivorship.build_golden(tags_db)
    at = _pick(_open(tags_db, "steward", "en"), "lifecycle_stage")
    assert "This tag has not been computed yet." in [i.value for i in at.info]
    at.button(key="tags_compute_now").click().run()
    assert not at.exception
    with tags_db.cursor() as cur:
        (job,) = jobs.recent(cur)
    assert (job.kind, job.status, job.started_by) == ("refresh_tags", "queued", "steward")
    jobs.runner(tags_db).drain()
    with tags_db.cursor() as cur:
        assert jobs.get(cur, job.job_id).status == "done", jobs.get(cur, job.job_id).message
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    with tags_db.cursor() as cur:
        oneids = cur.execute("SELECT count(*) FROM golden_records").fetchone()[0]
        with_value = cur.execute("SELECT count(*) FROM tag_values WHERE tag_code = 'lifecycle_stage'").fetchone()[0]
    assert with_value == oneids > 0
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Coverage"] == "100.0%" and metrics["OneIDs with a value"] == f"{oneids:,}"
    sample = next(d.value for d in at.dataframe if list(d.value.columns) == ["oneid", "value", "computed_at"])
    assert len(sample) == 10 and set(sample["value"]) <= {"prospect", "new", "active", "dormant", "churned"}
    assert at.get("plotly_chart")  # the value distribution
    assert any(c.value.startswith("Computed 11 tags as of ") for c in at.sidebar.caption)  # the job panel says what ran


def test_steward_maps_a_source_tag_value_in_the_editor(tags_db, tmp_path):
    from governance.tags import source_tags
    from helpers import load_generated

    load_generated(tags_db, tmp_path / "d", 60, seed=4, resolve=False)
    at = _open(tags_db, "steward", "zh")
    assert at.selectbox(key="tags_map_source").options == ["pos_sales"]  # the only source with a tag column
    assert at.selectbox(key="tags_map_column").value == "会员等级"
    assert at.selectbox(key="tags_map_tag").value == "member_tier"
    editor = "tags_map_editor_pos_sales_会员等级_member_tier"
    assert len(at.data_editor) == 1
    at.session_state[editor] = {"edited_rows": {}, "added_rows": [{"source_value": "88VIP", "tag_value": "platinum"}],
                                "deleted_rows": []}
    at.run()
    at.button(key="tags_map_save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    with tags_db.cursor() as cur:
        active = source_tags.mappings(cur)
    assert list(zip(active["source"], active["column"], active["source_value"], active["tag_code"],
                    active["tag_value"])) == [("pos_sales", "会员等级", "88VIP", "member_tier", "platinum")]
    assert "已保存映射版本 1。" in [s.value for s in at.success]


def test_analyst_has_no_source_mapping_or_category_tab(tags_db):
    at = _open(tags_db, "analyst", "zh")
    assert not [w for w in at.selectbox if w.key in ("tags_map_source", "tags_cat_pick")]
    assert not [b for b in at.button if b.key in ("tags_compute_now", "tags_map_save")]


def test_analyst_sees_the_published_version_not_a_newer_draft_nor_a_draft_tag(tags_db):
    _publish(tags_db, BIG_SPENDER)
    library.save(tags_db, "steward", replace(BIG_SPENDER, name_en="Top spender"),
                 "改名")
    library.save(tags_db, "steward", TagDefinition("draft_only", "仅草稿", "Draft only", "value", "boolean",
                                                   {"when": {"field": "age", "lt": 30}}))
    at = _open(tags_db, "analyst", "en")
    listed = at.dataframe[0].value
    assert "Big spender" in set(listed["tag_name"]) and not {"Top spender", "Draft only"} & set(listed["tag_name"])
    assert set(listed["tag_status"]) == {"published"}
    _pick(at, "big_spender")
    assert "Big spender" in [h.value for h in at.subheader]
    assert "Versions" not in visible_text(at)
    steward = _pick(_open(tags_db, "steward", "en"), "big_spender")
    assert "Top spender" in [h.value for h in steward.subheader]  # editors work on the newest version


def test_saving_a_near_duplicate_shows_the_librarys_warning(tags_db):
    library.save(tags_db, "steward", TagDefinition("high_value_customer", "高价值客户", "High-value customer", "value",
                                                   "boolean", {"when": {"event": "spend", "days": 365, "gte": 9000}}))
    at = _open(tags_db, "steward", "en")
    _fill_spend_rule(at, 3000, "high_value_user", "高价值用户", "High-value user")
    at.button(key="FormSubmitter:tagform_new_form-Save as a draft").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    with tags_db.cursor() as cur:
        assert library.get(cur, "high_value_user").status == "draft"
    notes = [w.value for w in at.warning if w.value.startswith("Note: ")]
    assert notes == ["Note: The name '高价值用户' is like '高价值客户' of the tag high_value_customer; is it the same tag?"]

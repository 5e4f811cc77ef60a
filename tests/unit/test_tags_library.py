"""The tag library: built-ins, naming checks, versions and diffs, four-eyes approval, retirement while
in use, permissions per category and sensitivity, and the audit trail."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from governance import pipeline
from governance.access import auth
from governance.tags import library
from governance.tags.definitions import BUILTIN_CODES, Category, TagDefinition, TagError

PASSWORD = "password-123456"


@pytest.fixture
def lib(db):
    for name, role in (("s1", "steward"), ("s2", "steward"), ("ana", "analyst"), ("boss", "admin")):
        auth.create_user(db, "test", name, PASSWORD, role)
    with db.transaction() as cur:
        library.ensure_builtins(cur)
    return db


def big_spender(code="big_spender", zh="大额消费客户", en="Big spenders", days=365, **kw) -> TagDefinition:
    return TagDefinition(code, zh, en, kw.pop("category", "value"), "boolean",
                         {"when": {"event": "spend", "days": days, "gte": 5000}}, "近一年消费满 5000 元", **kw)


def publish(db, tag: TagDefinition, author="s1", reviewer="s2", reason=None) -> int:
    version = library.save(db, author, tag, reason).version
    library.submit(db, author, tag.code)
    library.approve(db, reviewer, tag.code, "looks right")
    return version


def audit_rows(db, action: str) -> list[tuple[str, str, dict]]:
    with db.cursor() as cur:
        rows = cur.execute("SELECT actor, object_id, detail FROM audit_log WHERE action = ? ORDER BY id", [action])
        return [(a, o, json.loads(d) if d else {}) for a, o, d in rows.fetchall()]


def test_ensure_builtins_is_idempotent_and_publishes_the_ten_builtins(lib):
    with lib.transaction() as cur:
        library.ensure_builtins(cur)  # a second time: nothing more
    with lib.cursor() as cur:
        rows = cur.execute("SELECT code, version, status, created_by, builtin FROM tag_definitions ORDER BY code").fetchall()
        paths = {c.path for c in library.categories(cur)}
        assert {t.code for t in library.computed(cur)} == set(BUILTIN_CODES)
    assert len(rows) == 10 and {r[0] for r in rows} == set(BUILTIN_CODES)
    assert all(r[1:] == (1, "published", "system", True) for r in rows)
    assert {"basic", "behaviour", "preference", "lifecycle", "value", "channel", "member"} <= paths


def test_an_edited_builtin_is_not_restored_and_needs_another_reviewer(lib):
    with lib.cursor() as cur:
        base = library.get(cur, "lifecycle_stage")
    edited = replace(base, technical={**base.technical, "active_days": 60})
    assert library.save(lib, "s1", edited, "shorter active window").version == 2
    library.submit(lib, "s1", "lifecycle_stage")
    with pytest.raises(TagError, match="Four eyes"):
        library.approve(lib, "s1", "lifecycle_stage", "mine")
    library.approve(lib, "s2", "lifecycle_stage", "agreed")
    with lib.transaction() as cur:
        library.ensure_builtins(cur)
    with lib.cursor() as cur:
        live = {t.code: t for t in library.computed(cur)}["lifecycle_stage"]
        assert library.get(cur, "lifecycle_stage", 1).status == "superseded"
    assert (live.version, live.technical["active_days"], live.builtin) == (2, 60, True)


def test_four_eyes_author_and_analyst_cannot_approve_another_steward_can(lib):
    library.save(lib, "s1", big_spender())
    library.submit(lib, "s1", "big_spender", "please review")
    with pytest.raises(TagError, match="Four eyes: s1 wrote version 1"):
        library.approve(lib, "s1", "big_spender", "self-approval")
    with pytest.raises(TagError, match="Only stewards and admins change tags; ana is analyst"):
        library.approve(lib, "ana", "big_spender", "analyst approval")
    with pytest.raises(TagError, match="needs a comment"):
        library.approve(lib, "s2", "big_spender", "  ")
    with lib.cursor() as cur:
        assert library.get(cur, "big_spender").status == "in_review" and library.computed(cur)[0].code != "big_spender"
    assert library.approve(lib, "s2", "big_spender", "rule checked against finance") == 1
    with lib.cursor() as cur:
        assert library.get(cur, "big_spender").status == "published"
        assert "big_spender" in {t.code for t in library.computed(cur)}
        reviews = library.reviews(cur, "big_spender")
    assert list(reviews["action"]) == ["approve", "submit"]
    assert list(reviews["actor"]) == ["s2", "s1"]
    assert reviews["comment"].iloc[0] == "rule checked against finance"


def test_unknown_actor_is_told_to_pass_actor(lib):
    with pytest.raises(TagError, match="pass --actor USER"):
        library.save(lib, "cli:root", big_spender())


def test_rejection_returns_the_version_to_draft_with_its_comment(lib):
    library.save(lib, "s1", big_spender())
    library.submit(lib, "s1", "big_spender")
    with pytest.raises(TagError, match="Four eyes"):
        library.reject(lib, "s1", "big_spender", "withdrawn")
    library.reject(lib, "s2", "big_spender", "5000 is too low for this brand")
    with lib.cursor() as cur:
        assert library.get(cur, "big_spender").status == "draft"
        assert library.reviews(cur, "big_spender")["comment"].iloc[0] == "5000 is too low for this brand"
    [(actor, code, detail)] = audit_rows(lib, "tag.reject")
    assert (actor, code, detail["comment"], detail["version"]) == ("s2", "big_spender", "5000 is too low for this brand", 1)


def test_a_new_version_leaves_the_published_one_computed_until_approved(lib):
    publish(lib, big_spender())
    library.save(lib, "s2", big_spender(days=180), "half a year")
    library.submit(lib, "s2", "big_spender")
    with lib.cursor() as cur:
        live = {t.code: t for t in library.computed(cur)}["big_spender"]
        listed = library.tag_list(cur, "steward").set_index("code").loc["big_spender"]
    assert (live.version, live.technical["when"]["days"]) == (1, 365)
    assert (listed["status"], listed["version"], listed["computed_version"]) == ("in_review", 2, 1)
    library.approve(lib, "s1", "big_spender", "fine")
    with lib.cursor() as cur:
        live = {t.code: t for t in library.computed(cur)}["big_spender"]
        assert library.get(cur, "big_spender", 1).status == "superseded"
    assert (live.version, live.technical["when"]["days"]) == (2, 180)
    [(_, _, detail)] = audit_rows(lib, "tag.approve")[1:]
    assert detail == {"version": 2, "comment": "fine", "superseded": 1}


def test_version_diff_lists_name_and_technical_definition(lib):
    library.save(lib, "s1", big_spender())
    with pytest.raises(TagError, match="needs a reason"):
        library.save(lib, "s1", big_spender(zh="高消费客户", days=180))
    with pytest.raises(TagError, match="Nothing changed since version 1"):
        library.save(lib, "s1", big_spender(), "again")
    assert library.save(lib, "s1", big_spender(zh="高消费客户", days=180), "rename, half a year").version == 2
    with lib.cursor() as cur:
        changes = library.diff(cur, "big_spender", 1, 2)
        versions = library.versions(cur, "big_spender")
    assert [c["field"] for c in changes] == ["name_zh", "technical_definition"]
    assert changes[0] == {"field": "name_zh", "before": "大额消费客户", "after": "高消费客户"}
    assert (changes[1]["before"]["when"]["days"], changes[1]["after"]["when"]["days"]) == (365, 180)
    assert list(versions["version"]) == [2, 1] and list(versions["status"]) == ["draft", "superseded"]
    assert versions["reason"].iloc[0] == "rename, half a year" and versions["created_by"].iloc[0] == "s1"
    saves = audit_rows(lib, "tag.save")
    assert saves[-1][2]["changed_fields"] == ["name_zh", "technical_definition"]
    assert saves[-1][2]["reason"] == "rename, half a year"


def test_retire_is_refused_while_another_published_tag_uses_it(lib):
    publish(lib, big_spender())
    vip = TagDefinition("vip_candidate", "VIP候选", "VIP candidates", "value", "boolean",
                        {"when": {"all": [{"tag": "big_spender", "eq": "true"}, {"field": "city", "in": ["上海"]}]}})
    publish(lib, vip)
    with lib.transaction() as cur:
        cur.execute("INSERT INTO tag_values VALUES ('o1', 'big_spender', 'true', NULL, 1, DATE '2026-01-01', now(), NULL)")
    with pytest.raises(TagError, match="cannot be retired: the tags vip_candidate use it"):
        library.retire(lib, "s1", "big_spender")
    with lib.cursor() as cur:
        assert library.usage(cur, "big_spender") == {"tags": ["vip_candidate"], "audiences": [], "exports": 0}
    library.retire(lib, "s1", "vip_candidate", "replaced by CRM segment")
    assert pipeline.retire_tag(lib, "s2", "big_spender") == 1  # the library retires, compute drops the values
    with lib.cursor() as cur:
        assert library.get(cur, "big_spender").status == "retired"
        assert "big_spender" not in {t.code for t in library.computed(cur)}
        assert cur.execute("SELECT count(*) FROM tag_values WHERE tag_code = 'big_spender'").fetchone()[0] == 0
    with pytest.raises(TagError, match="is retired; give a new definition a new code"):
        library.save(lib, "s1", big_spender(days=30), "back")
    assert [r[1] for r in audit_rows(lib, "tag.retire")] == ["vip_candidate", "big_spender"]
    assert audit_rows(lib, "tag.retire")[0][2]["comment"] == "replaced by CRM segment"


def test_retire_is_refused_while_a_saved_audience_uses_it(lib):
    publish(lib, big_spender())
    with lib.transaction() as cur:  # a saved audience's row, as audiences.library writes it
        cur.execute("INSERT INTO audiences (name, kind, purpose, channel, owner, version, rule, created_by, created_at, "
                    "updated_by, updated_at) VALUES ('春季大促', 'dynamic', 'marketing', 'sms', 's1', 1, ?, 's1', now(), "
                    "'s1', now())", [json.dumps({"tag": "big_spender", "eq": "true"})])
    with pytest.raises(TagError, match="the audiences 春季大促 use it"):
        library.retire(lib, "s1", "big_spender")


def test_a_sensitive_tag_is_hidden_from_analysts(lib):
    publish(lib, big_spender())
    publish(lib, TagDefinition("health_interest", "健康关注", "Health interest", "preference", "boolean",
                               {"when": {"event": "orders", "category": ["保健"], "gte": 1}}, sensitivity="sensitive"))
    with lib.cursor() as cur:
        analyst = set(library.tag_list(cur, "analyst")["code"])
        steward = set(library.tag_list(cur, "steward")["code"])
        assert not library.can_view(cur, "analyst", "health_interest")
        assert library.can_view(cur, "steward", "health_interest") and library.can_view(cur, "analyst", "big_spender")
    assert "health_interest" in steward and "health_interest" not in analyst and "big_spender" in analyst
    # a category that lets analysts view does not make it visible either
    library.set_category(lib, "boss", Category("preference", "偏好", "Preferences", ("admin", "steward", "analyst")))
    with lib.cursor() as cur:
        assert not library.can_view(cur, "analyst", "health_interest")


def test_category_permissions_are_admins_and_narrow_down_the_tree(lib):
    with pytest.raises(TagError, match="Only admins change tag categories; s1 is steward"):
        library.set_category(lib, "s1", Category("value/vip", "VIP", "VIP"))
    with pytest.raises(TagError, match="parent category 'nope' does not exist"):
        library.set_category(lib, "boss", Category("nope/vip", "VIP", "VIP"))
    library.set_category(lib, "boss", Category("value", "价值", "Value", ("admin", "steward"), ("admin",)))
    library.set_category(lib, "boss", Category("value/vip", "VIP", "VIP"))
    with lib.cursor() as cur:
        assert not library.can_edit(cur, "steward", "value/vip")  # its parent says admins only
        assert library.can_edit(cur, "admin", "value/vip") and library.can_edit(cur, "steward", "basic")
        assert not library.can_edit(cur, "analyst", "basic")
        assert "rfm_segment" not in set(library.tag_list(cur, "analyst")["code"])
        assert "age_band" in set(library.tag_list(cur, "analyst")["code"])
    with pytest.raises(TagError, match="may not edit tags in the category 'value/vip'"):
        library.save(lib, "s1", big_spender(category="value/vip"))
    assert library.save(lib, "boss", big_spender(category="value/vip")).version == 1
    assert [r[1] for r in audit_rows(lib, "tag.category")] == ["value", "value/vip"]


def test_a_published_name_is_unique_in_its_category(lib):
    publish(lib, big_spender())
    with pytest.raises(TagError, match="already has a published tag named '大额消费客户': big_spender"):
        library.save(lib, "s1", big_spender(code="big_spender_2", en="Large spenders", days=90))
    with pytest.raises(TagError, match="named 'Big spenders'"):
        library.save(lib, "s1", big_spender(code="big_spender_2", zh="大额买家", en="big SPENDERS ", days=90))
    # the same name in another category is allowed (with a warning)
    assert library.save(lib, "s1", big_spender(code="big_spender_2", days=90, category="behaviour")).warnings


def test_near_duplicates_are_warned_about(lib):
    library.save(lib, "s1", TagDefinition("high_value_customer", "高价值客户", "High-value customers", "value", "boolean",
                                          {"when": {"event": "spend", "days": 365, "gte": 8000}}))
    result = library.save(lib, "s1", TagDefinition("high_value_user", "高价值用户", "High-value users", "value",
                                                   "boolean", {"when": {"event": "spend", "days": 365, "gte": 9000}}))
    assert result.warnings == ["The name '高价值用户' is like '高价值客户' of the tag high_value_customer; is it the same tag?"]
    same_rule = library.save(lib, "s1", TagDefinition("whale", "鲸鱼", "Whales", "value", "boolean",
                                                      {"when": {"event": "spend", "gte": 9000, "days": 365}}))
    assert same_rule.warnings == ["The technical definition is the same as the tag high_value_user's."]
    unrelated = library.save(lib, "s1", big_spender())
    assert unrelated.warnings == []
    assert audit_rows(lib, "tag.save")[1][2]["warnings"] == result.warnings


def test_similar_names():
    assert library.similar_names("高价值客户", "高价值用户", "zh")
    assert library.similar_names("高价值会员", "高价值人群", "zh")
    assert not library.similar_names("近365天订单数", "近365天消费金额", "zh")
    assert library.similar_names("High-value customers", "high value users", "en")
    assert not library.similar_names("Orders in the last 365 days", "Spend in the last 365 days", "en")


@pytest.mark.parametrize("code", ["HighValue", "high__value", "1st_order", "high-value", "x" * 49])
def test_a_code_off_the_pattern_is_refused(lib, code):
    with pytest.raises(TagError, match="must be lower snake case"):
        library.save(lib, "s1", big_spender(code=code))
    with lib.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM tag_definitions WHERE code = ?", [code]).fetchone()[0] == 0


def test_lifecycle_steps_are_refused_out_of_order(lib):
    library.save(lib, "s1", big_spender())
    with pytest.raises(TagError, match="is draft, not in review"):
        library.approve(lib, "s2", "big_spender", "ok")
    with pytest.raises(TagError, match="not published or deprecated"):
        library.retire(lib, "s2", "big_spender")
    with pytest.raises(TagError, match="no published version to deprecate"):
        library.deprecate(lib, "s2", "big_spender")
    library.submit(lib, "s1", "big_spender")
    with pytest.raises(TagError, match="only a draft is submitted"):
        library.submit(lib, "s1", "big_spender")
    library.approve(lib, "s2", "big_spender", "ok")
    library.deprecate(lib, "s2", "big_spender", "use rfm_segment")
    with lib.cursor() as cur:
        assert {t.code: t.status for t in library.computed(cur)}["big_spender"] == "deprecated"
    assert library.retire(lib, "s1", "big_spender") == 1
    actions = [a for a in ("tag.save", "tag.submit", "tag.approve", "tag.deprecate", "tag.retire")
               if [r for r in audit_rows(lib, a) if r[1] == "big_spender"]]
    assert len(actions) == 5
    assert audit_rows(lib, "tag.deprecate")[0][2] == {"version": 1, "comment": "use rfm_segment"}


def test_get_unknown_tag_or_version(lib):
    with lib.cursor() as cur:
        with pytest.raises(TagError, match="No tag 'nope'"):
            library.get(cur, "nope")
        with pytest.raises(TagError, match="has no version 7"):
            library.get(cur, "age_band", 7)


def test_a_rule_the_computation_would_refuse_is_refused_when_saved(lib):
    for technical, value_type, message in (
            ({"when": {"field": "religion", "eq": "x"}}, "boolean", "Unknown field 'religion'"),
            ({"metric": {"event": "spend", "days": "abc"}}, "number", "whole number of days"),
            ({"when": {"tag": "no_such_tag", "eq": "true"}}, "boolean", "does not exist or is retired")):
        with pytest.raises(TagError, match=message):
            library.save(lib, "s1", replace(big_spender(), value_type=value_type, technical=technical), "new")
    lifecycle = TagDefinition("stage2", "阶段二", "Stage two", "lifecycle", "enum",
                              {"template": "lifecycle_stage", "new_days": 200}, "x")
    with pytest.raises(TagError, match="new_days ≤ active_days"):
        library.save(lib, "s1", lifecycle, "new")
    with pytest.raises(TagError, match="another type"):
        library.save(lib, "s1", replace(lifecycle, value_type="number", technical={"template": "age_band"}), "new")


def test_a_tag_that_reads_a_sensitive_tag_is_sensitive_too(lib):
    publish(lib, big_spender(code="health_watch", zh="健康关注", en="Health watch", sensitivity="sensitive"))
    reader = TagDefinition("watch_reader", "关注读取", "Watch reader", "value", "boolean",
                           {"when": {"tag": "health_watch", "eq": "true"}}, "x")
    with pytest.raises(TagError, match="reads the sensitive tag 'health_watch'"):
        library.save(lib, "s1", reader, "new")
    assert library.save(lib, "s1", replace(reader, sensitivity="sensitive"), "new").version == 1
    with lib.cursor() as cur:
        assert not library.can_view(cur, "analyst", "watch_reader")


def test_two_tags_cannot_read_each_other(lib):
    publish(lib, big_spender())
    reader = TagDefinition("vip_reader", "贵宾读取", "VIP reader", "value", "boolean",
                           {"when": {"tag": "big_spender", "eq": "true"}}, "x")
    publish(lib, reader)
    loop = replace(big_spender(), technical={"when": {"tag": "vip_reader", "eq": "true"}})
    with pytest.raises(TagError, match="reads this tag in turn"):
        library.save(lib, "s1", loop, "loop")

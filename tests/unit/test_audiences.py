"""Audiences: rules with nested audiences, counts with each mandatory exclusion, saved versions, dynamic
membership history, frozen snapshots, overlap, member pages, and what erasure and tag retirement do."""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest

from governance import pipeline
from governance.access import auth
from governance.audiences import library, members, rules
from governance.audiences.rules import AudienceError
from governance.privacy import consent, dsr
from governance.store.errors import PermissionDenied
from governance.store.util import utcnow
from governance.tags import conditions
from governance.tags.definitions import TagError
from helpers import build_template, store_copy

HEADER = "会员卡号,姓名,手机号,营销同意,出生日期,省份,openid,appid,UnionID\n"
APP = "wx1234567890abcdef"
PEOPLE = {  # name: (card, mobile, consent, birth, province, open_id, app_id, union_id)
    "张伟": ("M1", "13867541230", "是", "1990-01-01", "广东省", "", "", ""),         # member
    "李娜": ("M2", "13912345678", "否", "1991-02-02", "广东省", "", "", ""),         # withdrawn
    "王芳": ("M3", "13512345678", "", "1985-03-03", "广东省", "", "", ""),           # no consent
    "赵小明": ("M4", "13611112222", "是", "2016-05-05", "广东省", "", "", ""),       # minor without guardian
    "钱小红": ("M5", "13622223333", "是", "2015-06-06", "广东省", "", "", ""),       # minor, guardian given below
    "孙丽": ("M6", "", "是", "1988-08-08", "广东省", "oAbCdEfGhIjKlMnOpQrStUvWxYz1", APP, ""),  # no mobile
    "周强": ("M7", "13733334444", "是", "1980-01-01", "浙江省", "", "", ""),         # another province
    "吴刚": ("M8", "13744445555", "是", "1982-02-02", "广东省", "", "", ""),         # member, erased in a test
    "郑敏": ("M9", "", "是", "1987-07-07", "广东省", "", "", "o6_bmasdasdsad6_2sgVt7hMZOPfL"),  # union_id only
}
GD = {"field": "province", "eq": "广东省"}


def _csv(names) -> str:
    return HEADER + "".join(",".join((PEOPLE[n][0], n, *PEOPLE[n][1:])) + "\n" for n in names)


def build(db, folder: Path) -> None:
    (folder / "crm.csv").write_text(_csv(PEOPLE), encoding="utf-8")
    pipeline.load_file(db, "t", folder / "crm.csv", source="crm", channel="crm")
    for user, role in (("s1", "steward"), ("ana", "analyst")):
        auth.create_user(db, "t", user, "a long enough password", role)
    pipeline.resolve(db, "t", use_model=False)
    consent.grant(db, "s1", oneid(db, "钱小红"), consent.GUARDIAN, method="written")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """The seeded store, built once per module; each test gets its own copy."""
    folder = tmp_path_factory.mktemp("audiences_template")
    return build_template(folder / "test.duckdb", lambda db: build(db, folder))


@pytest.fixture
def store(template, tmp_path):
    with store_copy(template, tmp_path / "test.duckdb") as db:
        yield db


def oneid(db, name: str) -> str:
    with db.cursor() as cur:
        return cur.execute("SELECT oneid FROM golden_wide WHERE name = ?", [name]).fetchone()[0]


def names(db, sql: str) -> set[str]:
    with db.cursor() as cur:
        return {r[0] for r in cur.execute(f"SELECT g.name FROM golden_wide g WHERE g.oneid IN ({sql})").fetchall()}


def count(db, rule, channel="sms", purpose="marketing", app_id=None) -> members.Count:
    with db.cursor() as cur:
        return members.count(cur, rule, purpose, channel, app_id)


def eligible(db, rule, channel="sms", purpose="marketing", app_id=None) -> set[str]:
    with db.cursor() as cur:
        return names(db, members.eligible_sql(cur, rule, purpose, channel, app_id))


# ---- rules ---------------------------------------------------------------------------------------

def test_rule_shape_and_references():
    rule = {"all": [{"tag": "lifecycle_stage", "in": ["active", "new"]},
                    {"any": [{"field": "province", "in": ["广东省", "浙江省"]}, {"event": "spend", "days": 365, "gte": 5000}]},
                    {"not": {"audience": "complaints_2026"}}]}
    rules.check_rule(rule)
    assert rules.references(rule) == {"tags": ["lifecycle_stage"], "audiences": ["complaints_2026"]}
    for bad, message in (({"audience": "x", "eq": True}, "nothing beside it"), ({"audience": ""}, "names a saved"),
                         ({"field": "nope", "eq": 1}, "Unknown field"), ([], "JSON object"),
                         ({"all": []}, "non-empty list")):
        with pytest.raises(AudienceError, match=message):
            rules.check_rule(bad)
    with pytest.raises(AudienceError, match="not valid JSON"):
        rules.parse("{not json")
    with pytest.raises(TagError, match="cannot test an audience"):  # a tag's rule still may not
        conditions.compile_condition({"audience": "x", "eq": True}, utcnow().date())


# ---- exclusions ----------------------------------------------------------------------------------

def test_each_exclusion_reason_on_sms(store):
    assert count(store, GD).as_json() == {"members": 3, "excluded": {
        "no_consent": 1, "withdrawn": 1, "minor": 1, "erased": 0, "no_contact": 2}}
    assert eligible(store, GD) == {"张伟", "吴刚", "钱小红"}  # the minor with a guardian's consent is in
    with store.cursor() as cur:
        reasons = dict(cur.execute(f"SELECT g.name, r.reason FROM ({members.reasons_sql(cur, GD, 'marketing', 'sms')}) r "
                                   "JOIN golden_wide g USING (oneid)").fetchall())
    assert reasons == {"张伟": None, "吴刚": None, "钱小红": None, "王芳": "no_consent", "李娜": "withdrawn",
                       "赵小明": "minor", "孙丽": "no_contact", "郑敏": "no_contact"}


def test_withdrawal_and_expiry_count_as_withdrawn_and_other_purposes_need_their_own_consent(store):
    consent.withdraw(store, "s1", oneid(store, "张伟"), "marketing", method="verbal")
    consent.grant(store, "s1", oneid(store, "吴刚"), "marketing", expires_at=utcnow() - timedelta(days=1))
    assert count(store, GD).excluded["withdrawn"] == 3
    assert eligible(store, GD) == {"钱小红"}
    assert count(store, GD, purpose="analytics").excluded["no_consent"] == 9 - 1  # all but 周强's province
    consent.grant(store, "s1", oneid(store, "周强"), "analytics")
    assert eligible(store, {"field": "province", "eq": "浙江省"}, purpose="analytics") == {"周强"}


def test_contact_per_channel(store):
    assert eligible(store, GD, "wechat") == {"郑敏"}  # without an app id the file carries union_ids
    assert eligible(store, GD, "wechat", app_id=APP) == {"孙丽", "郑敏"}  # an open_id of the app, or a union_id
    assert eligible(store, GD, "wechat", app_id="wx0000000000000000") == {"郑敏"}  # the open_id is of another app
    for channel in ("douyin_dmp", "databank", "tencent_ads"):  # an upload is a provision: its own consent too
        assert eligible(store, GD, channel) == set()
        assert count(store, GD, channel).excluded["no_consent"] >= count(store, GD, "sms").excluded["no_consent"] + 3
    consent.grant(store, "s1", oneid(store, "张伟"), "third_party_sharing", method="written")
    for channel in ("douyin_dmp", "databank", "tencent_ads"):
        assert eligible(store, GD, channel) == {"张伟"}
    assert eligible(store, GD, "sms") == {"张伟", "吴刚", "钱小红"}
    assert eligible(store, GD, "csv") == {"张伟", "吴刚", "钱小红", "孙丽", "郑敏"}
    with pytest.raises(AudienceError, match="Unknown channel"):
        count(store, GD, "fax")
    with pytest.raises(AudienceError, match="Unknown purpose"):
        count(store, GD, purpose="guardian")


def test_erased_people_are_never_matched_and_their_re_uploaded_rows_count_as_erased(store, tmp_path):
    wu = oneid(store, "吴刚")
    library.save(store, "s1", "gd", GD, "marketing")
    library.snapshot(store, "s1", "gd")
    with store.cursor() as cur:
        for table in ("audience_members", "audience_member_history", "audience_snapshot_members"):
            assert cur.execute(f"SELECT count(*) FROM {table} WHERE oneid = ?", [wu]).fetchone()[0] == 1, table
    request_id = dsr.create(store, "s1", "deletion", "申请人本人", oneids=[wu])
    dsr.verify(store, "s1", request_id, "ID card checked at the counter")
    pipeline.delete_person(store, "s1", request_id)
    with store.cursor() as cur:
        for table in ("audience_members", "audience_member_history", "audience_snapshot_members"):
            assert cur.execute(f"SELECT count(*) FROM {table} WHERE oneid = ?", [wu]).fetchone()[0] == 0, table
        assert cur.execute("SELECT count(*) FROM audience_members").fetchone()[0] == 2  # the others stay
    assert count(store, GD).excluded["erased"] == 0
    (tmp_path / "again.csv").write_text(_csv(["吴刚"]), encoding="utf-8")  # the shop uploads him again
    pipeline.load_file(store, "t", tmp_path / "again.csv", source="crm2", channel="crm")
    pipeline.resolve(store, "t", use_model=False)
    with store.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM suppressed_records").fetchone()[0] == 1
    found = count(store, GD)
    assert (found.members, found.excluded["erased"]) == (2, 1)
    assert count(store, {"field": "province", "eq": "浙江省"}).excluded["erased"] == 0  # his row could not match
    assert count(store, {"not": {"field": "province", "eq": "浙江省"}}).excluded["erased"] == 1
    assert count(store, {"tag": "lifecycle_stage", "eq": "active"}).excluded["erased"] == 1  # unknown: possible
    assert count(store, {"field": "is_minor", "eq": False}).excluded["erased"] == 1  # the row has no minor flag
    assert count(store, {"not": {"field": "is_minor", "eq": False}}).excluded["erased"] == 1
    assert "吴刚" not in eligible(store, GD, "csv")


# ---- saving, versions, nesting -------------------------------------------------------------------

def test_save_versions_audit_and_refusals(store):
    assert library.save(store, "s1", "gd", GD, "marketing", description="广东") == 1
    assert library.save(store, "s1", "gd", {"all": [GD, {"field": "age", "gte": 18}]}, "marketing",
                        reason="adults only") == 2
    with store.cursor() as cur:
        a = library.get(cur, "gd")
        assert (a.version, a.owner, a.kind, a.members) == (2, "s1", "dynamic", 2)
        history = library.versions(cur, "gd")
        assert list(history["version"]) == [2, 1] and history["reason"][0] == "adults only"
        assert json.loads(history["rule"][1]) == GD
        saves = cur.execute("SELECT actor, object_id, detail FROM audit_log WHERE action = 'audience.save' "
                            "ORDER BY id").fetchall()
    assert [(r[0], r[1], json.loads(r[2])["version"]) for r in saves] == [("s1", "gd", 1), ("s1", "gd", 2)]
    with pytest.raises(PermissionDenied, match=r"ana \(analyst\) may not do this"):
        library.save(store, "ana", "x", GD, "marketing")
    with pytest.raises(PermissionDenied, match="not an active Steward user"):
        library.save(store, "nobody", "x", GD, "marketing")
    with pytest.raises(AudienceError, match="Unknown purpose"):
        library.save(store, "s1", "x", GD, "selling")
    with pytest.raises(AudienceError, match="not published: no_such_tag"):
        library.save(store, "s1", "x", {"tag": "no_such_tag", "eq": "a"}, "marketing")
    with pytest.raises(AudienceError, match="No saved audience 'missing'"):
        library.save(store, "s1", "x", {"audience": "missing"}, "marketing")
    with pytest.raises(AudienceError, match="audience name"):
        library.save(store, "s1", "bad name!", GD, "marketing")
    with store.cursor() as cur:
        assert [a.name for a in library.list_audiences(cur)] == ["gd"]


def test_nested_audiences_include_exclude_and_cycles_are_refused(store):
    library.save(store, "s1", "minors", {"field": "is_minor", "eq": True}, "marketing", channel="csv")
    library.save(store, "s1", "gd_adults", {"all": [GD, {"not": {"audience": "minors"}}]}, "marketing", channel="csv")
    assert eligible(store, {"audience": "gd_adults"}, "csv") == {"张伟", "吴刚", "孙丽", "郑敏"}
    assert eligible(store, {"audience": "minors"}, "csv") == {"钱小红"}  # the other minor has no guardian consent
    with store.cursor() as cur:  # matched before exclusions: both minors
        assert names(store, members.matched_sql(cur, {"audience": "minors"})) == {"赵小明", "钱小红"}
    with pytest.raises(AudienceError, match="includes itself: minors -> gd_adults -> minors"):
        library.save(store, "s1", "minors", {"any": [{"audience": "gd_adults"}]}, "marketing")
    with pytest.raises(AudienceError, match="includes itself: selfish -> selfish"):
        library.save(store, "s1", "selfish", {"audience": "selfish"}, "marketing")
    with store.cursor() as cur:
        assert library.get(cur, "minors").version == 1  # the refused save changed nothing


def test_retiring_a_tag_a_saved_audience_uses_is_refused_and_names_it(store):
    library.save(store, "s1", "tier1", {"tag": "city_tier", "eq": "tier1"}, "marketing")
    with pytest.raises(TagError, match="the audiences tier1 use it"):
        pipeline.retire_tag(store, "s1", "city_tier")


# ---- dynamic membership and snapshots --------------------------------------------------------------

def test_dynamic_members_follow_data_changes_with_join_and_leave_history(store):
    library.save(store, "s1", "gd", GD, "marketing")
    zhang, zhou = oneid(store, "张伟"), oneid(store, "周强")
    consent.withdraw(store, "s1", zhang, "marketing", method="verbal")
    with store.cursor() as cur:  # read now, a withdrawal since the last refresh is not returned
        assert zhang not in library.member_page(cur, "gd")[0]
    pipeline.set_override(store, "s1", zhou, "province", "广东省", "moved")  # refreshes golden, tags, audiences
    with store.cursor() as cur:
        rows = cur.execute("SELECT oneid, version, left_at IS NOT NULL FROM audience_member_history WHERE name = 'gd' "
                           "ORDER BY joined_at, oneid").fetchall()
        current = {r[0] for r in cur.execute("SELECT oneid FROM audience_members WHERE name = 'gd'").fetchall()}
    assert (zhang, 1, True) in rows and (zhou, 1, False) in rows
    assert zhou in current and zhang not in current
    consent.grant(store, "s1", zhang, "marketing", method="written")
    assert pipeline.refresh_audiences(store, "s1") == {"gd": 4}
    with store.cursor() as cur:
        stays = cur.execute("SELECT left_at IS NULL FROM audience_member_history WHERE name = 'gd' AND oneid = ? "
                            "ORDER BY joined_at", [zhang]).fetchall()
    assert stays == [(False,), (True,)]  # left, then joined again
    with store.cursor() as cur:
        moves = library.movements(cur, "gd")
        total = cur.execute("SELECT count(*), count(left_at) FROM audience_member_history WHERE name = 'gd'").fetchone()
    assert (int(moves["joined"].sum()), int(moves["left"].sum())) == total and total[1] == 1
    assert int(moves["joined"].sum()) - int(moves["left"].sum()) == 4  # the current members


def test_a_snapshot_is_frozen_and_a_snapshot_audience_reads_its_latest_snapshot(store):
    library.save(store, "s1", "gd", GD, "marketing")
    snapshot_id = library.snapshot(store, "s1", "gd")
    frozen = {oneid(store, n) for n in ("张伟", "吴刚", "钱小红")}
    pipeline.set_override(store, "s1", oneid(store, "周强"), "province", "广东省", "moved")
    with store.cursor() as cur:
        assert set(library.snapshot_members(cur, snapshot_id)) == frozen
        row = library.snapshots(cur, "gd").iloc[0]
        assert row["members"] == 3 and json.loads(row["excluded"])["withdrawn"] == 1
        assert row["checksum"] == hashlib.sha256("\n".join(sorted(frozen)).encode()).hexdigest()
        assert library.get(cur, "gd").members == 4  # the dynamic list moved on
        assert cur.execute("SELECT count(*) FROM audit_log WHERE action = 'audience.snapshot'").fetchone()[0] == 1
    library.save(store, "s1", "campaign", GD, "marketing", kind="snapshot")
    pipeline.set_override(store, "s1", oneid(store, "周强"), "province", "浙江省", "moved back")
    with store.cursor() as cur:
        a = library.get(cur, "campaign")
        assert (a.kind, a.members) == ("snapshot", 4)
        assert set(library.member_page(cur, "campaign")[0]) == frozen | {oneid(store, "周强")}


# ---- reading: pages, overlap, sample, breakdown ----------------------------------------------------

def test_member_pages_cover_every_member_once(store):
    library.save(store, "s1", "everyone", {"field": "record_count", "gte": 1}, "marketing", channel="csv")
    with store.cursor() as cur:
        stored = cur.execute("SELECT oneid FROM audience_members WHERE name = 'everyone'").fetchall()
        expected = sorted(r[0] for r in stored)
        assert len(expected) == 6  # every adult with consent, and the minor with a guardian's
        for limit in (1, 2, 5, 100):
            seen, cursor = [], None
            while True:
                page, cursor = library.member_page(cur, "everyone", cursor, limit)
                assert len(page) <= limit
                seen += page
                if cursor is None:
                    break
            assert seen == expected, limit
        with pytest.raises(AudienceError, match="1 to 1000"):
            library.member_page(cur, "everyone", limit=0)
        with pytest.raises(AudienceError, match="No saved audience"):
            library.member_page(cur, "nobody")


def test_overlap_matches_a_hand_count(store):
    library.save(store, "s1", "gd", GD, "marketing", channel="csv")          # 张伟 吴刚 钱小红 孙丽 郑敏
    library.save(store, "s1", "mobiles", {"field": "age", "gte": 30}, "marketing")  # 张伟 吴刚 周强
    with store.cursor() as cur:
        frame = library.overlap(cur, ["gd", "mobiles"]).set_index(["a", "b"])
    assert frame.loc[("gd", "mobiles")].to_dict() == {"a_count": 5, "b_count": 3, "both": 2, "jaccard": round(2 / 6, 6)}
    assert frame.loc[("mobiles", "gd"), "jaccard"] == frame.loc[("gd", "mobiles"), "jaccard"]
    assert frame.loc[("gd", "gd"), "jaccard"] == 1.0


def test_sample_is_masked_by_role_and_breakdowns_count_members(store):
    with store.cursor() as cur:
        sample = library.sample(cur, GD, "marketing", "sms", "analyst")
        assert len(sample) == 3 and all("****" in m for m in sample["mobile"])
        assert not set(sample["name"]) & {"张伟", "吴刚", "钱小红"}
        assert dict(library.breakdown(cur, GD, "marketing", "csv", "province").values.tolist()) == {"广东省": 5}
        assert dict(library.breakdown(cur, GD, "marketing", "csv", "channel").values.tolist()) == {"crm": 5}
        assert library.breakdown(cur, GD, "marketing", "csv", "age_band")["members"].sum() == 5
        with pytest.raises(AudienceError, match="Unknown breakdown"):
            library.breakdown(cur, GD, "marketing", "csv", "shoe_size")


def test_a_rule_reading_a_sensitive_tag_needs_the_separate_consent(store):
    """A sensitive tag (PIPL Art. 28–29) selects only people who gave the separate consent for it,
    also when it is read through a nested audience."""
    from governance.tags import library as tag_library
    from governance.tags.definitions import TagDefinition
    auth.create_user(store, "t", "adm", "a long enough password", "admin")
    tag = TagDefinition("health_interest", "健康关注", "Health interest", "preference", "boolean",
                        {"when": {"field": "record_count", "gte": 1}}, "关注健康类商品的客户。", sensitivity="sensitive")
    tag_library.save(store, "s1", tag, "首版")
    tag_library.submit(store, "s1", tag.code)
    tag_library.approve(store, "adm", tag.code, "核对无误")
    pipeline.refresh_tags(store, "t")
    rule = {"all": [GD, {"tag": "health_interest", "eq": True}]}
    assert eligible(store, GD) == {"张伟", "吴刚", "钱小红"}
    assert eligible(store, rule) == set()
    consent.grant(store, "s1", oneid(store, "张伟"), consent.SENSITIVE_TAGS, method="written")
    assert eligible(store, rule) == {"张伟"}
    library.save(store, "s1", "health", rule, "marketing")
    assert eligible(store, {"audience": "health"}) == {"张伟"}
    assert members.required_purposes("marketing", "douyin_dmp", sensitive=True) == (
        "marketing", consent.THIRD_PARTY, consent.SENSITIVE_TAGS)

"""The read API against its Starlette routes (TestClient): every status, masking per key role, rate limits,
revoked and expired keys, erased people and minors, lookups by each identifier, sensitive tags, the audit."""
from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from governance import bootstrap, pipeline
from governance.access import auth, masking
from governance.api import keys, routes
from governance.audiences import library as audience_library
from governance.privacy import consent, dsr
from governance.store.util import utcnow
from governance.tags import library as tag_library
from governance.tags.definitions import Category, TagDefinition
from helpers import build_template, store_copy

APP_ID = "wx1234567890abcdef"


def _resident_id(region: str, birth: str, seq: str) -> str:
    """A resident ID with a valid GB 11643 check character."""
    body = region + birth + seq
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


ADULT_ID = _resident_id("110105", "19800101", "002")
CHILD_ID = _resident_id("110105", "20180101", "003")
# card, name, mobile, resident ID, open_id, union_id
PEOPLE = [("M001", "张伟", "13912345678", ADULT_ID, "oOpenA0000000000000001", "oUnion0000000001"),
          ("M002", "欧阳娜娜", "13612345671", "", "", ""),
          ("M003", "李小明", "13712345670", CHILD_ID, "", ""),
          ("M004", "王芳", "13812340000", "", "", "")]
MAPPING = {"会员卡号": "member_card", "姓名": "name", "手机号": "mobile", "身份证号": "id_card", "OpenID": "wechat_open_id",
           "AppID": "wechat_app_id", "UnionID": "wechat_union_id"}
PERSONAL = TagDefinition("card_holder", "持卡会员", "Card holder", "member", "boolean",
                         {"when": {"field": "record_count", "gte": 1}}, "有会员卡的客户。", sensitivity="personal")
SENSITIVE = TagDefinition("health_interest", "健康关注", "Health interest", "preference", "boolean",
                          {"when": {"field": "record_count", "gte": 1}}, "关注健康类商品的客户。", sensitivity="sensitive")


def _publish(db, tag: TagDefinition) -> None:
    tag_library.save(db, "steward", tag, "首版")
    tag_library.submit(db, "steward", tag.code)
    tag_library.approve(db, "admin", tag.code, "核对无误")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """The store every test starts from, built once per module (each test gets its own copy)."""
    folder = tmp_path_factory.mktemp("api_template")
    return build_template(folder / "test.duckdb", lambda db: build(db, folder))


@pytest.fixture
def store(template, tmp_path):
    with store_copy(template, tmp_path / "test.duckdb") as db:
        yield db


def build(db, tmp_path: Path):
    for role in ("admin", "steward"):
        auth.create_user(db, "test", role, f"{role}-pass-123", role)
    rows = "".join(f"{c},{n},{m},{i},{o},{APP_ID if o else ''},{u}\n" for c, n, m, i, o, u in PEOPLE)
    path = tmp_path / "crm.csv"
    path.write_text("会员卡号,姓名,手机号,身份证号,OpenID,AppID,UnionID\n" + rows, encoding="utf-8")
    with db.transaction() as cur:
        tag_library.ensure_builtins(cur)
    _publish(db, PERSONAL)
    _publish(db, SENSITIVE)
    pipeline.load_file(db, "t", path, source="crm", channel="crm", mapping=MAPPING)
    pipeline.resolve(db, "t", use_model=False)
    pipeline.refresh_tags(db, "t", full=True)
    for card, *_ in PEOPLE:  # every key below reads for marketing (the default purpose)
        consent.grant(db, "steward", oneid(db, card), "marketing", method="written")
    masking.set_rule(db, "admin", "mobile", "steward", "full")  # stewards see mobiles in full, analysts partially
    masking.set_rule(db, "admin", "other", "steward", "full")   # ... and personal tags' values
    return db


def oneid(db, card: str) -> str:
    with db.cursor() as cur:
        return cur.execute("SELECT c.oneid FROM crosswalk c JOIN std_records s USING (batch_id, row_number) "
                           "WHERE s.member_card = ?", [card]).fetchone()[0]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def client(store, clock):
    app = Starlette(routes=routes.routes(lambda: store, routes.RateLimiter(clock)))
    return TestClient(app)


def key(db, role: str, scopes: str = "tags:read,customers:read,audiences:read", rate: int = 1000,
        name: str | None = None, purpose: str = "marketing") -> dict[str, str]:
    secret = keys.add(db, "admin", name or f"{role}-{scopes.count(',')}-{rate}-{purpose}", role, scopes,
                      rate_per_minute=rate, purpose=purpose)
    return {"Authorization": f"Bearer {secret}"}


def api_calls(db) -> list[tuple]:
    with db.cursor() as cur:
        return cur.execute("SELECT actor, object_id, detail FROM audit_log WHERE action = 'api.call' ORDER BY id").fetchall()


def test_without_a_usable_key_every_endpoint_answers_401_with_a_bearer_challenge(client, store):
    cases = [("GET", "/api/v1/tags"), ("GET", f"/api/v1/customers/{oneid(store, 'M001')}"),
             ("POST", "/api/v1/lookup"), ("GET", "/api/v1/audiences")]
    for headers in ({}, {"Authorization": "Bearer stw_not-a-key"}, {"Authorization": "Basic abc"}):
        for method, path in cases:
            r = client.request(method, path, headers=headers, json={"mobile": "13912345678"})
            assert r.status_code == 401, (method, path, headers)
            assert r.headers["www-authenticate"].startswith("Bearer")
            assert r.json()["error"] == "unauthorized"


def test_a_revoked_key_is_refused_at_once(client, store):
    headers = key(store, "analyst", name="call-centre")
    assert client.get("/api/v1/tags", headers=headers).status_code == 200
    keys.revoke(store, "admin", "call-centre")
    r = client.get("/api/v1/tags", headers=headers)
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]
    assert api_calls(store)[-1][0] == "api:call-centre"  # the refusal is on record under the key's name


def test_an_expired_key_is_refused(client, store):
    headers = key(store, "analyst", name="short-lived")
    assert client.get("/api/v1/tags", headers=headers).status_code == 200
    with store.transaction() as cur:  # as if its expiry had passed
        cur.execute("UPDATE api_keys SET expires_at = ? WHERE name = 'short-lived'", [utcnow() - timedelta(seconds=1)])
    assert client.get("/api/v1/tags", headers=headers).status_code == 401
    with store.cursor() as cur:
        assert keys.list_keys(cur).set_index("name").loc["short-lived", "status"] == "expired"


def test_a_missing_scope_is_403(client, store):
    headers = key(store, "steward", scopes="tags:read")
    assert client.get("/api/v1/tags", headers=headers).status_code == 200
    for method, path in (("GET", f"/api/v1/customers/{oneid(store, 'M001')}"), ("POST", "/api/v1/lookup"),
                         ("GET", "/api/v1/audiences"), ("GET", "/api/v1/audiences/x/members")):
        r = client.request(method, path, headers=headers, json={"mobile": "13912345678"})
        assert r.status_code == 403
        assert ("audiences:read" if "audiences" in path else "customers:read") in r.json()["message"]


def test_past_the_rate_limit_429_with_retry_after_and_the_window_slides(client, store, clock):
    headers = key(store, "analyst", scopes="tags:read", rate=2)
    assert [client.get("/api/v1/tags", headers=headers).status_code for _ in range(2)] == [200, 200]
    clock.now += 30
    r = client.get("/api/v1/tags", headers=headers)
    assert r.status_code == 429 and r.headers["retry-after"] == "30"
    clock.now += 30.5  # the first call has left the window
    assert client.get("/api/v1/tags", headers=headers).status_code == 200
    other = key(store, "analyst", scopes="tags:read", rate=2, name="other")  # limits are per key
    assert client.get("/api/v1/tags", headers=other).status_code == 200


def test_masking_follows_the_key_role_as_the_pages_do(client, store):
    person = oneid(store, "M002")
    analyst = client.get(f"/api/v1/customers/{person}", headers=key(store, "analyst")).json()
    steward = client.get(f"/api/v1/customers/{person}", headers=key(store, "steward")).json()
    assert analyst["fields"]["mobile"] == "136****5671" and steward["fields"]["mobile"] == "13612345671"
    assert analyst["fields"]["name"] == steward["fields"]["name"] == "欧阳**"
    with store.cursor() as cur:
        policy = masking.load_policy(cur, "k")
        record = cur.execute("SELECT name, mobile FROM golden_records WHERE oneid = ?", [person]).fetchone()
    assert analyst["fields"]["name"] == masking.mask_value("name", record[0], "analyst", policy)
    assert analyst["oneid"] == person and analyst["record_count"] == 1
    # a personal tag's value: hidden unless the role sees unmapped values in full (as exports do)
    assert analyst["tags"]["card_holder"] == "***" and steward["tags"]["card_holder"] == "true"
    assert "lifecycle_stage" in analyst["tags"]


def test_a_keyed_hash_rule_gives_the_pseudonym(client, store):
    masking.set_rule(store, "admin", "mobile", "analyst", "hash")
    body = client.get(f"/api/v1/customers/{oneid(store, 'M002')}", headers=key(store, "analyst")).json()
    assert body["fields"]["mobile"] == masking.pseudonym("13612345671", bootstrap.ensure_secrets()["hmac_key"])[:16]


def test_unknown_and_erased_oneids_answer_the_same_404(client, store):
    headers = key(store, "steward")
    erased = oneid(store, "M004")
    assert client.get(f"/api/v1/customers/{erased}", headers=headers).status_code == 200
    request_id = dsr.create(store, "steward", "deletion", "王芳", oneids=[erased])
    dsr.verify(store, "steward", request_id, "ID card checked")
    pipeline.delete_person(store, "steward", request_id)
    never = client.get("/api/v1/customers/OID9999999999", headers=headers)
    gone = client.get(f"/api/v1/customers/{erased}", headers=headers)
    gone_tags = client.get(f"/api/v1/customers/{erased}/tags", headers=headers)
    lookup = client.post("/api/v1/lookup", headers=headers, json={"mobile": "13812340000"})
    assert never.status_code == gone.status_code == gone_tags.status_code == lookup.status_code == 404
    assert never.content == gone.content == gone_tags.content == lookup.content


def test_a_minor_under_14_is_shown_only_with_a_guardians_consent(client, store):
    headers = key(store, "steward")
    child = oneid(store, "M003")
    assert client.get(f"/api/v1/customers/{child}", headers=headers).status_code == 404
    assert client.post("/api/v1/lookup", headers=headers, json={"mobile": "13712345670"}).status_code == 404
    consent.grant(store, "steward", child, consent.GUARDIAN, method="written")
    assert client.get(f"/api/v1/customers/{child}", headers=headers).status_code == 200


def test_lookup_by_each_identifier_and_bad_bodies(client, store):
    headers = key(store, "analyst")
    zw = oneid(store, "M001")
    for body in ({"mobile": "+86 139-1234-5678"}, {"open_id": "oOpenA0000000000000001", "app_id": APP_ID},
                 {"union_id": "oUnion0000000001"}, {"member_card": "M001", "source": "crm"}):
        r = client.post("/api/v1/lookup", headers=headers, json=body)
        assert r.status_code == 200, body
        assert r.json()["oneid"] == zw and r.json()["tags"]["card_holder"] == "***"
    assert client.post("/api/v1/lookup", headers=headers,
                       json={"open_id": "oOpenA0000000000000001", "app_id": "wx0000000000000000"}).status_code == 404
    assert client.post("/api/v1/lookup", headers=headers, json={"member_card": "M001", "source": "pos"}).status_code == 404
    for raw in (b"{not json", b"[1, 2]", b'{"mobile": "13912345678", "union_id": "x"}', b'{"email": "a@b.c"}',
                b'{"mobile": 13912345678}', b'{"mobile": "12345"}'):
        r = client.post("/api/v1/lookup", headers=headers, content=raw)
        assert r.status_code == 400, raw
        assert r.json()["error"] == "bad_request" and "13912345678" not in r.text


def test_json_is_utf8_without_escapes(client, store):
    r = client.get("/api/v1/tags", headers=key(store, "analyst", scopes="tags:read"))
    assert r.headers["content-type"].startswith("application/json") and "charset=utf-8" in r.headers["content-type"]
    assert "生命周期阶段" in r.content.decode("utf-8") and "\\u" not in r.text


def test_the_tag_library_by_role_and_scope(client, store):
    def codes(headers):
        return {t["code"]: t for t in client.get("/api/v1/tags", headers=headers).json()["tags"]}
    analyst = codes(key(store, "analyst", scopes="tags:read,sensitive:read"))
    steward = codes(key(store, "steward", scopes="tags:read"))
    steward_sensitive = codes(key(store, "steward", scopes="tags:read,sensitive:read"))
    assert "health_interest" not in analyst  # analysts never see sensitive tags, whatever the scope
    assert "health_interest" not in steward and "health_interest" in steward_sensitive
    stage = analyst["lifecycle_stage"]
    assert stage["name_zh"] == "生命周期阶段" and stage["category"] == "lifecycle" and stage["value_type"] == "enum"
    assert {"code": "active", "zh": "活跃", "en": "active"} in stage["allowed_values"]


def test_a_sensitive_tag_and_id_number_need_the_scope_and_the_persons_separate_consent(client, store):
    zw = oneid(store, "M001")
    plain = key(store, "steward")
    scoped = key(store, "steward", scopes="customers:read,sensitive:read")
    assert "health_interest" not in client.get(f"/api/v1/customers/{zw}/tags", headers=scoped).json()["tags"]
    assert "id_card" not in client.get(f"/api/v1/customers/{zw}", headers=scoped).json()["fields"]
    consent.grant(store, "steward", zw, consent.SENSITIVE_TAGS, method="written")
    consent.grant(store, "steward", zw, "sensitive_id_card", method="written")
    assert client.get(f"/api/v1/customers/{zw}/tags", headers=scoped).json()["tags"]["health_interest"] == "true"
    assert "health_interest" not in client.get(f"/api/v1/customers/{zw}/tags", headers=plain).json()["tags"]
    assert client.get(f"/api/v1/customers/{zw}", headers=scoped).json()["fields"]["id_card"] == \
        ADULT_ID[:6] + "********" + ADULT_ID[-4:]  # masked by the role's policy still
    assert "id_card" not in client.get(f"/api/v1/customers/{zw}", headers=plain).json()["fields"]
    consent.withdraw(store, "steward", zw, consent.SENSITIVE_TAGS, method="written")
    assert "health_interest" not in client.post("/api/v1/lookup", headers=scoped,
                                                json={"member_card": "M001", "source": "crm"}).json()["tags"]


def test_every_call_is_audited_without_identifiers(client, store):
    headers = key(store, "analyst", name="crm-sync")
    zw = oneid(store, "M001")
    client.get(f"/api/v1/customers/{zw}", headers=headers)
    client.get("/api/v1/customers/OID9999999999/tags", headers=headers)
    client.post("/api/v1/lookup", headers=headers, json={"mobile": "13912345678"})
    client.post("/api/v1/lookup", headers=headers, json={"union_id": "oUnion0000000001"})
    client.post("/api/v1/lookup", headers=headers, content=b"{")
    client.get("/api/v1/tags")
    calls = api_calls(store)
    assert [(a, o, json.loads(d)["status"], json.loads(d)["people"]) for a, o, d in calls] == [
        ("api:crm-sync", "GET /api/v1/customers/{oneid}", 200, 1),
        ("api:crm-sync", "GET /api/v1/customers/{oneid}/tags", 404, 0),
        ("api:crm-sync", "POST /api/v1/lookup", 200, 1),
        ("api:crm-sync", "POST /api/v1/lookup", 200, 1),
        ("api:crm-sync", "POST /api/v1/lookup", 400, 0),
        ("api", "GET /api/v1/tags", 401, 0)]
    with store.cursor() as cur:
        rows = " ".join(str(r) for r in cur.execute("SELECT * FROM audit_log WHERE action = 'api.call'").fetchall())
        last_used = keys.get(cur, "crm-sync").last_used_at
    for identifier in (zw, "13912345678", "oUnion0000000001", "OID9999999999"):
        assert identifier not in rows
    assert last_used is not None


def test_openapi_document(client):
    r = client.get("/api/v1/openapi.json")
    doc = r.json()
    assert r.status_code == 200 and doc["openapi"].startswith("3.1")
    assert {"/api/v1/tags", "/api/v1/customers/{oneid}", "/api/v1/customers/{oneid}/tags", "/api/v1/lookup",
            "/api/v1/audiences", "/api/v1/audiences/{name}/members"} <= set(doc["paths"])
    assert "requestBody" in doc["paths"]["/api/v1/lookup"]["post"]


def test_audiences_and_their_members_paged_with_consent_at_call_time(client, store):
    people = [oneid(store, c) for c in ("M001", "M002", "M004")]
    for person in people:
        consent.grant(store, "steward", person, "marketing", method="written")
    audience_library.save(store, "steward", "all_members", {"field": "record_count", "gte": 1}, "marketing",
                          channel="csv")
    headers = key(store, "analyst", scopes="audiences:read")
    listed = client.get("/api/v1/audiences", headers=headers).json()["audiences"]
    assert [(a["name"], a["purpose"], a["members"]) for a in listed] == [("all_members", "marketing", 3)]
    first = client.get("/api/v1/audiences/all_members/members?limit=2", headers=headers).json()
    assert first["members"] == sorted(people)[:2] and first["next_cursor"]
    rest = client.get(f"/api/v1/audiences/all_members/members?limit=2&cursor={first['next_cursor']}",
                      headers=headers).json()
    assert rest["members"] == sorted(people)[2:] and rest["next_cursor"] is None
    consent.withdraw(store, "steward", people[0], "marketing", method="written")  # at once, before any refresh
    assert people[0] not in client.get("/api/v1/audiences/all_members/members", headers=headers).json()["members"]
    assert client.get("/api/v1/audiences/nobody/members", headers=headers).status_code == 404
    assert client.get("/api/v1/audiences/all_members/members?limit=0", headers=headers).status_code == 400
    assert json.loads(api_calls(store)[-3][2])["people"] == 2
    for bad in ("%C2%B2", "%E2%91%A0", "1001"):  # ² and ① pass str.isdigit, not int()
        refused = client.get(f"/api/v1/audiences/all_members/members?limit={bad}", headers=headers)
        assert (refused.status_code, refused.json()["message"]) == (400, "limit is a whole number from 1 to 1000.")


def test_pages_and_api_share_one_database(store, monkeypatch):
    from governance.ui import session

    monkeypatch.setenv("STEWARD_DB", str(store.path))
    assert routes.default_database() is store
    assert session.database() is store


# ---- a key reads for one consent purpose ---------------------------------------------------------------

def test_a_key_finds_only_people_with_a_granted_consent_for_its_purpose(client, store):
    analytics = key(store, "steward", purpose="analytics")
    zw, nana = oneid(store, "M001"), oneid(store, "M002")
    never = client.get("/api/v1/customers/OID9999999999", headers=analytics)
    assert never.status_code == 404
    consent.grant(store, "steward", zw, "analytics", method="written")
    # nobody has ever recorded an analytics consent for M002: not found, with the body of a OneID never seen
    for path in (f"/api/v1/customers/{nana}", f"/api/v1/customers/{nana}/tags"):
        r = client.get(path, headers=analytics)
        assert r.status_code == 404 and r.content == never.content, path
    r = client.post("/api/v1/lookup", headers=analytics, json={"mobile": "13612345671"})
    assert r.status_code == 404 and r.content == never.content
    assert client.get(f"/api/v1/customers/{zw}", headers=analytics).status_code == 200
    assert client.post("/api/v1/lookup", headers=analytics, json={"union_id": "oUnion0000000001"}).json()["oneid"] == zw
    # a withdrawal takes effect at once, for every customer endpoint
    consent.withdraw(store, "steward", zw, "analytics", method="written")
    for r in (client.get(f"/api/v1/customers/{zw}", headers=analytics),
              client.get(f"/api/v1/customers/{zw}/tags", headers=analytics),
              client.post("/api/v1/lookup", headers=analytics, json={"union_id": "oUnion0000000001"})):
        assert r.status_code == 404 and r.content == never.content
    # the marketing key still finds the person: its own purpose is granted
    assert client.get(f"/api/v1/customers/{zw}", headers=key(store, "steward")).status_code == 200


def test_an_expired_consent_counts_as_none(client, store):
    third = key(store, "analyst", purpose="third_party_sharing")
    zw = oneid(store, "M001")
    consent.grant(store, "steward", zw, "third_party_sharing", method="written",
                  expires_at=utcnow() + timedelta(days=1))
    assert client.get(f"/api/v1/customers/{zw}/tags", headers=third).status_code == 200
    consent.grant(store, "steward", zw, "third_party_sharing", method="written",
                  expires_at=utcnow() - timedelta(seconds=1))
    assert client.get(f"/api/v1/customers/{zw}/tags", headers=third).status_code == 404


def test_a_key_has_a_known_purpose_and_lists_show_it(store):
    with pytest.raises(keys.ApiKeyError, match="Unknown purpose 'sensitive_tags'"):
        keys.add(store, "admin", "bad-purpose", "analyst", "tags:read", purpose="sensitive_tags")
    keys.add(store, "admin", "agency", "analyst", "tags:read", purpose="third_party_sharing")
    with store.cursor() as cur:
        assert keys.get(cur, "agency").purpose == "third_party_sharing"
        assert keys.list_keys(cur).set_index("name").loc["agency", "purpose"] == "third_party_sharing"


# ---- only analyst or steward keys ----------------------------------------------------------------------

def test_an_admin_key_is_refused(store):
    with pytest.raises(keys.ApiKeyError, match="analyst or a steward, not as 'admin'"):
        keys.add(store, "admin", "root-key", "admin", "tags:read")
    with store.cursor() as cur:
        assert keys.get(cur, "root-key") is None


# ---- audiences and tag visibility ----------------------------------------------------------------------

INTERNAL = TagDefinition("vip_internal", "内部贵宾", "Internal VIP", "internal", "boolean",
                         {"when": {"field": "record_count", "gte": 1}}, "仅内部可见的贵宾标记。")


def test_an_audience_reading_a_tag_the_key_may_not_read_is_hidden(client, store):
    tag_library.set_category(store, "admin", Category("internal", "内部", "Internal", ("admin", "steward")))
    _publish(store, INTERNAL)
    pipeline.refresh_tags(store, "t", full=True)
    audience_library.save(store, "steward", "open", {"tag": "lifecycle_stage", "ne": "x"}, "marketing", channel="csv")
    audience_library.save(store, "steward", "internal_vip", {"tag": "vip_internal", "eq": "true"}, "marketing",
                          channel="csv")
    audience_library.save(store, "steward", "health", {"tag": "health_interest", "eq": "true"}, "marketing",
                          channel="csv")
    audience_library.save(store, "steward", "wraps_health", {"any": [{"audience": "open"}, {"not": {
        "audience": "health"}}]}, "marketing", channel="csv")  # reads the sensitive tag through `health`

    def listed(headers):
        return [a["name"] for a in client.get("/api/v1/audiences", headers=headers).json()["audiences"]]

    def members(headers, name):
        return client.get(f"/api/v1/audiences/{name}/members", headers=headers)

    analyst = key(store, "analyst", scopes="audiences:read,sensitive:read")  # analysts never read sensitive tags
    steward = key(store, "steward", scopes="audiences:read")
    trusted = key(store, "steward", scopes="audiences:read,sensitive:read")
    unknown = members(trusted, "never_saved")
    assert listed(analyst) == ["open"]
    assert listed(steward) == ["internal_vip", "open"]
    assert listed(trusted) == ["health", "internal_vip", "open", "wraps_health"]
    for headers, hidden in ((analyst, ("internal_vip", "health", "wraps_health")), (steward, ("health", "wraps_health"))):
        for name in hidden:
            r = members(headers, name)
            assert r.status_code == 404 and r.content == unknown.content, name
    assert members(analyst, "open").status_code == 200
    assert members(trusted, "wraps_health").status_code == 200


def test_the_api_and_the_tag_library_agree_on_the_tags_a_role_may_view(store):
    tag_library.set_category(store, "admin", Category("internal", "内部", "Internal", ("admin", "steward")))
    _publish(store, INTERNAL)
    keys.add(store, "admin", "reader", "analyst", "tags:read,sensitive:read")
    with store.cursor() as cur:
        analyst = routes.visible_tags(cur, keys.get(cur, "reader"))
        assert set(analyst) == set(tag_library.viewable_computed(cur, "analyst")) and "card_holder" in analyst
        assert "vip_internal" not in analyst and "vip_internal" in tag_library.viewable_computed(cur, "steward")
        assert "health_interest" in tag_library.viewable_computed(cur, "steward")
        assert "health_interest" not in analyst


# ---- the body after the key, and refusals that do not flood the audit ---------------------------------

def test_a_declared_body_past_the_limit_is_413_before_the_key(client, store):
    big = b'{"mobile": "' + b"1" * routes.MAX_BODY + b'"}'
    r = client.post("/api/v1/lookup", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    r = client.post("/api/v1/lookup", content=big, headers=key(store, "analyst"))
    assert r.status_code == 413
    assert [(a, json.loads(d)["status"]) for a, _, d in api_calls(store)] == [("api", 413)]  # the second is held


def test_a_chunked_body_is_read_only_after_the_key_and_never_past_the_limit(store):
    app = Starlette(routes=routes.routes(lambda: store, routes.RateLimiter(Clock())))
    headers = key(store, "analyst")

    def call(auth: dict[str, str], chunks: list[bytes]) -> tuple[int, int]:
        """Status and how many chunks the app took, for a POST /lookup sent without a length."""
        taken = 0
        sent: list[dict] = []

        async def receive() -> dict:
            nonlocal taken
            taken += 1
            return {"type": "http.request", "body": chunks[taken - 1], "more_body": taken < len(chunks)}

        async def send(message: dict) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": "/api/v1/lookup", "raw_path": b"/api/v1/lookup",
                 "root_path": "", "scheme": "http", "query_string": b"", "server": ("test", 80),
                 "client": ("10.0.0.9", 5000), "http_version": "1.1",
                 "headers": [(k.lower().encode(), v.encode()) for k, v in auth.items()]}
        asyncio.run(app(scope, receive, send))
        return next(m["status"] for m in sent if m["type"] == "http.response.start"), taken

    body = json.dumps({"mobile": "13912345678"}).encode()
    assert call({}, [body[:5], body[5:]]) == (401, 0)  # refused without reading a byte of the body
    assert call(headers, [body[:5], body[5:]]) == (200, 2)
    huge = [b"x" * 4096] * 100  # 400 KB announced by no header
    status, taken = call(headers, huge)
    assert status == 413 and taken == routes.MAX_BODY // 4096 + 1


def test_unauthenticated_calls_write_one_audit_row_a_minute_per_client(client, store, clock):
    for i in range(20):
        r = client.get("/api/v1/tags", headers={"Authorization": f"Bearer stw_guess{i}"} if i % 2 else {})
        assert r.status_code == 401
    rows = api_calls(store)
    assert len(rows) == 1 and rows[0][0] == "api"
    assert json.loads(rows[0][2]) | {"client": None} == {"key": None, "status": 401, "people": 0, "calls": 1,
                                                         "client": None}
    clock.now += 61  # the minute is over: the next refusal writes one row for the 19 held and itself
    client.get("/api/v1/customers/OID1/tags")
    rows = api_calls(store)
    assert len(rows) == 2 and json.loads(rows[1][2])["calls"] == 20
    assert json.loads(rows[1][2])["client"] == "testclient"
    for _ in range(5):  # held again ...
        client.get("/api/v1/tags")
    assert len(api_calls(store)) == 2
    clock.now += 61  # ... and written with the next row the API writes, an allowed call's
    assert client.get("/api/v1/tags", headers=key(store, "analyst", scopes="tags:read")).status_code == 200
    details = [json.loads(d) for _, _, d in api_calls(store)[2:]]
    assert sorted((d["status"], d.get("calls")) for d in details) == [(200, None), (401, 5)]


def test_the_refusal_log_stays_bounded_without_losing_counts():
    clock = Clock()
    log = routes.RefusalLog(clock, max_held=3)
    rows = [r for i in range(5) for r in log.refused(f"10.0.0.{i}", None, "GET /api/v1/tags", 401)]
    assert len(rows) == 5 and len(log._held) == 3  # one row per new client; only three are remembered
    for i in (2, 3, 4):  # held: their minute lasts
        assert log.refused(f"10.0.0.{i}", None, "GET /api/v1/tags", 401) == []
    rows += log.refused("10.0.0.0", None, "GET /api/v1/tags", 401)  # forgotten: a row again, another is let go
    clock.now += 61
    rows += log.due() + log.refused("10.0.0.9", None, "GET /api/v1/tags", 401)
    assert sum(r[3] for r in rows) == 5 + 3 + 1 + 1  # every refusal is in some row: held counts let go too
    assert len(log._held) <= 3


# ---- an expiry date ends with that day in China time ---------------------------------------------------

def test_an_expiry_date_is_the_end_of_that_day_in_china_time(store):
    assert keys.parse_expiry("2027-01-31") == datetime(2027, 1, 31, 16, 0)  # 2027-02-01 00:00 Asia/Shanghai
    assert keys.parse_expiry(date(2027, 1, 31)) == datetime(2027, 1, 31, 16, 0)
    assert keys.parse_expiry("2027-01-31T09:30") == datetime(2027, 1, 31, 1, 30)  # China time
    assert keys.parse_expiry("2027-01-31T09:30+00:00") == datetime(2027, 1, 31, 9, 30)
    china_today = (utcnow() + timedelta(hours=8)).date()
    keys.add(store, "admin", "today-only", "analyst", "tags:read", expires=china_today.isoformat())  # not refused
    with store.cursor() as cur:
        found = keys.get(cur, "today-only")
    end = datetime.combine(china_today, time(16, 0))
    assert found.expires_at == end
    assert found.status(end - timedelta(seconds=1)) == "active" and found.status(end) == "expired"

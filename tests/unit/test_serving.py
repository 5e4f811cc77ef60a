"""The read API's point reads: serving indexes (built, used, dropped by bulk writers), one person's consent
read without the view, the golden row without the view, and audit rows written in groups."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from governance import pipeline
from governance.access import audit, auth, masking
from governance.access.events import Event
from governance.api import keys, routes
from governance.golden import customer360, survivorship
from governance.oneid import resolve as oneid_resolve
from governance.privacy import consent
from governance.store import serving, storage
from governance.store.util import utcnow
from governance.tags import compute as tag_compute
from helpers import SAVED_MODEL, build_template, load_generated, store_copy


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serving_template")

    def build(db):
        auth.create_user(db, "admin", "admin", "admin-pass-123", "admin")
        load_generated(db, folder, customers=120, seed=5)
        survivorship.refresh_golden(db)
        pipeline.refresh_tags(db, "t", full=True)

    return build_template(folder / "test.duckdb", build)


@pytest.fixture
def store(template, tmp_path):
    with store_copy(template, tmp_path / "test.duckdb") as db:
        yield db


def _oneids(db, n: int) -> list[str]:
    with db.cursor() as cur:
        return [r[0] for r in cur.execute("SELECT oneid FROM golden_wide ORDER BY oneid LIMIT ?", [n]).fetchall()]


def _scan_type(db, sql: str, params: list) -> str:
    """How the scan ran (the planner's EXPLAIN shows a sequential scan; the index is chosen at run time)."""
    with db.cursor() as cur:
        plan = "\n".join(r[1] for r in cur.execute("EXPLAIN ANALYZE " + sql, params).fetchall())
    return "index" if "Index Scan" in plan else "sequential"


def test_serving_indexes_are_built_once_and_used_for_point_reads(store):
    oneid = _oneids(store, 1)[0]
    assert _scan_type(store, "SELECT * FROM tag_values WHERE oneid = ?", [oneid]) == "sequential"
    with store.cursor() as cur:
        assert serving.missing(cur) == list(serving.INDEXES)
    assert serving.build_missing(store) == list(serving.INDEXES)
    assert serving.build_missing(store) == []
    for table in ("golden_wide", "tag_values", "crosswalk"):
        assert _scan_type(store, f"SELECT * FROM {table} WHERE oneid = ?", [oneid]) == "index", table


def test_bulk_writers_drop_the_indexes_of_the_table_they_rewrite(store):
    def dropped(step) -> set[str]:
        serving.build_missing(store)
        step()
        with store.cursor() as cur:
            return {serving.INDEXES[name][0] for name in serving.missing(cur)}

    def retire(code: str) -> None:
        with store.transaction() as cur:
            tag_compute.drop_values(cur, code)

    one = _oneids(store, 1)
    with store.cursor() as cur:
        code = cur.execute("SELECT tag_code FROM tag_values GROUP BY ALL ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    assert dropped(lambda: oneid_resolve.resolve(store, "t", model_json=SAVED_MODEL)) == {"crosswalk"}
    assert dropped(lambda: survivorship.refresh_golden(store, full=True)) == {"golden_wide"}
    assert dropped(lambda: survivorship.refresh_golden(store, oneids=one)) == set()  # one OneID: kept, maintained
    assert dropped(lambda: pipeline.refresh_tags(store, "t", full=True)) == set()  # nothing changed
    assert dropped(lambda: retire(code)) == {"tag_values"}
    with store.transaction() as cur:  # any batch counts as stale once its standardization is cleared
        cur.execute("DELETE FROM std_batches")
    assert "std_records" in dropped(lambda: pipeline.standardize(store, "t"))


def test_consent_of_one_person_is_what_the_view_says(store):
    oneids = _oneids(store, 12)
    later = utcnow() + timedelta(days=30)
    consent.grant(store, "admin", oneids[0], "marketing")
    consent.grant(store, "admin", oneids[1], "marketing", expires_at=utcnow() - timedelta(days=1))
    consent.grant(store, "admin", oneids[2], "marketing", expires_at=later)
    consent.withdraw(store, "admin", oneids[2], "marketing")
    consent.grant(store, "admin", oneids[3], "analytics")
    with store.cursor() as cur:  # a person of several records: the record tied to the row split off moves
        many = cur.execute("SELECT oneid, max(rec_id) FROM crosswalk GROUP BY oneid HAVING count(*) > 1 "
                           "ORDER BY oneid LIMIT 1").fetchone()
    assert many is not None
    consent.grant(store, "admin", many[0], "marketing")
    with store.transaction() as cur:  # tie the person's newest record to the row about to leave
        row = cur.execute("SELECT batch_id, row_number FROM crosswalk WHERE rec_id = ?", [many[1]]).fetchone()
        cur.execute("UPDATE consent_records SET batch_id = ?, row_number = ? WHERE id = (SELECT max(id) FROM "
                    "consent_records)", list(row))
    new = pipeline.split_record(store, "admin", many[0], many[1], "not the same person")
    with store.transaction() as cur:  # a record whose row is in no OneID any more keeps its own OneID
        cur.execute("INSERT INTO consent_records (id, oneid, batch_id, row_number, purpose, state, recorded_at, method, "
                    "actor, entered_at) VALUES (nextval('consent_seq'), ?, 999999, 1, 'marketing', 'granted', ?, "
                    "'other', 'admin', ?)", [oneids[4], utcnow(), utcnow()])
    with store.cursor() as cur:
        everyone = [r[0] for r in cur.execute("SELECT DISTINCT oneid FROM crosswalk UNION "
                                              "SELECT oneid FROM consent_records WHERE oneid IS NOT NULL").fetchall()]
        for oneid in everyone:
            view = dict(cur.execute("SELECT purpose, state FROM consent_current WHERE oneid = ?", [oneid]).fetchall())
            assert consent.current(cur, oneid) == view, oneid
        assert consent.current(cur, new) == {"marketing": "granted"}
        assert consent.current(cur, oneids[1]) == {"marketing": "expired"}
        assert consent.current(cur, oneids[2]) == {"marketing": "withdrawn"}


def test_golden_row_is_the_golden_record_without_the_consent_status(store):
    with store.cursor() as cur:
        for oneid in _oneids(store, 5):
            view = customer360.golden_record(cur, oneid)
            row = customer360.golden_row(cur, oneid)
            assert view is not None and row is not None
            view.pop("consent_status")
            assert set(row) == set(view)
            assert all(routes._plain(row[k]) == routes._plain(view[k]) for k in row), oneid
        assert customer360.golden_row(cur, "NO-SUCH-ONE") is None


def test_api_answers_the_same_with_and_without_the_serving_indexes(store):
    oneids = _oneids(store, 15)
    for oneid in oneids[:10]:
        consent.grant(store, "admin", oneid, "marketing")
    key = keys.add(store, "admin", "reader", "analyst", "tags:read,customers:read", rate_per_minute=10_000)
    client = TestClient(Starlette(routes=routes.routes(db_provider=lambda: store, hmac_key=lambda: "k" * 32)))
    with store.cursor() as cur:
        mobiles = [r[0] for r in cur.execute("SELECT mobile FROM golden_wide WHERE mobile IS NOT NULL AND oneid IN "
                                             "(SELECT unnest(?::VARCHAR[])) ORDER BY oneid", [oneids]).fetchall()]
    assert mobiles

    def answers() -> list:
        auth_header = {"Authorization": f"Bearer {key}"}
        out = [(r.status_code, r.json()) for r in (client.get(f"/api/v1/customers/{o}", headers=auth_header)
                                                    for o in oneids)]
        out += [(r.status_code, r.json()) for r in (client.post("/api/v1/lookup", json={"mobile": m}, headers=auth_header)
                                                     for m in mobiles)]
        return out

    scanned = answers()
    assert serving.build_missing(store)
    assert answers() == scanned
    assert [s for s, _ in scanned[:len(oneids)]].count(200) == 10  # the ten with a marketing consent
    assert any(s == 200 for s, _ in scanned[len(oneids):])


def test_concurrent_calls_are_audited_in_groups_and_the_chain_holds(store, monkeypatch):
    groups: list[int] = []
    write = audit.record_many

    def slow_write(cur, entries):  # a slow commit: the calls arriving meanwhile queue for the next group
        groups.append(len(entries))
        time.sleep(0.05)
        return write(cur, entries)

    monkeypatch.setattr(audit, "record_many", slow_write)
    before = _api_rows(store)
    threads = [threading.Thread(target=keys.record_call, args=(store, None, "GET /api/v1/tags", 401))
               for _ in range(25)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _api_rows(store) == before + 25 and sum(groups) == 25
    assert len(groups) < 25  # written in groups, not one transaction per call
    with store.cursor() as cur:
        assert audit.verify_chain(cur).ok


def test_a_failed_audit_write_fails_every_call_waiting_on_it(store, monkeypatch):
    def broken(cur, entries):
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "record_many", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        keys.record_call(store, None, "GET /api/v1/tags", 401)
    monkeypatch.undo()
    before = _api_rows(store)
    keys.record_call(store, None, "GET /api/v1/tags", 401)  # the log works again
    assert _api_rows(store) == before + 1


def _api_rows(db) -> int:
    with db.cursor() as cur:
        return int(cur.execute("SELECT count(*) FROM audit_log WHERE action = ?",
                               [Event.API_CALL.value]).fetchone()[0])


def test_cached_values_last_until_the_store_changes(store):
    computed: list[int] = []

    def compute() -> int:
        computed.append(1)
        return len(computed)

    assert store.cached("x", compute) == 1
    assert store.cached("x", compute) == 1
    keys.record_call(store, None, "GET /api/v1/tags", 401)  # log-only: what is cached stays
    assert store.cached("x", compute) == 1
    with store.transaction() as cur:
        cur.execute("UPDATE masking_policies SET method = method")
    assert store.cached("x", compute) == 2
    time.sleep(storage.RELEASE_AFTER_IDLE_SECONDS * 4)  # released: another process may write before it opens again
    with store.cursor() as cur:
        cur.execute("SELECT 1")
    assert store.cached("x", compute) == 3


def test_a_masking_change_applies_to_the_next_api_call(store):
    with store.cursor() as cur:
        oneid = cur.execute("SELECT min(oneid) FROM golden_wide WHERE name IS NOT NULL").fetchone()[0]
    consent.grant(store, "admin", oneid, "marketing")
    key = keys.add(store, "admin", "reader", "analyst", "customers:read")
    client = TestClient(Starlette(routes=routes.routes(db_provider=lambda: store, hmac_key=lambda: "k" * 32)))

    def fields() -> dict:
        answer = client.get(f"/api/v1/customers/{oneid}", headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 200
        return answer.json()["fields"]

    assert fields()["name"] != masking.HIDDEN
    masking.set_rule(store, "admin", "name", "analyst", "hidden")
    assert fields()["name"] == masking.HIDDEN


def test_the_keeper_rebuilds_what_a_bulk_write_dropped(store):
    keeper = serving.Keeper(lambda: store, interval=0.05)
    keeper.start()

    def complete() -> bool:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with store.cursor() as cur:
                if not serving.missing(cur):
                    return True
            time.sleep(0.05)
        return False

    try:
        assert complete()
        pipeline.refresh_tags(store, "t", full=True)  # drops the tag values' index
        assert complete()
    finally:
        keeper.stop()


def test_the_keeper_leaves_an_idle_store_closed(store):
    keeper = serving.Keeper(lambda: store, interval=0.02)
    keeper.start()
    try:
        with store.cursor() as cur:  # in use: the keeper builds the indexes
            cur.execute("SELECT 1")
        deadline = time.monotonic() + 20
        while store.is_open and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # many keeper rounds on an idle store
        assert not store.is_open  # another process may take the file
        with store.cursor() as cur:
            assert serving.missing(cur) == []
    finally:
        keeper.stop()


def test_pending_migrations_drop_the_serving_indexes_first(store, monkeypatch):
    from governance.store import migrations

    serving.build_missing(store)
    path = store.path
    store.close()
    sql = path.parent / "9999_alter_indexed.sql"
    sql.write_text("ALTER TABLE std_records ADD COLUMN test_flag VARCHAR NOT NULL DEFAULT 'm';\n"
                   "ALTER TABLE golden_wide ALTER COLUMN oneid SET DATA TYPE VARCHAR;\n", encoding="utf-8")
    extra = migrations.Migration(9999, "alter_indexed", sql)
    monkeypatch.setattr(migrations, "migrations", lambda original=migrations.migrations: [*original(), extra])
    reopened = storage.open_database(path)  # DuckDB would refuse these on indexed tables
    try:
        with reopened.cursor() as cur:
            assert serving.missing(cur) == list(serving.INDEXES)
            assert cur.execute("SELECT count(*) FROM std_records WHERE test_flag = 'm'").fetchone()[0] > 0
    finally:
        reopened.close()

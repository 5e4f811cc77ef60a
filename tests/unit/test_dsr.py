"""Data-subject requests: due dates, the access package, deletion with tombstones and suppression."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import date

import pytest

from governance import pipeline
from governance.golden import survivorship
from governance.oneid import resolve, review
from governance.privacy import consent, dsr, erasure, suppression
from governance.sources import ingest
from governance.store.errors import GovernanceError
from governance.store.schema import pii_fields
from governance.store.storage import compact, quote_ident
from helpers import SAVED_MODEL, load_generated

# ---------------------------------------------------------------- due dates

def test_due_date_counts_working_days_only(monkeypatch):
    for variable in ("STEWARD_DSR_DUE_DAYS", "STEWARD_HOLIDAYS", "STEWARD_WORKDAYS"):
        monkeypatch.delenv(variable, raising=False)
    friday = date(2026, 11, 27)
    assert dsr.due_date(friday) == date(2026, 12, 18)            # 15 working days = three weeks
    assert dsr.due_date(date(2026, 11, 28)) == date(2026, 12, 18)  # a Saturday counts from Monday
    assert dsr.due_date(friday, 1) == date(2026, 11, 30)
    monkeypatch.setenv("STEWARD_HOLIDAYS", "2026-12-01, 2026-12-02")
    assert dsr.due_date(friday) == date(2026, 12, 22)
    monkeypatch.setenv("STEWARD_DSR_DUE_DAYS", "3")
    assert dsr.due_date(friday) == date(2026, 12, 4)
    monkeypatch.setenv("STEWARD_HOLIDAYS", "1 October")
    with pytest.raises(GovernanceError):
        dsr.due_date(friday)


def test_due_date_follows_chinas_holidays_and_make_up_working_weekends(monkeypatch):
    for variable in ("STEWARD_DSR_DUE_DAYS", "STEWARD_HOLIDAYS", "STEWARD_WORKDAYS"):
        monkeypatch.delenv(variable, raising=False)
    # National Day 2026 (State Council notice): 1-7 October off; Sunday 20 September and Saturday
    # 10 October are working days.
    assert dsr.is_working_day(date(2026, 9, 20)) and dsr.is_working_day(date(2026, 10, 10))
    assert not dsr.is_working_day(date(2026, 10, 1)) and not dsr.is_working_day(date(2026, 10, 7))
    assert dsr.due_date(date(2026, 9, 18), 1) == date(2026, 9, 20)   # Friday, then the make-up Sunday
    # received Friday 25 September: 28-30 Sep, then 8-9 and 10 (Sat) Oct, 12-16, 19-22 Oct
    assert dsr.due_date(date(2026, 9, 25)) == date(2026, 10, 22)
    # Spring Festival 2026: 15-23 February off, Saturday 28 February works
    assert dsr.due_date(date(2026, 2, 13), 1) == date(2026, 2, 14)  # the make-up Saturday
    assert dsr.due_date(date(2026, 2, 14), 1) == date(2026, 2, 24)
    monkeypatch.setenv("STEWARD_WORKDAYS", "2026-10-03")             # a day the calendar does not know
    assert dsr.due_date(date(2026, 9, 30), 1) == date(2026, 10, 3)


# ---------------------------------------------------------------- a resolved workspace

@pytest.fixture
def workspace(db, tmp_path):
    ws = load_generated(db, tmp_path / "d", 300, seed=5)
    survivorship.build_golden(db)
    pipeline.refresh_quality(db, "t")  # stored profiles (top values, min/max) to purge too
    return ws, tmp_path / "d"


def _person(cur) -> str:
    """A OneID with records in two or more sources, a valid resident ID and mobile, and a name,
    mobile and ID that no other OneID holds."""
    return cur.execute(
        "WITH p AS (SELECT c.oneid, s.* FROM crosswalk c JOIN std_records s USING (batch_id, row_number)), "
        "owners AS (SELECT v, count(DISTINCT oneid) n FROM (SELECT oneid, name v FROM p UNION ALL SELECT oneid, mobile "
        "FROM p UNION ALL SELECT oneid, id_card FROM p) WHERE v IS NOT NULL GROUP BY v) "
        "SELECT oneid FROM p GROUP BY oneid HAVING count(DISTINCT source) >= 2 AND bool_or(id_card_status = 'valid') "
        "AND bool_or(mobile_status = 'valid') AND bool_or(name_status = 'valid') "
        "AND max((SELECT max(n) FROM owners o WHERE o.v IN (p.name, p.mobile, p.id_card))) = 1 "
        "ORDER BY oneid LIMIT 1").fetchone()[0]


def _values_only_they_hold(cur, oneid: str) -> set[str]:
    """Raw and standardized personal values of the person's records that no other record holds."""
    fields = pii_fields()
    mine = "SEMI JOIN (SELECT batch_id, row_number FROM crosswalk WHERE oneid = ?) USING (batch_id, row_number)"
    theirs = "ANTI JOIN (SELECT batch_id, row_number FROM crosswalk WHERE oneid = ?) USING (batch_id, row_number)"
    values = set()
    for view in ("mapped_records", "std_records"):
        for f in fields:
            values |= {r[0] for r in cur.execute(f"SELECT DISTINCT {f} FROM {view} {mine} WHERE {f} IS NOT NULL",
                                                 [oneid]).fetchall()}
    for view in ("mapped_records", "std_records"):
        for f in fields:
            values -= {r[0] for r in cur.execute(f"SELECT DISTINCT {f} FROM {view} {theirs} WHERE {f} IS NOT NULL",
                                                 [oneid]).fetchall()}
    return {v for v in values if len(v) >= 2}


def _hits(cur, values: set[str]) -> dict[str, list[str]]:
    """Every table in the store (all schemas, every column as text) that contains one of `values`."""
    hits: dict[str, list[str]] = {}
    tables = cur.execute("SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
                         "AND table_catalog = current_database()").fetchall()
    for schema, table in tables:
        name = f"{quote_ident(schema)}.{quote_ident(table)}"
        text = cur.execute(f"SELECT string_agg(t::VARCHAR, '\n') FROM {name} t").fetchone()[0] or ""
        found = sorted(v for v in values if v in text)
        if found:
            hits[f"{schema}.{table}"] = found
    return hits


def _verified(db, request_type: str, oneid: str, **extra) -> int:
    request_id = dsr.create(db, "steward", request_type, "申请人本人", oneids=[oneid], **extra)
    dsr.verify(db, "steward", request_id, "ID card checked at the counter")
    return request_id


def test_find_oneids_from_raw_identifiers(db, workspace):
    with db.cursor() as cur:
        oneid = _person(cur)
        mobile = cur.execute("SELECT s.mobile FROM std_records s JOIN crosswalk c USING (batch_id, row_number) "
                             "WHERE c.oneid = ? AND s.mobile_status = 'valid' LIMIT 1", [oneid]).fetchone()[0]
        assert dsr.find_oneids(cur, {"mobile": f"+86 {mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"}) == [oneid]
        assert dsr.find_oneids(cur, {"mobile": ""}) == []
    request_id = dsr.create(db, "steward", "access", "某某", identifiers={"mobile": mobile})
    with db.cursor() as cur:
        req = dsr.get(cur, request_id)
        assert (req.oneids, req.status, req.identifiers) == ([oneid], "received", {"mobile": mobile})
        detail = cur.execute("SELECT detail FROM audit_log WHERE action = 'dsr.create'").fetchone()[0]
    assert mobile not in detail and "某某" not in detail


def test_actions_need_a_verified_identity_and_follow_the_workflow(db, workspace):
    with db.cursor() as cur:
        oneid = _person(cur)
    request_id = dsr.create(db, "steward", "deletion", "某某", oneids=[oneid])
    with pytest.raises(GovernanceError, match="verify"):
        pipeline.delete_person(db, "steward", request_id)
    with pytest.raises(GovernanceError):
        dsr.verify(db, "steward", request_id, "  ")
    with pytest.raises(GovernanceError, match="Unknown OneID"):
        dsr.create(db, "steward", "access", "某某", oneids=["OID9999999999"])
    with pytest.raises(GovernanceError, match="deletion request"):
        other = _verified(db, "access", oneid)
        pipeline.delete_person(db, "steward", other)
    dsr.reject(db, "steward", request_id, "Could not verify the requester.")
    with pytest.raises(GovernanceError):
        dsr.verify(db, "steward", request_id, "late")
    with db.cursor() as cur:
        actions = [r[0] for r in cur.execute("SELECT action FROM audit_log WHERE starts_with(action, 'dsr.') "
                                             "ORDER BY id").fetchall()]
        inbox = dsr.requests_frame(cur)
    assert actions == ["dsr.create", "dsr.create", "dsr.verify", "dsr.reject"]
    assert set(inbox["status"]) == {"rejected", "verified"}


def test_access_package_is_complete(db, workspace, tmp_path):
    with db.cursor() as cur:
        oneid = _person(cur)
        records = cur.execute("SELECT rec_id FROM crosswalk WHERE oneid = ? ORDER BY rec_id", [oneid]).fetchall()
        other = cur.execute("SELECT rec_id FROM crosswalk WHERE oneid <> ? LIMIT 1", [oneid]).fetchone()[0]
    review.decide(db, "steward", records[0][0], other, "reject", "not the same person")
    consent.grant(db, "steward", oneid, "marketing")
    consent.withdraw(db, "steward", oneid, "marketing")
    request_id = _verified(db, "access", oneid)
    files = dsr.access_package(db, "steward", request_id)
    manifest = json.loads(files["package.json"])
    with db.cursor() as cur:
        expected = {
            "std_records": cur.execute("SELECT count(*) FROM std_records JOIN crosswalk USING (batch_id, row_number) "
                                       "WHERE oneid = ?", [oneid]).fetchone()[0],
            "crosswalk": len(records),
            "golden_records": 1,
            "golden_lineage": cur.execute("SELECT count(*) FROM golden_lineage WHERE oneid = ?", [oneid]).fetchone()[0],
            "oneid_history": cur.execute("SELECT count(*) FROM oneid_history WHERE oneid = ?", [oneid]).fetchone()[0],
            "review_decisions": 1,
            "consent_records": 2 + cur.execute(  # the two above and those imported from the person's rows
                "SELECT count(*) FROM consent_records r JOIN crosswalk c USING (batch_id, row_number) "
                "WHERE c.oneid = ? AND r.method = 'source_import'", [oneid]).fetchone()[0],
        }
        mobile, id_card = cur.execute("SELECT mobile, id_card FROM golden_records WHERE oneid = ?", [oneid]).fetchone()
        assert req_status(cur, request_id) == "in_progress"
        assert cur.execute("SELECT count(*) FROM audit_log WHERE action = 'dsr.access_package'").fetchone()[0] == 1
    for table, n in expected.items():
        assert manifest["files"][f"{table}.csv"] == n and len(manifest["data"][table]) == n, table
    source_rows = {k: v for k, v in manifest["files"].items() if k.startswith("source_rows/")}
    assert sum(source_rows.values()) == len(records)  # every source row, as uploaded
    assert mobile.split(" | ")[0] in files["package.json"].decode() and id_card in files["package.json"].decode()
    assert "no tags" in manifest["notes"]["tags"] and "consent_records" in manifest["notes"]["consent"]
    assert set(files) == {"package.json", *dsr.SUMMARY_FILES.values(), *manifest["files"]}
    with zipfile.ZipFile(io.BytesIO(dsr.package_zip(files))) as zf:
        assert sorted(zf.namelist()) == sorted(files)
    written = dsr.write_package(files, tmp_path / "pkg")
    assert (written / "package.json").exists() and (written / "std_records.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def req_status(cur, request_id: int) -> str:
    return dsr.get(cur, request_id).status


def test_deletion_removes_every_trace_but_the_tombstone_and_the_audit(db, workspace):
    with db.cursor() as cur:
        oneid = _person(cur)
        values = _values_only_they_hold(cur, oneid)
        n_records = cur.execute("SELECT count(*) FROM crosswalk WHERE oneid = ?", [oneid]).fetchone()[0]
        name, mobile, id_card = cur.execute("SELECT name, mobile, id_card FROM golden_records WHERE oneid = ?",
                                            [oneid]).fetchone()
        before = _hits(cur, values)
    assert {name, id_card, mobile.split(" | ")[0]} <= values
    assert {"raw.batch_1", "main.std_records", "main.std_cache", "main.golden_records"} & set(before)
    request_id = _verified(db, "deletion", oneid, identifiers={"mobile": mobile.split(" | ")[0]})
    result = pipeline.delete_person(db, "steward", request_id)
    assert result.records == n_records
    assert result.deleted["raw"] == n_records and result.deleted["std_records"] == n_records
    assert result.deleted["crosswalk"] == n_records
    assert result.deleted.get("golden_records", 0) + result.deleted.get("golden_wide", 0) == 1  # table, or the golden branch's base
    with db.cursor() as cur:
        assert _hits(cur, values) == {}  # not in any table of any schema, audit log included
        assert cur.execute("SELECT count(*) FROM crosswalk WHERE oneid = ?", [oneid]).fetchone()[0] == 0
        assert cur.execute("SELECT count(*) FROM golden_records WHERE oneid = ?", [oneid]).fetchone()[0] == 0
        tomb = cur.execute("SELECT tombstone_id, request_id, keys FROM dsr_tombstones").fetchall()
        assert tomb == [(result.tombstone_id, request_id, tomb[0][2])] and tomb[0][2] >= 3
        kinds = {r[0] for r in cur.execute("SELECT kind FROM dsr_tombstone_keys").fetchall()}
        assert {"id_card", "mobile", "mobile_name"} <= kinds
        req = dsr.get(cur, request_id)
        assert (req.status, req.requester, req.identifiers) == ("done", dsr.ERASED, {})
        detail = json.loads(cur.execute("SELECT detail FROM audit_log WHERE action = 'dsr.delete'").fetchone()[0])
        assert detail["deleted"]["std_records"] == n_records and detail["tombstone_id"] == result.tombstone_id
        assert cur.execute("SELECT count(*) FROM profile_fields WHERE top_values LIKE ?", [f"%{name}%"]).fetchone()[0] == 0


def test_a_deletion_removes_the_access_packages_kept_for_the_person(db, workspace):
    """An access package holds the person's data unmasked; once they are erased, no package about
    them stays beside the store, while another person's does."""
    with db.cursor() as cur:
        oneid = _person(cur)
        other = cur.execute("SELECT oneid FROM golden_records WHERE oneid <> ? ORDER BY oneid LIMIT 1",
                            [oneid]).fetchone()[0]
    access, kept = _verified(db, "access", oneid), _verified(db, "access", other)
    package = dsr.save_package(db, access, dsr.access_package(db, "steward", access))
    other_package = dsr.save_package(db, kept, dsr.access_package(db, "steward", kept))
    pipeline.delete_person(db, "steward", _verified(db, "deletion", oneid))
    assert not package.exists() and other_package.exists()


def test_compaction_removes_erased_values_from_the_file_itself(db, workspace):
    with db.cursor() as cur:
        oneid = _person(cur)
        values = _values_only_they_hold(cur, oneid)
    pipeline.delete_person(db, "steward", _verified(db, "deletion", oneid))
    lingering = [v for v in values if v.encode() in db.path.read_bytes()]
    assert lingering  # a DELETE leaves the bytes in freed blocks of the DuckDB file
    path = db.path
    db.close()
    sizes = compact(path)
    data = path.read_bytes()
    assert [v for v in values if v.encode() in data] == [] and sizes["bytes_after"] <= sizes["bytes_before"]
    from governance.access import audit
    from governance.store.storage import open_database

    again = open_database(path)
    with again.cursor() as cur:
        assert audit.verify_chain(cur).ok
        assert cur.execute("SELECT count(*) FROM dsr_tombstones").fetchone()[0] == 1
        assert cur.execute("SELECT nextval('audit_seq')").fetchone()[0] > cur.execute(
            "SELECT max(id) FROM audit_log").fetchone()[0]  # sequences survive the rewrite
    again.close()


def test_deletion_is_all_or_nothing(db, workspace, monkeypatch):
    with db.cursor() as cur:
        oneid = _person(cur)
        rows_before = cur.execute("SELECT count(*) FROM std_records").fetchone()[0]
        raw_before = cur.execute("SELECT count(*) FROM raw.batch_1").fetchone()[0]
    request_id = _verified(db, "deletion", oneid)

    def fail(cur):
        raise RuntimeError("disk full")

    monkeypatch.setattr(erasure, "redact_profiles", fail)
    with pytest.raises(RuntimeError):
        pipeline.delete_person(db, "steward", request_id)
    with db.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM std_records").fetchone()[0] == rows_before
        assert cur.execute("SELECT count(*) FROM raw.batch_1").fetchone()[0] == raw_before
        assert cur.execute("SELECT count(*) FROM crosswalk WHERE oneid = ?", [oneid]).fetchone()[0] > 0
        assert cur.execute("SELECT count(*) FROM dsr_tombstones").fetchone()[0] == 0
        assert req_status(cur, request_id) == "verified"
        assert cur.execute("SELECT count(*) FROM audit_log WHERE action = 'dsr.delete'").fetchone()[0] == 0


def test_reupload_is_suppressed_resolve_does_not_resurrect_and_lifting_works(db, workspace):
    ws, directory = workspace
    with db.cursor() as cur:
        oneid = _person(cur)
        values = _values_only_they_hold(cur, oneid)
        theirs = cur.execute("SELECT b.source, b.file_name, c.row_number FROM crosswalk c JOIN batches b USING (batch_id) "
                             "WHERE c.oneid = ? ORDER BY 1, 3", [oneid]).fetchall()
    request_id = _verified(db, "deletion", oneid)
    pipeline.delete_person(db, "steward", request_id)
    with db.cursor() as cur:
        assert _hits(cur, values) == {}
    resolve.resolve(db, "steward", model_json=SAVED_MODEL)  # a re-run right after does not bring them back
    survivorship.build_golden(db)
    # The same files are uploaded again (forced): every row of the person is suppressed.
    sources = sorted({s for s, _, _ in theirs})
    new_batches = []
    for spec in ws.files:
        if spec.source in sources:
            result = ingest.ingest_file(db, directory / spec.file_name, actor="steward", source=spec.source,
                                        channel=spec.channel, force=True)
            new_batches.append(result.batch_id)
    standardized = pipeline.standardize(db, "steward", new_batches)
    with db.cursor() as cur:
        suppressed = set(cur.execute("SELECT b.source, s.row_number FROM suppressed_records s JOIN batches b "
                                     "USING (batch_id)").fetchall())
        tombstones = suppression.tombstones(cur)
    assert {(s, r) for s, _, r in theirs} <= suppressed
    assert standardized.suppressed == len(suppressed)
    assert int(tombstones["suppressed_rows"][0]) == len(suppressed)
    resolve.resolve(db, "steward", model_json=SAVED_MODEL)
    survivorship.build_golden(db)
    std_values = values - _raw_only(values, db)
    with db.cursor() as cur:
        for table in ("std_records", "crosswalk", "golden_records", "golden_lineage", "std_cache"):
            hits = _hits(cur, std_values).get(f"main.{table}")
            assert not hits or table == "std_cache", (table, hits)
        assert cur.execute("SELECT count(*) FROM std_records s SEMI JOIN suppressed_records USING (batch_id, row_number)"
                           ).fetchone()[0] == 0
        tombstone_id = int(tombstones["tombstone_id"][0])
    # Lifting the suppression (audited) brings the rows back into the pipeline.
    with pytest.raises(GovernanceError):
        pipeline.lift_tombstone(db, "steward", tombstone_id, " ")
    released = pipeline.lift_tombstone(db, "steward", tombstone_id, "new membership with fresh consent")
    assert released == len(suppressed)
    resolve.resolve(db, "steward", model_json=SAVED_MODEL)
    with db.cursor() as cur:
        back = cur.execute("SELECT count(*) FROM crosswalk c SEMI JOIN suppressed_records s USING (batch_id, row_number)"
                           ).fetchone()[0]
        assert back == len(suppressed)
        assert cur.execute("SELECT count(*) FROM audit_log WHERE action = 'dsr.suppression_lift'").fetchone()[0] == 1
        assert suppression.tombstones(cur)["suppressed_rows"][0] == 0


def test_a_different_hmac_key_is_refused_rather_than_letting_erased_people_back(db, workspace, monkeypatch):
    ws, directory = workspace
    with db.cursor() as cur:
        oneid = _person(cur)
        source = cur.execute("SELECT min(source) FROM crosswalk WHERE oneid = ?", [oneid]).fetchone()[0]
    pipeline.delete_person(db, "steward", _verified(db, "deletion", oneid))
    spec = next(f for f in ws.files if f.source == source)
    batch = ingest.ingest_file(db, directory / spec.file_name, actor="steward", source=spec.source,
                               channel=spec.channel, force=True).batch_id
    monkeypatch.setenv("STEWARD_HMAC_KEY", "a-new-key-after-the-secrets-file-was-lost")
    with pytest.raises(GovernanceError, match="HMAC key"):
        pipeline.standardize(db, "steward", [batch])
    with db.cursor() as cur:  # the run changed nothing: the batch is not standardized
        assert cur.execute("SELECT count(*) FROM std_records WHERE batch_id = ?", [batch]).fetchone()[0] == 0
    monkeypatch.delenv("STEWARD_HMAC_KEY")
    assert pipeline.standardize(db, "steward", [batch]).suppressed > 0


def _raw_only(values: set[str], db) -> set[str]:
    """Values as typed in the raw files (they come back in the re-uploaded raw batch)."""
    with db.cursor() as cur:
        fields = pii_fields()
        raw = set()
        for f in fields:
            raw |= {r[0] for r in cur.execute(f"SELECT DISTINCT {f} FROM mapped_records WHERE {f} IS NOT NULL "
                                              f"AND list_contains(?::VARCHAR[], {f})", [sorted(values)]).fetchall()}
    return raw


def test_household_member_sharing_the_phone_is_not_suppressed(db, tmp_path):
    path = tmp_path / "pos.csv"
    path.write_text("会员卡号,姓名,手机\nM1,张伟,13912345678\nM2,李娜,13912345678\n", encoding="utf-8")
    batch = ingest.ingest_file(db, path, actor="t", channel="pos").batch_id
    pipeline.standardize(db, "t")
    resolve.resolve(db, "t", use_model=False)
    with db.cursor() as cur:
        zhang = cur.execute("SELECT oneid FROM crosswalk WHERE row_number = 1").fetchone()[0]
    pipeline.delete_person(db, "t", _verified(db, "deletion", zhang))
    again = tmp_path / "pos2.csv"
    again.write_text("会员卡号,姓名,手机\nM9,张伟,13912345678\nM8,李娜,13912345678\nM7,,13912345678\n", encoding="utf-8")
    second = ingest.ingest_file(db, again, actor="t", source="pos").batch_id
    assert pipeline.standardize(db, "t", [second]).suppressed == 2  # 张伟 and the nameless row; 李娜 stays
    with db.cursor() as cur:
        assert cur.execute("SELECT name FROM std_records WHERE batch_id = ?", [second]).fetchall() == [("李娜",)]
        assert cur.execute("SELECT count(*) FROM std_records WHERE batch_id = ?", [batch]).fetchone()[0] == 1
        tombstone_id = cur.execute("SELECT tombstone_id FROM dsr_tombstones").fetchone()[0]
    # Purging erases the suppressed rows themselves, raw rows included.
    deleted = suppression.purge(db, "t", tombstone_id)
    assert deleted["raw"] == 2 and deleted["suppressed_records"] == 2
    with db.cursor() as cur:
        assert cur.execute(f"SELECT c002 FROM raw.batch_{second}").fetchall() == [("李娜",)]
        assert int(suppression.tombstones(cur)["suppressed_rows"][0]) == 0


def test_a_withdrawal_request_withdraws_consent_in_the_ledger(db, workspace):
    with db.cursor() as cur:
        oneid = _person(cur)
    consent.grant(db, "steward", oneid, "marketing")
    request_id = _verified(db, "withdrawal", oneid)
    dsr.withdraw(db, "steward", request_id, "marketing")
    with db.cursor() as cur:
        req = dsr.get(cur, request_id)
        state = cur.execute("SELECT state FROM consent_current WHERE oneid = ? AND purpose = 'marketing'",
                            [oneid]).fetchone()[0]
    assert state == "withdrawn"
    assert req.status == "in_progress" and req.detail["withdrawals"] == [{"purpose": "marketing"}]
    dsr.close(db, "steward", request_id, "Marketing consent withdrawn.")



def test_a_source_name_never_leaves_the_access_package(db, tmp_path):
    f = tmp_path / "crm.csv"
    f.write_text("姓名,手机\n张伟,13912345678\n", encoding="utf-8")
    ingest.ingest_file(db, f, actor="t", source="../../../../outside/pwned", channel="crm")
    pipeline.resolve(db, "t", use_model=False)
    with db.cursor() as cur:
        oneid = cur.execute("SELECT oneid FROM crosswalk").fetchone()[0]
    request_id = _verified(db, "access", oneid)
    files = dsr.access_package(db, "steward", request_id)
    rows = [name for name in files if name.startswith("source_rows/")]
    assert rows and all(".." not in name and name.count("/") == 1 for name in rows)
    package = tmp_path / "pkg" / "deep"
    dsr.write_package(files, package)
    assert not (tmp_path / "outside").exists() and not (tmp_path / "pkg" / "outside").exists()
    with zipfile.ZipFile(io.BytesIO(dsr.package_zip(files))) as zf:
        assert all(".." not in name for name in zf.namelist())

"""The pipeline chains the stages, and each of its steps commits once or not at all."""
from __future__ import annotations

import pytest

from governance import pipeline
from governance.golden import survivorship
from governance.privacy import dsr
from governance.standardize import engine
from governance.store.errors import GovernanceError
from helpers import load_generated

CSV = "姓名,手机号,邮箱\n张三,13800138000,zs@163.com\n李四,13912345678,\n"


def _count(db, sql: str, params=()) -> int:
    with db.cursor() as cur:
        return cur.execute(sql, list(params)).fetchone()[0]


def _fail(*_, **__):
    raise GovernanceError("planted failure")


def test_load_file_stores_and_standardizes_the_batch(db, tmp_path):
    path = tmp_path / "crm.csv"
    path.write_text(CSV, encoding="utf-8")
    loaded = pipeline.load_file(db, "t", path, source="crm", channel="crm")
    assert loaded.summary()["standardized"] == 2
    assert _count(db, "SELECT count(*) FROM std_records WHERE batch_id = ?", [loaded.ingested.batch_id]) == 2


def test_a_failed_load_leaves_nothing_behind(db, tmp_path, monkeypatch):
    path = tmp_path / "crm.csv"
    path.write_text(CSV, encoding="utf-8")
    monkeypatch.setattr(engine, "standardize", _fail)  # the second step fails after ingest wrote its batch
    with pytest.raises(GovernanceError, match="planted"):
        pipeline.load_file(db, "t", path, source="crm", channel="crm")
    assert _count(db, "SELECT count(*) FROM batches") == 0
    assert _count(db, "SELECT count(*) FROM sources") == 0
    assert _count(db, "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw'") == 0
    assert _count(db, "SELECT count(*) FROM audit_log") == 0
    monkeypatch.undo()
    assert pipeline.load_file(db, "t", path, source="crm", channel="crm").standardized.records == 2  # not a duplicate


def test_resolve_standardizes_what_is_stale_first(db, tmp_path):
    from governance.sources import ingest

    path = tmp_path / "crm.csv"
    path.write_text(CSV, encoding="utf-8")
    ingest.ingest_file(db, path, actor="t", source="crm", channel="crm")  # loaded, never standardized
    resolved = pipeline.resolve(db, "t", use_model=False)
    assert resolved.oneid.records == 2 and resolved.golden.oneids == 2


def test_a_failed_correction_keeps_no_override(db, tmp_path, monkeypatch):
    load_generated(db, tmp_path / "d", 40, seed=7)
    survivorship.refresh_golden(db)
    with db.cursor() as cur:
        oneid = cur.execute("SELECT min(oneid) FROM golden_records").fetchone()[0]
    request_id = dsr.create(db, "steward", "correction", "the person", oneids=[oneid])
    dsr.verify(db, "steward", request_id, "ID card seen")
    monkeypatch.setattr(survivorship, "refresh_golden", _fail)
    with pytest.raises(GovernanceError, match="planted"):
        pipeline.correct(db, "steward", request_id, "email", "fixed@163.com", "asked by the person")
    assert _count(db, "SELECT count(*) FROM golden_overrides") == 0
    with db.cursor() as cur:
        assert dsr.get(cur, request_id).status == "verified" and "corrections" not in dsr.get(cur, request_id).detail
    monkeypatch.undo()
    override_id = pipeline.correct(db, "steward", request_id, "email", "fixed@163.com", "asked by the person")
    assert _count(db, "SELECT count(*) FROM golden_records WHERE oneid = ? AND email = 'fixed@163.com'", [oneid]) == 1
    assert _count(db, "SELECT count(*) FROM golden_overrides WHERE override_id = ?", [override_id]) == 1


def test_a_failed_lift_keeps_the_tombstone(db, tmp_path, monkeypatch):
    load_generated(db, tmp_path / "d", 40, seed=8)
    with db.cursor() as cur:
        oneid = cur.execute("SELECT min(oneid) FROM crosswalk").fetchone()[0]
    request_id = dsr.create(db, "steward", "deletion", "the person", oneids=[oneid])
    dsr.verify(db, "steward", request_id, "ID card seen")
    tombstone = pipeline.delete_person(db, "steward", request_id).tombstone_id
    with db.cursor() as cur:  # the person's rows come back in a new upload and are kept aside
        cur.execute("INSERT INTO suppressed_records SELECT batch_id, row_number, ?, 'id_card', now()::TIMESTAMP, NULL "
                    "FROM std_records LIMIT 1", [tombstone])
    monkeypatch.setattr(engine, "standardize", _fail)
    with pytest.raises(GovernanceError, match="planted"):
        pipeline.lift_tombstone(db, "steward", tombstone, "came back with fresh consent")
    assert _count(db, "SELECT count(*) FROM dsr_tombstones WHERE lifted_at IS NULL") == 1
    assert _count(db, "SELECT count(*) FROM suppressed_records WHERE lifted_at IS NULL") == 1


def test_resolve_scores_with_the_saved_model_unless_asked_to_retrain(db, tmp_path, monkeypatch):
    from governance.oneid import resolve as oneid_resolve

    load_generated(db, tmp_path / "d", 40, seed=9)  # resolved once, with the saved model
    seen = []
    real = oneid_resolve.predict
    monkeypatch.setattr(oneid_resolve, "predict", lambda db, low, model_json, engine=None:
                        seen.append(model_json) or real(db, low, model_json, engine))
    assert pipeline.resolve(db, "t").oneid.mode == "incremental"  # nothing changed since: nothing scored afresh
    assert pipeline.resolve(db, "t", full=True).oneid.full_because == "asked"
    pipeline.resolve(db, "t", retrain=True)
    assert len(seen) == 2 and seen[0] is not None and seen[1] is None  # the last call trains a new model

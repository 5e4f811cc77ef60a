"""Retention policies, the expiry scan and its application; the minor flag."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from governance import pipeline
from governance.golden import survivorship
from governance.privacy import dsr, retention
from governance.sources import ingest
from governance.standardize.normalizers import id_check_char
from governance.store.errors import GovernanceError
from governance.store.util import utcnow
from helpers import load_generated


@pytest.fixture
def workspace(db, tmp_path):
    load_generated(db, tmp_path / "d", 200, seed=8)
    survivorship.build_golden(db)
    return db


def test_source_retention_scan_and_apply(workspace):
    db = workspace
    with db.cursor() as cur:
        source = cur.execute("SELECT source FROM batches WHERE channel = 'douyin'").fetchone()[0]
        old_batch = cur.execute("SELECT batch_id FROM batches WHERE source = ?", [source]).fetchone()[0]
        # The source's only batch was uploaded three years ago (Douyin orders map no updated_at).
        cur.execute("UPDATE batches SET uploaded_at = uploaded_at - INTERVAL 1100 DAY WHERE batch_id = ?", [old_batch])
        rows = cur.execute("SELECT count(*) FROM std_records WHERE batch_id = ?", [old_batch]).fetchone()[0]
        kept_oneids = {r[0] for r in cur.execute(
            "SELECT DISTINCT c.oneid FROM crosswalk c WHERE c.batch_id = ? AND EXISTS (SELECT 1 FROM crosswalk o "
            "WHERE o.oneid = c.oneid AND o.batch_id <> ?)", [old_batch, old_batch]).fetchall()}
    with pytest.raises(GovernanceError):
        retention.set_policy(db, "steward", "source", "nope", 365)
    with pytest.raises(GovernanceError):
        retention.set_policy(db, "steward", "source", source, 0)
    retention.set_policy(db, "steward", "source", source, 365, "PIPL Art. 19: orders kept one year")
    retention.set_policy(db, "steward", "purpose", "marketing", 180)
    with db.cursor() as cur:
        found = retention.scan(cur, "source", source)
        assert (found.records, found.days) == (rows, 365) and found.oneids > 0
        assert retention.scan(cur, "purpose", "marketing").records == 0  # no consent has ended yet
        assert len(retention.scan_all(cur)) == 2
        sample = retention.expired_records(cur, source, limit=5)
        assert list(sample.columns) == ["batch_id", "row_number", "oneid", "last_activity"] and len(sample) == 5
        assert retention.policies(cur)["days"].tolist() == [180, 365]
    with pytest.raises(GovernanceError, match="scan again"):
        pipeline.apply_retention(db, "steward", "source", source, rows + 1)
    run_id = pipeline.apply_retention(db, "steward", "source", source, rows)
    with db.cursor() as cur:
        assert cur.execute(f"SELECT count(*) FROM raw.batch_{old_batch}").fetchone()[0] == 0
        assert cur.execute("SELECT count(*) FROM std_records WHERE batch_id = ?", [old_batch]).fetchone()[0] == 0
        assert cur.execute("SELECT count(*) FROM crosswalk WHERE batch_id = ?", [old_batch]).fetchone()[0] == 0
        assert cur.execute("SELECT count(*) FROM golden_lineage WHERE batch_id = ?", [old_batch]).fetchone()[0] == 0
        golden = {r[0] for r in cur.execute("SELECT oneid FROM golden_records").fetchall()}
        assert kept_oneids and kept_oneids <= golden  # people with other records keep a rebuilt golden record
        assert cur.execute("SELECT count(*) FROM dsr_tombstones").fetchone()[0] == 0  # retention keeps no tombstone
        run = retention.runs(cur).iloc[0]
        assert (run["run_id"], run["records"], json.loads(run["deleted"])["raw"]) == (run_id, rows, rows)
        detail = json.loads(cur.execute("SELECT detail FROM audit_log WHERE action = 'retention.apply'").fetchone()[0])
        assert detail["records"] == rows and detail["deleted"]["std_records"] == rows
        assert retention.scan(cur, "source", source).records == 0


def test_a_person_none_of_whose_records_stay_goes_as_a_whole(workspace):
    """Retention that expires every record of a person erases what is kept by OneID too (a hand-set
    value, an access package), as a deletion would; a person who keeps records keeps theirs."""
    db = workspace
    with db.cursor() as cur:
        source = cur.execute("SELECT source FROM batches WHERE channel = 'douyin'").fetchone()[0]
        batch = cur.execute("SELECT batch_id FROM batches WHERE source = ?", [source]).fetchone()[0]
        cur.execute("UPDATE batches SET uploaded_at = uploaded_at - INTERVAL 1100 DAY WHERE batch_id = ?", [batch])
        gone, stays = (cur.execute(
            "SELECT c.oneid FROM crosswalk c GROUP BY c.oneid HAVING bool_and(c.batch_id = ?) = ? "
            "AND bool_or(c.batch_id = ?) ORDER BY c.oneid LIMIT 1", [batch, whole, batch]).fetchone()[0]
            for whole in (True, False))
        rows = cur.execute("SELECT count(*) FROM std_records WHERE batch_id = ?", [batch]).fetchone()[0]
    overrides = {oneid: pipeline.set_override(db, "steward", oneid, "email", f"wang{n}@qq.com", "told us by phone")
                 for n, oneid in enumerate((gone, stays))}
    request_id = dsr.create(db, "steward", "access", "申请人", oneids=[gone])
    dsr.verify(db, "steward", request_id, "ID card seen")
    package = dsr.save_package(db, request_id, dsr.access_package(db, "steward", request_id))
    retention.set_policy(db, "steward", "source", source, 365)
    pipeline.apply_retention(db, "steward", "source", source, rows)
    with db.cursor() as cur:
        kept = {r[0] for r in cur.execute("SELECT override_id FROM golden_overrides").fetchall()}
        assert kept == {overrides[stays]}
        assert cur.execute("SELECT count(*) FROM oneid_history WHERE oneid = ?", [gone]).fetchone()[0] == 0
        assert cur.execute("SELECT email FROM golden_records WHERE oneid = ?", [stays]).fetchone() == ("wang1@qq.com",)
        detail = json.loads(cur.execute("SELECT detail FROM audit_log WHERE action = 'retention.apply'").fetchone()[0])
        assert detail["people_erased"] >= 1
    assert not package.exists()


def _id_card(born: date) -> str:
    body = f"110105{born:%Y%m%d}123"
    return body + id_check_char(body)


def test_minor_flag_from_the_resident_id_or_the_birth_date(db, tmp_path):
    today = utcnow().date()
    minor_born = today.replace(year=today.year - 14) + timedelta(days=1)   # turns 14 tomorrow
    adult_born = today.replace(year=today.year - 14)                        # turned 14 today
    path = tmp_path / "crm.csv"
    path.write_text(
        "姓名,身份证号,生日\n"
        f"甲,{_id_card(minor_born)},\n"
        f"乙,{_id_card(adult_born)},\n"
        f"丙,,{minor_born.isoformat()}\n"
        f"丁,,{adult_born.isoformat()}\n"
        f"戊,{_id_card(adult_born)},{minor_born.isoformat()}\n"   # the ID's birth date wins
        "己,,\n", encoding="utf-8")
    ingest.ingest_file(db, path, actor="t", channel="crm")
    pipeline.standardize(db, "t")
    with db.cursor() as cur:
        flags = dict(cur.execute("SELECT name, is_minor FROM std_records").fetchall())
    assert flags == {"甲": True, "乙": False, "丙": True, "丁": False, "戊": False, "己": None}

"""Exports, retention runs and access packages as background jobs: each runs on the runner, records
its progress, keeps its outcome (the file it wrote, the run's summary) in its result, and a failure
is one line with nothing stored; the file a job wrote is found from its row, for its owner or an admin."""
from __future__ import annotations

import functools
import hashlib
import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from test_jobs import job_of

from governance.exports import datasets
from governance.golden import survivorship
from governance.jobs import kinds
from governance.jobs import runner as jobs
from governance.privacy import dsr, retention
from helpers import load_generated


@pytest.fixture
def golden(db, tmp_path):
    load_generated(db, tmp_path / "d", 200, seed=8)
    survivorship.build_golden(db)
    jobs.runner(db).background = False  # the test drains the queue itself
    return db


@pytest.fixture
def stages(monkeypatch):
    """Every (job, fraction, stage) written to the jobs table, unthrottled."""
    seen: list[tuple[int, float, str]] = []
    write = jobs.report
    monkeypatch.setattr(jobs, "THROTTLE_SECONDS", 0.0)

    def spy(db, job_id, fraction, stage):
        seen.append((job_id, round(fraction, 3), stage))
        write(db, job_id, fraction, stage)

    monkeypatch.setattr(jobs, "report", spy)
    return seen


def test_an_export_job_writes_the_file_with_progress_and_records_it_in_its_result(golden, stages, monkeypatch):
    monkeypatch.setattr(datasets, "run_export", functools.partial(datasets.run_export, chunk_rows=50))
    request = datasets.ExportRequest("golden", "steward", role="steward")
    with golden.cursor() as cur:
        total = datasets.count_rows(cur, request)
    job_id = kinds.export(golden, request)
    queued = job_of(golden, job_id)
    assert (queued.kind, queued.status, queued.started_by, queued.result) == (
        "export", "queued", "steward", {"format": "csv", "rows_total": total})
    assert not list(datasets.export_dir(golden).glob("*.csv"))  # nothing written in the page's run
    jobs.runner(golden).drain()
    done = job_of(golden, job_id)
    assert done.status == "done", done.message
    exported = [f for j, f, s in stages if j == job_id and s == "export"]
    assert len(exported) == -(-total // 50) and exported[-1] == 1.0  # rows written / total, per chunk
    assert exported == sorted(exported) and exported[0] == round(50 / total, 3)
    path = datasets.export_dir(golden) / done.result["file"]
    assert done.result["path"] == str(path) and done.result["rows"] == total == done.result["rows_total"]
    manifest = done.result["manifest"]
    assert manifest["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() and manifest["actor"] == "steward"
    assert manifest["file"] == path.name and manifest["masked"] is True
    with golden.cursor() as cur:
        assert cur.execute("SELECT id, row_count FROM export_manifests").fetchall() == [(manifest["id"], total)]


def test_the_file_of_an_export_job_is_found_from_its_row_for_its_owner_or_an_admin(golden):
    job_id = kinds.export(golden, datasets.ExportRequest("golden", "steward", role="steward"))
    assert kinds.result_file(golden, job_of(golden, job_id), "steward", "steward") is None  # not written yet
    jobs.runner(golden).drain()
    job = job_of(golden, job_id)
    path = datasets.export_dir(golden) / job.result["file"]
    assert kinds.result_file(golden, job, "steward", "steward") == path
    assert kinds.result_file(golden, job, "boss", "admin") == path
    assert kinds.result_file(golden, job, "steward2", "steward") is None  # another steward's export
    assert kinds.latest_of(golden, "export", "steward").job_id == job_id
    assert kinds.latest_of(golden, "export", "steward2") is None
    assert kinds.latest_of(golden, "export", "steward", active=True) is None
    secrets = golden.path.parent / "secrets.toml"
    secrets.write_text("key = 1")
    for name in ("../secrets.toml", str(secrets), ".", "", f"sub/{path.name}"):  # a tampered row leads nowhere
        assert kinds.result_file(golden, replace(job, result=job.result | {"file": name}), "steward", "steward") is None
    assert kinds.result_file(golden, replace(job, kind="resolve"), "steward", "steward") is None
    path.unlink()
    assert kinds.result_file(golden, job, "steward", "steward") is None  # gone: nothing to offer


def test_a_failing_export_job_records_one_line_and_stores_nothing(golden, monkeypatch):
    request = datasets.ExportRequest("golden", "steward", format="xlsx", role="steward")
    job_id = kinds.export(golden, request)
    monkeypatch.setattr(datasets, "XLSX_MAX_ROWS", 10)  # the data outgrew a sheet while the job waited
    jobs.runner(golden).drain()
    job = job_of(golden, job_id)
    assert job.status == "failed" and "\n" not in job.message
    assert job.message == f"{job.result['rows_total']:,} rows do not fit in one XLSX sheet (10); use CSV or Parquet."
    assert job.result["rows_total"] > 0 and "file" not in job.result  # what was known, no file
    assert kinds.result_file(golden, job, "steward", "steward") is None
    assert not [p for p in datasets.export_dir(golden).iterdir()]
    with golden.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM export_manifests").fetchone()[0] == 0


def test_an_export_it_would_refuse_is_refused_before_it_is_queued(golden):
    with pytest.raises(datasets.GovernanceError, match="unmasked export needs a stated purpose"):
        kinds.export(golden, datasets.ExportRequest("golden", "steward", masked=False, role="steward"))
    with golden.cursor() as cur:
        assert jobs.recent(cur) == []


def _aged_source(db) -> tuple[str, int]:
    with db.cursor() as cur:
        source, batch = cur.execute("SELECT source, batch_id FROM batches WHERE channel = 'douyin'").fetchone()
        cur.execute("UPDATE batches SET uploaded_at = uploaded_at - INTERVAL 1100 DAY WHERE batch_id = ?", [batch])
        rows = cur.execute("SELECT count(*) FROM std_records WHERE batch_id = ?", [batch]).fetchone()[0]
    retention.set_policy(db, "steward", "source", source, 365)
    return source, rows


def test_a_retention_job_erases_with_its_stages_and_keeps_the_runs_summary(golden, stages):
    source, rows = _aged_source(golden)
    job_id = kinds.retention(golden, "steward", "source", source, rows)
    with golden.cursor() as cur:
        assert retention.scan(cur, "source", source).records == rows  # queued: nothing erased yet
    jobs.runner(golden).drain()
    job = job_of(golden, job_id)
    assert (job.kind, job.status) == ("retention", "done"), job.message
    assert [s for j, _, s in stages if j == job_id] == ["erase", "golden", "done"]
    with golden.cursor() as cur:
        run = retention.runs(cur).iloc[0]
        assert retention.scan(cur, "source", source).records == 0
    assert job.result["run_id"] == run["run_id"] and job.result["records"] == rows == run["records"]
    assert (job.result["scope"], job.result["target"], job.result["deleted"]["raw"]) == ("source", source, rows)


def test_a_retention_job_whose_count_changed_fails_in_one_line_and_erases_nothing(golden):
    source, rows = _aged_source(golden)
    job_id = kinds.retention(golden, "steward", "source", source, rows + 1)
    jobs.runner(golden).drain()
    job = job_of(golden, job_id)
    assert job.status == "failed" and job.message == (
        f"The scan now finds {rows} records, not the {rows + 1} confirmed; scan again and confirm.")
    assert job.result == {"scope": "source", "target": source}
    with golden.cursor() as cur:
        assert retention.scan(cur, "source", source).records == rows
        assert cur.execute("SELECT count(*) FROM retention_runs").fetchone()[0] == 0


def _verified_access(db) -> int:
    with db.cursor() as cur:
        oneid = cur.execute("SELECT oneid FROM golden_records ORDER BY oneid LIMIT 1").fetchone()[0]
    request_id = dsr.create(db, "steward", "access", "申请人", oneids=[oneid])
    dsr.verify(db, "steward", request_id, "ID card seen")
    return request_id


def test_an_access_package_job_keeps_the_zip_until_the_request_is_closed(golden, stages):
    request_id = _verified_access(golden)
    other = _verified_access(golden)
    job_id = kinds.dsr_package(golden, "steward", request_id)
    assert kinds.package_job(golden, request_id, "steward").job_id == job_id
    assert kinds.package_job(golden, other, "steward") is None and kinds.package_job(golden, request_id, "boss") is None
    jobs.runner(golden).drain()
    job = job_of(golden, job_id)
    assert job.status == "done", job.message
    assert [s for j, _, s in stages if j == job_id] == ["package", "package_zip"]
    path = kinds.result_file(golden, job, "steward", "steward")
    assert path is not None and path.parent == dsr.package_dir(golden) and job.result["path"] == str(path)
    assert job.result["request_id"] == request_id and (path.stat().st_mode & 0o077) == 0
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as zf:
        names = zf.namelist()
        assert names[:2] == list(dsr.SUMMARY_FILES.values()) and "package.json" in names
        assert json.loads(zf.read("package.json"))["request_id"] == request_id
    with golden.cursor() as cur:
        assert dsr.get(cur, request_id).status == "in_progress"
    assert kinds.result_file(golden, job, "steward2", "steward") is None

    again = kinds.dsr_package(golden, "steward", request_id)  # a new package replaces the earlier one
    jobs.runner(golden).drain()
    newer = kinds.result_file(golden, job_of(golden, again), "steward", "steward")
    assert newer is not None and not path.exists()
    dsr.close(golden, "steward", request_id, "Package sent by post.")
    assert not newer.exists()  # closed: the person's data is not kept beside the store


def test_an_access_package_job_for_an_unverified_request_fails_in_one_line(golden):
    with golden.cursor() as cur:
        oneid = cur.execute("SELECT oneid FROM golden_records ORDER BY oneid LIMIT 1").fetchone()[0]
    request_id = dsr.create(golden, "steward", "access", "申请人", oneids=[oneid])
    job_id = kinds.dsr_package(golden, "steward", request_id)
    jobs.runner(golden).drain()
    job = job_of(golden, job_id)
    assert (job.status, job.message) == ("failed", f"Request {request_id} is received: verify the requester's "
                                                   "identity first.")
    assert job.result == {"request_id": request_id}
    assert not list(dsr.package_dir(golden).iterdir())


def _export_file(db, user: str = "steward"):
    job_id = kinds.export(db, datasets.ExportRequest("golden", user, role="steward"))
    jobs.runner(db).drain()
    job = job_of(db, job_id)
    return job, kinds.result_file(db, job, user, "steward")


def _age(path, days: float) -> None:
    import os
    import time
    when = time.time() - days * 86400
    os.utime(path, (when, when))


def test_export_files_are_kept_for_the_days_set_then_removed(golden, monkeypatch):
    """An export waits beside the store to be downloaded, not for ever: the next export, and every
    start, remove those older than STEWARD_EXPORT_KEEP_DAYS (7 by default)."""
    from governance import bootstrap

    _, first = _export_file(golden)
    _, second = _export_file(golden)
    assert first is not None and second is not None
    old, recent = first.rename(first.with_name("a-week-ago.csv")), second.rename(second.with_name("days-ago.csv"))
    Path(f"{first}.manifest.json").rename(f"{old}.manifest.json")  # (the next export may take a freed name)
    for path, days in ((old, 8), (Path(f"{old}.manifest.json"), 8), (recent, 6)):
        _age(path, days)
    _export_file(golden)
    assert not old.exists() and not Path(f"{old}.manifest.json").exists() and recent.exists()
    monkeypatch.setenv("STEWARD_EXPORT_KEEP_DAYS", "5")
    bootstrap.prepare(golden)
    assert not recent.exists()
    with golden.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM export_manifests").fetchone()[0] == 3  # the record stays


def test_an_erasure_removes_the_files_written_before_it(golden):
    """Exports and activation files beside the store may hold a person a deletion request or a
    retention run erases: those written before it go; the export's record and audit stay."""
    from governance import pipeline
    from governance.audiences import push

    job, exported = _export_file(golden)
    activation = push.spool_dir(golden) / "sms-members.csv"
    activation.write_text("mobile\n13800138000\n", encoding="utf-8")
    later = push.spool_dir(golden) / "written-after.csv"
    later.write_text("mobile\n", encoding="utf-8")
    _age(later, -1)  # its clock says after the erasure started
    source, rows = _aged_source(golden)
    pipeline.apply_retention(golden, "steward", "source", source, rows)
    assert exported is not None and not exported.exists() and not activation.exists() and later.exists()
    assert kinds.result_file(golden, job, "steward", "steward") is None

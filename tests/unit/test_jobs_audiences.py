"""Activation files and pushes as background jobs: the job writes the file into the activations folder
beside the store and records the activation; its result holds what the page shows; only the user who
started it gets the file; a request without the permission is refused before anything is queued."""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import replace

import pytest
from test_activation import IN, SECRET, Receiver, store, template  # noqa: F401 (the fixtures)
from test_jobs import job_of

from governance.audiences import push
from governance.audiences.activation import ActivationError
from governance.audiences.rules import AudienceError
from governance.jobs import kinds
from governance.jobs import runner as jobs
from governance.store.errors import PermissionDenied


@pytest.fixture
def db(store):  # noqa: F811 (the fixture imported above)
    jobs.runner(store).background = False  # the test drains the queue itself
    return store


def _activations(db) -> list[tuple]:
    with db.cursor() as cur:
        return cur.execute("SELECT activation_id, audience, channel, purpose, file_name, row_count, checksum, actor, "
                           "destination, status FROM activations ORDER BY activation_id").fetchall()


def test_an_export_job_writes_the_file_beside_the_store_and_records_the_activation(db):
    job_id = kinds.audience_export(db, "s1", "steward", "everyone", "sms", "marketing")
    queued = job_of(db, job_id)
    assert (queued.kind, queued.status, queued.started_by, queued.result) == (
        "audience_export", "queued", "s1", {"audience": "everyone", "channel": "sms", "purpose": "marketing"})
    assert _activations(db) == [] and not list(push.spool_dir(db).iterdir())  # nothing written when queued
    jobs.runner(db).drain()
    done = job_of(db, job_id)
    assert done.status == "done", done.message
    path = push.spool_dir(db) / done.result["file"]
    assert path.parent == db.path.parent / "activations"
    assert path.read_text(encoding="utf-8").split() == sorted(IN)
    assert done.result["rows"] == 2 and done.result["checksum"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert _activations(db) == [(done.result["activation_id"], "everyone", "sms", "marketing", path.name, 2,
                                 done.result["checksum"], "s1", None, "written")]
    assert kinds.RESULT_PAGE["audience_export"] == "audiences"
    # its file: for the steward who wrote it, not for another user, not even an admin
    assert kinds.result_file(db, done, "s1", "steward") == path
    assert kinds.result_file(db, done, "adm", "admin") is None
    assert kinds.result_file(db, done, "s2", "steward") is None
    assert kinds.result_file(db, replace(done, result=done.result | {"file": "../test.duckdb"}), "s1", "steward") is None
    # a second file the same second gets a name of its own
    kinds.audience_export(db, "s1", "steward", "everyone", "douyin_dmp", "marketing", hash="md5")
    kinds.audience_export(db, "s1", "steward", "everyone", "douyin_dmp", "marketing", hash="md5")
    jobs.runner(db).drain()
    assert len({r[4] for r in _activations(db)}) == 3 == len(list(push.spool_dir(db).glob("*.txt")))


def test_activation_files_older_than_a_day_are_removed_when_the_next_one_is_written(db):
    folder = push.spool_dir(db)
    stale, fresh = folder / "old-sms.txt", folder / "recent-sms.txt"
    for path, hours in ((stale, push.KEEP_HOURS + 1), (fresh, 1)):
        path.write_text("13800000000\n", encoding="utf-8")
        os.utime(path, (time.time() - hours * 3600,) * 2)
    kinds.audience_export(db, "s1", "steward", "everyone", "sms", "marketing")
    jobs.runner(db).drain()
    assert not stale.exists() and fresh.exists()


def test_a_role_without_the_permission_is_refused_before_anything_is_queued(db, tmp_path):
    push.add_destination(db, "adm", "sftp", "outbox", str(tmp_path / "outbox"))
    with pytest.raises(PermissionDenied, match="audiences.export"):
        kinds.audience_export(db, "ana", "analyst", "everyone", "sms", "marketing")
    with pytest.raises(PermissionDenied, match="audiences.push"):
        kinds.audience_push(db, "ana", "analyst", "everyone", "sftp")
    with pytest.raises(ActivationError, match="needs the purpose 'marketing'"):  # what the library would refuse
        kinds.audience_export(db, "s1", "steward", "everyone", "sms", "analytics")
    with pytest.raises(AudienceError):
        kinds.audience_export(db, "s1", "steward", "nobody", "sms", "marketing")
    with db.cursor() as cur:
        assert jobs.recent(cur) == []
    assert _activations(db) == [] and not (tmp_path / "outbox").exists()


def test_the_library_refuses_it_too_when_the_job_runs(db, monkeypatch):
    # the check before queuing let it through; the library checks the role again when the job runs
    with monkeypatch.context() as patched:
        patched.setattr(kinds.activation, "check_request", lambda *a, **k: "marketing")
        job_id = kinds.audience_export(db, "ana", "analyst", "everyone", "sms", "marketing")
    jobs.runner(db).drain()
    job = job_of(db, job_id)
    assert job.status == "failed" and "audiences.export" in job.message and "\n" not in job.message
    assert "file" not in job.result and _activations(db) == []
    assert kinds.result_file(db, job, "ana", "analyst") is None


def test_a_push_job_sends_the_file_and_keeps_the_outcome(db, monkeypatch):
    monkeypatch.setattr(push, "BACKOFF_SECONDS", 0.0)
    with Receiver([503]) as receiver:
        push.add_destination(db, "adm", "hook", "webhook", receiver.url, "webhook_hook")
        job_id = kinds.audience_push(db, "s1", "steward", "everyone", "hook")
        assert job_of(db, job_id).result == {"audience": "everyone", "destination": "hook", "channel": "sms"}
        assert receiver.requests == []  # nothing sent when queued
        jobs.runner(db).drain()
    done = job_of(db, job_id)
    assert done.status == "done", done.message
    r = done.result
    assert (r["ok"], r["attempts"], r["status_code"], r["rows"], r["destination"], r["kind"]) == (
        True, 2, 200, 2, "hook", "webhook")
    assert len(receiver.requests) == 2 and receiver.requests[1][2] == b"13671234598\n13957112233\n"
    assert r["checksum"] == hashlib.sha256(receiver.requests[1][2]).hexdigest()
    ((activation_id, *_, destination, status),) = _activations(db)
    assert (r["activation_id"], destination, status) == (activation_id, "hook", "delivered")
    with db.cursor() as cur:
        assert push.deliveries(cur, activation_id)["status_code"].tolist() == [503, 200]
    assert kinds.result_file(db, done, "s1", "steward") is None  # a push offers no download
    assert not list(push.spool_dir(db).iterdir())  # the spooled copy is gone
    assert SECRET not in str(r)

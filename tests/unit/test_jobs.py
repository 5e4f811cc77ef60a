"""Background jobs: the runner works its queue in a thread of its own, records stages and progress
as it goes (also from inside a transaction), stores one line for a failure, marks jobs of a dead
process interrupted, and command-line runs record themselves as jobs."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from governance import cli, pipeline
from governance.jobs import kinds
from governance.jobs import runner as jobs
from governance.oneid import review
from governance.sources import ingest
from governance.store.errors import GovernanceError
from helpers import load_generated

ROOT = Path(__file__).resolve().parents[2]
CSV = "姓名,手机号,邮箱\n张三,13800138000,zs@163.com\n李四,13912345678,\n张三,138 0013 8000,\n"


def job_of(db, job_id: int) -> jobs.Job:
    with db.cursor() as cur:
        found = jobs.get(cur, job_id)
    assert found is not None
    return found


@pytest.fixture
def stages(monkeypatch):
    """Every (job, fraction, stage) written to the jobs table, in order."""
    seen: list[tuple[int, float, str]] = []
    write = jobs.report

    def spy(db, job_id, fraction, stage):
        seen.append((job_id, round(fraction, 3), stage))
        write(db, job_id, fraction, stage)

    monkeypatch.setattr(jobs, "report", spy)
    return seen


def test_a_job_runs_in_a_worker_thread_and_its_progress_is_visible_while_it_runs(db):
    runner = jobs.Runner(db, background=True)
    seen: dict[str, object] = {}

    def look() -> jobs.Job:  # what the panel of another session reads meanwhile
        out: list[jobs.Job] = []
        reader = threading.Thread(target=lambda: out.append(job_of(db, job_id)))
        reader.start()
        reader.join()
        return out[0]

    def work(progress):
        seen["thread"] = threading.current_thread().name
        progress(0.25, "standardize")
        seen["first"] = look()
        with db.transaction():  # a step holds a transaction: progress is still written at once
            progress(0.75, "golden")
            seen["in_transaction"] = look()
        return {"oneids": 3}

    job_id = runner.submit("resolve", "steward", work)
    runner.drain(timeout=60)
    assert seen["thread"] == "steward-jobs"
    first, inside = seen["first"], seen["in_transaction"]
    assert isinstance(first, jobs.Job) and isinstance(inside, jobs.Job)
    assert (first.status, first.stage, first.progress) == ("running", "standardize", 0.25)
    assert (inside.stage, inside.progress) == ("golden", 0.75)
    done = job_of(db, job_id)
    assert (done.status, done.stage, done.progress, done.result, done.started_by, done.origin, done.pid) == (
        "done", "done", 1.0, {"oneids": 3}, "steward", "app", os.getpid())
    assert done.started_at is not None and done.finished_at is not None


def test_progress_is_throttled_within_a_stage(db):
    job_id = jobs.create(db, "resolve", "t", status="running")
    now = [100.0]
    tracker = jobs.Tracker(db, job_id, clock=lambda: now[0])
    tracker(0.1, "score")
    now[0] += 0.1
    tracker(0.2, "score")  # too soon: not written
    assert job_of(db, job_id).progress == 0.1
    tracker(0.3, "link")  # a new stage is written at once
    assert (job_of(db, job_id).stage, job_of(db, job_id).progress) == ("link", 0.3)
    now[0] += jobs.THROTTLE_SECONDS
    tracker(0.4, "link")
    assert job_of(db, job_id).progress == 0.4


def test_jobs_run_one_at_a_time_in_the_order_queued(db):
    runner = jobs.Runner(db, background=True)
    order: list[int] = []
    gate = threading.Event()
    first = runner.submit("resolve", "t", lambda progress: (gate.wait(30), order.append(1)) and None)
    second = runner.submit("resolve", "t", lambda progress: order.append(2))
    assert job_of(db, second).status == "queued"
    gate.set()
    runner.drain(timeout=60)
    assert order == [1, 2] and {job_of(db, first).status, job_of(db, second).status} == {"done"}


def test_a_failing_job_stores_one_line(db):
    runner = jobs.Runner(db, background=False)

    def refused(progress):
        raise GovernanceError("The saved OneID model cannot be used:\n  a second line")

    def broken(progress):
        raise ZeroDivisionError("with personal data 13800138000")

    failed, crashed = runner.submit("resolve", "t", refused), runner.submit("resolve", "t", broken)
    assert job_of(db, failed).status == "queued"  # without a worker, nothing runs until drain()
    runner.drain()
    job = job_of(db, failed)
    assert (job.status, job.message) == ("failed", "The saved OneID model cannot be used: a second line")
    job = job_of(db, crashed)
    incident = job.result["incident"]
    assert job.status == "failed" and job.message == f"unexpected failure (ZeroDivisionError), incident {incident}"
    assert "13800138000" not in job.message  # the traceback goes to the private incident log only
    assert f"incident {incident}" in (db.path.parent / "incidents.log").read_text(encoding="utf-8")


def test_jobs_left_by_a_dead_process_are_marked_interrupted(db):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    queued, running = jobs.create(db, "after_upload", "t"), jobs.create(db, "resolve", "t", status="running")
    mine = jobs.create(db, "resolve", "t", status="running")  # this process is alive: left alone
    with db.cursor() as cur:
        cur.execute("UPDATE jobs SET pid = ? WHERE job_id IN (?, ?)", [dead.pid, queued, running])
    jobs.Runner(db, background=False)  # the app starts
    for job_id in (queued, running):
        job = job_of(db, job_id)
        assert (job.status, job.message) == ("failed", jobs.INTERRUPTED)
    assert job_of(db, mine).status == "running"


def test_a_command_line_run_is_recorded_as_a_job_with_its_stages(db, tmp_path, capsys, stages):
    path = tmp_path / "crm.csv"
    path.write_text(CSV, encoding="utf-8")
    ingest.ingest_file(db, path, actor="t", source="crm", channel="crm")
    assert cli.main(["--db", str(db.path), "standardize", "--actor", "cli:ops"]) == 0
    with db.cursor() as cur:
        (job,) = jobs.recent(cur)
    assert (job.kind, job.origin, job.status, job.started_by, job.pid) == ("standardize", "cli", "done", "cli:ops",
                                                                            os.getpid())
    assert [s for _, _, s in stages] == ["normalize", "records", "done"]
    assert cli.main(["--db", str(db.path), "resolve", "--model", str(tmp_path / "missing.json")]) == 2
    with db.cursor() as cur:
        failed = jobs.recent(cur)[0]
    assert (failed.kind, failed.status) == ("resolve", "failed")
    assert failed.message.startswith("Cannot read the model file") and "\n" not in failed.message


def test_a_command_line_process_shows_in_the_jobs_of_the_store(db, tmp_path):
    path = tmp_path / "crm.csv"
    path.write_text(CSV, encoding="utf-8")
    db.close()
    proc = subprocess.run([sys.executable, "-m", "governance", "--db", str(db.path), "ingest", str(path), "--source",
                           "crm", "--channel", "crm"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    from governance.store.storage import open_database

    reopened = open_database(db.path)
    with reopened.cursor() as cur:
        (job,) = jobs.recent(cur)
    assert (job.kind, job.origin, job.status) == ("ingest", "cli", "done") and job.pid != os.getpid()
    reopened.close()


def test_after_upload_profiles_resolves_and_publishes_golden_records_as_one_job(db, tmp_path, stages):
    path = tmp_path / "crm.csv"
    path.write_text(CSV, encoding="utf-8")
    pipeline.load_file(db, "steward", path, source="crm", channel="crm")
    runner = jobs.runner(db)
    runner.background = False
    job_id = kinds.after_upload(db, "steward")
    runner.drain()
    job = job_of(db, job_id)
    assert job.status == "done", job.message
    assert job.result["records"] == 3 and job.result["golden_records"] == job.result["oneids"] >= 1
    assert [s for _, _, s in stages] == ["standardize", "profile", "score", "link", "golden", "tags", "done"]
    assert [f for _, f, _ in stages] == sorted(f for _, f, _ in stages)
    with db.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM profile_runs").fetchone()[0] == 1
        assert cur.execute("SELECT count(DISTINCT oneid) FROM golden_records").fetchone()[0] == job.result["oneids"]


def test_waiting_decisions_are_applied_by_one_queued_job(db, tmp_path):
    load_generated(db, tmp_path / "d", 300, seed=5)
    runner = jobs.runner(db)
    runner.background = False
    with db.cursor() as cur:
        rec_l, rec_r = cur.execute("SELECT rec_l, rec_r FROM match_pairs WHERE band = 'review' "
                                   "ORDER BY rec_l, rec_r LIMIT 1").fetchone()
        assert pipeline.decisions_waiting(cur) == 0
    assert not kinds.decisions_unqueued(db)
    review.decide(db, "steward", rec_l, rec_r, "approve")
    with db.cursor() as cur:
        assert pipeline.decisions_waiting(cur) == 1
    assert kinds.decisions_unqueued(db)
    job_id = kinds.apply_decisions(db, "steward")
    assert job_id is not None and kinds.apply_decisions(db, "steward") is None  # one queued job is enough
    assert not kinds.decisions_unqueued(db)
    runner.drain()
    assert job_of(db, job_id).status == "done" and job_of(db, job_id).result["decisions"] == 1
    with db.cursor() as cur:
        assert pipeline.decisions_waiting(cur) == 0
        assert cur.execute("SELECT count(DISTINCT oneid) FROM crosswalk WHERE rec_id IN (?, ?)",
                           [rec_l, rec_r]).fetchone()[0] == 1


def test_a_quality_refresh_job_profiles_with_the_engines_stages(db, tmp_path, stages):
    path = tmp_path / "crm.csv"
    path.write_text(CSV, encoding="utf-8")
    ingest.ingest_file(db, path, actor="t", source="crm", channel="crm")
    runner = jobs.runner(db)
    runner.background = False
    job_id = kinds.refresh_quality(db, "steward")
    runner.drain()
    job = job_of(db, job_id)
    assert (job.kind, job.status, job.result["records"]) == ("refresh_quality", "done", 3)
    assert [s for _, _, s in stages] == ["normalize", "records", "done", "profile", "done"]

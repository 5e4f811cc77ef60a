"""The job runner and the one writer of the `jobs` table.

A job is a long step with a row in `jobs`: its kind, who started it, where (`app` or `cli`), its
status (queued → running → done or failed), its stage and progress (0..1), one line of error for a
failed one, and a small JSON result. The app queues jobs on a `Runner`: one worker thread per
process runs them in order, outside any page script, so they survive navigation and reruns. A
command-line run records itself with `record(...)`, so the app's panel lists it too.

Progress reaches the table in tiny statements of their own, at most every THROTTLE_SECONDS per stage,
even while the job holds a transaction (then they are written from a helper thread, so they commit
at once and never join, or wait for, the job's own transaction). Jobs left queued or running by a
process that is gone are marked failed ("interrupted") when a runner starts.
"""
from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from governance.store.errors import GovernanceError, log_incident
from governance.store.storage import Database
from governance.store.util import process_alive, utcnow

STATUSES = ("queued", "running", "done", "failed")
ACTIVE = ("queued", "running")
THROTTLE_SECONDS = 0.5  # progress is written at most this often (and at every new stage)
INTERRUPTED = "interrupted"
# False: a Runner starts no worker thread and runs its queue only when `drain()` is called (tests).
BACKGROUND = True
INCIDENT_ATTR = "steward_incident"  # set on an unexpected exception a recorded job logged

Progress = Callable[[float, str], None]
Work = Callable[[Progress], "dict | None"]


@dataclass(frozen=True)
class Job:
    job_id: int
    kind: str
    origin: str
    status: str
    stage: str | None
    progress: float
    message: str | None
    started_by: str
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result: dict
    pid: int

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


_COLUMNS = ("job_id, kind, origin, status, stage, progress, message, started_by, queued_at, started_at, "
            "finished_at, result, pid")


def _job(row: tuple) -> Job:
    values = list(row)
    values[11] = json.loads(values[11]) if values[11] else {}
    return Job(*values)


def _write(db: Database, sql: str, params: list) -> tuple | None:
    """One statement on the jobs table, committed at once; returns its first row (RETURNING). Inside
    a transaction of this thread (a job's step holds one) it runs on a helper thread, so it neither
    joins that transaction nor waits for it."""
    def run() -> tuple | None:
        with db.cursor() as cur:
            return cur.execute(sql, params).fetchone()

    if not db.in_transaction:
        return run()
    outcome: list = []

    def helper() -> None:
        try:
            outcome.append(run())
        except BaseException as exc:  # handed back to the job's thread
            outcome.append(exc)

    thread = threading.Thread(target=helper, name="steward-job-progress")
    thread.start()
    thread.join()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def _one_line(text: str) -> str:
    return " ".join(str(text).split()) or "—"


def create(db: Database, kind: str, actor: str, origin: str = "app", status: str = "queued",
           result: dict | None = None) -> int:
    """A new job row; `result` holds what is known when it is queued (e.g. the request a package is for)."""
    now = utcnow()  # nextval in the INSERT itself: a sequence used by a statement that writes nothing
    # is not logged, so after a crash it would hand out the same id again
    row = _write(db, f"INSERT INTO jobs ({_COLUMNS}) VALUES (nextval('job_seq'), ?, ?, ?, ?, 0, NULL, ?, ?, ?, "
                     "NULL, ?, ?) RETURNING job_id",
                 [kind, origin, status, status, actor, now, now if status == "running" else None,
                  json.dumps(result, ensure_ascii=False, default=str) if result else None, os.getpid()])
    assert row is not None
    return int(row[0])


def start(db: Database, job_id: int) -> None:
    _write(db, "UPDATE jobs SET status = 'running', stage = 'start', started_at = ?, pid = ? WHERE job_id = ?",
           [utcnow(), os.getpid(), job_id])


def report(db: Database, job_id: int, fraction: float, stage: str) -> None:
    _write(db, "UPDATE jobs SET stage = ?, progress = ? WHERE job_id = ? AND status = 'running'",
           [stage, min(max(float(fraction), 0.0), 1.0), job_id])


def finish(db: Database, job_id: int, result: dict | None = None) -> None:
    _write(db, "UPDATE jobs SET status = 'done', stage = 'done', progress = 1, finished_at = ?, result = ? "
               "WHERE job_id = ?", [utcnow(), json.dumps(result or {}, ensure_ascii=False, default=str), job_id])


def fail(db: Database, job_id: int, message: str, result: dict | None = None) -> None:
    _write(db, "UPDATE jobs SET status = 'failed', message = ?, finished_at = ?, result = ? WHERE job_id = ?",
           [_one_line(message), utcnow(), json.dumps(result or {}, ensure_ascii=False), job_id])


def failure(exc: BaseException, folder: Path) -> tuple[str, dict]:
    """A failed job's one line and result: a GovernanceError's message; for anything else, an
    incident whose traceback goes to the private incident log (`errors.log_incident`)."""
    if isinstance(exc, GovernanceError):
        return _one_line(str(exc)), {}
    if not isinstance(exc, Exception):  # Ctrl-C, the process told to stop
        return INTERRUPTED, {"interrupted": True}
    incident, _ = log_incident(exc, folder)
    with suppress(AttributeError, TypeError):
        setattr(exc, INCIDENT_ATTR, incident)
    return f"unexpected failure ({type(exc).__name__}), incident {incident}", {"incident": incident}


def mark_interrupted(db: Database) -> int:
    """Jobs left queued or running by a process that is gone: failed, "interrupted". Returns how many."""
    with db.cursor() as cur:
        rows = cur.execute("SELECT job_id, pid FROM jobs WHERE status IN ('queued', 'running')").fetchall()
    gone = [job_id for job_id, pid in rows if pid != os.getpid() and not process_alive(pid)]
    for job_id in gone:
        fail(db, job_id, INTERRUPTED, {"interrupted": True})
    return len(gone)


def recent(cur: duckdb.DuckDBPyConnection, limit: int = 5) -> list[Job]:
    """Running and queued jobs first, then the latest finished ones; at most `limit` in all."""
    rows = cur.execute(f"SELECT {_COLUMNS} FROM jobs ORDER BY status IN ('queued', 'running') DESC, job_id DESC "
                       "LIMIT ?", [limit]).fetchall()
    return [_job(r) for r in rows]


def get(cur: duckdb.DuckDBPyConnection, job_id: int) -> Job | None:
    row = cur.execute(f"SELECT {_COLUMNS} FROM jobs WHERE job_id = ?", [job_id]).fetchone()
    return _job(row) if row else None


def latest(cur: duckdb.DuckDBPyConnection, kinds: tuple[str, ...], statuses: tuple[str, ...] = STATUSES,
           started_by: str | None = None) -> Job | None:
    """The newest job of one of `kinds` in one of `statuses` (started by `started_by`, when given)."""
    if started_by is not None:
        mine = started(cur, kinds, started_by, 1, statuses)
        return mine[0] if mine else None
    row = cur.execute(f"SELECT {_COLUMNS} FROM jobs WHERE list_contains(?, kind) AND list_contains(?, status) "
                      "ORDER BY job_id DESC LIMIT 1", [list(kinds), list(statuses)]).fetchone()
    return _job(row) if row else None


def started(cur: duckdb.DuckDBPyConnection, kinds: tuple[str, ...], started_by: str, limit: int = 20,
            statuses: tuple[str, ...] = STATUSES) -> list[Job]:
    """The newest jobs of one of `kinds` that `started_by` started, newest first."""
    rows = cur.execute(f"SELECT {_COLUMNS} FROM jobs WHERE list_contains(?, kind) AND list_contains(?, status) "
                       "AND started_by = ? ORDER BY job_id DESC LIMIT ?",
                       [list(kinds), list(statuses), started_by, limit]).fetchall()
    return [_job(r) for r in rows]


class Tracker:
    """The `progress(fraction, stage)` callback of a running job: writes the stage and progress,
    at every new stage and otherwise at most every THROTTLE_SECONDS. Progress is best effort: a
    write that fails does not fail the job."""

    def __init__(self, db: Database, job_id: int, clock: Callable[[], float] = time.monotonic):
        self.db, self.job_id, self.clock = db, job_id, clock
        self._stage: str | None = None
        self._written = float("-inf")

    def __call__(self, fraction: float, stage: str) -> None:
        now = self.clock()
        if stage == self._stage and now - self._written < THROTTLE_SECONDS:
            return
        self._stage, self._written = stage, now
        with suppress(duckdb.Error):
            report(self.db, self.job_id, fraction, stage)


@contextmanager
def record(db: Database, kind: str, actor: str, origin: str = "cli") -> Iterator[Tracker]:
    """Record a step run here (a command-line command) as a running job; yields its progress
    callback. It ends done, or failed with one line (and re-raises)."""
    with suppress(duckdb.Error):
        mark_interrupted(db)
    job_id = create(db, kind, actor, origin, status="running")
    try:
        yield Tracker(db, job_id)
    except BaseException as exc:
        message, result = failure(exc, db.path.parent)
        with suppress(duckdb.Error, GovernanceError):
            fail(db, job_id, message, result)
        raise
    finish(db, job_id)


class Runner:
    """The app's job queue for one store: `submit` queues a job (a row, and the work in memory),
    one worker thread runs them in order. `drain()` waits until the queue is empty; with
    `background=False` (or BACKGROUND off) there is no worker and `drain()` runs the queue itself."""

    def __init__(self, db: Database, background: bool | None = None):
        self.db = db
        self.background = BACKGROUND if background is None else background
        self._queue: deque[tuple[int, Work]] = deque()
        self._cond = threading.Condition()
        self._busy = False
        self._thread: threading.Thread | None = None
        self._known: dict[int, dict] = {}  # a queued job's result known up front, kept in its final one
        mark_interrupted(db)

    def submit(self, kind: str, actor: str, work: Work, known: dict | None = None) -> int:
        """Queue `work(progress)` as a job; it returns a small JSON-able result (or None). `known`
        (JSON-able) is the job's result while it waits and runs, and stays in its final result."""
        job_id = create(self.db, kind, actor, "app", result=known)
        with self._cond:
            if known:
                self._known[job_id] = dict(known)
            self._queue.append((job_id, work))
            if self.background and self._thread is None:
                self._thread = threading.Thread(target=self._work, name="steward-jobs", daemon=True)
                self._thread.start()
            self._cond.notify_all()
        return job_id

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    self._cond.wait()
                job_id, work = self._queue.popleft()
                self._busy = True
            try:
                self.run(job_id, work)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def run(self, job_id: int, work: Work) -> None:
        """Run one job here: running, then done with its result or failed with one line."""
        with self._cond:
            known = self._known.pop(job_id, {})
        try:
            start(self.db, job_id)
            result = work(Tracker(self.db, job_id))
        except Exception as exc:
            message, info = failure(exc, self.db.path.parent)
            with suppress(Exception):
                fail(self.db, job_id, message, known | info)
            return
        with suppress(Exception):
            finish(self.db, job_id, known | (result or {}))

    def drain(self, timeout: float = 300.0) -> None:
        """Wait until no job is queued or running. Without a worker, run the queued jobs here, in order."""
        if not self.background:
            while True:
                with self._cond:
                    if not self._queue:
                        return
                    job_id, work = self._queue.popleft()
                self.run(job_id, work)
        with self._cond:
            if not self._cond.wait_for(lambda: not self._queue and not self._busy, timeout):
                raise TimeoutError(f"jobs still running after {timeout} s")


_runners: dict[Path, Runner] = {}
_runners_lock = threading.Lock()


def runner(db: Database) -> Runner:
    """The process-wide runner of `db` (started on first use)."""
    with _runners_lock:
        found = _runners.get(db.path)
        if found is None or found.db is not db:
            found = _runners[db.path] = Runner(db)
        return found

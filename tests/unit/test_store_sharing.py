"""The app and CLI commands share one store: the file is released between units of work, a command
waits its turn while another process holds it, and the app says who holds it instead of failing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from governance.store import storage
from governance.store.storage import open_database, read_holder
from helpers import ROOT, app_test

HOLD = """
import pathlib, sys, time
from governance.store.storage import open_database
db = open_database(sys.argv[1], activity=sys.argv[4])
with db.transaction() as cur:
    cur.execute("INSERT INTO sources (source, channel, created_by, created_at) VALUES ('held', 'crm', 'test', now())")
    pathlib.Path(sys.argv[2]).write_text("held")
    time.sleep(float(sys.argv[3]))
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture
def store(tmp_path) -> Path:
    path = tmp_path / "shared.duckdb"
    open_database(path).close()
    return path


def hold(store: Path, tmp_path: Path, seconds: float, activity: str = "resolve") -> subprocess.Popen:
    """Another process holding the store in a write transaction for `seconds`."""
    marker = tmp_path / "held"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(store), str(marker), str(seconds), activity],
                            cwd=ROOT, env=_env())
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the holding process did not start"
        time.sleep(0.05)
    return proc


def cli(store: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "governance", "--db", str(store), *args], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=120)


def test_the_file_is_released_once_idle_and_reopened_on_demand(store):
    db = open_database(store)
    try:
        with db.cursor() as cur:
            assert cur.execute("SELECT count(*) FROM sources").fetchone() == (0,)
        assert read_holder(store) is not None and read_holder(store).pid == os.getpid()
        time.sleep(storage.RELEASE_AFTER_IDLE_SECONDS + 0.5)
        assert read_holder(store) is None
        other = subprocess.run([sys.executable, "-c", f"import duckdb; duckdb.connect({str(store)!r}).close()"],
                               capture_output=True, text=True, timeout=60)
        assert other.returncode == 0, other.stderr  # another process can open the file now
        with db.transaction() as cur:  # and this one opens it again when it needs it
            cur.execute("INSERT INTO sources (source, channel, created_by, created_at) VALUES ('again', 'crm', 't', now())")
        with db.cursor() as cur:
            assert cur.execute("SELECT source FROM sources").fetchall() == [("again",)]
    finally:
        db.close()


def test_a_command_waits_for_the_holder_and_then_runs(store, tmp_path):
    holder = hold(store, tmp_path, 3)
    done = cli(store, "sources", "--json")
    assert holder.wait(timeout=60) == 0
    assert done.returncode == 0, done.stderr
    assert "waiting for the store: a command-line resolve (process" in done.stderr
    assert [s["source"] for s in json.loads(done.stdout)] == ["held"]  # it ran after the holder committed


def test_a_command_that_waits_too_long_stops_with_one_line(store, tmp_path):
    holder = hold(store, tmp_path, 20)
    try:
        done = cli(store, "--wait", "0.5", "sources")
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("error: The store ") and "is busy: a command-line resolve (process" in lines[-1]
    assert "Traceback" not in done.stderr


def test_a_dead_holders_note_is_ignored(store):
    Path(f"{store}{storage.HOLDER_SUFFIX}").write_text(json.dumps(
        {"pid": 2 ** 22 + 12345, "activity": "resolve", "started": "2026-01-01T10:02:00"}))
    assert read_holder(store) is None


def test_the_app_says_which_command_holds_the_store(store, tmp_path, monkeypatch):
    monkeypatch.setenv("STEWARD_DB", str(store))
    monkeypatch.setenv("STEWARD_STORE_WAIT", "1")
    holder = hold(store, tmp_path, 30)
    try:
        at = app_test(lang="zh").run()
    finally:
        holder.kill()
        holder.wait()
    assert not at.exception
    shown = [w.value for w in at.warning] + [e.value for e in at.error]
    assert len(shown) == 1 and shown[0].startswith("系统忙：定时任务「OneID 识别」正在运行（开始于"), shown


def test_two_processes_writing_in_turn_lose_nothing(store, tmp_path):
    holder = hold(store, tmp_path, 2, activity="ingest")
    added = cli(store, "users", "add", "night_shift", "--role", "analyst")  # a write: it waits its turn
    assert holder.wait(timeout=60) == 0 and added.returncode == 0, added.stderr
    with duckdb.connect(str(store)) as con:
        assert con.execute("SELECT source FROM sources").fetchall() == [("held",)]
        assert con.execute("SELECT count(*) FROM users WHERE username = 'night_shift'").fetchone() == (1,)


def test_a_longer_hold_gives_way_to_a_process_waiting_for_the_file(store):
    db = open_database(store)
    db.hold_seconds = 30.0  # as a process serving the API holds it
    try:
        with db.cursor() as cur:
            cur.execute("SELECT 1")
        assert db.is_open
        started = time.monotonic()
        done = cli(store, "sources")
        waited = time.monotonic() - started
        assert done.returncode == 0, done.stderr
        assert waited < 15, waited  # it gets the file within a few idle checks, not after 30 s
        assert not list(store.parent.glob(f"{store.name}{storage.WAITING}*"))  # the waiter cleaned up
    finally:
        db.close()

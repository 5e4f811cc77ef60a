"""Run the real CLI in a subprocess, stop it at a named kill point (governance/store/chaos.py), kill
it there, and read the store afterwards through a fresh connection."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from governance.store.chaos import MARKER_ENV, PAUSE_ENV

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "tests" / "fixtures" / "oneid_model.json"
PATIENCE_SECONDS = 120  # to reach a kill point, or to finish a command, on a busy CI machine


def _command(db: Path, args: tuple[str, ...]) -> list[str]:
    return [sys.executable, "-m", "governance", "--db", str(db), *args]


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **(extra or {})}


def run_cli(db: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run a command to its end."""
    return subprocess.run(_command(db, args), cwd=ROOT, capture_output=True, text=True, timeout=PATIENCE_SECONDS,
                          env=_env(env))


def stop_at(point: str, db: Path, *args: str, env: dict[str, str] | None = None,
            sig: int = signal.SIGKILL) -> subprocess.Popen:
    """Run a command until it reaches the kill point `point`, send it `sig` there and wait for its end."""
    marker = db.with_name(f"{db.name}.reached-{point}")
    marker.unlink(missing_ok=True)
    proc = subprocess.Popen(_command(db, args), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env({**(env or {}), PAUSE_ENV: point, MARKER_ENV: str(marker)}))
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not marker.exists():
        if proc.poll() is not None:
            _, err = proc.communicate()
            raise AssertionError(f"the command ended (status {proc.returncode}) before {point}: {err.strip()[-800:]}")
        if time.monotonic() > deadline:
            proc.kill()
            proc.communicate()
            raise AssertionError(f"{point} not reached within {PATIENCE_SECONDS} s")
        time.sleep(0.02)
    proc.send_signal(sig)
    proc.communicate(timeout=PATIENCE_SECONDS)  # reaped: its pid is gone, as after a real crash
    return proc


def copy_store(src: Path, directory: Path) -> Path:
    """A copy of a closed store (and its write-ahead log, if any) in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    dst = directory / src.name
    shutil.copyfile(src, dst)
    if Path(f"{src}.wal").exists():
        shutil.copyfile(f"{src}.wal", f"{dst}.wal")
    return dst


def query(db: Path, sql: str, params: list | dict | None = None) -> list[tuple]:
    """Rows of one query, on a connection opened for it and closed after (a fresh reader)."""
    con = duckdb.connect(str(db))
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()

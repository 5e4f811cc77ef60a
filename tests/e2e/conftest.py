"""Real-browser fixtures: `streamlit run app.py` on a free port, and Debian's Chromium via Playwright."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from helpers import PASSWORDS, ROOT

CHROMIUM = os.environ.get("STEWARD_CHROMIUM", "/usr/bin/chromium")

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_healthy(url: str, proc: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    """Wait for the server at `url` to answer its health check; fail the test with its log if it does not."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.3)
    proc.kill()
    pytest.fail("the server did not start:\n" + log.read_text())


def stop_process(proc: subprocess.Popen) -> None:
    """Terminate a server the test started, killing it if it does not stop within 15 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def seed_users(db_path: Path):
    """A fresh store with one user per role; returns it open (close it before serving)."""
    from governance.access import auth
    from governance.store.storage import open_database

    db = open_database(db_path)
    for role, password in PASSWORDS.items():
        auth.create_user(db, "test", role, password, role)
    return db


@contextmanager
def serve(db_path: Path, tmp_path: Path):
    """`streamlit run app.py` on a free port over `db_path` (which no other process may hold open)."""
    port = _free_port()
    env = {**os.environ, "STEWARD_DB": str(db_path)}  # the test process's secrets: one audit key for the chain
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "serve.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_until_healthy(url, proc, tmp_path / "server.log")

    def stop() -> None:
        """Stop the server (it holds the DuckDB file) so the test can open the store."""
        stop_process(proc)

    try:
        yield {"url": url, "db_path": db_path, "stop": stop}
    finally:
        stop()
        log.close()


@contextmanager
def generated_server(tmp_path: Path, customers: int, seed: int, look=None):
    """A store with one user per role and a generated, resolved workspace, served. `look(cur)` reads
    what a test needs before the server takes the store; its dict joins the server's."""
    from helpers import load_generated

    db_path = tmp_path / "e2e.duckdb"
    db = seed_users(db_path)
    load_generated(db, tmp_path / "d", customers, seed=seed)
    with db.cursor() as cur:
        found = look(cur) if look else {}
    db.close()
    with serve(db_path, tmp_path) as server:
        yield server | found


@pytest.fixture
def app_server(tmp_path):
    """A fresh store with one user per role, served by a real Streamlit process."""
    db_path = tmp_path / "e2e.duckdb"
    seed_users(db_path).close()
    with serve(db_path, tmp_path) as server:
        yield server


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium and fonts-noto-cjk (make browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


def _pages_seen(browser) -> str:
    """Each open page's address and the messages it shows (success, warning, error), for a failure report."""
    lines = []
    for context in browser.contexts:
        for page in context.pages:
            try:
                alerts = page.locator("[data-testid='stAlert']").all_inner_texts()
            except Exception as exc:  # a page that no longer answers says so
                alerts = [f"(unreadable: {type(exc).__name__})"]
            lines.append(f"{page.url}: " + (" | ".join(a.strip() for a in alerts) or "no messages"))
    return "\n".join(lines)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing browser test reports what its pages showed and the end of the server's log, which
    a browser snapshot cut short by CI does not."""
    report = yield
    if report.when == "call" and report.failed:
        if "browser" in item.funcargs:
            report.sections.append(("pages at the failure", _pages_seen(item.funcargs["browser"])))
        log = item.funcargs.get("tmp_path") and item.funcargs["tmp_path"] / "server.log"
        if log and log.exists():
            report.sections.append(("server log (end)", "\n".join(log.read_text(errors="replace").splitlines()[-40:])))
    return report

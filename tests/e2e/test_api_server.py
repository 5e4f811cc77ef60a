"""The real server of `python -m governance serve`: the read API over HTTP on the pages' port, with a key
made on the command line, while a browser session uses the pages; the calls are audited."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import _free_port, seed_users, stop_process, wait_until_healthy

from governance import pipeline
from governance.access import masking
from governance.privacy import consent
from helpers import ROOT, load_generated
from streamlit_browser import open_page, sign_in, wait_idle

pytestmark = pytest.mark.browser


def cli(db_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "governance", "--db", str(db_path), *args], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300)


def call(url: str, key: str | None = None, body: dict | None = None) -> tuple[int, dict, dict]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read().decode("utf-8"))


@pytest.fixture
def served(tmp_path):
    db_path = tmp_path / "api.duckdb"
    db = seed_users(db_path)
    load_generated(db, tmp_path / "d", 60, seed=11)
    pipeline.refresh_golden(db, "test", "golden")
    with db.cursor() as cur:  # a mobile of one adult only, and how an analyst sees that person's golden mobile
        mobile, oneid, golden = cur.execute(
            "SELECT s.mobile, any_value(c.oneid), any_value(g.mobile) FROM crosswalk c "
            "JOIN std_records s USING (batch_id, row_number) JOIN golden_records g ON g.oneid = c.oneid "
            "WHERE s.mobile_status = 'valid' AND NOT coalesce(g.is_minor, false) AND g.mobile IS NOT NULL "
            "GROUP BY s.mobile HAVING count(DISTINCT c.oneid) = 1 ORDER BY 1 LIMIT 1").fetchone()
        masked = masking.mask_value("mobile", golden, "analyst", masking.load_policy(cur))
    consent.grant(db, "admin", oneid, "marketing", method="written")  # the key below reads for marketing
    db.close()
    made = cli(db_path, "apikeys", "add", "mini-program", "--role", "analyst", "--scopes", "tags:read,customers:read",
               "--json", "--actor", "admin")
    assert made.returncode == 0, made.stderr
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "governance", "--db", str(db_path), "serve", "--port", str(port),
                             "--address", "127.0.0.1"], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_until_healthy(url, proc, tmp_path / "server.log")
    try:
        yield {"url": url, "db_path": db_path, "key": json.loads(made.stdout)["key"], "mobile": mobile,
               "oneid": oneid, "masked": masked, "proc": proc}
    finally:
        stop_process(proc)
        log.close()


def test_the_api_answers_over_http_beside_a_browser_session(served, browser):
    page = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000}).new_page()
    sign_in(page, served["url"], "analyst")
    open_page(page, "客户 360")

    api = served["url"] + "/api/v1"
    status, headers, body = call(api + "/tags")
    assert status == 401 and headers["www-authenticate"].startswith("Bearer")
    status, headers, body = call(api + "/tags", served["key"])
    assert status == 200 and "charset=utf-8" in headers["content-type"]
    assert "lifecycle_stage" in {t["code"] for t in body["tags"]}
    status, _, found = call(api + "/lookup", served["key"], {"mobile": served["mobile"]})
    assert status == 200 and found["oneid"] == served["oneid"]
    status, _, person = call(f"{api}/customers/{found['oneid']}", served["key"])
    assert status == 200 and person["fields"]["mobile"] == served["masked"] and "****" in served["masked"]
    assert call(api + "/openapi.json")[0] == 200

    open_page(page, "数据源")  # the pages keep working on the same store
    wait_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0

    served["proc"].terminate()
    served["proc"].wait(timeout=15)
    listed = cli(served["db_path"], "apikeys", "list", "--json")
    assert json.loads(listed.stdout)[0]["last_used_at"] is not None
    verified = cli(served["db_path"], "audit", "verify")  # the API's audit rows join one intact chain
    assert verified.returncode == 0, verified.stdout + verified.stderr

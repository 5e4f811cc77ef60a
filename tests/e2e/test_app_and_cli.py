"""In Chromium against `streamlit run`, with a steward's session open: the CLI ingests a file, records
a review decision and lists sources on the same store, and the open session sees the new source."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import seed_users, serve
from playwright.sync_api import expect

from helpers import ROOT, load_generated
from streamlit_browser import open_page, screenshot, sign_in, wait_idle

pytestmark = pytest.mark.browser

NEW_ROWS = [("13800138000", "陈晓明", "上海市"), ("13900139001", "林婉清", "杭州市"), ("15000150002", "赵子龙", "成都市")]


@pytest.fixture
def shared_server(tmp_path):
    from governance.oneid import review

    db_path = tmp_path / "shared.duckdb"
    db = seed_users(db_path)
    load_generated(db, tmp_path / "d", 200, seed=5)
    with db.cursor() as cur:
        pair = review.queue(cur, limit=1)[["rec_l", "rec_r"]].values.tolist()[0]
        before = dict(cur.execute("SELECT source, count(*) FROM std_records GROUP BY source").fetchall())
    db.close()
    with serve(db_path, tmp_path) as server:
        yield server | {"pair": pair, "before": before}


def cli(server, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "governance", "--db", str(server["db_path"]), *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)


def test_cli_works_on_the_store_while_a_browser_session_is_open(shared_server, browser, tmp_path):
    from governance.oneid.links import split_rec_id

    page = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000}).new_page()
    sign_in(page, shared_server["url"], "steward")
    open_page(page, "OneID 审核")

    new_file = tmp_path / "night_batch.csv"
    new_file.write_text("手机号,姓名,城市\n" + "".join(f"{m},{n},{c}\n" for m, n, c in NEW_ROWS), encoding="utf-8")
    left, right = (":".join(map(str, split_rec_id(int(r)))) for r in shared_server["pair"])
    ingest = cli(shared_server, "ingest", str(new_file), "--channel", "crm", "--actor", "scheduler")
    decide = cli(shared_server, "review", "approve", left, right, "--actor", "scheduler")
    listed = cli(shared_server, "sources", "--json")
    for done in (ingest, decide, listed):
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
    assert "night_batch" in [s["source"] for s in json.loads(listed.stdout)]

    open_page(page, "数据源")  # the open session reads what the CLI wrote, without a restart
    expect(page.locator("td[data-testid^=glide-cell]", has_text="night_batch").first).to_be_attached(timeout=20_000)
    open_page(page, "OneID 审核")
    wait_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "app_and_cli")
    shared_server["stop"]()

    from governance.store.storage import open_database
    db = open_database(shared_server["db_path"])
    try:
        with db.cursor() as cur:
            counts = dict(cur.execute("SELECT source, count(*) FROM std_records GROUP BY source").fetchall())
            decisions = cur.execute("SELECT decision, actor FROM review_decisions").fetchall()
    finally:
        db.close()
    assert counts == {**shared_server["before"], "night_batch": len(NEW_ROWS)}  # nothing lost, nothing doubled
    assert decisions == [("approve", "scheduler")]
    verified = cli(shared_server, "audit", "verify")  # the app's and the CLI's audit rows form one intact chain
    assert verified.returncode == 0 and verified.stdout.startswith("Audit chain intact"), verified.stdout + verified.stderr

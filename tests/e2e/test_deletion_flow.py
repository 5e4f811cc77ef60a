"""In Chromium against `streamlit run`: a deletion request from the inbox to done — log it, verify
the requester's identity, confirm and erase — and the person is gone from the store."""
from __future__ import annotations

import pytest
from conftest import seed_users, serve
from playwright.sync_api import expect

from helpers import load_generated
from streamlit_browser import open_page, screenshot, sign_in, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture
def dsr_server(tmp_path):
    from governance.golden import survivorship

    db_path = tmp_path / "dsr.duckdb"
    db = seed_users(db_path)
    load_generated(db, tmp_path / "d", 200, seed=31)
    survivorship.build_golden(db)
    with db.cursor() as cur:
        oneid, n = cur.execute("SELECT oneid, count(*) FROM crosswalk GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1").fetchone()
    db.close()
    with serve(db_path, tmp_path) as server:
        yield server | {"oneid": oneid, "records": n}


def test_deletion_request_from_inbox_to_done(dsr_server, browser):
    oneid = dsr_server["oneid"]
    page = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1200}).new_page()
    sign_in(page, dsr_server["url"], "steward")
    open_page(page, "个人信息权利请求")
    expect(page.get_by_text("还没有请求。")).to_be_visible(timeout=20_000)
    page.get_by_text("登记新请求").click()
    expect(page.locator(".st-key-dsr_new_type")).to_be_visible()
    page.wait_for_timeout(500)  # the expander opens with an animation: a click during it misses the box
    page.locator(".st-key-dsr_new_type").click()
    page.get_by_role("option", name="删除").click()
    page.locator(".st-key-dsr_new_requester input").fill("申请人本人")
    page.locator(".st-key-dsr_new_oneid input").fill(oneid)
    page.get_by_role("button", name="登记", exact=True).click()
    wait_idle(page)
    expect(page.get_by_text("已登记请求 #1")).to_be_visible(timeout=20_000)
    page.locator(".st-key-dsr_identity input").fill("柜台核对身份证")
    page.locator(".st-key-dsr_identity input").press("Enter")
    wait_idle(page)
    page.locator(".st-key-dsr_verify button").click()
    wait_idle(page)
    page.get_by_text("我确认删除此人的全部数据").click()
    wait_idle(page)
    page.locator(".st-key-dsr_delete button").click()
    wait_idle(page, timeout=60_000)
    expect(page.get_by_text(f"已删除 {dsr_server['records']} 条源记录")).to_be_visible(timeout=30_000)
    screenshot(page, "dsr-deletion")
    dsr_server["stop"]()

    from governance.privacy import dsr
    from governance.store.storage import open_database
    db = open_database(dsr_server["db_path"])
    with db.cursor() as cur:
        req = dsr.get(cur, 1)
        assert (req.status, req.request_type, req.oneids, req.requester) == ("done", "deletion", [oneid], dsr.ERASED)
        assert cur.execute("SELECT count(*) FROM crosswalk WHERE oneid = ?", [oneid]).fetchone()[0] == 0
        assert cur.execute("SELECT count(*) FROM golden_records WHERE oneid = ?", [oneid]).fetchone()[0] == 0
        assert cur.execute("SELECT count(*) FROM dsr_tombstones").fetchone()[0] == 1
        assert [r[0] for r in cur.execute("SELECT actor FROM audit_log WHERE action IN ('dsr.create', 'dsr.verify', "
                                          "'dsr.delete') ORDER BY id").fetchall()] == ["steward"] * 3
    db.close()

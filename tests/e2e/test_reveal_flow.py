"""In Chromium against `streamlit run`: a steward reveals a batch's raw rows only after stating a
reason, and the reveal is audited with that reason; an admin changes a masking rule."""
from __future__ import annotations

import json

import pytest
from conftest import seed_users, serve
from playwright.sync_api import expect

from governance.sources import ingest
from streamlit_browser import open_page, screenshot, sign_in, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path):
    db_path = tmp_path / "reveal.duckdb"
    db = seed_users(db_path)
    path = tmp_path / "crm.csv"
    path.write_text("会员卡号,姓名,手机号\nM1,张伟,13912345678\nM2,欧阳娜娜,13812345678\n", encoding="utf-8")
    ingest.ingest_file(db, path, actor="steward", channel="crm")
    db.close()
    with serve(db_path, tmp_path) as running:
        yield running


def signed_in_page(browser, url: str, username: str):
    page = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000}).new_page()
    sign_in(page, url, username)
    return page


def test_reveal_needs_a_reason_and_is_audited_and_admin_edits_a_rule(server, browser):
    page = signed_in_page(browser, server["url"], "steward")
    open_page(page, "数据源")
    page.get_by_text("显示未脱敏数据（需填写理由，将记录审计）").click()
    wait_idle(page)
    expect(page.get_by_text("请填写理由后再显示未脱敏数据。")).to_be_visible(timeout=20_000)
    page.get_by_label("查看未脱敏数据的理由").fill("核对客户来电")
    page.get_by_label("查看未脱敏数据的理由").press("Enter")
    wait_idle(page)
    expect(page.get_by_text("请填写理由后再显示未脱敏数据。")).to_have_count(0)
    screenshot(page, "reveal")

    admin = signed_in_page(browser, server["url"], "admin")
    open_page(admin, "脱敏策略")
    admin.get_by_text("隐藏", exact=True).click()  # name × admin (the first class and role) → hidden
    wait_idle(admin)
    expect(admin.get_by_text("示例：***")).to_be_visible(timeout=20_000)
    admin.locator(".st-key-masking_save button").click()
    wait_idle(admin)
    expect(admin.get_by_text("已保存，并记入审计日志。")).to_be_visible(timeout=20_000)
    server["stop"]()

    from governance.store.storage import open_database
    db = open_database(server["db_path"])
    with db.cursor() as cur:
        reveals = cur.execute("SELECT actor, object_type, detail FROM audit_log WHERE action = 'pii.reveal'").fetchall()
        changes = cur.execute("SELECT actor, object_id FROM audit_log WHERE action = 'masking.policy_change'").fetchall()
        method = cur.execute("SELECT method FROM masking_policies WHERE sensitivity_class = 'name' AND role = 'admin'"
                             ).fetchone()[0]
    db.close()
    assert len(reveals) == 1 and reveals[0][:2] == ("steward", "batch")
    assert json.loads(reveals[0][2])["reason"] == "核对客户来电"
    assert changes == [("admin", "name:admin")] and method == "hidden"

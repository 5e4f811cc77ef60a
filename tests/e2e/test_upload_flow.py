"""In Chromium against `streamlit run`: sign in, upload a GBK CSV, confirm the mapping, see the
source listed, sign out, and find that the old cookie no longer opens a session."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from streamlit_browser import open_page, screenshot, sign_in, wait_for_session_cookie, wait_idle

pytestmark = pytest.mark.browser

GBK_CSV = "门店会员消费明细\n\n会员卡号,姓名,手机,性别,生日\nP001,王芳,13512345678,女,1990/1/2\nP002,李娜,13612345678,女,19880305\n"


def test_sign_in_upload_gbk_map_list_and_sign_out(app_server, browser, tmp_path):
    url = app_server["url"]
    csv_path = tmp_path / "门店会员.csv"
    csv_path.write_bytes(GBK_CSV.encode("gbk"))
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    page = context.new_page()

    sign_in(page, url, "steward")
    expect(page.get_by_role("heading", name="首页")).to_be_visible(timeout=20_000)

    open_page(page, "上传与映射")
    page.get_by_label("数据源名称").fill("门店POS导出")
    page.get_by_label("数据源名称").press("Enter")
    wait_idle(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(csv_path))
    wait_idle(page)
    expect(page.get_by_text("编码 gb18030")).to_be_visible(timeout=20_000)
    screenshot(page, "upload-mapping")
    page.get_by_role("button", name="确认映射并加载").click()
    wait_idle(page)
    expect(page.get_by_text("已加载批次 1：2 行，5 列")).to_be_visible(timeout=20_000)

    open_page(page, "数据源")
    expect(page.get_by_role("heading", name="数据源目录")).to_be_visible()
    expect(page.get_by_role("combobox", name="选择数据源")).to_have_value("门店POS导出")
    screenshot(page, "sources")
    cookies = [c for c in context.cookies() if c["name"] == "steward_session"]
    assert len(cookies) == 1 and cookies[0]["httpOnly"] and cookies[0]["sameSite"] == "Strict"
    assert "steward_session" not in page.evaluate("document.cookie")  # no script in the page can read it

    page.get_by_role("button", name="退出登录").click()
    wait_idle(page)
    expect(page.get_by_label("用户名")).to_be_visible(timeout=20_000)

    # A copy of the cookie taken before signing out opens nothing afterwards.
    replay = browser.new_context(locale="zh-CN")
    replay.add_cookies(cookies)
    other = replay.new_page()
    other.goto(url)
    wait_idle(other)
    expect(other.get_by_label("用户名")).to_be_visible(timeout=20_000)
    expect(other.get_by_role("heading", name="首页")).to_have_count(0)
    replay.close()
    context.close()

    from governance.store.storage import open_database
    app_server["stop"]()
    db = open_database(app_server["db_path"])
    with db.cursor() as cur:
        assert cur.execute("SELECT source, channel, encoding, row_count FROM batches").fetchall() == [
            ("门店POS导出", "wechat_mp", "gb18030", 2)]
        actions = [r[0] for r in cur.execute("SELECT action FROM audit_log ORDER BY id").fetchall()]
    db.close()
    assert {"login.success", "ingest.batch", "mapping.change", "logout"} <= set(actions)


def test_cookie_keeps_the_session_across_reload(app_server, browser):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    sign_in(page, app_server["url"], "analyst")
    expect(page.get_by_role("heading", name="首页")).to_be_visible(timeout=20_000)
    wait_for_session_cookie(page)
    page.reload()
    wait_idle(page)
    expect(page.get_by_role("heading", name="首页")).to_be_visible(timeout=20_000)
    other_tab = context.new_page()  # a new tab of the same browser is signed in too
    other_tab.goto(app_server["url"])
    wait_idle(other_tab)
    expect(other_tab.get_by_role("heading", name="首页")).to_be_visible(timeout=20_000)
    context.close()


def test_direct_url_to_an_admin_page_on_a_fresh_server(app_server, browser):
    """The very first request of a fresh server goes straight to a pages/ URL: the guard stops it."""
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(app_server["url"] + "/users")
    wait_idle(page)
    expect(page.get_by_text("请先登录。").or_(page.get_by_label("用户名"))).to_be_visible(timeout=20_000)
    expect(page.get_by_role("heading", name="用户管理")).to_have_count(0)
    screenshot(page, "direct-admin-url")
    context.close()

"""In Chromium against a freshly started `streamlit run`: the very first, anonymous session sees the
sign-in form and no page list (Streamlit's own menu would list every file of pages/ before any session
has run app.py); once signed in, the sidebar lists the role's pages only."""
from __future__ import annotations

import pytest

from streamlit_browser import sign_in, wait_idle

pytestmark = pytest.mark.browser


def test_no_page_list_for_the_first_anonymous_session_of_a_fresh_server(app_server, browser):
    page = browser.new_context(locale="zh-CN").new_page()
    page.goto(app_server["url"] + "/audit")  # the first request of this server, straight to an admin page
    wait_idle(page)
    assert page.locator("[data-testid='stSidebarNav']").count() == 0
    assert page.locator("[data-testid='stSidebar'] a").count() == 0
    assert page.get_by_text("审计日志").count() == 0
    sign_in(page, app_server["url"], "analyst")
    links = page.locator("[data-testid='stSidebar'] a").all_inner_texts()
    assert "首页" in links and "审计日志" not in links and "用户管理" not in links

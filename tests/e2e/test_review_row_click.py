"""In Chromium against `streamlit run`: a click on a row of the review queue opens that pair; after
Skip no row stays highlighted for a pair the page no longer shows, so clicking the same row again
opens it again (before, the stale highlight made that click a deselect and nothing opened)."""
from __future__ import annotations

import pytest
from conftest import generated_server
from playwright.sync_api import expect

from streamlit_browser import open_page, screenshot, sign_in, wait_idle

pytestmark = pytest.mark.browser

HEADER, ROW = 35, 35  # st.dataframe's header and row heights (px) at the default theme


@pytest.fixture
def review_server(tmp_path):
    from governance.oneid import review

    def records(cur) -> dict:
        page = review.queue(cur, limit=50)
        return {"records": list(zip(page["record_l"], page["record_r"]))}

    with generated_server(tmp_path, 400, 21, records) as server:
        yield server


def click_row(page, row: int) -> None:
    """Click the row marker (the selection box left of the first column) of the queue table's `row`."""
    grid = page.locator("[class*='st-key-queue_table']").first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 12, box["y"] + HEADER + row * ROW + ROW / 2)
    wait_idle(page)


def shows(page, records: tuple[str, str]):
    return expect(page.get_by_text(f"记录 {records[0]} ↔ {records[1]}（批次:行号）"))


def test_a_row_click_opens_its_pair_and_skip_leaves_no_stale_highlight(review_server, browser):
    records = review_server["records"]
    page = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000}).new_page()
    sign_in(page, review_server["url"], "steward")
    open_page(page, "OneID 审核")
    shows(page, records[0]).to_be_visible(timeout=20_000)

    click_row(page, 2)
    shows(page, records[2]).to_be_visible(timeout=20_000)
    screenshot(page, "review-row-click")

    page.get_by_role("button", name="跳过").click()
    wait_idle(page)
    shows(page, records[3]).to_be_visible(timeout=20_000)

    click_row(page, 2)  # the same row again: a fresh selection, not a deselect
    shows(page, records[2]).to_be_visible(timeout=20_000)

"""In Chromium against `streamlit run`: approve one pair (click) and reject another (keyboard), and
see the OneIDs change once the background job has applied the decisions, with no manual re-run."""
from __future__ import annotations

import pytest
from conftest import generated_server
from playwright.sync_api import expect

from streamlit_browser import open_page, screenshot, sign_in, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture
def review_server(tmp_path):
    from governance.oneid import review

    def first_two(cur) -> dict:
        return {"pairs": review.queue(cur, limit=2)[["rec_l", "rec_r", "oneid_l", "oneid_r"]].values.tolist()}

    with generated_server(tmp_path, 400, 21, first_two) as server:
        yield server


def oneid_of(cur, rid: int) -> str:
    return cur.execute("SELECT oneid FROM crosswalk WHERE rec_id = ?", [rid]).fetchone()[0]


def test_approve_reject_and_see_oneids_change(review_server, browser):
    (a_l, a_r, a_oid_l, a_oid_r), (b_l, b_r, _, _) = review_server["pairs"]
    assert a_oid_l != a_oid_r
    page = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000}).new_page()
    sign_in(page, review_server["url"], "steward")
    open_page(page, "OneID 审核")
    expect(page.get_by_role("heading", name="为什么").first).to_be_visible(timeout=20_000)
    page.get_by_role("button", name="同一人 ✓").click()
    wait_idle(page)
    expect(page.get_by_text("快捷键：Y 同一人")).to_be_visible()
    page.evaluate("document.activeElement && document.activeElement.blur()")   # not typing in a box
    page.keyboard.press("n")                                 # reject by keyboard
    wait_idle(page)
    # The decisions apply by themselves: a background job re-resolves, and the waiting note goes away.
    expect(page.get_by_text("等待应用到 OneID")).to_have_count(0, timeout=120_000)
    screenshot(page, "review")
    review_server["stop"]()

    from governance.store.storage import open_database
    db = open_database(review_server["db_path"])
    with db.cursor() as cur:
        decisions = cur.execute("SELECT decision, actor FROM review_decisions ORDER BY decision_id").fetchall()
        assert decisions == [("approve", "steward"), ("reject", "steward")]
        assert oneid_of(cur, a_l) == oneid_of(cur, a_r)       # approved: one customer now
        assert oneid_of(cur, b_l) != oneid_of(cur, b_r)       # rejected: kept apart
        assert cur.execute("SELECT count(*) FROM oneid_history WHERE event IN ('merge', 'retire')").fetchone()[0] >= 2
    db.close()

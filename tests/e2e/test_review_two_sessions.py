"""In Chromium against `streamlit run`: two stewards on the Review page see the same pair; the first
approves it, the second then rejects the pair it still shows. The first decision stands, the second
steward is told so and sees the next pair, and every decision lands on a pair its steward saw."""
from __future__ import annotations

import re

import pytest
from conftest import seed_users, serve
from playwright.sync_api import expect

from helpers import PASSWORDS, load_generated
from streamlit_browser import open_page, screenshot, sign_in, wait_idle

pytestmark = pytest.mark.browser

PAIR = re.compile(r"(\d+):(\d+) ↔ (\d+):(\d+)")


@pytest.fixture
def two_stewards(tmp_path, monkeypatch):
    from governance.access import auth

    db_path = tmp_path / "review.duckdb"
    db = seed_users(db_path)
    monkeypatch.setitem(PASSWORDS, "steward2", "steward2-pass-123")  # after seed_users, which makes one user per entry
    auth.create_user(db, "test", "steward2", PASSWORDS["steward2"], "steward")
    load_generated(db, tmp_path / "d", 400, seed=21)
    db.close()
    with serve(db_path, tmp_path) as server:
        yield server


def shown_pair(page) -> tuple[int, int]:
    """The pair the page's picker shows, as record ids."""
    found = PAIR.search(page.get_by_text(re.compile(r"^记录 \d+:\d+ ↔ \d+:\d+")).first.inner_text())
    assert found, "the picker shows no pair"
    batch_l, row_l, batch_r, row_r = map(int, found.groups())
    return batch_l * 4294967296 + row_l, batch_r * 4294967296 + row_r


def review_page(browser, url: str, username: str):
    page = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000}).new_page()
    sign_in(page, url, username)
    open_page(page, "OneID 审核")
    expect(page.get_by_role("heading", name="为什么").first).to_be_visible(timeout=20_000)
    return page


def click(page, name: str) -> None:
    page.get_by_role("button", name=name).click()
    wait_idle(page)


def test_the_second_click_on_a_decided_pair_is_refused_and_moves_on(two_stewards, browser):
    first, second = (review_page(browser, two_stewards["url"], user) for user in ("steward", "steward2"))
    pair = shown_pair(first)
    assert shown_pair(second) == pair

    click(first, "同一人 ✓")
    expect(first.get_by_text("已记录：同一人 ✓。")).to_be_visible()
    click(second, "不是同一人 ✗")                                  # on the pair it still shows
    expect(second.get_by_text("steward 已经审核过这对记录（同一人）；这是下一对。")).to_be_visible()
    following = shown_pair(second)
    assert following != pair
    click(second, "不是同一人 ✗")
    expect(second.get_by_text("已记录：不是同一人 ✗。")).to_be_visible()
    screenshot(second, "review_two_sessions")
    two_stewards["stop"]()

    from governance.store.storage import open_database
    db = open_database(two_stewards["db_path"])
    with db.cursor() as cur:
        decisions = cur.execute("SELECT least(rec_l, rec_r), greatest(rec_l, rec_r), decision, actor "
                                "FROM review_decisions ORDER BY decision_id").fetchall()
    db.close()
    assert decisions == [(*pair, "approve", "steward"), (*following, "reject", "steward2")]

"""In Chromium against `streamlit run`: a steward builds a boolean tag with the rule builder (spend in
the last 365 days at least 500), saves and submits it; an admin signs in and approves it; "compute
now" runs in the background and the tag's coverage and values appear."""
from __future__ import annotations

import pytest
from conftest import seed_users, serve
from playwright.sync_api import expect

from streamlit_browser import open_page, screenshot, sign_in, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture
def tags_server(tmp_path):
    from governance.golden import survivorship
    from governance.tags import library
    from helpers import load_generated

    db_path = tmp_path / "e2e.duckdb"
    db = seed_users(db_path)
    load_generated(db, tmp_path / "d", 150, seed=17)
    survivorship.build_golden(db)
    with db.transaction() as cur:
        library.ensure_builtins(cur)
    db.close()
    with serve(db_path, tmp_path) as server:
        yield server


def choose(page, key: str, option: str) -> None:
    """Pick `option` in the selectbox with widget key `key`."""
    page.locator(f".st-key-{key}").click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def fill(page, key: str, text: str) -> None:
    box = page.locator(f".st-key-{key} input, .st-key-{key} textarea").first
    box.fill(text)
    box.press("Tab")


def test_build_submit_approve_compute(tags_server, browser):
    url = tags_server["url"]
    steward = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1400}).new_page()
    sign_in(steward, url, "steward")
    open_page(steward, "标签")
    steward.get_by_role("tab", name="新建与修改").click()
    choose(steward, "tagform_new_type", "是/否")
    choose(steward, "tagform_new_when_0_kind", "消费行为")
    choose(steward, "tagform_new_when_0_subject", "消费金额")
    expect(steward.locator(".st-key-tagform_new_when_0_days input")).to_have_value("365")
    choose(steward, "tagform_new_when_0_op", "大于等于")
    fill(steward, "tagform_new_when_0_number", "500")
    wait_idle(steward)
    expect(steward.get_by_text("近 365 天消费金额大于等于 500", exact=False)).to_be_visible(timeout=20_000)
    fill(steward, "tagform_new_code", "spend_500")
    fill(steward, "tagform_new_name_zh", "年消费五百以上")
    fill(steward, "tagform_new_name_en", "Spend 500 plus")
    choose(steward, "tagform_new_category", "价值")
    fill(steward, "tagform_new_reason", "会员日活动圈选")
    steward.get_by_role("button", name="保存为草稿").click()
    wait_idle(steward)
    expect(steward.get_by_text("已保存：年消费五百以上 版本 1（草稿）", exact=False)).to_be_visible(timeout=20_000)

    steward.get_by_role("tab", name="标签库").click()
    choose(steward, "tags_pick", "年消费五百以上")
    steward.locator(".st-key-tags_submit_spend_500_1 button").click()
    wait_idle(steward)
    expect(steward.get_by_text("已提交审核：年消费五百以上。")).to_be_visible(timeout=20_000)
    expect(steward.get_by_text("这个版本由你编写", exact=False)).to_be_visible()  # four eyes: no approve for the author
    expect(steward.locator(".st-key-tags_approve_spend_500_1")).to_have_count(0)
    screenshot(steward, "tags-submitted")

    admin = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1400}).new_page()
    sign_in(admin, url, "admin")
    open_page(admin, "标签")
    choose(admin, "tags_pick", "年消费五百以上")
    fill(admin, "tags_review_comment_spend_500_1", "门槛合理，同意发布")
    wait_idle(admin)
    admin.locator(".st-key-tags_approve_spend_500_1 button").click()
    wait_idle(admin)
    expect(admin.get_by_text("已批准并发布：年消费五百以上。")).to_be_visible(timeout=20_000)

    admin.get_by_role("tab", name="标签取值").click()
    admin.locator(".st-key-tags_compute_now button").click()
    wait_idle(admin)
    # the job runs in the background; the page shows the values once it is done
    expect(admin.get_by_text("样例（10 行，按策略脱敏）")).to_be_visible(timeout=120_000)
    coverage = admin.locator("[data-testid='stMetric']:visible").filter(has_text="覆盖率")
    expect(coverage).to_have_count(1)
    expect(coverage).to_contain_text("%")
    screenshot(admin, "tags-values")
    tags_server["stop"]()

    from governance.store.storage import open_database
    from governance.tags import library
    db = open_database(tags_server["db_path"])
    with db.cursor() as cur:
        tag = library.get(cur, "spend_500")
        assert (tag.status, tag.created_by) == ("published", "steward")
        assert tag.technical == {"when": {"event": "spend", "days": 365, "gte": 500}}
        assert cur.execute("SELECT actor FROM tag_reviews WHERE code = 'spend_500' ORDER BY review_id").fetchall() == [
            ("steward",), ("admin",)]
        values = dict(cur.execute("SELECT value, count(*) FROM tag_values WHERE tag_code = 'spend_500' "
                                  "GROUP BY value").fetchall())
        (as_of,) = cur.execute("SELECT as_of FROM tag_runs WHERE tag_code = 'spend_500'").fetchone()
        spenders = cur.execute(  # an independent count: completed spend dated as_of - 364 … as_of
            "SELECT count(*) FROM (SELECT oneid FROM customer_events WHERE completed AND event_date > ? - 365 "
            "AND event_date <= ? GROUP BY oneid HAVING sum(spend) >= 500)", [as_of, as_of]).fetchone()[0]
    db.close()
    assert values.get("true", 0) == spenders > 0

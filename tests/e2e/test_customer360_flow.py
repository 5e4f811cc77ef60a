"""In Chromium against `streamlit run`: sign in, search a customer by mobile, open the 360 view and
download the customer's records as a masked CSV."""
from __future__ import annotations

import io

import pandas as pd
import pytest
from conftest import seed_users, serve
from playwright.sync_api import expect

from helpers import ID_NUMBER, MOBILE, load_generated
from streamlit_browser import download, open_page, screenshot, sign_in, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture
def customer_server(tmp_path):
    from governance.golden import survivorship

    db_path = tmp_path / "c360.duckdb"
    db = seed_users(db_path)
    load_generated(db, tmp_path / "d", 300, seed=21)
    survivorship.refresh_golden(db)
    with db.cursor() as cur:
        oneid, mobile, records = cur.execute(
            "SELECT oneid, split_part(mobile, ' | ', 1), record_count FROM golden_records WHERE mobile IS NOT NULL "
            "AND record_count > 1 ORDER BY oneid LIMIT 1").fetchone()
    db.close()
    with serve(db_path, tmp_path) as server:
        yield server | {"oneid": oneid, "mobile": mobile, "records": records}


def test_search_open_360_and_download_masked_csv(customer_server, browser, tmp_path):
    oneid, mobile = customer_server["oneid"], customer_server["mobile"]
    page = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000},
                               accept_downloads=True).new_page()
    sign_in(page, customer_server["url"], "analyst")
    open_page(page, "客户 360")
    query = page.get_by_label("OneID、手机号、邮箱、姓名（汉字或拼音）或渠道 ID")
    query.fill(mobile)
    query.press("Enter")
    wait_idle(page)
    expect(page.get_by_text("找到 1 个 OneID")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("heading", name=oneid)).to_be_visible(timeout=30_000)
    expect(page.get_by_role("heading", name="黄金记录（每个字段的来源）")).to_be_visible()
    path = download(page, page.get_by_role("button", name="下载该客户的记录（脱敏 CSV）"), tmp_path)
    screenshot(page, "customer360")
    data = path.read_bytes()
    assert data.startswith("\ufeff".encode("utf-8"))
    text = data.decode("utf-8-sig")
    assert not MOBILE.search(text) and not ID_NUMBER.search(text)
    frame = pd.read_csv(io.StringIO(text), dtype=str)  # a file for people: headed in the UI language
    assert set(frame["OneID"]) == {oneid} and len(frame) == customer_server["records"]
    assert (mobile[:3] + "****" + mobile[-4:]) in set(frame["手机号"].dropna())

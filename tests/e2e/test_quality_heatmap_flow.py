"""In Chromium against `streamlit run`: clicking a cell of the Quality heatmap filters the failing
records below to that source and field (before, only hover worked)."""
from __future__ import annotations

import pytest
from conftest import seed_users, serve
from playwright.sync_api import expect

from governance import pipeline
from governance.sources import ingest
from streamlit_browser import open_page, screenshot, sign_in, wait_idle

pytestmark = pytest.mark.browser

# Where a heatmap cell is on screen: Plotly's own axes place the categories.
CELL_CENTRE = """(el, [field, source]) => {
    const gd = el.querySelector('.js-plotly-plot');
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    const box = gd.getBoundingClientRect();
    return {x: box.left + xa._offset + xa.d2p(field), y: box.top + ya._offset + ya.d2p(source)};
}"""


@pytest.fixture
def server(tmp_path):
    db_path = tmp_path / "quality.duckdb"
    db = seed_users(db_path)
    crm = tmp_path / "crm.csv"
    crm.write_text("会员卡号,姓名,手机号,身份证号\nM1,张伟,13912345678,110101199001011234\nM2,王芳,1391234567,\n"
                   "M3,李娜,13800138000,11010519491231002X\n", encoding="utf-8")
    ingest.ingest_file(db, crm, actor="steward", source="crm", mapping={"会员卡号": "member_card", "姓名": "name",
                                                                       "手机号": "mobile", "身份证号": "id_card"})
    shop = tmp_path / "shop.csv"
    shop.write_text("姓名,手机号\n赵六,12345\n钱七,1380013\n孙八,13712345678\n", encoding="utf-8")
    ingest.ingest_file(db, shop, actor="steward", source="shop", mapping={"姓名": "name", "手机号": "mobile"})
    pipeline.refresh_quality(db, "steward")
    db.close()
    with serve(db_path, tmp_path) as running:
        yield running


def test_clicking_a_heatmap_cell_filters_the_failing_records(server, browser):
    page = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000}).new_page()
    sign_in(page, server["url"], "steward")
    open_page(page, "数据质量")
    drill_source = page.locator(".st-key-drill_source").get_by_role("combobox")
    drill_field = page.locator(".st-key-drill_field").get_by_role("combobox")
    expect(drill_source).to_have_value("全部")                         # before: every source, the first field
    expect(drill_field).not_to_have_value("手机号")

    heatmap = page.locator(".st-key-quality_heatmap")
    heatmap.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    cell = heatmap.evaluate(CELL_CENTRE, ["mobile", "shop"])
    page.mouse.move(cell["x"], cell["y"])
    page.wait_for_timeout(300)
    page.mouse.click(cell["x"], cell["y"])
    wait_idle(page)

    expect(drill_source).to_have_value("shop", timeout=20_000)
    expect(drill_field).to_have_value("手机号")
    expect(page.get_by_text("共 2 条", exact=True)).to_be_visible()     # shop's two bad mobiles, not crm's
    screenshot(page, "quality-heatmap-click")

    cell = heatmap.evaluate(CELL_CENTRE, ["mobile", "crm"])           # another cell moves the drill-down again
    page.mouse.move(cell["x"], cell["y"])
    page.wait_for_timeout(300)
    page.mouse.click(cell["x"], cell["y"])
    wait_idle(page)
    expect(drill_source).to_have_value("crm", timeout=20_000)
    expect(drill_field).to_have_value("手机号")

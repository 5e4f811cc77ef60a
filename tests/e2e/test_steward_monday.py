"""In Chromium against `streamlit run`, a steward's Monday in one run: upload a messy export → the
pipeline runs on by itself with its progress in the sidebar → a Quality heatmap cell drills down to
the failing records → five review decisions apply with no manual re-run → Customer 360 shows the
merge → an export downloads with Chinese headers."""
from __future__ import annotations

import csv
import io

import pytest
from conftest import generated_server
from playwright.sync_api import expect
from test_quality_heatmap_flow import CELL_CENTRE

from helpers import ID_NUMBER, MOBILE
from streamlit_browser import download, open_page, screenshot, sign_in, wait_idle

pytestmark = pytest.mark.browser

SOURCE = "周末门店活动报名"
BAD_MOBILES = ["1380013", "12345", "110"]


def messy_phone(mobile: str, i: int) -> str:
    return [f"+86 {mobile[:3]}-{mobile[3:7]}-{mobile[7:]}", f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}",
            f"（+86）{mobile}", f"{mobile}\u3000"][i % 4]


@pytest.fixture
def monday(tmp_path):
    def known(cur) -> dict:
        return {"known": cur.execute("SELECT name, mobile FROM std_records WHERE name IS NOT NULL AND mobile IS NOT NULL "
                                     "ORDER BY batch_id, row_number LIMIT 8").fetchall()}

    with generated_server(tmp_path, 400, 21, known) as server:
        rows = [(name, messy_phone(mobile, i), "") for i, (name, mobile) in enumerate(server["known"])]
        rows += [(f"新客{i:02d}", f"1370000{i:04d}", "广东省 深圳市") for i in range(20)]
        rows += [(f"错号{i}", bad, "") for i, bad in enumerate(BAD_MOBILES)]
        upload = tmp_path / "活动报名.csv"
        with upload.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["客户姓名", "联系电话", "所在地区"])
            writer.writerows(rows)
        yield server | {"upload": upload}


def sidebar(page):
    return page.get_by_test_id("stSidebar")


def test_a_stewards_monday(monday, browser, tmp_path):
    from governance.quality import drill
    from governance.store.storage import open_database

    page = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000},
                               accept_downloads=True).new_page()
    sign_in(page, monday["url"], "steward")

    # 1. Upload: the rest of the pipeline starts by itself, with its progress in the sidebar.
    open_page(page, "上传与映射")
    page.get_by_text("新数据源", exact=True).click()
    wait_idle(page)
    page.get_by_label("数据源名称").fill(SOURCE)
    page.get_by_label("数据源名称").press("Enter")
    wait_idle(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(monday["upload"]))
    wait_idle(page)
    page.get_by_role("button", name="确认映射并加载").click()
    wait_idle(page)
    expect(page.get_by_text("后续处理已在后台开始")).to_be_visible(timeout=30_000)
    job = sidebar(page).get_by_text("上传后处理（标准化 → 质量评估 → OneID 识别 → 黄金记录）")
    expect(job).to_be_visible(timeout=20_000)
    screenshot(page, "monday-pipeline")
    expect(sidebar(page).get_by_text("上传后处理（标准化 → 质量评估 → OneID 识别 → 黄金记录） · 已完成")).to_be_visible(
        timeout=180_000)
    db = open_database(monday["db_path"])  # the app and this test share the store, a unit of work at a time
    with db.cursor() as cur:
        linked = cur.execute(
            "SELECT count(*) FROM crosswalk WHERE source = ? AND oneid IN (SELECT oneid FROM crosswalk WHERE source <> ?)",
            [SOURCE, SOURCE]).fetchone()[0]
        failing = drill.count(cur, drill.Drill("mobile", source=SOURCE))
    db.close()
    assert failing >= len(BAD_MOBILES)
    assert linked == len(monday["known"])  # the eight known customers joined their OneIDs, messy phones and all

    # 2. Quality: a heatmap cell filters the failing records to that source and field.
    sidebar(page).get_by_role("link", name="查看结果").first.click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="数据质量", level=1)).to_be_visible(timeout=20_000)
    heatmap = page.locator(".st-key-quality_heatmap")
    heatmap.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    cell = heatmap.evaluate(CELL_CENTRE, ["mobile", SOURCE])
    page.mouse.move(cell["x"], cell["y"])
    page.wait_for_timeout(300)
    page.mouse.click(cell["x"], cell["y"])
    wait_idle(page)
    expect(page.locator(".st-key-drill_source").get_by_role("combobox")).to_have_value(SOURCE, timeout=20_000)
    expect(page.locator(".st-key-drill_field").get_by_role("combobox")).to_have_value("手机号")
    expect(page.get_by_text(f"共 {failing} 条", exact=True)).to_be_visible()
    screenshot(page, "monday-quality")

    # 3. Review: five decisions, applied in the background with no manual re-run.
    open_page(page, "OneID 审核")
    for _ in range(5):
        button = page.get_by_role("button", name="同一人 ✓")
        expect(button).to_be_enabled(timeout=20_000)
        button.click()
        wait_idle(page)
        expect(page.get_by_text("已记录：同一人 ✓")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("等待应用到 OneID")).to_have_count(0, timeout=180_000)
    screenshot(page, "monday-review")
    db = open_database(monday["db_path"])
    with db.cursor() as cur:
        pairs = cur.execute("SELECT rec_l, rec_r FROM review_decisions WHERE decision = 'approve' AND actor = 'steward' "
                            "ORDER BY decision_id").fetchall()
        assert len(pairs) == 5
        oneids = [cur.execute("SELECT count(DISTINCT oneid), any_value(oneid) FROM crosswalk WHERE rec_id IN (?, ?)",
                              list(p)).fetchone() for p in pairs]
        assert all(n == 1 for n, _ in oneids)  # each approved pair is one customer now
        merged = oneids[0][1]
        records = cur.execute("SELECT count(*) FROM crosswalk WHERE oneid = ?", [merged]).fetchone()[0]
    db.close()

    # 4. Customer 360 shows the merge.
    open_page(page, "客户 360")
    query = page.get_by_label("OneID、手机号、邮箱、姓名（汉字或拼音）或渠道 ID")
    query.fill(merged)
    query.press("Enter")
    wait_idle(page)
    expect(page.get_by_role("heading", name=merged)).to_be_visible(timeout=30_000)
    metric = page.get_by_test_id("stMetric").filter(has_text="记录数").get_by_test_id("stMetricValue")
    expect(metric).to_have_text(str(records))
    assert records >= 2
    screenshot(page, "monday-customer360")

    # 5. Export golden records: a file for people, headed in Chinese, masked.
    open_page(page, "数据导出")
    page.locator(".st-key-export_prepare button").click()
    wait_idle(page)
    download_button = page.locator(".st-key-export_download button")
    expect(download_button).to_be_visible(timeout=120_000)
    target = download(page, download_button, tmp_path)
    screenshot(page, "monday-export")
    text = target.read_bytes().decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    assert "姓名" in header and "手机号" in header and "name" not in header
    assert not MOBILE.search(text) and not ID_NUMBER.search(text)

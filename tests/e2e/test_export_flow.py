"""In Chromium against `streamlit run`: a steward prepares a masked golden-record export and downloads
the CSV, which is masked, headed in the UI language, readable by Excel (BOM) and matches its manifest."""
from __future__ import annotations

import hashlib
import json

import pytest
from conftest import seed_users, serve
from playwright.sync_api import expect

from helpers import ID_NUMBER, MOBILE, load_generated
from streamlit_browser import download, open_page, screenshot, sign_in, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture
def export_server(tmp_path):
    from governance.golden import survivorship
    from governance.privacy import consent

    db_path = tmp_path / "export.duckdb"
    db = seed_users(db_path)
    load_generated(db, tmp_path / "d", 300, seed=17)
    survivorship.build_golden(db)
    consent.import_from_sources(db, "t")
    with db.cursor() as cur:
        oneids = cur.execute("SELECT count(*) FROM golden_records").fetchone()[0]
    db.close()
    with serve(db_path, tmp_path) as server:
        yield server | {"oneids": oneids}


def test_download_a_masked_golden_csv(export_server, browser, tmp_path):
    page = browser.new_context(locale="en-US", accept_downloads=True, viewport={"width": 1400, "height": 1000}).new_page()
    sign_in(page, export_server["url"], "steward")
    open_page(page, "数据导出")
    expect(page.get_by_text(f"{export_server['oneids']:,}", exact=True)).to_be_visible(timeout=20_000)
    page.locator(".st-key-export_prepare button").click()
    wait_idle(page, timeout=60_000)
    expect(page.get_by_text("文件已生成")).to_be_visible(timeout=60_000)
    target = download(page, page.locator(".st-key-export_download button"), tmp_path)
    screenshot(page, "export")
    data = target.read_bytes()
    assert target.name.startswith("steward-golden-") and target.name.endswith("-masked.csv")
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("OneID,姓名,")  # a file for people: labels in the UI language
    assert len(text.splitlines()) == export_server["oneids"] + 1
    assert not MOBILE.search(text) and not ID_NUMBER.search(text) and "****" in text
    manifest = json.loads((export_server["db_path"].parent / "exports" / f"{target.name}.manifest.json").read_text())
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest() and manifest["actor"] == "steward"
    assert manifest["labels"] is True and manifest["language"] == "zh"

"""In Chromium against `streamlit run`: a consent entry refused with an error keeps what the steward
typed (the form used to clear on every submit); the corrected entry saves and the form starts empty."""
from __future__ import annotations

import pytest
from conftest import generated_server
from playwright.sync_api import expect

from streamlit_browser import open_page, screenshot, sign_in, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture
def consent_server(tmp_path):
    with generated_server(tmp_path, 120, 9, lambda cur: {
            "oneid": cur.execute("SELECT min(oneid) FROM crosswalk").fetchone()[0]}) as server:
        yield server


def test_a_refused_consent_entry_keeps_what_was_typed(consent_server, browser):
    page = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000}).new_page()
    sign_in(page, consent_server["url"], "steward")
    open_page(page, "同意台账")
    oneid = page.locator(".st-key-consent_form_oneid input")
    evidence = page.locator(".st-key-consent_form_evidence input")
    oneid.fill("OID-NOT-THERE")
    evidence.fill("纸质同意书 7 号")
    page.get_by_role("button", name="保存", exact=True).click()
    wait_idle(page)
    expect(page.get_by_text("OID-NOT-THERE").first).to_be_visible(timeout=20_000)  # the error names it
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(1)
    expect(oneid).to_have_value("OID-NOT-THERE")
    expect(evidence).to_have_value("纸质同意书 7 号")
    screenshot(page, "consent-form-refused")

    oneid.fill(consent_server["oneid"])
    page.get_by_role("button", name="保存", exact=True).click()
    wait_idle(page)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_have_count(1, timeout=20_000)
    expect(oneid).to_have_value("")
    expect(evidence).to_have_value("")

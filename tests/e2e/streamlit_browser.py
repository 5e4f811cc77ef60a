"""Helpers for driving Streamlit in a real browser."""
from __future__ import annotations

from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from helpers import PASSWORDS, ROOT

ARTIFACTS = ROOT / "test-results"


IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def wait_idle(page, timeout: float = 30_000, settle_ms: int = 800) -> None:
    """Wait until Streamlit is connected and no script has run for `settle_ms`: a component
    (the sign-in cookie manager) can trigger one more run shortly after a page loads."""
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=timeout)
    for _ in range(int(timeout // settle_ms)):
        page.wait_for_selector(IDLE, timeout=timeout)
        page.wait_for_timeout(settle_ms)
        if page.locator(IDLE).count():
            return


def wait_for_session_cookie(page, timeout_ms: int = 20_000) -> None:
    """Wait until the browser holds the sign-in cookie: it arrives with a 1×1 image the signed-in page
    loads (governance/ui/cookies.py), which a loaded machine may fetch after the page has drawn."""
    for _ in range(timeout_ms // 200):
        if any(c["name"] == "steward_session" for c in page.context.cookies()):
            return
        page.wait_for_timeout(200)
    raise AssertionError("the sign-in cookie never arrived")


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, url: str, username: str) -> None:
    """Open the app at `url` and sign in as `username` (one of helpers.PASSWORDS) on the Chinese form."""
    page.goto(url)
    wait_idle(page)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORDS[username])
    page.get_by_role("button", name="登录").click()
    wait_idle(page)


def open_page(page, title: str, attempts: int = 3) -> None:
    """Open a page from the sidebar by its title and wait until its heading shows. A click that
    lands while a late rerun (the sign-in cookie manager's) redraws the app can be lost: retry it."""
    for _ in range(attempts):
        page.get_by_role("link", name=title, exact=True).click()
        wait_idle(page)
        heading = page.get_by_role("heading", name=title, level=1)
        try:
            heading.wait_for(timeout=5_000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"the page {title!r} did not open after {attempts} clicks")


def download(page, button, folder: Path, attempts: int = 3, timeout_ms: int = 20_000) -> Path:
    """Click a download button (a locator) once the page is idle; the file as the browser saved it.
    A click that lands while a late rerun redraws the app can be lost, like a link's (`open_page`):
    the button is clicked again, as a user would."""
    wait_idle(page)
    for _ in range(attempts - 1):
        try:
            return _click_and_save(page, button, folder, timeout_ms)
        except PlaywrightTimeout:
            wait_idle(page)
    return _click_and_save(page, button, folder, timeout_ms)


def _click_and_save(page, button, folder: Path, timeout_ms: int) -> Path:
    with page.expect_download(timeout=timeout_ms) as info:
        button.click()
    saved = folder / info.value.suggested_filename
    info.value.save_as(saved)
    return saved

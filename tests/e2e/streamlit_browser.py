"""Helpers for driving Streamlit in a real browser."""
from __future__ import annotations

from helpers import ROOT

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


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

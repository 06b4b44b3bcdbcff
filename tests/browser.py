"""A real Chromium for the pages staff use, driven by Playwright."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, sync_playwright

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
# Flags for a closed network: no background calls home, no first-run work.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    pytest.fail(
        "The browser tests need Chromium: `make test` installs it (apt-get install chromium)."
    )


def open_page() -> Iterator[Page]:
    """A fresh page in headless Chromium. Start it after the test's database set-up: Playwright
    runs an event loop in this thread, and Django refuses ORM calls beside a running loop."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            yield page
        finally:
            browser.close()


def log_in(page: Page, *, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def click_through(page: Page, selector: str) -> None:
    """Click what submits a form or follows a link, and return once the page it leads to has
    loaded. Read right after a bare click, the old page, or the new one half parsed, can answer."""
    with page.expect_navigation():
        page.click(selector)

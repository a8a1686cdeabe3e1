"""Debian's chromium driven by Playwright (its own browser download needs the internet)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Page, sync_playwright

from tests.helpers.playbook import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / ".state" / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip


@contextmanager
def open_page(url: str) -> Iterator[Page]:
    """A 1200x900 page of headless chromium, opened at ``url``."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(url)
            yield page
        finally:
            browser.close()


def search(page: Page, words: str) -> None:
    box = page.get_by_role("searchbox", name="Search images")
    box.fill(words)
    box.press("Enter")

"""The search page through the edge in a real browser: a viewer's first visit."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.helpers.browser import ARTIFACTS, open_page, search


def test_a_viewer_searches_and_sees_thumbnails_through_the_edge(stack):
    with open_page(stack.edge + "/") as page:
        search(page, "cat")
        thumbnails = page.locator("#results img")
        expect(thumbnails.first).to_be_visible()
        page.wait_for_function(
            "() => { const images = [...document.querySelectorAll('#results img')];"
            " return images.length > 0 && images.every(i => i.complete && i.naturalWidth > 0); }"
        )
        expect(page.get_by_role("status")).to_contain_text("for “cat”")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "edge-search-cat.png"), full_page=True)

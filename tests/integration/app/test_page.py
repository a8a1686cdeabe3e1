"""The search page in a real browser (Debian's chromium driven by Playwright), served by the API's
development static route with the API behind it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.helpers.browser import ARTIFACTS, open_page, search


@pytest.fixture(scope="module")
def browser_page(api) -> Iterator[Page]:
    with open_page(f"http://127.0.0.1:{api.port}/") as page:
        yield page


def test_typing_a_query_shows_loaded_thumbnails(browser_page):
    page = browser_page
    search(page, "cat")
    thumbnails = page.locator("#results img")
    expect(thumbnails).to_have_count(2)
    page.wait_for_function(
        "() => [...document.querySelectorAll('#results img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    expect(page.get_by_role("status")).to_contain_text("2 images for “cat”")
    expect(page.get_by_role("button", name="Show more")).to_be_hidden()
    assert "q=cat" in page.url
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "search-cat.png"), full_page=True)


def test_an_empty_query_browses_every_image(browser_page, api):
    page = browser_page
    page.goto(page.url.split("?")[0] + "?q=")
    images = api.json("/readyz")[1]["images"]  # fewer than one page of 24
    expect(page.locator("#results li")).to_have_count(images)
    expect(page.get_by_role("button", name="Show more")).to_be_hidden()


def test_a_typo_offers_the_suggestion_and_following_it_searches(browser_page):
    page = browser_page
    search(page, "jety")
    suggestion = page.locator("#suggestion-link")
    expect(suggestion).to_have_text("jetty")
    suggestion.click()
    expect(page.get_by_role("searchbox", name="Search images")).to_have_value("jetty")
    expect(page.locator("#suggestion")).to_be_hidden()


def test_nonsense_shows_the_empty_state(browser_page):
    page = browser_page
    search(page, "qqqqzzzz")
    expect(page.locator("#empty")).to_be_visible()
    expect(page.locator("#results li")).to_have_count(0)


def test_results_are_reachable_with_the_keyboard(browser_page):
    page = browser_page
    search(page, "lake")
    expect(page.locator("#results li").first).to_be_visible()
    chips = page.locator("main nav:not([hidden]) button").count()
    page.get_by_role("searchbox", name="Search images").focus()
    for _ in range(2 + chips):  # the search button, the colour chips, then the first result
        page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.closest('#results') !== null")
    assert focused


def test_colour_chips_filter_the_results_and_the_url_keeps_the_choice(browser_page, api):
    page = browser_page
    page.goto(page.url.split("?")[0] + "?q=")
    orange = api.json("/api/search?colour=orange&limit=1")[1]["total"]
    chip = page.locator("#colours").get_by_role("button", name=f"orange {orange}")
    expect(chip).to_have_attribute("aria-pressed", "false")
    chip.click()
    expect(page.locator("#results li")).to_have_count(orange)
    expect(page.locator("#colours").get_by_role("button", name=f"orange {orange}")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert "colour=orange" in page.url
    page.reload()  # the URL holds the state
    expect(page.locator("#results li")).to_have_count(orange)
    page.locator("#colours").get_by_role("button", name=f"orange {orange}").click()  # off again
    expect(page.locator("#results li")).to_have_count(api.json("/readyz")[1]["images"])
    assert "colour=" not in page.url


def test_a_result_opens_a_detail_view_with_more_like_this_and_back_closes_it(browser_page):
    page = browser_page
    search(page, "forest path")
    original = page.locator("#results li a", has_text="OLYMPUS DIGITAL CAMERA")  # photos/forest-path.jpg
    original.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", level=2)).to_have_text("OLYMPUS DIGITAL CAMERA")
    expect(dialog.locator("#detail-facts")).to_have_text(re.compile(r"^\d+\u00d7\d+ \u00b7 jpeg \u00b7 "))
    expect(dialog.get_by_role("link", name="original")).to_have_attribute("href", re.compile(r"/images/"))
    # The copy stored turned a quarter (EXIF orientation) is the closest: same pixels, upright.
    similar = dialog.get_by_role("list", name="Similar images").locator("li")
    expect(similar.first).to_contain_text("Forest path rotated")
    assert "image=photos-forest-path" in page.url
    page.wait_for_function(
        "() => { const i = document.getElementById('detail-image'); return i.complete && i.naturalWidth > 0; }"
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "detail-forest-path.png"))
    page.go_back()
    expect(dialog).to_be_hidden()
    expect(page).not_to_have_url(re.compile(r"[?&]image="))
    original.click()
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # The dialog's close event (which drops image= from the URL) is a task queued after the
    # dialog hides: wait for the URL rather than read it at once (it failed one CI run).
    expect(page).not_to_have_url(re.compile(r"[?&]image="))


def test_placeholders_paint_before_the_thumbnails_arrive(browser_page, api):
    """Each result's ThumbHash (from the catalog) is its background until the thumbnail loads (in
    a fresh context: the shared page has the thumbnails in its cache already)."""
    context = browser_page.context.browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        placeholders_then_thumbnails(context.new_page(), f"http://127.0.0.1:{api.port}/?q=forest")
    finally:
        context.close()


def placeholders_then_thumbnails(page: Page, url: str) -> None:
    held = []

    def hold(route) -> None:
        held.append(route)  # the thumbnail waits until it is let go

    page.route(re.compile(r".*/img/.*"), hold)
    try:
        page.goto(url)
        first = page.locator("#results img").first
        expect(first).to_be_visible()
        background = first.evaluate("image => getComputedStyle(image).backgroundImage")
        assert background.startswith('url("data:image/png;base64,'), background
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "search-placeholders.png"), full_page=True)
    finally:
        for route in list(held):
            route.continue_()
        page.unroute(re.compile(r".*/img/.*"), hold)  # lets any later one through as well
    page.wait_for_function(
        "() => { const i = document.querySelector('#results img'); return i.complete && i.naturalWidth > 0 }"
    )
    expect(first).to_have_css("background-image", "none, none")  # the placeholder layer is gone


def test_on_a_phone_width_the_grid_fits_and_the_detail_view_opens(browser_page, api):
    """390 px wide (a phone), touch: no sideways scrolling, thumbnails in two columns, the detail
    view on screen; screenshots of both go to the test artifacts beside the desktop ones."""
    context = browser_page.context.browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{api.port}/?q=")
        expect(page.locator("#results li").first).to_be_visible()
        page.wait_for_function("() => [...document.querySelectorAll('#results img')].every(i => i.complete)")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        columns = page.locator("#results li").evaluate_all(
            "items => new Set(items.slice(0, 6).map(item => item.getBoundingClientRect().left)).size"
        )
        assert columns == 2
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "phone-browse.png"))
        page.locator("#results li a").first.tap()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_be_visible()
        box = dialog.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
        page.screenshot(path=str(ARTIFACTS / "phone-detail.png"))
    finally:
        context.close()


def test_orientation_and_format_chips_filter_and_the_url_keeps_them(browser_page, api):
    page = browser_page
    page.goto(page.url.split("?")[0] + "?q=")
    landscape = api.json("/api/search?orientation=landscape&limit=1")[1]["total"]
    png_landscape = api.json("/api/search?orientation=landscape&format=png&limit=1")[1]["total"]
    assert 0 < png_landscape < landscape  # the published picks: the chips narrow step by step
    kinds = page.get_by_role("navigation", name="Filter by orientation and format")
    kinds.get_by_role("button", name=f"landscape {landscape}").click()
    expect(page.locator("#results li")).to_have_count(landscape)
    assert "orientation=landscape" in page.url
    kinds.get_by_role("button", name=re.compile(r"^png \d+$")).click()
    expect(page.locator("#results li")).to_have_count(png_landscape)
    assert "format=png" in page.url
    page.reload()  # the URL holds the state
    expect(kinds.get_by_role("button", name=re.compile(r"^png ")).first).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#results li")).to_have_count(png_landscape)


def test_results_are_justified_rows_that_keep_each_images_aspect_ratio(browser_page):
    page = browser_page
    page.goto(page.url.split("?")[0] + "?q=")
    expect(page.locator("#results li").first).to_be_visible()
    boxes = page.locator("#results li").evaluate_all(
        """items => items.map(item => {
            const image = item.querySelector("img").getBoundingClientRect();
            return {top: image.top, left: image.left, right: image.right, width: image.width, height: image.height,
                    ratio: Number(item.style.getPropertyValue("--ratio"))};
        })"""
    )
    right_edge = page.locator("#results").evaluate("list => list.getBoundingClientRect().right")
    for box in boxes:
        assert abs(box["width"] / box["height"] - box["ratio"]) <= 0.03 * box["ratio"], box
    first_row = [box for box in boxes if abs(box["top"] - boxes[0]["top"]) < 1]
    assert len(first_row) >= 2 and len({round(box["height"]) for box in first_row}) == 1
    assert abs(first_row[-1]["right"] - right_edge) <= 2  # a full row reaches the edge


def test_tag_chips_narrow_and_combine(browser_page, api):
    page = browser_page
    page.goto(page.url.split("?")[0] + "?q=")
    tags = page.get_by_role("navigation", name="Filter by tag")
    first = tags.get_by_role("button").first
    expect(first).to_be_visible()
    tag = first.inner_text().split()[0].removeprefix("#")
    expected = api.json(f"/api/search?tags={tag}&limit=1")[1]["total"]
    first.click()
    expect(page.locator("#results li")).to_have_count(expected)
    assert f"tags={tag}" in page.url
    expect(tags.get_by_role("button", name=re.compile(f"^#{tag} "))).to_have_attribute("aria-pressed", "true")

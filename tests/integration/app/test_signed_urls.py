"""Signed variant URLs: with IMAGE_API_SIGNING_KEY the API hands out /img URLs with s=, serves
them, and answers 403 to a wrong signature; with IMAGE_API_REQUIRE_SIGNED_URLS it also refuses
unsigned ones. The key never appears in an answer or in the log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.helpers.browser import open_page

from .conftest import Server, running_api

KEY = "k" * 16 + "local-test-signing-key"  # not a secret: this test's own


@pytest.fixture(scope="module")
def signed_api(local_aws, published, tmp_path_factory) -> Iterator[Server]:
    work = tmp_path_factory.mktemp("signed-api")
    with running_api(local_aws, work, signing_key=KEY, require_signed_urls="true") as server:
        yield server


def test_the_urls_handed_out_are_signed_and_serve(signed_api):
    status, body = signed_api.json("/api/search?q=water")
    assert status == 200 and body["results"]
    for result in body["results"]:
        urls = [result["thumbnail_url"]] + [part.split()[0] for part in result["srcset"].split(", ")]
        for url in urls:
            assert dict(parse_qsl(urlsplit(url).query))["s"], url
            assert signed_api.request(url)[0] == 200, url


def test_unsigned_and_wrongly_signed_variants_are_refused(signed_api):
    status, body = signed_api.json("/api/search?q=water")
    url = body["results"][0]["thumbnail_url"]
    unsigned = url.split("&s=")[0]
    status, _, data = signed_api.request(unsigned)
    assert status == 403 and json.loads(data)["error"] == "signature_required"
    # The signature names one variant: moved to another width it no longer matches.
    other_width = url.replace("w=320", "w=640")
    status, _, data = signed_api.request(other_width)
    assert status == 403 and json.loads(data)["error"] == "bad_signature"


def test_a_signed_spelling_redirects_with_its_signature(signed_api):
    url = signed_api.json("/api/search?q=water")[1]["results"][0]["thumbnail_url"]
    path, query = url.split("?")
    signature = dict(parse_qsl(query))["s"]
    status, headers, _ = signed_api.request(f"{path}?fmt=auto&w=300&s={signature}")
    assert status == 308 and headers["location"] == url


def test_a_redirect_never_mints_a_signature(local_aws, published, tmp_path_factory):
    """With a key but signatures optional, an unsigned spelling is redirected unsigned: otherwise
    anyone could collect signed URLs for variants of their choosing, valid once signatures are
    required."""
    work = tmp_path_factory.mktemp("optional-signatures")
    with running_api(local_aws, work, signing_key=KEY) as server:
        status, headers, _ = server.request("/img/photos-by-the-water?w=300&fmt=webp")
        assert status == 308 and headers["location"] == "/img/photos-by-the-water?w=320&fmt=webp"
        assert server.request(headers["location"])[0] == 200  # unsigned is allowed here
        thumbnail = server.json("/api/search?q=water")[1]["results"][0]["thumbnail_url"]
        assert "&s=" in thumbnail  # what the API hands out is still signed


def test_without_a_key_a_signature_is_another_spelling(api):
    status, headers, _ = api.request("/img/photos-by-the-water?w=320&fmt=webp&s=anything")
    assert status == 308 and headers["location"] == "/img/photos-by-the-water?w=320&fmt=webp"


def test_the_key_stays_secret(signed_api):
    for path in ("/api/openapi.json", "/readyz", "/api/search?q=water"):
        assert KEY not in signed_api.request(path)[2].decode()
    assert KEY not in signed_api.log.read_text()


def test_the_page_works_when_signatures_are_required(signed_api):
    """The page never rewrites a variant URL (that would break its signature): thumbnails, the
    detail view's larger image and the downloads all come from the URLs the API handed out."""
    with open_page(f"http://127.0.0.1:{signed_api.port}/?q=forest%20path") as page:
        page.locator("#results li a", has_text="OLYMPUS DIGITAL CAMERA").click()
        page.wait_for_function(
            "() => { const i = document.getElementById('detail-image'); return i.complete && i.naturalWidth > 0; }"
        )
        links = page.locator("#detail-downloads a").evaluate_all("links => links.map(link => link.href)")
        variants = [url.removeprefix(f"http://127.0.0.1:{signed_api.port}") for url in links if "/img/" in url]
        assert variants  # besides the original (the edge serves it from the bucket, not the API)
        for path in variants:
            assert "&s=" in path and signed_api.request(path)[0] == 200, path
        broken = page.evaluate("() => [...document.images].filter(i => i.complete && i.naturalWidth === 0).length")
        assert broken == 0

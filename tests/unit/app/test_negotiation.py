"""fmt=auto: the origin's choice from Accept (image_api/negotiation.py) and the edge's CloudFront
Function (roles/cdn/files/image_format.js) give one answer for every header."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from image_api.negotiation import automatic_format, preferred_format
from PIL import Image

from tests.helpers.cloudfront_function import run_handler, viewer_request
from tests.helpers.images import animated_gif, image_bytes, transparent_png
from tests.helpers.playbook import PROJECT_ROOT

FUNCTION = PROJECT_ROOT / "roles/cdn/files/image_format.js"
CLOUDFRONT_FUNCTION_MAX_BYTES = 10 * 1024  # CloudFront Functions quota: function size

BROWSERS = {
    # Chrome 120, Firefox 121, Safari 17, Safari 14 (WebP, no AVIF), an old browser, curl.
    "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8": "avif",
    "image/avif,image/webp,*/*": "avif",
    "image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5": "avif",  # noqa: E501
    "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5": "webp",
    "image/png,image/*;q=0.8,*/*;q=0.5": "",
    "*/*": "",
    "": "",
    # Refused ranges and spelling: q=0 refuses, any other q accepts; case and spaces do not matter.
    "image/avif;q=0,image/webp": "webp",
    "image/avif; q=0.000, image/webp;q=0.0": "",
    "image/avif;q=0.001": "avif",
    "IMAGE/AVIF ; Q=0 , Image/WebP": "webp",
    "image/avifx,image/webpy": "",
}
HEADER_TEXT = st.text(alphabet=st.sampled_from(list("image/avifwebp*,;q=0.1 ABCjxl")), max_size=60)


def edge_choices(headers: list[str], fmt: str = "auto") -> list[str | None]:
    """What the function leaves of Accept for each header: a value, or None when it removed it."""
    events = [viewer_request("/img/x", {"w": "320", "fmt": fmt}, {"Accept": header}) for header in headers]
    return [(request["headers"].get("accept") or {}).get("value") for request in run_handler(FUNCTION, events)]


def test_the_origin_and_the_edge_choose_alike_for_real_browsers():
    headers = list(BROWSERS)
    assert [preferred_format(header) for header in headers] == list(BROWSERS.values())
    edge = edge_choices(headers)
    assert edge == [f"image/{fmt}" if fmt else None for fmt in BROWSERS.values()]
    # What the edge leaves is read by the origin as the same choice.
    assert [preferred_format(value or "") for value in edge] == list(BROWSERS.values())


@settings(max_examples=40, deadline=None)
@given(st.lists(HEADER_TEXT, min_size=1, max_size=40))
def test_the_origin_and_the_edge_choose_alike_for_any_header(headers):
    edge = edge_choices(headers)
    assert [value.removeprefix("image/") if value else "" for value in edge] == [preferred_format(h) for h in headers]


def test_other_formats_lose_the_header_so_every_browser_shares_one_cache_entry():
    assert edge_choices(list(BROWSERS)[:3], fmt="webp") == [None, None, None]
    (request,) = run_handler(FUNCTION, [viewer_request("/img/x", {"w": "320"}, {"Accept": "image/avif"})])
    assert "accept" not in request["headers"] and request["uri"] == "/img/x"


def test_the_function_fits_cloudfront_functions_size_quota():
    assert len(FUNCTION.read_bytes()) <= CLOUDFRONT_FUNCTION_MAX_BYTES


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_the_format_follows_the_viewer_and_the_image():
    photo, disc, square = opened(image_bytes()), opened(transparent_png()), opened(animated_gif())
    assert automatic_format("avif", photo) == "avif"
    assert automatic_format("webp", disc) == "webp"
    assert automatic_format("", photo) == "jpeg"
    assert automatic_format("", disc) == "png"  # transparency needs PNG without WebP
    assert automatic_format("avif", square) == "webp"  # animated WebP keeps the frames
    assert automatic_format("", square) == "jpeg"  # its first frame, as fmt=jpeg gives

"""The image API over HTTP: search, metadata, redirects, resizing, errors, refresh, logs."""

from __future__ import annotations

import hashlib
import io
import json
import time
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from image_api.resize import RENDER_COPY_NAME
from PIL import Image, ImageStat

from tests.helpers.images import image_bytes, write

from .conftest import BUCKET, put_catalog

# Search


def test_health_and_readiness(api, published):
    assert api.json("/healthz") == (200, {"status": "ok"})
    status, body = api.json("/readyz")
    assert status == 200 and body["images"] == len(published.entries)


def test_a_tag_finds_its_images(api):
    status, body = api.json("/api/search?q=cat")
    assert status == 200 and not body["fuzzy"]
    assert {r["id"] for r in body["results"]} == {"science-chelsea-the-cat", "icons-cat-icon"}
    chelsea = next(r for r in body["results"] if r["id"] == "science-chelsea-the-cat")
    assert (
        chelsea["url"].startswith("/images/")
        and chelsea["thumbnail_url"] == "/img/science-chelsea-the-cat?w=320&fmt=auto"
    )
    # What a gallery needs to lay out before the thumbnail arrives: its ratio and the served widths
    # (no wider than the image, nor than 4x the thumbnail).
    assert chelsea["aspect_ratio"] == round(chelsea["width"] / chelsea["height"], 4)
    widths = [int(part.rsplit(" ", 1)[1].removesuffix("w")) for part in chelsea["srcset"].split(", ")]
    assert widths == sorted(widths) and 320 in widths and max(widths) <= min(chelsea["width"], 1280)
    assert "/img/science-chelsea-the-cat?w=64&fmt=auto 64w" in chelsea["srcset"]


def test_prefixes_match(api):
    assert "photos-forest-path" in [r["id"] for r in api.json("/api/search?q=fore")[1]["results"]]


def test_a_typo_returns_the_closest_images_and_says_so(api):
    status, body = api.json("/api/search?q=jety")
    assert status == 200 and body["fuzzy"] and body["suggestion"] == "jetty"
    assert body["results"][0]["id"] == "photos-by-the-water"


def test_each_word_carries_its_own_typo(api):
    status, body = api.json("/api/search?q=morning+jety")  # one word as typed, one with a typo
    assert status == 200 and body["fuzzy"] and body["suggestion"] == "morning jetty"
    assert [r["id"] for r in body["results"]] == ["photos-summer-1am", "photos-by-the-water"]  # exact first


def test_colour_filter_and_facets(api, published):
    status, body = api.json("/api/search?colour=orange&facets=colour,format,orientation&limit=1")
    named = sorted(i for i, e in published.entries.items() if "orange" in e["colours"])
    assert status == 200 and body["total"] == len(named) >= 2 and body["count"] == 1
    assert body["results"][0]["id"] == named[0] and "orange" in body["results"][0]["colours"]
    assert body["facets"]["colour"]["orange"] == len(named)
    assert sum(body["facets"]["format"].values()) == len(named)
    assert "facets" not in api.json("/api/search?q=cat")[1]
    for query, reason in [("colour=navy", "colour must be one of"), ("facets=tags,size", "not size")]:
        status, body = api.json(f"/api/search?{query}")
        assert status == 400 and reason in body["detail"], body


def test_more_like_this_ranks_the_rotated_copy_first(api, published):
    status, body = api.json("/api/images/photos-forest-path/similar?limit=3")
    assert status == 200 and body["id"] == "photos-forest-path" and 1 <= body["count"] <= 3
    assert body["results"][0]["id"] == "generated-forest-path-rotated", body["results"]
    scores = [result["score"] for result in body["results"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0.5
    assert api.json("/api/images/no-such-image/similar")[0] == 404
    assert api.json("/api/images/photos-forest-path/similar?limit=0")[0] == 400


def test_pages_follow_the_cursor_without_repeats(api, published):
    seen, cursor = [], ""
    while True:
        status, body = api.json(f"/api/search?limit=3{'&cursor=' + cursor if cursor else ''}")
        assert status == 200 and body["count"] <= 3
        seen += [r["id"] for r in body["results"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(published.entries)


def test_filters_narrow_the_results(api):
    body = api.json("/api/search?format=gif")[1]
    assert len(body["results"]) == 2 and {r["format"] for r in body["results"]} == {"gif"}
    body = api.json("/api/search?orientation=portrait")[1]
    assert body["results"] and all(r["height"] > r["width"] for r in body["results"])
    assert all(r["width"] >= 2000 for r in api.json("/api/search?min_width=2000")[1]["results"])
    assert all("lake" in r["tags"] for r in api.json("/api/search?tags=lake")[1]["results"])


# Metadata and aliases


def test_metadata_of_one_image(api, published):
    status, body = api.json("/api/images/generated-tall-rotated")
    assert status == 200 and (body["width"], body["height"]) == (200, 400)
    assert body["sha256"] == published.entries["generated-tall-rotated"]["sha256"]


def test_an_alias_redirects_to_the_best_match(api, published):
    status, headers, _ = api.request("/image/kitten")
    assert status == 302 and headers["location"] == "/" + published.entries["science-chelsea-the-cat"]["key"]


# Resizing


def decoded(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("webp", "image/webp"), ("avif", "image/avif"), ("jpeg", "image/jpeg"), ("png", "image/png")],
)
def test_variants_come_in_each_format_snapped_to_allowed_widths(api, fmt, content_type):
    # 300 snaps up to 320: the request is redirected to the variant's one URL, which renders.
    status, headers, _ = api.request(f"/img/photos-by-the-water?w=300&fmt={fmt}")
    assert status == 308 and headers["location"] == f"/img/photos-by-the-water?w=320&fmt={fmt}"
    assert headers["cache-control"] == "public, max-age=86400"  # CloudFront caches a 308 only with it
    status, headers, data = api.request(headers["location"])
    assert status == 200 and headers["content-type"] == content_type
    image = decoded(data)
    assert image.format == fmt.upper() and image.width == 320
    assert abs(image.height - 200) <= 1  # 2560x1600 keeps its aspect ratio
    assert "max-age=31536000" in headers["cache-control"] and "vary" not in headers


AUTO_ANSWERS = {  # Accept -> what fmt=auto answers (the edge's reduced values answer alike)
    "image/avif,image/webp,image/apng,image/*,*/*;q=0.8": "avif",
    "image/avif": "avif",
    "image/webp,image/png,image/*;q=0.8,*/*;q=0.5": "webp",
    "image/avif;q=0,image/webp": "webp",
    "*/*": "jpeg",
    "": "jpeg",
}


def test_fmt_auto_answers_the_best_format_the_viewer_decodes(api):
    etags = {}
    for accept, fmt in AUTO_ANSWERS.items():
        status, headers, data = api.request("/img/photos-by-the-water?w=320&fmt=auto", headers={"Accept": accept})
        assert status == 200 and headers["content-type"] == f"image/{fmt}" and headers["vary"] == "Accept", accept
        assert decoded(data).format == fmt.upper() and decoded(data).width == 320
        etags.setdefault(fmt, set()).add(headers["etag"])
    assert all(len(tags) == 1 for tags in etags.values()) and len(set().union(*etags.values())) == 3
    # A revalidation is answered for the format this viewer gets, not another one's.
    avif_etag = next(iter(etags["avif"]))
    asked = "/img/photos-by-the-water?w=320&fmt=auto"
    assert api.request(asked, headers={"Accept": "image/avif", "If-None-Match": avif_etag})[0] == 304
    assert api.request(asked, headers={"Accept": "image/webp", "If-None-Match": avif_etag})[0] == 200


def test_fmt_auto_keeps_transparency_and_animation(api):
    status, headers, data = api.request("/img/generated-transparent-disc?w=64&fmt=auto", headers={"Accept": "*/*"})
    assert status == 200 and headers["content-type"] == "image/png" and decoded(data).mode == "RGBA"
    accept = {"Accept": "image/avif,image/webp,*/*"}
    status, headers, data = api.request("/img/generated-moving-square?w=64&fmt=auto", headers=accept)
    assert status == 200 and headers["content-type"] == "image/webp" and decoded(data).n_frames == 4


def test_a_large_progressive_jpeg_renders_from_its_render_copy(api):
    """The copy is made with the first variant that can use it and kept beside the original."""
    status, _, data = api.request("/img/generated-progressive-wide?w=320&fmt=webp")
    assert status == 200 and decoded(data).size == (320, 160)
    key = api.json("/api/images/generated-progressive-wide")[1]["url"].removeprefix("/")
    cache = api.log.parent / "cache"
    copy = cache / hashlib.sha256(f"{key}#{RENDER_COPY_NAME}".encode()).hexdigest()
    assert copy.exists() and not Image.open(copy).info.get("progressive") and max(Image.open(copy).size) == 2048
    assert api.request("/img/generated-progressive-wide?w=640&fmt=webp")[0] == 200
    # Past half the copy's size, the original is used, and it is the variant's width that counts.
    status, _, data = api.request("/img/generated-progressive-wide?w=1600&fmt=webp")
    assert status == 200 and decoded(data).size == (1600, 800)


REDIRECTS = {
    "?w=160&dpr=2&fmt=auto&q=80": "?w=320&fmt=auto",
    "?w=320": "?w=320&fmt=webp",
    "?w=160&dpr=2&fmt=avif": "?w=320&fmt=avif",
    "?w=320&fmt=jpeg&q=72": "?w=320&fmt=jpeg",
    "?w=320&fmt=jpeg&q=55": "?w=320&fmt=jpeg&q=65",
    "?w=320&fmt=png&q=50": "?w=320&fmt=png",
    "?w=256&h=256&fit=cover": "?w=256&h=256&fit=cover&fmt=webp",
    "?w=256&fit=contain&fmt=webp": "?w=256&fmt=webp",
}


@pytest.mark.parametrize(("asked", "canonical"), REDIRECTS.items())
def test_every_spelling_of_a_variant_leads_to_its_one_url(api, asked, canonical):
    status, headers, _ = api.request(f"/img/photos-by-the-water{asked}")
    assert status == 308 and headers["location"] == f"/img/photos-by-the-water{canonical}"
    status, _, _ = api.request(headers["location"])
    assert status == 200  # the canonical URL renders, never redirects again


def test_order_and_percent_encoding_are_not_part_of_a_variant(api):
    """The local edge keys /img on the parameters by name, in its own order; an edge may decode
    values before keying. A redirect for another order or encoding could be cached under the
    canonical key and send every viewer back to it: these answer as the canonical URL does."""
    for spelling in ("?fmt=webp&w=320", "?w=%33%32%30&fmt=webp", "?w=320&%66mt=webp"):
        assert api.request(f"/img/photos-by-the-water{spelling}")[0] == 200, spelling


def test_the_urls_the_api_hands_out_are_canonical(api):
    _, body = api.json("/api/search?q=water")
    for result in body["results"]:
        urls = [result["thumbnail_url"]] + [part.split()[0] for part in result["srcset"].split(", ")]
        for url in urls:
            assert api.request(url)[0] == 200, url


def test_cover_crops_to_the_exact_box(api):
    _, _, data = api.request("/img/photos-by-the-water?w=256&h=256&fit=cover&fmt=webp")
    assert decoded(data).size == (256, 256)


def test_cover_crops_around_the_focal_point_from_the_catalog(api, published):
    """The sidecar's focus travels publish -> table -> API: the crop is the flat part it points at,
    not the detailed part the image's detail alone would choose."""
    assert published.entries["generated-chequer-focus"]["focus"] == "0.85,0.5"
    status, _, data = api.request("/img/generated-chequer-focus?w=256&h=256&fit=cover&fmt=png")
    assert status == 200
    image = decoded(data)
    assert image.size == (256, 256) and ImageStat.Stat(image.convert("L")).stddev[0] < 1


def test_exif_rotation_is_applied(api):
    _, _, data = api.request("/img/generated-tall-rotated?w=128&fmt=png")
    image = decoded(data)
    assert image.height > image.width  # stored 400x200, shown 200x400


def test_small_originals_are_not_upscaled(api):
    _, _, data = api.request("/img/icons-cat-icon?w=1920&fmt=png")
    assert decoded(data).width == 64


def test_the_etag_answers_304(api):
    _, headers, _ = api.request("/img/photos-summer-1am?w=128&fmt=webp")
    status, _, data = api.request("/img/photos-summer-1am?w=128&fmt=webp", headers={"If-None-Match": headers["etag"]})
    assert status == 304 and data == b""


# Bad input: 4xx with a JSON reason, never a 5xx

BAD_REQUESTS = [
    ("/api/search?limit=0", 400),
    ("/api/search?limit=101", 400),
    ("/api/search?limit=abc", 400),
    ("/api/search?min_width=-5", 400),
    ("/api/search?format=bmp", 400),
    ("/api/search?orientation=diagonal", 400),
    ("/api/search?cursor=%%%", 400),
    ("/api/search?cursor=eyJvIjogLTF9", 400),
    ("/api/search?q=" + "a" * 201, 400),
    ("/api/search?tags=" + ",".join(f"t{n}" for n in range(11)), 400),
    ("/api/images/UPPER", 400),
    ("/api/images/no-such-image", 404),
    ("/api/images/..%2F..%2Fetc%2Fpasswd", 404),  # the server decodes %2F: no route matches
    ("/img/photos-by-the-water?w=0", 400),
    ("/img/photos-by-the-water?w=1e3", 400),
    ("/img/photos-by-the-water?w=99999999", 400),
    ("/img/photos-by-the-water?fit=stretch", 400),
    ("/img/photos-by-the-water?fit=cover&w=100", 400),
    ("/img/photos-by-the-water?fmt=gif", 400),
    ("/img/photos-by-the-water?q=100", 400),
    ("/img/photos-by-the-water?w=1920&h=1920", 400),
    ("/img/..%2F..%2Fetc%2Fpasswd", 404),
    ("/img/%2e%2e", 400),
    ("/img/../../etc/passwd", 404),
    ("/img/no-such-image", 404),
    ("/image/", 404),
    ("/image/%20", 404),
    ("/nothing/here", 404),
    ("/api/search?q=" + "x" * 5000, 413),
]


@pytest.mark.parametrize(("path", "expected"), BAD_REQUESTS, ids=[p[:60] for p, _ in BAD_REQUESTS])
def test_bad_requests_get_a_json_reason(api, path, expected):
    status, headers, data = api.request(path)
    assert status == expected
    body = json.loads(data)
    assert set(body) == {"error", "detail"} and headers["content-type"] == "application/json"
    assert b"Traceback" not in data


def test_wrong_methods_are_405(api):
    for path in ("/api/search", "/img/photos-by-the-water", "/healthz"):
        status, _headers, data = api.request(path, method="POST", body=b"{}")
        assert status == 405 and json.loads(data)["error"] == "method_not_allowed"


def test_oversized_bodies_are_413(api):
    status, _, data = api.request("/api/search", method="POST", body=b"x" * 20000)
    assert status == 413 and json.loads(data)["error"] == "request_too_large"


def test_header_injection_through_an_alias_is_impossible(api):
    status, headers, _ = api.request("/image/cat%0d%0aSet-Cookie:%20x=1")
    assert "set-cookie" not in headers
    assert status in (302, 404) and "\n" not in headers.get("location", "")


# OpenAPI, refresh, logs


def test_the_openapi_document_lists_exactly_the_routes(api):
    status, document = api.json("/api/openapi.json")
    assert status == 200 and document["openapi"].startswith("3.")
    routes = {"/healthz", "/readyz", "/api/search", "/api/images/{image_id}", "/api/images/{image_id}/similar",
              "/image/{name}", "/img/{image_id}", "/api/openapi.json"}  # fmt: skip
    assert set(document["paths"]) == routes
    search = {p["name"] for p in document["paths"]["/api/search"]["get"]["parameters"]}
    assert search == {"q", "tags", "format", "orientation", "colour", "min_width", "limit", "cursor", "facets", "_"}
    resize = {p["name"] for p in document["paths"]["/img/{image_id}"]["get"]["parameters"]}
    assert resize == {"image_id", "w", "h", "fit", "gravity", "fmt", "q", "dpr", "s"}


def test_a_new_catalog_version_is_picked_up_without_a_restart(api, published, local_aws):
    write(published.folder, "generated/zebra-crossing.png", image_bytes((120, 80), (250, 250, 250), "PNG"))
    import ansible_collections.image_delivery.stack.plugins.module_utils.image_scan as image_scan

    entries = image_scan.scan(published.folder).entries
    new = next(e for e in entries if e["image_id"] == "generated-zebra-crossing")
    local_aws.client("s3").put_object(Bucket=BUCKET, Key=new["key"], Body=b"")
    put_catalog(local_aws, entries)
    # Every worker refreshes on its own: poll until the answers of several requests (spread over
    # the workers) all show the new version.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        results = [api.json("/api/search?q=zebra")[1]["results"] for _ in range(6)]
        counts = {api.json("/readyz")[1]["images"] for _ in range(6)}
        if all(found and found[0]["id"] == "generated-zebra-crossing" for found in results) and counts == {
            len(entries)
        }:
            break
        time.sleep(0.3)
    else:
        pytest.fail("the new catalog version was not loaded by every worker")


def test_access_log_lines_are_json_with_the_request_id(api):
    api.request("/healthz", headers={"X-Request-Id": "trace-me-123"})
    _status, headers, _ = api.request("/healthz")
    assert len(headers["x-request-id"]) == 32
    time.sleep(0.2)
    lines = [json.loads(line) for line in api.log.read_text().splitlines() if line.startswith("{")]
    traced = [line for line in lines if line["request_id"] == "trace-me-123"]
    assert traced and traced[0]["path"] == "/healthz" and traced[0]["status"] == 200


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    route=st.sampled_from(["/api/search", "/img/photos-by-the-water", "/api/images/x", "/image/cat"]),
    parameters=st.dictionaries(
        st.sampled_from(["q", "tags", "format", "orientation", "min_width", "limit", "cursor", "w", "h", "fit", "fmt"]),
        st.text(min_size=0, max_size=30),
        max_size=4,
    ),
)
def test_no_query_string_produces_a_server_error(api, route, parameters):
    status, _headers, data = api.request(f"{route}?{urlencode(parameters)}")
    assert status < 500, (route, parameters, data[:200])
    if status >= 400:
        assert set(json.loads(data)) == {"error", "detail"}
